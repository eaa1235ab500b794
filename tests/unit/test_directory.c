/* The directory resource (client/directory.h), RFC 8555 section 7.1.1. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "errors.h"
#include "json.h"

static int
parse(const char *s, struct certo_directory *d)
{
	int rc = directory_parse(s, strlen(s), d);

	certo_errclear();
	return rc;
}

static void
assert_empty(const struct certo_directory *d)
{
	assert_null(d->new_nonce);
	assert_null(d->new_account);
	assert_null(d->new_order);
	assert_null(d->new_authz);
	assert_null(d->revoke_cert);
	assert_null(d->key_change);
	assert_null(d->renewal_info);
	assert_null(d->terms_of_service);
	assert_null(d->website);
}

static void
test_rfc_example(void **state)
{
	struct certo_directory d = { 0 };
	size_t len;
	char *text = tu_fixture("rfc8555-directory.json", &len);

	(void)state;
	assert_int_equal(directory_parse(text, len, &d), 0);
	assert_string_equal(d.new_nonce, "https://example.com/acme/new-nonce");
	assert_string_equal(d.new_account,
	    "https://example.com/acme/new-account");
	assert_string_equal(d.new_order, "https://example.com/acme/new-order");
	assert_string_equal(d.new_authz, "https://example.com/acme/new-authz");
	assert_string_equal(d.revoke_cert,
	    "https://example.com/acme/revoke-cert");
	assert_string_equal(d.key_change,
	    "https://example.com/acme/key-change");
	assert_null(d.renewal_info);
	assert_string_equal(d.terms_of_service,
	    "https://example.com/acme/terms/2017-5-30");
	assert_string_equal(d.website, "https://www.example.com/");
	assert_false(d.eab_required);
	/* Parsing again into the same struct replaces everything. */
	free(text);
	text = tu_fixture("rfc9773-directory.json", &len);
	assert_int_equal(directory_parse(text, len, &d), 0);
	assert_string_equal(d.renewal_info,
	    "https://example.com/acme/renewal-info");
	assert_string_equal(d.terms_of_service,
	    "https://example.com/acme/terms/2021-10-05");
	directory_free(&d);
	assert_empty(&d);
	directory_free(&d);
	directory_free(NULL);
	free(text);
}

/* Optional members may be absent; externalAccountRequired is read. */
static void
test_optional(void **state)
{
	struct certo_directory d = { 0 };
	char *s;

	(void)state;
	s = tu_json_edit("rfc8555-directory.json", "meta", NULL);
	assert_int_equal(parse(s, &d), 0);
	assert_null(d.terms_of_service);
	assert_null(d.website);
	assert_false(d.eab_required);
	free(s);
	s = tu_json_edit("rfc8555-directory.json", "newAuthz", NULL);
	assert_int_equal(parse(s, &d), 0);
	assert_null(d.new_authz);
	free(s);
	s = tu_json_edit("rfc8555-directory.json",
	    "meta.externalAccountRequired", "true");
	assert_int_equal(parse(s, &d), 0);
	assert_true(d.eab_required);
	free(s);
	/* Unknown members are ignored. */
	s = tu_json_edit("rfc8555-directory.json", "x-extension",
	    "\"https://community.letsencrypt.org/\"");
	assert_int_equal(parse(s, &d), 0);
	free(s);
	s = tu_json_edit("rfc8555-directory.json", "meta.profiles",
	    "{\"classic\":\"x\",\"tlsserver\":\"y\"}");
	assert_int_equal(parse(s, &d), 0);
	free(s);
	directory_free(&d);
}

static void
test_missing_required(void **state)
{
	static const char *const req[] = { "newNonce", "newAccount", "newOrder",
		"revokeCert", "keyChange" };

	(void)state;
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		struct certo_directory d = { 0 };
		char *s = tu_json_edit("rfc8555-directory.json", req[i], NULL);
		int rc = directory_parse(s, strlen(s), &d);
		if (rc != CERTO_EPROTO)
			fail_msg("without %s: %s", req[i], certo_errname(rc));
		/* The message names the missing member. */
		assert_non_null(certo_errmsg());
		assert_non_null(strstr(certo_errmsg(), req[i]));
		certo_errclear();
		assert_empty(&d);
		/* null is as good as missing. */
		free(s);
		s = tu_json_edit("rfc8555-directory.json", req[i], "null");
		assert_int_equal(parse(s, &d), CERTO_EPROTO);
		assert_empty(&d);
		free(s);
	}
}

static void
test_wrong_types(void **state)
{
	static const struct {
		const char *path;
		const char *value;
	} v[] = {
		{ "newNonce", "42" },
		{ "newAccount", "[\"https://example.com/acme/new-account\"]" },
		{ "newOrder", "{}" },
		{ "newAuthz", "true" },
		{ "revokeCert", "1.5" },
		{ "keyChange", "false" },
		{ "meta", "\"meta\"" },
		{ "meta", "[]" },
		{ "meta.termsOfService", "[\"https://example.com/tos\"]" },
		{ "meta.website", "1" },
		{ "meta.externalAccountRequired", "\"false\"" },
		{ "meta.externalAccountRequired", "0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_directory d = { 0 };
		char *s = tu_json_edit("rfc8555-directory.json", v[i].path,
		    v[i].value);
		int rc = parse(s, &d);
		if (rc != CERTO_EPROTO)
			fail_msg("%s = %s: %s", v[i].path, v[i].value,
			    certo_errname(rc));
		assert_empty(&d);
		free(s);
	}
}

static void
test_huge(void **state)
{
	struct certo_directory d = { 0 };
	char *big = tu_repeat('a', 100000), *val, *s;
	int rc;

	(void)state;
	assert_int_equal(asprintf(&val, "\"https://example.com/%s\"", big) > 0,
	    1);
	s = tu_json_edit("rfc8555-directory.json", "newNonce", val);
	rc = parse(s, &d);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_empty(&d);
	free(s);
	s = tu_json_edit("rfc8555-directory.json", "meta.termsOfService", val);
	rc = parse(s, &d);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_empty(&d);
	free(s);
	free(val);
	free(big);
	/* A document over the JSON size cap. */
	big = tu_repeat(' ', CERTO_JSON_MAX_SIZE + 1);
	memcpy(big, "{}", 2);
	assert_int_equal(directory_parse(big, strlen(big), &d), CERTO_ETOOBIG);
	certo_errclear();
	free(big);
}

static void
test_not_json(void **state)
{
	static const char *const bad[] = { "", "<html>Bad Gateway</html>",
		"[]", "{\"newNonce\":", "null" };
	struct certo_directory d = { 0 };
	char *text, *s, *deep, *p;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &d), CERTO_EPROTO);
	/* Trailing garbage after the RFC document. */
	text = tu_fixture("rfc8555-directory.json", &len);
	assert_int_equal(asprintf(&s, "%s}", text) > 0, 1);
	assert_int_equal(parse(s, &d), CERTO_EPROTO);
	assert_empty(&d);
	free(s);
	assert_int_equal(asprintf(&s, "%s\n{\"x\":1}", text) > 0, 1);
	assert_int_equal(parse(s, &d), CERTO_EPROTO);
	free(s);
	/* Truncated. */
	assert_int_equal(directory_parse(text, len / 2, &d), CERTO_EPROTO);
	certo_errclear();
	assert_empty(&d);
	/* Nested deeper than CERTO_JSON_MAX_DEPTH in an ignored member. */
	deep = malloc(2 * CERTO_JSON_MAX_DEPTH + 64);
	assert_non_null(deep);
	p = deep;
	for (int i = 0; i < CERTO_JSON_MAX_DEPTH + 1; i++)
		*p++ = '[';
	for (int i = 0; i < CERTO_JSON_MAX_DEPTH + 1; i++)
		*p++ = ']';
	*p = '\0';
	s = tu_json_edit("rfc8555-directory.json", "meta.caaIdentities", deep);
	assert_int_equal(parse(s, &d), CERTO_EPROTO);
	assert_empty(&d);
	free(s);
	free(deep);
	free(text);
}

static void
test_known_cas(void **state)
{
	const char *const *names = directory_names();
	size_t n = 0;

	(void)state;
	assert_non_null(names);
	for (; names[n] != NULL; n++) {
		const char *u = directory_url_for(names[n]);
		assert_non_null(u);
		assert_int_equal(strncmp(u, "https://", 8), 0);
	}
	assert_true(n >= 2);
	assert_string_equal(directory_url_for("letsencrypt"),
	    "https://acme-v02.api.letsencrypt.org/directory");
	assert_non_null(directory_url_for("letsencrypt-staging"));
	assert_null(directory_url_for("nosuchca"));
	assert_null(directory_url_for(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_optional),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_known_cas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
