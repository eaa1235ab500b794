/*
 * RFC 8737 validation certificates (responder/alpncert.h), parsed back
 * with GnuTLS: one SAN, the critical acmeIdentifier extension holding
 * the DER OCTET STRING of SHA-256(keyauth), self-signed, key type.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alpn_check.h"
#include "alpncert.h"
#include "errors.h"

#define KEYAUTH "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0." \
	"9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

static gnutls_x509_crt_t
import(const struct alpn_cert *cert)
{
	assert_non_null(cert->cred);
	return alpn_check_import(&cert->der);
}

/* Length of the DER TLV at p (at most n bytes), header included. */
static size_t
der_tlv_len(const unsigned char *p, size_t n)
{
	size_t len = 0, hl = 2;

	assert_true(n >= 2);
	if (p[1] < 0x80)
		len = p[1];
	else {
		hl += p[1] & 0x7f;
		assert_true(hl <= 6 && hl <= n);
		for (size_t i = 2; i < hl; i++)
			len = len << 8 | p[i];
	}
	assert_true(hl + len <= n);
	return hl + len;
}

/*
 * Self-signed: issuer = subject and the signature verifies under the
 * certificate's own key, checked by hand over the tbsCertificate bytes
 * (a GnuTLS chain check would trust the certificate as its own anchor
 * without looking at the signature).
 */
static int
signature_ok(const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub;
	gnutls_datum_t tbs, sig = { NULL, 0 };
	size_t outer, slen = 0;
	int ret;

	outer = der_tlv_len(der->data, der->size);
	assert_int_equal(outer, der->size);
	/* Certificate ::= SEQUENCE { tbsCertificate, ... }: skip the header. */
	tbs.data = der->data + (der->data[1] < 0x80 ? 2 :
	    2 + (der->data[1] & 0x7f));
	tbs.size = (unsigned)der_tlv_len(tbs.data,
	    der->size - (size_t)(tbs.data - der->data));
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER),
	    0);
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_x509(pub, crt, 0), 0);
	assert_int_equal(gnutls_x509_crt_get_signature(crt, NULL, &slen),
	    GNUTLS_E_SHORT_MEMORY_BUFFER);
	sig.data = malloc(slen);
	assert_non_null(sig.data);
	assert_int_equal(gnutls_x509_crt_get_signature(crt, (char *)sig.data,
	    &slen), 0);
	sig.size = (unsigned)slen;
	ret = gnutls_pubkey_verify_data2(pub,
	    (gnutls_sign_algorithm_t)gnutls_x509_crt_get_signature_algorithm(crt),
	    0, &tbs, &sig);
	free(sig.data);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	return ret >= 0;
}

static void
check_self_signed(gnutls_x509_crt_t crt, const gnutls_datum_t *der)
{
	gnutls_datum_t copy;
	time_t now = time(NULL);

	assert_int_equal(gnutls_x509_crt_check_issuer(crt, crt), 1);
	assert_true(signature_ok(der));
	assert_true(gnutls_x509_crt_get_activation_time(crt) <= now);
	assert_true(gnutls_x509_crt_get_expiration_time(crt) > now + 86400);
	assert_true(gnutls_x509_crt_get_expiration_time(crt) <= now +
	    8 * 86400);
	assert_int_equal(gnutls_x509_crt_get_version(crt), 3);
	/* A changed tbsCertificate byte (in the serial) must fail. */
	copy.size = der->size;
	copy.data = malloc(der->size);
	assert_non_null(copy.data);
	memcpy(copy.data, der->data, der->size);
	copy.data[20] ^= 0x01;
	assert_false(signature_ok(&copy));
	free(copy.data);
}

static void
test_dns(void **state)
{
	struct alpn_cert cert;
	gnutls_x509_crt_t crt;
	unsigned bits = 0;

	(void)state;
	assert_int_equal(alpncert_make("example.com", KEYAUTH, 0, &cert), 0);
	crt = import(&cert);
	alpn_check_san(crt, GNUTLS_SAN_DNSNAME, "example.com", 11);
	alpn_check_ext(crt, KEYAUTH);
	check_self_signed(crt, &cert.der);
	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, &bits),
	    GNUTLS_PK_ECDSA);
	assert_int_equal(bits, 256);
	gnutls_x509_crt_deinit(crt);
	alpncert_free(&cert);
}

static void
test_ipv4(void **state)
{
	struct alpn_cert cert;
	gnutls_x509_crt_t crt;
	unsigned char ip[4];

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", ip), 1);
	assert_int_equal(alpncert_make("192.0.2.7", KEYAUTH, 0, &cert), 0);
	crt = import(&cert);
	alpn_check_san(crt, GNUTLS_SAN_IPADDRESS, ip, 4);
	alpn_check_ext(crt, KEYAUTH);
	check_self_signed(crt, &cert.der);
	gnutls_x509_crt_deinit(crt);
	alpncert_free(&cert);
}

static void
test_ipv6(void **state)
{
	struct alpn_cert cert;
	gnutls_x509_crt_t crt;
	unsigned char ip[16];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", ip), 1);
	assert_int_equal(alpncert_make("2001:db8::1", "x.y", 0, &cert), 0);
	crt = import(&cert);
	alpn_check_san(crt, GNUTLS_SAN_IPADDRESS, ip, 16);
	alpn_check_ext(crt, "x.y");
	gnutls_x509_crt_deinit(crt);
	alpncert_free(&cert);
}

static void
test_rsa(void **state)
{
	struct alpn_cert cert;
	gnutls_x509_crt_t crt;
	unsigned bits = 0;

	(void)state;
	assert_int_equal(alpncert_make("www.example.org", KEYAUTH, 1, &cert), 0);
	crt = import(&cert);
	alpn_check_san(crt, GNUTLS_SAN_DNSNAME, "www.example.org", 15);
	alpn_check_ext(crt, KEYAUTH);
	check_self_signed(crt, &cert.der);
	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, &bits),
	    GNUTLS_PK_RSA);
	assert_int_equal(bits, 2048);
	gnutls_x509_crt_deinit(crt);
	alpncert_free(&cert);
}

/* Two certificates for the same input: fresh keys, fresh serials. */
static void
test_fresh(void **state)
{
	struct alpn_cert first, second;
	gnutls_x509_crt_t crt_first, crt_second;
	unsigned char sa[32], sb[32];
	size_t na = sizeof(sa), nb = sizeof(sb);

	(void)state;
	assert_int_equal(alpncert_make("example.com", KEYAUTH, 0, &first), 0);
	assert_int_equal(alpncert_make("example.com", KEYAUTH, 0, &second), 0);
	crt_first = import(&first);
	crt_second = import(&second);
	assert_int_equal(gnutls_x509_crt_get_serial(crt_first, sa, &na), 0);
	assert_int_equal(gnutls_x509_crt_get_serial(crt_second, sb, &nb), 0);
	assert_true(na >= 8 && na <= 20);
	assert_true(sa[0] < 0x80);  /* positive */
	assert_false(na == nb && memcmp(sa, sb, na) == 0);
	assert_false(first.der.size == second.der.size &&
	    memcmp(first.der.data, second.der.data, first.der.size) == 0);
	gnutls_x509_crt_deinit(crt_first);
	gnutls_x509_crt_deinit(crt_second);
	alpncert_free(&first);
	alpncert_free(&second);
}

static void
test_bad_ident(void **state)
{
	static const char *bad[] = { "", "*.example.com", "exa mple.com",
		"a/b", "1.2.3.4:80", "example.com\n" };
	struct alpn_cert cert;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(alpncert_make(bad[i], KEYAUTH, 0, &cert),
		    CERTO_EIDENT);
		assert_null(cert.cred);
		assert_null(cert.der.data);
		alpncert_free(&cert);
		certo_errclear();
	}
	alpncert_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_bad_ident),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
