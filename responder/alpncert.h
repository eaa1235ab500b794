/*
 * RFC 8737 validation certificates: a fresh key (P-256 by default) and
 * a self-signed certificate with one SAN (dNSName, or iPAddress for IP
 * identifiers) and the critical id-pe-acmeIdentifier extension whose
 * value is the DER OCTET STRING of SHA-256(key authorization).
 */
#ifndef CERTO_ALPNCERT_H
#define CERTO_ALPNCERT_H

#include <gnutls/gnutls.h>

struct alpn_cert {
	gnutls_certificate_credentials_t cred;  /* cert + key, ready to serve */
	gnutls_datum_t der;                     /* the certificate, DER */
};

/*
 * Build the certificate for ident (a host name as domain_valid() takes
 * it, or an IP literal) and keyauth.  Free with alpncert_free, also
 * after a failure.
 */
int alpncert_make(const char *ident, const char *keyauth, int rsa,
    struct alpn_cert *out);
/* Free what alpncert_make() made; NULL is fine. */
void alpncert_free(struct alpn_cert *cert);

#endif
