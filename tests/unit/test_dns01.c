/*
 * DNS-01 propagation check (client/dns01_propagation.h): record names,
 * TXT values (RFC 8555 section 8.4), server specs, the DNS message
 * walker and the discovery decisions on canned answers (built here and
 * captured from knot in tests/fixtures/dns-*.bin), and dns01_wait()
 * against a tiny authoritative DNS server run in a thread on loopback.
 *
 * The binary is also the driver of tests/integration/dns_knot.sh:
 *   unit_dns01 wait [--recursive A:P] [--resolver A:P]... [--timeout MS]
 *       [--interval MS] RECORD VALUE...
 *   unit_dns01 dump [--norecurse] SERVER NAME TYPE FILE
 */
#include "testutil.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "challenge.h"
#include "dns01_propagation.h"
#include "errors.h"
#include "sig.h"

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_TXT 16
#define T_AAAA 28

enum { QD = 0, AN = 1, NS = 2, AR = 3 };

/* ------------------------------------------------------------ packet builder */

struct pkt {
	unsigned char b[4096];
	size_t n;
	unsigned cnt[4];
	int sec;
};

static void
put8(struct pkt *p, unsigned v)
{
	assert_true(p->n < sizeof(p->b));
	p->b[p->n++] = (unsigned char)v;
}

static void
put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8 & 0xff);
	put8(p, v & 0xff);
}

static void
put_name(struct pkt *p, const char *name)
{
	const char *s = name, *dot;

	while (*s != '\0') {
		size_t l;
		dot = strchr(s, '.');
		l = dot != NULL ? (size_t)(dot - s) : strlen(s);
		assert_true(l > 0 && l < 64);
		put8(p, (unsigned)l);
		for (size_t i = 0; i < l; i++)
			put8(p, (unsigned char)s[i]);
		s += l;
		if (*s == '.')
			s++;
	}
	put8(p, 0);
}

static void
pkt_counts(struct pkt *p)
{
	for (int i = 0; i < 4; i++) {
		p->b[4 + 2 * i] = (unsigned char)(p->cnt[i] >> 8);
		p->b[5 + 2 * i] = (unsigned char)(p->cnt[i] & 0xff);
	}
}

/* Header and question; flags byte 2 (QR AA RD...), rcode in byte 3. */
static void
pkt_begin(struct pkt *p, unsigned id, unsigned flags, int rcode,
    const char *qname, int qtype)
{
	memset(p, 0, sizeof(*p));
	put16(p, id);
	put8(p, flags);
	put8(p, (unsigned)rcode);
	put16(p, 0);
	put16(p, 0);
	put16(p, 0);
	put16(p, 0);
	if (qname != NULL) {
		put_name(p, qname);
		put16(p, (unsigned)qtype);
		put16(p, 1);
		p->cnt[QD] = 1;
	}
	p->sec = AN;
	pkt_counts(p);
}

/* A record with raw rdata. */
static void
pkt_rr_raw(struct pkt *p, int sec, const char *owner, int type,
    const void *rdata, size_t rdlen)
{
	assert_true(sec >= p->sec);
	p->sec = sec;
	put_name(p, owner);
	put16(p, (unsigned)type);
	put16(p, 1);
	put16(p, 0);
	put16(p, 60);
	put16(p, (unsigned)rdlen);
	assert_true(p->n + rdlen <= sizeof(p->b));
	memcpy(p->b + p->n, rdata, rdlen);
	p->n += rdlen;
	p->cnt[sec]++;
	pkt_counts(p);
}

/*
 * A record from text: A/AAAA address, NS/CNAME target, SOA "mname
 * rname", TXT strings separated by '|'.
 */
static void
pkt_rr(struct pkt *p, int sec, const char *owner, int type, const char *data)
{
	struct pkt rd;
	const char *s, *bar;

	memset(&rd, 0, sizeof(rd));
	switch (type) {
	case T_A:
		assert_int_equal(inet_pton(AF_INET, data, rd.b), 1);
		rd.n = 4;
		break;
	case T_AAAA:
		assert_int_equal(inet_pton(AF_INET6, data, rd.b), 1);
		rd.n = 16;
		break;
	case T_NS:
	case T_CNAME:
		put_name(&rd, data);
		break;
	case T_SOA: {
		char m[256];
		s = strchr(data, ' ');
		assert_non_null(s);
		snprintf(m, sizeof(m), "%.*s", (int)(s - data), data);
		put_name(&rd, m);
		put_name(&rd, s + 1);
		for (int i = 0; i < 5; i++) {
			put16(&rd, 0);
			put16(&rd, 60);
		}
		break;
	}
	case T_TXT:
		for (s = data;;) {
			size_t l;
			bar = strchr(s, '|');
			l = bar != NULL ? (size_t)(bar - s) : strlen(s);
			assert_true(l < 256);
			put8(&rd, (unsigned)l);
			for (size_t i = 0; i < l; i++)
				put8(&rd, (unsigned char)s[i]);
			if (bar == NULL)
				break;
			s = bar + 1;
		}
		break;
	default:
		fail_msg("pkt_rr: type %d", type);
	}
	pkt_rr_raw(p, sec, owner, type, rd.b, rd.n);
}

/* ------------------------------------------------------------ names */

static void
test_record_name(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(dns01_record_name("example.com", &s), 0);
	assert_string_equal(s, "_acme-challenge.example.com");
	free(s);
	/* A wildcard shares the record of its base name. */
	assert_int_equal(dns01_record_name("*.example.com", &s), 0);
	assert_string_equal(s, "_acme-challenge.example.com");
	free(s);
	/* IDNs arrive as A-labels and stay so. */
	assert_int_equal(dns01_record_name("*.xn--bcher-kva.example", &s), 0);
	assert_string_equal(s, "_acme-challenge.xn--bcher-kva.example");
	free(s);
	assert_int_equal(dns01_record_name("WWW.Example.ORG.", &s), 0);
	assert_string_equal(s, "_acme-challenge.www.example.org");
	free(s);
	assert_int_equal(dns01_record_name("sub.x.certo.test", &s), 0);
	assert_string_equal(s, "_acme-challenge.sub.x.certo.test");
	free(s);

	assert_int_equal(dns01_record_name("", &s), CERTO_EIDENT);
	assert_null(s);
	assert_int_equal(dns01_record_name("*.", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name(".", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name("a b.example", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name("a\n.example", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name("b\xc3\xbc" "cher.example", &s),
	    CERTO_EIDENT);
	assert_int_equal(dns01_record_name("a/../b", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name(NULL, &s), CERTO_EIDENT);
	{
		/* 253 octets in all, the prefix included. */
		char *long_name = tu_repeat('a', 253 - 16);
		assert_int_equal(dns01_record_name(long_name, &s), 0);
		assert_int_equal(strlen(s), 253);
		free(s);
		free(long_name);
		long_name = tu_repeat('a', 253 - 15);
		assert_int_equal(dns01_record_name(long_name, &s),
		    CERTO_EIDENT);
		free(long_name);
	}
	certo_errclear();
}

static void
test_name_helpers(void **state)
{
	(void)state;
	assert_string_equal(dns01_name_parent("a.b.c"), "b.c");
	assert_string_equal(dns01_name_parent("c"), "");
	assert_string_equal(dns01_name_parent(""), "");
	assert_string_equal(dns01_name_parent("a\\.b.c"), "c");
	assert_true(dns01_name_eq("Example.COM", "example.com"));
	assert_false(dns01_name_eq("example.com", "example.co"));
	assert_false(dns01_name_eq("", "a"));
	assert_true(dns01_name_under("a.b.example.com", "example.com"));
	assert_true(dns01_name_under("example.com", "EXAMPLE.com"));
	assert_true(dns01_name_under("example.com", ""));
	assert_false(dns01_name_under("badexample.com", "example.com"));
	assert_false(dns01_name_under("example.com", "a.example.com"));
	/* "a\.example" is one label. */
	assert_false(dns01_name_under("a\\.example.com", "example.com"));
	assert_true(dns01_name_under("a\\.example.com", "com"));
}

/* ------------------------------------------------------------ TXT value */

/* RFC 8555 section 8.4: the challenge object, with the key authorization
 * built from its token and the RFC 7638 section 3.1 thumbprint; the
 * expected value was computed independently with
 *   printf %s "$keyauth" | openssl dgst -sha256 -binary | base64 | tr ...
 */
static void
test_txt_value_rfc8555(void **state)
{
	static const char thumbprint[] =
	    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
	struct certo_challenge c = { 0 };
	unsigned char d[32];
	size_t len;
	char *text = tu_fixture("dns-rfc8555-challenge-dns01.json", &len);
	char keyauth[256], *v, *indep;

	(void)state;
	assert_int_equal(challenge_parse(text, len, &c), 0);
	assert_int_equal(c.type, CHALL_DNS01);
	snprintf(keyauth, sizeof(keyauth), "%s.%s", c.token, thumbprint);
	assert_string_equal(keyauth, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
	    ".NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	assert_int_equal(dns01_txt_value(keyauth, &v), 0);
	assert_string_equal(v, "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");
	/* And with the tests' own base64url encoder. */
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth,
	    strlen(keyauth), d), 0);
	indep = tu_b64url(d, sizeof(d));
	assert_string_equal(v, indep);
	assert_int_equal(strlen(v), 43);
	free(indep);
	free(v);
	/* SHA-256("") = e3b0c442..., the well-known vector. */
	assert_int_equal(dns01_txt_value("", &v), 0);
	assert_string_equal(v, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
	free(v);
	challenge_free(&c);
	free(text);
}

/* ------------------------------------------------------------ server specs */

static void
test_server_parse(void **state)
{
	static const char *const bad[] = {
		"", ":53", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
		"1.2.3.4:53x", "1.2.3.4:-1", "1.2.3.4:+53", "1.2.3", "1.2.3.4.5",
		"example.com", "example.com:53", "[::1", "[::1]53", "[::1]:",
		"[1.2.3.4]:53", "::1:53:", "[]:53", "256.1.1.1",
		"1.2.3.4 :53", " 1.2.3.4", "[::1]:53:53",
		"0123456789012345678901234567890123456789012345678901234567890123",
	};
	struct dns01_server s;

	(void)state;
	assert_int_equal(dns01_server_parse("127.0.0.1", &s), 0);
	assert_string_equal(s.addr, "127.0.0.1");
	assert_string_equal(s.name, "127.0.0.1");
	assert_int_equal(s.port, 53);
	dns01_server_free(&s);
	assert_null(s.addr);
	dns01_server_free(&s);
	dns01_server_free(NULL);

	assert_int_equal(dns01_server_parse("10.0.0.1:8053", &s), 0);
	assert_string_equal(s.addr, "10.0.0.1");
	assert_int_equal(s.port, 8053);
	dns01_server_free(&s);

	assert_int_equal(dns01_server_parse("[::1]:5353", &s), 0);
	assert_string_equal(s.addr, "::1");
	assert_int_equal(s.port, 5353);
	dns01_server_free(&s);

	assert_int_equal(dns01_server_parse("[2001:db8::53]", &s), 0);
	assert_string_equal(s.addr, "2001:db8::53");
	assert_int_equal(s.port, 53);
	dns01_server_free(&s);

	/* A bare IPv6 address: every colon belongs to it. */
	assert_int_equal(dns01_server_parse("2001:db8::1", &s), 0);
	assert_string_equal(s.addr, "2001:db8::1");
	assert_int_equal(s.port, 53);
	dns01_server_free(&s);

	assert_int_equal(dns01_server_parse("1.2.3.4:65535", &s), 0);
	assert_int_equal(s.port, 65535);
	dns01_server_free(&s);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = dns01_server_parse(bad[i], &s);
		if (rc != CERTO_EUSAGE)
			fail_msg("\"%s\" parsed (rc %d)", bad[i], rc);
		assert_null(s.addr);
		assert_null(s.name);
		certo_errclear();
	}
	/* The message names the spec, made printable. */
	assert_int_equal(dns01_server_parse("x\ny", &s), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "x\\x0ay"));
	certo_errclear();
}

/* ------------------------------------------------------------ messages */

static void
parse_pkt(const struct pkt *p, struct dns01_msg *m)
{
	assert_int_equal(dns01_msg_parse(p->b, p->n, m), 0);
}

static void
test_msg_parse(void **state)
{
	struct pkt p;
	struct dns01_msg m;

	(void)state;
	pkt_begin(&p, 1, 0x84, 0, "ns.certo.test", T_NS);
	pkt_rr(&p, AN, "certo.test", T_NS, "ns1.certo.test");
	pkt_rr(&p, AN, "certo.test", T_SOA, "ns1.certo.test hostmaster.certo.test");
	pkt_rr(&p, NS, "certo.test", T_TXT, "x|y");
	pkt_rr(&p, AR, "ns1.certo.test", T_A, "192.0.2.1");
	pkt_rr(&p, AR, "ns1.certo.test", T_AAAA, "2001:db8::1");
	parse_pkt(&p, &m);
	assert_int_equal(m.rcode, 0);
	assert_true(m.aa);
	assert_false(m.tc);
	assert_int_equal(m.nrr, 5);
	assert_int_equal(m.rr[0].section, DNS01_ANSWER);
	assert_string_equal(m.rr[0].owner, "certo.test");
	assert_string_equal(m.rr[0].target, "ns1.certo.test");
	assert_string_equal(m.rr[1].target, "ns1.certo.test");
	assert_int_equal(m.rr[2].section, DNS01_AUTHORITY);
	assert_null(m.rr[2].target);
	assert_int_equal(m.rr[3].section, DNS01_ADDITIONAL);
	assert_string_equal(m.rr[3].addr, "192.0.2.1");
	assert_string_equal(m.rr[4].addr, "2001:db8::1");
	dns01_msg_free(&m);
	assert_int_equal(m.nrr, 0);
	dns01_msg_free(&m);
	dns01_msg_free(NULL);

	/* NXDOMAIN, truncated bit. */
	pkt_begin(&p, 2, 0x86, 3, "a.b", T_TXT);
	parse_pkt(&p, &m);
	assert_int_equal(m.rcode, 3);
	assert_true(m.tc);
	assert_int_equal(m.nrr, 0);
	dns01_msg_free(&m);
}

static void
test_msg_malformed(void **state)
{
	struct pkt p;
	struct dns01_msg m;
	unsigned char four[4] = { 1, 2, 3, 4 };
	size_t n;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(dns01_msg_parse(p.b, 11, &m), CERTO_EPROTO);
	assert_int_equal(dns01_msg_parse(NULL, 0, &m), CERTO_EPROTO);
	assert_int_equal(dns01_msg_parse(p.b, DNS01_MAX_ANSWER + 1, &m),
	    CERTO_ETOOBIG);

	/* Every truncation of a good message is refused, never read past. */
	pkt_begin(&p, 1, 0x84, 0, "a.certo.test", T_TXT);
	pkt_rr(&p, AN, "a.certo.test", T_TXT, "value");
	pkt_rr(&p, AN, "a.certo.test", T_CNAME, "b.certo.test");
	for (n = 12; n < p.n; n++) {
		unsigned char *copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, p.b, n);
		assert_int_equal(dns01_msg_parse(copy, n, &m), CERTO_EPROTO);
		free(copy);
	}
	parse_pkt(&p, &m);
	dns01_msg_free(&m);

	/* rdlength past the end. */
	pkt_begin(&p, 1, 0x84, 0, "a", T_A);
	pkt_rr_raw(&p, AN, "a", T_A, four, 4);
	p.b[p.n - 5] = 200;
	assert_int_equal(dns01_msg_parse(p.b, p.n, &m), CERTO_EPROTO);

	/* An A record of the wrong length. */
	pkt_begin(&p, 1, 0x84, 0, "a", T_A);
	pkt_rr_raw(&p, AN, "a", T_A, four, 3);
	assert_int_equal(dns01_msg_parse(p.b, p.n, &m), CERTO_EPROTO);

	/* A compression pointer to itself in the question. */
	pkt_begin(&p, 1, 0x84, 0, NULL, 0);
	p.cnt[QD] = 1;
	pkt_counts(&p);
	put8(&p, 0xc0);
	put8(&p, 12);
	put16(&p, T_A);
	put16(&p, 1);
	assert_int_equal(dns01_msg_parse(p.b, p.n, &m), CERTO_EPROTO);

	/* A CNAME whose target runs past its rdata. */
	pkt_begin(&p, 1, 0x84, 0, "a", T_CNAME);
	{
		unsigned char rd[] = { 1, 'b', 0 };
		pkt_rr_raw(&p, AN, "a", T_CNAME, rd, 3);
		p.b[p.n - 4] = 2; /* rdlength 2: the root label is outside */
		assert_int_equal(dns01_msg_parse(p.b, p.n, &m), CERTO_EPROTO);
	}
}

static void
test_msg_compressed(void **state)
{
	struct pkt p;
	struct dns01_msg m;
	size_t qname_off = 12;

	(void)state;
	/* Hand-made compression: answers point at the question name. */
	pkt_begin(&p, 7, 0x84, 0, "_acme-challenge.x.certo.test", T_CNAME);
	p.cnt[AN] = 1;
	pkt_counts(&p);
	put8(&p, 0xc0);
	put8(&p, (unsigned)qname_off);
	put16(&p, T_CNAME);
	put16(&p, 1);
	put16(&p, 0);
	put16(&p, 60);
	put16(&p, 7);
	/* "dele" + pointer to "certo.test" inside the question name. */
	put8(&p, 4);
	put8(&p, 'd');
	put8(&p, 'e');
	put8(&p, 'l');
	put8(&p, 'e');
	put8(&p, 0xc0);
	put8(&p, (unsigned)(qname_off + 1 + 15 + 1 + 1));
	parse_pkt(&p, &m);
	assert_int_equal(m.nrr, 1);
	assert_string_equal(m.rr[0].owner, "_acme-challenge.x.certo.test");
	assert_string_equal(m.rr[0].target, "dele.certo.test");
	dns01_msg_free(&m);
}

/* ------------------------------------------------------------ CNAMEs */

static void
test_cname_chase(void **state)
{
	struct pkt p;
	struct dns01_msg m;
	char *end;
	char names[12][32];

	(void)state;
	/* A chain, listed out of order, ends at c. */
	pkt_begin(&p, 1, 0x80, 0, "a.test", T_TXT);
	pkt_rr(&p, AN, "b.test", T_CNAME, "c.test");
	pkt_rr(&p, AN, "A.TEST", T_CNAME, "b.test");
	pkt_rr(&p, AN, "c.test", T_TXT, "v");
	pkt_rr(&p, NS, "d.test", T_CNAME, "e.test"); /* not an answer */
	parse_pkt(&p, &m);
	assert_int_equal(dns01_cname_chase(&m, "a.test", 8, &end), 2);
	assert_string_equal(end, "c.test");
	free(end);
	assert_int_equal(dns01_cname_chase(&m, "c.test", 8, &end), 0);
	assert_string_equal(end, "c.test");
	free(end);
	assert_int_equal(dns01_cname_chase(&m, "d.test", 8, &end), 0);
	assert_string_equal(end, "d.test");
	free(end);
	/* A bound of one hop. */
	assert_int_equal(dns01_cname_chase(&m, "a.test", 1, &end),
	    CERTO_EPROTO);
	assert_null(end);
	dns01_msg_free(&m);

	/* A loop. */
	pkt_begin(&p, 1, 0x80, 0, "a.test", T_CNAME);
	pkt_rr(&p, AN, "a.test", T_CNAME, "b.test");
	pkt_rr(&p, AN, "b.test", T_CNAME, "a.test");
	parse_pkt(&p, &m);
	assert_int_equal(dns01_cname_chase(&m, "a.test", 100, &end),
	    CERTO_EPROTO);
	dns01_msg_free(&m);

	/* Eight hops are followed, nine are not. */
	for (int i = 0; i < 12; i++)
		snprintf(names[i], sizeof(names[i]), "n%d.test", i);
	pkt_begin(&p, 1, 0x80, 0, names[0], T_CNAME);
	for (int i = 0; i < 9; i++)
		pkt_rr(&p, AN, names[i], T_CNAME, names[i + 1]);
	parse_pkt(&p, &m);
	assert_int_equal(dns01_cname_chase(&m, names[1], 8, &end), 8);
	assert_string_equal(end, names[9]);
	free(end);
	assert_int_equal(dns01_cname_chase(&m, names[0], 100, &end),
	    CERTO_EPROTO);
	dns01_msg_free(&m);
}

/* ------------------------------------------------------------ zone cut */

static int
decide(const struct pkt *p, const char *qname, char **zone)
{
	struct dns01_msg m;
	int rc;

	parse_pkt(p, &m);
	rc = dns01_zone_decide(&m, qname, zone);
	dns01_msg_free(&m);
	return rc;
}

static void
test_zone_cut(void **state)
{
	struct pkt p;
	char *zone;
	const char *q = "_acme-challenge.www.example.org";

	(void)state;
	/* The name is the apex: SOA in the answer. */
	pkt_begin(&p, 1, 0x84, 0, "example.org", T_SOA);
	pkt_rr(&p, AN, "Example.org", T_SOA, "ns1.example.org h.example.org");
	assert_int_equal(decide(&p, "example.org", &zone), 1);
	assert_string_equal(zone, "Example.org");
	free(zone);
	/* ...but not an SOA owned by another name (after a CNAME). */
	pkt_begin(&p, 1, 0x84, 0, "www.example.org", T_SOA);
	pkt_rr(&p, AN, "www.example.org", T_CNAME, "cdn.other.net");
	pkt_rr(&p, AN, "cdn.other.net", T_SOA, "ns.other.net h.other.net");
	assert_int_equal(decide(&p, "www.example.org", &zone), 0);
	assert_null(zone);

	/* NXDOMAIN: the authority SOA names the zone (RFC 2308). */
	pkt_begin(&p, 1, 0x84, 3, q, T_SOA);
	pkt_rr(&p, NS, "example.org", T_SOA, "ns1.example.org h.example.org");
	assert_int_equal(decide(&p, q, &zone), 1);
	assert_string_equal(zone, "example.org");
	free(zone);
	/* NODATA likewise. */
	pkt_begin(&p, 1, 0x80, 0, "www.example.org", T_SOA);
	pkt_rr(&p, NS, "example.org", T_SOA, "ns1.example.org h.example.org");
	assert_int_equal(decide(&p, "www.example.org", &zone), 1);
	assert_string_equal(zone, "example.org");
	free(zone);
	/* An authority SOA of an unrelated zone (the CNAME target's). */
	pkt_begin(&p, 1, 0x80, 0, "www.example.org", T_SOA);
	pkt_rr(&p, AN, "www.example.org", T_CNAME, "cdn.other.net");
	pkt_rr(&p, NS, "other.net", T_SOA, "ns.other.net h.other.net");
	assert_int_equal(decide(&p, "www.example.org", &zone), 0);
	/* A suffix that is not a label boundary. */
	pkt_begin(&p, 1, 0x80, 3, "www.badexample.org", T_SOA);
	pkt_rr(&p, NS, "example.org", T_SOA, "ns1.example.org h.example.org");
	assert_int_equal(decide(&p, "www.badexample.org", &zone), 0);

	/* A referral from an authoritative server of the parent. */
	pkt_begin(&p, 1, 0x00, 0, q, T_SOA);
	pkt_rr(&p, NS, "www.example.org", T_NS, "ns.delegated.net");
	pkt_rr(&p, NS, "www.example.org", T_NS, "ns2.delegated.net");
	assert_int_equal(decide(&p, q, &zone), 1);
	assert_string_equal(zone, "www.example.org");
	free(zone);
	/* An NS set owned by the name itself, in the answer. */
	pkt_begin(&p, 1, 0x84, 0, "example.org", T_SOA);
	pkt_rr(&p, AN, "example.org", T_NS, "ns1.example.org");
	assert_int_equal(decide(&p, "example.org", &zone), 1);
	free(zone);

	/* Nothing helpful (REFUSED, an empty answer): go up. */
	pkt_begin(&p, 1, 0x80, 5, q, T_SOA);
	assert_int_equal(decide(&p, q, &zone), 0);
	pkt_begin(&p, 1, 0x80, 0, q, T_SOA);
	pkt_rr(&p, AR, "example.org", T_SOA, "ns1.example.org h.example.org");
	assert_int_equal(decide(&p, q, &zone), 0);
}

/* ------------------------------------------------------------ NS set */

static void
test_ns_and_addrs(void **state)
{
	struct pkt p;
	struct dns01_msg m;
	struct dns01_strs hosts = { 0 }, addrs = { 0 };

	(void)state;
	pkt_begin(&p, 1, 0x84, 0, "certo.test", T_NS);
	pkt_rr(&p, AN, "certo.test", T_NS, "ns1.certo.test");
	pkt_rr(&p, AN, "CERTO.test", T_NS, "NS1.certo.test"); /* duplicate */
	pkt_rr(&p, AN, "certo.test", T_NS, "ns2.elsewhere.test");
	pkt_rr(&p, AN, "other.test", T_NS, "ns3.other.test");
	pkt_rr(&p, AR, "ns1.certo.test", T_A, "127.0.0.1");
	pkt_rr(&p, AR, "ns1.certo.test", T_AAAA, "::1");
	pkt_rr(&p, AR, "ns1.certo.test", T_A, "127.0.0.1");
	pkt_rr(&p, AR, "ns3.other.test", T_A, "127.0.0.3");
	parse_pkt(&p, &m);
	assert_int_equal(dns01_ns_hosts(&m, "certo.test", &hosts), 0);
	assert_int_equal(hosts.n, 2);
	assert_string_equal(hosts.v[0], "ns1.certo.test");
	assert_string_equal(hosts.v[1], "ns2.elsewhere.test");
	/* Glue. */
	assert_int_equal(dns01_host_addrs(&m, "ns1.certo.test", &addrs), 0);
	assert_int_equal(addrs.n, 2);
	assert_string_equal(addrs.v[0], "127.0.0.1");
	assert_string_equal(addrs.v[1], "::1");
	dns01_strs_free(&addrs);
	assert_int_equal(dns01_host_addrs(&m, "ns2.elsewhere.test", &addrs), 0);
	assert_int_equal(addrs.n, 0);
	dns01_msg_free(&m);
	dns01_strs_free(&hosts);
	dns01_strs_free(&hosts);

	/* A referral's NS set is in the authority section. */
	pkt_begin(&p, 1, 0x00, 0, "sub.certo.test", T_NS);
	pkt_rr(&p, NS, "sub.certo.test", T_NS, "ns.sub.certo.test");
	pkt_rr(&p, AR, "ns.sub.certo.test", T_A, "192.0.2.7");
	parse_pkt(&p, &m);
	assert_int_equal(dns01_ns_hosts(&m, "sub.certo.test", &hosts), 0);
	assert_int_equal(hosts.n, 1);
	assert_int_equal(dns01_host_addrs(&m, hosts.v[0], &addrs), 0);
	assert_int_equal(addrs.n, 1);
	assert_string_equal(addrs.v[0], "192.0.2.7");
	dns01_strs_free(&addrs);
	dns01_strs_free(&hosts);
	dns01_msg_free(&m);

	/* An A answer through a CNAME. */
	pkt_begin(&p, 1, 0x80, 0, "ns.alias.test", T_A);
	pkt_rr(&p, AN, "ns.alias.test", T_CNAME, "real.ns.test");
	pkt_rr(&p, AN, "real.ns.test", T_A, "198.51.100.1");
	pkt_rr(&p, AN, "unrelated.test", T_A, "198.51.100.2");
	parse_pkt(&p, &m);
	assert_int_equal(dns01_host_addrs(&m, "ns.alias.test", &addrs), 0);
	assert_int_equal(addrs.n, 1);
	assert_string_equal(addrs.v[0], "198.51.100.1");
	dns01_strs_free(&addrs);
	dns01_msg_free(&m);

	/* At most DNS01_MAX_NS hosts. */
	pkt_begin(&p, 1, 0x84, 0, "big.test", T_NS);
	for (int i = 0; i < DNS01_MAX_NS + 5; i++) {
		char h[32];
		snprintf(h, sizeof(h), "ns%d.big.test", i);
		pkt_rr(&p, AN, "big.test", T_NS, h);
	}
	parse_pkt(&p, &m);
	assert_int_equal(dns01_ns_hosts(&m, "big.test", &hosts), 0);
	assert_int_equal(hosts.n, DNS01_MAX_NS);
	dns01_strs_free(&hosts);
	dns01_msg_free(&m);
}

/* ------------------------------------------------------------ TXT */

/* The records of pkt joined as ares_parse_txt_reply_ext() sees them. */
static void
ares_txt(const struct pkt *p, struct dns01_strs *out)
{
	struct ares_txt_ext *txt = NULL, *t;
	char buf[4096];
	size_t n = 0;
	bool have = false;

	assert_int_equal(ares_parse_txt_reply_ext(p->b, (int)p->n, &txt),
	    ARES_SUCCESS);
	for (t = txt; t != NULL; t = t->next) {
		if (t->record_start && have) {
			buf[n] = '\0';
			assert_int_equal(dns01_strs_add(out, buf, false), 0);
			n = 0;
		}
		assert_true(n + t->length < sizeof(buf));
		memcpy(buf + n, t->txt, t->length);
		n += t->length;
		have = true;
	}
	if (have) {
		buf[n] = '\0';
		assert_int_equal(dns01_strs_add(out, buf, false), 0);
	}
	ares_free_data(txt);
}

static void
test_txt_parse(void **state)
{
	static const char *const want[] = {
		"apexvalue-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"wildvalue-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	};
	const char *name = "_acme-challenge.x.certo.test";
	struct pkt p;
	struct dns01_strs txt = { 0 }, ref = { 0 };
	char split[128], near[4][128];

	(void)state;
	/* Two records; the second split into strings; an empty string. */
	snprintf(split, sizeof(split), "%.15s|%s|", want[1], want[1] + 15);
	pkt_begin(&p, 1, 0x84, 0, name, T_TXT);
	pkt_rr(&p, AN, name, T_TXT, want[0]);
	pkt_rr(&p, AN, "_ACME-challenge.x.certo.test", T_TXT, split);
	pkt_rr(&p, AN, name, T_TXT, "v=spf1 -all");
	assert_int_equal(dns01_txt_parse(p.b, p.n, name, &txt), 0);
	assert_int_equal(txt.n, 3);
	assert_string_equal(txt.v[0], want[0]);
	assert_string_equal(txt.v[1], want[1]);
	assert_string_equal(txt.v[2], "v=spf1 -all");
	assert_int_equal(dns01_txt_missing(&txt, want, 2), 0);
	assert_int_equal(dns01_txt_missing(&txt, want, 1), 0);
	/* c-ares' own parser agrees. */
	ares_txt(&p, &ref);
	assert_int_equal(ref.n, txt.n);
	for (size_t i = 0; i < ref.n; i++)
		assert_string_equal(ref.v[i], txt.v[i]);
	dns01_strs_free(&ref);
	dns01_strs_free(&txt);

	/* Only the apex value so far: one of two missing. */
	pkt_begin(&p, 1, 0x84, 0, name, T_TXT);
	pkt_rr(&p, AN, name, T_TXT, want[0]);
	/* Records of other names, and outside the answer, do not count. */
	pkt_rr(&p, AN, "_acme-challenge.y.certo.test", T_TXT, want[1]);
	pkt_rr(&p, NS, name, T_TXT, want[1]);
	assert_int_equal(dns01_txt_parse(p.b, p.n, name, &txt), 0);
	assert_int_equal(txt.n, 1);
	assert_int_equal(dns01_txt_missing(&txt, want, 2), 1);
	dns01_strs_free(&txt);

	/* Exact comparison: prefixes, case and quotes are not matches. */
	snprintf(near[0], sizeof(near[0]), "%.*s", (int)strlen(want[0]) - 1,
	    want[0]);
	snprintf(near[1], sizeof(near[1]), "A%s", want[0] + 1);
	snprintf(near[2], sizeof(near[2]), "\"%s\"", want[0]);
	snprintf(near[3], sizeof(near[3]), "%s|x", want[0]);
	pkt_begin(&p, 1, 0x84, 0, name, T_TXT);
	for (int i = 0; i < 4; i++)
		pkt_rr(&p, AN, name, T_TXT, near[i]);
	assert_int_equal(dns01_txt_parse(p.b, p.n, name, &txt), 0);
	assert_int_equal(txt.n, 4);
	assert_int_equal(dns01_txt_missing(&txt, want, 1), 1);
	dns01_strs_free(&txt);

	/* NXDOMAIN and NODATA: nothing. */
	pkt_begin(&p, 1, 0x84, 3, name, T_TXT);
	pkt_rr(&p, NS, "certo.test", T_SOA, "ns1.certo.test h.certo.test");
	assert_int_equal(dns01_txt_parse(p.b, p.n, name, &txt), 0);
	assert_int_equal(txt.n, 0);
	assert_int_equal(dns01_txt_missing(&txt, want, 2), 2);

	/* A recursive resolver's answer through a CNAME. */
	pkt_begin(&p, 1, 0x80, 0, name, T_TXT);
	pkt_rr(&p, AN, name, T_CNAME, "x.acme.dele.test");
	pkt_rr(&p, AN, "x.acme.dele.test", T_TXT, want[1]);
	assert_int_equal(dns01_txt_parse(p.b, p.n, name, &txt), 0);
	assert_int_equal(txt.n, 1);
	assert_string_equal(txt.v[0], want[1]);
	dns01_strs_free(&txt);

	/* Duplicates count once. */
	pkt_begin(&p, 1, 0x84, 0, name, T_TXT);
	pkt_rr(&p, AN, name, T_TXT, "same");
	pkt_rr(&p, AN, name, T_TXT, "sa|me");
	assert_int_equal(dns01_txt_parse(p.b, p.n, name, &txt), 0);
	assert_int_equal(txt.n, 1);
	dns01_strs_free(&txt);
}

static void
test_txt_hostile(void **state)
{
	const char *name = "_acme-challenge.x.certo.test";
	struct pkt p;
	struct dns01_strs txt = { 0 };
	unsigned char rd[600];

	(void)state;
	/* A NUL inside: skipped, never matches a prefix. */
	pkt_begin(&p, 1, 0x84, 0, name, T_TXT);
	memcpy(rd, "\x05" "ab\0cd", 6);
	pkt_rr_raw(&p, AN, name, T_TXT, rd, 6);
	pkt_rr(&p, AN, name, T_TXT, "ok");
	assert_int_equal(dns01_txt_parse(p.b, p.n, name, &txt), 0);
	assert_int_equal(txt.n, 1);
	assert_string_equal(txt.v[0], "ok");
	dns01_strs_free(&txt);

	/* A string length past the rdata. */
	pkt_begin(&p, 1, 0x84, 0, name, T_TXT);
	memcpy(rd, "\x09" "abc", 4);
	pkt_rr_raw(&p, AN, name, T_TXT, rd, 4);
	assert_int_equal(dns01_txt_parse(p.b, p.n, name, &txt), CERTO_EPROTO);
	dns01_strs_free(&txt);

	/* A record longer than DNS01_MAX_TXT_LEN (in a TCP-sized answer):
	 * skipped; the other record still counts. */
	{
		unsigned char *big = malloc(DNS01_MAX_TXT_LEN + 600);
		struct pkt *bp = calloc(1, sizeof(*bp));
		size_t n = 0;
		assert_non_null(big);
		assert_non_null(bp);
		while (n + 256 <= DNS01_MAX_TXT_LEN + 300) {
			big[n] = 255;
			memset(big + n + 1, 'z', 255);
			n += 256;
		}
		pkt_begin(bp, 1, 0x84, 0, name, T_TXT);
		pkt_rr_raw(bp, AN, name, T_TXT, big, n);
		pkt_rr(bp, AN, name, T_TXT, "ok");
		assert_int_equal(dns01_txt_parse(bp->b, bp->n, name, &txt), 0);
		assert_int_equal(txt.n, 1);
		assert_string_equal(txt.v[0], "ok");
		dns01_strs_free(&txt);
		free(big);
		free(bp);
	}
	/* Garbage. */
	assert_int_equal(dns01_txt_parse((const unsigned char *)"xx", 2, name,
	    &txt), CERTO_EPROTO);
}

/* Answers captured from knot 3.2 (real name compression); see
 * tests/fixtures/dns-README. */
static void
test_knot_fixtures(void **state)
{
	struct dns01_msg m;
	struct dns01_strs s = { 0 };
	char *zone, *pkt;
	size_t len;

	(void)state;
	pkt = tu_fixture("dns-knot-soa-nxdomain.bin", &len);
	assert_int_equal(dns01_msg_parse((unsigned char *)pkt, len, &m), 0);
	assert_int_equal(m.rcode, 3);
	assert_true(m.aa);
	assert_int_equal(dns01_zone_decide(&m, "_acme-challenge.x.certo.test",
	    &zone), 1);
	assert_string_equal(zone, "certo.test");
	free(zone);
	dns01_msg_free(&m);
	free(pkt);

	pkt = tu_fixture("dns-knot-ns.bin", &len);
	assert_int_equal(dns01_msg_parse((unsigned char *)pkt, len, &m), 0);
	assert_int_equal(dns01_ns_hosts(&m, "certo.test", &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "ns1.certo.test");
	dns01_strs_free(&s);
	assert_int_equal(dns01_host_addrs(&m, "ns1.certo.test", &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "127.0.0.1");
	dns01_strs_free(&s);
	dns01_msg_free(&m);
	free(pkt);

	pkt = tu_fixture("dns-knot-cname.bin", &len);
	assert_int_equal(dns01_msg_parse((unsigned char *)pkt, len, &m), 0);
	assert_int_equal(dns01_cname_chase(&m, "_acme-challenge.c.certo.test",
	    8, &zone), 1);
	assert_string_equal(zone, "c.acme.certo-dele.test");
	free(zone);
	dns01_msg_free(&m);
	free(pkt);

	pkt = tu_fixture("dns-knot-txt-multi.bin", &len);
	assert_int_equal(dns01_txt_parse((unsigned char *)pkt, len,
	    "_acme-challenge.m.certo.test", &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(dns01_strs_add(&s, "one-record-in-two-strings", false),
	    0);
	assert_int_equal(dns01_strs_add(&s, "second-record", false), 0);
	assert_int_equal(s.n, 2);
	dns01_strs_free(&s);
	free(pkt);
}

/* ------------------------------------------------------------ fake server */

#define FAKE_MAX_RR 32

struct frr {
	char owner[128];
	int type;
	char data[256];
	long long from_ms;       /* answered only from then on (0: always) */
};

struct fake {
	int fd;
	unsigned short port;
	pthread_t th;
	pthread_mutex_t mu;
	int stop;
	bool mute;               /* a server that never answers */
	int rcode_all;           /* answer every query with this rcode */
	int notimp_type;         /* answer this type NOTIMP (challtestsrv) */
	const char *zones[4];
	size_t nzones;
	struct frr rr[FAKE_MAX_RR];
	size_t nrr;
	int queries[32];         /* by type */
	int txt_rd;              /* RD bit of the last TXT query */
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
fake_add(struct fake *f, const char *owner, int type, const char *data,
    long long delay_ms)
{
	struct frr *r;

	pthread_mutex_lock(&f->mu);
	assert_true(f->nrr < FAKE_MAX_RR);
	r = &f->rr[f->nrr++];
	snprintf(r->owner, sizeof(r->owner), "%s", owner);
	snprintf(r->data, sizeof(r->data), "%s", data);
	r->type = type;
	r->from_ms = delay_ms > 0 ? mono_ms() + delay_ms : 0;
	pthread_mutex_unlock(&f->mu);
}

static bool
frr_live(const struct frr *r)
{
	return r->from_ms == 0 || mono_ms() >= r->from_ms;
}

/* Build the answer to (qname, qtype) into out; caller holds the lock. */
static void
fake_answer(struct fake *f, unsigned id, unsigned rd, const char *qname,
    int qtype, struct pkt *out)
{
	const char *zone = NULL, *cur = qname;
	char soa[300];
	size_t i, hops = 0;
	bool any = false, exists = false;

	if (f->rcode_all != 0 || qtype == f->notimp_type) {
		pkt_begin(out, id, 0x80 | rd, f->rcode_all != 0 ? f->rcode_all :
		    4, qname, qtype);
		return;
	}
	for (i = 0; i < f->nzones; i++)
		if (dns01_name_under(qname, f->zones[i]) && (zone == NULL ||
		    strlen(f->zones[i]) > strlen(zone)))
			zone = f->zones[i];
	if (zone == NULL) {
		pkt_begin(out, id, 0x80 | rd, 5, qname, qtype);
		return;
	}
	snprintf(soa, sizeof(soa), "ns1.%s hostmaster.%s", zone, zone);
	pkt_begin(out, id, 0x84 | rd, 0, qname, qtype);
	for (;;) {
		bool cname = false;
		for (i = 0; i < f->nrr; i++) {
			const struct frr *r = &f->rr[i];
			if (!frr_live(r) || !dns01_name_eq(r->owner, cur))
				continue;
			if (r->type == qtype) {
				pkt_rr(out, AN, r->owner, r->type, r->data);
				any = true;
			} else if (r->type == T_CNAME && qtype != T_CNAME) {
				pkt_rr(out, AN, r->owner, r->type, r->data);
				cur = r->data;
				cname = any = true;
				break;
			}
		}
		if (!cname || ++hops > 8)
			break;
	}
	if (qtype == T_SOA && dns01_name_eq(qname, zone)) {
		pkt_rr(out, AN, zone, T_SOA, soa);
		any = true;
	}
	if (any) {
		/* Glue for NS answers. */
		if (qtype == T_NS)
			for (i = 0; i < f->nrr; i++)
				if (f->rr[i].type == T_A && strncmp(f->rr[i].owner,
				    "ns", 2) == 0)
					pkt_rr(out, AR, f->rr[i].owner, T_A,
					    f->rr[i].data);
		return;
	}
	for (i = 0; i < f->nrr; i++)
		if (frr_live(&f->rr[i]) && dns01_name_under(f->rr[i].owner,
		    qname))
			exists = true;
	if (dns01_name_eq(qname, zone))
		exists = true;
	if (!exists) {
		out->b[3] = 3;
	}
	pkt_rr(out, NS, zone, T_SOA, soa);
}

static void *
fake_run(void *arg)
{
	struct fake *f = arg;
	unsigned char q[512];
	struct sockaddr_storage from;
	socklen_t flen;
	struct pollfd pfd;
	struct pkt out;
	char *qname;
	long enclen;
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&f->mu);
		if (f->stop) {
			pthread_mutex_unlock(&f->mu);
			break;
		}
		pthread_mutex_unlock(&f->mu);
		pfd.fd = f->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		flen = sizeof(from);
		n = recvfrom(f->fd, q, sizeof(q), 0, (struct sockaddr *)&from,
		    &flen);
		if (n < 17)
			continue;
		if (ares_expand_name(q + 12, q, (int)n, &qname, &enclen) !=
		    ARES_SUCCESS)
			continue;
		if (12 + (size_t)enclen + 4 > (size_t)n) {
			ares_free_string(qname);
			continue;
		}
		{
			int qtype = q[12 + enclen] << 8 | q[13 + enclen];
			unsigned id = (unsigned)q[0] << 8 | q[1];
			unsigned rd = q[2] & 1;
			bool answer;
			pthread_mutex_lock(&f->mu);
			if (qtype < 32)
				f->queries[qtype]++;
			if (qtype == T_TXT)
				f->txt_rd = (int)rd;
			answer = !f->mute;
			if (answer)
				fake_answer(f, id, rd, qname, qtype, &out);
			pthread_mutex_unlock(&f->mu);
			if (answer)
				(void)sendto(f->fd, out.b, out.n, 0,
				    (struct sockaddr *)&from, flen);
		}
		ares_free_string(qname);
	}
	return NULL;
}

static struct fake *
fake_start(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_non_null(f);
	pthread_mutex_init(&f->mu, NULL);
	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(f->fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sin, &len), 0);
	f->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&f->th, NULL, fake_run, f), 0);
	return f;
}

static void
fake_stop(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	close(f->fd);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static int
fake_count(struct fake *f, int type)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->queries[type];
	pthread_mutex_unlock(&f->mu);
	return n;
}

static void
fake_server(const struct fake *f, struct dns01_server *s)
{
	static char addr[] = "127.0.0.1";

	s->name = addr;
	s->addr = addr;
	s->port = f->port;
}

/* ------------------------------------------------------------ dns01_wait */

struct seen {
	int rounds;
	size_t last_n;
	bool last_visible[16];
	char last_error[16][96];
	char last_server[16][96];
	long last_left;
};

static void
on_progress(void *arg, const struct dns01_progress *p, size_t n, long left)
{
	struct seen *s = arg;

	s->rounds++;
	s->last_n = n;
	s->last_left = left;
	for (size_t i = 0; i < n && i < 16; i++) {
		s->last_visible[i] = p[i].visible;
		snprintf(s->last_error[i], sizeof(s->last_error[i]), "%s",
		    p[i].error != NULL ? p[i].error : "");
		snprintf(s->last_server[i], sizeof(s->last_server[i]), "%s/%s:%u",
		    p[i].server->name, p[i].server->addr,
		    (unsigned)p[i].server->port);
	}
}

static const char *const wantv[] = {
	"apex-value-1111111111111111111111111111111",
	"wild-value-2222222222222222222222222222222"
};

static void
opts_init(struct dns01_opts *o, struct seen *s, long timeout)
{
	memset(o, 0, sizeof(*o));
	memset(s, 0, sizeof(*s));
	o->timeout_ms = timeout;
	o->interval_ms = 300;
	o->progress = on_progress;
	o->arg = s;
}

/* Explicit resolver: the values are there at once. */
static void
test_wait_resolver_at_once(void **state)
{
	struct fake *f = fake_start();
	struct dns01_server srv;
	struct dns01_opts o;
	struct seen s;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 2
	};
	long long t0;

	(void)state;
	/* challtestsrv-like: TXT only, no SOA. */
	f->zones[f->nzones++] = "certo.test";
	fake_add(f, rec.name, T_TXT, wantv[1], 0);
	fake_add(f, rec.name, T_TXT, wantv[0], 0);
	fake_server(f, &srv);
	opts_init(&o, &s, 5000);
	o.resolvers = &srv;
	o.nresolvers = 1;
	t0 = mono_ms();
	assert_int_equal(dns01_wait(&rec, 1, &o), 0);
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(s.rounds, 1);
	assert_int_equal(s.last_n, 1);
	assert_true(s.last_visible[0]);
	assert_string_equal(s.last_error[0], "");
	assert_int_equal(fake_count(f, T_SOA), 0);
	assert_int_equal(fake_count(f, T_NS), 0);
	/* Explicit resolvers may be recursive ones: recursion desired. */
	assert_int_equal(f->txt_rd, 1);
	fake_stop(f);
}

/* The second value appears after 700 ms; rounds ramp up quickly. */
static void
test_wait_resolver_later(void **state)
{
	struct fake *f = fake_start();
	struct dns01_server srv;
	struct dns01_opts o;
	struct seen s;
	struct dns01_record recs[2] = {
		{ "_acme-challenge.x.certo.test", &wantv[0], 1 },
		{ "_acme-challenge.x.certo.test", &wantv[1], 1 },
	};
	long long t0, dt;

	(void)state;
	f->zones[f->nzones++] = "certo.test";
	fake_add(f, recs[0].name, T_TXT, wantv[0], 0);
	fake_add(f, recs[0].name, T_TXT, wantv[1], 700);
	fake_server(f, &srv);
	opts_init(&o, &s, 8000);
	o.interval_ms = 2000;
	o.wait_extra_ms = 100;
	o.resolvers = &srv;
	o.nresolvers = 1;
	t0 = mono_ms();
	assert_int_equal(dns01_wait(recs, 2, &o), 0);
	dt = mono_ms() - t0;
	/* Rounds at 0, 250, 750 (visible): well before the 2 s interval. */
	assert_true(dt >= 700 + 100);
	assert_true(dt < 1700);
	assert_true(s.rounds >= 2 && s.rounds <= 4);
	assert_int_equal(s.last_n, 2);
	assert_true(s.last_visible[0] && s.last_visible[1]);
	fake_stop(f);
}

/* Timeout: the message names the record, the server and what lacks. */
static void
test_wait_timeout(void **state)
{
	struct fake *f = fake_start(), *dead = fake_start();
	struct dns01_server srv[2];
	struct dns01_opts o;
	struct seen s;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 2
	};
	char port[32], dport[32];
	const char *msg;

	(void)state;
	f->zones[f->nzones++] = "certo.test";
	fake_add(f, rec.name, T_TXT, wantv[0], 0);
	dead->mute = true;
	fake_server(f, &srv[0]);
	fake_server(dead, &srv[1]);
	opts_init(&o, &s, 1500);
	o.resolvers = srv;
	o.nresolvers = 2;
	certo_errclear();
	assert_int_equal(dns01_wait(&rec, 1, &o), CERTO_EDNSWAIT);
	msg = certo_errmsg();
	assert_non_null(msg);
	assert_null(strchr(msg, '\n'));
	snprintf(port, sizeof(port), "127.0.0.1:%u", (unsigned)f->port);
	snprintf(dport, sizeof(dport), "127.0.0.1:%u", (unsigned)dead->port);
	if (strstr(msg, "_acme-challenge.x.certo.test") == NULL ||
	    strstr(msg, port) == NULL || strstr(msg, dport) == NULL ||
	    strstr(msg, "1 of 2 values missing") == NULL ||
	    strstr(msg, "no answer") == NULL)
		fail_msg("message: %s", msg);
	/* The unreachable server was reported in progress, not fatal. */
	assert_true(s.rounds >= 1);
	assert_int_equal(s.last_n, 2);
	assert_false(s.last_visible[0]);
	assert_string_equal(s.last_error[0], "");
	assert_string_equal(s.last_error[1], "no answer");
	certo_errclear();
	fake_stop(f);
	fake_stop(dead);
}

/* Discovery against an authoritative server on a high port. */
static void
test_wait_discovery(void **state)
{
	struct fake *f = fake_start();
	struct dns01_server rec_srv;
	struct dns01_opts o;
	struct seen s;
	struct dns01_record recs[2] = {
		{ "_acme-challenge.x.certo.test", wantv, 2 },
		{ "_acme-challenge.c.certo.test", &wantv[0], 1 },
	};
	char want_srv[64];

	(void)state;
	f->zones[f->nzones++] = "certo.test";
	f->zones[f->nzones++] = "certo-dele.test";
	fake_add(f, "certo.test", T_NS, "ns1.certo.test", 0);
	fake_add(f, "certo-dele.test", T_NS, "ns1.certo.test", 0);
	fake_add(f, "ns1.certo.test", T_A, "127.0.0.1", 0);
	fake_add(f, recs[0].name, T_TXT, wantv[0], 0);
	fake_add(f, recs[0].name, T_TXT, wantv[1], 300);
	/* CNAME delegation to another zone. */
	fake_add(f, recs[1].name, T_CNAME, "c.acme.certo-dele.test", 0);
	fake_add(f, "c.acme.certo-dele.test", T_TXT, wantv[0], 0);
	fake_server(f, &rec_srv);
	opts_init(&o, &s, 6000);
	o.recursive = &rec_srv;
	assert_int_equal(dns01_wait(recs, 2, &o), 0);
	assert_true(fake_count(f, T_SOA) >= 2);
	assert_true(fake_count(f, T_NS) >= 1);
	assert_true(fake_count(f, T_CNAME) >= 2);
	/* Direct queries to authoritative servers: no recursion. */
	assert_int_equal(f->txt_rd, 0);
	assert_int_equal(s.last_n, 2);
	snprintf(want_srv, sizeof(want_srv), "ns1.certo.test/127.0.0.1:%u",
	    (unsigned)f->port);
	assert_string_equal(s.last_server[0], want_srv);
	assert_string_equal(s.last_server[1], want_srv);
	fake_stop(f);
}

/* Discovery that cannot work fails at once, not after the timeout:
 * SOA answered NOTIMP (what pebble-challtestsrv does), or REFUSED. */
static void
test_wait_discovery_refused(void **state)
{
	struct fake *f = fake_start();
	struct dns01_server rec_srv;
	struct dns01_opts o;
	struct seen s;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 1
	};
	long long t0;

	(void)state;
	f->zones[f->nzones++] = "certo.test";
	f->notimp_type = T_SOA;
	fake_server(f, &rec_srv);
	opts_init(&o, &s, 20000);
	o.recursive = &rec_srv;
	t0 = mono_ms();
	certo_errclear();
	assert_int_equal(dns01_wait(&rec, 1, &o), CERTO_EDNSWAIT);
	assert_true(mono_ms() - t0 < 3000);
	if (strstr(certo_errmsg(), "cannot find the zone") == NULL ||
	    strstr(certo_errmsg(), "_acme-challenge.x.certo.test") == NULL ||
	    strstr(certo_errmsg(), "NOTIMP") == NULL)
		fail_msg("message: %s", certo_errmsg());
	/* Every label was tried: x.certo.test, certo.test, test. */
	assert_int_equal(fake_count(f, T_SOA), 4);
	certo_errclear();

	/* A resolver that refuses us. */
	f->notimp_type = 0;
	f->rcode_all = 5;
	t0 = mono_ms();
	assert_int_equal(dns01_wait(&rec, 1, &o), CERTO_EDNSWAIT);
	assert_true(mono_ms() - t0 < 3000);
	if (strstr(certo_errmsg(), "REFUSED") == NULL)
		fail_msg("message: %s", certo_errmsg());
	certo_errclear();
	fake_stop(f);
}

/* Nothing answers discovery: retried until the timeout, then named. */
static void
test_wait_discovery_silent(void **state)
{
	struct fake *f = fake_start();
	struct dns01_server rec_srv;
	struct dns01_opts o;
	struct seen s;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 1
	};

	(void)state;
	f->mute = true;
	fake_server(f, &rec_srv);
	opts_init(&o, &s, 500);
	o.recursive = &rec_srv;
	certo_errclear();
	assert_int_equal(dns01_wait(&rec, 1, &o), CERTO_EDNSWAIT);
	if (strstr(certo_errmsg(), "name servers not found") == NULL ||
	    strstr(certo_errmsg(), "CNAME _acme-challenge.x.certo.test: no "
	    "answer") == NULL)
		fail_msg("message: %s", certo_errmsg());
	assert_true(s.rounds >= 1);
	assert_string_equal(s.last_server[0], "(name servers)/:0");
	certo_errclear();
	fake_stop(f);
}

/* Last: the signal flag cannot be reset. */
static void
test_wait_signal(void **state)
{
	struct fake *f = fake_start();
	struct dns01_server srv;
	struct dns01_opts o;
	struct seen s;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 1
	};

	(void)state;
	f->zones[f->nzones++] = "certo.test";
	fake_server(f, &srv);
	opts_init(&o, &s, 20000);
	o.resolvers = &srv;
	o.nresolvers = 1;
	sig_install();
	raise(SIGTERM);
	assert_int_equal(dns01_wait(&rec, 1, &o), CERTO_EINTR);
	certo_errclear();
	fake_stop(f);
}

/* ------------------------------------------------------------ driver mode */

static void
drv_progress(void *arg, const struct dns01_progress *p, size_t n, long left)
{
	(void)arg;
	for (size_t i = 0; i < n; i++)
		printf("progress: %s %s %s:%u %s %s (%ld ms left)\n", p[i].record,
		    p[i].server->name, p[i].server->addr,
		    (unsigned)p[i].server->port,
		    p[i].visible ? "visible" : "missing",
		    p[i].error != NULL ? p[i].error : "-", left);
	fflush(stdout);
}

static int
drv_usage(void)
{
	fprintf(stderr, "usage: unit_dns01 wait [--recursive A:P] "
	    "[--resolver A:P]... [--timeout MS] [--interval MS] "
	    "RECORD VALUE...\n"
	    "       unit_dns01 dump [--norecurse] SERVER NAME TYPE FILE\n");
	return 1;
}

static int
drv_wait(int argc, char **argv)
{
	struct dns01_server rec_srv, res[8];
	struct dns01_opts o;
	struct dns01_record rec;
	size_t nres = 0;
	bool have_rec = false;
	int i, rc;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = 10000;
	o.interval_ms = 1000;
	o.progress = drv_progress;
	for (i = 2; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			return drv_usage();
		if (strcmp(argv[i], "--recursive") == 0) {
			if (dns01_server_parse(argv[i + 1], &rec_srv) != 0)
				goto bad;
			have_rec = true;
		} else if (strcmp(argv[i], "--resolver") == 0 && nres < 8) {
			if (dns01_server_parse(argv[i + 1], &res[nres]) != 0)
				goto bad;
			nres++;
		} else if (strcmp(argv[i], "--timeout") == 0)
			o.timeout_ms = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--interval") == 0)
			o.interval_ms = atol(argv[i + 1]);
		else
			return drv_usage();
	}
	if (argc - i < 2)
		return drv_usage();
	rec.name = argv[i];
	rec.values = (const char *const *)&argv[i + 1];
	rec.nvalues = (size_t)(argc - i - 1);
	if (have_rec)
		o.recursive = &rec_srv;
	if (nres > 0) {
		o.resolvers = res;
		o.nresolvers = nres;
	}
	sig_install();
	rc = dns01_wait(&rec, 1, &o);
	if (have_rec)
		dns01_server_free(&rec_srv);
	for (size_t k = 0; k < nres; k++)
		dns01_server_free(&res[k]);
	if (rc != 0) {
		fprintf(stderr, "certo: %s\n", certo_errmsg() != NULL ?
		    certo_errmsg() : certo_strerror(rc));
		return certo_exitcode(rc);
	}
	printf("visible\n");
	return 0;
bad:
	fprintf(stderr, "certo: %s\n", certo_errmsg());
	return 1;
}

static void
drv_dump_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	const char *file = arg;
	FILE *f;

	(void)timeouts;
	if (abuf == NULL) {
		fprintf(stderr, "dump: %s\n", ares_strerror(status));
		return;
	}
	if ((f = fopen(file, "wb")) == NULL ||
	    fwrite(abuf, 1, (size_t)alen, f) != (size_t)alen)
		fprintf(stderr, "dump: cannot write %s\n", file);
	if (f != NULL)
		fclose(f);
}

static int
drv_dump(int argc, char **argv)
{
	static const struct { const char *n; int t; } types[] = {
		{ "A", T_A }, { "NS", T_NS }, { "CNAME", T_CNAME },
		{ "SOA", T_SOA }, { "TXT", T_TXT }, { "AAAA", T_AAAA },
	};
	struct dns01_server s;
	struct ares_options ao;
	struct ares_addr_port_node node;
	ares_channel ch;
	int i = 2, type = 0;

	memset(&ao, 0, sizeof(ao));
	ao.flags = ARES_FLAG_NOCHECKRESP;
	if (i < argc && strcmp(argv[i], "--norecurse") == 0) {
		ao.flags |= ARES_FLAG_NORECURSE;
		i++;
	}
	if (argc - i != 4 || dns01_server_parse(argv[i], &s) != 0)
		return drv_usage();
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
		if (strcmp(argv[i + 2], types[k].n) == 0)
			type = types[k].t;
	if (type == 0)
		return drv_usage();
	ares_library_init(ARES_LIB_INIT_ALL);
	if (ares_init_options(&ch, &ao, ARES_OPT_FLAGS) != ARES_SUCCESS)
		return 1;
	memset(&node, 0, sizeof(node));
	node.family = AF_INET;
	inet_pton(AF_INET, s.addr, &node.addr.addr4);
	node.udp_port = node.tcp_port = s.port;
	ares_set_servers_ports(ch, &node);
	ares_query(ch, argv[i + 1], 1, type, drv_dump_cb, argv[i + 3]);
	for (;;) {
		fd_set r, w;
		struct timeval tv, *tvp;
		int nfds;
		FD_ZERO(&r);
		FD_ZERO(&w);
		if ((nfds = ares_fds(ch, &r, &w)) == 0)
			break;
		tvp = ares_timeout(ch, NULL, &tv);
		select(nfds, &r, &w, NULL, tvp);
		ares_process(ch, &r, &w);
	}
	ares_destroy(ch);
	ares_library_cleanup();
	dns01_server_free(&s);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_name),
		cmocka_unit_test(test_name_helpers),
		cmocka_unit_test(test_txt_value_rfc8555),
		cmocka_unit_test(test_server_parse),
		cmocka_unit_test(test_msg_parse),
		cmocka_unit_test(test_msg_malformed),
		cmocka_unit_test(test_msg_compressed),
		cmocka_unit_test(test_cname_chase),
		cmocka_unit_test(test_zone_cut),
		cmocka_unit_test(test_ns_and_addrs),
		cmocka_unit_test(test_txt_parse),
		cmocka_unit_test(test_txt_hostile),
		cmocka_unit_test(test_knot_fixtures),
		cmocka_unit_test(test_wait_resolver_at_once),
		cmocka_unit_test(test_wait_resolver_later),
		cmocka_unit_test(test_wait_timeout),
		cmocka_unit_test(test_wait_discovery),
		cmocka_unit_test(test_wait_discovery_refused),
		cmocka_unit_test(test_wait_discovery_silent),
		cmocka_unit_test(test_wait_signal),
	};

	if (argc > 1 && strcmp(argv[1], "wait") == 0)
		return drv_wait(argc, argv);
	if (argc > 1 && strcmp(argv[1], "dump") == 0)
		return drv_dump(argc, argv);
	if (argc > 1)
		return drv_usage();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
