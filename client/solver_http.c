/* The standalone HTTP-01 solver: an in-process responder. */
#include "solver.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "http.h"
#include "http01.h"
#include "log.h"
#include "tokens.h"

struct http_solver {
	struct token_table tokens;
	struct http01_server *server;
	struct certo_http http;       /* for the self-check */
	char *check_host;             /* where to reach our own server */
	unsigned short port;
};

static int
publish(void *ctx, const char *ident, const char *token, const char *keyauth)
{
	struct http_solver *s = ctx;
	int rc;

	if ((rc = tokens_add(&s->tokens, TOKEN_HTTP01, ident, token,
	    keyauth)) != 0)
		return certo_fail(rc, "cannot publish the HTTP-01 token for %s",
		    ident);
	return 0;
}

static int
selfcheck(void *ctx, const char *ident, const char *token,
    const char *keyauth)
{
	struct http_solver *s = ctx;
	struct http_resp r;
	char *url = NULL, shown[128];
	int rc;

	if (asprintf(&url, "http://%s:%u/.well-known/acme-challenge/%s",
	    s->check_host, s->port, token) < 0)
		return CERTO_ENOMEM;
	rc = http_request(&s->http, "GET", url, NULL, NULL, 4096, &r);
	if (rc != 0) {
		certo_errclear();
		rc = certo_fail(CERTO_ESELFCHECK, "self-check of the HTTP-01 "
		    "challenge for %s failed: cannot fetch %s from our own "
		    "server", ident, url);
	} else if (r.status != 200 || r.body.len != strlen(keyauth) ||
	    memcmp(r.body.data, keyauth, r.body.len) != 0) {
		rc = certo_fail(CERTO_ESELFCHECK, "self-check of the HTTP-01 "
		    "challenge for %s failed: %s answered HTTP %ld with \"%s\" "
		    "instead of the key authorization; the CA was not asked",
		    ident, url, r.status, log_sanitize(shown, sizeof(shown),
		    r.body.data ? r.body.data : "", r.body.len));
	}
	http_resp_free(&r);
	free(url);
	return rc;
}

static void
withdraw(void *ctx, const char *ident, const char *token)
{
	struct http_solver *s = ctx;

	tokens_remove(&s->tokens, TOKEN_HTTP01, ident, token);
}

static void
stop(void *ctx)
{
	struct http_solver *s = ctx;

	if (s == NULL)
		return;
	http01_stop(s->server);
	tokens_free(&s->tokens);
	http_free(&s->http);
	free(s->check_host);
	free(s);
}

static const struct solver_ops http_ops = {
	.name = "standalone",
	.type = CHALL_HTTP01,
	.publish = publish,
	.selfcheck = selfcheck,
	.withdraw = withdraw,
	.stop = stop,
};

int
solver_http_start(const struct solver_http_opts *o, struct solver *out)
{
	struct http01_opts ho = { 0 };
	struct http_opts hto = { 0 };
	struct http_solver *s;
	const char *host;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CERTO_ENOMEM;
	if ((rc = tokens_init(&s->tokens, 0, 0)) != 0) {
		free(s);
		return rc;
	}
	hto.allow_http = true;
	hto.connect_timeout_ms = 2000;
	hto.total_timeout_ms = 5000;
	if ((rc = http_init(&s->http, &hto)) != 0)
		goto fail;
	ho.addr = o->addr;
	ho.port = o->port;
	if ((rc = http01_start(&ho, &s->tokens, &s->server)) != 0)
		goto fail;
	s->port = http01_port(s->server);
	/* Reach our own server on loopback unless bound to one address. */
	host = o->addr == NULL || strcmp(o->addr, "0.0.0.0") == 0 ?
	    "127.0.0.1" : strcmp(o->addr, "::") == 0 ? "[::1]" : o->addr;
	if (strchr(host, ':') != NULL && host[0] != '[')
		rc = asprintf(&s->check_host, "[%s]", host) < 0 ? CERTO_ENOMEM : 0;
	else if ((s->check_host = strdup(host)) == NULL)
		rc = CERTO_ENOMEM;
	if (rc != 0)
		goto fail;
	out->ops = &http_ops;
	out->ctx = s;
	return 0;
fail:
	stop(s);
	return rc;
}
