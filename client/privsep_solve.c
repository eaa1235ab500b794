/*
 * The key process's side of the challenge work the network process
 * does: DNS-01 waits (progress lines come back while it waits) and the
 * standalone responders (a solver whose ops forward to the network
 * process, one channel shared under a lock).
 */
#include "privsep.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "privsep_priv.h"

/* At most this many (record, server) checks in one progress message. */
#define PROGRESS_MAX 4096

static int
put_server(struct privsep_msg *m, const struct dns01_server *srv)
{
	int rc;

	if ((rc = privsep_put_str(m, srv->name)) != 0 ||
	    (rc = privsep_put_str(m, srv->addr)) != 0)
		return rc;
	return privsep_put_u64(m, srv->port);
}

/* The request of a dns01_wait(). */
static int
put_wait(struct privsep_msg *m, const struct dns01_record *recs,
    size_t nrecs, const struct dns01_opts *opts)
{
	int rc = privsep_put_u64(m, nrecs);

	for (size_t i = 0; rc == 0 && i < nrecs; i++) {
		rc = privsep_put_str(m, recs[i].name);
		if (rc == 0)
			rc = privsep_put_u64(m, recs[i].nvalues);
		for (size_t k = 0; rc == 0 && k < recs[i].nvalues; k++)
			rc = privsep_put_str(m, recs[i].values[k]);
	}
	if (rc == 0)
		rc = privsep_put_u64(m, opts->nresolvers);
	for (size_t i = 0; rc == 0 && i < opts->nresolvers; i++)
		rc = put_server(m, &opts->resolvers[i]);
	if (rc == 0)
		rc = privsep_put_u64(m, opts->recursive != NULL);
	if (rc == 0 && opts->recursive != NULL)
		rc = put_server(m, opts->recursive);
	if (rc == 0)
		rc = privsep_put_i64(m, opts->timeout_ms);
	if (rc == 0)
		rc = privsep_put_i64(m, opts->interval_ms);
	if (rc == 0)
		rc = privsep_put_i64(m, opts->wait_extra_ms);
	return rc;
}

/* One round's progress from the network process, to opts->progress. */
static int
on_progress(void *arg, struct privsep_msg *m)
{
	const struct dns01_opts *opts = arg;
	struct dns01_progress *prog = NULL;
	struct dns01_server *srv = NULL;
	char **recs = NULL, **errs = NULL;
	uint64_t n = 0, port, vis;
	int64_t left;
	int rc = CERTO_EPRIVSEP;

	if (privsep_get_i64(m, &left) != 0 || privsep_get_u64(m, &n) != 0 ||
	    n > PROGRESS_MAX)
		goto out;
	if ((prog = calloc(n + 1, sizeof(*prog))) == NULL ||
	    (srv = calloc(n + 1, sizeof(*srv))) == NULL ||
	    (recs = calloc(n + 1, sizeof(*recs))) == NULL ||
	    (errs = calloc(n + 1, sizeof(*errs))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (privsep_get_str(m, &recs[i]) != 0 || recs[i] == NULL ||
		    privsep_get_str(m, &srv[i].name) != 0 ||
		    srv[i].name == NULL ||
		    privsep_get_str(m, &srv[i].addr) != 0 ||
		    privsep_get_u64(m, &port) != 0 ||
		    privsep_get_u64(m, &vis) != 0 ||
		    privsep_get_str(m, &errs[i]) != 0)
			goto out;
		srv[i].port = (unsigned short)port;
		prog[i].record = recs[i];
		prog[i].server = &srv[i];
		prog[i].visible = vis != 0;
		prog[i].error = errs[i];
	}
	if (opts->progress != NULL)
		opts->progress(opts->arg, prog, (size_t)n, (long)left);
	rc = 0;
out:
	for (size_t i = 0; srv != NULL && i < n; i++) {
		free(recs[i]);
		free(errs[i]);
		free(srv[i].name);
		free(srv[i].addr);
	}
	free(prog);
	free(srv);
	free(recs);
	free(errs);
	if (rc == CERTO_EPRIVSEP)
		return privsep_malformed(m);
	if (rc == CERTO_ENOMEM)
		return certo_fail(rc, "out of memory");
	return rc;
}

int
privsep_dns01_wait(const struct dns01_record *recs, size_t nrecs,
    const struct dns01_opts *opts)
{
	struct privsep_chan chan = { -1, NULL };
	struct privsep_msg req, reply;
	int rc;

	privsep_msg_init(&req, PS_DNS_WAIT);
	privsep_msg_init(&reply, 0);
	if ((rc = put_wait(&req, recs, nrecs, opts)) != 0)
		rc = certo_fail(CERTO_ENOMEM, "out of memory");
	else
		rc = privsep_call(&chan, &req, &reply, on_progress,
		    (void *)(uintptr_t)opts);
	privsep_chan_close(&chan);
	privsep_msg_free(&req);
	privsep_msg_free(&reply);
	return rc;
}

/* The standalone responders in the network process. */
struct sa_proxy {
	pthread_mutex_t lock;
	struct privsep_chan chan;
};

/* One request to the responders: type, then the strings given. */
static int
sa_call(struct sa_proxy *px, enum privsep_type type, uint64_t n,
    const char *const *strs, size_t nstrs)
{
	struct privsep_msg req, reply;
	int rc;

	privsep_msg_init(&req, (uint16_t)type);
	privsep_msg_init(&reply, 0);
	rc = privsep_put_u64(&req, n);
	for (size_t i = 0; rc == 0 && i < nstrs; i++)
		rc = privsep_put_str(&req, strs[i]);
	if (rc != 0)
		rc = certo_fail(CERTO_ENOMEM, "out of memory");
	else {
		pthread_mutex_lock(&px->lock);
		rc = privsep_call(&px->chan, &req, &reply, NULL, NULL);
		pthread_mutex_unlock(&px->lock);
	}
	privsep_msg_free(&req);
	privsep_msg_free(&reply);
	return rc;
}

static int
sa_publish(void *ctx, enum chall_type t, const char *ident,
    const char *token, const char *keyauth)
{
	const char *s[] = { ident, token, keyauth };

	return sa_call(ctx, PS_SA_PUBLISH, (uint64_t)t, s, 3);
}

static int
sa_selfcheck(void *ctx, const struct solver_item *items, size_t n)
{
	const char **s;
	int rc;

	if ((s = calloc(n * 4 + 1, sizeof(*s))) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		s[4 * i] = challenge_type_name(items[i].type);
		s[4 * i + 1] = items[i].ident;
		s[4 * i + 2] = items[i].token;
		s[4 * i + 3] = items[i].keyauth;
	}
	rc = sa_call(ctx, PS_SA_SELFCHECK, n, s, n * 4);
	free(s);
	return rc;
}

static void
sa_withdraw(void *ctx, enum chall_type t, const char *ident,
    const char *token)
{
	const char *s[] = { ident, token };

	if (sa_call(ctx, PS_SA_WITHDRAW, (uint64_t)t, s, 2) != 0)
		certo_errclear(); /* the network process is gone: so are they */
}

static void
sa_stop(void *ctx)
{
	struct sa_proxy *px = ctx;

	if (px == NULL)
		return;
	if (sa_call(px, PS_SA_STOP, 0, NULL, 0) != 0)
		certo_errclear();
	privsep_chan_close(&px->chan);
	pthread_mutex_destroy(&px->lock);
	free(px);
}

static const struct solver_ops sa_ops = {
	.name = "standalone",
	.publish = sa_publish,
	.selfcheck = sa_selfcheck,
	.withdraw = sa_withdraw,
	.stop = sa_stop,
};

int
privsep_standalone_start(const struct solver_standalone_opts *opts,
    struct solver *out)
{
	struct sa_proxy *px;
	const char *s[] = { opts->http_addr, opts->tls_addr };
	uint64_t types = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (opts->ntypes > 3)
		return certo_fail(CERTO_EUSAGE, "too many challenge types");
	for (size_t i = 0; i < opts->ntypes; i++)
		types |= (uint64_t)(opts->types[i] & 0xff) << (8 * i);
	types |= (uint64_t)opts->ntypes << 24 |
	    (uint64_t)opts->http_port << 32 | (uint64_t)opts->tls_port << 48;
	if ((px = calloc(1, sizeof(*px))) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	pthread_mutex_init(&px->lock, NULL);
	px->chan.fd = -1;
	if ((rc = sa_call(px, PS_SA_START, types, s, 2)) != 0) {
		privsep_chan_close(&px->chan);
		pthread_mutex_destroy(&px->lock);
		free(px);
		return rc;
	}
	for (size_t i = 0; i < opts->ntypes; i++)
		out->types[out->ntypes++] = opts->types[i];
	out->ops = &sa_ops;
	out->ctx = px;
	return 0;
}
