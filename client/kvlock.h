/*
 * Locks in the shared store (docs/cluster.md), between certo runs on
 * different hosts: SET key token NX PX ttl with a random token, renewed
 * by a helper thread every third of the TTL while held (compare and
 * PEXPIRE), released by compare-and-delete (EVAL), so a lock is only
 * ever removed by its holder, and a crashed holder's lock expires after
 * the TTL.  TTL: $CERTO_STORE_LOCK_TTL_MS (default KVLOCK_TTL_MS; tests
 * use a short one).  Waiting: polls every 100-200 ms up to
 * $CERTO_LOCK_WAIT seconds (as store.h's locks), then CERTO_EBUSY.
 */
#ifndef CERTO_KVLOCK_H
#define CERTO_KVLOCK_H

#include <stdbool.h>

#define KVLOCK_TTL_MS 30000
#define KVLOCK_TTL_MIN_MS 300

struct kv;
struct kvlock;

/*
 * Take the lock named key (a store key, "certo:lock:..."), waiting while
 * another holder has it (logged once as "waiting for another certo host
 * on <what>").  *waited says whether it was held by someone else first.
 * Returns 0 with *out (release with kvlock_release), CERTO_EBUSY after
 * the wait, CERTO_EINTR on a signal, CERTO_ESTORE / CERTO_ESTOREAUTH when
 * the store cannot be reached, CERTO_ENOMEM.
 */
int kvlock_acquire(struct kv *kv, const char *key, const char *what,
    struct kvlock **out, bool *waited);
/*
 * Stop renewing and delete the lock if it is still ours (a lock that
 * expired meanwhile is logged as a warning).  NULL is fine.
 */
void kvlock_release(struct kvlock *lock);
/* The TTL in use (environment or default), in milliseconds. */
long long kvlock_ttl_ms(void);

#endif
