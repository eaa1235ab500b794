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
	bool cached;            /* served from the state directory's copy */
};

/* How long a copy of a directory document is used: a day at most. */
#define DIRECTORY_CACHE_TTL (24 * 60 * 60)

/*
 * Map a CA name ("letsencrypt", "zerossl"...) to its directory URL.
 * Returns NULL for an unknown name.
 */
const char *directory_url_for(const char *name);
/* The staging directory of a known production CA URL, or NULL. */
const char *directory_staging_for(const char *url);
/* The list of known CA names, NULL-terminated, for --help. */
const char *const *directory_names(void);

/* Parse a directory document.  dir is reset first. */
int directory_parse(const char *json, size_t len,
    struct certo_directory *dir);
/*
 * The directory at url, parsed into dir, and newNonce handed to req.
 * With req->http.opts.cache_dir set, a copy kept in
 * <cache_dir>/directories/<sha256 of url>.json is used when it was
 * fetched less than DIRECTORY_CACHE_TTL ago (dir->cached): no request.
 * Else GET url, and a good answer is kept there.  The copy is removed
 * when a later request of this process to the directory's hosts fails
 * or answers 400 or more (cache_forget_on_error), so the next run asks
 * the CA again.  Nonces always come from the CA (newNonce or
 * Replay-Nonce), never from a copy.
 */
int directory_fetch(struct certo_req *req, const char *url,
    struct certo_directory *dir);
/*
 * Remove the kept copy of url's directory: the next directory_fetch
 * asks the CA (for a caller that found the copy wanting, e.g. without a
 * profile the user asked for).
 */
void directory_forget(const struct certo_req *req, const char *url);
/* Free what dir holds; safe on a zeroed or NULL one. */
void directory_free(struct certo_directory *dir);

#endif
