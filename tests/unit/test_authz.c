/* Authorization objects (client/authz.h), RFC 8555 section 7.1.4. */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "errors.h"
#include "json.h"

#define FIX "rfc8555-authz.json"
#define MULTI "authz-pending-multi.json"
#define AURL "https://example.com/acme/authz/PAniVnsZcis"

static int
parse(const char *s, struct certo_authz *a)
{
	int rc = authz_parse(s, strlen(s), a);

	certo_errclear();
	return rc;
}

static void
assert_cleared(const struct certo_authz *a)
{
	assert_null(a->ident.type);
	assert_null(a->ident.value);
	assert_null(a->expires);
	assert_null(a->challs);
	assert_int_equal(a->nchalls, 0);
}

static void
test_rfc_example(void **state)
{
	struct certo_authz a = { 0 };
	size_t len;
	char *text = tu_fixture(FIX, &len);

	(void)state;
	a.url = strdup(AURL);
	assert_int_equal(authz_parse(text, len, &a), 0);
	assert_string_equal(a.url, AURL);
	assert_int_equal(a.status, AUTHZ_VALID);
	assert_string_equal(a.expires, "2015-03-01T14:09:07.99Z");
	assert_string_equal(a.ident.type, "dns");
	assert_string_equal(a.ident.value, "www.example.org");
	assert_false(a.wildcard);
	assert_int_equal(a.nchalls, 1);
	assert_int_equal(a.challs[0].type, CHALL_HTTP01);
	assert_int_equal(a.challs[0].status, CHALL_VALID);
	assert_string_equal(a.challs[0].url,
	    "https://example.com/acme/chall/prV_B7yEyA4");
	assert_string_equal(a.challs[0].token, "DGyRejmCefe7v4NfDGDKfA");
	assert_ptr_equal(authz_find_challenge(&a, CHALL_HTTP01), &a.challs[0]);
	assert_null(authz_find_challenge(&a, CHALL_DNS01));
	/* Parsing again replaces, the url stays. */
	assert_int_equal(authz_parse(text, len, &a), 0);
	assert_string_equal(a.url, AURL);
	assert_int_equal(a.nchalls, 1);
	authz_free(&a);
	assert_null(a.url);
	assert_cleared(&a);
	authz_free(&a);
	authz_free(NULL);
	free(text);
}

/* Several challenge types, one unknown: kept, not fatal. */
static void
test_multi_and_unknown(void **state)
{
	struct certo_authz a = { 0 };
	size_t len;
	char *text = tu_fixture(MULTI, &len);
	struct certo_challenge *c;

	(void)state;
	assert_int_equal(authz_parse(text, len, &a), 0);
	assert_int_equal(a.status, AUTHZ_PENDING);
	assert_int_equal(a.nchalls, 4);
	assert_int_equal(a.challs[0].type, CHALL_HTTP01);
	assert_int_equal(a.challs[1].type, CHALL_DNS01);
	assert_int_equal(a.challs[2].type, CHALL_TLSALPN01);
	assert_int_equal(a.challs[3].type, CHALL_UNKNOWN);
	assert_null(a.challs[3].token);
	assert_string_equal(a.challs[3].url,
	    "https://example.com/acme/chall/newkind");
	c = authz_find_challenge(&a, CHALL_DNS01);
	assert_non_null(c);
	assert_string_equal(c->url, "https://example.com/acme/chall/Rg5dV14Gh1Q");
	c = authz_find_challenge(&a, CHALL_TLSALPN01);
	assert_non_null(c);
	assert_string_equal(c->token,
	    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
	authz_free(&a);
	free(text);
}

static void
test_statuses(void **state)
{
	static const struct {
		const char *json;
		enum authz_status st;
	} v[] = {
		{ "\"pending\"", AUTHZ_PENDING }, { "\"valid\"", AUTHZ_VALID },
		{ "\"invalid\"", AUTHZ_INVALID },
		{ "\"deactivated\"", AUTHZ_DEACTIVATED },
		{ "\"expired\"", AUTHZ_EXPIRED }, { "\"revoked\"", AUTHZ_REVOKED },
	};
	static const char *const bad[] = { "\"ready\"", "\"processing\"",
		"\"VALID\"", "\"\"", "\"valid\\n\"", "1", "null" };

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_authz a = { 0 };
		char *s = tu_json_edit(FIX, "status", v[i].json);
		assert_int_equal(parse(s, &a), 0);
		assert_int_equal(a.status, v[i].st);
		/* The name is the JSON string without its quotes. */
		assert_int_equal(strlen(authz_status_name(v[i].st)),
		    strlen(v[i].json) - 2);
		assert_int_equal(strncmp(authz_status_name(v[i].st),
		    v[i].json + 1, strlen(v[i].json) - 2), 0);
		authz_free(&a);
		free(s);
	}
	assert_string_equal(authz_status_name(AUTHZ_PENDING), "pending");
	assert_string_equal(authz_status_name(AUTHZ_REVOKED), "revoked");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct certo_authz a = { 0 };
		char *s = tu_json_edit(FIX, "status", bad[i]);
		if (parse(s, &a) != CERTO_EPROTO)
			fail_msg("status %s accepted", bad[i]);
		assert_cleared(&a);
		free(s);
	}
}

static void
test_wildcard(void **state)
{
	struct certo_authz a = { 0 };
	char *s, *t;

	(void)state;
	t = tu_json_edit(FIX, "wildcard", "true");
	s = tu_json_edit_text(t, "identifier.value", "\"example.org\"");
	assert_int_equal(parse(s, &a), 0);
	assert_true(a.wildcard);
	assert_string_equal(a.ident.value, "example.org");
	free(s);
	free(t);
	/* Absent means false. */
	s = tu_json_edit(FIX, "wildcard", NULL);
	assert_int_equal(parse(s, &a), 0);
	assert_false(a.wildcard);
	free(s);
	s = tu_json_edit(FIX, "wildcard", "\"true\"");
	assert_int_equal(parse(s, &a), CERTO_EPROTO);
	assert_cleared(&a);
	free(s);
	authz_free(&a);
}

static void
test_missing_required(void **state)
{
	static const char *const req[] = { "status", "identifier",
		"challenges", "identifier.type", "identifier.value" };

	(void)state;
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		struct certo_authz a = { 0 };
		char *s = tu_json_edit(FIX, req[i], NULL);
		int rc = parse(s, &a);
		if (rc != CERTO_EPROTO)
			fail_msg("without %s: %s", req[i], certo_errname(rc));
		assert_cleared(&a);
		free(s);
	}
	/* expires is optional. */
	{
		struct certo_authz a = { 0 };
		char *s = tu_json_edit(FIX, "expires", NULL);
		assert_int_equal(parse(s, &a), 0);
		assert_null(a.expires);
		authz_free(&a);
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
		{ "challenges", "\"https://example.com/acme/chall/x\"" },
		{ "challenges", "{}" },
		{ "challenges.0", "\"http-01\"" },
		{ "challenges.0", "[]" },
		{ "identifier", "\"www.example.org\"" },
		{ "identifier", "[\"dns\",\"www.example.org\"]" },
		{ "identifier.value", "[\"www.example.org\"]" },
		{ "identifier.type", "1" },
		{ "status", "[\"valid\"]" },
		{ "expires", "20150301" },
		{ "challenges.0.token", "\"../../etc/passwd\"" },
		{ "challenges.0.status", "\"weird\"" },
		{ "challenges.0.url", "null" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_authz a = { 0 };
		char *s = tu_json_edit(FIX, v[i].path, v[i].value);
		int rc = parse(s, &a);
		if (rc != CERTO_EPROTO)
			fail_msg("%s = %s: %s", v[i].path, v[i].value,
			    certo_errname(rc));
		assert_cleared(&a);
		free(s);
	}
}

/* A bad challenge after good ones leaves nothing half-parsed. */
static void
test_bad_challenge_late(void **state)
{
	struct certo_authz a = { 0 };
	char *s = tu_json_edit(MULTI, "challenges.2.token",
	    "\"../../etc/passwd\"");

	(void)state;
	a.url = strdup(AURL);
	assert_int_equal(parse(s, &a), CERTO_EPROTO);
	assert_cleared(&a);
	assert_string_equal(a.url, AURL);
	authz_free(&a);
	free(s);
}

static void
test_caps(void **state)
{
	struct certo_authz a = { 0 };
	char *doc, *big, *val, *s, *p;
	int rc;

	(void)state;
	/* More challenges than AUTHZ_MAX_CHALLENGES. */
	doc = malloc(200 * (AUTHZ_MAX_CHALLENGES + 2) + 200);
	assert_non_null(doc);
	p = doc;
	p += sprintf(p, "{\"status\":\"pending\",\"identifier\":{\"type\":"
	    "\"dns\",\"value\":\"example.org\"},\"challenges\":[");
	for (int i = 0; i < AUTHZ_MAX_CHALLENGES + 1; i++)
		p += sprintf(p, "%s{\"type\":\"http-01\",\"url\":\"https://"
		    "example.com/c/%d\",\"status\":\"pending\",\"token\":"
		    "\"DGyRejmCefe7v4NfDGDKfA\"}", i ? "," : "", i);
	sprintf(p, "]}");
	rc = parse(doc, &a);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_cleared(&a);
	free(doc);
	/* A huge identifier value. */
	big = tu_repeat('a', 100000);
	assert_int_equal(asprintf(&val, "\"%s.example\"", big) > 0, 1);
	s = tu_json_edit(FIX, "identifier.value", val);
	rc = parse(s, &a);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_cleared(&a);
	free(s);
	free(val);
	/* A huge challenge URL. */
	assert_int_equal(asprintf(&val, "\"https://example.com/%s\"", big) > 0,
	    1);
	s = tu_json_edit(FIX, "challenges.0.url", val);
	rc = parse(s, &a);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_cleared(&a);
	free(s);
	free(val);
	free(big);
	authz_free(&a);
}

static void
test_not_json(void **state)
{
	static const char *const bad[] = { "", "{", "[]", "\"authz\"",
		"{\"status\":\"valid\"} trailing" };
	struct certo_authz a = { 0 };
	char *text, *s;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &a), CERTO_EPROTO);
	text = tu_fixture(FIX, &len);
	assert_int_equal(asprintf(&s, "%sgarbage", text) > 0, 1);
	assert_int_equal(parse(s, &a), CERTO_EPROTO);
	assert_cleared(&a);
	free(s);
	free(text);
	/* Deeper than CERTO_JSON_MAX_DEPTH inside a challenge. */
	{
		char deep[2 * CERTO_JSON_MAX_DEPTH + 8], *p = deep;
		for (int i = 0; i < CERTO_JSON_MAX_DEPTH; i++)
			*p++ = '[';
		for (int i = 0; i < CERTO_JSON_MAX_DEPTH; i++)
			*p++ = ']';
		*p = '\0';
		s = tu_json_edit(FIX, "challenges.0.validationRecord", deep);
		assert_int_equal(parse(s, &a), CERTO_EPROTO);
		assert_cleared(&a);
		free(s);
	}
	authz_free(&a);
}

static void
test_identifier(void **state)
{
	struct certo_identifier id = { 0 };
	struct json_object *o;

	(void)state;
	o = json_tokener_parse("{\"type\":\"dns\",\"value\":\"example.org\"}");
	assert_int_equal(authz_parse_identifier(o, "test", &id), 0);
	assert_string_equal(id.type, "dns");
	assert_string_equal(id.value, "example.org");
	json_object_put(o);
	o = json_tokener_parse("{\"type\":\"ip\",\"value\":\"192.0.2.1\"}");
	assert_int_equal(authz_parse_identifier(o, "test", &id), 0);
	assert_string_equal(id.type, "ip");
	json_object_put(o);
	o = json_tokener_parse("[1]");
	assert_int_equal(authz_parse_identifier(o, "test", &id), CERTO_EPROTO);
	assert_null(id.type);
	assert_null(id.value);
	json_object_put(o);
	o = json_tokener_parse("{\"type\":\"dns\"}");
	assert_int_equal(authz_parse_identifier(o, "test", &id), CERTO_EPROTO);
	assert_null(id.type);
	json_object_put(o);
	certo_errclear();
	authz_identifier_free(&id);
	authz_identifier_free(NULL);
}

/* authz_check_ident: the CA's identifier must be one that was ordered. */
static void
test_check_ident(void **state)
{
	char n0[] = "example.com", n1[] = "*.example.com", n2[] = "192.0.2.1",
	    n3[] = "2001:db8::1";
	char *names[] = { n0, n1, n2, n3 };
	char t_dns[] = "dns", t_ip[] = "ip", v_apex[] = "example.com",
	    v_upper[] = "EXAMPLE.com", v_v6[] = "2001:0db8:0:0::1",
	    v_v4[] = "192.0.2.1";
	struct certo_identifier id = { t_dns, v_apex };
	size_t k = 99;

	(void)state;
	assert_int_equal(authz_check_ident(&id, false, names, 4, &k), 0);
	assert_int_equal(k, 0);
	/* The wildcard authorization carries the base name (RFC 8555 7.1.4). */
	assert_int_equal(authz_check_ident(&id, true, names, 4, &k), 0);
	assert_int_equal(k, 1);
	id.value = v_upper;
	assert_int_equal(authz_check_ident(&id, false, names, 4, &k), 0);
	/* Addresses compare as addresses, not strings. */
	id.type = t_ip;
	id.value = v_v6;
	assert_int_equal(authz_check_ident(&id, false, names, 4, &k), 0);
	assert_int_equal(k, 3);
	id.value = v_v4;
	assert_int_equal(authz_check_ident(&id, false, names, 4, &k), 0);
	assert_int_equal(k, 2);
	/* Refused: not ordered, traversal, control bytes, odd types. */
	const struct { const char *type, *value; bool wild; } bad[] = {
		{ "dns", "evil.example.net", false },
		{ "dns", "../../../../../../tmp/x", false },
		{ "dns", "..", false },
		{ "dns", "a/b.example.com", false },
		{ "dns", "example.com\x1b[2J", false },
		{ "dns", "", false },
		{ "dns", "*.example.com", true },
		{ "ip", "192.0.2.2", false },
		{ "ip", "example.com", false },
		{ "ip", "192.0.2.1", true },
		{ "email", "example.com", false },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		id.type = (char *)(uintptr_t)bad[i].type;
		id.value = (char *)(uintptr_t)bad[i].value;
		assert_int_equal(authz_check_ident(&id, bad[i].wild, names, 4,
		    &k), CERTO_EPROTO);
		assert_non_null(certo_errmsg());
		assert_true(tu_printable(certo_errmsg()));
		certo_errclear();
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_multi_and_unknown),
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_challenge_late),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_identifier),
		cmocka_unit_test(test_check_ident),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
