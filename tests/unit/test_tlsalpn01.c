/*
 * TLS-ALPN-01 responder (responder/tlsalpn01.h): the ClientHello parser
 * on ClientHellos captured from openssl s_client and gnutls-cli
 * (tests/fixtures/tlsalpn-*.hex) and on truncated, fragmented, mutated
 * and hand-built input; the SNI to identifier mapping; then the server
 * on 127.0.0.1 against in-process GnuTLS clients, raw sockets and, in
 * proxy mode, a GnuTLS backend in a thread.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "alpncert.h"
#include "connlimit.h"
#include "errors.h"
#include "tlsalpn01.h"
#include "tokens.h"

#define OID "1.3.6.1.5.5.7.1.31"
#define KEYAUTH "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0." \
	"9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define KEYAUTH2 "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." \
	"9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

/* ---- fixtures ---- */

/* A hex fixture ('#' lines are comments) as bytes; *n gets the length. */
static unsigned char *
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
	struct tlsalpn01_hello h;
	unsigned char *b;
	size_t n;

	(void)state;
	for (size_t i = 0; i < NFIX; i++) {
		b = hex_fixture(fixtures[i].file, &n);
		assert_int_equal(tlsalpn01_parse_hello(b, n, &h), 1);
		assert_string_equal(h.sni, fixtures[i].sni);
		assert_int_equal(h.alpn, fixtures[i].alpn);
		assert_int_equal(h.acme, fixtures[i].acme);
		free(b);
	}
}

/* Every proper prefix needs more bytes; none is ever "complete". */
static void
test_parse_truncated(void **state)
{
	struct tlsalpn01_hello h;
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
			assert_int_equal(tlsalpn01_parse_hello(c, k, &h), 0);
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
	struct tlsalpn01_hello h;
	unsigned char *b, *f, *c;
	size_t n, fn;

	(void)state;
	b = hex_fixture("tlsalpn-openssl-multi.hex", &n);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		f = refragment(b, n, sizes[i], &fn);
		assert_int_equal(tlsalpn01_parse_hello(f, fn, &h), 1);
		assert_string_equal(h.sni, "mixed.example.net");
		assert_true(h.acme);
		/* Prefixes of the fragmented form still need more. */
		for (size_t k = 0; k < fn; k += 7) {
			c = malloc(k ? k : 1);
			memcpy(c, f, k);
			assert_int_equal(tlsalpn01_parse_hello(c, k, &h), 0);
			free(c);
		}
		free(f);
	}
	/* Bytes after the ClientHello (the next flight) are not looked at. */
	c = malloc(n + 10);
	memcpy(c, b, n);
	memset(c + n, 0xee, 10);
	assert_int_equal(tlsalpn01_parse_hello(c, n + 10, &h), 1);
	free(c);
	free(b);
}

/* Each byte changed, each length cut: no crash, no over-read. */
static void
test_parse_mutated(void **state)
{
	static const unsigned char deltas[] = { 0x01, 0x80, 0xff };
	struct tlsalpn01_hello h;
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
				r = tlsalpn01_parse_hello(c, n, &h);
				assert_true(r == 1 || r == 0 ||
				    r == CERTO_EPROTO || r == CERTO_ETOOBIG);
				assert_true(memchr(h.sni, '\0',
				    sizeof(h.sni)) != NULL);
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
	struct tlsalpn01_hello h;
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
		r = tlsalpn01_parse_hello(buf, n, &h);
		assert_true(r == 1 || r == 0 || r == CERTO_EPROTO ||
		    r == CERTO_ETOOBIG);
	}
	/* Not TLS: refused from the first byte. */
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)"G", 1,
	    &h), CERTO_EPROTO);
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)
	    "GET / HTTP/1.1\r\n", 16, &h), CERTO_EPROTO);
	/* SSLv2-style hello, wrong record type, wrong major version. */
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)
	    "\x80\x2e\x01\x03\x01", 5, &h), CERTO_EPROTO);
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)
	    "\x17\x03\x03\x00\x10", 5, &h), CERTO_EPROTO);
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)
	    "\x16\x02", 2, &h), CERTO_EPROTO);
	assert_int_equal(tlsalpn01_parse_hello(NULL, 0, &h), 0);
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)"\x16",
	    1, &h), 0);
	/* Empty and oversized records, not a client_hello. */
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)
	    "\x16\x03\x01\x00\x00", 5, &h), CERTO_EPROTO);
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)
	    "\x16\x03\x01\x40\x01", 5, &h), CERTO_EPROTO);
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)
	    "\x16\x03\x01\x00\x04\x02\x00\x00\x00", 9, &h), CERTO_EPROTO);
	/* Too big for us: a 16 KiB record, a 64 KiB hello. */
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)
	    "\x16\x03\x01\x40\x00", 5, &h), CERTO_ETOOBIG);
	assert_int_equal(tlsalpn01_parse_hello((const unsigned char *)
	    "\x16\x03\x01\x00\x04\x01\x00\xff\xff", 9, &h), CERTO_ETOOBIG);
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
parse_exts(const unsigned char *ext, size_t n, struct tlsalpn01_hello *h)
{
	unsigned char rec[4200];

	return tlsalpn01_parse_hello(rec, mk_hello(rec, ext, n), h);
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
	struct tlsalpn01_hello h;
	char longname[300];
	size_t n;

	(void)state;
	/* No extensions at all. */
	assert_int_equal(parse_exts(NULL, 0, &h), 1);
	assert_string_equal(h.sni, "");
	assert_false(h.alpn);
	/* SNI lower-cased, ALPN found among others. */
	n = put_ext(ext, 0, d, sni_data(d, "WWW.Example.COM"));
	n += put_ext(ext + n, 16, alpn_ok, sizeof(alpn_ok));
	n += put_ext(ext + n, 0xfe0d, "xyz", 3);    /* unknown: skipped */
	assert_int_equal(parse_exts(ext, n, &h), 1);
	assert_string_equal(h.sni, "www.example.com");
	assert_true(h.alpn && h.acme);
	/* Trailing byte after the extensions. */
	ext[n] = 0;
	assert_int_equal(parse_exts(ext, n + 1, &h), CERTO_EPROTO);
	/* Duplicate SNI or ALPN extensions. */
	n = put_ext(ext, 0, d, sni_data(d, "a.example"));
	n += put_ext(ext + n, 0, d, sni_data(d, "b.example"));
	assert_int_equal(parse_exts(ext, n, &h), CERTO_EPROTO);
	n = put_ext(ext, 16, alpn_ok, sizeof(alpn_ok));
	n += put_ext(ext + n, 16, alpn_ok, sizeof(alpn_ok));
	assert_int_equal(parse_exts(ext, n, &h), CERTO_EPROTO);
	/* Malformed ALPN lists. */
	n = put_ext(ext, 16, alpn_empty_proto, sizeof(alpn_empty_proto));
	assert_int_equal(parse_exts(ext, n, &h), CERTO_EPROTO);
	n = put_ext(ext, 16, alpn_badlen, sizeof(alpn_badlen));
	assert_int_equal(parse_exts(ext, n, &h), CERTO_EPROTO);
	n = put_ext(ext, 16, alpn_nolist, sizeof(alpn_nolist));
	assert_int_equal(parse_exts(ext, n, &h), CERTO_EPROTO);
	n = put_ext(ext, 16, alpn_prefix, sizeof(alpn_prefix));
	assert_int_equal(parse_exts(ext, n, &h), 1);
	assert_true(h.alpn);
	assert_false(h.acme);
	/* Malformed server_name lists. */
	n = put_ext(ext, 0, sni_two, sizeof(sni_two));
	assert_int_equal(parse_exts(ext, n, &h), CERTO_EPROTO);
	n = put_ext(ext, 0, sni_emptyname, sizeof(sni_emptyname));
	assert_int_equal(parse_exts(ext, n, &h), CERTO_EPROTO);
	n = put_ext(ext, 0, sni_nolist, sizeof(sni_nolist));
	assert_int_equal(parse_exts(ext, n, &h), CERTO_EPROTO);
	n = put_ext(ext, 0, sni_other, sizeof(sni_other));
	assert_int_equal(parse_exts(ext, n, &h), 1);
	assert_string_equal(h.sni, "");
	/* Names that are not LDH, or too long, are no name. */
	n = put_ext(ext, 0, d, sni_data(d, "exa_mple.com"));
	assert_int_equal(parse_exts(ext, n, &h), 1);
	assert_string_equal(h.sni, "");
	n = put_ext(ext, 0, d, sni_data(d, "a\0b"));
	assert_int_equal(parse_exts(ext, n, &h), 1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	n = put_ext(ext, 0, d, sni_data(d, longname));
	assert_int_equal(parse_exts(ext, n, &h), 1);
	assert_string_equal(h.sni, "");
	longname[255] = '\0';
	n = put_ext(ext, 0, d, sni_data(d, longname));
	assert_int_equal(parse_exts(ext, n, &h), 1);
	assert_string_equal(h.sni, longname);
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
		assert_int_equal(tlsalpn01_sni_ident(ok[i].sni, out, sizeof(out)),
		    0);
		assert_string_equal(out, ok[i].ident);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tlsalpn01_sni_ident(bad[i], out, sizeof(out)),
		    CERTO_EIDENT);
	assert_int_equal(tlsalpn01_sni_ident("example.com", out, 11),
	    CERTO_EIDENT);
	assert_int_equal(tlsalpn01_sni_ident("4.3.2.1.in-addr.arpa", out, 7),
	    CERTO_EIDENT);
}

/* ---- the server ---- */

struct result {
	int ret;                /* handshake result */
	int alert;              /* alert received, -1 if none */
	char alpn[32];          /* negotiated protocol */
	unsigned char *cert;    /* peer certificate, DER (malloc'd) */
	size_t certlen;
	int close_notify;       /* the server closed with close_notify */
	char reply[64];         /* answer to the line sent, if any */
};

static int
connect_port(unsigned short port)
{
	struct sockaddr_in sa;
	struct timeval tv = { 5, 0 };
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/*
 * A GnuTLS client: SNI sni (NULL: none), ALPN alpn (comma-separated,
 * NULL: none), priority prio (NULL: NORMAL); with line, sends it and
 * reads one answer.
 */
static void
client(unsigned short port, const char *sni, const char *alpn,
    const char *prio, const char *line, struct result *r)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	gnutls_datum_t protos[4], sel;
	const gnutls_datum_t *peers;
	char abuf[64], *tok, *save = NULL;
	unsigned np = 0, npeers = 0;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	r->alert = -1;
	fd = connect_port(port);
	assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
	assert_int_equal(gnutls_init(&s, GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_priority_set_direct(s, prio ? prio : "NORMAL",
	    NULL), 0);
	assert_int_equal(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
	    cred), 0);
	if (sni)
		assert_int_equal(gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni,
		    strlen(sni)), 0);
	if (alpn) {
		snprintf(abuf, sizeof(abuf), "%s", alpn);
		for (tok = strtok_r(abuf, ",", &save); tok && np < 4;
		    tok = strtok_r(NULL, ",", &save)) {
			protos[np].data = (unsigned char *)tok;
			protos[np++].size = (unsigned)strlen(tok);
		}
		assert_int_equal(gnutls_alpn_set_protocols(s, protos, np, 0), 0);
	}
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	r->ret = ret;
	if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
		r->alert = (int)gnutls_alert_get(s);
	if (ret == 0) {
		if (gnutls_alpn_get_selected_protocol(s, &sel) == 0 &&
		    sel.size < sizeof(r->alpn))
			memcpy(r->alpn, sel.data, sel.size);
		peers = gnutls_certificate_get_peers(s, &npeers);
		if (peers != NULL && npeers > 0) {
			r->cert = malloc(peers[0].size);
			assert_non_null(r->cert);
			memcpy(r->cert, peers[0].data, peers[0].size);
			r->certlen = peers[0].size;
		}
		if (line) {
			assert_true(gnutls_record_send(s, line, strlen(line)) > 0);
			do
				ret = gnutls_record_recv(s, r->reply,
				    sizeof(r->reply) - 1);
			while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
			assert_true(ret > 0);
		}
		do
			ret = gnutls_record_recv(s, abuf, sizeof(abuf));
		while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
		r->close_notify = ret == 0;
		if (line)
			gnutls_bye(s, GNUTLS_SHUT_WR);
	}
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
}

/* The validation certificate for ident (SAN of type san) and keyauth. */
static void
check_validation_cert(const struct result *r, int san, const void *want,
    size_t wlen, const char *keyauth)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { r->cert, (unsigned)r->certlen }, v;
	unsigned char hash[34];
	char buf[300];
	size_t n = sizeof(buf);
	unsigned crit = 0;

	assert_non_null(r->cert);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER),
	    0);
	assert_int_equal(gnutls_x509_crt_get_subject_alt_name(crt, 0, buf, &n,
	    NULL), san);
	assert_int_equal(n, wlen);
	assert_memory_equal(buf, want, wlen);
	n = sizeof(buf);
	assert_int_equal(gnutls_x509_crt_get_subject_alt_name(crt, 1, buf, &n,
	    NULL), GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
	hash[0] = 0x04;
	hash[1] = 0x20;
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth,
	    strlen(keyauth), hash + 2), 0);
	assert_int_equal(gnutls_x509_crt_get_extension_by_oid2(crt, OID, 0, &v,
	    &crit), 0);
	assert_int_equal(crit, 1);
	assert_int_equal(v.size, sizeof(hash));
	assert_memory_equal(v.data, hash, sizeof(hash));
	gnutls_free(v.data);
	gnutls_x509_crt_deinit(crt);
}

static void
result_free(struct result *r)
{
	free(r->cert);
	r->cert = NULL;
}

struct fix {
	struct token_table tokens;
	struct tlsalpn01_server *srv;
	unsigned short port;
};

static void
fix_start_ip(struct fix *f, const char *proxy, unsigned max_conns,
    unsigned max_per_ip, int rsa)
{
	struct tlsalpn01_opts o;

	memset(&o, 0, sizeof(o));
	o.addr = "127.0.0.1";
	o.timeout_s = 2;
	o.proxy = proxy;
	o.max_conns = max_conns;
	o.max_per_ip = max_per_ip;
	o.rsa = rsa;
	assert_int_equal(tokens_init(&f->tokens, 0, 0), 0);
	assert_int_equal(tokens_add(&f->tokens, TOKEN_TLSALPN01, "example.com",
	    "tok1", KEYAUTH), 0);
	/* Same identifier, other challenge type: never used here. */
	assert_int_equal(tokens_add(&f->tokens, TOKEN_HTTP01, "other.example",
	    "tok2", KEYAUTH2), 0);
	assert_int_equal(tlsalpn01_start(&o, &f->tokens, &f->srv), 0);
	f->port = tlsalpn01_port(f->srv);
	assert_true(f->port != 0);
}

static void
fix_start(struct fix *f, const char *proxy, unsigned max_conns, int rsa)
{
	fix_start_ip(f, proxy, max_conns, 0, rsa);
}

static void
fix_stop(struct fix *f)
{
	tlsalpn01_stop(f->srv);
	tokens_free(&f->tokens);
	memset(f, 0, sizeof(*f));
}

/* The server of the current test (static: it outlives a failed test). */
static struct fix F;

static void
expect_validation(unsigned short port, const char *sni, const char *prio,
    const char *keyauth, struct result *r)
{
	client(port, sni, "acme-tls/1", prio, NULL, r);
	assert_int_equal(r->ret, 0);
	assert_string_equal(r->alpn, "acme-tls/1");
	assert_true(r->close_notify);
	check_validation_cert(r, GNUTLS_SAN_DNSNAME, "example.com", 11,
	    keyauth);
}

static void
test_serve(void **state)
{
	struct result r, r2;

	(void)state;
	fix_start(&F, NULL, 0, 0);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	/* SNI is case-insensitive; TLS 1.2 works too. */
	expect_validation(F.port, "EXAMPLE.com", NULL, KEYAUTH, &r2);
	/* Built once per authorization: the same certificate again. */
	assert_int_equal(r.certlen, r2.certlen);
	assert_memory_equal(r.cert, r2.cert, r.certlen);
	result_free(&r2);
	expect_validation(F.port, "example.com",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.2", KEYAUTH, &r2);
	result_free(&r2);
	/* acme-tls/1 among other protocols is still acme-tls/1. */
	client(F.port, "example.com", "http/1.1,acme-tls/1", NULL, NULL, &r2);
	assert_int_equal(r2.ret, 0);
	assert_string_equal(r2.alpn, "acme-tls/1");
	result_free(&r2);
	/* TLS 1.1 and older: no. */
	client(F.port, "example.com", "acme-tls/1",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0", NULL, &r2);
	assert_true(r2.ret < 0);
	assert_null(r2.cert);
	result_free(&r2);
	result_free(&r);
	fix_stop(&F);
}

static void
test_refuse(void **state)
{
	struct result r;

	(void)state;
	fix_start(&F, NULL, 0, 0);
	/* Another ALPN: never the validation certificate. */
	client(F.port, "example.com", "http/1.1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	assert_int_equal(r.alert, GNUTLS_A_NO_APPLICATION_PROTOCOL);
	client(F.port, "example.com", "h2,http/1.1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	/* No ALPN at all. */
	client(F.port, "example.com", NULL, NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	assert_int_equal(r.alert, GNUTLS_A_HANDSHAKE_FAILURE);
	/* Unknown name, no name, a name only known for http-01. */
	client(F.port, "unknown.example", "acme-tls/1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	assert_int_equal(r.alert, GNUTLS_A_UNRECOGNIZED_NAME);
	client(F.port, NULL, "acme-tls/1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	client(F.port, "other.example", "acme-tls/1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	fix_stop(&F);
}

/* Reverse-DNS SNI for IP identifiers (RFC 8738 section 6). */
static void
test_ip(void **state)
{
	unsigned char ip4[4], ip6[16];
	struct result r;

	(void)state;
	fix_start(&F, NULL, 0, 0);
	assert_int_equal(tokens_add(&F.tokens, TOKEN_TLSALPN01, "192.0.2.1",
	    "tok3", KEYAUTH2), 0);
	assert_int_equal(tokens_add(&F.tokens, TOKEN_TLSALPN01, "2001:db8::1",
	    "tok4", KEYAUTH), 0);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", ip4), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", ip6), 1);
	client(F.port, "1.2.0.192.in-addr.arpa", "acme-tls/1", NULL, NULL, &r);
	assert_int_equal(r.ret, 0);
	check_validation_cert(&r, GNUTLS_SAN_IPADDRESS, ip4, 4, KEYAUTH2);
	result_free(&r);
	client(F.port, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0."
	    "1.0.0.2.ip6.arpa", "acme-tls/1", NULL, NULL, &r);
	assert_int_equal(r.ret, 0);
	check_validation_cert(&r, GNUTLS_SAN_IPADDRESS, ip6, 16, KEYAUTH);
	result_free(&r);
	/* The literal is not a valid SNI and is not mapped. */
	client(F.port, "192.0.2.1", "acme-tls/1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	fix_stop(&F);
}

/* Removed or replaced tokens never get their old certificate. */
static void
test_cache(void **state)
{
	struct result r1, r2;

	(void)state;
	fix_start(&F, NULL, 0, 0);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r1);
	assert_int_equal(tokens_remove(&F.tokens, TOKEN_TLSALPN01,
	    "example.com", "tok1"), 0);
	client(F.port, "example.com", "acme-tls/1", NULL, NULL, &r2);
	assert_true(r2.ret < 0);
	assert_null(r2.cert);
	/* A new authorization for the same name: a new certificate. */
	assert_int_equal(tokens_add(&F.tokens, TOKEN_TLSALPN01, "example.com",
	    "tok5", KEYAUTH2), 0);
	expect_validation(F.port, "example.com", NULL, KEYAUTH2, &r2);
	assert_false(r1.certlen == r2.certlen &&
	    memcmp(r1.cert, r2.cert, r1.certlen) == 0);
	result_free(&r2);
	/* Replaced without a gap (same token, new keyauth): new again. */
	assert_int_equal(tokens_add(&F.tokens, TOKEN_TLSALPN01, "example.com",
	    "tok5", KEYAUTH), 0);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r2);
	assert_false(r1.certlen == r2.certlen &&
	    memcmp(r1.cert, r2.cert, r1.certlen) == 0);
	result_free(&r2);
	result_free(&r1);
	fix_stop(&F);
}

/* Wait up to ms for the server to close fd; true if it did. */
static int
closed_by_peer(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char buf[256];
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, ms) <= 0)
			return 0;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 1;
		if (n < 0)
			return 0;
	}
}

static void
send_all(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
test_hostile(void **state)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const unsigned char big[] = { 22, 3, 1, 0x40, 0x01 };
	static const unsigned char huge[] = { 22, 3, 1, 0, 4, 1, 0, 0xff, 0xff };
	unsigned char *hello;
	struct result r;
	size_t n;
	int fd, slow, idle[200];

	(void)state;
	fix_start(&F, NULL, 0, 0);
	hello = hex_fixture("tlsalpn-openssl-acme.hex", &n);
	/* Plain HTTP, oversized record, oversized hello: closed at once. */
	fd = connect_port(F.port);
	send_all(fd, http, sizeof(http) - 1);
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	fd = connect_port(F.port);
	send_all(fd, big, sizeof(big));
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	fd = connect_port(F.port);
	send_all(fd, huge, sizeof(huge));
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	/* A truncated hello, then EOF. */
	fd = connect_port(F.port);
	send_all(fd, hello, n / 2);
	shutdown(fd, SHUT_WR);
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	/* Slowloris and many idle connections block nobody... */
	slow = connect_port(F.port);
	send_all(slow, hello, 3);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		idle[i] = connect_port(F.port);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	result_free(&r);
	/* ...and are closed after the timeout (2 s). */
	assert_true(closed_by_peer(slow, 4000));
	close(slow);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++) {
		assert_true(closed_by_peer(idle[i], 4000));
		close(idle[i]);
	}
	/* Still answering. */
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	result_free(&r);
	free(hello);
	fix_stop(&F);
}

static void
test_limit(void **state)
{
	struct result r;
	int idle[3], extra, ok = 0;

	(void)state;
	fix_start(&F, NULL, 3, 0);
	for (int i = 0; i < 3; i++)
		idle[i] = connect_port(F.port);
	/* Let the server accept them before the fourth arrives. */
	usleep(200000);
	extra = connect_port(F.port);
	assert_true(closed_by_peer(extra, 1000));
	close(extra);
	for (int i = 0; i < 3; i++)
		close(idle[i]);
	/* Room again once the server has seen them go. */
	for (int tries = 0; tries < 20 && !ok; tries++) {
		usleep(50000);
		client(F.port, "example.com", "acme-tls/1", NULL, NULL, &r);
		ok = r.ret == 0;
		result_free(&r);
	}
	assert_true(ok);
	fix_stop(&F);
}

/* A connection from 127.0.0.2 (any loopback address works). */
static int
connect_from(const char *src, unsigned short port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, src, &sa.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* max_per_ip 2: a third idle connection from one address is closed at
 * once, other addresses still get in, and so does the first address
 * once its connections are gone. */
static void
test_limit_per_ip(void **state)
{
	struct result r;
	int idle[2], extra, other, ok = 0;

	(void)state;
	fix_start_ip(&F, NULL, 0, 2, 0);
	for (int i = 0; i < 2; i++)
		idle[i] = connect_port(F.port);
	usleep(200000);
	extra = connect_port(F.port);
	assert_true(closed_by_peer(extra, 1000));
	close(extra);
	other = connect_from("127.0.0.2", F.port);
	assert_false(closed_by_peer(other, 500));
	for (int i = 0; i < 2; i++)
		assert_false(closed_by_peer(idle[i], 0));
	for (int i = 0; i < 2; i++)
		close(idle[i]);
	for (int tries = 0; tries < 20 && !ok; tries++) {
		usleep(50000);
		client(F.port, "example.com", "acme-tls/1", NULL, NULL, &r);
		ok = r.ret == 0;
		result_free(&r);
	}
	assert_true(ok);
	close(other);
	fix_stop(&F);
}

static void
sa4(struct sockaddr_in *sa, const char *ip)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &sa->sin_addr), 1);
}

static void
sa6(struct sockaddr_in6 *sa, const char *ip)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &sa->sin6_addr), 1);
}

/* connlimit on its own: per address (IPv4-mapped IPv6 is IPv4), total. */
static void
test_connlimit(void **state)
{
	struct connlimit *cl;
	struct connlimit_key k1, k2, k3, k4, k5, kx;
	struct sockaddr_in a;
	struct sockaddr_in6 m, b;
	struct sockaddr un = { .sa_family = AF_UNIX };
	char buf[64];

	(void)state;
	assert_int_equal(connlimit_new(0, 1, &cl), CERTO_EUSAGE);
	assert_int_equal(connlimit_new(4, 2, &cl), 0);
	sa4(&a, "192.0.2.1");
	sa6(&m, "::ffff:192.0.2.1");
	sa6(&b, "2001:db8::1");
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a,
	    sizeof(a), &k1), CONNLIMIT_OK);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&m,
	    sizeof(m), &k2), CONNLIMIT_OK);
	assert_int_equal(connlimit_count(cl, &k1), 2);
	/* The same address, either way it is written. */
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a,
	    sizeof(a), &kx), CONNLIMIT_ADDR);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&m,
	    sizeof(m), &kx), CONNLIMIT_ADDR);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&b,
	    sizeof(b), &k3), CONNLIMIT_OK);
	assert_int_equal(connlimit_acquire(cl, &un, sizeof(un), &k4),
	    CONNLIMIT_OK);
	assert_int_equal(connlimit_total(cl), 4);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&b,
	    sizeof(b), &kx), CONNLIMIT_TOTAL);
	connlimit_key_str(&k2, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1");
	connlimit_key_str(&k3, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");
	connlimit_key_str(&k4, buf, sizeof(buf));
	assert_string_equal(buf, "local");
	connlimit_release(cl, &k1);
	assert_int_equal(connlimit_count(cl, &k2), 1);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a,
	    sizeof(a), &k5), CONNLIMIT_OK);
	connlimit_release(cl, &k2);
	connlimit_release(cl, &k5);
	assert_int_equal(connlimit_count(cl, &k5), 0);
	connlimit_release(cl, &k3);
	connlimit_release(cl, &k4);
	assert_int_equal(connlimit_total(cl), 0);
	/* Many addresses come and go through the fixed pool. */
	for (int round = 0; round < 3; round++) {
		struct connlimit_key keys[4];
		for (int i = 0; i < 4; i++) {
			snprintf(buf, sizeof(buf), "198.51.100.%d", round * 4 + i);
			sa4(&a, buf);
			assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a,
			    sizeof(a), &keys[i]), CONNLIMIT_OK);
		}
		for (int i = 0; i < 4; i++)
			connlimit_release(cl, &keys[i]);
	}
	assert_int_equal(connlimit_total(cl), 0);
	connlimit_free(cl);
	connlimit_free(NULL);
}

static void
test_rsa(void **state)
{
	struct result r;
	unsigned bits = 0;
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;

	(void)state;
	fix_start(&F, NULL, 0, 1);
	expect_validation(F.port, "example.com",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.2", KEYAUTH, &r);
	d.data = r.cert;
	d.size = (unsigned)r.certlen;
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER),
	    0);
	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, &bits),
	    GNUTLS_PK_RSA);
	gnutls_x509_crt_deinit(crt);
	result_free(&r);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	result_free(&r);
	fix_stop(&F);
}

/* ---- proxy mode ---- */

struct backend {
	int lfd;
	unsigned short port;
	struct alpn_cert cert;
	pthread_t thread;
	atomic_int stop;
	atomic_int served;
	int running;
};

/* The backend of the current test. */
static struct backend B;

/* A TLS server answering "pong:<line>" on each connection. */
static void *
backend_loop(void *arg)
{
	struct backend *b = arg;
	static unsigned char http11[] = "http/1.1";
	gnutls_datum_t proto = { http11, 8 };
	struct pollfd p;
	gnutls_session_t s;
	char buf[64], out[80];
	int fd, ret;

	while (!atomic_load(&b->stop)) {
		p.fd = b->lfd;
		p.events = POLLIN;
		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((fd = accept(b->lfd, NULL, NULL)) < 0)
			continue;
		gnutls_init(&s, GNUTLS_SERVER);
		gnutls_set_default_priority(s);
		gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, b->cert.cred);
		gnutls_alpn_set_protocols(s, &proto, 1, 0);
		gnutls_transport_set_int(s, fd);
		gnutls_handshake_set_timeout(s, 5000);
		do
			ret = gnutls_handshake(s);
		while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
		if (ret == 0) {
			atomic_fetch_add(&b->served, 1);
			gnutls_record_set_timeout(s, 5000);
			ret = (int)gnutls_record_recv(s, buf, sizeof(buf) - 1);
			if (ret > 0) {
				buf[ret] = '\0';
				ret = snprintf(out, sizeof(out), "pong:%s", buf);
				gnutls_record_send(s, out, (size_t)ret);
			}
			gnutls_bye(s, GNUTLS_SHUT_WR);
		}
		gnutls_deinit(s);
		close(fd);
	}
	return NULL;
}

static void
backend_start(struct backend *b)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(b, 0, sizeof(*b));
	assert_int_equal(alpncert_make("backend.test", "backend.key", 0,
	    &b->cert), 0);
	b->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(b->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(b->lfd, 16), 0);
	assert_int_equal(getsockname(b->lfd, (struct sockaddr *)&sa, &sl), 0);
	b->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&b->thread, NULL, backend_loop, b), 0);
	b->running = 1;
}

static void
backend_stop(struct backend *b)
{
	if (!b->running)
		return;
	atomic_store(&b->stop, 1);
	pthread_join(b->thread, NULL);
	close(b->lfd);
	alpncert_free(&b->cert);
	b->running = 0;
}

static int
is_backend_cert(const struct result *r, const struct backend *b)
{
	return r->cert != NULL && r->certlen == b->cert.der.size &&
	    memcmp(r->cert, b->cert.der.data, r->certlen) == 0;
}

static void
test_proxy(void **state)
{
	struct result r;
	char spec[32];

	(void)state;
	backend_start(&B);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", B.port);
	fix_start(&F, spec, 0, 0);
	/* Other TLS reaches the backend untouched, both ways. */
	client(F.port, "www.example.net", "http/1.1", NULL, "ping", &r);
	assert_int_equal(r.ret, 0);
	assert_true(is_backend_cert(&r, &B));
	assert_string_equal(r.alpn, "http/1.1");
	assert_string_equal(r.reply, "pong:ping");
	result_free(&r);
	client(F.port, "example.com", NULL, "NORMAL:-VERS-ALL:+VERS-TLS1.2",
	    "tls12", &r);
	assert_int_equal(r.ret, 0);
	assert_true(is_backend_cert(&r, &B));
	assert_string_equal(r.reply, "pong:tls12");
	result_free(&r);
	/* acme-tls/1 for a name we do not hold: the backend's business. */
	client(F.port, "unknown.example", "acme-tls/1", NULL, "acme", &r);
	assert_int_equal(r.ret, 0);
	assert_true(is_backend_cert(&r, &B));
	assert_string_equal(r.alpn, "");
	assert_string_equal(r.reply, "pong:acme");
	result_free(&r);
	/* acme-tls/1 for our name: still the validation certificate. */
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	assert_false(is_backend_cert(&r, &B));
	result_free(&r);
	assert_true(atomic_load(&B.served) >= 2);
	fix_stop(&F);
	backend_stop(&B);
}

static void
test_proxy_down(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct result r;
	char spec[32];
	int fd;

	(void)state;
	/* A port nobody listens on. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sa.sin_port));
	close(fd);
	fix_start(&F, spec, 0, 0);
	client(F.port, "www.example.net", "http/1.1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	result_free(&r);
	fix_stop(&F);
}

static void
test_start_errors(void **state)
{
	struct tlsalpn01_server *s = (struct tlsalpn01_server *)1, *s2;
	struct tlsalpn01_opts o;
	struct token_table t;

	(void)state;
	assert_int_equal(tokens_init(&t, 0, 0), 0);
	memset(&o, 0, sizeof(o));
	o.addr = "127.0.0.1";
	o.proxy = "no-port-here";
	assert_int_equal(tlsalpn01_start(&o, &t, &s), CERTO_EUSAGE);
	assert_null(s);
	certo_errclear();
	o.proxy = "[::1:443";
	assert_int_equal(tlsalpn01_start(&o, &t, &s), CERTO_EUSAGE);
	certo_errclear();
	o.proxy = "[::1]:8443";
	assert_int_equal(tlsalpn01_start(&o, &t, &s), 0);
	o.proxy = NULL;
	o.port = tlsalpn01_port(s);
	assert_int_equal(tlsalpn01_start(&o, &t, &s2), CERTO_EADDRINUSE);
	assert_non_null(strstr(certo_errmsg(), "--tls-port"));
	certo_errclear();
	tlsalpn01_stop(s);
	tlsalpn01_stop(NULL);
	tokens_free(&t);
}

/* Stop whatever a test left running, even after a failed assertion. */
static int
teardown(void **state)
{
	(void)state;
	fix_stop(&F);
	backend_stop(&B);
	return 0;
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
		cmocka_unit_test_teardown(test_serve, teardown),
		cmocka_unit_test_teardown(test_refuse, teardown),
		cmocka_unit_test_teardown(test_ip, teardown),
		cmocka_unit_test_teardown(test_cache, teardown),
		cmocka_unit_test_teardown(test_hostile, teardown),
		cmocka_unit_test_teardown(test_limit, teardown),
		cmocka_unit_test_teardown(test_limit_per_ip, teardown),
		cmocka_unit_test(test_connlimit),
		cmocka_unit_test_teardown(test_rsa, teardown),
		cmocka_unit_test_teardown(test_proxy, teardown),
		cmocka_unit_test_teardown(test_proxy_down, teardown),
		cmocka_unit_test(test_start_errors),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
