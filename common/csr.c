/* CSR creation. */
#include "csr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "domain.h"
#include "errors.h"
#include "file.h"
#include "key_priv.h"

#include <gnutls/x509-ext.h>

/* Make a CSR signed by key for the n names, as base64url DER. */
int
csr_make(const struct certo_key *key, char *const *names, size_t n,
    bool must_staple, char **out)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_x509_tlsfeatures_t feat = NULL;
	gnutls_datum_t der = { NULL, 0 };
	unsigned char ip[16];
	size_t iplen = 0;
	enum ident_kind kind;
	const char *cn = NULL;
	int ret, rc = 0;

	*out = NULL;
	if (n == 0)
		return certo_fail(CERTO_EUSAGE, "CSR needs at least one name");
	if ((ret = gnutls_x509_crq_init(&crq)) < 0 ||
	    (ret = gnutls_x509_crq_set_version(crq, 1)) < 0)
		goto crypto;
	for (size_t i = 0; i < n; i++) {
		kind = ident_classify(names[i], true, ip, &iplen);
		if (kind == IDENT_IPV4 || kind == IDENT_IPV6)
			ret = gnutls_x509_crq_set_subject_alt_name(crq,
			    GNUTLS_SAN_IPADDRESS, ip, (unsigned)iplen,
			    GNUTLS_FSAN_APPEND);
		else {
			/* The first name is the CN, if it is a short DNS name. */
			if (i == 0 && strlen(names[i]) <= 64)
				cn = names[i];
			ret = gnutls_x509_crq_set_subject_alt_name(crq,
			    GNUTLS_SAN_DNSNAME, names[i],
			    (unsigned)strlen(names[i]), GNUTLS_FSAN_APPEND);
		}
		if (ret < 0)
			goto crypto;
	}
	if (cn != NULL && (ret = gnutls_x509_crq_set_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn))) < 0)
		goto crypto;
	if (must_staple) {
		/* TLS feature status_request (RFC 7633), i.e. must-staple. */
		if ((ret = gnutls_x509_tlsfeatures_init(&feat)) < 0 ||
		    (ret = gnutls_x509_tlsfeatures_add(feat, 5)) < 0 ||
		    (ret = gnutls_x509_crq_set_tlsfeatures(crq, feat)) < 0)
			goto crypto;
	}
	if ((ret = gnutls_x509_crq_set_key(crq, key->x509)) < 0 ||
	    (ret = gnutls_x509_crq_privkey_sign(crq, key->priv,
	    GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der)) < 0)
		goto crypto;
	if ((*out = b64url_encode(der.data, der.size)) == NULL)
		rc = CERTO_ENOMEM;
	goto out;
crypto:
	rc = certo_fail(CERTO_ECRYPTO, "making CSR: %s", gnutls_strerror(ret));
out:
	gnutls_free(der.data);
	if (feat)
		gnutls_x509_tlsfeatures_deinit(feat);
	if (crq)
		gnutls_x509_crq_deinit(crq);
	return rc;
}

static int
add_name(char ***names, size_t *n, const char *s)
{
	char **nv = realloc(*names, (*n + 1) * sizeof(char *));

	if (nv == NULL)
		return CERTO_ENOMEM;
	*names = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return CERTO_ENOMEM;
	(*n)++;
	return 0;
}

/*
 * The names of a CSR: its DNS and IP SANs (as text), else its CN.
 * CERTO_EUSAGE naming path when it has none or they cannot be read.
 */
static int
crq_names(gnutls_x509_crq_t crq, const char *path, char ***names,
    size_t *n)
{
	char buf[256], text[64];
	size_t size;
	unsigned type;
	int ret, rc = 0;

	for (unsigned i = 0; rc == 0; i++) {
		size = sizeof(buf) - 1;
		ret = gnutls_x509_crq_get_subject_alt_name(crq, i, buf, &size,
		    &type, NULL);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			return certo_fail(CERTO_EUSAGE, "%s: %s", path,
			    gnutls_strerror(ret));
		if (type == GNUTLS_SAN_DNSNAME) {
			buf[size] = '\0';
			rc = add_name(names, n, buf);
		} else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 ||
		    size == 16)) {
			inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, text,
			    sizeof(text));
			rc = add_name(names, n, text);
		}
	}
	if (rc != 0)
		return rc;
	size = sizeof(buf);
	if (*n == 0 && gnutls_x509_crq_get_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size) == 0 &&
	    (rc = add_name(names, n, buf)) != 0)
		return rc;
	if (*n == 0)
		return certo_fail(CERTO_EUSAGE, "%s: the CSR names nothing",
		    path);
	return 0;
}

/* Load a CSR (PEM or DER) from path. */
int
csr_load(const char *path, char ***names, size_t *n, char **der_b64)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_datum_t in, der = { NULL, 0 };
	char *data = NULL;
	size_t len;
	int ret, rc = 0;

	*names = NULL;
	*n = 0;
	*der_b64 = NULL;
	if ((rc = file_read(path, 64 * 1024, false, &data, &len, NULL)) != 0)
		return rc;
	in.data = (unsigned char *)data;
	in.size = (unsigned)len;
	if ((ret = gnutls_x509_crq_init(&crq)) < 0)
		goto crypto;
	if (gnutls_x509_crq_import(crq, &in, GNUTLS_X509_FMT_PEM) < 0 &&
	    (ret = gnutls_x509_crq_import(crq, &in, GNUTLS_X509_FMT_DER)) < 0) {
		rc = certo_fail(CERTO_EUSAGE, "%s: not a CSR (PEM or DER): %s",
		    path, gnutls_strerror(ret));
		goto out;
	}
	if ((ret = gnutls_x509_crq_verify(crq, 0)) < 0) {
		rc = certo_fail(CERTO_EUSAGE, "%s: the CSR's signature does not "
		    "verify", path);
		goto out;
	}
	if ((rc = crq_names(crq, path, names, n)) != 0)
		goto out;
	if ((ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der)) < 0)
		goto crypto;
	if ((*der_b64 = b64url_encode(der.data, der.size)) == NULL)
		rc = CERTO_ENOMEM;
	goto out;
crypto:
	rc = certo_fail(CERTO_EUSAGE, "%s: %s", path, gnutls_strerror(ret));
out:
	if (rc != 0) {
		for (size_t i = 0; i < *n; i++)
			free((*names)[i]);
		free(*names);
		*names = NULL;
		*n = 0;
	}
	gnutls_free(der.data);
	if (crq)
		gnutls_x509_crq_deinit(crq);
	free(data);
	return rc;
}

/*
 * Is key the key of the CSR whose DER (base64url, as csr_load gives it)
 * is der_b64?  Returns 0 when the public keys are the same, CERTO_EUSAGE
 * when they differ, CERTO_ECRYPTO when either cannot be read.
 */
int
csr_key_check(const char *der_b64, const struct certo_key *key)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_datum_t der = { NULL, 0 };
	unsigned char *raw = NULL, a[64], b[64];
	size_t rawlen = 0, la = sizeof(a), lb = sizeof(b);
	int ret, rc = 0;

	if ((rc = b64url_decode(der_b64, &raw, &rawlen)) != 0)
		return rc;
	der.data = raw;
	der.size = (unsigned)rawlen;
	if ((ret = gnutls_x509_crq_init(&crq)) < 0 ||
	    (ret = gnutls_x509_crq_import(crq, &der, GNUTLS_X509_FMT_DER)) < 0 ||
	    (ret = gnutls_x509_crq_get_key_id(crq, GNUTLS_KEYID_USE_SHA256, a,
	    &la)) < 0 ||
	    (ret = gnutls_pubkey_get_key_id(key->pub, GNUTLS_KEYID_USE_SHA256, b,
	    &lb)) < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "comparing the CSR's key: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if (la != lb || memcmp(a, b, la) != 0)
		rc = certo_fail(CERTO_EUSAGE, "--key is not the key of the CSR "
		    "(their public keys differ); nothing was sent to the CA");
out:
	if (crq)
		gnutls_x509_crq_deinit(crq);
	free(raw);
	return rc;
}
