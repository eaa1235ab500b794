/*
 * A proxy backend named "host:port" or "[v6]:port" (--http-proxy,
 * --tls-proxy), resolved lazily: a small resolver thread looks the name
 * up when a connection needs it, keeps the answer BACKEND_TTL_S seconds
 * (an older answer is still used while a fresh lookup runs), and retries
 * every BACKEND_RETRY_MS while lookups fail and connections wait.  A
 * backend that does not resolve yet (a container that starts later)
 * never stops the daemon: the connections that needed it are closed when
 * their own timeout runs out.
 */
#ifndef CERTO_BACKEND_H
#define CERTO_BACKEND_H

#include <sys/socket.h>

#define BACKEND_TTL_S 30
#define BACKEND_RETRY_MS 1000

struct backend;

/*
 * Check the syntax of spec (no lookup yet: that starts in the
 * background with backend_run()).  what names the option in messages
 * ("--tls-proxy").  notify, if set, is called from the resolver thread
 * after every lookup (the TLS event loop wakes up with it).  Returns 0,
 * CERTO_EUSAGE for a malformed spec, CERTO_ENOMEM.
 */
int backend_new(const char *spec, const char *what,
    void (*notify)(void *), void *arg, struct backend **out);
/*
 * Start the resolver thread and its first lookup (certo-responder: after
 * its sandbox, so that the thread runs in it).  Returns 0 or
 * CERTO_ENOMEM; backend_free() frees either way.
 */
int backend_run(struct backend *backend);
/*
 * Stop the resolver and free.  A lookup still running is left to finish
 * on its own (at most a second is waited for it).  NULL is fine.
 */
void backend_free(struct backend *backend);

/*
 * Non-blocking: copy the address into *sa and *salen and return 0, or ask
 * for a lookup and return 1 (the caller waits for notify and asks
 * again).  Never fails otherwise.
 */
int backend_get(struct backend *backend, struct sockaddr_storage *sa,
    socklen_t *salen);
/*
 * Blocking: wait up to timeout_ms for an address.  Returns 0, or
 * CERTO_ENET with a message naming the backend and the resolver's
 * last error.
 */
int backend_wait(struct backend *backend, int timeout_ms,
    struct sockaddr_storage *sa, socklen_t *salen);

/* The spec as given, for messages. */
const char *backend_spec(const struct backend *backend);

#endif
