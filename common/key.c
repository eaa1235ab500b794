/* Key generation, loading and saving with GnuTLS. */
#include "key_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "file.h"

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

const char *
key_type_name(enum key_type t)
{
	return types[t].name;
}

enum key_type
key_get_type(const struct certo_key *k)
{
	return k->type;
}

unsigned
key_ec_size(const struct certo_key *k)
{
	switch (k->type) {
	case KEY_EC256:
		return 32;
	case KEY_EC384:
		return 48;
	default:
		return 0;
	}
}

void
key_free(struct certo_key *k)
{
	if (k == NULL)
		return;
	if (k->pub)
		gnutls_pubkey_deinit(k->pub);
	if (k->priv)
		gnutls_privkey_deinit(k->priv);
	if (k->x509)
		gnutls_x509_privkey_deinit(k->x509);
	free(k);
}

/* Wrap k->x509 in the abstract types; classify the key. */
static int
key_finish(struct certo_key *k, const char *what)
{
	int alg, ret;
	unsigned bits = 0;
	gnutls_ecc_curve_t curve;

	alg = gnutls_x509_privkey_get_pk_algorithm2(k->x509, &bits);
	if (alg == GNUTLS_PK_ECDSA) {
		if ((ret = gnutls_x509_privkey_export_ecc_raw(k->x509, &curve,
		    NULL, NULL, NULL)) < 0)
			return certo_fail(CERTO_ECRYPTO, "%s: %s", what,
			    gnutls_strerror(ret));
		if (curve == GNUTLS_ECC_CURVE_SECP256R1)
			k->type = KEY_EC256;
		else if (curve == GNUTLS_ECC_CURVE_SECP384R1)
			k->type = KEY_EC384;
		else
			return certo_fail(CERTO_ECRYPTO, "%s: unsupported curve %s",
			    what, gnutls_ecc_curve_get_name(curve));
	} else if (alg == GNUTLS_PK_EDDSA_ED25519) {
		k->type = KEY_ED25519;
	} else if (alg == GNUTLS_PK_RSA) {
		if (bits < 2048 || bits > 8192)
			return certo_fail(CERTO_ECRYPTO, "%s: unsupported RSA key "
			    "size %u", what, bits);
		k->type = bits <= 2048 ? KEY_RSA2048 : bits <= 3072 ?
		    KEY_RSA3072 : KEY_RSA4096;
	} else {
		return certo_fail(CERTO_ECRYPTO, "%s: unsupported key algorithm",
		    what);
	}
	if ((ret = gnutls_privkey_init(&k->priv)) < 0 ||
	    (ret = gnutls_privkey_import_x509(k->priv, k->x509, 0)) < 0 ||
	    (ret = gnutls_pubkey_init(&k->pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(k->pub, k->priv, 0, 0)) < 0)
		return certo_fail(CERTO_ECRYPTO, "%s: %s", what,
		    gnutls_strerror(ret));
	return 0;
}

int
key_generate(enum key_type t, struct certo_key **out)
{
	struct certo_key *k;
	int ret, rc;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return CERTO_ENOMEM;
	if ((ret = gnutls_x509_privkey_init(&k->x509)) < 0 ||
	    (ret = gnutls_x509_privkey_generate2(k->x509, types[t].pk,
	    types[t].bits, 0, NULL, 0)) < 0) {
		key_free(k);
		return certo_fail(CERTO_ECRYPTO, "generating %s key: %s",
		    types[t].name, gnutls_strerror(ret));
	}
	if ((rc = key_finish(k, "generated key")) != 0) {
		key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int
key_parse(const char *pem, size_t len, const char *what,
    struct certo_key **out)
{
	struct certo_key *k;
	gnutls_datum_t d;
	int ret, rc;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return CERTO_ENOMEM;
	d.data = (unsigned char *)(uintptr_t)pem;
	d.size = (unsigned)len;
	if ((ret = gnutls_x509_privkey_init(&k->x509)) < 0 ||
	    (ret = gnutls_x509_privkey_import2(k->x509, &d,
	    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "%s: not a usable private key: %s",
		    what, gnutls_strerror(ret));
		key_free(k);
		return rc;
	}
	if ((rc = key_finish(k, what)) != 0) {
		key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

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

int
key_save(const struct certo_key *k, const char *path, bool exclusive)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret, rc;

	if ((ret = gnutls_x509_privkey_export2_pkcs8(k->x509,
	    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d)) < 0)
		return certo_fail(CERTO_ECRYPTO, "exporting key: %s",
		    gnutls_strerror(ret));
	rc = file_write_atomic(path, d.data, d.size, 0600, exclusive);
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	return rc;
}

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

int
key_public_id(const struct certo_key *k, unsigned char *id, size_t *len)
{
	int ret;

	if ((ret = gnutls_pubkey_get_key_id(k->pub, GNUTLS_KEYID_USE_SHA256, id,
	    len)) < 0)
		return certo_fail(CERTO_ECRYPTO, "key id: %s",
		    gnutls_strerror(ret));
	return 0;
}
