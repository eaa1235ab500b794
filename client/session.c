/*
 * The session with one CA: state directory -> CA id -> accounts/<ca> ->
 * request -> directory -> account, the same for every verb.
 */
#include "session.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "file.h"
#include "hook.h"
#include "log.h"
#include "params.h"
#include "privsep.h"
#include "ratelimit.h"

int
session_open(const struct session_opts *opts, struct session *sess)
{
	int rc;

	memset(sess, 0, sizeof(*sess));
	sess->acct_lock = (struct store_lock)STORE_LOCK_INIT;
	sess->opened = true;
	sess->force = opts->force;
	sess->ca_timeout_s = opts->ca_timeout_s;
	sess->http.allow_http = opts->allow_http;
	if ((sess->server = strdup(opts->server)) == NULL ||
	    (opts->ca_bundle != NULL &&
	    (sess->ca_bundle = strdup(opts->ca_bundle)) == NULL))
		return CERTO_ENOMEM;
	sess->http.ca_bundle = sess->ca_bundle;
	if ((rc = store_state_dir(opts->state_dir, &sess->state)) != 0 ||
	    (rc = account_ca_id(opts->server, &sess->ca_id)) != 0)
		return rc;
	/* The CA's directory and trusted root are kept there (cache.h). */
	sess->http.cache_dir = sess->state;
	if (asprintf(&sess->acct_dir, "%s/accounts/%s", sess->state,
	    sess->ca_id) < 0) {
		sess->acct_dir = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

/* Is there an account (its key) in the session's account directory? */
static bool
account_exists(const struct session *sess)
{
	char *path = file_join(sess->acct_dir, "account.key");
	bool yes = path != NULL && file_exists(path);

	free(path);
	return yes;
}

/* Manual mode or hooks: the DNS-01 check settings come from params. */
static int
start_external(struct session *sess, const struct issue_params *params)
{
	struct solver_external_opts xopts;
	bool manual = params->mode == SOLVE_MANUAL;
	int rc;

	memset(&xopts, 0, sizeof(xopts));
	xopts.types = params->challenges;
	xopts.ntypes = params->nchallenges;
	xopts.manual = manual;
	xopts.dns_hook = params->dns_hook;
	xopts.http_hook = params->http_hook;
	xopts.dns.timeout_ms = (params->dns_timeout_s >= 0 ? params->dns_timeout_s :
	    manual ? 600 : 120) * 1000;
	xopts.dns.interval_ms = params->dns_interval_s * 1000;
	xopts.dns.wait_extra_ms = params->dns_wait_extra_s * 1000;
	xopts.http_timeout_ms = params->http_timeout_s > 0 ? params->http_timeout_s *
	    1000 : (manual ? 600 : 120) * 1000;
	xopts.hook_timeout_ms = params->hook_timeout_s > 0 ?
	    params->hook_timeout_s * 1000 : HOOK_TIMEOUT_MS;
	xopts.hook_del_timeout_ms = params->hook_timeout_s > 0 ?
	    params->hook_timeout_s * 1000 : HOOK_DEL_TIMEOUT_MS;
	xopts.http_port = params->http_port;
	if (params->ndns_resolvers > 0) {
		if ((sess->resolvers = calloc(params->ndns_resolvers,
		    sizeof(*sess->resolvers))) == NULL)
			return CERTO_ENOMEM;
		for (size_t i = 0; i < params->ndns_resolvers; i++) {
			if ((rc = dns01_server_parse(params->dns_resolvers[i],
			    &sess->resolvers[i])) != 0)
				return rc;
			sess->nresolvers++;
		}
		xopts.dns.resolvers = sess->resolvers;
		xopts.dns.nresolvers = sess->nresolvers;
	}
	return solver_external_start(&xopts, &sess->solver);
}

/* --webroot DIR: files for the web server there. */
static int
start_webroot(struct session *sess, const struct issue_params *params)
{
	struct solver_webroot_opts wopts = { 0 };

	wopts.types = params->challenges;
	wopts.ntypes = params->nchallenges;
	wopts.dir = params->webroot;
	wopts.http_port = params->http_port;
	wopts.http_timeout_ms = params->http_timeout_s > 0 ?
	    params->http_timeout_s * 1000 : SOLVER_WEBROOT_TIMEOUT_MS;
	return solver_webroot_start(&wopts, &sess->solver);
}

/* The solver params' solving mode asks for. */
static int
start_solver(struct session *sess, const struct issue_params *params)
{
	struct solver_standalone_opts sopts = { 0 };

	switch (params->mode) {
	case SOLVE_RESPONDER:
		return solver_socket_start(params->responder, params->challenges,
		    params->nchallenges, &sess->solver);
	case SOLVE_MANUAL:
	case SOLVE_HOOKS:
		return start_external(sess, params);
	case SOLVE_WEBROOT:
		return start_webroot(sess, params);
	case SOLVE_STORE:
		return solver_store_start(params->store, params->challenges,
		    params->nchallenges, &sess->solver);
	case SOLVE_STANDALONE:
		sopts.types = params->challenges;
		sopts.ntypes = params->nchallenges;
		sopts.http_addr = params->http_addr;
		sopts.http_port = params->http_port;
		sopts.tls_addr = params->tls_addr;
		sopts.tls_port = params->tls_port;
		/* The responders are the network process's (privsep.h). */
		if (privsep_active())
			return privsep_standalone_start(&sopts, &sess->solver);
		return solver_standalone_start(&sopts, &sess->solver);
	case SOLVE_NONE:
	default:
		return certo_fail(CERTO_EUSAGE, "no way to answer challenges");
	}
}

int
session_fetch_directory(struct session *sess,
    const struct certo_directory **dir)
{
	int rc;

	*dir = NULL;
	if (sess->have_dir) {
		*dir = &sess->dir;
		return 0;
	}
	if (sess->dir_rc != 0)
		return certo_fail(sess->dir_rc, "%s", sess->dir_err ?
		    sess->dir_err : certo_strerror(sess->dir_rc));
	if (!sess->have_req) {
		if ((rc = request_init(&sess->req, &sess->http)) != 0)
			return rc;
		sess->have_req = true;
	}
	/* The one directory_fetch outside directory.c. */
	if ((rc = directory_fetch(&sess->req, sess->server, &sess->dir)) != 0) {
		/* Kept: renew asks once per CA, and says why each time. */
		sess->dir_rc = rc;
		free(sess->dir_err);
		sess->dir_err = certo_errmsg() ? strdup(certo_errmsg()) : NULL;
		return rc;
	}
	sess->have_dir = true;
	*dir = &sess->dir;
	return 0;
}

/* Profiles are checked before an account is made for nothing. */
static int
check_profile(const struct session *sess, const char *profile)
{
	char shown[128];

	if (profile == NULL)
		return 0;
	for (size_t i = 0; i < sess->dir.nprofiles; i++)
		if (strcmp(sess->dir.profiles[i], profile) == 0)
			return 0;
	return certo_fail(CERTO_EUSAGE, "the CA does not offer profile '%s'%s",
	    log_str(shown, sizeof(shown), profile), sess->dir.nprofiles ? "" :
	    " (it advertises no profiles)");
}

/* The CA refused the account URL: find it by the key (account.h). */
static int
relocate_account(struct certo_req *req, const void *arg)
{
	const struct session *sess = arg;

	return account_relocate(req, &sess->dir, sess->acct_dir);
}

/* Load or create the account, under the account lock. */
static int
ensure_account(struct session *sess, const struct session_needs *needs)
{
	struct account_opts acct = *needs->account_opts;
	bool manage = needs->account != SESSION_ACCOUNT_USE;
	char shown[512];
	int rc;

	acct.dir = sess->acct_dir;
	/* Concurrent runs on a new state dir: one creates the account. */
	if (sess->acct_lock.fd[0] < 0 &&
	    (rc = store_lock_account(sess->state, sess->ca_id, &sess->acct_lock)) != 0)
		return rc;
	rc = account_ensure(&sess->req, &sess->dir, &acct, &sess->acct);
	sess->req.relocate = relocate_account;
	sess->req.relocate_arg = sess;
	/* The account verbs hold it to the end (rollover, deactivate). */
	if (!manage)
		store_unlock(&sess->acct_lock);
	if (rc != 0) {
		if (!manage && sess->req.rate_limited_until != 0)
			ratelimit_add(sess->state, sess->ca_id, RATELIMIT_ACCOUNT, NULL, 0,
			    sess->req.rate_limited_until, certo_errmsg());
		return rc;
	}
	if (!manage)
		log_event(sess->acct.created ? "account_created" : "account_reused",
		    log_fields_url(log_str(shown, sizeof(shown), sess->acct.url)),
		    "account: %s %s", sess->acct.created ? "created" :
		    "using existing", shown);
	return 0;
}

/*
 * What must hold before the CA is asked for the account: the account
 * verbs need one to exist (but register); a CA that rate-limited new
 * accounts is not asked for one again before its deadline (an existing
 * account is still used; the account verbs are never blocked).
 */
static int
check_account_local(const struct session *sess,
    const struct session_needs *needs)
{
	if (needs->account == SESSION_ACCOUNT_MANAGE_EXISTING &&
	    !file_exists(sess->acct_dir))
		return certo_fail(CERTO_EUSAGE, "no account for this CA in %s "
		    "(certo account register first)", sess->acct_dir);
	if (needs->account == SESSION_ACCOUNT_USE && !sess->force &&
	    !account_exists(sess))
		return ratelimit_check(sess->state, sess->ca_id, RATELIMIT_ACCOUNT, NULL,
		    0, NULL);
	return 0;
}

int
session_connect(struct session *sess, const struct session_needs *needs)
{
	const struct certo_directory *dir;
	bool need_account = needs->account != SESSION_ACCOUNT_NONE &&
	    sess->acct.url == NULL;
	int rc;

	/* Local checks first: nothing is asked of the CA if these fail. */
	if (!sess->prepared) {
		if ((rc = store_prepare(sess->state)) != 0)
			return rc;
		sess->prepared = true;
	}
	if (need_account && (rc = check_account_local(sess, needs)) != 0)
		return rc;
	/* Bind ports / reach the responder before anything goes to the CA. */
	if (needs->solve != NULL && (rc = start_solver(sess, needs->solve)) != 0)
		return rc;
	if ((rc = session_fetch_directory(sess, &dir)) != 0 ||
	    (rc = check_profile(sess, needs->profile)) != 0)
		return rc;
	if (need_account)
		return ensure_account(sess, needs);
	return 0;
}

int
session_request(const struct session *sess, struct certo_req *req)
{
	int rc;

	if ((rc = request_init(req, &sess->http)) != 0 ||
	    (rc = request_set_new_nonce_url(req, sess->dir.new_nonce)) != 0)
		return rc;
	req->relocate = relocate_account;
	req->relocate_arg = sess;
	return request_set_account(req, sess->acct.key, sess->acct.url);
}

void
session_stop_solver(struct session *sess)
{
	if (sess->solver.ops != NULL)
		sess->solver.ops->stop(sess->solver.ctx);
	memset(&sess->solver, 0, sizeof(sess->solver));
	for (size_t i = 0; i < sess->nresolvers; i++)
		dns01_server_free(&sess->resolvers[i]);
	free(sess->resolvers);
	sess->resolvers = NULL;
	sess->nresolvers = 0;
}

void
session_close(struct session *sess)
{
	if (sess == NULL || !sess->opened)
		return; /* zeroed, or closed already */
	session_stop_solver(sess);
	store_unlock(&sess->acct_lock);
	account_free(&sess->acct);
	directory_free(&sess->dir);
	request_free(&sess->req);
	free(sess->state);
	free(sess->ca_id);
	free(sess->acct_dir);
	free(sess->server);
	free(sess->ca_bundle);
	free(sess->dir_err);
	memset(sess, 0, sizeof(*sess));
}

/* Would opts reach the CA of sess the same way (URL, trust, http)? */
static bool
same_ca(const struct session *sess, const struct session_opts *opts)
{
	const char *b = sess->http.ca_bundle;

	return strcmp(sess->server, opts->server) == 0 &&
	    sess->http.allow_http == opts->allow_http &&
	    ((b == NULL && opts->ca_bundle == NULL) || (b != NULL &&
	    opts->ca_bundle != NULL && strcmp(b, opts->ca_bundle) == 0));
}

int
session_set_get(struct session_set *set, const struct session_opts *opts,
    struct session **out)
{
	struct session **grown, *sess;
	int rc;

	*out = NULL;
	for (size_t i = 0; i < set->n; i++)
		if (same_ca(set->v[i], opts)) {
			*out = set->v[i];
			return 0;
		}
	if ((grown = realloc(set->v, (set->n + 1) * sizeof(*grown))) == NULL)
		return CERTO_ENOMEM;
	set->v = grown;
	if ((sess = calloc(1, sizeof(*sess))) == NULL)
		return CERTO_ENOMEM;
	if ((rc = session_open(opts, sess)) != 0) {
		session_close(sess);
		free(sess);
		return rc;
	}
	set->v[set->n++] = sess;
	*out = sess;
	return 0;
}

void
session_set_free(struct session_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		session_close(set->v[i]);
		free(set->v[i]);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}
