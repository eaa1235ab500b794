/*
 * The key process's store connections (kv.h's transport, set by
 * privsep_start()): kv_open() and every command of a --store run go to
 * the network process, which holds the Redis connections, over a
 * channel of the calling thread's own (kvlock.c's renewers and renew's
 * parallel orders keep their own connections, as with http.c's
 * handles).  The reply comes back as typed fields (privsep_priv.h),
 * rebuilt here into a struct kv_reply within kv.h's caps.
 */
#include "privsep.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "kv.h"
#include "privsep_priv.h"

/* The calling thread's channel for the store. */
static pthread_key_t kv_chan_key;
static pthread_once_t kv_chan_once = PTHREAD_ONCE_INIT;
static int kv_chan_key_rc;

/* What a reply rebuilt so far holds. */
struct kv_count {
	size_t nodes;
	size_t bytes;
};

static void
chan_free(void *p)
{
	privsep_chan_close(p);
	free(p);
}

static void
chan_key_init(void)
{
	kv_chan_key_rc = pthread_key_create(&kv_chan_key, chan_free);
}

/* The thread's channel (opened by privsep_call() at first use). */
static int
thread_chan(struct privsep_chan **out)
{
	struct privsep_chan *chan;

	pthread_once(&kv_chan_once, chan_key_init);
	if (kv_chan_key_rc != 0)
		return certo_fail(CERTO_EPRIVSEP, "internal error: no channel "
		    "for the store");
	if ((chan = pthread_getspecific(kv_chan_key)) == NULL) {
		if ((chan = calloc(1, sizeof(*chan))) == NULL)
			return certo_fail(CERTO_ENOMEM, "out of memory");
		chan->fd = -1;
		if (pthread_setspecific(kv_chan_key, chan) != 0) {
			free(chan);
			return certo_fail(CERTO_ENOMEM, "out of memory");
		}
	}
	*out = chan;
	return 0;
}

/* Free the messages (the request, which holds the URL and so the
 * password, wiped first) and return rc. */
static int
done(struct privsep_msg *req, struct privsep_msg *reply, int rc)
{
	if (req->buf.data != NULL)
		memset(req->buf.data, 0, req->buf.cap);
	privsep_msg_free(req);
	privsep_msg_free(reply);
	if (rc == CERTO_ENOMEM)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	return rc;
}

/* The connection a request is for: the URL and the kv's timeouts. */
static int
put_target(struct privsep_msg *m, const char *url, int connect_ms,
    int command_ms, int wait_ms)
{
	int rc;

	if ((rc = privsep_put_str(m, url)) != 0 ||
	    (rc = privsep_put_i64(m, connect_ms)) != 0 ||
	    (rc = privsep_put_i64(m, command_ms)) != 0)
		return rc;
	return privsep_put_i64(m, wait_ms);
}

/* kv_open() through the network process: it connects (kv.h). */
static int
tp_open(const char *url, int connect_ms, int command_ms, int wait_ms)
{
	struct privsep_msg req, reply;
	struct privsep_chan *chan;
	int rc;

	privsep_msg_init(&req, PS_KV_OPEN);
	privsep_msg_init(&reply, 0);
	if ((rc = thread_chan(&chan)) == 0 &&
	    (rc = put_target(&req, url, connect_ms, command_ms, wait_ms)) == 0)
		rc = privsep_call(chan, &req, &reply, NULL, NULL);
	return done(&req, &reply, rc);
}

/* A reply that breaks the encoding or the caps. */
static int
malformed(void)
{
	return certo_fail(CERTO_EPRIVSEP, "internal error: a malformed store "
	    "reply from the network process");
}

/*
 * One node of the reply (and its elements) from m into r, at depth:
 * 0, -1 when malformed or over the caps (kv.h: KV_REPLY_MAX bytes of
 * strings, KV_ARRAY_MAX elements per array; nodes at most one per 3
 * bytes, as in RESP), or CERTO_ENOMEM.
 */
static int
decode(struct privsep_msg *m, struct kv_reply *r, int depth,
    struct kv_count *cnt)
{
	uint64_t type, n;
	int64_t v;
	int rc;

	if (depth > PRIVSEP_KV_DEPTH_MAX || ++cnt->nodes > KV_REPLY_MAX / 3 ||
	    privsep_get_u64(m, &type) != 0)
		return m->err == CERTO_ENOMEM ? CERTO_ENOMEM : -1;
	switch (type) {
	case KV_NIL:
		r->type = KV_NIL;
		return 0;
	case KV_INT:
		r->type = KV_INT;
		if (privsep_get_i64(m, &v) != 0)
			return -1;
		r->integer = v;
		return 0;
	case KV_STR:
	case KV_STATUS:
		r->type = (enum kv_type)type;
		if (privsep_get_bytes(m, &r->str, &r->len) != 0)
			return m->err == CERTO_ENOMEM ? CERTO_ENOMEM : -1;
		cnt->bytes += r->len;
		return cnt->bytes > KV_REPLY_MAX ? -1 : 0;
	case KV_ARRAY:
		r->type = KV_ARRAY;
		/* Every element takes 9 bytes at least: no allocation for
		 * elements the message cannot hold. */
		if (privsep_get_u64(m, &n) != 0 || n > KV_ARRAY_MAX ||
		    n > (m->buf.len - m->pos) / 9)
			return -1;
		if (n == 0)
			return 0;
		if ((r->elem = calloc((size_t)n, sizeof(*r->elem))) == NULL)
			return CERTO_ENOMEM;
		r->nelem = (size_t)n;
		for (size_t i = 0; i < r->nelem; i++)
			if ((rc = decode(m, &r->elem[i], depth + 1, cnt)) != 0)
				return rc;
		return 0;
	default:
		return -1;
	}
}

/* Add the slice of reply (bytes, at most want of them) to all. */
static int
add_slice(struct privsep_msg *reply, struct privsep_msg *all, size_t want)
{
	char *p = NULL;
	size_t n = 0;
	int rc;

	if (privsep_get_bytes(reply, &p, &n) != 0)
		return privsep_malformed(reply);
	if (n == 0 || n > want || reply->pos != reply->buf.len)
		rc = malformed();
	else if (buf_add(&all->buf, p, n) != 0)
		rc = certo_fail(CERTO_ENOMEM, "out of memory");
	else
		rc = 0;
	free(p);
	return rc;
}

/*
 * The reply of a PS_KV_COMMAND (reply: its total length and first
 * slice; the rest asked for with PS_KV_MORE on chan), rebuilt into *out.
 */
static int
get_reply(struct privsep_chan *chan, struct privsep_msg *reply,
    struct kv_reply **out)
{
	struct privsep_msg all, req, more;
	uint64_t total;
	int rc;

	privsep_msg_init(&all, 0);
	if (privsep_get_u64(reply, &total) != 0)
		return privsep_malformed(reply);
	if (total == 0 || total > PRIVSEP_KV_ENCODED_MAX)
		return malformed();
	buf_init(&all.buf, (size_t)total);
	rc = add_slice(reply, &all, (size_t)total);
	while (rc == 0 && all.buf.len < total) {
		privsep_msg_init(&req, PS_KV_MORE);
		if ((rc = privsep_call(chan, &req, &more, NULL, NULL)) == 0)
			rc = add_slice(&more, &all, (size_t)total -
			    all.buf.len);
		privsep_msg_free(&req);
		privsep_msg_free(&more);
	}
	if (rc == 0)
		rc = privsep_kv_rebuild(&all, out);
	privsep_msg_free(&all);
	return rc;
}

/* A reply from its typed fields, checked (privsep_priv.h). */
int
privsep_kv_rebuild(struct privsep_msg *m, struct kv_reply **out)
{
	struct kv_count cnt = { 0, 0 };
	int rc = 0;

	if ((*out = calloc(1, sizeof(**out))) == NULL)
		rc = CERTO_ENOMEM;
	if (rc == 0 && (rc = decode(m, *out, 0, &cnt)) == 0 &&
	    m->pos != m->buf.len)
		rc = -1;
	if (rc == -1)
		rc = malformed();
	else if (rc == CERTO_ENOMEM)
		rc = certo_fail(CERTO_ENOMEM, "out of memory");
	if (rc != 0) {
		kv_reply_free(*out);
		*out = NULL;
	}
	return rc;
}

/* One command through the network process (kv.h). */
static int
tp_command(const char *url, int connect_ms, int command_ms, int wait_ms,
    int argc, const char **argv, const size_t *argvlen,
    struct kv_reply **out)
{
	struct privsep_msg req, reply;
	struct privsep_chan *chan = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	privsep_msg_init(&req, PS_KV_COMMAND);
	privsep_msg_init(&reply, 0);
	if ((rc = thread_chan(&chan)) == 0)
		rc = put_target(&req, url, connect_ms, command_ms, wait_ms);
	if (rc == 0)
		rc = privsep_put_u64(&req, out != NULL);
	if (rc == 0)
		rc = privsep_put_u64(&req, (uint64_t)argc);
	for (int i = 0; rc == 0 && i < argc; i++)
		rc = privsep_put_bytes(&req, argv[i], argvlen[i]);
	if (rc == CERTO_ETOOBIG || (rc == 0 && req.buf.len >
	    PRIVSEP_KV_REQUEST_MAX))
		rc = certo_fail(CERTO_ESTORE, "store command %.*s over %u "
		    "bytes", argc > 0 && argvlen[0] < 32 ? (int)argvlen[0] : 0,
		    argc > 0 ? argv[0] : "", PRIVSEP_KV_REQUEST_MAX);
	if (rc == 0)
		rc = privsep_call(chan, &req, &reply, NULL, NULL);
	if (rc == 0 && out != NULL)
		rc = get_reply(chan, &reply, out);
	return done(&req, &reply, rc);
}

/* The transport privsep_start() sets (kv.h). */
const struct kv_transport privsep_kv_transport = {
	.open = tp_open,
	.command = tp_command,
};
