/* Orders. */
#include "order.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "request.h"

#define URL_MAX 2048

static const char *const status_names[] = {
	[ORDER_PENDING] = "pending",
	[ORDER_READY] = "ready",
	[ORDER_PROCESSING] = "processing",
	[ORDER_VALID] = "valid",
	[ORDER_INVALID] = "invalid",
};

const char *
order_status_name(enum order_status s)
{
	return status_names[s];
}

/* Free the CA fields (not names, url or authzs). */
static void
order_clear(struct certo_order *o)
{
	free(o->expires);
	o->expires = NULL;
	for (size_t i = 0; i < o->nidents; i++)
		authz_identifier_free(&o->idents[i]);
	free(o->idents);
	o->idents = NULL;
	o->nidents = 0;
	for (size_t i = 0; i < o->nauthz; i++)
		free(o->authz_urls[i]);
	free(o->authz_urls);
	o->authz_urls = NULL;
	o->nauthz = 0;
	free(o->finalize);
	free(o->certificate);
	o->finalize = o->certificate = NULL;
	if (o->error) {
		problem_free(o->error);
		free(o->error);
		o->error = NULL;
	}
}

void
order_free(struct certo_order *o)
{
	if (o == NULL)
		return;
	if (o->authzs != NULL)
		for (size_t i = 0; i < o->nauthz; i++)
			authz_free(&o->authzs[i]);
	free(o->authzs);
	o->authzs = NULL;
	order_clear(o);
	for (size_t i = 0; i < o->nnames; i++)
		free(o->names[i]);
	free(o->names);
	free(o->url);
	memset(o, 0, sizeof(*o));
}

int
order_parse(const char *json, size_t len, struct certo_order *o)
{
	struct json_object *obj, *ids = NULL, *az = NULL, *err = NULL;
	struct certo_authz *kept = NULL;
	int st;
	const char *w = "order";
	size_t i, n, old_nauthz = o->nauthz;
	int rc;

	if ((rc = json_parse_object(json, len, w, &obj)) != 0)
		return rc;
	/* Keep fetched authorizations only if the list is unchanged. */
	if (o->authzs != NULL) {
		struct json_object *na;
		bool same = json_object_object_get_ex(obj, "authorizations",
		    &na) && json_object_is_type(na, json_type_array) &&
		    json_object_array_length(na) == old_nauthz;
		for (i = 0; same && i < old_nauthz; i++) {
			struct json_object *u = json_object_array_get_idx(na, i);
			same = json_object_is_type(u, json_type_string) &&
			    strcmp(json_object_get_string(u),
			    o->authz_urls[i]) == 0;
		}
		if (same) {
			kept = o->authzs;
			o->authzs = NULL;
		} else {
			for (i = 0; i < old_nauthz; i++)
				authz_free(&o->authzs[i]);
			free(o->authzs);
			o->authzs = NULL;
		}
	}
	order_clear(o);
	if ((rc = json_get_enum(obj, w, "status", true, status_names,
	    sizeof(status_names) / sizeof(status_names[0]), &st)) ||
	    (rc = json_get_str(obj, w, "expires", false, 64, &o->expires)) ||
	    (rc = json_get_array(obj, w, "identifiers", true, &ids)) ||
	    (rc = json_get_array(obj, w, "authorizations", true, &az)) ||
	    (rc = json_get_url(obj, w, "finalize", true, &o->finalize)) ||
	    (rc = json_get_url(obj, w, "certificate", false,
	    &o->certificate)) ||
	    (rc = json_get_object(obj, w, "error", false, &err)))
		goto out;
	o->status = (enum order_status)st;
	n = json_object_array_length(ids);
	if (n > ORDER_MAX_IDENTIFIERS) {
		rc = certo_fail(CERTO_ETOOBIG, "order: too many identifiers");
		goto out;
	}
	if (n > 0 && (o->idents = calloc(n, sizeof(*o->idents))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = authz_parse_identifier(json_object_array_get_idx(ids,
		    i), w, &o->idents[i])) != 0)
			goto out;
		o->nidents = i + 1;
	}
	n = json_object_array_length(az);
	if (n > ORDER_MAX_IDENTIFIERS) {
		rc = certo_fail(CERTO_ETOOBIG, "order: too many authorizations");
		goto out;
	}
	if (n > 0 && (o->authz_urls = calloc(n, sizeof(char *))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct json_object *u = json_object_array_get_idx(az, i);
		if (!json_object_is_type(u, json_type_string) ||
		    json_object_get_string_len(u) > URL_MAX ||
		    !json_url_ok(json_object_get_string(u))) {
			char shown[256];
			rc = certo_fail(CERTO_EPROTO, "order: authorization URL "
			    "\"%s\" is not an http(s) URL", log_sanitize(shown,
			    sizeof(shown), json_object_get_string(u), (size_t)-1));
			goto out;
		}
		if ((o->authz_urls[i] = strdup(json_object_get_string(u))) ==
		    NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		o->nauthz = i + 1;
	}
	if (err != NULL) {
		if ((o->error = calloc(1, sizeof(*o->error))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		rc = problem_parse_obj(err, o->error);
	}
out:
	json_object_put(obj);
	if (rc != 0) {
		order_clear(o);
		if (kept != NULL) {
			for (i = 0; i < old_nauthz; i++)
				authz_free(&kept[i]);
			free(kept);
		}
	} else {
		o->authzs = kept; /* same list: the fetched ones stay valid */
	}
	return rc;
}

static void
add_time(struct json_object *p, const char *k, time_t t)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(p, k, json_object_new_string(buf));
}

int
order_new(struct certo_req *req, const struct certo_directory *dir,
    const struct order_opts *oo, struct certo_order *o)
{
	struct json_object *p, *ids;
	struct http_resp r;
	int rc;

	if ((p = json_object_new_object()) == NULL ||
	    (ids = json_object_new_array()) == NULL) {
		json_object_put(p);
		return CERTO_ENOMEM;
	}
	json_object_object_add(p, "identifiers", ids);
	for (size_t i = 0; i < o->nnames; i++) {
		struct json_object *id = json_object_new_object();
		unsigned char ip[16];
		bool is_ip = inet_pton(AF_INET, o->names[i], ip) == 1 ||
		    inet_pton(AF_INET6, o->names[i], ip) == 1;
		json_object_object_add(id, "type", json_object_new_string(is_ip ?
		    "ip" : "dns"));
		json_object_object_add(id, "value",
		    json_object_new_string(o->names[i]));
		json_object_array_add(ids, id);
	}
	if (oo != NULL && oo->not_before)
		add_time(p, "notBefore", oo->not_before);
	if (oo != NULL && oo->not_after)
		add_time(p, "notAfter", oo->not_after);
	if (oo != NULL && oo->profile)
		json_object_object_add(p, "profile",
		    json_object_new_string(oo->profile));
	if (oo != NULL && oo->replaces)
		json_object_object_add(p, "replaces",
		    json_object_new_string(oo->replaces));
	rc = request_post(req, dir->new_order, json_object_to_json_string_ext(p,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    REQUEST_MAX_BODY, &r, NULL);
	json_object_put(p);
	if (rc != 0)
		goto out;
	if (r.location == NULL || !json_url_ok(r.location)) {
		char shown[256];
		rc = certo_fail(CERTO_EPROTO, "newOrder: the CA sent no usable "
		    "Location for the order (\"%s\")", r.location ? log_sanitize(
		    shown, sizeof(shown), r.location, (size_t)-1) : "");
		goto out;
	}
	free(o->url);
	if ((o->url = strdup(r.location)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	rc = order_parse(r.body.data, r.body.len, o);
out:
	http_resp_free(&r);
	return rc;
}

int
order_fetch(struct certo_req *req, struct certo_order *o, long *retry_after)
{
	struct http_resp r;
	int rc;

	*retry_after = -1;
	if ((rc = request_post(req, o->url, NULL, REQUEST_MAX_BODY, &r,
	    NULL)) == 0 &&
	    (rc = order_parse(r.body.data, r.body.len, o)) == 0)
		*retry_after = request_retry_after(&r, 3600);
	http_resp_free(&r);
	return rc;
}
