/*
 * certo renew: every stored certificate that is due, grouped by CA and
 * solver settings, renewed by a bounded pool of threads through one
 * session per CA; --loop sleeps until the next one is due.
 */
#include "verbs.h"

#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "cli.h"
#include "directory.h"
#include "errors.h"
#include "issue.h"
#include "log.h"
#include "params.h"
#include "session.h"
#include "sig.h"
#include "store.h"
#include "store_index.h"
#include "store_remote.h"
#include "stored.h"

/* One stored certificate, as renew sees it. */
struct renewal {
	struct stored cert;
	struct issue_job job;
	bool handled;               /* its group ran */
	int rc;
	char *errmsg;               /* why it failed, for renew_failed */
	struct session *sess;       /* the session it renews in */
};

/* One pass over the stored certificates. */
struct pass {
	const struct certo_cli *cli;
	char *const *want;          /* --name, normalised (resolve_names) */
	char *state;
	struct session_set sessions; /* one per CA */
	char **names;               /* the stored sets (store_list) */
	size_t n;
	struct store_index *idx;    /* NULL: every set read from its files */
	struct renewal **certs;     /* the ones kept: due, failed, deploy */
	size_t ncerts;
	struct renewal **due;
	size_t ndue;
	size_t renewed, failed, notdue, deploy_failed;
	time_t next;                /* when to look again (--loop) */
};

static void
renewal_free(struct renewal *ren)
{
	stored_free(&ren->cert);
	issue_job_free(&ren->job);
	free(ren->errmsg);
}

/*
 * ren failed with rc: keep the message for the renew_failed event, print
 * it ("certo: renew NAME: ...") and clear it for the next certificate.
 */
static void
renewal_failed(struct renewal *ren, int rc)
{
	const char *msg = certo_errmsg() ? certo_errmsg() : certo_strerror(rc);

	ren->rc = rc;
	free(ren->errmsg);
	ren->errmsg = strdup(msg);
	log_error("renew %s: %s", ren->cert.name, msg);
	certo_errclear();
}

/* Do a and b (NULL or not) say the same? */
static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

/* Two certificates can share a session's solver and account. */
static bool
same_env(const struct issue_params *a, const struct issue_params *b)
{
	if (!same_str(a->server, b->server) ||
	    !same_str(a->ca_bundle, b->ca_bundle) ||
	    !same_str(a->responder, b->responder) ||
	    !same_str(a->dns_hook, b->dns_hook) ||
	    !same_str(a->http_hook, b->http_hook) ||
	    !same_str(a->webroot, b->webroot) ||
	    !same_str(a->http_addr, b->http_addr) ||
	    !same_str(a->tls_addr, b->tls_addr) || a->mode != b->mode ||
	    a->hook_timeout_s != b->hook_timeout_s ||
	    a->http_timeout_s != b->http_timeout_s ||
	    a->http_port != b->http_port || a->tls_port != b->tls_port ||
	    a->nchallenges != b->nchallenges ||
	    a->ndns_resolvers != b->ndns_resolvers)
		return false;
	for (size_t i = 0; i < a->nchallenges; i++)
		if (a->challenges[i] != b->challenges[i])
			return false;
	for (size_t i = 0; i < a->ndns_resolvers; i++)
		if (strcmp(a->dns_resolvers[i], b->dns_resolvers[i]) != 0)
			return false;
	return true;
}

/* The worker pool: jobs taken in order by up to --jobs threads. */
struct pool {
	pthread_mutex_t lock;
	struct renewal **jobs;
	size_t n, next;
};

static void *
worker(void *arg)
{
	struct pool *pool = arg;
	struct renewal *ren;

	for (;;) {
		pthread_mutex_lock(&pool->lock);
		ren = pool->next < pool->n ? pool->jobs[pool->next++] : NULL;
		pthread_mutex_unlock(&pool->lock);
		if (ren == NULL || sig_pending())
			return NULL;
		ren->rc = issue_job_run(ren->sess, &ren->job);
		if (ren->rc != 0)
			renewal_failed(ren, ren->rc);
	}
}

/* Renew the certificates of one group through its session's pool. */
static void
run_pool(const struct certo_cli *cli, struct renewal **group, size_t n,
    struct session *sess)
{
	struct pool pool = { .jobs = group, .n = n };
	pthread_t threads[64];
	unsigned want = cli->jobs < n ? cli->jobs : (unsigned)n, started = 0;

	pthread_mutex_init(&pool.lock, NULL);
	for (size_t i = 0; i < n; i++) {
		struct renewal *ren = group[i];

		ren->sess = sess;
		ren->job.params = &ren->cert.cfg.params;
		ren->job.replaces = ren->cert.ari_offered ? ren->cert.ari_id :
		    NULL;
		ren->job.dry_run = cli->dry_run;
	}
	if (want <= 1) {
		worker(&pool);
	} else {
		for (unsigned i = 0; i < want && i < 64; i++)
			if (pthread_create(&threads[i], NULL, worker, &pool) == 0)
				started++;
		if (started == 0)
			worker(&pool);
		for (unsigned i = 0; i < started; i++)
			pthread_join(threads[i], NULL);
	}
	pthread_mutex_destroy(&pool.lock);
}

/*
 * Renew one group (same CA and solver settings): its session connected
 * with the group's solver and the first one's account options, the
 * certificates renewed, the solver stopped.  A group that cannot start
 * fails as a whole.
 */
static void
renew_group(struct pass *pass, struct renewal **group, size_t n)
{
	const struct issue_params *lead = &group[0]->cert.cfg.params;
	struct session_needs needs = { 0 };
	struct account_opts acct;
	struct session *sess = NULL;
	char *msg;
	int rc;

	params_account_opts(lead, &acct);
	needs.account = SESSION_ACCOUNT_USE;
	needs.account_opts = &acct;
	needs.profile = lead->profile;
	needs.solve = lead;
	if ((rc = stored_session(&pass->sessions, pass->cli, &group[0]->cert,
	    &sess)) == 0 && (rc = session_connect(sess, &needs)) == 0) {
		run_pool(pass->cli, group, n, sess);
		session_stop_solver(sess);
		return;
	}
	if (sess != NULL)
		session_stop_solver(sess);
	msg = strdup(certo_errmsg() ? certo_errmsg() : certo_strerror(rc));
	for (size_t k = 0; k < n; k++) {
		certo_errclear();
		certo_fail(rc, "%s", msg ? msg : certo_strerror(rc));
		renewal_failed(group[k], rc);
	}
	free(msg);
}

/* Is url the directory of a CA's known staging environment? */
static bool
is_staging(const char *url)
{
	for (const char *const *n = directory_names(); *n; n++)
		if (strstr(*n, "-staging") != NULL &&
		    strcmp(directory_url_for(*n), url) == 0)
			return true;
	return false;
}

/*
 * renew --dry-run: switch ren to its CA's staging directory (or
 * --dry-run-server), and give it what the production account was made
 * with, so that the staging account can be created.  A CA without a
 * known staging directory is refused: a dry run never issues for real.
 */
static int
dry_run_target(const struct certo_cli *cli, const char *state,
    struct renewal *ren)
{
	struct issue_params *params = &ren->cert.cfg.params;
	const char *prod = params->server, *stg = cli->dry_run_server;
	char shown[512];
	bool agreed = false;
	int rc;

	if (stg == NULL)
		stg = directory_staging_for(prod);
	if (stg == NULL && is_staging(prod))
		stg = prod;
	if (stg == NULL)
		return certo_fail(CERTO_EUSAGE, "--dry-run: no staging directory "
		    "is known for %s, and a dry run never asks the real CA; pass "
		    "--dry-run-server URL (a test instance of that CA)",
		    log_str(shown, sizeof(shown), prod));
	if ((rc = account_remembered(state, prod, &agreed, &params->emails,
	    &params->nemails)) != 0)
		return rc;
	params->agree_tos = params->agree_tos || agreed;
	return params_set_str(&params->server, stg);
}

/*
 * The options of ren for this run: --agree-tos and --email of the renew
 * command line (else what dry_run_target() remembered), its deploy hook
 * and hook timeout over the stored ones.
 */
static int
run_options(const struct certo_cli *cli, struct renewal *ren)
{
	struct issue_params *params = &ren->cert.cfg.params;
	int rc;

	if (cli->deploy_hook != NULL &&
	    (rc = params_set_str(&params->deploy_hook, cli->deploy_hook)) != 0)
		return rc;
	if (cli->hook_timeout_s > 0)
		params->hook_timeout_s = cli->hook_timeout_s;
	/* The store of this run (challenges with store_challenges). */
	if ((rc = params_set_str(&params->store, cli->store)) != 0)
		return rc;
	params->agree_tos = params->agree_tos || cli->agree_tos;
	if (cli->nemails == 0)
		return 0;
	for (size_t i = 0; i < params->nemails; i++)
		free(params->emails[i]);
	free(params->emails);
	params->emails = NULL;
	params->nemails = 0;
	if ((params->emails = calloc(cli->nemails, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	for (; params->nemails < cli->nemails; params->nemails++)
		if ((params->emails[params->nemails] = strdup(
		    cli->emails[params->nemails])) == NULL)
			return CERTO_ENOMEM;
	return 0;
}

/* renew --name NAME: does NAME (as given, or normalised) name this one? */
static bool
wanted_name(const struct certo_cli *cli, char *const *want, const char *name)
{
	if (cli->nonly == 0)
		return true;
	for (size_t k = 0; k < cli->nonly; k++)
		if (strcmp(cli->only[k], name) == 0 ||
		    (want[k] != NULL && strcmp(want[k], name) == 0))
			return true;
	return false;
}

/*
 * A deploy hook that failed (or was cut short) in an earlier run left a
 * mark in the live directory (store_deploy_mark): run it again now, due
 * or not.  Returns 0 (also when nothing was pending) or the failure,
 * reported like a failed renewal.
 */
static int
deploy_retry(const char *state, struct renewal *ren)
{
	char *live = NULL;
	int rc;

	if (asprintf(&live, "%s/live/%s", state, ren->cert.name) < 0)
		return CERTO_ENOMEM;
	if (!store_deploy_pending(live)) {
		free(live);
		return 0;
	}
	if (ren->cert.cfg.params.deploy_hook == NULL) {
		/* The hook was dropped since: nothing to retry. */
		rc = store_deploy_mark(live, NULL);
	} else {
		log_event("deploy_retry", NULL, "renew: %s: running the deploy "
		    "hook %s", ren->cert.name, store_deploy_from_store(live) ?
		    "of the set brought in from the store" : "that failed earlier");
		rc = issue_deploy(&ren->cert.cfg.params, live);
	}
	if (rc != 0)
		renewal_failed(ren, rc);
	free(live);
	return rc;
}

/* The stored certificates' names; each becomes a renewal of pass. */
static int
list_stored(struct pass *pass)
{
	char **names = NULL;
	size_t failed = 0;
	int rc;

	/* --store: the store's sets first (store_remote.h). */
	if ((rc = store_state_dir(pass->cli->state_dir, &pass->state)) != 0 ||
	    (rc = store_remote_sync_all(pass->state, NULL, &failed)) != 0 ||
	    (rc = store_list(pass->state, &names, &pass->n)) != 0)
		return rc;
	pass->failed += failed;
	pass->names = names;
	/*
	 * Only what is kept is in memory (at most every set); the index
	 * spares reading the sets that are not due (not with --force or
	 * --dry-run: all of them are).
	 */
	if (pass->n > 0 && ((pass->certs = calloc(pass->n,
	    sizeof(*pass->certs))) == NULL || (pass->due = calloc(pass->n,
	    sizeof(*pass->due))) == NULL)) {
		for (size_t i = 0; i < pass->n; i++)
			free(names[i]);
		free(names);
		pass->names = NULL;
		pass->failed = pass->n;
		pass->n = 0;
		return 0;
	}
	/* Out of memory for the index: every set read from its files. */
	if (!pass->cli->force && !pass->cli->dry_run &&
	    store_index_open(pass->state, &pass->idx) != 0)
		certo_errclear();
	return 0;
}

/* "renew_skipped": ren is not due; pass->next may come earlier. */
static void
not_due(struct pass *pass, const struct renewal *ren)
{
	const struct stored *cert = &ren->cert;
	struct json_object *fields = json_object_new_object();
	char when[32];

	stored_time(cert->due, when, sizeof(when));
	json_object_object_add(fields, "name", json_object_new_string(
	    cert->name));
	json_object_object_add(fields, "due", json_object_new_string(when));
	log_event("renew_skipped", fields, "renew: %s not due until %s%s",
	    cert->name, when, cert->has_ari ? " (ARI window)" : "");
	pass->notdue++;
	if (cert->due < pass->next)
		pass->next = cert->due;
	if (cert->check_again && cert->check_again < pass->next)
		pass->next = cert->check_again;
}

/*
 * Decide whether ren (its name set) is due, asking the CA's
 * renewalInfo when it offers it (stored_fetch_due); a set the index
 * knows is read only when it is due.  Returns true when ren is kept in
 * the pass: due (then in pass->due), failed, or with a deploy hook to
 * run again.
 */
static bool
fetch_due_one(struct pass *pass, struct renewal *ren)
{
	const struct certo_cli *cli = pass->cli;
	struct session *sess = NULL;
	int rc;

	if ((rc = stored_load_indexed(pass->state, pass->idx,
	    &ren->cert)) != 0 || (cli->dry_run && (rc = dry_run_target(cli,
	    pass->state, ren)) != 0)) {
		renewal_failed(ren, rc);
		pass->failed++;
		return true;
	}
	/* No session: the lifetime rule decides. */
	if (stored_session(&pass->sessions, cli, &ren->cert, &sess) != 0)
		certo_errclear();
	stored_fetch_due(&ren->cert, sess, NULL, cli->force || cli->dry_run);
	if (!ren->cert.is_due) {
		not_due(pass, ren);
		if (!stored_deploy_pending(pass->state, &ren->cert))
			return false;
	}
	/* Renewed, or its deploy hook run again: all of it, this run's way. */
	if ((rc = stored_load_full(pass->state, &ren->cert)) != 0 ||
	    (rc = run_options(cli, ren)) != 0) {
		renewal_failed(ren, rc);
		pass->failed++;
		ren->cert.is_due = false;
		return true;
	}
	if (ren->cert.is_due)
		pass->due[pass->ndue++] = ren;
	return true;
}

/*
 * Decide for each wanted set whether it is due; only the ones kept
 * (fetch_due_one) stay in memory.
 */
static void
fetch_due_all(struct pass *pass)
{
	struct renewal *ren;

	for (size_t i = 0; i < pass->n; i++) {
		if (!wanted_name(pass->cli, pass->want, pass->names[i])) {
			if (pass->idx != NULL)
				store_index_pass(pass->idx, pass->names[i]);
			continue;
		}
		if ((ren = calloc(1, sizeof(*ren))) == NULL) {
			pass->failed++;
			continue;
		}
		ren->cert.name = pass->names[i]; /* ownership moves */
		pass->names[i] = NULL;
		if (fetch_due_one(pass, ren)) {
			pass->certs[pass->ncerts++] = ren;
			continue;
		}
		renewal_free(ren);
		free(ren);
	}
	store_index_close(pass->idx, true);
	pass->idx = NULL;
}

/* Renew the due ones, grouped by shared CA and solver settings. */
static void
renew_due(struct pass *pass)
{
	struct renewal **group;

	if (pass->ndue == 0 ||
	    (group = calloc(pass->ndue, sizeof(*group))) == NULL)
		return;
	/* Hosts sharing a store start on different certificates. */
	store_remote_shuffle((void **)pass->due, pass->ndue);
	for (size_t i = 0; i < pass->ndue; i++) {
		size_t n = 0;

		if (pass->due[i]->handled)
			continue;
		for (size_t k = i; k < pass->ndue; k++)
			if (!pass->due[k]->handled &&
			    same_env(&pass->due[i]->cert.cfg.params,
			    &pass->due[k]->cert.cfg.params))
				group[n++] = pass->due[k];
		renew_group(pass, group, n);
		for (size_t k = 0; k < n; k++) {
			group[k]->handled = true;
			group[k]->sess = NULL;
		}
	}
	free(group);
}

/* Count what the due ones came to; the next due time of the renewed. */
static void
count_due(struct pass *pass)
{
	for (size_t i = 0; i < pass->ndue; i++) {
		const struct renewal *ren = pass->due[i];
		time_t life;

		/* Stored and live: only its deploy hook failed. */
		if (ren->rc != 0 && ren->job.deploy_failed)
			pass->deploy_failed++;
		else if (ren->rc != 0) {
			pass->failed++;
			continue;
		}
		pass->renewed++;
		if (ren->job.not_after) {
			life = ren->job.not_after - time(NULL);
			if (ren->job.not_after - life / 3 < pass->next)
				pass->next = ren->job.not_after - life / 3;
		}
	}
}

/* "renew_failed" (--json): one per certificate or name that failed. */
static void
event_failed(const char *name, int rc, const char *msg)
{
	struct json_object *fields;

	if (!log_get_json())
		return;
	fields = json_object_new_object();
	json_object_object_add(fields, "name", json_object_new_string(name));
	json_object_object_add(fields, "code",
	    json_object_new_string(certo_errname(rc)));
	json_object_object_add(fields, "exit",
	    json_object_new_int(certo_exitcode(rc)));
	log_event("renew_failed", fields, "%s", msg ? msg : certo_strerror(rc));
}

/*
 * "renew_done": the counts (with_deploy: the failed deploy hooks' too)
 * and the exit code.
 */
static void
event_done(const struct pass *pass, bool with_deploy, int code,
    const char *text)
{
	struct json_object *fields = json_object_new_object();

	json_object_object_add(fields, "renewed",
	    json_object_new_int64((int64_t)pass->renewed));
	json_object_object_add(fields, "failed",
	    json_object_new_int64((int64_t)pass->failed));
	json_object_object_add(fields, "not_due",
	    json_object_new_int64((int64_t)pass->notdue));
	if (with_deploy)
		json_object_object_add(fields, "deploy_failed",
		    json_object_new_int64((int64_t)pass->deploy_failed));
	json_object_object_add(fields, "exit", json_object_new_int(code));
	log_event("renew_done", fields, "%s", text);
}

/* The pass's events and its exit code. */
static int
report(const struct pass *pass)
{
	char text[256], dep[96] = "";
	int code;

	/* With --json, one event per failure, then the counts. */
	for (size_t i = 0; i < pass->ncerts; i++)
		if (pass->certs[i]->rc != 0)
			event_failed(pass->certs[i]->cert.name, pass->certs[i]->rc,
			    pass->certs[i]->errmsg);
	code = sig_pending() ? CERTO_EXIT_INTR :
	    pass->failed + pass->deploy_failed > 0 ? RENEW_EXIT_FAILED :
	    pass->renewed > 0 ? RENEW_EXIT_RENEWED : RENEW_EXIT_NOTHING;
	if (pass->deploy_failed > 0)
		snprintf(dep, sizeof(dep), ", %zu deploy hook%s failed (retried "
		    "on the next renew)", pass->deploy_failed,
		    pass->deploy_failed == 1 ? "" : "s");
	snprintf(text, sizeof(text), "renew: %zu renewed, %zu failed, %zu not "
	    "due%s", pass->renewed, pass->failed, pass->notdue, dep);
	event_done(pass, true, code, text);
	return code;
}

/*
 * Keep what the pass came to for certo list --prometheus (not for a dry
 * run: nothing was stored).  A failure to write is a warning only.
 */
static void
keep_status(const struct pass *pass, int code)
{
	struct store_renew_status st = {
		.time = time(NULL), .exit_code = code, .renewed = pass->renewed,
		.failed = pass->failed, .not_due = pass->notdue,
		.deploy_failed = pass->deploy_failed,
	};

	if (pass->cli->dry_run || pass->state == NULL)
		return;
	if (store_renew_status_save(pass->state, &st) != 0)
		log_warn("renew: the result of this run is not kept for certo "
		    "list --prometheus: %s", certo_errmsg() ? certo_errmsg() :
		    "error");
	certo_errclear();
}

/* One pass: returns the RENEW_EXIT code; *next is when to look again. */
static int
renew_pass(const struct certo_cli *cli, char *const *want, time_t *next)
{
	struct pass pass;
	int rc, code;

	memset(&pass, 0, sizeof(pass));
	pass.cli = cli;
	pass.want = want;
	pass.next = time(NULL) + 12 * 3600;
	if ((rc = list_stored(&pass)) != 0) {
		log_error("%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
		certo_errclear();
		free(pass.state);
		*next = pass.next;
		return RENEW_EXIT_FAILED;
	}
	fetch_due_all(&pass);
	renew_due(&pass);
	count_due(&pass);
	/* Deploy hooks that failed in an earlier run, due or not. */
	for (size_t i = 0; i < pass.ncerts && !cli->dry_run && !sig_pending();
	    i++)
		if (pass.certs[i]->cert.loaded && pass.certs[i]->job.live == NULL &&
		    deploy_retry(pass.state, pass.certs[i]) != 0)
			pass.deploy_failed++;
	code = report(&pass);
	keep_status(&pass, code);
	*next = pass.next;
	session_set_free(&pass.sessions);
	store_index_close(pass.idx, false);
	for (size_t i = 0; i < pass.ncerts; i++) {
		renewal_free(pass.certs[i]);
		free(pass.certs[i]);
	}
	for (size_t i = 0; i < pass.n; i++)
		free(pass.names[i]);
	free(pass.names);
	free(pass.certs);
	free(pass.due);
	free(pass.state);
	return code;
}

/*
 * renew --name NAME not stored: an error (exit 1), not a silent "nothing
 * due".  want is NAME normalised (or NULL when it is not a name).
 */
static void
unknown_name(const char *name, const char *want)
{
	char shown[300], alabel[300] = "";

	log_str(shown, sizeof(shown), name);
	if (want != NULL && strcmp(want, name) != 0)
		snprintf(alabel, sizeof(alabel), " (looked for %s)", want);
	certo_fail(CERTO_EUSAGE, "renew: no stored certificate is named '%s'%s; "
	    "certo list shows the stored ones", shown, alabel);
	event_failed(shown, CERTO_EUSAGE, certo_errmsg());
	log_error("%s", certo_errmsg());
	certo_errclear();
}

/*
 * renew --name: each NAME normalised as issue stores names (Unicode to
 * A-labels: "bücher.example" finds live/xn--bcher-kva.example), and
 * every one must name a stored certificate: a typo in a cron line is an
 * error (exit 1), not a silent "nothing due".
 */
static int
resolve_names(const struct certo_cli *cli, char ***want)
{
	struct pass none;
	char **names = NULL, *state = NULL, text[128];
	size_t n = 0, unknown = 0;
	int rc;

	*want = NULL;
	if (cli->nonly == 0)
		return RENEW_EXIT_NOTHING;
	if ((*want = calloc(cli->nonly, sizeof(char *))) == NULL)
		return RENEW_EXIT_FAILED;
	if ((rc = store_state_dir(cli->state_dir, &state)) != 0 ||
	    (rc = store_remote_sync_all(state, NULL, NULL)) != 0 ||
	    (rc = store_list(state, &names, &n)) != 0) {
		log_error("%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
		certo_errclear();
		free(state);
		return RENEW_EXIT_FAILED;
	}
	for (size_t k = 0; k < cli->nonly; k++) {
		bool found = false;
		if (params_normalize_name(cli->only[k], &(*want)[k]) != 0)
			certo_errclear(); /* not a name: only an exact match */
		for (size_t i = 0; i < n && !found; i++)
			found = strcmp(cli->only[k], names[i]) == 0 ||
			    ((*want)[k] != NULL && strcmp((*want)[k], names[i]) == 0);
		if (!found) {
			unknown++;
			unknown_name(cli->only[k], (*want)[k]);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(state);
	if (unknown == 0)
		return RENEW_EXIT_NOTHING;
	memset(&none, 0, sizeof(none));
	none.failed = unknown;
	snprintf(text, sizeof(text), "renew: nothing renewed: %zu unknown "
	    "name%s given with --name", unknown, unknown == 1 ? "" : "s");
	event_done(&none, false, RENEW_EXIT_FAILED, text);
	return RENEW_EXIT_FAILED;
}

static void
free_names(char **want, size_t n)
{
	for (size_t k = 0; k < n && want != NULL; k++)
		free(want[k]);
	free(want);
}

/* renew, and with --loop again at the next due time. */
static int
renew_loop(const struct certo_cli *cli, char *const *want)
{
	time_t next;
	int code;

	for (;;) {
		code = renew_pass(cli, want, &next);
		if (!cli->loop || code == CERTO_EXIT_INTR)
			return code;
		/* Sidecar mode: sleep until the earliest due time. */
		long secs = (long)(next - time(NULL));
		if (secs < 60)
			secs = 60;
		log_event("renew_sleep", NULL, "renew: next check in %ld s", secs);
		while (secs > 0) {
			long step = secs > 3600 ? 3600 : secs;
			if (sig_sleep_ms(step * 1000) != 0) {
				certo_errclear();
				if (sig_take() == SIGHUP) {
					log_event("renew_reload", NULL, "renew: SIGHUP, "
					    "re-reading the state");
					break;
				}
				return 0; /* SIGTERM/SIGINT: clean exit */
			}
			secs -= step;
		}
	}
}

int
renew_run(const struct certo_cli *cli)
{
	char **want = NULL;
	int code;

	if ((code = resolve_names(cli, &want)) == RENEW_EXIT_NOTHING)
		code = renew_loop(cli, want);
	free_names(want, cli->nonly);
	return code;
}
