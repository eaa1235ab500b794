/* ClientHello parsing: pure and bounds-checked (see tls_hello.h). */
#include "tls_hello.h"

#include <arpa/inet.h>
#include <string.h>

#include "domain.h"
#include "errors.h"

#define RECORD_MAX 16384    /* TLSPlaintext.length limit (RFC 8446 5.1) */
#define EXT_SERVER_NAME 0
#define EXT_ALPN 16

/* A cursor over the bytes not read yet. */
struct reader {
	const unsigned char *p;
	size_t n;
};

static int
rd_u8(struct reader *rd, unsigned *v)
{
	if (rd->n < 1)
		return -1;
	*v = rd->p[0];
	rd->p++;
	rd->n--;
	return 0;
}

static int
rd_u16(struct reader *rd, unsigned *v)
{
	if (rd->n < 2)
		return -1;
	*v = (unsigned)rd->p[0] << 8 | rd->p[1];
	rd->p += 2;
	rd->n -= 2;
	return 0;
}

static int
rd_sub(struct reader *rd, size_t len, struct reader *sub)
{
	if (rd->n < len)
		return -1;
	sub->p = rd->p;
	sub->n = len;
	rd->p += len;
	rd->n -= len;
	return 0;
}

static int
rd_vec8(struct reader *rd, struct reader *sub)
{
	unsigned l;

	return rd_u8(rd, &l) != 0 ? -1 : rd_sub(rd, l, sub);
}

static int
rd_vec16(struct reader *rd, struct reader *sub)
{
	unsigned l;

	return rd_u16(rd, &l) != 0 ? -1 : rd_sub(rd, l, sub);
}

/* server_name (RFC 6066 section 3): keep one LDH host_name. */
static int
parse_sni(struct reader ext, struct tls_hello *hello)
{
	struct reader list, name;
	unsigned type;
	int seen = 0, ok;

	if (rd_vec16(&ext, &list) != 0 || ext.n != 0 || list.n == 0)
		return CERTO_EPROTO;
	while (list.n > 0) {
		if (rd_u8(&list, &type) != 0 || rd_vec16(&list, &name) != 0 ||
		    name.n == 0)
			return CERTO_EPROTO;
		if (type != 0)
			continue;
		if (seen++)
			return CERTO_EPROTO;
		if (name.n >= sizeof(hello->sni))
			continue;
		ok = 1;
		for (size_t i = 0; i < name.n && ok; i++) {
			unsigned char ch = name.p[i];
			if (ch >= 'A' && ch <= 'Z')
				ch = (unsigned char)(ch - 'A' + 'a');
			ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' &&
			    ch <= '9') || ch == '-' || ch == '.';
			hello->sni[i] = (char)ch;
		}
		hello->sni[ok ? name.n : 0] = '\0';
	}
	return 0;
}

/* application_layer_protocol_negotiation (RFC 7301 section 3.1). */
static int
parse_alpn(struct reader ext, struct tls_hello *hello)
{
	struct reader list, proto;

	if (rd_vec16(&ext, &list) != 0 || ext.n != 0 || list.n == 0)
		return CERTO_EPROTO;
	hello->alpn = 1;
	while (list.n > 0) {
		if (rd_vec8(&list, &proto) != 0 || proto.n == 0)
			return CERTO_EPROTO;
		if (proto.n == ALPN_ACME_TLS_1_LEN &&
		    memcmp(proto.p, ALPN_ACME_TLS_1, ALPN_ACME_TLS_1_LEN) == 0)
			hello->acme = 1;
	}
	return 0;
}

/* The ClientHello body (RFC 8446 section 4.1.2). */
static int
parse_body(struct reader body, struct tls_hello *hello)
{
	struct reader skip, sid, suites, comp, exts, data;
	unsigned version, type;
	int seen_sni = 0, seen_alpn = 0, rc;

	if (rd_u16(&body, &version) != 0 || rd_sub(&body, 32, &skip) != 0 ||
	    rd_vec8(&body, &sid) != 0 || sid.n > 32 ||
	    rd_vec16(&body, &suites) != 0 || suites.n < 2 ||
	    suites.n % 2 != 0 || rd_vec8(&body, &comp) != 0 || comp.n < 1)
		return CERTO_EPROTO;
	if (body.n == 0)
		return 1;   /* no extensions at all */
	if (rd_vec16(&body, &exts) != 0 || body.n != 0)
		return CERTO_EPROTO;
	while (exts.n > 0) {
		if (rd_u16(&exts, &type) != 0 || rd_vec16(&exts, &data) != 0)
			return CERTO_EPROTO;
		rc = 0;
		if (type == EXT_SERVER_NAME)
			rc = seen_sni++ ? CERTO_EPROTO : parse_sni(data, hello);
		else if (type == EXT_ALPN)
			rc = seen_alpn++ ? CERTO_EPROTO : parse_alpn(data, hello);
		if (rc != 0)
			return rc;
	}
	return 1;
}

/*
 * Reassemble the ClientHello from its handshake records and parse it.
 * See tls_hello.h for the contract.
 */
int
tls_hello_parse(const unsigned char *buf, size_t len, struct tls_hello *hello)
{
	unsigned char hs[TLS_HELLO_MAX];
	size_t off = 0, hl = 0, need = 0, rl;
	struct reader body;

	memset(hello, 0, sizeof(*hello));
	while (need == 0 || hl < need) {
		/* Refuse non-TLS bytes as soon as they show. */
		if (len - off >= 1 && buf[off] != 22)
			return CERTO_EPROTO;
		if (len - off >= 2 && buf[off + 1] != 3)
			return CERTO_EPROTO;
		if (len - off < 5)
			return 0;
		rl = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (rl == 0 || rl > RECORD_MAX)
			return CERTO_EPROTO;
		if (off + 5 + rl > TLS_HELLO_MAX)
			return CERTO_ETOOBIG;
		if (off + 5 + rl > len)
			return 0;
		memcpy(hs + hl, buf + off + 5, rl);
		hl += rl;
		off += 5 + rl;
		if (need == 0 && hl >= 4) {
			if (hs[0] != 1)
				return CERTO_EPROTO;    /* not client_hello */
			need = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 |
			    hs[3]);
			if (need + 5 > TLS_HELLO_MAX)
				return CERTO_ETOOBIG;
		}
	}
	body.p = hs + 4;
	body.n = need - 4;
	return parse_body(body, hello);
}

/* Parse n decimal digits (no leading zero) of at most 255. */
static int
octet(const char *s, size_t n, unsigned char *v)
{
	unsigned x = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	if (x > 255)
		return -1;
	*v = (unsigned char)x;
	return 0;
}

static int
ends_with(const char *s, size_t n, const char *suffix, size_t *prefix)
{
	size_t m = strlen(suffix);

	if (n < m || strcmp(s + n - m, suffix) != 0)
		return 0;
	*prefix = n - m;
	return 1;
}

/* "d.c.b.a" (pre bytes of sni) stands for a.b.c.d. */
static int
reverse_v4(const char *sni, size_t pre, char *out, size_t outlen)
{
	unsigned char a[4];
	const char *dot;
	size_t i = 0;

	for (size_t j = 0; j < 4; j++) {
		dot = memchr(sni + i, '.', pre - i);
		if ((dot == NULL) != (j == 3))
			return CERTO_EIDENT;
		if (octet(sni + i, (dot ? (size_t)(dot - sni) : pre) - i,
		    &a[3 - j]) != 0)
			return CERTO_EIDENT;
		i = dot ? (size_t)(dot - sni) + 1 : pre;
	}
	return inet_ntop(AF_INET, a, out, (socklen_t)outlen) ? 0 :
	    CERTO_EIDENT;
}

/* 32 nibbles (pre bytes of sni), least significant first. */
static int
reverse_v6(const char *sni, size_t pre, char *out, size_t outlen)
{
	unsigned char a[16];

	if (pre != 63)
		return CERTO_EIDENT;
	memset(a, 0, sizeof(a));
	for (size_t i = 0; i < 32; i++) {
		char ch = sni[2 * i];
		unsigned v, pos = 31 - (unsigned)i;
		if (i < 31 && sni[2 * i + 1] != '.')
			return CERTO_EIDENT;
		if (ch >= '0' && ch <= '9')
			v = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v = (unsigned)(ch - 'a' + 10);
		else
			return CERTO_EIDENT;
		a[pos / 2] |= (unsigned char)(pos % 2 ? v : v << 4);
	}
	return inet_ntop(AF_INET6, a, out, (socklen_t)outlen) ? 0 :
	    CERTO_EIDENT;
}

/* Map an SNI name to its token identifier; see tls_hello.h. */
int
tls_hello_sni_ident(const char *sni, char *out, size_t outlen)
{
	size_t n = strlen(sni), pre;
	enum ident_kind kind;

	if (ends_with(sni, n, ".in-addr.arpa", &pre))
		return reverse_v4(sni, pre, out, outlen);
	if (ends_with(sni, n, ".ip6.arpa", &pre))
		return reverse_v6(sni, pre, out, outlen);
	kind = ident_classify(sni, false, NULL, NULL);
	if (n == 0 || n >= outlen || kind == IDENT_IPV4 || kind == IDENT_IPV6)
		return CERTO_EIDENT;
	memcpy(out, sni, n + 1);
	return 0;
}
