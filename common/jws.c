/* JWS/JWK with GnuTLS. */
#include "jws.h"

#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "json.h"
#include "key_priv.h"

const char *
jws_alg(const struct certo_key *k)
{
	switch (k->type) {
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

int
jws_jwk(const struct certo_key *k, char **out)
{
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	char *s1 = NULL, *s2 = NULL;
	int ret, rc = 0;

	*out = NULL;
	if (k->type == KEY_EC256 || k->type == KEY_EC384) {
		ret = gnutls_pubkey_export_ecc_raw2(k->pub, &curve, &a, &b, 0);
		if (ret < 0)
			goto crypto;
		s1 = b64_uint(&a, key_ec_size(k));
		s2 = b64_uint(&b, key_ec_size(k));
		if (s1 == NULL || s2 == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		/* Members in lexicographic order (RFC 7638 section 3.2). */
		if (asprintf(out, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
		    "\"y\":\"%s\"}", k->type == KEY_EC256 ? "P-256" : "P-384",
		    s1, s2) < 0)
			*out = NULL;
	} else if (k->type == KEY_ED25519) {
		ret = gnutls_pubkey_export_ecc_raw2(k->pub, &curve, &a, NULL, 0);
		if (ret < 0)
			goto crypto;
		if ((s1 = b64url_encode(a.data, a.size)) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		if (asprintf(out, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
		    "\"x\":\"%s\"}", s1) < 0)
			*out = NULL;
	} else {
		ret = gnutls_pubkey_export_rsa_raw2(k->pub, &a, &b, 0);
		if (ret < 0)
			goto crypto;
		s1 = b64_uint(&a, 0);
		s2 = b64_uint(&b, 0);
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
	gnutls_free(a.data);
	gnutls_free(b.data);
	free(s1);
	free(s2);
	return rc;
}

int
jws_thumbprint(const struct certo_key *k, char **out)
{
	unsigned char digest[32];
	char *jwk;
	int rc;

	*out = NULL;
	if ((rc = jws_jwk(k, &jwk)) != 0)
		return rc;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, jwk, strlen(jwk), digest) < 0)
		rc = certo_fail(CERTO_ECRYPTO, "SHA-256 failed");
	else if ((*out = b64url_encode(digest, sizeof(digest))) == NULL)
		rc = CERTO_ENOMEM;
	free(jwk);
	return rc;
}

int
jws_key_authorization(const struct certo_key *k, const char *token,
    char **out)
{
	char *tp;
	int rc;

	*out = NULL;
	if (!b64url_valid(token))
		return certo_fail(CERTO_EPROTO, "challenge token is not "
		    "base64url");
	if ((rc = jws_thumbprint(k, &tp)) != 0)
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
sign_raw(const struct certo_key *k, char *data, size_t len,
    unsigned char **sig, size_t *siglen)
{
	gnutls_datum_t in = { (unsigned char *)data, (unsigned)len };

	*siglen = 0;
	gnutls_datum_t der = { NULL, 0 }, r = { NULL, 0 }, s = { NULL, 0 };
	unsigned size = key_ec_size(k);
	int ret, rc = 0;

	*sig = NULL;
	ret = gnutls_privkey_sign_data2(k->priv, sign_algo(jws_alg(k)), 0,
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

int
jws_sign(const struct certo_key *k, const char *kid, const char *nonce,
    const char *url, const char *payload, char **out)
{
	struct json_object *hdr = NULL, *jwk = NULL;
	char *jwkstr = NULL, *p64 = NULL, *b64 = NULL, *input = NULL;
	char *s64 = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc;

	*out = NULL;
	if ((hdr = json_object_new_object()) == NULL)
		return CERTO_ENOMEM;
	json_object_object_add(hdr, "alg", json_object_new_string(jws_alg(k)));
	if (kid != NULL) {
		json_object_object_add(hdr, "kid", json_object_new_string(kid));
	} else {
		if ((rc = jws_jwk(k, &jwkstr)) != 0)
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
	const char *h = json_object_to_json_string_ext(hdr,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (h == NULL || (p64 = b64url_encode(h, strlen(h))) == NULL ||
	    (b64 = b64url_encode(payload, strlen(payload))) == NULL ||
	    asprintf(&input, "%s.%s", p64, b64) < 0) {
		input = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = sign_raw(k, input, strlen(input), &sig, &siglen)) != 0)
		goto out;
	if ((s64 = b64url_encode(sig, siglen)) == NULL ||
	    asprintf(out, "{\"protected\":\"%s\",\"payload\":\"%s\","
	    "\"signature\":\"%s\"}", p64, b64, s64) < 0) {
		*out = NULL;
		rc = CERTO_ENOMEM;
	}
out:
	json_object_put(hdr);
	json_object_put(jwk);
	free(jwkstr);
	free(p64);
	free(b64);
	free(input);
	free(sig);
	free(s64);
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

int
jws_verify(const char *jws, const struct certo_key *key, char **payload,
    char **protected_json)
{
	struct json_object *o = NULL, *hdr = NULL, *jwk = NULL;
	char *p64 = NULL, *b64 = NULL, *s64 = NULL, *alg = NULL;
	char *input = NULL;
	unsigned char *ph = NULL, *pl = NULL, *sig = NULL;
	size_t phl, pll, sigl;
	gnutls_pubkey_t own = NULL;
	gnutls_pubkey_t pub;
	gnutls_datum_t data, sd = { NULL, 0 }, r, s, der = { NULL, 0 };
	gnutls_sign_algorithm_t sa;
	int rc, ret;

	if (payload)
		*payload = NULL;
	if (protected_json)
		*protected_json = NULL;
	if ((rc = json_parse_object(jws, strlen(jws), "jws", &o)) != 0 ||
	    (rc = json_get_str(o, "jws", "protected", true, 65536, &p64)) ||
	    (rc = json_get_str(o, "jws", "payload", true, 1 << 20, &b64)) ||
	    (rc = json_get_str(o, "jws", "signature", true, 4096, &s64)))
		goto out;
	if ((rc = b64url_decode(p64, &ph, &phl)) != 0 ||
	    (rc = b64url_decode(b64, &pl, &pll)) != 0 ||
	    (rc = b64url_decode(s64, &sig, &sigl)) != 0)
		goto out;
	if ((rc = json_parse_object((char *)ph, phl, "jws protected header",
	    &hdr)) != 0 ||
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
	if (asprintf(&input, "%s.%s", p64, b64) < 0) {
		input = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	data.data = (unsigned char *)input;
	data.size = (unsigned)strlen(input);
	if (sa == GNUTLS_SIGN_RSA_SHA256 || sa == GNUTLS_SIGN_EDDSA_ED25519) {
		sd.data = sig;
		sd.size = (unsigned)sigl;
	} else {
		if (sigl % 2 != 0 || sigl == 0) {
			rc = certo_fail(CERTO_ECRYPTO, "jws: bad signature size");
			goto out;
		}
		r.data = sig;
		r.size = (unsigned)(sigl / 2);
		s.data = sig + sigl / 2;
		s.size = (unsigned)(sigl / 2);
		if ((ret = gnutls_encode_rs_value(&der, &r, &s)) < 0) {
			rc = certo_fail(CERTO_ECRYPTO, "jws: %s",
			    gnutls_strerror(ret));
			goto out;
		}
		sd = der;
	}
	if ((ret = gnutls_pubkey_verify_data2(pub, sa, 0, &data, &sd)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "jws: signature does not verify: "
		    "%s", gnutls_strerror(ret));
		goto out;
	}
	/* The decoded buffers are not NUL-terminated: copy exactly. */
	if (payload && (*payload = malloc(pll + 1)) == NULL)
		rc = CERTO_ENOMEM;
	else if (payload) {
		memcpy(*payload, pl, pll);
		(*payload)[pll] = '\0';
	}
	if (rc == 0 && protected_json &&
	    (*protected_json = malloc(phl + 1)) == NULL)
		rc = CERTO_ENOMEM;
	else if (rc == 0 && protected_json) {
		memcpy(*protected_json, ph, phl);
		(*protected_json)[phl] = '\0';
	}
out:
	if (own)
		gnutls_pubkey_deinit(own);
	json_object_put(o);
	json_object_put(hdr);
	gnutls_free(der.data);
	free(p64);
	free(b64);
	free(s64);
	free(alg);
	free(input);
	free(ph);
	free(pl);
	free(sig);
	return rc;
}

int
jws_eab(const struct certo_key *k, const char *eab_kid, const char *hmac_key,
    const char *url, char **out)
{
	struct json_object *hdr;
	unsigned char *mac_key = NULL, mac[32];
	size_t mac_len;
	char *jwk = NULL, *p64 = NULL, *b64 = NULL, *input = NULL, *s64 = NULL;
	const char *h;
	int rc;

	*out = NULL;
	if (b64url_decode(hmac_key, &mac_key, &mac_len) != 0 || mac_len == 0) {
		free(mac_key);
		return certo_fail(CERTO_EUSAGE, "the EAB HMAC key is not "
		    "base64url");
	}
	if ((hdr = json_object_new_object()) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	json_object_object_add(hdr, "alg", json_object_new_string("HS256"));
	json_object_object_add(hdr, "kid", json_object_new_string(eab_kid));
	json_object_object_add(hdr, "url", json_object_new_string(url));
	h = json_object_to_json_string_ext(hdr, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if ((rc = jws_jwk(k, &jwk)) != 0)
		goto out;
	if ((p64 = b64url_encode(h, strlen(h))) == NULL ||
	    (b64 = b64url_encode(jwk, strlen(jwk))) == NULL ||
	    asprintf(&input, "%s.%s", p64, b64) < 0) {
		input = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, mac_key, mac_len, input,
	    strlen(input), mac) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "HMAC-SHA256 failed");
		goto out;
	}
	if ((s64 = b64url_encode(mac, sizeof(mac))) == NULL ||
	    asprintf(out, "{\"protected\":\"%s\",\"payload\":\"%s\","
	    "\"signature\":\"%s\"}", p64, b64, s64) < 0) {
		*out = NULL;
		rc = CERTO_ENOMEM;
	}
out:
	json_object_put(hdr);
	if (mac_key) {
		gnutls_memset(mac_key, 0, mac_len);
		free(mac_key);
	}
	free(jwk);
	free(p64);
	free(b64);
	free(input);
	free(s64);
	return rc;
}

int
jws_key_change(const struct certo_key *new_key,
    const struct certo_key *old_key, const char *kid, const char *url,
    char **out)
{
	char *oldjwk = NULL, *payload = NULL;
	int rc;

	*out = NULL;
	if ((rc = jws_jwk(old_key, &oldjwk)) != 0)
		return rc;
	/* kid is a URL we received and stored; escape it as JSON. */
	struct json_object *p = json_object_new_object(), *ok = NULL;
	if (p == NULL) {
		free(oldjwk);
		return CERTO_ENOMEM;
	}
	if ((rc = json_parse_object(oldjwk, strlen(oldjwk), "jwk", &ok)) != 0)
		goto out;
	json_object_object_add(p, "account", json_object_new_string(kid));
	json_object_object_add(p, "oldKey", ok);
	if ((payload = strdup(json_object_to_json_string_ext(p,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	/* The inner JWS has no nonce (RFC 8555 section 7.3.5). */
	rc = jws_sign(new_key, NULL, NULL, url, payload, out);
out:
	json_object_put(p);
	free(oldjwk);
	free(payload);
	return rc;
}
