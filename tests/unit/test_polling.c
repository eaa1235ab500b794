/* One polling model (client/polling.h): bounded in time and in polls. */
#include "testutil.h"

#include <string.h>
#include <time.h>

#include "errors.h"
#include "polling.h"

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000L +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* The backoff starts at POLL_FIRST_BACKOFF_MS (5 ms) and doubles. */
static void
test_backoff(void **state)
{
	struct polling p;
	struct timespec t0;
	long ms;

	(void)state;
	polling_start(&p, "order", 10);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(polling_wait(&p, -1), 0);
	ms = ms_since(&t0);
	/* 5 + 10 + 20 + 40 + 80 */
	assert_true(ms >= 150 && ms < 2000);
	assert_int_equal(p.attempt, 5);
	/* Progress starts the wait anew. */
	polling_progress(&p);
	assert_int_equal(p.attempt, 0);
}

/* A wait without progress ends after POLL_MAX_REQUESTS polls. */
static void
test_max_polls(void **state)
{
	struct polling p;
	int rc = 0;
	unsigned n = 0;

	(void)state;
	polling_start(&p, "authorization", 3600);
	while (n < POLL_MAX_REQUESTS + 5) {
		/* Retry-After 0 keeps the test fast (5 ms floor). */
		if ((rc = polling_wait(&p, 0)) != 0)
			break;
		n++;
	}
	assert_int_equal(rc, CERTO_ETIMEDOUT);
	assert_int_equal(n, POLL_MAX_REQUESTS);
	assert_non_null(strstr(certo_errmsg(), "authorization"));
	assert_non_null(strstr(certo_errmsg(), "--ca-timeout"));
	certo_errclear();
}

/* A wait ends at its deadline; a long Retry-After is cut to it. */
static void
test_deadline(void **state)
{
	struct polling p;
	struct timespec t0;
	int rc;

	(void)state;
	polling_start(&p, "order", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = polling_wait(&p, 3600); /* cut to the 1 s left */
	assert_int_equal(rc, 0);
	rc = polling_wait(&p, 3600);
	if (rc == 0) /* the clock's second may not have turned yet */
		rc = polling_wait(&p, 3600);
	assert_int_equal(rc, CERTO_ETIMEDOUT);
	assert_true(ms_since(&t0) < 3500);
	certo_errclear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_max_polls),
		cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
