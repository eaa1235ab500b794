/* Problem documents. */
#include "problem.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "json.h"
#include "log.h"

#define ACME_ERR "urn:ietf:params:acme:error:"

void
problem_free(struct certo_problem *p)
{
	if (p == NULL)
		return;
	free(p->type);
	free(p->detail);
	for (size_t i = 0; i < p->nsubs; i++) {
		free(p->subs[i].type);
		free(p->subs[i].detail);
		free(p->subs[i].ident_type);
		free(p->subs[i].ident_value);
	}
	free(p->subs);
	memset(p, 0, sizeof(*p));
}

int
problem_parse_obj(struct json_object *o, struct certo_problem *p)
{
	struct json_object *subs = NULL, *st, *s, *id;
	size_t n;
	int rc;

	problem_free(p);
	if ((rc = json_get_str(o, "problem", "type", false, 1024, &p->type)) ||
	    (rc = json_get_str(o, "problem", "detail", false, 4096,
	    &p->detail)) ||
	    (rc = json_get_array(o, "problem", "subproblems", false, &subs)))
		goto fail;
	if (p->type == NULL && (p->type = strdup("about:blank")) == NULL) {
		rc = CERTO_ENOMEM;
		goto fail;
	}
	if (json_object_object_get_ex(o, "status", &st) &&
	    json_object_is_type(st, json_type_int))
		p->status = (long)json_object_get_int64(st);
	if (subs == NULL)
		return 0;
	n = json_object_array_length(subs);
	if (n > PROBLEM_MAX_SUBPROBLEMS)
		n = PROBLEM_MAX_SUBPROBLEMS;
	if (n == 0)
		return 0;
	if ((p->subs = calloc(n, sizeof(*p->subs))) == NULL) {
		rc = CERTO_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct certo_subproblem *sp = &p->subs[i];
		s = json_object_array_get_idx(subs, i);
		if (!json_object_is_type(s, json_type_object)) {
			rc = certo_fail(CERTO_EPROTO, "problem: subproblem is not "
			    "an object");
			goto fail;
		}
		p->nsubs = i + 1;
		if ((rc = json_get_str(s, "subproblem", "type", false, 1024,
		    &sp->type)) || (rc = json_get_str(s, "subproblem", "detail",
		    false, 4096, &sp->detail)) ||
		    (rc = json_get_object(s, "subproblem", "identifier", false,
		    &id)))
			goto fail;
		if (id != NULL && ((rc = json_get_str(id, "identifier", "type",
		    false, 16, &sp->ident_type)) || (rc = json_get_str(id,
		    "identifier", "value", false, 1024, &sp->ident_value))))
			goto fail;
	}
	return 0;
fail:
	problem_free(p);
	return rc;
}

int
problem_parse(const char *json, size_t len, struct certo_problem *p)
{
	struct json_object *o;
	int rc;

	problem_free(p);
	if ((rc = json_parse_object(json, len, "problem document", &o)) != 0)
		return rc;
	rc = problem_parse_obj(o, p);
	json_object_put(o);
	return rc;
}

bool
problem_is(const struct certo_problem *p, const char *short_type)
{
	size_t n = sizeof(ACME_ERR) - 1;

	return p != NULL && p->type != NULL &&
	    strncmp(p->type, ACME_ERR, n) == 0 &&
	    strcmp(p->type + n, short_type) == 0;
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

int
problem_format(const struct certo_problem *p, struct certo_buf *out)
{
	char d[1024], t[256], v[300];
	int rc;

	log_sanitize(t, sizeof(t), short_type(p->type), (size_t)-1);
	if (p->detail != NULL) {
		log_sanitize(d, sizeof(d), p->detail, (size_t)-1);
		rc = buf_printf(out, "%s (%s)", d, t);
	} else {
		rc = buf_printf(out, "%s", t);
	}
	for (size_t i = 0; rc == 0 && i < p->nsubs; i++) {
		const struct certo_subproblem *s = &p->subs[i];
		log_sanitize(v, sizeof(v), s->ident_value ? s->ident_value : "?",
		    (size_t)-1);
		log_sanitize(d, sizeof(d), s->detail ? s->detail : "", (size_t)-1);
		log_sanitize(t, sizeof(t), short_type(s->type), (size_t)-1);
		rc = buf_printf(out, "; %s: %s (%s)", v, d, t);
	}
	return rc;
}
