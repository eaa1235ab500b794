/* Finalize: send the CSR. */
#include "finalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csr.h"
#include "errors.h"
#include "order.h"
#include "request.h"

int
finalize_order(struct certo_req *req, struct certo_order *o,
    const struct certo_key *cert_key, const char *csr_b64, bool must_staple)
{
	struct http_resp r;
	char *csr = NULL, *payload = NULL;
	int rc;

	if (csr_b64 != NULL) {
		if ((csr = strdup(csr_b64)) == NULL)
			return CERTO_ENOMEM;
	} else if ((rc = csr_make(cert_key, o->names, o->nnames, must_staple,
	    &csr)) != 0) {
		return rc;
	}
	if (asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0) {
		free(csr);
		return CERTO_ENOMEM;
	}
	if ((rc = request_post(req, o->finalize, payload, REQUEST_MAX_BODY, &r,
	    NULL)) == 0)
		rc = order_parse(r.body.data, r.body.len, o);
	http_resp_free(&r);
	free(payload);
	free(csr);
	return rc;
}
