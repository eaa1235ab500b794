/* Certificate signing requests (PKCS#10) with GnuTLS. */
#ifndef CERTO_CSR_H
#define CERTO_CSR_H

#include <stddef.h>

struct certo_key;

#include <stdbool.h>

/*
 * Make a CSR signed by key for the n names (all become SANs: DNS names,
 * or iPAddress for IP literals; the first name is also the CN when it is
 * a DNS name of at most 64 bytes), with the TLS feature status_request when
 * must_staple.  *out gets the DER as base64url (malloc'd), ready for
 * the finalize payload.
 */
int csr_make(const struct certo_key *key, char *const *names, size_t n,
    bool must_staple, char **out);

/*
 * Load a CSR (PEM or DER) from path: its signature must verify; *names
 * gets its SANs (DNS and IP, as text; the CN when there are none),
 * *der_b64 the DER as base64url.  Caller frees.
 */
int csr_load(const char *path, char ***names, size_t *n, char **der_b64);

/*
 * Is key the key of the CSR whose DER (base64url, as csr_load gives it)
 * is der_b64?  Returns 0 when the public keys are the same,
 * CERTO_EUSAGE when they differ, CERTO_ECRYPTO when either cannot be
 * read.
 */
int csr_key_check(const char *der_b64, const struct certo_key *key);

#endif
