/*
 * JSON Web Signatures for ACME (RFC 7515, RFC 8555 section 6.2), JWK
 * and thumbprints (RFC 7638), key authorizations (RFC 8555 section 8.1).
 * ECDSA signatures are converted from GnuTLS's DER to the fixed-size
 * r||s that JWS requires.
 */
#ifndef CERTO_JWS_H
#define CERTO_JWS_H

#include <stddef.h>

struct certo_key;

/* "ES256", "ES384", "RS256" or "EdDSA". */
const char *jws_alg(const struct certo_key *key);

/*
 * The public JWK of key as canonical JSON (RFC 7638: required members
 * only, sorted, no whitespace) in a malloc'd string.
 */
int jws_jwk(const struct certo_key *key, char **out);

/* base64url(SHA-256(canonical JWK)), malloc'd. */
int jws_thumbprint(const struct certo_key *key, char **out);

/* token "." thumbprint, malloc'd (RFC 8555 section 8.1). */
int jws_key_authorization(const struct certo_key *key, const char *token,
    char **out);

/*
 * Sign payload (a JSON text, or "" for POST-as-GET) for url as a
 * flattened JWS JSON object; the protected header carries alg, nonce,
 * url and either kid (when kid is not NULL) or the jwk.  Result is a
 * malloc'd string.
 */
int jws_sign(const struct certo_key *key, const char *kid, const char *nonce,
    const char *url, const char *payload, char **out);

/*
 * Verify a flattened JWS: with key, against that key; with key NULL,
 * against the "jwk" in its protected header.  On success *payload and
 * *protected_json (either may be NULL) get malloc'd copies of the
 * decoded payload and protected header.  CERTO_ECRYPTO when the
 * signature does not verify, CERTO_EPROTO when malformed.
 */
int jws_verify(const char *jws, const struct certo_key *key, char **payload,
    char **protected_json);

/*
 * External Account Binding (RFC 8555 section 7.3.4): a JWS over key's
 * public JWK, protected {"alg":"HS256","kid":eab_kid,"url":url}, MAC'd
 * with the base64url-decoded hmac_key.  *out is the JSON object text to
 * put in newAccount's "externalAccountBinding".  CERTO_EUSAGE if the
 * key is not base64url.
 */
int jws_eab(const struct certo_key *key, const char *eab_kid,
    const char *hmac_key, const char *url, char **out);

/*
 * The inner JWS of a key rollover (RFC 8555 section 7.3.5), signed by
 * new_key with its jwk: payload {"account": kid, "oldKey": old JWK}.
 */
int jws_key_change(const struct certo_key *new_key,
    const struct certo_key *old_key, const char *kid, const char *url,
    char **out);

#endif
