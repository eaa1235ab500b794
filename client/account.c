/*
 * Accounts (RFC 8555 section 7.3): load or create, look up by key,
 * register; account.json.  The account verbs are in account_verb.c.
 */
#include "account.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directory.h"
#include "errors.h"
#include "file.h"
#include "json.h"
#include "jws.h"
#include "log.h"
#include "request.h"
#include "store_remote.h"

#define ACCOUNT_JSON_MAX (64 * 1024)

int
account_ca_id(const char *dir_url, char **out)
{
	CURLU *u;
	char *host = NULL, *port = NULL, *scheme = NULL;
	int rc = 0;

	*out = NULL;
	if ((u = curl_url()) == NULL)
		return CERTO_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, dir_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		rc = certo_fail(CERTO_ECONFIG, "invalid CA directory URL");
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
	/* Only [A-Za-z0-9.-:] hosts; anything else is not a path piece. */
	for (char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == ':' || *p == '[' || *p == ']'))
			*p = '_';
		else if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (strcmp(host, ".") == 0 || strcmp(host, "..") == 0) {
		rc = certo_fail(CERTO_ECONFIG, "invalid CA directory URL");
		goto out;
	}
	if (port != NULL && asprintf(out, "%s_%s", host, port) < 0)
		*out = NULL;
	else if (port == NULL && (*out = strdup(host)) == NULL)
		*out = NULL;
	if (*out == NULL)
		rc = CERTO_ENOMEM;
out:
	curl_free(host);
	curl_free(port);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

void
account_free(struct certo_account *acct)
{
	if (acct == NULL)
		return;
	free(acct->url);
	key_free(acct->key);
	memset(acct, 0, sizeof(*acct));
}

/* Read the stored account URL, if any. */
static int
load_url(const char *path, char **url)
{
	struct json_object *o = NULL;
	char *data = NULL;
	size_t len;
	bool missing;
	int rc;

	*url = NULL;
	if ((rc = file_read(path, ACCOUNT_JSON_MAX, false, &data, &len,
	    &missing)) != 0) {
		if (missing) {
			certo_errclear();
			return 0;
		}
		return rc;
	}
	if ((rc = json_parse_object(data, len, path, &o)) == 0)
		rc = json_get_str(o, path, "url", true, 2048, url);
	json_object_put(o);
	free(data);
	return rc;
}

int
account_save(const char *path, const char *url, bool agreed,
    char *const *emails, size_t nemails)
{
	struct json_object *o, *a;
	const char *s;
	int rc;

	if ((o = json_object_new_object()) == NULL)
		return CERTO_ENOMEM;
	json_object_object_add(o, "url", json_object_new_string(url));
	if (agreed)
		json_object_object_add(o, "terms_agreed",
		    json_object_new_boolean(1));
	if (nemails > 0) {
		a = json_object_new_array();
		for (size_t i = 0; i < nemails; i++)
			json_object_array_add(a, json_object_new_string(emails[i]));
		json_object_object_add(o, "contact", a);
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = file_write_atomic(path, s, strlen(s), 0600, false);
	json_object_put(o);
	return rc;
}

struct json_object *
account_contacts(char *const *emails, size_t n)
{
	struct json_object *arr = json_object_new_array(), *str;
	char *mail;

	for (size_t i = 0; i < n && arr != NULL; i++) {
		if (asprintf(&mail, "mailto:%s", emails[i]) < 0) {
			json_object_put(arr);
			return NULL;
		}
		str = json_object_new_string(mail);
		free(mail);
		if (str == NULL || json_object_array_add(arr, str) != 0) {
			json_object_put(str);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

/*
 * The newAccount payload: onlyReturnExisting, or the terms agreement,
 * the contact addresses and the external account binding of opts.
 */
static int
new_account_payload(const struct certo_req *req,
    const struct certo_directory *dir, const struct account_opts *opts,
    bool only_existing, struct json_object **out)
{
	struct json_object *payload, *contact, *eab = NULL;
	char *eabjws = NULL;
	int rc;

	if ((*out = payload = json_object_new_object()) == NULL)
		return CERTO_ENOMEM;
	if (only_existing) {
		json_object_object_add(payload, "onlyReturnExisting",
		    json_object_new_boolean(1));
		return 0;
	}
	if (opts->agree_tos)
		json_object_object_add(payload, "termsOfServiceAgreed",
		    json_object_new_boolean(1));
	if (opts->nemails > 0) {
		/* Never register without the contact. */
		if ((contact = account_contacts(opts->emails,
		    opts->nemails)) == NULL)
			return CERTO_ENOMEM;
		json_object_object_add(payload, "contact", contact);
	}
	if (opts->eab_kid == NULL)
		return 0;
	/* RFC 8555 7.3.4: bind to the CA's existing account. */
	if ((rc = jws_eab(req->key, opts->eab_kid, opts->eab_hmac_key,
	    dir->new_account, &eabjws)) == 0 &&
	    (rc = json_parse_object(eabjws, strlen(eabjws), "eab", &eab)) == 0)
		json_object_object_add(payload, "externalAccountBinding", eab);
	free(eabjws);
	return rc;
}

/*
 * POST newAccount; on success *url gets the Location.  With
 * only_existing, an account the CA does not know sets *missing.
 */
static int
post_new_account(struct certo_req *req, const struct certo_directory *dir,
    const struct account_opts *opts, bool only_existing, char **url,
    bool *missing)
{
	struct json_object *payload = NULL;
	struct certo_problem prob = { 0 };
	struct http_resp resp;
	int rc;

	*missing = false;
	memset(&resp, 0, sizeof(resp));
	if ((rc = new_account_payload(req, dir, opts, only_existing,
	    &payload)) != 0) {
		json_object_put(payload);
		return rc;
	}
	/* newAccount is signed with the JWK, not a kid. */
	request_set_account(req, req->key, NULL);
	rc = request_post(req, dir->new_account,
	    json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), DOC_NONE, &resp, &prob);
	json_object_put(payload);
	if (rc == CERTO_EPROBLEM && only_existing &&
	    problem_is(&prob, "accountDoesNotExist")) {
		certo_errclear();
		*missing = true;
		rc = 0;
	} else if (rc == 0 && (resp.location == NULL ||
	    strlen(resp.location) > JSON_URL_MAX ||
	    !json_url_ok(resp.location))) {
		char shown[256];
		rc = certo_fail(CERTO_EPROTO, "newAccount: the CA sent no "
		    "usable Location for the account (\"%s\")", resp.location ?
		    log_str(shown, sizeof(shown), resp.location) : "");
	} else if (rc == 0 && (*url = strdup(resp.location)) == NULL) {
		rc = CERTO_ENOMEM;
	}
	problem_free(&prob);
	http_resp_free(&resp);
	return rc;
}

int
account_lookup(struct certo_req *req, const struct certo_directory *dir,
    char **url, bool *missing)
{
	struct account_opts none = { 0 };

	*url = NULL;
	return post_new_account(req, dir, &none, true, url, missing);
}

bool
account_url_v1(const char *url)
{
	return strstr(url, "/acme/reg/") != NULL ||
	    strstr(url, "/acme/new-reg") != NULL ||
	    strstr(url, "://acme-v01.api.letsencrypt.org/") != NULL ||
	    strstr(url, "://acme-staging.api.letsencrypt.org/") != NULL;
}

/* account.json at path with "url" replaced (its other members kept). */
static int
replace_url(const char *path, const char *url)
{
	struct json_object *o = NULL;
	char *data = NULL;
	const char *s;
	size_t len;
	int rc;

	if ((rc = file_read(path, ACCOUNT_JSON_MAX, false, &data, &len,
	    NULL)) != 0 || (rc = json_parse_object(data, len, path, &o)) != 0)
		goto out;
	json_object_object_add(o, "url", json_object_new_string(url));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = s == NULL ? CERTO_ENOMEM : file_write_atomic(path, s, strlen(s),
	    0600, false);
out:
	json_object_put(o);
	free(data);
	return rc;
}

int
account_relocate(struct certo_req *req, const struct certo_directory *dir,
    const char *acct_dir)
{
	struct json_object *fields;
	char *old = NULL, *url = NULL, *path = NULL, shown[512], shown2[512];
	bool missing = false;
	int rc;

	if (req->kid == NULL)
		return 1;
	if ((old = strdup(req->kid)) == NULL ||
	    (path = file_join(acct_dir, "account.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	log_str(shown, sizeof(shown), old);
	/* newAccount, signed with the key itself (jwk), never creates. */
	rc = account_lookup(req, dir, &url, &missing);
	if (rc == 0 && missing)
		rc = certo_fail(CERTO_EUNKNOWNKEY, "the CA refused the stored "
		    "account %s and knows no account for its key (%s/account.key)"
		    "; nothing was created: move %s aside and run certo account "
		    "register for a new account", shown, acct_dir, acct_dir);
	if (rc == 0 && strcmp(url, old) == 0)
		rc = 1;
	if (rc == 0 && (rc = replace_url(path, url)) == 0) {
		log_str(shown2, sizeof(shown2), url);
		if ((fields = json_object_new_object()) != NULL) {
			json_object_object_add(fields, "old_url",
			    json_object_new_string(shown));
			json_object_object_add(fields, "url",
			    json_object_new_string(shown2));
		}
		log_event("account_relocated", fields, "account: %s -> %s (found "
		    "by its key)", shown, shown2);
	}
	/* From now on signed with the CA's URL, or as before. */
	if (request_set_account(req, req->key, rc == 0 ? url : old) != 0 &&
	    rc >= 0)
		rc = CERTO_ENOMEM;
out:
	free(old);
	free(url);
	free(path);
	return rc;
}

/*
 * Register a new account for acct->key (made and saved at keypath now
 * unless have_key): the CA's preconditions first (external account
 * binding, terms of service), then newAccount.  *url gets the account.
 */
static int
register_account(struct certo_req *req, const struct certo_directory *dir,
    const struct account_opts *opts, const char *keypath, bool have_key,
    struct certo_account *acct, char **url)
{
	char shown[512];
	bool missing;
	int rc;

	if (dir->eab_required && opts->eab_kid == NULL)
		return certo_fail(CERTO_EUSAGE, "the CA requires external account "
		    "binding: pass --eab-kid and --eab-hmac-key from your CA "
		    "account");
	if (dir->terms_of_service != NULL && !opts->agree_tos)
		return certo_fail(CERTO_ETOS, "the CA requires agreeing to its "
		    "terms of service at %s; pass --agree-tos",
		    log_str(shown, sizeof(shown), dir->terms_of_service));
	if (!have_key) {
		if ((rc = file_mkdirs(opts->dir)) != 0 ||
		    (rc = key_generate(opts->key_type, &acct->key)) != 0 ||
		    (rc = key_save(acct->key, keypath, true)) != 0)
			return rc;
		req->key = acct->key;
	}
	if ((rc = post_new_account(req, dir, opts, false, url, &missing)) != 0) {
		/* A key made in this run that the CA refused (say, a type it
		 * does not take) is never left behind. */
		if (!have_key)
			unlink(keypath);
		return rc;
	}
	acct->created = true;
	return 0;
}

int
account_ensure(struct certo_req *req, const struct certo_directory *dir,
    const struct account_opts *opts, struct certo_account *acct)
{
	char *keypath = NULL, *jsonpath = NULL, *url = NULL;
	bool have_key, missing = false;
	int rc;

	memset(acct, 0, sizeof(*acct));
	if ((keypath = file_join(opts->dir, "account.key")) == NULL ||
	    (jsonpath = file_join(opts->dir, "account.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	have_key = file_exists(keypath);
	if (have_key && ((rc = key_load(keypath, &acct->key)) != 0 ||
	    (rc = load_url(jsonpath, &url)) != 0))
		goto out;
	if (url != NULL) {
		/* Known account: sign with its kid from now on. */
		if ((rc = request_set_account(req, acct->key, url)) != 0)
			goto out;
		/* An ACME v1 URL is never a kid: ask the CA (account.h). */
		if (account_url_v1(url) && (rc = account_relocate(req, dir,
		    opts->dir)) < 0)
			goto out;
		free(url);
		rc = (url = strdup(req->kid)) == NULL ? CERTO_ENOMEM : 0;
		acct->url = url;
		url = NULL;
		goto out;
	}
	req->key = acct->key;
	/* A key without a URL: ask the CA (onlyReturnExisting). */
	if (have_key && (rc = post_new_account(req, dir, opts, true, &url,
	    &missing)) != 0)
		goto out;
	if (url == NULL && (rc = register_account(req, dir, opts, keypath,
	    have_key, acct, &url)) != 0)
		goto out;
	/* A new account remembers the agreement and addresses it was made
	 * with; a looked-up one does not know them. */
	if ((rc = account_save(jsonpath, url, acct->created && opts->agree_tos,
	    acct->created ? opts->emails : NULL, acct->created ?
	    opts->nemails : 0)) != 0)
		goto out;
	acct->url = url;
	url = NULL;
	rc = request_set_account(req, acct->key, acct->url);
out:
	/* Hosts sharing a store (store_remote.h) find it there. */
	if (rc == 0)
		rc = store_remote_put_account(opts->dir, acct->key, false);
	if (rc != 0) {
		req->key = NULL;
		account_free(acct);
	}
	free(url);
	free(keypath);
	free(jsonpath);
	return rc;
}

int
account_remembered(const char *state, const char *server, bool *agreed,
    char ***emails, size_t *nemails)
{
	struct json_object *o = NULL, *v, *a;
	char *ca_id = NULL, *path = NULL, *data = NULL;
	size_t len;
	bool missing = false;
	int rc;

	*agreed = false;
	*emails = NULL;
	*nemails = 0;
	if ((rc = account_ca_id(server, &ca_id)) != 0)
		return rc;
	if (asprintf(&path, "%s/accounts/%s/account.json", state, ca_id) < 0) {
		path = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_read(path, ACCOUNT_JSON_MAX, false, &data, &len,
	    &missing)) != 0) {
		if (missing) {
			certo_errclear();
			rc = 0;
		}
		goto out;
	}
	if ((rc = json_parse_object(data, len, path, &o)) != 0)
		goto out;
	*agreed = json_object_object_get_ex(o, "terms_agreed", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "contact", &a) &&
	    json_object_is_type(a, json_type_array)) {
		size_t n = json_object_array_length(a);
		if (n > 16)
			n = 16;
		if (n > 0 && (*emails = calloc(n, sizeof(char *))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			v = json_object_array_get_idx(a, i);
			if (!json_object_is_type(v, json_type_string))
				continue;
			if (((*emails)[*nemails] = strdup(json_object_get_string(
			    v))) == NULL) {
				rc = CERTO_ENOMEM;
				goto out;
			}
			(*nemails)++;
		}
	}
out:
	if (rc != 0) {
		for (size_t i = 0; i < *nemails; i++)
			free((*emails)[i]);
		free(*emails);
		*emails = NULL;
		*nemails = 0;
		*agreed = false;
	}
	json_object_put(o);
	free(data);
	free(path);
	free(ca_id);
	return rc;
}

