/* DNS queries over c-ares, many at once in one poll() loop (dns_query.h). */
#include "dns_query.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dns_wire.h"
#include "domain.h"
#include "errors.h"
#include "log.h"
#include "sig.h"

#define POLL_SLICE_MS 200       /* longest poll() between signal checks */
#define HEADER_LEN 12

/* A batch's deadline under the overall one (see dns_query.h). */
long long
dns_query_deadline(long long overall)
{
	long long now = sig_now_ms();

	return overall > now + DNS_QUERY_TIMEOUT_MS ? overall :
	    now + DNS_QUERY_TIMEOUT_MS;
}

/* "A", "NS", ... for a type number (see dns_query.h). */
const char *
dns_type_name(int type)
{
	switch (type) {
	case DNS_T_A:
		return "A";
	case DNS_T_NS:
		return "NS";
	case DNS_T_CNAME:
		return "CNAME";
	case DNS_T_SOA:
		return "SOA";
	case DNS_T_TXT:
		return "TXT";
	case DNS_T_AAAA:
		return "AAAA";
	default:
		return "?";
	}
}

/* Forget a query's outcome (see dns_query.h). */
void
dns_query_reset(struct dns_query *q)
{
	free(q->pkt);
	q->pkt = NULL;
	q->len = 0;
	q->state = DNS_Q_PENDING;
	q->status = ARES_SUCCESS;
	q->rcode = 0;
}

/* Without the packet, the channel checked the rcode itself. */
static void
on_status(struct dns_query *q, int status)
{
	switch (status) {
	case ARES_EFORMERR:
		q->rcode = DNS_RCODE_FORMERR;
		q->state = DNS_Q_RCODE;
		break;
	case ARES_ESERVFAIL:
		q->rcode = DNS_RCODE_SERVFAIL;
		q->state = DNS_Q_RCODE;
		break;
	case ARES_ENOTIMP:
		q->rcode = DNS_RCODE_NOTIMP;
		q->state = DNS_Q_RCODE;
		break;
	case ARES_EREFUSED:
		q->rcode = DNS_RCODE_REFUSED;
		q->state = DNS_Q_RCODE;
		break;
	default:
		q->state = DNS_Q_NET;
		break;
	}
}

/* c-ares' callback: keep the answer's packet, or why there is none. */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_query *q = arg;

	(void)timeouts;
	q->status = status;
	if (abuf == NULL || alen < HEADER_LEN ||
	    (size_t)alen > DNS_MAX_ANSWER) {
		on_status(q, status);
		return;
	}
	q->rcode = abuf[3] & 0x0f;
	if (q->rcode != DNS_RCODE_NOERROR && q->rcode != DNS_RCODE_NXDOMAIN) {
		q->state = DNS_Q_RCODE;
		return;
	}
	if ((q->pkt = malloc((size_t)alen)) == NULL) {
		q->status = ARES_ENOMEM;
		q->state = DNS_Q_NET;
		return;
	}
	memcpy(q->pkt, abuf, (size_t)alen);
	q->len = (size_t)alen;
	q->state = DNS_Q_ANSWER;
}

/* Why a query gave no usable answer (see dns_query.h). */
const char *
dns_query_error(const struct dns_query *q, char *buf, size_t n)
{
	static const char *const rcodes[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED"
	};

	if (q->state == DNS_Q_RCODE) {
		if (q->rcode == -1)
			snprintf(buf, n, "malformed answer");
		else if (q->rcode >= 0 && q->rcode < 6)
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

static void
cancel_all(ares_channel *chans, size_t nchans)
{
	for (size_t i = 0; i < nchans; i++)
		ares_cancel(chans[i]);
}

/* The descriptors of every channel for poll() (pfd and owner hold
 * nchans * ARES_GETSOCK_MAXNUM), *wait lowered to the first c-ares
 * timer; returns how many. */
static size_t
poll_set(ares_channel *chans, size_t nchans, struct pollfd *pfd,
    size_t *owner, long long *wait)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct timeval maxtv, tv, *tvp;
	size_t np = 0;
	int bits;

	for (size_t c = 0; c < nchans; c++) {
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
		maxtv.tv_sec = *wait / 1000;
		maxtv.tv_usec = (*wait % 1000) * 1000;
		if ((tvp = ares_timeout(chans[c], &maxtv, &tv)) != NULL) {
			long long t = (long long)tvp->tv_sec * 1000 +
			    tvp->tv_usec / 1000;
			if (t < *wait)
				*wait = t;
		}
	}
	return np;
}

/* Hand c-ares what poll() found, then let it run its timers. */
static void
process_ready(ares_channel *chans, size_t nchans, const struct pollfd *pfd,
    const size_t *owner, size_t np)
{
	for (size_t i = 0; i < np; i++) {
		short re = pfd[i].revents;
		if (re == 0)
			continue;
		ares_process_fd(chans[owner[i]],
		    re & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd :
		    ARES_SOCKET_BAD,
		    re & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
	}
	/* Timeouts and retries. */
	for (size_t c = 0; c < nchans; c++)
		ares_process_fd(chans[c], ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

static bool
any_pending(const struct dns_query *queries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (queries[i].state == DNS_Q_PENDING)
			return true;
	return false;
}

/* Send queries and wait for them in one poll() loop (see dns_query.h). */
int
dns_query_run(struct dns_query *queries, size_t n, ares_channel *chans,
    size_t nchans, long long deadline)
{
	struct pollfd *pfd = NULL;
	size_t *owner = NULL, np;
	long long now, wait;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((pfd = calloc(nchans * ARES_GETSOCK_MAXNUM, sizeof(*pfd))) ==
	    NULL || (owner = calloc(nchans * ARES_GETSOCK_MAXNUM,
	    sizeof(*owner))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		dns_query_reset(&queries[i]);
		ares_query(queries[i].chan, queries[i].name, DNS_CLASS_IN,
		    queries[i].type, on_answer, &queries[i]);
	}
	while (any_pending(queries, n)) {
		if (sig_pending()) {
			cancel_all(chans, nchans);
			rc = certo_fail(CERTO_EINTR, "interrupted by signal %d",
			    sig_pending());
			goto out;
		}
		now = sig_now_ms();
		if (now >= deadline) {
			cancel_all(chans, nchans);
			continue;
		}
		wait = deadline - now < POLL_SLICE_MS ? deadline - now :
		    POLL_SLICE_MS;
		np = poll_set(chans, nchans, pfd, owner, &wait);
		if (poll(pfd, (nfds_t)np, (int)wait) < 0 && errno != EINTR) {
			cancel_all(chans, nchans);
			rc = certo_fail(CERTO_ENET, "dns-01: poll: %s",
			    strerror(errno));
			goto out;
		}
		process_ready(chans, nchans, pfd, owner, np);
	}
out:
	free(pfd);
	free(owner);
	return rc;
}

/*
 * The system's name servers, read once by dns_query_preset() (the
 * network process, before its sandbox: no file is opened after it);
 * until then each channel reads /etc/resolv.conf itself.
 */
static struct ares_addr_port_node *preset_servers;
static bool preset;

/* Read the system's resolver set-up once (see dns_query.h). */
int
dns_query_preset(void)
{
	ares_channel chan;
	int st;

	if (preset)
		return 0;
	if ((st = ares_init(&chan)) != ARES_SUCCESS)
		return certo_fail(st == ARES_ENOMEM ? CERTO_ENOMEM : CERTO_ENET,
		    "dns: c-ares: %s", ares_strerror(st));
	st = ares_get_servers_ports(chan, &preset_servers);
	ares_destroy(chan);
	if (st != ARES_SUCCESS)
		return certo_fail(CERTO_ENOMEM, "dns: c-ares: %s",
		    ares_strerror(st));
	preset = true;
	return 0;
}

/* A c-ares channel to one server or the system's (see dns_query.h). */
int
dns_channel_open(const struct dns01_server *server, bool direct,
    ares_channel *out)
{
	struct ares_options options;
	struct ares_addr_port_node node;
	unsigned char ip[16];
	char shown[DNS_SHOWN_MAX];
	int st, mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;

	memset(&options, 0, sizeof(options));
	if (preset) {
		/* Servers and domains given: c-ares reads no file. */
		options.lookups = (char *)(uintptr_t)"b";
		mask |= ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS;
	}
	options.flags = ARES_FLAG_NOSEARCH;
	if (direct)
		options.flags |= ARES_FLAG_NORECURSE;
	/* One server: hand us its error rcodes instead of failing over. */
	if (server != NULL)
		options.flags |= ARES_FLAG_NOCHECKRESP;
	options.timeout = DNS_QUERY_TIMEOUT_MS;
	options.tries = direct ? 1 : 2;
	if ((st = ares_init_options(out, &options, mask)) != ARES_SUCCESS) {
		*out = NULL;
		return certo_fail(st == ARES_ENOMEM ? CERTO_ENOMEM : CERTO_ENET,
		    "dns-01: c-ares: %s", ares_strerror(st));
	}
	if (server == NULL && preset && (st = ares_set_servers_ports(*out,
	    preset_servers)) != ARES_SUCCESS) {
		ares_destroy(*out);
		*out = NULL;
		return certo_fail(CERTO_ENET, "dns-01: c-ares: %s",
		    ares_strerror(st));
	}
	if (server == NULL)
		return 0;
	memset(&node, 0, sizeof(node));
	switch (ident_classify(server->addr, false, ip, NULL)) {
	case IDENT_IPV4:
		node.family = AF_INET;
		memcpy(&node.addr.addr4, ip, 4);
		break;
	case IDENT_IPV6:
		node.family = AF_INET6;
		memcpy(&node.addr.addr6, ip, 16);
		break;
	default:
		ares_destroy(*out);
		*out = NULL;
		return certo_fail(CERTO_EUSAGE, "dns-01: not a numeric "
		    "address: \"%s\"", log_str(shown, sizeof(shown),
		    server->addr));
	}
	node.udp_port = node.tcp_port = server->port;
	if ((st = ares_set_servers_ports(*out, &node)) != ARES_SUCCESS) {
		ares_destroy(*out);
		*out = NULL;
		return certo_fail(CERTO_ENET, "dns-01: c-ares: %s",
		    ares_strerror(st));
	}
	return 0;
}
