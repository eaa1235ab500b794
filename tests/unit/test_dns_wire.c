/*
 * The DNS wire format (client/dns_wire.h): names, string lists, the
 * message walker, and the decisions of the propagation check (CNAME
 * chain, zone cut, NS set, addresses, TXT values) on answers built here
 * (tests/unit/dns_testpkt.c), encoded independently from the examples of
 * RFC 1035 section 6.2 (tests/fixtures/dns-rfc1035-*.bin, made by
 * dns-rfc1035.py), and captured from knot (dns-knot-*.bin); see
 * tests/fixtures/dns-README.
 */
#include "testutil.h"

#include <ares.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_testpkt.h"
#include "dns_wire.h"
#include "errors.h"

/* ------------------------------------------------------------ names */

static void
test_name_helpers(void **state)
{
	(void)state;
	assert_string_equal(dns_name_parent("a.b.c"), "b.c");
	assert_string_equal(dns_name_parent("c"), "");
	assert_string_equal(dns_name_parent(""), "");
	assert_string_equal(dns_name_parent("a\\.b.c"), "c");
	assert_true(dns_name_eq("Example.COM", "example.com"));
	assert_false(dns_name_eq("example.com", "example.co"));
	assert_false(dns_name_eq("", "a"));
	assert_true(dns_name_under("a.b.example.com", "example.com"));
	assert_true(dns_name_under("example.com", "EXAMPLE.com"));
	assert_true(dns_name_under("example.com", ""));
	assert_false(dns_name_under("badexample.com", "example.com"));
	assert_false(dns_name_under("example.com", "a.example.com"));
	/* "a\.example" is one label. */
	assert_false(dns_name_under("a\\.example.com", "example.com"));
	assert_true(dns_name_under("a\\.example.com", "com"));
}

static void
test_name_dup_and_lists(void **state)
{
	struct dns_strs list = { 0 };
	char *name;

	(void)state;
	/* One trailing dot goes; an escaped one stays. */
	name = dns_name_dup("example.com.");
	assert_string_equal(name, "example.com");
	free(name);
	name = dns_name_dup("a\\.");
	assert_string_equal(name, "a\\.");
	free(name);
	name = dns_name_dup(".");
	assert_string_equal(name, "");
	free(name);
	name = dns_name_dup("");
	assert_string_equal(name, "");
	free(name);

	/* Names compare without case, values exactly. */
	assert_int_equal(dns_strs_add(&list, "NS1.example", true), 0);
	assert_int_equal(dns_strs_add(&list, "ns1.EXAMPLE", true), 0);
	assert_int_equal(list.n, 1);
	assert_int_equal(dns_strs_add(&list, "ns1.example", false), 0);
	assert_int_equal(dns_strs_add(&list, "ns1.example", false), 0);
	assert_int_equal(list.n, 2);
	assert_string_equal(list.v[1], "ns1.example");
	dns_strs_free(&list);
	assert_null(list.v);
	assert_int_equal(list.n, 0);
	dns_strs_free(&list);
	dns_strs_free(NULL);
}

/* ------------------------------------------------------------ messages */

static void
parse_pkt(const struct pkt *pkt, struct dns_msg *msg)
{
	assert_int_equal(dns_msg_parse(pkt->b, pkt->n, msg), 0);
}

static void
test_msg_parse(void **state)
{
	struct pkt pkt;
	struct dns_msg msg;

	(void)state;
	pkt_begin(&pkt, 1, 0x84, 0, "ns.certo.test", DNS_T_NS);
	pkt_rr(&pkt, AN, "certo.test", DNS_T_NS, "ns1.certo.test");
	pkt_rr(&pkt, AN, "certo.test", DNS_T_SOA,
	    "ns1.certo.test hostmaster.certo.test");
	pkt_rr(&pkt, NS, "certo.test", DNS_T_TXT, "x|y");
	pkt_rr(&pkt, AR, "ns1.certo.test", DNS_T_A, "192.0.2.1");
	pkt_rr(&pkt, AR, "ns1.certo.test", DNS_T_AAAA, "2001:db8::1");
	parse_pkt(&pkt, &msg);
	assert_int_equal(msg.rcode, 0);
	assert_true(msg.aa);
	assert_false(msg.tc);
	assert_int_equal(msg.nrr, 5);
	assert_int_equal(msg.rr[0].section, DNS_ANSWER);
	assert_string_equal(msg.rr[0].owner, "certo.test");
	assert_string_equal(msg.rr[0].target, "ns1.certo.test");
	assert_string_equal(msg.rr[1].target, "ns1.certo.test");
	assert_int_equal(msg.rr[2].section, DNS_AUTHORITY);
	assert_null(msg.rr[2].target);
	assert_int_equal(msg.rr[3].section, DNS_ADDITIONAL);
	assert_string_equal(msg.rr[3].addr, "192.0.2.1");
	assert_string_equal(msg.rr[4].addr, "2001:db8::1");
	dns_msg_free(&msg);
	assert_int_equal(msg.nrr, 0);
	dns_msg_free(&msg);
	dns_msg_free(NULL);

	/* NXDOMAIN, truncated bit. */
	pkt_begin(&pkt, 2, 0x86, 3, "a.b", DNS_T_TXT);
	parse_pkt(&pkt, &msg);
	assert_int_equal(msg.rcode, 3);
	assert_true(msg.tc);
	assert_int_equal(msg.nrr, 0);
	dns_msg_free(&msg);
}

static void
test_msg_malformed(void **state)
{
	struct pkt pkt;
	struct dns_msg msg;
	unsigned char four[4] = { 1, 2, 3, 4 };
	size_t n;

	(void)state;
	memset(&pkt, 0, sizeof(pkt));
	assert_int_equal(dns_msg_parse(pkt.b, 11, &msg), CERTO_EPROTO);
	assert_int_equal(dns_msg_parse(NULL, 0, &msg), CERTO_EPROTO);
	assert_int_equal(dns_msg_parse(pkt.b, DNS_MAX_ANSWER + 1, &msg),
	    CERTO_ETOOBIG);

	/* Every truncation of a good message is refused, never read past. */
	pkt_begin(&pkt, 1, 0x84, 0, "a.certo.test", DNS_T_TXT);
	pkt_rr(&pkt, AN, "a.certo.test", DNS_T_TXT, "value");
	pkt_rr(&pkt, AN, "a.certo.test", DNS_T_CNAME, "b.certo.test");
	for (n = 12; n < pkt.n; n++) {
		unsigned char *copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, pkt.b, n);
		assert_int_equal(dns_msg_parse(copy, n, &msg), CERTO_EPROTO);
		free(copy);
	}
	parse_pkt(&pkt, &msg);
	dns_msg_free(&msg);

	/* rdlength past the end. */
	pkt_begin(&pkt, 1, 0x84, 0, "a", DNS_T_A);
	pkt_rr_raw(&pkt, AN, "a", DNS_T_A, four, 4);
	pkt.b[pkt.n - 5] = 200;
	assert_int_equal(dns_msg_parse(pkt.b, pkt.n, &msg), CERTO_EPROTO);

	/* An A record of the wrong length. */
	pkt_begin(&pkt, 1, 0x84, 0, "a", DNS_T_A);
	pkt_rr_raw(&pkt, AN, "a", DNS_T_A, four, 3);
	assert_int_equal(dns_msg_parse(pkt.b, pkt.n, &msg), CERTO_EPROTO);

	/* A compression pointer to itself in the question. */
	pkt_begin(&pkt, 1, 0x84, 0, NULL, 0);
	pkt.cnt[QD] = 1;
	pkt_counts(&pkt);
	put8(&pkt, 0xc0);
	put8(&pkt, 12);
	put16(&pkt, DNS_T_A);
	put16(&pkt, 1);
	assert_int_equal(dns_msg_parse(pkt.b, pkt.n, &msg), CERTO_EPROTO);

	/* A CNAME whose target runs past its rdata. */
	pkt_begin(&pkt, 1, 0x84, 0, "a", DNS_T_CNAME);
	{
		unsigned char rd[] = { 1, 'b', 0 };
		pkt_rr_raw(&pkt, AN, "a", DNS_T_CNAME, rd, 3);
		/* rdlength 2: the root label is outside */
		pkt.b[pkt.n - 4] = 2;
		assert_int_equal(dns_msg_parse(pkt.b, pkt.n, &msg),
		    CERTO_EPROTO);
	}
}

static void
test_msg_compressed(void **state)
{
	struct pkt pkt;
	struct dns_msg msg;
	size_t qname_off = 12;

	(void)state;
	/* Hand-made compression: answers point at the question name. */
	pkt_begin(&pkt, 7, 0x84, 0, "_acme-challenge.x.certo.test",
	    DNS_T_CNAME);
	pkt.cnt[AN] = 1;
	pkt_counts(&pkt);
	put8(&pkt, 0xc0);
	put8(&pkt, (unsigned)qname_off);
	put16(&pkt, DNS_T_CNAME);
	put16(&pkt, 1);
	put16(&pkt, 0);
	put16(&pkt, 60);
	put16(&pkt, 7);
	/* "dele" + pointer to "certo.test" inside the question name. */
	put8(&pkt, 4);
	put8(&pkt, 'd');
	put8(&pkt, 'e');
	put8(&pkt, 'l');
	put8(&pkt, 'e');
	put8(&pkt, 0xc0);
	put8(&pkt, (unsigned)(qname_off + 1 + 15 + 1 + 1));
	parse_pkt(&pkt, &msg);
	assert_int_equal(msg.nrr, 1);
	assert_string_equal(msg.rr[0].owner, "_acme-challenge.x.certo.test");
	assert_string_equal(msg.rr[0].target, "dele.certo.test");
	dns_msg_free(&msg);
}

/* ------------------------------------------------------------ CNAMEs */

static void
test_cname_chase(void **state)
{
	struct pkt pkt;
	struct dns_msg msg;
	char *end;
	char names[12][32];

	(void)state;
	/* A chain, listed out of order, ends at c. */
	pkt_begin(&pkt, 1, 0x80, 0, "a.test", DNS_T_TXT);
	pkt_rr(&pkt, AN, "b.test", DNS_T_CNAME, "c.test");
	pkt_rr(&pkt, AN, "A.TEST", DNS_T_CNAME, "b.test");
	pkt_rr(&pkt, AN, "c.test", DNS_T_TXT, "v");
	pkt_rr(&pkt, NS, "d.test", DNS_T_CNAME, "e.test"); /* not an answer */
	parse_pkt(&pkt, &msg);
	assert_int_equal(dns_cname_chase(&msg, "a.test", 8, &end), 2);
	assert_string_equal(end, "c.test");
	free(end);
	assert_int_equal(dns_cname_chase(&msg, "c.test", 8, &end), 0);
	assert_string_equal(end, "c.test");
	free(end);
	assert_int_equal(dns_cname_chase(&msg, "d.test", 8, &end), 0);
	assert_string_equal(end, "d.test");
	free(end);
	/* A bound of one hop. */
	assert_int_equal(dns_cname_chase(&msg, "a.test", 1, &end),
	    CERTO_EPROTO);
	assert_null(end);
	dns_msg_free(&msg);

	/* A loop. */
	pkt_begin(&pkt, 1, 0x80, 0, "a.test", DNS_T_CNAME);
	pkt_rr(&pkt, AN, "a.test", DNS_T_CNAME, "b.test");
	pkt_rr(&pkt, AN, "b.test", DNS_T_CNAME, "a.test");
	parse_pkt(&pkt, &msg);
	assert_int_equal(dns_cname_chase(&msg, "a.test", 100, &end),
	    CERTO_EPROTO);
	dns_msg_free(&msg);

	/* Eight hops are followed, nine are not. */
	for (int i = 0; i < 12; i++)
		snprintf(names[i], sizeof(names[i]), "n%d.test", i);
	pkt_begin(&pkt, 1, 0x80, 0, names[0], DNS_T_CNAME);
	for (int i = 0; i < 9; i++)
		pkt_rr(&pkt, AN, names[i], DNS_T_CNAME, names[i + 1]);
	parse_pkt(&pkt, &msg);
	assert_int_equal(dns_cname_chase(&msg, names[1], 8, &end), 8);
	assert_string_equal(end, names[9]);
	free(end);
	assert_int_equal(dns_cname_chase(&msg, names[0], 100, &end),
	    CERTO_EPROTO);
	dns_msg_free(&msg);
}

/* ------------------------------------------------------------ zone cut */

static int
decide(const struct pkt *pkt, const char *qname, char **zone)
{
	struct dns_msg msg;
	int rc;

	parse_pkt(pkt, &msg);
	rc = dns_zone_decide(&msg, qname, zone);
	dns_msg_free(&msg);
	return rc;
}

static void
test_zone_cut(void **state)
{
	struct pkt pkt;
	char *zone;
	const char *q = "_acme-challenge.www.example.org";

	(void)state;
	/* The name is the apex: SOA in the answer. */
	pkt_begin(&pkt, 1, 0x84, 0, "example.org", DNS_T_SOA);
	pkt_rr(&pkt, AN, "Example.org", DNS_T_SOA,
	    "ns1.example.org h.example.org");
	assert_int_equal(decide(&pkt, "example.org", &zone), 1);
	assert_string_equal(zone, "Example.org");
	free(zone);
	/* ...but not an SOA owned by another name (after a CNAME). */
	pkt_begin(&pkt, 1, 0x84, 0, "www.example.org", DNS_T_SOA);
	pkt_rr(&pkt, AN, "www.example.org", DNS_T_CNAME, "cdn.other.net");
	pkt_rr(&pkt, AN, "cdn.other.net", DNS_T_SOA,
	    "ns.other.net h.other.net");
	assert_int_equal(decide(&pkt, "www.example.org", &zone), 0);
	assert_null(zone);

	/* NXDOMAIN: the authority SOA names the zone (RFC 2308). */
	pkt_begin(&pkt, 1, 0x84, 3, q, DNS_T_SOA);
	pkt_rr(&pkt, NS, "example.org", DNS_T_SOA,
	    "ns1.example.org h.example.org");
	assert_int_equal(decide(&pkt, q, &zone), 1);
	assert_string_equal(zone, "example.org");
	free(zone);
	/* NODATA likewise. */
	pkt_begin(&pkt, 1, 0x80, 0, "www.example.org", DNS_T_SOA);
	pkt_rr(&pkt, NS, "example.org", DNS_T_SOA,
	    "ns1.example.org h.example.org");
	assert_int_equal(decide(&pkt, "www.example.org", &zone), 1);
	assert_string_equal(zone, "example.org");
	free(zone);
	/* An authority SOA of an unrelated zone (the CNAME target's). */
	pkt_begin(&pkt, 1, 0x80, 0, "www.example.org", DNS_T_SOA);
	pkt_rr(&pkt, AN, "www.example.org", DNS_T_CNAME, "cdn.other.net");
	pkt_rr(&pkt, NS, "other.net", DNS_T_SOA, "ns.other.net h.other.net");
	assert_int_equal(decide(&pkt, "www.example.org", &zone), 0);
	/* A suffix that is not a label boundary. */
	pkt_begin(&pkt, 1, 0x80, 3, "www.badexample.org", DNS_T_SOA);
	pkt_rr(&pkt, NS, "example.org", DNS_T_SOA,
	    "ns1.example.org h.example.org");
	assert_int_equal(decide(&pkt, "www.badexample.org", &zone), 0);

	/* A referral from an authoritative server of the parent. */
	pkt_begin(&pkt, 1, 0x00, 0, q, DNS_T_SOA);
	pkt_rr(&pkt, NS, "www.example.org", DNS_T_NS, "ns.delegated.net");
	pkt_rr(&pkt, NS, "www.example.org", DNS_T_NS, "ns2.delegated.net");
	assert_int_equal(decide(&pkt, q, &zone), 1);
	assert_string_equal(zone, "www.example.org");
	free(zone);
	/* An NS set owned by the name itself, in the answer. */
	pkt_begin(&pkt, 1, 0x84, 0, "example.org", DNS_T_SOA);
	pkt_rr(&pkt, AN, "example.org", DNS_T_NS, "ns1.example.org");
	assert_int_equal(decide(&pkt, "example.org", &zone), 1);
	free(zone);

	/* Nothing helpful (REFUSED, an empty answer): go up. */
	pkt_begin(&pkt, 1, 0x80, 5, q, DNS_T_SOA);
	assert_int_equal(decide(&pkt, q, &zone), 0);
	pkt_begin(&pkt, 1, 0x80, 0, q, DNS_T_SOA);
	pkt_rr(&pkt, AR, "example.org", DNS_T_SOA,
	    "ns1.example.org h.example.org");
	assert_int_equal(decide(&pkt, q, &zone), 0);
}

/* ------------------------------------------------------------ NS set */

static void
test_ns_and_addrs(void **state)
{
	struct pkt pkt;
	struct dns_msg msg;
	struct dns_strs hosts = { 0 }, addrs = { 0 };

	(void)state;
	pkt_begin(&pkt, 1, 0x84, 0, "certo.test", DNS_T_NS);
	pkt_rr(&pkt, AN, "certo.test", DNS_T_NS, "ns1.certo.test");
	pkt_rr(&pkt, AN, "CERTO.test", DNS_T_NS,
	    "NS1.certo.test"); /* duplicate */
	pkt_rr(&pkt, AN, "certo.test", DNS_T_NS, "ns2.elsewhere.test");
	pkt_rr(&pkt, AN, "other.test", DNS_T_NS, "ns3.other.test");
	pkt_rr(&pkt, AR, "ns1.certo.test", DNS_T_A, "127.0.0.1");
	pkt_rr(&pkt, AR, "ns1.certo.test", DNS_T_AAAA, "::1");
	pkt_rr(&pkt, AR, "ns1.certo.test", DNS_T_A, "127.0.0.1");
	pkt_rr(&pkt, AR, "ns3.other.test", DNS_T_A, "127.0.0.3");
	parse_pkt(&pkt, &msg);
	assert_int_equal(dns_ns_hosts(&msg, "certo.test", &hosts), 0);
	assert_int_equal(hosts.n, 2);
	assert_string_equal(hosts.v[0], "ns1.certo.test");
	assert_string_equal(hosts.v[1], "ns2.elsewhere.test");
	/* Glue. */
	assert_int_equal(dns_host_addrs(&msg, "ns1.certo.test", &addrs), 0);
	assert_int_equal(addrs.n, 2);
	assert_string_equal(addrs.v[0], "127.0.0.1");
	assert_string_equal(addrs.v[1], "::1");
	dns_strs_free(&addrs);
	assert_int_equal(dns_host_addrs(&msg, "ns2.elsewhere.test", &addrs), 0);
	assert_int_equal(addrs.n, 0);
	dns_msg_free(&msg);
	dns_strs_free(&hosts);
	dns_strs_free(&hosts);

	/* A referral's NS set is in the authority section. */
	pkt_begin(&pkt, 1, 0x00, 0, "sub.certo.test", DNS_T_NS);
	pkt_rr(&pkt, NS, "sub.certo.test", DNS_T_NS, "ns.sub.certo.test");
	pkt_rr(&pkt, AR, "ns.sub.certo.test", DNS_T_A, "192.0.2.7");
	parse_pkt(&pkt, &msg);
	assert_int_equal(dns_ns_hosts(&msg, "sub.certo.test", &hosts), 0);
	assert_int_equal(hosts.n, 1);
	assert_int_equal(dns_host_addrs(&msg, hosts.v[0], &addrs), 0);
	assert_int_equal(addrs.n, 1);
	assert_string_equal(addrs.v[0], "192.0.2.7");
	dns_strs_free(&addrs);
	dns_strs_free(&hosts);
	dns_msg_free(&msg);

	/* An A answer through a CNAME. */
	pkt_begin(&pkt, 1, 0x80, 0, "ns.alias.test", DNS_T_A);
	pkt_rr(&pkt, AN, "ns.alias.test", DNS_T_CNAME, "real.ns.test");
	pkt_rr(&pkt, AN, "real.ns.test", DNS_T_A, "198.51.100.1");
	pkt_rr(&pkt, AN, "unrelated.test", DNS_T_A, "198.51.100.2");
	parse_pkt(&pkt, &msg);
	assert_int_equal(dns_host_addrs(&msg, "ns.alias.test", &addrs), 0);
	assert_int_equal(addrs.n, 1);
	assert_string_equal(addrs.v[0], "198.51.100.1");
	dns_strs_free(&addrs);
	dns_msg_free(&msg);

	/* At most DNS_MAX_NS hosts. */
	pkt_begin(&pkt, 1, 0x84, 0, "big.test", DNS_T_NS);
	for (int i = 0; i < DNS_MAX_NS + 5; i++) {
		char h[32];
		snprintf(h, sizeof(h), "ns%d.big.test", i);
		pkt_rr(&pkt, AN, "big.test", DNS_T_NS, h);
	}
	parse_pkt(&pkt, &msg);
	assert_int_equal(dns_ns_hosts(&msg, "big.test", &hosts), 0);
	assert_int_equal(hosts.n, DNS_MAX_NS);
	dns_strs_free(&hosts);
	dns_msg_free(&msg);
}

/* ------------------------------------------------------------ TXT */

/* The records of pkt joined as ares_parse_txt_reply_ext() sees them. */
static void
ares_txt(const struct pkt *pkt, struct dns_strs *out)
{
	struct ares_txt_ext *txt = NULL, *t;
	char buf[4096];
	size_t n = 0;
	bool have = false;

	assert_int_equal(ares_parse_txt_reply_ext(pkt->b, (int)pkt->n, &txt),
	    ARES_SUCCESS);
	for (t = txt; t != NULL; t = t->next) {
		if (t->record_start && have) {
			buf[n] = '\0';
			assert_int_equal(dns_strs_add(out, buf, false), 0);
			n = 0;
		}
		assert_true(n + t->length < sizeof(buf));
		memcpy(buf + n, t->txt, t->length);
		n += t->length;
		have = true;
	}
	if (have) {
		buf[n] = '\0';
		assert_int_equal(dns_strs_add(out, buf, false), 0);
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
	struct pkt pkt;
	struct dns_strs txt = { 0 }, ref = { 0 };
	char split[128], near[4][128];

	(void)state;
	/* Two records; the second split into strings; an empty string. */
	snprintf(split, sizeof(split), "%.15s|%s|", want[1], want[1] + 15);
	pkt_begin(&pkt, 1, 0x84, 0, name, DNS_T_TXT);
	pkt_rr(&pkt, AN, name, DNS_T_TXT, want[0]);
	pkt_rr(&pkt, AN, "_ACME-challenge.x.certo.test", DNS_T_TXT, split);
	pkt_rr(&pkt, AN, name, DNS_T_TXT, "v=spf1 -all");
	assert_int_equal(dns_txt_parse(pkt.b, pkt.n, name, &txt), 0);
	assert_int_equal(txt.n, 3);
	assert_string_equal(txt.v[0], want[0]);
	assert_string_equal(txt.v[1], want[1]);
	assert_string_equal(txt.v[2], "v=spf1 -all");
	assert_int_equal(dns_txt_missing(&txt, want, 2), 0);
	assert_int_equal(dns_txt_missing(&txt, want, 1), 0);
	/* c-ares' own parser agrees. */
	ares_txt(&pkt, &ref);
	assert_int_equal(ref.n, txt.n);
	for (size_t i = 0; i < ref.n; i++)
		assert_string_equal(ref.v[i], txt.v[i]);
	dns_strs_free(&ref);
	dns_strs_free(&txt);

	/* Only the apex value so far: one of two missing. */
	pkt_begin(&pkt, 1, 0x84, 0, name, DNS_T_TXT);
	pkt_rr(&pkt, AN, name, DNS_T_TXT, want[0]);
	/* Records of other names, and outside the answer, do not count. */
	pkt_rr(&pkt, AN, "_acme-challenge.y.certo.test", DNS_T_TXT, want[1]);
	pkt_rr(&pkt, NS, name, DNS_T_TXT, want[1]);
	assert_int_equal(dns_txt_parse(pkt.b, pkt.n, name, &txt), 0);
	assert_int_equal(txt.n, 1);
	assert_int_equal(dns_txt_missing(&txt, want, 2), 1);
	dns_strs_free(&txt);

	/* Exact comparison: prefixes, case and quotes are not matches. */
	snprintf(near[0], sizeof(near[0]), "%.*s", (int)strlen(want[0]) - 1,
	    want[0]);
	snprintf(near[1], sizeof(near[1]), "A%s", want[0] + 1);
	snprintf(near[2], sizeof(near[2]), "\"%s\"", want[0]);
	snprintf(near[3], sizeof(near[3]), "%s|x", want[0]);
	pkt_begin(&pkt, 1, 0x84, 0, name, DNS_T_TXT);
	for (int i = 0; i < 4; i++)
		pkt_rr(&pkt, AN, name, DNS_T_TXT, near[i]);
	assert_int_equal(dns_txt_parse(pkt.b, pkt.n, name, &txt), 0);
	assert_int_equal(txt.n, 4);
	assert_int_equal(dns_txt_missing(&txt, want, 1), 1);
	dns_strs_free(&txt);

	/* NXDOMAIN and NODATA: nothing. */
	pkt_begin(&pkt, 1, 0x84, 3, name, DNS_T_TXT);
	pkt_rr(&pkt, NS, "certo.test", DNS_T_SOA,
	    "ns1.certo.test h.certo.test");
	assert_int_equal(dns_txt_parse(pkt.b, pkt.n, name, &txt), 0);
	assert_int_equal(txt.n, 0);
	assert_int_equal(dns_txt_missing(&txt, want, 2), 2);

	/* A recursive resolver's answer through a CNAME. */
	pkt_begin(&pkt, 1, 0x80, 0, name, DNS_T_TXT);
	pkt_rr(&pkt, AN, name, DNS_T_CNAME, "x.acme.dele.test");
	pkt_rr(&pkt, AN, "x.acme.dele.test", DNS_T_TXT, want[1]);
	assert_int_equal(dns_txt_parse(pkt.b, pkt.n, name, &txt), 0);
	assert_int_equal(txt.n, 1);
	assert_string_equal(txt.v[0], want[1]);
	dns_strs_free(&txt);

	/* Duplicates count once. */
	pkt_begin(&pkt, 1, 0x84, 0, name, DNS_T_TXT);
	pkt_rr(&pkt, AN, name, DNS_T_TXT, "same");
	pkt_rr(&pkt, AN, name, DNS_T_TXT, "sa|me");
	assert_int_equal(dns_txt_parse(pkt.b, pkt.n, name, &txt), 0);
	assert_int_equal(txt.n, 1);
	dns_strs_free(&txt);
}

static void
test_txt_hostile(void **state)
{
	const char *name = "_acme-challenge.x.certo.test";
	struct pkt pkt;
	struct dns_strs txt = { 0 };
	unsigned char rd[600];

	(void)state;
	/* A NUL inside: skipped, never matches a prefix. */
	pkt_begin(&pkt, 1, 0x84, 0, name, DNS_T_TXT);
	memcpy(rd, "\x05" "ab\0cd", 6);
	pkt_rr_raw(&pkt, AN, name, DNS_T_TXT, rd, 6);
	pkt_rr(&pkt, AN, name, DNS_T_TXT, "ok");
	assert_int_equal(dns_txt_parse(pkt.b, pkt.n, name, &txt), 0);
	assert_int_equal(txt.n, 1);
	assert_string_equal(txt.v[0], "ok");
	dns_strs_free(&txt);

	/* A string length past the rdata. */
	pkt_begin(&pkt, 1, 0x84, 0, name, DNS_T_TXT);
	memcpy(rd, "\x09" "abc", 4);
	pkt_rr_raw(&pkt, AN, name, DNS_T_TXT, rd, 4);
	assert_int_equal(dns_txt_parse(pkt.b, pkt.n, name, &txt), CERTO_EPROTO);
	dns_strs_free(&txt);

	/* A record longer than DNS_MAX_TXT_LEN (in a TCP-sized answer):
	 * skipped; the other record still counts. */
	{
		unsigned char *big = malloc(DNS_MAX_TXT_LEN + 600);
		struct pkt *bigpkt = calloc(1, sizeof(*bigpkt));
		size_t n = 0;
		assert_non_null(big);
		assert_non_null(bigpkt);
		while (n + 256 <= DNS_MAX_TXT_LEN + 300) {
			big[n] = 255;
			memset(big + n + 1, 'z', 255);
			n += 256;
		}
		pkt_begin(bigpkt, 1, 0x84, 0, name, DNS_T_TXT);
		pkt_rr_raw(bigpkt, AN, name, DNS_T_TXT, big, n);
		pkt_rr(bigpkt, AN, name, DNS_T_TXT, "ok");
		assert_int_equal(dns_txt_parse(bigpkt->b, bigpkt->n, name,
		    &txt), 0);
		assert_int_equal(txt.n, 1);
		assert_string_equal(txt.v[0], "ok");
		dns_strs_free(&txt);
		free(big);
		free(bigpkt);
	}
	/* Garbage. */
	assert_int_equal(dns_txt_parse((const unsigned char *)"xx", 2, name,
	    &txt), CERTO_EPROTO);
}

/* Answers captured from knot 3.2 (real name compression); see
 * tests/fixtures/dns-README. */
static void
test_knot_fixtures(void **state)
{
	struct dns_msg msg;
	struct dns_strs list = { 0 };
	char *zone, *pkt;
	size_t len;

	(void)state;
	pkt = tu_fixture("dns-knot-soa-nxdomain.bin", &len);
	assert_int_equal(dns_msg_parse((unsigned char *)pkt, len, &msg), 0);
	assert_int_equal(msg.rcode, 3);
	assert_true(msg.aa);
	assert_int_equal(dns_zone_decide(&msg, "_acme-challenge.x.certo.test",
	    &zone), 1);
	assert_string_equal(zone, "certo.test");
	free(zone);
	dns_msg_free(&msg);
	free(pkt);

	pkt = tu_fixture("dns-knot-ns.bin", &len);
	assert_int_equal(dns_msg_parse((unsigned char *)pkt, len, &msg), 0);
	assert_int_equal(dns_ns_hosts(&msg, "certo.test", &list), 0);
	assert_int_equal(list.n, 1);
	assert_string_equal(list.v[0], "ns1.certo.test");
	dns_strs_free(&list);
	assert_int_equal(dns_host_addrs(&msg, "ns1.certo.test", &list), 0);
	assert_int_equal(list.n, 1);
	assert_string_equal(list.v[0], "127.0.0.1");
	dns_strs_free(&list);
	dns_msg_free(&msg);
	free(pkt);

	pkt = tu_fixture("dns-knot-cname.bin", &len);
	assert_int_equal(dns_msg_parse((unsigned char *)pkt, len, &msg), 0);
	assert_int_equal(dns_cname_chase(&msg, "_acme-challenge.c.certo.test",
	    8, &zone), 1);
	assert_string_equal(zone, "c.acme.certo-dele.test");
	free(zone);
	dns_msg_free(&msg);
	free(pkt);

	pkt = tu_fixture("dns-knot-txt-multi.bin", &len);
	assert_int_equal(dns_txt_parse((unsigned char *)pkt, len,
	    "_acme-challenge.m.certo.test", &list), 0);
	assert_int_equal(list.n, 2);
	assert_int_equal(dns_strs_add(&list, "one-record-in-two-strings",
	    false), 0);
	assert_int_equal(dns_strs_add(&list, "second-record", false), 0);
	assert_int_equal(list.n, 2);
	dns_strs_free(&list);
	free(pkt);
}

/* ------------------------------------------------------------ RFC 1035 */

static void
parse_fixture(const char *name, struct dns_msg *msg)
{
	size_t len;
	char *pkt = tu_fixture(name, &len);

	assert_int_equal(dns_msg_parse((unsigned char *)pkt, len, msg), 0);
	free(pkt);
}

/* 6.2.1: SRI-NIC.ARPA A, authoritative; c-ares' parser agrees. */
static void
test_rfc1035_a(void **state)
{
	struct dns_msg msg;
	struct dns_strs addrs = { 0 };
	struct ares_addrttl ttls[4];
	int nttls = 4;
	size_t len;
	char *pkt, *end, ip[INET_ADDRSTRLEN];

	(void)state;
	parse_fixture("dns-rfc1035-a.bin", &msg);
	assert_int_equal(msg.rcode, DNS_RCODE_NOERROR);
	assert_true(msg.aa);
	assert_false(msg.tc);
	assert_int_equal(msg.nrr, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(msg.rr[i].section, DNS_ANSWER);
		assert_int_equal(msg.rr[i].type, DNS_T_A);
		/* Names keep their case; comparisons ignore it. */
		assert_string_equal(msg.rr[i].owner, "SRI-NIC.ARPA");
		assert_null(msg.rr[i].target);
	}
	assert_string_equal(msg.rr[0].addr, "26.0.0.73");
	assert_string_equal(msg.rr[1].addr, "10.0.0.51");
	assert_int_equal(dns_host_addrs(&msg, "sri-nic.arpa", &addrs), 0);
	assert_int_equal(addrs.n, 2);
	assert_int_equal(dns_cname_chase(&msg, "sri-nic.arpa", 8, &end), 0);
	assert_string_equal(end, "sri-nic.arpa");
	free(end);
	dns_msg_free(&msg);

	pkt = tu_fixture("dns-rfc1035-a.bin", &len);
	assert_int_equal(ares_parse_a_reply((unsigned char *)pkt, (int)len,
	    NULL, ttls, &nttls), ARES_SUCCESS);
	assert_int_equal(nttls, 2);
	for (int i = 0; i < nttls; i++) {
		inet_ntop(AF_INET, &ttls[i].ipaddr, ip, sizeof(ip));
		assert_string_equal(ip, addrs.v[i]);
		assert_int_equal(ttls[i].ttl, 86400);
	}
	free(pkt);
	dns_strs_free(&addrs);
}

/* 6.2.4: an MX answer (a type certo does not type, whose rdata holds a
 * compressed name) is walked over; the exchange's addresses are found
 * in the additional section. */
static void
test_rfc1035_mx(void **state)
{
	struct dns_msg msg;
	struct dns_strs addrs = { 0 }, hosts = { 0 };
	char *zone;

	(void)state;
	parse_fixture("dns-rfc1035-mx.bin", &msg);
	assert_int_equal(msg.nrr, 3);
	assert_int_equal(msg.rr[0].type, 15);
	assert_null(msg.rr[0].target);
	assert_string_equal(msg.rr[0].addr, "");
	assert_int_equal(msg.rr[1].section, DNS_ADDITIONAL);
	assert_int_equal(dns_host_addrs(&msg, "SRI-NIC.ARPA", &addrs), 0);
	assert_int_equal(addrs.n, 2);
	assert_string_equal(addrs.v[0], "26.0.0.73");
	assert_string_equal(addrs.v[1], "10.0.0.51");
	/* Not a zone apex, not a referral, no NS set. */
	assert_int_equal(dns_zone_decide(&msg, "sri-nic.arpa", &zone), 0);
	assert_null(zone);
	assert_int_equal(dns_ns_hosts(&msg, "sri-nic.arpa", &hosts), 0);
	assert_int_equal(hosts.n, 0);
	dns_strs_free(&hosts);
	dns_strs_free(&addrs);
	dns_msg_free(&msg);
}

/* 6.2.5: a name error carries the SOA of the root, the zone that holds
 * SIR-NIC.ARPA in that example; its names are compressed pointers into
 * the question. */
static void
test_rfc1035_nxdomain(void **state)
{
	struct dns_msg msg;
	char *zone;

	(void)state;
	parse_fixture("dns-rfc1035-nxdomain.bin", &msg);
	assert_int_equal(msg.rcode, DNS_RCODE_NXDOMAIN);
	assert_true(msg.aa);
	assert_int_equal(msg.nrr, 1);
	assert_int_equal(msg.rr[0].section, DNS_AUTHORITY);
	assert_int_equal(msg.rr[0].type, DNS_T_SOA);
	assert_string_equal(msg.rr[0].owner, "");
	assert_string_equal(msg.rr[0].target, "SRI-NIC.ARPA");
	assert_int_equal(dns_zone_decide(&msg, "sir-nic.arpa", &zone), 1);
	assert_string_equal(zone, "");
	free(zone);
	dns_msg_free(&msg);
}

/* 6.2.6: a referral to MIL's name servers, with glue for both. */
static void
test_rfc1035_referral(void **state)
{
	struct dns_msg msg;
	struct dns_strs hosts = { 0 }, addrs = { 0 };
	char *zone;

	(void)state;
	parse_fixture("dns-rfc1035-referral.bin", &msg);
	assert_false(msg.aa);
	assert_int_equal(msg.nrr, 5);
	assert_int_equal(dns_zone_decide(&msg, "brl.mil", &zone), 1);
	assert_string_equal(zone, "MIL");
	assert_int_equal(dns_ns_hosts(&msg, zone, &hosts), 0);
	assert_int_equal(hosts.n, 2);
	assert_string_equal(hosts.v[0], "SRI-NIC.ARPA");
	assert_string_equal(hosts.v[1], "A.ISI.EDU");
	assert_int_equal(dns_host_addrs(&msg, hosts.v[1], &addrs), 0);
	assert_int_equal(addrs.n, 1);
	assert_string_equal(addrs.v[0], "26.3.0.103");
	dns_strs_free(&addrs);
	assert_int_equal(dns_host_addrs(&msg, hosts.v[0], &addrs), 0);
	assert_int_equal(addrs.n, 2);
	dns_strs_free(&addrs);
	dns_strs_free(&hosts);
	free(zone);
	dns_msg_free(&msg);
}

/* 6.2.7: an alias and the address of its canonical name. */
static void
test_rfc1035_cname(void **state)
{
	struct dns_msg msg;
	struct dns_strs addrs = { 0 };
	char *end;

	(void)state;
	parse_fixture("dns-rfc1035-cname.bin", &msg);
	assert_int_equal(msg.nrr, 2);
	assert_int_equal(msg.rr[0].type, DNS_T_CNAME);
	assert_string_equal(msg.rr[0].target, "C.ISI.EDU");
	assert_int_equal(dns_cname_chase(&msg, "usc-isic.arpa", 8, &end), 1);
	assert_string_equal(end, "C.ISI.EDU");
	free(end);
	assert_int_equal(dns_host_addrs(&msg, "usc-isic.arpa", &addrs), 0);
	assert_int_equal(addrs.n, 1);
	assert_string_equal(addrs.v[0], "10.0.0.52");
	dns_strs_free(&addrs);
	/* Every truncation of a real answer is refused, never read past. */
	{
		size_t len;
		char *pkt = tu_fixture("dns-rfc1035-cname.bin", &len);
		struct dns_msg cut;
		for (size_t n = 0; n < len; n++) {
			unsigned char *copy = malloc(n + 1);
			assert_non_null(copy);
			memcpy(copy, pkt, n);
			assert_int_equal(dns_msg_parse(copy, n, &cut),
			    CERTO_EPROTO);
			free(copy);
		}
		free(pkt);
	}
	dns_msg_free(&msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_helpers),
		cmocka_unit_test(test_name_dup_and_lists),
		cmocka_unit_test(test_msg_parse),
		cmocka_unit_test(test_msg_malformed),
		cmocka_unit_test(test_msg_compressed),
		cmocka_unit_test(test_cname_chase),
		cmocka_unit_test(test_zone_cut),
		cmocka_unit_test(test_ns_and_addrs),
		cmocka_unit_test(test_txt_parse),
		cmocka_unit_test(test_txt_hostile),
		cmocka_unit_test(test_knot_fixtures),
		cmocka_unit_test(test_rfc1035_a),
		cmocka_unit_test(test_rfc1035_mx),
		cmocka_unit_test(test_rfc1035_nxdomain),
		cmocka_unit_test(test_rfc1035_referral),
		cmocka_unit_test(test_rfc1035_cname),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
