/* Challenge objects (client/challenge.h), RFC 8555 section 8. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "challenge.h"
#include "errors.h"

#define FIX "rfc8555-challenge-http01.json"

static int
parse(const char *s, struct certo_challenge *chall)
{
	int rc = challenge_parse(s, strlen(s), chall);

	certo_errclear();
	return rc;
}

static void
assert_empty(const struct certo_challenge *chall)
{
	assert_null(chall->url);
	assert_null(chall->token);
	assert_null(chall->error);
}

/* RFC 8555 section 8.3. */
static void
test_rfc_http01(void **state)
{
	struct certo_challenge chall = { 0 };
	size_t len;
	char *text = tu_fixture(FIX, &len);

	(void)state;
	assert_int_equal(challenge_parse(text, len, &chall), 0);
	assert_int_equal(chall.type, CHALL_HTTP01);
	assert_int_equal(chall.status, CHALL_PENDING);
	assert_string_equal(chall.url,
	    "https://example.com/acme/chall/prV_B7yEyA4");
	assert_string_equal(chall.token,
	    "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
	assert_null(chall.error);
	/* Parsing again into the same struct replaces it. */
	assert_int_equal(challenge_parse(text, len, &chall), 0);
	challenge_free(&chall);
	assert_empty(&chall);
	challenge_free(&chall);
	challenge_free(NULL);
	free(text);
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(challenge_type_parse("http-01"), CHALL_HTTP01);
	assert_int_equal(challenge_type_parse("dns-01"), CHALL_DNS01);
	assert_int_equal(challenge_type_parse("tls-alpn-01"), CHALL_TLSALPN01);
	assert_int_equal(challenge_type_parse("HTTP-01"), CHALL_UNKNOWN);
	assert_int_equal(challenge_type_parse("http-02"), CHALL_UNKNOWN);
	assert_int_equal(challenge_type_parse(""), CHALL_UNKNOWN);
	assert_int_equal(challenge_type_parse("unknown"), CHALL_UNKNOWN);
	assert_string_equal(challenge_type_name(CHALL_HTTP01), "http-01");
	assert_string_equal(challenge_type_name(CHALL_DNS01), "dns-01");
	assert_string_equal(challenge_type_name(CHALL_TLSALPN01),
	    "tls-alpn-01");
	assert_string_equal(challenge_type_name(CHALL_UNKNOWN), "unknown");
	/* common/challenge_type.c: NULL and values outside the enum. */
	assert_int_equal(challenge_type_parse(NULL), CHALL_UNKNOWN);
	assert_string_equal(challenge_type_name((enum chall_type)99),
	    "unknown");
	assert_string_equal(challenge_status_name(CHALL_PENDING), "pending");
	assert_string_equal(challenge_status_name(CHALL_PROCESSING),
	    "processing");
	assert_string_equal(challenge_status_name(CHALL_VALID), "valid");
	assert_string_equal(challenge_status_name(CHALL_INVALID), "invalid");
}

static void
test_statuses(void **state)
{
	static const struct {
		const char *json;
		enum chall_status st;
	} v[] = {
		{ "\"pending\"", CHALL_PENDING },
		{ "\"processing\"", CHALL_PROCESSING },
		{ "\"valid\"", CHALL_VALID },
		{ "\"invalid\"", CHALL_INVALID },
	};
	static const char *const bad[] = { "\"Pending\"", "\"ready\"",
		"\"deactivated\"", "\"\"", "\"valid \"", "\"weird\\u0000\"" };

	(void)state;
	/* RFC 8555 7.5's example omits "status": read as pending. */
	{
		struct certo_challenge chall = { 0 };
		char *s = tu_json_edit(FIX, "status", NULL);
		assert_int_equal(parse(s, &chall), 0);
		assert_int_equal(chall.status, CHALL_PENDING);
		challenge_free(&chall);
		free(s);
	}
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_challenge chall = { 0 };
		char *s = tu_json_edit(FIX, "status", v[i].json);
		assert_int_equal(parse(s, &chall), 0);
		assert_int_equal(chall.status, v[i].st);
		challenge_free(&chall);
		free(s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct certo_challenge chall = { 0 };
		char *s = tu_json_edit(FIX, "status", bad[i]);
		if (parse(s, &chall) != CERTO_EPROTO)
			fail_msg("status %s accepted", bad[i]);
		assert_empty(&chall);
		free(s);
	}
}

static void
test_other_types(void **state)
{
	static const struct {
		const char *json;
		enum chall_type t;
	} v[] = {
		{ "\"dns-01\"", CHALL_DNS01 },
		{ "\"tls-alpn-01\"", CHALL_TLSALPN01 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_challenge chall = { 0 };
		char *s = tu_json_edit(FIX, "type", v[i].json);
		assert_int_equal(parse(s, &chall), 0);
		assert_int_equal(chall.type, v[i].t);
		assert_non_null(chall.token);
		challenge_free(&chall);
		free(s);
	}
}

/* A type we do not know is kept, without a token. */
static void
test_unknown_type(void **state)
{
	struct certo_challenge chall = { 0 };
	char *s;

	(void)state;
	assert_int_equal(parse("{\"type\":\"onion-csr-01\",\"url\":"
	    "\"https://example.com/acme/chall/x\",\"status\":\"pending\"}",
	    &chall), 0);
	assert_int_equal(chall.type, CHALL_UNKNOWN);
	assert_null(chall.token);
	assert_string_equal(chall.url, "https://example.com/acme/chall/x");
	challenge_free(&chall);
	/* Its token is not looked at, even one we would refuse. */
	{
		char *t = tu_json_edit(FIX, "type", "\"x-future-01\"");
		s = tu_json_edit_text(t, "token", "\"../../etc/passwd\"");
		free(t);
	}
	assert_int_equal(parse(s, &chall), 0);
	assert_int_equal(chall.type, CHALL_UNKNOWN);
	assert_null(chall.token);
	challenge_free(&chall);
	free(s);
}

/* Tokens become paths and DNS names: only base64url, 128 bits or more. */
static void
test_bad_tokens(void **state)
{
	static const char *const bad[] = {
		"\"../../etc/passwd\"",
		"\"..%2F..%2Fetc%2Fpasswd\"",
		"\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0/\"",
		"\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0=\"",
		"\"LoqXcYV8q5ONbJQxbmR7 SCTNo3tiAXDfowyjxAjEuX0\"",
		"\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0\\n\"",
		"\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX\\u00e9\"",
		"\"\"",
		"\"DGyRejmCefe7v4NfDGDKf\"",   /* 21 chars: < 128 bits */
		"42",
		"[\"DGyRejmCefe7v4NfDGDKfA\"]",
		"null",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct certo_challenge chall = { 0 };
		char *s = tu_json_edit(FIX, "token", bad[i]);
		int rc = parse(s, &chall);
		if (rc != CERTO_EPROTO && rc != CERTO_ETOOBIG)
			fail_msg("token %s: %s", bad[i], certo_errname(rc));
		assert_empty(&chall);
		free(s);
	}
	/* Missing altogether. */
	{
		struct certo_challenge chall = { 0 };
		char *s = tu_json_edit(FIX, "token", NULL);
		assert_int_equal(parse(s, &chall), CERTO_EPROTO);
		assert_empty(&chall);
		free(s);
	}
}

static void
test_token_length(void **state)
{
	struct certo_challenge chall = { 0 };
	char *tok = tu_repeat('A', CHALLENGE_MAX_TOKEN), *val, *s;
	int rc;

	(void)state;
	assert_int_equal(asprintf(&val, "\"%s\"", tok) > 0, 1);
	s = tu_json_edit(FIX, "token", val);
	assert_int_equal(parse(s, &chall), 0);
	assert_int_equal(strlen(chall.token), CHALLENGE_MAX_TOKEN);
	challenge_free(&chall);
	free(s);
	free(val);
	free(tok);
	tok = tu_repeat('A', CHALLENGE_MAX_TOKEN + 1);
	assert_int_equal(asprintf(&val, "\"%s\"", tok) > 0, 1);
	s = tu_json_edit(FIX, "token", val);
	rc = parse(s, &chall);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_empty(&chall);
	free(s);
	free(val);
	free(tok);
}

static void
test_missing_and_wrong(void **state)
{
	static const char *const req[] = { "type", "url" };
	static const struct {
		const char *path;
		const char *value;
	} v[] = {
		{ "type", "1" }, { "type", "[\"http-01\"]" }, { "url", "{}" },
		{ "url", "true" }, { "status", "0" }, { "error", "\"oops\"" },
		{ "error", "[]" }, { "error", "{\"type\":7}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		struct certo_challenge chall = { 0 };
		char *s = tu_json_edit(FIX, req[i], NULL);
		if (parse(s, &chall) != CERTO_EPROTO)
			fail_msg("without %s: accepted", req[i]);
		assert_empty(&chall);
		free(s);
	}
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_challenge chall = { 0 };
		char *s = tu_json_edit(FIX, v[i].path, v[i].value);
		if (parse(s, &chall) != CERTO_EPROTO)
			fail_msg("%s = %s accepted", v[i].path, v[i].value);
		assert_empty(&chall);
		free(s);
	}
}

static void
test_huge_url(void **state)
{
	struct certo_challenge chall = { 0 };
	char *big = tu_repeat('a', 100000), *val, *s;
	int rc;

	(void)state;
	assert_int_equal(asprintf(&val, "\"https://example.com/%s\"", big) > 0,
	    1);
	s = tu_json_edit(FIX, "url", val);
	rc = parse(s, &chall);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_empty(&chall);
	free(s);
	free(val);
	free(big);
}

/* An invalid challenge carries the CA's problem document. */
static void
test_error_member(void **state)
{
	struct certo_challenge chall = { 0 };
	char *s;

	(void)state;
	{
		char *t = tu_json_edit(FIX, "status", "\"invalid\"");
		s = tu_json_edit_text(t, "error", "{\"type\":\"urn:ietf:params:"
		    "acme:error:connection\",\"detail\":\"Connection refused\","
		    "\"status\":400}");
		free(t);
	}
	assert_int_equal(parse(s, &chall), 0);
	assert_int_equal(chall.status, CHALL_INVALID);
	assert_non_null(chall.error);
	assert_true(problem_is(chall.error, "connection"));
	assert_string_equal(chall.error->detail, "Connection refused");
	assert_int_equal(chall.error->status, 400);
	challenge_free(&chall);
	assert_empty(&chall);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_http01),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_token_length),
		cmocka_unit_test(test_missing_and_wrong),
		cmocka_unit_test(test_huge_url),
		cmocka_unit_test(test_error_member),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
