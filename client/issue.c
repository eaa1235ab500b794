/*
 * The order driver: one struct per order through one state machine
 * (OpenBSD acme-client's netproc.c): while the order is neither valid nor
 * invalid, act on its status.  This is the only file that knows the order
 * of the stages; the stages never call each other (the authorization
 * stage lives in stage_authorize.c).
 */
#include "issue.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "certificate.h"
#include "config.h"
#include "csr.h"
#include "errors.h"
#include "finalize.h"
#include "hook.h"
#include "issue_priv.h"
#include "key.h"
#include "log.h"
#include "order.h"
#include "polling.h"
#include "publish.h"
#include "ratelimit.h"
#include "request.h"
#include "stored.h"
#include "store.h"

/* READY: the certificate key (made with the order) signs a CSR. */
static int
stage_finalize(struct issue *issue)
{
	const struct certo_order *order = &issue->order;
	const char *csr = issue->csr_b64;
	int rc;

	if ((rc = finalize_order(&issue->req, &issue->order, issue->cert_key,
	    csr, issue->params->must_staple)) != 0)
		return rc;
	log_event("finalize", NULL, "finalize: CSR for %zu name%s sent%s%s%s, "
	    "order %s", order->nnames, order->nnames == 1 ? "" : "s",
	    csr ? "" : " (", csr ? "" : key_type_name(key_get_type(
	    issue->cert_key)), csr ? "" : " key)",
	    order_status_name(order->status));
	return 0;
}

static int
order_failed(const struct certo_order *order)
{
	struct certo_buf why;
	int rc;

	buf_init(&why, 8192);
	if (order->error != NULL)
		problem_format(order->error, &why);
	rc = certo_fail(CERTO_EINVALID, "the order is invalid%s%s",
	    why.data ? ": " : "", why.data ? why.data : "");
	buf_free(&why);
	return rc;
}

/* A pending order and no way to answer challenges (issue_verb.c). */
static int
pending_without_solver(const struct issue *issue)
{
	const struct issue_params *params = issue->params;
	char names[1024] = "";
	size_t n = 0;

	for (size_t i = 0; i < params->nnames && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, " -d %s",
		    params->names[i]);
	return certo_fail(CERTO_EPENDING, "the order for these names still "
	    "waits for its authorizations: finish certo authorize%s (with "
	    "--standalone, --responder, --webroot, --manual or a hook) first, "
	    "or give issue one of them", names);
}

/*
 * Run the order through its states until valid or invalid.  Each wait
 * on the CA is one poll (polling.h) started when the wait starts, so time
 * spent publishing, in hooks or in a manual DNS wait never counts
 * against the CA; a status change is progress.  Finalize is sent once
 * per ready order: a CA that still says "ready" afterwards is polled,
 * not asked again and again.
 */
static int
drive_order(struct issue *issue)
{
	struct certo_order *order = &issue->order;
	struct polling poll;
	enum order_status last = order->status;
	bool authorized = false, finalized = false;
	long retry_after = -1;
	int rc = 0;

	polling_start(&poll, "order", issue->sess->ca_timeout_s);
	while (order->status != ORDER_VALID && order->status != ORDER_INVALID) {
		if (order->status != last) {
			last = order->status;
			polling_progress(&poll);
		}
		switch (order->status) {
		case ORDER_PENDING:
			if (authorized)
				break;
			/* issue without a solver, to finish authorize's order. */
			if (issue->sess->solver.ops == NULL)
				return pending_without_solver(issue);
			/* Prove control of every identifier. */
			if ((rc = stage_authorize(issue)) != 0)
				return rc;
			publish_withdraw_all(&issue->published);
			authorized = true;
			polling_progress(&poll);
			/* The order turns ready once all are valid. */
			if ((rc = order_fetch(&issue->req, order, &retry_after)) !=
			    0)
				return rc;
			continue;
		case ORDER_READY:
			if (issue->job->authorize_only)
				return 0; /* proven; no certificate wanted */
			if (finalized)
				break;
			finalized = true;
			if ((rc = stage_finalize(issue)) != 0)
				return rc;
			retry_after = -1;
			continue;
		case ORDER_PROCESSING:
		default:
			break;
		}
		/* Wait for the CA, honouring Retry-After, then look again. */
		if ((rc = polling_wait(&poll, retry_after)) != 0 ||
		    (rc = order_fetch(&issue->req, order, &retry_after)) != 0)
			return rc;
	}
	if (order->status == ORDER_INVALID)
		return order_failed(order);
	if (order->certificate == NULL && !issue->job->authorize_only)
		return certo_fail(CERTO_EPROTO, "the order is valid but has no "
		    "certificate URL");
	return 0;
}

/*
 * VALID: download the chain; with --preferred-chain, look through the
 * alternate chains for one whose root has that issuer name.
 */
static int
stage_download(struct issue *issue)
{
	const char *want = issue->params->preferred_chain;
	struct certo_chain alt;
	char **alts = NULL;
	size_t nalts = 0;
	int rc;

	if ((rc = certificate_download(&issue->req, issue->order.certificate,
	    &issue->chain)) != 0)
		return rc;
	if (want == NULL || (issue->chain.top_issuer != NULL &&
	    strcmp(issue->chain.top_issuer, want) == 0))
		return 0;
	/* Take the alternate URLs over: the loop replaces issue->chain. */
	alts = issue->chain.alternates;
	nalts = issue->chain.nalternates;
	issue->chain.alternates = NULL;
	issue->chain.nalternates = 0;
	for (size_t i = 0; i < nalts && rc == 0; i++) {
		if ((rc = certificate_download(&issue->req, alts[i], &alt)) != 0)
			break;
		if (alt.top_issuer != NULL && strcmp(alt.top_issuer, want) == 0) {
			certificate_free(&issue->chain);
			issue->chain = alt; /* ownership moves to issue */
			log_event("chain_selected", NULL, "download: alternate chain "
			    "%zu of %zu ends at \"%s\"", i + 1, nalts, want);
			goto out;
		}
		certificate_free(&alt);
	}
	if (rc == 0)
		log_warn("no chain ends at \"%s\"; keeping the default chain",
		    want);
out:
	for (size_t i = 0; i < nalts; i++)
		free(alts[i]);
	free(alts);
	return rc;
}

/* The last lines of a run: where the set is, for which names, how long. */
static void
summary(const struct issue *issue)
{
	const struct certo_chain *chain = &issue->chain;
	const char *live = issue->job->live;
	char when[64], names[2048] = "";
	struct json_object *fields, *arr;
	struct tm tm;
	time_t left = chain->not_after - time(NULL);
	size_t n = 0;

	gmtime_r(&chain->not_after, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (size_t i = 0; i < chain->nsans && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
		    i ? ", " : "", chain->sans[i]);
	fields = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; i < chain->nsans; i++)
		json_object_array_add(arr, json_object_new_string(
		    chain->sans[i]));
	json_object_object_add(fields, "names", arr);
	json_object_object_add(fields, "not_after",
	    json_object_new_string(when));
	if (live == NULL) {
		log_event("certificate_checked", fields, "certificate: issued for "
		    "%s, expires %s (dry run: not stored)", names, when);
		return;
	}
	json_object_object_add(fields, "live_dir", json_object_new_string(live));
	/* --csr without --key: no privkey.pem was written. */
	log_event("certificate_saved", fields, "certificate: %s/fullchain.pem\n"
	    "  private key: %s%s\n"
	    "  certificate: %s/cert.pem, chain: %s/chain.pem\n"
	    "  names: %s\n  expires: %s (%ld days)", live,
	    issue->cert_key ? live : "none stored (--csr without --key)",
	    issue->cert_key ? "/privkey.pem" : "", live, live, names, when,
	    (long)(left / 86400));
}

/*
 * A resumed order that is not finalized yet takes the key this run asks
 * for (--key, --key-type: certo authorize saved its order with a default
 * key): made or loaded now, and saved with the order as one unit again.
 */
static int
fit_saved_key(struct issue *issue)
{
	const struct issue_params *params = issue->params;
	struct certo_key *want = NULL;
	int rc;

	if ((issue->order.status != ORDER_PENDING &&
	    issue->order.status != ORDER_READY) || (params->key_file == NULL &&
	    key_get_type(issue->cert_key) == params->key_type))
		return 0;
	if (params->key_file != NULL)
		rc = key_load(params->key_file, &want);
	else
		rc = key_generate(params->key_type, &want);
	if (rc == 0 && key_same_public(want, issue->cert_key))
		goto out; /* already this key */
	if (rc == 0 && key_same_public(want, issue->sess->acct.key))
		rc = certo_fail(CERTO_EUSAGE, "the certificate key must not be "
		    "the account key");
	if (rc == 0 && (rc = store_order_save(issue->order_dir, params->names,
	    params->nnames, issue->order.url, issue->sess->server, want)) == 0) {
		key_free(issue->cert_key);
		issue->cert_key = want; /* ownership moves to issue */
		want = NULL;
	}
out:
	key_free(want);
	return rc;
}

/*
 * A saved order for the same names and CA: fetch it and resume it
 * (Ctrl-C or a crash left it).  Invalid or vanished orders are discarded
 * and reported.
 */
static int
fetch_saved_order(struct issue *issue)
{
	char *url = NULL, shown[512];
	long retry_after;
	int rc;

	if ((rc = store_order_load(issue->order_dir, issue->sess->server, &url,
	    &issue->cert_key)) != 0) {
		/* Out of memory says nothing about the order: keep it. */
		if (rc == CERTO_ENOMEM)
			return rc;
		log_warn("ignoring the saved order in %s: %s", issue->order_dir,
		    certo_errmsg() ? certo_errmsg() : certo_strerror(rc));
		certo_errclear();
		store_order_remove(issue->order_dir);
		return 0;
	}
	if (url == NULL)
		return 0;
	issue->order.url = url;
	log_str(shown, sizeof(shown), url);
	rc = order_fetch(&issue->req, &issue->order, &retry_after);
	if (rc == CERTO_EINTR)
		return rc;
	if (rc != 0 || issue->order.status == ORDER_INVALID) {
		log_event("order_discarded", log_fields_url(shown),
		    "order: the saved order %s is %s; starting a new one", shown,
		    rc != 0 ? "gone" : "invalid");
		certo_errclear();
		free(issue->order.url);
		issue->order.url = NULL;
		key_free(issue->cert_key);
		issue->cert_key = NULL;
		store_order_remove(issue->order_dir);
		return 0;
	}
	issue->resumed = true;
	log_event("order_resumed", log_fields_url(shown), "order: resuming "
	    "%s (%s)", shown, order_status_name(issue->order.status));
	return fit_saved_key(issue);
}

/* POST a new order; its key is saved with it so that a rerun can resume. */
static int
post_new_order(struct issue *issue)
{
	const struct issue_params *params = issue->params;
	struct order_opts opts = { 0 };
	char shown[512];
	int rc;

	if (issue->cert_key == NULL && issue->csr_b64 == NULL) {
		if (params->key_file != NULL)
			rc = key_load(params->key_file, &issue->cert_key);
		else
			rc = key_generate(params->key_type, &issue->cert_key);
		if (rc != 0)
			return rc;
		/* Never the account key (RFC 8555 11.1). */
		if (key_same_public(issue->cert_key, issue->sess->acct.key))
			return certo_fail(CERTO_EUSAGE, "the certificate key must "
			    "not be the account key");
	}
	opts.not_before = params->not_before;
	opts.not_after = params->not_after;
	opts.profile = params->profile;
	opts.replaces = issue->job->replaces;
	if ((rc = order_new(&issue->req, &issue->sess->dir, &opts,
	    &issue->order)) != 0)
		return rc;
	log_str(shown, sizeof(shown), issue->order.url);
	if (issue->cert_key != NULL && (rc = store_order_save(issue->order_dir,
	    params->names, params->nnames, issue->order.url,
	    issue->sess->server, issue->cert_key)) != 0)
		return rc;
	log_event("order_created", log_fields_url(shown), "order: %s (%s, "
	    "%zu authorization%s)", shown, order_status_name(
	    issue->order.status), issue->order.nauthz, issue->order.nauthz == 1 ?
	    "" : "s");
	return 0;
}

int
issue_deploy(const struct issue_params *params, const char *live)
{
	long ms = params->hook_timeout_s > 0 ? params->hook_timeout_s * 1000 :
	    HOOK_TIMEOUT_MS;
	char msg[1200];
	int rc;

	/* Marked first: a hook cut short by a kill runs again, too. */
	if (store_deploy_mark(live, "the deploy hook has not run to the end "
	    "yet\n") != 0) {
		log_warn("%s", certo_errmsg());
		certo_errclear();
	}
	if ((rc = hook_run_deploy(params->deploy_hook, live, params->names,
	    params->nnames, ms)) != 0) {
		snprintf(msg, sizeof(msg), "%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
		certo_errclear();
		if (store_deploy_mark(live, msg) != 0)
			certo_errclear();
		return certo_fail(rc, "%s; the certificate in %s is live all the "
		    "same, and the next `certo renew` runs the deploy hook again",
		    msg, live);
	}
	if ((rc = store_deploy_mark(live, NULL)) != 0)
		return rc;
	log_event("deployed", NULL, "deploy: %s ran", params->deploy_hook);
	return 0;
}

/*
 * The order's identifiers must be exactly what was asked for: each one
 * ordered, as many as ordered (a CA adding or swapping a name is refused
 * before anything is published for it).
 */
static int
check_order_idents(const struct issue *issue)
{
	const struct certo_order *order = &issue->order;
	const struct issue_params *params = issue->params;
	int rc;

	for (size_t i = 0; i < order->nidents; i++)
		if ((rc = authz_check_ident(&order->idents[i], false, params->names,
		    params->nnames, NULL)) != 0)
			return rc;
	if (order->nidents != params->nnames || order->nauthz > params->nnames)
		return certo_fail(CERTO_EPROTO, "the CA's order has %zu "
		    "identifiers and %zu authorizations for %zu names ordered",
		    order->nidents, order->nauthz, params->nnames);
	return 0;
}

/*
 * Forget a resumed order that cannot be completed (and its saved state
 * and key), so that post_new_order() starts afresh; the names stay.
 */
static void
restart_order(struct issue *issue, const char *why)
{
	char shown[512];
	char **names = issue->order.names;
	size_t nnames = issue->order.nnames;

	log_str(shown, sizeof(shown), issue->order.url);
	log_event("order_discarded", log_fields_url(shown), "order: the saved "
	    "order %s %s; starting a new one", shown, why);
	certo_errclear();
	publish_withdraw_all(&issue->published);
	issue->order.names = NULL; /* borrowed from the job: not order_free's */
	issue->order.nnames = 0;
	order_free(&issue->order);
	issue->order.names = names;
	issue->order.nnames = nnames;
	key_free(issue->cert_key); /* post_new_order() makes or loads one */
	issue->cert_key = NULL;
	certificate_free(&issue->chain);
	store_order_remove(issue->order_dir);
	issue->resumed = false;
}

/* A new order, checked, driven to its end. */
static int
new_order_driven(struct issue *issue)
{
	int rc;

	if ((rc = post_new_order(issue)) != 0 ||
	    (rc = check_order_idents(issue)) != 0)
		return rc;
	return drive_order(issue);
}

/*
 * An order for the job's names driven to valid (authorize: ready): a
 * saved one resumed (unless --csr, which always starts afresh; authorize
 * and issue share the saved order, as manuale's do), else a new one.
 * A saved order whose challenge failed in an earlier run is
 * replaced by a new one, once.
 */
static int
run_order(struct issue *issue)
{
	int rc;

	if (issue->params->csr_file == NULL &&
	    (rc = fetch_saved_order(issue)) != 0)
		return rc;
	if (issue->order.url == NULL)
		return new_order_driven(issue);
	if ((rc = check_order_idents(issue)) != 0)
		return rc;
	if ((rc = drive_order(issue)) != ISSUE_RESTART)
		return rc;
	restart_order(issue, "had a challenge fail in an earlier run");
	return new_order_driven(issue);
}

/*
 * The certificate of the valid order, checked to be for our key and
 * exactly our names.  A resumed order finalized with another key (saved
 * by a certo before key and URL were one unit) starts over, once.
 */
static int
download_certificate(struct issue *issue)
{
	const struct issue_params *params = issue->params;
	int rc;

	if ((rc = stage_download(issue)) != 0)
		return rc;
	rc = certificate_check(&issue->chain, issue->cert_key, params->names,
	    params->nnames);
	if (rc == 0 || !issue->resumed)
		return rc;
	restart_order(issue, "has a certificate that is not for its saved key "
	    "or names");
	if ((rc = new_order_driven(issue)) != 0 ||
	    (rc = stage_download(issue)) != 0)
		return rc;
	return certificate_check(&issue->chain, issue->cert_key, params->names,
	    params->nnames);
}

/* authorize: the authorizations, saved under certo's own names. */
static int
save_authorizations(struct issue *issue)
{
	const struct certo_order *order = &issue->order;
	const struct issue_params *params = issue->params;
	char *config = NULL;
	int rc;

	/* How they were proven, for an issue without a way (issue_verb.c). */
	if ((rc = config_serialize(params, &config)) != 0 ||
	    (rc = store_order_put_config(issue->order_dir, config)) != 0) {
		free(config);
		return rc;
	}
	free(config);

	/* Saved under certo's own copy of each name, never the CA's. */
	for (size_t i = 0; i < order->nauthz && order->authzs; i++) {
		const struct certo_authz *authz = &order->authzs[i];
		size_t k;

		if (authz->url == NULL)
			continue;
		if ((rc = authz_check_ident(&authz->ident, authz->wildcard,
		    params->names, params->nnames, &k)) != 0 ||
		    (rc = store_authz_save(issue->sess->state, issue->sess->ca_id,
		    params->names[k], authz->url)) != 0)
			return rc;
	}
	log_event("authorized", NULL, "authorize: %zu name%s proven; "
	    "certo issue reuses the authorizations while they are valid",
	    params->nnames, params->nnames == 1 ? "" : "s");
	return 0;
}

/*
 * Store the set (not for a dry run), forget the saved order, say where
 * it is, run the deploy hook.
 */
static int
store_certificate(struct issue *issue)
{
	const struct issue_params *params = issue->params;
	struct issue_job *job = issue->job;
	char *config = NULL;
	int rc;

	log_event("downloaded", NULL, "download: %zu certificate%s",
	    issue->chain.ncerts, issue->chain.ncerts == 1 ? "" : "s");
	if (params->must_staple && !certificate_must_staple(&issue->chain))
		log_warn("the CA issued the certificate without the must-staple "
		    "(TLS Feature) extension that --must-staple asked for");
	job->not_after = issue->chain.not_after;
	if (!job->dry_run) {
		rc = config_serialize(params, &config);
		if (rc == 0)
			rc = store_commit(issue->sess->state, params->names[0],
			    issue->cert_key, &issue->chain, config, &job->live);
		free(config);
		if (rc != 0)
			return rc;
	}
	store_order_remove(issue->order_dir);
	summary(issue);
	if (job->dry_run || params->deploy_hook == NULL)
		return 0;
	if ((rc = issue_deploy(params, job->live)) != 0)
		job->deploy_failed = true;
	return rc;
}

/*
 * Before the order: this order's request, the --csr (and --key) files,
 * the rate-limit memory for these names (--force: not honoured), and
 * where a saved order of these names lives.
 */
static int
prepare(struct issue *issue)
{
	const struct issue_params *params = issue->params;
	struct session *sess = issue->sess;
	int rc;

	if ((rc = session_request(sess, &issue->req)) != 0)
		return rc;
	if (params->csr_file != NULL) {
		char **names = NULL;
		size_t n = 0;
		if ((rc = csr_load(params->csr_file, &names, &n,
		    &issue->csr_b64)) != 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		if (params->key_file != NULL &&
		    (rc = key_load(params->key_file, &issue->cert_key)) != 0)
			return rc;
	}
	if (!sess->force && (rc = ratelimit_check(sess->state, sess->ca_id,
	    RATELIMIT_ORDER, params->names, params->nnames, NULL)) != 0)
		return rc;
	issue->order.names = params->names; /* borrowed: cleared before free */
	issue->order.nnames = params->nnames;
	return store_order_dir(sess->state, params->names, params->nnames,
	    &issue->order_dir);
}

/* Every exit path: withdraw, remember a rate limit, free. */
static void
finish(struct issue *issue)
{
	const struct issue_params *params = issue->params;

	publish_withdraw_all(&issue->published);
	if (issue->req.rate_limited_until != 0) {
		/* Remembered for these names only (ratelimit.h). */
		ratelimit_add(issue->sess->state, issue->sess->ca_id,
		    RATELIMIT_ORDER, params->names, params->nnames,
		    issue->req.rate_limited_until, certo_errmsg());
	}
	log_debug("%u requests to the CA", issue->req.requests);
	issue->order.names = NULL;
	issue->order.nnames = 0;
	order_free(&issue->order);
	request_free(&issue->req);
	key_free(issue->cert_key);
	certificate_free(&issue->chain);
	free(issue->csr_b64);
	free(issue->order_dir);
}

int
issue_job_run(struct session *sess, struct issue_job *job)
{
	struct issue issue;
	struct store_lock lock = STORE_LOCK_INIT;
	bool fresh = false;
	int rc;

	memset(&issue, 0, sizeof(issue));
	issue.sess = sess;
	issue.job = job;
	issue.params = job->params;
	publish_init(&issue.published, &sess->solver);
	if ((rc = prepare(&issue)) != 0)
		goto out;
	/* One run at a time per certificate (others wait: store.h). */
	if ((rc = store_lock_cert(sess->state, issue.params->names[0],
	    issue.params->names, issue.params->nnames, &lock)) != 0)
		goto out;
	/* The run we waited for may have stored these very names. */
	if (lock.waited && !sess->force && !job->authorize_only &&
	    !job->dry_run && ((rc = stored_fetch_fresh(sess, &issue.req,
	    issue.params, &fresh)) != 0 || fresh))
		goto out;
	rc = run_order(&issue);
	/* What the CA last said, for certo orders, of an order that stays
	 * saved (a valid one is removed once stored; a failure kept first). */
	if ((rc != 0 || job->authorize_only) &&
	    store_order_note(issue.order_dir, &issue.order) != 0 && rc == 0)
		certo_errclear();
	if (rc != 0)
		goto out;
	if (job->authorize_only)
		rc = save_authorizations(&issue);
	else if ((rc = download_certificate(&issue)) == 0)
		rc = store_certificate(&issue);
out:
	finish(&issue);
	store_unlock(&lock);
	return rc;
}

void
issue_job_free(struct issue_job *job)
{
	if (job == NULL)
		return;
	free(job->live);
	job->live = NULL;
}
