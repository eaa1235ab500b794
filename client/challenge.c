/* Challenges. */
#include "challenge.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "request.h"

static const char *const type_names[] = {
	[CHALL_UNKNOWN] = "unknown",
	[CHALL_HTTP01] = "http-01",
	[CHALL_DNS01] = "dns-01",
	[CHALL_TLSALPN01] = "tls-alpn-01",
};

static const char *const status_names[] = {
	[CHALL_PENDING] = "pending",
	[CHALL_PROCESSING] = "processing",
	[CHALL_VALID] = "valid",
	[CHALL_INVALID] = "invalid",
};

enum chall_type
challenge_type_parse(const char *s)
{
	for (size_t i = 1; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(s, type_names[i]) == 0)
			return (enum chall_type)i;
	return CHALL_UNKNOWN;
}

const char *
challenge_type_name(enum chall_type t)
{
	return type_names[t];
}

const char *
challenge_status_name(enum chall_status s)
{
	return status_names[s];
}

void
challenge_free(struct certo_challenge *c)
{
	if (c == NULL)
		return;
	free(c->url);
	free(c->token);
	if (c->error) {
		problem_free(c->error);
		free(c->error);
	}
	memset(c, 0, sizeof(*c));
}

int
challenge_parse_obj(struct json_object *o, struct certo_challenge *c)
{
	struct json_object *err = NULL;
	char *type = NULL, shown[80];
	int st = CHALL_PENDING;
	const char *w = "challenge";
	int rc;

	challenge_free(c);
	if ((rc = json_get_str(o, w, "type", true, 64, &type)) ||
	    (rc = json_get_url(o, w, "url", true, &c->url)) ||
	    /* RFC 8555 7.5's example omits it: st stays pending. */
	    (rc = json_get_enum(o, w, "status", false, status_names,
	    sizeof(status_names) / sizeof(status_names[0]), &st)) ||
	    (rc = json_get_object(o, w, "error", false, &err)))
		goto out;
	c->type = challenge_type_parse(type);
	c->status = (enum chall_status)st;
	if (c->type != CHALL_UNKNOWN) {
		if ((rc = json_get_str(o, w, "token", true, CHALLENGE_MAX_TOKEN,
		    &c->token)) != 0)
			goto out;
		/* Tokens become URL paths and file names: only base64url. */
		if (!b64url_valid(c->token) || strlen(c->token) < 22) {
			rc = certo_fail(CERTO_EPROTO, "challenge: token \"%s\" is "
			    "not a base64url string of at least 128 bits",
			    log_sanitize(shown, sizeof(shown), c->token,
			    (size_t)-1));
			goto out;
		}
	}
	if (err != NULL) {
		if ((c->error = calloc(1, sizeof(*c->error))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		rc = problem_parse_obj(err, c->error);
	}
out:
	free(type);
	if (rc != 0)
		challenge_free(c);
	return rc;
}

int
challenge_parse(const char *json, size_t len, struct certo_challenge *c)
{
	struct json_object *o;
	int rc;

	if ((rc = json_parse_object(json, len, "challenge", &o)) != 0)
		return rc;
	rc = challenge_parse_obj(o, c);
	json_object_put(o);
	return rc;
}

/*
 * The CA refused our answer.  When it was resent after its reply was
 * lost (request.c retries network faults), the first one did reach the
 * CA: the challenge is no longer pending, and polling the authorization
 * goes on from there.  Returns 0 (c updated) in that case, else rc with
 * the CA's message kept.
 */
static int
challenge_moved_on(struct certo_req *req, struct certo_challenge *c, int rc)
{
	struct http_resp r;
	struct certo_challenge now = { 0 };

	if (request_post(req, c->url, NULL, REQUEST_MAX_BODY, &r, NULL) == 0 &&
	    challenge_parse(r.body.data, r.body.len, &now) == 0 &&
	    now.status != CHALL_PENDING) {
		certo_errclear();
		challenge_free(c);
		*c = now; /* ownership moves to c */
		rc = 0;
	} else {
		challenge_free(&now);
	}
	http_resp_free(&r);
	return rc;
}

int
challenge_respond(struct certo_req *req, struct certo_challenge *c)
{
	struct http_resp r;
	struct certo_challenge upd = { 0 };
	int rc;

	/* An empty object says "ready" (RFC 8555 section 7.5.1). */
	if ((rc = request_post(req, c->url, "{}", REQUEST_MAX_BODY, &r,
	    NULL)) == 0 &&
	    (rc = challenge_parse(r.body.data, r.body.len, &upd)) == 0) {
		challenge_free(c);
		*c = upd; /* ownership moves to c */
	} else if (rc == CERTO_EPROBLEM) {
		rc = challenge_moved_on(req, c, rc);
	}
	http_resp_free(&r);
	return rc;
}
