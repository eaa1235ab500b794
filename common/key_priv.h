/* The key structure, shared only by key.c, jws.c and csr.c. */
#ifndef CERTO_KEY_PRIV_H
#define CERTO_KEY_PRIV_H

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "key.h"

struct certo_key {
	enum key_type type;
	gnutls_x509_privkey_t x509;  /* for export and CSR */
	gnutls_privkey_t priv;       /* for signing */
	gnutls_pubkey_t pub;
};

/* Size in bytes of one EC coordinate / signature half, 0 for RSA. */
unsigned key_ec_size(const struct certo_key *key);

#endif
