/* RFC 7807 / RFC 8555 section 6.7 problem documents. */
#ifndef CERTO_PROBLEM_H
#define CERTO_PROBLEM_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct certo_buf;

#define PROBLEM_MAX_SUBPROBLEMS 64

struct certo_subproblem {
	char *type;
	char *detail;
	char *ident_type;   /* may be NULL */
	char *ident_value;  /* may be NULL */
};

struct certo_problem {
	char *type;         /* "urn:ietf:params:acme:error:badNonce"... */
	char *detail;       /* may be NULL */
	long status;        /* 0 if absent */
	struct certo_subproblem *subs;
	size_t nsubs;
};

/* Parse a problem document (JSON text).  prob is reset first. */
int problem_parse(const char *json, size_t len, struct certo_problem *prob);
/* The same from a parsed object (e.g. an "error" member). */
int problem_parse_obj(struct json_object *obj, struct certo_problem *prob);
/*
 * True if the type is the ACME error named short_type ("badNonce"),
 * i.e. "urn:ietf:params:acme:error:" short_type.
 */
bool problem_is(const struct certo_problem *prob, const char *short_type);
/*
 * Append a sanitised, human-readable rendering to out: "detail (type)"
 * then "; identifier: detail (type)" for each subproblem.
 */
int problem_format(const struct certo_problem *prob, struct certo_buf *out);
/* Free the members; prob itself is not freed; NULL is fine. */
void problem_free(struct certo_problem *prob);

#endif
