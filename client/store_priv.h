/*
 * What the store_*.c files share and nobody else uses: tree removal,
 * set names, the archive move, the sweep, the saved orders' name hash
 * and the non-blocking order lock.  The public interface is store.h.
 */
#ifndef CERTO_STORE_PRIV_H
#define CERTO_STORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "sha256.h"

/* fsync a directory; a failure only costs durability and is not reported. */
void store_sync_dir(const char *dir);
/* Remove a directory tree certo wrote (files and subdirectories). */
void store_remove_tree(const char *dir);
/*
 * Remove the tree at path (parent "/" base) so that no half of it is ever
 * seen: rename it to "<parent>/.<base>.del.<pid>.XXXXXX" first (one atomic
 * step), then delete that.  A SIGKILL in between leaves only the .del
 * name, which the next run's sweep removes.  Returns 0 when path is gone,
 * else CERTO_EIO or CERTO_ENOMEM.
 */
int store_remove_atomic(const char *parent, const char *base,
    const char *path);
/* Directory name (malloc'd) for a certificate name: "*." becomes "_.". */
char *store_set_name(const char *name);
/* qsort comparison of two char * (strcmp). */
int store_cmp_str(const void *a, const void *b);
/*
 * Put the complete tree at staging in place of target (both in parent)
 * with one atomic step: a rename when target does not exist, else an
 * exchange of the two, after which *exchanged is true and staging holds
 * the previous tree (the caller archives or removes it).  Returns 0 or
 * CERTO_EIO.
 */
int store_swap_in(const char *parent, const char *staging,
    const char *target, bool *exchanged);
/*
 * Move the set at from to <state>/archive/<dname>/<UTC stamp>[.N].
 * Returns 0, CERTO_EIO (message says where) or CERTO_ENOMEM.
 */
int store_archive_set(const char *state, const char *dname,
    const char *from);

/*
 * A set from the shared store (store_remote.c), committed into
 * live/<dname> like store_commit but not put back, with a deploy-pending
 * mark so that renew runs its deploy hook on this host.
 */
struct certo_key;
struct certo_chain;
int store_commit_from_store(const char *state, const char *dname,
    const struct certo_key *key, const struct certo_chain *chain,
    const char *config, char **live_dir);

/*
 * Sweep what killed runs left under state: temp files, staging and
 * removal directories whose writer is gone (store_sweep.c).
 */
void store_sweep(const char *state);

/*
 * The hex SHA-256 naming orders/<hash>: of the sorted names, each with
 * its NUL.  Returns 0, CERTO_ENOMEM or CERTO_ECRYPTO.
 */
int store_names_hash(char *const *names, size_t n,
    char hex[SHA256_HEX_LEN + 1]);
/*
 * The "names" array of a JSON file (certo.json, order.json) into *names
 * (n entries; free with store_free_names).  Returns 0, CERTO_EIO
 * (message names the file) or CERTO_ENOMEM.
 */
int store_read_names(const char *path, char ***names, size_t *n);
/* Free n strings and the array. */
void store_free_names(char **names, size_t n);
/*
 * Remove every saved order that would store into live/<dname>: the one
 * named hash (may be NULL), and any whose order.json's first name maps
 * to dname.
 */
void store_orders_remove_for(const char *state, const char *dname,
    const char *hash);

/*
 * Take the lock <state>/locks/<kind>-<sha256 of key>.lock without
 * waiting: 1 with *fd holding it (close to release), 0 when another run
 * holds it or it cannot be opened, or a negative CERTO_E* code.
 */
int store_lock_try(const char *state, const char *kind, const char *key,
    int *fd);

#endif
