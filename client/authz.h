/* Authorization objects (RFC 8555 section 7.1.4). */
#ifndef CERTO_AUTHZ_H
#define CERTO_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "challenge.h"

struct certo_req;

enum authz_status {
	AUTHZ_PENDING,
	AUTHZ_VALID,
	AUTHZ_INVALID,
	AUTHZ_DEACTIVATED,
	AUTHZ_EXPIRED,
	AUTHZ_REVOKED,
};

#define AUTHZ_MAX_CHALLENGES 16

struct certo_identifier {
	char *type;   /* "dns" or "ip" */
	char *value;
};

struct certo_authz {
	char *url;                 /* set by the caller before authz_fetch */
	struct certo_identifier ident;
	enum authz_status status;
	bool wildcard;
	char *expires;             /* may be NULL */
	struct certo_challenge *challs;
	size_t nchalls;
};

const char *authz_status_name(enum authz_status s);
/* Parse an identifier object {"type","value"}; id is reset first. */
int authz_parse_identifier(struct json_object *obj, const char *what,
    struct certo_identifier *id);
void authz_identifier_free(struct certo_identifier *id);
/* Parse an authorization document; the url member is kept. */
int authz_parse(const char *json, size_t len, struct certo_authz *authz);
/*
 * POST-as-GET authz->url and parse it into authz.  *retry_after gets
 * the CA's Retry-After in seconds, or -1.
 */
int authz_fetch(struct certo_req *req, struct certo_authz *authz,
    long *retry_after);
/* The challenge of type t, or NULL. */
struct certo_challenge *authz_find_challenge(struct certo_authz *authz,
    enum chall_type t);
/*
 * Type the CA's identifier at the edge: it must be a valid DNS name (type
 * "dns"; wildcard adds "*.") or IP literal (type "ip") equal to one of
 * the n names that were ordered.  *match (may be NULL) gets the index of
 * that name, so callers use certo's own validated copy, never the CA's
 * string.  Returns 0 or CERTO_EPROTO naming the (sanitised) identifier.
 */
int authz_check_ident(const struct certo_identifier *id, bool wildcard,
    char *const *names, size_t n, size_t *match);
/* Free the members (url too). */
void authz_free(struct certo_authz *authz);

#endif
