/* HTTP-01 responder on libmicrohttpd. */
#include "http01.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "b64.h"
#include "errors.h"
#include "tokens.h"

#define PREFIX "/.well-known/acme-challenge/"

struct http01_server {
	struct MHD_Daemon *mhd;
	struct token_table *tokens;
	struct MHD_Response *notfound;
	struct MHD_Response *badmethod;
	unsigned short port;
};

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
	(void)upload_data_size;
	(void)con_cls;
	/* GET and HEAD only: bodies are never read or parsed. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    s->badmethod);
	if (strncmp(url, PREFIX, sizeof(PREFIX) - 1) != 0)
		return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, s->notfound);
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

/* Bind a listening socket ourselves, to report the exact errno. */
static int
listen_on(const char *addr, unsigned short port, int *fdp,
    unsigned short *bound)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char portstr[8];
	int fd = -1, one = 1, zero = 0, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = addr ? AF_UNSPEC : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((e = getaddrinfo(addr, portstr, &hints, &ai)) != 0)
		return certo_fail(CERTO_EUSAGE, "invalid listen address '%s': "
		    "%s", addr ? addr : "::", gai_strerror(e));
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol)) < 0 && addr == NULL) {
		/* No IPv6: fall back to IPv4 any. */
		freeaddrinfo(ai);
		hints.ai_family = AF_INET;
		if (getaddrinfo(NULL, portstr, &hints, &ai) != 0)
			return certo_fail(CERTO_EBIND, "cannot resolve any address");
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		e = errno;
		freeaddrinfo(ai);
		return certo_fail(CERTO_EBIND, "socket: %s", strerror(e));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6 && addr == NULL)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 128) != 0) {
		e = errno;
		freeaddrinfo(ai);
		close(fd);
		if (e == EADDRINUSE)
			return certo_fail(CERTO_EADDRINUSE, "HTTP-01 port %u on %s "
			    "is already in use; pick another with --http-port or "
			    "run certo-responder there", port, addr ? addr : "*");
		return certo_fail(CERTO_EBIND, "cannot listen on %s port %u: %s%s",
		    addr ? addr : "*", port, strerror(e), e == EACCES ?
		    " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : "");
	}
	freeaddrinfo(ai);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*bound = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	*fdp = fd;
	return 0;
}

int
http01_start(const struct http01_opts *o, struct token_table *tokens,
    struct http01_server **out)
{
	struct http01_server *s;
	int fd = -1, rc;
	static char empty[] = "";

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CERTO_ENOMEM;
	s->tokens = tokens;
	if ((rc = listen_on(o->addr, o->port, &fd, &s->port)) != 0)
		goto fail;
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
	    MHD_USE_EPOLL, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(o->max_conns ?
	    o->max_conns : 1024),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(o->timeout_s ?
	    o->timeout_s : 10),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ?
	    o->threads : 1),
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		rc = certo_fail(CERTO_EBIND, "cannot start the HTTP-01 server on "
		    "port %u", s->port);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (fd >= 0 && s->mhd == NULL)
		close(fd);
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
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	if (s->notfound)
		MHD_destroy_response(s->notfound);
	if (s->badmethod)
		MHD_destroy_response(s->badmethod);
	free(s);
}
