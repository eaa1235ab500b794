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
#include "sig.h"

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
	bool started;               /* backend_run() started the thread */
};

/* Condition variables run on CLOCK_MONOTONIC (see backend_new). */
static void
abs_ms(int64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
}

static void
destroy(struct backend *backend)
{
	pthread_cond_destroy(&backend->wake);
	pthread_cond_destroy(&backend->done);
	pthread_mutex_destroy(&backend->lock);
	free(backend);
}

/* One lookup, its result stored; called and returning with the lock. */
static void
lookup(struct backend *backend)
{
	struct addrinfo hints, *ai = NULL;
	int e;

	backend->want = false;
	pthread_mutex_unlock(&backend->lock);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	e = getaddrinfo(backend->host, backend->port, &hints, &ai);
	if (e == 0 && ai->ai_addrlen > sizeof(backend->sa))
		e = EAI_FAMILY;
	pthread_mutex_lock(&backend->lock);
	if (e == 0) {
		memcpy(&backend->sa, ai->ai_addr, ai->ai_addrlen);
		backend->salen = ai->ai_addrlen;
		backend->have = true;
		backend->expires = sig_now_ms() + (int64_t)BACKEND_TTL_S * 1000;
		backend->next_try = 0;
		if (backend->failing)
			log_info("%s backend '%s' resolves again", backend->what,
			    backend->spec);
		backend->failing = false;
		backend->err[0] = '\0';
	} else {
		snprintf(backend->err, sizeof(backend->err), "%s", e == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(e));
		backend->next_try = sig_now_ms() + BACKEND_RETRY_MS;
		if (!backend->failing)
			log_warn("%s backend '%s' does not resolve (%s); looking "
			    "it up again while connections wait for it", backend->what,
			    backend->spec, backend->err);
		backend->failing = true;
	}
	if (ai != NULL)
		freeaddrinfo(ai);
	backend->gen++;
	pthread_cond_broadcast(&backend->done);
}

static void *
resolver(void *arg)
{
	struct backend *backend = arg;
	struct timespec ts;
	void (*notify)(void *);
	bool orphaned;

	pthread_mutex_lock(&backend->lock);
	for (;;) {
		while (!backend->stop && !(backend->want && sig_now_ms() >= backend->next_try)) {
			if (backend->want) {
				abs_ms(backend->next_try, &ts);
				pthread_cond_timedwait(&backend->wake, &backend->lock, &ts);
			} else
				pthread_cond_wait(&backend->wake, &backend->lock);
		}
		if (backend->stop)
			break;
		lookup(backend);
		if (backend->stop)
			break;
		notify = backend->notify;
		pthread_mutex_unlock(&backend->lock);
		if (notify != NULL)
			notify(backend->arg);
		pthread_mutex_lock(&backend->lock);
	}
	backend->exited = true;
	orphaned = backend->orphaned;
	pthread_mutex_unlock(&backend->lock);
	/* backend_free gave up waiting for us: the last one out frees. */
	if (orphaned)
		destroy(backend);
	return NULL;
}

/* "host:port" or "[v6]:port" into backend->host and ->port. */
static int
parse_spec(struct backend *backend, const char *spec)
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
	if (hend == h || (size_t)(hend - h) >= sizeof(backend->host) ||
	    colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
		return -1;
	memcpy(backend->host, h, (size_t)(hend - h));
	backend->host[hend - h] = '\0';
	snprintf(backend->port, sizeof(backend->port), "%lu", port);
	return 0;
}

/* Check spec and prepare; the resolver starts with backend_run(). */
int
backend_new(const char *spec, const char *what, void (*notify)(void *),
    void *arg, struct backend **out)
{
	struct backend *backend;
	pthread_condattr_t ca;

	*out = NULL;
	if ((backend = calloc(1, sizeof(*backend))) == NULL)
		return CERTO_ENOMEM;
	snprintf(backend->what, sizeof(backend->what), "%s", what);
	if (strlen(spec) >= sizeof(backend->spec) || parse_spec(backend, spec) != 0) {
		free(backend);
		return certo_fail(CERTO_EUSAGE, "%s: expected HOST:PORT or "
		    "[ADDRESS]:PORT, not '%s'", what, spec);
	}
	snprintf(backend->spec, sizeof(backend->spec), "%s", spec);
	backend->notify = notify;
	backend->arg = arg;
	/* Look the name up at once, so the first connection need not wait. */
	backend->want = true;
	pthread_mutex_init(&backend->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&backend->wake, &ca);
	pthread_cond_init(&backend->done, &ca);
	pthread_condattr_destroy(&ca);
	*out = backend;
	return 0;
}

/* Start the resolver thread and its first lookup. */
int
backend_run(struct backend *backend)
{
	sigset_t all, old;
	int e;

	/* Signals stay with the caller's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&backend->thread, NULL, resolver, backend);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		return certo_fail(CERTO_ENOMEM, "%s: cannot start the resolver "
		    "thread: %s", backend->what, strerror(e));
	backend->started = true;
	return 0;
}

/* Stop the resolver (waiting at most a second for it); NULL is fine. */
void
backend_free(struct backend *backend)
{
	struct timespec ts;
	int e;

	if (backend == NULL)
		return;
	if (!backend->started) {
		destroy(backend);
		return;
	}
	pthread_mutex_lock(&backend->lock);
	backend->stop = true;
	pthread_cond_signal(&backend->wake);
	pthread_mutex_unlock(&backend->lock);
	/* A getaddrinfo() in progress cannot be interrupted: wait a bit. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	if ((e = pthread_timedjoin_np(backend->thread, NULL, &ts)) == 0) {
		destroy(backend);
		return;
	}
	pthread_mutex_lock(&backend->lock);
	if (backend->exited) {
		pthread_mutex_unlock(&backend->lock);
		pthread_join(backend->thread, NULL);
		destroy(backend);
		return;
	}
	backend->orphaned = true;
	pthread_detach(backend->thread);
	pthread_mutex_unlock(&backend->lock);
}

/*
 * An answer while holding the lock: 0 and copied, or 1.  A missing or
 * stale answer asks the resolver for a lookup; a stale one is still
 * used meanwhile (the backend's address rarely changes, and if it did
 * the next connection gets the new one).
 */
static int
take(struct backend *backend, struct sockaddr_storage *sa, socklen_t *salen)
{
	if (!backend->have || sig_now_ms() >= backend->expires) {
		if (!backend->want) {
			backend->want = true;
			pthread_cond_signal(&backend->wake);
		}
		if (!backend->have)
			return 1;
	}
	memcpy(sa, &backend->sa, backend->salen);
	*salen = backend->salen;
	return 0;
}

/* The address if known (0), else 1 with a lookup asked for. */
int
backend_get(struct backend *backend, struct sockaddr_storage *sa,
    socklen_t *salen)
{
	int r;

	pthread_mutex_lock(&backend->lock);
	r = take(backend, sa, salen);
	pthread_mutex_unlock(&backend->lock);
	return r;
}

/* Wait up to timeout_ms for an address; CERTO_ENET with the cause. */
int
backend_wait(struct backend *backend, int timeout_ms,
    struct sockaddr_storage *sa, socklen_t *salen)
{
	struct timespec ts;
	int64_t end = sig_now_ms() + timeout_ms;
	unsigned gen;
	char err[128];

	pthread_mutex_lock(&backend->lock);
	while (take(backend, sa, salen) != 0) {
		gen = backend->gen;
		abs_ms(end, &ts);
		while (backend->gen == gen && sig_now_ms() < end)
			pthread_cond_timedwait(&backend->done, &backend->lock, &ts);
		if (backend->gen == gen || (backend->failing && backend->next_try >= end)) {
			snprintf(err, sizeof(err), "%s", backend->err[0] ? backend->err :
			    "lookup still running");
			pthread_mutex_unlock(&backend->lock);
			return certo_fail(CERTO_ENET, "%s backend '%s' does not "
			    "resolve: %s", backend->what, backend->spec, err);
		}
	}
	pthread_mutex_unlock(&backend->lock);
	return 0;
}

/* The "host:port" given, for messages. */
const char *
backend_spec(const struct backend *backend)
{
	return backend->spec;
}
