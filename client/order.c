/* Orders: parse at the edge, newOrder, fetch. */
#include "order.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "domain.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "request.h"

static const char *const status_names[] = {
	[ORDER_PENDING] = "pending",
	[ORDER_READY] = "ready",
	[ORDER_PROCESSING] = "processing",
	[ORDER_VALID] = "valid",
	[ORDER_INVALID] = "invalid",
};

/* The status as the CA spells it ("pending"...). */
const char *
order_status_name(enum order_status s)
{
	return status_names[s];
}

/* Free n fetched authorizations and the array. */
static void
authzs_free(struct certo_authz *authzs, size_t n)
{
	if (authzs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		authz_free(&authzs[i]);
	free(authzs);
}

/* Free the CA fields (not names, url or authzs). */
static void
order_clear(struct certo_order *order)
{
	free(order->expires);
	order->expires = NULL;
	for (size_t i = 0; i < order->nidents; i++)
		authz_identifier_free(&order->idents[i]);
	free(order->idents);
	order->idents = NULL;
	order->nidents = 0;
	for (size_t i = 0; i < order->nauthz; i++)
		free(order->authz_urls[i]);
	free(order->authz_urls);
	order->authz_urls = NULL;
	order->nauthz = 0;
	free(order->finalize);
	free(order->certificate);
	order->finalize = order->certificate = NULL;
	if (order->error) {
		problem_free(order->error);
		free(order->error);
		order->error = NULL;
	}
}

/* Free everything the order holds; NULL is fine. */
void
order_free(struct certo_order *order)
{
	if (order == NULL)
		return;
	authzs_free(order->authzs, order->nauthz);
	order->authzs = NULL;
	order_clear(order);
	for (size_t i = 0; i < order->nnames; i++)
		free(order->names[i]);
	free(order->names);
	free(order->url);
	memset(order, 0, sizeof(*order));
}


/* The "identifiers" array into order->idents. */
static int
parse_idents(struct json_object *ids, struct certo_order *order)
{
	size_t n = json_object_array_length(ids);
	int rc;

	if (n > ORDER_MAX_IDENTIFIERS)
		return certo_fail(CERTO_ETOOBIG, "order: too many identifiers");
	if (n > 0 && (order->idents = calloc(n, sizeof(*order->idents))) ==
	    NULL)
		return CERTO_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((rc = authz_parse_identifier(json_object_array_get_idx(ids,
		    i), "order", &order->idents[i])) != 0)
			return rc;
		order->nidents = i + 1;
	}
	return 0;
}

/* The "authorizations" array (http(s) URLs) into order->authz_urls. */
static int
parse_authz_urls(struct json_object *urls, struct certo_order *order)
{
	size_t n = json_object_array_length(urls);
	struct json_object *url;
	char shown[256];

	if (n > ORDER_MAX_IDENTIFIERS)
		return certo_fail(CERTO_ETOOBIG, "order: too many "
		    "authorizations");
	if (n > 0 && (order->authz_urls = calloc(n, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		url = json_object_array_get_idx(urls, i);
		if (!json_object_is_type(url, json_type_string) ||
		    json_object_get_string_len(url) > JSON_URL_MAX ||
		    !json_url_ok(json_object_get_string(url)))
			return certo_fail(CERTO_EPROTO, "order: authorization URL "
			    "\"%s\" is not an http(s) URL", log_str(shown,
			    sizeof(shown), json_object_get_string(url)));
		if ((order->authz_urls[i] = strdup(json_object_get_string(url)))
		    == NULL)
			return CERTO_ENOMEM;
		order->nauthz = i + 1;
	}
	return 0;
}

/* Parse an order document into the CA fields of a zeroed order. */
static int
parse_fresh(const char *json, size_t len, struct certo_order *order)
{
	struct json_object *doc, *ids = NULL, *urls = NULL, *err = NULL;
	const char *what = "order";
	int rc, status;

	if ((rc = json_parse_object(json, len, what, &doc)) != 0)
		return rc;
	if ((rc = json_get_enum(doc, what, "status", true, status_names,
	    sizeof(status_names) / sizeof(status_names[0]), &status)) ||
	    (rc = json_get_str(doc, what, "expires", false, 64,
	    &order->expires)) ||
	    (rc = json_get_array(doc, what, "identifiers", true, &ids)) ||
	    (rc = json_get_array(doc, what, "authorizations", true, &urls)) ||
	    (rc = json_get_url(doc, what, "finalize", true,
	    &order->finalize)) ||
	    (rc = json_get_url(doc, what, "certificate", false,
	    &order->certificate)) ||
	    (rc = json_get_object(doc, what, "error", false, &err)))
		goto out;
	order->status = (enum order_status)status;
	if ((rc = parse_idents(ids, order)) != 0 ||
	    (rc = parse_authz_urls(urls, order)) != 0)
		goto out;
	if (err != NULL) {
		if ((order->error = calloc(1, sizeof(*order->error))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		rc = problem_parse_obj(err, order->error);
	}
out:
	json_object_put(doc);
	if (rc != 0)
		order_clear(order);
	return rc;
}

void
order_update(struct certo_order *order, struct certo_order *fresh)
{
	struct certo_authz *kept = order->authzs;
	bool same = kept != NULL && fresh->nauthz == order->nauthz;

	for (size_t i = 0; same && i < order->nauthz; i++)
		same = strcmp(fresh->authz_urls[i], order->authz_urls[i]) == 0;
	order->authzs = NULL;
	if (!same)
		authzs_free(kept, order->nauthz);
	order_clear(order);
	order->status = fresh->status;
	order->expires = fresh->expires;
	order->idents = fresh->idents;
	order->nidents = fresh->nidents;
	order->authz_urls = fresh->authz_urls;
	order->nauthz = fresh->nauthz;
	order->finalize = fresh->finalize;
	order->certificate = fresh->certificate;
	order->error = fresh->error;
	/* Same list: the fetched ones stay valid. */
	order->authzs = same ? kept : NULL;
	authzs_free(fresh->authzs, fresh->nauthz);
	memset(fresh, 0, sizeof(*fresh));
}

/* Parse an order document into the CA fields of order (see order.h). */
int
order_parse(const char *json, size_t len, struct certo_order *order)
{
	struct certo_order fresh;
	int rc;

	memset(&fresh, 0, sizeof(fresh));
	if ((rc = parse_fresh(json, len, &fresh)) != 0) {
		/* As before: a failed parse leaves no CA fields. */
		authzs_free(order->authzs, order->nauthz);
		order->authzs = NULL;
		order_clear(order);
		return rc;
	}
	order_update(order, &fresh);
	return 0;
}

/* Add member k: t as an RFC 3339 UTC time. */
static void
add_time(struct json_object *payload, const char *k, time_t t)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(payload, k, json_object_new_string(buf));
}

/* The newOrder payload for order->names and opts (may be NULL). */
static struct json_object *
new_order_payload(const struct certo_order *order,
    const struct order_opts *opts)
{
	struct json_object *payload, *ids, *id;

	if ((payload = json_object_new_object()) == NULL)
		return NULL;
	if ((ids = json_object_new_array()) == NULL) {
		json_object_put(payload);
		return NULL;
	}
	json_object_object_add(payload, "identifiers", ids);
	for (size_t i = 0; i < order->nnames; i++) {
		id = json_object_new_object();
		json_object_object_add(id, "type", json_object_new_string(
		    ident_is_ip(order->names[i]) ? "ip" : "dns"));
		json_object_object_add(id, "value",
		    json_object_new_string(order->names[i]));
		json_object_array_add(ids, id);
	}
	if (opts == NULL)
		return payload;
	if (opts->not_before)
		add_time(payload, "notBefore", opts->not_before);
	if (opts->not_after)
		add_time(payload, "notAfter", opts->not_after);
	if (opts->profile)
		json_object_object_add(payload, "profile",
		    json_object_new_string(opts->profile));
	if (opts->replaces)
		json_object_object_add(payload, "replaces",
		    json_object_new_string(opts->replaces));
	return payload;
}

/* POST newOrder for order->names; sets its URL and CA fields. */
int
order_new(struct certo_req *req, const struct certo_directory *dir,
    const struct order_opts *opts, struct certo_order *order)
{
	struct json_object *payload;
	struct http_resp resp;
	char shown[256];
	int rc;

	if ((payload = new_order_payload(order, opts)) == NULL)
		return CERTO_ENOMEM;
	rc = request_post(req, dir->new_order, json_object_to_json_string_ext(
	    payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    DOC_ORDER, &resp, NULL);
	json_object_put(payload);
	if (rc != 0)
		goto out;
	if (resp.location == NULL || !json_url_ok(resp.location)) {
		rc = certo_fail(CERTO_EPROTO, "newOrder: the CA sent no usable "
		    "Location for the order (\"%s\")", resp.location ?
		    log_str(shown, sizeof(shown), resp.location) : "");
		goto out;
	}
	free(order->url);
	if ((order->url = strdup(resp.location)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	rc = doc_take(&resp, DOC_ORDER, order);
out:
	http_resp_free(&resp);
	return rc;
}

/* POST-as-GET order->url and parse it (see order.h). */
int
order_fetch(struct certo_req *req, struct certo_order *order,
    long *retry_after)
{
	struct http_resp resp;
	int rc;

	*retry_after = -1;
	if ((rc = request_post(req, order->url, NULL, DOC_ORDER, &resp,
	    NULL)) == 0 && (rc = doc_take(&resp, DOC_ORDER, order)) == 0)
		*retry_after = request_retry_after(&resp, 3600);
	http_resp_free(&resp);
	return rc;
}
