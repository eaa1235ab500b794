/* CSRs (common/csr.h): what the finalize payload will carry. */
#include "testutil.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "csr.h"
#include "errors.h"
#include "key.h"

static struct certo_key *keys[3];
static const enum key_type types[3] = { KEY_EC256, KEY_EC384,
	KEY_RSA2048 };

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		if (key_generate(types[i], &keys[i]) != 0)
			return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		key_free(keys[i]);
	return 0;
}

/* Decode a csr_make() result into a GnuTLS request, checking its shape. */
static gnutls_x509_crq_t
decode(const char *b64)
{
	gnutls_x509_crq_t crq;
	gnutls_datum_t d;
	unsigned char *der;
	size_t len;

	assert_non_null(b64);
	assert_true(b64url_valid(b64));
	assert_int_equal(b64url_decode(b64, &der, &len), 0);
	d.data = der;
	d.size = (unsigned)len;
	assert_int_equal(gnutls_x509_crq_init(&crq), 0);
	assert_int_equal(gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER),
	    0);
	free(der);
	/* Self-signed by the key it carries. */
	assert_int_equal(gnutls_x509_crq_verify(crq, 0), 0);
	return crq;
}

static void
check_sans(gnutls_x509_crq_t crq, char *const *names, size_t n)
{
	char buf[512];
	size_t size;
	unsigned type, i;

	for (i = 0;; i++) {
		size = sizeof(buf);
		int ret = gnutls_x509_crq_get_subject_alt_name(crq, i, buf, &size,
		    &type, NULL);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		assert_true(ret >= 0);
		assert_int_equal(type, GNUTLS_SAN_DNSNAME);
		assert_true(i < n);
		assert_int_equal(size, strlen(names[i]));
		assert_memory_equal(buf, names[i], size);
	}
	assert_int_equal(i, n);
}

static void
test_names(void **state)
{
	char **names = tu_strv("www.example.org", "example.org",
	    "*.example.net", "xn--bcher-kva.example", NULL);

	(void)state;
	for (int k = 0; k < 3; k++)
		for (size_t n = 1; n <= 4; n++) {
			gnutls_x509_crq_t crq;
			char *csr = NULL, cn[256];
			size_t cnlen = sizeof(cn);

			assert_int_equal(csr_make(keys[k], names, n, false, &csr), 0);
			crq = decode(csr);
			check_sans(crq, names, n);
			/* The first name is the CN. */
			assert_int_equal(gnutls_x509_crq_get_dn_by_oid(crq,
			    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen), 0);
			assert_string_equal(cn, names[0]);
			gnutls_x509_crq_deinit(crq);
			free(csr);
		}
	tu_strv_free(names);
}

/* The CSR carries the certificate key, not another one. */
static void
test_public_key(void **state)
{
	char **names = tu_strv("example.org", NULL);

	(void)state;
	for (int k = 0; k < 3; k++) {
		gnutls_x509_crq_t crq;
		gnutls_pubkey_t pub;
		unsigned char a[64], b[64];
		size_t la = sizeof(a), lb = sizeof(b);
		char *csr;

		assert_int_equal(csr_make(keys[k], names, 1, false, &csr), 0);
		crq = decode(csr);
		assert_int_equal(gnutls_pubkey_init(&pub), 0);
		assert_int_equal(gnutls_pubkey_import_x509_crq(pub, crq, 0), 0);
		assert_int_equal(gnutls_pubkey_get_key_id(pub,
		    GNUTLS_KEYID_USE_SHA256, a, &la), 0);
		assert_int_equal(key_public_id(keys[k], b, &lb), 0);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		lb = sizeof(b);
		assert_int_equal(key_public_id(keys[(k + 1) % 3], b, &lb), 0);
		assert_false(la == lb && memcmp(a, b, la) == 0);
		gnutls_pubkey_deinit(pub);
		gnutls_x509_crq_deinit(crq);
		free(csr);
	}
	tu_strv_free(names);
}

/* A first name longer than 64 bytes cannot be a CN: SANs only. */
static void
test_long_first_name(void **state)
{
	char *l = tu_repeat('a', 63), *names[3], *csr, cn[256];
	gnutls_x509_crq_t crq;
	size_t cnlen = sizeof(cn);

	(void)state;
	assert_int_equal(asprintf(&names[0], "%s.example.org", l) > 0, 1);
	names[1] = strdup("example.org");
	names[2] = NULL;
	assert_int_equal(csr_make(keys[0], names, 2, false, &csr), 0);
	crq = decode(csr);
	check_sans(crq, names, 2);
	assert_int_not_equal(gnutls_x509_crq_get_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen), 0);
	gnutls_x509_crq_deinit(crq);
	free(csr);
	free(names[0]);
	free(names[1]);
	free(l);
}

/* --must-staple: the TLS feature extension lists status_request (5). */
static void
test_must_staple(void **state)
{
	char *names[] = { (char *)(uintptr_t)"example.org", NULL }, *csr;
	gnutls_x509_crq_t crq;
	gnutls_x509_tlsfeatures_t f;
	unsigned feat = 0;

	(void)state;
	assert_int_equal(csr_make(keys[0], names, 1, true, &csr), 0);
	crq = decode(csr);
	assert_int_equal(gnutls_x509_tlsfeatures_init(&f), 0);
	assert_int_equal(gnutls_x509_crq_get_tlsfeatures(crq, f, 0, NULL), 0);
	assert_int_equal(gnutls_x509_tlsfeatures_get(f, 0, &feat), 0);
	assert_int_equal(feat, 5);
	assert_int_not_equal(gnutls_x509_tlsfeatures_get(f, 1, &feat), 0);
	gnutls_x509_tlsfeatures_deinit(f);
	gnutls_x509_crq_deinit(crq);
	free(csr);
	/* Without the flag there is no such extension. */
	assert_int_equal(csr_make(keys[0], names, 1, false, &csr), 0);
	crq = decode(csr);
	assert_int_equal(gnutls_x509_tlsfeatures_init(&f), 0);
	assert_int_not_equal(gnutls_x509_crq_get_tlsfeatures(crq, f, 0, NULL),
	    0);
	gnutls_x509_tlsfeatures_deinit(f);
	gnutls_x509_crq_deinit(crq);
	free(csr);
}

/* IP literals become iPAddress SANs (RFC 8738), not dNSNames. */
static void
test_ip_sans(void **state)
{
	char *names[] = { (char *)(uintptr_t)"192.0.2.7",
		(char *)(uintptr_t)"2001:db8::1", NULL }, *csr;
	gnutls_x509_crq_t crq;
	unsigned char buf[64];
	size_t size;
	unsigned type;
	char cn[64];
	size_t cnlen = sizeof(cn);

	(void)state;
	assert_int_equal(csr_make(keys[0], names, 2, false, &csr), 0);
	crq = decode(csr);
	size = sizeof(buf);
	assert_int_equal(gnutls_x509_crq_get_subject_alt_name(crq, 0, buf,
	    &size, &type, NULL), GNUTLS_SAN_IPADDRESS);
	assert_int_equal(size, 4);
	assert_memory_equal(buf, "\xc0\x00\x02\x07", 4);
	size = sizeof(buf);
	assert_int_equal(gnutls_x509_crq_get_subject_alt_name(crq, 1, buf,
	    &size, &type, NULL), GNUTLS_SAN_IPADDRESS);
	assert_int_equal(size, 16);
	/* No CN for an IP-only request. */
	assert_int_not_equal(gnutls_x509_crq_get_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen), 0);
	gnutls_x509_crq_deinit(crq);
	free(csr);
}

static void
test_no_names(void **state)
{
	char *csr = (char *)&csr;

	(void)state;
	assert_int_equal(csr_make(keys[0], NULL, 0, false, &csr), CERTO_EUSAGE);
	assert_null(csr);
	certo_errclear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_public_key),
		cmocka_unit_test(test_long_first_name),
		cmocka_unit_test(test_no_names),
		cmocka_unit_test(test_must_staple),
		cmocka_unit_test(test_ip_sans),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
