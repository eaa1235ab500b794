/* Finalize: send the CSR. */
#include "finalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csr.h"
#include "errors.h"
#include "log.h"
#include "order.h"
#include "problem.h"
#include "request.h"

/*
 * The CA said orderNotReady: fetch the order.  When a finalize was
 * resent after its answer was lost (request.c retries network faults),
 * or an earlier run finalized this order, the first request did reach
 * the CA: the order is processing or valid, and the run goes on from
 * there (the certificate is checked against our key and names after
 * download).  Returns 0 when the order moved on (order updated), else
 * rc with the CA's message kept.
 */
static int
fetch_if_moved_on(struct certo_req *req, struct certo_order *order, int rc)
{
	long retry_after;

	if (order_fetch(req, order, &retry_after) != 0 ||
	    (order->status != ORDER_PROCESSING && order->status != ORDER_VALID))
		return rc;
	certo_errclear();
	log_debug("finalize: the order is already %s",
	    order_status_name(order->status));
	return 0;
}

/* POST a CSR to order->finalize. */
int
finalize_order(struct certo_req *req, struct certo_order *order,
    const struct certo_key *cert_key, const char *csr_b64, bool must_staple)
{
	struct certo_problem prob = { 0 };
	struct http_resp resp;
	char *csr = NULL, *payload = NULL;
	int rc;

	if (csr_b64 != NULL) {
		if ((csr = strdup(csr_b64)) == NULL)
			return CERTO_ENOMEM;
	} else if ((rc = csr_make(cert_key, order->names, order->nnames,
	    must_staple, &csr)) != 0) {
		return rc;
	}
	if (asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0) {
		free(csr);
		return CERTO_ENOMEM;
	}
	rc = request_post(req, order->finalize, payload, DOC_ORDER, &resp,
	    &prob);
	if (rc == 0)
		rc = doc_take(&resp, DOC_ORDER, order);
	else if (rc == CERTO_EPROBLEM && problem_is(&prob, "orderNotReady"))
		rc = fetch_if_moved_on(req, order, rc);
	problem_free(&prob);
	http_resp_free(&resp);
	free(payload);
	free(csr);
	return rc;
}
