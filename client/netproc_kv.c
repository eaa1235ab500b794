/*
 * The network process's store connections (privsep_kv.c is the key
 * process's side): each channel keeps its own kv.h connections, one per
 * store URL, made at the channel's first request for it; commands run
 * there with kv.c's resends, caps and error words, and their replies go
 * back as typed fields in slices (privsep_priv.h).  Names are resolved
 * by netproc_net.c (getaddrinfo would open files under the sandbox).
 */
#include "privsep.h"

#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "errors.h"
#include "kv.h"
#include "privsep_priv.h"

/* Store URLs a channel keeps a connection to (the client uses one). */
#define NETPROC_KV_CONNS 4
/* Arguments of one command. */
#define NETPROC_KV_ARGS 4096

/* One connection of a channel. */
struct netproc_kv_conn {
	char *url;              /* as the key process gave it (password) */
	struct kv *kv;
};

/* A channel's connections, and the reply being sent in slices. */
struct netproc_kv {
	struct netproc_kv_conn conn[NETPROC_KV_CONNS];
	size_t nconn;
	struct privsep_msg pending;   /* the encoded reply */
	size_t sent;                  /* bytes of it sent */
};

static pthread_once_t netproc_kv_once = PTHREAD_ONCE_INIT;

/* kv.c's resolver: netproc_net.c's lookup, as numeric addresses. */
static int
netproc_kv_resolve(const char *host, char (*addrs)[64], int max, char *why,
    size_t whylen)
{
	struct addrinfo hints, *res = NULL;
	int g, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((g = netproc_net_getaddrinfo(host, "0", &hints, &res)) != 0) {
		snprintf(why, whylen, "cannot resolve %s: %s", host,
		    gai_strerror(g));
		return 0;
	}
	for (struct addrinfo *ai = res; ai != NULL && n < max;
	    ai = ai->ai_next) {
		const void *a;

		if (ai->ai_family == AF_INET)
			a = &((struct sockaddr_in *)(void *)ai->ai_addr)->
			    sin_addr;
		else if (ai->ai_family == AF_INET6)
			a = &((struct sockaddr_in6 *)(void *)ai->ai_addr)->
			    sin6_addr;
		else
			continue;
		if (inet_ntop(ai->ai_family, a, addrs[n], 64) != NULL)
			n++;
	}
	freeaddrinfo(res);
	if (n == 0)
		snprintf(why, whylen, "cannot resolve %s: no address", host);
	return n;
}

static void
netproc_kv_init(void)
{
	kv_set_resolver(netproc_kv_resolve);
}

static void
conn_clear(struct netproc_kv_conn *c)
{
	kv_close(c->kv);
	c->kv = NULL;
	if (c->url != NULL) {
		memset(c->url, 0, strlen(c->url));
		free(c->url);
	}
	c->url = NULL;
}

/* Free a channel's connections (privsep_priv.h). */
void
netproc_kv_free(struct netproc_kv *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nconn; i++)
		conn_clear(&st->conn[i]);
	privsep_msg_free(&st->pending);
	free(st);
}

/* A malformed request: CERTO_ENOMEM (answered) or CERTO_EPRIVSEP. */
static int
bad(const struct privsep_msg *req)
{
	return req->err == CERTO_ENOMEM ? CERTO_ENOMEM : CERTO_EPRIVSEP;
}

/*
 * The connection to the request's store (URL and timeouts read from
 * req), made now when the channel has none (kv_open: its resends).
 * Returns 0 and *kv, a code with its message, or -1 (malformed).
 */
static int
conn_get(struct netproc_kv *st, struct privsep_msg *req, struct kv **kv)
{
	struct netproc_kv_conn *c = NULL;
	int64_t t[3];
	char *url = NULL;
	int rc = 0;

	if (privsep_get_str(req, &url) != 0 || url == NULL ||
	    privsep_get_i64(req, &t[0]) != 0 ||
	    privsep_get_i64(req, &t[1]) != 0 ||
	    privsep_get_i64(req, &t[2]) != 0 || t[0] < 0 || t[0] > 600000 ||
	    t[1] < 0 || t[1] > 600000 || t[2] < 0 || t[2] > 600000) {
		free(url);
		return -1;
	}
	for (size_t i = 0; i < st->nconn && c == NULL; i++)
		if (strcmp(st->conn[i].url, url) == 0)
			c = &st->conn[i];
	if (c == NULL) {
		if (st->nconn == NETPROC_KV_CONNS) {
			conn_clear(&st->conn[0]);
			memmove(&st->conn[0], &st->conn[1],
			    (NETPROC_KV_CONNS - 1) * sizeof(st->conn[0]));
			st->nconn--;
		}
		c = &st->conn[st->nconn];
		memset(c, 0, sizeof(*c));
		if ((rc = kv_open(url, &c->kv)) == 0) {
			c->url = url;
			url = NULL;
			st->nconn++;
		}
	}
	if (rc == 0) {
		kv_set_timeouts(c->kv, (int)t[0], (int)t[1], (int)t[2]);
		*kv = c->kv;
	}
	if (url != NULL)
		memset(url, 0, strlen(url));
	free(url);
	return rc;
}

/* A reply node and its elements into m (privsep_priv.h). */
int
netproc_kv_encode(struct privsep_msg *m, const struct kv_reply *r)
{
	int rc = privsep_put_u64(m, r->type);

	if (rc != 0)
		return rc;
	switch (r->type) {
	case KV_INT:
		return privsep_put_i64(m, r->integer);
	case KV_STR:
	case KV_STATUS:
		return privsep_put_bytes(m, r->str != NULL ? r->str : "",
		    r->len);
	case KV_ARRAY:
		rc = privsep_put_u64(m, r->nelem);
		for (size_t i = 0; rc == 0 && i < r->nelem; i++)
			rc = netproc_kv_encode(m, &r->elem[i]);
		return rc;
	default:
		return 0;
	}
}

/* The next slice of the pending reply (after its total length when
 * first): answered. */
static int
send_slice(int fd, struct netproc_kv *st, bool first)
{
	struct privsep_msg extra;
	size_t n = st->pending.buf.len - st->sent;
	int rc = 0, ret;

	if (n > PRIVSEP_KV_SLICE)
		n = PRIVSEP_KV_SLICE;
	privsep_msg_init(&extra, PS_REPLY);
	if (first)
		rc = privsep_put_u64(&extra, st->pending.buf.len);
	if (rc == 0)
		rc = privsep_put_bytes(&extra, st->pending.buf.data + st->sent,
		    n);
	if (rc != 0)
		ret = netproc_reply(fd, certo_fail(CERTO_ENOMEM, "out of "
		    "memory"), NULL);
	else
		ret = netproc_reply(fd, 0, &extra);
	privsep_msg_free(&extra);
	st->sent += n;
	if (rc != 0 || st->sent >= st->pending.buf.len) {
		privsep_msg_free(&st->pending);
		st->sent = 0;
	}
	return ret;
}

/* PS_KV_COMMAND on kv: want (a reply wanted), argc, the arguments. */
static int
do_command(int fd, struct netproc_kv *st, struct kv *kv,
    struct privsep_msg *req)
{
	struct kv_reply *r = NULL;
	uint64_t want, argc;
	char **argv = NULL;
	const char **cargv = NULL;
	size_t *argvlen = NULL, i = 0;
	int rc;

	if (privsep_get_u64(req, &want) != 0 ||
	    privsep_get_u64(req, &argc) != 0 || argc == 0 ||
	    argc > NETPROC_KV_ARGS)
		return bad(req);
	if ((argv = calloc((size_t)argc, sizeof(*argv))) == NULL ||
	    (cargv = calloc((size_t)argc, sizeof(*cargv))) == NULL ||
	    (argvlen = calloc((size_t)argc, sizeof(*argvlen))) == NULL) {
		free(argv);
		free(cargv);
		return CERTO_ENOMEM;
	}
	for (; i < argc; i++) {
		if (privsep_get_bytes(req, &argv[i], &argvlen[i]) != 0)
			break;
		cargv[i] = argv[i];
	}
	if (i < argc || req->pos != req->buf.len)
		rc = -1;
	else
		rc = kv_command_argv(kv, want ? &r : NULL, (int)argc, cargv,
		    argvlen);
	for (size_t k = 0; k < argc; k++)
		free(argv[k]);
	free(argv);
	free(cargv);
	free(argvlen);
	if (rc == -1)
		return bad(req);
	if (rc != 0 || !want)
		return netproc_reply(fd, rc, NULL);
	privsep_msg_init(&st->pending, 0);
	buf_init(&st->pending.buf, PRIVSEP_KV_ENCODED_MAX);
	rc = netproc_kv_encode(&st->pending, r);
	kv_reply_free(r);
	if (rc != 0) {
		privsep_msg_free(&st->pending);
		if (rc == CERTO_ETOOBIG)
			rc = certo_fail(CERTO_ESTORE, "store reply over %u "
			    "bytes encoded", PRIVSEP_KV_ENCODED_MAX);
		else
			rc = certo_fail(CERTO_ENOMEM, "out of memory");
		return netproc_reply(fd, rc, NULL);
	}
	st->sent = 0;
	return send_slice(fd, st, true);
}

/* PS_KV_OPEN or PS_KV_COMMAND on the channel's connections st. */
static int
do_request(int fd, struct netproc_kv *st, struct privsep_msg *req)
{
	struct kv *kv = NULL;
	int rc;

	/* A new request: what was left of the last reply is dropped. */
	privsep_msg_free(&st->pending);
	st->sent = 0;
	if ((rc = conn_get(st, req, &kv)) == -1)
		return bad(req);
	if (rc != 0 || req->type == PS_KV_OPEN)
		return netproc_reply(fd, rc, NULL);
	return do_command(fd, st, kv, req);
}

/* The PS_KV_* requests (privsep_priv.h). */
int
netproc_kv(int fd, struct netproc_kv **stp, struct privsep_msg *req)
{
	int rc;

	pthread_once(&netproc_kv_once, netproc_kv_init);
	if (*stp == NULL && (*stp = calloc(1, sizeof(**stp))) == NULL)
		return CERTO_ENOMEM;
	if (req->type == PS_KV_MORE)
		return (*stp)->pending.buf.len == 0 ? CERTO_EPRIVSEP :
		    send_slice(fd, *stp, false);
	rc = do_request(fd, *stp, req);
	/* The URL holds the password: not left in freed memory. */
	if (req->buf.data != NULL)
		memset(req->buf.data, 0, req->buf.len);
	return rc;
}
