/*
 * The DNS wire format (RFC 1035), read only: a pure module with no I/O
 * and no state.  It walks a message's records (name compression
 * expanded by c-ares' ares_expand_name), types the ones DNS-01 needs
 * (A, AAAA, NS, CNAME, SOA, TXT) and makes the decisions of the
 * propagation check on one answer: CNAME chain, zone cut, NS set,
 * addresses, TXT values.  Every answer it is handed comes from the
 * network: it is bounded (DNS_MAX_*), never reads past the length, and
 * reports a malformed message as CERTO_EPROTO.  tests/unit/test_dns_wire.c
 * and tests/fuzz/fuzz_dns.c drive it.
 *
 * Names are in presentation form without the trailing dot ("" is the
 * root, "\." an escaped dot inside a label), compared ASCII
 * case-insensitively.
 */
#ifndef CERTO_DNS_WIRE_H
#define CERTO_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#define DNS_MAX_ANSWER 65535     /* one message (TCP-sized) */
#define DNS_MAX_RR 256           /* records parsed from one answer */
#define DNS_MAX_CNAME 8          /* CNAME hops followed */
#define DNS_MAX_TXT_LEN 2048     /* one TXT record, strings joined */
#define DNS_MAX_NS 16            /* name servers used per zone */
#define DNS_MAX_ADDRS 8          /* addresses used per name server */

/* Record types and the class certo reads. */
#define DNS_CLASS_IN 1
#define DNS_T_A 1
#define DNS_T_NS 2
#define DNS_T_CNAME 5
#define DNS_T_SOA 6
#define DNS_T_TXT 16
#define DNS_T_AAAA 28

/* Response codes (RFC 1035 4.1.1). */
#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP 4
#define DNS_RCODE_REFUSED 5

enum dns_section {
	DNS_ANSWER = 1,
	DNS_AUTHORITY = 2,
	DNS_ADDITIONAL = 3
};

/* One resource record of class IN. */
struct dns_rr {
	enum dns_section section;
	int type;                /* DNS_T_* or any other number */
	char *owner;
	char *target;            /* CNAME and NS target, SOA MNAME; else NULL */
	char addr[46];           /* A and AAAA in text form; else "" */
};

/* A parsed DNS message: header bits and its records. */
struct dns_msg {
	int rcode;
	bool aa, tc;
	struct dns_rr *rr;
	size_t nrr;
};

/* A list of malloc'd strings. */
struct dns_strs {
	char **v;
	size_t n;
};

/*
 * Parse a DNS message (at most DNS_MAX_ANSWER bytes; records past
 * DNS_MAX_RR and records of other classes are left out).  Returns 0,
 * CERTO_EPROTO on a malformed message, CERTO_ETOOBIG, CERTO_ENOMEM.
 * Free msg with dns_msg_free() (also after a failure; safe on NULL).
 */
int dns_msg_parse(const unsigned char *pkt, size_t len, struct dns_msg *msg);
/* Free what dns_msg_parse() allocated and zero msg; NULL is fine. */
void dns_msg_free(struct dns_msg *msg);

/*
 * Follow the CNAME chain of name through msg's answer section.  Returns
 * the number of hops (0: not an alias in msg) with the chain's end in
 * *out (malloc'd, also for 0 hops), or CERTO_EPROTO when the chain is
 * longer than maxhops (or DNS_MAX_CNAME) or loops, CERTO_ENOMEM.
 */
int dns_cname_chase(const struct dns_msg *msg, const char *name,
    size_t maxhops, char **out);

/*
 * The zone cut, from the answer msg to an SOA query for qname: 1 with
 * the zone apex in *zone (malloc'd) when msg has an SOA or NS record
 * owned by qname in its answer section, an SOA in its authority section
 * owned by qname or one of its parents (a negative answer, RFC 2308), or
 * such an NS set there (a referral); 0 when the walk must go up a label;
 * CERTO_ENOMEM.
 */
int dns_zone_decide(const struct dns_msg *msg, const char *qname,
    char **zone);

/*
 * The NS targets of zone in msg's answer or authority section (at most
 * DNS_MAX_NS in all, no duplicates), appended to *hosts.  Returns 0 or
 * CERTO_ENOMEM.
 */
int dns_ns_hosts(const struct dns_msg *msg, const char *zone,
    struct dns_strs *hosts);

/*
 * The A and AAAA addresses of host in any section of msg (answers and
 * glue), also those of the end of its CNAME chain in the answer section
 * (at most DNS_MAX_ADDRS in all, no duplicates), appended to *addrs.
 * Returns 0 or CERTO_ENOMEM.
 */
int dns_host_addrs(const struct dns_msg *msg, const char *host,
    struct dns_strs *addrs);

/*
 * The TXT records owned by name (or by the end of its CNAME chain, as a
 * recursive resolver answers) in the answer section of pkt, the strings
 * of each record joined (RFC 8555 8.4 practice), appended to *txt
 * without duplicates.  Records with a NUL byte or longer than
 * DNS_MAX_TXT_LEN are skipped.  Returns 0, CERTO_EPROTO, CERTO_ETOOBIG,
 * CERTO_ENOMEM.
 */
int dns_txt_parse(const unsigned char *pkt, size_t len, const char *name,
    struct dns_strs *txt);
/* How many of values[0..n) are not in txt (exact comparison). */
size_t dns_txt_missing(const struct dns_strs *txt,
    const char *const *values, size_t n);

/*
 * Append a copy of s to list unless it is there already (compared as a
 * name, case-insensitively, when icase).  Returns 0 or CERTO_ENOMEM.
 */
int dns_strs_add(struct dns_strs *list, const char *s, bool icase);
/* Free every string and the array, and empty list; NULL is fine. */
void dns_strs_free(struct dns_strs *list);

/*
 * The parent of name ("a.b" -> "b", "b" -> ""): a pointer into name;
 * "\." escapes are honoured.
 */
const char *dns_name_parent(const char *name);
/* True if the names are equal, ASCII case-insensitively. */
bool dns_name_eq(const char *a, const char *b);
/* True if name is zone or below it (label by label). */
bool dns_name_under(const char *name, const char *zone);
/*
 * A malloc'd copy of name without its trailing dot (an escaped "\." is
 * kept); NULL when out of memory.
 */
char *dns_name_dup(const char *name);

#endif
