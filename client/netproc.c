/*
 * The network process (privsep.h): forked by the key process at start,
 * it reads what name resolution needs, leaves root, enters its sandbox
 * and then serves channels, one thread each.  Requests come only from
 * the key process; replies are checked there.
 */
#include "privsep.h"

#include <ares.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "doc.h"
#include "errors.h"
#include "http.h"
#include "log.h"
#include "privsep_priv.h"
#include "solver_http01.h"

/* A request is at most this long (a JWS POST, a trust bundle). */
#define REQUEST_MAX (2u * 1024 * 1024)

/* What one channel's thread holds. */
struct chan_state {
	int fd;
	void *curl;                /* CURL *, made on the first transfer */
	char *trust;               /* the PEM bundle of the channel */
	size_t trustlen;
	bool have_trust;
	unsigned gen;              /* changes with the trust: libcurl does
	                            * not reuse connections across it */
	struct solver sa;          /* the standalone responders, if any */
	struct netproc_kv *kv;     /* the store connections (netproc_kv.c) */
};

int
netproc_reply(int fd, int rc, const struct privsep_msg *extra)
{
	struct privsep_msg m;
	int ret;

	privsep_msg_init(&m, PS_REPLY);
	if (privsep_put_i64(&m, rc) != 0 || privsep_put_str(&m, rc != 0 ?
	    (certo_errmsg() ? certo_errmsg() : certo_strerror(rc)) : NULL) !=
	    0 || (extra != NULL && buf_add(&m.buf, extra->buf.data,
	    extra->buf.len) != 0)) {
		privsep_msg_free(&m);
		privsep_msg_init(&m, PS_REPLY);
		privsep_put_i64(&m, CERTO_ENOMEM);
		privsep_put_str(&m, "out of memory");
	}
	ret = privsep_send(fd, &m);
	privsep_msg_free(&m);
	certo_errclear();
	return ret;
}

/*
 * A request that could not be read: CERTO_ENOMEM (answered so by
 * dispatch()) or CERTO_EPRIVSEP (malformed: the channel ends).
 */
static int
bad(const struct privsep_msg *req)
{
	return req->err == CERTO_ENOMEM ? CERTO_ENOMEM : CERTO_EPRIVSEP;
}

/* PS_TRUST: the channel's bundle (or none). */
static int
do_trust(struct chan_state *st, struct privsep_msg *req)
{
	char *pem = NULL;
	size_t len = 0;

	if (req->pos < req->buf.len && req->buf.data[req->pos] == 3) {
		if (privsep_get_str(req, &pem) != 0)
			return bad(req);
	} else if (privsep_get_bytes(req, &pem, &len) != 0)
		return bad(req);
	free(st->trust);
	st->trust = pem;
	st->trustlen = len;
	st->have_trust = true;
	st->gen++;
	return netproc_reply(st->fd, 0, NULL);
}

/* The response of a transfer, after rc and message. */
static int
put_resp(struct privsep_msg *m, const struct http_xfer *x,
    const struct http_resp *resp, const struct http_xfer_out *out)
{
	char ra[24] = "";
	long secs;
	int rc = 0;

	/* Retry-After crosses as seconds (an HTTP-date is read here). */
	if (resp->retry_after != NULL &&
	    http_parse_retry_after(resp->retry_after, time(NULL), &secs) == 0)
		snprintf(ra, sizeof(ra), "%ld", secs);
	rc |= privsep_put_i64(m, out->cc);
	rc |= privsep_put_str(m, out->ebuf);
	rc |= privsep_put_i64(m, resp->status);
	/* A body to be read as a document never crosses, not even the
	 * part a failed transfer left (then nothing was read). */
	if (x->doc != 0 || resp->body.data == NULL)
		rc |= privsep_put_bytes(m, "", 0);
	else
		rc |= privsep_put_bytes(m, resp->body.data, resp->body.len);
	rc |= privsep_put_str(m, resp->content_type);
	rc |= privsep_put_str(m, resp->location);
	rc |= privsep_put_str(m, resp->replay_nonce);
	rc |= privsep_put_str(m, ra[0] != '\0' ? ra : NULL);
	rc |= privsep_put_u64(m, resp->nlinks);
	for (size_t i = 0; i < resp->nlinks; i++) {
		rc |= privsep_put_str(m, resp->links[i].url);
		rc |= privsep_put_str(m, resp->links[i].rel);
	}
	rc |= privsep_put_u64(m, resp->header_bytes);
	rc |= privsep_put_u64(m, resp->nomem);
	rc |= privsep_put_i64(m, out->root);
	/* The body read here (doc.h): only its typed fields cross. */
	if (x->doc != 0)
		rc |= doc_put(m, resp->doc);
	return rc != 0 ? CERTO_ENOMEM : 0;
}

/* The fields of a PS_HTTP request into x and opts (strings owned). */
static int
get_xfer(struct privsep_msg *req, struct http_xfer *x,
    struct http_opts *opts, char **s)
{
	uint64_t max, cainfo, certinfo, allow, doc;
	int64_t t1, t2, t3;

	if (privsep_get_str(req, &s[0]) != 0 || s[0] == NULL ||
	    privsep_get_str(req, &s[1]) != 0 || s[1] == NULL ||
	    privsep_get_str(req, &s[2]) != 0 ||
	    privsep_get_str(req, &s[3]) != 0 ||
	    privsep_get_u64(req, &max) != 0 || max > REQUEST_MAX ||
	    privsep_get_u64(req, &cainfo) != 0 ||
	    privsep_get_u64(req, &certinfo) != 0 ||
	    privsep_get_u64(req, &allow) != 0 ||
	    privsep_get_u64(req, &doc) != 0 || doc >= DOC_PROBLEM ||
	    privsep_get_str(req, &s[5]) != 0 ||
	    privsep_get_i64(req, &t1) != 0 || privsep_get_i64(req, &t2) != 0 ||
	    privsep_get_i64(req, &t3) != 0)
		return bad(req) == CERTO_ENOMEM ? certo_fail(CERTO_ENOMEM,
		    "out of memory") : certo_fail(CERTO_EPRIVSEP, "internal "
		    "error: a malformed request to the network process");
	x->method = s[0];
	x->url = s[1];
	x->content_type = s[2];
	x->body = s[3];
	x->max_body = (size_t)max;
	x->certinfo = certinfo != 0;
	x->doc = (unsigned)doc;
	x->doc_arg = s[5];
	x->cainfo = cainfo ? s[4] : NULL;
	opts->allow_http = allow != 0;
	opts->connect_timeout_ms = (long)t1;
	opts->total_timeout_ms = (long)t2;
	opts->low_speed_time_ms = (long)t3;
	return 0;
}

static void test_violation(const char *method);
static int handle(struct chan_state *st, struct privsep_msg *req);

/* PS_HTTP: one transfer with the channel's handle and bundle. */
static int
do_http(struct chan_state *st, struct privsep_msg *req)
{
	struct http_xfer x = { 0 };
	struct http_opts opts = { 0 };
	struct http_resp resp;
	struct http_xfer_out out = { 0 };
	struct privsep_msg extra;
	struct curl_slist *resolve = NULL;
	char *s[6] = { NULL }, mark[64];
	int rc, ret;

	memset(&resp, 0, sizeof(resp));
	privsep_msg_init(&extra, PS_REPLY);
	snprintf(mark, sizeof(mark), "%s%u", NETPROC_TRUST_MARK, st->gen);
	s[4] = mark;
	if ((rc = get_xfer(req, &x, &opts, s)) != 0)
		goto out;
	s[4] = NULL;
	test_violation(x.method);
	buf_init(&resp.body, x.max_body);
	if (st->curl == NULL && (st->curl = curl_easy_init()) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = netproc_net_resolve(x.url, &resolve)) != 0)
		goto out;
	x.resolve = resolve;
	netproc_net_set_trust(st->have_trust ? st->trust : NULL,
	    st->trustlen);
	x.trust_pem = st->have_trust ? st->trust : NULL; /* trustpin_find */
	x.trust_len = st->trustlen;
	rc = http_xfer_perform(st->curl, &opts, &x, &resp, &out);
	netproc_net_set_trust(NULL, 0);
	if (rc == 0)
		rc = put_resp(&extra, &x, &resp, &out);
out:
	ret = netproc_reply(st->fd, rc, rc == 0 ? &extra : NULL);
	for (size_t i = 0; i < 4; i++)
		free(s[i]);
	free(s[5]); /* s[4] is the trust mark, on the stack */
	curl_slist_free_all(resolve);
	http_resp_free(&resp);
	http_xfer_out_free(&out);
	privsep_msg_free(&extra);
	return ret;
}

/* PS_TCP_PROBE. */
static int
do_probe(struct chan_state *st, struct privsep_msg *req)
{
	struct privsep_msg extra;
	char *host = NULL, why[400];
	uint64_t port;
	int ret;

	if (privsep_get_str(req, &host) != 0 || host == NULL ||
	    privsep_get_u64(req, &port) != 0 || port > 65535) {
		free(host);
		return bad(req);
	}
	solver_http01_probe(host, (unsigned short)port, why, sizeof(why));
	privsep_msg_init(&extra, PS_REPLY);
	if (privsep_put_str(&extra, why) != 0)
		ret = netproc_reply(st->fd, CERTO_ENOMEM, NULL);
	else
		ret = netproc_reply(st->fd, 0, &extra);
	privsep_msg_free(&extra);
	free(host);
	return ret;
}

/*
 * One request of a channel.  Each handler answers and returns 0, or
 * returns CERTO_ENOMEM unanswered (answered here), or CERTO_EPRIVSEP:
 * the channel ends (a malformed request, or the key process is gone).
 */
static int
dispatch(struct chan_state *st, struct privsep_msg *req)
{
	int rc = handle(st, req);

	if (rc == CERTO_ENOMEM)
		rc = netproc_reply(st->fd, certo_fail(CERTO_ENOMEM,
		    "out of memory"), NULL);
	return rc;
}

/* The handler of the request's type. */
static int
handle(struct chan_state *st, struct privsep_msg *req)
{
	switch (req->type) {
	case PS_TRUST:
		return do_trust(st, req);
	case PS_HTTP:
		return do_http(st, req);
	case PS_TCP_PROBE:
		return do_probe(st, req);
	case PS_DNS_WAIT:
		return netproc_dns_wait(st->fd, req);
	case PS_SA_START:
	case PS_SA_PUBLISH:
	case PS_SA_SELFCHECK:
	case PS_SA_WITHDRAW:
	case PS_SA_STOP:
		return netproc_sa(st->fd, &st->sa, req);
	case PS_KV_OPEN:
	case PS_KV_COMMAND:
	case PS_KV_MORE:
		return netproc_kv(st->fd, &st->kv, req);
	default:
		return CERTO_EPRIVSEP;
	}
}

/* A channel's thread: requests until the key process closes it. */
static void *
serve(void *arg)
{
	struct chan_state st;
	struct privsep_msg req;

	memset(&st, 0, sizeof(st));
	st.fd = (int)(intptr_t)arg;
	for (;;) {
		int rc = privsep_recv(st.fd, &req, REQUEST_MAX);

		if (rc == CERTO_ENOMEM) /* read past: answer it */
			rc = netproc_reply(st.fd, certo_fail(CERTO_ENOMEM,
			    "out of memory"), NULL);
		else if (rc == 0)
			rc = dispatch(&st, &req);
		privsep_msg_free(&req);
		if (rc == CERTO_EPRIVSEP)
			break;
	}
	privsep_msg_free(&req);
	if (st.sa.ops != NULL)
		st.sa.ops->stop(st.sa.ctx);
	if (st.curl != NULL)
		curl_easy_cleanup(st.curl);
	netproc_kv_free(st.kv);
	free(st.trust);
	close(st.fd);
	return NULL;
}

/* Close every descriptor but 0-2 and keep[0..1]. */
static void
close_others(const int *keep)
{
	int lo = keep[0] < keep[1] ? keep[0] : keep[1];
	int hi = keep[0] < keep[1] ? keep[1] : keep[0];

	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0u, 0);
}

/*
 * For the test of the sandbox (CERTO_PRIVSEP_TEST_VIOLATION builds
 * only): at its first POST the network process opens the file
 * $CERTO_TEST_NETPROC_OPEN, as a compromised one would.
 */
static void
test_violation(const char *method)
{
#ifdef CERTO_PRIVSEP_TEST_VIOLATION
	const char *path = getenv("CERTO_TEST_NETPROC_OPEN");
	char b[64];
	int fd;

	if (path == NULL || *path == '\0' || strcmp(method, "POST") != 0)
		return;
	if ((fd = open(path, O_RDONLY)) >= 0) {
		if (read(fd, b, sizeof(b)) > 0)
			log_error("privsep test: the network process read %s",
			    path);
		close(fd);
	}
#else
	(void)method;
#endif
}

/*
 * Why the network process could not start, for the key process to show
 * (privsep.c reads it): PRIVSEP_DEATH_START, the code, the message.
 */
static void
report_start_failure(int death, int rc)
{
	unsigned char b[8 + 200];
	const char *msg = certo_errmsg() ? certo_errmsg() : certo_strerror(rc);
	size_t n = strlen(msg) < 200 ? strlen(msg) : 200;
	uint32_t v[2] = { PRIVSEP_DEATH_START, (uint32_t)rc };

	for (size_t i = 0; i < 8; i++)
		b[i] = (unsigned char)(v[i / 4] >> (8 * (i % 4)));
	memcpy(b + 8, msg, n);
	if (write(death, b, 8 + n) < 0)
		_exit(4);
}

void
netproc_main(int ctl, int death, const struct privsep_opts *opts)
{
	int keep[2] = { ctl, death }, fd, rc;
	pthread_attr_t attr;
	pthread_t th;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close_others(keep);
	prctl(PR_SET_NAME, "certo-net");
	tzset();
	/* Forked before the key process set up its libraries: our own. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    gnutls_global_init() < 0 ||
	    ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		rc = certo_fail(CERTO_ECRYPTO, "library initialisation failed");
	else
		rc = 0;
	if (rc != 0 || (rc = netproc_net_init()) != 0 ||
	    (rc = netproc_sandbox_drop(opts)) != 0 ||
	    (rc = netproc_sandbox_enter(death)) != 0) {
		report_start_failure(death, rc);
		_exit(4);
	}
	netproc_net_sandboxed();
	doc_init(); /* bodies are read here (doc.h) */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while ((fd = privsep_recv_fd(ctl)) >= 0)
		if (pthread_create(&th, &attr, serve, (void *)(intptr_t)fd) !=
		    0)
			close(fd);
	pthread_attr_destroy(&attr);
	close(ctl);
#ifdef CERTO_SANITIZER
	exit(0); /* LeakSanitizer checks the process at exit */
#else
	/* Nothing to flush or write: the libraries' destructors would only
	 * make the key process wait. */
	_exit(0);
#endif
}
