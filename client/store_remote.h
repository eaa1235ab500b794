/*
 * The shared store (--store URL, docs/cluster.md) as the home of the
 * certificate sets and accounts of a fleet: the state directory keeps
 * each host's materialised copy (the files web servers read), swapped in
 * by store.c exactly as a local issuance.  Keys in Redis:
 *
 *   certo:set:<dir name>      hash: cert chain fullchain config sha
 *                             not_after key (sealed, seal.h)
 *   certo:sets                hash: <dir name> -> "<sha> <not_after>"
 *   certo:account:<ca id>     hash: json key (sealed) key_id
 *   certo:order:<sha256>      hash: json (order.json) key (sealed)
 *   certo:ratelimit:<ca id>   string: ratelimits/<ca>.json
 *   certo:lock:cert:<dir name>, certo:lock:account:<ca id>  (kvlock.h)
 *
 * One store per process, opened by main() from the command line
 * (store_remote_open); every function here is a no-op returning 0 when
 * no store is open, so callers do not test for it.  Thread-safe (the kv
 * connection serialises commands).  A store that cannot be reached is
 * CERTO_ESTORE naming it; nothing local is removed or half-written
 * because of it.
 */
#ifndef CERTO_STORE_REMOTE_H
#define CERTO_STORE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

struct certo_key;
struct certo_chain;
struct kvlock;

/*
 * Open the store at url (NULL: none; nothing happens) with the sealing
 * key from key_file (NULL: $CERTO_STORE_KEY).  With need_key, a missing
 * key file is an error (certo never puts a private key in a store
 * without --store-key); without, the store is opened for reading names
 * only.  Connects at once, so a wrong URL or password fails here.
 */
int store_remote_open(const char *url, const char *key_file, bool need_key);
/* Close the store (at exit; nothing open is fine). */
void store_remote_close(void);
/* Is a store open? */
bool store_remote_active(void);
/* The store for messages (password hidden), or "" when none. */
const char *store_remote_shown(void);

/*
 * After store.c committed a set locally: put it in the store (the key
 * sealed for this set's record), replacing the previous one.  Returns 0
 * or CERTO_ESTORE (the local set stays, the message says so).
 */
int store_remote_put_set(const char *dname, const struct certo_key *key,
    const struct certo_chain *chain, const char *config);
/*
 * certo delete: remove the set dname from the store (its record and its
 * index entry).  Other hosts keep their copies (run delete there too).
 */
int store_remote_del_set(const char *dname);
/*
 * Bring live/<dname> up to the store's set when it differs and is not
 * older (a host that never issued it gets it): swapped in like any set,
 * with a deploy-pending mark so that renew runs its deploy hook.
 * *changed (may be NULL) says whether it did.  0 when the store has no
 * such set.
 */
int store_remote_sync_set(const char *state, const char *dname,
    bool *changed);
/*
 * Every set of the store, as store_remote_sync_set (renew: before the
 * pass reads live/).  *nchanged (may be NULL) counts those brought in.
 * A set that cannot be brought in (wrong store key, altered record) is
 * logged ("store: NAME not brought in: why"), counted in *nfailed (may
 * be NULL) and skipped; the store being unreachable is an error
 * (nothing local touched).
 */
int store_remote_sync_all(const char *state, size_t *nchanged,
    size_t *nfailed);

/*
 * The store lock of one certificate (kvlock.h), or of the account of a
 * CA; *lock NULL when no store is open.  *waited set when another host
 * held it first.
 */
int store_remote_lock(const char *kind, const char *id, const char *what,
    struct kvlock **lock, bool *waited);

/*
 * The account of acct_dir (<state>/accounts/<ca id>) from the store when
 * there is none locally, or when the store's key (its key_id) is not the
 * local one (certo account rollover on another host): account.key (0600)
 * and account.json written there.  Call under the account lock.
 */
int store_remote_get_account(const char *acct_dir);
/*
 * Put the account of acct_dir (its key sealed, its key ID, account.json)
 * into the store: with replace, over what is there (rollover); else only
 * when the store has none for that CA.
 */
int store_remote_put_account(const char *acct_dir,
    const struct certo_key *key, bool replace);

/*
 * Saved orders (store_order.c) by the hash naming orders/<hash>: put
 * order.json's text and the key (sealed) there, expiring after a week
 * as the CA's order does; get them back (*text NULL when the store has
 * none); forget them.
 */
int store_remote_put_order(const char *hash, const char *text,
    const struct certo_key *key);
int store_remote_get_order(const char *hash, char **text,
    struct certo_key **key);
int store_remote_del_order(const char *hash);

/*
 * With a store, put the n pointers of v in a random order (renew: hosts
 * running at the same moment start on different certificates, and wait
 * on each other less); without, leave them.
 */
void store_remote_shuffle(void **v, size_t n);

/*
 * The rate-limit memory of a CA (ratelimits/<ca>.json text): *json
 * (malloc'd) from the store, NULL when it has none; and its replacement
 * (json NULL: forgotten).
 */
int store_remote_get_ratelimit(const char *ca_id, char **json);
int store_remote_put_ratelimit(const char *ca_id, const char *json);

#endif
