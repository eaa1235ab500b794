/*
 * certo list: the stored certificates, their expiry and renewal time;
 * never asks the CA (renew keeps the last ARI window it got).
 */
#include "verbs.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "cli.h"
#include "errors.h"
#include "log.h"
#include "ratelimit.h"
#include "store.h"
#include "store_index.h"
#include "stored.h"

/* The remembered rate limits of one CA, read once for every set of it. */
struct list_limits {
	char *ca_id;                /* whose limits are loaded, or NULL */
	struct ratelimit *limits;
	size_t n;
};

static void
list_limits_free(struct list_limits *ll)
{
	ratelimit_free_all(ll->limits, ll->n);
	free(ll->ca_id);
	memset(ll, 0, sizeof(*ll));
}

/*
 * A remembered rate limit on the names of cert (ratelimit.h), if any.
 * ll keeps the last CA's limits: sets of the same CA (the usual case)
 * read its file once.
 */
static void
list_ratelimit(const char *state, const struct stored *cert,
    struct list_limits *ll, struct json_object *obj, bool json)
{
	char *ca_id = NULL, until_s[32];
	time_t until;

	if (account_ca_id(cert->cfg.params.server, &ca_id) != 0) {
		certo_errclear();
		return;
	}
	if (ll->ca_id == NULL || strcmp(ll->ca_id, ca_id) != 0) {
		list_limits_free(ll);
		ll->ca_id = ca_id;
		ca_id = NULL; /* ownership moves to ll */
		if (ratelimit_load(state, ll->ca_id, &ll->limits, &ll->n) != 0)
			certo_errclear();
	}
	free(ca_id);
	if ((until = ratelimit_for_names(ll->limits, ll->n,
	    cert->cfg.params.names, cert->cfg.params.nnames)) == 0)
		return;
	ratelimit_when(until, until_s, sizeof(until_s));
	json_object_object_add(obj, "rate_limited_until",
	    json_object_new_string(until_s));
	if (!json)
		printf("  limit:   the CA rate-limited new orders until %s "
		    "(certo ratelimit)\n", until_s);
}

/* One stored certificate: obj gets its fields; printed unless json. */
static void
list_one(const struct stored *cert, struct json_object *obj, bool json)
{
	const struct certo_chain *chain = &cert->chain;
	struct json_object *arr = json_object_new_array();
	char sans[1024] = "", expires[32], due[32], start[32], end[32];
	long days = (long)((chain->not_after - time(NULL)) / 86400);
	size_t k = 0;

	for (size_t j = 0; j < chain->nsans; j++) {
		json_object_array_add(arr, json_object_new_string(chain->sans[j]));
		k += (size_t)snprintf(sans + k, k < sizeof(sans) ?
		    sizeof(sans) - k : 0, "%s%s", j ? " " : "", chain->sans[j]);
	}
	stored_time(chain->not_after, expires, sizeof(expires));
	stored_time(cert->due, due, sizeof(due));
	stored_time(cert->ari.start, start, sizeof(start));
	stored_time(cert->ari.end, end, sizeof(end));
	json_object_object_add(obj, "names", arr);
	json_object_object_add(obj, "not_after",
	    json_object_new_string(expires));
	json_object_object_add(obj, "days_left", json_object_new_int64(days));
	json_object_object_add(obj, "key_type",
	    json_object_new_string(chain->key_desc));
	json_object_object_add(obj, "server",
	    json_object_new_string(cert->cfg.params.server));
	json_object_object_add(obj, "renew_after", json_object_new_string(due));
	if (cert->has_ari) {
		json_object_object_add(obj, "ari_start",
		    json_object_new_string(start));
		json_object_object_add(obj, "ari_end",
		    json_object_new_string(end));
	}
	if (json)
		return;
	printf("%s\n  names:   %s\n  expires: %s (%ld days left)\n"
	    "  key:     %s\n  CA:      %s\n  renew:   %s%s\n", cert->name, sans,
	    expires, days, chain->key_desc, cert->cfg.params.server, due,
	    cert->has_ari ? " (in the CA's ARI window)" :
	    " (a third of the lifetime left)");
	if (cert->has_ari)
		printf("  ARI:     %s to %s\n", start, end);
}

int
list_run(const struct certo_cli *cli)
{
	struct json_object *arr = json_object_new_array();
	struct list_limits limits = { 0 };
	struct store_index *idx = NULL;
	char **names = NULL, *state = NULL;
	size_t n = 0;
	int rc;

	if ((rc = store_state_dir(cli->state_dir, &state)) != 0 ||
	    (rc = store_list(state, &names, &n)) != 0 ||
	    (rc = store_index_open(state, &idx)) != 0)
		goto out;
	if (!cli->json && n == 0)
		printf("no certificates stored in %s\n", state);
	for (size_t i = 0; i < n; i++) {
		struct stored cert;
		struct json_object *obj = json_object_new_object();

		memset(&cert, 0, sizeof(cert));
		cert.name = names[i]; /* ownership moves */
		names[i] = NULL;
		json_object_object_add(obj, "name", json_object_new_string(
		    cert.name));
		json_object_array_add(arr, obj);
		/* The index's record while the set's files are unchanged. */
		if (stored_load_indexed(state, idx, &cert) != 0) {
			json_object_object_add(obj, "error", json_object_new_string(
			    certo_errmsg() ? certo_errmsg() : "unreadable"));
			if (!cli->json)
				printf("%s: unreadable: %s\n", cert.name, certo_errmsg());
			certo_errclear();
			stored_free(&cert);
			continue;
		}
		/* No network: the window renew got last, if any. */
		stored_kept_due(&cert, state);
		list_one(&cert, obj, cli->json);
		list_ratelimit(state, &cert, &limits, obj, cli->json);
		stored_free(&cert);
	}
	store_index_close(idx, true);
	idx = NULL;
	/* What the CA rate-limited, also for names with no stored set. */
	ratelimit_list_all(state, arr, cli->json ? NULL : stdout);
	if (cli->json)
		printf("%s\n", json_object_to_json_string_ext(arr,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	store_index_close(idx, false);
	list_limits_free(&limits);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(state);
	json_object_put(arr);
	return rc;
}
