/*
 * The CA's documents, read where their bytes arrive (doc.h): the body
 * of a transfer becomes a typed document in the process that performed
 * it, and only the document is handed on.
 */
#include "doc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "errors.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "request.h"

size_t
doc_max(enum doc_kind kind)
{
	switch (kind) {
	case DOC_CHAIN:
		return REQUEST_MAX_CERT;
	case DOC_RENEWALINFO:
		return 64 * 1024;
	case DOC_NONE:
		return 64 * 1024;
	default:
		return REQUEST_MAX_BODY;
	}
}

void
doc_init(void)
{
	http_set_doc_reader(doc_read, doc_free);
}

const char *const doc_account_statuses[DOC_ACCOUNT_STATUSES] = { "valid",
	"deactivated", "revoked" };

const char *const doc_jwk_names[DOC_JWK_MEMBERS] = { "kty", "crv", "x",
	"y", "n", "e" };

bool
doc_jwk_ok(size_t i, const char *s)
{
	size_t n = strlen(s);

	if (i < 2)
		return n > 0 && n <= 16 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
	return n > 0 && n <= 1400 && b64url_valid(s);
}

/* The account's "key" (a JWK): the members certo shows. */
static int
account_key(struct json_object *key, struct doc_account *acct)
{
	struct json_object *v;

	for (size_t i = 0; i < DOC_JWK_MEMBERS; i++) {
		if (!json_object_object_get_ex(key, doc_jwk_names[i], &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    !doc_jwk_ok(i, json_object_get_string(v)))
			continue;
		if ((acct->jwk[i] = strdup(json_object_get_string(v))) == NULL)
			return CERTO_ENOMEM;
	}
	return 0;
}

void
doc_account_free(struct doc_account *acct)
{
	if (acct == NULL)
		return;
	free(acct->status);
	free(acct->orders);
	for (size_t i = 0; i < DOC_JWK_MEMBERS; i++)
		free(acct->jwk[i]);
	for (size_t i = 0; i < acct->ncontacts; i++)
		free(acct->contacts[i]);
	free(acct->contacts);
	memset(acct, 0, sizeof(*acct));
}

/* An account object: its status (required) and contact URIs. */
static int
account_parse(const char *json, size_t len, struct doc_account *acct)
{
	struct json_object *obj, *contact = NULL, *c, *key = NULL;
	const char *what = "account";
	size_t n;
	int rc, st;

	memset(acct, 0, sizeof(*acct));
	if ((rc = json_parse_object(json, len, what, &obj)) != 0)
		return rc;
	if ((rc = json_get_enum(obj, what, "status", true,
	    doc_account_statuses, DOC_ACCOUNT_STATUSES, &st)) != 0)
		goto out;
	if ((acct->status = strdup(doc_account_statuses[st])) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = json_get_url(obj, what, "orders", false, &acct->orders)) ||
	    (rc = json_get_bool(obj, what, "termsOfServiceAgreed", false,
	    &acct->tos_agreed)) ||
	    (rc = json_get_object(obj, what, "key", false, &key)) ||
	    (key != NULL && (rc = account_key(key, acct)) != 0))
		goto out;
	/* Shown only: a malformed contact list is left out, as before. */
	if (!json_object_object_get_ex(obj, "contact", &contact) ||
	    !json_object_is_type(contact, json_type_array))
		goto out;
	n = json_object_array_length(contact);
	if (n > DOC_MAX_CONTACTS)
		n = DOC_MAX_CONTACTS;
	if (n > 0 && (acct->contacts = calloc(n, sizeof(char *))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		c = json_object_array_get_idx(contact, i);
		if (!json_object_is_type(c, json_type_string) ||
		    json_object_get_string_len(c) > 256)
			continue;
		if ((acct->contacts[acct->ncontacts] =
		    strdup(json_object_get_string(c))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		acct->ncontacts++;
	}
out:
	json_object_put(obj);
	if (rc != 0)
		doc_account_free(acct);
	return rc;
}

bool
doc_is_json(const struct http_resp *resp)
{
	static const char *const types[] = { "application/problem+json",
		"application/json" };
	const char *ct = resp->content_type;

	for (size_t i = 0; ct != NULL && i < 2; i++) {
		size_t n = strlen(types[i]);
		if (strncasecmp(ct, types[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';'))
			return true;
	}
	return false;
}

/*
 * Does body show keyauth as the CA sees it?  RFC 8555 section 8.3: the
 * server compares the body with trailing white space removed (Boulder
 * and Pebble do), so a file written with echo is fine; byte for byte
 * otherwise.
 */
static void
keyauth_compare(const char *body, size_t len, const char *keyauth,
    struct doc_keyauth *out)
{
	size_t n = len;

	while (n > 0 && (body[n - 1] == ' ' || body[n - 1] == '\t' ||
	    body[n - 1] == '\r' || body[n - 1] == '\n' ||
	    body[n - 1] == '\v' || body[n - 1] == '\f'))
		n--;
	out->match = keyauth != NULL && n == strlen(keyauth) &&
	    memcmp(body, keyauth, n) == 0;
	out->len = len;
	log_sanitize(out->shown, sizeof(out->shown), body,
	    len > DOC_KEYAUTH_SHOWN ? DOC_KEYAUTH_SHOWN : len);
}

/* Parse body as kind into doc->u. */
static int
parse_kind(enum doc_kind kind, const char *body, size_t len,
    const char *arg, struct certo_doc *doc)
{
	switch (kind) {
	case DOC_KEYAUTH:
		keyauth_compare(body, len, arg, &doc->u.keyauth);
		return 0;
	case DOC_DIRECTORY:
		return directory_parse(body, len, &doc->u.dir);
	case DOC_ACCOUNT:
		return account_parse(body, len, &doc->u.acct);
	case DOC_ORDER:
		return order_parse(body, len, &doc->u.order);
	case DOC_AUTHZ:
		return authz_parse(body, len, &doc->u.authz);
	case DOC_CHALLENGE:
		return challenge_parse(body, len, &doc->u.chall);
	case DOC_CHAIN:
		return certificate_parse(body, len, &doc->u.chain);
	case DOC_RENEWALINFO:
		return renewalinfo_parse(body, len, &doc->u.ari);
	case DOC_PROBLEM:
		return problem_parse(body, len, &doc->u.prob);
	default:
		return 0;
	}
}

int
doc_read(struct http_resp *resp, unsigned kind, const char *arg)
{
	struct certo_doc *doc;
	const char *body = resp->body.data != NULL ? resp->body.data : "";
	int rc;

	if (kind == DOC_RAW || kind >= DOC_PROBLEM)
		return 0;
	if ((doc = calloc(1, sizeof(*doc))) == NULL)
		return CERTO_ENOMEM;
	doc->kind = DOC_NONE;
	if (resp->status >= 200 && resp->status <= 299)
		doc->kind = (enum doc_kind)kind;
	else if (resp->status >= 400 && doc_is_json(resp))
		doc->kind = DOC_PROBLEM;
	rc = parse_kind(doc->kind, body, resp->body.len, arg, doc);
	if (rc == CERTO_ENOMEM) {
		doc_free(doc);
		return certo_fail(CERTO_ENOMEM, "out of memory");
	}
	if (rc != 0) {
		doc->rc = rc;
		if ((doc->msg = strdup(certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc))) == NULL) {
			doc_free(doc);
			return CERTO_ENOMEM;
		}
		certo_errclear();
	}
	doc_free(resp->doc);
	resp->doc = doc;
	/* Read: the bytes go no further. */
	buf_free(&resp->body);
	return 0;
}

/* Free the struct of kind in u. */
static void
free_kind(struct certo_doc *doc)
{
	switch (doc->kind) {
	case DOC_DIRECTORY:
		directory_free(&doc->u.dir);
		break;
	case DOC_ACCOUNT:
		doc_account_free(&doc->u.acct);
		break;
	case DOC_ORDER:
		order_free(&doc->u.order);
		break;
	case DOC_AUTHZ:
		authz_free(&doc->u.authz);
		break;
	case DOC_CHALLENGE:
		challenge_free(&doc->u.chall);
		break;
	case DOC_CHAIN:
		certificate_free(&doc->u.chain);
		break;
	case DOC_RENEWALINFO:
		renewalinfo_free(&doc->u.ari);
		break;
	case DOC_PROBLEM:
		problem_free(&doc->u.prob);
		break;
	default:
		break;
	}
}

void
doc_free(void *p)
{
	struct certo_doc *doc = p;

	if (doc == NULL)
		return;
	free_kind(doc);
	free(doc->msg);
	free(doc);
}

/*
 * Move the struct of doc's kind into out (see doc_take), as the kind's
 * parser fills its struct: an order and an authorization keep what the
 * caller set (names, URL, fetched authorizations); a directory, account,
 * challenge or problem that out held is freed first; a chain and a
 * renewalInfo window are written over (out need not be initialised).
 */
static void
move_kind(struct certo_doc *doc, void *out)
{
	size_t size = 0;
	char *url;

	switch (doc->kind) {
	case DOC_ORDER:
		order_update(out, &doc->u.order);
		break;
	case DOC_AUTHZ:
		url = ((struct certo_authz *)out)->url;
		((struct certo_authz *)out)->url = NULL;
		authz_free(out);
		doc->u.authz.url = url;
		size = sizeof(doc->u.authz);
		break;
	case DOC_DIRECTORY:
		directory_free(out);
		size = sizeof(doc->u.dir);
		break;
	case DOC_ACCOUNT:
		doc_account_free(out);
		size = sizeof(doc->u.acct);
		break;
	case DOC_CHALLENGE:
		challenge_free(out);
		size = sizeof(doc->u.chall);
		break;
	case DOC_CHAIN: /* as certificate_parse: out need not be set */
		size = sizeof(doc->u.chain);
		break;
	case DOC_RENEWALINFO: /* as renewalinfo_parse */
		size = sizeof(doc->u.ari);
		break;
	case DOC_PROBLEM:
		problem_free(out);
		size = sizeof(doc->u.prob);
		break;
	case DOC_KEYAUTH:
		size = sizeof(doc->u.keyauth);
		break;
	default:
		break;
	}
	if (size > 0)
		memcpy(out, &doc->u, size);
	memset(&doc->u, 0, sizeof(doc->u));
	doc->kind = DOC_NONE;
}

int
doc_take(struct http_resp *resp, enum doc_kind kind, void *out)
{
	struct certo_doc *doc = resp->doc;

	if (doc == NULL || doc->kind != kind)
		return certo_fail(CERTO_EPROTO, "the CA's answer (HTTP %ld) has "
		    "no %s document", resp->status, kind == DOC_PROBLEM ?
		    "problem" : "readable");
	if (doc->rc != 0)
		return certo_fail(doc->rc, "%s", doc->msg ? doc->msg :
		    certo_strerror(doc->rc));
	move_kind(doc, out);
	return 0;
}
