/* Directory: known CAs and the directory document. */
#include "directory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "request.h"
#include "sha256.h"

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
directory_free(struct certo_directory *dir)
{
	if (dir == NULL)
		return;
	free(dir->new_nonce);
	free(dir->new_account);
	free(dir->new_order);
	free(dir->new_authz);
	free(dir->revoke_cert);
	free(dir->key_change);
	free(dir->renewal_info);
	free(dir->terms_of_service);
	free(dir->website);
	for (size_t i = 0; i < dir->nprofiles; i++)
		free(dir->profiles[i]);
	free(dir->profiles);
	memset(dir, 0, sizeof(*dir));
}

/* meta.profiles: the names of the profiles offered (at most 64). */
static int
parse_profiles(struct json_object *meta, struct certo_directory *dir)
{
	struct json_object *prof = NULL;
	size_t n;
	int rc;

	if ((rc = json_get_object(meta, "directory meta", "profiles", false,
	    &prof)) != 0 || prof == NULL)
		return rc;
	if ((n = (size_t)json_object_object_length(prof)) > 64)
		n = 64;
	if (n > 0 && (dir->profiles = calloc(n, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	json_object_object_foreach(prof, k, v) {
		(void)v;
		if (dir->nprofiles == n)
			break;
		if (strlen(k) > 64 ||
		    (dir->profiles[dir->nprofiles] = strdup(k)) == NULL)
			continue;
		dir->nprofiles++;
	}
	return 0;
}

int
directory_parse(const char *json, size_t len, struct certo_directory *dir)
{
	struct json_object *obj, *meta = NULL;
	const char *w = "directory";
	int rc;

	directory_free(dir);
	if ((rc = json_parse_object(json, len, w, &obj)) != 0)
		return rc;
	if ((rc = json_get_url(obj, w, "newNonce", true, &dir->new_nonce)) ||
	    (rc = json_get_url(obj, w, "newAccount", true, &dir->new_account)) ||
	    (rc = json_get_url(obj, w, "newOrder", true, &dir->new_order)) ||
	    (rc = json_get_url(obj, w, "newAuthz", false, &dir->new_authz)) ||
	    (rc = json_get_url(obj, w, "revokeCert", true, &dir->revoke_cert)) ||
	    (rc = json_get_url(obj, w, "keyChange", true, &dir->key_change)) ||
	    (rc = json_get_url(obj, w, "renewalInfo", false,
	    &dir->renewal_info)) ||
	    (rc = json_get_object(obj, w, "meta", false, &meta)))
		goto out;
	if (meta != NULL && ((rc = json_get_str(meta, "directory meta",
	    "termsOfService", false, URL_MAX, &dir->terms_of_service)) ||
	    (rc = json_get_str(meta, "directory meta", "website", false,
	    URL_MAX, &dir->website)) ||
	    (rc = json_get_bool(meta, "directory meta",
	    "externalAccountRequired", false, &dir->eab_required)) ||
	    (rc = parse_profiles(meta, dir))))
		goto out;
out:
	json_object_put(obj);
	if (rc != 0)
		directory_free(dir);
	return rc;
}

/* Where the copy of url's directory is kept (malloc'd), or NULL. */
static char *
cache_entry(const struct certo_req *req, const char *url)
{
	char hex[SHA256_HEX_LEN + 1], name[SHA256_HEX_LEN + 8];

	if (req->http.opts.cache_dir == NULL ||
	    sha256_hex(url, strlen(url), hex) != 0)
		return NULL;
	snprintf(name, sizeof(name), "%s.json", hex);
	return cache_path(req->http.opts.cache_dir, "directories", name);
}

/* Remove path when a request to the host of url fails. */
static void
forget_on_error(const char *url, const char *path)
{
	char *hp;

	if (url != NULL && (hp = http_host_port(url)) != NULL) {
		cache_forget_on_error(hp, path);
		free(hp);
	}
}

/*
 * dir from the copy at path when it is fresh and parses; a copy that
 * does not parse is removed.  Returns true when dir was filled.
 */
static bool
directory_load_cached(const char *path, const char *url,
    struct certo_directory *dir)
{
	bool had_message = certo_errmsg() != NULL;
	char *text = NULL, shown[256];
	size_t len;

	if (path == NULL ||
	    cache_read(path, DIRECTORY_CACHE_TTL, &text, &len, NULL) != 0)
		return false;
	if (directory_parse(text, len, dir) != 0) {
		if (!had_message)
			certo_errclear(); /* a bad copy is no failure */
		cache_remove(path);
		free(text);
		return false;
	}
	free(text);
	dir->cached = true;
	/* Any failure of what it led to: ask the CA next time. */
	forget_on_error(url, path);
	forget_on_error(dir->new_nonce, path);
	forget_on_error(dir->new_account, path);
	forget_on_error(dir->new_order, path);
	log_debug("directory %s: the copy in %s", log_str(shown,
	    sizeof(shown), url), path);
	return true;
}

/*
 * Keep dir at path for later runs: written from its typed fields (the
 * CA's bytes never reach this process), read back by directory_parse.
 * Failures are silent: the next run asks the CA.
 */
static void
cache_directory(const char *path, const struct certo_directory *dir)
{
	struct json_object *o = json_object_new_object();
	struct json_object *meta = json_object_new_object();
	struct json_object *prof = json_object_new_object();
	const char *text;

	if (o == NULL || meta == NULL || prof == NULL) {
		json_object_put(o);
		json_object_put(meta);
		json_object_put(prof);
		return;
	}
	json_add_str(o, "newNonce", dir->new_nonce);
	json_add_str(o, "newAccount", dir->new_account);
	json_add_str(o, "newOrder", dir->new_order);
	json_add_str(o, "newAuthz", dir->new_authz);
	json_add_str(o, "revokeCert", dir->revoke_cert);
	json_add_str(o, "keyChange", dir->key_change);
	json_add_str(o, "renewalInfo", dir->renewal_info);
	json_add_str(meta, "termsOfService", dir->terms_of_service);
	json_add_str(meta, "website", dir->website);
	if (dir->eab_required)
		json_object_object_add(meta, "externalAccountRequired",
		    json_object_new_boolean(1));
	for (size_t i = 0; i < dir->nprofiles; i++)
		json_add_str(prof, dir->profiles[i], "");
	if (dir->nprofiles > 0)
		json_object_object_add(meta, "profiles", prof);
	else
		json_object_put(prof);
	json_object_object_add(o, "meta", meta);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL)
		cache_write(path, text, strlen(text));
	json_object_put(o);
}

int
directory_fetch(struct certo_req *req, const char *url,
    struct certo_directory *dir)
{
	struct http_resp resp;
	char *path = NULL;
	int rc;

	/* The user's URL: a wrong one is a usage error, not the CA's. */
	if (strncasecmp(url, "https://", 8) != 0 &&
	    !(req->http.opts.allow_http && strncasecmp(url, "http://", 7) == 0)) {
		char shown[256];
		return certo_fail(CERTO_ECONFIG, "--server %s: only https:// "
		    "directory URLs are allowed (--allow-insecure-http for a test "
		    "CA)", log_str(shown, sizeof(shown), url));
	}
	memset(&resp, 0, sizeof(resp));
	path = cache_entry(req, url);
	if (directory_load_cached(path, url, dir)) {
		rc = request_set_new_nonce_url(req, dir->new_nonce);
		goto out;
	}
	if ((rc = request_get(req, url, DOC_DIRECTORY, &resp)) == 0 &&
	    (rc = doc_take(&resp, DOC_DIRECTORY, dir)) == 0)
		rc = request_set_new_nonce_url(req, dir->new_nonce);
	if (rc == 0 && path != NULL)
		cache_directory(path, dir);
out:
	http_resp_free(&resp);
	free(path);
	return rc;
}

void
directory_forget(const struct certo_req *req, const char *url)
{
	char *path = cache_entry(req, url);

	if (path != NULL)
		cache_remove(path);
	free(path);
}
