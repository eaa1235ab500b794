/*
 * Locks in the shared store (kvlock.h): SET NX PX with a random token, a
 * helper thread that extends the TTL while the lock is held, release by
 * compare-and-delete.
 */
#include "kvlock.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "kv.h"
#include "log.h"
#include "sig.h"
#include "store.h"

#define KVLOCK_POLL_MS 100

/* Delete the key only when it still holds our token. */
static const char kvlock_release_lua[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) else return 0 end";
/* Extend the key's TTL only when it still holds our token. */
static const char kvlock_extend_lua[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

struct kvlock {
	struct kv *kv;               /* borrowed: thread-safe (kv.h) */
	char *key;
	char token[33];              /* 16 random bytes, hex */
	long long ttl_ms;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;                   /* under mu */
	bool lost;                   /* under mu: a renewal found it gone */
};

/* The TTL: $CERTO_STORE_LOCK_TTL_MS, else KVLOCK_TTL_MS (kvlock.h). */
long long
kvlock_ttl_ms(void)
{
	const char *env = getenv("CERTO_STORE_LOCK_TTL_MS");
	char *end;
	long long v;

	if (env != NULL && *env != '\0') {
		v = strtoll(env, &end, 10);
		if (*end == '\0' && v >= KVLOCK_TTL_MIN_MS && v <= 3600000)
			return v;
	}
	return KVLOCK_TTL_MS;
}

/* Run a compare script on the lock's key: 1 when it acted, 0 when not. */
static int
kvlock_script(struct kvlock *lock, const char *lua, long long arg)
{
	struct kv_reply *reply = NULL;
	char ttl[32];
	int rc;

	snprintf(ttl, sizeof(ttl), "%lld", arg);
	if ((rc = kv_command(lock->kv, &reply, "EVAL %s 1 %s %s %s", lua,
	    lock->key, lock->token, ttl)) != 0)
		return rc;
	rc = reply->type == KV_INT && reply->integer > 0 ? 1 : 0;
	kv_reply_free(reply);
	return rc;
}

/* The helper thread: extend every third of the TTL until stopped. */
static void *
kvlock_renewer(void *arg)
{
	struct kvlock *lock = arg;
	struct timespec until;
	int rc;

	pthread_mutex_lock(&lock->mu);
	while (!lock->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(lock->ttl_ms / 3 / 1000);
		until.tv_nsec += (long)(lock->ttl_ms / 3 % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!lock->stop && pthread_cond_timedwait(&lock->cond,
		    &lock->mu, &until) != ETIMEDOUT)
			;
		if (lock->stop)
			break;
		pthread_mutex_unlock(&lock->mu);
		rc = kvlock_script(lock, kvlock_extend_lua, lock->ttl_ms);
		if (rc < 0)
			certo_errclear(); /* the store is down: try again */
		pthread_mutex_lock(&lock->mu);
		if (rc == 0)
			lock->lost = true;
	}
	pthread_mutex_unlock(&lock->mu);
	return NULL;
}

/* Free a lock that holds nothing. */
static void
kvlock_free(struct kvlock *lock)
{
	if (lock == NULL)
		return;
	pthread_mutex_destroy(&lock->mu);
	pthread_cond_destroy(&lock->cond);
	free(lock->key);
	free(lock);
}

/* A new lock object for key with a fresh random token. */
static int
kvlock_new(struct kv *kv, const char *key, struct kvlock **out)
{
	unsigned char raw[16];
	struct kvlock *lock;
	pthread_condattr_t attr;

	if ((lock = calloc(1, sizeof(*lock))) == NULL)
		return CERTO_ENOMEM;
	if ((lock->key = strdup(key)) == NULL) {
		free(lock);
		return CERTO_ENOMEM;
	}
	if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) < 0) {
		free(lock->key);
		free(lock);
		return certo_fail(CERTO_ECRYPTO, "no random bytes for a lock");
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(lock->token + 2 * i, 3, "%02x", raw[i]);
	lock->kv = kv;
	lock->ttl_ms = kvlock_ttl_ms();
	pthread_mutex_init(&lock->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&lock->cond, &attr);
	pthread_condattr_destroy(&attr);
	*out = lock;
	return 0;
}

/* SET key token NX PX ttl: 1 taken, 0 held by another, or a code. */
static int
kvlock_try(struct kvlock *lock)
{
	struct kv_reply *reply = NULL;
	char ttl[32];
	int rc;

	snprintf(ttl, sizeof(ttl), "%lld", lock->ttl_ms);
	if ((rc = kv_command(lock->kv, &reply, "SET %s %s NX PX %s", lock->key,
	    lock->token, ttl)) != 0)
		return rc;
	rc = reply->type == KV_STATUS ? 1 : 0;
	kv_reply_free(reply);
	return rc;
}

/* Say once that we wait, as store_lock.c does for local locks. */
static void
kvlock_say_wait(const char *what, long wait_s)
{
	struct json_object *fields = json_object_new_object();

	if (fields != NULL) {
		json_object_object_add(fields, "what",
		    json_object_new_string(what));
		json_object_object_add(fields, "store",
		    json_object_new_boolean(1));
	}
	log_event("lock_wait", fields, "waiting for another certo host on %s "
	    "(store lock, up to %ld s)", what, wait_s);
}

/* Take the lock, waiting while someone else holds it (kvlock.h). */
int
kvlock_acquire(struct kv *kv, const char *key, const char *what,
    struct kvlock **out, bool *waited)
{
	struct kvlock *lock = NULL;
	long wait_s = store_lock_wait_s();
	int64_t deadline = sig_now_ms() + (int64_t)wait_s * 1000;
	unsigned char jitter;
	bool said = false;
	int rc;

	*out = NULL;
	if (waited != NULL)
		*waited = false;
	if ((rc = kvlock_new(kv, key, &lock)) != 0)
		return rc;
	while ((rc = kvlock_try(lock)) == 0) {
		if (!said)
			kvlock_say_wait(what, wait_s);
		said = true;
		if (waited != NULL)
			*waited = true;
		if (sig_now_ms() >= deadline) {
			rc = certo_fail(CERTO_EBUSY, "another certo host is still "
			    "working on %s after %ld s (store lock %s); try again "
			    "later", what, wait_s, key);
			goto out;
		}
		if (gnutls_rnd(GNUTLS_RND_NONCE, &jitter, 1) < 0)
			jitter = 0;
		if ((rc = sig_sleep_ms(KVLOCK_POLL_MS + jitter % 100)) != 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	if (pthread_create(&lock->thread, NULL, kvlock_renewer, lock) == 0)
		lock->thread_started = true;
	else
		log_warn("store lock %s: no thread to renew it; it expires after "
		    "%lld ms", key, lock->ttl_ms);
	*out = lock;
	lock = NULL;
	rc = 0;
out:
	kvlock_free(lock);
	return rc;
}

/* Stop the renewer, then compare-and-delete (kvlock.h). */
void
kvlock_release(struct kvlock *lock)
{
	bool had_error = certo_errmsg() != NULL;
	int rc;

	if (lock == NULL)
		return;
	if (lock->thread_started) {
		pthread_mutex_lock(&lock->mu);
		lock->stop = true;
		pthread_cond_signal(&lock->cond);
		pthread_mutex_unlock(&lock->mu);
		pthread_join(lock->thread, NULL);
	}
	rc = kvlock_script(lock, kvlock_release_lua, 0);
	if (rc == 0 || lock->lost)
		log_warn("store lock %s had expired before it was released (the "
		    "lock TTL is %lld ms)", lock->key, lock->ttl_ms);
	else if (rc < 0) {
		log_warn("store lock %s not released (%s); it expires after %lld "
		    "ms", lock->key, certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc), lock->ttl_ms);
	}
	/* Keep the message of the failure that led here, if any. */
	if (!had_error)
		certo_errclear();
	kvlock_free(lock);
}
