/*
 * The TLS-ALPN-01 ClientHello parser (responder/tls_hello.h) on
 * ClientHellos captured from openssl s_client and gnutls-cli
 * (tests/fixtures/tlsalpn-*.hex) and on truncated, fragmented, mutated
 * and hand-built input; and the SNI to identifier mapping.  Pure code:
 * no sockets, no threads.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "hex_fixture.h"
#include "tls_hello.h"
#include "tokens.h"

static const struct {
	const char *file;
	const char *sni;
	int alpn, acme;
} fixtures[] = {
	{ "tlsalpn-openssl-acme.hex", "example.com", 1, 1 },
	{ "tlsalpn-openssl-http11.hex", "www.example.org", 1, 0 },
	{ "tlsalpn-openssl-noalpn.hex", "example.com", 0, 0 },
	{ "tlsalpn-openssl-nosni.hex", "", 1, 1 },
	{ "tlsalpn-openssl-tls12.hex", "example.com", 1, 1 },
	{ "tlsalpn-openssl-multi.hex", "mixed.example.net", 1, 1 },
	{ "tlsalpn-openssl-ip4.hex", "4.3.2.1.in-addr.arpa", 1, 1 },
	{ "tlsalpn-gnutls-acme.hex", "example.com", 1, 1 },
};
#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

/* ---- the parser ---- */

static void
test_parse_fixtures(void **state)
{
	struct tls_hello hello;
	unsigned char *b;
	size_t n;

	(void)state;
	for (size_t i = 0; i < NFIX; i++) {
		b = hex_fixture(fixtures[i].file, &n);
		assert_int_equal(tls_hello_parse(b, n, &hello), 1);
		assert_string_equal(hello.sni, fixtures[i].sni);
		assert_int_equal(hello.alpn, fixtures[i].alpn);
		assert_int_equal(hello.acme, fixtures[i].acme);
		free(b);
	}
}

/* Every proper prefix needs more bytes; none is ever "complete". */
static void
test_parse_truncated(void **state)
{
	struct tls_hello hello;
	unsigned char *b, *c;
	size_t n;

	(void)state;
	for (size_t i = 0; i < NFIX; i++) {
		b = hex_fixture(fixtures[i].file, &n);
		for (size_t k = 0; k < n; k++) {
			/* An exact-size copy, so ASan sees any over-read. */
			c = malloc(k ? k : 1);
			assert_non_null(c);
			memcpy(c, b, k);
			assert_int_equal(tls_hello_parse(c, k, &hello), 0);
			free(c);
		}
		free(b);
	}
}

/* Split the handshake message of a fixture into records of k bytes. */
static unsigned char *
refragment(const unsigned char *b, size_t n, size_t k, size_t *outn)
{
	const unsigned char *hs = b + 5;
	size_t hl = n - 5, o = 0;
	unsigned char *out = malloc(hl + (hl / k + 1) * 5);

	assert_non_null(out);
	assert_int_equal((size_t)(b[3] << 8 | b[4]), hl);
	for (size_t off = 0; off < hl; off += k) {
		size_t m = hl - off < k ? hl - off : k;
		out[o++] = 22;
		out[o++] = 3;
		out[o++] = 1;
		out[o++] = (unsigned char)(m >> 8);
		out[o++] = (unsigned char)m;
		memcpy(out + o, hs + off, m);
		o += m;
	}
	*outn = o;
	return out;
}

static void
test_parse_fragmented(void **state)
{
	static const size_t sizes[] = { 1, 3, 4, 5, 100, 200 };
	struct tls_hello hello;
	unsigned char *b, *f, *c;
	size_t n, fn;

	(void)state;
	b = hex_fixture("tlsalpn-openssl-multi.hex", &n);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		f = refragment(b, n, sizes[i], &fn);
		assert_int_equal(tls_hello_parse(f, fn, &hello), 1);
		assert_string_equal(hello.sni, "mixed.example.net");
		assert_true(hello.acme);
		/* Prefixes of the fragmented form still need more. */
		for (size_t k = 0; k < fn; k += 7) {
			c = malloc(k ? k : 1);
			memcpy(c, f, k);
			assert_int_equal(tls_hello_parse(c, k, &hello), 0);
			free(c);
		}
		free(f);
	}
	/* Bytes after the ClientHello (the next flight) are not looked at. */
	c = malloc(n + 10);
	memcpy(c, b, n);
	memset(c + n, 0xee, 10);
	assert_int_equal(tls_hello_parse(c, n + 10, &hello), 1);
	free(c);
	free(b);
}

/* Each byte changed, each length cut: no crash, no over-read. */
static void
test_parse_mutated(void **state)
{
	static const unsigned char deltas[] = { 0x01, 0x80, 0xff };
	struct tls_hello hello;
	unsigned char *b, *c;
	size_t n;
	int r;

	(void)state;
	for (size_t i = 0; i < NFIX; i++) {
		b = hex_fixture(fixtures[i].file, &n);
		c = malloc(n);
		assert_non_null(c);
		for (size_t k = 0; k < n; k++)
			for (size_t d = 0; d < sizeof(deltas); d++) {
				memcpy(c, b, n);
				c[k] ^= deltas[d];
				r = tls_hello_parse(c, n, &hello);
				assert_true(r == 1 || r == 0 ||
				    r == CERTO_EPROTO || r == CERTO_ETOOBIG);
				assert_true(memchr(hello.sni, '\0',
				    sizeof(hello.sni)) != NULL);
			}
		free(c);
		free(b);
	}
}

/* Random bytes behind a plausible record header. */
static void
test_parse_garbage(void **state)
{
	unsigned char buf[600];
	struct tls_hello hello;
	unsigned seed = 12345;
	int r;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(buf));
		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)rand_r(&seed);
		if (n >= 6 && round % 2 == 0) {
			buf[0] = 22;
			buf[1] = 3;
			buf[3] = (unsigned char)((n - 5) >> 8);
			buf[4] = (unsigned char)(n - 5);
			buf[5] = 1;
		}
		r = tls_hello_parse(buf, n, &hello);
		assert_true(r == 1 || r == 0 || r == CERTO_EPROTO ||
		    r == CERTO_ETOOBIG);
	}
	/* Not TLS: refused from the first byte. */
	assert_int_equal(tls_hello_parse((const unsigned char *)"G", 1,
	    &hello), CERTO_EPROTO);
	assert_int_equal(tls_hello_parse((const unsigned char *)
	    "GET / HTTP/1.1\r\n", 16, &hello), CERTO_EPROTO);
	/* SSLv2-style hello, wrong record type, wrong major version. */
	assert_int_equal(tls_hello_parse((const unsigned char *)
	    "\x80\x2e\x01\x03\x01", 5, &hello), CERTO_EPROTO);
	assert_int_equal(tls_hello_parse((const unsigned char *)
	    "\x17\x03\x03\x00\x10", 5, &hello), CERTO_EPROTO);
	assert_int_equal(tls_hello_parse((const unsigned char *)
	    "\x16\x02", 2, &hello), CERTO_EPROTO);
	assert_int_equal(tls_hello_parse(NULL, 0, &hello), 0);
	assert_int_equal(tls_hello_parse((const unsigned char *)"\x16",
	    1, &hello), 0);
	/* Empty and oversized records, not a client_hello. */
	assert_int_equal(tls_hello_parse((const unsigned char *)
	    "\x16\x03\x01\x00\x00", 5, &hello), CERTO_EPROTO);
	assert_int_equal(tls_hello_parse((const unsigned char *)
	    "\x16\x03\x01\x40\x01", 5, &hello), CERTO_EPROTO);
	assert_int_equal(tls_hello_parse((const unsigned char *)
	    "\x16\x03\x01\x00\x04\x02\x00\x00\x00", 9, &hello), CERTO_EPROTO);
	/* Too big for us: a 16 KiB record, a 64 KiB hello. */
	assert_int_equal(tls_hello_parse((const unsigned char *)
	    "\x16\x03\x01\x40\x00", 5, &hello), CERTO_ETOOBIG);
	assert_int_equal(tls_hello_parse((const unsigned char *)
	    "\x16\x03\x01\x00\x04\x01\x00\xff\xff", 9, &hello), CERTO_ETOOBIG);
}

/* A ClientHello record around the given extensions block (NULL: none). */
static size_t
mk_hello(unsigned char *out, const unsigned char *ext, size_t extlen)
{
	unsigned char body[4096];
	size_t n = 0;

	body[n++] = 3;
	body[n++] = 3;
	memset(body + n, 0xab, 32);
	n += 32;
	body[n++] = 0;
	body[n++] = 0;
	body[n++] = 2;
	body[n++] = 0x13;
	body[n++] = 0x01;
	body[n++] = 1;
	body[n++] = 0;
	if (ext != NULL) {
		body[n++] = (unsigned char)(extlen >> 8);
		body[n++] = (unsigned char)extlen;
		memcpy(body + n, ext, extlen);
		n += extlen;
	}
	out[0] = 22;
	out[1] = 3;
	out[2] = 1;
	out[3] = (unsigned char)((n + 4) >> 8);
	out[4] = (unsigned char)(n + 4);
	out[5] = 1;
	out[6] = 0;
	out[7] = (unsigned char)(n >> 8);
	out[8] = (unsigned char)n;
	memcpy(out + 9, body, n);
	return n + 9;
}

/* Append extension type with data to p; returns the bytes written. */
static size_t
put_ext(unsigned char *p, unsigned type, const void *data, size_t n)
{
	p[0] = (unsigned char)(type >> 8);
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	memcpy(p + 4, data, n);
	return n + 4;
}

/* server_name extension data for one host_name. */
static size_t
sni_data(unsigned char *p, const char *name)
{
	size_t n = strlen(name);

	p[0] = (unsigned char)((n + 3) >> 8);
	p[1] = (unsigned char)(n + 3);
	p[2] = 0;
	p[3] = (unsigned char)(n >> 8);
	p[4] = (unsigned char)n;
	memcpy(p + 5, name, n);
	return n + 5;
}

static int
parse_exts(const unsigned char *ext, size_t n, struct tls_hello *hello)
{
	unsigned char rec[4200];

	return tls_hello_parse(rec, mk_hello(rec, ext, n), hello);
}

static void
test_parse_built(void **state)
{
	static const unsigned char alpn_ok[] = { 0, 14, 10, 'a', 'c', 'm', 'e',
		'-', 't', 'l', 's', '/', '1', 2, 'h', '2' };
	static const unsigned char alpn_empty_proto[] = { 0, 3, 0, 1, 'x' };
	static const unsigned char alpn_badlen[] = { 0, 5, 2, 'h', '2' };
	static const unsigned char alpn_nolist[] = { 0, 0 };
	static const unsigned char alpn_prefix[] = { 0, 10, 9, 'a', 'c', 'm',
		'e', '-', 't', 'l', 's', '/' };
	static const unsigned char sni_two[] = { 0, 8, 0, 0, 1, 'a', 0, 0, 1,
		'b' };
	static const unsigned char sni_other[] = { 0, 4, 1, 0, 1, 'a' };
	static const unsigned char sni_emptyname[] = { 0, 3, 0, 0, 0 };
	static const unsigned char sni_nolist[] = { 0, 0 };
	unsigned char ext[4096], d[1024];
	struct tls_hello hello;
	char longname[300];
	size_t n;

	(void)state;
	/* No extensions at all. */
	assert_int_equal(parse_exts(NULL, 0, &hello), 1);
	assert_string_equal(hello.sni, "");
	assert_false(hello.alpn);
	/* SNI lower-cased, ALPN found among others. */
	n = put_ext(ext, 0, d, sni_data(d, "WWW.Example.COM"));
	n += put_ext(ext + n, 16, alpn_ok, sizeof(alpn_ok));
	n += put_ext(ext + n, 0xfe0d, "xyz", 3);    /* unknown: skipped */
	assert_int_equal(parse_exts(ext, n, &hello), 1);
	assert_string_equal(hello.sni, "www.example.com");
	assert_true(hello.alpn && hello.acme);
	/* Trailing byte after the extensions. */
	ext[n] = 0;
	assert_int_equal(parse_exts(ext, n + 1, &hello), CERTO_EPROTO);
	/* Duplicate SNI or ALPN extensions. */
	n = put_ext(ext, 0, d, sni_data(d, "a.example"));
	n += put_ext(ext + n, 0, d, sni_data(d, "b.example"));
	assert_int_equal(parse_exts(ext, n, &hello), CERTO_EPROTO);
	n = put_ext(ext, 16, alpn_ok, sizeof(alpn_ok));
	n += put_ext(ext + n, 16, alpn_ok, sizeof(alpn_ok));
	assert_int_equal(parse_exts(ext, n, &hello), CERTO_EPROTO);
	/* Malformed ALPN lists. */
	n = put_ext(ext, 16, alpn_empty_proto, sizeof(alpn_empty_proto));
	assert_int_equal(parse_exts(ext, n, &hello), CERTO_EPROTO);
	n = put_ext(ext, 16, alpn_badlen, sizeof(alpn_badlen));
	assert_int_equal(parse_exts(ext, n, &hello), CERTO_EPROTO);
	n = put_ext(ext, 16, alpn_nolist, sizeof(alpn_nolist));
	assert_int_equal(parse_exts(ext, n, &hello), CERTO_EPROTO);
	n = put_ext(ext, 16, alpn_prefix, sizeof(alpn_prefix));
	assert_int_equal(parse_exts(ext, n, &hello), 1);
	assert_true(hello.alpn);
	assert_false(hello.acme);
	/* Malformed server_name lists. */
	n = put_ext(ext, 0, sni_two, sizeof(sni_two));
	assert_int_equal(parse_exts(ext, n, &hello), CERTO_EPROTO);
	n = put_ext(ext, 0, sni_emptyname, sizeof(sni_emptyname));
	assert_int_equal(parse_exts(ext, n, &hello), CERTO_EPROTO);
	n = put_ext(ext, 0, sni_nolist, sizeof(sni_nolist));
	assert_int_equal(parse_exts(ext, n, &hello), CERTO_EPROTO);
	n = put_ext(ext, 0, sni_other, sizeof(sni_other));
	assert_int_equal(parse_exts(ext, n, &hello), 1);
	assert_string_equal(hello.sni, "");
	/* Names that are not LDH, or too long, are no name. */
	n = put_ext(ext, 0, d, sni_data(d, "exa_mple.com"));
	assert_int_equal(parse_exts(ext, n, &hello), 1);
	assert_string_equal(hello.sni, "");
	n = put_ext(ext, 0, d, sni_data(d, "a\0b"));
	assert_int_equal(parse_exts(ext, n, &hello), 1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	n = put_ext(ext, 0, d, sni_data(d, longname));
	assert_int_equal(parse_exts(ext, n, &hello), 1);
	assert_string_equal(hello.sni, "");
	longname[255] = '\0';
	n = put_ext(ext, 0, d, sni_data(d, longname));
	assert_int_equal(parse_exts(ext, n, &hello), 1);
	assert_string_equal(hello.sni, longname);
}

static void
test_sni_ident(void **state)
{
	static const struct {
		const char *sni, *ident;
	} ok[] = {
		{ "4.3.2.1.in-addr.arpa", "1.2.3.4" },
		{ "1.0.0.127.in-addr.arpa", "127.0.0.1" },
		{ "0.0.0.0.in-addr.arpa", "0.0.0.0" },
		{ "255.2.0.192.in-addr.arpa", "192.0.2.255" },
		{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0."
		  "0.2.ip6.arpa", "2001:db8::1" },
		{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
		  "0.0.ip6.arpa", "::1" },
		{ "f.e.d.c.b.a.9.8.7.6.5.4.3.2.1.0.f.e.d.c.b.a.9.8.7.6.5.4.3.2."
		  "1.0.ip6.arpa", "123:4567:89ab:cdef:123:4567:89ab:cdef" },
		{ "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0."
		  "0.2.ip6.arpa", "2001:db8::" },
		{ "example.com", "example.com" },
		{ "in-addr.arpa", "in-addr.arpa" },
	};
	static const char *bad[] = {
		"04.3.2.1.in-addr.arpa", "256.3.2.1.in-addr.arpa",
		"3.2.1.in-addr.arpa", "5.4.3.2.1.in-addr.arpa",
		".3.2.1.in-addr.arpa", "4..2.1.in-addr.arpa",
		"a.3.2.1.in-addr.arpa", "1234.3.2.1.in-addr.arpa",
		".in-addr.arpa",
		"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
		"ip6.arpa",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
		"0.ip6.arpa",
		"g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
		"ip6.arpa",
		"10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
		"ip6.arpa",
		"1.2.3.4", "",
	};
	char out[TOKENS_MAX_IDENT + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(tls_hello_sni_ident(ok[i].sni, out, sizeof(out)),
		    0);
		assert_string_equal(out, ok[i].ident);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tls_hello_sni_ident(bad[i], out, sizeof(out)),
		    CERTO_EIDENT);
	assert_int_equal(tls_hello_sni_ident("example.com", out, 11),
	    CERTO_EIDENT);
	assert_int_equal(tls_hello_sni_ident("4.3.2.1.in-addr.arpa", out, 7),
	    CERTO_EIDENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fixtures),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_fragmented),
		cmocka_unit_test(test_parse_mutated),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_parse_built),
		cmocka_unit_test(test_sni_ident),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
