/*
 * TLS-ALPN-01 responder: one thread, one epoll loop, non-blocking
 * sockets.  This file is the loop: it accepts (under the connection
 * caps), reads each connection's ClientHello and has tls_hello.c parse
 * it; only a hello that offers acme-tls/1 with the SNI of a live token
 * goes on to our own handshake (tlsalpn01_acme.c).  Everything else is
 * refused with an alert or, with a proxy, spliced untouched to the
 * backend (tlsalpn01_proxy.c).
 */
#include "sig.h"
#include "tlsalpn01.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "errors.h"
#include "listen.h"
#include "log.h"
#include "tlsalpn01_conn.h"

#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_TIMEOUT_S 10
#define PEEK_FIRST 1024     /* first ClientHello buffer, grows to the cap */
#define DRAIN_MAX 65536     /* discarded while waiting for the peer's FIN */
#define TICK_MS 250
#define CACHE_SWEEP_MS 1000
#define MAX_EVENTS 64
#define ACCEPT_BURST 64
#define WARN_EVERY_MS 10000 /* refused connections: one warning per period */

/* TLS alert descriptions (RFC 8446 section 6). */
#define ALERT_HANDSHAKE_FAILURE 40
#define ALERT_UNRECOGNIZED_NAME 112
#define ALERT_NO_APPLICATION_PROTOCOL 120

/* Register ep for mask (0: remove from the set); -1 on failure. */
int
tlsalpn01_ep_set(struct tlsalpn01_server *srv, struct ep *ep, uint32_t mask)
{
	struct epoll_event ev;
	int op;

	if (mask == ep->mask)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = mask;
	ev.data.ptr = ep;
	op = mask == 0 ? EPOLL_CTL_DEL : ep->mask == 0 ? EPOLL_CTL_ADD :
	    EPOLL_CTL_MOD;
	if (epoll_ctl(srv->epfd, op, ep->fd, &ev) != 0)
		return -1;
	ep->mask = mask;
	return 0;
}

/* Release the TLS session and everything read so far. */
void
tlsalpn01_conn_release(struct conn *conn)
{
	tlsalpn01_acme_release(conn);
	free(conn->in);
	conn->in = NULL;
	conn->inlen = conn->incap = conn->replay = 0;
}

/* Close a connection; its memory is freed after the current batch. */
void
tlsalpn01_conn_close(struct conn *conn)
{
	struct tlsalpn01_server *srv = conn->srv;

	if (conn->state == ST_DEAD)
		return;
	tlsalpn01_conn_release(conn);
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		srv->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	conn->state = ST_DEAD;
	conn->next = srv->dead;
	conn->prev = NULL;
	srv->dead = conn;
	srv->nconns--;
	connlimit_release(srv->limit, &conn->key);
	/* close() also takes the descriptors out of the epoll set. */
	if (conn->cl.fd >= 0)
		close(conn->cl.fd);
	if (conn->be.fd >= 0)
		close(conn->be.fd);
	conn->cl.fd = conn->be.fd = -1;
	free(conn->up.buf);
	free(conn->down.buf);
	conn->up.buf = conn->down.buf = NULL;
}

static void
reap_dead(struct tlsalpn01_server *srv)
{
	struct conn *conn;

	while ((conn = srv->dead) != NULL) {
		srv->dead = conn->next;
		free(conn);
	}
}

/* Our side is done: shut writes, wait (bounded) for the peer's FIN. */
void
tlsalpn01_drain_start(struct conn *conn)
{
	tlsalpn01_conn_release(conn);
	shutdown(conn->cl.fd, SHUT_WR);
	conn->state = ST_DRAIN;
	conn->drained = 0;
	if (tlsalpn01_ep_set(conn->srv, &conn->cl, EPOLLIN) != 0)
		tlsalpn01_conn_close(conn);
}

/* Read and discard until the peer's FIN (or DRAIN_MAX bytes). */
static void
drain_recv(struct conn *conn)
{
	unsigned char junk[4096];
	ssize_t n;

	for (;;) {
		n = recv(conn->cl.fd, junk, sizeof(junk), 0);
		if (n > 0) {
			conn->drained += (size_t)n;
			if (conn->drained <= DRAIN_MAX)
				continue;
		} else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		tlsalpn01_conn_close(conn);
		return;
	}
}

/* Refuse with a fatal alert (a plaintext record: no handshake happened). */
static void
send_alert(struct conn *conn, unsigned char desc)
{
	unsigned char alert[7] = { 21, 3, 3, 0, 2, 2, 0 };

	alert[6] = desc;
	/* Best effort: an empty socket buffer always takes 7 bytes. */
	if (send(conn->cl.fd, alert, sizeof(alert), MSG_NOSIGNAL) < 0)
		log_debug("TLS-ALPN-01: alert not sent: %s", strerror(errno));
	tlsalpn01_drain_start(conn);
}

/*
 * The whole ClientHello is in: our own handshake for acme-tls/1 with the
 * SNI of a live token, else the backend, else an alert that says why.
 */
static void
route_hello(struct conn *conn)
{
	struct tlsalpn01_server *srv = conn->srv;
	const struct tls_hello *hello = &conn->hello;
	char ka[TOKENS_MAX_KEYAUTH + 1];
	int ours;

	ours = hello->acme && hello->sni[0] != '\0' &&
	    tls_hello_sni_ident(hello->sni, conn->ident,
	    sizeof(conn->ident)) == 0 &&
	    tokens_lookup_alpn(srv->tokens, conn->ident, ka, sizeof(ka)) >= 0;
	memset(ka, 0, sizeof(ka));
	if (ours)
		tlsalpn01_acme_start(conn);
	else if (srv->backend != NULL)
		tlsalpn01_proxy_start(conn);
	else
		send_alert(conn, !hello->alpn ? ALERT_HANDSHAKE_FAILURE :
		    hello->acme ? ALERT_UNRECOGNIZED_NAME :
		    ALERT_NO_APPLICATION_PROTOCOL);
}

/* Read the ClientHello (growing the buffer up to TLS_HELLO_MAX). */
static void
hello_recv(struct conn *conn)
{
	unsigned char *nb;
	size_t ncap;
	ssize_t n;
	int r;

	for (;;) {
		if (conn->inlen == conn->incap) {
			if (conn->incap >= TLS_HELLO_MAX)
				break;
			ncap = conn->incap ? conn->incap * 2 : PEEK_FIRST;
			if (ncap > TLS_HELLO_MAX)
				ncap = TLS_HELLO_MAX;
			if ((nb = realloc(conn->in, ncap)) == NULL)
				break;
			conn->in = nb;
			conn->incap = ncap;
		}
		n = recv(conn->cl.fd, conn->in + conn->inlen,
		    conn->incap - conn->inlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		conn->inlen += (size_t)n;
		r = tls_hello_parse(conn->in, conn->inlen, &conn->hello);
		if (r == 1) {
			route_hello(conn);
			return;
		}
		if (r < 0) {
			log_debug("TLS-ALPN-01: dropped a connection: %s",
			    r == CERTO_ETOOBIG ? "ClientHello too large" :
			    "not a TLS ClientHello");
			break;
		}
	}
	tlsalpn01_conn_close(conn);
}

/* One warning per WARN_EVERY_MS about refused connections. */
static void
warn_refused(struct tlsalpn01_server *srv, enum connlimit_verdict verdict,
    const struct connlimit_key *key)
{
	char addr[64];
	int64_t now = sig_now_ms();

	srv->refused++;
	if (now < srv->warn_at)
		return;
	connlimit_key_str(key, addr, sizeof(addr));
	if (verdict == CONNLIMIT_ADDR)
		log_warn("TLS-ALPN-01: refused %u connection(s), the last from "
		    "%s, which has %u open (--max-conns-per-ip)", srv->refused,
		    addr, connlimit_count(srv->limit, key));
	else
		log_warn("TLS-ALPN-01: refused %u connection(s): %u open "
		    "(--max-conns)", srv->refused, connlimit_total(srv->limit));
	srv->refused = 0;
	srv->warn_at = now + WARN_EVERY_MS;
}

/* A new connection on fd, counted under key: read its ClientHello. */
static int
conn_add(struct tlsalpn01_server *srv, int fd,
    const struct connlimit_key *key)
{
	struct conn *conn;
	int one = 1;

	if ((conn = calloc(1, sizeof(*conn))) == NULL)
		return -1;
	/* A TLS flight is several small records: send each at once
	 * instead of waiting for the peer's delayed ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn->srv = srv;
	conn->state = ST_PEEK;
	conn->key = *key;
	conn->cl.kind = EP_CLIENT;
	conn->cl.fd = fd;
	conn->cl.conn = conn;
	conn->be.kind = EP_BACKEND;
	conn->be.fd = -1;
	conn->be.conn = conn;
	conn->deadline = sig_now_ms() + (int64_t)srv->timeout_s * 1000;
	if (tlsalpn01_ep_set(srv, &conn->cl, EPOLLIN) != 0) {
		free(conn);
		return -1;
	}
	conn->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = conn;
	srv->conns = conn;
	srv->nconns++;
	return 0;
}

/* Out of descriptors or memory: leave the listener out until a tick. */
static void
accept_pause(struct tlsalpn01_server *srv)
{
	if (sig_now_ms() >= srv->warn_at) {
		log_warn("TLS-ALPN-01: accept: %s; pausing", strerror(errno));
		srv->warn_at = sig_now_ms() + WARN_EVERY_MS;
	}
	if (tlsalpn01_ep_set(srv, &srv->lis, 0) == 0)
		srv->paused = 1;
}

/* Accept up to ACCEPT_BURST connections within the caps. */
static void
accept_some(struct tlsalpn01_server *srv)
{
	struct sockaddr_storage ss;
	struct connlimit_key key;
	enum connlimit_verdict verdict;
	socklen_t sl;
	int fd;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		sl = sizeof(ss);
		fd = accept4(srv->lis.fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				accept_pause(srv);
			return;
		}
		if ((verdict = connlimit_acquire(srv->limit,
		    (struct sockaddr *)&ss, sl, &key)) != CONNLIMIT_OK) {
			close(fd);
			warn_refused(srv, verdict, &key);
			continue;
		}
		if (conn_add(srv, fd, &key) != 0) {
			connlimit_release(srv->limit, &key);
			close(fd);
		}
	}
}

/* An event for a connection, handled by the step it is in. */
static void
conn_event(struct conn *conn, const struct ep *ep)
{
	switch (conn->state) {
	case ST_PEEK:
		hello_recv(conn);
		break;
	case ST_TLS:
	case ST_BYE:
		tlsalpn01_acme_io(conn);
		break;
	case ST_DRAIN:
		drain_recv(conn);
		break;
	case ST_RESOLVE:
	case ST_CONNECT:
	case ST_SPLICE:
		tlsalpn01_proxy_io(conn, ep);
		break;
	case ST_DEAD:
		break;
	}
}

/* Close connections past their deadline. */
static void
expire(struct tlsalpn01_server *srv, int64_t now)
{
	struct conn *conn, *next;

	for (conn = srv->conns; conn != NULL; conn = next) {
		next = conn->next;
		if (conn->deadline <= now) {
			if (conn->state == ST_RESOLVE)
				log_debug("TLS-ALPN-01: proxy backend %s did not "
				    "resolve in time", backend_spec(srv->backend));
			else
				log_debug("TLS-ALPN-01: connection timed out");
			tlsalpn01_conn_close(conn);
		}
	}
	reap_dead(srv);
}

/* The thread: events, then timeouts every tick, cache sweeps. */
static void *
loop(void *arg)
{
	struct tlsalpn01_server *srv = arg;
	struct epoll_event ev[MAX_EVENTS];
	int64_t now, next_tick = 0, next_sweep = 0;
	int n, stop = 0;

	while (!stop) {
		n = epoll_wait(srv->epfd, ev, MAX_EVENTS, TICK_MS);
		if (n < 0 && errno != EINTR) {
			log_error("TLS-ALPN-01: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct ep *ep = ev[i].data.ptr;
			if (ep->kind == EP_WAKE)
				stop = 1;
			else if (ep->kind == EP_RESOLVED)
				tlsalpn01_proxy_resolved(srv);
			else if (ep->kind == EP_LISTEN)
				accept_some(srv);
			else
				conn_event(ep->conn, ep);
		}
		reap_dead(srv);
		now = sig_now_ms();
		if (now >= next_tick) {
			expire(srv, now);
			if (srv->paused &&
			    tlsalpn01_ep_set(srv, &srv->lis, EPOLLIN) == 0)
				srv->paused = 0;
			next_tick = now + TICK_MS;
		}
		if (now >= next_sweep) {
			tlsalpn01_acme_sweep(srv);
			next_sweep = now + CACHE_SWEEP_MS;
		}
	}
	return NULL;
}

/* A zeroed server from the options, every descriptor -1. */
static struct tlsalpn01_server *
server_new(const struct tlsalpn01_opts *opts, struct token_table *tokens)
{
	struct tlsalpn01_server *srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->tokens = tokens;
	srv->max_conns = opts->max_conns ? opts->max_conns : DEFAULT_MAX_CONNS;
	srv->timeout_s = opts->timeout_s ? opts->timeout_s : DEFAULT_TIMEOUT_S;
	srv->rsa = opts->rsa;
	srv->epfd = -1;
	srv->lis.kind = EP_LISTEN;
	srv->lis.fd = -1;
	srv->wake.kind = EP_WAKE;
	srv->wake.fd = -1;
	srv->resolved.kind = EP_RESOLVED;
	srv->resolved.fd = -1;
	return srv;
}

/* Bind the listener and set up epoll with its three sources. */
static int
server_listen(struct tlsalpn01_server *srv, const struct tlsalpn01_opts *opts)
{
	int rc;

	if ((rc = listen_tcp(opts->addr, opts->port, "TLS-ALPN-01",
	    "--tls-port", &srv->lis.fd, &srv->port)) != 0)
		return rc;
	if (fcntl(srv->lis.fd, F_SETFL, fcntl(srv->lis.fd, F_GETFL) |
	    O_NONBLOCK) != 0 ||
	    (srv->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (srv->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    tlsalpn01_ep_set(srv, &srv->lis, EPOLLIN) != 0 ||
	    tlsalpn01_ep_set(srv, &srv->wake, EPOLLIN) != 0 ||
	    tlsalpn01_ep_set(srv, &srv->resolved, EPOLLIN) != 0)
		return certo_fail(CERTO_EBIND, "cannot start the TLS-ALPN-01 "
		    "server: %s", strerror(errno));
	return 0;
}

/*
 * Bind and prepare; no thread yet (tlsalpn01_run).  See tlsalpn01.h.
 * On failure nothing is left open; *out is NULL.
 */
int
tlsalpn01_listen(const struct tlsalpn01_opts *opts,
    struct token_table *tokens, struct tlsalpn01_server **out)
{
	struct tlsalpn01_server *srv;
	int rc;

	*out = NULL;
	if ((srv = server_new(opts, tokens)) == NULL)
		return CERTO_ENOMEM;
	if ((rc = connlimit_new(srv->max_conns, opts->max_per_ip,
	    &srv->limit)) != 0)
		goto fail;
	if ((srv->resolved.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = certo_fail(CERTO_EIO, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((opts->proxy && (rc = backend_new(opts->proxy, "--tls-proxy",
	    tlsalpn01_proxy_notify, srv, &srv->backend)) != 0) ||
	    (rc = tlsalpn01_acme_init(srv)) != 0 ||
	    (rc = server_listen(srv, opts)) != 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	tlsalpn01_stop(srv);
	return rc;
}

/*
 * Start the threads of a server from tlsalpn01_listen(): the proxy's
 * resolver and the event loop.  See tlsalpn01.h.
 */
int
tlsalpn01_run(struct tlsalpn01_server *srv)
{
	sigset_t all, old;
	int ret, rc;

	if (srv->backend != NULL && (rc = backend_run(srv->backend)) != 0)
		return rc;
	/* Signals stay with the caller's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&srv->thread, NULL, loop, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0)
		return certo_fail(CERTO_ENOMEM, "cannot start the TLS-ALPN-01 "
		    "thread: %s", strerror(ret));
	srv->running = 1;
	return 0;
}

/* tlsalpn01_listen() and tlsalpn01_run(); see tlsalpn01.h. */
int
tlsalpn01_start(const struct tlsalpn01_opts *opts, struct token_table *tokens,
    struct tlsalpn01_server **out)
{
	int rc;

	if ((rc = tlsalpn01_listen(opts, tokens, out)) != 0)
		return rc;
	if ((rc = tlsalpn01_run(*out)) != 0) {
		tlsalpn01_stop(*out);
		*out = NULL;
	}
	return rc;
}

/* The port bound (useful after asking for port 0). */
unsigned short
tlsalpn01_port(const struct tlsalpn01_server *srv)
{
	return srv->port;
}

/*
 * Wake and join the thread, close every connection and free every
 * certificate.  NULL is fine.
 */
void
tlsalpn01_stop(struct tlsalpn01_server *srv)
{
	uint64_t one = 1;

	if (srv == NULL)
		return;
	if (srv->running) {
		while (write(srv->wake.fd, &one, sizeof(one)) < 0 &&
		    errno == EINTR)
			;
		pthread_join(srv->thread, NULL);
	}
	/* Before the eventfd its notify writes to is closed. */
	backend_free(srv->backend);
	while (srv->conns != NULL)
		tlsalpn01_conn_close(srv->conns);
	reap_dead(srv);
	tlsalpn01_acme_free(srv);
	if (srv->lis.fd >= 0)
		close(srv->lis.fd);
	if (srv->wake.fd >= 0)
		close(srv->wake.fd);
	if (srv->resolved.fd >= 0)
		close(srv->resolved.fd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	connlimit_free(srv->limit);
	free(srv);
}
