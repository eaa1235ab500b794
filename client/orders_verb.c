/*
 * certo orders: the saved orders under <state>/orders/ (store_order.c),
 * left by certo authorize or an interrupted issue: names, CA, status as
 * last seen, expiry, the authorizations still pending.  Offline, unless
 * --refresh: then each order and its authorizations are fetched
 * (POST-as-GET through the CA's session) and what the CA says is
 * remembered.  --prune removes the invalid, gone and expired ones, each
 * with one rename (store_order_remove), never one a run is working on.
 */
#include "verbs.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authz.h"
#include "cli.h"
#include "errors.h"
#include "file.h"
#include "log.h"
#include "order.h"
#include "request.h"
#include "session.h"
#include "store.h"

/* One run of the verb. */
struct orders_ctx {
	const struct certo_cli *cli;
	char *state;
	struct session_set sessions;   /* one per CA, --refresh only */
	time_t now;
	int first_rc;                  /* the first failed refresh */
	size_t failed, total;          /* refreshes failed, tried */
};

/* An RFC 3339 UTC time ("...Z" or "+00:00", fractions ignored), or -1. */
static time_t
orders_parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')
		while (*++end >= '0' && *end <= '9')
			;
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return -1;
	return timegm(&tm);
}

/* Expired at the CA (it said when): the order can never be finished. */
static bool
orders_expired(const struct store_order_info *info, time_t now)
{
	time_t t = orders_parse_time(info->expires);

	return t >= 0 && t <= now;
}

/* Why --prune drops the order, or NULL to keep it. */
static const char *
orders_prune_why(const struct store_order_info *info, time_t now)
{
	if (info->error != NULL || info->status == NULL)
		return orders_expired(info, now) ? "expired" : NULL;
	if (strcmp(info->status, "invalid") == 0)
		return "invalid";
	if (strcmp(info->status, "gone") == 0)
		return "gone";
	return orders_expired(info, now) ? "expired" : NULL;
}

/*
 * The session of the order's CA, connected with the existing account
 * (the orders belong to it); an account is never created here.
 */
static int
orders_session(struct orders_ctx *ctx, const char *server,
    struct session **out)
{
	const struct certo_cli *cli = ctx->cli;
	struct session_opts opts;
	struct session_needs needs = { 0 };
	struct account_opts acct;
	char *key = NULL;
	bool have;
	int rc;

	memset(&opts, 0, sizeof(opts));
	memset(&acct, 0, sizeof(acct));
	opts.state_dir = ctx->state;
	opts.server = server;
	opts.ca_bundle = cli->ca_bundle;
	opts.allow_http = cli->allow_http;
	if ((rc = session_set_get(&ctx->sessions, &opts, out)) != 0)
		return rc;
	if ((*out)->acct.url != NULL)
		return 0;
	/* Its key and URL: a key alone would be looked up, or registered. */
	if ((key = file_join((*out)->acct_dir, "account.key")) == NULL)
		return CERTO_ENOMEM;
	have = file_exists(key);
	free(key);
	if ((key = file_join((*out)->acct_dir, "account.json")) == NULL)
		return CERTO_ENOMEM;
	have = have && file_exists(key);
	free(key);
	if (!have)
		return certo_fail(CERTO_EUSAGE, "no account for this CA in %s: "
		    "its orders cannot be asked for", (*out)->acct_dir);
	needs.account = SESSION_ACCOUNT_USE;
	needs.account_opts = &acct;
	return session_connect(*out, &needs);
}

/* Fetch the order at info->url and its authorizations into order. */
static int
orders_fetch(struct certo_req *req, const struct store_order_info *info,
    struct certo_order *order, bool *gone)
{
	struct http_resp resp;
	long retry_after;
	int rc;

	*gone = false;
	if ((rc = request_post(req, info->url, NULL, DOC_ORDER, &resp,
	    NULL)) == 0)
		rc = doc_take(&resp, DOC_ORDER, order);
	else if (resp.status == 404)
		*gone = true;
	http_resp_free(&resp);
	if (rc != 0 || order->nauthz == 0)
		return rc;
	if ((order->authzs = calloc(order->nauthz, sizeof(*order->authzs))) ==
	    NULL)
		return CERTO_ENOMEM;
	for (size_t i = 0; i < order->nauthz && rc == 0; i++) {
		if ((order->authzs[i].url = strdup(order->authz_urls[i])) == NULL)
			return CERTO_ENOMEM;
		rc = authz_fetch(req, &order->authzs[i], &retry_after);
	}
	return rc;
}

/*
 * --refresh of one saved order: ask its CA, remember the answer in its
 * order.json (under the order's lock; one a run holds is left alone).
 */
static int
orders_refresh_one(struct orders_ctx *ctx, const struct store_order_info *info)
{
	struct certo_order order;
	struct certo_req req;
	struct session *sess;
	char *dir = NULL;
	bool gone = false, have_req = false;
	int rc, fd = -1;

	memset(&order, 0, sizeof(order));
	if (info->error != NULL || info->url == NULL || info->server == NULL)
		return 0; /* nothing to ask about */
	if ((rc = orders_session(ctx, info->server, &sess)) != 0)
		return rc;
	if (asprintf(&dir, "%s/orders/%s", ctx->state, info->hash) < 0) {
		dir = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = store_order_trylock(ctx->state, info->hash, &fd)) <= 0) {
		if (rc == 0)
			log_warn("orders/%s: another certo run is working on it; "
			    "not refreshed", info->hash);
		goto out;
	}
	if ((rc = session_request(sess, &req)) != 0)
		goto out;
	have_req = true;
	order.names = info->names; /* borrowed: cleared before order_free */
	order.nnames = info->nnames;
	if ((order.url = strdup(info->url)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	rc = orders_fetch(&req, info, &order, &gone);
	if (rc != 0 && gone) {
		certo_errclear();
		rc = store_order_note_gone(dir, info->url);
	} else if (rc == 0) {
		rc = store_order_note(dir, &order);
	}
out:
	if (have_req)
		request_free(&req);
	if (fd >= 0)
		close(fd);
	order.names = NULL;
	order.nnames = 0;
	order_free(&order);
	free(dir);
	return rc;
}

/*
 * --refresh: every order; each failure is said on its own line, and the
 * run fails with the first one's code (after the listing).
 */
static void
orders_refresh(struct orders_ctx *ctx, const struct store_order_info *v,
    size_t n)
{
	int rc;

	ctx->total = n;
	for (size_t i = 0; i < n; i++) {
		if ((rc = orders_refresh_one(ctx, &v[i])) == 0)
			continue;
		if (rc == CERTO_EINTR || rc == CERTO_ENOMEM) {
			ctx->first_rc = rc;
			return;
		}
		log_error("orders/%s: not refreshed: %s", v[i].hash,
		    certo_errmsg() ? certo_errmsg() : certo_strerror(rc));
		certo_errclear();
		if (ctx->failed++ == 0)
			ctx->first_rc = rc;
	}
}

/*
 * --prune one order: removed with one rename unless a run holds its
 * lock.  True when it is gone.
 */
static bool
orders_prune_one(const struct orders_ctx *ctx,
    const struct store_order_info *info, const char *why)
{
	char *dir = NULL;
	int fd = -1, rc;

	if ((rc = store_order_trylock(ctx->state, info->hash, &fd)) <= 0) {
		log_warn("orders/%s: not pruned: %s", info->hash, rc < 0 &&
		    certo_errmsg() ? certo_errmsg() : "another certo run is "
		    "working on it");
		certo_errclear();
		return false;
	}
	if (asprintf(&dir, "%s/orders/%s", ctx->state, info->hash) >= 0) {
		store_order_remove(dir);
		rc = !file_exists(dir);
		free(dir);
	} else {
		rc = 0;
	}
	close(fd);
	if (rc && !ctx->cli->json)
		printf("orders/%s: pruned (%s)\n", info->hash, why);
	return rc;
}

/* An array of n strings (JSON). */
static struct json_object *
orders_json_strings(char *const *v, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_object_array_add(arr, json_object_new_string(v[i]));
	return arr;
}

/* "a, b, c" of n names (printable), into buf. */
static const char *
orders_join(char *const *v, size_t n, char *buf, size_t len)
{
	char one[300];
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "",
		    log_str(one, sizeof(one), v[i]));
	return buf;
}

/* The human lines of one order. */
static void
orders_print(const struct store_order_info *info, time_t now)
{
	char names[2048], pending[2048], url[512], server[512], exp[64];
	char status[64], seen[64], error[1024];

	printf("orders/%s: %s\n", info->hash, info->error ? "unreadable" :
	    orders_join(info->names, info->nnames, names, sizeof(names)));
	if (info->error != NULL) {
		/* It may quote the file. */
		printf("  error:    %s\n", log_str(error, sizeof(error),
		    info->error));
		return;
	}
	printf("  CA:       %s\n", info->server ? log_str(server,
	    sizeof(server), info->server) : "(not recorded)");
	if (info->status != NULL)
		printf("  status:   %s (as seen %s)\n", log_str(status,
		    sizeof(status), info->status), info->seen ? log_str(seen,
		    sizeof(seen), info->seen) : "");
	else
		printf("  status:   not recorded (certo orders --refresh asks the "
		    "CA)\n");
	if (info->expires != NULL)
		printf("  expires:  %s%s\n", log_str(exp, sizeof(exp),
		    info->expires), orders_expired(info, now) ? " (expired)" : "");
	if (info->authz_known)
		printf("  pending:  %s\n", info->npending ? orders_join(
		    info->pending, info->npending, pending, sizeof(pending)) :
		    "none");
	else if (info->status == NULL || strcmp(info->status, "pending") == 0)
		printf("  pending:  not known (certo orders --refresh asks the "
		    "CA)\n");
	if (info->url != NULL)
		printf("  order:    %s\n", log_str(url, sizeof(url), info->url));
}

/* The JSON object of one order. */
static struct json_object *
orders_json(const struct store_order_info *info, time_t now, bool pruned)
{
	struct json_object *o = json_object_new_object();
	char buf[512];

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "dir", json_object_new_string(info->hash));
	if (info->error != NULL) {
		json_object_object_add(o, "error", json_object_new_string(
		    info->error));
		return o;
	}
	json_object_object_add(o, "names", orders_json_strings(info->names,
	    info->nnames));
#define ORDERS_STR(key, v) json_object_object_add(o, key, (v) ? \
	json_object_new_string(log_str(buf, sizeof(buf), (v))) : NULL)
	ORDERS_STR("server", info->server);
	ORDERS_STR("url", info->url);
	ORDERS_STR("status", info->status);
	ORDERS_STR("seen", info->seen);
	ORDERS_STR("expires", info->expires);
#undef ORDERS_STR
	json_object_object_add(o, "expired", json_object_new_boolean(
	    orders_expired(info, now)));
	json_object_object_add(o, "pending", info->authz_known ?
	    orders_json_strings(info->pending, info->npending) : NULL);
	json_object_object_add(o, "pruned", json_object_new_boolean(pruned));
	return o;
}

/* List (and prune) what is saved now. */
static int
orders_show(struct orders_ctx *ctx)
{
	const struct certo_cli *cli = ctx->cli;
	struct store_order_info *v = NULL;
	struct json_object *arr = json_object_new_array();
	const char *why;
	size_t n = 0;
	int rc;

	if (arr == NULL)
		return CERTO_ENOMEM;
	if ((rc = store_orders_list(ctx->state, &v, &n)) != 0)
		goto out;
	if (n == 0 && !cli->json)
		printf("no saved orders in %s/orders\n", ctx->state);
	for (size_t i = 0; i < n; i++) {
		bool pruned = false;

		if (cli->prune && (why = orders_prune_why(&v[i], ctx->now)) != NULL)
			pruned = orders_prune_one(ctx, &v[i], why);
		if (cli->json)
			json_object_array_add(arr, orders_json(&v[i], ctx->now,
			    pruned));
		else if (!pruned)
			orders_print(&v[i], ctx->now);
	}
	if (cli->json)
		printf("%s\n", json_object_to_json_string_ext(arr,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	store_orders_free(v, n);
	json_object_put(arr);
	return rc;
}

/*
 * certo orders (verbs.h): the saved orders as last seen, after
 * --refresh asked the CA and --prune removed the dead ones; 0 or a
 * negative CERTO_E* code.
 */
int
orders_run(const struct certo_cli *cli)
{
	struct orders_ctx ctx;
	struct store_order_info *v = NULL;
	size_t n = 0;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cli = cli;
	ctx.now = time(NULL);
	if ((rc = store_state_dir(cli->state_dir, &ctx.state)) != 0)
		goto out;
	if (cli->refresh) {
		/* stdout holds the one JSON document: no progress lines. */
		if (cli->json)
			log_set_level(LOG_QUIET);
		if ((rc = store_orders_list(ctx.state, &v, &n)) != 0)
			goto out;
		orders_refresh(&ctx, v, n);
		session_set_free(&ctx.sessions);
		if (ctx.first_rc == CERTO_EINTR || ctx.first_rc == CERTO_ENOMEM) {
			rc = ctx.first_rc;
			goto out;
		}
	}
	/* What is saved now, as the refresh left it. */
	if ((rc = orders_show(&ctx)) == 0 && ctx.first_rc != 0) {
		certo_errclear();
		rc = certo_fail(ctx.first_rc, "%zu of %zu saved orders not "
		    "refreshed", ctx.failed, ctx.total);
	}
out:
	store_orders_free(v, n);
	session_set_free(&ctx.sessions);
	free(ctx.state);
	return rc;
}
