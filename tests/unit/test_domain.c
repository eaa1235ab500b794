/* Hostname validation and IDN normalisation (common/domain.h). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "errors.h"

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_valid_names(void **state)
{
	static const char *const good[] = {
		"example.com", "www.example.org", "a.b", "xn--bcher-kva.example",
		"a-b.c-d.test", "0.example", "123.example.com", "x1.test",
		"a--b.test", "ex.co.uk",
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = NULL;
		if (!domain_valid(good[i], false, &why))
			fail_msg("\"%s\" refused: %s", good[i], why);
		assert_true(domain_valid(good[i], true, NULL));
	}
}

static void
test_invalid_names(void **state)
{
	static const char *const bad[] = {
		"", ".", "bad..name", ".example.com", "example.com.", "-x.test",
		"x-.test", "x.-test", "localhost", "com", "exa mple.com",
		"exa_mple.com", "Example.com", "b\xc3\xbc" "cher.example",
		"example.123", "1.2.3.4", "a.b.c.0", "*", "*.", "*.com",
		"a.*.b.com", "a*.example.com", "*a.example.com",
		"*.*.example.com", "example.com/", "ex:ample.com",
		"example.com\n", "exa\x01mple.com",
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (domain_valid(bad[i], true, &why))
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(why);
		assert_false(domain_valid(bad[i], false, NULL));
	}
}

/* 63-octet labels and 253-octet names are the limits. */
static void
test_lengths(void **state)
{
	char *l63 = repeat('a', 63), *l64 = repeat('a', 64), *name;
	const char *why;

	(void)state;
	assert_int_equal(asprintf(&name, "%s.test", l63) > 0, 1);
	assert_true(domain_valid(name, false, NULL));
	free(name);
	assert_int_equal(asprintf(&name, "%s.test", l64) > 0, 1);
	assert_false(domain_valid(name, false, &why));
	free(name);
	assert_int_equal(asprintf(&name, "test.%s", l64) > 0, 1);
	assert_false(domain_valid(name, false, NULL));
	free(name);
	/* 4 x 63 + 3 dots = 255; cut to 253 and 254 bytes. */
	assert_int_equal(asprintf(&name, "%s.%s.%s.%s", l63, l63, l63, l63) >
	    0, 1);
	name[253] = '\0';
	assert_int_equal(strlen(name), 253);
	assert_true(domain_valid(name, false, NULL));
	name[253] = 'a';
	name[254] = '\0';
	assert_false(domain_valid(name, false, &why));
	/* The wildcard prefix counts too. */
	name[253] = '\0';
	{
		char *w;
		assert_int_equal(asprintf(&w, "*.%s", name + 2) > 0, 1);
		assert_int_equal(strlen(w), 253);
		assert_true(domain_valid(w, true, NULL));
		free(w);
		assert_int_equal(asprintf(&w, "*.%s", name) > 0, 1);
		assert_false(domain_valid(w, true, NULL));
		free(w);
	}
	free(name);
	free(l63);
	free(l64);
}

static void
test_wildcard(void **state)
{
	char *out = NULL;

	(void)state;
	assert_true(domain_valid("*.example.com", true, NULL));
	assert_false(domain_valid("*.example.com", false, NULL));
	assert_false(domain_valid("a.*.b.com", true, NULL));
	assert_int_equal(domain_normalize("*.Example.COM", true, &out), 0);
	assert_string_equal(out, "*.example.com");
	free(out);
	out = NULL;
	assert_int_equal(domain_normalize("*.example.com", false, &out),
	    CERTO_EIDENT);
	assert_null(out);
	assert_int_equal(domain_normalize("a.*.b.com", true, &out),
	    CERTO_EIDENT);
	assert_null(out);
	certo_errclear();
	/* IDN under a wildcard. */
	assert_int_equal(domain_normalize("*.b\xc3\xbc" "cher.example", true,
	    &out), 0);
	assert_string_equal(out, "*.xn--bcher-kva.example");
	free(out);
}

static void
test_normalize(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} v[] = {
		{ "example.com", "example.com" },
		{ "WWW.Example.ORG", "www.example.org" },
		{ "example.com.", "example.com" },
		{ "Example.COM.", "example.com" },
		{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
		{ "B\xc3\x9c" "CHER.example", "xn--bcher-kva.example" },
		{ "b\xc3\xbc" "cher.example.", "xn--bcher-kva.example" },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
		{ "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
		  "xn--r8jz45g.xn--zckzah" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *out = NULL;
		int rc = domain_normalize(v[i].in, false, &out);
		if (rc != 0)
			fail_msg("\"%s\": %s: %s", v[i].in, certo_errname(rc),
			    certo_errmsg() ? certo_errmsg() : "");
		assert_string_equal(out, v[i].out);
		free(out);
	}
}

static void
test_normalize_refused(void **state)
{
	static const char *const bad[] = {
		"", ".", "example.com..", "bad..name", "-x.test", "x-.test",
		"localhost", "localhost.", "example.123", "exa_mple.com",
		"a b.com", "*.example.com", "exa\nmple.com", "\xff\xfe.com",
		"b\xc3\xbc" "cher", "..", "example.com/../x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		int rc = domain_normalize(bad[i], false, &out);
		if (rc != CERTO_EIDENT)
			fail_msg("\"%s\": %s, want EIDENT", bad[i],
			    certo_errname(rc));
		assert_null(out);
		/* The message names the input, made printable. */
		assert_non_null(certo_errmsg());
		assert_true(tu_printable(certo_errmsg()));
		certo_errclear();
	}
}

/* The 64-char label and 254-char name through domain_normalize. */
static void
test_normalize_lengths(void **state)
{
	char *l63 = repeat('A', 63), *name, *out = NULL;

	(void)state;
	assert_int_equal(asprintf(&name, "%s.%s.%s.%s", l63, l63, l63, l63) >
	    0, 1);
	name[253] = '\0';
	assert_int_equal(domain_normalize(name, false, &out), 0);
	assert_int_equal(strlen(out), 253);
	free(out);
	out = NULL;
	/* 253 + trailing dot is still 253. */
	name[253] = '.';
	name[254] = '\0';
	assert_int_equal(domain_normalize(name, false, &out), 0);
	assert_int_equal(strlen(out), 253);
	free(out);
	out = NULL;
	name[253] = 'a';
	assert_int_equal(domain_normalize(name, false, &out), CERTO_EIDENT);
	assert_null(out);
	certo_errclear();
	free(name);
	assert_int_equal(asprintf(&name, "%sA.test", l63) > 0, 1);
	assert_int_equal(domain_normalize(name, false, &out), CERTO_EIDENT);
	assert_null(out);
	certo_errclear();
	free(name);
	free(l63);
}

/* ident_classify: the one place that tells addresses from names. */
static void
test_classify(void **state)
{
	unsigned char ip[16];
	size_t n = 0;

	(void)state;
	assert_int_equal(ident_classify("192.0.2.1", false, ip, &n), IDENT_IPV4);
	assert_int_equal(n, 4);
	assert_int_equal(ip[0], 192);
	assert_int_equal(ident_classify("2001:db8::1", false, ip, &n),
	    IDENT_IPV6);
	assert_int_equal(n, 16);
	assert_int_equal(ident_classify("example.com", false, NULL, NULL),
	    IDENT_DNS);
	assert_int_equal(ident_classify("*.example.com", true, NULL, NULL),
	    IDENT_DNS);
	assert_int_equal(ident_classify("*.example.com", false, NULL, NULL),
	    IDENT_INVALID);
	assert_int_equal(ident_classify("192.0.2.256", false, NULL, NULL),
	    IDENT_INVALID); /* one label: not a name either */
	assert_int_equal(ident_classify("a/b.example", false, NULL, NULL),
	    IDENT_INVALID);
	assert_int_equal(ident_classify(NULL, false, NULL, NULL),
	    IDENT_INVALID);
	assert_true(ident_same_ip("2001:0db8:0::1", "2001:db8::1"));
	assert_true(ident_same_ip("192.0.2.1", "192.0.2.1"));
	assert_false(ident_same_ip("192.0.2.1", "::ffff:192.0.2.1"));
	assert_false(ident_same_ip("example.com", "example.com"));
	assert_true(ident_is_ip("192.0.2.1"));
	assert_true(ident_is_ip("::1"));
	assert_false(ident_is_ip("example.com"));
	assert_false(ident_is_ip("192.0.2.256"));
	assert_false(ident_is_ip(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_refused),
		cmocka_unit_test(test_normalize_lengths),
		cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
