/*
 * The certificate store: the state directory, live sets swapped in with
 * one rename, the archive, listing and deleting.  Saved orders are in
 * store_order.c, locks in store_lock.c, the sweep of what killed runs
 * left in store_sweep.c, small records in store_record.c.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certificate.h"
#include "config.h"
#include "errors.h"
#include "file.h"
#include "key.h"
#include "log.h"
#include "store_priv.h"
#include "store_remote.h"

static const char *const set_files[] = { "privkey.pem", "cert.pem",
	"chain.pem", "fullchain.pem" };

/*
 * The state directory: --state-dir, $CERTO_STATE_DIR, /var/lib/certo for
 * root, else under $XDG_DATA_HOME or ~/.local/share.  *out is malloc'd.
 */
int
store_state_dir(const char *opt, char **out)
{
	const char *env, *home;
	struct passwd *pw;
	int n;

	*out = NULL;
	if (opt != NULL && *opt != '\0')
		n = asprintf(out, "%s", opt);
	else if ((env = getenv("CERTO_STATE_DIR")) != NULL && *env != '\0')
		n = asprintf(out, "%s", env);
	else if (geteuid() == 0)
		n = asprintf(out, "/var/lib/certo");
	else if ((env = getenv("XDG_DATA_HOME")) != NULL && *env == '/')
		n = asprintf(out, "%s/certo", env);
	else {
		home = getenv("HOME");
		if ((home == NULL || *home != '/') &&
		    (pw = getpwuid(geteuid())) != NULL)
			home = pw->pw_dir;
		if (home == NULL)
			return certo_fail(CERTO_ECONFIG, "cannot find a state "
			    "directory: set --state-dir or CERTO_STATE_DIR");
		n = asprintf(out, "%s/.local/share/certo", home);
	}
	if (n < 0) {
		*out = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

/* Make the state directory (0700, writable), then sweep it. */
int
store_prepare(const char *state)
{
	int rc;

	if ((rc = file_mkdirs(state)) == 0)
		store_sweep(state);
	return rc;
}

/* fsync a directory (store_priv.h); failures are not reported. */
void
store_sync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Remove a directory tree certo wrote (store_priv.h). */
void
store_remove_tree(const char *dir)
{
	DIR *dirp;
	struct dirent *ent;
	struct stat st;
	char *path;

	if ((dirp = opendir(dir)) != NULL) {
		while ((ent = readdir(dirp)) != NULL) {
			if (strcmp(ent->d_name, ".") == 0 ||
			    strcmp(ent->d_name, "..") == 0)
				continue;
			if ((path = file_join(dir, ent->d_name)) == NULL)
				continue;
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
				store_remove_tree(path);
			else
				unlink(path);
			free(path);
		}
		closedir(dirp);
	}
	rmdir(dir);
}

/* Rename the tree at path away, then delete it (store_priv.h). */
int
store_remove_atomic(const char *parent, const char *base, const char *path)
{
	char *tmp = NULL;
	int fd, rc;

	if (!file_exists(path))
		return 0;
	if ((rc = file_staging_dir(parent, base, "del", &tmp, &fd)) != 0)
		return rc;
	/* rename() replaces the empty directory tmp with path. */
	if (rename(path, tmp) != 0) {
		rc = certo_fail(CERTO_EIO, "cannot remove %s: %s", path,
		    strerror(errno));
		rmdir(tmp);
	} else {
		store_sync_dir(parent);
		store_remove_tree(tmp);
	}
	close(fd);
	free(tmp);
	return rc;
}

/* Directory name for a certificate name (store_priv.h). */
char *
store_set_name(const char *name)
{
	char *dname = strdup(name);

	if (dname != NULL && dname[0] == '*')
		dname[0] = '_';
	return dname;
}

/* strcmp for qsort on an array of char * (store_priv.h). */
int
store_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * combined.pem in dir: the key's PEM, then the full chain, 0600 (HAProxy's
 * "crt" file, --pem-bundle); the key's text is wiped after use.
 */
static int
write_pem_bundle(const char *dir, const struct certo_key *key,
    const struct certo_chain *chain)
{
	char *pem = NULL, *both = NULL, *path = NULL;
	size_t klen = 0, clen = strlen(chain->fullchain);
	int rc;

	if ((rc = key_export_pem(key, &pem, &klen)) != 0)
		return rc;
	if ((both = malloc(klen + clen + 1)) == NULL ||
	    (path = file_join(dir, STORE_PEM_BUNDLE_FILE)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	memcpy(both, pem, klen);
	memcpy(both + klen, chain->fullchain, clen + 1);
	rc = file_write_staged(path, both, klen + clen, 0600);
out:
	if (both != NULL)
		explicit_bzero(both, klen + clen);
	explicit_bzero(pem, klen);
	free(both);
	free(pem);
	free(path);
	return rc;
}

/* Write the files of a set (and certo.json) into dir. */
static int
write_set(const char *dir, const struct certo_key *key,
    const struct certo_chain *chain, const char *config)
{
	const char *data[] = { NULL, chain->leaf, chain->issuers,
		chain->fullchain };
	char *path;
	int rc = 0;

	for (size_t i = 0; i < 4 && rc == 0; i++) {
		/* --csr without --key: the user keeps the key; no privkey.pem. */
		if (i == 0 && key == NULL)
			continue;
		if ((path = file_join(dir, set_files[i])) == NULL)
			return CERTO_ENOMEM;
		/* In the staging directory: one fsync of it at the end. */
		if (i == 0)
			rc = key_save_staged(key, path);
		else
			rc = file_write_staged(path, data[i], strlen(data[i]),
			    0644);
		free(path);
	}
	if (rc == 0 && config != NULL) {
		if ((path = file_join(dir, "certo.json")) == NULL)
			return CERTO_ENOMEM;
		rc = file_write_staged(path, config, strlen(config), 0600);
		free(path);
	}
	/* certo.json says --pem-bundle: also when a set is brought in. */
	if (rc == 0 && key != NULL && config != NULL &&
	    config_text_pem_bundle(config))
		rc = write_pem_bundle(dir, key, chain);
	return rc;
}

/* Move a set to <state>/archive/<dname>/<UTC stamp> (store_priv.h). */
int
store_archive_set(const char *state, const char *dname, const char *from)
{
	char *adir = NULL, *dest = NULL, stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc = 0;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (asprintf(&adir, "%s/archive/%s", state, dname) < 0) {
		adir = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_mkdirs(adir)) != 0)
		goto out;
	for (int i = 0; i < 100; i++) {
		free(dest);
		if ((i == 0 ? asprintf(&dest, "%s/%s", adir, stamp) :
		    asprintf(&dest, "%s/%s.%d", adir, stamp, i)) < 0) {
			dest = NULL;
			rc = CERTO_ENOMEM;
			goto out;
		}
		if (!file_exists(dest))
			break;
	}
	if (rename(from, dest) != 0)
		rc = certo_fail(CERTO_EIO, "cannot archive the previous "
		    "certificate to %s: %s", dest, strerror(errno));
	else
		store_sync_dir(adir);
out:
	free(adir);
	free(dest);
	return rc;
}

/* Swap a complete tree in with one atomic step (store_priv.h). */
int
store_swap_in(const char *parent, const char *staging, const char *target,
    bool *exchanged)
{
	*exchanged = false;
	if (rename(staging, target) == 0) {
		store_sync_dir(parent);
		return 0;
	}
	if (errno != ENOTEMPTY && errno != EEXIST)
		return certo_fail(CERTO_EIO, "cannot create %s: %s", target,
		    strerror(errno));
	if (renameat2(AT_FDCWD, staging, AT_FDCWD, target,
	    RENAME_EXCHANGE) != 0)
		return certo_fail(CERTO_EIO, "cannot replace %s: %s", target,
		    strerror(errno));
	*exchanged = true;
	store_sync_dir(parent);
	return 0;
}

/*
 * Write the set for name into a locked staging directory under live/
 * (with a deploy-pending mark saying mark, unless NULL), then swap it
 * in; *live_dir (malloc'd) says where it is.
 */
static int
commit_set(const char *state, const char *name,
    const struct certo_key *key, const struct certo_chain *chain,
    const char *config, const char *mark, char **live_dir)
{
	char *live = NULL, *target = NULL, *staging = NULL, *dname = NULL;
	bool exchanged;
	int rc, lfd = -1;

	*live_dir = NULL;
	if ((dname = store_set_name(name)) == NULL ||
	    (live = file_join(state, "live")) == NULL ||
	    (target = file_join(live, dname)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_mkdirs(live)) != 0)
		goto out;
	/* live/.<name>.new.<pid>.XXXXXX, locked while we build it. */
	if ((rc = file_staging_dir(live, dname, "new", &staging, &lfd)) != 0)
		goto out;
	if ((rc = write_set(staging, key, chain, config)) != 0 ||
	    (mark != NULL && (rc = store_deploy_mark(staging, mark)) != 0) ||
	    (rc = file_sync_staged(staging)) != 0)
		goto out;
	if ((rc = store_swap_in(live, staging, target, &exchanged)) != 0)
		goto out;
	/*
	 * After an exchange staging holds the previous set (a SIGKILL here
	 * leaves it there: the sweep of the next run archives it).
	 */
	/* A deploy that was pending for the previous set no longer is. */
	if (exchanged && store_deploy_mark(staging, NULL) != 0)
		certo_errclear();
	if (exchanged && store_archive_set(state, dname, staging) != 0) {
		/* Never delete the previous set: say where it is and why. */
		log_warn("%s; the previous certificate stays in %s",
		    certo_errmsg() ? certo_errmsg() : "out of memory", staging);
		certo_errclear();
	}
	free(staging);
	staging = NULL;
	/* The previous set left live/ (store_swap_in synced the rest). */
	if (exchanged)
		store_sync_dir(live);
	*live_dir = target;
	target = NULL;
out:
	if (staging != NULL)
		store_remove_tree(staging);
	if (lfd >= 0)
		close(lfd);
	free(staging);
	free(target);
	free(live);
	free(dname);
	return rc;
}

/*
 * Write the set for name and swap it in (commit_set); with a shared
 * store (store_remote.h), put it there too before the caller's locks go.
 */
int
store_commit(const char *state, const char *name,
    const struct certo_key *key, const struct certo_chain *chain,
    const char *config, char **live_dir)
{
	char *dname;
	int rc;

	if ((rc = commit_set(state, name, key, chain, config, NULL,
	    live_dir)) != 0 || !store_remote_active())
		return rc;
	if ((dname = store_set_name(name)) == NULL)
		return CERTO_ENOMEM;
	if ((rc = store_remote_put_set(dname, key, chain, config)) != 0) {
		/* Live here; its deploy hook runs at the next renew. */
		if (store_deploy_mark(*live_dir, "not in the store") != 0)
			certo_errclear();
		certo_fail(rc, "the certificate is live in %s but could not be "
		    "put in the store %s", *live_dir, store_remote_shown());
	}
	free(dname);
	return rc;
}

/* A set from the shared store, committed here (store_priv.h). */
int
store_commit_from_store(const char *state, const char *dname,
    const struct certo_key *key, const struct certo_chain *chain,
    const char *config, char **live_dir)
{
	return commit_set(state, dname, key, chain, config,
	    STORE_DEPLOY_FROM_STORE, live_dir);
}

/* <state>/live/<dir name of name> into *out (malloc'd). */
int
store_live_dir(const char *state, const char *name, char **out)
{
	char *dname = store_set_name(name);
	int rc = 0;

	if (dname == NULL || asprintf(out, "%s/live/%s", state, dname) < 0) {
		*out = NULL;
		rc = CERTO_ENOMEM;
	}
	free(dname);
	return rc;
}

/* The directory names under live/, sorted (caller frees). */
int
store_list(const char *state, char ***names, size_t *n)
{
	char *live;
	int rc;

	*names = NULL;
	*n = 0;
	if ((live = file_join(state, "live")) == NULL)
		return CERTO_ENOMEM;
	/* Names starting with "." are staging directories. */
	rc = file_list_dir(live, "", SIZE_MAX, names, n);
	free(live);
	return rc;
}

/*
 * The names the set in live was issued for (its certo.json), so that
 * their saved order goes too; none (*n 0) when certo.json is missing or
 * unreadable.  Returns 0 or CERTO_ENOMEM.
 */
static int
issued_names(const char *live, char ***names, size_t *n)
{
	char *cj;
	int rc;

	*names = NULL;
	*n = 0;
	if ((cj = file_join(live, "certo.json")) == NULL)
		return CERTO_ENOMEM;
	if ((rc = store_read_names(cj, names, n)) != 0 && rc != CERTO_ENOMEM) {
		log_debug("delete: %s; removing only the set's own order",
		    certo_errmsg() ? certo_errmsg() : certo_strerror(rc));
		certo_errclear();
		rc = 0;
	}
	free(cj);
	return rc;
}

/* Remove live/<dname>, then archive/<dname>, each in one rename. */
static int
remove_set_trees(const char *state, const char *dname)
{
	static const char *const tops[] = { "live", "archive" };
	char *top = NULL, *path = NULL;
	int rc = 0;

	for (size_t i = 0; i < 2 && rc == 0; i++) {
		if ((top = file_join(state, tops[i])) == NULL ||
		    (path = file_join(top, dname)) == NULL)
			rc = CERTO_ENOMEM;
		else
			rc = store_remove_atomic(top, dname, path);
		free(top);
		free(path);
		top = path = NULL;
	}
	return rc;
}

/*
 * certo delete: remove live/<name>, archive/<name> and the orders that
 * would store into live/<name>, under the certificate's lock.
 */
int
store_delete(const char *state, const char *name)
{
	struct store_lock lock = STORE_LOCK_INIT;
	char *dname = NULL, *live = NULL, **names = NULL, *one[1];
	char hash[SHA256_HEX_LEN + 1];
	size_t n = 0;
	int rc;

	if (strchr(name, '/') != NULL || name[0] == '.' || name[0] == '\0')
		return certo_fail(CERTO_EUSAGE, "invalid certificate name '%s'",
		    name);
	if ((dname = store_set_name(name)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	/* --store: a set only the store has is brought in first. */
	if ((rc = store_live_dir(state, name, &live)) != 0 ||
	    (rc = store_remote_sync_set(state, dname, NULL)) != 0)
		goto out;
	if (!file_exists(live)) {
		rc = certo_fail(CERTO_EUSAGE, "no stored certificate '%s' (see "
		    "certo list)", name);
		goto out;
	}
	if ((rc = issued_names(live, &names, &n)) != 0)
		goto out;
	one[0] = dname;
	/* Not while a run issues or renews it. */
	if ((rc = store_lock_cert(state, dname, n ? names : one, n ? n : 1,
	    &lock)) != 0 || (rc = store_names_hash(n ? names : one,
	    n ? n : 1, hash)) != 0)
		goto out;
	/* First what killed runs left (a staged set would be archived
	 * after the delete otherwise). */
	store_sweep(state);
	/* Out of the store first: no host brings it back from there. */
	if ((rc = store_remote_del_set(dname)) != 0)
		goto out;
	/* Each tree goes in one atomic rename: never half a set. */
	if ((rc = remove_set_trees(state, dname)) == 0)
		store_orders_remove_for(state, dname, hash);
out:
	store_unlock(&lock);
	store_free_names(names, n);
	free(dname);
	free(live);
	return rc;
}
