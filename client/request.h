/*
 * The one place that knows ACME transport chores (uacme's acme_post):
 * nonces (from the last response, else newNonce), JWS signing with jwk
 * or kid, POST-as-GET, badNonce retries, Retry-After on 429/503, retries
 * after transient network faults, problem documents, and response size
 * caps.  Holds the account key only as an opaque pointer handed to
 * jws_sign().
 *
 * Network retries: a request that meets a transient fault (refused,
 * reset or cut connection, TLS handshake cut, truncated body, timeout;
 * http_resp.transient) or an HTTP 5xx without a usable problem document
 * is sent again up to REQUEST_NET_RETRIES times, after a backoff that
 * doubles from REQUEST_BACKOFF_MIN_MS to REQUEST_BACKOFF_MAX_MS with
 * jitter, and never once REQUEST_NET_BUDGET_S has passed since its first
 * try.  A signed POST is signed again with a fresh nonce each time.
 * Resending is safe for GET, HEAD newNonce and POST-as-GET.  For POSTs
 * with a payload the first try may have reached the CA: newAccount is
 * idempotent per key (the CA answers with the existing account); a
 * resent newOrder may leave a second, unused order at the CA (harmless:
 * it expires); a resent finalize or challenge answer meets an order or
 * challenge that moved on, which finalize.c and challenge.c recognise.
 */
#ifndef CERTO_REQUEST_H
#define CERTO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "doc.h"
#include "http.h"
#include "problem.h"

struct certo_key;

#define REQUEST_MAX_BODY (256 * 1024)     /* JSON resources */
#define REQUEST_MAX_CERT (512 * 1024)     /* certificate chains */
#define REQUEST_BADNONCE_RETRIES 20
#define REQUEST_BUSY_RETRIES 3
#define REQUEST_RETRY_AFTER_CAP 120       /* seconds we wait in-line */
#define REQUEST_NET_RETRIES 4             /* resends after network faults */
#define REQUEST_BACKOFF_MIN_MS 500        /* first wait (with jitter) */
#define REQUEST_BACKOFF_MAX_MS 4000       /* longest wait */
#define REQUEST_NET_BUDGET_S 90           /* no resend after this long */

struct certo_req {
	struct certo_http http;
	char *new_nonce_url;
	char *nonce;
	const struct certo_key *key;  /* account key, not owned */
	char *kid;                    /* account URL, or NULL: sign with jwk */
	unsigned requests;            /* count, for -v and benchmarks */
	time_t rate_limited_until;    /* set by a rateLimited answer */
	/*
	 * When the CA refuses kid (accountDoesNotExist, unauthorized, a
	 * malformed kid): find the account by its key and sign with its URL
	 * (account_relocate); 0 retries the request once, 1 (same account)
	 * keeps the CA's answer, a negative code is the error.  NULL: never.
	 */
	int (*relocate)(struct certo_req *req, const void *arg);
	const void *relocate_arg;
};

/* Set up; the http handle is reused for the whole session. */
int request_init(struct certo_req *req, const struct http_opts *opts);
void request_free(struct certo_req *req);
/* Use newNonce at url when no nonce is cached. */
int request_set_new_nonce_url(struct certo_req *req, const char *url);
/* Sign later requests with key, by kid when kid is not NULL. */
int request_set_account(struct certo_req *req, const struct certo_key *key,
    const char *kid);

/*
 * Plain GET (the directory, renewalInfo).  resp must be freed by the
 * caller with http_resp_free().  Non-2xx is CERTO_EHTTP.  Transient
 * faults and 5xx answers are retried (see above).
 */
int request_get(struct certo_req *req, const char *url, enum doc_kind kind,
    struct http_resp *resp);

/*
 * Signed POST of payload (JSON text), or POST-as-GET when payload is
 * NULL.  On a 2xx answer returns 0 with resp filled.  On an error answer
 * with a problem document, returns CERTO_EPROBLEM with the problem in
 * *prob (when prob is not NULL; free with problem_free) and a message
 * recorded; badNonce is retried up to REQUEST_BADNONCE_RETRIES times,
 * 429/503 with a Retry-After up to REQUEST_RETRY_AFTER_CAP is waited
 * out and retried up to REQUEST_BUSY_RETRIES times, and network faults
 * and 5xx answers without a problem document are retried as described
 * at the top, each time with a fresh nonce.
 */
int request_post(struct certo_req *req, const char *url, const char *payload,
    enum doc_kind kind, struct http_resp *resp, struct certo_problem *prob);

/*
 * Seconds the CA asked us to wait in resp (Retry-After), or -1 if it
 * did not say; capped at cap.
 */
long request_retry_after(const struct http_resp *resp, long cap);

#endif
