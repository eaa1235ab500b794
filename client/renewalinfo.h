/* ACME Renewal Information (RFC 9773): the CA's suggested window. */
#ifndef CERTO_RENEWALINFO_H
#define CERTO_RENEWALINFO_H

#include <stddef.h>
#include <time.h>

struct certo_req;

struct ari_window {
	time_t start;
	time_t end;
	long retry_after;       /* seconds until asking again, -1 if unsaid */
	char *explanation;      /* explanationURL, may be NULL */
};

/* Parse an RFC 3339 time ("2025-01-02T03:04:05.123Z", offsets too). */
int renewalinfo_parse_time(const char *s, time_t *out);
/* Parse a renewalInfo document; start must be before end. */
int renewalinfo_parse(const char *json, size_t len, struct ari_window *window);
/* GET <base>/<cert_id> (unauthenticated) and parse it. */
int renewalinfo_fetch(struct certo_req *req, const char *base,
    const char *cert_id, struct ari_window *window);
/*
 * The moment to renew: a uniformly spread point in the window, fixed
 * per certificate (derived from cert_id) so that repeated cron runs
 * agree, and past windows mean "now".
 */
time_t renewalinfo_pick(const struct ari_window *window, const char *cert_id);
void renewalinfo_free(struct ari_window *window);

#endif
