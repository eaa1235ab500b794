/* renewalInfo: fetch, parse, pick a time in the window. */
#include "renewalinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json.h"
#include "request.h"
#include "sha256.h"

/* Parse an RFC 3339 time ("2025-01-02T03:04:05.123Z", offsets too). */
int
renewalinfo_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	long off = 0;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return CERTO_EPROTO;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int h = (p[1] - '0') * 10 + (p[2] - '0');
		int m = (p[4] - '0') * 10 + (p[5] - '0');
		off = (h * 3600L + m * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return CERTO_EPROTO;
	}
	if (*p != '\0')
		return CERTO_EPROTO;
	*out = timegm(&tm) - off;
	return 0;
}

/* Free what window holds (NULL is fine). */
void
renewalinfo_free(struct ari_window *window)
{
	if (window == NULL)
		return;
	free(window->explanation);
	memset(window, 0, sizeof(*window));
}

/* Parse a renewalInfo document. */
int
renewalinfo_parse(const char *json, size_t len, struct ari_window *window)
{
	struct json_object *doc, *suggested = NULL;
	char *start = NULL, *end = NULL;
	const char *what = "renewalInfo";
	int rc;

	memset(window, 0, sizeof(*window));
	window->retry_after = -1;
	if ((rc = json_parse_object(json, len, what, &doc)) != 0)
		return rc;
	if ((rc = json_get_object(doc, what, "suggestedWindow", true,
	    &suggested)) ||
	    (rc = json_get_str(suggested, what, "start", true, 64, &start)) ||
	    (rc = json_get_str(suggested, what, "end", true, 64, &end)) ||
	    (rc = json_get_str(doc, what, "explanationURL", false, 2048,
	    &window->explanation)))
		goto out;
	if (renewalinfo_parse_time(start, &window->start) != 0 ||
	    renewalinfo_parse_time(end, &window->end) != 0) {
		rc = certo_fail(CERTO_EPROTO, "renewalInfo: window times are "
		    "not RFC 3339");
		goto out;
	}
	if (window->end <= window->start)
		rc = certo_fail(CERTO_EPROTO, "renewalInfo: window ends before "
		    "it starts");
out:
	free(start);
	free(end);
	json_object_put(doc);
	if (rc != 0)
		renewalinfo_free(window);
	return rc;
}

/* GET <base>/<cert_id> (unauthenticated) and parse it. */
int
renewalinfo_fetch(struct certo_req *req, const char *base,
    const char *cert_id, struct ari_window *window)
{
	struct http_resp resp;
	char *url;
	int rc;

	if (asprintf(&url, "%s%s%s", base, base[0] && base[strlen(base) - 1] ==
	    '/' ? "" : "/", cert_id) < 0)
		return CERTO_ENOMEM;
	if ((rc = request_get(req, url, DOC_RENEWALINFO, &resp)) == 0 &&
	    (rc = doc_take(&resp, DOC_RENEWALINFO, window)) == 0)
		window->retry_after = request_retry_after(&resp, 7 * 86400);
	http_resp_free(&resp);
	free(url);
	return rc;
}

/* The moment to renew. */
time_t
renewalinfo_pick(const struct ari_window *window, const char *cert_id)
{
	unsigned char digest[SHA256_LEN];
	unsigned long long v = 0;

	/* A stable spread over the window: the same certificate, the same
	 * time (a hash failure picks the start). */
	if (sha256(cert_id, strlen(cert_id), digest) != 0) {
		certo_errclear();
		return window->start;
	}
	for (int i = 0; i < 8; i++)
		v = v << 8 | digest[i];
	return window->start + (time_t)(v %
	    (unsigned long long)(window->end - window->start));
}
