/* request_retry_after (client/request.h): Retry-After of a response. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "request.h"

static long
retry_after(const char *v, long cap)
{
	struct http_resp r;
	long s;

	memset(&r, 0, sizeof(r));
	r.retry_after = v ? strdup(v) : NULL;
	s = request_retry_after(&r, cap);
	free(r.retry_after);
	return s;
}

static void
test_retry_after(void **state)
{
	char date[64];
	time_t later = time(NULL) + 600;
	struct tm tm;
	long s;

	(void)state;
	assert_int_equal(retry_after(NULL, 120), -1);
	assert_int_equal(retry_after("garbage", 120), -1);
	assert_int_equal(retry_after("", 120), -1);
	assert_int_equal(retry_after("30", 120), 30);
	assert_int_equal(retry_after("0", 120), 0);
	/* Capped. */
	assert_int_equal(retry_after("86400", 120), 120);
	assert_int_equal(retry_after("99999999999999999999", 3600), 3600);
	/* An HTTP-date ten minutes ahead. */
	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	s = retry_after(date, 3600);
	assert_in_range(s, 598, 600);
	assert_int_equal(retry_after(date, 60), 60);
	assert_int_equal(retry_after("Thu, 01 Jan 1970 00:00:00 GMT", 60), 0);
	certo_errclear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
