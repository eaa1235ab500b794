/*
 * The control-socket solver: publishes challenges in a running
 * certo-responder (docs/responder-protocol.md) instead of binding ports.
 */
#include "solver.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "errors.h"
#include "log.h"

/* The solver's context. */
struct socket_solver {
	char *path;
};

static int
publish(void *ctx, enum chall_type type, const char *ident,
    const char *token, const char *keyauth)
{
	struct socket_solver *sock = ctx;
	char line[CTL_MAX_LINE], reply[256];

	if ((size_t)snprintf(line, sizeof(line), "auth %s %s %s %s",
	    challenge_type_name(type), ident, token, keyauth) >= sizeof(line))
		return certo_fail(CERTO_ETOOBIG, "challenge for %s too long "
		    "for the control protocol", ident);
	return ctl_client_request(sock->path, line, reply, sizeof(reply));
}

/*
 * The daemon may run in another container, so we cannot fetch from it
 * as the CA would; check instead that it holds the entry (list).
 */
static int
selfcheck(void *ctx, const struct solver_item *items, size_t n)
{
	struct socket_solver *sock = ctx;
	char reply[64 * 1024], want[600];
	int rc;

	if ((rc = ctl_client_request(sock->path, "list", reply,
	    sizeof(reply) - 1)) != 0)
		return rc;
	/* The last entry has no newline after it: add one to match. */
	strcat(reply, "\n");
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "\n%s %s %s\n",
		    challenge_type_name(items[i].type), items[i].ident,
		    items[i].token);
		if (strstr(reply, want) == NULL)
			return certo_fail(CERTO_ESELFCHECK, "self-check of the "
			    "%s challenge for %s failed: the responder at %s "
			    "does not list it; the CA was not asked",
			    challenge_type_name(items[i].type), items[i].ident,
			    sock->path);
	}
	return 0;
}

/*
 * Best effort: the entry expires in the responder anyway.  An error
 * recorded before (the reason for withdrawing, first error wins) is
 * kept; else the failure's own message is shown and forgotten.
 */
static void
withdraw(void *ctx, enum chall_type type, const char *ident,
    const char *token)
{
	struct socket_solver *sock = ctx;
	char line[CTL_MAX_LINE], reply[256];
	bool earlier = certo_errmsg() != NULL;

	snprintf(line, sizeof(line), "unauth %s %s %s",
	    challenge_type_name(type), ident, token);
	if (ctl_client_request(sock->path, line, reply, sizeof(reply)) == 0)
		return;
	log_warn("could not withdraw the %s challenge for %s from %s%s%s "
	    "(it expires there on its own)", challenge_type_name(type), ident,
	    sock->path, earlier || certo_errmsg() == NULL ? "" : ": ",
	    earlier || certo_errmsg() == NULL ? "" : certo_errmsg());
	if (!earlier)
		certo_errclear();
}

static void
stop(void *ctx)
{
	struct socket_solver *sock = ctx;

	if (sock == NULL)
		return;
	free(sock->path);
	free(sock);
}

static const struct solver_ops socket_ops = {
	.name = "responder",
	.publish = publish,
	.selfcheck = selfcheck,
	.withdraw = withdraw,
	.stop = stop,
};

/* Start the control-socket solver (see solver.h). */
int
solver_socket_start(const char *path, const enum chall_type *types,
    size_t ntypes, struct solver *out)
{
	struct socket_solver *sock;
	char reply[64 * 1024];
	int rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ntypes && i < 3; i++) {
		if (types[i] != CHALL_HTTP01 && types[i] != CHALL_TLSALPN01)
			return certo_fail(CERTO_EUSAGE, "certo-responder "
			    "cannot answer %s challenges",
			    challenge_type_name(types[i]));
		out->types[out->ntypes++] = types[i];
	}
	/* Reachable and speaking the protocol? */
	if ((rc = ctl_client_request(path, "list", reply, sizeof(reply))) != 0)
		return rc;
	if ((sock = calloc(1, sizeof(*sock))) == NULL ||
	    (sock->path = strdup(path)) == NULL) {
		free(sock);
		return CERTO_ENOMEM;
	}
	out->ops = &socket_ops;
	out->ctx = sock;
	return 0;
}
