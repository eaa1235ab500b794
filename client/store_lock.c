/*
 * Locks between certo runs sharing a state directory: flock on empty
 * files <state>/locks/<kind>-<sha256 of what>.lock (see store.h).
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "errors.h"
#include "file.h"
#include "kvlock.h"
#include "log.h"
#include "sig.h"
#include "store_priv.h"
#include "store_remote.h"

#define LOCK_POLL_MS 50

/* Seconds to wait for a lock: $CERTO_LOCK_WAIT, else STORE_LOCK_WAIT_S
 * (store.h; kvlock.c waits as long for a store lock). */
long
store_lock_wait_s(void)
{
	const char *env = getenv("CERTO_LOCK_WAIT");
	char *end;
	long v;

	if (env != NULL && *env != '\0') {
		v = strtol(env, &end, 10);
		if (*end == '\0' && v >= 0 && v <= 86400)
			return v;
	}
	return STORE_LOCK_WAIT_S;
}

/*
 * <state>/locks (*dir) and <state>/locks/<kind>-<sha256 of key>.lock
 * (*path), both malloc'd.  The hash covers key's NUL too.
 */
static int
lock_path(const char *state, const char *kind, const char *key, char **dir,
    char **path)
{
	char hex[SHA256_HEX_LEN + 1];
	int rc;

	*dir = *path = NULL;
	if ((rc = sha256_hex(key, strlen(key) + 1, hex)) != 0)
		return rc;
	if ((*dir = file_join(state, "locks")) == NULL)
		return CERTO_ENOMEM;
	if (asprintf(path, "%s/%s-%s.lock", *dir, kind, hex) < 0) {
		*path = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

/* Try the lock in a loop until deadline (Ctrl-C ends it). */
static int
lock_wait(int fd, const char *path, const char *shown)
{
	struct json_object *fields;
	long wait_s = store_lock_wait_s();
	time_t deadline;
	int rc;

	fields = json_object_new_object();
	if (fields != NULL)
		json_object_object_add(fields, "what",
		    json_object_new_string(shown));
	log_event("lock_wait", fields, "waiting for another certo run on %s "
	    "(up to %ld s)", shown, wait_s);
	deadline = time(NULL) + wait_s;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK)
			return certo_fail(CERTO_EIO, "cannot lock %s: %s", path,
			    strerror(errno));
		if (time(NULL) >= deadline)
			return certo_fail(CERTO_EBUSY, "another certo run is still "
			    "working on %s after %ld s (lock %s); try again "
			    "later", shown, wait_s, path);
		if ((rc = sig_sleep_ms(LOCK_POLL_MS)) != 0)
			return rc;
	}
	return 0;
}

/*
 * flock <state>/locks/<kind>-<sha256 of key>.lock; while another run
 * holds it, say so once and wait (bounded, Ctrl-C ends it).
 */
static int
lock_take(const char *state, const char *kind, const char *key,
    const char *shown, int *fd, bool *waited)
{
	char *dir = NULL, *path = NULL;
	int rc;

	*fd = -1;
	if ((rc = lock_path(state, kind, key, &dir, &path)) != 0 ||
	    (rc = file_mkdirs(dir)) != 0)
		goto out;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		rc = certo_fail(CERTO_EIO, "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		goto out;
	if (errno != EWOULDBLOCK) {
		rc = certo_fail(CERTO_EIO, "cannot lock %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (waited != NULL)
		*waited = true;
	rc = lock_wait(*fd, path, shown);
out:
	if (rc != 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	free(dir);
	free(path);
	return rc;
}

/* Take a lock without waiting, never creating locks/ (store_priv.h). */
int
store_lock_try(const char *state, const char *kind, const char *key,
    int *fd)
{
	char *dir = NULL, *path = NULL;
	int rc;

	*fd = -1;
	if ((rc = lock_path(state, kind, key, &dir, &path)) == 0 &&
	    (*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) >= 0) {
		if (flock(*fd, LOCK_EX | LOCK_NB) == 0) {
			rc = 1;
		} else {
			close(*fd);
			*fd = -1;
		}
	}
	free(dir);
	free(path);
	return rc;
}

/* Lock the account of ca_id (see store.h). */
int
store_lock_account(const char *state, const char *ca_id,
    struct store_lock *lock)
{
	char shown[300];

	char *acct_dir = NULL;
	int rc;

	lock->fd[0] = lock->fd[1] = -1;
	lock->waited = false;
	lock->remote = NULL;
	snprintf(shown, sizeof(shown), "the account for %s", ca_id);
	if ((rc = lock_take(state, "account", ca_id, shown, &lock->fd[0],
	    &lock->waited)) != 0 || !store_remote_active())
		return rc;
	/* Hosts sharing a store: one creates the account, the others get it. */
	if (asprintf(&acct_dir, "%s/accounts/%s", state, ca_id) < 0) {
		acct_dir = NULL;
		rc = CERTO_ENOMEM;
	}
	if (rc != 0 || (rc = store_remote_lock("account", ca_id, shown,
	    &lock->remote, NULL)) != 0 ||
	    (rc = store_remote_get_account(acct_dir)) != 0)
		store_unlock(lock);
	free(acct_dir);
	return rc;
}

/*
 * The store lock of the certificate dname, then the store's set brought
 * in when another host stored a new one: that counts as having waited.
 */
static int
lock_remote_cert(const char *state, const char *dname, const char *shown,
    struct store_lock *lock)
{
	bool changed = false;
	int rc;

	if ((rc = store_remote_lock("cert", dname, shown, &lock->remote,
	    NULL)) != 0 || (rc = store_remote_sync_set(state, dname,
	    &changed)) != 0)
		return rc;
	if (changed)
		lock->waited = true;
	return 0;
}

/* Lock one certificate: its live name, then its order (see store.h). */
int
store_lock_cert(const char *state, const char *live_name,
    char *const *names, size_t n, struct store_lock *lock)
{
	char *dname, hash[SHA256_HEX_LEN + 1], shown[300];
	int rc;

	lock->fd[0] = lock->fd[1] = -1;
	lock->waited = false;
	lock->remote = NULL;
	if ((dname = store_set_name(live_name)) == NULL)
		return CERTO_ENOMEM;
	snprintf(shown, sizeof(shown), "certificate %s", live_name);
	/* Always live name first, then the order: no lock-order cycle. */
	if ((rc = lock_take(state, "live", dname, shown, &lock->fd[0],
	    &lock->waited)) == 0 &&
	    (rc = store_names_hash(names, n, hash)) == 0)
		rc = lock_take(state, "order", hash, shown, &lock->fd[1],
		    &lock->waited);
	if (rc == 0 && store_remote_active())
		rc = lock_remote_cert(state, dname, shown, lock);
	if (rc != 0)
		store_unlock(lock);
	free(dname);
	return rc;
}

/* Release both locks (STORE_LOCK_INIT or released is fine). */
void
store_unlock(struct store_lock *lock)
{
	kvlock_release(lock->remote);
	lock->remote = NULL;
	for (size_t i = 0; i < 2; i++)
		if (lock->fd[i] >= 0) {
			close(lock->fd[i]);
			lock->fd[i] = -1;
		}
}
