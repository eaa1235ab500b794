/* SHA-256 and its hex form (see sha256.h). */
#include "sha256.h"

#include <gnutls/crypto.h>

#include "errors.h"

/* The 32-byte SHA-256 digest of p[0..n) into out. */
int
sha256(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, out) < 0)
		return certo_fail(CERTO_ECRYPTO, "SHA-256 failed");
	return 0;
}

/* The lower-case hex SHA-256 of p[0..n) into out (65 bytes). */
int
sha256_hex(const void *p, size_t n, char out[SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA256_LEN];
	int rc;

	if ((rc = sha256(p, n, d)) != 0)
		return rc;
	for (size_t i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
	return 0;
}
