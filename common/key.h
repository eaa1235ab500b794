/*
 * Private keys (GnuTLS).  Only key.c, jws.c and csr.c see key material;
 * everyone else holds an opaque struct certo_key.
 */
#ifndef CERTO_KEY_H
#define CERTO_KEY_H

#include <stdbool.h>
#include <stddef.h>

enum key_type {
	KEY_EC256,
	KEY_EC384,
	KEY_RSA2048,
	KEY_RSA3072,
	KEY_RSA4096,
	KEY_ED25519,    /* accounts only: CAs do not issue for it */
};

struct certo_key;

/* Parse "ec-256", "rsa-2048"...; CERTO_EUSAGE on an unknown name. */
int key_type_parse(const char *s, enum key_type *out);
/* The option spelling of a type ("ec-256"). */
const char *key_type_name(enum key_type t);

/* Generate a fresh key.  Caller frees with key_free(). */
int key_generate(enum key_type t, struct certo_key **out);
/*
 * Load a PEM key (PKCS#8 or traditional).  Refuses a file that group or
 * others can access (CERTO_EKEYPERM).  Caller frees.
 */
int key_load(const char *path, struct certo_key **out);
/*
 * Parse a PEM key from memory (what names it in errors).  Caller frees.
 */
int key_parse(const char *pem, size_t len, const char *what,
    struct certo_key **out);
/*
 * Parse a private key from a JSON Web Key (RFC 7517): RSA or EC
 * P-256/P-384 with its private members (certbot's private_key.json).
 * what names it in errors.  Caller frees.
 */
int key_parse_jwk(const char *json, size_t len, const char *what,
    struct certo_key **out);
/*
 * Write the key as PKCS#8 PEM to path, mode 0600, atomically; with
 * exclusive, fail if path exists.
 */
int key_save(const struct certo_key *key, const char *path, bool exclusive);
/*
 * The same, as a new file of a private staging directory (0600; see
 * file_write_staged: the caller fsyncs the directory once).
 */
int key_save_staged(const struct certo_key *key, const char *path);
/*
 * The key as PKCS#8 PEM in memory (what key_save writes): *pem malloc'd
 * and NUL-terminated, *len bytes; the caller wipes it before freeing
 * (seal.h seals it for a shared store).  Returns 0, CERTO_ENOMEM or
 * CERTO_ECRYPTO.
 */
int key_export_pem(const struct certo_key *key, char **pem, size_t *len);
/* The key's type. */
enum key_type key_get_type(const struct certo_key *key);
/*
 * SHA-256 key ID of the public key (GnuTLS key ID) into id (at least
 * 32 bytes); *len gets its length.  For matching certificates to keys.
 */
int key_public_id(const struct certo_key *key, unsigned char *id,
    size_t *len);
/*
 * The same key ID as lower-case hex (SHA-256 of the DER
 * SubjectPublicKeyInfo: what key_public_id gives) into out (65 bytes
 * with the NUL).  Returns 0, CERTO_ENOMEM or CERTO_ECRYPTO.
 */
int key_id_hex(const struct certo_key *key, char out[65]);
/* True if the two keys have the same public key. */
bool key_same_public(const struct certo_key *a, const struct certo_key *b);
/* Free a key; NULL is fine. */
void key_free(struct certo_key *key);

#endif
