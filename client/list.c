/*
 * certo list: the stored certificates, their expiry and renewal time
 * (text, --json, or --prometheus metrics); never asks the CA (renew
 * keeps the last ARI window it got).
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

/* v as a Prometheus label value (\\, \" and \\n escaped) to f. */
static void
prom_label(FILE *f, const char *v)
{
	for (; *v; v++)
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			putc(*v, f);
}

/* One sample: metric{name="...",ca="..."} value. */
static void
prom_sample(FILE *f, const char *metric, const struct stored *cert,
    time_t value)
{
	const struct issue_params *p = &cert->cfg.params;

	fprintf(f, "%s{name=\"", metric);
	prom_label(f, p->nnames > 0 ? p->names[0] : cert->name);
	fputs("\",ca=\"", f);
	prom_label(f, p->server ? p->server : "");
	fprintf(f, "\"} %lld\n", (long long)value);
}

/* The last renew pass's metrics (none before the first one). */
static void
prom_renew(const char *state)
{
	static const char *const results[] = { "renewed", "failed",
		"not_due", "deploy_failed" };
	struct store_renew_status st;
	size_t counts[4];
	bool missing;

	if (store_renew_status_load(state, &st, &missing) != 0) {
		if (!missing)
			log_warn("%s", certo_errmsg());
		certo_errclear();
		return;
	}
	counts[0] = st.renewed;
	counts[1] = st.failed;
	counts[2] = st.not_due;
	counts[3] = st.deploy_failed;
	printf("# HELP certo_renew_last_run_timestamp_seconds When the last "
	    "certo renew pass ended.\n# TYPE certo_renew_last_run_timestamp_"
	    "seconds gauge\ncerto_renew_last_run_timestamp_seconds %lld\n",
	    (long long)st.time);
	printf("# HELP certo_renew_last_run_exit_code Exit code of the last "
	    "renew pass (0 renewed, 2 nothing due, 1 failures).\n# TYPE "
	    "certo_renew_last_run_exit_code gauge\ncerto_renew_last_run_exit_"
	    "code %d\n", st.exit_code);
	printf("# HELP certo_renew_last_run_success 1 when the last renew pass "
	    "had no failure.\n# TYPE certo_renew_last_run_success gauge\n"
	    "certo_renew_last_run_success %d\n", st.exit_code == 0 ||
	    st.exit_code == 2 ? 1 : 0);
	printf("# HELP certo_renew_last_run_certificates Certificates of the "
	    "last renew pass by result.\n# TYPE certo_renew_last_run_"
	    "certificates gauge\n");
	for (size_t i = 0; i < 4; i++)
		printf("certo_renew_last_run_certificates{result=\"%s\"} %zu\n",
		    results[i], counts[i]);
}

/*
 * certo list --prometheus: the text exposition format (version 0.0.4)
 * for node_exporter's textfile collector.  The renewal times go to a
 * memory stream first: each metric's samples must come together.
 */
static int
list_prometheus(const char *state, char **names, size_t n,
    struct store_index *idx)
{
	char *later = NULL;
	size_t later_len = 0, bad = 0;
	FILE *renewal;

	if ((renewal = open_memstream(&later, &later_len)) == NULL)
		return CERTO_ENOMEM;
	printf("# HELP certo_certificate_not_after_seconds notAfter of the "
	    "stored certificate.\n# TYPE certo_certificate_not_after_seconds "
	    "gauge\n");
	for (size_t i = 0; i < n; i++) {
		struct stored cert;

		memset(&cert, 0, sizeof(cert));
		cert.name = names[i]; /* ownership moves */
		names[i] = NULL;
		if (stored_load_indexed(state, idx, &cert) != 0) {
			log_warn("%s: unreadable: %s", cert.name, certo_errmsg());
			certo_errclear();
			bad++;
		} else {
			stored_kept_due(&cert, state);
			prom_sample(stdout, "certo_certificate_not_after_seconds",
			    &cert, cert.chain.not_after);
			prom_sample(renewal, "certo_certificate_renewal_seconds",
			    &cert, cert.due);
		}
		stored_free(&cert);
	}
	fclose(renewal);
	printf("# HELP certo_certificate_renewal_seconds When certo renews the "
	    "certificate (the CA's ARI window renew last got, else a third of "
	    "its lifetime left).\n# TYPE certo_certificate_renewal_seconds "
	    "gauge\n%s", later ? later : "");
	free(later);
	printf("# HELP certo_certificates_unreadable Stored sets certo cannot "
	    "read (certo list names them).\n# TYPE certo_certificates_"
	    "unreadable gauge\ncerto_certificates_unreadable %zu\n", bad);
	prom_renew(state);
	return 0;
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
	if (cli->prometheus) {
		if (cli->json) {
			rc = certo_fail(CERTO_EUSAGE, "list: --json and "
			    "--prometheus are two formats: choose one");
			goto out;
		}
		if ((rc = list_prometheus(state, names, n, idx)) == 0)
			store_index_close(idx, true);
		else
			store_index_close(idx, false);
		idx = NULL;
		goto out;
	}
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
		/* Text is printed set by set: nothing kept per set. */
		if (cli->json)
			json_object_array_add(arr, json_object_get(obj));
		/* The index's record while the set's files are unchanged. */
		if (stored_load_indexed(state, idx, &cert) != 0) {
			json_object_object_add(obj, "error", json_object_new_string(
			    certo_errmsg() ? certo_errmsg() : "unreadable"));
			if (!cli->json)
				printf("%s: unreadable: %s\n", cert.name, certo_errmsg());
			certo_errclear();
		} else {
			/* No network: the window renew got last, if any. */
			stored_kept_due(&cert, state);
			list_one(&cert, obj, cli->json);
			list_ratelimit(state, &cert, &limits, obj, cli->json);
		}
		stored_free(&cert);
		json_object_put(obj);
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
