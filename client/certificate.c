/* The issued chain: download, split, check. */
#include "certificate.h"

#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "json.h"
#include "key.h"
#include "request.h"

#define CHAIN_MAX_CERTS 10
#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

/* Free what chain holds (NULL is fine). */
void
certificate_free(struct certo_chain *chain)
{
	if (chain == NULL)
		return;
	free(chain->fullchain);
	free(chain->leaf);
	free(chain->issuers);
	free(chain->top_issuer);
	free(chain->ari_id);
	for (size_t i = 0; i < chain->nalternates; i++)
		free(chain->alternates[i]);
	free(chain->alternates);
	for (size_t i = 0; i < chain->nsans; i++)
		free(chain->sans[i]);
	free(chain->sans);
	memset(chain, 0, sizeof(*chain));
}

/* Collect the DNS SANs of crt. */
static int
get_sans(gnutls_x509_crt_t crt, struct certo_chain *chain)
{
	char name[256], **sans;
	size_t size;
	unsigned type, i;
	int ret;

	for (i = 0;; i++) {
		size = sizeof(name) - 1;
		ret = gnutls_x509_crt_get_subject_alt_name2(crt, i, name, &size,
		    &type, NULL);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (ret < 0)
			return certo_fail(CERTO_EPROTO, "certificate: bad "
			    "subjectAltName: %s", gnutls_strerror(ret));
		if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
			char text[64];
			inet_ntop(size == 4 ? AF_INET : AF_INET6, name, text,
			    sizeof(text));
			snprintf(name, sizeof(name), "%s", text);
		} else if (type == GNUTLS_SAN_DNSNAME) {
			name[size] = '\0';
		} else {
			continue;
		}
		if ((sans = realloc(chain->sans, (chain->nsans + 1) *
		    sizeof(char *))) == NULL)
			return CERTO_ENOMEM;
		chain->sans = sans;
		if ((chain->sans[chain->nsans] = strdup(name)) == NULL)
			return CERTO_ENOMEM;
		chain->nsans++;
	}
	return 0;
}

/* The leaf's key as "ec-256", "rsa-2048"... into chain->key_desc. */
static void
describe_key(gnutls_x509_crt_t leaf, struct certo_chain *chain)
{
	unsigned bits = 0;
	int alg = gnutls_x509_crt_get_pk_algorithm(leaf, &bits);
	char *desc = chain->key_desc;
	size_t size = sizeof(chain->key_desc);

	if (alg == GNUTLS_PK_ECDSA)
		snprintf(desc, size, "ec-%u", bits <= 256 ? 256 : bits <= 384 ?
		    384 : 521);
	else if (alg == GNUTLS_PK_RSA)
		snprintf(desc, size, "rsa-%u", bits);
	else
		snprintf(desc, size, "%s",
		    gnutls_pk_get_name((gnutls_pk_algorithm_t)alg));
}

/*
 * Split the NUL-terminated chain pem (len bytes) at the end of its first
 * PEM block: chain->leaf, ->issuers and ->fullchain.
 */
static int
split_pem(const char *pem, size_t len, struct certo_chain *chain)
{
	const char *first_end, *rest;
	size_t leaf_len;

	if ((first_end = strstr(pem, PEM_END)) == NULL)
		return certo_fail(CERTO_EPROTO, "certificate: truncated PEM");
	first_end += strlen(PEM_END);
	rest = first_end;
	while (*rest == '\r' || *rest == '\n')
		rest++;
	leaf_len = (size_t)(first_end - pem);
	if ((chain->fullchain = strndup(pem, len)) == NULL ||
	    (chain->leaf = malloc(leaf_len + 2)) == NULL ||
	    (chain->issuers = strdup(rest)) == NULL)
		return CERTO_ENOMEM;
	memcpy(chain->leaf, pem, leaf_len);
	chain->leaf[leaf_len] = '\n';
	chain->leaf[leaf_len + 1] = '\0';
	return 0;
}

/* The leaf's public key ID (SHA-256), as key_public_id() makes it. */
static int
leaf_key_id(gnutls_x509_crt_t leaf, struct certo_chain *chain)
{
	gnutls_pubkey_t pub = NULL;
	size_t len = sizeof(chain->key_id);
	int ret;

	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, leaf, 0)) < 0 ||
	    (ret = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256,
	    chain->key_id, &len)) < 0) {
		if (pub)
			gnutls_pubkey_deinit(pub);
		return certo_fail(CERTO_EPROTO, "certificate: %s",
		    gnutls_strerror(ret));
	}
	chain->key_id_len = len;
	gnutls_pubkey_deinit(pub);
	return 0;
}

/* The leaf's ARI identifier into chain->ari_id (none without an AKI). */
static int
leaf_ari_id(gnutls_x509_crt_t crt, struct certo_chain *chain)
{
	unsigned char aki[128], serial[64];
	size_t akilen = sizeof(aki), slen = sizeof(serial);
	unsigned critical;
	char *a = NULL, *s = NULL;
	int rc = 0;

	if (gnutls_x509_crt_get_authority_key_id(crt, aki, &akilen,
	    &critical) < 0 || gnutls_x509_crt_get_serial(crt, serial,
	    &slen) < 0)
		return 0;
	/* The serial as its DER INTEGER content: a leading 0 if the top
	 * bit is set (gnutls returns the bare bytes). */
	if (slen > 0 && (serial[0] & 0x80) && slen < sizeof(serial)) {
		memmove(serial + 1, serial, slen);
		serial[0] = 0;
		slen++;
	}
	if ((a = b64url_encode(aki, akilen)) == NULL ||
	    (s = b64url_encode(serial, slen)) == NULL ||
	    asprintf(&chain->ari_id, "%s.%s", a, s) < 0) {
		chain->ari_id = NULL;
		rc = CERTO_ENOMEM;
	}
	free(a);
	free(s);
	return rc;
}

/* The leaf carries id-pe-tlsfeature (RFC 7633): --must-staple's. */
static bool
leaf_must_staple(gnutls_x509_crt_t crt)
{
	unsigned char buf[64];
	size_t len = sizeof(buf);

	return gnutls_x509_crt_get_extension_by_oid(crt, "1.3.6.1.5.5.7.1.24",
	    0, buf, &len, NULL) >= 0 || len > sizeof(buf);
}

/* Split and inspect a PEM chain (see certificate.h). */
int
certificate_parse(const char *pem, size_t len, struct certo_chain *chain)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned ncrts = 0;
	gnutls_datum_t in;
	char *copy = NULL, cn[256];
	size_t cnlen = sizeof(cn);
	int ret, rc = 0;

	memset(chain, 0, sizeof(*chain));
	/* Work on a NUL-terminated copy of exactly len bytes. */
	if (len != 0 && memchr(pem, '\0', len) == NULL &&
	    (copy = strndup(pem, len)) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	if (copy == NULL || strstr(copy, PEM_BEGIN) == NULL) {
		free(copy);
		return certo_fail(CERTO_EPROTO, "certificate: not a PEM "
		    "certificate chain");
	}
	in.data = (unsigned char *)copy;
	in.size = (unsigned)len;
	ret = gnutls_x509_crt_list_import2(&crts, &ncrts, &in,
	    GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (ret < 0) {
		free(copy);
		return certo_fail(CERTO_EPROTO, "certificate: cannot parse the "
		    "chain: %s", gnutls_strerror(ret));
	}
	if (ncrts == 0 || ncrts > CHAIN_MAX_CERTS) {
		rc = certo_fail(CERTO_EPROTO, "certificate: chain of %u "
		    "certificates", ncrts);
		goto out;
	}
	chain->ncerts = ncrts;
	chain->not_after = gnutls_x509_crt_get_expiration_time(crts[0]);
	chain->not_before = gnutls_x509_crt_get_activation_time(crts[0]);
	/* The issuer of the last certificate: the root's name (optional). */
	if (gnutls_x509_crt_get_issuer_dn_by_oid(crts[ncrts - 1],
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen) == 0)
		chain->top_issuer = strdup(cn);
	describe_key(crts[0], chain);
	chain->must_staple = leaf_must_staple(crts[0]);
	if ((rc = get_sans(crts[0], chain)) == 0 &&
	    (rc = leaf_key_id(crts[0], chain)) == 0 &&
	    (rc = leaf_ari_id(crts[0], chain)) == 0)
		rc = split_pem(copy, len, chain);
out:
	for (unsigned i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	free(copy);
	if (rc != 0)
		certificate_free(chain);
	return rc;
}

/* Import the leaf certificate of chain into *crt (caller deinits). */
static int
leaf_crt(const struct certo_chain *chain, gnutls_x509_crt_t *crt)
{
	gnutls_datum_t pem_in = { (unsigned char *)chain->leaf,
		(unsigned)strlen(chain->leaf) };
	int ret;

	if ((ret = gnutls_x509_crt_init(crt)) < 0)
		return certo_fail(CERTO_ENOMEM, "%s", gnutls_strerror(ret));
	if ((ret = gnutls_x509_crt_import(*crt, &pem_in,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		gnutls_x509_crt_deinit(*crt);
		return certo_fail(CERTO_EPROTO, "certificate: %s",
		    gnutls_strerror(ret));
	}
	return 0;
}

/* Is the leaf's public key key's?  CERTO_EPROTO when not. */
static int
check_key(const struct certo_chain *chain, const struct certo_key *key)
{
	unsigned char key_id[64];
	size_t key_len = sizeof(key_id);
	int rc;

	if ((rc = key_public_id(key, key_id, &key_len)) != 0)
		return rc;
	if (chain->key_id_len == 0 || chain->key_id_len != key_len ||
	    memcmp(chain->key_id, key_id, key_len) != 0)
		return certo_fail(CERTO_EPROTO, "certificate: the issued "
		    "certificate is not for our key");
	return 0;
}

/* Are the leaf's SANs exactly names?  CERTO_EPROTO when not. */
static int
check_names(const struct certo_chain *chain, char *const *names, size_t n)
{
	size_t j;

	for (size_t i = 0; i < n; i++) {
		for (j = 0; j < chain->nsans; j++)
			if (strcmp(names[i], chain->sans[j]) == 0)
				break;
		if (j == chain->nsans)
			return certo_fail(CERTO_EPROTO, "certificate: the issued "
			    "certificate lacks %s", names[i]);
	}
	if (chain->nsans != n)
		return certo_fail(CERTO_EPROTO, "certificate: the issued "
		    "certificate has %zu names, %zu were asked for",
		    chain->nsans, n);
	return 0;
}

/* Check the leaf: valid some time, for key (unless NULL), for names. */
int
certificate_check(const struct certo_chain *chain,
    const struct certo_key *key, char *const *names, size_t n)
{
	int rc;

	/* A set that is never valid must not become live. */
	if (chain->not_after <= chain->not_before)
		return certo_fail(CERTO_EPROTO, "certificate: the issued "
		    "certificate is never valid (its notAfter does not come "
		    "after its notBefore)");
	/* --csr without --key: only the names. */
	if (key != NULL && (rc = check_key(chain, key)) != 0)
		return rc;
	return check_names(chain, names, n);
}

/* POST-as-GET url (application/pem-certificate-chain) and parse it. */
int
certificate_download(struct certo_req *req, const char *url,
    struct certo_chain *chain)
{
	struct http_resp resp;
	int rc;

	if ((rc = request_post(req, url, NULL, DOC_CHAIN, &resp, NULL)) == 0)
		rc = doc_take(&resp, DOC_CHAIN, chain);
	/* Alternate chains (RFC 8555 7.4.2), for --preferred-chain. */
	for (size_t i = 0; rc == 0 && i < resp.nlinks; i++) {
		char **nv;
		/* Only http(s) URLs are ever fetched (json.h). */
		if (strcmp(resp.links[i].rel, "alternate") != 0 ||
		    strlen(resp.links[i].url) > JSON_URL_MAX ||
		    !json_url_ok(resp.links[i].url))
			continue;
		if ((nv = realloc(chain->alternates, (chain->nalternates + 1) *
		    sizeof(char *))) == NULL || (nv[chain->nalternates] =
		    strdup(resp.links[i].url)) == NULL) {
			if (nv)
				chain->alternates = nv;
			rc = CERTO_ENOMEM;
			break;
		}
		chain->alternates = nv;
		chain->nalternates++;
	}
	http_resp_free(&resp);
	return rc;
}

/* The ARI certificate identifier (RFC 9773 section 4.1). */
int
certificate_ari_id(const struct certo_chain *chain, char **out)
{
	*out = NULL;
	if (chain->ari_id == NULL)
		return certo_fail(CERTO_EPROTO, "certificate: no authority key "
		    "identifier or serial for ARI");
	if ((*out = strdup(chain->ari_id)) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	return 0;
}

/* The DER of the leaf as base64url (revokeCert's "certificate"). */
int
certificate_leaf_der_b64(const struct certo_chain *chain, char **out)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t der = { NULL, 0 };
	int rc, ret;

	*out = NULL;
	if ((rc = leaf_crt(chain, &crt)) != 0)
		return rc;
	if ((ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der)) < 0)
		rc = certo_fail(CERTO_EPROTO, "certificate: %s",
		    gnutls_strerror(ret));
	else if ((*out = b64url_encode(der.data, der.size)) == NULL)
		rc = CERTO_ENOMEM;
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

/* True if the leaf carries the TLS Feature extension (OCSP must-staple). */
bool
certificate_must_staple(const struct certo_chain *chain)
{
	return chain->must_staple;
}
