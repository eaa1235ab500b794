/* libcurl wrapper with caps and timeouts. */
#include "http.h"

#include <curl/curl.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdbool.h>
#include <unistd.h>

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

int
http_init(struct certo_http *h, const struct http_opts *o)
{
	memset(h, 0, sizeof(*h));
	h->opts = *o;
	if (h->opts.connect_timeout_ms <= 0)
		h->opts.connect_timeout_ms = 10000;
	if (h->opts.total_timeout_ms <= 0)
		h->opts.total_timeout_ms = 60000;
	if (h->opts.low_speed_time_ms <= 0)
		h->opts.low_speed_time_ms = 30000;
	if ((h->curl = curl_easy_init()) == NULL)
		return CERTO_ENOMEM;
	for (size_t i = 0; system_bundles[i] != NULL; i++)
		if (access(system_bundles[i], R_OK) == 0) {
			h->system_bundle = system_bundles[i];
			break;
		}
	return 0;
}

void
http_free(struct certo_http *h)
{
	if (h && h->curl) {
		curl_easy_cleanup(h->curl);
		h->curl = NULL;
	}
	if (h) {
		free(h->first_host);
		h->first_host = NULL;
	}
}

/* "host:port" of an https URL, or NULL. */
static char *
host_port(const char *url)
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
 * for its first host; a new handle uses the pinned root when an earlier
 * connection of this run has learned it (trustpin.c).
 */
static const char *
choose_cainfo(struct certo_http *h, const char *bundle, const char *hp,
    bool *learn)
{
	const char *pin;

	*learn = false;
	if (hp == NULL)
		return bundle;
	if (h->first_host != NULL)
		return strcmp(h->first_host, hp) == 0 ? h->first_cainfo : bundle;
	h->first_host = strdup(hp);
	pin = trustpin_lookup(bundle, hp);
	h->first_cainfo = pin != NULL ? pin : bundle;
	*learn = pin == NULL;
	return h->first_cainfo;
}

/* After a verified connection with the whole bundle: pin its root. */
static void
learn_root(CURL *c, const char *bundle, const char *hp)
{
	struct curl_certinfo *ci = NULL;
	const char *pems[16];
	size_t n = 0;

	if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL)
		return;
	for (int i = 0; i < ci->num_of_certs && n < 16; i++)
		for (struct curl_slist *s = ci->certinfo[i]; s; s = s->next)
			if (strncmp(s->data, "Cert:", 5) == 0) {
				pems[n++] = s->data + 5;
				break;
			}
	trustpin_learn(bundle, hp, pems, n);
}

void
http_resp_free(struct http_resp *r)
{
	if (r == NULL)
		return;
	buf_free(&r->body);
	free(r->content_type);
	free(r->location);
	free(r->replay_nonce);
	free(r->retry_after);
	for (size_t i = 0; i < r->nlinks; i++) {
		free(r->links[i].url);
		free(r->links[i].rel);
	}
	memset(r, 0, sizeof(*r));
}

const char *
http_resp_link(const struct http_resp *r, const char *rel)
{
	for (size_t i = 0; i < r->nlinks; i++)
		if (strcmp(r->links[i].rel, rel) == 0)
			return r->links[i].url;
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
	struct http_resp *r = arg;
	size_t n = size * nmemb;

	int rc;

	if ((rc = buf_add(&r->body, p, n)) != 0) {
		r->nomem = rc == CERTO_ENOMEM;
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
parse_link(struct http_resp *r, const char *v)
{
	const char *p = v, *ue, *end, *rel;

	while ((p = strchr(p, '<')) != NULL && r->nlinks < HTTP_MAX_LINKS) {
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
			r->links[r->nlinks].url = strndup(p + 1,
			    (size_t)(ue - p - 1));
			r->links[r->nlinks].rel = strndup(rs, (size_t)(re - rs));
			if (r->links[r->nlinks].url && r->links[r->nlinks].rel)
				r->nlinks++;
			else {
				free(r->links[r->nlinks].url);
				free(r->links[r->nlinks].rel);
				r->nomem = true;
				return;
			}
		}
		p = end;
	}
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_resp *r = arg;
	size_t n = size * nmemb;
	const char *colon;
	char **slot = NULL;

	r->header_bytes += n;
	if (r->header_bytes > HTTP_MAX_HEADERS)
		return 0;
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (e.g. after 100-continue): start over. */
		free(r->content_type);
		free(r->location);
		free(r->replay_nonce);
		free(r->retry_after);
		r->content_type = r->location = NULL;
		r->replay_nonce = r->retry_after = NULL;
		return n;
	}
	if ((colon = memchr(p, ':', n)) == NULL)
		return n;
#define IS(name) ((size_t)(colon - p) == sizeof(name) - 1 && \
	strncasecmp(p, name, sizeof(name) - 1) == 0)
	if (IS("content-type"))
		slot = &r->content_type;
	else if (IS("location"))
		slot = &r->location;
	else if (IS("replay-nonce"))
		slot = &r->replay_nonce;
	else if (IS("retry-after"))
		slot = &r->retry_after;
	else if (IS("link")) {
		char *v = header_value(colon + 1, n - (size_t)(colon + 1 - p));
		if (v)
			parse_link(r, v);
		else
			r->nomem = true;
		free(v);
		return r->nomem ? 0 : n;
	}
#undef IS
	if (slot != NULL) {
		free(*slot);
		if ((*slot = header_value(colon + 1,
		    n - (size_t)(colon + 1 - p))) == NULL) {
			r->nomem = true;
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

int
http_request(struct certo_http *h, const char *method, const char *url,
    const char *content_type, const char *body, size_t max_body,
    struct http_resp *r)
{
	CURL *c = h->curl;
	struct curl_slist *hdrs = NULL;
	char ebuf[CURL_ERROR_SIZE] = "", shown[256], *ct = NULL, *hp = NULL;
	const char *bundle;
	bool learn = false;
	CURLcode cc;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, max_body);
	log_sanitize(shown, sizeof(shown), url, (size_t)-1);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    h->opts.allow_http ? "https,http" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    h->opts.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->opts.total_timeout_ms);
	/* A stalled connection (no byte for a while) fails before that. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
	    (h->opts.low_speed_time_ms + 999) / 1000);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "certo/" CERTO_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	/*
	 * Trust one bundle file, never a hashed directory: Debian's libcurl
	 * defaults to CApath /etc/ssl/certs, which loads every root twice
	 * (7 MiB).  --ca-bundle replaces the system bundle, like curl's
	 * --cacert.
	 */
	bundle = h->opts.ca_bundle ? h->opts.ca_bundle : h->system_bundle;
	if (bundle != NULL && strncmp(url, "https://", 8) == 0) {
		hp = host_port(url);
		curl_easy_setopt(c, CURLOPT_CAINFO, choose_cainfo(h, bundle, hp,
		    &learn));
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		if (learn)
			curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	} else if (bundle != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, bundle);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		    (long)(body ? strlen(body) : 0));
		if (content_type != NULL) {
			if (asprintf(&ct, "Content-Type: %s", content_type) < 0) {
				ct = NULL;
				rc = certo_fail(CERTO_ENOMEM, "out of memory");
				goto out;
			}
			if ((hdrs = curl_slist_append(NULL, ct)) == NULL) {
				rc = certo_fail(CERTO_ENOMEM, "out of memory");
				goto out;
			}
		}
		{
			struct curl_slist *h2 = curl_slist_append(hdrs, "Expect:");

			if (h2 == NULL) {
				rc = certo_fail(CERTO_ENOMEM, "out of memory");
				goto out;
			}
			hdrs = h2;
		}
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	}
	log_debug("%s %s", method, shown);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		if (learn)
			learn_root(c, bundle, hp);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		log_debug("-> %ld, %zu bytes", r->status, r->body.len);
		goto out;
	}
	r->transient = is_transient(cc);
	if (r->nomem) {
		/* A callback could not keep a header or the body. */
		rc = certo_fail(CERTO_ENOMEM, "out of memory");
		r->transient = false;
		goto out;
	}
	if (r->header_bytes > HTTP_MAX_HEADERS) {
		/* on_header refused them: not the body's fault. */
		rc = certo_fail(CERTO_ETOOBIG, "%s: response headers larger than "
		    "%d bytes", shown, HTTP_MAX_HEADERS);
		r->transient = false;
		goto out;
	}
	switch (cc) {
	case CURLE_WRITE_ERROR:
		rc = certo_fail(CERTO_ETOOBIG, "%s: response body larger than "
		    "%zu bytes", shown, max_body);
		break;
	case CURLE_OUT_OF_MEMORY:
		rc = certo_fail(CERTO_ENOMEM, "out of memory");
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		rc = certo_fail(CERTO_EINTR, "interrupted by signal %d",
		    sig_pending());
		break;
	case CURLE_OPERATION_TIMEDOUT:
		rc = certo_fail(CERTO_ETIMEDOUT, "%s: timed out (%s)", shown,
		    ebuf[0] ? ebuf : curl_easy_strerror(cc));
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* The user's own URLs are checked before (directory_fetch):
		 * a refused URL here came from the CA. */
		rc = certo_fail(CERTO_EPROTO, "%s: refused: only https:// URLs "
		    "are allowed", shown);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		rc = certo_fail(CERTO_ETLS, "%s: TLS error: %s", shown,
		    ebuf[0] ? ebuf : curl_easy_strerror(cc));
		break;
	default:
		rc = certo_fail(CERTO_ENET, "%s: %s", shown,
		    ebuf[0] ? ebuf : curl_easy_strerror(cc));
		break;
	}
out:
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	free(ct);
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
