/*
 * The key process's requests to the network process: HTTP transfers
 * (the transport of http.c), the http-01 TCP probe, DNS-01 waits and
 * the standalone responders.  Every reply is checked against what was
 * asked (caps, counts) before it is used.
 */
#include "privsep.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"
#include "errors.h"
#include "file.h"
#include "http.h"
#include "log.h"
#include "privsep_priv.h"

/* The largest trust bundle sent (Debian's is about 220 KiB). */
#define TRUST_MAX (1536u * 1024)

/* Free a message and return rc (the ENOMEM of a put is kept). */
static int
done(struct privsep_msg *a, struct privsep_msg *b, int rc)
{
	privsep_msg_free(a);
	privsep_msg_free(b);
	if (rc == CERTO_ENOMEM || rc == CERTO_ETOOBIG)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	return rc;
}


/* A trust file (the pinned root may be /proc/self/fd/N, a link):
 * 0, CERTO_ENOMEM, or -1 when it cannot be read. */
static int
read_trust(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *p = NULL;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)TRUST_MAX) {
		close(fd);
		return -1;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return certo_fail(CERTO_ENOMEM, "out of memory");
	}
	if ((r = pread(fd, p, (size_t)st.st_size, 0)) != st.st_size) {
		free(p);
		close(fd);
		return -1;
	}
	close(fd);
	p[r] = '\0';
	*out = p;
	*len = (size_t)r;
	return 0;
}

/*
 * The trust file of x for the channel, when it is not the one the
 * channel has: its contents (a file that cannot be read is sent as
 * none: the transfer then fails as with a missing file, and http.c
 * goes back to the bundle).
 */
static int
send_trust(struct privsep_chan *chan, const char *cainfo)
{
	struct privsep_msg req, reply;
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if (cainfo == NULL || (chan->trust != NULL &&
	    strcmp(chan->trust, cainfo) == 0))
		return 0;
	if ((rc = read_trust(cainfo, &pem, &len)) == CERTO_ENOMEM)
		return rc;
	if (rc != 0)
		pem = NULL;
	privsep_msg_init(&req, PS_TRUST);
	privsep_msg_init(&reply, 0);
	rc = pem != NULL ? privsep_put_bytes(&req, pem, len) :
	    privsep_put_str(&req, NULL);
	free(pem);
	if (rc == 0 && (rc = privsep_call(chan, &req, &reply, NULL, NULL)) ==
	    0) {
		free(chan->trust);
		if ((chan->trust = strdup(cainfo)) == NULL)
			rc = CERTO_ENOMEM;
	}
	return done(&req, &reply, rc);
}

/* The request of one transfer. */
static int
put_xfer(struct privsep_msg *req, const struct http_opts *opts,
    const struct http_xfer *x)
{
	int rc;

	if ((rc = privsep_put_str(req, x->method)) != 0 ||
	    (rc = privsep_put_str(req, x->url)) != 0 ||
	    (rc = privsep_put_str(req, x->content_type)) != 0 ||
	    (rc = privsep_put_str(req, x->body)) != 0 ||
	    (rc = privsep_put_u64(req, x->max_body)) != 0 ||
	    (rc = privsep_put_u64(req, x->cainfo != NULL)) != 0 ||
	    (rc = privsep_put_u64(req, x->certinfo)) != 0 ||
	    (rc = privsep_put_u64(req, opts->allow_http)) != 0 ||
	    (rc = privsep_put_u64(req, x->doc)) != 0 ||
	    (rc = privsep_put_str(req, x->doc_arg)) != 0 ||
	    (rc = privsep_put_i64(req, opts->connect_timeout_ms)) != 0 ||
	    (rc = privsep_put_i64(req, opts->total_timeout_ms)) != 0)
		return rc;
	return privsep_put_i64(req, opts->low_speed_time_ms);
}

/* A string of the reply, or NULL. */
static int
get_opt_str(struct privsep_msg *m, char **s)
{
	return privsep_get_str(m, s) != 0 ? privsep_malformed(m) : 0;
}

/* The response of one transfer, checked against x. */
static int
get_xfer(struct privsep_msg *m, const struct http_xfer *x,
    struct http_resp *resp, struct http_xfer_out *out)
{
	uint64_t n, flag, hb;
	int64_t cc, status, root;
	char *s = NULL;
	size_t len;
	int rc;

	if (privsep_get_i64(m, &cc) != 0 || privsep_get_str(m, &s) != 0 ||
	    privsep_get_i64(m, &status) != 0 ||
	    privsep_get_bytes(m, &resp->body.data, &len) != 0 ||
	    len > x->max_body || (x->doc != 0 && len != 0))
		goto bad;
	out->cc = (long)cc;
	snprintf(out->ebuf, sizeof(out->ebuf), "%s", s ? s : "");
	free(s);
	s = NULL;
	resp->body.len = len;
	resp->body.cap = len + 1;
	resp->status = (long)status;
	if ((rc = get_opt_str(m, &resp->content_type)) != 0 ||
	    (rc = get_opt_str(m, &resp->location)) != 0 ||
	    (rc = get_opt_str(m, &resp->replay_nonce)) != 0 ||
	    (rc = get_opt_str(m, &resp->retry_after)) != 0)
		return rc;
	/* Seconds only: the network process read the header. */
	if (resp->retry_after != NULL && (strlen(resp->retry_after) > 18 ||
	    strspn(resp->retry_after, "0123456789") !=
	    strlen(resp->retry_after)))
		goto bad;
	if (privsep_get_u64(m, &n) != 0 || n > HTTP_MAX_LINKS)
		goto bad;
	for (; resp->nlinks < n; resp->nlinks++)
		if (privsep_get_str(m, &resp->links[resp->nlinks].url) != 0 ||
		    privsep_get_str(m, &resp->links[resp->nlinks].rel) != 0 ||
		    resp->links[resp->nlinks].url == NULL ||
		    resp->links[resp->nlinks].rel == NULL) {
			resp->nlinks++;
			goto bad;
		}
	if (privsep_get_u64(m, &hb) != 0 || privsep_get_u64(m, &flag) != 0)
		goto bad;
	resp->header_bytes = (size_t)hb;
	resp->nomem = flag != 0;
	/* The bundle certificate's index: never the peer's chain. */
	if (privsep_get_i64(m, &root) != 0 || root < -1 ||
	    root > TRUST_MAX || (root >= 0 && !x->certinfo))
		goto bad;
	out->root = (long)root;
	/* The body, read there (doc.h): its checked typed fields. */
	if (x->doc != 0)
		return doc_get(m, x->doc, (struct certo_doc **)&resp->doc);
	return 0;
bad:
	free(s);
	return privsep_malformed(m);
}

/* http.c's transport: the transfer is the network process's. */
static int
http_perform(void **chanp, const struct http_opts *opts,
    const struct http_xfer *x, struct http_resp *resp,
    struct http_xfer_out *out)
{
	struct privsep_chan *chan = *chanp;
	struct privsep_msg req, reply;
	int rc;

	memset(out, 0, sizeof(*out));
	out->root = -1;
	if (chan == NULL) {
		if ((chan = calloc(1, sizeof(*chan))) == NULL)
			return certo_fail(CERTO_ENOMEM, "out of memory");
		if ((rc = privsep_chan_open(chan)) != 0) {
			free(chan);
			return rc;
		}
		*chanp = chan;
	}
	if ((rc = send_trust(chan, x->cainfo)) != 0)
		return rc;
	privsep_msg_init(&req, PS_HTTP);
	privsep_msg_init(&reply, 0);
	if ((rc = put_xfer(&req, opts, x)) != 0)
		return done(&req, &reply, rc);
	if ((rc = privsep_call(chan, &req, &reply, NULL, NULL)) == 0) {
		buf_free(&resp->body);
		rc = get_xfer(&reply, x, resp, out);
		resp->body.max = x->max_body;
	}
	return done(&req, &reply, rc);
}

static void
http_close(void *chan)
{
	privsep_chan_close(chan);
	free(chan);
}

/* The transport privsep_start() sets (http.h). */
const struct http_transport privsep_http_transport = {
	.perform = http_perform,
	.close = http_close,
};

void
privsep_tcp_probe(const char *host, unsigned short port, char *out,
    size_t len)
{
	struct privsep_chan chan = { -1, NULL };
	struct privsep_msg req, reply;
	char *why = NULL;

	out[0] = '\0';
	privsep_msg_init(&req, PS_TCP_PROBE);
	privsep_msg_init(&reply, 0);
	if (privsep_put_str(&req, host) == 0 &&
	    privsep_put_u64(&req, port) == 0 &&
	    privsep_call(&chan, &req, &reply, NULL, NULL) == 0 &&
	    privsep_get_str(&reply, &why) == 0 && why != NULL)
		log_str(out, len, why);
	certo_errclear();
	free(why);
	privsep_chan_close(&chan);
	done(&req, &reply, 0);
}
