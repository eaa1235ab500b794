/*
 * JWK, RFC 7638 thumbprints, JWS signing and verification, key
 * authorizations (common/jws.h).
 */
#include "testutil.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "errors.h"
#include "jws.h"
#include "key.h"

#define RFC7638_THUMBPRINT "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
#define NONCE "6S8IqOGY7eL2lsGoTZYifg"
#define URL_NEWACCT "https://example.com/acme/new-account"
#define KID "https://example.com/acme/acct/evOfKhNU60wg"

/* RFC 8037 appendix A: the Ed25519 key, its thumbprint, a JWS. */
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_THUMBPRINT "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#define RFC8037_JWS "{\"protected\":\"eyJhbGciOiJFZERTQSJ9\"," \
	"\"payload\":\"RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc\"," \
	"\"signature\":\"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcN" \
	"R4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg\"}"

/* Keys generated once for the whole group (RSA generation is slow). */
#define NGEN 4
static struct certo_key *gen[NGEN];
static const enum key_type gen_types[NGEN] = { KEY_EC256, KEY_EC384,
	KEY_RSA2048, KEY_ED25519 };
static char *tmp;

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < NGEN; i++)
		if (key_generate(gen_types[i], &gen[i]) != 0)
			return -1;
	tmp = tu_tmpdir();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NGEN; i++)
		key_free(gen[i]);
	tu_rmtree(tmp);
	free(tmp);
	return 0;
}

/* Load a fixture key (copied 0600: the fixtures are checked out 0644). */
static struct certo_key *
load_fixture_key(const char *name)
{
	char *path = tu_copy_fixture(tmp, name, 0600);
	struct certo_key *k = NULL;
	int rc = key_load(path, &k);

	if (rc != 0)
		fail_msg("key_load %s: %s (%s)", name, certo_errname(rc),
		    certo_errmsg() ? certo_errmsg() : "");
	free(path);
	return k;
}

static char *
sha256_b64(const char *s)
{
	unsigned char d[32];

	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), d),
	    0);
	return tu_b64url(d, sizeof(d));
}

/* Strip one trailing newline a fixture might carry. */
static char *
fixture_line(const char *name)
{
	char *s = tu_fixture(name, NULL);
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * RFC 7638 section 3.1: the canonical JWK of the example key hashes to
 * the published thumbprint.  The RFC gives only the public key, so the
 * canonical form is built here from the fixture's members, the way
 * jws_jwk() builds it (required members, lexicographic, no spaces).
 */
static void
test_rfc7638_vector(void **state)
{
	struct json_object *o;
	char *text = tu_fixture("rfc7638-jwk.json", NULL), *canon, *tp;
	unsigned char d[32];
	char *tp2;

	(void)state;
	o = json_tokener_parse(text);
	assert_non_null(o);
	assert_int_equal(asprintf(&canon, "{\"e\":\"%s\",\"kty\":\"%s\","
	    "\"n\":\"%s\"}", jstr(o, "e"), jstr(o, "kty"), jstr(o, "n")) > 0,
	    1);
	tp = sha256_b64(canon);
	assert_string_equal(tp, RFC7638_THUMBPRINT);
	/* The library's encoder agrees with the reference one. */
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, canon,
	    strlen(canon), d), 0);
	tp2 = b64url_encode(d, sizeof(d));
	assert_string_equal(tp2, RFC7638_THUMBPRINT);
	free(tp2);
	free(tp);
	free(canon);
	json_object_put(o);
	free(text);
}

/*
 * Fixture keys (PKCS#8 and traditional PEM): the JWK and thumbprint
 * equal the ones computed independently (Python cryptography) when the
 * fixtures were made.  The EC-256 key has an x with a leading zero
 * byte, the EC-384 key a y with one: they must stay 32/48 bytes.
 */
static void
test_jwk_fixture_keys(void **state)
{
	static const struct {
		const char *pem;
		const char *base;
		enum key_type type;
		const char *alg;
	} keys[] = {
		{ "testkey-ec256.pem", "testkey-ec256", KEY_EC256, "ES256" },
		{ "testkey-ec256-traditional.pem", "testkey-ec256", KEY_EC256,
		  "ES256" },
		{ "testkey-ec384.pem", "testkey-ec384", KEY_EC384, "ES384" },
		{ "testkey-ec384-traditional.pem", "testkey-ec384", KEY_EC384,
		  "ES384" },
		{ "testkey-rsa2048.pem", "testkey-rsa2048", KEY_RSA2048,
		  "RS256" },
		{ "testkey-rsa2048-traditional.pem", "testkey-rsa2048",
		  KEY_RSA2048, "RS256" },
	};
	char name[128];

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct certo_key *k = load_fixture_key(keys[i].pem);
		char *jwk, *tp, *want_jwk, *want_tp, *ref;

		assert_int_equal(key_get_type(k), keys[i].type);
		assert_string_equal(jws_alg(k), keys[i].alg);
		snprintf(name, sizeof(name), "%s.jwk", keys[i].base);
		want_jwk = fixture_line(name);
		snprintf(name, sizeof(name), "%s.thumbprint", keys[i].base);
		want_tp = fixture_line(name);
		assert_int_equal(jws_jwk(k, &jwk), 0);
		assert_string_equal(jwk, want_jwk);
		assert_int_equal(jws_thumbprint(k, &tp), 0);
		assert_string_equal(tp, want_tp);
		ref = sha256_b64(jwk);
		assert_string_equal(tp, ref);
		free(ref);
		free(jwk);
		free(tp);
		free(want_jwk);
		free(want_tp);
		key_free(k);
	}
}

/*
 * RFC 8037 appendix A: the example Ed25519 key (A.1) has the JWK of A.2
 * and the thumbprint of A.3, and the JWS of A.4 verifies with it.
 */
static void
test_rfc8037_vectors(void **state)
{
	struct certo_key *k = load_fixture_key("rfc8037-ed25519.pem");
	char *jwk, *tp, *payload = NULL, *hdr = NULL;

	(void)state;
	assert_int_equal(key_get_type(k), KEY_ED25519);
	assert_string_equal(jws_alg(k), "EdDSA");
	assert_int_equal(jws_jwk(k, &jwk), 0);
	assert_string_equal(jwk, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
	    "\"x\":\"" RFC8037_X "\"}");
	assert_int_equal(jws_thumbprint(k, &tp), 0);
	assert_string_equal(tp, RFC8037_THUMBPRINT);
	assert_int_equal(jws_verify(RFC8037_JWS, k, &payload, &hdr), 0);
	assert_string_equal(payload, "Example of Ed25519 signing");
	assert_string_equal(hdr, "{\"alg\":\"EdDSA\"}");
	free(payload);
	free(hdr);
	/* No jwk in that header: nothing to verify with. */
	assert_int_equal(jws_verify(RFC8037_JWS, NULL, NULL, NULL),
	    CERTO_EPROTO);
	certo_errclear();
	/* Another Ed25519 key does not verify it. */
	assert_int_equal(jws_verify(RFC8037_JWS, gen[3], NULL, NULL),
	    CERTO_ECRYPTO);
	certo_errclear();
	free(jwk);
	free(tp);
	key_free(k);
}

/* Decode a base64url member of o, failing the test if it does not. */
static unsigned char *
b64member(struct json_object *o, const char *key, size_t *len)
{
	const char *s = jstr(o, key);
	unsigned char *d = NULL;

	if (s == NULL)
		fail_msg("member \"%s\" missing", key);
	if (b64url_decode(s, &d, len) != 0)
		fail_msg("member \"%s\" is not base64url: %s", key, s);
	return d;
}

/*
 * jws_jwk() of generated keys: RFC 7638 member order and nothing else,
 * coordinates of exactly the curve size, RSA without leading zeros.
 */
static void
test_jwk_format_generated(void **state)
{
	(void)state;
	for (int i = 0; i < NGEN; i++) {
		struct json_object *o;
		char *jwk, *tp, *ref;
		unsigned char *x, *y;
		size_t xl, yl;

		assert_int_equal(jws_jwk(gen[i], &jwk), 0);
		assert_null(strpbrk(jwk, " \t\r\n"));
		o = json_tokener_parse(jwk);
		assert_non_null(o);
		if (gen_types[i] == KEY_RSA2048) {
			assert_true(strncmp(jwk, "{\"e\":\"AQAB\",\"kty\":\"RSA\","
			    "\"n\":\"", 29) == 0);
			assert_int_equal(json_object_object_length(o), 3);
			x = b64member(o, "n", &xl);
			assert_int_equal(xl, 256);
			assert_int_not_equal(x[0], 0);
			free(x);
		} else if (gen_types[i] == KEY_ED25519) {
			/* RFC 8037 section 2: crv, kty, x (32 bytes). */
			const char *pre = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
			    "\"x\":\"";
			assert_true(strncmp(jwk, pre, strlen(pre)) == 0);
			assert_int_equal(json_object_object_length(o), 3);
			x = b64member(o, "x", &xl);
			assert_int_equal(xl, 32);
			free(x);
		} else {
			size_t sz = gen_types[i] == KEY_EC256 ? 32 : 48;
			const char *pre = gen_types[i] == KEY_EC256 ?
			    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" :
			    "{\"crv\":\"P-384\",\"kty\":\"EC\",\"x\":\"";
			assert_true(strncmp(jwk, pre, strlen(pre)) == 0);
			assert_non_null(strstr(jwk, "\",\"y\":\""));
			assert_true(strstr(jwk, "\"x\"") < strstr(jwk, "\"y\""));
			assert_int_equal(json_object_object_length(o), 4);
			x = b64member(o, "x", &xl);
			y = b64member(o, "y", &yl);
			assert_int_equal(xl, sz);
			assert_int_equal(yl, sz);
			free(x);
			free(y);
		}
		assert_string_equal(jwk + strlen(jwk) - 2, "\"}");
		assert_int_equal(jws_thumbprint(gen[i], &tp), 0);
		ref = sha256_b64(jwk);
		assert_string_equal(tp, ref);
		assert_int_equal(strlen(tp), 43);
		free(ref);
		free(tp);
		json_object_put(o);
		free(jwk);
	}
}

struct parsed_jws {
	struct json_object *outer;
	struct json_object *hdr;
	char *payload;
	unsigned char *sig;
	size_t siglen;
};

static void
parse_jws(const char *jws, struct parsed_jws *p)
{
	unsigned char *ph, *pl;
	size_t phl, pll;

	memset(p, 0, sizeof(*p));
	p->outer = json_tokener_parse(jws);
	assert_non_null(p->outer);
	/* Flattened JSON serialization: exactly these three members. */
	assert_int_equal(json_object_object_length(p->outer), 3);
	ph = b64member(p->outer, "protected", &phl);
	pl = b64member(p->outer, "payload", &pll);
	p->sig = b64member(p->outer, "signature", &p->siglen);
	{
		char *h = tu_memdup0(ph, phl);
		p->hdr = json_tokener_parse(h);
		free(h);
	}
	assert_non_null(p->hdr);
	p->payload = tu_memdup0(pl, pll);
	free(ph);
	free(pl);
}

static void
free_jws(struct parsed_jws *p)
{
	json_object_put(p->outer);
	json_object_put(p->hdr);
	free(p->payload);
	free(p->sig);
}

static size_t
sig_size(enum key_type t)
{
	switch (t) {
	case KEY_EC256:
		return 64;
	case KEY_EC384:
		return 96;
	case KEY_RSA2048:
		return 256;
	case KEY_RSA3072:
		return 384;
	case KEY_RSA4096:
		return 512;
	case KEY_ED25519:
		return 64;
	default:
		return 0;
	}
}

/* Sign with k (by jwk or kid), check the shape, verify, tamper. */
static void
round_trip(struct certo_key *k, const struct certo_key *other,
    const char *kid, const char *payload)
{
	struct parsed_jws p;
	struct json_object *v;
	char *jws, *got = NULL, *hdr = NULL;
	int rc;

	rc = jws_sign(k, kid, NONCE, URL_NEWACCT, payload, &jws);
	assert_int_equal(rc, 0);
	parse_jws(jws, &p);
	assert_string_equal(jstr(p.hdr, "alg"), jws_alg(k));
	assert_string_equal(jstr(p.hdr, "nonce"), NONCE);
	assert_string_equal(jstr(p.hdr, "url"), URL_NEWACCT);
	/* kid XOR jwk (RFC 8555 section 6.2). */
	if (kid != NULL) {
		assert_string_equal(jstr(p.hdr, "kid"), kid);
		assert_false(json_object_object_get_ex(p.hdr, "jwk", NULL));
	} else {
		char *want;
		assert_false(json_object_object_get_ex(p.hdr, "kid", NULL));
		assert_true(json_object_object_get_ex(p.hdr, "jwk", &v));
		assert_true(json_object_is_type(v, json_type_object));
		assert_int_equal(jws_jwk(k, &want), 0);
		assert_string_equal(json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		    want);
		free(want);
	}
	assert_int_equal(json_object_object_length(p.hdr), 4);
	assert_string_equal(p.payload, payload);
	assert_int_equal(p.siglen, sig_size(key_get_type(k)));

	/* Verify against the key, and by the embedded jwk when present. */
	assert_int_equal(jws_verify(jws, k, &got, &hdr), 0);
	assert_string_equal(got, payload);
	assert_non_null(hdr);
	assert_non_null(strstr(hdr, NONCE));
	free(got);
	free(hdr);
	got = NULL;
	if (kid == NULL) {
		assert_int_equal(jws_verify(jws, NULL, &got, NULL), 0);
		assert_string_equal(got, payload);
		free(got);
		got = NULL;
	} else {
		/* No jwk to verify with: malformed for a key-less verify. */
		assert_int_equal(jws_verify(jws, NULL, NULL, NULL),
		    CERTO_EPROTO);
	}
	certo_errclear();
	/* Another key of any type must not verify it. */
	rc = jws_verify(jws, other, &got, NULL);
	assert_int_not_equal(rc, 0);
	assert_null(got);
	certo_errclear();
	free_jws(&p);
	free(jws);
}

static void
test_sign_verify_jwk(void **state)
{
	(void)state;
	for (int i = 0; i < NGEN; i++)
		round_trip(gen[i], gen[(i + 1) % NGEN], NULL,
		    "{\"termsOfServiceAgreed\":true,\"contact\":"
		    "[\"mailto:cert-admin@example.org\"]}");
	/* Same type, different key. */
	{
		struct certo_key *k2;
		assert_int_equal(key_generate(KEY_EC256, &k2), 0);
		round_trip(gen[0], k2, NULL, "{}");
		key_free(k2);
	}
}

static void
test_sign_verify_kid(void **state)
{
	(void)state;
	for (int i = 0; i < NGEN; i++)
		round_trip(gen[i], gen[(i + 2) % NGEN], KID,
		    "{\"identifiers\":[{\"type\":\"dns\","
		    "\"value\":\"www.example.org\"}]}");
}

/* POST-as-GET: the payload is the empty string, "payload":"". */
static void
test_post_as_get(void **state)
{
	(void)state;
	for (int i = 0; i < NGEN; i++) {
		char *jws, *got = NULL;
		round_trip(gen[i], gen[(i + 1) % NGEN], KID, "");
		assert_int_equal(jws_sign(gen[i], KID, NONCE, KID, "", &jws), 0);
		assert_non_null(strstr(jws, "\"payload\":\"\""));
		assert_int_equal(jws_verify(jws, gen[i], &got, NULL), 0);
		assert_string_equal(got, "");
		free(got);
		free(jws);
	}
}

/* Replace member key of a flattened JWS by value (a JSON string). */
static char *
replace_member(const char *jws, const char *key, const char *value)
{
	struct json_object *o = json_tokener_parse(jws);
	char *s;

	assert_non_null(o);
	json_object_object_add(o, key, json_object_new_string(value));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static void
test_tampered(void **state)
{
	(void)state;
	for (int i = 0; i < NGEN; i++) {
		struct parsed_jws p;
		char *jws, *bad, *b64, *got = NULL, *h2;
		size_t n;

		assert_int_equal(jws_sign(gen[i], NULL, NONCE, URL_NEWACCT,
		    "{\"status\":\"deactivated\"}", &jws), 0);
		parse_jws(jws, &p);

		/* Another payload under the same signature. */
		b64 = b64url_encode("{\"status\":\"valid\"}", 18);
		bad = replace_member(jws, "payload", b64);
		assert_int_equal(jws_verify(bad, gen[i], &got, NULL),
		    CERTO_ECRYPTO);
		assert_null(got);
		assert_int_equal(jws_verify(bad, NULL, &got, NULL),
		    CERTO_ECRYPTO);
		assert_null(got);
		free(bad);
		free(b64);

		/* Another url in the protected header. */
		json_object_object_add(p.hdr, "url",
		    json_object_new_string("https://evil.example/acme"));
		h2 = strdup(json_object_to_json_string_ext(p.hdr,
		    JSON_C_TO_STRING_PLAIN));
		b64 = b64url_encode(h2, strlen(h2));
		bad = replace_member(jws, "protected", b64);
		assert_int_equal(jws_verify(bad, gen[i], NULL, NULL),
		    CERTO_ECRYPTO);
		free(bad);
		free(b64);
		free(h2);

		/* One bit of the signature flipped. */
		p.sig[p.siglen / 2] ^= 0x01;
		b64 = b64url_encode(p.sig, p.siglen);
		bad = replace_member(jws, "signature", b64);
		assert_int_equal(jws_verify(bad, gen[i], NULL, NULL),
		    CERTO_ECRYPTO);
		free(bad);
		free(b64);

		/* A truncated signature. */
		n = p.siglen - 2;
		b64 = b64url_encode(p.sig, n);
		bad = replace_member(jws, "signature", b64);
		assert_int_not_equal(jws_verify(bad, gen[i], NULL, NULL), 0);
		free(bad);
		free(b64);

		certo_errclear();
		free_jws(&p);
		free(jws);
	}
}

static void
test_verify_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"protected\":\"e30\",\"payload\":\"\"}",
		"{\"protected\":\"e30\",\"signature\":\"AAAA\"}",
		"{\"payload\":\"\",\"signature\":\"AAAA\"}",
		"{\"protected\":\"!!\",\"payload\":\"\",\"signature\":\"AAAA\"}",
		"{\"protected\":1,\"payload\":\"\",\"signature\":\"AAAA\"}",
		/* protected = {} : no alg */
		"{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AAAA\"}",
		/* protected = {"alg":"none"} */
		"{\"protected\":\"eyJhbGciOiJub25lIn0\",\"payload\":\"\","
		"\"signature\":\"\"}",
		/* protected = {"alg":"HS256"} */
		"{\"protected\":\"eyJhbGciOiJIUzI1NiJ9\",\"payload\":\"\","
		"\"signature\":\"AAAA\"}",
		/* protected = "x" (not an object) */
		"{\"protected\":\"Ingi\",\"payload\":\"\",\"signature\":\"AAAA\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *got = NULL, *hdr = NULL;
		int rc = jws_verify(bad[i], gen[0], &got, &hdr);
		if (rc != CERTO_EPROTO)
			fail_msg("jws_verify(%s) = %s, want EPROTO", bad[i],
			    certo_errname(rc));
		assert_null(got);
		assert_null(hdr);
		certo_errclear();
	}
}

/* The "alg" of an EC-256 JWS on an EC-384 key, and the like. */
static void
test_verify_alg_mismatch(void **state)
{
	char *jws;

	(void)state;
	assert_int_equal(jws_sign(gen[0], KID, NONCE, URL_NEWACCT, "{}", &jws),
	    0);
	assert_int_not_equal(jws_verify(jws, gen[1], NULL, NULL), 0);
	assert_int_not_equal(jws_verify(jws, gen[2], NULL, NULL), 0);
	certo_errclear();
	free(jws);
}

/* Bigger RSA keys, once each, when generating one is quick enough. */
static void
test_sign_verify_rsa_big(void **state)
{
	static const enum key_type t[] = { KEY_RSA3072, KEY_RSA4096 };

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct certo_key *k;
		struct timespec a, b;
		double secs;

		clock_gettime(CLOCK_MONOTONIC, &a);
		assert_int_equal(key_generate(t[i], &k), 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		secs = (double)(b.tv_sec - a.tv_sec) +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		assert_int_equal(key_get_type(k), t[i]);
		assert_string_equal(jws_alg(k), "RS256");
		round_trip(k, gen[0], NULL, "{}");
		round_trip(k, gen[2], KID, "");
		key_free(k);
		printf("# %s generated in %.2f s\n", key_type_name(t[i]), secs);
		/* 4096 can take long on a slow machine: stop there. */
		if (secs > 5.0)
			break;
	}
}

static void
test_key_authorization(void **state)
{
	struct certo_key *k = load_fixture_key("testkey-ec256.pem");
	char *tp = fixture_line("testkey-ec256.thumbprint"), *ka, *want;

	(void)state;
	assert_int_equal(jws_key_authorization(k,
	    "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", &ka), 0);
	assert_int_equal(asprintf(&want, "%s.%s",
	    "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", tp) > 0, 1);
	assert_string_equal(ka, want);
	free(ka);
	free(want);
	for (int i = 0; i < NGEN; i++) {
		char *t2;
		assert_int_equal(jws_key_authorization(gen[i],
		    "DGyRejmCefe7v4NfDGDKfA", &ka), 0);
		assert_int_equal(jws_thumbprint(gen[i], &t2), 0);
		assert_int_equal(strncmp(ka, "DGyRejmCefe7v4NfDGDKfA.", 23), 0);
		assert_string_equal(ka + 23, t2);
		free(t2);
		free(ka);
	}
	/* Tokens that are not base64url never become key authorizations. */
	{
		static const char *const bad[] = { "../x", "", "a b", "abc=",
			"a/b", "tok\n", "\xff" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			ka = NULL;
			if (jws_key_authorization(k, bad[i], &ka) == 0)
				fail_msg("accepted token \"%s\"", bad[i]);
			assert_null(ka);
			certo_errclear();
		}
	}
	free(tp);
	key_free(k);
}

/*
 * External Account Binding (RFC 8555 7.3.4): HS256 over the account
 * key's JWK with the decoded MAC key, checked with an HMAC computed here.
 */
static void
test_eab(void **state)
{
	static const unsigned char mac_key[] = "0123456789abcdef0123456789abcdef";
	struct parsed_jws p;
	unsigned char want[32];
	char *b64key = tu_b64url(mac_key, 32), *jws = NULL, *jwk = NULL;
	char *input = NULL;

	(void)state;
	assert_int_equal(jws_eab(gen[0], "kid-1", b64key, URL_NEWACCT, &jws),
	    0);
	parse_jws(jws, &p);
	assert_string_equal(jstr(p.hdr, "alg"), "HS256");
	assert_string_equal(jstr(p.hdr, "kid"), "kid-1");
	assert_string_equal(jstr(p.hdr, "url"), URL_NEWACCT);
	assert_int_equal(json_object_object_length(p.hdr), 3);
	assert_int_equal(jws_jwk(gen[0], &jwk), 0);
	assert_string_equal(p.payload, jwk);
	assert_true(asprintf(&input, "%s.%s", jstr(p.outer, "protected"),
	    jstr(p.outer, "payload")) > 0);
	assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256, mac_key, 32,
	    input, strlen(input), want), 0);
	assert_int_equal(p.siglen, 32);
	assert_memory_equal(p.sig, want, 32);
	free_jws(&p);
	free(input);
	free(jwk);
	free(jws);
	/* A MAC key that is not base64url is the user's mistake. */
	assert_int_equal(jws_eab(gen[0], "kid-1", "not base64!", URL_NEWACCT,
	    &jws), CERTO_EUSAGE);
	assert_null(jws);
	certo_errclear();
	free(b64key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7638_vector),
		cmocka_unit_test(test_jwk_fixture_keys),
		cmocka_unit_test(test_rfc8037_vectors),
		cmocka_unit_test(test_jwk_format_generated),
		cmocka_unit_test(test_sign_verify_jwk),
		cmocka_unit_test(test_sign_verify_kid),
		cmocka_unit_test(test_post_as_get),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_verify_alg_mismatch),
		cmocka_unit_test(test_sign_verify_rsa_big),
		cmocka_unit_test(test_key_authorization),
		cmocka_unit_test(test_eab),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
