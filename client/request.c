/* ACME transport: nonces, JWS, POST-as-GET, retries. */
#include "request.h"

#include <stdio.h>
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
netretry_start(struct netretry *retry)
{
	retry->n = 0;
	clock_gettime(CLOCK_MONOTONIC, &retry->t0);
}

/* Milliseconds since the first try. */
static long
netretry_elapsed_ms(const struct netretry *retry)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - retry->t0.tv_sec) * 1000 +
	    (now.tv_nsec - retry->t0.tv_nsec) / 1000000;
}

/*
 * After the transient failure rc (its message recorded): wait the
 * backoff and return 0 to try again, or return rc when the resends or
 * the time budget are used up, or the error of an interrupted wait.
 * The wait for resend n is drawn from [d/2, d], d = 2^n * MIN capped
 * at MAX ("equal jitter"), so parallel renewals do not retry in step.
 */
static int
netretry_wait(struct netretry *retry, int rc)
{
	long d, ms;
	unsigned rnd;

	if (retry->n >= REQUEST_NET_RETRIES ||
	    netretry_elapsed_ms(retry) >= REQUEST_NET_BUDGET_S * 1000L ||
	    sig_pending())
		return rc;
	d = (long)REQUEST_BACKOFF_MIN_MS << (retry->n + 1);
	if (d > REQUEST_BACKOFF_MAX_MS)
		d = REQUEST_BACKOFF_MAX_MS;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (unsigned)netretry_elapsed_ms(retry) * 2654435761u;
	ms = d / 2 + (long)(rnd % (unsigned)(d / 2 + 1));
	retry->n++;
	log_info("%s; retry %u of %d in %.1f s",
	    certo_errmsg() ? certo_errmsg() : certo_strerror(rc), retry->n,
	    REQUEST_NET_RETRIES, (double)ms / 1000.0);
	certo_errclear();
	return sig_sleep_ms(ms);
}

/* An answer worth asking again: 5xx without a usable problem document. */
static bool
server_fault(const struct http_resp *resp, int rc)
{
	return resp->status >= 500 && resp->status <= 599 && rc == CERTO_EHTTP;
}

/* Set up a session; the http handle is reused for all of it. */
int
request_init(struct certo_req *req, const struct http_opts *opts)
{
	memset(req, 0, sizeof(*req));
	doc_init();
	return http_init(&req->http, opts);
}

/* Free the session (NULL is fine). */
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

/* Use newNonce at url when no nonce is cached. */
int
request_set_new_nonce_url(struct certo_req *req, const char *url)
{
	free(req->new_nonce_url);
	req->new_nonce_url = strdup(url);
	return req->new_nonce_url ? 0 : CERTO_ENOMEM;
}

/* Sign later requests with key, by kid when kid is not NULL. */
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
take_nonce(struct certo_req *req, struct http_resp *resp)
{
	if (resp->replay_nonce == NULL)
		return;
	/* A nonce is base64url and short; ignore anything else. */
	size_t n = strlen(resp->replay_nonce);
	if (n == 0 || n > NONCE_MAX ||
	    strspn(resp->replay_nonce, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") != n)
		return;
	free(req->nonce);
	req->nonce = resp->replay_nonce;
	resp->replay_nonce = NULL; /* ownership moves to req */
}

/* Seconds the CA asked us to wait in resp (Retry-After), or -1. */
long
request_retry_after(const struct http_resp *resp, long cap)
{
	long s;

	if (resp->retry_after == NULL ||
	    http_parse_retry_after(resp->retry_after, time(NULL), &s) != 0)
		return -1;
	return s > cap ? cap : s;
}

/* Plain GET (the directory, renewalInfo). */
int
request_get(struct certo_req *req, const char *url, enum doc_kind kind,
    struct http_resp *resp)
{
	struct netretry retry;
	char shown[256];
	int rc;

	netretry_start(&retry);
	for (;;) {
		req->requests++;
		rc = http_request(&req->http, "GET", url, NULL, NULL,
		    doc_max(kind), kind, NULL, resp);
		if (rc == 0) {
			take_nonce(req, resp);
			if (resp->status >= 200 && resp->status <= 299)
				return 0;
			rc = certo_fail(CERTO_EHTTP, "GET %s: HTTP status %ld",
			    log_str(shown, sizeof(shown), url),
			    resp->status);
			if (!server_fault(resp, rc))
				return rc;
		} else if (!resp->transient) {
			return rc;
		}
		if ((rc = netretry_wait(&retry, rc)) != 0)
			return rc;
		http_resp_free(resp);
	}
}

/* Get a fresh nonce from newNonce (HEAD), retrying within nr. */
static int
fetch_nonce(struct certo_req *req, struct netretry *retry)
{
	struct http_resp resp;
	int rc;

	if (req->new_nonce_url == NULL)
		return certo_fail(CERTO_ECONFIG, "no newNonce URL known");
	for (;;) {
		req->requests++;
		rc = http_request(&req->http, "HEAD", req->new_nonce_url, NULL,
		    NULL, 1024, DOC_NONE, NULL, &resp);
		if (rc == 0) {
			take_nonce(req, &resp);
			if (req->nonce != NULL)
				break;
			rc = certo_fail(CERTO_EPROTO, "newNonce: the CA sent no "
			    "usable Replay-Nonce (HTTP %ld)", resp.status);
			if (resp.status < 500 || resp.status > 599)
				break;
		} else if (!resp.transient) {
			break;
		}
		http_resp_free(&resp);
		if ((rc = netretry_wait(retry, rc)) != 0)
			return rc;
	}
	http_resp_free(&resp);
	return rc;
}

/*
 * Turn an error response into a problem and a message: CERTO_EPROBLEM
 * with the CA's problem, CERTO_EHTTP when it sent none or a malformed
 * one (the message says what was wrong with it), CERTO_ENOMEM.
 */
static int
error_response(const char *url, struct http_resp *resp,
    struct certo_problem *prob)
{
	struct certo_buf msg;
	char shown[256], why[512];
	int rc;

	log_str(shown, sizeof(shown), url);
	if (!doc_is_json(resp))
		return certo_fail(CERTO_EHTTP, "%s: HTTP status %ld without a "
		    "problem document", shown, resp->status);
	/* Read where it arrived (doc.h). */
	if ((rc = doc_take(resp, DOC_PROBLEM, prob)) != 0) {
		/* Out of memory says nothing about the CA's document. */
		if (rc == CERTO_ENOMEM)
			return rc;
		/* Say what was wrong with it, after the status. */
		snprintf(why, sizeof(why), "%s", certo_errmsg() ?
		    certo_errmsg() : certo_strerror(rc));
		certo_errclear();
		return certo_fail(CERTO_EHTTP, "%s: HTTP status %ld with a "
		    "malformed problem document (%s)", shown, resp->status, why);
	}
	buf_init(&msg, 8192);
	/* A rendering cut at the cap is still shown. */
	if ((rc = problem_format(prob, &msg)) != CERTO_ENOMEM)
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
	log_str(shown, sizeof(shown), prob->detail ? prob->detail : "");
	certo_errclear();
	return certo_fail(CERTO_ENOACCOUNT, "the CA %s the stored account "
	    "(\"%s\"): a %s account cannot be used again; move "
	    "accounts/<CA>/ in the state directory aside and run certo again "
	    "(or 'certo account register') to register a new account",
	    deact ? "says it has deactivated" : "does not know", shown,
	    deact ? "deactivated" : "lost");
}

/*
 * Does prob refuse the account URL we signed with (unknown to the CA, or
 * not one of its account URLs)?  A deactivated account is not: looking
 * it up again would find the same one.
 */
static bool
kid_refused(const struct certo_problem *prob)
{
	const char *d = prob->detail != NULL ? prob->detail : "";

	if (problem_is(prob, "accountDoesNotExist"))
		return true;
	if (problem_is(prob, "unauthorized"))
		return strstr(d, "deactivated") == NULL;
	return problem_is(prob, "malformed") && (strstr(d, "kid") != NULL ||
	    strstr(d, "Key ID") != NULL);
}

/*
 * The CA refused req->kid (its answer rc): let req->relocate find the
 * account by its key.  0: retry with the new kid; 1: the same account,
 * the CA's answer stands (its message recorded again); else the error.
 */
static int
relocate_kid(struct certo_req *req, int rc)
{
	char saved[1024];
	int found;

	snprintf(saved, sizeof(saved), "%s", certo_errmsg() ? certo_errmsg() :
	    certo_strerror(rc));
	certo_errclear();
	if ((found = req->relocate(req, req->relocate_arg)) <= 0)
		return found;
	certo_errclear();
	certo_fail(rc, "%s", saved);
	return 1;
}

/*
 * Only the CA's own URLs are signed for: a URL from a document (an
 * order's finalize, an authorization, a challenge, an alternate chain)
 * must have the scheme, host and port of the directory's newNonce.
 * The CA checks a JWS's "url" against where it arrived, so a signature
 * made for another origin could not be used at the CA; refusing it keeps
 * the key process from signing for anyone else at all.
 */
/* The origin of url: scheme, host and port (the scheme's default when
 * none is given), as pointers into url; no allocation. */
struct origin {
	const char *scheme, *host;
	size_t slen, hlen;
	unsigned long port;
};

static void
origin_of(const char *url, struct origin *o)
{
	const char *auth, *end, *at, *colon;

	memset(o, 0, sizeof(*o));
	o->scheme = url;
	o->slen = strcspn(url, ":");
	if (strncmp(url + o->slen, "://", 3) != 0)
		return;
	auth = url + o->slen + 3;
	end = auth + strcspn(auth, "/?#");
	for (at = auth; at < end; at++)
		if (*at == '@')
			auth = at + 1;
	colon = NULL;
	for (at = auth; at < end; at++)
		if (*at == ':')
			colon = at;
		else if (*at == ']')
			colon = NULL;
	o->host = auth;
	o->hlen = (size_t)((colon ? colon : end) - auth);
	o->port = o->slen == 5 && strncasecmp(url, "https", 5) == 0 ? 443 : 80;
	if (colon != NULL && colon + 1 < end)
		o->port = strtoul(colon + 1, NULL, 10);
}

static int
check_origin(const struct certo_req *req, const char *url)
{
	struct origin a, b;
	char shown[256];

	if (req->new_nonce_url == NULL)
		return 0;
	origin_of(url, &a);
	origin_of(req->new_nonce_url, &b);
	if (a.host != NULL && b.host != NULL && a.slen == b.slen &&
	    strncasecmp(a.scheme, b.scheme, a.slen) == 0 &&
	    a.hlen == b.hlen && strncasecmp(a.host, b.host, a.hlen) == 0 &&
	    a.port == b.port)
		return 0;
	return certo_fail(CERTO_EPROTO, "the CA sent a URL on another server "
	    "(%s): certo signs requests only for the server of its directory",
	    log_str(shown, sizeof(shown), url));
}

/* Signed POST of payload (JSON text), or POST-as-GET when payload is NULL. */
int
request_post(struct certo_req *req, const char *url, const char *payload,
    enum doc_kind kind, struct http_resp *resp, struct certo_problem *prob)
{
	struct certo_problem local = { 0 };
	struct netretry retry;
	char *jws = NULL;
	int rc, found, badnonce = 0, busy = 0;
	bool relocated = false;
	long wait;

	if (prob == NULL)
		prob = &local;
	memset(resp, 0, sizeof(*resp));
	if ((rc = check_origin(req, url)) != 0)
		return rc;
	netretry_start(&retry);
	for (;;) {
		if (sig_pending()) {
			rc = certo_fail(CERTO_EINTR, "interrupted");
			goto out;
		}
		if (req->nonce == NULL && (rc = fetch_nonce(req, &retry)) != 0)
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
		http_resp_free(resp);
		req->requests++;
		if ((rc = http_request(&req->http, "POST", url,
		    "application/jose+json", jws, doc_max(kind), kind, NULL,
		    resp)) != 0) {
			/* Signed again, with a fresh nonce, at the top. */
			problem_free(prob);
			if (!resp->transient || (rc = netretry_wait(&retry, rc)) != 0)
				goto out;
			continue;
		}
		take_nonce(req, resp);
		if (resp->status >= 200 && resp->status <= 299) {
			rc = 0;
			goto out;
		}
		problem_free(prob);
		certo_errclear();
		rc = error_response(url, resp, prob);
		/* Once: the account found by its key (account.h). */
		if (req->kid != NULL && req->relocate != NULL && !relocated &&
		    kid_refused(prob)) {
			relocated = true;
			if ((found = relocate_kid(req, rc)) == 0)
				continue;
			if (found < 0) {
				rc = found;
				goto out;
			}
		}
		if (req->kid != NULL)
			rc = account_refused(prob, rc);
		if (problem_is(prob, "rateLimited") &&
		    (wait = request_retry_after(resp, 30L * 86400)) >= 0)
			req->rate_limited_until = time(NULL) + wait;
		if (problem_is(prob, "badNonce") &&
		    badnonce++ < REQUEST_BADNONCE_RETRIES) {
			log_debug("badNonce, retrying (%d)", badnonce);
			certo_errclear();
			continue;
		}
		if ((resp->status == 429 || resp->status == 503) &&
		    busy++ < REQUEST_BUSY_RETRIES &&
		    (wait = request_retry_after(resp, 24 * 3600)) >= 0 &&
		    wait <= REQUEST_RETRY_AFTER_CAP) {
			log_info("the CA asks to retry in %ld s", wait);
			certo_errclear();
			if ((rc = sig_sleep_ms(wait * 1000)) != 0)
				goto out;
			continue;
		}
		/* A proxy's or load balancer's error page, not the CA's. */
		if (server_fault(resp, rc) && (rc = netretry_wait(&retry, rc)) == 0)
			continue;
		goto out;
	}
out:
	free(jws);
	problem_free(&local);
	return rc;
}
