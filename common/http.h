/*
 * HTTP(S) through one reused libcurl handle: connect and total timeouts,
 * capped bodies and headers, HTTPS only unless allow_http, no redirects.
 * Knows nothing of ACME: request.c adds nonces and JWS on top.
 */
#ifndef CERTO_HTTP_H
#define CERTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

#define HTTP_MAX_HEADERS (64 * 1024)
#define HTTP_MAX_LINKS 16

struct http_opts {
	const char *ca_bundle;     /* trust only this bundle file, or NULL */
	const char *cache_dir;     /* certo's state directory: the root that
	                            * verified the CA with the system bundle
	                            * is kept in its trust/ for later runs
	                            * (trustpin.h); NULL: not kept */
	bool allow_http;           /* permit http:// URLs (test CAs) */
	long connect_timeout_ms;   /* 0: 10 s (TCP and TLS handshake) */
	long total_timeout_ms;     /* 0: 60 s */
	long low_speed_time_ms;    /* 0: 30 s below 1 byte/s aborts */
};

struct http_link {
	char *url;
	char *rel;
};

struct http_resp {
	long status;
	struct certo_buf body;
	char *content_type;
	char *location;
	char *replay_nonce;
	char *retry_after;         /* raw header value */
	struct http_link links[HTTP_MAX_LINKS];
	size_t nlinks;
	size_t header_bytes;
	void *doc;                 /* the body read as a document (the
	                           * reader of http_set_doc_reader), or NULL */
	bool nomem;                /* a callback ran out of memory */
	bool transient;            /* set with a failure that a new attempt
	                            * may not meet: refused, reset or cut
	                            * connection, timeout, TLS handshake */
};

struct certo_http {
	void *curl;                /* CURL *, or NULL with a transport */
	void *remote;              /* the transport's channel, or NULL */
	struct http_opts opts;
	const char *system_bundle; /* the trust bundle file, or NULL */
	char *first_host;          /* host:port of this handle's first request */
	const char *first_cainfo;  /* the trust file it used (kept, so the
	                            * connection stays reusable) */
};

#define HTTP_MAX_CHAIN 16

/*
 * One transfer as libcurl performs it: what http_request() decided
 * (method, body, trust file), handed to whoever performs it.
 */
struct http_xfer {
	const char *method;
	const char *url;
	const char *content_type;
	const char *body;          /* POST only */
	size_t max_body;
	const char *cainfo;        /* the trust file, or NULL */
	bool certinfo;             /* find the bundle certificate that
	                            * anchors the peer's chain (out->root) */
	const char *trust_pem;     /* with certinfo: the contents of cainfo
	                            * to find it in, or NULL: not looked for */
	size_t trust_len;
	const void *resolve;       /* struct curl_slist * for CURLOPT_RESOLVE */
	unsigned doc;              /* read the body as this document (the
	                            * reader's kinds; 0: keep the body) */
	const char *doc_arg;       /* what the reader compares it with, or
	                            * NULL (the http-01 key authorization) */
};

/* What a transfer gave besides the response. */
struct http_xfer_out {
	long cc;                   /* the CURLcode */
	char ebuf[256];            /* CURL_ERROR_SIZE: libcurl's words */
	long root;                 /* with certinfo: the index of the bundle
	                            * certificate that anchors the peer's
	                            * chain (trustpin_find), or -1; the chain
	                            * itself never leaves http_xfer_perform */
};

/*
 * Who performs transfers when not this process: the network process
 * of a privilege-separated run (client/privsep.c).  perform() opens
 * its channel in *chan on first use; close() releases it.  Both return
 * 0 or a CERTO_E* code (the transfer's own failure is in out->cc).
 */
struct http_transport {
	int (*perform)(void **chan, const struct http_opts *opts,
	    const struct http_xfer *x, struct http_resp *resp,
	    struct http_xfer_out *out);
	void (*close)(void *chan);
};

/*
 * Send every later transfer of this process through t (NULL: perform
 * them here).  Set once, before any handle is made.
 */
void http_set_transport(const struct http_transport *t);
/*
 * Read the body of every transfer with a non-zero http_xfer.doc with
 * read(resp, doc, doc_arg) in the process that performed it, right
 * after the transfer (read sets resp->doc and may drop the body; it
 * returns 0 or CERTO_ENOMEM); release frees resp->doc in http_resp_free().  The
 * client's ACME documents (client/doc.h); knows nothing of them here.
 */
void http_set_doc_reader(int (*read)(struct http_resp *resp, unsigned doc,
    const char *arg), void (*release)(void *doc));
/*
 * Perform x with curl (a CURL *) and opts: the response's status,
 * headers and capped body into resp (initialised by the caller), the
 * CURLcode, libcurl's message and with certinfo the root's index
 * (trustpin_find on x->trust_pem and the peer's chain) into out
 * (initialised here; free with http_xfer_out_free).  Returns 0 or
 * CERTO_ENOMEM.
 */
int http_xfer_perform(void *curl, const struct http_opts *opts,
    const struct http_xfer *x, struct http_resp *resp,
    struct http_xfer_out *out);
/* Free what out holds; safe on a zeroed one. */
void http_xfer_out_free(struct http_xfer_out *out);

/*
 * Set up a session handle.  The system trust bundle is the first of the
 * distributions' bundle files that exists, or $CERTO_SYSTEM_BUNDLE when
 * set (tests and benchmarks stand in their own).  Returns 0 or
 * CERTO_ENOMEM.
 */
int http_init(struct certo_http *http, const struct http_opts *opts);
/* Release the handle; safe on a zeroed struct. */
void http_free(struct certo_http *http);

/*
 * Perform method ("GET", "HEAD", "POST") on url.  For POST, body of
 * content_type is sent.  The response body is capped at max_body bytes
 * (CERTO_ETOOBIG beyond); with doc non-zero it is read as that document
 * where the transfer ran (http_set_doc_reader) and resp->doc holds it.
 * resp is initialised here; free it with http_resp_free() whatever the
 * result.  Network failures return
 * CERTO_ENET / CERTO_ETIMEDOUT / CERTO_ETLS with a message naming url,
 * and set resp->transient when another attempt may succeed (request.c
 * decides whether to make one); headers beyond HTTP_MAX_HEADERS are
 * CERTO_ETOOBIG naming the headers.  Any HTTP status is a success at
 * this level.  Nothing is retried here (libcurl itself only resends a
 * request on a kept-alive connection it finds closed), except one
 * handshake: a pinned root (trustpin.h) that does not verify the host
 * is dropped and the whole bundle is tried at once.  A failure or an
 * HTTP status of 400 or more also drops the cache entries registered
 * for the host (cache_forget_on_error).
 */
int http_request(struct certo_http *http, const char *method,
    const char *url, const char *content_type, const char *body,
    size_t max_body, unsigned doc, const char *doc_arg,
    struct http_resp *resp);
/* Free what a response holds; safe on a zeroed or NULL one. */
void http_resp_free(struct http_resp *resp);

/* The URL of the first link with relation rel, or NULL. */
const char *http_resp_link(const struct http_resp *resp, const char *rel);

/* "host:port" of url (the default port filled in), malloc'd, or NULL. */
char *http_host_port(const char *url);

/*
 * Parse a Retry-After value (delta-seconds or an HTTP-date) relative to
 * now into seconds (>= 0).  Returns 0, or CERTO_EPROTO if unparseable.
 */
int http_parse_retry_after(const char *v, time_t now, long *secs);

/* "libcurl/7.88.1 GnuTLS/3.7.9 ..." for --version. */
const char *http_version(void);

#endif
