/*
 * Challenge solvers as an ops table (curl's struct Curl_ssl): the
 * driver publishes a key authorization, asks the solver to check it is
 * visible, and withdraws it on every exit path.  The driver holds one
 * solver per challenge type it may use, in the user's order of
 * preference, and picks per authorization the first type the CA offers.
 * Implementations: in-process responders (solver_standalone.c), the
 * certo-responder control socket (solver_socket.c), and the user or
 * hook programs (solver_external.c), files in a web server's document
 * root (solver_webroot.c); the http-01 self-check fetch of all but the
 * socket is solver_http01.c.
 */
#ifndef CERTO_SOLVER_H
#define CERTO_SOLVER_H

#include <stdbool.h>
#include <stddef.h>

#include "challenge.h"
#include "dns01_propagation.h"

/* One published challenge, as handed to selfcheck. */
struct solver_item {
	enum chall_type type;
	const char *ident;
	const char *token;
	const char *keyauth;
};

/* What a solver does; ctx is its own state. */
struct solver_ops {
	const char *name;
	/* Make keyauth visible for (ident, token). */
	int (*publish)(void *ctx, enum chall_type t, const char *ident,
	    const char *token, const char *keyauth);
	/*
	 * Check, as the CA would, that all n published items are visible
	 * (in one go: DNS records of apex and wildcard share a name);
	 * CERTO_ESELFCHECK / CERTO_EDNSWAIT.  Only then is the CA told.
	 */
	int (*selfcheck)(void *ctx, const struct solver_item *items, size_t n);
	/* Remove it again; must be safe to call for anything published. */
	void (*withdraw)(void *ctx, enum chall_type t, const char *ident,
	    const char *token);
	/* Release the solver. */
	void (*stop)(void *ctx);
	/*
	 * Optional: the expiry (RFC 3339 text, may be NULL) of the
	 * authorization whose challenge this thread publishes next; the
	 * store solver keeps its entries that long.
	 */
	void (*expires)(void *ctx, const char *rfc3339);
};

/* A started solver. */
struct solver {
	const struct solver_ops *ops;
	void *ctx;
	enum chall_type types[3];   /* preference order */
	size_t ntypes;
};

/* What solver_standalone_start() starts, and where. */
struct solver_standalone_opts {
	const enum chall_type *types;   /* which servers to start */
	size_t ntypes;
	const char *http_addr;
	unsigned short http_port;
	const char *tls_addr;
	unsigned short tls_port;
};

/*
 * In-process responders for the given types (HTTP-01 on libmicrohttpd,
 * TLS-ALPN-01 on GnuTLS) over one token table: binds every port now, so
 * a busy port fails before anything is asked of the CA.
 */
int solver_standalone_start(const struct solver_standalone_opts *opts,
    struct solver *out);

/*
 * Publish through a running certo-responder's control socket at path
 * (docs/responder-protocol.md).  The socket is checked now (list).
 */
int solver_socket_start(const char *path, const enum chall_type *types,
    size_t ntypes, struct solver *out);

/* How solver_external_start() publishes and checks. */
struct solver_external_opts {
	const enum chall_type *types;   /* dns-01 and/or http-01 */
	size_t ntypes;
	bool manual;                    /* print what to publish, wait */
	const char *dns_hook;           /* or run these (docs/hooks.md) */
	const char *http_hook;
	struct dns01_opts dns;          /* propagation check settings */
	long http_timeout_ms;           /* how long to wait for HTTP-01 */
	unsigned short http_port;       /* where the CA connects (80) */
	long hook_timeout_ms;           /* add (0: HOOK_TIMEOUT_MS) */
	long hook_del_timeout_ms;       /* del (0: HOOK_DEL_TIMEOUT_MS) */
};

/*
 * Challenges published by someone else: the user (manual mode: certo
 * prints the record or file and waits until it is visible) or a hook
 * program (add/del).  DNS-01 is checked on every authoritative server
 * (dns01_propagation.c) before the CA is told; HTTP-01 by fetching
 * http://<name>/.well-known/acme-challenge/<token> from this host.
 */
int solver_external_start(const struct solver_external_opts *opts,
    struct solver *out);

/* How long --webroot waits for the web server to serve a file. */
#define SOLVER_WEBROOT_TIMEOUT_MS (30 * 1000)

/* What solver_webroot_start() writes into, and checks through. */
struct solver_webroot_opts {
	const enum chall_type *types;   /* http-01 only */
	size_t ntypes;
	const char *dir;                /* the web server's document root */
	unsigned short http_port;       /* where it listens (80) */
	long http_timeout_ms;           /* 0: SOLVER_WEBROOT_TIMEOUT_MS */
};

/*
 * --webroot DIR (solver_webroot.c): http-01 files written into
 * DIR/.well-known/acme-challenge/ for a web server that serves DIR,
 * checked through that server on http_port, removed afterwards with
 * the directories certo made.  DIR is opened now: a missing one fails
 * before anything is asked of the CA.
 */
int solver_webroot_start(const struct solver_webroot_opts *opts,
    struct solver *out);

/*
 * --store URL with no other way chosen (solver_store.c): http-01 and
 * tls-alpn-01 challenges published into the shared store for the
 * certo-responder --store replicas, until the authorization expires,
 * withdrawn on every exit path.  The store is reached now (kv_open).
 */
int solver_store_start(const char *url, const enum chall_type *types,
    size_t ntypes, struct solver *out);

#endif
