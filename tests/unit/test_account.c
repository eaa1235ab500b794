/* The account directory name of a CA (client/account.h). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "errors.h"

static void
test_ca_id(void **state)
{
	static const struct {
		const char *url;
		const char *id;
	} v[] = {
		{ "https://acme-v02.api.letsencrypt.org/directory",
		  "acme-v02.api.letsencrypt.org" },
		{ "https://localhost:14000/dir", "localhost_14000" },
		{ "http://127.0.0.1:4001/directory", "127.0.0.1_4001" },
		{ "https://[::1]:14000/dir", "[::1]_14000" },
		{ "https://acme.example/dir?x=1#frag", "acme.example" },
		{ "https://user:pw@acme.example/dir", "acme.example" },
		/* The default port is not a different CA. */
		{ "https://acme.example:443/dir", "acme.example" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *id = NULL;
		int rc = account_ca_id(v[i].url, &id);
		if (rc != 0)
			fail_msg("%s: %s", v[i].url, certo_errname(rc));
		if (strcmp(id, v[i].id) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", v[i].url, id,
			    v[i].id);
		free(id);
	}
}

/* The id becomes a directory name: never a path or a traversal. */
static void
test_ca_id_safe(void **state)
{
	static const char *const urls[] = {
		"https://a%2fb.example/dir",
		"https://..%2f..%2fetc/dir",
		"https://%2e%2e/dir",
		"https://x.example%00y/dir",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		char *id = NULL;
		int rc = account_ca_id(urls[i], &id);
		if (rc == 0) {
			assert_null(strchr(id, '/'));
			assert_string_not_equal(id, ".");
			assert_string_not_equal(id, "..");
			assert_true(tu_printable(id));
		} else {
			assert_null(id);
		}
		free(id);
		certo_errclear();
	}
	{
		static const char *const bad[] = { "", "not a url",
			"https://", "://example.com/" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char *id = NULL;
			if (account_ca_id(bad[i], &id) == 0)
				fail_msg("\"%s\" gave \"%s\"", bad[i], id);
			assert_null(id);
			certo_errclear();
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_id),
		cmocka_unit_test(test_ca_id_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
