/* log_sanitize (common/log.h): printable output, cuts, no overflow. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static void
test_plain(void **state)
{
	char out[64];

	(void)state;
	assert_ptr_equal(log_sanitize(out, sizeof(out), "example.org", (size_t)-1),
	    out);
	assert_string_equal(out, "example.org");
	log_sanitize(out, sizeof(out), "", (size_t)-1);
	assert_string_equal(out, "");
	/* n limits the input; embedded NULs are escaped. */
	log_sanitize(out, sizeof(out), "abcdef", 3);
	assert_string_equal(out, "abc");
	log_sanitize(out, sizeof(out), "a\0b", 3);
	assert_string_equal(out, "a\\x00b");
}

static void
test_control_chars(void **state)
{
	char out[128];

	(void)state;
	log_sanitize(out, sizeof(out), "bad\nline\r\x1b[31mred\x7f\t",
	    (size_t)-1);
	assert_string_equal(out, "bad\\x0aline\\x0d\\x1b[31mred\\x7f\\x09");
	assert_true(tu_printable(out));
	/* Non-ASCII bytes too. */
	log_sanitize(out, sizeof(out), "b\xc3\xbc" "cher", (size_t)-1);
	assert_string_equal(out, "b\\xc3\\xbccher");
	/* A backslash cannot forge an escape. */
	log_sanitize(out, sizeof(out), "\\x0a", (size_t)-1);
	assert_string_not_equal(out, "\\x0a");
	assert_true(tu_printable(out));
}

static void
test_truncation(void **state)
{
	char out[16];

	(void)state;
	log_sanitize(out, sizeof(out), "0123456789abcdefghij", (size_t)-1);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_string_equal(out, "0123456789ab...");
	/* Exactly fitting: no dots. */
	log_sanitize(out, sizeof(out), "0123456789abcde", (size_t)-1);
	assert_string_equal(out, "0123456789abcde");
	/* Cut among escapes. */
	log_sanitize(out, sizeof(out), "\n\n\n\n\n\n\n\n", (size_t)-1);
	assert_true(strlen(out) <= sizeof(out) - 1);
	assert_true(tu_printable(out));
	assert_string_equal(out + strlen(out) - 3, "...");
}

/*
 * Every dstlen from 1 to 10 on inputs that do and do not fit, with
 * guard bytes around dst: nothing written outside, always terminated.
 */
static void
test_never_overflows(void **state)
{
	static const char *const in[] = { "", "a", "abc", "abcdefghijklmnop",
		"\n", "\x1b\x1b\x1b\x1b", "ab\ncd\x01" "ef", "\\\\\\\\\\" };

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		for (size_t dstlen = 1; dstlen <= 10; dstlen++) {
			char mem[32];
			char *dst = mem + 8;
			memset(mem, 'G', sizeof(mem));
			log_sanitize(dst, dstlen, in[i], (size_t)-1);
			for (size_t j = 0; j < 8; j++)
				assert_int_equal(mem[j], 'G');
			for (size_t j = 8 + dstlen; j < sizeof(mem); j++)
				if (mem[j] != 'G')
					fail_msg("input %zu dstlen %zu: byte %zu "
					    "written", i, dstlen, j - 8);
			assert_non_null(memchr(dst, '\0', dstlen));
			assert_true(strlen(dst) < dstlen);
			assert_true(tu_printable(dst));
		}
	/* dstlen 0 writes nothing at all. */
	{
		char g = 'G';
		log_sanitize(&g, 0, "abc", (size_t)-1);
		assert_int_equal(g, 'G');
	}
}

/* NULL input is shown, not dereferenced. */
static void
test_null(void **state)
{
	char out[16];

	(void)state;
	log_sanitize(out, sizeof(out), NULL, (size_t)-1);
	assert_true(tu_printable(out));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_never_overflows),
		cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
