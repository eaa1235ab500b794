/*
 * DNS-01 propagation check (client/dns01_propagation.h): record names,
 * TXT values (RFC 8555 section 8.4), server specs, and dns01_wait()
 * (discovery, rounds, verdicts, messages) against a tiny authoritative
 * DNS server run in a thread on loopback.  The DNS wire format itself is
 * tests/unit/test_dns_wire.c's.
 *
 * The binary is also the driver of tests/integration/dns_knot.sh:
 *   unit_dns01 wait [--recursive A:P] [--resolver A:P]... [--timeout MS]
 *       [--interval MS] RECORD VALUE...
 *   unit_dns01 dump [--norecurse] SERVER NAME TYPE FILE
 */
#include "testutil.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "challenge.h"
#include "dns01_propagation.h"
#include "dns_query.h"
#include "dns_testpkt.h"
#include "dns_wire.h"
#include "errors.h"
#include "sig.h"

/* ------------------------------------------------------------ names */

static void
test_record_name(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(dns01_record_name("example.com", &s), 0);
	assert_string_equal(s, "_acme-challenge.example.com");
	free(s);
	/* A wildcard shares the record of its base name. */
	assert_int_equal(dns01_record_name("*.example.com", &s), 0);
	assert_string_equal(s, "_acme-challenge.example.com");
	free(s);
	/* IDNs arrive as A-labels and stay so. */
	assert_int_equal(dns01_record_name("*.xn--bcher-kva.example", &s), 0);
	assert_string_equal(s, "_acme-challenge.xn--bcher-kva.example");
	free(s);
	assert_int_equal(dns01_record_name("WWW.Example.ORG.", &s), 0);
	assert_string_equal(s, "_acme-challenge.www.example.org");
	free(s);
	assert_int_equal(dns01_record_name("sub.x.certo.test", &s), 0);
	assert_string_equal(s, "_acme-challenge.sub.x.certo.test");
	free(s);

	assert_int_equal(dns01_record_name("", &s), CERTO_EIDENT);
	assert_null(s);
	assert_int_equal(dns01_record_name("*.", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name(".", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name("a b.example", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name("a\n.example", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name("b\xc3\xbc" "cher.example", &s),
	    CERTO_EIDENT);
	assert_int_equal(dns01_record_name("a/../b", &s), CERTO_EIDENT);
	assert_int_equal(dns01_record_name(NULL, &s), CERTO_EIDENT);
	{
		/* 253 octets in all, the prefix included. */
		char *long_name = tu_repeat('a', 253 - 16);
		assert_int_equal(dns01_record_name(long_name, &s), 0);
		assert_int_equal(strlen(s), 253);
		free(s);
		free(long_name);
		long_name = tu_repeat('a', 253 - 15);
		assert_int_equal(dns01_record_name(long_name, &s),
		    CERTO_EIDENT);
		free(long_name);
	}
	certo_errclear();
}

/* ------------------------------------------------------------ TXT value */

/* RFC 8555 section 8.4: the challenge object, with the key authorization
 * built from its token and the RFC 7638 section 3.1 thumbprint; the
 * expected value was computed independently with
 *   printf %s "$keyauth" | openssl dgst -sha256 -binary | base64 | tr ...
 */
static void
test_txt_value_rfc8555(void **state)
{
	static const char thumbprint[] =
	    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
	struct certo_challenge chall = { 0 };
	unsigned char d[32];
	size_t len;
	char *text = tu_fixture("dns-rfc8555-challenge-dns01.json", &len);
	char keyauth[256], *v, *indep;

	(void)state;
	assert_int_equal(challenge_parse(text, len, &chall), 0);
	assert_int_equal(chall.type, CHALL_DNS01);
	snprintf(keyauth, sizeof(keyauth), "%s.%s", chall.token, thumbprint);
	assert_string_equal(keyauth,
	    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
	    ".NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	assert_int_equal(dns01_txt_value(keyauth, &v), 0);
	assert_string_equal(v, "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");
	/* And with the tests' own base64url encoder. */
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth,
	    strlen(keyauth), d), 0);
	indep = tu_b64url(d, sizeof(d));
	assert_string_equal(v, indep);
	assert_int_equal(strlen(v), 43);
	free(indep);
	free(v);
	/* SHA-256("") = e3b0c442..., the well-known vector. */
	assert_int_equal(dns01_txt_value("", &v), 0);
	assert_string_equal(v, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
	free(v);
	challenge_free(&chall);
	free(text);
}

/* ------------------------------------------------------------ server specs */

static void
test_server_parse(void **state)
{
	static const char *const bad[] = {
		"", ":53", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
		"1.2.3.4:53x", "1.2.3.4:-1", "1.2.3.4:+53", "1.2.3",
		"1.2.3.4.5",
		"example.com", "example.com:53", "[::1", "[::1]53", "[::1]:",
		"[1.2.3.4]:53", "::1:53:", "[]:53", "256.1.1.1",
		"1.2.3.4 :53", " 1.2.3.4", "[::1]:53:53",
		"01234567890123456789012345678901"
		"23456789012345678901234567890123",
	};
	struct dns01_server server;

	(void)state;
	assert_int_equal(dns01_server_parse("127.0.0.1", &server), 0);
	assert_string_equal(server.addr, "127.0.0.1");
	assert_string_equal(server.name, "127.0.0.1");
	assert_int_equal(server.port, 53);
	dns01_server_free(&server);
	assert_null(server.addr);
	dns01_server_free(&server);
	dns01_server_free(NULL);

	assert_int_equal(dns01_server_parse("10.0.0.1:8053", &server), 0);
	assert_string_equal(server.addr, "10.0.0.1");
	assert_int_equal(server.port, 8053);
	dns01_server_free(&server);

	assert_int_equal(dns01_server_parse("[::1]:5353", &server), 0);
	assert_string_equal(server.addr, "::1");
	assert_int_equal(server.port, 5353);
	dns01_server_free(&server);

	assert_int_equal(dns01_server_parse("[2001:db8::53]", &server), 0);
	assert_string_equal(server.addr, "2001:db8::53");
	assert_int_equal(server.port, 53);
	dns01_server_free(&server);

	/* A bare IPv6 address: every colon belongs to it. */
	assert_int_equal(dns01_server_parse("2001:db8::1", &server), 0);
	assert_string_equal(server.addr, "2001:db8::1");
	assert_int_equal(server.port, 53);
	dns01_server_free(&server);

	assert_int_equal(dns01_server_parse("1.2.3.4:65535", &server), 0);
	assert_int_equal(server.port, 65535);
	dns01_server_free(&server);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = dns01_server_parse(bad[i], &server);
		if (rc != CERTO_EUSAGE)
			fail_msg("\"%s\" parsed (rc %d)", bad[i], rc);
		assert_null(server.addr);
		assert_null(server.name);
		certo_errclear();
	}
	/* The message names the spec, made printable. */
	assert_int_equal(dns01_server_parse("x\ny", &server), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "x\\x0ay"));
	certo_errclear();
}

/* ------------------------------------------------------------ fake server */

#define FAKE_MAX_RR 32

struct frr {
	char owner[128];
	int type;
	char data[256];
	long long from_ms;       /* answered only from then on (0: always) */
};

struct fake {
	int fd;
	unsigned short port;
	pthread_t th;
	pthread_mutex_t mu;
	int stop;
	bool mute;               /* a server that never answers */
	int rcode_all;           /* answer every query with this rcode */
	int notimp_type;         /* answer this type NOTIMP (challtestsrv) */
	const char *zones[4];
	size_t nzones;
	struct frr rr[FAKE_MAX_RR];
	size_t nrr;
	int queries[32];         /* by type */
	int txt_rd;              /* RD bit of the last TXT query */
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
fake_add(struct fake *fake, const char *owner, int type, const char *data,
    long long delay_ms)
{
	struct frr *rec;

	pthread_mutex_lock(&fake->mu);
	assert_true(fake->nrr < FAKE_MAX_RR);
	rec = &fake->rr[fake->nrr++];
	snprintf(rec->owner, sizeof(rec->owner), "%s", owner);
	snprintf(rec->data, sizeof(rec->data), "%s", data);
	rec->type = type;
	rec->from_ms = delay_ms > 0 ? mono_ms() + delay_ms : 0;
	pthread_mutex_unlock(&fake->mu);
}

static bool
frr_live(const struct frr *rec)
{
	return rec->from_ms == 0 || mono_ms() >= rec->from_ms;
}

/* Build the answer to (qname, qtype) into out; caller holds the lock. */
static void
fake_answer(struct fake *fake, unsigned id, unsigned rd, const char *qname,
    int qtype, struct pkt *out)
{
	const char *zone = NULL, *cur = qname;
	char soa[300];
	size_t i, hops = 0;
	bool any = false, exists = false;

	if (fake->rcode_all != 0 || qtype == fake->notimp_type) {
		pkt_begin(out, id, 0x80 | rd, fake->rcode_all != 0 ?
		    fake->rcode_all : 4, qname, qtype);
		return;
	}
	for (i = 0; i < fake->nzones; i++)
		if (dns_name_under(qname, fake->zones[i]) && (zone == NULL ||
		    strlen(fake->zones[i]) > strlen(zone)))
			zone = fake->zones[i];
	if (zone == NULL) {
		pkt_begin(out, id, 0x80 | rd, 5, qname, qtype);
		return;
	}
	snprintf(soa, sizeof(soa), "ns1.%s hostmaster.%s", zone, zone);
	pkt_begin(out, id, 0x84 | rd, 0, qname, qtype);
	for (;;) {
		bool cname = false;
		for (i = 0; i < fake->nrr; i++) {
			const struct frr *rec = &fake->rr[i];
			if (!frr_live(rec) || !dns_name_eq(rec->owner, cur))
				continue;
			if (rec->type == qtype) {
				pkt_rr(out, AN, rec->owner, rec->type,
				    rec->data);
				any = true;
			} else if (rec->type == DNS_T_CNAME &&
			    qtype != DNS_T_CNAME) {
				pkt_rr(out, AN, rec->owner, rec->type,
				    rec->data);
				cur = rec->data;
				cname = any = true;
				break;
			}
		}
		if (!cname || ++hops > 8)
			break;
	}
	if (qtype == DNS_T_SOA && dns_name_eq(qname, zone)) {
		pkt_rr(out, AN, zone, DNS_T_SOA, soa);
		any = true;
	}
	if (any) {
		/* Glue for NS answers. */
		if (qtype == DNS_T_NS)
			for (i = 0; i < fake->nrr; i++)
				if (fake->rr[i].type == DNS_T_A &&
				    strncmp(fake->rr[i].owner, "ns", 2) == 0)
					pkt_rr(out, AR, fake->rr[i].owner,
					    DNS_T_A, fake->rr[i].data);
		return;
	}
	for (i = 0; i < fake->nrr; i++)
		if (frr_live(&fake->rr[i]) && dns_name_under(fake->rr[i].owner,
		    qname))
			exists = true;
	if (dns_name_eq(qname, zone))
		exists = true;
	if (!exists) {
		out->b[3] = 3;
	}
	pkt_rr(out, NS, zone, DNS_T_SOA, soa);
}

static void *
fake_run(void *arg)
{
	struct fake *fake = arg;
	unsigned char q[512];
	struct sockaddr_storage from;
	socklen_t flen;
	struct pollfd pfd;
	struct pkt out;
	char *qname;
	long enclen;
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&fake->mu);
		if (fake->stop) {
			pthread_mutex_unlock(&fake->mu);
			break;
		}
		pthread_mutex_unlock(&fake->mu);
		pfd.fd = fake->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		flen = sizeof(from);
		n = recvfrom(fake->fd, q, sizeof(q), 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 17)
			continue;
		if (ares_expand_name(q + 12, q, (int)n, &qname, &enclen) !=
		    ARES_SUCCESS)
			continue;
		if (12 + (size_t)enclen + 4 > (size_t)n) {
			ares_free_string(qname);
			continue;
		}
		{
			int qtype = q[12 + enclen] << 8 | q[13 + enclen];
			unsigned id = (unsigned)q[0] << 8 | q[1];
			unsigned rd = q[2] & 1;
			bool answer;
			pthread_mutex_lock(&fake->mu);
			if (qtype < 32)
				fake->queries[qtype]++;
			if (qtype == DNS_T_TXT)
				fake->txt_rd = (int)rd;
			answer = !fake->mute;
			if (answer)
				fake_answer(fake, id, rd, qname, qtype, &out);
			pthread_mutex_unlock(&fake->mu);
			if (answer)
				(void)sendto(fake->fd, out.b, out.n, 0,
				    (struct sockaddr *)&from, flen);
		}
		ares_free_string(qname);
	}
	return NULL;
}

static struct fake *
fake_start(void)
{
	struct fake *fake = calloc(1, sizeof(*fake));
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_non_null(fake);
	pthread_mutex_init(&fake->mu, NULL);
	fake->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fake->fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fake->fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(getsockname(fake->fd, (struct sockaddr *)&sin,
	    &len), 0);
	fake->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&fake->th, NULL, fake_run, fake), 0);
	return fake;
}

static void
fake_stop(struct fake *fake)
{
	pthread_mutex_lock(&fake->mu);
	fake->stop = 1;
	pthread_mutex_unlock(&fake->mu);
	pthread_join(fake->th, NULL);
	close(fake->fd);
	pthread_mutex_destroy(&fake->mu);
	free(fake);
}

static int
fake_count(struct fake *fake, int type)
{
	int n;

	pthread_mutex_lock(&fake->mu);
	n = fake->queries[type];
	pthread_mutex_unlock(&fake->mu);
	return n;
}

static void
fake_server(const struct fake *fake, struct dns01_server *server)
{
	static char addr[] = "127.0.0.1";

	server->name = addr;
	server->addr = addr;
	server->port = fake->port;
}

/* ------------------------------------------------------------ dns01_wait */

struct seen {
	int rounds;
	size_t last_n;
	bool last_visible[16];
	char last_error[16][96];
	char last_server[16][96];
	long last_left;
};

static void
on_progress(void *arg, const struct dns01_progress *prog, size_t n, long left)
{
	struct seen *seen = arg;

	seen->rounds++;
	seen->last_n = n;
	seen->last_left = left;
	for (size_t i = 0; i < n && i < 16; i++) {
		seen->last_visible[i] = prog[i].visible;
		snprintf(seen->last_error[i], sizeof(seen->last_error[i]), "%s",
		    prog[i].error != NULL ? prog[i].error : "");
		snprintf(seen->last_server[i], sizeof(seen->last_server[i]),
		    "%s/%s:%u", prog[i].server->name, prog[i].server->addr,
		    (unsigned)prog[i].server->port);
	}
}

static const char *const wantv[] = {
	"apex-value-1111111111111111111111111111111",
	"wild-value-2222222222222222222222222222222"
};

static void
opts_init(struct dns01_opts *opts, struct seen *seen, long timeout)
{
	memset(opts, 0, sizeof(*opts));
	memset(seen, 0, sizeof(*seen));
	opts->timeout_ms = timeout;
	opts->interval_ms = 300;
	opts->progress = on_progress;
	opts->arg = seen;
}

enum { AS_RESOLVER, AS_RECURSIVE };

/*
 * A fake server for zone certo.test in *srv, and opts (timeout, a short
 * interval, progress into seen) asking it as the explicit resolver or as
 * the recursive resolver of discovery.
 */
static struct fake *
wait_setup(struct dns01_server *srv, struct dns01_opts *opts,
    struct seen *seen, long timeout, int role)
{
	struct fake *fake = fake_start();

	fake->zones[fake->nzones++] = "certo.test";
	fake_server(fake, srv);
	opts_init(opts, seen, timeout);
	if (role == AS_RECURSIVE)
		opts->recursive = srv;
	else {
		opts->resolvers = srv;
		opts->nresolvers = 1;
	}
	return fake;
}

/* Explicit resolver: the values are there at once. */
static void
test_wait_resolver_at_once(void **state)
{
	struct fake *fake;
	struct dns01_server srv;
	struct dns01_opts opts;
	struct seen seen;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 2
	};
	long long t0;

	(void)state;
	fake = wait_setup(&srv, &opts, &seen, 5000, AS_RESOLVER);
	/* challtestsrv-like: TXT only, no SOA. */
	fake_add(fake, rec.name, DNS_T_TXT, wantv[1], 0);
	fake_add(fake, rec.name, DNS_T_TXT, wantv[0], 0);
	t0 = mono_ms();
	assert_int_equal(dns01_wait(&rec, 1, &opts), 0);
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(seen.rounds, 1);
	assert_int_equal(seen.last_n, 1);
	assert_true(seen.last_visible[0]);
	assert_string_equal(seen.last_error[0], "");
	assert_int_equal(fake_count(fake, DNS_T_SOA), 0);
	assert_int_equal(fake_count(fake, DNS_T_NS), 0);
	/* Explicit resolvers may be recursive ones: recursion desired. */
	assert_int_equal(fake->txt_rd, 1);
	fake_stop(fake);
}

/* The second value appears after 700 ms; rounds ramp up quickly. */
static void
test_wait_resolver_later(void **state)
{
	struct fake *fake;
	struct dns01_server srv;
	struct dns01_opts opts;
	struct seen seen;
	struct dns01_record recs[2] = {
		{ "_acme-challenge.x.certo.test", &wantv[0], 1 },
		{ "_acme-challenge.x.certo.test", &wantv[1], 1 },
	};
	long long t0, dt;

	(void)state;
	fake = wait_setup(&srv, &opts, &seen, 8000, AS_RESOLVER);
	fake_add(fake, recs[0].name, DNS_T_TXT, wantv[0], 0);
	fake_add(fake, recs[0].name, DNS_T_TXT, wantv[1], 700);
	opts.interval_ms = 2000;
	opts.wait_extra_ms = 100;
	t0 = mono_ms();
	assert_int_equal(dns01_wait(recs, 2, &opts), 0);
	dt = mono_ms() - t0;
	/* Rounds at 0, 250, 750 (visible): well before the 2 seen interval. */
	assert_true(dt >= 700 + 100);
	assert_true(dt < 1700);
	assert_true(seen.rounds >= 2 && seen.rounds <= 4);
	assert_int_equal(seen.last_n, 2);
	assert_true(seen.last_visible[0] && seen.last_visible[1]);
	fake_stop(fake);
}

/* Timeout: the message names the record, the server and what lacks. */
static void
test_wait_timeout(void **state)
{
	struct fake *fake = fake_start(), *dead = fake_start();
	struct dns01_server srv[2];
	struct dns01_opts opts;
	struct seen seen;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 2
	};
	char port[32], dport[32];
	const char *msg;

	(void)state;
	fake->zones[fake->nzones++] = "certo.test";
	fake_add(fake, rec.name, DNS_T_TXT, wantv[0], 0);
	dead->mute = true;
	fake_server(fake, &srv[0]);
	fake_server(dead, &srv[1]);
	opts_init(&opts, &seen, 1500);
	opts.resolvers = srv;
	opts.nresolvers = 2;
	certo_errclear();
	assert_int_equal(dns01_wait(&rec, 1, &opts), CERTO_EDNSWAIT);
	msg = certo_errmsg();
	assert_non_null(msg);
	assert_null(strchr(msg, '\n'));
	snprintf(port, sizeof(port), "127.0.0.1:%u", (unsigned)fake->port);
	snprintf(dport, sizeof(dport), "127.0.0.1:%u", (unsigned)dead->port);
	if (strstr(msg, "_acme-challenge.x.certo.test") == NULL ||
	    strstr(msg, port) == NULL || strstr(msg, dport) == NULL ||
	    strstr(msg, "1 of 2 values missing") == NULL ||
	    strstr(msg, "no answer") == NULL)
		fail_msg("message: %s", msg);
	/* The unreachable server was reported in progress, not fatal. */
	assert_true(seen.rounds >= 1);
	assert_int_equal(seen.last_n, 2);
	assert_false(seen.last_visible[0]);
	assert_string_equal(seen.last_error[0], "");
	assert_string_equal(seen.last_error[1], "no answer");
	certo_errclear();
	fake_stop(fake);
	fake_stop(dead);
}

/* Discovery against an authoritative server on a high port. */
static void
test_wait_discovery(void **state)
{
	struct fake *fake;
	struct dns01_server rec_srv;
	struct dns01_opts opts;
	struct seen seen;
	struct dns01_record recs[2] = {
		{ "_acme-challenge.x.certo.test", wantv, 2 },
		{ "_acme-challenge.c.certo.test", &wantv[0], 1 },
	};
	char want_srv[64];

	(void)state;
	fake = wait_setup(&rec_srv, &opts, &seen, 6000, AS_RECURSIVE);
	fake->zones[fake->nzones++] = "certo-dele.test";
	fake_add(fake, "certo.test", DNS_T_NS, "ns1.certo.test", 0);
	fake_add(fake, "certo-dele.test", DNS_T_NS, "ns1.certo.test", 0);
	fake_add(fake, "ns1.certo.test", DNS_T_A, "127.0.0.1", 0);
	fake_add(fake, recs[0].name, DNS_T_TXT, wantv[0], 0);
	fake_add(fake, recs[0].name, DNS_T_TXT, wantv[1], 300);
	/* CNAME delegation to another zone. */
	fake_add(fake, recs[1].name, DNS_T_CNAME, "c.acme.certo-dele.test", 0);
	fake_add(fake, "c.acme.certo-dele.test", DNS_T_TXT, wantv[0], 0);
	assert_int_equal(dns01_wait(recs, 2, &opts), 0);
	assert_true(fake_count(fake, DNS_T_SOA) >= 2);
	assert_true(fake_count(fake, DNS_T_NS) >= 1);
	assert_true(fake_count(fake, DNS_T_CNAME) >= 2);
	/* Direct queries to authoritative servers: no recursion. */
	assert_int_equal(fake->txt_rd, 0);
	assert_int_equal(seen.last_n, 2);
	snprintf(want_srv, sizeof(want_srv), "ns1.certo.test/127.0.0.1:%u",
	    (unsigned)fake->port);
	assert_string_equal(seen.last_server[0], want_srv);
	assert_string_equal(seen.last_server[1], want_srv);
	fake_stop(fake);
}

/* Discovery that cannot work fails at once, not after the timeout:
 * SOA answered NOTIMP (what pebble-challtestsrv does), or REFUSED. */
static void
test_wait_discovery_refused(void **state)
{
	struct fake *fake;
	struct dns01_server rec_srv;
	struct dns01_opts opts;
	struct seen seen;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 1
	};
	long long t0;

	(void)state;
	fake = wait_setup(&rec_srv, &opts, &seen, 20000, AS_RECURSIVE);
	fake->notimp_type = DNS_T_SOA;
	t0 = mono_ms();
	certo_errclear();
	assert_int_equal(dns01_wait(&rec, 1, &opts), CERTO_EDNSWAIT);
	assert_true(mono_ms() - t0 < 3000);
	if (strstr(certo_errmsg(), "cannot find the zone") == NULL ||
	    strstr(certo_errmsg(), "_acme-challenge.x.certo.test") == NULL ||
	    strstr(certo_errmsg(), "NOTIMP") == NULL)
		fail_msg("message: %s", certo_errmsg());
	/* Every label was tried: x.certo.test, certo.test, test. */
	assert_int_equal(fake_count(fake, DNS_T_SOA), 4);
	certo_errclear();

	/* A resolver that refuses us. */
	fake->notimp_type = 0;
	fake->rcode_all = 5;
	t0 = mono_ms();
	assert_int_equal(dns01_wait(&rec, 1, &opts), CERTO_EDNSWAIT);
	assert_true(mono_ms() - t0 < 3000);
	if (strstr(certo_errmsg(), "REFUSED") == NULL)
		fail_msg("message: %s", certo_errmsg());
	certo_errclear();
	fake_stop(fake);
}

/* Nothing answers discovery: retried until the timeout, then named. */
static void
test_wait_discovery_silent(void **state)
{
	struct fake *fake;
	struct dns01_server rec_srv;
	struct dns01_opts opts;
	struct seen seen;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 1
	};

	(void)state;
	fake = wait_setup(&rec_srv, &opts, &seen, 500, AS_RECURSIVE);
	fake->mute = true;
	certo_errclear();
	assert_int_equal(dns01_wait(&rec, 1, &opts), CERTO_EDNSWAIT);
	if (strstr(certo_errmsg(), "name servers not found") == NULL ||
	    strstr(certo_errmsg(), "CNAME _acme-challenge.x.certo.test: no "
	    "answer") == NULL)
		fail_msg("message: %s", certo_errmsg());
	assert_true(seen.rounds >= 1);
	assert_string_equal(seen.last_server[0], "(name servers)/:0");
	certo_errclear();
	fake_stop(fake);
}

/* Last: the signal flag cannot be reset. */
static void
test_wait_signal(void **state)
{
	struct fake *fake;
	struct dns01_server srv;
	struct dns01_opts opts;
	struct seen seen;
	struct dns01_record rec = {
		"_acme-challenge.x.certo.test", wantv, 1
	};

	(void)state;
	fake = wait_setup(&srv, &opts, &seen, 20000, AS_RESOLVER);
	sig_install();
	raise(SIGTERM);
	assert_int_equal(dns01_wait(&rec, 1, &opts), CERTO_EINTR);
	certo_errclear();
	fake_stop(fake);
}

/* ------------------------------------------------------------ driver mode */

static void
drv_progress(void *arg, const struct dns01_progress *prog, size_t n, long left)
{
	(void)arg;
	for (size_t i = 0; i < n; i++)
		printf("progress: %s %s %s:%u %s %s (%ld ms left)\n",
		    prog[i].record, prog[i].server->name, prog[i].server->addr,
		    (unsigned)prog[i].server->port,
		    prog[i].visible ? "visible" : "missing",
		    prog[i].error != NULL ? prog[i].error : "-", left);
	fflush(stdout);
}

static int
drv_usage(void)
{
	fprintf(stderr, "usage: unit_dns01 wait [--recursive A:P] "
	    "[--resolver A:P]... [--timeout MS] [--interval MS] "
	    "RECORD VALUE...\n"
	    "       unit_dns01 dump [--norecurse] SERVER NAME TYPE FILE\n");
	return 1;
}

static int
drv_wait(int argc, char **argv)
{
	struct dns01_server rec_srv, res[8];
	struct dns01_opts opts;
	struct dns01_record rec;
	size_t nres = 0;
	bool have_rec = false;
	int i, rc;

	memset(&opts, 0, sizeof(opts));
	opts.timeout_ms = 10000;
	opts.interval_ms = 1000;
	opts.progress = drv_progress;
	for (i = 2; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			return drv_usage();
		if (strcmp(argv[i], "--recursive") == 0) {
			if (dns01_server_parse(argv[i + 1], &rec_srv) != 0)
				goto bad;
			have_rec = true;
		} else if (strcmp(argv[i], "--resolver") == 0 && nres < 8) {
			if (dns01_server_parse(argv[i + 1], &res[nres]) != 0)
				goto bad;
			nres++;
		} else if (strcmp(argv[i], "--timeout") == 0)
			opts.timeout_ms = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--interval") == 0)
			opts.interval_ms = atol(argv[i + 1]);
		else
			return drv_usage();
	}
	if (argc - i < 2)
		return drv_usage();
	rec.name = argv[i];
	rec.values = (const char *const *)&argv[i + 1];
	rec.nvalues = (size_t)(argc - i - 1);
	if (have_rec)
		opts.recursive = &rec_srv;
	if (nres > 0) {
		opts.resolvers = res;
		opts.nresolvers = nres;
	}
	sig_install();
	rc = dns01_wait(&rec, 1, &opts);
	if (have_rec)
		dns01_server_free(&rec_srv);
	for (size_t k = 0; k < nres; k++)
		dns01_server_free(&res[k]);
	if (rc != 0) {
		fprintf(stderr, "certo: %s\n", certo_errmsg() != NULL ?
		    certo_errmsg() : certo_strerror(rc));
		return certo_exitcode(rc);
	}
	printf("visible\n");
	return 0;
bad:
	fprintf(stderr, "certo: %s\n", certo_errmsg());
	return 1;
}

/* Ask one server one question and write the answer's bytes to a file
 * (how tests/fixtures/dns-knot-*.bin were made). */
static int
drv_dump(int argc, char **argv)
{
	static const struct { const char *n; int t; } types[] = {
		{ "A", DNS_T_A }, { "NS", DNS_T_NS }, { "CNAME", DNS_T_CNAME },
		{ "SOA", DNS_T_SOA }, { "TXT", DNS_T_TXT },
		{ "AAAA", DNS_T_AAAA },
	};
	struct dns01_server server;
	struct dns_query query = { 0 };
	ares_channel chan = NULL;
	char err[DNS_ERR_MAX];
	FILE *out = NULL;
	bool norecurse = false;
	int i = 2, rc = 1;

	if (i < argc && strcmp(argv[i], "--norecurse") == 0) {
		norecurse = true;
		i++;
	}
	if (argc - i != 4 || dns01_server_parse(argv[i], &server) != 0)
		return drv_usage();
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
		if (strcmp(argv[i + 2], types[k].n) == 0)
			query.type = types[k].t;
	if (query.type == 0) {
		dns01_server_free(&server);
		return drv_usage();
	}
	ares_library_init(ARES_LIB_INIT_ALL);
	query.name = argv[i + 1];
	if (dns_channel_open(&server, norecurse, &query.chan) != 0)
		goto fail;
	chan = query.chan;
	if (dns_query_run(&query, 1, &chan, 1, dns_query_deadline(0)) != 0)
		goto fail;
	if (query.state != DNS_Q_ANSWER) {
		fprintf(stderr, "dump: %s\n", dns_query_error(&query, err,
		    sizeof(err)));
		goto out;
	}
	if ((out = fopen(argv[i + 3], "wb")) == NULL ||
	    fwrite(query.pkt, 1, query.len, out) != query.len) {
		fprintf(stderr, "dump: cannot write %s\n", argv[i + 3]);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "dump: %s\n", certo_errmsg() != NULL ?
	    certo_errmsg() : "failed");
out:
	if (out != NULL && fclose(out) != 0)
		rc = 1;
	free(query.pkt);
	if (chan != NULL)
		ares_destroy(chan);
	ares_library_cleanup();
	dns01_server_free(&server);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_name),
		cmocka_unit_test(test_txt_value_rfc8555),
		cmocka_unit_test(test_server_parse),
		cmocka_unit_test(test_wait_resolver_at_once),
		cmocka_unit_test(test_wait_resolver_later),
		cmocka_unit_test(test_wait_timeout),
		cmocka_unit_test(test_wait_discovery),
		cmocka_unit_test(test_wait_discovery_refused),
		cmocka_unit_test(test_wait_discovery_silent),
		cmocka_unit_test(test_wait_signal),
	};

	if (argc > 1 && strcmp(argv[1], "wait") == 0)
		return drv_wait(argc, argv);
	if (argc > 1 && strcmp(argv[1], "dump") == 0)
		return drv_dump(argc, argv);
	if (argc > 1)
		return drv_usage();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
