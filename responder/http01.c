/*
 * HTTP-01 responder on libmicrohttpd: the challenge answers, and our own
 * accepting thread (see http01.h).  What other paths get with
 * --http-redirect / --http-proxy is http01_fallback.c.
 */
#include "http01.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef CERTO_PRIVSEP_TEST_VIOLATION
#include <linux/landlock.h>
#include <sys/syscall.h>
#include <sys/un.h>
#endif

#include "b64.h"
#include "errors.h"
#include "http01_fallback.h"   /* and <microhttpd.h> */
#include "listen.h"
#include "log.h"
#include "tokens.h"

#define PREFIX "/.well-known/acme-challenge/"
#define TEST_VIOLATION_PATH "/certo-test-violation"
#define ACCEPT_BURST 64
/*
 * The total limit is ours (see accept_burst); libmicrohttpd's own sits
 * above it and is never reached: hitting it in its thread, for
 * connections handed over in a burst, made libmicrohttpd 0.9.75's thread
 * deadlock on its own mutex at MHD_stop_daemon().
 */
#define MHD_LIMIT_SLACK (2 * ACCEPT_BURST)
#define RECONCILE_S 1           /* see accept_burst */
#define BACKOFF_MS 250          /* out of descriptors: accept again after */
#define WARN_EVERY_S 10         /* refused connections: one warning a period */

struct http01_server {
	struct MHD_Daemon *mhd;
	struct token_table *tokens;
	struct MHD_Response *notfound;
	struct MHD_Response *badmethod;
	unsigned short port;
	/* The accepting thread (acceptor()); MHD has no listening socket. */
	int lfd;
	int wake[2];                        /* http01_stop writes here */
	pthread_t acceptor;
	bool accepting;
	unsigned max_conns;
	/* Open connections = added - closed (see accept_burst). */
	atomic_uint started, closed;        /* libmicrohttpd's threads */
	unsigned added;                     /* acceptor thread only */
	time_t last_add;
	time_t warn_at;
	unsigned refused;
	/* --http-redirect / --http-proxy (certo-responder); NULL: 404 */
	struct http01_fallback *fallback;
	/* From http01_opts, for http01_run(). */
	unsigned max_per_ip, timeout_s, threads;
};

/*
 * For the test of the sandbox (certo-responder-test, a
 * CERTO_PRIVSEP_TEST_VIOLATION build; tests/integration/
 * responder_sandbox.sh): a GET of TEST_VIOLATION_PATH makes this thread
 * of libmicrohttpd's say the kernel's Landlock ABI (asked at start), bind a unix socket
 * at $CERTO_TEST_RESPONDER_BIND (which Landlock refuses: no file may be
 * made; seccomp allows bind), then open $CERTO_TEST_RESPONDER_OPEN to
 * write, which the seccomp filter traps (exit 4), as a compromised
 * thread would.
 */
#ifdef CERTO_PRIVSEP_TEST_VIOLATION
/* Asked at start: landlock_create_ruleset traps in the sandbox. */
static long test_landlock_abi;

__attribute__((constructor)) static void
test_ask_landlock(void)
{
	test_landlock_abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
}
#endif

static void
test_violation(const char *url)
{
#ifdef CERTO_PRIVSEP_TEST_VIOLATION
	const char *bpath = getenv("CERTO_TEST_RESPONDER_BIND");
	const char *opath = getenv("CERTO_TEST_RESPONDER_OPEN");
	struct sockaddr_un sa;
	int fd;

	if (strcmp(url, TEST_VIOLATION_PATH) != 0)
		return;
	log_error("responder test: Landlock ABI %ld", test_landlock_abi);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (bpath != NULL && strlen(bpath) < sizeof(sa.sun_path) &&
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		memcpy(sa.sun_path, bpath, strlen(bpath) + 1);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			log_error("responder test: bind %s: done", bpath);
		else
			log_error("responder test: bind %s: %s", bpath,
			    strerror(errno));
		close(fd);
	}
	if (opath != NULL && (fd = open(opath, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) >= 0) {
		log_error("responder test: opened %s to write", opath);
		close(fd);
	}
#else
	(void)url;
#endif
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http01_server *srv = cls;
	struct MHD_Response *resp;
	char keyauth[TOKENS_MAX_KEYAUTH + 1];
	const char *token;
	enum MHD_Result ret;
	long n;

	(void)version;
	(void)upload_data;
	/* GET and HEAD only: bodies are never read or parsed (answered at
	 * once, so libmicrohttpd closes the connection unread). */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    srv->badmethod);
	/*
	 * Answer on the second call, once the headers are complete:
	 * answering on the first forces Connection: close, and keep-alive
	 * is what lets one thread keep up with nginx.  A GET that carries a
	 * body is dropped without reading it.
	 */
	if (*con_cls == NULL) {
		*con_cls = srv;
		return MHD_YES;
	}
	if (*upload_data_size != 0)
		return MHD_NO;
	test_violation(url);
	if (strncmp(url, PREFIX, sizeof(PREFIX) - 1) != 0)
		return srv->fallback != NULL ? http01_fallback_answer(
		    srv->fallback, conn, url, method) :
		    MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, srv->notfound);
	token = url + sizeof(PREFIX) - 1;
	if (strlen(token) > TOKENS_MAX_TOKEN || !b64url_valid(token) ||
	    (n = tokens_lookup_http(srv->tokens, token, keyauth,
	    sizeof(keyauth))) < 0)
		return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, srv->notfound);
	resp = MHD_create_response_from_buffer((size_t)n, keyauth,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/octet-stream");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* One warning per WARN_EVERY_S about connections we could not take. */
static void
warn_refused(struct http01_server *srv, const char *why,
    const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	time_t now = time(NULL);

	srv->refused++;
	if (now < srv->warn_at)
		return;
	listen_peer_str((const struct sockaddr *)ss, ip, sizeof(ip));
	log_warn("HTTP-01: refused %u connection(s), the last from %s: %s",
	    srv->refused, ip, why);
	srv->refused = 0;
	srv->warn_at = now + WARN_EVERY_S;
}

/* libmicrohttpd took over (STARTED) or closed a connection. */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http01_server *srv = cls;

	(void)conn;
	(void)ctx;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&srv->started, 1);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_add(&srv->closed, 1);
}

/*
 * Accept what is waiting and hand it to libmicrohttpd, which applies the
 * per-address limit (and closes what it refuses).  The total is counted
 * here: libmicrohttpd counts a connection only once its thread took it
 * over, which would let a burst overshoot.  Open = added - closed.  A
 * connection libmicrohttpd drops before starting it is never "closed";
 * once nothing was added for RECONCILE_S, such strays (added but never
 * started) are written off.  Returns true when out of descriptors or
 * memory: stop accepting for a while.
 */
static bool
accept_burst(struct http01_server *srv)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		sl = sizeof(ss);
		fd = accept4(srv->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				warn_refused(srv, strerror(errno), NULL);
				return true;
			}
			return false;
		}
		if (srv->added - atomic_load(&srv->closed) >= srv->max_conns) {
			close(fd);
			warn_refused(srv, "the total connection limit is reached",
			    &ss);
		} else if (MHD_add_connection(srv->mhd, fd, (struct sockaddr *)&ss,
		    sl) == MHD_YES) {
			srv->added++;
			srv->last_add = time(NULL);
		} else
			warn_refused(srv, errno == ENFILE ? "over the connection "
			    "limits (total or per address)" : strerror(errno), &ss);
	}
	return false;
}

/* The accepting thread: poll, accept, pause BACKOFF_MS when starved. */
static void *
acceptor(void *arg)
{
	struct http01_server *srv = arg;
	struct pollfd pfd[2];
	bool paused = false;
	int r;

	for (;;) {
		pfd[0].fd = srv->wake[0];
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		/* A negative descriptor is left out by poll(). */
		pfd[1].fd = paused ? -1 : srv->lfd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		r = poll(pfd, 2, paused ? BACKOFF_MS : RECONCILE_S * 1000);
		if (r < 0 && errno != EINTR) {
			log_error("HTTP-01: poll: %s", strerror(errno));
			usleep(BACKOFF_MS * 1000);
			continue;
		}
		if (pfd[0].revents)
			break;
		if (srv->added != atomic_load(&srv->started) &&
		    time(NULL) - srv->last_add > RECONCILE_S)
			srv->added = atomic_load(&srv->started);
		paused = false;
		if (pfd[1].revents & POLLIN)
			paused = accept_burst(srv);
	}
	return NULL;
}

/*
 * Bind and prepare; no thread yet (http01_run).  See http01.h; on
 * failure nothing is left open.
 */
int
http01_listen(const struct http01_opts *opts, struct token_table *tokens,
    struct http01_server **out)
{
	struct http01_server *srv;
	int rc;
	static char empty[] = "";

	*out = NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return CERTO_ENOMEM;
	srv->tokens = tokens;
	srv->max_conns = opts->max_conns ? opts->max_conns : 1024;
	srv->max_per_ip = opts->max_per_ip;
	srv->timeout_s = opts->timeout_s ? opts->timeout_s : 10;
	srv->threads = opts->threads ? opts->threads : 1;
	srv->lfd = srv->wake[0] = srv->wake[1] = -1;
	if ((rc = http01_fallback_new(opts, &srv->fallback)) != 0)
		goto fail;
	if ((rc = listen_tcp(opts->addr, opts->port, "HTTP-01", "--http-port",
	    &srv->lfd, &srv->port)) != 0)
		goto fail;
	if (fcntl(srv->lfd, F_SETFL, fcntl(srv->lfd, F_GETFL) | O_NONBLOCK) != 0 ||
	    pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = certo_fail(CERTO_EBIND, "HTTP-01: %s", strerror(errno));
		goto fail;
	}
	srv->notfound = MHD_create_response_from_buffer(0, empty,
	    MHD_RESPMEM_PERSISTENT);
	srv->badmethod = MHD_create_response_from_buffer(0, empty,
	    MHD_RESPMEM_PERSISTENT);
	if (srv->notfound == NULL || srv->badmethod == NULL) {
		rc = CERTO_ENOMEM;
		goto fail;
	}
	MHD_add_response_header(srv->badmethod, MHD_HTTP_HEADER_ALLOW,
	    "GET, HEAD");
	*out = srv;
	return 0;
fail:
	http01_stop(srv);
	return rc;
}

/*
 * Start the threads of a server from http01_listen(): the proxy's
 * resolver, libmicrohttpd (no listening socket of its own) and our
 * accepting thread.  See http01.h; on failure the caller stops srv.
 */
int
http01_run(struct http01_server *srv)
{
	sigset_t all, old;
	int rc, e;

	if ((rc = http01_fallback_run(srv->fallback)) != 0)
		return rc;
	srv->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC, 0, NULL,
	    NULL, on_request, srv,
	    MHD_OPTION_CONNECTION_LIMIT, srv->max_conns + MHD_LIMIT_SLACK,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->max_per_ip,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
	    MHD_OPTION_CONNECTION_TIMEOUT, srv->timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
	    MHD_OPTION_THREAD_POOL_SIZE, srv->threads,
	    MHD_OPTION_END);
	if (srv->mhd == NULL)
		return certo_fail(CERTO_EBIND, "cannot start the HTTP-01 server "
		    "on port %u", srv->port);
	/* Signals stay with the caller's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&srv->acceptor, NULL, acceptor, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		return certo_fail(CERTO_ENOMEM, "cannot start the HTTP-01 accept "
		    "thread: %s", strerror(e));
	srv->accepting = true;
	return 0;
}

/* http01_listen() and http01_run(); see http01.h. */
int
http01_start(const struct http01_opts *opts, struct token_table *tokens,
    struct http01_server **out)
{
	int rc;

	if ((rc = http01_listen(opts, tokens, out)) != 0)
		return rc;
	if ((rc = http01_run(*out)) != 0) {
		http01_stop(*out);
		*out = NULL;
	}
	return rc;
}

/* The port bound (useful after asking for port 0). */
unsigned short
http01_port(const struct http01_server *srv)
{
	return srv->port;
}

/* Stop the accepting thread, then libmicrohttpd; free.  NULL is fine. */
void
http01_stop(struct http01_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->accepting) {
		if (write(srv->wake[1], "x", 1) < 0)
			log_debug("HTTP-01: wake: %s", strerror(errno));
		pthread_join(srv->acceptor, NULL);
	}
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	if (srv->wake[0] >= 0)
		close(srv->wake[0]);
	if (srv->wake[1] >= 0)
		close(srv->wake[1]);
	if (srv->notfound)
		MHD_destroy_response(srv->notfound);
	if (srv->badmethod)
		MHD_destroy_response(srv->badmethod);
	http01_fallback_free(srv->fallback);
	free(srv);
}
