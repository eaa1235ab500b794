/* The error table and the first-error-wins message (common/errors.h). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"

static const int all[] = {
#define XX(name, code, msg) CERTO_##name,
	CERTO_ERROR_MAP(XX)
#undef XX
};
#define NALL (sizeof(all) / sizeof(all[0]))

/* The documented exit codes of certo(1). */
static const int exits[] = {
	CERTO_EXIT_USAGE, CERTO_EXIT_CA, CERTO_EXIT_NET, CERTO_EXIT_LOCAL,
	CERTO_EXIT_SELFCHECK, CERTO_EXIT_INTR,
#ifdef CERTO_EXIT_DNSWAIT
	CERTO_EXIT_DNSWAIT,
#endif
#ifdef CERTO_EXIT_HOOK
	CERTO_EXIT_HOOK,
#endif
	CERTO_EXIT_NOKEY, CERTO_EXIT_PENDING,
	CERTO_EXIT_STORE, CERTO_EXIT_STOREAUTH,
};

static int
documented_exit(int ex)
{
	for (size_t i = 0; i < sizeof(exits) / sizeof(exits[0]); i++)
		if (exits[i] == ex)
			return 1;
	return 0;
}

/* The exit codes themselves: distinct, and 1..5 and 130 as documented. */
static void
test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(CERTO_EXIT_OK, 0);
	assert_int_equal(CERTO_EXIT_USAGE, 1);
	assert_int_equal(CERTO_EXIT_CA, 2);
	assert_int_equal(CERTO_EXIT_NET, 3);
	assert_int_equal(CERTO_EXIT_LOCAL, 4);
	assert_int_equal(CERTO_EXIT_SELFCHECK, 5);
	assert_int_equal(CERTO_EXIT_INTR, 130);
	for (size_t i = 0; i < sizeof(exits) / sizeof(exits[0]); i++) {
		assert_true(exits[i] > 0 && exits[i] < 256);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(exits[i], exits[j]);
	}
}

static void
test_table(void **state)
{
	(void)state;
	assert_int_equal(NALL, (size_t)(CERTO_E__LAST - CERTO_E__FIRST - 1));
	for (size_t i = 0; i < NALL; i++) {
		const char *name = certo_errname(all[i]);
		const char *msg = certo_strerror(all[i]);
		int ex = certo_exitcode(all[i]);

		assert_true(all[i] < 0);
		assert_non_null(name);
		assert_non_null(msg);
		assert_true(name[0] == 'E');
		assert_string_not_equal(name, "UNKNOWN");
		assert_true(strlen(msg) > 0);
		assert_string_not_equal(msg, "unknown error");
		if (!documented_exit(ex))
			fail_msg("%s has exit code %d", name, ex);
		/* Distinct names, codes and messages. */
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(all[i], all[j]);
			assert_string_not_equal(name, certo_errname(all[j]));
			assert_string_not_equal(msg, certo_strerror(all[j]));
		}
	}
}

static void
test_known_values(void **state)
{
	(void)state;
	assert_string_equal(certo_errname(CERTO_ENOMEM), "ENOMEM");
	assert_string_equal(certo_errname(CERTO_EKEYPERM), "EKEYPERM");
	assert_string_equal(certo_errname(CERTO_EINTR), "EINTR");
	assert_int_equal(certo_exitcode(CERTO_OK), 0);
	assert_int_equal(certo_exitcode(CERTO_EUSAGE), CERTO_EXIT_USAGE);
	assert_int_equal(certo_exitcode(CERTO_EPROBLEM), CERTO_EXIT_CA);
	assert_int_equal(certo_exitcode(CERTO_ETIMEDOUT), CERTO_EXIT_NET);
	assert_int_equal(certo_exitcode(CERTO_EIO), CERTO_EXIT_LOCAL);
	assert_int_equal(certo_exitcode(CERTO_ESELFCHECK),
	    CERTO_EXIT_SELFCHECK);
	assert_int_equal(certo_exitcode(CERTO_EINTR), CERTO_EXIT_INTR);
	assert_string_equal(certo_strerror(CERTO_EPROTO),
	    "malformed response from the CA");
}

/* Codes outside the table get a name and message, never NULL. */
static void
test_unknown_codes(void **state)
{
	static const int bad[] = { 1, -1, CERTO_E__FIRST, CERTO_E__LAST,
		CERTO_E__FIRST - 1, CERTO_E__LAST + 1, -5000, 12345 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_string_equal(certo_errname(bad[i]), "UNKNOWN");
		assert_non_null(certo_strerror(bad[i]));
		assert_int_not_equal(certo_exitcode(bad[i]), 0);
	}
	assert_string_equal(certo_errname(CERTO_OK), "OK");
	assert_non_null(certo_strerror(CERTO_OK));
}

static void
test_first_error_wins(void **state)
{
	(void)state;
	certo_errclear();
	assert_null(certo_errmsg());
	assert_int_equal(certo_errcode(), 0);
	assert_int_equal(certo_fail(CERTO_EIO, "open %s: %s", "/x/y",
	    "No such file"), CERTO_EIO);
	assert_string_equal(certo_errmsg(), "open /x/y: No such file");
	assert_int_equal(certo_errcode(), CERTO_EIO);
	/* An outer, less specific failure does not overwrite it... */
	assert_int_equal(certo_fail(CERTO_ECONFIG, "loading config"),
	    CERTO_ECONFIG);
	assert_string_equal(certo_errmsg(), "open /x/y: No such file");
	assert_int_equal(certo_errcode(), CERTO_EIO);
	/* ...until cleared. */
	certo_errclear();
	assert_null(certo_errmsg());
	assert_int_equal(certo_errcode(), 0);
	assert_int_equal(certo_fail(CERTO_ENET, "%d", 42), CERTO_ENET);
	assert_string_equal(certo_errmsg(), "42");
	certo_errclear();
}

/* A message longer than the buffer is cut, not overflowed. */
static void
test_long_message(void **state)
{
	char *big = malloc(10000);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 9999);
	big[9999] = '\0';
	certo_errclear();
	assert_int_equal(certo_fail(CERTO_EPROTO, "%s", big), CERTO_EPROTO);
	assert_non_null(certo_errmsg());
	assert_true(strlen(certo_errmsg()) > 100);
	assert_true(strlen(certo_errmsg()) < 9999);
	assert_int_equal(certo_errmsg()[0], 'a');
	certo_errclear();
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_unknown_codes),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_long_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
