/* Cache entries in the state directory (common/cache.h). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "errors.h"
#include "file.h"

static void
set_age(const char *path, long age_s)
{
	struct timeval tv[2];

	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - age_s;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	assert_int_equal(utimes(path, tv), 0);
}

/* Names keep [a-z0-9.-] only: no path can come out of a host name. */
static void
test_name(void **state)
{
	char *n;

	(void)state;
	n = cache_name("LocalHost:14000", ".pem");
	assert_string_equal(n, "localhost_14000.pem");
	free(n);
	n = cache_name("../x/[::1]:443", "");
	assert_string_equal(n, "_._x____1__443");
	free(n);
	n = cache_path("/s", "trust", "a.pem");
	assert_string_equal(n, "/s/trust/a.pem");
	free(n);
}

/* Written atomically (0644, directory 0700); read back while fresh. */
static void
test_write_read(void **state)
{
	char *tmp = tu_tmpdir(), *path = cache_path(tmp, "kind", "e.json");
	char *text, *dir = tu_path(tmp, "kind");
	struct stat st;
	size_t len;

	(void)state;
	assert_int_equal(cache_read(path, 0, &text, &len, NULL), -1);
	assert_null(text);
	assert_int_equal(cache_write(path, "{}", 2), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(cache_read(path, 60, &text, &len, &st), 0);
	assert_string_equal(text, "{}");
	assert_int_equal(len, 2);
	free(text);
	/* Too old, or from the future: a miss; any age: a hit. */
	set_age(path, 120);
	assert_int_equal(cache_read(path, 60, &text, &len, NULL), -1);
	assert_int_equal(cache_read(path, 0, &text, &len, NULL), 0);
	free(text);
	set_age(path, -120);
	assert_int_equal(cache_read(path, 60, &text, &len, NULL), -1);
	/* Empty or a directory: a miss.  Nothing is recorded. */
	tu_write(path, "", 0, 0644);
	assert_int_equal(cache_read(path, 0, &text, &len, NULL), -1);
	assert_null(certo_errmsg());
	cache_remove(path);
	assert_false(file_exists(path));
	free(dir);
	free(path);
	tu_rmtree(tmp);
	free(tmp);
}

/*
 * A write removes what a killed writer left (its pid gone, its lock
 * free), never a live writer's file; a failed write records nothing.
 */
static void
test_sweep_and_failure(void **state)
{
	char *tmp = tu_tmpdir(), *dir = tu_path(tmp, "kind");
	char *path = cache_path(tmp, "kind", "e.json"), *dead, *live;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	/* pid 2^22+1 is above pid_max's default: no such process. */
	assert_true(asprintf(&dead, "%s/e.json.tmp.4194305.abcdef", dir) > 0);
	assert_true(asprintf(&live, "%s/e.json.tmp.%d.abcdef", dir,
	    (int)getpid()) > 0);
	tu_write(dead, "x", 1, 0600);
	tu_write(live, "x", 1, 0600);
	assert_int_equal(cache_write(path, "{}", 2), 0);
	assert_false(file_exists(dead));
	assert_true(file_exists(live));
	/* The directory cannot be written: -1, no message left. */
	assert_int_equal(chmod(dir, 0500), 0);
	if (access(dir, W_OK) != 0) {  /* root writes anyway */
		assert_int_equal(cache_write(path, "[]", 2), -1);
		assert_null(certo_errmsg());
	}
	/* A message recorded before stays. */
	certo_fail(CERTO_ENET, "the real cause");
	cache_write("/nonexistent/dir/x", "{}", 2);
	assert_string_equal(certo_errmsg(), "the real cause");
	certo_errclear();
	assert_int_equal(chmod(dir, 0700), 0);
	free(dead);
	free(live);
	free(path);
	free(dir);
	tu_rmtree(tmp);
	free(tmp);
}

/* Entries registered for a host are removed when a request to it fails. */
static void
test_forget_on_error(void **state)
{
	char *tmp = tu_tmpdir(), *a = cache_path(tmp, "k", "a");
	char *b = cache_path(tmp, "k", "b");

	(void)state;
	assert_int_equal(cache_write(a, "1", 1), 0);
	assert_int_equal(cache_write(b, "2", 1), 0);
	cache_forget_on_error("ca.test:443", a);
	cache_forget_on_error("ca.test:443", a);
	cache_forget_on_error("other.test:443", b);
	cache_request_failed("nobody.test:443");
	assert_true(file_exists(a));
	cache_request_failed("ca.test:443");
	assert_false(file_exists(a));
	assert_true(file_exists(b));
	/* Once only: a new copy is not removed by a later failure. */
	assert_int_equal(cache_write(a, "1", 1), 0);
	cache_request_failed("ca.test:443");
	assert_true(file_exists(a));
	cache_cleanup();
	cache_request_failed("other.test:443");
	assert_true(file_exists(b));
	free(a);
	free(b);
	tu_rmtree(tmp);
	free(tmp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_sweep_and_failure),
		cmocka_unit_test(test_forget_on_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
