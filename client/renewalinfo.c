/* renewalInfo: fetch, parse, pick a time in the window. */
#include "renewalinfo.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json.h"
#include "request.h"

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

void
renewalinfo_free(struct ari_window *w)
{
	if (w == NULL)
		return;
	free(w->explanation);
	memset(w, 0, sizeof(*w));
}

int
renewalinfo_parse(const char *json, size_t len, struct ari_window *w)
{
	struct json_object *o, *sw = NULL;
	char *start = NULL, *end = NULL;
	const char *what = "renewalInfo";
	int rc;

	memset(w, 0, sizeof(*w));
	w->retry_after = -1;
	if ((rc = json_parse_object(json, len, what, &o)) != 0)
		return rc;
	if ((rc = json_get_object(o, what, "suggestedWindow", true, &sw)) ||
	    (rc = json_get_str(sw, what, "start", true, 64, &start)) ||
	    (rc = json_get_str(sw, what, "end", true, 64, &end)) ||
	    (rc = json_get_str(o, what, "explanationURL", false, 2048,
	    &w->explanation)))
		goto out;
	if (renewalinfo_parse_time(start, &w->start) != 0 ||
	    renewalinfo_parse_time(end, &w->end) != 0) {
		rc = certo_fail(CERTO_EPROTO, "renewalInfo: window times are not "
		    "RFC 3339");
		goto out;
	}
	if (w->end <= w->start)
		rc = certo_fail(CERTO_EPROTO, "renewalInfo: window ends before it "
		    "starts");
out:
	free(start);
	free(end);
	json_object_put(o);
	if (rc != 0)
		renewalinfo_free(w);
	return rc;
}

int
renewalinfo_fetch(struct certo_req *req, const char *base,
    const char *cert_id, struct ari_window *w)
{
	struct http_resp r;
	char *url;
	int rc;

	if (asprintf(&url, "%s%s%s", base, base[0] && base[strlen(base) - 1] ==
	    '/' ? "" : "/", cert_id) < 0)
		return CERTO_ENOMEM;
	if ((rc = request_get(req, url, 64 * 1024, &r)) == 0 &&
	    (rc = renewalinfo_parse(r.body.data, r.body.len, w)) == 0)
		w->retry_after = request_retry_after(&r, 7 * 86400);
	http_resp_free(&r);
	free(url);
	return rc;
}

time_t
renewalinfo_pick(const struct ari_window *w, const char *cert_id)
{
	unsigned char d[32];
	unsigned long long v = 0;

	gnutls_hash_fast(GNUTLS_DIG_SHA256, cert_id, strlen(cert_id), d);
	for (int i = 0; i < 8; i++)
		v = v << 8 | d[i];
	return w->start + (time_t)(v % (unsigned long long)(w->end - w->start));
}
