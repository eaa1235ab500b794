/* Finalizing an order with a CSR (RFC 8555 section 7.4). */
#ifndef CERTO_FINALIZE_H
#define CERTO_FINALIZE_H

struct certo_req;
struct certo_order;
struct certo_key;

#include <stdbool.h>

/*
 * POST a CSR to order->finalize: csr_b64 when given (--csr), else one
 * made for order->names with cert_key; order is updated from the
 * response.  An orderNotReady answer for an order that already moved on
 * (a resent finalize, or one of an earlier run) is not an error.
 */
int finalize_order(struct certo_req *req, struct certo_order *order,
    const struct certo_key *cert_key, const char *csr_b64,
    bool must_staple);

#endif
