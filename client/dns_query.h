/*
 * DNS queries over c-ares for the DNS-01 propagation check: one channel
 * per server, many queries answered in one poll() loop, each answer
 * kept as a packet for dns_wire.h to read.  The network I/O of
 * dns01_propagation.c and dns_discover.c goes through here.
 */
#ifndef CERTO_DNS_QUERY_H
#define CERTO_DNS_QUERY_H

#include <ares.h>
#include <stdbool.h>
#include <stddef.h>

#include "dns01_propagation.h"

#define DNS_QUERY_TIMEOUT_MS 2000 /* one query, c-ares' own timer */
#define DNS_ERR_MAX 96            /* why a query failed, for messages */
#define DNS_SHOWN_MAX 256         /* one sanitised name in a message */

enum dns_qstate {
	DNS_Q_PENDING,
	DNS_Q_ANSWER,            /* NOERROR or NXDOMAIN, packet kept */
	DNS_Q_RCODE,             /* the server answered with an error (or
	                          * rcode -1: a malformed answer) */
	DNS_Q_NET                /* no answer: timeout, unreachable */
};

/* One query and, once run, its outcome. */
struct dns_query {
	ares_channel chan;       /* not owned */
	const char *name;        /* not owned */
	int type;                /* DNS_T_* */
	enum dns_qstate state;
	int status;              /* c-ares status */
	int rcode;
	unsigned char *pkt;      /* copy of the answer, malloc'd */
	size_t len;
};

/*
 * The deadline of a batch of queries started now under the overall
 * deadline: that one, but never less than one query's own time, so
 * every query gets its chance even at the end.
 */
long long dns_query_deadline(long long overall);

/*
 * Read the system's resolver set-up (/etc/resolv.conf) now, once: every
 * later channel gets those servers without reading a file (the network
 * process calls it before its sandbox).  Returns 0 or a CERTO_E* code.
 */
int dns_query_preset(void);
/*
 * A channel to one server (direct: no recursion desired, one try), or
 * to the system's resolvers (/etc/resolv.conf) when server is NULL.
 * Returns 0 or CERTO_EUSAGE (not a numeric address), CERTO_ENET,
 * CERTO_ENOMEM; *out is NULL on failure, else free it with
 * ares_destroy().
 */
int dns_channel_open(const struct dns01_server *server, bool direct,
    ares_channel *out);

/* Forget the outcome of q (its packet freed); ready to run again. */
void dns_query_reset(struct dns_query *q);

/*
 * Send queries[0..n) (each on its own channel, among chans[0..nchans))
 * and run one poll() loop until all are answered or the deadline (then
 * the rest are cancelled: DNS_Q_NET).  Every query is reset first.
 * Returns 0, CERTO_EINTR (a signal), CERTO_ENET, CERTO_ENOMEM.
 */
int dns_query_run(struct dns_query *queries, size_t n, ares_channel *chans,
    size_t nchans, long long deadline);

/* Why q did not give a usable answer ("answered REFUSED", "no answer",
 * ...), written into buf; returns buf. */
const char *dns_query_error(const struct dns_query *q, char *buf, size_t n);

/* "A", "NS", "CNAME", "SOA", "TXT", "AAAA" or "?" for a type number. */
const char *dns_type_name(int type);

#endif
