/*
 * The TLS-ALPN-01 responder's own handshakes (RFC 8737): GnuTLS gets the
 * ClientHello bytes the event loop already read (replayed through its
 * pull function), and the validation certificate is chosen only once
 * GnuTLS agreed on acme-tls/1 for the SNI we peeked.  Certificates are
 * built once per (identifier, key authorization) and cached until their
 * token goes away.
 */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "alpncert.h"
#include "errors.h"
#include "log.h"
#include "tlsalpn01_conn.h"

#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* A validation certificate, built once per (identifier, keyauth). */
struct cert_entry {
	struct cert_entry *next;
	char *ident;
	char *keyauth;
	struct alpn_cert cert;
	unsigned refs;      /* sessions holding cert.cred */
	int stale;          /* its token is gone: never handed out again */
};

/* ---- the certificate cache ---- */

static void
cert_entry_free(struct cert_entry *entry)
{
	alpncert_free(&entry->cert);
	free(entry->ident);
	if (entry->keyauth) {
		memset(entry->keyauth, 0, strlen(entry->keyauth));
		free(entry->keyauth);
	}
	free(entry);
}

/* Free stale certificates no session holds any more. */
static void
cache_reap(struct tlsalpn01_server *srv)
{
	struct cert_entry **pp = &srv->certs, *entry;

	while ((entry = *pp) != NULL) {
		if (entry->stale && entry->refs == 0) {
			*pp = entry->next;
			cert_entry_free(entry);
		} else
			pp = &entry->next;
	}
}

/* A new cache entry for ident and ka; NULL (logged) if building failed. */
static struct cert_entry *
cache_add(struct tlsalpn01_server *srv, const char *ident, const char *ka)
{
	struct cert_entry *entry;
	int rc = CERTO_ENOMEM;

	if ((entry = calloc(1, sizeof(*entry))) == NULL ||
	    (entry->ident = strdup(ident)) == NULL ||
	    (entry->keyauth = strdup(ka)) == NULL ||
	    (rc = alpncert_make(ident, ka, srv->rsa, &entry->cert)) != 0) {
		/* The connection fails; the server goes on: log the cause. */
		log_warn("TLS-ALPN-01: no validation certificate for %s: %s",
		    ident, certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
		certo_errclear();
		if (entry != NULL)
			cert_entry_free(entry);
		return NULL;
	}
	entry->next = srv->certs;
	srv->certs = entry;
	return entry;
}

/*
 * The certificate for ident's current token, built on first use; NULL
 * (with *gerr set) when the token is gone or building failed.  A cached
 * certificate whose token vanished or changed is marked stale here.
 */
static struct cert_entry *
cache_get(struct tlsalpn01_server *srv, const char *ident, int *gerr)
{
	char ka[TOKENS_MAX_KEYAUTH + 1];
	struct cert_entry *entry, *found = NULL;
	long n;

	n = tokens_lookup_alpn(srv->tokens, ident, ka, sizeof(ka));
	for (entry = srv->certs; entry != NULL; entry = entry->next)
		if (!entry->stale && strcmp(entry->ident, ident) == 0) {
			if (n >= 0 && strcmp(entry->keyauth, ka) == 0)
				found = entry;
			else
				entry->stale = 1;
		}
	cache_reap(srv);
	*gerr = GNUTLS_E_UNRECOGNIZED_NAME;
	if (n >= 0 && found == NULL) {
		*gerr = GNUTLS_E_INTERNAL_ERROR;
		found = cache_add(srv, ident, ka);
	}
	memset(ka, 0, sizeof(ka));
	return found;
}

/* Drop certificates whose token was removed, replaced or expired. */
void
tlsalpn01_acme_sweep(struct tlsalpn01_server *srv)
{
	char ka[TOKENS_MAX_KEYAUTH + 1];
	struct cert_entry *entry;

	for (entry = srv->certs; entry != NULL; entry = entry->next)
		if (!entry->stale && (tokens_lookup_alpn(srv->tokens,
		    entry->ident, ka, sizeof(ka)) < 0 ||
		    strcmp(ka, entry->keyauth) != 0))
			entry->stale = 1;
	memset(ka, 0, sizeof(ka));
	cache_reap(srv);
}

static void
cert_unref(struct tlsalpn01_server *srv, struct cert_entry *entry)
{
	if (entry == NULL)
		return;
	entry->refs--;
	if (entry->stale && entry->refs == 0)
		cache_reap(srv);
}

/* Deinit the session first: it points at the certificate's cred. */
void
tlsalpn01_acme_release(struct conn *conn)
{
	if (conn->sess) {
		gnutls_deinit(conn->sess);
		conn->sess = NULL;
	}
	cert_unref(conn->srv, conn->cert);
	conn->cert = NULL;
}

/* The TLS 1.2/1.3 priorities of every session. */
int
tlsalpn01_acme_init(struct tlsalpn01_server *srv)
{
	int ret;

	if ((ret = gnutls_priority_init(&srv->prio, PRIORITY, NULL)) < 0)
		return certo_fail(CERTO_ETLS, "TLS priority string: %s",
		    gnutls_strerror(ret));
	return 0;
}

/* Free every certificate (no session may be left) and the priorities. */
void
tlsalpn01_acme_free(struct tlsalpn01_server *srv)
{
	struct cert_entry *entry;

	while ((entry = srv->certs) != NULL) {
		srv->certs = entry->next;
		cert_entry_free(entry);
	}
	if (srv->prio)
		gnutls_priority_deinit(srv->prio);
	srv->prio = NULL;
}

/* ---- GnuTLS transport: the peeked bytes first, then the socket ---- */

static ssize_t
tls_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct conn *conn = ptr;
	size_t n;
	ssize_t r;

	if (conn->replay < conn->inlen) {
		n = conn->inlen - conn->replay < len ? conn->inlen - conn->replay :
		    len;
		memcpy(data, conn->in + conn->replay, n);
		conn->replay += n;
		return (ssize_t)n;
	}
	r = recv(conn->cl.fd, data, len, 0);
	if (r < 0)
		gnutls_transport_set_errno(conn->sess, errno);
	return r;
}

static ssize_t
tls_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct conn *conn = ptr;
	ssize_t r;

	r = send(conn->cl.fd, data, len, MSG_NOSIGNAL);
	if (r < 0)
		gnutls_transport_set_errno(conn->sess, errno);
	return r;
}

static int
tls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms)
{
	struct conn *conn = ptr;
	struct pollfd pfd;

	(void)ms;   /* never wait: this thread serves everyone */
	if (conn->replay < conn->inlen)
		return 1;
	pfd.fd = conn->cl.fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0);
}

/* ---- the handshake ---- */

static int
alpn_is_acme(gnutls_session_t sess)
{
	gnutls_datum_t proto;

	return gnutls_alpn_get_selected_protocol(sess, &proto) == 0 &&
	    proto.size == ALPN_ACME_TLS_1_LEN &&
	    memcmp(proto.data, ALPN_ACME_TLS_1, ALPN_ACME_TLS_1_LEN) == 0;
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
	struct conn *conn = gnutls_session_get_ptr(sess);
	struct cert_entry *entry;
	char name[sizeof(conn->hello.sni) + 2];
	size_t nl = sizeof(name);
	unsigned type;
	int gerr;

	if (!alpn_is_acme(sess))
		return GNUTLS_E_NO_APPLICATION_PROTOCOL;
	if (gnutls_server_name_get(sess, name, &nl, &type, 0) != 0 ||
	    type != GNUTLS_NAME_DNS || strcasecmp(name, conn->hello.sni) != 0)
		return GNUTLS_E_UNRECOGNIZED_NAME;
	if ((entry = cache_get(conn->srv, conn->ident, &gerr)) == NULL)
		return gerr;
	/* A second ClientHello (after HelloRetryRequest) comes here again. */
	entry->refs++;
	cert_unref(conn->srv, conn->cert);
	conn->cert = entry;
	return gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE,
	    entry->cert.cred);
}

/* Wait for the socket in the direction GnuTLS needs next. */
static void
wait_for_gnutls(struct conn *conn, uint32_t mask)
{
	if (tlsalpn01_ep_set(conn->srv, &conn->cl, mask) != 0)
		tlsalpn01_conn_close(conn);
}

/* close_notify sent (or given up): drain the connection. */
static void
bye_io(struct conn *conn)
{
	int ret = gnutls_bye(conn->sess, GNUTLS_SHUT_WR);

	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
		wait_for_gnutls(conn, EPOLLOUT);
		return;
	}
	tlsalpn01_drain_start(conn);
}

static void
handshake_io(struct conn *conn)
{
	char shown[128];
	int ret;

	ret = gnutls_handshake(conn->sess);
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
		wait_for_gnutls(conn, gnutls_record_get_direction(conn->sess) ?
		    EPOLLOUT : EPOLLIN);
		return;
	}
	log_str(shown, sizeof(shown), conn->hello.sni);
	if (ret < 0) {
		log_debug("TLS-ALPN-01: handshake for %s failed: %s", shown,
		    gnutls_strerror(ret));
		gnutls_alert_send_appropriate(conn->sess, ret);
		tlsalpn01_drain_start(conn);
		return;
	}
	/* Belt and braces: the certificate went out only for acme-tls/1. */
	if (!alpn_is_acme(conn->sess)) {
		log_warn("TLS-ALPN-01: handshake for %s ended without "
		    "acme-tls/1", shown);
		tlsalpn01_conn_close(conn);
		return;
	}
	log_debug("TLS-ALPN-01: presented the validation certificate for %s",
	    conn->ident);
	conn->state = ST_BYE;
	bye_io(conn);
}

/* Go on with whichever step the connection is in. */
void
tlsalpn01_acme_io(struct conn *conn)
{
	if (conn->state == ST_TLS)
		handshake_io(conn);
	else if (conn->state == ST_BYE)
		bye_io(conn);
}

/* A GnuTLS server session offering only acme-tls/1; then handshake. */
void
tlsalpn01_acme_start(struct conn *conn)
{
	struct tlsalpn01_server *srv = conn->srv;
	gnutls_datum_t proto = { (unsigned char *)(uintptr_t)ALPN_ACME_TLS_1,
		ALPN_ACME_TLS_1_LEN };
	int ret;

	if ((ret = gnutls_init(&conn->sess, GNUTLS_SERVER | GNUTLS_NONBLOCK |
	    GNUTLS_NO_TICKETS)) < 0 ||
	    (ret = gnutls_priority_set(conn->sess, srv->prio)) < 0 ||
	    (ret = gnutls_alpn_set_protocols(conn->sess, &proto, 1,
	    GNUTLS_ALPN_MANDATORY)) < 0) {
		log_warn("TLS-ALPN-01: cannot set up a TLS session: %s",
		    gnutls_strerror(ret));
		tlsalpn01_conn_close(conn);
		return;
	}
	gnutls_handshake_set_post_client_hello_function(conn->sess,
	    on_client_hello);
	gnutls_session_set_ptr(conn->sess, conn);
	gnutls_transport_set_ptr(conn->sess, conn);
	gnutls_transport_set_pull_function(conn->sess, tls_pull);
	gnutls_transport_set_pull_timeout_function(conn->sess,
	    tls_pull_timeout);
	gnutls_transport_set_push_function(conn->sess, tls_push);
	conn->state = ST_TLS;
	handshake_io(conn);
}
