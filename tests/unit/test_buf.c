/* The capped buffer (common/buf.h). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"

static void
test_add_and_cap(void **state)
{
	struct certo_buf b;

	(void)state;
	buf_init(&b, 10);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_adds(&b, "hello"), 0);
	assert_string_equal(b.data, "hello");
	assert_int_equal(buf_add(&b, "world", 5), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	/* Full: one more byte is refused and nothing changes. */
	assert_int_equal(buf_add(&b, "!", 1), CERTO_ETOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	assert_int_equal(buf_add(&b, "", 0), 0);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	/* Huge n cannot wrap around the cap check. */
	assert_int_equal(buf_add(&b, "x", (size_t)-1), CERTO_ETOOBIG);
	assert_int_equal(buf_add(&b, "x", (size_t)-1 - 5), CERTO_ETOOBIG);
	buf_free(&b);
	assert_null(b.data);
	buf_free(&b);
	buf_free(NULL);
}

static void
test_printf_and_steal(void **state)
{
	struct certo_buf b;
	char *s, big[2000];

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(buf_printf(&b, "%s=%d", "n", 42), 0);
	assert_string_equal(b.data, "n=42");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 4 + 2 + sizeof(big) - 1);
	assert_int_equal(buf_printf(&b, "%s%s%s", big, big, big),
	    CERTO_ETOOBIG);
	s = buf_steal(&b);
	assert_non_null(s);
	assert_int_equal(strncmp(s, "n=42[xxx", 8), 0);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	/* Stealing from an empty buffer gives "". */
	s = buf_steal(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	buf_free(&b);
}

/* Growth across many reallocations keeps the content. */
static void
test_growth(void **state)
{
	struct certo_buf b;

	(void)state;
	buf_init(&b, 100000);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_add(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 100000);
	assert_int_equal(buf_add(&b, "x", 1), CERTO_ETOOBIG);
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(b.data[i], '0' + (int)(i % 10));
	assert_int_equal(b.data[b.len], '\0');
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_cap),
		cmocka_unit_test(test_printf_and_steal),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
