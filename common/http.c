/* libcurl wrapper with caps and timeouts. */
#include "http.h"

#include <curl/curl.h>
#include <ctype.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdbool.h>
#include <unistd.h>

#include "cache.h"
#include "errors.h"
#include "log.h"
#include "sig.h"
#include "trustpin.h"

/* Where distributions keep the system's trust bundle as one file. */
static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",   /* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",     /* Fedora, RHEL */
	"/etc/ssl/ca-bundle.pem",               /* openSUSE */
	"/etc/ssl/cert.pem",                    /* OpenBSD, macOS */
	NULL
};

_Static_assert(sizeof(((struct http_xfer_out *)0)->ebuf) >= CURL_ERROR_SIZE,
    "libcurl's error buffer");

/* Who performs transfers: NULL, this process (http_set_transport). */
static const struct http_transport *http_transport;

void
http_set_transport(const struct http_transport *t)
{
	http_transport = t;
}

/* How bodies become documents (http_set_doc_reader), or NULL. */
static int (*doc_reader)(struct http_resp *resp, unsigned doc,
    const char *arg);
static void (*doc_release)(void *doc);

void
http_set_doc_reader(int (*read)(struct http_resp *resp, unsigned doc,
    const char *arg), void (*release)(void *doc))
{
	doc_reader = read;
	doc_release = release;
}

/*
 * Debian's libcurl-gnutls links libssh2, whose libssh2_init() (run by
 * curl_global_init) sets up OpenSSL's libcrypto for SSH: engines and
 * configuration, about 1.5 MiB of pages that an https-only client never
 * uses.  libssh2 sets up its crypto on its first libssh2_init() only,
 * so certo makes that first call, without crypto
 * (LIBSSH2_INIT_NO_CRYPTO), before main().  The function is looked up
 * in the libraries already loaded: certo does not link libssh2, and
 * with a libcurl built without it nothing happens.
 */
__attribute__((constructor)) static void
ssh_init_without_crypto(void)
{
	int (*init)(int);

	*(void **)&init = dlsym(RTLD_DEFAULT, "libssh2_init");
	if (init != NULL)
		init(0x0001); /* LIBSSH2_INIT_NO_CRYPTO */
}

int
http_init(struct certo_http *http, const struct http_opts *opts)
{
	const char *env = getenv("CERTO_SYSTEM_BUNDLE");

	memset(http, 0, sizeof(*http));
	http->opts = *opts;
	if (http->opts.connect_timeout_ms <= 0)
		http->opts.connect_timeout_ms = 10000;
	if (http->opts.total_timeout_ms <= 0)
		http->opts.total_timeout_ms = 60000;
	if (http->opts.low_speed_time_ms <= 0)
		http->opts.low_speed_time_ms = 30000;
	/* With a transport (privsep), another process holds the handle. */
	if (http_transport == NULL && (http->curl = curl_easy_init()) == NULL)
		return CERTO_ENOMEM;
	if (env != NULL && *env != '\0') {
		http->system_bundle = env;
		return 0;
	}
	for (size_t i = 0; system_bundles[i] != NULL; i++)
		if (access(system_bundles[i], R_OK) == 0) {
			http->system_bundle = system_bundles[i];
			break;
		}
	return 0;
}

void
http_free(struct certo_http *http)
{
	if (http == NULL)
		return;
	if (http->remote != NULL && http_transport != NULL)
		http_transport->close(http->remote);
	http->remote = NULL;
	if (http->curl) {
		curl_easy_cleanup(http->curl);
		http->curl = NULL;
	}
	free(http->first_host);
	http->first_host = NULL;
}

char *
http_host_port(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *out = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK && asprintf(&out, "%s:%s", host, port) < 0)
		out = NULL;
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

/*
 * Which trust file this request uses: a handle keeps its first choice
 * for its first host; a new handle uses the pinned root when one is
 * known (learned earlier in this run, or remembered in the state
 * directory for the system bundle: trustpin.c), else the bundle, and
 * then learns the root (*learn).
 */
static const char *
choose_cainfo(struct certo_http *http, const char *bundle, const char *hp,
    bool *learn)
{
	const char *pin, *state = NULL;

	*learn = false;
	if (hp == NULL)
		return bundle;
	if (http->first_host != NULL)
		return strcmp(http->first_host, hp) == 0 ? http->first_cainfo :
		    bundle;
	if ((http->first_host = strdup(hp)) == NULL)
		return bundle;
	if (http->opts.ca_bundle == NULL)
		state = http->opts.cache_dir;
	pin = trustpin_lookup(bundle, hp, state);
	http->first_cainfo = pin != NULL ? pin : bundle;
	*learn = pin == NULL;
	return http->first_cainfo;
}

/*
 * After a verified connection with the whole bundle: pin the bundle
 * certificate the transfer found (out->root, an index: the key process
 * never sees the peer's chain).
 */
static void
learn_root(struct certo_http *http, const char *bundle, const char *hp,
    const struct http_xfer_out *out)
{
	trustpin_learn(bundle, hp, http->opts.ca_bundle == NULL ?
	    http->opts.cache_dir : NULL, out->root);
}

void
http_xfer_out_free(struct http_xfer_out *out)
{
	if (out == NULL)
		return;
	memset(out, 0, sizeof(*out));
	out->root = -1;
}

void
http_resp_free(struct http_resp *resp)
{
	if (resp == NULL)
		return;
	buf_free(&resp->body);
	if (resp->doc != NULL && doc_release != NULL)
		doc_release(resp->doc);
	free(resp->content_type);
	free(resp->location);
	free(resp->replay_nonce);
	free(resp->retry_after);
	for (size_t i = 0; i < resp->nlinks; i++) {
		free(resp->links[i].url);
		free(resp->links[i].rel);
	}
	memset(resp, 0, sizeof(*resp));
}

const char *
http_resp_link(const struct http_resp *resp, const char *rel)
{
	for (size_t i = 0; i < resp->nlinks; i++)
		if (strcmp(resp->links[i].rel, rel) == 0)
			return resp->links[i].url;
	return NULL;
}

/* Abort a transfer when a signal arrived (Ctrl-C must not wait 60 s). */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	(void)arg;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return sig_pending() ? 1 : 0;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_resp *resp = arg;
	size_t n = size * nmemb;

	int rc;

	if ((rc = buf_add(&resp->body, p, n)) != 0) {
		resp->nomem = rc == CERTO_ENOMEM;
		return 0; /* aborts the transfer: cap hit or no memory */
	}
	return n;
}

/* Copy a header value without surrounding whitespace. */
static char *
header_value(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	return strndup(p, n);
}

/* Parse one Link header value: <url>; rel="x", <url2>; rel=y */
static void
parse_link(struct http_resp *resp, const char *v)
{
	const char *p = v, *ue, *end, *rel;

	while ((p = strchr(p, '<')) != NULL && resp->nlinks < HTTP_MAX_LINKS) {
		if ((ue = strchr(p, '>')) == NULL)
			return;
		end = strchr(ue, ',');
		if (end == NULL)
			end = ue + strlen(ue);
		rel = strstr(ue, "rel=");
		if (rel != NULL && rel < end) {
			const char *rs = rel + 4, *re;
			if (*rs == '"')
				rs++;
			re = rs;
			while (re < end && *re != '"' && *re != ';' && *re != ' ')
				re++;
			resp->links[resp->nlinks].url = strndup(p + 1,
			    (size_t)(ue - p - 1));
			resp->links[resp->nlinks].rel = strndup(rs, (size_t)(re - rs));
			if (resp->links[resp->nlinks].url && resp->links[resp->nlinks].rel)
				resp->nlinks++;
			else {
				free(resp->links[resp->nlinks].url);
				free(resp->links[resp->nlinks].rel);
				resp->nomem = true;
				return;
			}
		}
		p = end;
	}
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_resp *resp = arg;
	size_t n = size * nmemb;
	const char *colon;
	char **slot = NULL;

	resp->header_bytes += n;
	if (resp->header_bytes > HTTP_MAX_HEADERS)
		return 0;
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (e.g. after 100-continue): start over. */
		free(resp->content_type);
		free(resp->location);
		free(resp->replay_nonce);
		free(resp->retry_after);
		resp->content_type = resp->location = NULL;
		resp->replay_nonce = resp->retry_after = NULL;
		return n;
	}
	if ((colon = memchr(p, ':', n)) == NULL)
		return n;
#define IS(name) ((size_t)(colon - p) == sizeof(name) - 1 && \
	strncasecmp(p, name, sizeof(name) - 1) == 0)
	if (IS("content-type"))
		slot = &resp->content_type;
	else if (IS("location"))
		slot = &resp->location;
	else if (IS("replay-nonce"))
		slot = &resp->replay_nonce;
	else if (IS("retry-after"))
		slot = &resp->retry_after;
	else if (IS("link")) {
		char *v = header_value(colon + 1, n - (size_t)(colon + 1 - p));
		if (v)
			parse_link(resp, v);
		else
			resp->nomem = true;
		free(v);
		return resp->nomem ? 0 : n;
	}
#undef IS
	if (slot != NULL) {
		free(*slot);
		if ((*slot = header_value(colon + 1,
		    n - (size_t)(colon + 1 - p))) == NULL) {
			resp->nomem = true;
			return 0; /* aborts the transfer */
		}
	}
	return n;
}

/*
 * Failures that a new connection may not meet: refused, reset, closed
 * or cut short (a TLS handshake or a body that stops early), timed out.
 * Certificate verification, a refused protocol, caps and signals stay.
 * Name resolution failures stay too: a wrong host name is not fixed by
 * asking again.
 */
static bool
is_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/*
 * The options of every request: URL, protocols, timeouts, callbacks
 * into resp, no redirects.  Memory: no compressed encoding (ACME
 * answers are small; the brotli and zstd decoders cost memory), HTTP/1.1
 * (one request at a time gains nothing from HTTP/2, whose session and
 * buffers cost about 100 KiB per connection), and the smallest upload
 * buffer (16 KiB, not 64: JWS bodies are a few KiB).
 */
static void
set_common(CURL *curl, const struct http_opts *opts, const char *url,
    struct http_resp *resp, char *ebuf)
{
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
	    opts->allow_http ? "https,http" : "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	    opts->connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, opts->total_timeout_ms);
	/* A stalled connection (no byte for a while) fails before that. */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
	    (opts->low_speed_time_ms + 999) / 1000);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "certo/" CERTO_VERSION);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
}

/*
 * Trust one bundle file, never a hashed directory: Debian's libcurl
 * defaults to CApath /etc/ssl/certs, which loads every root twice
 * (7 MiB).  --ca-bundle replaces the system bundle, like curl's
 * --cacert.  For https, the pinned root of the host when known
 * (*pinned), else the bundle, asking for the bundle certificate that
 * anchors the peer's chain, to learn the root (x->certinfo).  Returns
 * the bundle, or NULL when there is none.
 */
static const char *
set_trust(struct certo_http *http, struct http_xfer *x, const char *hp,
    bool *pinned)
{
	const char *bundle = http->opts.ca_bundle ? http->opts.ca_bundle :
	    http->system_bundle, *cainfo = bundle;
	bool learn = false;

	*pinned = false;
	x->cainfo = NULL;
	x->certinfo = false;
	if (bundle == NULL)
		return NULL;
	if (strncmp(x->url, "https://", 8) == 0)
		cainfo = choose_cainfo(http, bundle, hp, &learn);
	*pinned = cainfo != bundle;
	x->cainfo = cainfo;
	x->certinfo = learn;
	return bundle;
}

/* The method, and for POST the body and headers (*hdrs, freed by the
 * caller).  Returns 0 or CERTO_ENOMEM. */
static int
set_method(CURL *curl, const char *method, const char *content_type,
    const char *body, struct curl_slist **hdrs)
{
	struct curl_slist *more;
	char *ct = NULL;

	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		return 0;
	}
	if (strcmp(method, "POST") != 0)
		return 0;
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
	    (long)(body ? strlen(body) : 0));
	if (content_type != NULL) {
		if (asprintf(&ct, "Content-Type: %s", content_type) < 0)
			return certo_fail(CERTO_ENOMEM, "out of memory");
		more = curl_slist_append(*hdrs, ct);
		free(ct);
		if (more == NULL)
			return certo_fail(CERTO_ENOMEM, "out of memory");
		*hdrs = more;
	}
	if ((more = curl_slist_append(*hdrs, "Expect:")) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	*hdrs = more;
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, *hdrs);
	return 0;
}

/* The error of a failed transfer, with its message naming shown. */
static int
transfer_error(CURLcode cc, struct http_resp *resp, const char *shown,
    const char *ebuf, size_t max_body)
{
	const char *why = ebuf[0] ? ebuf : curl_easy_strerror(cc);

	resp->transient = is_transient(cc);
	if (resp->nomem || resp->header_bytes > HTTP_MAX_HEADERS)
		resp->transient = false;
	if (resp->nomem) /* a callback could not keep a header or the body */
		return certo_fail(CERTO_ENOMEM, "out of memory");
	if (resp->header_bytes > HTTP_MAX_HEADERS) /* not the body's fault */
		return certo_fail(CERTO_ETOOBIG, "%s: response headers larger "
		    "than %d bytes", shown, HTTP_MAX_HEADERS);
	switch (cc) {
	case CURLE_WRITE_ERROR:
		return certo_fail(CERTO_ETOOBIG, "%s: response body larger than "
		    "%zu bytes", shown, max_body);
	case CURLE_OUT_OF_MEMORY:
		return certo_fail(CERTO_ENOMEM, "out of memory");
	case CURLE_ABORTED_BY_CALLBACK:
		return certo_fail(CERTO_EINTR, "interrupted by signal %d",
		    sig_pending());
	case CURLE_OPERATION_TIMEDOUT:
		return certo_fail(CERTO_ETIMEDOUT, "%s: timed out (%s)", shown,
		    why);
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* The user's own URLs are checked before (directory_fetch):
		 * a refused URL here came from the CA. */
		return certo_fail(CERTO_EPROTO, "%s: refused: only https:// URLs "
		    "are allowed", shown);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return certo_fail(CERTO_ETLS, "%s: TLS error: %s", shown, why);
	default:
		return certo_fail(CERTO_ENET, "%s: %s", shown, why);
	}
}

/*
 * The pinned root did not verify the host (or its file is gone): drop
 * the pin and set the transfer up to verify with the whole bundle and
 * learn again.  The response is started afresh.
 */
static void
unpin(struct certo_http *http, const char *bundle, const char *hp,
    const char *shown, struct http_xfer *x, struct http_resp *resp,
    struct http_xfer_out *out)
{
	log_debug("trust: %s: the remembered root did not verify it; "
	    "verifying with the whole bundle", shown);
	trustpin_forget(bundle, hp, http->opts.ca_bundle == NULL ?
	    http->opts.cache_dir : NULL);
	http->first_cainfo = bundle;
	http_resp_free(resp);
	http_xfer_out_free(out);
	buf_init(&resp->body, x->max_body);
	x->cainfo = bundle;
	x->certinfo = true;
}

/*
 * After a transfer with certinfo: the index of the certificate of
 * x->trust_pem that anchors the peer's chain (PEM, leaf first, parsed
 * here and dropped) into out->root.
 */
static int
find_root(CURL *curl, const struct http_xfer *x, struct http_xfer_out *out)
{
	struct curl_certinfo *ci = NULL;
	char *chain[HTTP_MAX_CHAIN];
	size_t n = 0;
	int rc = 0;

	if (x->trust_pem == NULL ||
	    curl_easy_getinfo(curl, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL)
		return 0;
	for (int i = 0; i < ci->num_of_certs && n < HTTP_MAX_CHAIN && rc == 0;
	    i++)
		for (struct curl_slist *l = ci->certinfo[i]; l; l = l->next)
			if (strncmp(l->data, "Cert:", 5) == 0) {
				if ((chain[n] = strdup(l->data + 5)) == NULL)
					rc = CERTO_ENOMEM;
				else
					n++;
				break;
			}
	if (rc == 0)
		out->root = trustpin_find(x->trust_pem, x->trust_len,
		    (const char *const *)chain, n);
	for (size_t i = 0; i < n; i++)
		free(chain[i]);
	return rc;
}

int
http_xfer_perform(void *handle, const struct http_opts *opts,
    const struct http_xfer *x, struct http_resp *resp,
    struct http_xfer_out *out)
{
	CURL *curl = handle;
	struct curl_slist *hdrs = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->root = -1;
	set_common(curl, opts, x->url, resp, out->ebuf);
	if (x->cainfo != NULL) {
		curl_easy_setopt(curl, CURLOPT_CAINFO, x->cainfo);
		curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	}
	if (x->certinfo)
		curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
	if (x->resolve != NULL)
		curl_easy_setopt(curl, CURLOPT_RESOLVE, x->resolve);
	if ((rc = set_method(curl, x->method, x->content_type, x->body,
	    &hdrs)) != 0)
		goto out;
	out->cc = (long)curl_easy_perform(curl);
	if (out->cc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
		if (x->certinfo)
			rc = find_root(curl, x, out);
		/* The body is read here, where its bytes arrived. */
		if (rc == 0 && x->doc != 0 && doc_reader != NULL)
			rc = doc_reader(resp, x->doc, x->doc_arg);
	}
out:
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

/*
 * One transfer, here or by the transport (whose process holds the
 * channel's bundle and finds the root there).  Here, a transfer that
 * learns the root reads its bundle first for trustpin_find().
 */
static int
perform(struct certo_http *http, const struct http_xfer *x,
    struct http_resp *resp, struct http_xfer_out *out)
{
	struct http_xfer here = *x;
	char *pem = NULL;
	int rc;

	if (http_transport != NULL)
		return http_transport->perform(&http->remote, &http->opts, x,
		    resp, out);
	if (x->certinfo && x->cainfo != NULL &&
	    trustpin_read(x->cainfo, &pem, &here.trust_len) == 0)
		here.trust_pem = pem;
	rc = http_xfer_perform(http->curl, &http->opts, &here, resp, out);
	free(pem);
	return rc;
}

int
http_request(struct certo_http *http, const char *method, const char *url,
    const char *content_type, const char *body, size_t max_body,
    unsigned doc, const char *doc_arg, struct http_resp *resp)
{
	struct http_xfer x = { 0 };
	struct http_xfer_out out = { .root = -1 };
	char shown[256], *hp;
	const char *bundle;
	bool pinned;
	int rc;

	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, max_body);
	log_str(shown, sizeof(shown), url);
	hp = http_host_port(url);
	x.method = method;
	x.url = url;
	x.content_type = content_type;
	x.body = body;
	x.max_body = max_body;
	x.doc = doc;
	x.doc_arg = doc_arg;
	bundle = set_trust(http, &x, hp, &pinned);
	log_debug("%s %s", method, shown);
	if ((rc = perform(http, &x, resp, &out)) != 0)
		goto out;
	if (pinned && (out.cc == CURLE_PEER_FAILED_VERIFICATION ||
	    out.cc == CURLE_SSL_CACERT_BADFILE)) {
		unpin(http, bundle, hp, shown, &x, resp, &out);
		if ((rc = perform(http, &x, resp, &out)) != 0)
			goto out;
	}
	if (out.cc != CURLE_OK) {
		rc = transfer_error((CURLcode)out.cc, resp, shown, out.ebuf,
		    max_body);
		goto out;
	}
	if (x.certinfo)
		learn_root(http, bundle, hp, &out);
	log_debug("-> %ld, %zu bytes", resp->status, resp->body.len);
out:
	/* What a cache led to failed: the next run asks afresh. */
	if (hp != NULL && (rc != 0 || resp->status >= 400))
		cache_request_failed(hp);
	http_xfer_out_free(&out);
	free(hp);
	return rc;
}

int
http_parse_retry_after(const char *v, time_t now, long *secs)
{
	char *end;
	long n;
	time_t t;

	if (v == NULL || *v == '\0')
		return CERTO_EPROTO;
	if (*v >= '0' && *v <= '9') {
		n = strtol(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end != '\0' || n < 0)
			return CERTO_EPROTO;
		*secs = n;
		return 0;
	}
	/* HTTP-date (RFC 9110 5.6.7); curl_getdate understands it. */
	if ((t = curl_getdate(v, NULL)) == -1)
		return CERTO_EPROTO;
	*secs = t > now ? (long)(t - now) : 0;
	return 0;
}

const char *
http_version(void)
{
	return curl_version();
}
