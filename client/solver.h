/*
 * Challenge solvers as an ops table (curl's struct Curl_ssl): the
 * driver publishes a key authorization, asks the solver to check it is
 * visible as the CA will see it, and withdraws it on every exit path.
 * Implementations: the in-process standalone responder (solver_http.c);
 * later the control socket, hooks and manual DNS.
 */
#ifndef CERTO_SOLVER_H
#define CERTO_SOLVER_H

#include <stddef.h>

#include "challenge.h"

struct solver_ops {
	const char *name;
	enum chall_type type;
	/* Make keyauth visible for (ident, token). */
	int (*publish)(void *ctx, const char *ident, const char *token,
	    const char *keyauth);
	/* Check, as the CA would, that it is visible; CERTO_ESELFCHECK. */
	int (*selfcheck)(void *ctx, const char *ident, const char *token,
	    const char *keyauth);
	/* Remove it again; must be safe to call for anything published. */
	void (*withdraw)(void *ctx, const char *ident, const char *token);
	/* Release the solver. */
	void (*stop)(void *ctx);
};

struct solver {
	const struct solver_ops *ops;
	void *ctx;
};

struct solver_http_opts {
	const char *addr;
	unsigned short port;
};

/*
 * The standalone HTTP-01 solver: binds addr:port now (so a busy port
 * fails before anything is asked of the CA).
 */
int solver_http_start(const struct solver_http_opts *o, struct solver *s);

#endif
