/* ACME transport: nonces, JWS, POST-as-GET, retries. */
#include "request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"
#include "errors.h"
#include "jws.h"
#include "log.h"
#include "sig.h"

#define NONCE_MAX 256

/* The network retries of one request (see request.h). */
struct netretry {
	unsigned n;            /* resends so far */
	struct timespec t0;    /* first try */
};

static void
netretry_start(struct netretry *nr)
{
	nr->n = 0;
	clock_gettime(CLOCK_MONOTONIC, &nr->t0);
}

/* Milliseconds since the first try. */
static long
netretry_elapsed_ms(const struct netretry *nr)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - nr->t0.tv_sec) * 1000 +
	    (now.tv_nsec - nr->t0.tv_nsec) / 1000000;
}

/*
 * After the transient failure rc (its message recorded): wait the
 * backoff and return 0 to try again, or return rc when the resends or
 * the time budget are used up, or the error of an interrupted wait.
 * The wait for resend n is drawn from [d/2, d], d = 2^n * MIN capped
 * at MAX ("equal jitter"), so parallel renewals do not retry in step.
 */
static int
netretry_wait(struct netretry *nr, int rc)
{
	long d, ms;
	unsigned rnd;

	if (nr->n >= REQUEST_NET_RETRIES ||
	    netretry_elapsed_ms(nr) >= REQUEST_NET_BUDGET_S * 1000L ||
	    sig_pending())
		return rc;
	d = (long)REQUEST_BACKOFF_MIN_MS << (nr->n + 1);
	if (d > REQUEST_BACKOFF_MAX_MS)
		d = REQUEST_BACKOFF_MAX_MS;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (unsigned)netretry_elapsed_ms(nr) * 2654435761u;
	ms = d / 2 + (long)(rnd % (unsigned)(d / 2 + 1));
	nr->n++;
	log_info("%s; retry %u of %d in %.1f s",
	    certo_errmsg() ? certo_errmsg() : certo_strerror(rc), nr->n,
	    REQUEST_NET_RETRIES, (double)ms / 1000.0);
	certo_errclear();
	return sig_sleep_ms(ms);
}

/* An answer worth asking again: 5xx without a usable problem document. */
static bool
server_fault(const struct http_resp *r, int rc)
{
	return r->status >= 500 && r->status <= 599 && rc == CERTO_EHTTP;
}

int
request_init(struct certo_req *req, const struct http_opts *o)
{
	memset(req, 0, sizeof(*req));
	return http_init(&req->http, o);
}

void
request_free(struct certo_req *req)
{
	if (req == NULL)
		return;
	http_free(&req->http);
	free(req->new_nonce_url);
	free(req->nonce);
	free(req->kid);
	memset(req, 0, sizeof(*req));
}

int
request_set_new_nonce_url(struct certo_req *req, const char *url)
{
	free(req->new_nonce_url);
	req->new_nonce_url = strdup(url);
	return req->new_nonce_url ? 0 : CERTO_ENOMEM;
}

int
request_set_account(struct certo_req *req, const struct certo_key *key,
    const char *kid)
{
	req->key = key;
	free(req->kid);
	req->kid = NULL;
	if (kid != NULL && (req->kid = strdup(kid)) == NULL)
		return CERTO_ENOMEM;
	return 0;
}

/* Remember the Replay-Nonce of any response (RFC 8555 section 6.5). */
static void
take_nonce(struct certo_req *req, struct http_resp *r)
{
	if (r->replay_nonce == NULL)
		return;
	/* A nonce is base64url and short; ignore anything else. */
	size_t n = strlen(r->replay_nonce);
	if (n == 0 || n > NONCE_MAX ||
	    strspn(r->replay_nonce, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") != n)
		return;
	free(req->nonce);
	req->nonce = r->replay_nonce;
	r->replay_nonce = NULL; /* ownership moves to req */
}

long
request_retry_after(const struct http_resp *r, long cap)
{
	long s;

	if (r->retry_after == NULL ||
	    http_parse_retry_after(r->retry_after, time(NULL), &s) != 0)
		return -1;
	return s > cap ? cap : s;
}

static bool
is_json(const struct http_resp *r, const char *type)
{
	size_t n = strlen(type);

	return r->content_type != NULL &&
	    strncasecmp(r->content_type, type, n) == 0 &&
	    (r->content_type[n] == '\0' || r->content_type[n] == ';');
}

int
request_get(struct certo_req *req, const char *url, size_t max,
    struct http_resp *r)
{
	struct netretry nr;
	char shown[256];
	int rc;

	netretry_start(&nr);
	for (;;) {
		req->requests++;
		rc = http_request(&req->http, "GET", url, NULL, NULL, max, r);
		if (rc == 0) {
			take_nonce(req, r);
			if (r->status >= 200 && r->status <= 299)
				return 0;
			rc = certo_fail(CERTO_EHTTP, "GET %s: HTTP status %ld",
			    log_sanitize(shown, sizeof(shown), url, (size_t)-1),
			    r->status);
			if (!server_fault(r, rc))
				return rc;
		} else if (!r->transient) {
			return rc;
		}
		if ((rc = netretry_wait(&nr, rc)) != 0)
			return rc;
		http_resp_free(r);
	}
}

/* Get a fresh nonce from newNonce (HEAD), retrying within nr. */
static int
fetch_nonce(struct certo_req *req, struct netretry *nr)
{
	struct http_resp r;
	int rc;

	if (req->new_nonce_url == NULL)
		return certo_fail(CERTO_ECONFIG, "no newNonce URL known");
	for (;;) {
		req->requests++;
		rc = http_request(&req->http, "HEAD", req->new_nonce_url, NULL,
		    NULL, 1024, &r);
		if (rc == 0) {
			take_nonce(req, &r);
			if (req->nonce != NULL)
				break;
			rc = certo_fail(CERTO_EPROTO, "newNonce: the CA sent no "
			    "usable Replay-Nonce (HTTP %ld)", r.status);
			if (r.status < 500 || r.status > 599)
				break;
		} else if (!r.transient) {
			break;
		}
		http_resp_free(&r);
		if ((rc = netretry_wait(nr, rc)) != 0)
			return rc;
	}
	http_resp_free(&r);
	return rc;
}

/* Turn an error response into a problem and a message. */
static int
error_response(const char *url, struct http_resp *r,
    struct certo_problem *prob)
{
	struct certo_buf msg;
	char shown[256];
	int rc;

	log_sanitize(shown, sizeof(shown), url, (size_t)-1);
	if (!is_json(r, "application/problem+json") &&
	    !is_json(r, "application/json"))
		return certo_fail(CERTO_EHTTP, "%s: HTTP status %ld without a "
		    "problem document", shown, r->status);
	if (problem_parse(r->body.data, r->body.len, prob) != 0) {
		certo_errclear();
		return certo_fail(CERTO_EHTTP, "%s: HTTP status %ld with a "
		    "malformed problem document", shown, r->status);
	}
	buf_init(&msg, 8192);
	problem_format(prob, &msg);
	rc = certo_fail(CERTO_EPROBLEM, "the CA refused: %s",
	    msg.data ? msg.data : "");
	buf_free(&msg);
	return rc;
}

/*
 * A request signed with a stored account that the CA no longer accepts
 * (deactivated, or unknown to it) fails the same way forever: say so,
 * and what to do, instead of the CA's bare "unauthorized".
 */
static int
account_refused(const struct certo_problem *prob, int rc)
{
	char shown[512];
	bool gone = problem_is(prob, "accountDoesNotExist");
	bool deact = problem_is(prob, "unauthorized") && prob->detail != NULL &&
	    strstr(prob->detail, "deactivated") != NULL;

	if (!gone && !deact)
		return rc;
	log_sanitize(shown, sizeof(shown), prob->detail ? prob->detail : "",
	    (size_t)-1);
	certo_errclear();
	return certo_fail(CERTO_ENOACCOUNT, "the CA %s the stored account "
	    "(\"%s\"): a %s account cannot be used again; move "
	    "accounts/<CA>/ in the state directory aside and run certo again "
	    "(or 'certo account register') to register a new account",
	    deact ? "says it has deactivated" : "does not know", shown,
	    deact ? "deactivated" : "lost");
}

int
request_post(struct certo_req *req, const char *url, const char *payload,
    size_t max, struct http_resp *r, struct certo_problem *prob)
{
	struct certo_problem local = { 0 };
	struct netretry nr;
	char *jws = NULL;
	int rc, badnonce = 0, busy = 0;
	long wait;

	if (prob == NULL)
		prob = &local;
	memset(r, 0, sizeof(*r));
	netretry_start(&nr);
	for (;;) {
		if (sig_pending()) {
			rc = certo_fail(CERTO_EINTR, "interrupted");
			goto out;
		}
		if (req->nonce == NULL && (rc = fetch_nonce(req, &nr)) != 0)
			goto out;
		free(jws);
		jws = NULL;
		/* A nonce is used once: forget it as soon as it is signed. */
		rc = jws_sign(req->key, req->kid, req->nonce, url,
		    payload ? payload : "", &jws);
		free(req->nonce);
		req->nonce = NULL;
		if (rc != 0)
			goto out;
		http_resp_free(r);
		req->requests++;
		if ((rc = http_request(&req->http, "POST", url,
		    "application/jose+json", jws, max, r)) != 0) {
			/* Signed again, with a fresh nonce, at the top. */
			problem_free(prob);
			if (!r->transient || (rc = netretry_wait(&nr, rc)) != 0)
				goto out;
			continue;
		}
		take_nonce(req, r);
		if (r->status >= 200 && r->status <= 299) {
			rc = 0;
			goto out;
		}
		problem_free(prob);
		certo_errclear();
		rc = error_response(url, r, prob);
		if (req->kid != NULL)
			rc = account_refused(prob, rc);
		if (problem_is(prob, "rateLimited") &&
		    (wait = request_retry_after(r, 30L * 86400)) >= 0)
			req->rate_limited_until = time(NULL) + wait;
		if (problem_is(prob, "badNonce") &&
		    badnonce++ < REQUEST_BADNONCE_RETRIES) {
			log_debug("badNonce, retrying (%d)", badnonce);
			certo_errclear();
			continue;
		}
		if ((r->status == 429 || r->status == 503) &&
		    busy++ < REQUEST_BUSY_RETRIES &&
		    (wait = request_retry_after(r, 24 * 3600)) >= 0 &&
		    wait <= REQUEST_RETRY_AFTER_CAP) {
			log_info("the CA asks to retry in %ld s", wait);
			certo_errclear();
			if ((rc = sig_sleep_ms(wait * 1000)) != 0)
				goto out;
			continue;
		}
		/* A proxy's or load balancer's error page, not the CA's. */
		if (server_fault(r, rc) && (rc = netretry_wait(&nr, rc)) == 0)
			continue;
		goto out;
	}
out:
	free(jws);
	problem_free(&local);
	return rc;
}
