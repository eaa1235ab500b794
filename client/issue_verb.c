/*
 * certo issue (and the job certo authorize shares with it): the typed
 * parameters of the command line, the "nothing to do" check, one
 * session, one job through the driver.
 */
#include "verbs.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "file.h"
#include "issue.h"
#include "key.h"
#include "params.h"
#include "session.h"
#include "store.h"
#include "stored.h"

/*
 * A valid set for the same names and options is stored: nothing to
 * issue, but still sweep what interrupted runs left, and the saved order
 * of a run killed after it stored these names.
 */
static void
tidy_fresh(const struct session *sess, const struct issue_params *params)
{
	if (store_prepare(sess->state) == 0)
		store_order_forget(sess->state, params->names, params->nnames);
	certo_errclear();
}

/*
 * issue without a way to answer challenges: only to finish an order
 * that certo authorize saved for these names at this CA (offline
 * check); else the usage error of any issue without one.
 */
static int
saved_order_needed(const struct session *sess,
    const struct issue_params *params)
{
	struct certo_key *key = NULL;
	char *dir = NULL, *url = NULL;
	int rc;

	if ((rc = store_order_dir(sess->state, params->names, params->nnames,
	    &dir)) == 0 && (rc = store_order_load(dir, sess->server, &url,
	    &key)) != 0)
		certo_errclear();
	if (rc != CERTO_ENOMEM && url == NULL)
		rc = certo_fail(CERTO_EUSAGE, "a way to answer challenges is "
		    "needed: --standalone, --responder SOCKET, --webroot DIR, "
		    "--manual, --dns-hook or --http-hook (or certo authorize "
		    "first)");
	key_free(key);
	free(url);
	free(dir);
	return rc;
}

int
issue_one(const struct issue_params *params, bool authorize_only)
{
	struct session sess;
	struct session_opts opts;
	struct session_needs needs = { 0 };
	struct account_opts acct;
	struct issue_job job;
	bool fresh = false;
	int rc;

	memset(&job, 0, sizeof(job));
	job.authorize_only = authorize_only;
	job.params = params;
	params_session_opts(params, &opts);
	params_account_opts(params, &acct);
	needs.account = SESSION_ACCOUNT_USE;
	needs.account_opts = &acct;
	needs.profile = params->profile;
	needs.solve = params->mode != SOLVE_NONE && !params->solver_off ?
	    params : NULL;
	if ((rc = session_open(&opts, &sess)) != 0)
		goto out;
	if (needs.solve == NULL && !authorize_only &&
	    (rc = saved_order_needed(&sess, params)) != 0)
		goto out;
	if (!authorize_only && !params->force &&
	    ((rc = stored_fetch_fresh(&sess, NULL, params, &fresh)) != 0 ||
	    fresh)) {
		if (fresh)
			tidy_fresh(&sess, params);
		goto out;
	}
	if ((rc = session_connect(&sess, &needs)) == 0)
		rc = issue_job_run(&sess, &job);
out:
	session_close(&sess);
	issue_job_free(&job);
	return rc;
}

/* The way to answer challenges of from, moved into to. */
static void
take_solver(struct issue_params *to, struct issue_params *from)
{
#define TAKE(f) do {                                                         \
	char *t_ = to->f;                                                    \
	to->f = from->f;                                                     \
	from->f = t_;                                                        \
} while (0)
	char **list = to->dns_resolvers;
	size_t n = to->ndns_resolvers;

	TAKE(responder);
	TAKE(dns_hook);
	TAKE(http_hook);
	TAKE(webroot);
	TAKE(http_addr);
	TAKE(tls_addr);
#undef TAKE
	to->dns_resolvers = from->dns_resolvers;
	to->ndns_resolvers = from->ndns_resolvers;
	from->dns_resolvers = list;
	from->ndns_resolvers = n;
	to->mode = from->mode;
	memcpy(to->challenges, from->challenges, sizeof(to->challenges));
	to->nchallenges = from->nchallenges;
	to->http_port = from->http_port;
	to->tls_port = from->tls_port;
	to->dns_timeout_s = from->dns_timeout_s;
	to->dns_interval_s = from->dns_interval_s;
	to->dns_wait_extra_s = from->dns_wait_extra_s;
	to->http_timeout_s = from->http_timeout_s;
}

/*
 * issue without a way to answer challenges: no solver is started
 * (solver_off), but the way certo authorize used for these names at this
 * CA (orders/<hash>/certo.json) is taken over, so that the certificate's
 * certo.json tells renew how to renew it.
 */
static int
adopt_authorize_way(struct issue_params *params)
{
	struct cert_config cfg;
	char *state = NULL, *dir = NULL, *path = NULL;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	params->solver_off = true;
	if ((rc = store_state_dir(params->state_dir, &state)) != 0 ||
	    (rc = store_order_dir(state, params->names, params->nnames,
	    &dir)) != 0)
		goto out;
	if ((path = file_join(dir, CONFIG_FILE)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	/* None, unreadable or another CA's: issue checks the order itself. */
	if (!file_exists(path))
		goto out;
	if (config_load(path, &cfg) != 0 ||
	    strcmp(cfg.params.server, params->server) != 0)
		certo_errclear();
	else
		take_solver(params, &cfg.params);
out:
	config_free(&cfg);
	free(path);
	free(dir);
	free(state);
	return rc;
}

int
issue_run(const struct certo_cli *cli)
{
	struct issue_params params;
	int rc;

	if ((rc = params_from_cli(cli, &params)) == 0 &&
	    (params.csr_file == NULL ||
	    (rc = params_names_from_csr(&params)) == 0) &&
	    (params.mode != SOLVE_NONE ||
	    (rc = adopt_authorize_way(&params)) == 0))
		rc = issue_one(&params, false);
	params_free(&params);
	return rc;
}
