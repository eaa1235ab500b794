/*
 * Private keys from JSON Web Keys (key_parse_jwk, common/key.c), as
 * certo import reads certbot's private_key.json: the example private
 * keys of RFC 7517 appendix A.2 (RSA, EC P-256) and RFC 7515 appendix
 * A.3 (EC P-256), a P-384 test key; a private value that does not belong
 * to the public one, missing and malformed members, unsupported types.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "jws.h"
#include "key.h"

/* RFC 7638 section 3.1: the thumbprint of the RFC 7517 example RSA key. */
#define RSA_THUMBPRINT "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/* Computed apart from certo (tests/fixtures/README.md). */
#define EC7517_THUMBPRINT "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
#define EC7515_THUMBPRINT "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"
/* The d of RFC 7515 appendix A.3, not the one of RFC 7517's EC key. */
#define EC7515_D "\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\""

/* key_parse_jwk on text; rc returned, *out set (NULL on failure). */
static int
parse_text(const char *text, struct certo_key **out)
{
	certo_errclear();
	return key_parse_jwk(text, strlen(text), "test.jwk", out);
}

/* A fixture parsed: it must succeed, with type t and thumbprint tp. */
static void
expect_key(const char *fixture, enum key_type t, const char *tp)
{
	struct certo_key *key = NULL;
	char *text = tu_fixture(fixture, NULL), *thumb = NULL;

	assert_int_equal(parse_text(text, &key), 0);
	assert_non_null(key);
	assert_int_equal(key_get_type(key), t);
	assert_int_equal(jws_thumbprint(key, &thumb), 0);
	assert_string_equal(thumb, tp);
	free(thumb);
	key_free(key);
	free(text);
}

/* text must be refused with code err, no key, a message naming it. */
static void
expect_refused(const char *text, int err)
{
	struct certo_key *key = (struct certo_key *)&key;
	int rc = parse_text(text, &key);

	if (rc != err)
		fail_msg("rc %s, expected %s (%s) for %.200s",
		    certo_errname(rc), certo_errname(err), certo_errmsg(), text);
	assert_null(key);
	assert_non_null(strstr(certo_errmsg(), "test.jwk"));
	assert_true(tu_printable(certo_errmsg()));
}

/* fixture with member path set to value (NULL: removed), refused. */
static void
expect_edit_refused(const char *fixture, const char *path,
    const char *value, int err)
{
	char *text = tu_json_edit(fixture, path, value);

	expect_refused(text, err);
	free(text);
}

static void
test_rsa_rfc7517(void **state)
{
	(void)state;
	expect_key("rfc7517-a2-rsa.jwk", KEY_RSA2048, RSA_THUMBPRINT);
}

static void
test_ec_rfc7517(void **state)
{
	(void)state;
	expect_key("rfc7517-a2-ec.jwk", KEY_EC256, EC7517_THUMBPRINT);
}

static void
test_ec_rfc7515(void **state)
{
	(void)state;
	expect_key("rfc7515-a3-ec.jwk", KEY_EC256, EC7515_THUMBPRINT);
}

/* P-384, y with a leading zero byte: the same key as the PEM file. */
static void
test_ec384(void **state)
{
	struct certo_key *jwk = NULL, *pem = NULL;
	char *text = tu_fixture("testkey-ec384-private.jwk", NULL);
	char *tp = tu_fixture("testkey-ec384.thumbprint", NULL);
	size_t len;
	char *pemtext = tu_fixture("testkey-ec384.pem", &len);

	(void)state;
	tp[strcspn(tp, "\r\n")] = '\0';
	expect_key("testkey-ec384-private.jwk", KEY_EC384, tp);
	assert_int_equal(parse_text(text, &jwk), 0);
	assert_int_equal(key_parse(pemtext, len, "testkey-ec384.pem", &pem), 0);
	assert_true(key_same_public(jwk, pem));
	key_free(jwk);
	key_free(pem);
	free(pemtext);
	free(tp);
	free(text);
}

/* A private value of another key: refused before any use. */
static void
test_wrong_d(void **state)
{
	char *a, *b;

	(void)state;
	expect_edit_refused("rfc7517-a2-ec.jwk", "d", EC7515_D, CERTO_ECRYPTO);
	/* The RSA key's d with its first character changed. */
	a = tu_fixture("rfc7517-a2-rsa.jwk", NULL);
	b = strstr(a, "\"d\":\"X4cTteJY");
	assert_non_null(b);
	b[6] = 'Y';                  /* X4cT... -> Y4cT... */
	expect_refused(a, CERTO_ECRYPTO);
	free(a);
	/* Another q: n is not p times q (q = p would leak in GnuTLS). */
	a = tu_fixture("rfc7517-a2-rsa.jwk", NULL);
	b = strstr(a, "\"q\":\"3dfOR9cu");
	assert_non_null(b);
	b[5] = '4';                  /* 3dfO... -> 4dfO... */
	expect_refused(a, CERTO_ECRYPTO);
	free(a);
}

/* Every member the key is made of is required. */
static void
test_missing_members(void **state)
{
	static const char *const rsa[] = { "n", "e", "d", "p", "q" };
	static const char *const ec[] = { "x", "y", "d" };

	(void)state;
	for (size_t i = 0; i < sizeof(rsa) / sizeof(rsa[0]); i++)
		expect_edit_refused("rfc7517-a2-rsa.jwk", rsa[i], NULL,
		    CERTO_EPROTO);
	for (size_t i = 0; i < sizeof(ec) / sizeof(ec[0]); i++)
		expect_edit_refused("rfc7515-a3-ec.jwk", ec[i], NULL,
		    CERTO_EPROTO);
	expect_edit_refused("rfc7515-a3-ec.jwk", "crv", NULL, CERTO_EPROTO);
	expect_edit_refused("rfc7515-a3-ec.jwk", "kty", NULL, CERTO_EPROTO);
	/* A public JWK (RFC 7517 appendix A.1's EC key) is no private key. */
	expect_edit_refused("rfc7517-a2-ec.jwk", "d", NULL, CERTO_EPROTO);
}

/* Members that are there but unusable. */
static void
test_malformed(void **state)
{
	(void)state;
	expect_edit_refused("rfc7515-a3-ec.jwk", "d", "\"***\"", CERTO_ECRYPTO);
	expect_edit_refused("rfc7515-a3-ec.jwk", "d", "\"\"", CERTO_ECRYPTO);
	expect_edit_refused("rfc7515-a3-ec.jwk", "d", "42", CERTO_EPROTO);
	expect_edit_refused("rfc7515-a3-ec.jwk", "crv", "\"P-521\"",
	    CERTO_ECRYPTO);
	expect_edit_refused("rfc7515-a3-ec.jwk", "kty", "\"oct\"",
	    CERTO_ECRYPTO);
	expect_edit_refused("rfc7517-a2-rsa.jwk", "kty", "\"OKP\"",
	    CERTO_ECRYPTO);
	/* An EC point of the other curve's size. */
	expect_edit_refused("rfc7515-a3-ec.jwk", "crv", "\"P-384\"",
	    CERTO_ECRYPTO);
	expect_refused("{\"kty\":\"EC\"", CERTO_EPROTO);
	expect_refused("[]", CERTO_EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_rfc7517),
		cmocka_unit_test(test_ec_rfc7517),
		cmocka_unit_test(test_ec_rfc7515),
		cmocka_unit_test(test_ec384),
		cmocka_unit_test(test_wrong_d),
		cmocka_unit_test(test_missing_members),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
