/*
 * DNS-01 propagation check with c-ares.
 *
 * Discovery (no explicit resolvers), once per record name, through the
 * recursive resolver (opts->recursive or /etc/resolv.conf):
 *   1. follow the CNAMEs of _acme-challenge.<name> (type CNAME queries,
 *      so no negative TXT answer is cached on the user's resolver);
 *   2. walk up from the chain's end asking SOA until an answer shows the
 *      zone cut (an SOA or NS owned by the name, a negative answer's
 *      SOA, or a referral);
 *   3. ask the zone's NS set, then A and AAAA of each NS host (glue in
 *      the NS answer is used when present).
 * Rounds: every (record, server) pair is asked TXT directly, all pairs
 * at once (one c-ares channel per server, one poll() loop), discovered
 * servers without recursion; the interval grows 250 ms, 500 ms, 1 s,
 * then opts->interval_ms.
 *
 * The addresses of one NS host form a group: the group is satisfied
 * when one address shows every value and none answered without them.
 * An address that never answers (IPv6 on a v4-only host) does not
 * block; one that answers stale data does.  Each explicit resolver is
 * its own group, so every one must show the values.
 */
#include "dns01_propagation.h"

#include <ares.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "b64.h"
#include "errors.h"
#include "log.h"
#include "sig.h"

#define QUERY_TIMEOUT_MS 2000   /* one query, c-ares' own timer */
#define POLL_SLICE_MS 200       /* longest poll() between signal checks */
#define DEFAULT_INTERVAL_MS 2000
#define MSG_MAX 1024            /* the timeout message */
#define SHOWN_MAX 256           /* one sanitised name in a message */
#define WHY_MAX 256             /* why discovery failed, per record */
#define ERR_MAX 96              /* why a query failed, per pair */

#define CLASS_IN 1
#define RR_A 1
#define RR_NS 2
#define RR_CNAME 5
#define RR_SOA 6
#define RR_TXT 16
#define RR_AAAA 28

#define RCODE_NOERROR 0
#define RCODE_NXDOMAIN 3

static const char acme_prefix[] = "_acme-challenge.";

/* ------------------------------------------------------------ names */

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool
dns01_name_eq(const char *a, const char *b)
{
	while (*a != '\0' && lc((unsigned char)*a) == lc((unsigned char)*b)) {
		a++;
		b++;
	}
	return lc((unsigned char)*a) == lc((unsigned char)*b);
}

const char *
dns01_name_parent(const char *name)
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

bool
dns01_name_under(const char *name, const char *zone)
{
	const char *p = name;

	for (;;) {
		if (dns01_name_eq(p, zone))
			return true;
		if (*p == '\0')
			return false;
		p = dns01_name_parent(p);
	}
}

/* A copy of name without a trailing dot; NULL on ENOMEM. */
static char *
name_dup(const char *name)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.' && (n < 2 || name[n - 2] != '\\'))
		n--;
	return strndup(name, n);
}

/* ------------------------------------------------------------ string lists */

int
dns01_strs_add(struct dns01_strs *l, const char *s, bool icase)
{
	char **v;

	for (size_t i = 0; i < l->n; i++)
		if (icase ? dns01_name_eq(l->v[i], s) : strcmp(l->v[i], s) == 0)
			return 0;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL)
		return CERTO_ENOMEM;
	l->v = v;
	if ((l->v[l->n] = strdup(s)) == NULL)
		return CERTO_ENOMEM;
	l->n++;
	return 0;
}

void
dns01_strs_free(struct dns01_strs *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ------------------------------------------------------------ DNS messages */

/* A cursor over the records of a message. */
struct walk {
	const unsigned char *pkt;
	size_t len;
	size_t pos;
	unsigned an, ns, total, idx;
};

/* One record as found in the packet (rdata points into it). */
struct raw_rr {
	enum dns01_section section;
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

static int
walk_begin(struct walk *w, const unsigned char *pkt, size_t len)
{
	unsigned qd;
	size_t n;

	memset(w, 0, sizeof(*w));
	if (len > DNS01_MAX_ANSWER)
		return CERTO_ETOOBIG;
	if (pkt == NULL || len < 12)
		return CERTO_EPROTO;
	w->pkt = pkt;
	w->len = len;
	qd = get16(pkt + 4);
	w->an = get16(pkt + 6);
	w->ns = get16(pkt + 8);
	w->total = w->an + w->ns + get16(pkt + 10);
	w->pos = 12;
	for (unsigned i = 0; i < qd; i++) {
		if (name_at(pkt, len, w->pos, &n, NULL) != 0 ||
		    n + 4 > len - w->pos)
			return CERTO_EPROTO;
		w->pos += n + 4;
	}
	return 0;
}

/* The next record: 1 (r->owner malloc'd), 0 at the end, or an error. */
static int
walk_next(struct walk *w, struct raw_rr *r)
{
	size_t n, p;
	int rc;

	if (w->idx >= w->total)
		return 0;
	memset(r, 0, sizeof(*r));
	if ((rc = name_at(w->pkt, w->len, w->pos, &n, &r->owner)) != 0)
		return rc;
	p = w->pos + n;
	if (p > w->len || w->len - p < 10) {
		free(r->owner);
		r->owner = NULL;
		return CERTO_EPROTO;
	}
	r->type = (int)get16(w->pkt + p);
	r->class = (int)get16(w->pkt + p + 2);
	r->rdlen = get16(w->pkt + p + 8);
	r->rdoff = p + 10;
	if (r->rdlen > w->len - r->rdoff) {
		free(r->owner);
		r->owner = NULL;
		return CERTO_EPROTO;
	}
	r->section = w->idx < w->an ? DNS01_ANSWER :
	    w->idx < w->an + w->ns ? DNS01_AUTHORITY : DNS01_ADDITIONAL;
	w->pos = r->rdoff + r->rdlen;
	w->idx++;
	return 1;
}

/* Fill the typed fields of rr from the raw record. */
static int
rr_decode(const struct walk *w, const struct raw_rr *r, struct dns01_rr *rr)
{
	size_t n;
	int rc;

	rr->section = r->section;
	rr->type = r->type;
	switch (r->type) {
	case RR_CNAME:
	case RR_NS:
	case RR_SOA:
		if ((rc = name_at(w->pkt, w->len, r->rdoff, &n,
		    &rr->target)) != 0)
			return rc;
		if (n > r->rdlen)
			return CERTO_EPROTO;
		break;
	case RR_A:
		if (r->rdlen != 4 || inet_ntop(AF_INET, w->pkt + r->rdoff,
		    rr->addr, sizeof(rr->addr)) == NULL)
			return CERTO_EPROTO;
		break;
	case RR_AAAA:
		if (r->rdlen != 16 || inet_ntop(AF_INET6, w->pkt + r->rdoff,
		    rr->addr, sizeof(rr->addr)) == NULL)
			return CERTO_EPROTO;
		break;
	default:
		break;
	}
	return 0;
}

void
dns01_msg_free(struct dns01_msg *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nrr; i++) {
		free(m->rr[i].owner);
		free(m->rr[i].target);
	}
	free(m->rr);
	memset(m, 0, sizeof(*m));
}

int
dns01_msg_parse(const unsigned char *pkt, size_t len, struct dns01_msg *m)
{
	struct walk w;
	struct raw_rr r;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = walk_begin(&w, pkt, len)) != 0)
		return rc;
	m->rcode = pkt[3] & 0x0f;
	m->aa = (pkt[2] & 0x04) != 0;
	m->tc = (pkt[2] & 0x02) != 0;
	if ((m->rr = calloc(w.total < DNS01_MAX_RR ? w.total + 1 :
	    DNS01_MAX_RR, sizeof(*m->rr))) == NULL)
		return CERTO_ENOMEM;
	while (m->nrr < DNS01_MAX_RR && (rc = walk_next(&w, &r)) == 1) {
		if (r.class != CLASS_IN) {
			free(r.owner);
			continue;
		}
		/* Ownership of r.owner moves to the message. */
		m->rr[m->nrr].owner = r.owner;
		rc = rr_decode(&w, &r, &m->rr[m->nrr]);
		m->nrr++;
		if (rc != 0)
			break;
	}
	if (rc < 0) {
		dns01_msg_free(m);
		return rc;
	}
	return 0;
}

int
dns01_cname_chase(const struct dns01_msg *m, const char *name,
    size_t maxhops, char **out)
{
	const char *cur = name;
	size_t hops = 0, i;

	*out = NULL;
	for (;;) {
		for (i = 0; i < m->nrr; i++)
			if (m->rr[i].section == DNS01_ANSWER &&
			    m->rr[i].type == RR_CNAME &&
			    dns01_name_eq(m->rr[i].owner, cur))
				break;
		if (i == m->nrr)
			break;
		if (hops >= maxhops || hops >= DNS01_MAX_CNAME)
			return CERTO_EPROTO;
		cur = m->rr[i].target;
		hops++;
	}
	if ((*out = strdup(cur)) == NULL)
		return CERTO_ENOMEM;
	return (int)hops;
}

int
dns01_zone_decide(const struct dns01_msg *m, const char *qname, char **zone)
{
	const struct dns01_rr *rr, *hit = NULL;
	size_t i;

	*zone = NULL;
	/* The name is a zone apex. */
	for (i = 0; i < m->nrr && hit == NULL; i++) {
		rr = &m->rr[i];
		if (rr->section == DNS01_ANSWER && (rr->type == RR_SOA ||
		    rr->type == RR_NS) && dns01_name_eq(rr->owner, qname))
			hit = rr;
	}
	/* A negative answer carries the SOA of the zone holding the name. */
	for (i = 0; i < m->nrr && hit == NULL; i++) {
		rr = &m->rr[i];
		if (rr->section == DNS01_AUTHORITY && rr->type == RR_SOA &&
		    dns01_name_under(qname, rr->owner))
			hit = rr;
	}
	/* A referral from an authoritative server: the cut is its owner. */
	for (i = 0; i < m->nrr && hit == NULL; i++) {
		rr = &m->rr[i];
		if (rr->section == DNS01_AUTHORITY && rr->type == RR_NS &&
		    dns01_name_under(qname, rr->owner))
			hit = rr;
	}
	if (hit == NULL)
		return 0;
	if ((*zone = strdup(hit->owner)) == NULL)
		return CERTO_ENOMEM;
	return 1;
}

int
dns01_ns_hosts(const struct dns01_msg *m, const char *zone,
    struct dns01_strs *hosts)
{
	int rc;

	for (size_t i = 0; i < m->nrr && hosts->n < DNS01_MAX_NS; i++) {
		const struct dns01_rr *rr = &m->rr[i];
		if (rr->type != RR_NS || rr->section == DNS01_ADDITIONAL ||
		    !dns01_name_eq(rr->owner, zone) || rr->target[0] == '\0')
			continue;
		if ((rc = dns01_strs_add(hosts, rr->target, true)) != 0)
			return rc;
	}
	return 0;
}

int
dns01_host_addrs(const struct dns01_msg *m, const char *host,
    struct dns01_strs *addrs)
{
	char *end = NULL;
	int rc = 0;

	/* A chain that is too long or loops: use the host name itself. */
	if ((rc = dns01_cname_chase(m, host, DNS01_MAX_CNAME, &end)) ==
	    CERTO_ENOMEM)
		return rc;
	for (size_t i = 0; i < m->nrr && addrs->n < DNS01_MAX_ADDRS; i++) {
		const struct dns01_rr *rr = &m->rr[i];
		if (rr->type != RR_A && rr->type != RR_AAAA)
			continue;
		if (!dns01_name_eq(rr->owner, host) &&
		    (end == NULL || !dns01_name_eq(rr->owner, end)))
			continue;
		if ((rc = dns01_strs_add(addrs, rr->addr, false)) != 0)
			break;
	}
	free(end);
	return rc < 0 ? rc : 0;
}

int
dns01_txt_parse(const unsigned char *pkt, size_t len, const char *name,
    struct dns01_strs *txt)
{
	struct dns01_msg m;
	struct walk w;
	struct raw_rr r;
	char *owner = NULL, *val = NULL;
	size_t vlen, p, end;
	int rc;

	/* A recursive resolver answers for the end of the CNAME chain. */
	if ((rc = dns01_msg_parse(pkt, len, &m)) != 0)
		return rc;
	rc = dns01_cname_chase(&m, name, DNS01_MAX_CNAME, &owner);
	dns01_msg_free(&m);
	if (rc < 0)
		return rc;
	if ((val = malloc(DNS01_MAX_TXT_LEN + 1)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = walk_begin(&w, pkt, len)) != 0)
		goto out;
	while ((rc = walk_next(&w, &r)) == 1) {
		bool ours = r.section == DNS01_ANSWER && r.type == RR_TXT &&
		    r.class == CLASS_IN && dns01_name_eq(r.owner, owner);
		bool keep = true;

		free(r.owner);
		if (!ours)
			continue;
		/* <length><bytes> strings, joined. */
		vlen = 0;
		end = r.rdoff + r.rdlen;
		for (p = r.rdoff; p < end;) {
			size_t n = pkt[p++];
			if (n > end - p) {
				rc = CERTO_EPROTO;
				goto out;
			}
			if (vlen + n > DNS01_MAX_TXT_LEN ||
			    memchr(pkt + p, '\0', n) != NULL)
				keep = false;
			else
				memcpy(val + vlen, pkt + p, n);
			vlen += n;
			p += n;
		}
		if (!keep)
			continue;
		val[vlen] = '\0';
		if ((rc = dns01_strs_add(txt, val, false)) != 0)
			goto out;
	}
out:
	free(val);
	free(owner);
	return rc < 0 ? rc : 0;
}

size_t
dns01_txt_missing(const struct dns01_strs *txt, const char *const *values,
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

/* ------------------------------------------------------------ small API */

int
dns01_record_name(const char *ident, char **out)
{
	char shown[SHOWN_MAX];
	const char *p = ident;
	size_t n, plen = sizeof(acme_prefix) - 1;

	*out = NULL;
	if (ident == NULL)
		return certo_fail(CERTO_EIDENT, "dns-01: no identifier");
	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	n = strlen(p);
	if (n > 0 && p[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-' &&
		    p[i] != '.' && p[i] != '_')
			n = 0;
	if (n == 0 || n + plen > 253)
		return certo_fail(CERTO_EIDENT, "dns-01: bad identifier \"%s\"",
		    log_sanitize(shown, sizeof(shown), ident, (size_t)-1));
	if ((*out = malloc(plen + n + 1)) == NULL)
		return CERTO_ENOMEM;
	memcpy(*out, acme_prefix, plen);
	for (size_t i = 0; i < n; i++)
		(*out)[plen + i] = (char)lc((unsigned char)p[i]);
	(*out)[plen + n] = '\0';
	return 0;
}

int
dns01_txt_value(const char *keyauth, char **out)
{
	unsigned char digest[32];

	*out = NULL;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth, strlen(keyauth),
	    digest) < 0)
		return certo_fail(CERTO_ECRYPTO, "dns-01: SHA-256 failed");
	if ((*out = b64url_encode(digest, sizeof(digest))) == NULL)
		return CERTO_ENOMEM;
	return 0;
}

/* A decimal port 1..65535, nothing else. */
static int
parse_port(const char *s, unsigned short *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (unsigned short)v;
	return 0;
}

int
dns01_server_parse(const char *spec, struct dns01_server *s)
{
	char buf[64], shown[SHOWN_MAX], *addr, *colon, *port = NULL;
	unsigned char bin[16];
	int af;

	memset(s, 0, sizeof(*s));
	s->port = 53;
	if (spec == NULL || strlen(spec) >= sizeof(buf))
		goto bad;
	strcpy(buf, spec);
	addr = buf;
	if (buf[0] == '[') {
		/* "[V6]" or "[V6]:PORT" */
		if ((colon = strchr(buf, ']')) == NULL)
			goto bad;
		*colon = '\0';
		addr = buf + 1;
		if (colon[1] == ':')
			port = colon + 2;
		else if (colon[1] != '\0')
			goto bad;
		af = AF_INET6;
	} else if ((colon = strchr(buf, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		/* "V4:PORT" */
		*colon = '\0';
		port = colon + 1;
		af = AF_INET;
	} else
		af = colon != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, addr, bin) != 1)
		goto bad;
	if (port != NULL && parse_port(port, &s->port) != 0)
		goto bad;
	if ((s->addr = strdup(addr)) == NULL ||
	    (s->name = strdup(addr)) == NULL) {
		dns01_server_free(s);
		return CERTO_ENOMEM;
	}
	return 0;
bad:
	return certo_fail(CERTO_EUSAGE, "invalid DNS server \"%s\": expected "
	    "ADDR, ADDR:PORT or [IPV6]:PORT with a numeric address",
	    spec == NULL ? "" : log_sanitize(shown, sizeof(shown), spec,
	    (size_t)-1));
}

void
dns01_server_free(struct dns01_server *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->addr);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------ queries */

enum qstate {
	Q_PENDING,
	Q_ANSWER,                /* NOERROR or NXDOMAIN, packet kept */
	Q_RCODE,                 /* the server answered with an error */
	Q_NET                    /* no answer: timeout, unreachable */
};

struct query {
	ares_channel ch;
	const char *name;        /* not owned */
	int type;
	enum qstate state;
	int status;              /* c-ares status */
	int rcode;
	unsigned char *pkt;      /* copy of the answer, malloc'd */
	size_t len;
};

static void
query_reset(struct query *q)
{
	free(q->pkt);
	q->pkt = NULL;
	q->len = 0;
	q->state = Q_PENDING;
	q->status = ARES_SUCCESS;
	q->rcode = 0;
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct query *q = arg;

	(void)timeouts;
	q->status = status;
	if (abuf != NULL && alen >= 12 && (size_t)alen <= DNS01_MAX_ANSWER) {
		q->rcode = abuf[3] & 0x0f;
		if (q->rcode != RCODE_NOERROR && q->rcode != RCODE_NXDOMAIN) {
			q->state = Q_RCODE;
			return;
		}
		if ((q->pkt = malloc((size_t)alen)) == NULL) {
			q->status = ARES_ENOMEM;
			q->state = Q_NET;
			return;
		}
		memcpy(q->pkt, abuf, (size_t)alen);
		q->len = (size_t)alen;
		q->state = Q_ANSWER;
		return;
	}
	/* Without the packet: the channel checked the rcode itself. */
	switch (status) {
	case ARES_EFORMERR:
		q->rcode = 1;
		q->state = Q_RCODE;
		break;
	case ARES_ESERVFAIL:
		q->rcode = 2;
		q->state = Q_RCODE;
		break;
	case ARES_ENOTIMP:
		q->rcode = 4;
		q->state = Q_RCODE;
		break;
	case ARES_EREFUSED:
		q->rcode = 5;
		q->state = Q_RCODE;
		break;
	default:
		q->state = Q_NET;
		break;
	}
}

/* Why a query did not give a usable answer, for messages. */
static const char *
query_error(const struct query *q, char *buf, size_t n)
{
	static const char *const rcodes[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED"
	};

	if (q->state == Q_RCODE) {
		if (q->rcode >= 0 && q->rcode < 6)
			snprintf(buf, n, "answered %s", rcodes[q->rcode]);
		else
			snprintf(buf, n, "answered rcode %d", q->rcode);
		return buf;
	}
	switch (q->status) {
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		snprintf(buf, n, "no answer");
		break;
	case ARES_ECONNREFUSED:
		snprintf(buf, n, "unreachable");
		break;
	default:
		snprintf(buf, n, "%s", ares_strerror(q->status));
		break;
	}
	return buf;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
cancel_all(ares_channel *chans, size_t nch)
{
	for (size_t i = 0; i < nch; i++)
		ares_cancel(chans[i]);
}

/*
 * Send qs[0..n) (each on its own channel, among chans[0..nch)) and run
 * one poll() loop until all are answered or the deadline (then the rest
 * are cancelled: Q_NET).  Returns 0, CERTO_EINTR, CERTO_ENOMEM.
 */
static int
run_batch(struct query *qs, size_t n, ares_channel *chans, size_t nch,
    long long deadline)
{
	struct pollfd *pfd = NULL;
	size_t *owner = NULL, np, i, pending;
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct timeval maxtv, tv, *tvp;
	long long now, wait;
	int rc = 0, bits;

	if (n == 0)
		return 0;
	if ((pfd = calloc(nch * ARES_GETSOCK_MAXNUM, sizeof(*pfd))) == NULL ||
	    (owner = calloc(nch * ARES_GETSOCK_MAXNUM, sizeof(*owner))) ==
	    NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		query_reset(&qs[i]);
		ares_query(qs[i].ch, qs[i].name, CLASS_IN, qs[i].type,
		    on_answer, &qs[i]);
	}
	for (;;) {
		for (pending = 0, i = 0; i < n; i++)
			if (qs[i].state == Q_PENDING)
				pending++;
		if (pending == 0)
			break;
		if (sig_pending()) {
			cancel_all(chans, nch);
			rc = certo_fail(CERTO_EINTR, "interrupted by signal %d",
			    sig_pending());
			goto out;
		}
		now = now_ms();
		if (now >= deadline) {
			cancel_all(chans, nch);
			continue;
		}
		wait = deadline - now < POLL_SLICE_MS ? deadline - now :
		    POLL_SLICE_MS;
		np = 0;
		for (size_t c = 0; c < nch; c++) {
			bits = ares_getsock(chans[c], socks, ARES_GETSOCK_MAXNUM);
			for (int s = 0; s < ARES_GETSOCK_MAXNUM; s++) {
				short ev = 0;
				/* Not ARES_GETSOCK_WRITABLE: 1 << 31 on an int. */
				if ((unsigned)bits & 1u << s)
					ev |= POLLIN;
				if ((unsigned)bits & 1u << (s + ARES_GETSOCK_MAXNUM))
					ev |= POLLOUT;
				if (ev == 0)
					continue;
				pfd[np].fd = socks[s];
				pfd[np].events = ev;
				pfd[np].revents = 0;
				owner[np++] = c;
			}
			maxtv.tv_sec = wait / 1000;
			maxtv.tv_usec = (wait % 1000) * 1000;
			if ((tvp = ares_timeout(chans[c], &maxtv, &tv)) != NULL) {
				long long t = (long long)tvp->tv_sec * 1000 +
				    tvp->tv_usec / 1000;
				if (t < wait)
					wait = t;
			}
		}
		if (poll(pfd, (nfds_t)np, (int)wait) < 0 && errno != EINTR) {
			cancel_all(chans, nch);
			rc = certo_fail(CERTO_ENET, "dns-01: poll: %s",
			    strerror(errno));
			goto out;
		}
		for (i = 0; i < np; i++) {
			short re = pfd[i].revents;
			if (re == 0)
				continue;
			ares_process_fd(chans[owner[i]],
			    re & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd :
			    ARES_SOCKET_BAD,
			    re & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
		}
		/* Timeouts and retries. */
		for (size_t c = 0; c < nch; c++)
			ares_process_fd(chans[c], ARES_SOCKET_BAD,
			    ARES_SOCKET_BAD);
	}
out:
	free(pfd);
	free(owner);
	return rc;
}

/*
 * A channel to one server (direct: no recursion desired, one try), or
 * to the system's resolvers when s is NULL.  Returns 0 or CERTO_ENET,
 * CERTO_ENOMEM.
 */
static int
chan_new(const struct dns01_server *s, bool direct, ares_channel *out)
{
	struct ares_options ao;
	struct ares_addr_port_node node;
	char shown[SHOWN_MAX];
	int st;

	memset(&ao, 0, sizeof(ao));
	ao.flags = ARES_FLAG_NOSEARCH;
	if (direct)
		ao.flags |= ARES_FLAG_NORECURSE;
	/* One server: hand us its error rcodes instead of failing over. */
	if (s != NULL)
		ao.flags |= ARES_FLAG_NOCHECKRESP;
	ao.timeout = QUERY_TIMEOUT_MS;
	ao.tries = direct ? 1 : 2;
	if ((st = ares_init_options(out, &ao, ARES_OPT_FLAGS |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES)) != ARES_SUCCESS) {
		*out = NULL;
		return certo_fail(st == ARES_ENOMEM ? CERTO_ENOMEM : CERTO_ENET,
		    "dns-01: c-ares: %s", ares_strerror(st));
	}
	if (s == NULL)
		return 0;
	memset(&node, 0, sizeof(node));
	if (inet_pton(AF_INET, s->addr, &node.addr.addr4) == 1)
		node.family = AF_INET;
	else if (inet_pton(AF_INET6, s->addr, &node.addr.addr6) == 1)
		node.family = AF_INET6;
	else {
		ares_destroy(*out);
		*out = NULL;
		return certo_fail(CERTO_EUSAGE, "dns-01: not a numeric "
		    "address: \"%s\"", log_sanitize(shown, sizeof(shown),
		    s->addr, (size_t)-1));
	}
	node.udp_port = node.tcp_port = s->port;
	if ((st = ares_set_servers_ports(*out, &node)) != ARES_SUCCESS) {
		ares_destroy(*out);
		*out = NULL;
		return certo_fail(CERTO_ENET, "dns-01: c-ares: %s",
		    ares_strerror(st));
	}
	return 0;
}

/* ------------------------------------------------------------ the wait */

struct srv {
	struct dns01_server s;   /* owned */
	ares_channel ch;
};

/* One (record, server) pair. */
struct target {
	size_t rec, srv, group;
	bool visible;
	bool answered;           /* the last query got an answer */
	bool failed;             /* errbuf says why it failed */
	char errbuf[ERR_MAX];
	size_t missing;          /* values not seen in the last answer */
};

struct rec {
	char *final;             /* the name asked (after CNAMEs) */
	bool ready;              /* final and targets are set */
	char why[WHY_MAX];       /* the last discovery failure */
};

struct ctx {
	const struct dns01_record *recs;
	size_t nrecs;
	const struct dns01_opts *o;
	struct rec *rs;
	struct srv *srvs;
	size_t nsrv;
	struct target *tg;
	size_t ntg;
	size_t ngroups;
	ares_channel disc;       /* discovery; NULL until needed */
	unsigned short nsport;   /* port of discovered servers */
	long long deadline;
	struct dns01_progress *prog;
};

static char disc_name[] = "(name servers)";
static char disc_addr[] = "";
static const struct dns01_server disc_placeholder = {
	disc_name, disc_addr, 0
};

static void
ctx_free(struct ctx *c)
{
	if (c->rs != NULL)
		for (size_t i = 0; i < c->nrecs; i++)
			free(c->rs[i].final);
	free(c->rs);
	for (size_t i = 0; i < c->nsrv; i++) {
		if (c->srvs[i].ch != NULL)
			ares_destroy(c->srvs[i].ch);
		dns01_server_free(&c->srvs[i].s);
	}
	free(c->srvs);
	free(c->tg);
	free(c->prog);
	if (c->disc != NULL)
		ares_destroy(c->disc);
	memset(c, 0, sizeof(*c));
}

/* "name (addr:port)" or "addr:port", sanitised. */
static const char *
server_label(const struct dns01_server *s, char *buf, size_t n)
{
	char name[SHOWN_MAX], ap[80];

	if (s == &disc_placeholder) {
		snprintf(buf, n, "%s", s->name);
		return buf;
	}
	if (strchr(s->addr, ':') != NULL)
		snprintf(ap, sizeof(ap), "[%s]:%u", s->addr, (unsigned)s->port);
	else
		snprintf(ap, sizeof(ap), "%s:%u", s->addr, (unsigned)s->port);
	if (strcmp(s->name, s->addr) == 0)
		snprintf(buf, n, "%s", ap);
	else
		snprintf(buf, n, "%s (%s)", log_sanitize(name, sizeof(name),
		    s->name, (size_t)-1), ap);
	return buf;
}

/* The index of the server addr:port, added (with its channel) if new. */
static int
srv_add(struct ctx *c, const char *name, const char *addr,
    unsigned short port, bool direct, size_t *idx)
{
	struct srv *v, *s;
	int rc;

	for (size_t i = 0; i < c->nsrv; i++)
		if (c->srvs[i].s.port == port &&
		    strcmp(c->srvs[i].s.addr, addr) == 0) {
			*idx = i;
			return 0;
		}
	if ((v = realloc(c->srvs, (c->nsrv + 1) * sizeof(*v))) == NULL)
		return CERTO_ENOMEM;
	c->srvs = v;
	s = &c->srvs[c->nsrv];
	memset(s, 0, sizeof(*s));
	if ((s->s.name = strdup(name)) == NULL ||
	    (s->s.addr = strdup(addr)) == NULL) {
		dns01_server_free(&s->s);
		return CERTO_ENOMEM;
	}
	s->s.port = port;
	if ((rc = chan_new(&s->s, direct, &s->ch)) != 0) {
		dns01_server_free(&s->s);
		return rc;
	}
	*idx = c->nsrv++;
	return 0;
}

static int
target_add(struct ctx *c, size_t rec, size_t srv, size_t group)
{
	struct target *v;

	for (size_t i = 0; i < c->ntg; i++)
		if (c->tg[i].rec == rec && c->tg[i].srv == srv)
			return 0;
	if ((v = realloc(c->tg, (c->ntg + 1) * sizeof(*v))) == NULL)
		return CERTO_ENOMEM;
	c->tg = v;
	memset(&c->tg[c->ntg], 0, sizeof(*v));
	c->tg[c->ntg].rec = rec;
	c->tg[c->ntg].srv = srv;
	c->tg[c->ntg].group = group;
	c->ntg++;
	return 0;
}

/* Append to a bounded message; "..." once it is full. */
static void
msg_add(char *buf, size_t n, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
msg_add(char *buf, size_t n, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*off >= n - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *off, n - *off, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	if ((size_t)w >= n - *off) {
		*off = n - 1;
		if (n > 4)
			memcpy(buf + n - 4, "...", 4);
		return;
	}
	*off += (size_t)w;
}

/* One discovery query; *m is parsed when the state is Q_ANSWER. */
static int
disc_query(struct ctx *c, const char *name, int type, struct query *q,
    struct dns01_msg *m)
{
	long long now = now_ms();
	int rc;

	dns01_msg_free(m);
	query_reset(q);
	q->ch = c->disc;
	q->name = name;
	q->type = type;
	/* Every query gets its own time, even at the overall deadline. */
	rc = run_batch(q, 1, &c->disc, 1, c->deadline > now + QUERY_TIMEOUT_MS ?
	    c->deadline : now + QUERY_TIMEOUT_MS);
	if (rc != 0)
		return rc;
	if (q->state == Q_ANSWER && (rc = dns01_msg_parse(q->pkt, q->len,
	    m)) != 0) {
		if (rc == CERTO_ENOMEM)
			return rc;
		q->state = Q_RCODE;
		q->rcode = -1;
	}
	return 0;
}

static const char *const type_names[] = {
	[RR_A] = "A", [RR_NS] = "NS", [RR_CNAME] = "CNAME", [RR_SOA] = "SOA",
	[RR_TXT] = "TXT", [RR_AAAA] = "AAAA"
};

/* Note a failed discovery query in r->why; returns 1 (try again). */
static int
disc_transient(struct rec *r, const struct query *q)
{
	char name[SHOWN_MAX], err[ERR_MAX];

	snprintf(r->why, sizeof(r->why), "%s %s: %s", type_names[q->type],
	    log_sanitize(name, sizeof(name), q->name, (size_t)-1),
	    q->rcode == -1 ? "malformed answer" :
	    query_error(q, err, sizeof(err)));
	return 1;
}

/*
 * A query the resolver will keep refusing (REFUSED, NOTIMP, FORMERR):
 * waiting does not help, so discovery fails at once (CERTO_EDNSWAIT).
 * SERVFAIL, no answer and a malformed answer are tried again.
 */
static int
disc_failed(struct ctx *c, size_t ri, const struct query *q)
{
	struct rec *r = &c->rs[ri];

	disc_transient(r, q);
	if (q->state != Q_RCODE || q->rcode == 2 || q->rcode == -1)
		return 1;
	return certo_fail(CERTO_EDNSWAIT, "dns-01: %s: cannot find its name "
	    "servers: %s (with a resolver that does not answer such queries, "
	    "use --dns-resolver)", c->recs[ri].name, r->why);
}

/* Give record ri the servers of an earlier record with the same name. */
static int
disc_share(struct ctx *c, size_t ri)
{
	struct rec *r = &c->rs[ri];
	size_t j, n;
	int rc;

	for (j = 0; j < ri; j++)
		if (c->rs[j].ready && dns01_name_eq(c->recs[j].name,
		    c->recs[ri].name))
			break;
	if (j == ri)
		return 0;
	if ((r->final = strdup(c->rs[j].final)) == NULL)
		return CERTO_ENOMEM;
	for (n = c->ntg, rc = 0; rc == 0 && n-- > 0;)
		if (c->tg[n].rec == j)
			rc = target_add(c, ri, c->tg[n].srv, c->tg[n].group);
	if (rc == 0)
		r->ready = true;
	return rc;
}

/* Resolve the NS hosts (glue from ns first) into servers of record ri. */
static int
disc_servers(struct ctx *c, size_t ri, const char *zone,
    const struct dns01_msg *ns, const struct dns01_strs *hosts)
{
	struct rec *r = &c->rs[ri];
	struct dns01_strs *addrs = NULL;
	struct query *qs = NULL;
	struct dns01_msg m = { 0 };
	size_t h, k, nq = 0, nadded = 0, idx;
	long long now = now_ms();
	int rc = 0;
	bool net = false;

	if ((addrs = calloc(hosts->n, sizeof(*addrs))) == NULL ||
	    (qs = calloc(hosts->n * 2, sizeof(*qs))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (h = 0; h < hosts->n; h++) {
		if ((rc = dns01_host_addrs(ns, hosts->v[h], &addrs[h])) != 0)
			goto out;
		if (addrs[h].n > 0)
			continue;
		qs[nq].ch = qs[nq + 1].ch = c->disc;
		qs[nq].name = qs[nq + 1].name = hosts->v[h];
		qs[nq].type = RR_A;
		qs[nq + 1].type = RR_AAAA;
		nq += 2;
	}
	if ((rc = run_batch(qs, nq, &c->disc, 1, c->deadline > now +
	    QUERY_TIMEOUT_MS ? c->deadline : now + QUERY_TIMEOUT_MS)) != 0)
		goto out;
	for (k = 0; k < nq; k++) {
		if (qs[k].state != Q_ANSWER) {
			/* Try again next round rather than skip this host. */
			net = true;
			disc_transient(r, &qs[k]);
			continue;
		}
		for (h = 0; h < hosts->n && hosts->v[h] != qs[k].name; h++)
			;
		if ((rc = dns01_msg_parse(qs[k].pkt, qs[k].len, &m)) == 0)
			rc = dns01_host_addrs(&m, hosts->v[h], &addrs[h]);
		dns01_msg_free(&m);
		if (rc == CERTO_ENOMEM)
			goto out;
		rc = 0;
	}
	if (net) {
		rc = 1;
		goto out;
	}
	for (h = 0; h < hosts->n; h++) {
		size_t group = c->ngroups++;
		if (addrs[h].n == 0) {
			char shown[SHOWN_MAX];
			log_debug("dns-01: name server %s has no address",
			    log_sanitize(shown, sizeof(shown), hosts->v[h],
			    (size_t)-1));
		}
		for (k = 0; k < addrs[h].n; k++) {
			if ((rc = srv_add(c, hosts->v[h], addrs[h].v[k],
			    c->nsport, true, &idx)) != 0 ||
			    (rc = target_add(c, ri, idx, group)) != 0)
				goto out;
			nadded++;
		}
	}
	if (nadded == 0) {
		char shown[SHOWN_MAX];
		rc = certo_fail(CERTO_EDNSWAIT, "dns-01: %s: the name servers "
		    "of zone %s have no addresses", c->recs[ri].name,
		    log_sanitize(shown, sizeof(shown), zone, (size_t)-1));
	}
out:
	for (k = 0; qs != NULL && k < hosts->n * 2; k++)
		free(qs[k].pkt);
	free(qs);
	for (h = 0; addrs != NULL && h < hosts->n; h++)
		dns01_strs_free(&addrs[h]);
	free(addrs);
	return rc;
}

/*
 * Find the authoritative servers of record ri: CNAMEs, zone cut, NS
 * set, addresses.  Returns 0 (targets added), 1 when a query failed and
 * discovery should be tried again next round (r->why says why),
 * CERTO_EDNSWAIT when the answers show no usable servers, CERTO_EINTR,
 * CERTO_ENOMEM.
 */
static int
discover(struct ctx *c, size_t ri)
{
	struct rec *r = &c->rs[ri];
	struct query q = { 0 };
	struct dns01_msg m = { 0 };
	struct dns01_strs hosts = { 0 };
	char *name = NULL, *next = NULL, *zone = NULL;
	char shown[SHOWN_MAX], last[WHY_MAX] = "";
	const char *cur;
	size_t hops = 0;
	int rc, n;
	bool servfail = false;

	if ((rc = disc_share(c, ri)) != 0 || r->ready)
		return rc;
	if (c->disc == NULL && (rc = chan_new(c->o->recursive, false,
	    &c->disc)) != 0)
		return rc;
	if ((name = name_dup(c->recs[ri].name)) == NULL)
		return CERTO_ENOMEM;

	/* 1. CNAMEs (delegation of _acme-challenge to another zone). */
	for (;;) {
		if ((rc = disc_query(c, name, RR_CNAME, &q, &m)) != 0)
			goto out;
		if (q.state != Q_ANSWER) {
			rc = disc_failed(c, ri, &q);
			goto out;
		}
		n = dns01_cname_chase(&m, name, DNS01_MAX_CNAME - hops, &next);
		if (n < 0) {
			rc = n == CERTO_ENOMEM ? n : certo_fail(CERTO_EDNSWAIT,
			    "dns-01: %s: CNAME chain longer than %d or a loop",
			    c->recs[ri].name, DNS01_MAX_CNAME);
			goto out;
		}
		free(name);
		name = next;
		next = NULL;
		if (n == 0)
			break;
		hops += (size_t)n;
		log_debug("dns-01: %s: CNAME to %s", c->recs[ri].name,
		    log_sanitize(shown, sizeof(shown), name, (size_t)-1));
	}

	/* 2. The zone cut: up label by label until an answer shows it. */
	for (cur = name; *cur != '\0'; cur = dns01_name_parent(cur)) {
		if ((rc = disc_query(c, cur, RR_SOA, &q, &m)) != 0)
			goto out;
		if (q.state == Q_NET) {
			rc = disc_transient(r, &q);
			goto out;
		}
		if (q.state == Q_RCODE) {
			disc_transient(r, &q);
			snprintf(last, sizeof(last), "%s", r->why);
			servfail = q.rcode == 2;
			continue;
		}
		if ((rc = dns01_zone_decide(&m, cur, &zone)) < 0)
			goto out;
		if (rc == 1)
			break;
	}
	if (zone == NULL) {
		if (servfail) {
			rc = 1;
			goto out;
		}
		rc = certo_fail(CERTO_EDNSWAIT, "dns-01: %s: cannot find the "
		    "zone of %s%s%s (with a resolver that is not authoritative "
		    "or recursive, use --dns-resolver)", c->recs[ri].name,
		    log_sanitize(shown, sizeof(shown), name, (size_t)-1),
		    last[0] != '\0' ? ": " : "", last);
		goto out;
	}

	/* 3. The zone's name servers and their addresses. */
	if ((rc = disc_query(c, zone, RR_NS, &q, &m)) != 0)
		goto out;
	if (q.state != Q_ANSWER) {
		rc = disc_failed(c, ri, &q);
		goto out;
	}
	if ((rc = dns01_ns_hosts(&m, zone, &hosts)) != 0)
		goto out;
	if (hosts.n == 0) {
		rc = certo_fail(CERTO_EDNSWAIT, "dns-01: %s: zone %s has no NS "
		    "records", c->recs[ri].name, log_sanitize(shown,
		    sizeof(shown), zone, (size_t)-1));
		goto out;
	}
	if ((rc = disc_servers(c, ri, zone, &m, &hosts)) != 0)
		goto out;
	log_debug("dns-01: %s: asking %s in zone %s, %zu name servers",
	    c->recs[ri].name, log_sanitize(shown, sizeof(shown), name,
	    (size_t)-1), zone, hosts.n);
	/* Ownership of name moves to the record. */
	r->final = name;
	name = NULL;
	r->ready = true;
	r->why[0] = '\0';
out:
	free(q.pkt);
	dns01_msg_free(&m);
	dns01_strs_free(&hosts);
	free(name);
	free(next);
	free(zone);
	return rc;
}

/* Explicit resolvers: every record asks every one of them. */
static int
setup_resolvers(struct ctx *c)
{
	size_t idx;
	int rc;

	for (size_t i = 0; i < c->o->nresolvers; i++) {
		const struct dns01_server *s = &c->o->resolvers[i];
		if ((rc = srv_add(c, s->name != NULL ? s->name : s->addr,
		    s->addr, s->port != 0 ? s->port : 53, false, &idx)) != 0)
			return rc;
		for (size_t r = 0; r < c->nrecs; r++)
			if ((rc = target_add(c, r, idx, idx)) != 0)
				return rc;
	}
	for (size_t r = 0; r < c->nrecs; r++) {
		if ((c->rs[r].final = name_dup(c->recs[r].name)) == NULL)
			return CERTO_ENOMEM;
		c->rs[r].ready = true;
	}
	c->ngroups = c->nsrv;
	return 0;
}

/* One round: TXT from every pair at once, then judge each pair. */
static int
round_run(struct ctx *c)
{
	struct query *qs = NULL;
	ares_channel *chans = NULL;
	struct dns01_strs txt = { 0 };
	long long now = now_ms();
	int rc;

	if (c->ntg == 0)
		return 0;
	if ((qs = calloc(c->ntg, sizeof(*qs))) == NULL ||
	    (chans = calloc(c->nsrv, sizeof(*chans))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->nsrv; i++)
		chans[i] = c->srvs[i].ch;
	for (size_t i = 0; i < c->ntg; i++) {
		qs[i].ch = c->srvs[c->tg[i].srv].ch;
		qs[i].name = c->rs[c->tg[i].rec].final;
		qs[i].type = RR_TXT;
	}
	if ((rc = run_batch(qs, c->ntg, chans, c->nsrv, c->deadline > now +
	    QUERY_TIMEOUT_MS ? c->deadline : now + QUERY_TIMEOUT_MS)) != 0)
		goto out;
	for (size_t i = 0; i < c->ntg; i++) {
		struct target *t = &c->tg[i];
		const struct dns01_record *rec = &c->recs[t->rec];

		t->visible = false;
		t->failed = false;
		t->missing = rec->nvalues;
		t->answered = qs[i].state != Q_NET;
		if (qs[i].state != Q_ANSWER) {
			query_error(&qs[i], t->errbuf, sizeof(t->errbuf));
			t->failed = true;
			continue;
		}
		dns01_strs_free(&txt);
		if ((rc = dns01_txt_parse(qs[i].pkt, qs[i].len, qs[i].name,
		    &txt)) != 0) {
			if (rc == CERTO_ENOMEM)
				goto out;
			rc = 0;
			snprintf(t->errbuf, sizeof(t->errbuf),
			    "malformed answer");
			t->failed = true;
			continue;
		}
		t->missing = dns01_txt_missing(&txt, rec->values, rec->nvalues);
		t->visible = t->missing == 0;
	}
out:
	dns01_strs_free(&txt);
	for (size_t i = 0; qs != NULL && i < c->ntg; i++)
		free(qs[i].pkt);
	free(qs);
	free(chans);
	return rc;
}

/* The group of t is done: one address shows the values, none lacks them. */
static bool
group_ok(const struct ctx *c, const struct target *t)
{
	bool seen = false;

	for (size_t i = 0; i < c->ntg; i++) {
		const struct target *u = &c->tg[i];
		if (u->rec != t->rec || u->group != t->group)
			continue;
		if (u->visible)
			seen = true;
		else if (u->answered)
			return false;
	}
	return seen;
}

static bool
all_visible(const struct ctx *c)
{
	for (size_t r = 0; r < c->nrecs; r++)
		if (!c->rs[r].ready)
			return false;
	for (size_t i = 0; i < c->ntg; i++)
		if (!group_ok(c, &c->tg[i]))
			return false;
	return true;
}

static void
report(struct ctx *c)
{
	long long left = c->deadline - now_ms();
	size_t n = 0;

	if (c->o->progress == NULL)
		return;
	for (size_t r = 0; r < c->nrecs; r++) {
		if (c->rs[r].ready)
			continue;
		c->prog[n].record = c->recs[r].name;
		c->prog[n].server = &disc_placeholder;
		c->prog[n].visible = false;
		c->prog[n].error = c->rs[r].why[0] != '\0' ? c->rs[r].why :
		    "not found yet";
		n++;
	}
	for (size_t i = 0; i < c->ntg; i++) {
		c->prog[n].record = c->recs[c->tg[i].rec].name;
		c->prog[n].server = &c->srvs[c->tg[i].srv].s;
		c->prog[n].visible = c->tg[i].visible;
		c->prog[n].error = c->tg[i].failed ? c->tg[i].errbuf : NULL;
		n++;
	}
	c->o->progress(c->o->arg, c->prog, n, left > 0 ? (long)left : 0);
}

/* CERTO_EDNSWAIT naming every record and server that is not done. */
static int
fail_timeout(const struct ctx *c)
{
	char msg[MSG_MAX], label[SHOWN_MAX + 80];
	size_t off = 0;
	bool first;

	if (c->o->timeout_ms % 1000 == 0)
		msg_add(msg, sizeof(msg), &off, "dns-01: TXT not visible after "
		    "%ld s:", c->o->timeout_ms / 1000);
	else
		msg_add(msg, sizeof(msg), &off, "dns-01: TXT not visible after "
		    "%.1f s:", (double)c->o->timeout_ms / 1000.0);
	for (size_t r = 0; r < c->nrecs; r++) {
		if (!c->rs[r].ready) {
			msg_add(msg, sizeof(msg), &off, " %s: name servers not "
			    "found (%s);", c->recs[r].name,
			    c->rs[r].why[0] != '\0' ? c->rs[r].why : "no answer");
			continue;
		}
		first = true;
		for (size_t i = 0; i < c->ntg; i++) {
			const struct target *t = &c->tg[i];
			if (t->rec != r || t->visible || group_ok(c, t))
				continue;
			server_label(&c->srvs[t->srv].s, label, sizeof(label));
			if (first)
				msg_add(msg, sizeof(msg), &off, " %s not on %s (",
				    c->recs[r].name, label);
			else
				msg_add(msg, sizeof(msg), &off, ", %s (", label);
			if (t->failed)
				msg_add(msg, sizeof(msg), &off, "%s)", t->errbuf);
			else if (c->recs[r].nvalues == 1)
				msg_add(msg, sizeof(msg), &off, "value missing)");
			else
				msg_add(msg, sizeof(msg), &off, "%zu of %zu "
				    "values missing)", t->missing,
				    c->recs[r].nvalues);
			first = false;
		}
		if (!first)
			msg_add(msg, sizeof(msg), &off, ";");
	}
	if (off > 0 && msg[off - 1] == ';')
		msg[off - 1] = '\0';
	return certo_fail(CERTO_EDNSWAIT, "%s", msg);
}

/* The pause before round `round` (0-based, after the first). */
static long
round_interval(unsigned round, long interval_ms)
{
	static const long ramp[] = { 250, 500, 1000 };
	long iv = interval_ms > 0 ? interval_ms : DEFAULT_INTERVAL_MS;

	if (round < sizeof(ramp) / sizeof(ramp[0]) && ramp[round] < iv)
		return ramp[round];
	return iv;
}

int
dns01_wait(const struct dns01_record *recs, size_t nrecs,
    const struct dns01_opts *o)
{
	struct ctx c;
	long long left;
	long iv;
	unsigned round = 0;
	int rc, st;

	if (nrecs == 0)
		return 0;
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].name == NULL || recs[i].name[0] == '\0' ||
		    (recs[i].nvalues > 0 && recs[i].values == NULL))
			return certo_fail(CERTO_EUSAGE, "dns-01: bad record");
	if ((st = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
		return certo_fail(CERTO_ENET, "dns-01: c-ares: %s",
		    ares_strerror(st));
	memset(&c, 0, sizeof(c));
	c.recs = recs;
	c.nrecs = nrecs;
	c.o = o;
	c.deadline = now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 0);
	c.nsport = o->recursive != NULL && o->recursive->port != 0 ?
	    o->recursive->port : 53;
	if ((c.rs = calloc(nrecs, sizeof(*c.rs))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if (o->resolvers != NULL && o->nresolvers > 0 &&
	    (rc = setup_resolvers(&c)) != 0)
		goto out;
	for (;;) {
		if (sig_pending()) {
			rc = certo_fail(CERTO_EINTR, "interrupted by signal %d",
			    sig_pending());
			goto out;
		}
		for (size_t r = 0; r < nrecs; r++)
			if (!c.rs[r].ready && (rc = discover(&c, r)) < 0)
				goto out;
		if ((rc = round_run(&c)) != 0)
			goto out;
		free(c.prog);
		if ((c.prog = calloc(c.ntg + nrecs, sizeof(*c.prog))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		report(&c);
		if (all_visible(&c))
			break;
		left = c.deadline - now_ms();
		if (left <= 0) {
			rc = fail_timeout(&c);
			goto out;
		}
		iv = round_interval(round++, o->interval_ms);
		if ((rc = sig_sleep_ms(iv < left ? iv : (long)left)) != 0)
			goto out;
	}
	log_debug("dns-01: visible on every server after %u round(s)",
	    round + 1);
	rc = 0;
	if (o->wait_extra_ms > 0)
		rc = sig_sleep_ms(o->wait_extra_ms);
out:
	ctx_free(&c);
	ares_library_cleanup();
	return rc;
}
