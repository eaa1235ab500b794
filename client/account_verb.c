/*
 * certo account register|info|update|deactivate|rollover|import: one
 * table of sub-verbs, each run on a session holding the account lock.
 */
#include "verbs.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "errors.h"
#include "file.h"
#include "json.h"
#include "jws.h"
#include "key.h"
#include "log.h"
#include "params.h"
#include "request.h"
#include "session.h"
#include "store_remote.h"

/*
 * POST to the account URL (payload NULL: POST-as-GET) and print the
 * account the CA answers with, as event.
 */
static int
post_account(struct session *sess, const char *payload, const char *event)
{
	struct json_object *obj = NULL, *arr, *key;
	struct doc_account acct = { 0 };
	struct http_resp resp;
	char shown[512], contacts[1024] = "", mail[256];
	size_t n = 0;
	int rc;

	rc = request_post(&sess->req, sess->acct.url, payload, DOC_ACCOUNT,
	    &resp, NULL);
	/* The CA refused the stored URL and the key's is another: use it. */
	if (rc != 0 && sess->req.kid != NULL &&
	    strcmp(sess->req.kid, sess->acct.url) != 0) {
		free(sess->acct.url);
		if ((sess->acct.url = strdup(sess->req.kid)) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		certo_errclear();
		http_resp_free(&resp);
		rc = request_post(&sess->req, sess->acct.url, payload,
		    DOC_ACCOUNT, &resp, NULL);
	}
	if (rc != 0 || (rc = doc_take(&resp, DOC_ACCOUNT, &acct)) != 0)
		goto out;
	/* The event's fields: the typed account, never the CA's bytes. */
	if ((obj = json_object_new_object()) == NULL ||
	    (arr = json_object_new_array()) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	json_object_object_add(obj, "status",
	    json_object_new_string(acct.status));
	json_object_object_add(obj, "contact", arr);
	json_object_object_add(obj, "termsOfServiceAgreed",
	    json_object_new_boolean(acct.tos_agreed));
	if (acct.orders != NULL)
		json_object_object_add(obj, "orders",
		    json_object_new_string(acct.orders));
	if ((key = json_object_new_object()) != NULL) {
		for (size_t i = 0; i < DOC_JWK_MEMBERS; i++)
			if (acct.jwk[i] != NULL)
				json_object_object_add(key, doc_jwk_names[i],
				    json_object_new_string(acct.jwk[i]));
		json_object_object_add(obj, "key", key);
	}
	for (size_t i = 0; i < acct.ncontacts; i++) {
		json_object_array_add(arr, json_object_new_string(
		    acct.contacts[i]));
		if (n < sizeof(contacts)) {
			log_str(mail, sizeof(mail), acct.contacts[i]);
			n += (size_t)snprintf(contacts + n, sizeof(contacts) - n,
			    "%s%s", i ? ", " : "", mail);
		}
	}
	log_str(shown, sizeof(shown), sess->acct.url);
	json_object_object_add(obj, "url", json_object_new_string(
	    sess->acct.url));
	log_event(event, json_object_get(obj), "account: %s\n  status: %s\n"
	    "  contact: %s", shown, acct.status, n ? contacts : "(none)");
out:
	json_object_put(obj);
	doc_account_free(&acct);
	http_resp_free(&resp);
	return rc;
}

/* register (the account is made or found by the session) and info. */
static int
verb_info(const struct certo_cli *cli, struct session *sess)
{
	(void)cli;
	return post_account(sess, NULL, sess->acct.created ?
	    "account_created" : "account_info");
}

/* After account update: account.json remembers the new addresses. */
static int
remember_contacts(const struct certo_cli *cli, const struct session *sess)
{
	char **old = NULL, *path;
	size_t nold = 0;
	bool agreed;
	int rc;

	if ((path = file_join(sess->acct_dir, "account.json")) == NULL)
		return CERTO_ENOMEM;
	if ((rc = account_remembered(sess->state, sess->server, &agreed, &old,
	    &nold)) == 0)
		rc = account_save(path, sess->acct.url, agreed, cli->emails,
		    cli->nemails);
	for (size_t i = 0; i < nold; i++)
		free(old[i]);
	free(old);
	free(path);
	return rc;
}

/* update --email ...: the new contact list. */
static int
verb_update(const struct certo_cli *cli, struct session *sess)
{
	struct json_object *payload, *contact;
	int rc;

	if (cli->nemails == 0)
		return certo_fail(CERTO_EUSAGE, "account update needs --email "
		    "(the new contact list)");
	if ((payload = json_object_new_object()) == NULL ||
	    (contact = account_contacts(cli->emails, cli->nemails)) == NULL) {
		json_object_put(payload);
		return CERTO_ENOMEM;
	}
	json_object_object_add(payload, "contact", contact);
	rc = post_account(sess, json_object_to_json_string_ext(payload,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    "account_updated");
	json_object_put(payload);
	if (rc == 0)
		rc = remember_contacts(cli, sess);
	return rc;
}

static int
verb_deactivate(const struct certo_cli *cli, struct session *sess)
{
	(void)cli;
	return post_account(sess, "{\"status\":\"deactivated\"}",
	    "account_deactivated");
}

/*
 * rollover: keyChange (RFC 8555 7.3.5).  The new key is written next to
 * the old one first; only when the CA confirms does it become
 * account.key, and the old key is kept as account.key.old.
 */
static int
verb_rollover(const struct certo_cli *cli, struct session *sess)
{
	struct certo_account *acct = &sess->acct;
	enum key_type type = cli->account_key_type;
	struct certo_key *new_key = NULL;
	struct http_resp resp;
	char *inner = NULL, *cur = NULL, *next = NULL, *old = NULL, shown[512];
	int rc;

	memset(&resp, 0, sizeof(resp));
	if ((cur = file_join(sess->acct_dir, "account.key")) == NULL ||
	    (next = file_join(sess->acct_dir, "account.key.new")) == NULL ||
	    (old = file_join(sess->acct_dir, "account.key.old")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	unlink(next); /* a leftover from an interrupted rollover */
	if ((rc = key_generate(type, &new_key)) != 0 ||
	    (rc = key_save(new_key, next, true)) != 0 ||
	    (rc = jws_key_change(new_key, acct->key, acct->url,
	    sess->dir.key_change, &inner)) != 0)
		goto out;
	if ((rc = request_post(&sess->req, sess->dir.key_change, inner,
	    DOC_NONE, &resp, NULL)) != 0) {
		unlink(next);
		goto out;
	}
	/* Confirmed: keep the old key as a backup, install the new one. */
	if (rename(cur, old) != 0 || rename(next, cur) != 0) {
		rc = certo_fail(CERTO_EIO, "the CA switched the account to the new "
		    "key, but installing it failed: it is in %s", next);
		goto out;
	}
	log_event("account_rollover", NULL, "account: %s now uses a new %s key "
	    "(old key kept in %s)", log_str(shown, sizeof(shown), acct->url),
	    key_type_name(type), old);
	/* --store: the other hosts take the new key from there. */
	if ((rc = store_remote_put_account(sess->acct_dir, new_key,
	    true)) != 0)
		certo_fail(rc, "the account now uses the new key, but the store "
		    "%s still has the old one", store_remote_shown());
out:
	http_resp_free(&resp);
	key_free(new_key);
	free(inner);
	free(cur);
	free(next);
	free(old);
	return rc;
}

/* A usage error: prefix, then the cause already recorded. */
static int
usage_because(const char *prefix, const char *fallback)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", certo_errmsg() ? certo_errmsg() :
	    fallback);
	certo_errclear();
	return certo_fail(CERTO_EUSAGE, "%s%s", prefix, why);
}

/*
 * manuale's account.json: {"uri": ..., "key": "<PEM>"}: *uri and *key
 * from file, checked.  An ACME v1 registration URI is read too: the
 * account is found by its key (verb_import).
 */
static int
read_manuale(const char *file, char **uri, struct certo_key **key)
{
	struct json_object *obj = NULL;
	char *data = NULL, *pem = NULL;
	size_t len = 0;
	int rc;

	if ((rc = file_read(file, 256 * 1024, true, &data, &len, NULL)) != 0)
		return rc;
	if (json_parse_object(data, len, file, &obj) != 0 ||
	    json_get_str(obj, file, "uri", true, 2048, uri) != 0 ||
	    json_get_str(obj, file, "key", true, 64 * 1024, &pem) != 0) {
		rc = usage_because("not a manuale account file: ", "unreadable");
	} else if (strncmp(*uri, "https://", 8) != 0 &&
	    strncmp(*uri, "http://", 7) != 0) {
		rc = certo_fail(CERTO_EUSAGE, "%s: \"uri\" is not an account URL",
		    file);
	} else if (key_parse(pem, strlen(pem), file, key) != 0) {
		rc = usage_because("", "unreadable key");
	}
	if (pem != NULL) {
		memset(pem, 0, strlen(pem));
		free(pem);
	}
	memset(data, 0, len);
	free(data);
	json_object_put(obj);
	return rc;
}

/*
 * import --manuale FILE: everything is checked before anything is
 * written, the CA included: it must know an account for the key
 * (onlyReturnExisting), and its URL is the one stored (an ACME v1 URI
 * or a stale one is replaced, and the change is said in one line).
 * A key the CA does not know is CERTO_EUNKNOWNKEY; nothing is created.
 */
static int
verb_import(const struct certo_cli *cli, struct session *sess)
{
	const char *file = cli->manuale_file;
	struct session_needs needs = { 0 };
	struct certo_key *key = NULL;
	char *uri = NULL, *url = NULL, *keypath = NULL, *jsonpath = NULL;
	char shown[512], shown2[512];
	bool missing = false;
	int rc;

	if ((rc = read_manuale(file, &uri, &key)) != 0)
		goto out;
	log_str(shown, sizeof(shown), uri);
	if ((keypath = file_join(sess->acct_dir, "account.key")) == NULL ||
	    (jsonpath = file_join(sess->acct_dir, "account.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if (file_exists(keypath)) {
		rc = certo_fail(CERTO_EUSAGE, "an account already exists in %s; "
		    "not overwriting it", sess->acct_dir);
		goto out;
	}
	/* Ask the CA which account this key has (RFC 8555 7.3.1). */
	if ((rc = session_connect(sess, &needs)) != 0)
		goto out;
	sess->req.key = key;
	rc = account_lookup(&sess->req, &sess->dir, &url, &missing);
	sess->req.key = NULL;
	if (rc != 0)
		goto out;
	if (missing) {
		rc = certo_fail(CERTO_EUNKNOWNKEY, "the CA at %s knows no account "
		    "for the key in %s (is --server the CA this account belongs "
		    "to?); nothing imported, no account created",
		    log_str(shown2, sizeof(shown2), sess->server), file);
		goto out;
	}
	if (strcmp(url, uri) != 0)
		log_event("account_relocated", NULL, "account: %s -> %s (%s; "
		    "found by its key)", shown, log_str(shown2, sizeof(shown2),
		    url), account_url_v1(uri) ? "an ACME v1 registration" :
		    "the URI in the file is not the CA's");
	if ((rc = file_mkdirs(sess->acct_dir)) != 0 ||
	    (rc = key_save(key, keypath, true)) != 0)
		goto out;
	if ((rc = account_save(jsonpath, url, false, NULL, 0)) != 0) {
		unlink(keypath);
		goto out;
	}
	log_event("account_imported", NULL, "account: imported %s from %s "
	    "(the CA confirmed it)", log_str(shown2, sizeof(shown2), url), file);
out:
	key_free(key);
	free(uri);
	free(url);
	free(keypath);
	free(jsonpath);
	return rc;
}

/* The sub-verbs, and what each needs of the account. */
static const struct {
	const char *name;
	enum session_account account;  /* NONE: the verb connects itself */
	int (*run)(const struct certo_cli *cli, struct session *sess);
} subverbs[] = {
	{ "register", SESSION_ACCOUNT_MANAGE, verb_info },
	{ "info", SESSION_ACCOUNT_MANAGE_EXISTING, verb_info },
	{ "update", SESSION_ACCOUNT_MANAGE_EXISTING, verb_update },
	{ "deactivate", SESSION_ACCOUNT_MANAGE_EXISTING, verb_deactivate },
	{ "rollover", SESSION_ACCOUNT_MANAGE_EXISTING, verb_rollover },
	{ "import", SESSION_ACCOUNT_NONE, verb_import },
};

int
account_run(const struct certo_cli *cli)
{
	struct session sess;
	enum session_account account;
	char shown[64];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(subverbs) / sizeof(subverbs[0]); i++)
		if (strcmp(subverbs[i].name, cli->arg) == 0)
			break;
	if (i == sizeof(subverbs) / sizeof(subverbs[0]))
		return certo_fail(CERTO_EUSAGE, "unknown account command '%s'",
		    log_str(shown, sizeof(shown), cli->arg));
	/* Not while another run creates or rolls over this account. */
	account = subverbs[i].account;
	if ((rc = params_open_session(cli, &sess)) == 0 &&
	    (account == SESSION_ACCOUNT_NONE ||
	    (rc = params_connect_session(&sess, cli, account)) == 0))
		rc = subverbs[i].run(cli, &sess);
	session_close(&sess);
	return rc;
}
