/* Accounts: load or create, look up by key, register. */
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
#include "session.h"
#include "store.h"
#include "cli.h"

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

/*
 * Write account.json: the URL and, for an account created by certo, what
 * the user said when it was made (remembered for the staging account of
 * renew --dry-run): "terms_agreed" and the "contact" addresses.
 */
static int
save_account(const char *path, const char *url, bool agreed,
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

/* POST newAccount; on success *url gets the Location. */
static int
new_account(struct certo_req *req, const struct certo_directory *dir,
    const struct account_opts *o, bool only_existing, char **url,
    bool *missing)
{
	struct json_object *p, *contact, *eab = NULL;
	struct certo_problem prob = { 0 };
	struct http_resp r;
	char *mail, *eabjws = NULL;
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
				if (asprintf(&mail, "mailto:%s", o->emails[i]) < 0) {
					/* Never register without the contact. */
					json_object_put(contact);
					json_object_put(p);
					return CERTO_ENOMEM;
				}
				json_object_array_add(contact,
				    json_object_new_string(mail));
				free(mail);
			}
			json_object_object_add(p, "contact", contact);
		}
		if (o->eab_kid != NULL) {
			/* RFC 8555 7.3.4: bind to the CA's existing account. */
			if ((rc = jws_eab(req->key, o->eab_kid, o->eab_hmac_key,
			    dir->new_account, &eabjws)) != 0 ||
			    (rc = json_parse_object(eabjws, strlen(eabjws), "eab",
			    &eab)) != 0) {
				json_object_put(p);
				free(eabjws);
				return rc;
			}
			json_object_object_add(p, "externalAccountBinding", eab);
			free(eabjws);
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
		if (dir->eab_required && o->eab_kid == NULL) {
			rc = certo_fail(CERTO_EUSAGE, "the CA requires external account "
			    "binding: pass --eab-kid and --eab-hmac-key from your CA "
			    "account");
			goto out;
		}
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
		if ((rc = new_account(req, dir, o, false, &url, &missing)) != 0) {
			/* A key made in this run that the CA refused (say, a type
			 * it does not take) is never left behind. */
			if (!have_key)
				unlink(keypath);
			goto out;
		}
		acct->created = true;
	}
	/* A new account remembers the agreement and addresses it was made
	 * with; a looked-up one does not know them. */
	if ((rc = save_account(jsonpath, url, acct->created && o->agree_tos,
	    acct->created ? o->emails : NULL, acct->created ? o->nemails : 0)) !=
	    0)
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

/* POST to the account URL; payload NULL is POST-as-GET.  Prints it. */
static int
account_post(struct certo_req *req, const char *url, const char *payload,
    const char *event)
{
	struct json_object *o = NULL, *c;
	struct http_resp r;
	char *status = NULL, shown[512], contacts[1024] = "";
	size_t n = 0;
	int rc;

	if ((rc = request_post(req, url, payload, REQUEST_MAX_BODY, &r,
	    NULL)) != 0)
		goto out;
	if ((rc = json_parse_object(r.body.data, r.body.len, "account", &o)) ||
	    (rc = json_get_str(o, "account", "status", true, 32, &status)))
		goto out;
	if (json_object_object_get_ex(o, "contact", &c) &&
	    json_object_is_type(c, json_type_array))
		for (size_t i = 0; i < json_object_array_length(c) &&
		    n < sizeof(contacts); i++) {
			char v[256];
			log_sanitize(v, sizeof(v), json_object_get_string(
			    json_object_array_get_idx(c, i)), (size_t)-1);
			n += (size_t)snprintf(contacts + n, sizeof(contacts) - n,
			    "%s%s", i ? ", " : "", v);
		}
	log_sanitize(shown, sizeof(shown), url, (size_t)-1);
	json_object_object_add(o, "url", json_object_new_string(url));
	log_event(event, json_object_get(o), "account: %s\n  status: %s\n"
	    "  contact: %s", shown, status, n ? contacts : "(none)");
out:
	json_object_put(o);
	free(status);
	http_resp_free(&r);
	return rc;
}

static char *
contact_payload(const struct certo_cli *cli, const char *extra)
{
	struct json_object *p = json_object_new_object(), *a;
	char *mail, *out;

	a = json_object_new_array();
	for (size_t i = 0; i < cli->nemails; i++)
		if (asprintf(&mail, "mailto:%s", cli->emails[i]) >= 0) {
			json_object_array_add(a, json_object_new_string(mail));
			free(mail);
		}
	json_object_object_add(p, "contact", a);
	if (extra != NULL)
		json_object_object_add(p, "status", json_object_new_string(extra));
	out = strdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(p);
	return out;
}

/*
 * keyChange (RFC 8555 7.3.5): the new key is written next to the old one
 * first; only when the CA confirms does it become account.key, and the
 * old key is kept as account.key.old.
 */
static int
rollover(struct certo_req *req, const struct certo_directory *dir,
    const char *acct_dir, struct certo_account *acct, enum key_type t)
{
	struct certo_key *nk = NULL;
	struct http_resp r;
	char *inner = NULL, *kp = NULL, *np = NULL, *op = NULL, shown[512];
	int rc;

	memset(&r, 0, sizeof(r));
	if ((kp = file_join(acct_dir, "account.key")) == NULL ||
	    (np = file_join(acct_dir, "account.key.new")) == NULL ||
	    (op = file_join(acct_dir, "account.key.old")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	unlink(np); /* a leftover from an interrupted rollover */
	if ((rc = key_generate(t, &nk)) != 0 ||
	    (rc = key_save(nk, np, true)) != 0 ||
	    (rc = jws_key_change(nk, acct->key, acct->url, dir->key_change,
	    &inner)) != 0)
		goto out;
	if ((rc = request_post(req, dir->key_change, inner, REQUEST_MAX_BODY,
	    &r, NULL)) != 0) {
		unlink(np);
		goto out;
	}
	/* Confirmed: keep the old key as a backup, install the new one. */
	if (rename(kp, op) != 0 || rename(np, kp) != 0) {
		rc = certo_fail(CERTO_EIO, "the CA switched the account to the new "
		    "key, but installing it failed: it is in %s", np);
		goto out;
	}
	log_event("account_rollover", NULL, "account: %s now uses a new %s key "
	    "(old key kept in %s)", log_sanitize(shown, sizeof(shown),
	    acct->url, (size_t)-1), key_type_name(t), op);
out:
	http_resp_free(&r);
	key_free(nk);
	free(inner);
	free(kp);
	free(np);
	free(op);
	return rc;
}

/*
 * An ACME v1 registration URL ("https://acme-v01.api.letsencrypt.org/
 * acme/reg/123"): v1 resources live under /acme/reg/, /acme/new-reg...
 */
static bool
acme_v1_url(const char *url)
{
	return strstr(url, "/acme/reg/") != NULL ||
	    strstr(url, "/acme/new-reg") != NULL ||
	    strstr(url, "://acme-v01.api.letsencrypt.org/") != NULL ||
	    strstr(url, "://acme-staging.api.letsencrypt.org/") != NULL;
}

/*
 * manuale's account.json: {"uri": ..., "key": "<PEM>"}.  Everything is
 * checked before anything is written, the CA included: it must know an
 * account for the key (onlyReturnExisting).  An ACME v1 registration is
 * refused: its URL is not an RFC 8555 account URL.
 */
static int
import_manuale(const struct certo_cli *cli, struct session *sess)
{
	const char *acct_dir = sess->acct_dir;
	struct json_object *o = NULL;
	struct certo_key *k = NULL;
	struct session_needs needs = { 0 };
	struct account_opts ao = { 0 };
	const char *file = cli->manuale_file;
	char *data = NULL, *uri = NULL, *pem = NULL, *kp = NULL, *jp = NULL;
	char *url = NULL, shown[512], shown2[512];
	size_t len = 0;
	bool missing = false;
	int rc;

	if ((rc = file_read(file, 256 * 1024, true, &data, &len, NULL)) != 0)
		goto out;
	if (json_parse_object(data, len, file, &o) != 0 ||
	    json_get_str(o, file, "uri", true, 2048, &uri) != 0 ||
	    json_get_str(o, file, "key", true, 64 * 1024, &pem) != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", certo_errmsg() ? certo_errmsg() :
		    "unreadable");
		certo_errclear();
		rc = certo_fail(CERTO_EUSAGE, "not a manuale account file: %s",
		    why);
		goto out;
	}
	log_sanitize(shown, sizeof(shown), uri, (size_t)-1);
	if (strncmp(uri, "https://", 8) != 0 && strncmp(uri, "http://", 7) != 0) {
		rc = certo_fail(CERTO_EUSAGE, "%s: \"uri\" is not an account URL",
		    file);
		goto out;
	}
	if (acme_v1_url(uri)) {
		rc = certo_fail(CERTO_EUSAGE, "%s: %s is an ACME v1 registration; "
		    "certo speaks ACME v2 (RFC 8555) only and cannot import it "
		    "(register a new account with certo account register)", file,
		    shown);
		goto out;
	}
	if (key_parse(pem, strlen(pem), file, &k) != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", certo_errmsg());
		certo_errclear();
		rc = certo_fail(CERTO_EUSAGE, "%s", why);
		goto out;
	}
	if ((kp = file_join(acct_dir, "account.key")) == NULL ||
	    (jp = file_join(acct_dir, "account.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if (file_exists(kp)) {
		rc = certo_fail(CERTO_EUSAGE, "an account already exists in %s; "
		    "not overwriting it", acct_dir);
		goto out;
	}
	/* Ask the CA which account this key has (RFC 8555 7.3.1). */
	if ((rc = session_connect(sess, &needs)) != 0)
		goto out;
	sess->req.key = k;
	rc = new_account(&sess->req, &sess->dir, &ao, true, &url, &missing);
	sess->req.key = NULL;
	if (rc != 0)
		goto out;
	if (missing) {
		rc = certo_fail(CERTO_ENOACCOUNT, "the CA at %s knows no account "
		    "for the key in %s (is --server the CA this account belongs "
		    "to?); nothing imported", log_sanitize(shown2,
		    sizeof(shown2), cli->server, (size_t)-1), file);
		goto out;
	}
	if (strcmp(url, uri) != 0)
		log_warn("the CA says the account of this key is %s, not %s; "
		    "importing %s", log_sanitize(shown2, sizeof(shown2), url,
		    (size_t)-1), shown, shown2);
	if ((rc = file_mkdirs(acct_dir)) != 0 ||
	    (rc = key_save(k, kp, true)) != 0)
		goto out;
	if ((rc = save_account(jp, url, false, NULL, 0)) != 0) {
		unlink(kp);
		goto out;
	}
	log_event("account_imported", NULL, "account: imported %s from %s "
	    "(the CA confirmed it)", log_sanitize(shown2, sizeof(shown2), url,
	    (size_t)-1), file);
out:
	if (pem) {
		memset(pem, 0, strlen(pem));
		free(pem);
	}
	if (data) {
		memset(data, 0, len);
		free(data);
	}
	key_free(k);
	json_object_put(o);
	free(uri);
	free(url);
	free(kp);
	free(jp);
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

/* After account update: account.json remembers the new addresses. */
static int
remember_contacts(const char *state, const struct certo_cli *cli,
    const char *adir, const char *url)
{
	char **old = NULL, *jp;
	size_t nold = 0;
	bool agreed;
	int rc;

	if ((jp = file_join(adir, "account.json")) == NULL)
		return CERTO_ENOMEM;
	if ((rc = account_remembered(state, cli->server, &agreed, &old,
	    &nold)) == 0)
		rc = save_account(jp, url, agreed, cli->emails, cli->nemails);
	for (size_t i = 0; i < nold; i++)
		free(old[i]);
	free(old);
	free(jp);
	return rc;
}

int
account_cmd(const struct certo_cli *cli)
{
	struct session sess;
	struct session_opts so;
	struct session_needs needs = { 0 };
	struct account_opts ao;
	char *payload = NULL;
	const char *cmd = cli->arg;
	int rc;

	session_opts_cli(cli, &so);
	session_account_cli(cli, &ao);
	if ((rc = session_open(&so, &sess)) != 0)
		goto out;
	if (strcmp(cmd, "import") == 0) {
		rc = import_manuale(cli, &sess);
		goto out;
	}
	/* Not while another run creates or rolls over this account. */
	needs.account = strcmp(cmd, "register") == 0 ? SESSION_ACCOUNT_MANAGE :
	    SESSION_ACCOUNT_MANAGE_EXISTING;
	needs.account_opts = &ao;
	if ((rc = session_connect(&sess, &needs)) != 0)
		goto out;
	if (strcmp(cmd, "register") == 0 || strcmp(cmd, "info") == 0) {
		rc = account_post(&sess.req, sess.acct.url, NULL, sess.acct.created ?
		    "account_created" : "account_info");
	} else if (strcmp(cmd, "update") == 0) {
		if (cli->nemails == 0) {
			rc = certo_fail(CERTO_EUSAGE, "account update needs --email "
			    "(the new contact list)");
			goto out;
		}
		if ((payload = contact_payload(cli, NULL)) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		rc = account_post(&sess.req, sess.acct.url, payload,
		    "account_updated");
		if (rc == 0)
			rc = remember_contacts(sess.state, cli, sess.acct_dir,
			    sess.acct.url);
	} else if (strcmp(cmd, "deactivate") == 0) {
		rc = account_post(&sess.req, sess.acct.url,
		    "{\"status\":\"deactivated\"}", "account_deactivated");
	} else if (strcmp(cmd, "rollover") == 0) {
		rc = rollover(&sess.req, &sess.dir, sess.acct_dir, &sess.acct,
		    cli->account_key_type);
	}
out:
	session_close(&sess);
	free(payload);
	return rc;
}
