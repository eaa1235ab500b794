/*
 * HTTP-01 responder on libmicrohttpd: GET/HEAD of
 * /.well-known/acme-challenge/<token> answers the key authorization
 * from a token table as application/octet-stream; everything else 404
 * (405 for other methods).  Request bodies are never parsed.  Our own
 * thread accepts connections and hands them to libmicrohttpd, so that
 * running out of descriptors pauses accepting instead of spinning.
 */
#ifndef CERTO_HTTP01_H
#define CERTO_HTTP01_H

struct token_table;
struct http01_server;

struct http01_opts {
	const char *addr;          /* NULL: all addresses (IPv6 dual-stack) */
	unsigned short port;
	unsigned max_conns;        /* 0: 1024 */
	unsigned max_per_ip;       /* connections from one address, 0: no cap */
	unsigned timeout_s;        /* idle time per connection, 0: 10 */
	unsigned threads;          /* polling threads, 0: 1 */
	/*
	 * certo-responder: GET/HEAD outside /.well-known/acme-challenge/
	 * get, instead of a 404, a 301 to https://<Host><path>[?query]
	 * (redirect_https), or the answer of the backend proxy ("host:port",
	 * resolved lazily (backend.h), HTTP/1.0, answers up to 1 MiB within
	 * 10 s, else 502; it wins over redirect_https).  Zeroed: 404 as
	 * before.
	 */
	int redirect_https;
	const char *proxy;
};

/*
 * Bind and start serving from tokens (not owned): http01_listen(), then
 * http01_run().  CERTO_EADDRINUSE when the port is taken (message
 * suggests --http-port), CERTO_EBIND else.
 */
int http01_start(const struct http01_opts *opts, struct token_table *tokens,
    struct http01_server **out);
/*
 * The first half: bind and prepare, no thread started (certo-responder
 * binds as root, then drops and enters its sandbox before any thread).
 * Errors as http01_start; on failure nothing is left open.
 */
int http01_listen(const struct http01_opts *opts, struct token_table *tokens,
    struct http01_server **out);
/*
 * The second half: start the threads (libmicrohttpd's, the accepting
 * one, the proxy's resolver).  CERTO_EBIND or CERTO_ENOMEM; the caller
 * still stops srv either way.
 */
int http01_run(struct http01_server *srv);
/* The port actually bound (useful with port 0). */
unsigned short http01_port(const struct http01_server *srv);
/* Stop and free; NULL is fine. */
void http01_stop(struct http01_server *srv);

#endif
