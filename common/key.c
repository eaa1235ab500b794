/* Key generation, loading and saving with GnuTLS. */
#include "key_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "file.h"
#include "json.h"
#include "sha256.h"

#include <json-c/json.h>

static const struct {
	const char *name;
	gnutls_pk_algorithm_t pk;
	unsigned bits;
} types[] = {
	[KEY_EC256] = { "ec-256", GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) },
	[KEY_EC384] = { "ec-384", GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1) },
	[KEY_RSA2048] = { "rsa-2048", GNUTLS_PK_RSA, 2048 },
	[KEY_RSA3072] = { "rsa-3072", GNUTLS_PK_RSA, 3072 },
	[KEY_RSA4096] = { "rsa-4096", GNUTLS_PK_RSA, 4096 },
	[KEY_ED25519] = { "ed25519", GNUTLS_PK_EDDSA_ED25519, 256 },
};

/* The key type named "ec-256", "rsa-2048"... into *out. */
int
key_type_parse(const char *s, enum key_type *out)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(s, types[i].name) == 0) {
			*out = (enum key_type)i;
			return 0;
		}
	return CERTO_EUSAGE;
}

/* The option spelling of a type ("ec-256"). */
const char *
key_type_name(enum key_type t)
{
	return types[t].name;
}

/* The key's type. */
enum key_type
key_get_type(const struct certo_key *key)
{
	return key->type;
}

/* Size in bytes of one EC coordinate / signature half, 0 for RSA. */
unsigned
key_ec_size(const struct certo_key *key)
{
	switch (key->type) {
	case KEY_EC256:
		return 32;
	case KEY_EC384:
		return 48;
	default:
		return 0;
	}
}

/* Free a key. */
void
key_free(struct certo_key *key)
{
	if (key == NULL)
		return;
	if (key->pub)
		gnutls_pubkey_deinit(key->pub);
	if (key->priv)
		gnutls_privkey_deinit(key->priv);
	if (key->x509)
		gnutls_x509_privkey_deinit(key->x509);
	free(key);
}

/* Wrap k->x509 in the abstract types; classify the key. */
static int
key_finish(struct certo_key *key, const char *what)
{
	int alg, ret;
	unsigned bits = 0;
	gnutls_ecc_curve_t curve;

	alg = gnutls_x509_privkey_get_pk_algorithm2(key->x509, &bits);
	if (alg == GNUTLS_PK_ECDSA) {
		if ((ret = gnutls_x509_privkey_export_ecc_raw(key->x509, &curve,
		    NULL, NULL, NULL)) < 0)
			return certo_fail(CERTO_ECRYPTO, "%s: %s", what,
			    gnutls_strerror(ret));
		if (curve == GNUTLS_ECC_CURVE_SECP256R1)
			key->type = KEY_EC256;
		else if (curve == GNUTLS_ECC_CURVE_SECP384R1)
			key->type = KEY_EC384;
		else
			return certo_fail(CERTO_ECRYPTO, "%s: unsupported curve %s",
			    what, gnutls_ecc_curve_get_name(curve));
	} else if (alg == GNUTLS_PK_EDDSA_ED25519) {
		key->type = KEY_ED25519;
	} else if (alg == GNUTLS_PK_RSA) {
		if (bits < 2048 || bits > 8192)
			return certo_fail(CERTO_ECRYPTO, "%s: unsupported RSA key "
			    "size %u", what, bits);
		key->type = bits <= 2048 ? KEY_RSA2048 : bits <= 3072 ?
		    KEY_RSA3072 : KEY_RSA4096;
	} else {
		return certo_fail(CERTO_ECRYPTO, "%s: unsupported key algorithm",
		    what);
	}
	if ((ret = gnutls_privkey_init(&key->priv)) < 0 ||
	    (ret = gnutls_privkey_import_x509(key->priv, key->x509, 0)) < 0 ||
	    (ret = gnutls_pubkey_init(&key->pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(key->pub, key->priv, 0, 0)) < 0)
		return certo_fail(CERTO_ECRYPTO, "%s: %s", what,
		    gnutls_strerror(ret));
	return 0;
}

/* Generate a fresh key. */
int
key_generate(enum key_type t, struct certo_key **out)
{
	struct certo_key *key;
	int ret, rc;

	*out = NULL;
	if ((key = calloc(1, sizeof(*key))) == NULL)
		return CERTO_ENOMEM;
	if ((ret = gnutls_x509_privkey_init(&key->x509)) < 0 ||
	    (ret = gnutls_x509_privkey_generate2(key->x509, types[t].pk,
	    types[t].bits, 0, NULL, 0)) < 0) {
		key_free(key);
		return certo_fail(CERTO_ECRYPTO, "generating %s key: %s",
		    types[t].name, gnutls_strerror(ret));
	}
	if ((rc = key_finish(key, "generated key")) != 0) {
		key_free(key);
		return rc;
	}
	*out = key;
	return 0;
}

/* Parse a PEM key from memory (what names it in errors). */
int
key_parse(const char *pem, size_t len, const char *what,
    struct certo_key **out)
{
	struct certo_key *key;
	gnutls_datum_t in;
	int ret, rc;

	*out = NULL;
	if ((key = calloc(1, sizeof(*key))) == NULL)
		return CERTO_ENOMEM;
	in.data = (unsigned char *)(uintptr_t)pem;
	in.size = (unsigned)len;
	if ((ret = gnutls_x509_privkey_init(&key->x509)) < 0 ||
	    (ret = gnutls_x509_privkey_import2(key->x509, &in,
	    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "%s: not a usable private key: %s",
		    what, gnutls_strerror(ret));
		key_free(key);
		return rc;
	}
	if ((rc = key_finish(key, what)) != 0) {
		key_free(key);
		return rc;
	}
	*out = key;
	return 0;
}

/* The JWK members a private key is read from, decoded (key_parse_jwk). */
#define JWK_MAX_PARTS 8
struct jwk_parts {
	gnutls_datum_t v[JWK_MAX_PARTS];
};

/* Wipe and free what jwk_decode() decoded. */
static void
jwk_parts_free(struct jwk_parts *parts)
{
	for (size_t i = 0; i < JWK_MAX_PARTS; i++) {
		if (parts->v[i].data != NULL) {
			gnutls_memset(parts->v[i].data, 0, parts->v[i].size);
			free(parts->v[i].data);
		}
		parts->v[i].data = NULL;
		parts->v[i].size = 0;
	}
}

/*
 * Decode the base64url members names[0..n) of obj into parts (in that
 * order); every one is required.
 */
static int
jwk_decode(struct json_object *obj, const char *what,
    const char *const *names, size_t n, struct jwk_parts *parts)
{
	char *s = NULL;
	unsigned char *bin;
	size_t len;
	int rc;

	for (size_t i = 0; i < n && i < JWK_MAX_PARTS; i++) {
		if ((rc = json_get_str(obj, what, names[i], true, 4096, &s)) != 0)
			return rc;
		rc = b64url_decode(s, &bin, &len);
		gnutls_memset(s, 0, strlen(s));
		free(s);
		s = NULL;
		if (rc == CERTO_ENOMEM)
			return rc;
		if (rc != 0 || len == 0) {
			/* An empty member decodes to a buffer of its own. */
			free(bin);
			return certo_fail(CERTO_ECRYPTO, "%s: JWK member \"%s\" is "
			    "not base64url", what, names[i]);
		}
		parts->v[i].data = bin;
		parts->v[i].size = (unsigned)len;
	}
	return 0;
}

/* The GnuTLS private key of an RSA or EC JWK object, in key->x509. */
static int
jwk_import(struct json_object *obj, const char *what, struct certo_key *key)
{
	static const char *const rsa[] = { "n", "e", "d", "p", "q" };
	static const char *const ec[] = { "x", "y", "d" };
	struct jwk_parts parts;
	gnutls_datum_t *v = parts.v;
	gnutls_ecc_curve_t curve;
	char *kty = NULL, *crv = NULL;
	int ret = 0, rc;

	memset(&parts, 0, sizeof(parts));
	if ((rc = json_get_str(obj, what, "kty", true, 16, &kty)) != 0)
		goto out;
	if (strcmp(kty, "RSA") == 0) {
		if ((rc = jwk_decode(obj, what, rsa, 5, &parts)) != 0)
			goto out;
		/*
		 * n, e, d, p, q; GnuTLS computes the CRT values itself, so a
		 * wrong "dp", "dq" or "qi" cannot make a key that signs wrongly.
		 */
		ret = gnutls_x509_privkey_import_rsa_raw2(key->x509, &v[0], &v[1],
		    &v[2], &v[3], &v[4], NULL, NULL, NULL);
	} else if (strcmp(kty, "EC") == 0) {
		if ((rc = json_get_str(obj, what, "crv", true, 16, &crv)) != 0)
			goto out;
		if (strcmp(crv, "P-256") == 0)
			curve = GNUTLS_ECC_CURVE_SECP256R1;
		else if (strcmp(crv, "P-384") == 0)
			curve = GNUTLS_ECC_CURVE_SECP384R1;
		else {
			rc = certo_fail(CERTO_ECRYPTO, "%s: unsupported JWK curve",
			    what);
			goto out;
		}
		if ((rc = jwk_decode(obj, what, ec, 3, &parts)) != 0)
			goto out;
		ret = gnutls_x509_privkey_import_ecc_raw(key->x509, curve, &v[0],
		    &v[1], &v[2]);
	} else {
		rc = certo_fail(CERTO_ECRYPTO, "%s: unsupported JWK key type",
		    what);
		goto out;
	}
	/* The parts must make one consistent key, not merely parse. */
	if (ret >= 0)
		ret = gnutls_x509_privkey_verify_params(key->x509);
	if (ret < 0)
		rc = certo_fail(CERTO_ECRYPTO, "%s: not a usable private JWK: %s",
		    what, gnutls_strerror(ret));
out:
	jwk_parts_free(&parts);
	free(kty);
	free(crv);
	return rc;
}

/*
 * A key from parts a file gave (not made by GnuTLS from one encoding):
 * sign and verify once, so that a private value that does not belong to
 * the public one is refused now, not by the CA at the next renewal.
 */
static int
key_selftest(const struct certo_key *key, const char *what)
{
	static const unsigned char msg[] = "certo key self-test";
	gnutls_datum_t data = { (unsigned char *)(uintptr_t)msg, sizeof(msg) };
	gnutls_datum_t sig = { NULL, 0 };
	gnutls_sign_algorithm_t algo;
	int ret;

	algo = gnutls_pk_to_sign(gnutls_privkey_get_pk_algorithm(key->priv,
	    NULL), GNUTLS_DIG_SHA256);
	if ((ret = gnutls_privkey_sign_data(key->priv, GNUTLS_DIG_SHA256, 0,
	    &data, &sig)) >= 0)
		ret = gnutls_pubkey_verify_data2(key->pub, algo, 0, &data, &sig);
	gnutls_free(sig.data);
	if (ret < 0)
		return certo_fail(CERTO_ECRYPTO, "%s: the private and public parts "
		    "of the key do not match", what);
	return 0;
}

/*
 * Parse a private key from a JSON Web Key (RFC 7517, 7518 section 6):
 * RSA (n, e, d, p, q, dp, dq, qi) or EC P-256/P-384 (crv, x, y, d), as
 * certbot keeps its account keys (private_key.json).  what names it in
 * errors.  Caller frees *out.  Returns 0, CERTO_ECRYPTO, CERTO_EPROTO
 * (not JSON, a member missing) or CERTO_ENOMEM.
 */
int
key_parse_jwk(const char *json, size_t len, const char *what,
    struct certo_key **out)
{
	struct json_object *obj = NULL;
	struct certo_key *key;
	int ret, rc;

	*out = NULL;
	if ((key = calloc(1, sizeof(*key))) == NULL)
		return CERTO_ENOMEM;
	if ((ret = gnutls_x509_privkey_init(&key->x509)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "%s: %s", what,
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = json_parse_object(json, len, what, &obj)) != 0 ||
	    (rc = jwk_import(obj, what, key)) != 0 ||
	    (rc = key_finish(key, what)) != 0 ||
	    (rc = key_selftest(key, what)) != 0)
		goto out;
	*out = key;
	key = NULL;
out:
	/* json-c's copies of the private members go with the object. */
	json_object_put(obj);
	key_free(key);
	return rc;
}

/* Load a PEM key (PKCS#8 or traditional). */
int
key_load(const char *path, struct certo_key **out)
{
	char *pem = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = file_read(path, 64 * 1024, true, &pem, &len, NULL)) != 0)
		return rc;
	rc = key_parse(pem, len, path, out);
	gnutls_memset(pem, 0, len);
	free(pem);
	return rc;
}

/*
 * DER: append tag, length and n bytes of content to out (cap bytes, *off
 * used); content may be NULL to write the header only.  -1 if it does not
 * fit.
 */
static int
der_put(unsigned char *out, size_t cap, size_t *off, unsigned char tag,
    const unsigned char *content, size_t n)
{
	unsigned char hdr[4];
	size_t h = 0;

	hdr[h++] = tag;
	if (n < 0x80) {
		hdr[h++] = (unsigned char)n;
	} else if (n <= 0xff) {
		hdr[h++] = 0x81;
		hdr[h++] = (unsigned char)n;
	} else if (n <= 0xffff) {
		hdr[h++] = 0x82;
		hdr[h++] = (unsigned char)(n >> 8);
		hdr[h++] = (unsigned char)n;
	} else {
		return -1;
	}
	if (cap - *off < h || (content != NULL && cap - *off - h < n))
		return -1;
	memcpy(out + *off, hdr, h);
	*off += h;
	if (content != NULL) {
		memcpy(out + *off, content, n);
		*off += n;
	}
	return 0;
}

/*
 * Copy the big-endian unsigned integer v into out as exactly n bytes
 * (leading zeros dropped or added); -1 if it needs more than n.
 */
static int
fixed_be(const gnutls_datum_t *v, unsigned char *out, size_t n)
{
	const unsigned char *p = v->data;
	size_t len = v->size;

	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	if (len > n)
		return -1;
	memset(out, 0, n - len);
	memcpy(out + (n - len), p, len);
	return 0;
}

/* Size of a DER tag and length header for n content bytes. */
static size_t
der_hdr(size_t n)
{
	return n < 0x80 ? 2 : n <= 0xff ? 3 : 4;
}

/*
 * PKCS#8 DER of an EC key whose ECPrivateKey holds the private scalar as
 * an OCTET STRING of exactly the field size (RFC 5915 section 3: 32 bytes
 * for P-256, 48 for P-384).  GnuTLS 3.7 writes it as a signed integer
 * (33 bytes with a 00 when the top bit is set, fewer when the top byte is
 * zero), which strict readers such as pyca/cryptography refuse.  der gets
 * *len bytes; the caller wipes it.
 */
static int
key_ec_pkcs8(const struct certo_key *key, unsigned char *der, size_t cap,
    size_t *len)
{
	static const unsigned char oid_ecpub[] = { 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x02, 0x01 };                     /* 1.2.840.10045.2.1 */
	static const unsigned char oid_p256[] = { 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x03, 0x01, 0x07 };               /* 1.2.840.10045.3.1.7 */
	static const unsigned char oid_p384[] = { 0x2b, 0x81, 0x04, 0x00,
		0x22 };                                 /* 1.3.132.0.34 */
	static const unsigned char zero = 0, one = 1;
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 }, d = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	unsigned char scalar[48], point[2 + 2 * 48];
	unsigned char ec[256];
	const unsigned char *oid;
	size_t n = key_ec_size(key), oidlen, eclen = 0, ptlen, seq, alg;
	int ret, rc = CERTO_ECRYPTO;

	*len = 0;
	oid = n == 32 ? oid_p256 : oid_p384;
	oidlen = n == 32 ? sizeof(oid_p256) : sizeof(oid_p384);
	if ((ret = gnutls_x509_privkey_export_ecc_raw(key->x509, &curve, &x, &y,
	    &d)) < 0) {
		rc = certo_fail(ret == GNUTLS_E_MEMORY_ERROR ? CERTO_ENOMEM :
		    CERTO_ECRYPTO, "exporting key: %s", gnutls_strerror(ret));
		goto out;
	}
	/* BIT STRING content: 0 unused bits, 04 (uncompressed), X, Y. */
	point[0] = 0x00;
	point[1] = 0x04;
	ptlen = 2 + 2 * n;
	if (fixed_be(&d, scalar, n) != 0 || fixed_be(&x, point + 2, n) != 0 ||
	    fixed_be(&y, point + 2 + n, n) != 0) {
		rc = certo_fail(CERTO_ECRYPTO, "exporting key: EC value too long");
		goto out;
	}
	/* ECPrivateKey ::= SEQUENCE { 1, privateKey, [0] curve, [1] point } */
	seq = 3 + der_hdr(n) + n +
	    der_hdr(der_hdr(oidlen) + oidlen) + der_hdr(oidlen) + oidlen +
	    der_hdr(der_hdr(ptlen) + ptlen) + der_hdr(ptlen) + ptlen;
	if (der_put(ec, sizeof(ec), &eclen, 0x30, NULL, seq) != 0 ||
	    der_put(ec, sizeof(ec), &eclen, 0x02, &one, 1) != 0 ||
	    der_put(ec, sizeof(ec), &eclen, 0x04, scalar, n) != 0 ||
	    der_put(ec, sizeof(ec), &eclen, 0xa0, NULL,
	    der_hdr(oidlen) + oidlen) != 0 ||
	    der_put(ec, sizeof(ec), &eclen, 0x06, oid, oidlen) != 0 ||
	    der_put(ec, sizeof(ec), &eclen, 0xa1, NULL,
	    der_hdr(ptlen) + ptlen) != 0 ||
	    der_put(ec, sizeof(ec), &eclen, 0x03, point, ptlen) != 0)
		goto toolong;
	/*
	 * PrivateKeyInfo ::= SEQUENCE { 0, SEQUENCE { id-ecPublicKey, curve },
	 * OCTET STRING ECPrivateKey }
	 */
	alg = der_hdr(sizeof(oid_ecpub)) + sizeof(oid_ecpub) +
	    der_hdr(oidlen) + oidlen;
	seq = 3 + der_hdr(alg) + alg + der_hdr(eclen) + eclen;
	if (der_put(der, cap, len, 0x30, NULL, seq) != 0 ||
	    der_put(der, cap, len, 0x02, &zero, 1) != 0 ||
	    der_put(der, cap, len, 0x30, NULL, alg) != 0 ||
	    der_put(der, cap, len, 0x06, oid_ecpub, sizeof(oid_ecpub)) != 0 ||
	    der_put(der, cap, len, 0x06, oid, oidlen) != 0 ||
	    der_put(der, cap, len, 0x04, ec, eclen) != 0)
		goto toolong;
	rc = 0;
	goto out;
toolong:
	rc = certo_fail(CERTO_ECRYPTO, "exporting key: encoding too long");
out:
	gnutls_memset(scalar, 0, sizeof(scalar));
	gnutls_memset(ec, 0, sizeof(ec));
	if (d.data != NULL) {
		gnutls_memset(d.data, 0, d.size);
		gnutls_free(d.data);
	}
	gnutls_free(x.data);
	gnutls_free(y.data);
	return rc;
}

/* The key as PKCS#8 PEM in memory (key.h); the caller wipes it. */
int
key_export_pem(const struct certo_key *key, char **pem_out, size_t *len)
{
	gnutls_datum_t pem = { NULL, 0 };
	unsigned char der[512];
	size_t derlen = 0;
	int ret, rc = 0;

	*pem_out = NULL;
	*len = 0;
	if (key_ec_size(key) != 0) {
		/* EC: our own fixed-length encoding (RFC 5915). */
		gnutls_datum_t in;

		if ((rc = key_ec_pkcs8(key, der, sizeof(der), &derlen)) != 0)
			goto out;
		in.data = der;
		in.size = (unsigned)derlen;
		ret = gnutls_pem_base64_encode2("PRIVATE KEY", &in, &pem);
	} else {
		ret = gnutls_x509_privkey_export2_pkcs8(key->x509,
		    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &pem);
	}
	if (ret < 0) {
		rc = certo_fail(ret == GNUTLS_E_MEMORY_ERROR ? CERTO_ENOMEM :
		    CERTO_ECRYPTO, "exporting key: %s", gnutls_strerror(ret));
		goto out;
	}
	if ((*pem_out = malloc(pem.size + 1)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	memcpy(*pem_out, pem.data, pem.size);
	(*pem_out)[pem.size] = '\0';
	*len = pem.size;
out:
	gnutls_memset(der, 0, sizeof(der));
	if (pem.data != NULL) {
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
	}
	return rc;
}

/* Write the key as PKCS#8 PEM, 0600, atomically (key.h). */
int
key_save(const struct certo_key *key, const char *path, bool exclusive)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if ((rc = key_export_pem(key, &pem, &len)) == 0)
		rc = file_write_atomic(path, pem, len, 0600, exclusive);
	if (pem != NULL) {
		gnutls_memset(pem, 0, len);
		free(pem);
	}
	return rc;
}

/* key_save into a staging directory (file_write_staged; key.h). */
int
key_save_staged(const struct certo_key *key, const char *path)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if ((rc = key_export_pem(key, &pem, &len)) == 0)
		rc = file_write_staged(path, pem, len, 0600);
	if (pem != NULL) {
		gnutls_memset(pem, 0, len);
		free(pem);
	}
	return rc;
}

/* True if a and b have the same public key (their key IDs are equal). */
bool
key_same_public(const struct certo_key *a, const struct certo_key *b)
{
	unsigned char ida[64], idb[64];
	size_t la = sizeof(ida), lb = sizeof(idb);

	if (gnutls_pubkey_get_key_id(a->pub, GNUTLS_KEYID_USE_SHA256, ida,
	    &la) < 0 || gnutls_pubkey_get_key_id(b->pub,
	    GNUTLS_KEYID_USE_SHA256, idb, &lb) < 0)
		return false;
	return la == lb && memcmp(ida, idb, la) == 0;
}

/* The SHA-256 key ID of key's public key into id (*len bytes). */
int
key_public_id(const struct certo_key *key, unsigned char *id, size_t *len)
{
	int ret;

	if ((ret = gnutls_pubkey_get_key_id(key->pub, GNUTLS_KEYID_USE_SHA256,
	    id, len)) < 0)
		return certo_fail(CERTO_ECRYPTO, "key id: %s",
		    gnutls_strerror(ret));
	return 0;
}

/* The key ID as hex: SHA-256 of the public key's DER SPKI. */
int
key_id_hex(const struct certo_key *key, char out[SHA256_HEX_LEN + 1])
{
	gnutls_datum_t der = { NULL, 0 };
	int ret, rc;

	if ((ret = gnutls_pubkey_export2(key->pub, GNUTLS_X509_FMT_DER,
	    &der)) < 0)
		return certo_fail(ret == GNUTLS_E_MEMORY_ERROR ? CERTO_ENOMEM :
		    CERTO_ECRYPTO, "key id: %s", gnutls_strerror(ret));
	rc = sha256_hex(der.data, der.size, out);
	gnutls_free(der.data);
	return rc;
}
