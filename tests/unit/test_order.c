/* Order objects (client/order.h), RFC 8555 sections 7.1.3 and 7.4. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json.h"
#include "order.h"

#define FIX "rfc8555-order.json"
#define PENDING "rfc8555-order-pending.json"
#define OURL "https://example.com/acme/order/TOlocE8rfgo"

static int
parse(const char *s, struct certo_order *o)
{
	int rc = order_parse(s, strlen(s), o);

	certo_errclear();
	return rc;
}

static void
assert_cleared(const struct certo_order *o)
{
	assert_null(o->expires);
	assert_null(o->idents);
	assert_int_equal(o->nidents, 0);
	assert_null(o->authz_urls);
	assert_int_equal(o->nauthz, 0);
	assert_null(o->finalize);
	assert_null(o->certificate);
	assert_null(o->error);
}

/* The user's side of an order: names and url, which parsing keeps. */
static void
user_fields(struct certo_order *o)
{
	o->names = calloc(2, sizeof(char *));
	assert_non_null(o->names);
	o->names[0] = strdup("www.example.org");
	o->names[1] = strdup("example.org");
	o->nnames = 2;
	o->url = strdup(OURL);
}

static void
check_user_fields(const struct certo_order *o)
{
	assert_int_equal(o->nnames, 2);
	assert_string_equal(o->names[0], "www.example.org");
	assert_string_equal(o->names[1], "example.org");
	assert_string_equal(o->url, OURL);
}

static void
test_rfc_valid(void **state)
{
	struct certo_order o = { 0 };
	size_t len;
	char *text = tu_fixture(FIX, &len);

	(void)state;
	user_fields(&o);
	assert_int_equal(order_parse(text, len, &o), 0);
	check_user_fields(&o);
	assert_int_equal(o.status, ORDER_VALID);
	assert_string_equal(o.expires, "2016-01-20T14:09:07.99Z");
	assert_int_equal(o.nidents, 2);
	assert_string_equal(o.idents[0].type, "dns");
	assert_string_equal(o.idents[0].value, "www.example.org");
	assert_string_equal(o.idents[1].type, "dns");
	assert_string_equal(o.idents[1].value, "example.org");
	assert_int_equal(o.nauthz, 2);
	assert_string_equal(o.authz_urls[0],
	    "https://example.com/acme/authz/PAniVnsZcis");
	assert_string_equal(o.authz_urls[1],
	    "https://example.com/acme/authz/r4HqLzrSrpI");
	assert_string_equal(o.finalize,
	    "https://example.com/acme/order/TOlocE8rfgo/finalize");
	assert_string_equal(o.certificate,
	    "https://example.com/acme/cert/mAt3xBGaobw");
	assert_null(o.error);
	order_free(&o);
	assert_null(o.names);
	assert_null(o.url);
	assert_cleared(&o);
	order_free(&o);
	order_free(NULL);
	free(text);
}

/* The newOrder response of section 7.4: pending, no certificate yet. */
static void
test_rfc_pending(void **state)
{
	struct certo_order o = { 0 };
	size_t len;
	char *text = tu_fixture(PENDING, &len);

	(void)state;
	assert_int_equal(order_parse(text, len, &o), 0);
	assert_int_equal(o.status, ORDER_PENDING);
	assert_null(o.certificate);
	assert_int_equal(o.nauthz, 2);
	free(text);
	/* Polled again, now valid: the certificate URL appears. */
	text = tu_fixture(FIX, &len);
	assert_int_equal(order_parse(text, len, &o), 0);
	assert_int_equal(o.status, ORDER_VALID);
	assert_non_null(o.certificate);
	assert_int_equal(o.nauthz, 2);
	assert_int_equal(o.nidents, 2);
	order_free(&o);
	free(text);
}

static void
test_statuses(void **state)
{
	static const struct {
		const char *json;
		enum order_status st;
	} v[] = {
		{ "\"pending\"", ORDER_PENDING }, { "\"ready\"", ORDER_READY },
		{ "\"processing\"", ORDER_PROCESSING },
		{ "\"valid\"", ORDER_VALID }, { "\"invalid\"", ORDER_INVALID },
	};
	static const char *const bad[] = { "\"deactivated\"", "\"expired\"",
		"\"Ready\"", "\"\"", "\"valid\\u0000\"", "2", "{}" };

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_order o = { 0 };
		char *s = tu_json_edit(FIX, "status", v[i].json);
		assert_int_equal(parse(s, &o), 0);
		assert_int_equal(o.status, v[i].st);
		assert_int_equal(strncmp(order_status_name(v[i].st),
		    v[i].json + 1, strlen(v[i].json) - 2), 0);
		order_free(&o);
		free(s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct certo_order o = { 0 };
		char *s = tu_json_edit(FIX, "status", bad[i]);
		if (parse(s, &o) != CERTO_EPROTO)
			fail_msg("status %s accepted", bad[i]);
		assert_cleared(&o);
		free(s);
	}
}

static void
test_missing_required(void **state)
{
	static const char *const req[] = { "status", "identifiers",
		"authorizations", "finalize", "identifiers.0.type",
		"identifiers.1.value" };
	static const char *const opt[] = { "expires", "certificate",
		"notBefore", "notAfter" };

	(void)state;
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		struct certo_order o = { 0 };
		char *s = tu_json_edit(FIX, req[i], NULL);
		int rc;
		user_fields(&o);
		rc = parse(s, &o);
		if (rc != CERTO_EPROTO)
			fail_msg("without %s: %s", req[i], certo_errname(rc));
		assert_cleared(&o);
		check_user_fields(&o);
		order_free(&o);
		free(s);
	}
	for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		struct certo_order o = { 0 };
		char *s = tu_json_edit(FIX, opt[i], NULL);
		assert_int_equal(parse(s, &o), 0);
		order_free(&o);
		free(s);
	}
}

static void
test_wrong_types(void **state)
{
	static const struct {
		const char *path;
		const char *value;
	} v[] = {
		{ "identifiers", "\"www.example.org\"" },
		{ "identifiers", "{\"type\":\"dns\",\"value\":\"example.org\"}" },
		{ "identifiers.0", "\"www.example.org\"" },
		{ "identifiers.0", "[\"dns\",\"www.example.org\"]" },
		{ "authorizations", "\"https://example.com/acme/authz/x\"" },
		{ "authorizations", "{}" },
		{ "authorizations.0", "42" },
		{ "authorizations.1", "{\"url\":\"https://example.com/a\"}" },
		{ "authorizations.1", "null" },
		{ "finalize", "[\"https://example.com/f\"]" },
		{ "certificate", "true" },
		{ "expires", "{}" },
		{ "error", "\"failed\"" },
		{ "error", "{\"type\":[]}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_order o = { 0 };
		char *s = tu_json_edit(FIX, v[i].path, v[i].value);
		int rc = parse(s, &o);
		if (rc != CERTO_EPROTO)
			fail_msg("%s = %s: %s", v[i].path, v[i].value,
			    certo_errname(rc));
		assert_cleared(&o);
		free(s);
	}
}

/* An invalid order explains itself with a problem document. */
static void
test_error_member(void **state)
{
	struct certo_order o = { 0 };
	char *s, *t;

	(void)state;
	t = tu_json_edit(PENDING, "status", "\"invalid\"");
	s = tu_json_edit_text(t, "error", "{\"type\":\"urn:ietf:params:acme:"
	    "error:rejectedIdentifier\",\"detail\":\"Error creating new order\","
	    "\"status\":400,\"subproblems\":[{\"type\":\"urn:ietf:params:acme:"
	    "error:rejectedIdentifier\",\"detail\":\"Policy forbids issuing "
	    "for name\",\"identifier\":{\"type\":\"dns\",\"value\":"
	    "\"example.org\"}}]}");
	assert_int_equal(parse(s, &o), 0);
	assert_int_equal(o.status, ORDER_INVALID);
	assert_non_null(o.error);
	assert_true(problem_is(o.error, "rejectedIdentifier"));
	assert_int_equal(o.error->nsubs, 1);
	assert_string_equal(o.error->subs[0].ident_value, "example.org");
	/* The next poll without an error drops the old one. */
	free(t);
	t = tu_fixture(PENDING, NULL);
	assert_int_equal(parse(t, &o), 0);
	assert_null(o.error);
	order_free(&o);
	free(s);
	free(t);
}

static void
test_caps(void **state)
{
	struct certo_order o = { 0 };
	char *doc, *p, *big, *val, *s;
	int rc;

	(void)state;
	/* More identifiers than ORDER_MAX_IDENTIFIERS. */
	doc = malloc(100 * (ORDER_MAX_IDENTIFIERS + 2) + 400);
	assert_non_null(doc);
	p = doc;
	p += sprintf(p, "{\"status\":\"pending\",\"identifiers\":[");
	for (int i = 0; i < ORDER_MAX_IDENTIFIERS + 1; i++)
		p += sprintf(p, "%s{\"type\":\"dns\",\"value\":\"h%d.example\"}",
		    i ? "," : "", i);
	sprintf(p, "],\"authorizations\":[],\"finalize\":"
	    "\"https://example.com/f\"}");
	rc = parse(doc, &o);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_cleared(&o);
	/* More authorizations than that. */
	p = doc;
	p += sprintf(p, "{\"status\":\"pending\",\"identifiers\":[],"
	    "\"authorizations\":[");
	for (int i = 0; i < ORDER_MAX_IDENTIFIERS + 1; i++)
		p += sprintf(p, "%s\"https://example.com/a/%d\"", i ? "," : "",
		    i);
	sprintf(p, "],\"finalize\":\"https://example.com/f\"}");
	rc = parse(doc, &o);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_cleared(&o);
	free(doc);
	/* Huge URLs and identifier values. */
	big = tu_repeat('a', 100000);
	assert_int_equal(asprintf(&val, "\"https://example.com/%s\"", big) > 0,
	    1);
	s = tu_json_edit(FIX, "finalize", val);
	rc = parse(s, &o);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_cleared(&o);
	free(s);
	s = tu_json_edit(FIX, "authorizations.0", val);
	rc = parse(s, &o);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_cleared(&o);
	free(s);
	s = tu_json_edit(FIX, "certificate", val);
	rc = parse(s, &o);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_cleared(&o);
	free(s);
	free(val);
	assert_int_equal(asprintf(&val, "\"%s.example\"", big) > 0, 1);
	s = tu_json_edit(FIX, "identifiers.0.value", val);
	rc = parse(s, &o);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_cleared(&o);
	free(s);
	free(val);
	free(big);
	order_free(&o);
}

static void
test_not_json(void **state)
{
	static const char *const bad[] = { "", "{", "[]", "null",
		"{\"status\":\"valid\"}}" };
	struct certo_order o = { 0 };
	char *text, *s;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &o), CERTO_EPROTO);
	text = tu_fixture(FIX, &len);
	assert_int_equal(asprintf(&s, "%s,", text) > 0, 1);
	assert_int_equal(parse(s, &o), CERTO_EPROTO);
	assert_cleared(&o);
	free(s);
	assert_int_equal(order_parse(text, len - 10, &o), CERTO_EPROTO);
	certo_errclear();
	assert_cleared(&o);
	free(text);
	{
		char deep[2 * CERTO_JSON_MAX_DEPTH + 8], *p = deep;
		for (int i = 0; i < CERTO_JSON_MAX_DEPTH; i++)
			*p++ = '[';
		for (int i = 0; i < CERTO_JSON_MAX_DEPTH; i++)
			*p++ = ']';
		*p = '\0';
		s = tu_json_edit(FIX, "identifiers.0.extra", deep);
		assert_int_equal(parse(s, &o), CERTO_EPROTO);
		assert_cleared(&o);
		free(s);
	}
	order_free(&o);
}

/*
 * order.h: parsing fills "o's CA fields (names, url and authzs are left
 * alone)".  Polling the same order must not throw away the fetched
 * authorizations.
 */
static void
test_keeps_authzs(void **state)
{
	struct certo_order o = { 0 };
	size_t len;
	char *text = tu_fixture(PENDING, &len);

	(void)state;
	user_fields(&o);
	assert_int_equal(order_parse(text, len, &o), 0);
	o.authzs = calloc(o.nauthz, sizeof(*o.authzs));
	assert_non_null(o.authzs);
	for (size_t i = 0; i < o.nauthz; i++)
		o.authzs[i].url = strdup(o.authz_urls[i]);
	assert_int_equal(order_parse(text, len, &o), 0);
	check_user_fields(&o);
	assert_non_null(o.authzs);
	if (o.authzs != NULL)
		for (size_t i = 0; i < o.nauthz; i++)
			assert_string_equal(o.authzs[i].url, o.authz_urls[i]);
	order_free(&o);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_valid),
		cmocka_unit_test(test_rfc_pending),
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_error_member),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_keeps_authzs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
