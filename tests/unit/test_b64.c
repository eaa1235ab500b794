/* base64url (common/b64.h): RFC 4648 vectors, round trips, rejections. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"

/* RFC 4648 section 10 vectors, without the padding JOSE drops. */
static const struct {
	const char *in;
	const char *out;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg" },
	{ "fo", "Zm8" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg" },
	{ "fooba", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy" },
};

static void
test_rfc4648_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		char *e = b64url_encode(rfc4648[i].in, strlen(rfc4648[i].in));
		assert_non_null(e);
		assert_string_equal(e, rfc4648[i].out);
		free(e);
	}
}

static void
test_rfc4648_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		unsigned char *d = NULL;
		size_t n = 99;
		assert_int_equal(b64url_decode(rfc4648[i].out, &d, &n), 0);
		assert_non_null(d);
		assert_int_equal(n, strlen(rfc4648[i].in));
		assert_memory_equal(d, rfc4648[i].in, n);
		free(d);
	}
}

/* The two characters where base64url differs from base64 (+/ -> -_). */
static void
test_url_alphabet(void **state)
{
	static const unsigned char in[] = { 0xfb, 0xff, 0xbf, 0xfe };
	unsigned char *d;
	size_t n;
	char *e;

	(void)state;
	e = b64url_encode(in, 2);
	assert_string_equal(e, "-_8");
	free(e);
	e = b64url_encode(in, 4);
	assert_string_equal(e, "-_-__g");
	free(e);
	assert_int_equal(b64url_decode("-_-__g", &d, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(d, in, 4);
	free(d);
	/* The standard alphabet's '+' and '/' are not base64url. */
	assert_int_equal(b64url_decode("+/8", &d, &n), CERTO_EPROTO);
	assert_null(d);
}

static void
test_round_trip_random(void **state)
{
	unsigned char buf[100], *d;
	size_t n;

	(void)state;
	srand(8555);
	for (int round = 0; round < 20; round++)
		for (size_t len = 0; len <= sizeof(buf); len++) {
			char *e, *ref;
			for (size_t i = 0; i < len; i++)
				buf[i] = (unsigned char)(rand() & 0xff);
			e = b64url_encode(buf, len);
			assert_non_null(e);
			ref = tu_b64url(buf, len);
			assert_string_equal(e, ref);
			assert_int_equal(strlen(e), (len * 8 + 5) / 6);
			assert_null(strchr(e, '='));
			assert_int_equal(b64url_decode(e, &d, &n), 0);
			assert_int_equal(n, len);
			if (len > 0)
				assert_memory_equal(d, buf, len);
			free(d);
			free(e);
			free(ref);
		}
}

static void
test_reject(void **state)
{
	static const char *const bad[] = {
		"Zm9v=",        /* padding */
		"Zg==",         /* padding */
		"Zm8=",
		"Zm9 v",        /* whitespace */
		"Zm9v\n",
		"Zm9v!",        /* not in the alphabet */
		"Zm.v",
		"Zm9vY",        /* length 1 mod 4 is impossible */
		"A",
		"Zh",           /* non-canonical: trailing bits of 'f' not 0 */
		"Zm9",          /* "fo" is Zm8: low bits set */
		"Zm9vYh",
		"-_9",          /* 0xfb 0xff with a trailing bit set */
		"\xc3\xa9",     /* non-ASCII */
	};
	static unsigned char sentinel[1];
	unsigned char *d;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = sentinel;
		n = 42;
		if (b64url_decode(bad[i], &d, &n) != CERTO_EPROTO)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_null(d);
		assert_int_equal(n, 0);
	}
}

static void
test_valid(void **state)
{
	(void)state;
	assert_true(b64url_valid("DGyRejmCefe7v4NfDGDKfA"));
	assert_true(b64url_valid("a-_Z09"));
	assert_false(b64url_valid(""));
	assert_false(b64url_valid(NULL));
	assert_false(b64url_valid("../etc"));
	assert_false(b64url_valid("a b"));
	assert_false(b64url_valid("abc="));
	assert_false(b64url_valid("a/b"));
	assert_false(b64url_valid("a+b"));
	assert_false(b64url_valid("a\nb"));
	assert_false(b64url_valid("a%2fb"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_encode),
		cmocka_unit_test(test_rfc4648_decode),
		cmocka_unit_test(test_url_alphabet),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
