/* Rate-limit memory (client/ratelimit.h): scoped, expiring, clearable. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "ratelimit.h"

#define CA "ca.example_14000"

static void
test_scoped(void **state)
{
	char *dir = tu_tmpdir();
	char a0[] = "a.example", a1[] = "www.a.example", b0[] = "b.example",
	    m1[] = "WWW.A.example";
	char *a[] = { a0, a1 }, *b[] = { b0 }, *mixed[] = { b0, m1 };
	time_t until, now = time(NULL);
	struct ratelimit *r = NULL;
	size_t n = 0;

	(void)state;
	/* Nothing remembered: nothing blocked. */
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ORDER, a, 2,
	    &until), 0);
	assert_int_equal(until, 0);
	assert_int_equal(ratelimit_add(dir, CA, RATELIMIT_ORDER, a, 2,
	    now + 3600, "the CA refused: too many certificates"), 0);
	/* The limited names are blocked, with the CA's reason... */
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ORDER, a, 2,
	    &until), CERTO_EPROBLEM);
	assert_int_equal(until, now + 3600);
	assert_non_null(strstr(certo_errmsg(), "too many certificates"));
	assert_non_null(strstr(certo_errmsg(), "ratelimit --clear"));
	certo_errclear();
	/* ... so is an order sharing one of them ... */
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ORDER, mixed, 2,
	    NULL), CERTO_EPROBLEM);
	certo_errclear();
	/* ... but not other names, new accounts or another CA. */
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ORDER, b, 1, NULL),
	    0);
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ACCOUNT, NULL, 0,
	    NULL), 0);
	assert_int_equal(ratelimit_check(dir, "other_1", RATELIMIT_ORDER, a, 2,
	    NULL), 0);
	/* An account limit blocks accounts only. */
	assert_int_equal(ratelimit_add(dir, CA, RATELIMIT_ACCOUNT, NULL, 0,
	    now + 60, NULL), 0);
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ACCOUNT, NULL, 0,
	    NULL), CERTO_EPROBLEM);
	certo_errclear();
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ORDER, b, 1, NULL),
	    0);
	/* Both are listed; list's per-certificate lookup finds the first. */
	assert_int_equal(ratelimit_load(dir, CA, &r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ratelimit_for_names(r, n, a, 2), now + 3600);
	assert_int_equal(ratelimit_for_names(r, n, b, 1), 0);
	ratelimit_free_all(r, n);
	/* --clear forgets them. */
	assert_int_equal(ratelimit_clear(dir, CA), 0);
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ORDER, a, 2, NULL),
	    0);
	tu_rmtree(dir);
	free(dir);
}

/* Expired entries are dropped; an older certo's file still reads. */
static void
test_expiry_and_legacy(void **state)
{
	char *dir = tu_tmpdir(), *sub, *path, text[64];
	char a0[] = "a.example";
	char *a[] = { a0 };
	struct ratelimit *r = NULL;
	size_t n = 0;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(ratelimit_add(dir, CA, RATELIMIT_ORDER, a, 1, now - 1,
	    NULL), 0);
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ORDER, a, 1, NULL),
	    0);
	assert_int_equal(ratelimit_load(dir, CA, &r, &n), 0);
	assert_int_equal(n, 0);
	ratelimit_free_all(r, n);
	/* {"until": T} limited every order. */
	sub = tu_path(dir, "ratelimits");
	path = tu_path(sub, CA ".json");
	snprintf(text, sizeof(text), "{\"until\": %lld}\n",
	    (long long)now + 100);
	tu_write(path, text, strlen(text), 0600);
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ORDER, a, 1, NULL),
	    CERTO_EPROBLEM);
	certo_errclear();
	/* A file that is not JSON is no memory, not an error. */
	tu_write(path, "garbage", 7, 0600);
	assert_int_equal(ratelimit_check(dir, CA, RATELIMIT_ORDER, a, 1, NULL),
	    0);
	free(path);
	free(sub);
	tu_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scoped),
		cmocka_unit_test(test_expiry_and_legacy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
