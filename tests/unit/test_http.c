/* common/http.h: Retry-After parsing, host:port keys, the system bundle. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "http.h"

/* 2015-10-21T07:28:00Z, the RFC 9110 example date. */
#define T_2015 ((time_t)1445412480)

static void
test_delta_seconds(void **state)
{
	long s;

	(void)state;
	s = -1;
	assert_int_equal(http_parse_retry_after("120", T_2015, &s), 0);
	assert_int_equal(s, 120);
	s = -1;
	assert_int_equal(http_parse_retry_after("0", T_2015, &s), 0);
	assert_int_equal(s, 0);
	s = -1;
	assert_int_equal(http_parse_retry_after("86400", time(NULL), &s), 0);
	assert_int_equal(s, 86400);
}

static void
test_http_date(void **state)
{
	long s = -1;

	(void)state;
	/* IMF-fixdate, 120 s after now. */
	assert_int_equal(http_parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT",
	    T_2015, &s), 0);
	assert_int_equal(s, 120);
	/* In the past: no waiting, not negative. */
	s = -1;
	assert_int_equal(http_parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT",
	    T_2015, &s), 0);
	assert_int_equal(s, 0);
	s = -1;
	assert_int_equal(http_parse_retry_after("Thu, 01 Jan 1970 00:00:01 GMT",
	    T_2015, &s), 0);
	assert_int_equal(s, 0);
	/* Exactly now. */
	s = -1;
	assert_int_equal(http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
	    T_2015, &s), 0);
	assert_int_equal(s, 0);
	/* The obsolete RFC 850 and asctime forms are still HTTP-dates. */
	s = -1;
	assert_int_equal(http_parse_retry_after(
	    "Wednesday, 21-Oct-15 07:29:00 GMT", T_2015, &s), 0);
	assert_int_equal(s, 60);
	s = -1;
	assert_int_equal(http_parse_retry_after("Wed Oct 21 07:38:00 2015",
	    T_2015, &s), 0);
	assert_int_equal(s, 600);
	/* Relative to the real clock, one hour ahead. */
	{
		time_t now = time(NULL), later = now + 3600;
		char buf[64];
		struct tm tm;
		gmtime_r(&later, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		s = -1;
		assert_int_equal(http_parse_retry_after(buf, now, &s), 0);
		assert_int_equal(s, 3600);
	}
}

static void
test_garbage(void **state)
{
	static const char *const bad[] = {
		"", "abc", "-1", "-120", "12abc", "1.5", "0x10", "soon", "120 s",
		"Wed, 32 Foo 2015 99:99:99 GMT", "\x01", "+5",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long s = 4242;
		int rc = http_parse_retry_after(bad[i], T_2015, &s);
		if (rc != CERTO_EPROTO)
			fail_msg("\"%s\": %s (secs %ld), want EPROTO", bad[i],
			    certo_errname(rc), s);
		assert_int_equal(s, 4242);
	}
	{
		long s = 4242;
		assert_int_equal(http_parse_retry_after(NULL, T_2015, &s),
		    CERTO_EPROTO);
	}
	certo_errclear();
}

/* A huge delta must not wrap to a negative wait. */
static void
test_huge(void **state)
{
	long s = -1;
	int rc;

	(void)state;
	rc = http_parse_retry_after("99999999999999999999999999", T_2015, &s);
	if (rc == 0)
		assert_true(s >= 0);
	else
		assert_int_equal(rc, CERTO_EPROTO);
	certo_errclear();
}

/* host:port keys (trust pins, cache registrations): default ports kept. */
static void
test_host_port(void **state)
{
	static const char *const cases[][2] = {
		{ "https://ca.test/dir", "ca.test:443" },
		{ "https://ca.test:14000/dir", "ca.test:14000" },
		{ "http://127.0.0.1/x", "127.0.0.1:80" },
		{ "https://[::1]:8443/", "[::1]:8443" },
	};
	char *hp;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hp = http_host_port(cases[i][0]);
		assert_non_null(hp);
		assert_string_equal(hp, cases[i][1]);
		free(hp);
	}
	assert_null(http_host_port("not a url"));
}

/* $CERTO_SYSTEM_BUNDLE stands in the system bundle; --ca-bundle stays. */
static void
test_system_bundle(void **state)
{
	struct http_opts opts = { 0 };
	struct certo_http http;

	(void)state;
	assert_int_equal(setenv("CERTO_SYSTEM_BUNDLE", "/x/bundle.pem", 1), 0);
	assert_int_equal(http_init(&http, &opts), 0);
	assert_string_equal(http.system_bundle, "/x/bundle.pem");
	assert_null(http.opts.cache_dir);
	assert_int_equal(http.opts.connect_timeout_ms, 10000);
	http_free(&http);
	assert_int_equal(setenv("CERTO_SYSTEM_BUNDLE", "", 1), 0);
	assert_int_equal(http_init(&http, &opts), 0);
	if (http.system_bundle != NULL)
		assert_int_equal(strncmp(http.system_bundle, "/etc/", 5), 0);
	http_free(&http);
	http_free(&http);
	unsetenv("CERTO_SYSTEM_BUNDLE");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_seconds),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_host_port),
		cmocka_unit_test(test_system_bundle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
