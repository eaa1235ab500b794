/*
 * The TLS-ALPN-01 responder's proxy mode (--tls-proxy): a connection that
 * is not ours is spliced byte for byte to the backend, its ClientHello
 * first, exactly as it came; TLS is never terminated (as ualpn does).
 * The backend's address comes from backend.c, looked up lazily.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "sig.h"
#include "tlsalpn01_conn.h"

/*
 * Network I/O for one direction: read what fits from src, write what is
 * pending to dst, pass a FIN on once everything is written.  Sets
 * *progress when a byte moved; -1 on a socket error.
 */
static int
relay_io(struct splice_dir *dir, int src, int dst, int *progress)
{
	ssize_t n;

	while (!dir->eof && dir->end < SPLICE_BUF) {
		n = recv(src, dir->buf + dir->end, SPLICE_BUF - dir->end, 0);
		if (n > 0) {
			dir->end += (size_t)n;
			*progress = 1;
		} else if (n == 0)
			dir->eof = 1;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		else if (errno != EINTR)
			return -1;
	}
	while (dir->start < dir->end) {
		n = send(dst, dir->buf + dir->start, dir->end - dir->start,
		    MSG_NOSIGNAL);
		if (n > 0) {
			dir->start += (size_t)n;
			*progress = 1;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else if (n < 0 && errno != EINTR)
			return -1;
	}
	if (dir->start == dir->end)
		dir->start = dir->end = 0;
	else if (dir->end == SPLICE_BUF && dir->start > 0) {
		memmove(dir->buf, dir->buf + dir->start, dir->end - dir->start);
		dir->end -= dir->start;
		dir->start = 0;
	}
	if (dir->eof && dir->start == dir->end && !dir->shut) {
		shutdown(dst, SHUT_WR);
		dir->shut = 1;
	}
	return 0;
}

static void
splice_io(struct conn *conn)
{
	struct tlsalpn01_server *srv = conn->srv;
	uint32_t cm, bm;
	int progress = 0;

	if (relay_io(&conn->up, conn->cl.fd, conn->be.fd, &progress) != 0 ||
	    relay_io(&conn->down, conn->be.fd, conn->cl.fd, &progress) != 0 ||
	    (conn->up.shut && conn->down.shut)) {
		tlsalpn01_conn_close(conn);
		return;
	}
	if (progress)
		conn->deadline = sig_now_ms() +
		    (int64_t)PROXY_IDLE_S * 1000;
	/*
	 * Read only into free space, write only pending bytes: a slow side
	 * stalls its own connection and nothing else.  A side with nothing
	 * to wait for leaves the epoll set, so a hang-up cannot spin.
	 */
	cm = (!conn->up.eof && conn->up.end < SPLICE_BUF ? EPOLLIN : 0) |
	    (conn->down.start < conn->down.end ? EPOLLOUT : 0);
	bm = (!conn->down.eof && conn->down.end < SPLICE_BUF ? EPOLLIN : 0) |
	    (conn->up.start < conn->up.end ? EPOLLOUT : 0);
	if (tlsalpn01_ep_set(srv, &conn->cl, cm) != 0 ||
	    tlsalpn01_ep_set(srv, &conn->be, bm) != 0)
		tlsalpn01_conn_close(conn);
}

/* The non-blocking connect finished (or failed): start splicing. */
static void
connect_done(struct conn *conn)
{
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(conn->be.fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err != 0) {
		log_debug("TLS-ALPN-01: proxy backend %s: %s",
		    backend_spec(conn->srv->backend), strerror(err));
		tlsalpn01_conn_close(conn);
		return;
	}
	conn->state = ST_SPLICE;
	conn->deadline = sig_now_ms() + (int64_t)PROXY_IDLE_S * 1000;
	splice_io(conn);
}

/* Connect to the backend once its address is known; else wait for it. */
static void
connect_backend(struct conn *conn)
{
	struct tlsalpn01_server *srv = conn->srv;
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;

	if (backend_get(srv->backend, &sa, &salen) != 0) {
		/* Asked for; EP_RESOLVED brings us back, the deadline ends it. */
		conn->state = ST_RESOLVE;
		return;
	}
	if ((fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		log_debug("TLS-ALPN-01: proxy backend: socket: %s",
		    strerror(errno));
		tlsalpn01_conn_close(conn);
		return;
	}
	conn->be.fd = fd;
	if (connect(fd, (struct sockaddr *)&sa, salen) == 0) {
		connect_done(conn);
		return;
	}
	if (errno != EINPROGRESS) {
		log_debug("TLS-ALPN-01: proxy backend %s: %s",
		    backend_spec(srv->backend), strerror(errno));
		tlsalpn01_conn_close(conn);
		return;
	}
	conn->state = ST_CONNECT;
	if (tlsalpn01_ep_set(srv, &conn->be, EPOLLOUT) != 0)
		tlsalpn01_conn_close(conn);
}

/* Splice buffers, the ClientHello queued for the backend, then connect. */
void
tlsalpn01_proxy_start(struct conn *conn)
{
	struct tlsalpn01_server *srv = conn->srv;

	conn->up.buf = malloc(SPLICE_BUF);
	conn->down.buf = malloc(SPLICE_BUF);
	if (conn->up.buf == NULL || conn->down.buf == NULL) {
		tlsalpn01_conn_close(conn);
		return;
	}
	/* The ClientHello goes first, exactly as it came. */
	memcpy(conn->up.buf, conn->in, conn->inlen);
	conn->up.end = conn->inlen;
	tlsalpn01_conn_release(conn);
	conn->deadline = sig_now_ms() + (int64_t)srv->timeout_s * 1000;
	if (tlsalpn01_ep_set(srv, &conn->cl, 0) != 0) {
		tlsalpn01_conn_close(conn);
		return;
	}
	connect_backend(conn);
}

/* An event on the client or backend socket of a proxied connection. */
void
tlsalpn01_proxy_io(struct conn *conn, const struct ep *ep)
{
	if (conn->state == ST_CONNECT && ep == &conn->be)
		connect_done(conn);
	else if (conn->state == ST_SPLICE)
		splice_io(conn);
}

/* A lookup finished: connections waiting for the address go on. */
void
tlsalpn01_proxy_resolved(struct tlsalpn01_server *srv)
{
	struct conn *conn, *next;
	uint64_t v;

	while (read(srv->resolved.fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	for (conn = srv->conns; conn != NULL; conn = next) {
		next = conn->next;
		if (conn->state == ST_RESOLVE)
			connect_backend(conn);
	}
}

/* Called by the resolver thread after each lookup: wake the loop. */
void
tlsalpn01_proxy_notify(void *arg)
{
	struct tlsalpn01_server *srv = arg;
	uint64_t one = 1;

	while (write(srv->resolved.fd, &one, sizeof(one)) < 0 &&
	    errno == EINTR)
		;
}
