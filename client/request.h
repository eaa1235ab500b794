/*
 * The one place that knows ACME transport chores (uacme's acme_post):
 * nonces (from the last response, else newNonce), JWS signing with jwk
 * or kid, POST-as-GET, badNonce retries, Retry-After on 429/503, problem
 * documents, and response size caps.  Holds the account key only as an
 * opaque pointer handed to jws_sign().
 */
#ifndef CERTO_REQUEST_H
#define CERTO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "http.h"
#include "problem.h"

struct certo_key;

#define REQUEST_MAX_BODY (256 * 1024)     /* JSON resources */
#define REQUEST_MAX_CERT (512 * 1024)     /* certificate chains */
#define REQUEST_BADNONCE_RETRIES 20
#define REQUEST_BUSY_RETRIES 3
#define REQUEST_RETRY_AFTER_CAP 120       /* seconds we wait in-line */

struct certo_req {
	struct certo_http http;
	char *new_nonce_url;
	char *nonce;
	const struct certo_key *key;  /* account key, not owned */
	char *kid;                    /* account URL, or NULL: sign with jwk */
	unsigned requests;            /* count, for -v and benchmarks */
	time_t rate_limited_until;    /* set by a rateLimited answer */
};

/* Set up; the http handle is reused for the whole session. */
int request_init(struct certo_req *req, const struct http_opts *o);
void request_free(struct certo_req *req);
/* Use newNonce at url when no nonce is cached. */
int request_set_new_nonce_url(struct certo_req *req, const char *url);
/* Sign later requests with key, by kid when kid is not NULL. */
int request_set_account(struct certo_req *req, const struct certo_key *key,
    const char *kid);

/*
 * Plain GET (the directory only).  r must be freed by the caller with
 * http_resp_free().  Non-2xx is CERTO_EHTTP.
 */
int request_get(struct certo_req *req, const char *url, size_t max,
    struct http_resp *r);

/*
 * Signed POST of payload (JSON text), or POST-as-GET when payload is
 * NULL.  On a 2xx answer returns 0 with r filled.  On an error answer
 * with a problem document, returns CERTO_EPROBLEM with the problem in
 * *prob (when prob is not NULL; free with problem_free) and a message
 * recorded; badNonce is retried up to REQUEST_BADNONCE_RETRIES times
 * and 429/503 with a Retry-After up to REQUEST_RETRY_AFTER_CAP is waited
 * out and retried up to REQUEST_BUSY_RETRIES times.
 */
int request_post(struct certo_req *req, const char *url, const char *payload,
    size_t max, struct http_resp *r, struct certo_problem *prob);

/*
 * Seconds the CA asked us to wait in r (Retry-After), or -1 if it did
 * not say; capped at cap.
 */
long request_retry_after(const struct http_resp *r, long cap);

#endif
