/* Directory: known CAs and the directory document. */
#include "directory.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "json.h"
#include "log.h"
#include "request.h"

#define URL_MAX 2048

static const struct {
	const char *name;
	const char *url;
} known[] = {
	{ "letsencrypt", "https://acme-v02.api.letsencrypt.org/directory" },
	{ "letsencrypt-staging",
	  "https://acme-staging-v02.api.letsencrypt.org/directory" },
	{ "zerossl", "https://acme.zerossl.com/v2/DV90" },
	{ "buypass", "https://api.buypass.com/acme/directory" },
	{ "buypass-staging", "https://api.test4.buypass.no/acme/directory" },
	{ "google", "https://dv.acme-v02.api.pki.goog/directory" },
	{ "google-staging", "https://dv.acme-v02.test-api.pki.goog/directory" },
	{ "sectigo", "https://acme.sectigo.com/v2/DV" },
};

static const char *const names[] = { "letsencrypt", "letsencrypt-staging",
	"zerossl", "buypass", "buypass-staging", "google", "google-staging",
	"sectigo", NULL };

const char *
directory_url_for(const char *name)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].name, name) == 0)
			return known[i].url;
	return NULL;
}

const char *
directory_staging_for(const char *url)
{
	static const char *const pairs[][2] = {
		{ "letsencrypt", "letsencrypt-staging" },
		{ "buypass", "buypass-staging" },
		{ "google", "google-staging" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (strcmp(url, directory_url_for(pairs[i][0])) == 0)
			return directory_url_for(pairs[i][1]);
	return NULL;
}

const char *const *
directory_names(void)
{
	return names;
}

void
directory_free(struct certo_directory *d)
{
	if (d == NULL)
		return;
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->new_authz);
	free(d->revoke_cert);
	free(d->key_change);
	free(d->renewal_info);
	free(d->terms_of_service);
	free(d->website);
	for (size_t i = 0; i < d->nprofiles; i++)
		free(d->profiles[i]);
	free(d->profiles);
	memset(d, 0, sizeof(*d));
}

int
directory_parse(const char *json, size_t len, struct certo_directory *d)
{
	struct json_object *o, *meta = NULL;
	const char *w = "directory";
	int rc;

	directory_free(d);
	if ((rc = json_parse_object(json, len, w, &o)) != 0)
		return rc;
	if ((rc = json_get_url(o, w, "newNonce", true, &d->new_nonce)) ||
	    (rc = json_get_url(o, w, "newAccount", true, &d->new_account)) ||
	    (rc = json_get_url(o, w, "newOrder", true, &d->new_order)) ||
	    (rc = json_get_url(o, w, "newAuthz", false, &d->new_authz)) ||
	    (rc = json_get_url(o, w, "revokeCert", true, &d->revoke_cert)) ||
	    (rc = json_get_url(o, w, "keyChange", true, &d->key_change)) ||
	    (rc = json_get_url(o, w, "renewalInfo", false, &d->renewal_info)) ||
	    (rc = json_get_object(o, w, "meta", false, &meta)))
		goto out;
	if (meta != NULL && ((rc = json_get_str(meta, "directory meta",
	    "termsOfService", false, URL_MAX, &d->terms_of_service)) ||
	    (rc = json_get_str(meta, "directory meta", "website", false,
	    URL_MAX, &d->website)) ||
	    (rc = json_get_bool(meta, "directory meta",
	    "externalAccountRequired", false, &d->eab_required))))
		goto out;
	if (meta != NULL) {
		struct json_object *prof = NULL;
		if ((rc = json_get_object(meta, "directory meta", "profiles",
		    false, &prof)) != 0)
			goto out;
		if (prof != NULL) {
			size_t n = (size_t)json_object_object_length(prof);
			if (n > 64)
				n = 64;
			if (n > 0 && (d->profiles = calloc(n, sizeof(char *))) ==
			    NULL) {
				rc = CERTO_ENOMEM;
				goto out;
			}
			json_object_object_foreach(prof, k, v) {
				(void)v;
				if (d->nprofiles == n)
					break;
				if (strlen(k) > 64 ||
				    (d->profiles[d->nprofiles] = strdup(k)) == NULL)
					continue;
				d->nprofiles++;
			}
		}
	}
out:
	json_object_put(o);
	if (rc != 0)
		directory_free(d);
	return rc;
}

int
directory_fetch(struct certo_req *req, const char *url,
    struct certo_directory *d)
{
	struct http_resp r;
	int rc;

	/* The user's URL: a wrong one is a usage error, not the CA's. */
	if (strncasecmp(url, "https://", 8) != 0 &&
	    !(req->http.opts.allow_http && strncasecmp(url, "http://", 7) == 0)) {
		char shown[256];
		return certo_fail(CERTO_ECONFIG, "--server %s: only https:// "
		    "directory URLs are allowed (--allow-insecure-http for a test "
		    "CA)", log_sanitize(shown, sizeof(shown), url, (size_t)-1));
	}
	memset(&r, 0, sizeof(r));
	if ((rc = request_get(req, url, REQUEST_MAX_BODY, &r)) == 0 &&
	    (rc = directory_parse(r.body.data, r.body.len, d)) == 0)
		rc = request_set_new_nonce_url(req, d->new_nonce);
	http_resp_free(&r);
	return rc;
}
