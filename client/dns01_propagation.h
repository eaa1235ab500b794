/*
 * DNS-01 propagation check (c-ares): before certo tells the CA to
 * validate, every authoritative name server of the zone holding
 * _acme-challenge.<name> (after following CNAMEs) must answer with
 * every expected TXT value.  With explicit resolvers (--dns-resolver)
 * those servers are queried instead of discovered ones.
 *
 * Module map: this file holds the wait (rounds of TXT queries, the
 * verdict per server, progress, the timeout message) and the small API
 * below; dns_discover.c finds the authoritative servers, dns_query.c
 * runs the c-ares queries, dns_wire.c reads the answers (pure).
 */
#ifndef CERTO_DNS01_PROPAGATION_H
#define CERTO_DNS01_PROPAGATION_H

#include <stdbool.h>
#include <stddef.h>

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

/* How dns01_wait() waits, and whom it asks. */
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

/*
 * "_acme-challenge.<name>" for an identifier ("*." and a trailing dot
 * dropped, lower-cased) in *out (malloc'd).  Returns 0, CERTO_EIDENT
 * (the message names the identifier), CERTO_ENOMEM.
 */
int dns01_record_name(const char *ident, char **out);
/*
 * base64url(SHA-256(keyauth)), the TXT value (RFC 8555 8.4), in *out
 * (malloc'd).  Returns 0, CERTO_ECRYPTO, CERTO_ENOMEM.
 */
int dns01_txt_value(const char *keyauth, char **out);
/*
 * Parse "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT" (numeric addresses
 * only) into *server (malloc'd members; free with dns01_server_free()).
 * Returns 0, CERTO_EUSAGE naming the spec, CERTO_ENOMEM.
 */
int dns01_server_parse(const char *spec, struct dns01_server *server);
/* Free the members of server and zero it; NULL is fine. */
void dns01_server_free(struct dns01_server *server);

/*
 * Wait until every record's values are visible on every server.
 * Returns 0, CERTO_EDNSWAIT on timeout (message names the servers
 * that never showed the values), CERTO_EINTR on a signal.
 */
int dns01_wait(const struct dns01_record *recs, size_t nrecs,
    const struct dns01_opts *opts);

#endif
