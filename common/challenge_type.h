/*
 * ACME challenge types (RFC 8555 section 8, RFC 8737): the one enum that
 * the client (challenge objects, solvers) and the responder (token table,
 * control protocol) share, with the protocol's names for them.
 */
#ifndef CERTO_CHALLENGE_TYPE_H
#define CERTO_CHALLENGE_TYPE_H

enum chall_type {
	CHALL_UNKNOWN = 0,
	CHALL_HTTP01,
	CHALL_DNS01,
	CHALL_TLSALPN01,
};

/* "http-01" -> CHALL_HTTP01; CHALL_UNKNOWN for anything else or NULL. */
enum chall_type challenge_type_parse(const char *s);
/* The protocol name ("tls-alpn-01"); "unknown" for CHALL_UNKNOWN. */
const char *challenge_type_name(enum chall_type t);

#endif
