/* Certificate signing requests (PKCS#10) with GnuTLS. */
#ifndef CERTO_CSR_H
#define CERTO_CSR_H

#include <stddef.h>

struct certo_key;

/*
 * Make a CSR signed by key for the n DNS names (all become SANs; the
 * first is also the CN when it fits in 64 bytes).  *out gets the DER
 * encoding as base64url (malloc'd), ready for the finalize payload.
 */
int csr_make(const struct certo_key *key, char *const *names, size_t n,
    char **out);

#endif
