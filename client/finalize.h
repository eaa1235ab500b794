/* Finalizing an order with a CSR (RFC 8555 section 7.4). */
#ifndef CERTO_FINALIZE_H
#define CERTO_FINALIZE_H

struct certo_req;
struct certo_order;
struct certo_key;

#include <stdbool.h>

/*
 * POST a CSR to o->finalize: csr_b64 when given (--csr), else one made
 * for o->names with cert_key; o is updated from the response.
 */
int finalize_order(struct certo_req *req, struct certo_order *o,
    const struct certo_key *cert_key, const char *csr_b64,
    bool must_staple);

#endif
