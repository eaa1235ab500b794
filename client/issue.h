/*
 * The order driver: the only code that knows the order of the stages
 * (directory, account, order, authorizations, challenges, finalize,
 * download, store).  Stages never call each other.
 */
#ifndef CERTO_ISSUE_H
#define CERTO_ISSUE_H

#include <stdbool.h>
#include <time.h>

#include "params.h"
#include "session.h"

/* One certificate to get. */
struct issue_job {
	const struct issue_params *params;   /* names and order options */
	const char *replaces;          /* ARI certID of the old cert, or NULL */
	bool dry_run;                  /* renew --dry-run: store nothing */
	bool authorize_only;           /* certo authorize: no certificate */
	/* Results. */
	char *live;                    /* where the set was stored */
	time_t not_after;
	bool deploy_failed;            /* stored, but the deploy hook failed */
};

/*
 * Get one certificate (or, with authorize_only, its authorizations)
 * through sess (connected: directory, account, solver): resumes a saved
 * order for the same names, else opens a new one.  Thread-safe with
 * respect to other jobs on the same session.
 */
int issue_job_run(struct session *sess, struct issue_job *job);
void issue_job_free(struct issue_job *job);
/*
 * Run params' deploy hook (sh -c, hook.h) for the set stored in live: a
 * pending mark is left in live first (store_deploy_mark) and removed
 * once the hook succeeded, so a failed or interrupted hook runs again
 * at the next `certo renew`.  Returns 0, or CERTO_EHOOK / CERTO_EINTR
 * with a message that says the set is live all the same.
 */
int issue_deploy(const struct issue_params *params, const char *live);

/*
 * One job for params' names through a session of its own: what certo
 * issue (after its "nothing to do" check) and certo authorize do
 * (issue_verb.c).
 */
int issue_one(const struct issue_params *params, bool authorize_only);

#endif
