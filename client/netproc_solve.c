/*
 * The network process's challenge work: DNS-01 waits (progress sent to
 * the key process after every round) and the standalone responders of
 * a channel.
 */
#include "privsep.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "privsep_priv.h"

/* Caps on what one wait request may ask. */
#define WAIT_MAX_RECORDS 256
#define WAIT_MAX_VALUES 256
#define WAIT_MAX_SERVERS 64

/* What one PS_DNS_WAIT holds (every string owned). */
struct wait_req {
	struct dns01_record recs[WAIT_MAX_RECORDS];
	char **vals[WAIT_MAX_RECORDS];
	size_t nrecs;
	struct dns01_server resolvers[WAIT_MAX_SERVERS];
	size_t nresolvers;
	struct dns01_server recursive;
	bool have_recursive;
	int fd;                        /* where progress goes */
};

static void
wait_req_free(struct wait_req *w)
{
	for (size_t i = 0; i < w->nrecs; i++) {
		for (size_t k = 0; w->vals[i] != NULL && k < w->recs[i].nvalues;
		    k++)
			free(w->vals[i][k]);
		free(w->vals[i]);
		free((char *)(uintptr_t)w->recs[i].name);
	}
	for (size_t i = 0; i < w->nresolvers; i++)
		dns01_server_free(&w->resolvers[i]);
	dns01_server_free(&w->recursive);
}

static int
get_server(struct privsep_msg *m, struct dns01_server *srv)
{
	uint64_t port;

	if (privsep_get_str(m, &srv->name) != 0 || srv->name == NULL ||
	    privsep_get_str(m, &srv->addr) != 0 || srv->addr == NULL ||
	    privsep_get_u64(m, &port) != 0 || port > 65535)
		return CERTO_EPRIVSEP;
	srv->port = (unsigned short)port;
	return 0;
}

/* The records of the request, each with its values. */
static int
get_records(struct privsep_msg *m, struct wait_req *w)
{
	uint64_t n, nv;
	char *name;

	if (privsep_get_u64(m, &n) != 0 || n > WAIT_MAX_RECORDS)
		return CERTO_EPRIVSEP;
	for (; w->nrecs < n; w->nrecs++) {
		if (privsep_get_str(m, &name) != 0 || name == NULL)
			return CERTO_EPRIVSEP;
		w->recs[w->nrecs].name = name;
		if (privsep_get_u64(m, &nv) != 0 || nv > WAIT_MAX_VALUES)
			return CERTO_EPRIVSEP;
		if ((w->vals[w->nrecs] = calloc(nv + 1, sizeof(char *))) ==
		    NULL)
			return CERTO_ENOMEM;
		for (size_t k = 0; k < nv; k++) {
			if (privsep_get_str(m, &w->vals[w->nrecs][k]) != 0 ||
			    w->vals[w->nrecs][k] == NULL)
				return CERTO_EPRIVSEP;
			w->recs[w->nrecs].nvalues = k + 1;
		}
		w->recs[w->nrecs].values =
		    (const char *const *)w->vals[w->nrecs];
	}
	return 0;
}

/* After every round: the progress, to the key process. */
static void
send_progress(void *arg, const struct dns01_progress *p, size_t n,
    long ms_left)
{
	struct wait_req *w = arg;
	struct privsep_msg m;
	int rc;

	privsep_msg_init(&m, PS_DNS_PROGRESS);
	rc = privsep_put_i64(&m, ms_left) | privsep_put_u64(&m, n);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = privsep_put_str(&m, p[i].record) |
		    privsep_put_str(&m, p[i].server->name) |
		    privsep_put_str(&m, p[i].server->addr) |
		    privsep_put_u64(&m, p[i].server->port) |
		    privsep_put_u64(&m, p[i].visible) |
		    privsep_put_str(&m, p[i].error);
	if (rc == 0)
		privsep_send(w->fd, &m);
	privsep_msg_free(&m);
}

int
netproc_dns_wait(int fd, struct privsep_msg *req)
{
	struct wait_req *w;
	struct dns01_opts opts = { 0 };
	uint64_t n, rec;
	int64_t t[3];
	int rc = CERTO_EPRIVSEP;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return CERTO_ENOMEM;
	w->fd = fd;
	if ((rc = get_records(req, w)) != 0 || privsep_get_u64(req, &n) != 0 ||
	    n > WAIT_MAX_SERVERS)
		goto bad;
	for (; w->nresolvers < n; w->nresolvers++)
		if (get_server(req, &w->resolvers[w->nresolvers]) != 0)
			goto bad;
	if (privsep_get_u64(req, &rec) != 0 ||
	    (rec && get_server(req, &w->recursive) != 0) ||
	    privsep_get_i64(req, &t[0]) != 0 ||
	    privsep_get_i64(req, &t[1]) != 0 ||
	    privsep_get_i64(req, &t[2]) != 0)
		goto bad;
	opts.resolvers = w->nresolvers > 0 ? w->resolvers : NULL;
	opts.nresolvers = w->nresolvers;
	opts.recursive = rec ? &w->recursive : NULL;
	opts.timeout_ms = (long)t[0];
	opts.interval_ms = (long)t[1];
	opts.wait_extra_ms = (long)t[2];
	opts.progress = send_progress;
	opts.arg = w;
	rc = netproc_reply(fd, dns01_wait(w->recs, w->nrecs, &opts), NULL);
	goto out;
bad:
	/* Unanswered: out of memory (dispatch() answers) or malformed. */
	rc = rc == CERTO_ENOMEM || req->err == CERTO_ENOMEM ? CERTO_ENOMEM :
	    CERTO_EPRIVSEP;
out:
	wait_req_free(w);
	free(w);
	return rc;
}

/* PS_SA_START: types and ports packed in n, then the two addresses. */
static int
sa_start(struct solver *sa, uint64_t n, struct privsep_msg *req)
{
	struct solver_standalone_opts o = { 0 };
	enum chall_type types[3];
	char *addr[2] = { NULL, NULL };
	int rc;

	if (sa->ops != NULL || (n >> 24 & 0xff) > 3 ||
	    privsep_get_str(req, &addr[0]) != 0 ||
	    privsep_get_str(req, &addr[1]) != 0) {
		rc = req->err == CERTO_ENOMEM ? CERTO_ENOMEM : CERTO_EPRIVSEP;
		goto out;
	}
	o.ntypes = (size_t)(n >> 24 & 0xff);
	for (size_t i = 0; i < o.ntypes; i++)
		types[i] = (enum chall_type)(n >> (8 * i) & 0xff);
	o.types = types;
	o.http_port = (unsigned short)(n >> 32);
	o.tls_port = (unsigned short)(n >> 48);
	o.http_addr = addr[0];
	o.tls_addr = addr[1];
	rc = solver_standalone_start(&o, sa);
out:
	free(addr[0]);
	free(addr[1]);
	return rc;
}

/* PS_SA_SELFCHECK: n items of (type, ident, token, keyauth). */
static int
sa_selfcheck(struct solver *sa, uint64_t n, struct privsep_msg *req)
{
	struct solver_item *items;
	char **s;
	int rc = 0;

	if (n > WAIT_MAX_RECORDS)
		return CERTO_EPRIVSEP;
	items = calloc(n + 1, sizeof(*items));
	s = calloc(4 * n + 1, sizeof(*s));
	if (items == NULL || s == NULL)
		rc = CERTO_ENOMEM;
	for (size_t i = 0; rc == 0 && i < 4 * n; i++)
		if (privsep_get_str(req, &s[i]) != 0 || s[i] == NULL)
			rc = req->err == CERTO_ENOMEM ? CERTO_ENOMEM :
			    CERTO_EPRIVSEP;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		items[i].type = challenge_type_parse(s[4 * i]);
		items[i].ident = s[4 * i + 1];
		items[i].token = s[4 * i + 2];
		items[i].keyauth = s[4 * i + 3];
	}
	if (rc == 0)
		rc = sa->ops->selfcheck(sa->ctx, items, (size_t)n);
	for (size_t i = 0; s != NULL && i < 4 * n; i++)
		free(s[i]);
	free(s);
	free(items);
	return rc;
}

/* Publish or withdraw n's type for (ident, token[, keyauth]). */
static int
sa_token(struct solver *sa, uint16_t type, uint64_t n,
    struct privsep_msg *req)
{
	char *s[3] = { NULL, NULL, NULL };
	int rc = 0;

	for (size_t i = 0; i < (type == PS_SA_PUBLISH ? 3u : 2u); i++)
		if (privsep_get_str(req, &s[i]) != 0 || s[i] == NULL)
			rc = req->err == CERTO_ENOMEM ? CERTO_ENOMEM :
			    CERTO_EPRIVSEP;
	if (rc == 0 && type == PS_SA_PUBLISH)
		rc = sa->ops->publish(sa->ctx, (enum chall_type)n, s[0], s[1],
		    s[2]);
	else if (rc == 0)
		sa->ops->withdraw(sa->ctx, (enum chall_type)n, s[0], s[1]);
	for (size_t i = 0; i < 3; i++)
		free(s[i]);
	return rc;
}

int
netproc_sa(int fd, struct solver *sa, struct privsep_msg *req)
{
	uint64_t n;
	int rc;

	if (privsep_get_u64(req, &n) != 0)
		return req->err == CERTO_ENOMEM ? CERTO_ENOMEM : CERTO_EPRIVSEP;
	if (req->type != PS_SA_START && sa->ops == NULL)
		return netproc_reply(fd, req->type == PS_SA_STOP ? 0 :
		    certo_fail(CERTO_EPRIVSEP, "no standalone responder"),
		    NULL);
	switch (req->type) {
	case PS_SA_START:
		rc = sa_start(sa, n, req);
		break;
	case PS_SA_SELFCHECK:
		rc = sa_selfcheck(sa, n, req);
		break;
	case PS_SA_STOP:
		sa->ops->stop(sa->ctx);
		memset(sa, 0, sizeof(*sa));
		rc = 0;
		break;
	default:
		rc = sa_token(sa, req->type, n, req);
		break;
	}
	if (rc == CERTO_EPRIVSEP && req->err == CERTO_EPRIVSEP)
		return rc; /* malformed: the channel ends */
	if (rc == CERTO_ENOMEM && certo_errmsg() == NULL)
		certo_fail(rc, "out of memory");
	return netproc_reply(fd, rc, NULL);
}
