/*
 * certo-responder's --http-redirect and --http-proxy (http01.h): what GET
 * and HEAD outside /.well-known/acme-challenge/ get instead of a 404.
 * Called from libmicrohttpd's threads; a proxied request holds its
 * thread until the backend answered (at most 10 s).
 */
#ifndef CERTO_HTTP01_FALLBACK_H
#define CERTO_HTTP01_FALLBACK_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "http01.h"

struct http01_fallback;

/*
 * The fallback opts asks for: the proxy (resolved lazily, backend.h) when
 * set, else the redirect; *out NULL when neither (plain 404s).  Returns
 * 0, CERTO_EUSAGE for a malformed proxy, CERTO_ENOMEM.
 */
int http01_fallback_new(const struct http01_opts *opts,
    struct http01_fallback **out);
/*
 * Start the proxy backend's resolver thread (backend_run()), if there
 * is one.  Returns 0 or CERTO_ENOMEM; NULL is fine.
 */
int http01_fallback_run(struct http01_fallback *fb);
/* Stop the backend's resolver and free; NULL is fine. */
void http01_fallback_free(struct http01_fallback *fb);
/*
 * Answer conn: the backend's answer relayed (network I/O; 502 when it
 * fails, the cause logged with -v), or a 301 to https://<Host><path>
 * (400 for a missing or malformed Host).
 */
enum MHD_Result http01_fallback_answer(const struct http01_fallback *fb,
    struct MHD_Connection *conn, const char *url, const char *method);

#endif
