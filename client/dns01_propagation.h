/*
 * DNS-01 propagation check (c-ares): before certo tells the CA to
 * validate, every authoritative name server of the zone holding
 * _acme-challenge.<name> (after following CNAMEs) must answer with
 * every expected TXT value.  With explicit resolvers (--dns-resolver)
 * those servers are queried instead of discovered ones.
 */
#ifndef CERTO_DNS01_PROPAGATION_H
#define CERTO_DNS01_PROPAGATION_H

#include <stdbool.h>
#include <stddef.h>

#define DNS01_MAX_ANSWER 65535

/* A name server address to query directly. */
struct dns01_server {
	char *name;              /* "ns1.example.com." or the address */
	char *addr;              /* numeric IPv4 or IPv6 */
	unsigned short port;     /* 53 unless given */
};

/* One record name and the TXT values that must all be visible there. */
struct dns01_record {
	const char *name;        /* "_acme-challenge.example.com" (no dot) */
	const char *const *values;
	size_t nvalues;
};

/* Progress of one (record, server) pair, for the live line. */
struct dns01_progress {
	const char *record;
	const struct dns01_server *server;
	bool visible;            /* all values seen in the last round */
	const char *error;       /* NULL, or why the last query failed */
};

struct dns01_opts {
	const struct dns01_server *resolvers; /* NULL: discover */
	size_t nresolvers;
	long timeout_ms;         /* overall; then CERTO_EDNSWAIT */
	long interval_ms;        /* between rounds (shorter at first) */
	long wait_extra_ms;      /* after all are visible (anycast lag) */
	/* Called after every round; may be NULL. */
	void (*progress)(void *arg, const struct dns01_progress *p, size_t n,
	    long ms_left);
	void *arg;
	/* For tests: resolver used for discovery (SOA/NS/A/AAAA/CNAME
	 * walking); NULL: the system's (/etc/resolv.conf).  When given,
	 * discovered name server addresses are queried on its port too
	 * (a test and split-DNS knob: an authoritative server on a high
	 * port that also answers the discovery queries). */
	const struct dns01_server *recursive;
};

/* "_acme-challenge.<name>" for an identifier ("*." dropped). Malloc'd. */
int dns01_record_name(const char *ident, char **out);
/* base64url(SHA-256(keyauth)): the TXT value (RFC 8555 8.4). Malloc'd. */
int dns01_txt_value(const char *keyauth, char **out);
/* Parse "ADDR", "ADDR:PORT", "[V6]:PORT" into s (malloc'd members). */
int dns01_server_parse(const char *spec, struct dns01_server *s);
void dns01_server_free(struct dns01_server *s);

/*
 * Wait until every record's values are visible on every server.
 * Returns 0, CERTO_EDNSWAIT on timeout (message names the servers
 * that never showed the values), CERTO_EINTR on a signal.
 */
int dns01_wait(const struct dns01_record *recs, size_t nrecs,
    const struct dns01_opts *o);

/*
 * Internals, declared here for tests/unit/test_dns01.c only: the DNS
 * message walker and the pure decisions of discovery (CNAME chain,
 * zone cut, NS set, addresses) and of the TXT check, fed with canned
 * answers by the tests.  Names are in presentation form without the
 * trailing dot ("" is the root), compared case-insensitively.
 */
#define DNS01_MAX_RR 256         /* records parsed from one answer */
#define DNS01_MAX_CNAME 8        /* CNAME hops followed */
#define DNS01_MAX_TXT_LEN 2048   /* one TXT record, strings joined */
#define DNS01_MAX_NS 16          /* name servers used per zone */
#define DNS01_MAX_ADDRS 8        /* addresses used per name server */

enum dns01_section {
	DNS01_ANSWER = 1,
	DNS01_AUTHORITY = 2,
	DNS01_ADDITIONAL = 3
};

/* One resource record of class IN. */
struct dns01_rr {
	enum dns01_section section;
	int type;                /* 1 A, 2 NS, 5 CNAME, 6 SOA, 16 TXT, 28 AAAA */
	char *owner;
	char *target;            /* CNAME and NS target, SOA MNAME; else NULL */
	char addr[46];           /* A and AAAA in text form; else "" */
};

/* A parsed DNS message: header bits and its records. */
struct dns01_msg {
	int rcode;
	bool aa, tc;
	struct dns01_rr *rr;
	size_t nrr;
};

/* A list of malloc'd strings. */
struct dns01_strs {
	char **v;
	size_t n;
};

/*
 * Parse a DNS message (at most DNS01_MAX_ANSWER bytes; records past
 * DNS01_MAX_RR are ignored).  Returns 0, CERTO_EPROTO on a malformed
 * message, CERTO_ETOOBIG, CERTO_ENOMEM.  Free m with dns01_msg_free().
 */
int dns01_msg_parse(const unsigned char *pkt, size_t len,
    struct dns01_msg *m);
void dns01_msg_free(struct dns01_msg *m);

/*
 * Follow the CNAME chain of name through m's answer section.  Returns
 * the number of hops (0: not an alias in m) with the chain's end in
 * *out (malloc'd, also for 0 hops), or CERTO_EPROTO when the chain is
 * longer than maxhops or loops.
 */
int dns01_cname_chase(const struct dns01_msg *m, const char *name,
    size_t maxhops, char **out);

/*
 * The zone cut, from the answer m to an SOA query for qname: 1 with
 * the zone apex in *zone (malloc'd) when m has an SOA or NS record
 * owned by qname in its answer section, or an SOA in its authority
 * section owned by qname or one of its parents (a negative answer,
 * RFC 2308); 0 when the walk must go up a label.
 */
int dns01_zone_decide(const struct dns01_msg *m, const char *qname,
    char **zone);

/* The NS targets of zone in m's answer or authority section (at most
 * DNS01_MAX_NS, no duplicates), appended to *hosts.  Returns 0 or
 * CERTO_ENOMEM. */
int dns01_ns_hosts(const struct dns01_msg *m, const char *zone,
    struct dns01_strs *hosts);

/* The A and AAAA addresses of host in any section of m (answers and
 * glue), following its CNAME chain in the answer section (at most
 * DNS01_MAX_ADDRS, no duplicates), appended to *addrs.  Returns 0 or
 * CERTO_ENOMEM. */
int dns01_host_addrs(const struct dns01_msg *m, const char *host,
    struct dns01_strs *addrs);

/*
 * The TXT records owned by name in the answer section of pkt, the
 * strings of each record joined (RFC 8555 8.4 practice), appended to
 * *txt.  Records with a NUL byte or longer than DNS01_MAX_TXT_LEN are
 * skipped.  Returns 0, CERTO_EPROTO, CERTO_ENOMEM.
 */
int dns01_txt_parse(const unsigned char *pkt, size_t len, const char *name,
    struct dns01_strs *txt);
/* How many of values[0..n) are not in txt (exact comparison). */
size_t dns01_txt_missing(const struct dns01_strs *txt,
    const char *const *values, size_t n);

/* Append a copy of s unless present (case-insensitive when icase). */
int dns01_strs_add(struct dns01_strs *l, const char *s, bool icase);
void dns01_strs_free(struct dns01_strs *l);

/* The parent of name ("a.b" -> "b", "b" -> ""), a pointer into name;
 * honours "\." escapes. */
const char *dns01_name_parent(const char *name);
/* Names equal, ASCII case-insensitively. */
bool dns01_name_eq(const char *a, const char *b);
/* name is zone or below it. */
bool dns01_name_under(const char *name, const char *zone);

#endif
