/* CSR creation. */
#include "csr.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "key_priv.h"

int
csr_make(const struct certo_key *key, char *const *names, size_t n,
    char **out)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_datum_t der = { NULL, 0 };
	int ret, rc = 0;

	*out = NULL;
	if (n == 0)
		return certo_fail(CERTO_EUSAGE, "CSR needs at least one name");
	if ((ret = gnutls_x509_crq_init(&crq)) < 0 ||
	    (ret = gnutls_x509_crq_set_version(crq, 1)) < 0)
		goto crypto;
	if (strlen(names[0]) <= 64 && (ret = gnutls_x509_crq_set_dn_by_oid(crq,
	    GNUTLS_OID_X520_COMMON_NAME, 0, names[0],
	    (unsigned)strlen(names[0]))) < 0)
		goto crypto;
	for (size_t i = 0; i < n; i++)
		if ((ret = gnutls_x509_crq_set_subject_alt_name(crq,
		    GNUTLS_SAN_DNSNAME, names[i], (unsigned)strlen(names[i]),
		    GNUTLS_FSAN_APPEND)) < 0)
			goto crypto;
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
	if (crq)
		gnutls_x509_crq_deinit(crq);
	return rc;
}
