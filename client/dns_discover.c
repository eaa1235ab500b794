/*
 * Discovery of a DNS-01 record's authoritative servers (dns_discover.h):
 * CNAMEs, zone cut, NS set, addresses, one named step each.
 */
#include "dns_discover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_query.h"
#include "errors.h"
#include "log.h"

/* One discovery query; *msg is parsed when the state is DNS_Q_ANSWER
 * (a malformed answer becomes DNS_Q_RCODE with rcode -1). */
static int
disc_query(struct dns_discover *disc, const char *name, int type,
    struct dns_query *q, struct dns_msg *msg)
{
	int rc;

	dns_msg_free(msg);
	dns_query_reset(q);
	q->chan = disc->chan;
	q->name = name;
	q->type = type;
	/* Every query gets its own time, even at the overall deadline. */
	if ((rc = dns_query_run(q, 1, &disc->chan, 1,
	    dns_query_deadline(disc->deadline))) != 0)
		return rc;
	if (q->state == DNS_Q_ANSWER &&
	    (rc = dns_msg_parse(q->pkt, q->len, msg)) != 0) {
		if (rc == CERTO_ENOMEM)
			return rc;
		q->state = DNS_Q_RCODE;
		q->rcode = -1;
	}
	return 0;
}

/* Note a failed discovery query in why; returns 1 (try again). */
static int
note_failure(const struct dns_query *q, char *why, size_t whylen)
{
	char name[DNS_SHOWN_MAX], err[DNS_ERR_MAX];

	snprintf(why, whylen, "%s %s: %s", dns_type_name(q->type),
	    log_str(name, sizeof(name), q->name),
	    dns_query_error(q, err, sizeof(err)));
	return 1;
}

/*
 * A query the resolver will keep refusing (REFUSED, NOTIMP, FORMERR):
 * waiting does not help, so discovery fails at once (CERTO_EDNSWAIT).
 * SERVFAIL, no answer and a malformed answer are tried again (1).
 */
static int
retry_or_fail(const char *record, const struct dns_query *q, char *why,
    size_t whylen)
{
	note_failure(q, why, whylen);
	if (q->state != DNS_Q_RCODE || q->rcode == DNS_RCODE_SERVFAIL ||
	    q->rcode == -1)
		return 1;
	return certo_fail(CERTO_EDNSWAIT, "dns-01: %s: cannot find its name "
	    "servers: %s (with a resolver that does not answer such queries, "
	    "use --dns-resolver)", record, why);
}

/* Step 1: *name (malloc'd) becomes the end of its CNAME chain. */
static int
follow_cnames(struct dns_discover *disc, const char *record, char **name,
    char *why, size_t whylen)
{
	struct dns_query q = { 0 };
	struct dns_msg msg = { 0 };
	char shown[DNS_SHOWN_MAX], *next = NULL;
	size_t hops = 0;
	int rc, n;

	for (;;) {
		if ((rc = disc_query(disc, *name, DNS_T_CNAME, &q, &msg)) != 0)
			break;
		if (q.state != DNS_Q_ANSWER) {
			rc = retry_or_fail(record, &q, why, whylen);
			break;
		}
		n = dns_cname_chase(&msg, *name, DNS_MAX_CNAME - hops, &next);
		if (n < 0) {
			rc = n == CERTO_ENOMEM ? n : certo_fail(CERTO_EDNSWAIT,
			    "dns-01: %s: CNAME chain longer than %d or a loop",
			    record, DNS_MAX_CNAME);
			break;
		}
		/* Ownership of next moves to *name. */
		free(*name);
		*name = next;
		next = NULL;
		if (n == 0)
			break;
		hops += (size_t)n;
		log_debug("dns-01: %s: CNAME to %s", record,
		    log_str(shown, sizeof(shown), *name));
	}
	free(q.pkt);
	dns_msg_free(&msg);
	return rc;
}

/* Step 2: the zone holding name, label by label up (*zone malloc'd). */
static int
find_zone(struct dns_discover *disc, const char *record, const char *name,
    char **zone, char *why, size_t whylen)
{
	struct dns_query q = { 0 };
	struct dns_msg msg = { 0 };
	char shown[DNS_SHOWN_MAX], last[DNS_WHY_MAX] = "";
	bool servfail = false;
	int rc = 0;

	for (const char *cur = name; *cur != '\0';
	    cur = dns_name_parent(cur)) {
		if ((rc = disc_query(disc, cur, DNS_T_SOA, &q, &msg)) != 0)
			goto out;
		if (q.state == DNS_Q_NET) {
			rc = note_failure(&q, why, whylen);
			goto out;
		}
		if (q.state == DNS_Q_RCODE) {
			note_failure(&q, why, whylen);
			snprintf(last, sizeof(last), "%s", why);
			servfail = q.rcode == DNS_RCODE_SERVFAIL;
			continue;
		}
		if ((rc = dns_zone_decide(&msg, cur, zone)) != 0)
			goto out;
	}
	/* Up to the root and no zone: a SERVFAIL may pass, the rest not. */
	rc = servfail ? 1 : certo_fail(CERTO_EDNSWAIT, "dns-01: %s: cannot "
	    "find the zone of %s%s%s (with a resolver that is not "
	    "authoritative or recursive, use --dns-resolver)", record,
	    log_str(shown, sizeof(shown), name), last[0] != '\0' ? ": " : "",
	    last);
out:
	free(q.pkt);
	dns_msg_free(&msg);
	return rc == 1 && *zone != NULL ? 0 : rc;
}

/* Step 3: the zone's NS hosts (*ns keeps the answer for its glue). */
static int
find_ns_hosts(struct dns_discover *disc, const char *record,
    const char *zone, struct dns_msg *ns, struct dns_strs *hosts, char *why,
    size_t whylen)
{
	struct dns_query q = { 0 };
	char shown[DNS_SHOWN_MAX];
	int rc;

	if ((rc = disc_query(disc, zone, DNS_T_NS, &q, ns)) != 0)
		goto out;
	if (q.state != DNS_Q_ANSWER) {
		rc = retry_or_fail(record, &q, why, whylen);
		goto out;
	}
	if ((rc = dns_ns_hosts(ns, zone, hosts)) != 0)
		goto out;
	if (hosts->n == 0)
		rc = certo_fail(CERTO_EDNSWAIT, "dns-01: %s: zone %s has no NS "
		    "records", record, log_str(shown, sizeof(shown), zone));
out:
	free(q.pkt);
	return rc;
}

/* Step 4: the addresses of every host, from the glue in ns or else
 * asked (A and AAAA of all hosts at once); 1 when one query failed. */
static int
resolve_hosts(struct dns_discover *disc, const struct dns_msg *ns,
    const struct dns_strs *hosts, struct dns_strs *addrs, char *why,
    size_t whylen)
{
	struct dns_query *qs = NULL;
	struct dns_msg msg = { 0 };
	size_t h, k, nq = 0;
	int rc = 0;
	bool failed = false;

	if ((qs = calloc(hosts->n * 2, sizeof(*qs))) == NULL)
		return CERTO_ENOMEM;
	for (h = 0; h < hosts->n; h++) {
		if ((rc = dns_host_addrs(ns, hosts->v[h], &addrs[h])) != 0)
			goto out;
		if (addrs[h].n > 0)
			continue;
		qs[nq].chan = qs[nq + 1].chan = disc->chan;
		qs[nq].name = qs[nq + 1].name = hosts->v[h];
		qs[nq].type = DNS_T_A;
		qs[nq + 1].type = DNS_T_AAAA;
		nq += 2;
	}
	if ((rc = dns_query_run(qs, nq, &disc->chan, 1,
	    dns_query_deadline(disc->deadline))) != 0)
		goto out;
	for (k = 0; k < nq; k++) {
		if (qs[k].state != DNS_Q_ANSWER) {
			/* Try again next round rather than skip this host. */
			failed = true;
			note_failure(&qs[k], why, whylen);
			continue;
		}
		for (h = 0; h < hosts->n && hosts->v[h] != qs[k].name; h++)
			;
		if ((rc = dns_msg_parse(qs[k].pkt, qs[k].len, &msg)) == 0)
			rc = dns_host_addrs(&msg, hosts->v[h], &addrs[h]);
		dns_msg_free(&msg);
		if (rc == CERTO_ENOMEM)
			goto out;
		rc = 0;
	}
	rc = failed ? 1 : 0;
out:
	for (k = 0; k < nq; k++)
		free(qs[k].pkt);
	free(qs);
	return rc;
}

/* Hosts without an address are left out; none at all is an error. */
static int
check_addresses(const char *record, const struct dns_zone_servers *zs)
{
	char shown[DNS_SHOWN_MAX];
	size_t total = 0;

	for (size_t h = 0; h < zs->hosts.n; h++) {
		if (zs->addrs[h].n == 0)
			log_debug("dns-01: name server %s has no address",
			    log_str(shown, sizeof(shown), zs->hosts.v[h]));
		total += zs->addrs[h].n;
	}
	if (total == 0)
		return certo_fail(CERTO_EDNSWAIT, "dns-01: %s: the name "
		    "servers of zone %s have no addresses", record,
		    log_str(shown, sizeof(shown), zs->zone));
	return 0;
}

/* Find the authoritative servers of a record (see dns_discover.h). */
int
dns_discover_servers(struct dns_discover *disc, const char *record,
    struct dns_zone_servers *out, char *why, size_t whylen)
{
	struct dns_msg ns = { 0 };
	char shown[DNS_SHOWN_MAX], zshown[DNS_SHOWN_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	if (disc->chan == NULL && (rc = dns_channel_open(disc->recursive,
	    false, &disc->chan)) != 0)
		return rc;
	if ((out->final = dns_name_dup(record)) == NULL)
		return CERTO_ENOMEM;
	if ((rc = follow_cnames(disc, record, &out->final, why, whylen)) != 0 ||
	    (rc = find_zone(disc, record, out->final, &out->zone, why,
	    whylen)) != 0 ||
	    (rc = find_ns_hosts(disc, record, out->zone, &ns, &out->hosts, why,
	    whylen)) != 0)
		goto out;
	if ((out->addrs = calloc(out->hosts.n, sizeof(*out->addrs))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = resolve_hosts(disc, &ns, &out->hosts, out->addrs, why,
	    whylen)) != 0 || (rc = check_addresses(record, out)) != 0)
		goto out;
	log_debug("dns-01: %s: asking %s in zone %s, %zu name servers", record,
	    log_str(shown, sizeof(shown), out->final),
	    log_str(zshown, sizeof(zshown), out->zone), out->hosts.n);
	why[0] = '\0';
out:
	dns_msg_free(&ns);
	return rc;
}

/* Free a discovery result (see dns_discover.h). */
void
dns_zone_servers_free(struct dns_zone_servers *zs)
{
	if (zs == NULL)
		return;
	for (size_t h = 0; zs->addrs != NULL && h < zs->hosts.n; h++)
		dns_strs_free(&zs->addrs[h]);
	free(zs->addrs);
	dns_strs_free(&zs->hosts);
	free(zs->final);
	free(zs->zone);
	memset(zs, 0, sizeof(*zs));
}

/* Close the resolver channel (see dns_discover.h). */
void
dns_discover_close(struct dns_discover *disc)
{
	if (disc != NULL && disc->chan != NULL) {
		ares_destroy(disc->chan);
		disc->chan = NULL;
	}
}
