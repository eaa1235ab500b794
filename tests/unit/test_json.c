/* Capped JSON parsing and typed getters (common/json.h). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "json.h"

static int
parse(const char *s, struct json_object **o)
{
	int rc = json_parse_object(s, strlen(s), "test", o);

	certo_errclear();
	return rc;
}

static void
test_rfc_account(void **state)
{
	size_t len;
	char *text = tu_fixture("rfc8555-account.json", &len), *s = NULL;
	struct json_object *o, *a = NULL, *ob = NULL;
	bool b = false;

	(void)state;
	assert_int_equal(json_parse_object(text, len, "account", &o), 0);
	assert_int_equal(json_get_str(o, "account", "status", true, 32, &s), 0);
	assert_string_equal(s, "valid");
	assert_int_equal(json_get_bool(o, "account", "termsOfServiceAgreed",
	    true, &b), 0);
	assert_true(b);
	assert_int_equal(json_get_array(o, "account", "contact", true, &a), 0);
	assert_non_null(a);
	assert_int_equal(json_object_array_length(a), 2);
	/* Optional and missing: untouched, no error. */
	assert_int_equal(json_get_object(o, "account", "meta", false, &ob), 0);
	assert_null(ob);
	/* Required and missing: EPROTO naming the field. */
	assert_int_equal(json_get_str(o, "account", "orders2", true, 100, &s),
	    CERTO_EPROTO);
	assert_non_null(certo_errmsg());
	assert_non_null(strstr(certo_errmsg(), "orders2"));
	certo_errclear();
	/* Wrong types. */
	assert_int_equal(json_get_array(o, "account", "status", true, &a),
	    CERTO_EPROTO);
	assert_int_equal(json_get_str(o, "account", "contact", true, 100, &s),
	    CERTO_EPROTO);
	assert_int_equal(json_get_bool(o, "account", "status", true, &b),
	    CERTO_EPROTO);
	assert_int_equal(json_get_object(o, "account", "contact", false, &ob),
	    CERTO_EPROTO);
	/* A mistyped optional field is still an error. */
	assert_int_equal(json_get_str(o, "account", "contact", false, 100, &s),
	    CERTO_EPROTO);
	certo_errclear();
	/* Length cap. */
	assert_int_equal(json_get_str(o, "account", "orders", true, 10, &s),
	    CERTO_ETOOBIG);
	certo_errclear();
	assert_string_equal(s, "valid");
	free(s);
	json_object_put(o);
	free(text);
}

static void
test_invalid(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "{\"a\":", "{\"a\":1,}", "[1,2]", "\"str\"",
		"42", "null", "true", "{\"a\":1}}", "{\"a\":1} x", "{\"a\":1}{}",
		"{a:1}", "{\"a\":01}", "{\"a\":1}\x01", "{\"a\":'x'}",
		"{\"a\":[1,]}", "{\"a\":tru}", "{\"a\":1 /*c*/}",
		"{\"a\":\"\\x\"}", "\xef\xbb\xbf{}",
		/*
		 * json-c accepts these even with JSON_TOKENER_STRICT:
		 * {'a':1}, {"a":NaN}, {"a":Infinity}, a raw control byte in a
		 * string.  Harmless for certo (strings are sanitised before
		 * display, numbers are read as integers), so not tested.
		 */
	};
	struct json_object *o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = (struct json_object *)&o;
		int rc = parse(bad[i], &o);
		if (rc != CERTO_EPROTO)
			fail_msg("\"%s\": %s, want EPROTO", bad[i],
			    certo_errname(rc));
		assert_null(o);
	}
	/* Trailing whitespace is fine. */
	assert_int_equal(parse("{\"a\":1} \r\n\t", &o), 0);
	json_object_put(o);
}

/* An object holding depth - 1 nested arrays: depth containers. */
static char *
nested(int depth)
{
	size_t n = (size_t)depth * 2 + 16;
	char *s = malloc(n), *p = s;

	assert_non_null(s);
	p += sprintf(p, "{\"a\":");
	for (int i = 1; i < depth; i++)
		*p++ = '[';
	for (int i = 1; i < depth; i++)
		*p++ = ']';
	*p++ = '}';
	*p = '\0';
	return s;
}

static void
test_depth(void **state)
{
	struct json_object *o;
	char *s;

	(void)state;
	/* Well within the limit. */
	s = nested(CERTO_JSON_MAX_DEPTH / 2);
	assert_int_equal(parse(s, &o), 0);
	json_object_put(o);
	free(s);
	/* Exactly the limit. */
	s = nested(CERTO_JSON_MAX_DEPTH);
	assert_int_equal(parse(s, &o), 0);
	json_object_put(o);
	free(s);
	/* One deeper, and far deeper. */
	s = nested(CERTO_JSON_MAX_DEPTH + 1);
	assert_int_equal(parse(s, &o), CERTO_EPROTO);
	assert_null(o);
	free(s);
	s = nested(10000);
	assert_int_equal(parse(s, &o), CERTO_EPROTO);
	assert_null(o);
	free(s);
}

static void
test_size_cap(void **state)
{
	size_t n = CERTO_JSON_MAX_SIZE + 100;
	char *s = malloc(n + 1);
	struct json_object *o;

	(void)state;
	assert_non_null(s);
	memcpy(s, "{\"a\":\"", 6);
	memset(s + 6, 'x', n - 8);
	memcpy(s + n - 2, "\"}", 3);
	assert_int_equal(strlen(s), n);
	assert_int_equal(json_parse_object(s, n, "big", &o), CERTO_ETOOBIG);
	assert_null(o);
	certo_errclear();
	/* Just under the cap parses. */
	s[CERTO_JSON_MAX_SIZE - 2] = '"';
	s[CERTO_JSON_MAX_SIZE - 1] = '}';
	assert_int_equal(json_parse_object(s, CERTO_JSON_MAX_SIZE, "big", &o),
	    0);
	json_object_put(o);
	free(s);
}

/* Only len bytes are read: no need for a NUL, and nothing beyond. */
static void
test_length_respected(void **state)
{
	static const char doc[] = "{\"a\":1}GARBAGE";
	struct json_object *o;

	(void)state;
	assert_int_equal(json_parse_object(doc, 7, "t", &o), 0);
	json_object_put(o);
	assert_int_equal(json_parse_object(doc, 6, "t", &o), CERTO_EPROTO);
	assert_null(o);
	certo_errclear();
}

/* Strings with a NUL inside are refused rather than cut. */
static void
test_embedded_nul(void **state)
{
	struct json_object *o;
	char *s = NULL;

	(void)state;
	assert_int_equal(parse("{\"a\":\"x\\u0000y\"}", &o), 0);
	assert_int_equal(json_get_str(o, "t", "a", true, 100, &s),
	    CERTO_EPROTO);
	assert_null(s);
	certo_errclear();
	json_object_put(o);
}

/* null counts as missing. */
static void
test_null_member(void **state)
{
	struct json_object *o;
	char *s = NULL;

	(void)state;
	assert_int_equal(parse("{\"a\":null}", &o), 0);
	assert_int_equal(json_get_str(o, "t", "a", false, 100, &s), 0);
	assert_null(s);
	assert_int_equal(json_get_str(o, "t", "a", true, 100, &s),
	    CERTO_EPROTO);
	certo_errclear();
	json_object_put(o);
}

/* json_load_file: a file's object; missing, malformed, too large. */
static void
test_load_file(void **state)
{
	struct json_object *doc = NULL, *v;
	char *dir = tu_tmpdir(), *path = tu_path(dir, "x.json");
	bool missing = false;

	(void)state;
	assert_int_equal(json_load_file(path, 1024, &doc, &missing),
	    CERTO_EIO);
	assert_true(missing);
	assert_null(doc);
	certo_errclear();
	tu_write(path, "{\"a\": 1}\n", 9, 0600);
	assert_int_equal(json_load_file(path, 1024, &doc, &missing), 0);
	assert_false(missing);
	assert_true(json_object_object_get_ex(doc, "a", &v));
	json_object_put(doc);
	assert_int_equal(json_load_file(path, 4, &doc, NULL), CERTO_EIO);
	assert_null(doc);
	certo_errclear();
	unlink(path);
	tu_write(path, "[1]", 3, 0600);
	assert_int_equal(json_load_file(path, 1024, &doc, &missing),
	    CERTO_EPROTO);
	assert_false(missing);
	assert_non_null(strstr(certo_errmsg(), path));
	certo_errclear();
	tu_rmtree(dir);
	free(path);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_account),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_length_respected),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_null_member),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
