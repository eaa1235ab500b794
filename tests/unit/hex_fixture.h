/*
 * Hex fixtures for the TLS unit tests (test_tls_hello.c,
 * test_tlsalpn01.c): tests/fixtures/tlsalpn-*.hex hold captured
 * ClientHellos as hex, '#' lines being comments.  Include after
 * testutil.h.
 */
#ifndef CERTO_TEST_HEX_FIXTURE_H
#define CERTO_TEST_HEX_FIXTURE_H

#include <stdlib.h>

/* A hex fixture ('#' lines are comments) as bytes; *n gets the length. */
static inline unsigned char *
hex_fixture(const char *name, size_t *n)
{
	size_t len, o = 0;
	char *t = tu_fixture(name, &len), *p = t;
	unsigned char *b = malloc(len / 2 + 1);
	int hi = -1;

	assert_non_null(b);
	while (*p) {
		if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		int v = *p >= '0' && *p <= '9' ? *p - '0' :
		    *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
		p++;
		if (v < 0)
			continue;
		if (hi < 0)
			hi = v;
		else {
			b[o++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	free(t);
	*n = o;
	return b;
}

#endif
