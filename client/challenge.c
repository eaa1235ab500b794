/* Challenges. */
#include "challenge.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "request.h"

static const char *const status_names[] = {
	[CHALL_PENDING] = "pending",
	[CHALL_PROCESSING] = "processing",
	[CHALL_VALID] = "valid",
	[CHALL_INVALID] = "invalid",
};

/* The RFC 8555 name of a challenge status. */
const char *
challenge_status_name(enum chall_status s)
{
	return status_names[s];
}

/* Free what chall holds and zero it; NULL is fine. */
void
challenge_free(struct certo_challenge *chall)
{
	if (chall == NULL)
		return;
	free(chall->url);
	free(chall->token);
	if (chall->error) {
		problem_free(chall->error);
		free(chall->error);
	}
	memset(chall, 0, sizeof(*chall));
}

/*
 * Type a challenge object from the CA into chall (reset first): type,
 * url (http(s) only), status (pending if absent), token (base64url of
 * at least 128 bits, for the types certo knows) and error.  Returns 0,
 * or CERTO_EPROTO & co. with chall empty.
 */
int
challenge_parse_obj(struct json_object *obj, struct certo_challenge *chall)
{
	struct json_object *err = NULL;
	char *type = NULL, shown[80];
	int st = CHALL_PENDING;
	const char *w = "challenge";
	int rc;

	challenge_free(chall);
	if ((rc = json_get_str(obj, w, "type", true, 64, &type)) ||
	    (rc = json_get_url(obj, w, "url", true, &chall->url)) ||
	    /* RFC 8555 7.5's example omits it: st stays pending. */
	    (rc = json_get_enum(obj, w, "status", false, status_names,
	    sizeof(status_names) / sizeof(status_names[0]), &st)) ||
	    (rc = json_get_object(obj, w, "error", false, &err)))
		goto out;
	chall->type = challenge_type_parse(type);
	chall->status = (enum chall_status)st;
	if (chall->type != CHALL_UNKNOWN) {
		if ((rc = json_get_str(obj, w, "token", true,
		    CHALLENGE_MAX_TOKEN, &chall->token)) != 0)
			goto out;
		/* Tokens become URL paths and file names: only base64url. */
		if (!b64url_valid(chall->token) || strlen(chall->token) < 22) {
			rc = certo_fail(CERTO_EPROTO, "challenge: token \"%s\" is "
			    "not a base64url string of at least 128 bits",
			    log_str(shown, sizeof(shown), chall->token));
			goto out;
		}
	}
	if (err != NULL) {
		if ((chall->error = calloc(1, sizeof(*chall->error))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		rc = problem_parse_obj(err, chall->error);
	}
out:
	free(type);
	if (rc != 0)
		challenge_free(chall);
	return rc;
}

/* challenge_parse_obj() of a JSON document of len bytes. */
int
challenge_parse(const char *json, size_t len, struct certo_challenge *chall)
{
	struct json_object *obj;
	int rc;

	if ((rc = json_parse_object(json, len, "challenge", &obj)) != 0)
		return rc;
	rc = challenge_parse_obj(obj, chall);
	json_object_put(obj);
	return rc;
}

/*
 * The CA refused our answer.  When it was resent after its reply was
 * lost (request.c retries network faults), the first one did reach the
 * CA: the challenge is no longer pending, and polling the authorization
 * goes on from there.  Returns 0 (chall updated) in that case, else rc
 * with the CA's message kept.
 */
static int
challenge_moved_on(struct certo_req *req, struct certo_challenge *chall,
    int rc)
{
	struct http_resp resp;
	struct certo_challenge now = { 0 };

	if (request_post(req, chall->url, NULL, DOC_CHALLENGE, &resp,
	    NULL) == 0 && doc_take(&resp, DOC_CHALLENGE, &now) == 0 &&
	    now.status != CHALL_PENDING) {
		/* Handled: the refusal was about our own resent answer. */
		certo_errclear();
		challenge_free(chall);
		*chall = now; /* ownership moves to chall */
		rc = 0;
	} else {
		challenge_free(&now);
	}
	http_resp_free(&resp);
	return rc;
}

/*
 * Tell the CA we are ready: POST "{}" to the challenge URL (network
 * I/O through request.c); chall is replaced by the CA's answer.
 * Returns 0 or the request's error with its message.
 */
int
challenge_respond(struct certo_req *req, struct certo_challenge *chall)
{
	struct http_resp resp;
	struct certo_challenge upd = { 0 };
	int rc;

	/* An empty object says "ready" (RFC 8555 section 7.5.1). */
	if ((rc = request_post(req, chall->url, "{}", DOC_CHALLENGE, &resp,
	    NULL)) == 0 && (rc = doc_take(&resp, DOC_CHALLENGE, &upd)) == 0) {
		challenge_free(chall);
		*chall = upd; /* ownership moves to chall */
	} else if (rc == CERTO_EPROBLEM) {
		rc = challenge_moved_on(req, chall, rc);
	}
	http_resp_free(&resp);
	return rc;
}
