/* base64url codec. */
#include "b64.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Encode n bytes. */
char *
b64url_encode(const void *p, size_t n)
{
	const unsigned char *in = p;
	char *out, *o;
	size_t i;
	unsigned v;

	if ((out = malloc(n / 3 * 4 + 5)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned)in[i] << 16;
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

/* Decode a base64url string (no padding, no whitespace). */
int
b64url_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), i, o = 0;
	unsigned char *buf;
	unsigned v = 0;
	int bits = 0, d;

	*out = NULL;
	*outlen = 0;
	if (n % 4 == 1)
		return CERTO_EPROTO;
	if ((buf = malloc(n / 4 * 3 + 3)) == NULL)
		return CERTO_ENOMEM;
	for (i = 0; i < n; i++) {
		if ((d = value(s[i])) < 0) {
			free(buf);
			return CERTO_EPROTO;
		}
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if (v != 0) {
		free(buf);
		return CERTO_EPROTO;
	}
	*out = buf;
	*outlen = o;
	return 0;
}

/* True if s is non-empty and only base64url characters (a safe token). */
bool
b64url_valid(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if (value(*s) < 0)
			return false;
	return true;
}
