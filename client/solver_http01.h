/*
 * The http-01 self-check fetch shared by the standalone and external
 * solvers: GET the challenge URL from this host as the CA will, and say
 * in a few words why it does not serve the key authorization yet.
 */
#ifndef CERTO_SOLVER_HTTP01_H
#define CERTO_SOLVER_HTTP01_H

#include <pthread.h>
#include <stddef.h>

#include "http.h"

#define SOLVER_HTTP01_MAX_BODY 4096  /* a key authorization is ~90 bytes */

/* What one fetch showed. */
enum solver_http01_result {
	SOLVER_HTTP01_SERVED = 0,    /* HTTP 200 with the key authorization */
	SOLVER_HTTP01_UNREACHABLE,   /* no answer: why says what failed */
	SOLVER_HTTP01_WRONG          /* another status or body: why says */
};

/*
 * GET url with client once.  host and port are where url points (a
 * name or numeric address, port 0 for 80): when the connection fails,
 * a plain TCP connect there gets the system's words for it ("Connection
 * refused"), which libcurl does not give.  The body counts as served
 * when it equals keyauth but for trailing whitespace (RFC 8555 8.3, as
 * CAs compare).
 *
 * Returns a solver_http01_result (>= 0) with why filled for the two
 * failures ("cannot connect to HOST port N: Connection refused", "the
 * server answers HTTP 404, not 200 with the key authorization", "wrong
 * content (5 bytes): \"...\""), the error message of the fetch folded
 * into why and cleared; or CERTO_EINTR, CERTO_ENOMEM with the message
 * kept.
 */
int solver_http01_fetch(struct certo_http *client, const char *url,
    const char *host, unsigned short port, const char *keyauth, char *why,
    size_t whylen);

/*
 * One "http-01: waiting for URL: WHY" progress line (and its
 * http_progress event), only when it differs from the last one said:
 * last (of lastlen bytes) is the caller's memory of it, guarded by lock.
 */
void solver_http01_progress(pthread_mutex_t *lock, char *last,
    size_t lastlen, const char *url, const char *why, long secs_left);

struct addrinfo;

/*
 * Why a TCP connection to host:port fails, in the system's words
 * ("Connection refused", "No route to host"), into out; "" when it
 * connects.  libcurl only says "Couldn't connect to server".  In a
 * privilege-separated run the network process probes.
 */
void solver_http01_probe(const char *host, unsigned short port, char *out,
    size_t len);
/* The name lookup of the probe: getaddrinfo, or the network process's
 * own (netproc_net.c), which reads no file. */
extern int (*solver_http01_resolver)(const char *host, const char *port,
    const struct addrinfo *hints, struct addrinfo **res);

#endif
