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
 * pauses for a tick when descriptors run out.
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
 * serving from tokens (not owned; looked up with tokens_lookup_alpn).
 */
int tlsalpn01_start(const struct tlsalpn01_opts *o, struct token_table *tokens,
    struct tlsalpn01_server **out);
/* The port actually bound. */
unsigned short tlsalpn01_port(const struct tlsalpn01_server *s);
/* Stop the thread, close every connection, free; NULL is fine. */
void tlsalpn01_stop(struct tlsalpn01_server *s);

/* The most ClientHello bytes (records included) read before deciding. */
#define TLSALPN01_MAX_HELLO 16384

/* What the responder needs from a ClientHello. */
struct tlsalpn01_hello {
	char sni[256];  /* host_name, lower-cased; "" if absent or not LDH */
	int alpn;       /* an ALPN extension is present */
	int acme;       /* its list offers "acme-tls/1" */
};

/*
 * Parse the TLS records at the start of buf (the len bytes a client has
 * sent so far) as one ClientHello, possibly fragmented over several
 * records.  Pure (no I/O, no allocation, no message): it sees hostile
 * input.  Returns 1 with *h filled once the whole ClientHello is there,
 * 0 when more bytes are needed, CERTO_EPROTO when the bytes are not a
 * well-formed TLS ClientHello, CERTO_ETOOBIG when it would not fit in
 * TLSALPN01_MAX_HELLO bytes.
 */
int tlsalpn01_parse_hello(const unsigned char *buf, size_t len,
    struct tlsalpn01_hello *h);

/*
 * The token table identifier an SNI name stands for: reverse-DNS names
 * (RFC 8738 section 6: "4.3.2.1.in-addr.arpa", 32 nibbles under
 * "ip6.arpa") become the address as inet_ntop() writes it (RFC 5952 for
 * IPv6); other names are copied.  sni must be lower case.  Returns 0,
 * or CERTO_EIDENT for a malformed reverse name, an IP literal (never a
 * valid SNI) or one that does not fit in outlen.
 */
int tlsalpn01_sni_ident(const char *sni, char *out, size_t outlen);

#endif
