/*
 * certo-responder's --http-redirect and --http-proxy: what GET and HEAD
 * outside /.well-known/acme-challenge/ get instead of a 404.  The proxy
 * is deliberately small: HTTP/1.0 to the backend with Connection: close,
 * the whole answer read (at most FWD_MAX bytes within FWD_TIMEOUT_S
 * seconds) and relayed; it blocks its polling thread meanwhile, so the
 * daemon runs several threads when proxying.
 */
#include "http01_fallback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "buf.h"
#include "errors.h"
#include "listen.h"
#include "log.h"

#define FWD_MAX (1024 * 1024 + 16384)
#define FWD_MAX_REQUEST 16384
#define FWD_TIMEOUT_S 10
#define FWD_RESOLVE_MS 5000     /* part of the first FWD_TIMEOUT_S */

/* What answers other paths: the backend, or else a redirect. */
struct http01_fallback {
	struct backend *backend;            /* NULL: redirect to https */
};

/* Append s percent-encoding all but unreserved bytes and those in keep. */
static int
pct_encode(struct certo_buf *buf, const char *p, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3];
	int rc = 0;

	for (; *p && rc == 0; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) ||
		    strchr(keep, c)) {
			rc = buf_add(buf, p, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		rc = buf_add(buf, e, 3);
	}
	return rc;
}

/* What the MHD value iterators append to, and how far they got. */
struct fwd_query {
	struct certo_buf *buf;
	int count;              /* query arguments written so far */
	int rc;
};

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct fwd_query *query = cls;

	(void)kind;
	if (query->rc == 0)
		query->rc = buf_adds(query->buf, query->count++ ? "&" : "?");
	if (query->rc == 0)
		query->rc = pct_encode(query->buf, key, "");
	if (query->rc == 0 && value != NULL &&
	    (query->rc = buf_adds(query->buf, "=")) == 0)
		query->rc = pct_encode(query->buf, value, "");
	return query->rc == 0 ? MHD_YES : MHD_NO;
}

/*
 * The request target again: libmicrohttpd hands the path decoded and
 * the query parsed, so both are encoded back.
 */
static int
target(struct MHD_Connection *conn, const char *url, struct certo_buf *buf)
{
	struct fwd_query query = { buf, 0, 0 };

	if (url[0] != '/')
		return CERTO_EUSAGE;
	if ((query.rc = pct_encode(buf, url, "/!$&'()*+,;=:@")) != 0)
		return query.rc;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, &query);
	return query.rc;
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
	struct certo_buf buf;
	char host[256];
	enum MHD_Result ret;

	if (!redirect_host(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST), host, sizeof(host)))
		return answer_empty(conn, MHD_HTTP_BAD_REQUEST, NULL, NULL);
	buf_init(&buf, 8192);
	if (buf_printf(&buf, "https://%s", host) != 0 ||
	    target(conn, url, &buf) != 0) {
		buf_free(&buf);
		return answer_empty(conn, MHD_HTTP_BAD_REQUEST, NULL, NULL);
	}
	ret = answer_empty(conn, MHD_HTTP_MOVED_PERMANENTLY,
	    MHD_HTTP_HEADER_LOCATION, buf.data);
	buf_free(&buf);
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
	struct fwd_query *query = cls;

	(void)kind;
	if (query->rc != 0)
		return MHD_NO;
	if (value == NULL || hop_header(key, strlen(key)) ||
	    strpbrk(key, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return MHD_YES;
	query->rc = buf_printf(query->buf, "%s: %s\r\n", key, value);
	return query->rc == 0 ? MHD_YES : MHD_NO;
}

/* A failed exchange with the backend: CERTO_ENET naming it and why. */
static int
fwd_fail(const struct http01_fallback *fb, const char *what, int err)
{
	return certo_fail(CERTO_ENET, "proxy backend %s: %s: %s",
	    backend_spec(fb->backend), what, strerror(err));
}

/*
 * Network I/O: send req to the backend and read its whole answer into
 * resp, within FWD_TIMEOUT_S.  Returns 0, or CERTO_ENET /
 * CERTO_ETIMEDOUT / CERTO_ETOOBIG with a message naming the backend.
 */
static int
fwd_exchange(const struct http01_fallback *fb, const struct certo_buf *req,
    struct certo_buf *resp)
{
	struct pollfd pfd;
	time_t end = time(NULL) + FWD_TIMEOUT_S;
	struct sockaddr_storage sa;
	socklen_t salen;
	char chunk[16384];
	size_t sent = 0;
	ssize_t r;
	int fd, rc = 0, left;

	if ((rc = backend_wait(fb->backend, FWD_RESOLVE_MS, &sa, &salen)) != 0)
		return rc;
	if ((fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return fwd_fail(fb, "socket", errno);
	if (connect(fd, (const struct sockaddr *)&sa, salen) != 0 &&
	    errno != EINPROGRESS) {
		rc = fwd_fail(fb, "connect", errno);
		goto out;
	}
	pfd.fd = fd;
	for (;;) {
		pfd.events = sent < req->len ? POLLOUT : POLLIN;
		if ((left = (int)(end - time(NULL))) <= 0 ||
		    ((r = poll(&pfd, 1, left * 1000)) < 0 && errno != EINTR) ||
		    r == 0) {
			rc = certo_fail(CERTO_ETIMEDOUT, "proxy backend %s: no "
			    "answer within %d s", backend_spec(fb->backend),
			    FWD_TIMEOUT_S);
			goto out;
		}
		if (r < 0)
			continue;
		if (sent < req->len) {
			r = send(fd, req->data + sent, req->len - sent,
			    MSG_NOSIGNAL);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				rc = fwd_fail(fb, "send", r < 0 ? errno : EPIPE);
				goto out;
			}
			sent += (size_t)r;
			continue;
		}
		r = recv(fd, chunk, sizeof(chunk), 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			rc = fwd_fail(fb, "recv", errno);
			goto out;
		}
		if (r == 0)
			break;
		if ((rc = buf_add(resp, chunk, (size_t)r)) != 0) {
			if (rc == CERTO_ETOOBIG)
				rc = certo_fail(rc, "proxy backend %s: answer "
				    "over %d bytes", backend_spec(fb->backend),
				    FWD_MAX);
			goto out;
		}
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
	struct MHD_Response *head;

	head = MHD_create_response_from_callback(strtoull(length, NULL, 10),
	    4096, no_body, NULL, NULL);
	if (head != NULL)
		MHD_get_response_headers(resp, copy_header, head);
	MHD_destroy_response(resp);
	return head;
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
forward(const struct http01_fallback *fb, struct MHD_Connection *conn,
    const char *url, const char *method)
{
	const union MHD_ConnectionInfo *ci;
	struct certo_buf req, raw;
	struct fwd_query query;
	char ip[INET6_ADDRSTRLEN] = "";
	enum MHD_Result ret;

	buf_init(&req, FWD_MAX_REQUEST);
	buf_init(&raw, FWD_MAX);
	query.buf = &req;
	query.count = 0;
	query.rc = buf_printf(&req, "%s ", method);
	if (query.rc == 0)
		query.rc = target(conn, url, &req);
	if (query.rc == 0)
		query.rc = buf_adds(&req, " HTTP/1.0\r\n");
	if (query.rc == 0)
		MHD_get_connection_values(conn, MHD_HEADER_KIND, request_header,
		    &query);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL)
		listen_peer_str(ci->client_addr, ip, sizeof(ip));
	if (query.rc == 0 && ip[0] != '\0')
		query.rc = buf_printf(&req, "X-Forwarded-For: %s\r\n", ip);
	if (query.rc == 0)
		query.rc = buf_adds(&req, "X-Forwarded-Proto: http\r\n"
		    "Connection: close\r\n\r\n");
	if (query.rc != 0)
		ret = answer_empty(conn, query.rc == CERTO_ETOOBIG ?
		    MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE :
		    MHD_HTTP_BAD_REQUEST, NULL, NULL);
	else if (fwd_exchange(fb, &req, &raw) != 0) {
		/* The client gets 502; the cause goes to the log. */
		log_debug("HTTP-01: %s", certo_errmsg() ? certo_errmsg() :
		    "proxy backend failed");
		certo_errclear();
		ret = answer_empty(conn, MHD_HTTP_BAD_GATEWAY, NULL, NULL);
	}
	else
		ret = relay(conn, &raw, strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
	buf_free(&req);
	buf_free(&raw);
	return ret;
}

/* NULL (plain 404s) unless opts asks for a redirect or a proxy. */
int
http01_fallback_new(const struct http01_opts *opts,
    struct http01_fallback **out)
{
	struct http01_fallback *fb;
	int rc;

	*out = NULL;
	if (opts->proxy == NULL && !opts->redirect_https)
		return 0;
	if ((fb = calloc(1, sizeof(*fb))) == NULL)
		return CERTO_ENOMEM;
	/* The name is looked up when a request needs it (backend.h). */
	if (opts->proxy != NULL && (rc = backend_new(opts->proxy,
	    "--http-proxy", NULL, NULL, &fb->backend)) != 0) {
		free(fb);
		return rc;
	}
	*out = fb;
	return 0;
}

/* Start the backend's resolver thread, if any; NULL is fine. */
int
http01_fallback_run(struct http01_fallback *fb)
{
	if (fb == NULL || fb->backend == NULL)
		return 0;
	return backend_run(fb->backend);
}

/* Stop the backend's resolver and free; NULL is fine. */
void
http01_fallback_free(struct http01_fallback *fb)
{
	if (fb == NULL)
		return;
	backend_free(fb->backend);
	free(fb);
}

/* The backend's answer (network I/O, up to FWD_TIMEOUT_S), else a 301. */
enum MHD_Result
http01_fallback_answer(const struct http01_fallback *fb,
    struct MHD_Connection *conn, const char *url, const char *method)
{
	if (fb->backend != NULL)
		return forward(fb, conn, url, method);
	return redirect(conn, url);
}
