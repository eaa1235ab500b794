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
	needs.solve = params;
	if ((rc = session_open(&opts, &sess)) != 0)
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
