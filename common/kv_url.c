/*
 * Store URLs (kv.h): redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] and
 * redis+unix:///PATH[?db=N], parsed strictly.  Every error names the bad
 * part, and never shows the password.  Pure: no I/O.
 */
#include "kv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"

#define KV_URL_TCP "redis://"
#define KV_URL_UNIX "redis+unix://"
#define KV_DB_MAX 1000000

static int url_fail(const char *what, const char *part, size_t n)
{
	char shown[128];

	log_sanitize(shown, sizeof(shown), part, n);
	return certo_fail(CERTO_EUSAGE, "store URL: %s '%s'", what, shown);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX escapes of src[0..n) into dst; -1 if bad, too long or %00. */
static int url_unescape(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)src[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hexval(src[i + 1]);
			lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= dstlen)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* A decimal number in [lo, hi] made of n digits exactly; -1 if not. */
static long url_number(const char *s, size_t n, long lo, long hi)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v < lo || v > hi ? -1 : v;
}

static int host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* USER:PASSWORD of the authority's userinfo. */
static int parse_userinfo(const char *s, size_t n, struct kv_url *u)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL)
		return certo_fail(CERTO_EUSAGE, "store URL: credentials "
		    "must be USER:PASSWORD or :PASSWORD (no ':' before '@')");
	if (url_unescape(u->user, sizeof(u->user), s, (size_t)(colon - s)))
		return url_fail("bad user name", s, (size_t)(colon - s));
	if (colon + 1 == s + n)
		return certo_fail(CERTO_EUSAGE,
		    "store URL: empty password after ':'");
	if (url_unescape(u->password, sizeof(u->password), colon + 1,
	    (size_t)(s + n - colon - 1)))
		return certo_fail(CERTO_EUSAGE, "store URL: bad password "
		    "(a %%XX escape is wrong, or it is over %zu bytes)",
		    sizeof(u->password) - 1);
	u->has_auth = 1;
	return 0;
}

/* HOST[:PORT] or [IPV6][:PORT]. */
static int parse_hostport(const char *s, size_t n, struct kv_url *u)
{
	const char *end = s + n, *port = NULL, *h = s;
	size_t hlen, i;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL)
			return url_fail("no ']' after IPv6 address", s, n);
		h = s + 1;
		hlen = (size_t)(close - h);
		if (close + 1 < end) {
			if (close[1] != ':')
				return url_fail("unexpected text after ']'",
				    close + 1, (size_t)(end - close - 1));
			port = close + 2;
		}
		for (i = 0; i < hlen; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return url_fail("bad IPv6 address", h, hlen);
	} else {
		const char *colon = memchr(s, ':', n);

		hlen = colon ? (size_t)(colon - s) : n;
		if (colon)
			port = colon + 1;
		for (i = 0; i < hlen; i++)
			if (!host_char_ok(s[i]))
				return url_fail("bad host", s, hlen);
	}
	if (hlen == 0)
		return url_fail("empty host in", s, n);
	if (hlen >= sizeof(u->host))
		return url_fail("host too long", h, 40);
	memcpy(u->host, h, hlen);
	u->host[hlen] = '\0';
	u->port = 6379;
	if (port) {
		long p = url_number(port, (size_t)(end - port), 1, 65535);

		if (p < 0)
			return url_fail("bad port (1-65535)", port,
			    (size_t)(end - port));
		u->port = (int)p;
	}
	return 0;
}

/* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], after the scheme. */
static int parse_tcp(const char *s, struct kv_url *u)
{
	size_t alen = strcspn(s, "/?#");
	const char *at = NULL, *p, *rest = s + alen;
	int rc;

	for (p = s; p < s + alen; p++)
		if (*p == '@')
			at = p;
	if (at) {
		rc = parse_userinfo(s, (size_t)(at - s), u);
		if (rc)
			return rc;
		s = at + 1;
		alen = (size_t)(rest - s);
	}
	rc = parse_hostport(s, alen, u);
	if (rc)
		return rc;
	if (*rest == '\0')
		return 0;
	if (*rest != '/')
		return url_fail("unexpected", rest, (size_t)-1);
	rest++;
	u->db = (int)url_number(rest, strlen(rest), 0, KV_DB_MAX);
	if (u->db < 0)
		return url_fail("bad database number (0-1000000) in path",
		    rest, (size_t)-1);
	return 0;
}

/* redis+unix:///PATH[?db=N], after the scheme. */
static int parse_unix(const char *s, struct kv_url *u)
{
	size_t plen = strcspn(s, "?#");
	const char *q = s + plen;

	if (s[0] != '/')
		return url_fail("the path must be absolute "
		    "(redis+unix:///PATH), not", s, (size_t)-1);
	if (plen >= sizeof(u->path))
		return url_fail("socket path too long (107 bytes at most)",
		    s, 40);
	if (url_unescape(u->path, sizeof(u->path), s, plen))
		return url_fail("bad socket path", s, plen);
	if (*q == '\0')
		return 0;
	if (*q != '?' || strncmp(q + 1, "db=", 3) != 0)
		return url_fail("unexpected (only ?db=N may follow the path)",
		    q, (size_t)-1);
	u->db = (int)url_number(q + 4, strlen(q + 4), 0, KV_DB_MAX);
	if (u->db < 0)
		return url_fail("bad database number (0-1000000) in", q,
		    (size_t)-1);
	return 0;
}

static void url_make_shown(struct kv_url *u)
{
	char user[300], host[300];

	if (u->is_unix) {
		log_str(host, sizeof(host), u->path);
		snprintf(u->shown, sizeof(u->shown), "redis+unix://%s?db=%d",
		    host, u->db);
		return;
	}
	log_str(user, sizeof(user), u->user);
	snprintf(host, sizeof(host), strchr(u->host, ':') ? "[%s]" : "%s",
	    u->host);
	snprintf(u->shown, sizeof(u->shown), "redis://%s%s%s%s:%d/%d",
	    u->has_auth ? user : "", u->has_auth ? ":***" : "",
	    u->has_auth ? "@" : "", host, u->port, u->db);
}

/* Parse a store URL (kv.h). */
int kv_url_parse(const char *url, struct kv_url *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (url == NULL || url[0] == '\0')
		return certo_fail(CERTO_EUSAGE, "store URL: empty");
	if (strlen(url) > KV_URL_MAX)
		return certo_fail(CERTO_EUSAGE,
		    "store URL: over %d bytes", KV_URL_MAX);
	if (strncmp(url, KV_URL_TCP, strlen(KV_URL_TCP)) == 0) {
		rc = parse_tcp(url + strlen(KV_URL_TCP), out);
	} else if (strncmp(url, KV_URL_UNIX, strlen(KV_URL_UNIX)) == 0) {
		out->is_unix = 1;
		rc = parse_unix(url + strlen(KV_URL_UNIX), out);
	} else {
		const char *colon = strstr(url, "://");

		return url_fail("unknown scheme (redis:// or "
		    "redis+unix:///PATH)", url,
		    colon ? (size_t)(colon - url) : (size_t)-1);
	}
	if (rc) {
		kv_url_wipe(out);
		return rc;
	}
	url_make_shown(out);
	return 0;
}

/* Overwrite the credentials (kv.h). */
void kv_url_wipe(struct kv_url *url)
{
	volatile char *p = url->password;
	size_t i;

	for (i = 0; i < sizeof(url->password); i++)
		p[i] = 0;
}
