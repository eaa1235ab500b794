/* The ACME directory resource (RFC 8555 section 7.1.1). */
#ifndef CERTO_DIRECTORY_H
#define CERTO_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

struct certo_req;

struct certo_directory {
	char *new_nonce;
	char *new_account;
	char *new_order;
	char *new_authz;        /* optional */
	char *revoke_cert;
	char *key_change;
	char *renewal_info;     /* optional, RFC 9773 */
	char *terms_of_service; /* meta.termsOfService, optional */
	char *website;          /* meta.website, optional */
	bool eab_required;      /* meta.externalAccountRequired */
	char **profiles;        /* meta.profiles names (may be 0) */
	size_t nprofiles;
};

/*
 * Map a CA name ("letsencrypt", "zerossl"...) to its directory URL.
 * Returns NULL for an unknown name.
 */
const char *directory_url_for(const char *name);
/* The staging directory of a known production CA URL, or NULL. */
const char *directory_staging_for(const char *url);
/* The list of known CA names, NULL-terminated, for --help. */
const char *const *directory_names(void);

/* Parse a directory document.  d is reset first. */
int directory_parse(const char *json, size_t len, struct certo_directory *d);
/* GET url and parse it into d. */
int directory_fetch(struct certo_req *req, const char *url,
    struct certo_directory *d);
void directory_free(struct certo_directory *d);

#endif
