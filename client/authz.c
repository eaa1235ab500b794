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

/* The status as the CA spells it ("pending"...). */
const char *
authz_status_name(enum authz_status s)
{
	return status_names[s];
}

/* Free an identifier's members (NULL is fine). */
void
authz_identifier_free(struct certo_identifier *id)
{
	if (id == NULL)
		return;
	free(id->type);
	free(id->value);
	id->type = id->value = NULL;
}

/* Parse an identifier object {"type","value"} into id. */
int
authz_parse_identifier(struct json_object *obj, const char *what,
    struct certo_identifier *id)
{
	int rc;

	authz_identifier_free(id);
	if (!json_object_is_type(obj, json_type_object))
		return certo_fail(CERTO_EPROTO, "%s: identifier is not an "
		    "object", what);
	if ((rc = json_get_str(obj, what, "type", true, 16, &id->type)) ||
	    (rc = json_get_str(obj, what, "value", true, 255, &id->value)))
		authz_identifier_free(id);
	return rc;
}

/* Free everything but the URL. */
static void
authz_clear(struct certo_authz *authz)
{
	authz_identifier_free(&authz->ident);
	free(authz->expires);
	authz->expires = NULL;
	for (size_t i = 0; i < authz->nchalls; i++)
		challenge_free(&authz->challs[i]);
	free(authz->challs);
	authz->challs = NULL;
	authz->nchalls = 0;
	authz->wildcard = false;
	authz->status = AUTHZ_PENDING;
}

/* Free the members of authz, its URL too (NULL is fine). */
void
authz_free(struct certo_authz *authz)
{
	if (authz == NULL)
		return;
	authz_clear(authz);
	free(authz->url);
	authz->url = NULL;
}

/* Parse an authorization document into authz (its URL is kept). */
/*
 * Is id a well-formed identifier (a DNS name, with "*." when wildcard,
 * or an IP literal)?  want (DOMAIN_MAX + 3 bytes) gets the name as
 * certo writes it: lower case, "*." for a wildcard.  false with *why.
 */
static bool
ident_syntax(const struct certo_identifier *id, bool wildcard, char *want,
    const char **why)
{
	const char *v = id->value;

	if (strcmp(id->type, "ip") == 0) {
		if (wildcard || !ident_is_ip(v))
			return *why = "not an IP address", false;
		snprintf(want, DOMAIN_MAX + 3, "%s", v);
		return true;
	}
	if (strcmp(id->type, "dns") != 0)
		return *why = "an identifier type certo does not know", false;
	/* RFC 8555 7.1.4: the value has no "*."; "wildcard" says so.  DNS
	 * names compare without case. */
	if (strlen(v) > DOMAIN_MAX)
		return *why = "too long", false;
	snprintf(want, DOMAIN_MAX + 3, "%s", wildcard ? "*." : "");
	for (size_t i = 0, o = strlen(want); v[i] != '\0'; i++, o++) {
		want[o] = (char)tolower((unsigned char)v[i]);
		want[o + 1] = '\0';
	}
	return domain_valid(want + (wildcard ? 2 : 0), !wildcard, why);
}

/* The one-line refusal of the CA's identifier id. */
static int
ident_refused(const struct certo_identifier *id, bool wildcard,
    const char *why)
{
	char shown[300];

	return certo_fail(CERTO_EPROTO, "the CA sent an authorization for %s "
	    "identifier \"%s%s\": %s", log_str(shown, 32, id->type),
	    wildcard ? "*." : "", log_str(shown + 32, sizeof(shown) - 32,
	    id->value), why);
}

int
authz_parse(const char *json, size_t len, struct certo_authz *authz)
{
	struct json_object *doc, *id = NULL, *arr = NULL, *chall;
	char want[DOMAIN_MAX + 3];
	int st;
	const char *what = "authorization", *why = "";
	size_t i, n;
	int rc;

	authz_clear(authz);
	if ((rc = json_parse_object(json, len, what, &doc)) != 0)
		return rc;
	if ((rc = json_get_object(doc, what, "identifier", true, &id)) ||
	    (rc = authz_parse_identifier(id, what, &authz->ident)) ||
	    (rc = json_get_enum(doc, what, "status", true, status_names,
	    sizeof(status_names) / sizeof(status_names[0]), &st)) ||
	    (rc = json_get_str(doc, what, "expires", false, 64,
	    &authz->expires)) ||
	    (rc = json_get_bool(doc, what, "wildcard", false,
	    &authz->wildcard)) ||
	    (rc = json_get_array(doc, what, "challenges", true, &arr)))
		goto out;
	authz->status = (enum authz_status)st;
	/* Typed at the edge: a malformed identifier goes no further. */
	if (!ident_syntax(&authz->ident, authz->wildcard, want, &why)) {
		rc = ident_refused(&authz->ident, authz->wildcard, why);
		goto out;
	}
	n = json_object_array_length(arr);
	if (n > AUTHZ_MAX_CHALLENGES) {
		rc = certo_fail(CERTO_ETOOBIG, "authorization: %zu challenges, "
		    "more than %d", n, AUTHZ_MAX_CHALLENGES);
		goto out;
	}
	if (n > 0 &&
	    (authz->challs = calloc(n, sizeof(*authz->challs))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		chall = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(chall, json_type_object)) {
			rc = certo_fail(CERTO_EPROTO, "authorization: "
			    "challenge is not an object");
			goto out;
		}
		if ((rc = challenge_parse_obj(chall,
		    &authz->challs[i])) != 0)
			goto out;
		authz->nchalls = i + 1;
	}
out:
	json_object_put(doc);
	if (rc != 0)
		authz_clear(authz);
	return rc;
}

/* POST-as-GET authz->url and parse the answer into authz. */
int
authz_fetch(struct certo_req *req, struct certo_authz *authz,
    long *retry_after)
{
	struct http_resp resp;
	int rc;

	*retry_after = -1;
	if ((rc = request_post(req, authz->url, NULL, DOC_AUTHZ, &resp,
	    NULL)) == 0 && (rc = doc_take(&resp, DOC_AUTHZ, authz)) == 0)
		*retry_after = request_retry_after(&resp, 3600);
	http_resp_free(&resp);
	return rc;
}

/* The challenge of type t that authz offers, or NULL. */
struct certo_challenge *
authz_find_challenge(struct certo_authz *authz, enum chall_type t)
{
	for (size_t i = 0; i < authz->nchalls; i++)
		if (authz->challs[i].type == t)
			return &authz->challs[i];
	return NULL;
}

/*
 * Type the CA's identifier: a valid DNS name or IP literal equal to one
 * of the ordered names (see authz.h).
 */
int
authz_check_ident(const struct certo_identifier *id, bool wildcard,
    char *const *names, size_t n, size_t *match)
{
	char want[DOMAIN_MAX + 3];
	const char *why = "not ordered";
	bool ip;

	if (id->type == NULL || id->value == NULL)
		return certo_fail(CERTO_EPROTO, "the CA sent an authorization "
		    "without an identifier");
	if (!ident_syntax(id, wildcard, want, &why))
		return ident_refused(id, wildcard, why);
	ip = strcmp(id->type, "ip") == 0;
	for (size_t i = 0; i < n; i++)
		if (ip ? ident_same_ip(names[i], want) : (!ident_is_ip(names[i]) &&
		    strcasecmp(names[i], want) == 0)) {
			if (match != NULL)
				*match = i;
			return 0;
		}
	return ident_refused(id, wildcard, "not ordered");
}
