/* SHA-256 (GnuTLS), the one helper for digests and their hex form. */
#ifndef CERTO_SHA256_H
#define CERTO_SHA256_H

#include <stddef.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

/* out gets the 32-byte digest of p[0..n).  Returns 0 or CERTO_ECRYPTO. */
int sha256(const void *p, size_t n, unsigned char out[SHA256_LEN]);
/*
 * out gets the lower-case hex digest of p[0..n) and a NUL (65 bytes).
 * Returns 0 or CERTO_ECRYPTO.
 */
int sha256_hex(const void *p, size_t n, char out[SHA256_HEX_LEN + 1]);

#endif
