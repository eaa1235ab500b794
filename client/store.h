/*
 * The state directory and what certo keeps in it.  The only writer of
 * certificates: <state>/live/<name>/{privkey.pem,cert.pem,chain.pem,
 * fullchain.pem}, built in a staging directory and swapped in with one
 * atomic rename; the previous set moves to
 * <state>/archive/<name>/<UTC timestamp>/ (store.c).  Also saved orders
 * (store_order.c), locks between runs (store_lock.c), the sweep of what
 * killed runs left (store_sweep.c) and small records (store_record.c).
 */
#ifndef CERTO_STORE_H
#define CERTO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct certo_key;
struct certo_chain;
struct certo_order;

/*
 * The state directory: --state-dir, else $CERTO_STATE_DIR, else
 * /var/lib/certo for root, else $XDG_DATA_HOME/certo or
 * ~/.local/share/certo.  Malloc'd.
 */
int store_state_dir(const char *opt, char **out);
/*
 * Create the state directory (0700) and check it is writable; then sweep
 * what killed runs left behind (temp files, staging directories of dead
 * processes: complete certificate sets go to archive/, the rest away).
 */
int store_prepare(const char *state);
/*
 * Write the set for name, with config (certo.json text, may be NULL)
 * and key (NULL when the user brought a CSR without --key: no
 * privkey.pem);
 * *live_dir (malloc'd) says where.  Nothing of the new set is visible
 * unless all of it was written.  The caller holds store_lock_cert().
 */
int store_commit(const char *state, const char *name,
    const struct certo_key *key, const struct certo_chain *chain,
    const char *config, char **live_dir);

/*
 * With --pem-bundle (certo.json's "pem_bundle"), store_commit also
 * writes this file in the set: the private key, then the full chain,
 * 0600 (HAProxy's crt file).
 */
#define STORE_PEM_BUNDLE_FILE "combined.pem"

/* live/<dir name> for a certificate name ("*." becomes "_."). */
int store_live_dir(const char *state, const char *name, char **out);

/*
 * The stored certificate names (directory names under live/), sorted.
 * Caller frees each and the array.
 */
int store_list(const char *state, char ***names, size_t *n);
/*
 * Remove live/<name>, archive/<name> and the saved orders that would
 * store into live/<name>, each tree with one rename first; takes the
 * certificate's lock.  CERTO_EUSAGE if unknown.
 */
int store_delete(const char *state, const char *name);

/*
 * Orders in flight, for resume: <state>/orders/<sha256 of the sorted
 * identifiers>/ holds order.json (URL, CA, names, the key's SHA-256 key
 * ID) and privkey.pem (the certificate key, made when the order was
 * created).
 */
int store_order_dir(const char *state, char *const *names, size_t n,
    char **out);
/*
 * Save the order (url, server, names) and its key as one unit: both go
 * into a new staging directory that replaces dir with one rename, so a
 * kill or a full disk never pairs a key with another order's URL.
 */
int store_order_save(const char *dir, char *const *names, size_t n,
    const char *url, const char *server, const struct certo_key *key);
/*
 * Load a saved order for server: *url and *key (both NULL when there is
 * none, or it was for another CA).  An error (then both NULL) when the
 * unit is unreadable or its key is not the one it was saved with: the
 * caller discards it and starts a new order.
 */
int store_order_load(const char *dir, const char *server, char **url,
    struct certo_key **key);
/* Forget a saved order (renamed away first, then removed). */
void store_order_remove(const char *dir);
/*
 * Remember in dir's order.json what the CA last said of order (when dir
 * holds this very order): "status" (a pending order with a failed
 * authorization is "invalid", as the CA makes it), "seen" (UTC),
 * "expires", and "authorizations" ({name: status} of those fetched,
 * under order->names' own strings).  Nothing saved there: 0.
 */
int store_order_note(const char *dir, const struct certo_order *order);
/* The CA answered 404 for the order at url saved in dir: "gone". */
int store_order_note_gone(const char *dir, const char *url);
/* One saved order as certo orders lists it (store_orders_list). */
struct store_order_info {
	char *hash;                 /* orders/<hash> */
	char *url, *server;         /* NULL when not recorded */
	char **names;
	size_t nnames;
	char *status, *seen;        /* as last seen; NULL: never recorded */
	char *expires;              /* the CA's RFC 3339 string, or NULL */
	bool authz_known;           /* authorizations were recorded */
	char **pending;             /* names whose authorization is pending */
	size_t npending;
	char *error;                /* order.json unreadable: why */
};
/*
 * Every saved order under <state>/orders/ (none: *n is 0), sorted by
 * directory name; offline, nothing written.  Free with
 * store_orders_free().
 */
int store_orders_list(const char *state, struct store_order_info **out,
    size_t *n);
void store_orders_free(struct store_order_info *v, size_t n);
/*
 * certo authorize: how it answered challenges (certo.json text) kept as
 * dir/certo.json next to the order saved there (none: nothing written),
 * so that an issue without a way of its own records authorize's.
 */
int store_order_put_config(const char *dir, const char *text);
/*
 * Take the lock of the saved order orders/<hash> without waiting: 1
 * with *fd holding it (close to release), 0 when a run holds it, or a
 * negative CERTO_E* code.
 */
int store_order_trylock(const char *state, const char *hash, int *fd);
/*
 * The live set for names is fresh (nothing to issue): remove a saved
 * order for them that a run killed after storing the set left behind,
 * unless a run holds their lock.
 */
int store_order_forget(const char *state, char *const *names, size_t n);

/*
 * Locks between certo runs sharing a state directory: flock on files in
 * <state>/locks/ (O_CLOEXEC, released when the process dies).  A run
 * that finds one held logs "waiting for another certo run on ..." and
 * waits up to $CERTO_LOCK_WAIT seconds (default STORE_LOCK_WAIT_S), then
 * fails with CERTO_EBUSY (exit 4).
 */
#define STORE_LOCK_WAIT_S 600
struct kvlock;
struct store_lock {
	int fd[2];
	bool waited;    /* another run held it first */
	struct kvlock *remote; /* with a shared store: its lock too */
};
#define STORE_LOCK_INIT { { -1, -1 }, false, NULL }
/*
 * The account of a CA, while it is loaded or created.  With a shared
 * store (store_remote.h) its store lock is taken too, and the store's
 * account is brought in when there is none here.
 */
int store_lock_account(const char *state, const char *ca_id,
    struct store_lock *lock);
/*
 * One certificate: live/<live_name> and the order of these names, held
 * from resume/new order to store_commit.  With a shared store, its store
 * lock too (after the local ones), then the store's set for live_name
 * brought in when it differs: lock->waited is then set, as if another
 * run here had stored it.
 */
int store_lock_cert(const char *state, const char *live_name,
    char *const *names, size_t n, struct store_lock *lock);
/* Release (a STORE_LOCK_INIT or released lock is fine). */
void store_unlock(struct store_lock *lock);
/* $CERTO_LOCK_WAIT when it is 0..86400, else STORE_LOCK_WAIT_S. */
long store_lock_wait_s(void);

/* Valid authorizations kept by `certo authorize`, by CA and name. */
int store_authz_save(const char *state, const char *ca_id,
    const char *name, const char *url);
int store_authz_load(const char *state, const char *ca_id,
    const char *name, char **url);

/*
 * A deploy hook that has not succeeded yet for the set in live_dir: the
 * file live_dir/.deploy-pending (holding why), written before the hook
 * runs and removed once it succeeded; `certo renew` runs the hook again
 * while it is there.  why == NULL removes it.  Returns 0 or CERTO_EIO.
 */
int store_deploy_mark(const char *live_dir, const char *why);
/* 1 when the deploy hook of live_dir is pending, else 0. */
int store_deploy_pending(const char *live_dir);
/* What the mark says for a set brought in from a shared store. */
#define STORE_DEPLOY_FROM_STORE "brought in from the store"
/* Is live_dir's deploy pending because the set came from the store? */
bool store_deploy_from_store(const char *live_dir);

/*
 * What the last renew pass came to, kept in <state>/last-renew.json for
 * certo list --prometheus: when it ended, its exit code and its counts.
 */
struct store_renew_status {
	time_t time;
	int exit_code;
	size_t renewed, failed, not_due, deploy_failed;
};
/* Write st atomically.  Returns 0 or the write's error. */
int store_renew_status_save(const char *state,
    const struct store_renew_status *st);
/*
 * Read it into *st.  Returns 0, or CERTO_EIO (missing: *missing true;
 * unreadable) / CERTO_ECONFIG (malformed) with a message.
 */
int store_renew_status_load(const char *state, struct store_renew_status *st,
    bool *missing);

#endif
