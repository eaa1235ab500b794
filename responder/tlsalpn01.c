/*
 * TLS-ALPN-01 responder: one thread, one epoll loop, non-blocking
 * sockets.  Each connection first has its ClientHello read and parsed
 * here (tlsalpn01_parse_hello); only a hello that offers acme-tls/1
 * with the SNI of a live token reaches GnuTLS, which gets those bytes
 * replayed through its pull function.  Everything else is refused with
 * an alert or, with a proxy, spliced untouched to the backend.
 */
#include "tlsalpn01.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alpncert.h"
#include "backend.h"
#include "connlimit.h"
#include "errors.h"
#include "listen.h"
#include "log.h"
#include "tokens.h"

#define ACME_TLS_1 "acme-tls/1"
#define ACME_TLS_1_LEN 10
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_TIMEOUT_S 10
#define PROXY_IDLE_S 300    /* spliced: only reap dead peers */
#define PEEK_FIRST 1024     /* first ClientHello buffer, grows to the cap */
#define SPLICE_BUF 16384    /* per direction */
#define DRAIN_MAX 65536     /* discarded while waiting for the peer's FIN */
#define TICK_MS 250
#define CACHE_SWEEP_MS 1000
#define MAX_EVENTS 64
#define ACCEPT_BURST 64
#define RECORD_MAX 16384    /* TLSPlaintext.length limit (RFC 8446 5.1) */
#define WARN_EVERY_MS 10000 /* refused connections: one warning per period */

/* The ClientHello read so far becomes the first bytes for the backend. */
_Static_assert(SPLICE_BUF >= TLSALPN01_MAX_HELLO, "splice buffer too small");

/* TLS alert descriptions (RFC 8446 section 6). */
#define ALERT_HANDSHAKE_FAILURE 40
#define ALERT_UNRECOGNIZED_NAME 112
#define ALERT_NO_APPLICATION_PROTOCOL 120

enum ep_kind { EP_LISTEN, EP_WAKE, EP_RESOLVED, EP_CLIENT, EP_BACKEND };

struct conn;

/* What an epoll registration points at. */
struct ep {
	enum ep_kind kind;
	int fd;
	uint32_t mask;      /* events registered; 0: not in the set */
	struct conn *c;
};

enum conn_state {
	ST_PEEK,            /* reading the ClientHello */
	ST_TLS,             /* GnuTLS handshake, validation certificate */
	ST_BYE,             /* sending close_notify */
	ST_DRAIN,           /* our side shut; waiting for the peer's FIN */
	ST_RESOLVE,         /* proxy: waiting for the backend's address */
	ST_CONNECT,         /* proxy: connecting to the backend */
	ST_SPLICE,          /* proxy: copying bytes both ways */
	ST_DEAD,            /* closed; freed after this batch of events */
};

/* One direction of a spliced connection. */
struct pipe {
	unsigned char *buf; /* SPLICE_BUF bytes */
	size_t start, end;
	int eof;            /* the source sent its FIN */
	int shut;           /* and it was passed on */
};

/* A validation certificate, built once per (identifier, keyauth). */
struct cert_entry {
	struct cert_entry *next;
	char *ident;
	char *keyauth;
	struct alpn_cert cert;
	unsigned refs;      /* sessions holding cert.cred */
	int stale;          /* its token is gone: never handed out again */
};

struct conn {
	struct conn *prev, *next;
	struct tlsalpn01_server *srv;
	enum conn_state state;
	struct ep cl, be;   /* client, backend */
	struct connlimit_key key;   /* counted in srv->limit under this */
	int64_t deadline;   /* monotonic ms */
	unsigned char *in;  /* ClientHello bytes read so far */
	size_t inlen, incap;
	size_t replay;      /* bytes of in already handed to GnuTLS */
	size_t drained;
	struct tlsalpn01_hello hello;
	char ident[TOKENS_MAX_IDENT + 1];
	gnutls_session_t sess;
	struct cert_entry *cert;
	struct pipe up, down;   /* client to backend, backend to client */
};

struct tlsalpn01_server {
	struct token_table *tokens;
	unsigned short port;
	unsigned max_conns;
	unsigned timeout_s;
	int rsa;
	int epfd;
	struct ep lis, wake;
	struct ep resolved; /* eventfd: the backend resolver finished a lookup */
	int paused;         /* out of descriptors: accept again next tick */
	struct connlimit *limit;
	int64_t warn_at;    /* next warning about refused connections */
	unsigned refused;   /* refused since the last warning */
	gnutls_priority_t prio;
	struct backend *backend;    /* --tls-proxy, or NULL */
	pthread_t thread;
	int running;
	struct conn *conns; /* live */
	struct conn *dead;  /* closed during this batch */
	unsigned nconns;
	struct cert_entry *certs;
};

/* ---- ClientHello parsing: pure, bounds-checked ---- */

struct rd {
	const unsigned char *p;
	size_t n;
};

static int
rd_u8(struct rd *r, unsigned *v)
{
	if (r->n < 1)
		return -1;
	*v = r->p[0];
	r->p++;
	r->n--;
	return 0;
}

static int
rd_u16(struct rd *r, unsigned *v)
{
	if (r->n < 2)
		return -1;
	*v = (unsigned)r->p[0] << 8 | r->p[1];
	r->p += 2;
	r->n -= 2;
	return 0;
}

static int
rd_sub(struct rd *r, size_t len, struct rd *sub)
{
	if (r->n < len)
		return -1;
	sub->p = r->p;
	sub->n = len;
	r->p += len;
	r->n -= len;
	return 0;
}

static int
rd_vec8(struct rd *r, struct rd *sub)
{
	unsigned l;

	return rd_u8(r, &l) != 0 ? -1 : rd_sub(r, l, sub);
}

static int
rd_vec16(struct rd *r, struct rd *sub)
{
	unsigned l;

	return rd_u16(r, &l) != 0 ? -1 : rd_sub(r, l, sub);
}

/* server_name (RFC 6066 section 3): keep one LDH host_name. */
static int
parse_sni(struct rd ext, struct tlsalpn01_hello *h)
{
	struct rd list, name;
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
		if (name.n >= sizeof(h->sni))
			continue;
		ok = 1;
		for (size_t i = 0; i < name.n && ok; i++) {
			unsigned char ch = name.p[i];
			if (ch >= 'A' && ch <= 'Z')
				ch = (unsigned char)(ch - 'A' + 'a');
			ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' &&
			    ch <= '9') || ch == '-' || ch == '.';
			h->sni[i] = (char)ch;
		}
		h->sni[ok ? name.n : 0] = '\0';
	}
	return 0;
}

/* application_layer_protocol_negotiation (RFC 7301 section 3.1). */
static int
parse_alpn(struct rd ext, struct tlsalpn01_hello *h)
{
	struct rd list, proto;

	if (rd_vec16(&ext, &list) != 0 || ext.n != 0 || list.n == 0)
		return CERTO_EPROTO;
	h->alpn = 1;
	while (list.n > 0) {
		if (rd_vec8(&list, &proto) != 0 || proto.n == 0)
			return CERTO_EPROTO;
		if (proto.n == ACME_TLS_1_LEN &&
		    memcmp(proto.p, ACME_TLS_1, ACME_TLS_1_LEN) == 0)
			h->acme = 1;
	}
	return 0;
}

/* The ClientHello body (RFC 8446 section 4.1.2). */
static int
parse_body(struct rd b, struct tlsalpn01_hello *h)
{
	struct rd skip, sid, suites, comp, exts, data;
	unsigned version, type;
	int seen_sni = 0, seen_alpn = 0, rc;

	if (rd_u16(&b, &version) != 0 || rd_sub(&b, 32, &skip) != 0 ||
	    rd_vec8(&b, &sid) != 0 || sid.n > 32 ||
	    rd_vec16(&b, &suites) != 0 || suites.n < 2 || suites.n % 2 != 0 ||
	    rd_vec8(&b, &comp) != 0 || comp.n < 1)
		return CERTO_EPROTO;
	if (b.n == 0)
		return 1;   /* no extensions at all */
	if (rd_vec16(&b, &exts) != 0 || b.n != 0)
		return CERTO_EPROTO;
	while (exts.n > 0) {
		if (rd_u16(&exts, &type) != 0 || rd_vec16(&exts, &data) != 0)
			return CERTO_EPROTO;
		rc = 0;
		if (type == 0)
			rc = seen_sni++ ? CERTO_EPROTO : parse_sni(data, h);
		else if (type == 16)
			rc = seen_alpn++ ? CERTO_EPROTO : parse_alpn(data, h);
		if (rc != 0)
			return rc;
	}
	return 1;
}

/*
 * Reassemble the ClientHello from its handshake records and parse it.
 * See tlsalpn01.h for the contract.
 */
int
tlsalpn01_parse_hello(const unsigned char *buf, size_t len,
    struct tlsalpn01_hello *h)
{
	unsigned char hs[TLSALPN01_MAX_HELLO];
	size_t off = 0, hl = 0, need = 0, rl;
	struct rd body;

	memset(h, 0, sizeof(*h));
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
		if (off + 5 + rl > TLSALPN01_MAX_HELLO)
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
			if (need + 5 > TLSALPN01_MAX_HELLO)
				return CERTO_ETOOBIG;
		}
	}
	body.p = hs + 4;
	body.n = need - 4;
	return parse_body(body, h);
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

/* Map an SNI name to its token identifier; see tlsalpn01.h. */
int
tlsalpn01_sni_ident(const char *sni, char *out, size_t outlen)
{
	unsigned char a[16];
	size_t n = strlen(sni), pre, i, j;
	const char *dot;

	if (ends_with(sni, n, ".in-addr.arpa", &pre)) {
		/* d.c.b.a.in-addr.arpa stands for a.b.c.d */
		for (i = 0, j = 0; j < 4; j++) {
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
	if (ends_with(sni, n, ".ip6.arpa", &pre)) {
		/* 32 nibbles, least significant first */
		if (pre != 63)
			return CERTO_EIDENT;
		memset(a, 0, sizeof(a));
		for (i = 0; i < 32; i++) {
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
	if (n == 0 || n >= outlen || inet_pton(AF_INET, sni, a) == 1)
		return CERTO_EIDENT;
	memcpy(out, sni, n + 1);
	return 0;
}

/* ---- the event loop ---- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Register e for mask (0: remove from the set). */
static int
ep_set(struct tlsalpn01_server *s, struct ep *e, uint32_t mask)
{
	struct epoll_event ev;
	int op;

	if (mask == e->mask)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = mask;
	ev.data.ptr = e;
	op = mask == 0 ? EPOLL_CTL_DEL : e->mask == 0 ? EPOLL_CTL_ADD :
	    EPOLL_CTL_MOD;
	if (epoll_ctl(s->epfd, op, e->fd, &ev) != 0)
		return -1;
	e->mask = mask;
	return 0;
}

static void
cert_entry_free(struct cert_entry *e)
{
	alpncert_free(&e->cert);
	free(e->ident);
	if (e->keyauth) {
		memset(e->keyauth, 0, strlen(e->keyauth));
		free(e->keyauth);
	}
	free(e);
}

/* Free stale certificates no session holds any more. */
static void
cache_reap(struct tlsalpn01_server *s)
{
	struct cert_entry **pp = &s->certs, *e;

	while ((e = *pp) != NULL) {
		if (e->stale && e->refs == 0) {
			*pp = e->next;
			cert_entry_free(e);
		} else
			pp = &e->next;
	}
}

/*
 * The certificate for ident's current token, built on first use; NULL
 * (with *gerr set) when the token is gone or building failed.  A cached
 * certificate whose token vanished or changed is marked stale here.
 */
static struct cert_entry *
cache_get(struct tlsalpn01_server *s, const char *ident, int *gerr)
{
	char ka[TOKENS_MAX_KEYAUTH + 1];
	struct cert_entry *e, *found = NULL;
	long n;

	n = tokens_lookup_alpn(s->tokens, ident, ka, sizeof(ka));
	for (e = s->certs; e != NULL; e = e->next)
		if (!e->stale && strcmp(e->ident, ident) == 0) {
			if (n >= 0 && strcmp(e->keyauth, ka) == 0)
				found = e;
			else
				e->stale = 1;
		}
	cache_reap(s);
	*gerr = GNUTLS_E_UNRECOGNIZED_NAME;
	if (n < 0 || found != NULL)
		goto out;
	*gerr = GNUTLS_E_INTERNAL_ERROR;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->ident = strdup(ident)) == NULL ||
	    (e->keyauth = strdup(ka)) == NULL ||
	    alpncert_make(ident, ka, s->rsa, &e->cert) != 0) {
		log_warn("TLS-ALPN-01: no validation certificate for %s: %s",
		    ident, certo_errmsg() ? certo_errmsg() : "out of memory");
		certo_errclear();
		if (e != NULL)
			cert_entry_free(e);
		goto out;
	}
	e->next = s->certs;
	s->certs = e;
	found = e;
out:
	memset(ka, 0, sizeof(ka));
	return found;
}

/* Drop certificates whose token was removed, replaced or expired. */
static void
cache_sweep(struct tlsalpn01_server *s)
{
	char ka[TOKENS_MAX_KEYAUTH + 1];
	struct cert_entry *e;

	for (e = s->certs; e != NULL; e = e->next)
		if (!e->stale && (tokens_lookup_alpn(s->tokens, e->ident, ka,
		    sizeof(ka)) < 0 || strcmp(ka, e->keyauth) != 0))
			e->stale = 1;
	memset(ka, 0, sizeof(ka));
	cache_reap(s);
}

static void
cert_unref(struct tlsalpn01_server *s, struct cert_entry *e)
{
	if (e == NULL)
		return;
	e->refs--;
	if (e->stale && e->refs == 0)
		cache_reap(s);
}

/* Release the TLS session and everything read so far. */
static void
conn_release_tls(struct conn *c)
{
	if (c->sess) {
		gnutls_deinit(c->sess);
		c->sess = NULL;
	}
	/* Only after gnutls_deinit: the session pointed at cert.cred. */
	cert_unref(c->srv, c->cert);
	c->cert = NULL;
	free(c->in);
	c->in = NULL;
	c->inlen = c->incap = c->replay = 0;
}

/* Close a connection; its memory is freed after the current batch. */
static void
conn_close(struct conn *c)
{
	struct tlsalpn01_server *s = c->srv;

	if (c->state == ST_DEAD)
		return;
	conn_release_tls(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->state = ST_DEAD;
	c->next = s->dead;
	c->prev = NULL;
	s->dead = c;
	s->nconns--;
	connlimit_release(s->limit, &c->key);
	/* close() also takes the descriptors out of the epoll set. */
	if (c->cl.fd >= 0)
		close(c->cl.fd);
	if (c->be.fd >= 0)
		close(c->be.fd);
	c->cl.fd = c->be.fd = -1;
	free(c->up.buf);
	free(c->down.buf);
	c->up.buf = c->down.buf = NULL;
}

static void
reap_dead(struct tlsalpn01_server *s)
{
	struct conn *c;

	while ((c = s->dead) != NULL) {
		s->dead = c->next;
		free(c);
	}
}

/* Our side is done: shut writes, wait (bounded) for the peer's FIN. */
static void
drain_begin(struct conn *c)
{
	conn_release_tls(c);
	shutdown(c->cl.fd, SHUT_WR);
	c->state = ST_DRAIN;
	c->drained = 0;
	if (ep_set(c->srv, &c->cl, EPOLLIN) != 0)
		conn_close(c);
}

static void
drain_step(struct conn *c)
{
	unsigned char junk[4096];
	ssize_t n;

	for (;;) {
		n = recv(c->cl.fd, junk, sizeof(junk), 0);
		if (n > 0) {
			c->drained += (size_t)n;
			if (c->drained <= DRAIN_MAX)
				continue;
		} else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(c);
		return;
	}
}

/* Refuse with a fatal alert (a plaintext record: no handshake happened). */
static void
refuse(struct conn *c, unsigned char desc)
{
	unsigned char alert[7] = { 21, 3, 3, 0, 2, 2, 0 };

	alert[6] = desc;
	/* Best effort: an empty socket buffer always takes 7 bytes. */
	if (send(c->cl.fd, alert, sizeof(alert), MSG_NOSIGNAL) < 0)
		log_debug("TLS-ALPN-01: alert not sent: %s", strerror(errno));
	drain_begin(c);
}

/* ---- our own handshakes ---- */

static ssize_t
tls_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct conn *c = p;
	size_t n;
	ssize_t r;

	/* First the ClientHello bytes we already read, then the socket. */
	if (c->replay < c->inlen) {
		n = c->inlen - c->replay < len ? c->inlen - c->replay : len;
		memcpy(data, c->in + c->replay, n);
		c->replay += n;
		return (ssize_t)n;
	}
	r = recv(c->cl.fd, data, len, 0);
	if (r < 0)
		gnutls_transport_set_errno(c->sess, errno);
	return r;
}

static ssize_t
tls_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct conn *c = p;
	ssize_t r;

	r = send(c->cl.fd, data, len, MSG_NOSIGNAL);
	if (r < 0)
		gnutls_transport_set_errno(c->sess, errno);
	return r;
}

static int
tls_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	struct conn *c = p;
	struct pollfd pfd;

	(void)ms;   /* never wait: this thread serves everyone */
	if (c->replay < c->inlen)
		return 1;
	pfd.fd = c->cl.fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0);
}

/*
 * GnuTLS has parsed the ClientHello and agreed on ALPN; nothing has been
 * sent yet.  Only now is a validation certificate chosen: ALPN must be
 * acme-tls/1, the name GnuTLS read must be the one we peeked, and the
 * token must still be there (its current key authorization).
 */
static int
on_client_hello(gnutls_session_t sess)
{
	struct conn *c = gnutls_session_get_ptr(sess);
	struct cert_entry *e;
	gnutls_datum_t p;
	char name[sizeof(c->hello.sni) + 2];
	size_t nl = sizeof(name);
	unsigned type;
	int gerr;

	if (gnutls_alpn_get_selected_protocol(sess, &p) != 0 ||
	    p.size != ACME_TLS_1_LEN ||
	    memcmp(p.data, ACME_TLS_1, ACME_TLS_1_LEN) != 0)
		return GNUTLS_E_NO_APPLICATION_PROTOCOL;
	if (gnutls_server_name_get(sess, name, &nl, &type, 0) != 0 ||
	    type != GNUTLS_NAME_DNS || strcasecmp(name, c->hello.sni) != 0)
		return GNUTLS_E_UNRECOGNIZED_NAME;
	if ((e = cache_get(c->srv, c->ident, &gerr)) == NULL)
		return gerr;
	/* A second ClientHello (after HelloRetryRequest) comes here again. */
	e->refs++;
	cert_unref(c->srv, c->cert);
	c->cert = e;
	return gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, e->cert.cred);
}

static void
tls_step(struct conn *c)
{
	gnutls_datum_t p;
	char shown[128];
	int ret;

	ret = gnutls_handshake(c->sess);
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
		if (ep_set(c->srv, &c->cl, gnutls_record_get_direction(c->sess) ?
		    EPOLLOUT : EPOLLIN) != 0)
			conn_close(c);
		return;
	}
	log_sanitize(shown, sizeof(shown), c->hello.sni, (size_t)-1);
	if (ret < 0) {
		log_debug("TLS-ALPN-01: handshake for %s failed: %s", shown,
		    gnutls_strerror(ret));
		gnutls_alert_send_appropriate(c->sess, ret);
		drain_begin(c);
		return;
	}
	/* Belt and braces: the certificate went out only for acme-tls/1. */
	if (gnutls_alpn_get_selected_protocol(c->sess, &p) != 0 ||
	    p.size != ACME_TLS_1_LEN ||
	    memcmp(p.data, ACME_TLS_1, ACME_TLS_1_LEN) != 0) {
		log_warn("TLS-ALPN-01: handshake for %s ended without "
		    "acme-tls/1", shown);
		conn_close(c);
		return;
	}
	log_debug("TLS-ALPN-01: presented the validation certificate for %s",
	    c->ident);
	c->state = ST_BYE;
	ret = gnutls_bye(c->sess, GNUTLS_SHUT_WR);
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
		if (ep_set(c->srv, &c->cl, EPOLLOUT) != 0)
			conn_close(c);
		return;
	}
	drain_begin(c);
}

static void
bye_step(struct conn *c)
{
	int ret = gnutls_bye(c->sess, GNUTLS_SHUT_WR);

	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return;
	drain_begin(c);
}

static void
tls_begin(struct conn *c)
{
	struct tlsalpn01_server *s = c->srv;
	gnutls_datum_t proto = { (unsigned char *)(uintptr_t)ACME_TLS_1,
		ACME_TLS_1_LEN };
	int ret;

	if ((ret = gnutls_init(&c->sess, GNUTLS_SERVER | GNUTLS_NONBLOCK |
	    GNUTLS_NO_TICKETS)) < 0 ||
	    (ret = gnutls_priority_set(c->sess, s->prio)) < 0 ||
	    (ret = gnutls_alpn_set_protocols(c->sess, &proto, 1,
	    GNUTLS_ALPN_MANDATORY)) < 0) {
		log_warn("TLS-ALPN-01: cannot set up a TLS session: %s",
		    gnutls_strerror(ret));
		conn_close(c);
		return;
	}
	gnutls_handshake_set_post_client_hello_function(c->sess,
	    on_client_hello);
	gnutls_session_set_ptr(c->sess, c);
	gnutls_transport_set_ptr(c->sess, c);
	gnutls_transport_set_pull_function(c->sess, tls_pull);
	gnutls_transport_set_pull_timeout_function(c->sess, tls_pull_timeout);
	gnutls_transport_set_push_function(c->sess, tls_push);
	c->state = ST_TLS;
	tls_step(c);
}

/* ---- proxy mode ---- */

/* Move what can be moved from src to dst; -1 on a socket error. */
static int
pipe_move(struct pipe *p, int src, int dst, int *progress)
{
	ssize_t n;

	while (!p->eof && p->end < SPLICE_BUF) {
		n = recv(src, p->buf + p->end, SPLICE_BUF - p->end, 0);
		if (n > 0) {
			p->end += (size_t)n;
			*progress = 1;
		} else if (n == 0)
			p->eof = 1;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		else if (errno != EINTR)
			return -1;
	}
	while (p->start < p->end) {
		n = send(dst, p->buf + p->start, p->end - p->start,
		    MSG_NOSIGNAL);
		if (n > 0) {
			p->start += (size_t)n;
			*progress = 1;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else if (n < 0 && errno != EINTR)
			return -1;
	}
	if (p->start == p->end)
		p->start = p->end = 0;
	else if (p->end == SPLICE_BUF && p->start > 0) {
		memmove(p->buf, p->buf + p->start, p->end - p->start);
		p->end -= p->start;
		p->start = 0;
	}
	if (p->eof && p->start == p->end && !p->shut) {
		shutdown(dst, SHUT_WR);
		p->shut = 1;
	}
	return 0;
}

static void
splice_step(struct conn *c)
{
	struct tlsalpn01_server *s = c->srv;
	uint32_t cm, bm;
	int progress = 0;

	if (pipe_move(&c->up, c->cl.fd, c->be.fd, &progress) != 0 ||
	    pipe_move(&c->down, c->be.fd, c->cl.fd, &progress) != 0 ||
	    (c->up.shut && c->down.shut)) {
		conn_close(c);
		return;
	}
	if (progress)
		c->deadline = now_ms() + (int64_t)PROXY_IDLE_S * 1000;
	/*
	 * Read only into free space, write only pending bytes: a slow side
	 * stalls its own connection and nothing else.  A side with nothing
	 * to wait for leaves the epoll set, so a hang-up cannot spin.
	 */
	cm = (!c->up.eof && c->up.end < SPLICE_BUF ? EPOLLIN : 0) |
	    (c->down.start < c->down.end ? EPOLLOUT : 0);
	bm = (!c->down.eof && c->down.end < SPLICE_BUF ? EPOLLIN : 0) |
	    (c->up.start < c->up.end ? EPOLLOUT : 0);
	if (ep_set(s, &c->cl, cm) != 0 || ep_set(s, &c->be, bm) != 0)
		conn_close(c);
}

static void
connect_step(struct conn *c)
{
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(c->be.fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err != 0) {
		log_debug("TLS-ALPN-01: proxy backend: %s", strerror(err));
		conn_close(c);
		return;
	}
	c->state = ST_SPLICE;
	c->deadline = now_ms() + (int64_t)PROXY_IDLE_S * 1000;
	splice_step(c);
}

/* Connect to the backend once its address is known. */
static void
proxy_connect(struct conn *c)
{
	struct tlsalpn01_server *s = c->srv;
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;

	if (backend_get(s->backend, &sa, &salen) != 0) {
		/* Asked for; EP_RESOLVED brings us back, the deadline ends it. */
		c->state = ST_RESOLVE;
		return;
	}
	if ((fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		log_debug("TLS-ALPN-01: proxy backend: socket: %s",
		    strerror(errno));
		conn_close(c);
		return;
	}
	c->be.fd = fd;
	if (connect(fd, (struct sockaddr *)&sa, salen) == 0) {
		connect_step(c);
		return;
	}
	if (errno != EINPROGRESS) {
		log_debug("TLS-ALPN-01: proxy backend %s: %s",
		    backend_spec(s->backend), strerror(errno));
		conn_close(c);
		return;
	}
	c->state = ST_CONNECT;
	if (ep_set(s, &c->be, EPOLLOUT) != 0)
		conn_close(c);
}

static void
proxy_begin(struct conn *c)
{
	struct tlsalpn01_server *s = c->srv;

	c->up.buf = malloc(SPLICE_BUF);
	c->down.buf = malloc(SPLICE_BUF);
	if (c->up.buf == NULL || c->down.buf == NULL) {
		conn_close(c);
		return;
	}
	/* The ClientHello goes first, exactly as it came. */
	memcpy(c->up.buf, c->in, c->inlen);
	c->up.end = c->inlen;
	conn_release_tls(c);
	c->deadline = now_ms() + (int64_t)s->timeout_s * 1000;
	if (ep_set(s, &c->cl, 0) != 0) {
		conn_close(c);
		return;
	}
	proxy_connect(c);
}

/* A lookup finished: connections waiting for the address go on. */
static void
resolved(struct tlsalpn01_server *s)
{
	struct conn *c, *next;
	uint64_t v;

	while (read(s->resolved.fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == ST_RESOLVE)
			proxy_connect(c);
	}
}

/* Called by the resolver thread after each lookup. */
static void
resolved_notify(void *arg)
{
	struct tlsalpn01_server *s = arg;
	uint64_t one = 1;

	while (write(s->resolved.fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* ---- reading the ClientHello and deciding ---- */

static void
decide(struct conn *c)
{
	struct tlsalpn01_server *s = c->srv;
	const struct tlsalpn01_hello *h = &c->hello;
	char ka[TOKENS_MAX_KEYAUTH + 1];
	int ours;

	ours = h->acme && h->sni[0] != '\0' &&
	    tlsalpn01_sni_ident(h->sni, c->ident, sizeof(c->ident)) == 0 &&
	    tokens_lookup_alpn(s->tokens, c->ident, ka, sizeof(ka)) >= 0;
	memset(ka, 0, sizeof(ka));
	if (ours)
		tls_begin(c);
	else if (s->backend != NULL)
		proxy_begin(c);
	else
		refuse(c, !h->alpn ? ALERT_HANDSHAKE_FAILURE : h->acme ?
		    ALERT_UNRECOGNIZED_NAME : ALERT_NO_APPLICATION_PROTOCOL);
}

static void
peek_step(struct conn *c)
{
	unsigned char *nb;
	size_t ncap;
	ssize_t n;
	int r;

	for (;;) {
		if (c->inlen == c->incap) {
			if (c->incap >= TLSALPN01_MAX_HELLO)
				break;
			ncap = c->incap ? c->incap * 2 : PEEK_FIRST;
			if (ncap > TLSALPN01_MAX_HELLO)
				ncap = TLSALPN01_MAX_HELLO;
			if ((nb = realloc(c->in, ncap)) == NULL)
				break;
			c->in = nb;
			c->incap = ncap;
		}
		n = recv(c->cl.fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		c->inlen += (size_t)n;
		r = tlsalpn01_parse_hello(c->in, c->inlen, &c->hello);
		if (r == 1) {
			decide(c);
			return;
		}
		if (r < 0) {
			log_debug("TLS-ALPN-01: dropped a connection: %s",
			    r == CERTO_ETOOBIG ? "ClientHello too large" :
			    "not a TLS ClientHello");
			break;
		}
	}
	conn_close(c);
}

/* One warning per WARN_EVERY_MS about refused connections. */
static void
warn_refused(struct tlsalpn01_server *s, enum connlimit_verdict v,
    const struct connlimit_key *key)
{
	char addr[64];
	int64_t now = now_ms();

	s->refused++;
	if (now < s->warn_at)
		return;
	connlimit_key_str(key, addr, sizeof(addr));
	if (v == CONNLIMIT_ADDR)
		log_warn("TLS-ALPN-01: refused %u connection(s), the last from "
		    "%s, which has %u open (--max-conns-per-ip)", s->refused,
		    addr, connlimit_count(s->limit, key));
	else
		log_warn("TLS-ALPN-01: refused %u connection(s): %u open "
		    "(--max-conns)", s->refused, connlimit_total(s->limit));
	s->refused = 0;
	s->warn_at = now + WARN_EVERY_MS;
}

static void
accept_some(struct tlsalpn01_server *s)
{
	struct sockaddr_storage ss;
	struct connlimit_key key;
	enum connlimit_verdict v;
	socklen_t sl;
	struct conn *c;
	int fd, one = 1;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		sl = sizeof(ss);
		fd = accept4(s->lis.fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Stop polling the listener until the next tick. */
				if (now_ms() >= s->warn_at) {
					log_warn("TLS-ALPN-01: accept: %s; pausing",
					    strerror(errno));
					s->warn_at = now_ms() + WARN_EVERY_MS;
				}
				if (ep_set(s, &s->lis, 0) == 0)
					s->paused = 1;
			}
			return;
		}
		if ((v = connlimit_acquire(s->limit, (struct sockaddr *)&ss, sl,
		    &key)) != CONNLIMIT_OK) {
			close(fd);
			warn_refused(s, v, &key);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			connlimit_release(s->limit, &key);
			close(fd);
			continue;
		}
		/* A TLS flight is several small records: send each at once
		 * instead of waiting for the peer's delayed ACK. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->srv = s;
		c->state = ST_PEEK;
		c->key = key;
		c->cl.kind = EP_CLIENT;
		c->cl.fd = fd;
		c->cl.c = c;
		c->be.kind = EP_BACKEND;
		c->be.fd = -1;
		c->be.c = c;
		c->deadline = now_ms() + (int64_t)s->timeout_s * 1000;
		if (ep_set(s, &c->cl, EPOLLIN) != 0) {
			connlimit_release(s->limit, &key);
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
	}
}

static void
conn_event(struct conn *c, struct ep *e)
{
	switch (c->state) {
	case ST_PEEK:
		peek_step(c);
		break;
	case ST_TLS:
		tls_step(c);
		break;
	case ST_BYE:
		bye_step(c);
		break;
	case ST_DRAIN:
		drain_step(c);
		break;
	case ST_RESOLVE:
		break;
	case ST_CONNECT:
		if (e == &c->be)
			connect_step(c);
		break;
	case ST_SPLICE:
		splice_step(c);
		break;
	case ST_DEAD:
		break;
	}
}

/* Close connections past their deadline. */
static void
expire(struct tlsalpn01_server *s, int64_t now)
{
	struct conn *c, *next;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->deadline <= now) {
			if (c->state == ST_RESOLVE)
				log_debug("TLS-ALPN-01: proxy backend %s did not "
				    "resolve in time", backend_spec(s->backend));
			else
				log_debug("TLS-ALPN-01: connection timed out");
			conn_close(c);
		}
	}
	reap_dead(s);
}

static void *
loop(void *arg)
{
	struct tlsalpn01_server *s = arg;
	struct epoll_event ev[MAX_EVENTS];
	int64_t now, next_tick = 0, next_sweep = 0;
	int n, stop = 0;

	while (!stop) {
		n = epoll_wait(s->epfd, ev, MAX_EVENTS, TICK_MS);
		if (n < 0 && errno != EINTR) {
			log_error("TLS-ALPN-01: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct ep *e = ev[i].data.ptr;
			if (e->kind == EP_WAKE)
				stop = 1;
			else if (e->kind == EP_RESOLVED)
				resolved(s);
			else if (e->kind == EP_LISTEN)
				accept_some(s);
			else
				conn_event(e->c, e);
		}
		reap_dead(s);
		now = now_ms();
		if (now >= next_tick) {
			expire(s, now);
			if (s->paused && ep_set(s, &s->lis, EPOLLIN) == 0)
				s->paused = 0;
			next_tick = now + TICK_MS;
		}
		if (now >= next_sweep) {
			cache_sweep(s);
			next_sweep = now + CACHE_SWEEP_MS;
		}
	}
	return NULL;
}

/*
 * Bind, prepare and start the event-loop thread.  See tlsalpn01.h.
 * On failure nothing is left running; *out is NULL.
 */
int
tlsalpn01_start(const struct tlsalpn01_opts *o, struct token_table *tokens,
    struct tlsalpn01_server **out)
{
	struct tlsalpn01_server *s;
	sigset_t all, old;
	int fd = -1, ret, rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CERTO_ENOMEM;
	s->tokens = tokens;
	s->max_conns = o->max_conns ? o->max_conns : DEFAULT_MAX_CONNS;
	s->timeout_s = o->timeout_s ? o->timeout_s : DEFAULT_TIMEOUT_S;
	s->rsa = o->rsa;
	s->epfd = -1;
	s->lis.kind = EP_LISTEN;
	s->lis.fd = -1;
	s->wake.kind = EP_WAKE;
	s->wake.fd = -1;
	s->resolved.kind = EP_RESOLVED;
	s->resolved.fd = -1;
	if ((rc = connlimit_new(s->max_conns, o->max_per_ip, &s->limit)) != 0)
		goto fail;
	if ((s->resolved.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = certo_fail(CERTO_EIO, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (o->proxy && (rc = backend_new(o->proxy, "--tls-proxy",
	    resolved_notify, s, &s->backend)) != 0)
		goto fail;
	if ((ret = gnutls_priority_init(&s->prio, PRIORITY, NULL)) < 0) {
		rc = certo_fail(CERTO_ETLS, "TLS priority string: %s",
		    gnutls_strerror(ret));
		goto fail;
	}
	if ((rc = listen_tcp(o->addr, o->port, "TLS-ALPN-01", "--tls-port",
	    &fd, &s->port)) != 0)
		goto fail;
	s->lis.fd = fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
	    (s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (s->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    ep_set(s, &s->lis, EPOLLIN) != 0 ||
	    ep_set(s, &s->wake, EPOLLIN) != 0 ||
	    ep_set(s, &s->resolved, EPOLLIN) != 0) {
		rc = certo_fail(CERTO_EBIND, "cannot start the TLS-ALPN-01 "
		    "server: %s", strerror(errno));
		goto fail;
	}
	/* Signals stay with the caller's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&s->thread, NULL, loop, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0) {
		rc = certo_fail(CERTO_ENOMEM, "cannot start the TLS-ALPN-01 "
		    "thread: %s", strerror(ret));
		goto fail;
	}
	s->running = 1;
	*out = s;
	return 0;
fail:
	tlsalpn01_stop(s);
	return rc;
}

/* The port bound (useful after asking for port 0). */
unsigned short
tlsalpn01_port(const struct tlsalpn01_server *s)
{
	return s->port;
}

/*
 * Wake and join the thread, close every connection and free every
 * certificate.  NULL is fine.
 */
void
tlsalpn01_stop(struct tlsalpn01_server *s)
{
	uint64_t one = 1;
	struct cert_entry *e;

	if (s == NULL)
		return;
	if (s->running) {
		while (write(s->wake.fd, &one, sizeof(one)) < 0 &&
		    errno == EINTR)
			;
		pthread_join(s->thread, NULL);
	}
	/* Before the eventfd its notify writes to is closed. */
	backend_free(s->backend);
	while (s->conns != NULL)
		conn_close(s->conns);
	reap_dead(s);
	while ((e = s->certs) != NULL) {
		s->certs = e->next;
		cert_entry_free(e);
	}
	if (s->lis.fd >= 0)
		close(s->lis.fd);
	if (s->wake.fd >= 0)
		close(s->wake.fd);
	if (s->resolved.fd >= 0)
		close(s->resolved.fd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->prio)
		gnutls_priority_deinit(s->prio);
	connlimit_free(s->limit);
	free(s);
}
