/*
 * TLS-ALPN-01 responder (responder/tlsalpn01.h): the server on 127.0.0.1
 * against in-process GnuTLS clients, raw sockets and, in proxy mode, a
 * GnuTLS backend in a thread.  The ClientHello parser has its own tests
 * (test_tls_hello.c).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "alpncert.h"
#include "connlimit.h"
#include "errors.h"
#include "hex_fixture.h"
#include "tlsalpn01.h"
#include "tokens.h"

#define OID "1.3.6.1.5.5.7.1.31"
#define KEYAUTH "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0." \
	"9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define KEYAUTH2 "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." \
	"9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

/* ---- the server ---- */

struct result {
	int ret;                /* handshake result */
	int alert;              /* alert received, -1 if none */
	char alpn[32];          /* negotiated protocol */
	unsigned char *cert;    /* peer certificate, DER (malloc'd) */
	size_t certlen;
	int close_notify;       /* the server closed with close_notify */
	char reply[64];         /* answer to the line sent, if any */
};

static int
connect_port(unsigned short port)
{
	struct sockaddr_in sa;
	struct timeval tv = { 5, 0 };
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/*
 * A GnuTLS client: SNI sni (NULL: none), ALPN alpn (comma-separated,
 * NULL: none), priority prio (NULL: NORMAL); with line, sends it and
 * reads one answer.
 */
static void
client(unsigned short port, const char *sni, const char *alpn,
    const char *prio, const char *line, struct result *r)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	gnutls_datum_t protos[4], sel;
	const gnutls_datum_t *peers;
	char abuf[64], *tok, *save = NULL;
	unsigned np = 0, npeers = 0;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	r->alert = -1;
	fd = connect_port(port);
	assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
	assert_int_equal(gnutls_init(&s, GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_priority_set_direct(s, prio ? prio : "NORMAL",
	    NULL), 0);
	assert_int_equal(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
	    cred), 0);
	if (sni)
		assert_int_equal(gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni,
		    strlen(sni)), 0);
	if (alpn) {
		snprintf(abuf, sizeof(abuf), "%s", alpn);
		for (tok = strtok_r(abuf, ",", &save); tok && np < 4;
		    tok = strtok_r(NULL, ",", &save)) {
			protos[np].data = (unsigned char *)tok;
			protos[np++].size = (unsigned)strlen(tok);
		}
		assert_int_equal(gnutls_alpn_set_protocols(s, protos, np, 0), 0);
	}
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	r->ret = ret;
	if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
		r->alert = (int)gnutls_alert_get(s);
	if (ret == 0) {
		if (gnutls_alpn_get_selected_protocol(s, &sel) == 0 &&
		    sel.size < sizeof(r->alpn))
			memcpy(r->alpn, sel.data, sel.size);
		peers = gnutls_certificate_get_peers(s, &npeers);
		if (peers != NULL && npeers > 0) {
			r->cert = malloc(peers[0].size);
			assert_non_null(r->cert);
			memcpy(r->cert, peers[0].data, peers[0].size);
			r->certlen = peers[0].size;
		}
		if (line) {
			assert_true(gnutls_record_send(s, line, strlen(line)) > 0);
			do
				ret = gnutls_record_recv(s, r->reply,
				    sizeof(r->reply) - 1);
			while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
			assert_true(ret > 0);
		}
		do
			ret = gnutls_record_recv(s, abuf, sizeof(abuf));
		while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
		r->close_notify = ret == 0;
		if (line)
			gnutls_bye(s, GNUTLS_SHUT_WR);
	}
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
}

/* The validation certificate for ident (SAN of type san) and keyauth. */
static void
check_validation_cert(const struct result *r, int san, const void *want,
    size_t wlen, const char *keyauth)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { r->cert, (unsigned)r->certlen }, v;
	unsigned char hash[34];
	char buf[300];
	size_t n = sizeof(buf);
	unsigned crit = 0;

	assert_non_null(r->cert);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER),
	    0);
	assert_int_equal(gnutls_x509_crt_get_subject_alt_name(crt, 0, buf, &n,
	    NULL), san);
	assert_int_equal(n, wlen);
	assert_memory_equal(buf, want, wlen);
	n = sizeof(buf);
	assert_int_equal(gnutls_x509_crt_get_subject_alt_name(crt, 1, buf, &n,
	    NULL), GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
	hash[0] = 0x04;
	hash[1] = 0x20;
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth,
	    strlen(keyauth), hash + 2), 0);
	assert_int_equal(gnutls_x509_crt_get_extension_by_oid2(crt, OID, 0, &v,
	    &crit), 0);
	assert_int_equal(crit, 1);
	assert_int_equal(v.size, sizeof(hash));
	assert_memory_equal(v.data, hash, sizeof(hash));
	gnutls_free(v.data);
	gnutls_x509_crt_deinit(crt);
}

static void
result_free(struct result *r)
{
	free(r->cert);
	r->cert = NULL;
}

struct fix {
	struct token_table tokens;
	struct tlsalpn01_server *srv;
	unsigned short port;
};

static void
fix_start_ip(struct fix *f, const char *proxy, unsigned max_conns,
    unsigned max_per_ip, int rsa)
{
	struct tlsalpn01_opts o;

	memset(&o, 0, sizeof(o));
	o.addr = "127.0.0.1";
	o.timeout_s = 2;
	o.proxy = proxy;
	o.max_conns = max_conns;
	o.max_per_ip = max_per_ip;
	o.rsa = rsa;
	assert_int_equal(tokens_init(&f->tokens, 0, 0), 0);
	assert_int_equal(tokens_add(&f->tokens, CHALL_TLSALPN01, "example.com",
	    "tok1", KEYAUTH), 0);
	/* Same identifier, other challenge type: never used here. */
	assert_int_equal(tokens_add(&f->tokens, CHALL_HTTP01, "other.example",
	    "tok2", KEYAUTH2), 0);
	assert_int_equal(tlsalpn01_start(&o, &f->tokens, &f->srv), 0);
	f->port = tlsalpn01_port(f->srv);
	assert_true(f->port != 0);
}

static void
fix_start(struct fix *f, const char *proxy, unsigned max_conns, int rsa)
{
	fix_start_ip(f, proxy, max_conns, 0, rsa);
}

static void
fix_stop(struct fix *f)
{
	tlsalpn01_stop(f->srv);
	tokens_free(&f->tokens);
	memset(f, 0, sizeof(*f));
}

/* The server of the current test (static: it outlives a failed test). */
static struct fix F;

static void
expect_validation(unsigned short port, const char *sni, const char *prio,
    const char *keyauth, struct result *r)
{
	client(port, sni, "acme-tls/1", prio, NULL, r);
	assert_int_equal(r->ret, 0);
	assert_string_equal(r->alpn, "acme-tls/1");
	assert_true(r->close_notify);
	check_validation_cert(r, GNUTLS_SAN_DNSNAME, "example.com", 11,
	    keyauth);
}

static void
test_serve(void **state)
{
	struct result r, r2;

	(void)state;
	fix_start(&F, NULL, 0, 0);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	/* SNI is case-insensitive; TLS 1.2 works too. */
	expect_validation(F.port, "EXAMPLE.com", NULL, KEYAUTH, &r2);
	/* Built once per authorization: the same certificate again. */
	assert_int_equal(r.certlen, r2.certlen);
	assert_memory_equal(r.cert, r2.cert, r.certlen);
	result_free(&r2);
	expect_validation(F.port, "example.com",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.2", KEYAUTH, &r2);
	result_free(&r2);
	/* acme-tls/1 among other protocols is still acme-tls/1. */
	client(F.port, "example.com", "http/1.1,acme-tls/1", NULL, NULL, &r2);
	assert_int_equal(r2.ret, 0);
	assert_string_equal(r2.alpn, "acme-tls/1");
	result_free(&r2);
	/* TLS 1.1 and older: no. */
	client(F.port, "example.com", "acme-tls/1",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0", NULL, &r2);
	assert_true(r2.ret < 0);
	assert_null(r2.cert);
	result_free(&r2);
	result_free(&r);
	fix_stop(&F);
}

static void
test_refuse(void **state)
{
	struct result r;

	(void)state;
	fix_start(&F, NULL, 0, 0);
	/* Another ALPN: never the validation certificate. */
	client(F.port, "example.com", "http/1.1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	assert_int_equal(r.alert, GNUTLS_A_NO_APPLICATION_PROTOCOL);
	client(F.port, "example.com", "h2,http/1.1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	/* No ALPN at all. */
	client(F.port, "example.com", NULL, NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	assert_int_equal(r.alert, GNUTLS_A_HANDSHAKE_FAILURE);
	/* Unknown name, no name, a name only known for http-01. */
	client(F.port, "unknown.example", "acme-tls/1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	assert_int_equal(r.alert, GNUTLS_A_UNRECOGNIZED_NAME);
	client(F.port, NULL, "acme-tls/1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	client(F.port, "other.example", "acme-tls/1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	fix_stop(&F);
}

/* Reverse-DNS SNI for IP identifiers (RFC 8738 section 6). */
static void
test_ip(void **state)
{
	unsigned char ip4[4], ip6[16];
	struct result r;

	(void)state;
	fix_start(&F, NULL, 0, 0);
	assert_int_equal(tokens_add(&F.tokens, CHALL_TLSALPN01, "192.0.2.1",
	    "tok3", KEYAUTH2), 0);
	assert_int_equal(tokens_add(&F.tokens, CHALL_TLSALPN01, "2001:db8::1",
	    "tok4", KEYAUTH), 0);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", ip4), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", ip6), 1);
	client(F.port, "1.2.0.192.in-addr.arpa", "acme-tls/1", NULL, NULL, &r);
	assert_int_equal(r.ret, 0);
	check_validation_cert(&r, GNUTLS_SAN_IPADDRESS, ip4, 4, KEYAUTH2);
	result_free(&r);
	client(F.port, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0."
	    "1.0.0.2.ip6.arpa", "acme-tls/1", NULL, NULL, &r);
	assert_int_equal(r.ret, 0);
	check_validation_cert(&r, GNUTLS_SAN_IPADDRESS, ip6, 16, KEYAUTH);
	result_free(&r);
	/* The literal is not a valid SNI and is not mapped. */
	client(F.port, "192.0.2.1", "acme-tls/1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	fix_stop(&F);
}

/* Removed or replaced tokens never get their old certificate. */
static void
test_cache(void **state)
{
	struct result r1, r2;

	(void)state;
	fix_start(&F, NULL, 0, 0);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r1);
	assert_int_equal(tokens_remove(&F.tokens, CHALL_TLSALPN01,
	    "example.com", "tok1"), 0);
	client(F.port, "example.com", "acme-tls/1", NULL, NULL, &r2);
	assert_true(r2.ret < 0);
	assert_null(r2.cert);
	/* A new authorization for the same name: a new certificate. */
	assert_int_equal(tokens_add(&F.tokens, CHALL_TLSALPN01, "example.com",
	    "tok5", KEYAUTH2), 0);
	expect_validation(F.port, "example.com", NULL, KEYAUTH2, &r2);
	assert_false(r1.certlen == r2.certlen &&
	    memcmp(r1.cert, r2.cert, r1.certlen) == 0);
	result_free(&r2);
	/* Replaced without a gap (same token, new keyauth): new again. */
	assert_int_equal(tokens_add(&F.tokens, CHALL_TLSALPN01, "example.com",
	    "tok5", KEYAUTH), 0);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r2);
	assert_false(r1.certlen == r2.certlen &&
	    memcmp(r1.cert, r2.cert, r1.certlen) == 0);
	result_free(&r2);
	result_free(&r1);
	fix_stop(&F);
}

/* Wait up to ms for the server to close fd; true if it did. */
static int
closed_by_peer(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char buf[256];
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, ms) <= 0)
			return 0;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 1;
		if (n < 0)
			return 0;
	}
}

static void
send_all(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
test_hostile(void **state)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const unsigned char big[] = { 22, 3, 1, 0x40, 0x01 };
	static const unsigned char huge[] = { 22, 3, 1, 0, 4, 1, 0, 0xff, 0xff };
	unsigned char *hello;
	struct result r;
	size_t n;
	int fd, slow, idle[200];

	(void)state;
	fix_start(&F, NULL, 0, 0);
	hello = hex_fixture("tlsalpn-openssl-acme.hex", &n);
	/* Plain HTTP, oversized record, oversized hello: closed at once. */
	fd = connect_port(F.port);
	send_all(fd, http, sizeof(http) - 1);
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	fd = connect_port(F.port);
	send_all(fd, big, sizeof(big));
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	fd = connect_port(F.port);
	send_all(fd, huge, sizeof(huge));
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	/* A truncated hello, then EOF. */
	fd = connect_port(F.port);
	send_all(fd, hello, n / 2);
	shutdown(fd, SHUT_WR);
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	/* Slowloris and many idle connections block nobody... */
	slow = connect_port(F.port);
	send_all(slow, hello, 3);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		idle[i] = connect_port(F.port);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	result_free(&r);
	/* ...and are closed after the timeout (2 s). */
	assert_true(closed_by_peer(slow, 4000));
	close(slow);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++) {
		assert_true(closed_by_peer(idle[i], 4000));
		close(idle[i]);
	}
	/* Still answering. */
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	result_free(&r);
	free(hello);
	fix_stop(&F);
}

static void
test_limit(void **state)
{
	struct result r;
	int idle[3], extra, ok = 0;

	(void)state;
	fix_start(&F, NULL, 3, 0);
	for (int i = 0; i < 3; i++)
		idle[i] = connect_port(F.port);
	/* Let the server accept them before the fourth arrives. */
	usleep(200000);
	extra = connect_port(F.port);
	assert_true(closed_by_peer(extra, 1000));
	close(extra);
	for (int i = 0; i < 3; i++)
		close(idle[i]);
	/* Room again once the server has seen them go. */
	for (int tries = 0; tries < 20 && !ok; tries++) {
		usleep(50000);
		client(F.port, "example.com", "acme-tls/1", NULL, NULL, &r);
		ok = r.ret == 0;
		result_free(&r);
	}
	assert_true(ok);
	fix_stop(&F);
}

/* A connection from 127.0.0.2 (any loopback address works). */
static int
connect_from(const char *src, unsigned short port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, src, &sa.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* max_per_ip 2: a third idle connection from one address is closed at
 * once, other addresses still get in, and so does the first address
 * once its connections are gone. */
static void
test_limit_per_ip(void **state)
{
	struct result r;
	int idle[2], extra, other, ok = 0;

	(void)state;
	fix_start_ip(&F, NULL, 0, 2, 0);
	for (int i = 0; i < 2; i++)
		idle[i] = connect_port(F.port);
	usleep(200000);
	extra = connect_port(F.port);
	assert_true(closed_by_peer(extra, 1000));
	close(extra);
	other = connect_from("127.0.0.2", F.port);
	assert_false(closed_by_peer(other, 500));
	for (int i = 0; i < 2; i++)
		assert_false(closed_by_peer(idle[i], 0));
	for (int i = 0; i < 2; i++)
		close(idle[i]);
	for (int tries = 0; tries < 20 && !ok; tries++) {
		usleep(50000);
		client(F.port, "example.com", "acme-tls/1", NULL, NULL, &r);
		ok = r.ret == 0;
		result_free(&r);
	}
	assert_true(ok);
	close(other);
	fix_stop(&F);
}

static void
sa4(struct sockaddr_in *sa, const char *ip)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &sa->sin_addr), 1);
}

static void
sa6(struct sockaddr_in6 *sa, const char *ip)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &sa->sin6_addr), 1);
}

/* connlimit on its own: per address (IPv4-mapped IPv6 is IPv4), total. */
static void
test_connlimit(void **state)
{
	struct connlimit *cl;
	struct connlimit_key k1, k2, k3, k4, k5, kx;
	struct sockaddr_in a;
	struct sockaddr_in6 m, b;
	struct sockaddr un = { .sa_family = AF_UNIX };
	char buf[64];

	(void)state;
	assert_int_equal(connlimit_new(0, 1, &cl), CERTO_EUSAGE);
	assert_int_equal(connlimit_new(4, 2, &cl), 0);
	sa4(&a, "192.0.2.1");
	sa6(&m, "::ffff:192.0.2.1");
	sa6(&b, "2001:db8::1");
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a,
	    sizeof(a), &k1), CONNLIMIT_OK);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&m,
	    sizeof(m), &k2), CONNLIMIT_OK);
	assert_int_equal(connlimit_count(cl, &k1), 2);
	/* The same address, either way it is written. */
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a,
	    sizeof(a), &kx), CONNLIMIT_ADDR);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&m,
	    sizeof(m), &kx), CONNLIMIT_ADDR);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&b,
	    sizeof(b), &k3), CONNLIMIT_OK);
	assert_int_equal(connlimit_acquire(cl, &un, sizeof(un), &k4),
	    CONNLIMIT_OK);
	assert_int_equal(connlimit_total(cl), 4);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&b,
	    sizeof(b), &kx), CONNLIMIT_TOTAL);
	connlimit_key_str(&k2, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1");
	connlimit_key_str(&k3, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");
	connlimit_key_str(&k4, buf, sizeof(buf));
	assert_string_equal(buf, "local");
	connlimit_release(cl, &k1);
	assert_int_equal(connlimit_count(cl, &k2), 1);
	assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a,
	    sizeof(a), &k5), CONNLIMIT_OK);
	connlimit_release(cl, &k2);
	connlimit_release(cl, &k5);
	assert_int_equal(connlimit_count(cl, &k5), 0);
	connlimit_release(cl, &k3);
	connlimit_release(cl, &k4);
	assert_int_equal(connlimit_total(cl), 0);
	/* Many addresses come and go through the fixed pool. */
	for (int round = 0; round < 3; round++) {
		struct connlimit_key keys[4];
		for (int i = 0; i < 4; i++) {
			snprintf(buf, sizeof(buf), "198.51.100.%d", round * 4 + i);
			sa4(&a, buf);
			assert_int_equal(connlimit_acquire(cl, (struct sockaddr *)&a,
			    sizeof(a), &keys[i]), CONNLIMIT_OK);
		}
		for (int i = 0; i < 4; i++)
			connlimit_release(cl, &keys[i]);
	}
	assert_int_equal(connlimit_total(cl), 0);
	connlimit_free(cl);
	connlimit_free(NULL);
}

static void
test_rsa(void **state)
{
	struct result r;
	unsigned bits = 0;
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;

	(void)state;
	fix_start(&F, NULL, 0, 1);
	expect_validation(F.port, "example.com",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.2", KEYAUTH, &r);
	d.data = r.cert;
	d.size = (unsigned)r.certlen;
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER),
	    0);
	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, &bits),
	    GNUTLS_PK_RSA);
	gnutls_x509_crt_deinit(crt);
	result_free(&r);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	result_free(&r);
	fix_stop(&F);
}

/* ---- proxy mode ---- */

struct backend {
	int lfd;
	unsigned short port;
	struct alpn_cert cert;
	pthread_t thread;
	atomic_int stop;
	atomic_int served;
	int running;
};

/* The backend of the current test. */
static struct backend B;

/* A TLS server answering "pong:<line>" on each connection. */
static void *
backend_loop(void *arg)
{
	struct backend *b = arg;
	static unsigned char http11[] = "http/1.1";
	gnutls_datum_t proto = { http11, 8 };
	struct pollfd p;
	gnutls_session_t s;
	char buf[64], out[80];
	int fd, ret;

	while (!atomic_load(&b->stop)) {
		p.fd = b->lfd;
		p.events = POLLIN;
		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((fd = accept(b->lfd, NULL, NULL)) < 0)
			continue;
		gnutls_init(&s, GNUTLS_SERVER);
		gnutls_set_default_priority(s);
		gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, b->cert.cred);
		gnutls_alpn_set_protocols(s, &proto, 1, 0);
		gnutls_transport_set_int(s, fd);
		gnutls_handshake_set_timeout(s, 5000);
		do
			ret = gnutls_handshake(s);
		while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
		if (ret == 0) {
			atomic_fetch_add(&b->served, 1);
			gnutls_record_set_timeout(s, 5000);
			ret = (int)gnutls_record_recv(s, buf, sizeof(buf) - 1);
			if (ret > 0) {
				buf[ret] = '\0';
				ret = snprintf(out, sizeof(out), "pong:%s", buf);
				gnutls_record_send(s, out, (size_t)ret);
			}
			gnutls_bye(s, GNUTLS_SHUT_WR);
		}
		gnutls_deinit(s);
		close(fd);
	}
	return NULL;
}

static void
backend_start(struct backend *b)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(b, 0, sizeof(*b));
	assert_int_equal(alpncert_make("backend.test", "backend.key", 0,
	    &b->cert), 0);
	b->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(b->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(b->lfd, 16), 0);
	assert_int_equal(getsockname(b->lfd, (struct sockaddr *)&sa, &sl), 0);
	b->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&b->thread, NULL, backend_loop, b), 0);
	b->running = 1;
}

static void
backend_stop(struct backend *b)
{
	if (!b->running)
		return;
	atomic_store(&b->stop, 1);
	pthread_join(b->thread, NULL);
	close(b->lfd);
	alpncert_free(&b->cert);
	b->running = 0;
}

static int
is_backend_cert(const struct result *r, const struct backend *b)
{
	return r->cert != NULL && r->certlen == b->cert.der.size &&
	    memcmp(r->cert, b->cert.der.data, r->certlen) == 0;
}

static void
test_proxy(void **state)
{
	struct result r;
	char spec[32];

	(void)state;
	backend_start(&B);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", B.port);
	fix_start(&F, spec, 0, 0);
	/* Other TLS reaches the backend untouched, both ways. */
	client(F.port, "www.example.net", "http/1.1", NULL, "ping", &r);
	assert_int_equal(r.ret, 0);
	assert_true(is_backend_cert(&r, &B));
	assert_string_equal(r.alpn, "http/1.1");
	assert_string_equal(r.reply, "pong:ping");
	result_free(&r);
	client(F.port, "example.com", NULL, "NORMAL:-VERS-ALL:+VERS-TLS1.2",
	    "tls12", &r);
	assert_int_equal(r.ret, 0);
	assert_true(is_backend_cert(&r, &B));
	assert_string_equal(r.reply, "pong:tls12");
	result_free(&r);
	/* acme-tls/1 for a name we do not hold: the backend's business. */
	client(F.port, "unknown.example", "acme-tls/1", NULL, "acme", &r);
	assert_int_equal(r.ret, 0);
	assert_true(is_backend_cert(&r, &B));
	assert_string_equal(r.alpn, "");
	assert_string_equal(r.reply, "pong:acme");
	result_free(&r);
	/* acme-tls/1 for our name: still the validation certificate. */
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	assert_false(is_backend_cert(&r, &B));
	result_free(&r);
	assert_true(atomic_load(&B.served) >= 2);
	fix_stop(&F);
	backend_stop(&B);
}

static void
test_proxy_down(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct result r;
	char spec[32];
	int fd;

	(void)state;
	/* A port nobody listens on. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sa.sin_port));
	close(fd);
	fix_start(&F, spec, 0, 0);
	client(F.port, "www.example.net", "http/1.1", NULL, NULL, &r);
	assert_true(r.ret < 0);
	assert_null(r.cert);
	expect_validation(F.port, "example.com", NULL, KEYAUTH, &r);
	result_free(&r);
	fix_stop(&F);
}

static void
test_start_errors(void **state)
{
	struct tlsalpn01_server *s = (struct tlsalpn01_server *)1, *s2;
	struct tlsalpn01_opts o;
	struct token_table t;

	(void)state;
	assert_int_equal(tokens_init(&t, 0, 0), 0);
	memset(&o, 0, sizeof(o));
	o.addr = "127.0.0.1";
	o.proxy = "no-port-here";
	assert_int_equal(tlsalpn01_start(&o, &t, &s), CERTO_EUSAGE);
	assert_null(s);
	certo_errclear();
	o.proxy = "[::1:443";
	assert_int_equal(tlsalpn01_start(&o, &t, &s), CERTO_EUSAGE);
	certo_errclear();
	o.proxy = "[::1]:8443";
	assert_int_equal(tlsalpn01_start(&o, &t, &s), 0);
	o.proxy = NULL;
	o.port = tlsalpn01_port(s);
	assert_int_equal(tlsalpn01_start(&o, &t, &s2), CERTO_EADDRINUSE);
	assert_non_null(strstr(certo_errmsg(), "--tls-port"));
	certo_errclear();
	tlsalpn01_stop(s);
	tlsalpn01_stop(NULL);
	tokens_free(&t);
}

/* Stop whatever a test left running, even after a failed assertion. */
static int
teardown(void **state)
{
	(void)state;
	fix_stop(&F);
	backend_stop(&B);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_serve, teardown),
		cmocka_unit_test_teardown(test_refuse, teardown),
		cmocka_unit_test_teardown(test_ip, teardown),
		cmocka_unit_test_teardown(test_cache, teardown),
		cmocka_unit_test_teardown(test_hostile, teardown),
		cmocka_unit_test_teardown(test_limit, teardown),
		cmocka_unit_test_teardown(test_limit_per_ip, teardown),
		cmocka_unit_test(test_connlimit),
		cmocka_unit_test_teardown(test_rsa, teardown),
		cmocka_unit_test_teardown(test_proxy, teardown),
		cmocka_unit_test_teardown(test_proxy_down, teardown),
		cmocka_unit_test(test_start_errors),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
