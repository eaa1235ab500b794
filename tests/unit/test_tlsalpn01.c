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

#include "alpn_check.h"
#include "alpncert.h"
#include "connlimit.h"
#include "errors.h"
#include "hex_fixture.h"
#include "tlsalpn01.h"
#include "tokens.h"

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
    const char *prio, const char *line, struct result *res)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t sess;
	gnutls_datum_t protos[4], sel;
	const gnutls_datum_t *peers;
	char abuf[64], *tok, *save = NULL;
	unsigned np = 0, npeers = 0;
	int fd, ret;

	memset(res, 0, sizeof(*res));
	res->alert = -1;
	fd = connect_port(port);
	assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
	assert_int_equal(gnutls_init(&sess, GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_priority_set_direct(sess, prio ? prio : "NORMAL",
	    NULL), 0);
	assert_int_equal(gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE,
	    cred), 0);
	if (sni)
		assert_int_equal(gnutls_server_name_set(sess, GNUTLS_NAME_DNS, sni,
		    strlen(sni)), 0);
	if (alpn) {
		snprintf(abuf, sizeof(abuf), "%s", alpn);
		for (tok = strtok_r(abuf, ",", &save); tok && np < 4;
		    tok = strtok_r(NULL, ",", &save)) {
			protos[np].data = (unsigned char *)tok;
			protos[np++].size = (unsigned)strlen(tok);
		}
		assert_int_equal(gnutls_alpn_set_protocols(sess, protos, np, 0), 0);
	}
	gnutls_transport_set_int(sess, fd);
	gnutls_handshake_set_timeout(sess, 5000);
	do
		ret = gnutls_handshake(sess);
	while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	res->ret = ret;
	if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
		res->alert = (int)gnutls_alert_get(sess);
	if (ret == 0) {
		if (gnutls_alpn_get_selected_protocol(sess, &sel) == 0 &&
		    sel.size < sizeof(res->alpn))
			memcpy(res->alpn, sel.data, sel.size);
		peers = gnutls_certificate_get_peers(sess, &npeers);
		if (peers != NULL && npeers > 0) {
			res->cert = malloc(peers[0].size);
			assert_non_null(res->cert);
			memcpy(res->cert, peers[0].data, peers[0].size);
			res->certlen = peers[0].size;
		}
		if (line) {
			assert_true(gnutls_record_send(sess, line, strlen(line)) > 0);
			do
				ret = gnutls_record_recv(sess, res->reply,
				    sizeof(res->reply) - 1);
			while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
			assert_true(ret > 0);
		}
		do
			ret = gnutls_record_recv(sess, abuf, sizeof(abuf));
		while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
		res->close_notify = ret == 0;
		if (line)
			gnutls_bye(sess, GNUTLS_SHUT_WR);
	}
	gnutls_deinit(sess);
	gnutls_certificate_free_credentials(cred);
	close(fd);
}

/* The validation certificate for ident (SAN of type san) and keyauth. */
static void
check_validation_cert(const struct result *res, int san, const void *want,
    size_t wlen, const char *keyauth)
{
	gnutls_datum_t der = { res->cert, (unsigned)res->certlen };
	gnutls_x509_crt_t crt = alpn_check_import(&der);

	alpn_check_san(crt, san, want, wlen);
	alpn_check_ext(crt, keyauth);
	gnutls_x509_crt_deinit(crt);
}

static void
result_free(struct result *res)
{
	free(res->cert);
	res->cert = NULL;
}

struct fix {
	struct token_table tokens;
	struct tlsalpn01_server *srv;
	unsigned short port;
};

static void
fix_start_ip(struct fix *fix, const char *proxy, unsigned max_conns,
    unsigned max_per_ip, int rsa)
{
	struct tlsalpn01_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.addr = "127.0.0.1";
	opts.timeout_s = 2;
	opts.proxy = proxy;
	opts.max_conns = max_conns;
	opts.max_per_ip = max_per_ip;
	opts.rsa = rsa;
	assert_int_equal(tokens_init(&fix->tokens, 0, 0), 0);
	assert_int_equal(tokens_add(&fix->tokens, CHALL_TLSALPN01, "example.com",
	    "tok1", KEYAUTH), 0);
	/* Same identifier, other challenge type: never used here. */
	assert_int_equal(tokens_add(&fix->tokens, CHALL_HTTP01, "other.example",
	    "tok2", KEYAUTH2), 0);
	assert_int_equal(tlsalpn01_start(&opts, &fix->tokens, &fix->srv), 0);
	fix->port = tlsalpn01_port(fix->srv);
	assert_true(fix->port != 0);
}

static void
fix_start(struct fix *fix, const char *proxy, unsigned max_conns, int rsa)
{
	fix_start_ip(fix, proxy, max_conns, 0, rsa);
}

static void
fix_stop(struct fix *fix)
{
	tlsalpn01_stop(fix->srv);
	tokens_free(&fix->tokens);
	memset(fix, 0, sizeof(*fix));
}

/*
 * Once the server has seen closed connections go, a handshake succeeds
 * again (bounded: 20 tries 50 ms apart).
 */
static void
expect_room_again(unsigned short port)
{
	struct result res;
	int ok = 0;

	for (int tries = 0; tries < 20 && !ok; tries++) {
		usleep(50000);
		client(port, "example.com", "acme-tls/1", NULL, NULL, &res);
		ok = res.ret == 0;
		result_free(&res);
	}
	assert_true(ok);
}

/* The server of the current test (static: it outlives a failed test). */
static struct fix fixture;

static void
expect_validation(unsigned short port, const char *sni, const char *prio,
    const char *keyauth, struct result *res)
{
	client(port, sni, "acme-tls/1", prio, NULL, res);
	assert_int_equal(res->ret, 0);
	assert_string_equal(res->alpn, "acme-tls/1");
	assert_true(res->close_notify);
	check_validation_cert(res, GNUTLS_SAN_DNSNAME, "example.com", 11,
	    keyauth);
}

static void
test_serve(void **state)
{
	struct result res, res2;

	(void)state;
	fix_start(&fixture, NULL, 0, 0);
	expect_validation(fixture.port, "example.com", NULL, KEYAUTH, &res);
	/* SNI is case-insensitive; TLS 1.2 works too. */
	expect_validation(fixture.port, "EXAMPLE.com", NULL, KEYAUTH, &res2);
	/* Built once per authorization: the same certificate again. */
	assert_int_equal(res.certlen, res2.certlen);
	assert_memory_equal(res.cert, res2.cert, res.certlen);
	result_free(&res2);
	expect_validation(fixture.port, "example.com",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.2", KEYAUTH, &res2);
	result_free(&res2);
	/* acme-tls/1 among other protocols is still acme-tls/1. */
	client(fixture.port, "example.com", "http/1.1,acme-tls/1", NULL, NULL, &res2);
	assert_int_equal(res2.ret, 0);
	assert_string_equal(res2.alpn, "acme-tls/1");
	result_free(&res2);
	/* TLS 1.1 and older: no. */
	client(fixture.port, "example.com", "acme-tls/1",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0", NULL, &res2);
	assert_true(res2.ret < 0);
	assert_null(res2.cert);
	result_free(&res2);
	result_free(&res);
	fix_stop(&fixture);
}

/* A handshake refused with alert (-1: any), no certificate shown. */
static void
expect_refused(unsigned short port, const char *sni, const char *alpn,
    int alert)
{
	struct result res;

	client(port, sni, alpn, NULL, NULL, &res);
	assert_true(res.ret < 0);
	assert_null(res.cert);
	if (alert >= 0)
		assert_int_equal(res.alert, alert);
}

static void
test_refuse(void **state)
{
	unsigned short port;

	(void)state;
	fix_start(&fixture, NULL, 0, 0);
	port = fixture.port;
	/* Another ALPN: never the validation certificate. */
	expect_refused(port, "example.com", "http/1.1",
	    GNUTLS_A_NO_APPLICATION_PROTOCOL);
	expect_refused(port, "example.com", "h2,http/1.1", -1);
	/* No ALPN at all. */
	expect_refused(port, "example.com", NULL, GNUTLS_A_HANDSHAKE_FAILURE);
	/* Unknown name, no name, a name only known for http-01. */
	expect_refused(port, "unknown.example", "acme-tls/1",
	    GNUTLS_A_UNRECOGNIZED_NAME);
	expect_refused(port, NULL, "acme-tls/1", -1);
	expect_refused(port, "other.example", "acme-tls/1", -1);
	fix_stop(&fixture);
}

/* Reverse-DNS SNI for IP identifiers (RFC 8738 section 6). */
static void
test_ip(void **state)
{
	unsigned char ip4[4], ip6[16];
	struct result res;

	(void)state;
	fix_start(&fixture, NULL, 0, 0);
	assert_int_equal(tokens_add(&fixture.tokens, CHALL_TLSALPN01, "192.0.2.1",
	    "tok3", KEYAUTH2), 0);
	assert_int_equal(tokens_add(&fixture.tokens, CHALL_TLSALPN01, "2001:db8::1",
	    "tok4", KEYAUTH), 0);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", ip4), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", ip6), 1);
	client(fixture.port, "1.2.0.192.in-addr.arpa", "acme-tls/1", NULL, NULL,
	    &res);
	assert_int_equal(res.ret, 0);
	check_validation_cert(&res, GNUTLS_SAN_IPADDRESS, ip4, 4, KEYAUTH2);
	result_free(&res);
	client(fixture.port, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0."
	    "1.0.0.2.ip6.arpa", "acme-tls/1", NULL, NULL, &res);
	assert_int_equal(res.ret, 0);
	check_validation_cert(&res, GNUTLS_SAN_IPADDRESS, ip6, 16, KEYAUTH);
	result_free(&res);
	/* The literal is not a valid SNI and is not mapped. */
	expect_refused(fixture.port, "192.0.2.1", "acme-tls/1", -1);
	fix_stop(&fixture);
}

/* Removed or replaced tokens never get their old certificate. */
static void
test_cache(void **state)
{
	struct result r1, res2;

	(void)state;
	fix_start(&fixture, NULL, 0, 0);
	expect_validation(fixture.port, "example.com", NULL, KEYAUTH, &r1);
	assert_int_equal(tokens_remove(&fixture.tokens, CHALL_TLSALPN01,
	    "example.com", "tok1"), 0);
	client(fixture.port, "example.com", "acme-tls/1", NULL, NULL, &res2);
	assert_true(res2.ret < 0);
	assert_null(res2.cert);
	/* A new authorization for the same name: a new certificate. */
	assert_int_equal(tokens_add(&fixture.tokens, CHALL_TLSALPN01, "example.com",
	    "tok5", KEYAUTH2), 0);
	expect_validation(fixture.port, "example.com", NULL, KEYAUTH2, &res2);
	assert_false(r1.certlen == res2.certlen &&
	    memcmp(r1.cert, res2.cert, r1.certlen) == 0);
	result_free(&res2);
	/* Replaced without a gap (same token, new keyauth): new again. */
	assert_int_equal(tokens_add(&fixture.tokens, CHALL_TLSALPN01, "example.com",
	    "tok5", KEYAUTH), 0);
	expect_validation(fixture.port, "example.com", NULL, KEYAUTH, &res2);
	assert_false(r1.certlen == res2.certlen &&
	    memcmp(r1.cert, res2.cert, r1.certlen) == 0);
	result_free(&res2);
	result_free(&r1);
	fix_stop(&fixture);
}

/* Wait up to ms for the server to close fd; true if it did. */
static int
closed_by_peer(int fd, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char buf[256];
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, ms) <= 0)
			return 0;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 1;
		if (n < 0)
			return 0;
	}
}

static void
send_all(int fd, const void *pfd, size_t n)
{
	assert_int_equal(send(fd, pfd, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
test_hostile(void **state)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const unsigned char big[] = { 22, 3, 1, 0x40, 0x01 };
	static const unsigned char huge[] = { 22, 3, 1, 0, 4, 1, 0, 0xff, 0xff };
	unsigned char *hello;
	struct result res;
	size_t n;
	int fd, slow, idle[200];

	(void)state;
	fix_start(&fixture, NULL, 0, 0);
	hello = hex_fixture("tlsalpn-openssl-acme.hex", &n);
	/* Plain HTTP, oversized record, oversized hello: closed at once. */
	fd = connect_port(fixture.port);
	send_all(fd, http, sizeof(http) - 1);
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	fd = connect_port(fixture.port);
	send_all(fd, big, sizeof(big));
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	fd = connect_port(fixture.port);
	send_all(fd, huge, sizeof(huge));
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	/* A truncated hello, then EOF. */
	fd = connect_port(fixture.port);
	send_all(fd, hello, n / 2);
	shutdown(fd, SHUT_WR);
	assert_true(closed_by_peer(fd, 1000));
	close(fd);
	/* Slowloris and many idle connections block nobody... */
	slow = connect_port(fixture.port);
	send_all(slow, hello, 3);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		idle[i] = connect_port(fixture.port);
	expect_validation(fixture.port, "example.com", NULL, KEYAUTH, &res);
	result_free(&res);
	/* ...and are closed after the timeout (2 s). */
	assert_true(closed_by_peer(slow, 4000));
	close(slow);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++) {
		assert_true(closed_by_peer(idle[i], 4000));
		close(idle[i]);
	}
	/* Still answering. */
	expect_validation(fixture.port, "example.com", NULL, KEYAUTH, &res);
	result_free(&res);
	free(hello);
	fix_stop(&fixture);
}

static void
test_limit(void **state)
{
	int idle[3], extra;

	(void)state;
	fix_start(&fixture, NULL, 3, 0);
	for (int i = 0; i < 3; i++)
		idle[i] = connect_port(fixture.port);
	/* Let the server accept them before the fourth arrives. */
	usleep(200000);
	extra = connect_port(fixture.port);
	assert_true(closed_by_peer(extra, 1000));
	close(extra);
	for (int i = 0; i < 3; i++)
		close(idle[i]);
	/* Room again once the server has seen them go. */
	expect_room_again(fixture.port);
	fix_stop(&fixture);
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
	int idle[2], extra, other;

	(void)state;
	fix_start_ip(&fixture, NULL, 0, 2, 0);
	for (int i = 0; i < 2; i++)
		idle[i] = connect_port(fixture.port);
	usleep(200000);
	extra = connect_port(fixture.port);
	assert_true(closed_by_peer(extra, 1000));
	close(extra);
	other = connect_from("127.0.0.2", fixture.port);
	assert_false(closed_by_peer(other, 500));
	for (int i = 0; i < 2; i++)
		assert_false(closed_by_peer(idle[i], 0));
	for (int i = 0; i < 2; i++)
		close(idle[i]);
	expect_room_again(fixture.port);
	close(other);
	fix_stop(&fixture);
}

static void
test_rsa(void **state)
{
	struct result res;
	unsigned bits = 0;
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;

	(void)state;
	fix_start(&fixture, NULL, 0, 1);
	expect_validation(fixture.port, "example.com",
	    "NORMAL:-VERS-ALL:+VERS-TLS1.2", KEYAUTH, &res);
	der.data = res.cert;
	der.size = (unsigned)res.certlen;
	crt = alpn_check_import(&der);
	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, &bits),
	    GNUTLS_PK_RSA);
	gnutls_x509_crt_deinit(crt);
	result_free(&res);
	expect_validation(fixture.port, "example.com", NULL, KEYAUTH, &res);
	result_free(&res);
	fix_stop(&fixture);
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
static struct backend backend_fix;

/* A TLS server answering "pong:<line>" on each connection. */
static void *
backend_loop(void *arg)
{
	struct backend *backend = arg;
	static unsigned char http11[] = "http/1.1";
	gnutls_datum_t proto = { http11, 8 };
	struct pollfd pfd;
	gnutls_session_t sess;
	char buf[64], out[80];
	int fd, ret;

	while (!atomic_load(&backend->stop)) {
		pfd.fd = backend->lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((fd = accept(backend->lfd, NULL, NULL)) < 0)
			continue;
		gnutls_init(&sess, GNUTLS_SERVER);
		gnutls_set_default_priority(sess);
		gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, backend->cert.cred);
		gnutls_alpn_set_protocols(sess, &proto, 1, 0);
		gnutls_transport_set_int(sess, fd);
		gnutls_handshake_set_timeout(sess, 5000);
		do
			ret = gnutls_handshake(sess);
		while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
		if (ret == 0) {
			atomic_fetch_add(&backend->served, 1);
			gnutls_record_set_timeout(sess, 5000);
			ret = (int)gnutls_record_recv(sess, buf, sizeof(buf) - 1);
			if (ret > 0) {
				buf[ret] = '\0';
				ret = snprintf(out, sizeof(out), "pong:%s", buf);
				gnutls_record_send(sess, out, (size_t)ret);
			}
			gnutls_bye(sess, GNUTLS_SHUT_WR);
		}
		gnutls_deinit(sess);
		close(fd);
	}
	return NULL;
}

static void
backend_start(struct backend *backend)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(backend, 0, sizeof(*backend));
	assert_int_equal(alpncert_make("backend.test", "backend.key", 0,
	    &backend->cert), 0);
	backend->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(backend->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(backend->lfd, 16), 0);
	assert_int_equal(getsockname(backend->lfd, (struct sockaddr *)&sa, &sl), 0);
	backend->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&backend->thread, NULL, backend_loop,
	    backend), 0);
	backend->running = 1;
}

static void
backend_stop(struct backend *backend)
{
	if (!backend->running)
		return;
	atomic_store(&backend->stop, 1);
	pthread_join(backend->thread, NULL);
	close(backend->lfd);
	alpncert_free(&backend->cert);
	backend->running = 0;
}

static int
is_backend_cert(const struct result *res, const struct backend *backend)
{
	return res->cert != NULL && res->certlen == backend->cert.der.size &&
	    memcmp(res->cert, backend->cert.der.data, res->certlen) == 0;
}

static void
test_proxy(void **state)
{
	struct result res;
	char spec[32];

	(void)state;
	backend_start(&backend_fix);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", backend_fix.port);
	fix_start(&fixture, spec, 0, 0);
	/* Other TLS reaches the backend untouched, both ways. */
	client(fixture.port, "www.example.net", "http/1.1", NULL, "ping", &res);
	assert_int_equal(res.ret, 0);
	assert_true(is_backend_cert(&res, &backend_fix));
	assert_string_equal(res.alpn, "http/1.1");
	assert_string_equal(res.reply, "pong:ping");
	result_free(&res);
	client(fixture.port, "example.com", NULL, "NORMAL:-VERS-ALL:+VERS-TLS1.2",
	    "tls12", &res);
	assert_int_equal(res.ret, 0);
	assert_true(is_backend_cert(&res, &backend_fix));
	assert_string_equal(res.reply, "pong:tls12");
	result_free(&res);
	/* acme-tls/1 for a name we do not hold: the backend's business. */
	client(fixture.port, "unknown.example", "acme-tls/1", NULL, "acme", &res);
	assert_int_equal(res.ret, 0);
	assert_true(is_backend_cert(&res, &backend_fix));
	assert_string_equal(res.alpn, "");
	assert_string_equal(res.reply, "pong:acme");
	result_free(&res);
	/* acme-tls/1 for our name: still the validation certificate. */
	expect_validation(fixture.port, "example.com", NULL, KEYAUTH, &res);
	assert_false(is_backend_cert(&res, &backend_fix));
	result_free(&res);
	assert_true(atomic_load(&backend_fix.served) >= 2);
	fix_stop(&fixture);
	backend_stop(&backend_fix);
}

static void
test_proxy_down(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct result res;
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
	fix_start(&fixture, spec, 0, 0);
	expect_refused(fixture.port, "www.example.net", "http/1.1", -1);
	expect_validation(fixture.port, "example.com", NULL, KEYAUTH, &res);
	result_free(&res);
	fix_stop(&fixture);
}

static void
test_start_errors(void **state)
{
	struct tlsalpn01_server *srv = (struct tlsalpn01_server *)1, *srv2;
	struct tlsalpn01_opts opts;
	struct token_table table;

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	memset(&opts, 0, sizeof(opts));
	opts.addr = "127.0.0.1";
	opts.proxy = "no-port-here";
	assert_int_equal(tlsalpn01_start(&opts, &table, &srv), CERTO_EUSAGE);
	assert_null(srv);
	certo_errclear();
	opts.proxy = "[::1:443";
	assert_int_equal(tlsalpn01_start(&opts, &table, &srv), CERTO_EUSAGE);
	certo_errclear();
	opts.proxy = "[::1]:8443";
	assert_int_equal(tlsalpn01_start(&opts, &table, &srv), 0);
	opts.proxy = NULL;
	opts.port = tlsalpn01_port(srv);
	assert_int_equal(tlsalpn01_start(&opts, &table, &srv2), CERTO_EADDRINUSE);
	assert_non_null(strstr(certo_errmsg(), "--tls-port"));
	certo_errclear();
	tlsalpn01_stop(srv);
	tlsalpn01_stop(NULL);
	tokens_free(&table);
}

/* Stop whatever a test left running, even after a failed assertion. */
static int
teardown(void **state)
{
	(void)state;
	fix_stop(&fixture);
	backend_stop(&backend_fix);
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
		cmocka_unit_test_teardown(test_rsa, teardown),
		cmocka_unit_test_teardown(test_proxy, teardown),
		cmocka_unit_test_teardown(test_proxy_down, teardown),
		cmocka_unit_test(test_start_errors),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
