/*
 * Between the order driver (issue.c) and the stage it keeps in a file of
 * its own (stage_authorize.c): the order in flight.  Nothing else
 * includes this.
 */
#ifndef CERTO_ISSUE_PRIV_H
#define CERTO_ISSUE_PRIV_H

#include <stdbool.h>

#include "certificate.h"
#include "issue.h"
#include "key.h"
#include "order.h"
#include "publish.h"
#include "request.h"

/*
 * stage_authorize()/drive_order() return this (positive, never seen
 * outside the driver) when a resumed order cannot be completed: one of
 * its challenges failed in an earlier run.  The driver then starts a new
 * order, once.
 */
#define ISSUE_RESTART 1

/* One order in flight. */
struct issue {
	struct session *sess;
	struct issue_job *job;
	const struct issue_params *params; /* the job's */
	struct certo_req req;          /* this order's own (renew's threads) */
	struct certo_order order;
	struct publish_set published;
	struct certo_key *cert_key;
	char *csr_b64;                 /* --csr */
	char *order_dir;               /* resume state */
	bool resumed;                  /* the order came from order_dir */
	struct certo_chain chain;
};

/*
 * PENDING: prove control of every identifier of issue's order: publish
 * every pending challenge (the first type in the user's order that the
 * CA offers), let the solver check all at once, then tell the CA, and
 * poll each authorization until decided.  What was published stays in
 * issue->published for the driver to withdraw.  Returns 0,
 * ISSUE_RESTART (a resumed order whose challenge failed earlier) or a
 * CERTO_E* code.
 */
int stage_authorize(struct issue *issue);

#endif
