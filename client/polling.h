/*
 * One polling model for every wait on the CA (authorizations, the order
 * turning ready, the CA issuing): a poll is started by the wait that needs
 * it, its deadline runs from that moment (not from the start of the run),
 * it is reset whenever the polled object makes progress, the CA's
 * Retry-After replaces the backoff, and the number of requests of one
 * wait is bounded as well as its time.
 */
#ifndef CERTO_POLLING_H
#define CERTO_POLLING_H

#include <time.h>

/* Default time one wait may take without progress (--ca-timeout). */
#define POLL_DEFAULT_TIMEOUT_S 300
/* Polls of one wait without progress, whatever the time. */
#define POLL_MAX_REQUESTS 100
/*
 * First sleep of a wait without a Retry-After (then doubling): a CA that
 * decides at once (Pebble validates and issues in 2-6 ms on loopback) is
 * seen after 5 ms instead of 10, for one more poll of a slow CA.  Also
 * the shortest sleep, whatever Retry-After says (0).
 */
#define POLL_FIRST_BACKOFF_MS 5L
/* Longest sleep between two polls without a Retry-After. */
#define POLL_MAX_BACKOFF_MS 5000L
/* A Retry-After longer than this is cut to it. */
#define POLL_MAX_RETRY_AFTER_S 60L

struct polling {
	const char *what;       /* "order", a name...: shown in messages */
	long timeout_s;         /* without progress */
	time_t started;         /* of the wait, or of the last progress */
	unsigned attempt;       /* polls since then */
};

/* Start a wait on what (a borrowed string) with timeout_s (<= 0: default). */
void polling_start(struct polling *polling, const char *what, long timeout_s);
/* The polled object moved on (a status changed): the wait starts anew. */
void polling_progress(struct polling *polling);
/*
 * Sleep before the next poll: retry_after seconds when the CA gave one
 * (>= 0, capped at POLL_MAX_RETRY_AFTER_S), else a backoff from
 * POLL_FIRST_BACKOFF_MS doubling to POLL_MAX_BACKOFF_MS; never less than
 * POLL_FIRST_BACKOFF_MS.
 * Returns 0, CERTO_ETIMEDOUT (with a message naming what, the time and
 * the number of polls) when the wait has taken timeout_s or
 * POLL_MAX_REQUESTS polls without progress, or CERTO_EINTR.
 */
int polling_wait(struct polling *polling, long retry_after);

#endif
