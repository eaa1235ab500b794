/*
 * Sealed private keys for a shared store (docs/cluster.md): AES-256-GCM
 * through GnuTLS with a key derived by HKDF-SHA256 from the bytes of
 * --store-key FILE (the same file on every host).  A sealed blob is text:
 *
 *   "certo-seal:1:" base64url( key id (8) | nonce (12) | ciphertext | tag (16) )
 *
 * The key id (HKDF of the same file with another label) tells a wrong
 * key file from a tampered blob; the nonce is random for every seal; the
 * additional data is the record's name in the store, so a blob moved to
 * another name does not open.  seal.c never parses keys: it takes and
 * returns the PEM bytes of common/key.c (key_export_pem / key_parse).
 */
#ifndef CERTO_SEAL_H
#define CERTO_SEAL_H

#include <stddef.h>

/* Shortest key file accepted, in bytes. */
#define SEAL_KEY_MIN 32
/* Longest key file read, in bytes. */
#define SEAL_KEY_MAX 4096
/* The prefix of every sealed blob of format 1. */
#define SEAL_PREFIX "certo-seal:1:"

struct seal_key;

/*
 * Derive the sealing key from the file at path (NULL or "": the path in
 * $CERTO_STORE_KEY).  The file must hold at least SEAL_KEY_MIN bytes and
 * be readable by its owner only.  Returns 0 with *out (free with
 * seal_key_free), CERTO_EUSAGE when no file is named, CERTO_ECONFIG for
 * a file that is too short, too long or unreadable (the message names
 * it), CERTO_EKEYPERM when others can read it, CERTO_ENOMEM,
 * CERTO_ECRYPTO.
 */
int seal_key_load(const char *path, struct seal_key **out);
/* Same, from bytes in memory (tests); what names them in messages. */
int seal_key_from_bytes(const unsigned char *ikm, size_t len,
    const char *what, struct seal_key **out);
/* Wipe and free; NULL is fine. */
void seal_key_free(struct seal_key *key);

/*
 * Seal len bytes of plain (a PEM key) for the record called name: a
 * malloc'd NUL-terminated blob in *out.  Returns 0, CERTO_ENOMEM or
 * CERTO_ECRYPTO.
 */
int seal_seal(const struct seal_key *key, const char *name,
    const void *plain, size_t len, char **out);
/*
 * Open a sealed blob of the record called name: *plain (malloc'd,
 * NUL-terminated, *len bytes without the NUL; the caller wipes it with
 * seal_wipe_free) when the blob was sealed by this key for this name and
 * is unchanged.  CERTO_ECRYPTO with a message saying which: not a sealed
 * blob (or an unknown format version), sealed with another key file, or
 * altered / moved from another name.  CERTO_ENOMEM.
 */
int seal_open(const struct seal_key *key, const char *name,
    const char *sealed, size_t sealed_len, char **plain, size_t *len);
/* Wipe len bytes of p and free it; NULL is fine. */
void seal_wipe_free(void *p, size_t len);

#endif
