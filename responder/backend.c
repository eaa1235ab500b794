/*
 * Lazily resolved proxy backends: one resolver thread per backend, woken
 * by the connections that need an address; see backend.h.
 */
#include "backend.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "log.h"

struct backend {
	pthread_mutex_t lock;
	pthread_cond_t wake;        /* to the resolver: want or stop */
	pthread_cond_t done;        /* to waiters: a lookup finished */
	pthread_t thread;
	char spec[256], host[256], port[8], what[32];
	void (*notify)(void *);
	void *arg;
	/* under lock */
	bool have;                  /* sa/salen hold an answer */
	struct sockaddr_storage sa;
	socklen_t salen;
	int64_t expires;            /* monotonic ms: look up again after */
	bool want;                  /* somebody waits for a (fresh) answer */
	int64_t next_try;           /* monotonic ms: not before (after failures) */
	bool failing;               /* the last lookup failed (logged once) */
	char err[128];
	unsigned gen;               /* lookups finished */
	bool stop, exited, orphaned;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Condition variables run on CLOCK_MONOTONIC (see backend_new). */
static void
abs_ms(int64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
}

static void
destroy(struct backend *b)
{
	pthread_cond_destroy(&b->wake);
	pthread_cond_destroy(&b->done);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* One lookup, its result stored; called and returning with the lock. */
static void
lookup(struct backend *b)
{
	struct addrinfo hints, *ai = NULL;
	int e;

	b->want = false;
	pthread_mutex_unlock(&b->lock);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	e = getaddrinfo(b->host, b->port, &hints, &ai);
	if (e == 0 && ai->ai_addrlen > sizeof(b->sa))
		e = EAI_FAMILY;
	pthread_mutex_lock(&b->lock);
	if (e == 0) {
		memcpy(&b->sa, ai->ai_addr, ai->ai_addrlen);
		b->salen = ai->ai_addrlen;
		b->have = true;
		b->expires = now_ms() + (int64_t)BACKEND_TTL_S * 1000;
		b->next_try = 0;
		if (b->failing)
			log_info("%s backend '%s' resolves again", b->what,
			    b->spec);
		b->failing = false;
		b->err[0] = '\0';
	} else {
		snprintf(b->err, sizeof(b->err), "%s", e == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(e));
		b->next_try = now_ms() + BACKEND_RETRY_MS;
		if (!b->failing)
			log_warn("%s backend '%s' does not resolve (%s); looking "
			    "it up again while connections wait for it", b->what,
			    b->spec, b->err);
		b->failing = true;
	}
	if (ai != NULL)
		freeaddrinfo(ai);
	b->gen++;
	pthread_cond_broadcast(&b->done);
}

static void *
resolver(void *arg)
{
	struct backend *b = arg;
	struct timespec ts;
	void (*notify)(void *);
	bool orphaned;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (!b->stop && !(b->want && now_ms() >= b->next_try)) {
			if (b->want) {
				abs_ms(b->next_try, &ts);
				pthread_cond_timedwait(&b->wake, &b->lock, &ts);
			} else
				pthread_cond_wait(&b->wake, &b->lock);
		}
		if (b->stop)
			break;
		lookup(b);
		if (b->stop)
			break;
		notify = b->notify;
		pthread_mutex_unlock(&b->lock);
		if (notify != NULL)
			notify(b->arg);
		pthread_mutex_lock(&b->lock);
	}
	b->exited = true;
	orphaned = b->orphaned;
	pthread_mutex_unlock(&b->lock);
	/* backend_free gave up waiting for us: the last one out frees. */
	if (orphaned)
		destroy(b);
	return NULL;
}

/* "host:port" or "[v6]:port" into b->host and b->port. */
static int
parse_spec(struct backend *b, const char *spec)
{
	const char *h = spec, *hend, *colon;
	char *end;
	unsigned long port;

	if (spec[0] == '[') {
		h = spec + 1;
		if ((hend = strchr(h, ']')) == NULL || hend[1] != ':')
			return -1;
		colon = hend + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL ||
		    memchr(spec, ':', (size_t)(colon - spec)) != NULL)
			return -1;
		hend = colon;
	}
	if (hend == h || (size_t)(hend - h) >= sizeof(b->host) ||
	    colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
		return -1;
	memcpy(b->host, h, (size_t)(hend - h));
	b->host[hend - h] = '\0';
	snprintf(b->port, sizeof(b->port), "%lu", port);
	return 0;
}

int
backend_new(const char *spec, const char *what, void (*notify)(void *),
    void *arg, struct backend **out)
{
	struct backend *b;
	pthread_condattr_t ca;
	sigset_t all, old;
	int e;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return CERTO_ENOMEM;
	snprintf(b->what, sizeof(b->what), "%s", what);
	if (strlen(spec) >= sizeof(b->spec) || parse_spec(b, spec) != 0) {
		free(b);
		return certo_fail(CERTO_EUSAGE, "%s: expected HOST:PORT or "
		    "[ADDRESS]:PORT, not '%s'", what, spec);
	}
	snprintf(b->spec, sizeof(b->spec), "%s", spec);
	b->notify = notify;
	b->arg = arg;
	/* Look the name up at once, so the first connection need not wait. */
	b->want = true;
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->wake, &ca);
	pthread_cond_init(&b->done, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals stay with the caller's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&b->thread, NULL, resolver, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		destroy(b);
		return certo_fail(CERTO_ENOMEM, "%s: cannot start the resolver "
		    "thread: %s", what, strerror(e));
	}
	*out = b;
	return 0;
}

void
backend_free(struct backend *b)
{
	struct timespec ts;
	int e;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
	/* A getaddrinfo() in progress cannot be interrupted: wait a bit. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	if ((e = pthread_timedjoin_np(b->thread, NULL, &ts)) == 0) {
		destroy(b);
		return;
	}
	pthread_mutex_lock(&b->lock);
	if (b->exited) {
		pthread_mutex_unlock(&b->lock);
		pthread_join(b->thread, NULL);
		destroy(b);
		return;
	}
	b->orphaned = true;
	pthread_detach(b->thread);
	pthread_mutex_unlock(&b->lock);
}

/*
 * An answer while holding the lock: 0 and copied, or 1.  A missing or
 * stale answer asks the resolver for a lookup; a stale one is still
 * used meanwhile (the backend's address rarely changes, and if it did
 * the next connection gets the new one).
 */
static int
take(struct backend *b, struct sockaddr_storage *sa, socklen_t *salen)
{
	if (!b->have || now_ms() >= b->expires) {
		if (!b->want) {
			b->want = true;
			pthread_cond_signal(&b->wake);
		}
		if (!b->have)
			return 1;
	}
	memcpy(sa, &b->sa, b->salen);
	*salen = b->salen;
	return 0;
}

int
backend_get(struct backend *b, struct sockaddr_storage *sa,
    socklen_t *salen)
{
	int r;

	pthread_mutex_lock(&b->lock);
	r = take(b, sa, salen);
	pthread_mutex_unlock(&b->lock);
	return r;
}

int
backend_wait(struct backend *b, int timeout_ms, struct sockaddr_storage *sa,
    socklen_t *salen)
{
	struct timespec ts;
	int64_t end = now_ms() + timeout_ms;
	unsigned gen;
	char err[128];

	pthread_mutex_lock(&b->lock);
	while (take(b, sa, salen) != 0) {
		gen = b->gen;
		abs_ms(end, &ts);
		while (b->gen == gen && now_ms() < end)
			pthread_cond_timedwait(&b->done, &b->lock, &ts);
		if (b->gen == gen || (b->failing && b->next_try >= end)) {
			snprintf(err, sizeof(err), "%s", b->err[0] ? b->err :
			    "lookup still running");
			pthread_mutex_unlock(&b->lock);
			return certo_fail(CERTO_ENET, "%s backend '%s' does not "
			    "resolve: %s", b->what, b->spec, err);
		}
	}
	pthread_mutex_unlock(&b->lock);
	return 0;
}

const char *
backend_spec(const struct backend *b)
{
	return b->spec;
}
