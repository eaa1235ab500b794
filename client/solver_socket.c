/*
 * The control-socket solver: publishes challenges in a running
 * certo-responder (docs/responder-protocol.md) instead of binding ports.
 */
#include "solver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "errors.h"
#include "log.h"

struct socket_solver {
	char *path;
};

static int
publish(void *ctx, enum chall_type t, const char *ident, const char *token,
    const char *keyauth)
{
	struct socket_solver *s = ctx;
	char line[CTL_MAX_LINE], reply[256];

	if ((size_t)snprintf(line, sizeof(line), "auth %s %s %s %s",
	    challenge_type_name(t), ident, token, keyauth) >= sizeof(line))
		return certo_fail(CERTO_ETOOBIG, "challenge for %s too long for "
		    "the control protocol", ident);
	return ctl_client_request(s->path, line, reply, sizeof(reply));
}

/*
 * The daemon may run in another container, so we cannot fetch from it
 * as the CA would; check instead that it holds the entry (list).
 */
static int
selfcheck(void *ctx, const struct solver_item *items, size_t n)
{
	struct socket_solver *s = ctx;
	char reply[64 * 1024], want[600];
	int rc;

	if ((rc = ctl_client_request(s->path, "list", reply,
	    sizeof(reply) - 1)) != 0)
		return rc;
	/* The last entry has no newline after it: add one to match. */
	strcat(reply, "\n");
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "\n%s %s %s\n",
		    challenge_type_name(items[i].type), items[i].ident,
		    items[i].token);
		if (strstr(reply, want) == NULL)
			return certo_fail(CERTO_ESELFCHECK, "self-check of the %s "
			    "challenge for %s failed: the responder at %s does not "
			    "list it; the CA was not asked",
			    challenge_type_name(items[i].type), items[i].ident,
			    s->path);
	}
	return 0;
}

static void
withdraw(void *ctx, enum chall_type t, const char *ident, const char *token)
{
	struct socket_solver *s = ctx;
	char line[CTL_MAX_LINE], reply[256];

	snprintf(line, sizeof(line), "unauth %s %s %s", challenge_type_name(t),
	    ident, token);
	if (ctl_client_request(s->path, line, reply, sizeof(reply)) != 0) {
		log_warn("could not withdraw the %s challenge for %s from %s "
		    "(it expires there on its own)", challenge_type_name(t),
		    ident, s->path);
		certo_errclear();
	}
}

static void
stop(void *ctx)
{
	struct socket_solver *s = ctx;

	if (s == NULL)
		return;
	free(s->path);
	free(s);
}

static const struct solver_ops socket_ops = {
	.name = "responder",
	.publish = publish,
	.selfcheck = selfcheck,
	.withdraw = withdraw,
	.stop = stop,
};

int
solver_socket_start(const char *path, const enum chall_type *types,
    size_t ntypes, struct solver *out)
{
	struct socket_solver *s;
	char reply[64 * 1024];
	int rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ntypes && i < 3; i++) {
		if (types[i] != CHALL_HTTP01 && types[i] != CHALL_TLSALPN01)
			return certo_fail(CERTO_EUSAGE, "certo-responder cannot "
			    "answer %s challenges", challenge_type_name(types[i]));
		out->types[out->ntypes++] = types[i];
	}
	/* Reachable and speaking the protocol? */
	if ((rc = ctl_client_request(path, "list", reply, sizeof(reply))) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		return CERTO_ENOMEM;
	}
	out->ops = &socket_ops;
	out->ctx = s;
	return 0;
}
