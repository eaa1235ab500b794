/* Store URLs (common/kv_url.c): what parses, what not, and the messages. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "kv.h"

static void
ok(const char *url, struct kv_url *u)
{
	certo_errclear();
	if (kv_url_parse(url, u) != 0)
		fail_msg("%s refused: %s", url, certo_errmsg());
}

/* A refused URL: EUSAGE, the message contains want, never the secret. */
static void
bad(const char *url, const char *want)
{
	struct kv_url u;
	const char *msg;

	certo_errclear();
	assert_int_equal(kv_url_parse(url, &u), CERTO_EUSAGE);
	msg = certo_errmsg();
	assert_non_null(msg);
	if (strstr(msg, want) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", url, msg, want);
	assert_null(strstr(msg, "s3cret"));
	assert_null(strchr(msg, '\n'));
	assert_true(tu_printable(msg));
}

static void
test_tcp_forms(void **state)
{
	struct kv_url u;

	(void)state;
	ok("redis://localhost", &u);
	assert_false(u.is_unix);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_false(u.has_auth);
	assert_string_equal(u.shown, "redis://localhost:6379/0");

	ok("redis://127.0.0.1:16379/3", &u);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 16379);
	assert_int_equal(u.db, 3);

	ok("redis://:s3cret@h.example:7000", &u);
	assert_true(u.has_auth);
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "s3cret");
	assert_string_equal(u.shown, "redis://:***@h.example:7000/0");

	ok("redis://certo:s3cret@[::1]:6380/15", &u);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.user, "certo");
	assert_string_equal(u.password, "s3cret");
	assert_int_equal(u.db, 15);
	assert_string_equal(u.shown, "redis://certo:***@[::1]:6380/15");

	/* %XX escapes; the last '@' ends the credentials. */
	ok("redis://a%40b:s3cret%3A%2F@x@host", &u);
	assert_string_equal(u.user, "a@b");
	assert_string_equal(u.password, "s3cret:/@x");
	assert_string_equal(u.host, "host");
	kv_url_wipe(&u);
	assert_string_equal(u.password, "");
}

static void
test_unix_forms(void **state)
{
	struct kv_url u;

	(void)state;
	ok("redis+unix:///run/redis/redis.sock", &u);
	assert_true(u.is_unix);
	assert_string_equal(u.path, "/run/redis/redis.sock");
	assert_int_equal(u.db, 0);
	ok("redis+unix:///tmp/r.sock?db=4", &u);
	assert_int_equal(u.db, 4);
	assert_string_equal(u.shown, "redis+unix:///tmp/r.sock?db=4");
}

static void
test_refused(void **state)
{
	char longpath[200];

	(void)state;
	bad("", "empty");
	bad("http://localhost", "unknown scheme");
	bad("rediss://localhost", "unknown scheme");
	bad("redis://", "empty host");
	bad("redis://:6379", "empty host");
	bad("redis://host:0", "bad port");
	bad("redis://host:65536", "bad port");
	bad("redis://host:12a", "'12a'");
	bad("redis://host:", "bad port");
	bad("redis://host/x", "bad database number");
	bad("redis://host/", "bad database number");
	bad("redis://host/1/2", "'1/2'");
	bad("redis://host?db=1", "unexpected");
	bad("redis://ho st", "bad host");
	bad("redis://user@host", "USER:PASSWORD");
	bad("redis://user:@host", "empty password");
	bad("redis://:s3cret%zz@host", "bad password");
	bad("redis://:s3cret%00@host", "bad password");
	bad("redis://[::1", "']'");
	bad("redis://[::1]x", "after ']'");
	bad("redis://[fe80::g]", "bad IPv6");
	bad("redis+unix://relative.sock", "must be absolute");
	bad("redis+unix:///tmp/r.sock?database=1", "only ?db=N");
	bad("redis+unix:///tmp/r.sock?db=", "bad database number");
	bad("redis+unix:///tmp/r.sock?db=-1", "bad database number");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	{
		char url[300];

		snprintf(url, sizeof(url), "redis+unix://%s", longpath);
		bad(url, "too long");
	}
	bad("redis://h\x01st", "\\x01");
}

static void
test_secret_never_shown(void **state)
{
	/* Every refusal past the credentials keeps the password out. */
	(void)state;
	bad("redis://:s3cret@", "empty host");
	bad("redis://:s3cret@host:99999", "bad port");
	bad("redis://u:s3cret@host/db", "bad database number");
	bad("redis://u:s3cret@h@st:1:2", "bad port");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_forms),
		cmocka_unit_test(test_unix_forms),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_secret_never_shown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
