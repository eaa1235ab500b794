/* RFC 8737 validation certificates. */
#include "alpncert.h"

#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>

#include "domain.h"
#include "errors.h"
#include "log.h"
#include "sha256.h"

#define ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"
#define ALPNCERT_VALID_S (7 * 86400)
#define ALPNCERT_BACKDATE_S 3600

/*
 * Build a fresh key and the self-signed validation certificate for
 * ident (host name or IP literal) and keyauth into *out: the DER and
 * certificate credentials ready for a GnuTLS server session.  Returns 0,
 * CERTO_EIDENT for an identifier TLS-ALPN-01 cannot prove, CERTO_ECRYPTO
 * or CERTO_ENOMEM.  The caller frees *out with alpncert_free() (also
 * after a failure).
 */
int
alpncert_make(const char *ident, const char *keyauth, int rsa,
    struct alpn_cert *out)
{
	static const char cn[] = "certo tls-alpn-01 validation";
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	unsigned char ip[16], ext[2 + SHA256_LEN], serial[16];
	size_t iplen = 0;
	time_t now = time(NULL);
	char shown[80];
	int ret, rc = 0;

	memset(out, 0, sizeof(*out));
	/* A host name (no wildcard: TLS-ALPN-01 cannot prove one) or an IP. */
	if (ident_classify(ident, false, ip, &iplen) == IDENT_INVALID)
		return certo_fail(CERTO_EIDENT, "cannot make a TLS-ALPN-01 "
		    "certificate for the identifier '%s'", log_str(shown,
		    sizeof(shown), ident));
	/* extnValue = DER OCTET STRING of SHA-256(keyauth) (RFC 8737 3). */
	ext[0] = 0x04;
	ext[1] = SHA256_LEN;
	if ((rc = sha256(keyauth, strlen(keyauth), ext + 2)) != 0)
		return rc;
	/* A positive 128-bit serial without a leading zero byte. */
	if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		goto crypto;
	serial[0] = (unsigned char)((serial[0] & 0x3f) | 0x40);
	if ((ret = gnutls_x509_privkey_init(&key)) < 0 ||
	    (ret = gnutls_x509_privkey_generate(key, rsa ? GNUTLS_PK_RSA :
	    GNUTLS_PK_ECDSA, rsa ? 2048 :
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
		goto crypto;
	if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_serial(crt, serial,
	    sizeof(serial))) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(crt,
	    now - ALPNCERT_BACKDATE_S)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(crt,
	    now + ALPNCERT_VALID_S)) < 0 ||
	    (ret = gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, sizeof(cn) - 1)) < 0 ||
	    (ret = gnutls_x509_crt_set_key(crt, key)) < 0)
		goto crypto;
	/* The one SAN: the identifier being validated, nothing else. */
	if (iplen != 0)
		ret = gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_IPADDRESS, ip, (unsigned)iplen, GNUTLS_FSAN_SET);
	else
		ret = gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_DNSNAME, ident, (unsigned)strlen(ident),
		    GNUTLS_FSAN_SET);
	if (ret < 0)
		goto crypto;
	if ((ret = gnutls_x509_crt_set_extension_by_oid(crt,
	    ACME_IDENTIFIER_OID, ext, sizeof(ext), 1)) < 0 ||
	    (ret = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256,
	    0)) < 0 ||
	    (ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
	    &out->der)) < 0)
		goto crypto;
	/* The credentials keep their own copies of certificate and key. */
	if ((ret = gnutls_certificate_allocate_credentials(&out->cred)) < 0 ||
	    (ret = gnutls_certificate_set_x509_key(out->cred, &crt, 1,
	    key)) < 0)
		goto crypto;
	goto out;
crypto:
	rc = certo_fail(ret == GNUTLS_E_MEMORY_ERROR ? CERTO_ENOMEM :
	    CERTO_ECRYPTO, "cannot make the TLS-ALPN-01 certificate for %.64s: "
	    "%s", ident, gnutls_strerror(ret));
	alpncert_free(out);
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

/* Free a certificate made by alpncert_make(); NULL is fine. */
void
alpncert_free(struct alpn_cert *cert)
{
	if (cert == NULL)
		return;
	if (cert->cred)
		gnutls_certificate_free_credentials(cert->cred);
	gnutls_free(cert->der.data);
	memset(cert, 0, sizeof(*cert));
}
