/* Finalizing an order with a CSR (RFC 8555 section 7.4). */
#ifndef CERTO_FINALIZE_H
#define CERTO_FINALIZE_H

struct certo_req;
struct certo_order;
struct certo_key;

/*
 * Make a CSR for o->names with the certificate key and POST it to
 * o->finalize; o is updated from the response.
 */
int finalize_order(struct certo_req *req, struct certo_order *o,
    const struct certo_key *cert_key);

#endif
