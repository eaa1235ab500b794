/* Problem documents (client/problem.h), RFC 8555 section 6.7. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "problem.h"

static int
parse(const char *s, struct certo_problem *p)
{
	int rc = problem_parse(s, strlen(s), p);

	certo_errclear();
	return rc;
}

/* RFC 8555 section 6.7.1: a problem with two subproblems. */
static void
test_rfc_subproblems(void **state)
{
	struct certo_problem p = { 0 };
	struct certo_buf b;
	size_t len;
	char *text = tu_fixture("rfc8555-problem-subproblems.json", &len);

	(void)state;
	assert_int_equal(problem_parse(text, len, &p), 0);
	assert_string_equal(p.type, "urn:ietf:params:acme:error:malformed");
	assert_string_equal(p.detail,
	    "Some of the identifiers requested were rejected");
	assert_int_equal(p.status, 0);
	assert_int_equal(p.nsubs, 2);
	assert_string_equal(p.subs[0].type,
	    "urn:ietf:params:acme:error:malformed");
	assert_string_equal(p.subs[0].detail,
	    "Invalid underscore in DNS name \"_example.org\"");
	assert_string_equal(p.subs[0].ident_type, "dns");
	assert_string_equal(p.subs[0].ident_value, "_example.org");
	assert_string_equal(p.subs[1].type,
	    "urn:ietf:params:acme:error:rejectedIdentifier");
	assert_string_equal(p.subs[1].detail,
	    "This CA will not issue for \"example.net\"");
	assert_string_equal(p.subs[1].ident_type, "dns");
	assert_string_equal(p.subs[1].ident_value, "example.net");
	assert_true(problem_is(&p, "malformed"));
	assert_false(problem_is(&p, "badNonce"));
	assert_false(problem_is(&p, "malformedX"));
	assert_false(problem_is(&p, "malforme"));

	buf_init(&b, 4096);
	assert_int_equal(problem_format(&p, &b), 0);
	assert_non_null(strstr(b.data,
	    "Some of the identifiers requested were rejected"));
	assert_non_null(strstr(b.data, "_example.org"));
	assert_non_null(strstr(b.data, "example.net"));
	assert_non_null(strstr(b.data, "Invalid underscore in DNS name"));
	assert_non_null(strstr(b.data, "rejectedIdentifier"));
	assert_true(tu_printable(b.data));
	buf_free(&b);
	problem_free(&p);
	assert_null(p.type);
	assert_int_equal(p.nsubs, 0);
	problem_free(&p);
	problem_free(NULL);
	free(text);
}

static void
test_bad_nonce(void **state)
{
	struct certo_problem p = { 0 };

	(void)state;
	assert_int_equal(parse("{\"type\":\"urn:ietf:params:acme:error:badNonce\","
	    "\"detail\":\"JWS has an invalid anti-replay nonce\","
	    "\"status\":400}", &p), 0);
	assert_true(problem_is(&p, "badNonce"));
	assert_false(problem_is(&p, "badnonce"));
	assert_false(problem_is(&p, "malformed"));
	assert_int_equal(p.status, 400);
	assert_int_equal(p.nsubs, 0);
	assert_null(p.subs);
	/* Parsing again into the same struct replaces it. */
	assert_int_equal(parse("{\"type\":\"urn:ietf:params:acme:error:"
	    "rateLimited\"}", &p), 0);
	assert_true(problem_is(&p, "rateLimited"));
	assert_null(p.detail);
	assert_int_equal(p.status, 0);
	/* Not an ACME error type. */
	assert_int_equal(parse("{\"type\":\"badNonce\"}", &p), 0);
	assert_false(problem_is(&p, "badNonce"));
	assert_int_equal(parse("{\"type\":\"urn:ietf:params:acme:error:\"}", &p),
	    0);
	assert_false(problem_is(&p, "badNonce"));
	problem_free(&p);
	assert_false(problem_is(NULL, "badNonce"));
	assert_false(problem_is(&p, "badNonce"));
}

/* RFC 7807: a missing type means about:blank. */
static void
test_minimal(void **state)
{
	struct certo_problem p = { 0 };
	struct certo_buf b;

	(void)state;
	assert_int_equal(parse("{}", &p), 0);
	assert_non_null(p.type);
	assert_string_equal(p.type, "about:blank");
	buf_init(&b, 1024);
	assert_int_equal(problem_format(&p, &b), 0);
	assert_non_null(b.data);
	buf_free(&b);
	problem_free(&p);
}

/* Server strings are made printable before anyone shows them. */
static void
test_sanitised(void **state)
{
	struct certo_problem p = { 0 };
	struct certo_buf b;

	(void)state;
	assert_int_equal(parse("{\"type\":\"urn:ietf:params:acme:error:"
	    "unauthorized\",\"detail\":\"line1\\nline2\\u001b[2Jgone\\r\","
	    "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:dns\\n\","
	    "\"detail\":\"sub\\u0007detail\",\"identifier\":{\"type\":\"dns\","
	    "\"value\":\"evil\\u001b]0;title\\u0007.example\"}}]}", &p), 0);
	/* Parsing keeps the raw text. */
	assert_non_null(strchr(p.detail, '\n'));
	buf_init(&b, 4096);
	assert_int_equal(problem_format(&p, &b), 0);
	assert_null(strchr(b.data, '\n'));
	assert_null(strchr(b.data, '\r'));
	assert_null(strchr(b.data, '\x1b'));
	assert_null(strchr(b.data, '\x07'));
	assert_true(tu_printable(b.data));
	assert_non_null(strstr(b.data, "line1"));
	assert_non_null(strstr(b.data, "line2"));
	assert_non_null(strstr(b.data, "title"));
	buf_free(&b);
	problem_free(&p);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"type\":42}",
		"{\"type\":\"x\",\"detail\":[]}",
		"{\"type\":\"x\",\"subproblems\":{}}",
		"{\"type\":\"x\",\"subproblems\":[1]}",
		"{\"type\":\"x\",\"subproblems\":[\"s\"]}",
		"{\"type\":\"x\",\"subproblems\":[{\"type\":1}]}",
		"{\"type\":\"x\",\"subproblems\":[{\"identifier\":\"dns\"}]}",
		"{\"type\":\"x\",\"subproblems\":[{\"identifier\":{\"value\":5}}]}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct certo_problem p = { 0 };
		int rc = parse(bad[i], &p);
		if (rc != CERTO_EPROTO)
			fail_msg("%s: %s, want EPROTO", bad[i], certo_errname(rc));
		/* Nothing half-built is left behind. */
		assert_null(p.type);
		assert_null(p.detail);
		assert_null(p.subs);
		assert_int_equal(p.nsubs, 0);
	}
}

/* Oversized members are refused, too many subproblems are capped. */
static void
test_caps(void **state)
{
	struct certo_problem p = { 0 };
	struct certo_buf b;
	size_t n = 100000;
	int rc;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_printf(&b, "{\"type\":\"urn:x\",\"detail\":\""), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf_add(&b, "d", 1), 0);
	assert_int_equal(buf_adds(&b, "\"}"), 0);
	rc = parse(b.data, &p);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_null(p.type);
	buf_reset(&b);

	assert_int_equal(buf_adds(&b, "{\"type\":\"urn:x\",\"subproblems\":["),
	    0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%s{\"type\":\"t%d\","
		    "\"identifier\":{\"type\":\"dns\",\"value\":\"h%d.test\"}}",
		    i ? "," : "", i, i), 0);
	assert_int_equal(buf_adds(&b, "]}"), 0);
	rc = parse(b.data, &p);
	if (rc == 0)
		assert_true(p.nsubs <= PROBLEM_MAX_SUBPROBLEMS);
	else
		assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	/* Formatting a big problem does not overflow anything. */
	if (rc == 0) {
		struct certo_buf out;
		buf_init(&out, 1 << 20);
		assert_int_equal(problem_format(&p, &out), 0);
		assert_true(tu_printable(out.data));
		buf_free(&out);
	}
	problem_free(&p);
	buf_free(&b);
}

/* problem_format appends to what is in the buffer. */
static void
test_format_appends(void **state)
{
	struct certo_problem p = { 0 };
	struct certo_buf b;

	(void)state;
	assert_int_equal(parse("{\"type\":\"urn:ietf:params:acme:error:caa\","
	    "\"detail\":\"CAA record forbids issuance\"}", &p), 0);
	buf_init(&b, 1024);
	assert_int_equal(buf_adds(&b, "order failed: "), 0);
	assert_int_equal(problem_format(&p, &b), 0);
	assert_int_equal(strncmp(b.data, "order failed: CAA record forbids "
	    "issuance", 41), 0);
	assert_non_null(strstr(b.data, "caa"));
	buf_free(&b);
	problem_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_subproblems),
		cmocka_unit_test(test_bad_nonce),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_sanitised),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_format_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
