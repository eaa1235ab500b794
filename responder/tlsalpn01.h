/*
 * TLS-ALPN-01 responder (RFC 8737) on GnuTLS.  For a ClientHello that
 * offers ALPN "acme-tls/1" with SNI = a pending identifier (IP
 * identifiers in the reverse-DNS form of RFC 8738 section 6), it
 * presents a self-signed validation certificate with that one SAN and
 * the critical acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding
 * SHA-256(key authorization).  Anything else gets a handshake alert,
 * or, in proxy mode, is spliced byte-for-byte to a backend after
 * peeking at the ClientHello without terminating TLS (as ualpn does).
 * TLS 1.2/1.3 only, no session tickets.  One event-loop thread; at most
 * max_conns connections, max_per_ip of them from one address; accept()
 * pauses for a tick when descriptors run out.  The ClientHello parser is
 * tls_hello.h; the loop, our handshakes and the proxy are tlsalpn01.c,
 * tlsalpn01_acme.c and tlsalpn01_proxy.c.
 */
#ifndef CERTO_TLSALPN01_H
#define CERTO_TLSALPN01_H

#include <stddef.h>

struct token_table;
struct tlsalpn01_server;

struct tlsalpn01_opts {
	const char *addr;        /* NULL: all addresses */
	unsigned short port;
	unsigned max_conns;      /* 0: 1024 */
	unsigned max_per_ip;     /* connections from one address, 0: no cap */
	unsigned timeout_s;      /* hello+handshake (and backend lookup and
	                            connect) timeout, 0: 10; spliced: 300 s idle */
	const char *proxy;       /* "host:port" backend for other TLS, or NULL;
	                            resolved lazily (backend.h) */
	int rsa;                 /* validation key RSA-2048 instead of P-256 */
};

/*
 * Bind (via listen_tcp: CERTO_EADDRINUSE names --tls-port) and start
 * serving from tokens (not owned; looked up with tokens_lookup_alpn):
 * tlsalpn01_listen(), then tlsalpn01_run().
 */
int tlsalpn01_start(const struct tlsalpn01_opts *opts,
    struct token_table *tokens, struct tlsalpn01_server **out);
/*
 * The first half: bind and prepare, no thread started (certo-responder
 * binds as root, then drops and enters its sandbox before any thread).
 * Errors as tlsalpn01_start; on failure nothing is left open.
 */
int tlsalpn01_listen(const struct tlsalpn01_opts *opts,
    struct token_table *tokens, struct tlsalpn01_server **out);
/*
 * The second half: start the threads (the event loop, the proxy's
 * resolver).  0 or CERTO_ENOMEM; the caller still stops srv either way.
 */
int tlsalpn01_run(struct tlsalpn01_server *srv);
/* The port actually bound. */
unsigned short tlsalpn01_port(const struct tlsalpn01_server *srv);
/* Stop the thread, close every connection, free; NULL is fine. */
void tlsalpn01_stop(struct tlsalpn01_server *srv);

#endif
