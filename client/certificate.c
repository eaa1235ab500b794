/* The issued chain: download, split, check. */
#include "certificate.h"

#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
		if (type != GNUTLS_SAN_DNSNAME)
			continue;
		name[size] = '\0';
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
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)len };
	const char *first_end, *rest;
	int ret, rc = 0;

	memset(c, 0, sizeof(*c));
	if (len == 0 || memchr(pem, '\0', len) != NULL ||
	    strstr(pem, PEM_BEGIN) == NULL)
		return certo_fail(CERTO_EPROTO, "certificate: the CA did not send "
		    "a PEM certificate chain");
	ret = gnutls_x509_crt_list_import2(&crts, &ncrts, &d,
	    GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (ret < 0)
		return certo_fail(CERTO_EPROTO, "certificate: cannot parse the "
		    "chain: %s", gnutls_strerror(ret));
	if (ncrts == 0 || ncrts > CHAIN_MAX_CERTS) {
		rc = certo_fail(CERTO_EPROTO, "certificate: chain of %u "
		    "certificates", ncrts);
		goto out;
	}
	c->ncerts = ncrts;
	c->not_after = gnutls_x509_crt_get_expiration_time(crts[0]);
	if ((rc = get_sans(crts[0], c)) != 0)
		goto out;
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
	http_resp_free(&r);
	return rc;
}
