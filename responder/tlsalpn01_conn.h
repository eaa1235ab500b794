/*
 * Internals of the TLS-ALPN-01 responder, shared by its three files and
 * by nothing else: tlsalpn01.c (the event loop: accept, read the
 * ClientHello, route, refuse, time out), tlsalpn01_acme.c (our own
 * handshakes, with the validation certificate cache) and
 * tlsalpn01_proxy.c (other TLS spliced to the --tls-proxy backend).
 * One thread runs them all, so nothing here is locked.
 */
#ifndef CERTO_TLSALPN01_CONN_H
#define CERTO_TLSALPN01_CONN_H

#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "connlimit.h"
#include "tls_hello.h"
#include "tlsalpn01.h"
#include "tokens.h"

#define SPLICE_BUF 16384    /* per direction */
#define PROXY_IDLE_S 300    /* spliced: only reap dead peers */

/* The ClientHello read so far becomes the first bytes for the backend. */
_Static_assert(SPLICE_BUF >= TLS_HELLO_MAX, "splice buffer too small");

enum ep_kind { EP_LISTEN, EP_WAKE, EP_RESOLVED, EP_CLIENT, EP_BACKEND };

struct conn;
struct cert_entry;          /* tlsalpn01_acme.c */
struct backend;

/* What an epoll registration points at. */
struct ep {
	enum ep_kind kind;
	int fd;
	uint32_t mask;      /* events registered; 0: not in the set */
	struct conn *conn;
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
struct splice_dir {
	unsigned char *buf; /* SPLICE_BUF bytes */
	size_t start, end;
	int eof;            /* the source sent its FIN */
	int shut;           /* and it was passed on */
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
	struct tls_hello hello;
	char ident[TOKENS_MAX_IDENT + 1];
	gnutls_session_t sess;
	struct cert_entry *cert;
	struct splice_dir up, down; /* client to backend, backend to client */
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

/* tlsalpn01.c: the event loop. */

/* Register ep for mask (0: out of the set); -1 if epoll_ctl fails. */
int tlsalpn01_ep_set(struct tlsalpn01_server *srv, struct ep *ep,
    uint32_t mask);
/* Release the TLS session and the ClientHello bytes read so far. */
void tlsalpn01_conn_release(struct conn *conn);
/* Close a connection; its memory is freed after the current batch. */
void tlsalpn01_conn_close(struct conn *conn);
/* Our side is done: shut writes, wait (bounded) for the peer's FIN. */
void tlsalpn01_drain_start(struct conn *conn);

/* tlsalpn01_acme.c: our own handshakes. */

/* The TLS priorities; CERTO_ETLS with GnuTLS's reason. */
int tlsalpn01_acme_init(struct tlsalpn01_server *srv);
/* Free every cached certificate and the priorities. */
void tlsalpn01_acme_free(struct tlsalpn01_server *srv);
/* Start the acme-tls/1 handshake on a connection whose token is live. */
void tlsalpn01_acme_start(struct conn *conn);
/* Go on with the handshake or close_notify when the socket is ready. */
void tlsalpn01_acme_io(struct conn *conn);
/* Deinit the session, then drop its hold on its certificate. */
void tlsalpn01_acme_release(struct conn *conn);
/* Drop certificates whose token was removed, replaced or expired. */
void tlsalpn01_acme_sweep(struct tlsalpn01_server *srv);

/* tlsalpn01_proxy.c: splicing other TLS to the backend. */

/* Hand the connection (its ClientHello first) to the backend. */
void tlsalpn01_proxy_start(struct conn *conn);
/* The backend or client socket is ready: connect or copy bytes. */
void tlsalpn01_proxy_io(struct conn *conn, const struct ep *ep);
/* A lookup finished: connections waiting for the address go on. */
void tlsalpn01_proxy_resolved(struct tlsalpn01_server *srv);
/* backend_new's notify: wakes the loop (called from the resolver). */
void tlsalpn01_proxy_notify(void *arg);

#endif
