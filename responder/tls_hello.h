/*
 * The ClientHello peek of the TLS-ALPN-01 responder (tlsalpn01.c): pure
 * parsing of hostile bytes, with its own unit tests (test_tls_hello.c)
 * and fuzz target (fuzz_tls_hello.c).  It reads what decides a
 * connection's fate before any TLS library sees it: the SNI host name
 * and whether ALPN offers "acme-tls/1" (RFC 8737 section 3).
 */
#ifndef CERTO_TLS_HELLO_H
#define CERTO_TLS_HELLO_H

#include <stddef.h>

/* The most ClientHello bytes (records included) read before deciding. */
#define TLS_HELLO_MAX 16384

/* The ALPN protocol of TLS-ALPN-01 (RFC 8737 section 6.2). */
#define ALPN_ACME_TLS_1 "acme-tls/1"
#define ALPN_ACME_TLS_1_LEN 10

/* What the responder needs from a ClientHello. */
struct tls_hello {
	char sni[256];  /* host_name, lower-cased; "" if absent or not LDH */
	int alpn;       /* an ALPN extension is present */
	int acme;       /* its list offers "acme-tls/1" */
};

/*
 * Parse the TLS records at the start of buf (the len bytes a client has
 * sent so far) as one ClientHello, possibly fragmented over several
 * records.  Pure (no I/O, no allocation, no message): it sees hostile
 * input.  Returns 1 with *hello filled once the whole ClientHello is
 * there, 0 when more bytes are needed, CERTO_EPROTO when the bytes are
 * not a well-formed TLS ClientHello, CERTO_ETOOBIG when it would not fit
 * in TLS_HELLO_MAX bytes.
 */
int tls_hello_parse(const unsigned char *buf, size_t len,
    struct tls_hello *hello);

/*
 * The token table identifier an SNI name stands for: reverse-DNS names
 * (RFC 8738 section 6: "4.3.2.1.in-addr.arpa", 32 nibbles under
 * "ip6.arpa") become the address as inet_ntop() writes it (RFC 5952 for
 * IPv6); other names are copied.  sni must be lower case.  Pure.
 * Returns 0, or CERTO_EIDENT for a malformed reverse name, an IP literal
 * (never a valid SNI) or one that does not fit in outlen.
 */
int tls_hello_sni_ident(const char *sni, char *out, size_t outlen);

#endif
