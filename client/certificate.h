/* Downloading and checking the issued chain (RFC 8555 section 7.4.2). */
#ifndef CERTO_CERTIFICATE_H
#define CERTO_CERTIFICATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct certo_req;
struct certo_key;

struct certo_chain {
	char *fullchain;   /* PEM, leaf first */
	char *leaf;        /* PEM of the first certificate */
	char *issuers;     /* PEM of the rest (may be "") */
	char **sans;       /* DNS SANs of the leaf */
	size_t nsans;
	time_t not_after;
	time_t not_before;
	size_t ncerts;
	char *top_issuer;  /* CN of the issuer of the last certificate */
	char **alternates; /* Link rel="alternate" chain URLs */
	size_t nalternates;
	char key_desc[16]; /* the leaf's key: "ec-256", "rsa-2048"... */
	unsigned char key_id[32]; /* SHA-256 key ID of the leaf's public key */
	size_t key_id_len;
	char *ari_id;      /* the leaf's ARI identifier, or NULL (no AKI) */
	bool must_staple;  /* the leaf has the TLS Feature extension */
};

/*
 * Split and inspect a PEM chain: at least one certificate, all of them
 * parse; the leaf's SANs and expiry are extracted.
 */
int certificate_parse(const char *pem, size_t len, struct certo_chain *chain);
/*
 * Check the leaf: its notAfter comes after its notBefore, its public
 * key is key's (unless key is NULL) and its SANs are exactly names (any
 * order).  CERTO_EPROTO otherwise.
 */
int certificate_check(const struct certo_chain *chain,
    const struct certo_key *key, char *const *names, size_t n);
/*
 * POST-as-GET url (application/pem-certificate-chain) and parse it;
 * the alternate chain URLs the CA links to are kept in chain.
 */
int certificate_download(struct certo_req *req, const char *url,
    struct certo_chain *chain);
void certificate_free(struct certo_chain *chain);

/*
 * The ARI certificate identifier (RFC 9773 section 4.1):
 * base64url(authorityKeyIdentifier) "." base64url(serial number).
 */
int certificate_ari_id(const struct certo_chain *chain, char **out);

/* The DER of the leaf as base64url (revokeCert's "certificate"). */
int certificate_leaf_der_b64(const struct certo_chain *chain, char **out);

/* True if the leaf carries the TLS Feature extension (OCSP must-staple). */
bool certificate_must_staple(const struct certo_chain *chain);

#endif
