/*
 * The order driver: the only code that knows the order of the stages
 * (directory, account, order, authorizations, challenges, finalize,
 * download, store).  Stages never call each other.
 */
#ifndef CERTO_ISSUE_H
#define CERTO_ISSUE_H

#include <stdbool.h>
#include <time.h>

#include "account.h"
#include "cli.h"
#include "directory.h"
#include "dns01_propagation.h"
#include "http.h"
#include "solver.h"

/* What the orders of one run share: state, CA, account, solver. */
struct issue_env {
	char *state;
	char *ca_id;
	const char *server;
	struct http_opts http;
	struct certo_directory dir;
	struct certo_account acct;
	struct solver solver;          /* thread-safe: renew shares it */
	struct dns01_server *resolvers;
	size_t nresolvers;
	long ca_timeout_s;             /* each wait on the CA (polling.h); 0: default */
	bool force;                    /* --force: ignore rate-limit memory */
};

/* One certificate to get. */
struct issue_job {
	const struct certo_cli *cli;   /* names and order options */
	const char *replaces;          /* ARI certID of the old cert, or NULL */
	bool dry_run;                  /* renew --dry-run: store nothing */
	bool authorize_only;           /* certo authorize: no certificate */
	/* Results. */
	char *live;                    /* where the set was stored */
	time_t not_after;
	bool rate_limited;
	bool deploy_failed;            /* stored, but the deploy hook failed */
};

/*
 * Open the environment for cli: state directory, solver (binding ports
 * now), directory, account.  A saved rate limit on new accounts is
 * honoured when an account must be created (CERTO_EPROBLEM without
 * contacting the CA); limits on orders are checked per job.
 */
int issue_env_open(const struct certo_cli *cli, bool need_account,
    struct issue_env *env);
void issue_env_close(struct issue_env *env);
/*
 * Get one certificate (or, with authorize_only, its authorizations):
 * resumes a saved order for the same names, else opens a new one.
 * Thread-safe with respect to other jobs on the same env.
 */
int issue_job_run(struct issue_env *env, struct issue_job *job);
void issue_job_free(struct issue_job *job);
/*
 * Run cli's deploy hook (sh -c, hook.h) for the set stored in live: a
 * pending mark is left in live first (store_deploy_mark) and removed
 * once the hook succeeded, so a failed or interrupted hook runs again
 * at the next `certo renew`.  Returns 0, or CERTO_EHOOK / CERTO_EINTR
 * with a message that says the set is live all the same.
 */
int issue_deploy(const struct certo_cli *cli, const char *live);

/* The verbs. */
int issue_run(struct certo_cli *cli);
int authorize_run(struct certo_cli *cli);
int deactivate_authz_run(const struct certo_cli *cli);

#endif
