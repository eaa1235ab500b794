/*
 * The http-01 self-check fetch (client/solver_http01.h) against a tiny
 * HTTP server in a thread on loopback, and the standalone solver's
 * self-check messages: each failure says why, in one line.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"
#include "http.h"
#include "solver.h"
#include "solver_http01.h"

#define KEYAUTH "tok-123.thumbprint-456"

/* A server that answers every request with one canned response. */
struct canned {
	int fd;
	unsigned short port;
	pthread_t th;
	pthread_mutex_t mu;
	bool stop;
	const char *response;
};

static void *
canned_run(void *arg)
{
	struct canned *srv = arg;
	char req[2048];

	/* Bounded: stop is checked every 20 ms. */
	for (;;) {
		struct pollfd pfd = { srv->fd, POLLIN, 0 };
		bool stop;
		int conn;
		size_t n = 0;
		ssize_t got;

		pthread_mutex_lock(&srv->mu);
		stop = srv->stop;
		pthread_mutex_unlock(&srv->mu);
		if (stop)
			break;
		if (poll(&pfd, 1, 20) != 1 ||
		    (conn = accept(srv->fd, NULL, NULL)) < 0)
			continue;
		while (n < sizeof(req) - 1 && (got = read(conn, req + n,
		    sizeof(req) - 1 - n)) > 0) {
			n += (size_t)got;
			req[n] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		(void)!write(conn, srv->response, strlen(srv->response));
		close(conn);
	}
	return NULL;
}

static struct canned *
canned_start(const char *response)
{
	struct canned *srv = calloc(1, sizeof(*srv));
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_non_null(srv);
	srv->response = response;
	pthread_mutex_init(&srv->mu, NULL);
	srv->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(srv->fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(srv->fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(listen(srv->fd, 8), 0);
	assert_int_equal(getsockname(srv->fd, (struct sockaddr *)&sin,
	    &len), 0);
	srv->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&srv->th, NULL, canned_run, srv), 0);
	return srv;
}

static void
canned_stop(struct canned *srv)
{
	pthread_mutex_lock(&srv->mu);
	srv->stop = true;
	pthread_mutex_unlock(&srv->mu);
	pthread_join(srv->th, NULL);
	close(srv->fd);
	pthread_mutex_destroy(&srv->mu);
	free(srv);
}

/* A loopback port nothing listens on (bound, then closed). */
static unsigned short
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* One fetch of http://127.0.0.1:port/x; the result, why in why. */
static int
fetch(unsigned short port, char *why, size_t whylen)
{
	struct certo_http client;
	struct http_opts hopts = { 0 };
	char url[64];
	int rc;

	hopts.allow_http = true;
	hopts.connect_timeout_ms = 2000;
	hopts.total_timeout_ms = 5000;
	assert_int_equal(http_init(&client, &hopts), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)port);
	rc = solver_http01_fetch(&client, url, "127.0.0.1", port, KEYAUTH, why,
	    whylen);
	http_free(&client);
	return rc;
}

static void
test_fetch_served(void **state)
{
	struct canned *srv = canned_start("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 24\r\nConnection: close\r\n\r\n" KEYAUTH " \n");
	char why[400];

	(void)state;
	/* Trailing whitespace is ignored, as CAs do (RFC 8555 8.3). */
	assert_int_equal(fetch(srv->port, why, sizeof(why)),
	    SOLVER_HTTP01_SERVED);
	assert_string_equal(why, "");
	canned_stop(srv);
}

static void
test_fetch_wrong(void **state)
{
	struct canned *srv = canned_start("HTTP/1.1 404 Not Found\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	char why[400];

	(void)state;
	assert_int_equal(fetch(srv->port, why, sizeof(why)),
	    SOLVER_HTTP01_WRONG);
	assert_string_equal(why, "the server answers HTTP 404, not 200 with "
	    "the key authorization");
	assert_null(certo_errmsg());
	canned_stop(srv);

	/* Another body, made printable in the reason. */
	srv = canned_start("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
	    "Connection: close\r\n\r\nold\x01" "ab");
	assert_int_equal(fetch(srv->port, why, sizeof(why)),
	    SOLVER_HTTP01_WRONG);
	assert_string_equal(why, "wrong content (6 bytes): \"old\\x01ab\"");
	canned_stop(srv);
}

/* A refused connection is reported in the system's words. */
static void
test_fetch_unreachable(void **state)
{
	unsigned short port = closed_port();
	char why[400], want[128];

	(void)state;
	certo_errclear();
	assert_int_equal(fetch(port, why, sizeof(why)),
	    SOLVER_HTTP01_UNREACHABLE);
	snprintf(want, sizeof(want), "cannot connect to 127.0.0.1 port %u: "
	    "Connection refused", (unsigned)port);
	assert_string_equal(why, want);
	/* The cause is in why; nothing is left recorded. */
	assert_null(certo_errmsg());
}

/* The standalone solver's message names the URL and what it answered. */
static void
test_standalone_selfcheck(void **state)
{
	enum chall_type types[] = { CHALL_HTTP01 };
	struct solver_standalone_opts opts = { 0 };
	struct solver solver;
	struct solver_item item = { CHALL_HTTP01, "a.certo.test", "tok-123",
	    KEYAUTH };
	const char *msg;

	(void)state;
	opts.types = types;
	opts.ntypes = 1;
	opts.http_addr = "127.0.0.1";
	assert_int_equal(solver_standalone_start(&opts, &solver), 0);
	/* Not published: our own server answers 404. */
	certo_errclear();
	assert_int_equal(solver.ops->selfcheck(solver.ctx, &item, 1),
	    CERTO_ESELFCHECK);
	msg = certo_errmsg();
	assert_non_null(msg);
	if (strstr(msg, "self-check of the http-01 challenge for a.certo.test "
	    "failed: http://127.0.0.1:") == NULL ||
	    strstr(msg, "/.well-known/acme-challenge/tok-123: the server "
	    "answers HTTP 404") == NULL ||
	    strstr(msg, "; the CA was not asked") == NULL ||
	    strchr(msg, '\n') != NULL)
		fail_msg("message: %s", msg);
	certo_errclear();
	/* Published: it passes. */
	assert_int_equal(solver.ops->publish(solver.ctx, CHALL_HTTP01,
	    item.ident, item.token, item.keyauth), 0);
	assert_int_equal(solver.ops->selfcheck(solver.ctx, &item, 1), 0);
	solver.ops->withdraw(solver.ctx, CHALL_HTTP01, item.ident, item.token);
	solver.ops->stop(solver.ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_served),
		cmocka_unit_test(test_fetch_wrong),
		cmocka_unit_test(test_fetch_unreachable),
		cmocka_unit_test(test_standalone_selfcheck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
