/*
 * responder-tlsdrive.c: TLS-ALPN-01 handshake load driver for
 * scripts/bench/responder.sh (compiled by that script into its work dir;
 * not part of the build).
 *
 * usage: responder-tlsdrive HOST PORT SNI SECONDS CONCURRENCY [KEYAUTH]
 *
 * Keeps CONCURRENCY connections in flight on one thread (epoll, non-blocking
 * GnuTLS client sessions). Each connection is a full handshake (no session
 * resumption: no tickets, no session data kept) offering ALPN "acme-tls/1"
 * only, with SNI = SNI; it counts once the handshake has completed with
 * acme-tls/1 selected, then closes (close_notify not awaited). One warm-up
 * second is not counted. Source addresses rotate over 127.0.0.2..127.0.0.201
 * so that TIME_WAIT never runs out of ephemeral ports on loopback.
 *
 * With KEYAUTH, the first completed handshake's certificate is checked as an
 * RFC 8737 validation certificate (one dNSName SAN = SNI, critical
 * acmeIdentifier extension = OCTET STRING of SHA-256(KEYAUTH)) and the
 * negotiated parameters are printed.
 *
 * Output (one line, key=value): ok= err= seconds= rate=, the handshake
 * latency (connect() to handshake done; 10 us buckets) p50/p99/max and the
 * number over 30 ms, plus, with KEYAUTH, the check result and the TLS
 * parameters. Exit 0 if at least one handshake
 * completed (and, with KEYAUTH, the certificate checked out).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Go's crypto/tls (Boulder's VA) prefers X25519; TLS 1.3 first. */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1"

struct slot {
	int fd;
	int connected;
	double t0;          /* connect() called */
	gnutls_session_t s;
};

/* Handshake latency histogram: 10 us buckets up to 1 s, then one more. */
#define LAT_BUCKETS 100001
static unsigned long lat[LAT_BUCKETS + 1];

static gnutls_certificate_credentials_t cred;
static gnutls_priority_t prio;
static struct sockaddr_in dst;
static const char *sni;
static int epfd;
static unsigned src_next;
static long n_ok, n_err, n_err_connect, n_err_tls, n_err_alpn;
static int counting;
static const char *keyauth;
static int checked;     /* 0 not yet, 1 ok, -1 failed */
static char check_msg[512];

static double now_s(void);

static void
lat_add(double secs)
{
	long b = (long)(secs * 1e5);

	if (b < 0)
		b = 0;
	if (b > LAT_BUCKETS)
		b = LAT_BUCKETS;
	lat[b]++;
}

/* The q-quantile of the recorded latencies in milliseconds. */
static double
lat_q(double q)
{
	unsigned long total = 0, acc = 0, want;
	long b;

	for (b = 0; b <= LAT_BUCKETS; b++)
		total += lat[b];
	if (total == 0)
		return 0;
	want = (unsigned long)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (b = 0; b <= LAT_BUCKETS; b++) {
		acc += lat[b];
		if (acc > want)
			break;
	}
	return (b + 1) / 100.0;     /* bucket upper bound, ms */
}

static unsigned long
lat_over(double ms)
{
	unsigned long n = 0;

	for (long b = (long)(ms * 100); b <= LAT_BUCKETS; b++)
		n += lat[b];
	return n;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
slot_close(struct slot *sl)
{
	if (sl->s) {
		gnutls_deinit(sl->s);
		sl->s = NULL;
	}
	if (sl->fd >= 0) {
		close(sl->fd);
		sl->fd = -1;
	}
}

static int
slot_open(struct slot *sl)
{
	struct sockaddr_in src;
	struct epoll_event ev;
	gnutls_datum_t proto = { (unsigned char *)"acme-tls/1", 10 };
	int one = 1;

	sl->connected = 0;
	sl->t0 = now_s();
	sl->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sl->fd < 0)
		return -1;
	setsockopt(sl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000002u + (src_next++ % 200));
	if (bind(sl->fd, (struct sockaddr *)&src, sizeof(src)) != 0)
		return -1;
	if (connect(sl->fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 &&
	    errno != EINPROGRESS)
		return -1;
	if (gnutls_init(&sl->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK |
	    GNUTLS_NO_TICKETS) < 0 ||
	    gnutls_priority_set(sl->s, prio) < 0 ||
	    gnutls_credentials_set(sl->s, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
	    gnutls_server_name_set(sl->s, GNUTLS_NAME_DNS, sni,
	    strlen(sni)) < 0 ||
	    gnutls_alpn_set_protocols(sl->s, &proto, 1, 0) < 0)
		return -1;
	gnutls_transport_set_int(sl->s, sl->fd);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.ptr = sl;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, sl->fd, &ev);
}

static void
check_cert(gnutls_session_t s)
{
	const gnutls_datum_t *pc;
	unsigned n = 0, crit = 0, bits = 0;
	gnutls_x509_crt_t crt = NULL;
	unsigned char want[34], got[128], san[300];
	size_t gotlen = sizeof(got), sanlen;
	int pk, curve_ok = 0, i, san_ok = 0, nsan = 0, ext_ok = 0, ret;
	char *desc;

	checked = -1;
	want[0] = 0x04;
	want[1] = 0x20;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth, strlen(keyauth), want + 2);
	if ((pc = gnutls_certificate_get_peers(s, &n)) == NULL || n < 1 ||
	    gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &pc[0], GNUTLS_X509_FMT_DER) < 0) {
		snprintf(check_msg, sizeof(check_msg), "no certificate");
		goto out;
	}
	for (i = 0;; i++) {
		sanlen = sizeof(san) - 1;
		ret = gnutls_x509_crt_get_subject_alt_name(crt, (unsigned)i, san,
		    &sanlen, NULL);
		if (ret < 0)
			break;
		nsan++;
		san[sanlen] = 0;
		if (ret == GNUTLS_SAN_DNSNAME && strcmp((char *)san, sni) == 0)
			san_ok = 1;
	}
	if (gnutls_x509_crt_get_extension_by_oid(crt, "1.3.6.1.5.5.7.1.31", 0,
	    got, &gotlen, &crit) == 0 && crit && gotlen == sizeof(want) &&
	    memcmp(got, want, sizeof(want)) == 0)
		ext_ok = 1;
	pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	if (pk == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t cv;
		gnutls_datum_t x = { 0 }, y = { 0 };
		if (gnutls_x509_crt_get_pk_ecc_raw(crt, &cv, &x, &y) == 0 &&
		    cv == GNUTLS_ECC_CURVE_SECP256R1)
			curve_ok = 1;
		gnutls_free(x.data);
		gnutls_free(y.data);
	}
	desc = gnutls_session_get_desc(s);
	snprintf(check_msg, sizeof(check_msg),
	    "cert_check=%s san=%s nsan=%d acme_ext=%s key=%s%s tls=%s",
	    san_ok && ext_ok && nsan == 1 ? "ok" : "FAILED",
	    san_ok ? "ok" : "bad", nsan, ext_ok ? "ok" : "bad",
	    gnutls_pk_get_name((gnutls_pk_algorithm_t)pk),
	    pk == GNUTLS_PK_ECDSA ? (curve_ok ? "-P256" : "-other") : "",
	    desc ? desc : "?");
	gnutls_free(desc);
	if (san_ok && ext_ok && nsan == 1)
		checked = 1;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
}

static void
slot_fail(struct slot *sl, long *which)
{
	if (counting) {
		n_err++;
		(*which)++;
	}
	slot_close(sl);
}

/* Advance one connection; reopen it when it is done. */
static void
slot_step(struct slot *sl)
{
	struct epoll_event ev;
	gnutls_datum_t p;
	int ret, err = 0;
	socklen_t el = sizeof(err);

	if (!sl->connected) {
		if (getsockopt(sl->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
		    err != 0) {
			slot_fail(sl, &n_err_connect);
			goto reopen;
		}
		sl->connected = 1;
	}
	ret = gnutls_handshake(sl->s);
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
		memset(&ev, 0, sizeof(ev));
		ev.events = gnutls_record_get_direction(sl->s) ? EPOLLOUT :
		    EPOLLIN;
		ev.data.ptr = sl;
		if (epoll_ctl(epfd, EPOLL_CTL_MOD, sl->fd, &ev) != 0)
			slot_fail(sl, &n_err_tls);
		else
			return;
	} else if (ret < 0) {
		slot_fail(sl, &n_err_tls);
	} else if (gnutls_alpn_get_selected_protocol(sl->s, &p) != 0 ||
	    p.size != 10 || memcmp(p.data, "acme-tls/1", 10) != 0) {
		slot_fail(sl, &n_err_alpn);
	} else {
		if (keyauth != NULL && checked == 0)
			check_cert(sl->s);
		if (counting) {
			n_ok++;
			lat_add(now_s() - sl->t0);
		}
		slot_close(sl);
	}
reopen:
	if (slot_open(sl) != 0) {
		if (counting) {
			n_err++;
			n_err_connect++;
		}
		slot_close(sl);
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct slot *slots;
	double start, end, t;
	int conc, secs, i, n;
	const char *errpos;

	if (argc < 6 || argc > 7) {
		fprintf(stderr, "usage: %s HOST PORT SNI SECONDS CONCURRENCY "
		    "[KEYAUTH]\n", argv[0]);
		return 2;
	}
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	sni = argv[3];
	secs = atoi(argv[4]);
	conc = atoi(argv[5]);
	keyauth = argc == 7 ? argv[6] : NULL;
	if (secs < 1 || conc < 1 || conc > 4096)
		return 2;
	if (gnutls_global_init() < 0 ||
	    gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_priority_init(&prio, PRIORITY, &errpos) < 0) {
		fprintf(stderr, "GnuTLS set-up failed\n");
		return 1;
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (slots = calloc((size_t)conc, sizeof(*slots))) == NULL)
		return 1;
	for (i = 0; i < conc; i++) {
		slots[i].fd = -1;
		if (slot_open(&slots[i]) != 0) {
			fprintf(stderr, "cannot open connection %d: %s\n", i,
			    strerror(errno));
			return 1;
		}
	}
	start = now_s() + 1.0;          /* one warm-up second */
	end = start + secs;
	for (;;) {
		t = now_s();
		if (!counting && t >= start) {
			counting = 1;
			start = t;
			end = start + secs;
		}
		if (t >= end)
			break;
		n = epoll_wait(epfd, evs, 256, 100);
		if (n < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < n; i++) {
			struct slot *sl = evs[i].data.ptr;
			if (evs[i].events & (EPOLLERR | EPOLLHUP) && !sl->connected) {
				slot_fail(sl, &n_err_connect);
				if (slot_open(sl) != 0)
					slot_close(sl);
				continue;
			}
			slot_step(sl);
		}
		/* Slots that failed to reopen: try again. */
		for (i = 0; i < conc; i++)
			if (slots[i].fd < 0 && slot_open(&slots[i]) != 0)
				slot_close(&slots[i]);
	}
	t = now_s() - start;
	printf("ok=%ld err=%ld err_connect=%ld err_tls=%ld err_alpn=%ld "
	    "seconds=%.3f rate=%.1f lat_p50_ms=%.2f lat_p99_ms=%.2f "
	    "lat_max_ms=%.2f over_30ms=%lu", n_ok, n_err, n_err_connect,
	    n_err_tls, n_err_alpn, t, n_ok / t, lat_q(0.5), lat_q(0.99),
	    lat_q(1.0), lat_over(30.0));
	if (keyauth != NULL)
		printf(" %s", checked ? check_msg : "cert_check=none");
	printf("\n");
	for (i = 0; i < conc; i++)
		slot_close(&slots[i]);
	if (n_ok == 0 || (keyauth != NULL && checked != 1))
		return 1;
	return 0;
}
