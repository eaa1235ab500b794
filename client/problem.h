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

/* Parse a problem document (JSON text).  p is reset first. */
int problem_parse(const char *json, size_t len, struct certo_problem *p);
/* The same from a parsed object (e.g. an "error" member). */
int problem_parse_obj(struct json_object *o, struct certo_problem *p);
/*
 * True if the type is the ACME error named short_type ("badNonce"),
 * i.e. "urn:ietf:params:acme:error:" short_type.
 */
bool problem_is(const struct certo_problem *p, const char *short_type);
/*
 * Append a sanitised, human-readable rendering to out: "detail (type)"
 * then "; identifier: detail (type)" for each subproblem.
 */
int problem_format(const struct certo_problem *p, struct certo_buf *out);
/* Free the members; p itself is not freed; NULL is fine. */
void problem_free(struct certo_problem *p);

#endif
