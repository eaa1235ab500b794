/* Challenge objects (RFC 8555 section 8). */
#ifndef CERTO_CHALLENGE_H
#define CERTO_CHALLENGE_H

#include <stddef.h>

#include "challenge_type.h"   /* enum chall_type, challenge_type_name() */
#include "problem.h"

struct json_object;
struct certo_req;

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

/* "pending" for CHALL_PENDING, and so on. */
const char *challenge_status_name(enum chall_status s);

/* Parse a challenge object; chall is reset first. */
int challenge_parse_obj(struct json_object *obj,
    struct certo_challenge *chall);
/* Parse a challenge document (JSON text). */
int challenge_parse(const char *json, size_t len,
    struct certo_challenge *chall);
/*
 * Tell the CA we are ready: POST "{}" to the challenge URL; chall is
 * updated from the response.
 */
int challenge_respond(struct certo_req *req, struct certo_challenge *chall);
/* Free what chall holds and zero it; NULL is fine. */
void challenge_free(struct certo_challenge *chall);

#endif
