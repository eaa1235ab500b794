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
#include "key.h"
#include "request.h"

#define CHAIN_MAX_CERTS 10
#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

void
certificate_free(struct certo_chain *c)
{
	if (c == NULL)
		return;
	free(c->fullchain);
	free(c->leaf);
	free(c->issuers);
	free(c->top_issuer);
	for (size_t i = 0; i < c->nalternates; i++)
		free(c->alternates[i]);
	free(c->alternates);
	for (size_t i = 0; i < c->nsans; i++)
		free(c->sans[i]);
	free(c->sans);
	memset(c, 0, sizeof(*c));
}

/* Collect the DNS SANs of crt. */
static int
get_sans(gnutls_x509_crt_t crt, struct certo_chain *c)
{
	char name[256];
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
		char **n = realloc(c->sans, (c->nsans + 1) * sizeof(char *));
		if (n == NULL)
			return CERTO_ENOMEM;
		c->sans = n;
		if ((c->sans[c->nsans] = strdup(name)) == NULL)
			return CERTO_ENOMEM;
		c->nsans++;
	}
	return 0;
}

int
certificate_parse(const char *pem, size_t len, struct certo_chain *c)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned ncrts = 0;
	gnutls_datum_t d;
	const char *first_end, *rest;
	char *copy = NULL;
	int ret, rc = 0;

	memset(c, 0, sizeof(*c));
	/* Work on a NUL-terminated copy of exactly len bytes. */
	if (len != 0 && memchr(pem, '\0', len) == NULL &&
	    (copy = strndup(pem, len)) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	if (copy == NULL || strstr(copy, PEM_BEGIN) == NULL) {
		free(copy);
		return certo_fail(CERTO_EPROTO, "certificate: not a PEM "
		    "certificate chain");
	}
	pem = copy;
	d.data = (unsigned char *)copy;
	d.size = (unsigned)len;
	ret = gnutls_x509_crt_list_import2(&crts, &ncrts, &d,
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
	c->ncerts = ncrts;
	c->not_after = gnutls_x509_crt_get_expiration_time(crts[0]);
	c->not_before = gnutls_x509_crt_get_activation_time(crts[0]);
	{
		/* The issuer of the last certificate: the root's name. */
		char cn[256];
		size_t cnlen = sizeof(cn);
		if (gnutls_x509_crt_get_issuer_dn_by_oid(crts[ncrts - 1],
		    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen) == 0)
			c->top_issuer = strdup(cn);
	}
	if ((rc = get_sans(crts[0], c)) != 0)
		goto out;
	{
		unsigned bits = 0;
		int alg = gnutls_x509_crt_get_pk_algorithm(crts[0], &bits);
		if (alg == GNUTLS_PK_ECDSA)
			snprintf(c->key_desc, sizeof(c->key_desc), "ec-%u",
			    bits <= 256 ? 256 : bits <= 384 ? 384 : 521);
		else if (alg == GNUTLS_PK_RSA)
			snprintf(c->key_desc, sizeof(c->key_desc), "rsa-%u", bits);
		else
			snprintf(c->key_desc, sizeof(c->key_desc), "%s",
			    gnutls_pk_get_name((gnutls_pk_algorithm_t)alg));
	}
	/* Split at the end of the first PEM block. */
	first_end = strstr(pem, PEM_END);
	if (first_end == NULL) {
		rc = certo_fail(CERTO_EPROTO, "certificate: truncated PEM");
		goto out;
	}
	first_end += strlen(PEM_END);
	rest = first_end;
	while (*rest == '\r' || *rest == '\n')
		rest++;
	size_t leaf_len = (size_t)(first_end - pem);
	if ((c->fullchain = strndup(pem, len)) == NULL ||
	    (c->leaf = malloc(leaf_len + 2)) == NULL ||
	    (c->issuers = strdup(rest)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	memcpy(c->leaf, pem, leaf_len);
	c->leaf[leaf_len] = '\n';
	c->leaf[leaf_len + 1] = '\0';
out:
	for (unsigned i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	free(copy);
	if (rc != 0)
		certificate_free(c);
	return rc;
}

int
certificate_check(const struct certo_chain *c, const struct certo_key *key,
    char *const *names, size_t n)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t d = { (unsigned char *)c->leaf,
		(unsigned)strlen(c->leaf) };
	unsigned char a[64], b[64];
	size_t la = sizeof(a), lb = sizeof(b);
	int ret, rc = 0;

	/* A set that is never valid must not become live. */
	if (c->not_after <= c->not_before)
		return certo_fail(CERTO_EPROTO, "certificate: the issued "
		    "certificate is never valid (its notAfter does not come after "
		    "its notBefore)");
	if (key == NULL)
		goto names; /* --csr without --key: only the names */

	if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (ret = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a,
	    &la)) < 0 ||
	    (ret = key_public_id(key, b, &lb)) < 0) {
		rc = certo_fail(CERTO_EPROTO, "certificate: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if (la != lb || memcmp(a, b, la) != 0) {
		rc = certo_fail(CERTO_EPROTO, "certificate: the issued "
		    "certificate is not for our key");
		goto out;
	}
names:
	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < c->nsans; j++)
			if (strcmp(names[i], c->sans[j]) == 0)
				break;
		if (j == c->nsans) {
			rc = certo_fail(CERTO_EPROTO, "certificate: the issued "
			    "certificate lacks %s", names[i]);
			goto out;
		}
	}
	if (c->nsans != n)
		rc = certo_fail(CERTO_EPROTO, "certificate: the issued "
		    "certificate has %zu names, %zu were asked for", c->nsans, n);
out:
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

int
certificate_download(struct certo_req *req, const char *url,
    struct certo_chain *c)
{
	struct http_resp r;
	int rc;

	if ((rc = request_post(req, url, NULL, REQUEST_MAX_CERT, &r, NULL)) == 0)
		rc = certificate_parse(r.body.data, r.body.len, c);
	/* Alternate chains (RFC 8555 7.4.2), for --preferred-chain. */
	for (size_t i = 0; rc == 0 && i < r.nlinks; i++) {
		char **nv;
		if (strcmp(r.links[i].rel, "alternate") != 0)
			continue;
		if ((nv = realloc(c->alternates, (c->nalternates + 1) *
		    sizeof(char *))) == NULL ||
		    (nv[c->nalternates] = strdup(r.links[i].url)) == NULL) {
			if (nv)
				c->alternates = nv;
			rc = CERTO_ENOMEM;
			break;
		}
		c->alternates = nv;
		c->nalternates++;
	}
	http_resp_free(&r);
	return rc;
}

/* Import the leaf certificate of c. */
static int
leaf_crt(const struct certo_chain *c, gnutls_x509_crt_t *crt)
{
	gnutls_datum_t d = { (unsigned char *)c->leaf,
		(unsigned)strlen(c->leaf) };
	int ret;

	if ((ret = gnutls_x509_crt_init(crt)) < 0)
		return certo_fail(CERTO_ENOMEM, "%s", gnutls_strerror(ret));
	if ((ret = gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_PEM)) < 0) {
		gnutls_x509_crt_deinit(*crt);
		return certo_fail(CERTO_EPROTO, "certificate: %s",
		    gnutls_strerror(ret));
	}
	return 0;
}

int
certificate_ari_id(const struct certo_chain *c, char **out)
{
	gnutls_x509_crt_t crt;
	unsigned char aki[128], serial[64];
	size_t akilen = sizeof(aki), slen = sizeof(serial);
	unsigned critical;
	char *a = NULL, *s = NULL;
	int rc;

	*out = NULL;
	if ((rc = leaf_crt(c, &crt)) != 0)
		return rc;
	if (gnutls_x509_crt_get_authority_key_id(crt, aki, &akilen,
	    &critical) < 0 || gnutls_x509_crt_get_serial(crt, serial,
	    &slen) < 0) {
		rc = certo_fail(CERTO_EPROTO, "certificate: no authority key "
		    "identifier or serial for ARI");
		goto out;
	}
	/* The serial as its DER INTEGER content: a leading 0 if the top
	 * bit is set (gnutls returns the bare bytes). */
	if (slen > 0 && (serial[0] & 0x80) && slen < sizeof(serial)) {
		memmove(serial + 1, serial, slen);
		serial[0] = 0;
		slen++;
	}
	if ((a = b64url_encode(aki, akilen)) == NULL ||
	    (s = b64url_encode(serial, slen)) == NULL ||
	    asprintf(out, "%s.%s", a, s) < 0) {
		*out = NULL;
		rc = CERTO_ENOMEM;
	}
out:
	free(a);
	free(s);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int
certificate_leaf_der_b64(const struct certo_chain *c, char **out)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t der = { NULL, 0 };
	int rc, ret;

	*out = NULL;
	if ((rc = leaf_crt(c, &crt)) != 0)
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

bool
certificate_must_staple(const struct certo_chain *c)
{
	gnutls_x509_crt_t crt;
	unsigned char buf[64];
	size_t len = sizeof(buf);
	bool yes;

	if (leaf_crt(c, &crt) != 0) {
		certo_errclear();
		return false;
	}
	/* id-pe-tlsfeature (RFC 7633), the extension --must-staple asks for. */
	yes = gnutls_x509_crt_get_extension_by_oid(crt, "1.3.6.1.5.5.7.1.24", 0,
	    buf, &len, NULL) >= 0 || len > sizeof(buf);
	gnutls_x509_crt_deinit(crt);
	return yes;
}
