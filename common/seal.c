/*
 * Sealed private keys (seal.h): HKDF-SHA256 from the store key file,
 * AES-256-GCM with a random nonce and the record name as additional data.
 */
#include "seal.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "file.h"
#include "log.h"

#define SEAL_ID_LEN 8
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_AEAD_KEY_LEN 32
/* Largest plain text sealed: a PEM key is far below. */
#define SEAL_PLAIN_MAX (64 * 1024)

struct seal_key {
	unsigned char aead[SEAL_AEAD_KEY_LEN];
	unsigned char id[SEAL_ID_LEN];
};

/* Salt and labels: changing any makes every sealed blob unreadable. */
static const char seal_salt[] = "certo store seal v1";
static const char seal_info_key[] = "certo aes-256-gcm key";
static const char seal_info_id[] = "certo key id";
static const char seal_aad_label[] = "certo-seal:1:";

/* Wipe len bytes of p and free it (seal.h). */
void
seal_wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	gnutls_memset(p, 0, len);
	free(p);
}

/* Wipe and free a sealing key (seal.h). */
void
seal_key_free(struct seal_key *key)
{
	seal_wipe_free(key, sizeof(*key));
}

/* HKDF-Expand prk with label into out (len bytes). */
static int
seal_expand(const gnutls_datum_t *prk, const char *label, unsigned char *out,
    size_t len)
{
	gnutls_datum_t info = { (unsigned char *)(uintptr_t)label,
		(unsigned)strlen(label) };
	int ret;

	if ((ret = gnutls_hkdf_expand(GNUTLS_MAC_SHA256, prk, &info, out,
	    len)) < 0)
		return certo_fail(CERTO_ECRYPTO, "store key: HKDF: %s",
		    gnutls_strerror(ret));
	return 0;
}

/* Derive the AEAD key and key id from ikm (seal.h). */
int
seal_key_from_bytes(const unsigned char *ikm, size_t len, const char *what,
    struct seal_key **out)
{
	unsigned char prk_buf[32];
	gnutls_datum_t key = { (unsigned char *)(uintptr_t)ikm, (unsigned)len };
	gnutls_datum_t salt = { (unsigned char *)(uintptr_t)seal_salt,
		(unsigned)strlen(seal_salt) };
	gnutls_datum_t prk = { prk_buf, sizeof(prk_buf) };
	struct seal_key *sk = NULL;
	int ret, rc;

	*out = NULL;
	if (len < SEAL_KEY_MIN)
		return certo_fail(CERTO_ECONFIG, "store key %s holds %zu bytes; "
		    "it needs at least %d random bytes (head -c 32 /dev/urandom)",
		    what, len, SEAL_KEY_MIN);
	if ((sk = calloc(1, sizeof(*sk))) == NULL)
		return CERTO_ENOMEM;
	if ((ret = gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &key, &salt,
	    prk_buf)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "store key: HKDF: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = seal_expand(&prk, seal_info_key, sk->aead,
	    sizeof(sk->aead))) != 0 || (rc = seal_expand(&prk, seal_info_id,
	    sk->id, sizeof(sk->id))) != 0)
		goto out;
	*out = sk;
	sk = NULL;
out:
	gnutls_memset(prk_buf, 0, sizeof(prk_buf));
	seal_key_free(sk);
	return rc;
}

/* Read the key file (or $CERTO_STORE_KEY's) and derive (seal.h). */
int
seal_key_load(const char *path, struct seal_key **out)
{
	char *buf = NULL, shown[256];
	size_t len = 0;
	bool missing = false;
	int rc;

	*out = NULL;
	if (path == NULL || *path == '\0')
		path = getenv("CERTO_STORE_KEY");
	if (path == NULL || *path == '\0')
		return certo_fail(CERTO_EUSAGE, "no store key: give --store-key "
		    "FILE or set CERTO_STORE_KEY (a file of 32 or more random "
		    "bytes, the same on every host)");
	log_str(shown, sizeof(shown), path);
	rc = file_read(path, SEAL_KEY_MAX + 1, true, &buf, &len, &missing);
	if (rc == CERTO_EKEYPERM || rc == CERTO_ENOMEM)
		goto out;
	if (rc != 0) {
		certo_errclear();
		rc = certo_fail(CERTO_ECONFIG, "cannot read the store key %s%s",
		    shown, missing ? ": no such file" : "");
		goto out;
	}
	if (len > SEAL_KEY_MAX) {
		rc = certo_fail(CERTO_ECONFIG, "store key %s is longer than %d "
		    "bytes; it should be a small file of random bytes", shown,
		    SEAL_KEY_MAX);
		goto out;
	}
	rc = seal_key_from_bytes((const unsigned char *)buf, len, shown, out);
out:
	seal_wipe_free(buf, len);
	return rc;
}

/*
 * The additional data of a blob for name: the format label, the key id
 * and the name, so a blob does not open under another name or format.
 */
static int
seal_aad(const struct seal_key *key, const char *name, unsigned char **aad,
    size_t *len)
{
	size_t ll = strlen(seal_aad_label), nl = strlen(name);

	*len = ll + SEAL_ID_LEN + nl;
	if ((*aad = malloc(*len)) == NULL)
		return CERTO_ENOMEM;
	memcpy(*aad, seal_aad_label, ll);
	memcpy(*aad + ll, key->id, SEAL_ID_LEN);
	memcpy(*aad + ll + SEAL_ID_LEN, name, nl);
	return 0;
}

/* Seal plain for the record name (seal.h). */
int
seal_seal(const struct seal_key *key, const char *name, const void *plain,
    size_t len, char **out)
{
	gnutls_datum_t dk = { (unsigned char *)(uintptr_t)key->aead,
		SEAL_AEAD_KEY_LEN };
	gnutls_aead_cipher_hd_t hd = NULL;
	unsigned char *blob = NULL, *aad = NULL;
	size_t blen = 0, aadlen = 0, clen;
	char *text = NULL;
	int ret, rc;

	*out = NULL;
	if (len > SEAL_PLAIN_MAX)
		return certo_fail(CERTO_ECRYPTO, "seal: %zu bytes is too much",
		    len);
	blen = SEAL_ID_LEN + SEAL_NONCE_LEN + len + SEAL_TAG_LEN;
	if ((blob = malloc(blen)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	memcpy(blob, key->id, SEAL_ID_LEN);
	if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, blob + SEAL_ID_LEN,
	    SEAL_NONCE_LEN)) < 0 || (ret = gnutls_aead_cipher_init(&hd,
	    GNUTLS_CIPHER_AES_256_GCM, &dk)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "seal: %s", gnutls_strerror(ret));
		goto out;
	}
	if ((rc = seal_aad(key, name, &aad, &aadlen)) != 0)
		goto out;
	clen = len + SEAL_TAG_LEN;
	if ((ret = gnutls_aead_cipher_encrypt(hd, blob + SEAL_ID_LEN,
	    SEAL_NONCE_LEN, aad, aadlen, SEAL_TAG_LEN, plain, len,
	    blob + SEAL_ID_LEN + SEAL_NONCE_LEN, &clen)) < 0 ||
	    clen != len + SEAL_TAG_LEN) {
		rc = certo_fail(CERTO_ECRYPTO, "seal: %s", ret < 0 ?
		    gnutls_strerror(ret) : "unexpected length");
		goto out;
	}
	if ((text = b64url_encode(blob, blen)) == NULL ||
	    asprintf(out, "%s%s", SEAL_PREFIX, text) < 0) {
		*out = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	rc = 0;
out:
	if (hd != NULL)
		gnutls_aead_cipher_deinit(hd);
	free(text);
	free(aad);
	free(blob);
	return rc;
}

/* Decode the text of a blob: CERTO_ECRYPTO unless it is format 1. */
static int
seal_decode(const char *name, const char *sealed, size_t sealed_len,
    unsigned char **blob, size_t *blen)
{
	size_t pl = strlen(SEAL_PREFIX);
	char *text = NULL, shown[256];
	int rc;

	log_str(shown, sizeof(shown), name);
	if (sealed_len < pl || memcmp(sealed, SEAL_PREFIX, pl) != 0)
		return certo_fail(CERTO_ECRYPTO, "the key of %s in the store is "
		    "not a sealed key of a format this certo reads", shown);
	if ((text = strndup(sealed + pl, sealed_len - pl)) == NULL)
		return CERTO_ENOMEM;
	rc = b64url_decode(text, blob, blen);
	free(text);
	if (rc == CERTO_ENOMEM)
		return rc;
	if (rc != 0 || *blen < SEAL_ID_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN) {
		certo_errclear();
		free(*blob);
		*blob = NULL;
		return certo_fail(CERTO_ECRYPTO, "the sealed key of %s in the "
		    "store is damaged", shown);
	}
	return 0;
}

/* Open a sealed blob of the record name (seal.h). */
int
seal_open(const struct seal_key *key, const char *name, const char *sealed,
    size_t sealed_len, char **plain, size_t *len)
{
	gnutls_datum_t dk = { (unsigned char *)(uintptr_t)key->aead,
		SEAL_AEAD_KEY_LEN };
	gnutls_aead_cipher_hd_t hd = NULL;
	unsigned char *blob = NULL, *aad = NULL;
	size_t blen = 0, aadlen = 0, clen, plen = 0, cap = 0;
	char *pt = NULL, shown[256];
	int ret, rc;

	*plain = NULL;
	*len = 0;
	log_str(shown, sizeof(shown), name);
	if ((rc = seal_decode(name, sealed, sealed_len, &blob, &blen)) != 0)
		return rc;
	if (memcmp(blob, key->id, SEAL_ID_LEN) != 0) {
		rc = certo_fail(CERTO_ECRYPTO, "the key of %s in the store was "
		    "sealed with another store key file (--store-key must be the "
		    "same file on every host)", shown);
		goto out;
	}
	clen = blen - SEAL_ID_LEN - SEAL_NONCE_LEN;
	plen = clen - SEAL_TAG_LEN;
	cap = plen + 1;
	if ((pt = malloc(cap)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((ret = gnutls_aead_cipher_init(&hd, GNUTLS_CIPHER_AES_256_GCM,
	    &dk)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "unseal: %s", gnutls_strerror(ret));
		goto out;
	}
	if ((rc = seal_aad(key, name, &aad, &aadlen)) != 0)
		goto out;
	if (gnutls_aead_cipher_decrypt(hd, blob + SEAL_ID_LEN, SEAL_NONCE_LEN,
	    aad, aadlen, SEAL_TAG_LEN, blob + SEAL_ID_LEN + SEAL_NONCE_LEN,
	    clen, pt, &plen) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "the sealed key of %s in the store "
		    "does not open: it was altered, or moved from another record",
		    shown);
		goto out;
	}
	pt[plen] = '\0';
	*plain = pt;
	*len = plen;
	pt = NULL;
out:
	if (hd != NULL)
		gnutls_aead_cipher_deinit(hd);
	seal_wipe_free(pt, cap);
	free(aad);
	free(blob);
	return rc;
}
