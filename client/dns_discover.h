/*
 * Discovery of the authoritative name servers of a DNS-01 record, by
 * queries to a recursive resolver (the system's, or a test's):
 *   1. follow the CNAMEs of _acme-challenge.<name> (type CNAME queries,
 *      so no negative TXT answer is cached on the user's resolver);
 *   2. walk up from the chain's end asking SOA until an answer shows the
 *      zone cut (an SOA or NS owned by the name, a negative answer's
 *      SOA, or a referral);
 *   3. ask the zone's NS set, then A and AAAA of each NS host (glue in
 *      the NS answer is used when present).
 * Network I/O through dns_query.h; the decisions on each answer are
 * dns_wire.h's.
 */
#ifndef CERTO_DNS_DISCOVER_H
#define CERTO_DNS_DISCOVER_H

#include <ares.h>
#include <stddef.h>

#include "dns01_propagation.h"
#include "dns_wire.h"

#define DNS_WHY_MAX 256          /* why discovery failed, per record */

/* The discovery session of one dns01_wait(). */
struct dns_discover {
	const struct dns01_server *recursive; /* NULL: /etc/resolv.conf */
	long long deadline;      /* the wait's overall deadline */
	ares_channel chan;       /* to the resolver; NULL until first use */
};

/* What discovery found for one record name. */
struct dns_zone_servers {
	char *final;             /* the name to ask TXT of, after CNAMEs */
	char *zone;              /* the zone holding it */
	struct dns_strs hosts;   /* the zone's NS hosts */
	struct dns_strs *addrs;  /* addrs[i]: the addresses of hosts.v[i]
	                          * (at least one host has one) */
};

/*
 * Find the authoritative servers of record (a name without the trailing
 * dot) into *out (free with dns_zone_servers_free(), also after a
 * failure).  Returns 0; 1 when a query failed and discovery should be
 * tried again later (why says which query and how); CERTO_EDNSWAIT when
 * the answers show there are no usable servers (or the resolver refuses
 * such queries: waiting will not help); CERTO_EINTR, CERTO_ENET,
 * CERTO_ENOMEM.
 */
int dns_discover_servers(struct dns_discover *disc, const char *record,
    struct dns_zone_servers *out, char *why, size_t whylen);

/* Free what dns_discover_servers() filled in and zero zs. */
void dns_zone_servers_free(struct dns_zone_servers *zs);

/* Close the resolver channel (NULL is fine). */
void dns_discover_close(struct dns_discover *disc);

#endif
