/*
 * Challenges in the shared store (store_tokens.h): publish and withdraw
 * for the client and the control socket, and the responder's side: a
 * cache kept by the channel's messages, a direct GET on a miss.
 */
#include "store_tokens.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "errors.h"
#include "log.h"
#include "sig.h"

#define STORE_KEY_MAX (sizeof(STORE_TOKENS_PREFIX) + 16 + TOKENS_MAX_TOKEN)
#define STORE_VAL_MAX (TOKENS_MAX_IDENT + TOKENS_MAX_TOKEN + \
	TOKENS_MAX_KEYAUTH + 3)
#define STORE_MSG_MAX (STORE_VAL_MAX + 24)

/* SET key value PX ttl, then PUBLISH channel message: one step. */
static const char store_publish_lua[] =
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
    "redis.call('PUBLISH', ARGV[3], ARGV[4]) return 1";
/* Delete key only while it holds value, and announce it. */
static const char store_withdraw_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "redis.call('DEL', KEYS[1]) redis.call('PUBLISH', ARGV[2], ARGV[3]) "
    "return 1 end return 0";

struct store_tokens {
	struct token_table *table;   /* the daemon's (borrowed) */
	struct token_table cache;    /* what the store holds, recently */
	struct kv *sub;              /* subscriber: the thread's only */
	struct kv *get;              /* lookups on a miss */
	struct kv *pub;              /* the control socket's publishing */
	pthread_t thread;
	int started;
	atomic_int stop;
	_Atomic int64_t down_until;  /* no lookups before (monotonic ms) */
};

/* Printable ASCII without spaces, 1..max bytes. */
static int store_field_ok(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++, n++)
		if (n >= max || (unsigned char)*s <= 0x20 ||
		    (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* The fields of one challenge, checked as the control protocol does. */
static int store_fields_ok(enum chall_type type, const char *ident,
    const char *token, const char *keyauth)
{
	size_t tlen = token ? strlen(token) : 0;

	return (type == CHALL_HTTP01 || type == CHALL_TLSALPN01) &&
	    store_field_ok(ident, TOKENS_MAX_IDENT) &&
	    tlen > 0 && tlen <= TOKENS_MAX_TOKEN && b64url_valid(token) &&
	    (keyauth == NULL || (store_field_ok(keyauth, TOKENS_MAX_KEYAUTH) &&
	    strncmp(keyauth, token, tlen) == 0 && keyauth[tlen] == '.'));
}

/* certo:chall:<type>:<token or ident>. */
static void store_key(char *key, size_t keylen, enum chall_type type,
    const char *ident, const char *token)
{
	snprintf(key, keylen, "%s%s:%s", STORE_TOKENS_PREFIX,
	    challenge_type_name(type), type == CHALL_HTTP01 ? token : ident);
}

/* Publish a challenge (store_tokens.h). */
int store_tokens_publish(struct kv *kv, enum chall_type type,
    const char *ident, const char *token, const char *keyauth,
    long long ttl_ms)
{
	char key[STORE_KEY_MAX], val[STORE_VAL_MAX], msg[STORE_MSG_MAX];
	char ttl[24];
	const char *argv[8];
	size_t lens[8];
	int rc;

	if (!store_fields_ok(type, ident, token, keyauth))
		return certo_fail(CERTO_EUSAGE, "store: refusing to publish "
		    "a malformed challenge");
	if (ttl_ms < 1000)
		ttl_ms = 1000;
	if (ttl_ms > STORE_TOKENS_TTL_MAX)
		ttl_ms = STORE_TOKENS_TTL_MAX;
	store_key(key, sizeof(key), type, ident, token);
	snprintf(val, sizeof(val), "%s %s %s", ident, token, keyauth);
	snprintf(msg, sizeof(msg), "set %s %s", challenge_type_name(type), val);
	snprintf(ttl, sizeof(ttl), "%lld", ttl_ms);
	argv[0] = "EVAL";
	argv[1] = store_publish_lua;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = val;
	argv[5] = ttl;
	argv[6] = STORE_TOKENS_CHANNEL;
	argv[7] = msg;
	for (int i = 0; i < 8; i++)
		lens[i] = strlen(argv[i]);
	rc = kv_command_argv(kv, NULL, 8, argv, lens);
	memset(val, 0, sizeof(val));
	memset(msg, 0, sizeof(msg));
	return rc;
}

/* Withdraw a challenge (store_tokens.h). */
int store_tokens_withdraw(struct kv *kv, enum chall_type type,
    const char *ident, const char *token, const char *keyauth)
{
	char key[STORE_KEY_MAX], val[STORE_VAL_MAX], msg[STORE_MSG_MAX];
	const char *argv[7];
	size_t lens[7];

	if (!store_fields_ok(type, ident, token, keyauth))
		return 0;
	store_key(key, sizeof(key), type, ident, token);
	snprintf(val, sizeof(val), "%s %s %s", ident, token, keyauth);
	snprintf(msg, sizeof(msg), "del %s %s %s", challenge_type_name(type),
	    ident, token);
	argv[0] = "EVAL";
	argv[1] = store_withdraw_lua;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = val;
	argv[5] = STORE_TOKENS_CHANNEL;
	argv[6] = msg;
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(argv[i]);
	return kv_command_argv(kv, NULL, 7, argv, lens);
}

/* Split s in place at spaces into at most max fields; returns how many. */
static int store_split(char *s, char **f, int max)
{
	int n = 0;
	char *save = NULL, *p;

	for (p = strtok_r(s, " ", &save); p && n < max;
	    p = strtok_r(NULL, " ", &save))
		f[n++] = p;
	return p ? max + 1 : n;
}

/* Add to the cache; a full cache is emptied first (it is only a cache). */
static void store_cache_add(struct store_tokens *st, enum chall_type type,
    const char *ident, const char *token, const char *keyauth)
{
	if (tokens_add(&st->cache, type, ident, token, keyauth) ==
	    CERTO_ETOOBIG) {
		tokens_expire(&st->cache, (time_t)INT64_MAX);
		tokens_add(&st->cache, type, ident, token, keyauth);
	}
}

/* One channel message: fill or empty the cache. */
static void store_message(struct store_tokens *st, char *msg)
{
	char *f[5];
	int n = store_split(msg, f, 5);
	enum chall_type type;

	if (n < 4)
		return;
	type = challenge_type_parse(f[1]);
	if (strcmp(f[0], "set") == 0 && n == 5 &&
	    store_fields_ok(type, f[2], f[3], f[4]))
		store_cache_add(st, type, f[2], f[3], f[4]);
	else if (strcmp(f[0], "del") == 0 && n == 4)
		tokens_remove(&st->cache, type, f[2], f[3]);
}

/* The cache's thread: the channel's messages until stopped. */
static void *store_thread(void *arg)
{
	struct store_tokens *st = arg;
	char buf[STORE_MSG_MAX + 1];
	int down = 0;

	while (!atomic_load(&st->stop)) {
		size_t len = 0;
		int rc = kv_next_message(st->sub, 200, buf, sizeof(buf), &len);

		if (rc == 1 && len < sizeof(buf) - 1)
			store_message(st, buf);
		if (rc == 2) {
			/* Messages may have been missed: forget them all. */
			tokens_expire(&st->cache, (time_t)INT64_MAX);
			log_info("store %s: subscribed again, cache emptied",
			    kv_url_shown(st->sub));
			down = 0;
		}
		if (rc >= 0)
			continue;
		if (!down)
			log_warn("%s; serving from the cache and the direct "
			    "reads, retrying", certo_errmsg() ? certo_errmsg() :
			    "store unreachable");
		down = 1;
		certo_errclear();
		for (int i = 0; i < 5 && !atomic_load(&st->stop); i++) {
			struct timespec ts = { 0, 100 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* A miss of the daemon's table: the cache, else one GET. */
static long store_lookup(void *arg, enum chall_type type, const char *key,
    char *out, size_t outlen)
{
	struct store_tokens *st = arg;
	char skey[STORE_KEY_MAX], *val = NULL, *f[4];
	size_t len = 0, n;
	long r;
	int rc;

	r = type == CHALL_HTTP01 ?
	    tokens_lookup_http(&st->cache, key, out, outlen) :
	    tokens_lookup_alpn(&st->cache, key, out, outlen);
	if (r >= 0)
		return r;
	if (type == CHALL_HTTP01 ? !store_fields_ok(type, "x", key, NULL) :
	    !store_field_ok(key, TOKENS_MAX_IDENT))
		return -1;
	if (sig_now_ms() < atomic_load(&st->down_until))
		return -1;
	store_key(skey, sizeof(skey), type, key, key);
	rc = kv_get(st->get, skey, &val, &len);
	if (rc < 0) {
		log_debug("%s", certo_errmsg() ? certo_errmsg() : "store");
		certo_errclear();
		atomic_store(&st->down_until, sig_now_ms() + 1000);
		return -1;
	}
	if (rc == 0 || len >= STORE_VAL_MAX ||
	    store_split(val, f, 3) != 3 ||
	    !store_fields_ok(type, f[0], f[1], f[2]) ||
	    strcmp(type == CHALL_HTTP01 ? f[1] : f[0], key) != 0 ||
	    (n = strlen(f[2])) + 1 > outlen) {
		free(val);
		return -1;
	}
	memcpy(out, f[2], n + 1);
	store_cache_add(st, type, f[0], f[1], f[2]);
	memset(val, 0, len);
	free(val);
	return (long)n;
}

/* The daemon's table received an entry (control socket): publish it. */
static int store_on_publish(void *arg, enum chall_type type,
    const char *ident, const char *token, const char *keyauth, long ttl)
{
	struct store_tokens *st = arg;
	int rc = store_tokens_publish(st->pub, type, ident, token, keyauth,
	    (long long)ttl * 1000);

	if (rc) {
		log_warn("%s", certo_errmsg() ? certo_errmsg() : "store");
		certo_errclear();
	}
	return rc;
}

/* The daemon's table lost an entry (control socket): withdraw it. */
static void store_on_withdraw(void *arg, enum chall_type type,
    const char *ident, const char *token, const char *keyauth)
{
	struct store_tokens *st = arg;

	if (store_tokens_withdraw(st->pub, type, ident, token, keyauth)) {
		log_warn("%s", certo_errmsg() ? certo_errmsg() : "store");
		certo_errclear();
	}
}

static const struct token_store_ops store_tokens_ops = {
	.publish = store_on_publish,
	.withdraw = store_on_withdraw,
	.lookup = store_lookup,
};

/* Connect the responder's side, no thread yet (store_tokens.h). */
int store_tokens_open(const char *url, struct token_table *table,
    struct store_tokens **out)
{
	struct store_tokens *st;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return certo_fail(CERTO_ENOMEM, "store: out of memory");
	if ((rc = tokens_init(&st->cache, table->max,
	    STORE_TOKENS_CACHE_TTL)) != 0) {
		free(st);
		return certo_fail(rc, "store: out of memory");
	}
	if ((rc = kv_subscribe(url, STORE_TOKENS_CHANNEL, &st->sub)) != 0 ||
	    (rc = kv_open(url, &st->get)) != 0 ||
	    (rc = kv_open(url, &st->pub)) != 0)
		goto out;
	kv_set_timeouts(st->get, STORE_TOKENS_LOOKUP_MS,
	    STORE_TOKENS_LOOKUP_MS, 0);
	kv_set_timeouts(st->pub, 1000, 2000, 3000);
	st->table = table;
	table->store_arg = st;
	table->store = &store_tokens_ops;
	*out = st;
out:
	if (rc)
		store_tokens_stop(st);
	return rc;
}

/* Start the thread that keeps the cache (store_tokens.h). */
int store_tokens_run(struct store_tokens *st)
{
	if (pthread_create(&st->thread, NULL, store_thread, st) != 0)
		return certo_fail(CERTO_ENOMEM, "store: cannot start a thread");
	st->started = 1;
	log_info("store %s: serving its challenges, publishing the control "
	    "socket's", kv_url_shown(st->get));
	return 0;
}

/* Stop (store_tokens.h). */
void store_tokens_stop(struct store_tokens *st)
{
	if (st == NULL)
		return;
	if (st->table) {
		st->table->store = NULL;
		st->table->store_arg = NULL;
	}
	if (st->started) {
		atomic_store(&st->stop, 1);
		pthread_join(st->thread, NULL);
	}
	kv_close(st->sub);
	kv_close(st->get);
	kv_close(st->pub);
	tokens_free(&st->cache);
	free(st);
}
