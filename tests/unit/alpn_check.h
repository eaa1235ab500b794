/*
 * Checks of an RFC 8737 validation certificate shared by the unit tests
 * of the certificate itself (test_alpncert.c) and of the server that
 * presents it (test_tlsalpn01.c).  Include after testutil.h.
 */
#ifndef CERTO_TEST_ALPN_CHECK_H
#define CERTO_TEST_ALPN_CHECK_H

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

#define ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"

/* The DER certificate der parsed; gnutls_x509_crt_deinit() it. */
static inline gnutls_x509_crt_t
alpn_check_import(const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;

	assert_non_null(der->data);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER),
	    0);
	return crt;
}

/* Exactly one SAN, of type type, with these bytes. */
static inline void
alpn_check_san(gnutls_x509_crt_t crt, int type, const void *want,
    size_t wlen)
{
	char buf[300];
	size_t n = sizeof(buf);
	unsigned crit = 99;

	assert_int_equal(gnutls_x509_crt_get_subject_alt_name(crt, 0, buf, &n,
	    &crit), type);
	assert_int_equal(n, wlen);
	assert_memory_equal(buf, want, wlen);
	n = sizeof(buf);
	assert_int_equal(gnutls_x509_crt_get_subject_alt_name(crt, 1, buf, &n,
	    NULL), GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
}

/*
 * The acmeIdentifier extension is there once, critical, and holds
 * 04 20 SHA-256(keyauth) (hashed here with GnuTLS directly, not with the
 * code under test).
 */
static inline void
alpn_check_ext(gnutls_x509_crt_t crt, const char *keyauth)
{
	unsigned char want[34];
	gnutls_datum_t value = { NULL, 0 };
	unsigned crit = 0, idx;
	char oid[128];
	size_t on;
	int found = 0;

	want[0] = 0x04;
	want[1] = 0x20;
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth,
	    strlen(keyauth), want + 2), 0);
	assert_int_equal(gnutls_x509_crt_get_extension_by_oid2(crt,
	    ACME_IDENTIFIER_OID, 0, &value, &crit), 0);
	assert_int_equal(crit, 1);
	assert_int_equal(value.size, sizeof(want));
	assert_memory_equal(value.data, want, sizeof(want));
	gnutls_free(value.data);
	for (idx = 0;; idx++) {
		on = sizeof(oid);
		if (gnutls_x509_crt_get_extension_info(crt, idx, oid, &on,
		    NULL) < 0)
			break;
		found += strcmp(oid, ACME_IDENTIFIER_OID) == 0;
	}
	assert_int_equal(found, 1);
}

#endif
