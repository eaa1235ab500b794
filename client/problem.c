/* Problem documents. */
#include "problem.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "json.h"
#include "log.h"

#define ACME_ERR "urn:ietf:params:acme:error:"

/* Free the members of prob (NULL is fine). */
void
problem_free(struct certo_problem *prob)
{
	if (prob == NULL)
		return;
	free(prob->type);
	free(prob->detail);
	for (size_t i = 0; i < prob->nsubs; i++) {
		free(prob->subs[i].type);
		free(prob->subs[i].detail);
		free(prob->subs[i].ident_type);
		free(prob->subs[i].ident_value);
	}
	free(prob->subs);
	memset(prob, 0, sizeof(*prob));
}

/* One subproblem object into sub. */
static int
parse_subproblem(struct json_object *item, struct certo_subproblem *sub)
{
	struct json_object *ident;
	const char *what = "subproblem";
	int rc;

	if (!json_object_is_type(item, json_type_object))
		return certo_fail(CERTO_EPROTO, "problem: subproblem is not an "
		    "object");
	if ((rc = json_get_str(item, what, "type", false, 1024,
	    &sub->type)) ||
	    (rc = json_get_str(item, what, "detail", false, 4096,
	    &sub->detail)) ||
	    (rc = json_get_object(item, what, "identifier", false, &ident)))
		return rc;
	if (ident == NULL)
		return 0;
	if ((rc = json_get_str(ident, "identifier", "type", false, 16,
	    &sub->ident_type)) != 0)
		return rc;
	return json_get_str(ident, "identifier", "value", false, 1024,
	    &sub->ident_value);
}

/* A parsed problem object (an "error" member) into prob. */
int
problem_parse_obj(struct json_object *obj, struct certo_problem *prob)
{
	struct json_object *subs = NULL, *status;
	const char *what = "problem";
	size_t n;
	int rc;

	problem_free(prob);
	if ((rc = json_get_str(obj, what, "type", false, 1024,
	    &prob->type)) ||
	    (rc = json_get_str(obj, what, "detail", false, 4096,
	    &prob->detail)) ||
	    (rc = json_get_array(obj, what, "subproblems", false, &subs)))
		goto fail;
	if (prob->type == NULL &&
	    (prob->type = strdup("about:blank")) == NULL) {
		rc = CERTO_ENOMEM;
		goto fail;
	}
	if (json_object_object_get_ex(obj, "status", &status) &&
	    json_object_is_type(status, json_type_int))
		prob->status = (long)json_object_get_int64(status);
	if (subs == NULL)
		return 0;
	n = json_object_array_length(subs);
	if (n > PROBLEM_MAX_SUBPROBLEMS)
		n = PROBLEM_MAX_SUBPROBLEMS;
	if (n == 0)
		return 0;
	if ((prob->subs = calloc(n, sizeof(*prob->subs))) == NULL) {
		rc = CERTO_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		prob->nsubs = i + 1;
		if ((rc = parse_subproblem(json_object_array_get_idx(subs, i),
		    &prob->subs[i])) != 0)
			goto fail;
	}
	return 0;
fail:
	problem_free(prob);
	return rc;
}

/* Parse a problem document (JSON text) into prob. */
int
problem_parse(const char *json, size_t len, struct certo_problem *prob)
{
	struct json_object *doc;
	int rc;

	problem_free(prob);
	if ((rc = json_parse_object(json, len, "problem document", &doc)) != 0)
		return rc;
	rc = problem_parse_obj(doc, prob);
	json_object_put(doc);
	return rc;
}

/* Is prob the ACME error short_type ("badNonce")? */
bool
problem_is(const struct certo_problem *prob, const char *short_type)
{
	size_t n = sizeof(ACME_ERR) - 1;

	return prob != NULL && prob->type != NULL &&
	    strncmp(prob->type, ACME_ERR, n) == 0 &&
	    strcmp(prob->type + n, short_type) == 0;
}

/* The short form of a type: "badNonce" for ACME errors. */
static const char *
short_type(const char *type)
{
	size_t n = sizeof(ACME_ERR) - 1;

	if (type != NULL && strncmp(type, ACME_ERR, n) == 0)
		return type + n;
	return type ? type : "";
}

/* Append a sanitised rendering of prob to out (see problem.h). */
int
problem_format(const struct certo_problem *prob, struct certo_buf *out)
{
	char detail[1024], type[256], ident[300];
	int rc;

	log_str(type, sizeof(type), short_type(prob->type));
	if (prob->detail != NULL) {
		log_str(detail, sizeof(detail), prob->detail);
		rc = buf_printf(out, "%s (%s)", detail, type);
	} else {
		rc = buf_printf(out, "%s", type);
	}
	for (size_t i = 0; rc == 0 && i < prob->nsubs; i++) {
		const struct certo_subproblem *sub = &prob->subs[i];
		log_str(ident, sizeof(ident), sub->ident_value ?
		    sub->ident_value : "?");
		log_str(detail, sizeof(detail), sub->detail ? sub->detail : "");
		log_str(type, sizeof(type), short_type(sub->type));
		rc = buf_printf(out, "; %s: %s (%s)", ident, detail, type);
	}
	return rc;
}
