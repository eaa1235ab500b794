/* Authorizations. */
#include "authz.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "request.h"

static const char *const status_names[] = {
	[AUTHZ_PENDING] = "pending",
	[AUTHZ_VALID] = "valid",
	[AUTHZ_INVALID] = "invalid",
	[AUTHZ_DEACTIVATED] = "deactivated",
	[AUTHZ_EXPIRED] = "expired",
	[AUTHZ_REVOKED] = "revoked",
};

const char *
authz_status_name(enum authz_status s)
{
	return status_names[s];
}

void
authz_identifier_free(struct certo_identifier *id)
{
	if (id == NULL)
		return;
	free(id->type);
	free(id->value);
	id->type = id->value = NULL;
}

int
authz_parse_identifier(struct json_object *o, const char *what,
    struct certo_identifier *id)
{
	int rc;

	authz_identifier_free(id);
	if (!json_object_is_type(o, json_type_object))
		return certo_fail(CERTO_EPROTO, "%s: identifier is not an object",
		    what);
	if ((rc = json_get_str(o, what, "type", true, 16, &id->type)) ||
	    (rc = json_get_str(o, what, "value", true, 255, &id->value)))
		authz_identifier_free(id);
	return rc;
}

/* Free everything but the URL. */
static void
authz_clear(struct certo_authz *a)
{
	authz_identifier_free(&a->ident);
	free(a->expires);
	a->expires = NULL;
	for (size_t i = 0; i < a->nchalls; i++)
		challenge_free(&a->challs[i]);
	free(a->challs);
	a->challs = NULL;
	a->nchalls = 0;
	a->wildcard = false;
	a->status = AUTHZ_PENDING;
}

void
authz_free(struct certo_authz *a)
{
	if (a == NULL)
		return;
	authz_clear(a);
	free(a->url);
	a->url = NULL;
}

int
authz_parse(const char *json, size_t len, struct certo_authz *a)
{
	struct json_object *o, *id = NULL, *ch = NULL;
	int st;
	const char *w = "authorization";
	size_t i, n;
	int rc;

	authz_clear(a);
	if ((rc = json_parse_object(json, len, w, &o)) != 0)
		return rc;
	if ((rc = json_get_object(o, w, "identifier", true, &id)) ||
	    (rc = authz_parse_identifier(id, w, &a->ident)) ||
	    (rc = json_get_enum(o, w, "status", true, status_names,
	    sizeof(status_names) / sizeof(status_names[0]), &st)) ||
	    (rc = json_get_str(o, w, "expires", false, 64, &a->expires)) ||
	    (rc = json_get_bool(o, w, "wildcard", false, &a->wildcard)) ||
	    (rc = json_get_array(o, w, "challenges", true, &ch)))
		goto out;
	a->status = (enum authz_status)st;
	n = json_object_array_length(ch);
	if (n > AUTHZ_MAX_CHALLENGES) {
		rc = certo_fail(CERTO_ETOOBIG, "authorization: %zu challenges, "
		    "more than %d", n, AUTHZ_MAX_CHALLENGES);
		goto out;
	}
	if (n > 0 && (a->challs = calloc(n, sizeof(*a->challs))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(ch, i);
		if (!json_object_is_type(c, json_type_object)) {
			rc = certo_fail(CERTO_EPROTO, "authorization: challenge is "
			    "not an object");
			goto out;
		}
		if ((rc = challenge_parse_obj(c, &a->challs[i])) != 0)
			goto out;
		a->nchalls = i + 1;
	}
out:
	json_object_put(o);
	if (rc != 0)
		authz_clear(a);
	return rc;
}

int
authz_fetch(struct certo_req *req, struct certo_authz *a, long *retry_after)
{
	struct http_resp r;
	int rc;

	*retry_after = -1;
	if ((rc = request_post(req, a->url, NULL, REQUEST_MAX_BODY, &r,
	    NULL)) == 0 &&
	    (rc = authz_parse(r.body.data, r.body.len, a)) == 0)
		*retry_after = request_retry_after(&r, 3600);
	http_resp_free(&r);
	return rc;
}

struct certo_challenge *
authz_find_challenge(struct certo_authz *a, enum chall_type t)
{
	for (size_t i = 0; i < a->nchalls; i++)
		if (a->challs[i].type == t)
			return &a->challs[i];
	return NULL;
}

int
authz_check_ident(const struct certo_identifier *id, bool wildcard,
    char *const *names, size_t n, size_t *match)
{
	char shown[300], want[DOMAIN_MAX + 3];
	const char *v = id->value, *why = "not ordered";

	if (id->type == NULL || v == NULL)
		return certo_fail(CERTO_EPROTO, "the CA sent an authorization "
		    "without an identifier");
	if (strcmp(id->type, "ip") == 0) {
		if (wildcard || (ident_classify(v, false, NULL, NULL) != IDENT_IPV4 &&
		    ident_classify(v, false, NULL, NULL) != IDENT_IPV6)) {
			why = "not an IP address";
			goto bad;
		}
		for (size_t i = 0; i < n; i++)
			if (ident_same_ip(names[i], v)) {
				if (match != NULL)
					*match = i;
				return 0;
			}
		goto bad;
	}
	if (strcmp(id->type, "dns") != 0) {
		why = "an identifier type certo does not know";
		goto bad;
	}
	/* RFC 8555 7.1.4: the value has no "*."; "wildcard" says so.  DNS
	 * names compare without case. */
	if (strlen(v) > DOMAIN_MAX) {
		why = "too long";
		goto bad;
	}
	snprintf(want, sizeof(want), "%s", wildcard ? "*." : "");
	for (size_t i = 0, o = strlen(want); v[i] != '\0'; i++, o++) {
		want[o] = (char)tolower((unsigned char)v[i]);
		want[o + 1] = '\0';
	}
	if (!domain_valid(want + (wildcard ? 2 : 0), !wildcard, &why))
		goto bad;
	for (size_t i = 0; i < n; i++) {
		enum ident_kind k = ident_classify(names[i], true, NULL, NULL);
		if (k != IDENT_IPV4 && k != IDENT_IPV6 &&
		    strcasecmp(names[i], want) == 0) {
			if (match != NULL)
				*match = i;
			return 0;
		}
	}
	why = "not ordered";
bad:
	return certo_fail(CERTO_EPROTO, "the CA sent an authorization for %s "
	    "identifier \"%s%s\": %s", log_sanitize(shown, 32, id->type,
	    (size_t)-1), wildcard ? "*." : "", log_sanitize(shown + 32,
	    sizeof(shown) - 32, v, (size_t)-1), why);
}
