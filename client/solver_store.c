/*
 * The store solver (--store URL with no other way to answer chosen):
 * http-01 and tls-alpn-01 challenges published into the shared Redis
 * store (responder/store_tokens.h), where every certo-responder --store
 * of the cluster serves them.  Each entry lives until the authorization
 * expires (the store forgets it then on its own) and is withdrawn by
 * compare-and-delete on every exit path.  No control socket, no port.
 */
#include "solver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "kv.h"
#include "log.h"
#include "store_tokens.h"

#define STORE_SOLVER_TTL_DEFAULT_S 3600   /* no usable authz expiry */
#define STORE_SOLVER_TTL_MIN_S 60

/* One published entry: withdraw needs its key authorization. */
struct store_entry {
	enum chall_type type;
	char *ident;
	char *token;
	char *keyauth;
};

/* The solver's context (shared by renew's threads: lock). */
struct store_solver {
	struct kv *kv;
	pthread_mutex_t lock;
	struct store_entry *entries;
	size_t n;
};

/* The next publish of this thread: its authorization's expiry. */
static __thread time_t store_next_expiry;

/* "2026-12-01T01:02:03Z" (fractions and offsets allowed) as time_t. */
static time_t store_parse_time(const char *s)
{
	struct tm tm;
	const char *p;
	long off = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	if (*p == '.')
		while (*++p >= '0' && *p <= '9')
			;
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':')
		off = (atol(p + 1) * 3600 + atol(p + 4) * 60) *
		    (*p == '-' ? -1 : 1);
	else if (*p != 'Z' && *p != 'z')
		return 0;
	t = timegm(&tm);
	return t == (time_t)-1 ? 0 : t - off;
}

static void store_expires(void *ctx, const char *rfc3339)
{
	(void)ctx;
	store_next_expiry = store_parse_time(rfc3339);
}

static void store_entry_free(struct store_entry *e)
{
	free(e->ident);
	free(e->token);
	if (e->keyauth)
		memset(e->keyauth, 0, strlen(e->keyauth));
	free(e->keyauth);
	memset(e, 0, sizeof(*e));
}

/* Remember an entry for withdraw; CERTO_ENOMEM. */
static int store_remember(struct store_solver *ss, enum chall_type type,
    const char *ident, const char *token, const char *keyauth)
{
	struct store_entry e = { type, strdup(ident), strdup(token),
	    strdup(keyauth) }, *nv;
	int rc = 0;

	if (e.ident == NULL || e.token == NULL || e.keyauth == NULL) {
		store_entry_free(&e);
		return certo_fail(CERTO_ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&ss->lock);
	nv = realloc(ss->entries, (ss->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		store_entry_free(&e);
		rc = certo_fail(CERTO_ENOMEM, "out of memory");
	} else {
		ss->entries = nv;
		ss->entries[ss->n++] = e;
	}
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

static int publish(void *ctx, enum chall_type type, const char *ident,
    const char *token, const char *keyauth)
{
	struct store_solver *ss = ctx;
	time_t now = time(NULL), exp = store_next_expiry;
	long long ttl = exp > now ? (long long)(exp - now) :
	    STORE_SOLVER_TTL_DEFAULT_S;
	int rc;

	store_next_expiry = 0;
	if (ttl < STORE_SOLVER_TTL_MIN_S)
		ttl = STORE_SOLVER_TTL_MIN_S;
	/* Recorded first: a publish cut short is withdrawn too. */
	if ((rc = store_remember(ss, type, ident, token, keyauth)) != 0)
		return rc;
	rc = store_tokens_publish(ss->kv, type, ident, token, keyauth,
	    ttl * 1000);
	if (rc == 0)
		log_debug("store %s: published the %s challenge for %s "
		    "(%lld s%s)", kv_url_shown(ss->kv), challenge_type_name(type),
		    ident, ttl, exp > now ? ", until the authorization expires" :
		    ", the authorization gave no expiry");
	return rc;
}

/* The entry of (type, ident, token), or NULL; with ss->lock held. */
static struct store_entry *store_find(struct store_solver *ss,
    enum chall_type type, const char *ident, const char *token)
{
	for (size_t i = 0; i < ss->n; i++)
		if (ss->entries[i].type == type &&
		    strcmp(ss->entries[i].ident, ident) == 0 &&
		    strcmp(ss->entries[i].token, token) == 0)
			return &ss->entries[i];
	return NULL;
}

/*
 * The responders read the store, so the store holding each entry is
 * what proves it servable (as the socket solver's list does).
 */
static int selfcheck(void *ctx, const struct solver_item *items, size_t n)
{
	struct store_solver *ss = ctx;

	for (size_t i = 0; i < n; i++) {
		struct kv_reply *r = NULL;
		char key[600], want[1100];
		int rc, ok;

		snprintf(key, sizeof(key), "%s%s:%s", STORE_TOKENS_PREFIX,
		    challenge_type_name(items[i].type),
		    items[i].type == CHALL_HTTP01 ? items[i].token :
		    items[i].ident);
		if ((rc = kv_command(ss->kv, &r, "GET %s", key)) != 0)
			return rc;
		snprintf(want, sizeof(want), "%s %s %s", items[i].ident,
		    items[i].token, items[i].keyauth);
		ok = r->type == KV_STR && strcmp(r->str, want) == 0;
		kv_reply_free(r);
		if (!ok)
			return certo_fail(CERTO_ESELFCHECK, "self-check of the "
			    "%s challenge for %s failed: store %s does not hold "
			    "it; the CA was not asked",
			    challenge_type_name(items[i].type), items[i].ident,
			    kv_url_shown(ss->kv));
	}
	return 0;
}

/*
 * Compare-and-delete; on failure the entry expires in the store on its
 * own.  An earlier error (the reason for withdrawing) is kept.
 */
static void withdraw(void *ctx, enum chall_type type, const char *ident,
    const char *token)
{
	struct store_solver *ss = ctx;
	struct store_entry e = { 0 }, *found;
	int earlier = certo_errmsg() != NULL;

	pthread_mutex_lock(&ss->lock);
	if ((found = store_find(ss, type, ident, token)) != NULL) {
		e = *found;
		*found = ss->entries[--ss->n];
	}
	pthread_mutex_unlock(&ss->lock);
	if (e.keyauth == NULL)
		return;
	if (store_tokens_withdraw(ss->kv, type, ident, token, e.keyauth)) {
		log_warn("could not withdraw the %s challenge for %s from "
		    "store %s%s%s (it expires there on its own)",
		    challenge_type_name(type), ident, kv_url_shown(ss->kv),
		    earlier || !certo_errmsg() ? "" : ": ",
		    earlier || !certo_errmsg() ? "" : certo_errmsg());
		if (!earlier)
			certo_errclear();
	}
	store_entry_free(&e);
}

static void stop(void *ctx)
{
	struct store_solver *ss = ctx;

	if (ss == NULL)
		return;
	for (size_t i = 0; i < ss->n; i++)
		store_entry_free(&ss->entries[i]);
	free(ss->entries);
	kv_close(ss->kv);
	pthread_mutex_destroy(&ss->lock);
	free(ss);
}

static const struct solver_ops store_ops = {
	.name = "store",
	.publish = publish,
	.selfcheck = selfcheck,
	.withdraw = withdraw,
	.stop = stop,
	.expires = store_expires,
};

/* Start the store solver (solver.h). */
int solver_store_start(const char *url, const enum chall_type *types,
    size_t ntypes, struct solver *out)
{
	struct store_solver *ss;
	int rc;

	memset(out, 0, sizeof(*out));
	if (url == NULL)
		return certo_fail(CERTO_EUSAGE, "this certificate's challenges "
		    "go through a store: give --store URL (or CERTO_STORE)");
	for (size_t i = 0; i < ntypes && i < 3; i++) {
		if (types[i] != CHALL_HTTP01 && types[i] != CHALL_TLSALPN01)
			return certo_fail(CERTO_EUSAGE, "the store's responders "
			    "cannot answer %s challenges",
			    challenge_type_name(types[i]));
		out->types[out->ntypes++] = types[i];
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	pthread_mutex_init(&ss->lock, NULL);
	/* Reachable, credentials right: fails before the CA is asked. */
	if ((rc = kv_open(url, &ss->kv)) != 0) {
		stop(ss);
		return rc;
	}
	out->ops = &store_ops;
	out->ctx = ss;
	return 0;
}
