/* Accounts: load or create, look up by key, register. */
#include "account.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "errors.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "request.h"

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
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	/* Only [A-Za-z0-9.-:] hosts; anything else is not a path piece. */
	for (char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == ':' || *p == '[' || *p == ']'))
			*p = '_';
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
account_free(struct certo_account *a)
{
	if (a == NULL)
		return;
	free(a->url);
	key_free(a->key);
	memset(a, 0, sizeof(*a));
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

static int
save_url(const char *path, const char *url)
{
	struct json_object *o;
	const char *s;
	int rc;

	if ((o = json_object_new_object()) == NULL)
		return CERTO_ENOMEM;
	json_object_object_add(o, "url", json_object_new_string(url));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = file_write_atomic(path, s, strlen(s), 0600, false);
	json_object_put(o);
	return rc;
}

/* POST newAccount; on success *url gets the Location. */
static int
new_account(struct certo_req *req, const struct certo_directory *dir,
    const struct account_opts *o, bool only_existing, char **url,
    bool *missing)
{
	struct json_object *p, *contact;
	struct certo_problem prob = { 0 };
	struct http_resp r;
	char *mail;
	int rc;

	*missing = false;
	if ((p = json_object_new_object()) == NULL)
		return CERTO_ENOMEM;
	if (only_existing) {
		json_object_object_add(p, "onlyReturnExisting",
		    json_object_new_boolean(1));
	} else {
		if (o->agree_tos)
			json_object_object_add(p, "termsOfServiceAgreed",
			    json_object_new_boolean(1));
		if (o->nemails > 0) {
			contact = json_object_new_array();
			for (size_t i = 0; i < o->nemails; i++) {
				if (asprintf(&mail, "mailto:%s", o->emails[i]) < 0)
					continue;
				json_object_array_add(contact,
				    json_object_new_string(mail));
				free(mail);
			}
			json_object_object_add(p, "contact", contact);
		}
	}
	/* newAccount is signed with the JWK, not a kid. */
	request_set_account(req, req->key, NULL);
	rc = request_post(req, dir->new_account,
	    json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), REQUEST_MAX_BODY, &r, &prob);
	json_object_put(p);
	if (rc == CERTO_EPROBLEM && only_existing &&
	    problem_is(&prob, "accountDoesNotExist")) {
		certo_errclear();
		*missing = true;
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	if (r.location == NULL) {
		rc = certo_fail(CERTO_EPROTO, "newAccount: the CA sent no "
		    "Location for the account");
		goto out;
	}
	if ((*url = strdup(r.location)) == NULL)
		rc = CERTO_ENOMEM;
out:
	problem_free(&prob);
	http_resp_free(&r);
	return rc;
}

int
account_ensure(struct certo_req *req, const struct certo_directory *dir,
    const struct account_opts *o, struct certo_account *acct)
{
	char *keypath = NULL, *jsonpath = NULL, *url = NULL, shown[512];
	bool have_key, missing = false;
	int rc;

	memset(acct, 0, sizeof(*acct));
	if ((keypath = file_join(o->dir, "account.key")) == NULL ||
	    (jsonpath = file_join(o->dir, "account.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	have_key = file_exists(keypath);
	if (have_key) {
		if ((rc = key_load(keypath, &acct->key)) != 0 ||
		    (rc = load_url(jsonpath, &url)) != 0)
			goto out;
	}
	if (url != NULL) {
		/* Known account: sign with its kid from now on. */
		acct->url = url;
		url = NULL;
		rc = request_set_account(req, acct->key, acct->url);
		goto out;
	}
	req->key = acct->key;
	if (have_key) {
		/* A key without a URL: ask the CA (onlyReturnExisting). */
		if ((rc = new_account(req, dir, o, true, &url, &missing)) != 0)
			goto out;
	}
	if (url == NULL) {
		if (dir->terms_of_service != NULL && !o->agree_tos) {
			rc = certo_fail(CERTO_ETOS, "the CA requires agreeing to its "
			    "terms of service at %s; pass --agree-tos",
			    log_sanitize(shown, sizeof(shown),
			    dir->terms_of_service, (size_t)-1));
			goto out;
		}
		if (!have_key) {
			if ((rc = file_mkdirs(o->dir)) != 0 ||
			    (rc = key_generate(o->key_type, &acct->key)) != 0 ||
			    (rc = key_save(acct->key, keypath, true)) != 0)
				goto out;
			req->key = acct->key;
		}
		if ((rc = new_account(req, dir, o, false, &url, &missing)) != 0)
			goto out;
		acct->created = true;
	}
	if ((rc = save_url(jsonpath, url)) != 0)
		goto out;
	acct->url = url;
	url = NULL;
	rc = request_set_account(req, acct->key, acct->url);
out:
	if (rc != 0) {
		req->key = NULL;
		account_free(acct);
	}
	free(url);
	free(keypath);
	free(jsonpath);
	return rc;
}
