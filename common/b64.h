/* base64url without padding (RFC 4648 section 5, as JOSE uses it). */
#ifndef CERTO_B64_H
#define CERTO_B64_H

#include <stdbool.h>
#include <stddef.h>

/* Encode n bytes; returns a malloc'd NUL-terminated string or NULL. */
char *b64url_encode(const void *p, size_t n);
/*
 * Decode a base64url string (no padding, no whitespace).  Returns 0 and
 * a malloc'd buffer in *out (length *outlen), or CERTO_EPROTO on a bad
 * alphabet or length, CERTO_ENOMEM.
 */
int b64url_decode(const char *s, unsigned char **out, size_t *outlen);
/* True if s is non-empty and only base64url characters (a safe token). */
bool b64url_valid(const char *s);

#endif
