/*
 * Splitting and checking the issued chain (client/certificate.h), on
 * chains made here with GnuTLS: leaf, intermediates, root.
 */
#include "testutil.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certificate.h"
#include "errors.h"
#include "key.h"

#define NOT_AFTER ((time_t)1893456000)   /* 2030-01-01T00:00:00Z */

static char *tmp;
static struct certo_key *leaf_key, *other_key;
static gnutls_x509_privkey_t leaf_x509;

/* The GnuTLS view of a certo key, through its PEM file. */
static gnutls_x509_privkey_t
x509_of(const struct certo_key *k)
{
	gnutls_x509_privkey_t x;
	gnutls_datum_t d;
	char *path = tu_path(tmp, "k.pem"), *pem;
	FILE *f;
	long n;

	assert_int_equal(key_save(k, path, false), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	pem = malloc((size_t)n);
	assert_non_null(pem);
	assert_int_equal(fread(pem, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	d.data = (unsigned char *)pem;
	d.size = (unsigned)n;
	assert_int_equal(gnutls_x509_privkey_init(&x), 0);
	assert_int_equal(gnutls_x509_privkey_import(x, &d, GNUTLS_X509_FMT_PEM),
	    0);
	free(pem);
	remove(path);
	free(path);
	return x;
}

static int
setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	if (key_generate(KEY_EC256, &leaf_key) != 0 ||
	    key_generate(KEY_EC256, &other_key) != 0)
		return -1;
	leaf_x509 = x509_of(leaf_key);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	gnutls_x509_privkey_deinit(leaf_x509);
	key_free(leaf_key);
	key_free(other_key);
	tu_rmtree(tmp);
	free(tmp);
	return 0;
}

/*
 * A certificate for key named cn with DNS SANs names, signed by issuer
 * (self-signed when issuer is NULL).
 */
static gnutls_x509_crt_t
make_cert(gnutls_x509_privkey_t key, const char *cn, char *const *names,
    size_t n, gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
    unsigned serial)
{
	gnutls_x509_crt_t c;
	unsigned char sn[4] = { 0x10, 0, 0, (unsigned char)serial };

	assert_int_equal(gnutls_x509_crt_init(&c), 0);
	assert_int_equal(gnutls_x509_crt_set_version(c, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(c, sn, sizeof(sn)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(c,
	    NOT_AFTER - 86400 * 3650), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(c, NOT_AFTER), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(c,
		    GNUTLS_SAN_DNSNAME, names[i], (unsigned)strlen(names[i]),
		    GNUTLS_FSAN_APPEND), 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(c, n == 0, -1),
	    0);
	assert_int_equal(gnutls_x509_crt_set_key(c, key), 0);
	if (issuer == NULL)
		assert_int_equal(gnutls_x509_crt_sign2(c, c, key,
		    GNUTLS_DIG_SHA256, 0), 0);
	else
		assert_int_equal(gnutls_x509_crt_sign2(c, issuer, issuer_key,
		    GNUTLS_DIG_SHA256, 0), 0);
	return c;
}

static void
append_pem(char **pem, gnutls_x509_crt_t c)
{
	gnutls_datum_t d = { NULL, 0 };
	size_t old = *pem ? strlen(*pem) : 0;

	assert_int_equal(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d),
	    0);
	*pem = realloc(*pem, old + d.size + 1);
	assert_non_null(*pem);
	memcpy(*pem + old, d.data, d.size);
	(*pem)[old + d.size] = '\0';
	gnutls_free(d.data);
}

static gnutls_x509_privkey_t
ec_key(void)
{
	gnutls_x509_privkey_t k;

	assert_int_equal(gnutls_x509_privkey_init(&k), 0);
	assert_int_equal(gnutls_x509_privkey_generate2(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0), 0);
	return k;
}

/*
 * A sorted chain: leaf for names (with leaf_x509), then depth - 1 CA
 * certificates, the last self-signed.  PEM, malloc'd.  *leaf_pem gets
 * the leaf alone when not NULL.
 */
static char *
make_chain(char *const *names, size_t n, int depth, char **leaf_pem)
{
	gnutls_x509_privkey_t keys[16];
	gnutls_x509_crt_t certs[16];
	char *pem = NULL, cn[32];

	assert_true(depth >= 1 && depth <= 16);
	/* From the root down, so each issuer exists before its child. */
	for (int i = depth - 1; i >= 0; i--) {
		if (i == 0) {
			keys[i] = leaf_x509;
			certs[i] = make_cert(keys[i], n ? names[0] : "leaf", names,
			    n, depth > 1 ? certs[1] : NULL,
			    depth > 1 ? keys[1] : NULL, (unsigned)i);
		} else {
			keys[i] = ec_key();
			snprintf(cn, sizeof(cn), "Test CA %d", i);
			certs[i] = make_cert(keys[i], cn, NULL, 0,
			    i == depth - 1 ? NULL : certs[i + 1],
			    i == depth - 1 ? NULL : keys[i + 1], (unsigned)i);
		}
	}
	for (int i = 0; i < depth; i++)
		append_pem(&pem, certs[i]);
	if (leaf_pem != NULL) {
		*leaf_pem = NULL;
		append_pem(leaf_pem, certs[0]);
	}
	for (int i = 0; i < depth; i++) {
		gnutls_x509_crt_deinit(certs[i]);
		if (i > 0)
			gnutls_x509_privkey_deinit(keys[i]);
	}
	return pem;
}

static int
count(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

static void
test_parse_chain(void **state)
{
	char **names = tu_strv("www.example.org", "example.org", NULL);
	struct certo_chain c;
	char *leaf, *pem = make_chain(names, 2, 3, &leaf);

	(void)state;
	assert_int_equal(certificate_parse(pem, strlen(pem), &c), 0);
	assert_int_equal(c.ncerts, 3);
	assert_int_equal(c.not_after, NOT_AFTER);
	assert_int_equal(c.nsans, 2);
	assert_string_equal(c.sans[0], "www.example.org");
	assert_string_equal(c.sans[1], "example.org");
	assert_string_equal(c.fullchain, pem);
	assert_string_equal(c.leaf, leaf);
	assert_int_equal(count(c.leaf, "-----BEGIN CERTIFICATE-----"), 1);
	assert_int_equal(count(c.issuers, "-----BEGIN CERTIFICATE-----"), 2);
	assert_string_equal(c.issuers, pem + strlen(leaf));
	/* Leaf then issuers is the whole chain again. */
	{
		char *joined;
		assert_int_equal(asprintf(&joined, "%s%s", c.leaf, c.issuers) >
		    0, 1);
		assert_string_equal(joined, pem);
		free(joined);
	}
	certificate_free(&c);
	assert_null(c.fullchain);
	certificate_free(&c);
	certificate_free(NULL);
	free(leaf);
	free(pem);
	tu_strv_free(names);
}

static void
test_leaf_only(void **state)
{
	char **names = tu_strv("example.org", NULL);
	struct certo_chain c;
	char *pem = make_chain(names, 1, 1, NULL);

	(void)state;
	assert_int_equal(certificate_parse(pem, strlen(pem), &c), 0);
	assert_int_equal(c.ncerts, 1);
	assert_string_equal(c.issuers, "");
	assert_string_equal(c.leaf, pem);
	certificate_free(&c);
	free(pem);
	tu_strv_free(names);
}

static void
test_check(void **state)
{
	char **names = tu_strv("www.example.org", "example.org",
	    "*.example.org", NULL);
	char **reordered = tu_strv("*.example.org", "example.org",
	    "www.example.org", NULL);
	char **fewer = tu_strv("www.example.org", "example.org", NULL);
	char **other = tu_strv("www.example.org", "example.org",
	    "evil.example", NULL);
	char **more = tu_strv("www.example.org", "example.org",
	    "*.example.org", "mail.example.org", NULL);
	struct certo_chain c;
	char *pem = make_chain(names, 3, 2, NULL);

	(void)state;
	assert_int_equal(certificate_parse(pem, strlen(pem), &c), 0);
	assert_int_equal(certificate_check(&c, leaf_key, names, 3), 0);
	assert_int_equal(certificate_check(&c, leaf_key, reordered, 3), 0);
	/* The CA added a name, dropped one, or swapped one. */
	assert_int_equal(certificate_check(&c, leaf_key, fewer, 2),
	    CERTO_EPROTO);
	certo_errclear();
	assert_int_equal(certificate_check(&c, leaf_key, more, 4),
	    CERTO_EPROTO);
	certo_errclear();
	assert_int_equal(certificate_check(&c, leaf_key, other, 3),
	    CERTO_EPROTO);
	certo_errclear();
	/* Not our key. */
	assert_int_equal(certificate_check(&c, other_key, names, 3),
	    CERTO_EPROTO);
	assert_non_null(certo_errmsg());
	certo_errclear();
	certificate_free(&c);
	free(pem);
	tu_strv_free(names);
	tu_strv_free(reordered);
	tu_strv_free(fewer);
	tu_strv_free(other);
	tu_strv_free(more);
}

static void
test_bad_input(void **state)
{
	char **names = tu_strv("example.org", NULL);
	static const char *const bad[] = {
		"",
		"not a certificate",
		"{\"type\":\"urn:ietf:params:acme:error:malformed\"}",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\n",
	};
	struct certo_chain c;
	char *pem, *swapped, *mid;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (certificate_parse(bad[i], strlen(bad[i]), &c) != CERTO_EPROTO)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_null(c.fullchain);
		assert_null(c.sans);
		certo_errclear();
	}
	/* Truncated in the middle of the second certificate. */
	pem = make_chain(names, 1, 2, NULL);
	len = strlen(pem);
	assert_int_equal(certificate_parse(pem, len - 100, &c), CERTO_EPROTO);
	certo_errclear();
	/* A NUL inside. */
	pem[len / 2] = '\0';
	assert_int_equal(certificate_parse(pem, len, &c), CERTO_EPROTO);
	certo_errclear();
	free(pem);
	/* Out of order: the issuer first. */
	pem = make_chain(names, 1, 2, &mid);
	assert_int_equal(asprintf(&swapped, "%s%s", pem + strlen(mid), mid) > 0,
	    1);
	assert_int_equal(certificate_parse(swapped, strlen(swapped), &c),
	    CERTO_EPROTO);
	certo_errclear();
	free(swapped);
	free(mid);
	free(pem);
	tu_strv_free(names);
}

/* More than ten certificates is not a chain we take. */
static void
test_too_long(void **state)
{
	char **names = tu_strv("example.org", NULL);
	struct certo_chain c;
	char *pem = make_chain(names, 1, 11, NULL);

	(void)state;
	assert_int_equal(certificate_parse(pem, strlen(pem), &c), CERTO_EPROTO);
	certo_errclear();
	free(pem);
	pem = make_chain(names, 1, 10, NULL);
	assert_int_equal(certificate_parse(pem, strlen(pem), &c), 0);
	assert_int_equal(c.ncerts, 10);
	certificate_free(&c);
	free(pem);
	tu_strv_free(names);
}

/* Only len bytes are the chain: nothing after them ends up anywhere. */
static void
test_len_respected(void **state)
{
	char **names = tu_strv("example.org", NULL);
	struct certo_chain c;
	char *pem = make_chain(names, 1, 2, NULL), *padded;
	size_t len = strlen(pem);

	(void)state;
	assert_int_equal(asprintf(&padded, "%sTRAILING-GARBAGE", pem) > 0, 1);
	assert_int_equal(certificate_parse(padded, len, &c), 0);
	assert_string_equal(c.fullchain, pem);
	assert_null(strstr(c.issuers, "TRAILING"));
	certificate_free(&c);
	free(padded);
	free(pem);
	tu_strv_free(names);
}

/* CRLF line ends, as some servers send. */
static void
test_crlf(void **state)
{
	char **names = tu_strv("example.org", NULL);
	struct certo_chain c;
	char *pem = make_chain(names, 1, 2, NULL), *crlf, *o;

	(void)state;
	crlf = malloc(2 * strlen(pem) + 1);
	assert_non_null(crlf);
	o = crlf;
	for (const char *p = pem; *p; p++) {
		if (*p == '\n')
			*o++ = '\r';
		*o++ = *p;
	}
	*o = '\0';
	assert_int_equal(certificate_parse(crlf, strlen(crlf), &c), 0);
	assert_int_equal(c.ncerts, 2);
	assert_int_equal(count(c.leaf, "-----BEGIN CERTIFICATE-----"), 1);
	assert_int_equal(count(c.issuers, "-----BEGIN CERTIFICATE-----"), 1);
	assert_int_equal(certificate_check(&c, leaf_key, names, 1), 0);
	certificate_free(&c);
	free(crlf);
	free(pem);
	tu_strv_free(names);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_chain),
		cmocka_unit_test(test_leaf_only),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_len_respected),
		cmocka_unit_test(test_crlf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
