/*
 * The DNS wire format, read only (see dns_wire.h): a cursor over the
 * records of a message, the typed records, and the decisions of the
 * DNS-01 propagation check on one answer.  No I/O, no state.
 */
#include "dns_wire.h"

#include <ares.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "errors.h"

#define HEADER_LEN 12            /* RFC 1035 4.1.1 */
#define RR_FIXED_LEN 10          /* type, class, TTL, rdlength */

/* ------------------------------------------------------------ names */

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Names equal, ASCII case-insensitively (see dns_wire.h). */
bool
dns_name_eq(const char *a, const char *b)
{
	while (*a != '\0' && lc((unsigned char)*a) == lc((unsigned char)*b)) {
		a++;
		b++;
	}
	return lc((unsigned char)*a) == lc((unsigned char)*b);
}

/* The parent of a name, a pointer into it (see dns_wire.h). */
const char *
dns_name_parent(const char *name)
{
	const char *p = name;

	while (*p != '\0') {
		if (*p == '\\' && p[1] != '\0') {
			p += 2;
			continue;
		}
		if (*p == '.')
			return p + 1;
		p++;
	}
	return p;
}

/* name is zone or below it (see dns_wire.h). */
bool
dns_name_under(const char *name, const char *zone)
{
	const char *p = name;

	for (;;) {
		if (dns_name_eq(p, zone))
			return true;
		if (*p == '\0')
			return false;
		p = dns_name_parent(p);
	}
}

/* A copy of name without a trailing dot (see dns_wire.h). */
char *
dns_name_dup(const char *name)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.' && (n < 2 || name[n - 2] != '\\'))
		n--;
	return strndup(name, n);
}

/* ------------------------------------------------------------ string lists */

/* Append a copy of s unless present (see dns_wire.h). */
int
dns_strs_add(struct dns_strs *list, const char *s, bool icase)
{
	char **v;

	for (size_t i = 0; i < list->n; i++)
		if (icase ? dns_name_eq(list->v[i], s) :
		    strcmp(list->v[i], s) == 0)
			return 0;
	if ((v = realloc(list->v, (list->n + 1) * sizeof(*v))) == NULL)
		return CERTO_ENOMEM;
	list->v = v;
	if ((list->v[list->n] = strdup(s)) == NULL)
		return CERTO_ENOMEM;
	list->n++;
	return 0;
}

/* Free a string list (see dns_wire.h). */
void
dns_strs_free(struct dns_strs *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->n; i++)
		free(list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

/* ------------------------------------------------------------ the walk */

/* A cursor over the records of a message. */
struct rr_walk {
	const unsigned char *pkt;
	size_t len;
	size_t pos;
	unsigned an, ns, total, idx;
};

/* One record as found in the packet (rdata points into it). */
struct raw_rr {
	enum dns_section section;
	int type, class;
	char *owner;             /* malloc'd */
	size_t rdoff, rdlen;
};

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/*
 * Expand the name at pkt[pos] (compression followed, bounded by c-ares);
 * its encoded length in *enclen, the name (malloc'd) in *out when out is
 * not NULL.  Returns 0 or CERTO_EPROTO, CERTO_ENOMEM.
 */
static int
name_at(const unsigned char *pkt, size_t len, size_t pos, size_t *enclen,
    char **out)
{
	char *s = NULL;
	long n = 0;

	if (pos >= len || ares_expand_name(pkt + pos, pkt, (int)len, &s,
	    &n) != ARES_SUCCESS)
		return CERTO_EPROTO;
	if (out != NULL && (*out = strdup(s)) == NULL) {
		ares_free_string(s);
		return CERTO_ENOMEM;
	}
	ares_free_string(s);
	*enclen = (size_t)n;
	return 0;
}

/* Check the header and step over the questions. */
static int
walk_begin(struct rr_walk *walk, const unsigned char *pkt, size_t len)
{
	unsigned qd;
	size_t n;

	memset(walk, 0, sizeof(*walk));
	if (len > DNS_MAX_ANSWER)
		return CERTO_ETOOBIG;
	if (pkt == NULL || len < HEADER_LEN)
		return CERTO_EPROTO;
	walk->pkt = pkt;
	walk->len = len;
	qd = get16(pkt + 4);
	walk->an = get16(pkt + 6);
	walk->ns = get16(pkt + 8);
	walk->total = walk->an + walk->ns + get16(pkt + 10);
	walk->pos = HEADER_LEN;
	for (unsigned i = 0; i < qd; i++) {
		if (name_at(pkt, len, walk->pos, &n, NULL) != 0 ||
		    n + 4 > len - walk->pos)
			return CERTO_EPROTO;
		walk->pos += n + 4;
	}
	return 0;
}

/* The next record: 1 (raw->owner malloc'd), 0 at the end, or an error. */
static int
walk_next(struct rr_walk *walk, struct raw_rr *raw)
{
	size_t n, p;
	int rc;

	if (walk->idx >= walk->total)
		return 0;
	memset(raw, 0, sizeof(*raw));
	if ((rc = name_at(walk->pkt, walk->len, walk->pos, &n,
	    &raw->owner)) != 0)
		return rc;
	p = walk->pos + n;
	if (p > walk->len || walk->len - p < RR_FIXED_LEN) {
		free(raw->owner);
		raw->owner = NULL;
		return CERTO_EPROTO;
	}
	raw->type = (int)get16(walk->pkt + p);
	raw->class = (int)get16(walk->pkt + p + 2);
	raw->rdlen = get16(walk->pkt + p + 8);
	raw->rdoff = p + RR_FIXED_LEN;
	if (raw->rdlen > walk->len - raw->rdoff) {
		free(raw->owner);
		raw->owner = NULL;
		return CERTO_EPROTO;
	}
	raw->section = walk->idx < walk->an ? DNS_ANSWER :
	    walk->idx < walk->an + walk->ns ? DNS_AUTHORITY : DNS_ADDITIONAL;
	walk->pos = raw->rdoff + raw->rdlen;
	walk->idx++;
	return 1;
}

/* Fill the typed fields of rr from the raw record. */
static int
rr_decode(const struct rr_walk *walk, const struct raw_rr *raw,
    struct dns_rr *rr)
{
	const unsigned char *rdata = walk->pkt + raw->rdoff;
	size_t n;
	int rc;

	rr->section = raw->section;
	rr->type = raw->type;
	switch (raw->type) {
	case DNS_T_CNAME:
	case DNS_T_NS:
	case DNS_T_SOA:
		if ((rc = name_at(walk->pkt, walk->len, raw->rdoff, &n,
		    &rr->target)) != 0)
			return rc;
		if (n > raw->rdlen)
			return CERTO_EPROTO;
		break;
	case DNS_T_A:
		if (raw->rdlen != 4 || inet_ntop(AF_INET, rdata, rr->addr,
		    sizeof(rr->addr)) == NULL)
			return CERTO_EPROTO;
		break;
	case DNS_T_AAAA:
		if (raw->rdlen != 16 || inet_ntop(AF_INET6, rdata, rr->addr,
		    sizeof(rr->addr)) == NULL)
			return CERTO_EPROTO;
		break;
	default:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------ messages */

/* Free a parsed message (see dns_wire.h). */
void
dns_msg_free(struct dns_msg *msg)
{
	if (msg == NULL)
		return;
	for (size_t i = 0; i < msg->nrr; i++) {
		free(msg->rr[i].owner);
		free(msg->rr[i].target);
	}
	free(msg->rr);
	memset(msg, 0, sizeof(*msg));
}

/* Parse a DNS message into typed records (see dns_wire.h). */
int
dns_msg_parse(const unsigned char *pkt, size_t len, struct dns_msg *msg)
{
	struct rr_walk walk;
	struct raw_rr raw;
	int rc;

	memset(msg, 0, sizeof(*msg));
	if ((rc = walk_begin(&walk, pkt, len)) != 0)
		return rc;
	msg->rcode = pkt[3] & 0x0f;
	msg->aa = (pkt[2] & 0x04) != 0;
	msg->tc = (pkt[2] & 0x02) != 0;
	if ((msg->rr = calloc(walk.total < DNS_MAX_RR ? walk.total + 1 :
	    DNS_MAX_RR, sizeof(*msg->rr))) == NULL)
		return CERTO_ENOMEM;
	while (msg->nrr < DNS_MAX_RR && (rc = walk_next(&walk, &raw)) == 1) {
		if (raw.class != DNS_CLASS_IN) {
			free(raw.owner);
			continue;
		}
		/* Ownership of raw.owner moves to the message. */
		msg->rr[msg->nrr].owner = raw.owner;
		rc = rr_decode(&walk, &raw, &msg->rr[msg->nrr]);
		msg->nrr++;
		if (rc != 0)
			break;
	}
	if (rc < 0) {
		dns_msg_free(msg);
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ decisions */

/* Follow the CNAME chain of name (see dns_wire.h). */
int
dns_cname_chase(const struct dns_msg *msg, const char *name,
    size_t maxhops, char **out)
{
	const char *cur = name;
	size_t hops = 0, i;

	*out = NULL;
	for (;;) {
		for (i = 0; i < msg->nrr; i++)
			if (msg->rr[i].section == DNS_ANSWER &&
			    msg->rr[i].type == DNS_T_CNAME &&
			    dns_name_eq(msg->rr[i].owner, cur))
				break;
		if (i == msg->nrr)
			break;
		if (hops >= maxhops || hops >= DNS_MAX_CNAME)
			return CERTO_EPROTO;
		cur = msg->rr[i].target;
		hops++;
	}
	if ((*out = strdup(cur)) == NULL)
		return CERTO_ENOMEM;
	return (int)hops;
}

/* The first record of msg in section of one of two types whose owner is
 * qname (exact) or, when under, one of qname's parents; NULL if none. */
static const struct dns_rr *
find_owner(const struct dns_msg *msg, enum dns_section section, int type1,
    int type2, const char *qname, bool under)
{
	for (size_t i = 0; i < msg->nrr; i++) {
		const struct dns_rr *rr = &msg->rr[i];
		if (rr->section == section && (rr->type == type1 ||
		    rr->type == type2) && (under ?
		    dns_name_under(qname, rr->owner) :
		    dns_name_eq(rr->owner, qname)))
			return rr;
	}
	return NULL;
}

/* The zone cut from an answer to an SOA query (see dns_wire.h). */
int
dns_zone_decide(const struct dns_msg *msg, const char *qname, char **zone)
{
	const struct dns_rr *hit;

	*zone = NULL;
	/* The name is a zone apex. */
	hit = find_owner(msg, DNS_ANSWER, DNS_T_SOA, DNS_T_NS, qname, false);
	/* A negative answer carries the SOA of the zone holding the name. */
	if (hit == NULL)
		hit = find_owner(msg, DNS_AUTHORITY, DNS_T_SOA, DNS_T_SOA,
		    qname, true);
	/* A referral from an authoritative server: the cut is its owner. */
	if (hit == NULL)
		hit = find_owner(msg, DNS_AUTHORITY, DNS_T_NS, DNS_T_NS,
		    qname, true);
	if (hit == NULL)
		return 0;
	if ((*zone = strdup(hit->owner)) == NULL)
		return CERTO_ENOMEM;
	return 1;
}

/* The NS targets of zone (see dns_wire.h). */
int
dns_ns_hosts(const struct dns_msg *msg, const char *zone,
    struct dns_strs *hosts)
{
	int rc;

	for (size_t i = 0; i < msg->nrr && hosts->n < DNS_MAX_NS; i++) {
		const struct dns_rr *rr = &msg->rr[i];
		if (rr->type != DNS_T_NS || rr->section == DNS_ADDITIONAL ||
		    !dns_name_eq(rr->owner, zone) || rr->target[0] == '\0')
			continue;
		if ((rc = dns_strs_add(hosts, rr->target, true)) != 0)
			return rc;
	}
	return 0;
}

/* The addresses of host, glue included (see dns_wire.h). */
int
dns_host_addrs(const struct dns_msg *msg, const char *host,
    struct dns_strs *addrs)
{
	char *end = NULL;
	int rc = 0;

	/* A chain that is too long or loops: use the host name itself. */
	if ((rc = dns_cname_chase(msg, host, DNS_MAX_CNAME, &end)) ==
	    CERTO_ENOMEM)
		return rc;
	for (size_t i = 0; i < msg->nrr && addrs->n < DNS_MAX_ADDRS; i++) {
		const struct dns_rr *rr = &msg->rr[i];
		if (rr->type != DNS_T_A && rr->type != DNS_T_AAAA)
			continue;
		if (!dns_name_eq(rr->owner, host) &&
		    (end == NULL || !dns_name_eq(rr->owner, end)))
			continue;
		if ((rc = dns_strs_add(addrs, rr->addr, false)) != 0)
			break;
	}
	free(end);
	return rc < 0 ? rc : 0;
}

/*
 * The <length><bytes> strings of one TXT rdata joined into val (room for
 * DNS_MAX_TXT_LEN + 1): 1 with val NUL-terminated, 0 when the record is
 * to be skipped (too long, a NUL byte), CERTO_EPROTO when a length runs
 * past the rdata.
 */
static int
txt_join(const unsigned char *pkt, const struct raw_rr *raw, char *val)
{
	size_t vlen = 0, p, end = raw->rdoff + raw->rdlen;
	bool keep = true;

	for (p = raw->rdoff; p < end;) {
		size_t n = pkt[p++];
		if (n > end - p)
			return CERTO_EPROTO;
		if (vlen + n > DNS_MAX_TXT_LEN ||
		    memchr(pkt + p, '\0', n) != NULL)
			keep = false;
		else
			memcpy(val + vlen, pkt + p, n);
		vlen += n;
		p += n;
	}
	if (!keep)
		return 0;
	val[vlen] = '\0';
	return 1;
}

/* The TXT values of name in an answer (see dns_wire.h). */
int
dns_txt_parse(const unsigned char *pkt, size_t len, const char *name,
    struct dns_strs *txt)
{
	struct dns_msg msg;
	struct rr_walk walk;
	struct raw_rr raw;
	char *owner = NULL, *val = NULL;
	int rc;

	/* A recursive resolver answers for the end of the CNAME chain. */
	if ((rc = dns_msg_parse(pkt, len, &msg)) != 0)
		return rc;
	rc = dns_cname_chase(&msg, name, DNS_MAX_CNAME, &owner);
	dns_msg_free(&msg);
	if (rc < 0)
		return rc;
	if ((val = malloc(DNS_MAX_TXT_LEN + 1)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = walk_begin(&walk, pkt, len)) != 0)
		goto out;
	while ((rc = walk_next(&walk, &raw)) == 1) {
		bool ours = raw.section == DNS_ANSWER &&
		    raw.type == DNS_T_TXT && raw.class == DNS_CLASS_IN &&
		    dns_name_eq(raw.owner, owner);

		free(raw.owner);
		if (!ours)
			continue;
		if ((rc = txt_join(pkt, &raw, val)) < 0)
			goto out;
		if (rc == 1 && (rc = dns_strs_add(txt, val, false)) != 0)
			goto out;
	}
out:
	free(val);
	free(owner);
	return rc < 0 ? rc : 0;
}

/* How many values are not in txt (see dns_wire.h). */
size_t
dns_txt_missing(const struct dns_strs *txt, const char *const *values,
    size_t n)
{
	size_t missing = 0, j;

	for (size_t i = 0; i < n; i++) {
		for (j = 0; j < txt->n; j++)
			if (strcmp(txt->v[j], values[i]) == 0)
				break;
		if (j == txt->n)
			missing++;
	}
	return missing;
}
