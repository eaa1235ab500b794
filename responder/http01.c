/* HTTP-01 responder on libmicrohttpd. */
#include "http01.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "backend.h"
#include "buf.h"
#include "errors.h"
#include "listen.h"
#include "log.h"
#include "tokens.h"

#define PREFIX "/.well-known/acme-challenge/"
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
#define WARN_EVERY_S 10         /* refused connections: one warning per period */

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
	/* --http-redirect / --http-proxy (certo-responder), see fallback() */
	int redirect_https;
	struct backend *backend;            /* NULL: no proxy */
};

static int fallback_init(struct http01_server *s,
    const struct http01_opts *o);
static enum MHD_Result fallback(struct http01_server *s,
    struct MHD_Connection *conn, const char *url, const char *method);

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http01_server *s = cls;
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
		    s->badmethod);
	/*
	 * Answer on the second call, once the headers are complete:
	 * answering on the first forces Connection: close, and keep-alive
	 * is what lets one thread keep up with nginx.  A GET that carries a
	 * body is dropped without reading it.
	 */
	if (*con_cls == NULL) {
		*con_cls = s;
		return MHD_YES;
	}
	if (*upload_data_size != 0)
		return MHD_NO;
	if (strncmp(url, PREFIX, sizeof(PREFIX) - 1) != 0)
		return fallback(s, conn, url, method);
	token = url + sizeof(PREFIX) - 1;
	if (strlen(token) > TOKENS_MAX_TOKEN || !b64url_valid(token) ||
	    (n = tokens_lookup_http(s->tokens, token, keyauth,
	    sizeof(keyauth))) < 0)
		return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, s->notfound);
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
warn_refused(struct http01_server *s, const char *why,
    const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	time_t now = time(NULL);

	s->refused++;
	if (now < s->warn_at)
		return;
	if (ss != NULL && ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)ss)->sin_addr, ip, sizeof(ip));
	else if (ss != NULL && ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)ss)->sin6_addr, ip, sizeof(ip));
	log_warn("HTTP-01: refused %u connection(s), the last from %s: %s",
	    s->refused, ip, why);
	s->refused = 0;
	s->warn_at = now + WARN_EVERY_S;
}

/* libmicrohttpd took over (STARTED) or closed a connection. */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http01_server *s = cls;

	(void)conn;
	(void)ctx;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&s->started, 1);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_add(&s->closed, 1);
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
accept_burst(struct http01_server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		sl = sizeof(ss);
		fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				warn_refused(s, strerror(errno), NULL);
				return true;
			}
			return false;
		}
		if (s->added - atomic_load(&s->closed) >= s->max_conns) {
			close(fd);
			warn_refused(s, "the total connection limit is reached",
			    &ss);
		} else if (MHD_add_connection(s->mhd, fd, (struct sockaddr *)&ss,
		    sl) == MHD_YES) {
			s->added++;
			s->last_add = time(NULL);
		} else
			warn_refused(s, errno == ENFILE ? "over the connection "
			    "limits (total or per address)" : strerror(errno), &ss);
	}
	return false;
}

/* The accepting thread: poll, accept, pause BACKOFF_MS when starved. */
static void *
acceptor(void *arg)
{
	struct http01_server *s = arg;
	struct pollfd p[2];
	bool paused = false;
	int r;

	for (;;) {
		p[0].fd = s->wake[0];
		p[0].events = POLLIN;
		p[0].revents = 0;
		/* A negative descriptor is left out by poll(). */
		p[1].fd = paused ? -1 : s->lfd;
		p[1].events = POLLIN;
		p[1].revents = 0;
		r = poll(p, 2, paused ? BACKOFF_MS : RECONCILE_S * 1000);
		if (r < 0 && errno != EINTR) {
			log_error("HTTP-01: poll: %s", strerror(errno));
			usleep(BACKOFF_MS * 1000);
			continue;
		}
		if (p[0].revents)
			break;
		if (s->added != atomic_load(&s->started) &&
		    time(NULL) - s->last_add > RECONCILE_S)
			s->added = atomic_load(&s->started);
		paused = false;
		if (p[1].revents & POLLIN)
			paused = accept_burst(s);
	}
	return NULL;
}

int
http01_start(const struct http01_opts *o, struct token_table *tokens,
    struct http01_server **out)
{
	struct http01_server *s;
	sigset_t all, old;
	unsigned threads = o->threads ? o->threads : 1;
	int rc, e;
	static char empty[] = "";

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CERTO_ENOMEM;
	s->tokens = tokens;
	s->max_conns = o->max_conns ? o->max_conns : 1024;
	s->lfd = s->wake[0] = s->wake[1] = -1;
	if ((rc = fallback_init(s, o)) != 0)
		goto fail;
	if ((rc = listen_tcp(o->addr, o->port, "HTTP-01", "--http-port",
	    &s->lfd, &s->port)) != 0)
		goto fail;
	if (fcntl(s->lfd, F_SETFL, fcntl(s->lfd, F_GETFL) | O_NONBLOCK) != 0 ||
	    pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = certo_fail(CERTO_EBIND, "HTTP-01: %s", strerror(errno));
		goto fail;
	}
	s->notfound = MHD_create_response_from_buffer(0, empty,
	    MHD_RESPMEM_PERSISTENT);
	s->badmethod = MHD_create_response_from_buffer(0, empty,
	    MHD_RESPMEM_PERSISTENT);
	if (s->notfound == NULL || s->badmethod == NULL) {
		rc = CERTO_ENOMEM;
		goto fail;
	}
	MHD_add_response_header(s->badmethod, MHD_HTTP_HEADER_ALLOW,
	    "GET, HEAD");
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC, 0, NULL,
	    NULL, on_request, s,
	    MHD_OPTION_CONNECTION_LIMIT, s->max_conns + MHD_LIMIT_SLACK,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_ip,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(o->timeout_s ?
	    o->timeout_s : 10),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		rc = certo_fail(CERTO_EBIND, "cannot start the HTTP-01 server on "
		    "port %u", s->port);
		goto fail;
	}
	/* Signals stay with the caller's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&s->acceptor, NULL, acceptor, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		rc = certo_fail(CERTO_ENOMEM, "cannot start the HTTP-01 accept "
		    "thread: %s", strerror(e));
		goto fail;
	}
	s->accepting = true;
	*out = s;
	return 0;
fail:
	http01_stop(s);
	return rc;
}

unsigned short
http01_port(const struct http01_server *s)
{
	return s->port;
}

void
http01_stop(struct http01_server *s)
{
	if (s == NULL)
		return;
	if (s->accepting) {
		if (write(s->wake[1], "x", 1) < 0)
			log_debug("HTTP-01: wake: %s", strerror(errno));
		pthread_join(s->acceptor, NULL);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	if (s->notfound)
		MHD_destroy_response(s->notfound);
	if (s->badmethod)
		MHD_destroy_response(s->badmethod);
	backend_free(s->backend);
	free(s);
}

/* ------------------------------------------------------------ fallback */
/*
 * certo-responder's --http-redirect and --http-proxy: what GET and HEAD
 * outside /.well-known/acme-challenge/ get instead of a 404.  The proxy
 * is deliberately small: HTTP/1.0 to the backend with Connection: close,
 * the whole answer read (at most FWD_MAX bytes within FWD_TIMEOUT_S
 * seconds) and relayed; it blocks its polling thread meanwhile, so the
 * daemon runs several threads when proxying.
 */
#define FWD_MAX (1024 * 1024 + 16384)
#define FWD_MAX_REQUEST 16384
#define FWD_TIMEOUT_S 10
#define FWD_RESOLVE_MS 5000     /* part of the first FWD_TIMEOUT_S */

static int
fallback_init(struct http01_server *s, const struct http01_opts *o)
{
	s->redirect_https = o->redirect_https;
	if (o->proxy == NULL)
		return 0;
	/* The name is looked up when a request needs it (backend.h). */
	return backend_new(o->proxy, "--http-proxy", NULL, NULL, &s->backend);
}

/* Append s percent-encoding all but unreserved bytes and those in keep. */
static int
pct_encode(struct certo_buf *b, const char *p, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3];
	int rc = 0;

	for (; *p && rc == 0; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) ||
		    strchr(keep, c)) {
			rc = buf_add(b, p, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		rc = buf_add(b, e, 3);
	}
	return rc;
}

struct fwd_query {
	struct certo_buf *b;
	int n;
	int rc;
};

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct fwd_query *q = cls;

	(void)kind;
	if (q->rc == 0)
		q->rc = buf_adds(q->b, q->n++ ? "&" : "?");
	if (q->rc == 0)
		q->rc = pct_encode(q->b, key, "");
	if (q->rc == 0 && value != NULL && (q->rc = buf_adds(q->b, "=")) == 0)
		q->rc = pct_encode(q->b, value, "");
	return q->rc == 0 ? MHD_YES : MHD_NO;
}

/*
 * The request target again: libmicrohttpd hands the path decoded and
 * the query parsed, so both are encoded back.
 */
static int
target(struct MHD_Connection *conn, const char *url, struct certo_buf *b)
{
	struct fwd_query q = { b, 0, 0 };

	if (url[0] != '/')
		return CERTO_EUSAGE;
	if ((q.rc = pct_encode(b, url, "/!$&'()*+,;=:@")) != 0)
		return q.rc;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, &q);
	return q.rc;
}

/* The Host header without its port, if it is a plain name or [IPv6]. */
static bool
redirect_host(const char *h, char *out, size_t outlen)
{
	size_t n, i;

	if (h == NULL || *h == '\0')
		return false;
	if (h[0] == '[') {
		n = strspn(h + 1, "0123456789abcdefABCDEF:.") + 2;
		if (h[n - 1] != ']')
			return false;
	} else
		n = strspn(h, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
	if (n == 0 || n >= outlen || (h[n] != '\0' && (h[n] != ':' ||
	    h[n + 1 + strspn(h + n + 1, "0123456789")] != '\0')))
		return false;
	for (i = 0; i < n; i++)
		out[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
	out[n] = '\0';
	return true;
}

/* An empty answer with this status and, if name is set, one header. */
static enum MHD_Result
answer_empty(struct MHD_Connection *conn, unsigned status, const char *name,
    const char *value)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	static char empty[] = "";

	if ((resp = MHD_create_response_from_buffer(0, empty,
	    MHD_RESPMEM_PERSISTENT)) == NULL)
		return MHD_NO;
	if (name != NULL)
		MHD_add_response_header(resp, name, value);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
redirect(struct MHD_Connection *conn, const char *url)
{
	struct certo_buf b;
	char host[256];
	enum MHD_Result ret;

	if (!redirect_host(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST), host, sizeof(host)))
		return answer_empty(conn, MHD_HTTP_BAD_REQUEST, NULL, NULL);
	buf_init(&b, 8192);
	if (buf_printf(&b, "https://%s", host) != 0 ||
	    target(conn, url, &b) != 0) {
		buf_free(&b);
		return answer_empty(conn, MHD_HTTP_BAD_REQUEST, NULL, NULL);
	}
	ret = answer_empty(conn, MHD_HTTP_MOVED_PERMANENTLY,
	    MHD_HTTP_HEADER_LOCATION, b.data);
	buf_free(&b);
	return ret;
}

/* Hop-by-hop and framing headers, never relayed in either direction. */
static bool
hop_header(const char *name, size_t n)
{
	static const char *const hop[] = { "connection", "keep-alive",
	    "proxy-authenticate", "proxy-authorization", "proxy-connection",
	    "te", "trailer", "transfer-encoding", "upgrade", "content-length",
	    "expect", "x-forwarded-for", "x-forwarded-proto" };

	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (strlen(hop[i]) == n && strncasecmp(name, hop[i], n) == 0)
			return true;
	return false;
}

static enum MHD_Result
request_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct fwd_query *q = cls;

	(void)kind;
	if (q->rc != 0)
		return MHD_NO;
	if (value == NULL || hop_header(key, strlen(key)) ||
	    strpbrk(key, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return MHD_YES;
	q->rc = buf_printf(q->b, "%s: %s\r\n", key, value);
	return q->rc == 0 ? MHD_YES : MHD_NO;
}

/* Send req to the backend and read its whole answer into resp. */
static int
fwd_exchange(const struct http01_server *s, const struct certo_buf *req,
    struct certo_buf *resp)
{
	struct pollfd p;
	time_t end = time(NULL) + FWD_TIMEOUT_S;
	struct sockaddr_storage sa;
	socklen_t salen;
	char chunk[16384];
	size_t sent = 0;
	ssize_t r;
	int fd, rc = 0, left;

	if ((rc = backend_wait(s->backend, FWD_RESOLVE_MS, &sa, &salen)) != 0) {
		log_debug("HTTP-01: %s", certo_errmsg());
		certo_errclear();
		return rc;
	}
	if ((fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return CERTO_ENET;
	if (connect(fd, (const struct sockaddr *)&sa, salen) != 0 &&
	    errno != EINPROGRESS) {
		rc = CERTO_ENET;
		goto out;
	}
	p.fd = fd;
	for (;;) {
		p.events = sent < req->len ? POLLOUT : POLLIN;
		if ((left = (int)(end - time(NULL))) <= 0) {
			rc = CERTO_ETIMEDOUT;
			goto out;
		}
		if ((r = poll(&p, 1, left * 1000)) < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = CERTO_ETIMEDOUT;
			goto out;
		}
		if (sent < req->len) {
			r = send(fd, req->data + sent, req->len - sent,
			    MSG_NOSIGNAL);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				rc = CERTO_ENET;
				goto out;
			}
			sent += (size_t)r;
			continue;
		}
		r = recv(fd, chunk, sizeof(chunk), 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			rc = CERTO_ENET;
			goto out;
		}
		if (r == 0)
			break;
		if ((rc = buf_add(resp, chunk, (size_t)r)) != 0)
			goto out;
	}
out:
	close(fd);
	return rc;
}

/* Never called: a HEAD answer has no body. */
static ssize_t
no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static enum MHD_Result
copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	MHD_add_response_header(cls, key, value);
	return MHD_YES;
}

/*
 * The answer to a HEAD with the backend's Content-Length: libmicrohttpd
 * writes the length of the response object (and refuses a Content-Length
 * header of ours), so the headers move to an object of that size whose
 * body is never read.  Frees resp; NULL when out of memory.
 */
static struct MHD_Response *
head_response(struct MHD_Response *resp, const char *length)
{
	struct MHD_Response *h;

	h = MHD_create_response_from_callback(strtoull(length, NULL, 10),
	    4096, no_body, NULL, NULL);
	if (h != NULL)
		MHD_get_response_headers(resp, copy_header, h);
	MHD_destroy_response(resp);
	return h;
}

/*
 * Turn the backend's HTTP/1.x answer in raw into an MHD response.  The
 * body's length is what the backend sent before closing, except for
 * HEAD, whose answer has no body: there the backend's Content-Length is
 * relayed as it is (the length a GET would have).
 */
static enum MHD_Result
relay(struct MHD_Connection *conn, struct certo_buf *raw, bool head)
{
	struct MHD_Response *resp = NULL;
	char *line, *eol, *body, *colon, *v, *length = NULL;
	unsigned status;
	enum MHD_Result ret;

	body = raw->data ? memmem(raw->data, raw->len, "\r\n\r\n", 4) : NULL;
	if (body == NULL || raw->len < 12 || strncmp(raw->data, "HTTP/1.", 7) ||
	    raw->data[8] != ' ' || sscanf(raw->data + 9, "%3u", &status) != 1 ||
	    status < 200 || status > 599)
		return answer_empty(conn, MHD_HTTP_BAD_GATEWAY, NULL, NULL);
	*body = '\0';
	body += 4;
	if ((resp = MHD_create_response_from_buffer(raw->len -
	    (size_t)(body - raw->data), body, MHD_RESPMEM_MUST_COPY)) == NULL)
		return MHD_NO;
	if ((line = strstr(raw->data, "\r\n")) != NULL)
		line += 2;
	while (line != NULL && *line != '\0') {
		if ((eol = strstr(line, "\r\n")) != NULL)
			*eol = '\0';
		/* No bare CR or LF may reach our answer's header block. */
		if ((colon = strchr(line, ':')) == NULL ||
		    strpbrk(line, "\r\n") != NULL ||
		    strncasecmp(line, "transfer-encoding:", 18) == 0) {
			MHD_destroy_response(resp);
			return answer_empty(conn, MHD_HTTP_BAD_GATEWAY, NULL, NULL);
		}
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (head && strcasecmp(line, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
			/* Two different lengths: the answer is not trustworthy. */
			if (*v == '\0' || strspn(v, "0123456789") != strlen(v) ||
			    strlen(v) > 18 || (length != NULL &&
			    strcmp(length, v) != 0)) {
				MHD_destroy_response(resp);
				return answer_empty(conn, MHD_HTTP_BAD_GATEWAY, NULL,
				    NULL);
			}
			length = v;
		}
		if (!hop_header(line, strlen(line)) &&
		    strcasecmp(line, MHD_HTTP_HEADER_DATE) != 0)
			MHD_add_response_header(resp, line, v);
		line = eol != NULL ? eol + 2 : NULL;
	}
	if (length != NULL && (resp = head_response(resp, length)) == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
forward(struct http01_server *s, struct MHD_Connection *conn,
    const char *url, const char *method)
{
	const union MHD_ConnectionInfo *ci;
	struct certo_buf req, raw;
	struct fwd_query q;
	char ip[INET6_ADDRSTRLEN] = "";
	enum MHD_Result ret;

	buf_init(&req, FWD_MAX_REQUEST);
	buf_init(&raw, FWD_MAX);
	q.b = &req;
	q.n = 0;
	q.rc = buf_printf(&req, "%s ", method);
	if (q.rc == 0)
		q.rc = target(conn, url, &req);
	if (q.rc == 0)
		q.rc = buf_adds(&req, " HTTP/1.0\r\n");
	if (q.rc == 0)
		MHD_get_connection_values(conn, MHD_HEADER_KIND, request_header,
		    &q);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, ip, sizeof(ip));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, ip, sizeof(ip));
	}
	if (q.rc == 0 && ip[0] != '\0')
		q.rc = buf_printf(&req, "X-Forwarded-For: %s\r\n", ip);
	if (q.rc == 0)
		q.rc = buf_adds(&req, "X-Forwarded-Proto: http\r\n"
		    "Connection: close\r\n\r\n");
	if (q.rc != 0)
		ret = answer_empty(conn, q.rc == CERTO_ETOOBIG ?
		    MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE :
		    MHD_HTTP_BAD_REQUEST, NULL, NULL);
	else if (fwd_exchange(s, &req, &raw) != 0)
		ret = answer_empty(conn, MHD_HTTP_BAD_GATEWAY, NULL, NULL);
	else
		ret = relay(conn, &raw, strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
	buf_free(&req);
	buf_free(&raw);
	return ret;
}

static enum MHD_Result
fallback(struct http01_server *s, struct MHD_Connection *conn,
    const char *url, const char *method)
{
	if (s->backend != NULL)
		return forward(s, conn, url, method);
	if (s->redirect_https)
		return redirect(conn, url);
	return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, s->notfound);
}
