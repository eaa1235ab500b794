/*
 * The authorization stage (RFC 8555 section 7.5): fetch each
 * authorization, publish its challenge through the solver, self-check,
 * answer, poll.  Called by the driver (issue.c) only.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "buf.h"
#include "challenge.h"
#include "errors.h"
#include "issue_priv.h"
#include "jws.h"
#include "log.h"
#include "polling.h"
#include "problem.h"

/*
 * Report why an authorization failed: its status, and the problem of the
 * challenge chall (the one answered, when known) or else of any
 * challenge that carries one (type, detail, subproblems).
 */
static int
authz_failed(const struct certo_authz *authz,
    const struct certo_challenge *chall)
{
	struct certo_buf why;
	char name[300];
	int rc;

	buf_init(&why, 8192);
	for (size_t i = 0; chall == NULL && i < authz->nchalls; i++)
		if (authz->challs[i].error != NULL)
			chall = &authz->challs[i];
	if (chall != NULL && chall->error != NULL) {
		buf_printf(&why, "%s challenge %s: ",
		    challenge_type_name(chall->type),
		    challenge_status_name(chall->status));
		problem_format(chall->error, &why);
	}
	rc = certo_fail(CERTO_EINVALID, "authorization for %s%s is %s%s%s",
	    authz->wildcard ? "*." : "", log_str(name, sizeof(name),
	    authz->ident.value), authz_status_name(authz->status),
	    why.data ? ": " : "", why.data ? why.data : "");
	buf_free(&why);
	return rc;
}

/* {"name": name, "challenge": type} for events. */
static struct json_object *
fields_name(const char *name, const char *type)
{
	struct json_object *fields = json_object_new_object();

	if (fields == NULL)
		return NULL;
	json_object_object_add(fields, "name", json_object_new_string(name));
	if (type != NULL)
		json_object_object_add(fields, "challenge",
		    json_object_new_string(type));
	return fields;
}

static void
event_authz(const struct certo_authz *authz, const char *event,
    const char *name, const char *what)
{
	struct json_object *fields = fields_name(name, NULL);

	if (fields != NULL)
		json_object_object_add(fields, "url",
		    json_object_new_string(authz->url));
	log_event(event, fields, "authorization: %s %s", name, what);
}

/*
 * Fetch authorization authz and type it: its identifier must be one
 * that was ordered (else exit 2: a CA's string never becomes a file name
 * or a hook argument).  *name gets certo's own copy of that name
 * ("*.example.com" for a wildcard), borrowed from the job's names.
 */
static int
fetch_authz(struct issue *issue, struct certo_authz *authz,
    long *retry_after, const char **name)
{
	const struct issue_params *params = issue->params;
	size_t k = 0;
	int rc;

	if ((rc = authz_fetch(&issue->req, authz, retry_after)) != 0 ||
	    (rc = authz_check_ident(&authz->ident, authz->wildcard, params->names,
	    params->nnames, &k)) != 0)
		return rc;
	*name = params->names[k];
	return 0;
}

/*
 * Poll one answered authorization until the CA has decided.  The
 * challenge answered (type t) is read on every poll as well: some CAs
 * keep the authorization pending and put the failure on the challenge
 * (an "error", status pending or invalid).  That ends the wait at once
 * when the challenge is invalid, and after two polls showing the same
 * error when it stays pending (the CA may be retrying).
 */
static int
poll_authz(struct issue *issue, struct certo_authz *authz,
    enum chall_type t)
{
	struct polling poll;
	struct certo_challenge *chall;
	enum chall_status last = CHALL_PENDING;
	const char *name;
	unsigned errors = 0;
	long retry_after = -1;
	int rc;

	polling_start(&poll, "authorization", issue->sess->ca_timeout_s);
	for (;;) {
		chall = t != CHALL_UNKNOWN ? authz_find_challenge(authz, t) : NULL;
		if (authz->status != AUTHZ_PENDING)
			break;
		if (chall != NULL) {
			if (chall->status == CHALL_INVALID ||
			    (chall->error != NULL && chall->status != CHALL_VALID &&
			    ++errors >= 2))
				return authz_failed(authz, chall);
			if (chall->status != last) {
				last = chall->status;
				polling_progress(&poll);
			}
		}
		if ((rc = polling_wait(&poll, retry_after)) != 0 ||
		    (rc = fetch_authz(issue, authz, &retry_after, &name)) != 0)
			return rc;
	}
	if (authz->status != AUTHZ_VALID)
		return authz_failed(authz, chall);
	return 0;
}

/*
 * Fetch authorization i of the order and publish what must be proven:
 * the first challenge type in the user's order that the CA offers
 * (*chosen), unless the authorization is valid already.
 */
static int
fetch_and_publish(struct issue *issue, size_t i, enum chall_type *chosen)
{
	struct certo_order *order = &issue->order;
	struct certo_authz *authz = &order->authzs[i];
	const struct solver *solver = &issue->sess->solver;
	struct certo_challenge *chall = NULL;
	enum chall_type want = CHALL_UNKNOWN;
	const char *name = NULL;
	char *keyauth = NULL;
	long retry_after;
	int rc;

	if (authz->url == NULL &&
	    (authz->url = strdup(order->authz_urls[i])) == NULL)
		return CERTO_ENOMEM;
	if ((rc = fetch_authz(issue, authz, &retry_after, &name)) != 0)
		return rc;
	if (authz->status == AUTHZ_VALID) {
		event_authz(authz, "authorization_valid", name, "already valid");
		return 0;
	}
	if (authz->status != AUTHZ_PENDING)
		return issue->resumed ? ISSUE_RESTART : authz_failed(authz, NULL);
	for (size_t t = 0; chall == NULL && t < solver->ntypes; t++) {
		want = solver->types[t];
		chall = authz_find_challenge(authz, want);
	}
	if (chall == NULL)
		return certo_fail(CERTO_ENOCHALLENGE, "authorization for %s: the "
		    "CA offers none of the challenge types certo was told to use "
		    "(--challenge)%s", name, authz->wildcard ?
		    "; wildcards need dns-01" : "");
	*chosen = want;
	/* Failed in an earlier run: this order cannot be completed. */
	if (chall->status == CHALL_INVALID || chall->error != NULL)
		return issue->resumed ? ISSUE_RESTART : authz_failed(authz, chall);
	if (chall->status == CHALL_VALID)
		return 0; /* the authorization follows; just poll */
	if ((rc = jws_key_authorization(issue->sess->acct.key, chall->token,
	    &keyauth)) != 0)
		return rc;
	if (solver->ops->expires != NULL)
		solver->ops->expires(solver->ctx, authz->expires);
	/* publish_add() owns keyauth now, also when it fails. */
	return publish_add(&issue->published, want, name, chall, keyauth,
	    chall->status == CHALL_PROCESSING);
}

/* Tell the CA about the items published from index first on. */
static int
answer_published(struct issue *issue, size_t first)
{
	int rc;

	for (size_t i = first; i < issue->published.n; i++) {
		struct published *item = &issue->published.items[i];
		const char *type = challenge_type_name(item->type);

		if (item->answered) {
			log_event("challenge_republished", fields_name(item->ident,
			    type), "authorization: %s %s challenge already "
			    "answered, served again", item->ident, type);
			continue;
		}
		if ((rc = challenge_respond(&issue->req, item->chall)) != 0)
			return rc;
		log_event("challenge_answered", fields_name(item->ident, type),
		    "authorization: %s %s challenge answered", item->ident, type);
	}
	return 0;
}

/*
 * Authorizations, in four steps: publish every pending challenge, let
 * the solver check all of them at once (DNS propagation, HTTP/TLS self
 * fetch), only then tell the CA, and poll each until decided.  A
 * challenge the CA is still processing (a resumed order) is published
 * again, so the CA's fetch finds it, but not answered twice.
 */
int
stage_authorize(struct issue *issue)
{
	struct certo_order *order = &issue->order;
	enum chall_type *chosen = NULL;
	size_t first = issue->published.n;
	char shown[300];
	int rc = 0;

	if (order->authzs == NULL && (order->authzs = calloc(order->nauthz,
	    sizeof(*order->authzs))) == NULL)
		return CERTO_ENOMEM;
	if ((chosen = calloc(order->nauthz ? order->nauthz : 1,
	    sizeof(*chosen))) == NULL)
		return CERTO_ENOMEM;
	/* 1. Fetch each authorization; publish what must be proven. */
	for (size_t i = 0; i < order->nauthz && rc == 0; i++)
		rc = fetch_and_publish(issue, i, &chosen[i]);
	/* 2. Check locally first: a failed validation costs rate limit. */
	if (rc == 0)
		rc = publish_selfcheck(&issue->published, first);
	/* 3. Tell the CA (what an earlier run answered is published again). */
	if (rc == 0)
		rc = answer_published(issue, first);
	/* 4. Poll each until the CA has decided. */
	for (size_t i = 0; i < order->nauthz && rc == 0; i++) {
		struct certo_authz *authz = &order->authzs[i];
		bool was_pending = authz->status == AUTHZ_PENDING;

		if ((rc = poll_authz(issue, authz, chosen[i])) == 0 &&
		    was_pending) {
			snprintf(shown, sizeof(shown), "%s%s", authz->wildcard ?
			    "*." : "", authz->ident.value);
			event_authz(authz, "authorization_valid", shown, "valid");
		}
	}
	/* authz_fetch replaced the challenge objects: forget pointers. */
	publish_forget_challenges(&issue->published);
	free(chosen);
	return rc;
}
