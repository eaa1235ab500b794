/*
 * certo issue (and the job certo authorize shares with it): the typed
 * parameters of the command line, the "nothing to do" check, one
 * session, one job through the driver.
 */
#include "verbs.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
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
	needs.solve = params->mode != SOLVE_NONE ? params : NULL;
	if ((rc = session_open(&opts, &sess)) != 0)
		goto out;
	if (params->mode == SOLVE_NONE && !authorize_only &&
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

int
issue_run(const struct certo_cli *cli)
{
	struct issue_params params;
	int rc;

	if ((rc = params_from_cli(cli, &params)) == 0 &&
	    (params.csr_file == NULL ||
	    (rc = params_names_from_csr(&params)) == 0))
		rc = issue_one(&params, false);
	params_free(&params);
	return rc;
}
