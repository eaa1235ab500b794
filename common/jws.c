/* JWS/JWK with GnuTLS. */
#include "jws.h"

#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "json.h"
#include "key_priv.h"
#include "sha256.h"

/* "ES256", "ES384", "RS256" or "EdDSA". */
const char *
jws_alg(const struct certo_key *key)
{
	switch (key->type) {
	case KEY_EC256:
		return "ES256";
	case KEY_EC384:
		return "ES384";
	case KEY_ED25519:
		return "EdDSA";
	default:
		return "RS256";
	}
}

static gnutls_sign_algorithm_t
sign_algo(const char *alg)
{
	if (strcmp(alg, "ES256") == 0)
		return GNUTLS_SIGN_ECDSA_SHA256;
	if (strcmp(alg, "ES384") == 0)
		return GNUTLS_SIGN_ECDSA_SHA384;
	if (strcmp(alg, "RS256") == 0)
		return GNUTLS_SIGN_RSA_SHA256;
	if (strcmp(alg, "EdDSA") == 0)
		return GNUTLS_SIGN_EDDSA_ED25519;
	return GNUTLS_SIGN_UNKNOWN;
}

/* base64url of an unsigned big-endian integer left-padded to size bytes
 * (size 0: minimal, no leading zeros). */
static char *
b64_uint(const gnutls_datum_t *d, unsigned size)
{
	const unsigned char *p = d->data;
	unsigned n = d->size;
	unsigned char buf[1024];

	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	if (size == 0)
		size = n ? n : 1;
	if (n > size || size > sizeof(buf))
		return NULL;
	memset(buf, 0, size - n);
	memcpy(buf + size - n, p, n);
	return b64url_encode(buf, size);
}

/* The public JWK of key as canonical JSON (RFC 7638). */
int
jws_jwk(const struct certo_key *key, char **out)
{
	/* EC: x and y; Ed25519: x; RSA: n and e. */
	gnutls_datum_t first = { NULL, 0 }, second = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	char *s1 = NULL, *s2 = NULL;
	int ret, rc = 0;

	*out = NULL;
	if (key->type == KEY_EC256 || key->type == KEY_EC384) {
		ret = gnutls_pubkey_export_ecc_raw2(key->pub, &curve, &first,
		    &second, 0);
		if (ret < 0)
			goto crypto;
		s1 = b64_uint(&first, key_ec_size(key));
		s2 = b64_uint(&second, key_ec_size(key));
		if (s1 == NULL || s2 == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		/* Members in lexicographic order (RFC 7638 section 3.2). */
		if (asprintf(out, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
		    "\"y\":\"%s\"}", key->type == KEY_EC256 ? "P-256" : "P-384",
		    s1, s2) < 0)
			*out = NULL;
	} else if (key->type == KEY_ED25519) {
		ret = gnutls_pubkey_export_ecc_raw2(key->pub, &curve, &first,
		    NULL, 0);
		if (ret < 0)
			goto crypto;
		if ((s1 = b64url_encode(first.data, first.size)) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		if (asprintf(out, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
		    "\"x\":\"%s\"}", s1) < 0)
			*out = NULL;
	} else {
		ret = gnutls_pubkey_export_rsa_raw2(key->pub, &first, &second,
		    0);
		if (ret < 0)
			goto crypto;
		s1 = b64_uint(&first, 0);
		s2 = b64_uint(&second, 0);
		if (s1 == NULL || s2 == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		if (asprintf(out, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
		    s2, s1) < 0)
			*out = NULL;
	}
	if (*out == NULL)
		rc = CERTO_ENOMEM;
	goto out;
crypto:
	rc = certo_fail(CERTO_ECRYPTO, "exporting public key: %s",
	    gnutls_strerror(ret));
out:
	gnutls_free(first.data);
	gnutls_free(second.data);
	free(s1);
	free(s2);
	return rc;
}

/* The JWK thumbprint: base64url(SHA-256(canonical JWK)), malloc'd. */
int
jws_thumbprint(const struct certo_key *key, char **out)
{
	unsigned char digest[SHA256_LEN];
	char *jwk;
	int rc;

	*out = NULL;
	if ((rc = jws_jwk(key, &jwk)) != 0)
		return rc;
	if ((rc = sha256(jwk, strlen(jwk), digest)) == 0 &&
	    (*out = b64url_encode(digest, sizeof(digest))) == NULL)
		rc = CERTO_ENOMEM;
	free(jwk);
	return rc;
}

/* The key authorization token "." thumbprint (RFC 8555 8.1). */
int
jws_key_authorization(const struct certo_key *key, const char *token,
    char **out)
{
	char *tp;
	int rc;

	*out = NULL;
	if (!b64url_valid(token))
		return certo_fail(CERTO_EPROTO, "challenge token is not "
		    "base64url");
	if ((rc = jws_thumbprint(key, &tp)) != 0)
		return rc;
	if (asprintf(out, "%s.%s", token, tp) < 0) {
		*out = NULL;
		rc = CERTO_ENOMEM;
	}
	free(tp);
	return rc;
}

/* Sign data; for ECDSA return raw r||s. */
static int
sign_raw(const struct certo_key *key, const char *data, size_t len,
    unsigned char **sig, size_t *siglen)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)data,
		(unsigned)len };
	gnutls_datum_t der = { NULL, 0 }, r = { NULL, 0 }, s = { NULL, 0 };
	unsigned size = key_ec_size(key);
	int ret, rc = 0;

	*siglen = 0;

	*sig = NULL;
	ret = gnutls_privkey_sign_data2(key->priv, sign_algo(jws_alg(key)), 0,
	    &in, &der);
	if (ret < 0)
		return certo_fail(CERTO_ECRYPTO, "signing: %s",
		    gnutls_strerror(ret));
	if (size == 0) {
		if ((*sig = malloc(der.size)) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		memcpy(*sig, der.data, der.size);
		*siglen = der.size;
		goto out;
	}
	if ((ret = gnutls_decode_rs_value(&der, &r, &s)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "decoding signature: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((*sig = calloc(2, size)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	/* Each half: strip DER's sign zeros, left-pad to the curve size. */
	for (int i = 0; i < 2; i++) {
		const gnutls_datum_t *v = i == 0 ? &r : &s;
		const unsigned char *p = v->data;
		unsigned n = v->size;
		while (n > 0 && *p == 0) {
			p++;
			n--;
		}
		if (n > size) {
			free(*sig);
			*sig = NULL;
			rc = certo_fail(CERTO_ECRYPTO, "signature value too long");
			goto out;
		}
		memcpy(*sig + i * size + (size - n), p, n);
	}
	*siglen = 2 * (size_t)size;
out:
	gnutls_free(der.data);
	gnutls_free(r.data);
	gnutls_free(s.data);
	return rc;
}

/* Makes the signature of input into *sig (malloc'd, *siglen bytes). */
typedef int (*jws_signer)(const void *ctx, const char *input,
    unsigned char **sig, size_t *siglen);

/*
 * The flattened JWS JSON of the protected header hdr (JSON text) and
 * payload, signed by sign(ctx, "<b64 hdr>.<b64 payload>"), into *out.
 */
static int
jws_flatten(const char *hdr, const char *payload, jws_signer sign,
    const void *ctx, char **out)
{
	char *p64 = NULL, *b64 = NULL, *input = NULL, *s64 = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc = 0;

	*out = NULL;
	if (hdr == NULL || (p64 = b64url_encode(hdr, strlen(hdr))) == NULL ||
	    (b64 = b64url_encode(payload, strlen(payload))) == NULL ||
	    asprintf(&input, "%s.%s", p64, b64) < 0) {
		input = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = sign(ctx, input, &sig, &siglen)) != 0)
		goto out;
	if ((s64 = b64url_encode(sig, siglen)) == NULL ||
	    asprintf(out, "{\"protected\":\"%s\",\"payload\":\"%s\","
	    "\"signature\":\"%s\"}", p64, b64, s64) < 0) {
		*out = NULL;
		rc = CERTO_ENOMEM;
	}
out:
	free(p64);
	free(b64);
	free(input);
	free(sig);
	free(s64);
	return rc;
}

/* jws_signer with the private key ctx. */
static int
sign_with_key(const void *ctx, const char *input, unsigned char **sig,
    size_t *siglen)
{
	return sign_raw(ctx, input, strlen(input), sig, siglen);
}

/*
 * Sign payload (a JSON text, or "" for POST-as-GET) for url as a
 * flattened JWS JSON object.
 */
int
jws_sign(const struct certo_key *key, const char *kid, const char *nonce,
    const char *url, const char *payload, char **out)
{
	struct json_object *hdr = NULL, *jwk = NULL;
	char *jwkstr = NULL;
	int rc;

	*out = NULL;
	if ((hdr = json_object_new_object()) == NULL)
		return CERTO_ENOMEM;
	json_object_object_add(hdr, "alg",
	    json_object_new_string(jws_alg(key)));
	if (kid != NULL) {
		json_object_object_add(hdr, "kid", json_object_new_string(kid));
	} else {
		if ((rc = jws_jwk(key, &jwkstr)) != 0)
			goto out;
		if ((rc = json_parse_object(jwkstr, strlen(jwkstr), "jwk",
		    &jwk)) != 0)
			goto out;
		json_object_object_add(hdr, "jwk", jwk);
		jwk = NULL; /* owned by hdr now */
	}
	if (nonce != NULL)
		json_object_object_add(hdr, "nonce",
		    json_object_new_string(nonce));
	json_object_object_add(hdr, "url", json_object_new_string(url));
	rc = jws_flatten(json_object_to_json_string_ext(hdr,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), payload,
	    sign_with_key, key, out);
out:
	json_object_put(hdr);
	json_object_put(jwk);
	free(jwkstr);
	return rc;
}

/* Import the public key of a JWK object. */
static int
jwk_import(struct json_object *jwk, gnutls_pubkey_t *pub)
{
	char *kty = NULL, *a = NULL, *b = NULL, *crv = NULL;
	unsigned char *da = NULL, *db = NULL;
	size_t la, lb;
	gnutls_datum_t x, y;
	int rc, ret = 0;

	*pub = NULL;
	if ((rc = json_get_str(jwk, "jwk", "kty", true, 16, &kty)) != 0)
		goto out;
	if (strcmp(kty, "EC") == 0) {
		if ((rc = json_get_str(jwk, "jwk", "crv", true, 16, &crv)) ||
		    (rc = json_get_str(jwk, "jwk", "x", true, 256, &a)) ||
		    (rc = json_get_str(jwk, "jwk", "y", true, 256, &b)))
			goto out;
	} else if (strcmp(kty, "OKP") == 0) {
		if ((rc = json_get_str(jwk, "jwk", "crv", true, 16, &crv)) ||
		    (rc = json_get_str(jwk, "jwk", "x", true, 256, &a)))
			goto out;
		if (strcmp(crv, "Ed25519") != 0) {
			rc = certo_fail(CERTO_EPROTO, "jwk: unsupported OKP curve");
			goto out;
		}
		if ((b = strdup("")) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
	} else if (strcmp(kty, "RSA") == 0) {
		if ((rc = json_get_str(jwk, "jwk", "n", true, 4096, &a)) ||
		    (rc = json_get_str(jwk, "jwk", "e", true, 64, &b)))
			goto out;
	} else {
		rc = certo_fail(CERTO_EPROTO, "jwk: unsupported kty");
		goto out;
	}
	if ((rc = b64url_decode(a, &da, &la)) != 0 ||
	    (rc = b64url_decode(b, &db, &lb)) != 0)
		goto out;
	x.data = da;
	x.size = (unsigned)la;
	y.data = db;
	y.size = (unsigned)lb;
	if ((ret = gnutls_pubkey_init(pub)) < 0)
		goto out;
	if (crv != NULL && strcmp(crv, "Ed25519") == 0)
		ret = gnutls_pubkey_import_ecc_raw(*pub, GNUTLS_ECC_CURVE_ED25519,
		    &x, NULL);
	else if (crv != NULL && (strcmp(crv, "P-256") == 0 ||
	    strcmp(crv, "P-384") == 0))
		ret = gnutls_pubkey_import_ecc_raw(*pub,
		    strcmp(crv, "P-384") == 0 ? GNUTLS_ECC_CURVE_SECP384R1 :
		    GNUTLS_ECC_CURVE_SECP256R1, &x, &y);
	else if (crv != NULL)
		ret = GNUTLS_E_ECC_UNSUPPORTED_CURVE;
	else
		ret = gnutls_pubkey_import_rsa_raw(*pub, &x, &y);
out:
	if (ret < 0)
		rc = certo_fail(CERTO_ECRYPTO, "jwk: %s", gnutls_strerror(ret));
	if (rc != 0 && *pub) {
		gnutls_pubkey_deinit(*pub);
		*pub = NULL;
	}
	free(kty);
	free(crv);
	free(a);
	free(b);
	free(da);
	free(db);
	return rc;
}

/*
 * The signature of a JWS as GnuTLS verifies it: RSA and EdDSA as they
 * are, ECDSA's fixed-size r||s encoded as DER into *der (caller
 * gnutls_free()s der->data).
 */
static int
sig_datum(gnutls_sign_algorithm_t sa, unsigned char *sig, size_t sigl,
    gnutls_datum_t *sd, gnutls_datum_t *der)
{
	gnutls_datum_t r, s;
	int ret;

	if (sa == GNUTLS_SIGN_RSA_SHA256 || sa == GNUTLS_SIGN_EDDSA_ED25519) {
		sd->data = sig;
		sd->size = (unsigned)sigl;
		return 0;
	}
	if (sigl % 2 != 0 || sigl == 0)
		return certo_fail(CERTO_ECRYPTO, "jws: bad signature size");
	r.data = sig;
	r.size = (unsigned)(sigl / 2);
	s.data = sig + sigl / 2;
	s.size = (unsigned)(sigl / 2);
	if ((ret = gnutls_encode_rs_value(der, &r, &s)) < 0)
		return certo_fail(CERTO_ECRYPTO, "jws: %s", gnutls_strerror(ret));
	*sd = *der;
	return 0;
}

/* A NUL-terminated copy of the n decoded bytes at p into *out. */
static int
copy_decoded(char **out, const unsigned char *p, size_t n)
{
	if (out == NULL)
		return 0;
	if ((*out = malloc(n + 1)) == NULL)
		return CERTO_ENOMEM;
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return 0;
}

/* The parts of a flattened JWS, as sent and decoded. */
struct jws_parts {
	char *p64, *b64, *s64;        /* protected, payload, signature */
	unsigned char *ph, *pl, *sig; /* the same, decoded */
	size_t phl, pll, sigl;
};

static void
jws_parts_free(struct jws_parts *parts)
{
	free(parts->p64);
	free(parts->b64);
	free(parts->s64);
	free(parts->ph);
	free(parts->pl);
	free(parts->sig);
}

/* Parse the JWS JSON text and decode its three members. */
static int
jws_parts_parse(const char *jws, struct jws_parts *parts)
{
	struct json_object *doc = NULL;
	int rc;

	if ((rc = json_parse_object(jws, strlen(jws), "jws", &doc)) != 0 ||
	    (rc = json_get_str(doc, "jws", "protected", true, 65536,
	    &parts->p64)) ||
	    (rc = json_get_str(doc, "jws", "payload", true, 1 << 20,
	    &parts->b64)) ||
	    (rc = json_get_str(doc, "jws", "signature", true, 4096,
	    &parts->s64)) ||
	    (rc = b64url_decode(parts->p64, &parts->ph, &parts->phl)) != 0 ||
	    (rc = b64url_decode(parts->b64, &parts->pl, &parts->pll)) != 0 ||
	    (rc = b64url_decode(parts->s64, &parts->sig, &parts->sigl)) != 0) {
		json_object_put(doc);
		return rc;
	}
	json_object_put(doc);
	return 0;
}

/* Verify a flattened JWS with key, or the jwk of its header (jws.h). */
int
jws_verify(const char *jws, const struct certo_key *key, char **payload,
    char **protected_json)
{
	struct jws_parts parts = { 0 };
	struct json_object *hdr = NULL, *jwk = NULL;
	char *alg = NULL, *input = NULL;
	gnutls_pubkey_t own = NULL, pub;
	gnutls_datum_t data, sd = { NULL, 0 }, der = { NULL, 0 };
	gnutls_sign_algorithm_t sa;
	int rc, ret;

	if (payload)
		*payload = NULL;
	if (protected_json)
		*protected_json = NULL;
	if ((rc = jws_parts_parse(jws, &parts)) != 0 ||
	    (rc = json_parse_object((char *)parts.ph, parts.phl,
	    "jws protected header", &hdr)) != 0 ||
	    (rc = json_get_str(hdr, "jws", "alg", true, 16, &alg)) != 0)
		goto out;
	if ((sa = sign_algo(alg)) == GNUTLS_SIGN_UNKNOWN) {
		rc = certo_fail(CERTO_EPROTO, "jws: unsupported alg");
		goto out;
	}
	if (key != NULL) {
		pub = key->pub;
	} else {
		if ((rc = json_get_object(hdr, "jws", "jwk", true, &jwk)) != 0 ||
		    (rc = jwk_import(jwk, &own)) != 0)
			goto out;
		pub = own;
	}
	if (asprintf(&input, "%s.%s", parts.p64, parts.b64) < 0) {
		input = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	data.data = (unsigned char *)input;
	data.size = (unsigned)strlen(input);
	if ((rc = sig_datum(sa, parts.sig, parts.sigl, &sd, &der)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_verify_data2(pub, sa, 0, &data, &sd)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "jws: signature does not verify: "
		    "%s", gnutls_strerror(ret));
		goto out;
	}
	/* The decoded buffers are not NUL-terminated: copy exactly. */
	if ((rc = copy_decoded(payload, parts.pl, parts.pll)) == 0)
		rc = copy_decoded(protected_json, parts.ph, parts.phl);
out:
	if (rc != 0 && payload != NULL) {
		free(*payload);
		*payload = NULL;
	}
	if (own)
		gnutls_pubkey_deinit(own);
	json_object_put(hdr);
	gnutls_free(der.data);
	jws_parts_free(&parts);
	free(alg);
	free(input);
	return rc;
}

/* The HMAC key of an External Account Binding. */
struct eab_mac {
	const unsigned char *key;
	size_t len;
};

/* jws_signer with the HMAC-SHA256 key ctx (a struct eab_mac). */
static int
sign_with_mac(const void *ctx, const char *input, unsigned char **sig,
    size_t *siglen)
{
	const struct eab_mac *mac = ctx;

	*siglen = 0;
	if ((*sig = malloc(SHA256_LEN)) == NULL)
		return CERTO_ENOMEM;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, mac->key, mac->len, input,
	    strlen(input), *sig) < 0) {
		free(*sig);
		*sig = NULL;
		return certo_fail(CERTO_ECRYPTO, "HMAC-SHA256 failed");
	}
	*siglen = SHA256_LEN;
	return 0;
}

/* The External Account Binding JWS (RFC 8555 section 7.3.4). */
int
jws_eab(const struct certo_key *key, const char *eab_kid,
    const char *hmac_key, const char *url, char **out)
{
	struct json_object *hdr = NULL;
	struct eab_mac mac = { NULL, 0 };
	unsigned char *mac_key = NULL;
	char *jwk = NULL;
	int rc;

	*out = NULL;
	if (b64url_decode(hmac_key, &mac_key, &mac.len) != 0 || mac.len == 0) {
		free(mac_key);
		return certo_fail(CERTO_EUSAGE, "the EAB HMAC key is not "
		    "base64url");
	}
	mac.key = mac_key;
	if ((hdr = json_object_new_object()) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	json_object_object_add(hdr, "alg", json_object_new_string("HS256"));
	json_object_object_add(hdr, "kid", json_object_new_string(eab_kid));
	json_object_object_add(hdr, "url", json_object_new_string(url));
	if ((rc = jws_jwk(key, &jwk)) != 0)
		goto out;
	rc = jws_flatten(json_object_to_json_string_ext(hdr,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), jwk,
	    sign_with_mac, &mac, out);
out:
	json_object_put(hdr);
	gnutls_memset(mac_key, 0, mac.len);
	free(mac_key);
	free(jwk);
	return rc;
}

/*
 * The inner JWS of a key rollover (RFC 8555 section 7.3.5), signed by
 * new_key with its jwk.
 */
int
jws_key_change(const struct certo_key *new_key,
    const struct certo_key *old_key, const char *kid, const char *url,
    char **out)
{
	struct json_object *body = NULL, *old_jwk = NULL;
	char *jwk_text = NULL;
	const char *payload;
	int rc;

	*out = NULL;
	if ((rc = jws_jwk(old_key, &jwk_text)) != 0)
		return rc;
	/* kid is a URL we received and stored; escape it as JSON. */
	if ((body = json_object_new_object()) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = json_parse_object(jwk_text, strlen(jwk_text), "jwk",
	    &old_jwk)) != 0)
		goto out;
	json_object_object_add(body, "account", json_object_new_string(kid));
	json_object_object_add(body, "oldKey", old_jwk);
	if ((payload = json_object_to_json_string_ext(body,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	/* The inner JWS has no nonce (RFC 8555 section 7.3.5). */
	rc = jws_sign(new_key, NULL, NULL, url, payload, out);
out:
	json_object_put(body);
	free(jwk_text);
	return rc;
}
