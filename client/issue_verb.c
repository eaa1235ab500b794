/*
 * certo issue (and the job certo authorize shares with it): the names,
 * the "nothing to do" check, one session, one job through the driver.
 */
#include "verbs.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csr.h"
#include "errors.h"
#include "issue.h"
#include "key.h"
#include "session.h"
#include "store.h"
#include "stored.h"

/* --csr: the names come from the CSR. */
static int
names_from_csr(struct certo_cli *cli)
{
	char **names = NULL, *der = NULL;
	size_t n = 0;
	int rc;

	if ((rc = csr_load(cli->csr_file, &names, &n, &der)) != 0)
		return rc;
	cli->names_from_csr = true;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = cli_add_name(cli, names[i]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == 0)
		rc = cli_check_challenges(cli);
	/* --key must be the CSR's key: checked before anything is ordered. */
	if (rc == 0 && cli->key_file != NULL) {
		struct certo_key *key = NULL;
		if ((rc = key_load(cli->key_file, &key)) == 0)
			rc = csr_key_check(der, key);
		key_free(key);
	}
	free(der);
	return rc;
}

/*
 * A valid set for the same names and options is stored: nothing to
 * issue, but still sweep what interrupted runs left, and the saved order
 * of a run killed after it stored these names.
 */
static void
tidy_fresh(const struct session *sess, const struct certo_cli *cli)
{
	if (store_prepare(sess->state) == 0)
		store_order_forget(sess->state, cli->names, cli->nnames);
	certo_errclear();
}

int
issue_one(struct certo_cli *cli, bool authorize_only)
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
	job.cli = cli;
	session_opts_cli(cli, &opts);
	session_account_cli(cli, &acct);
	needs.account = SESSION_ACCOUNT_USE;
	needs.account_opts = &acct;
	needs.profile = cli->profile;
	needs.solve = cli;
	if ((rc = session_open(&opts, &sess)) != 0)
		goto out;
	if (!authorize_only && !cli->force &&
	    ((rc = stored_fetch_fresh(&sess, NULL, cli, &fresh)) != 0 ||
	    fresh)) {
		if (fresh)
			tidy_fresh(&sess, cli);
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
issue_run(struct certo_cli *cli)
{
	int rc;

	if (cli->csr_file != NULL && (rc = names_from_csr(cli)) != 0)
		return rc;
	return issue_one(cli, false);
}
