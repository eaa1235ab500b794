/* Challenge objects (RFC 8555 section 8). */
#ifndef CERTO_CHALLENGE_H
#define CERTO_CHALLENGE_H

#include <stddef.h>

#include "problem.h"

struct json_object;
struct certo_req;

enum chall_type {
	CHALL_UNKNOWN = 0,
	CHALL_HTTP01,
	CHALL_DNS01,
	CHALL_TLSALPN01,
};

enum chall_status {
	CHALL_PENDING,
	CHALL_PROCESSING,
	CHALL_VALID,
	CHALL_INVALID,
};

#define CHALLENGE_MAX_TOKEN 256

struct certo_challenge {
	enum chall_type type;     /* CHALL_UNKNOWN for types we don't know */
	enum chall_status status;
	char *url;
	char *token;              /* validated base64url; NULL if unknown type */
	struct certo_problem *error; /* NULL if none */
};

/* "http-01" -> CHALL_HTTP01; CHALL_UNKNOWN otherwise. */
enum chall_type challenge_type_parse(const char *s);
const char *challenge_type_name(enum chall_type t);
const char *challenge_status_name(enum chall_status s);

/* Parse a challenge object; c is reset first. */
int challenge_parse_obj(struct json_object *o, struct certo_challenge *c);
/* Parse a challenge document (JSON text). */
int challenge_parse(const char *json, size_t len, struct certo_challenge *c);
/*
 * Tell the CA we are ready: POST "{}" to the challenge URL; c is
 * updated from the response.
 */
int challenge_respond(struct certo_req *req, struct certo_challenge *c);
void challenge_free(struct certo_challenge *c);

#endif
