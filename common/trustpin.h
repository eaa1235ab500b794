/*
 * Trust pinning: the first HTTPS connection to a CA is verified against
 * the whole trust bundle (144 roots, about 4 MiB and 60 ms each time
 * libcurl+GnuTLS loads them); the bundle root that verified it is then
 * pinned, and later connections to the same host trust only that root.
 * A strict subset of the trust store, so no weaker.
 *
 * Within a run the pin is a private file without a name (O_TMPFILE,
 * read through /proc/self/fd).  Across runs (for the system bundle, when
 * the caller gives a state directory) it is <state>/trust/<host_port>.pem:
 * the root's PEM after a header recording the host, the bundle's path,
 * its identity (device, inode, size, mtime, ctime) and the SHA-256 of its
 * contents.  A later run trusts that root only while the bundle is the
 * same: same identity, or else same SHA-256 (then the header is
 * rewritten); anything else, and any verification that fails with the
 * pinned root, goes back to the whole bundle once (http.c) and learns
 * again.  The root was found in the bundle whose hash is recorded, so a
 * root removed from the system store is never trusted from the cache.
 */
#ifndef CERTO_TRUSTPIN_H
#define CERTO_TRUSTPIN_H

#include <stddef.h>

/*
 * The pinned root file for (bundle, host:port), or NULL when none is
 * known: a pin learned earlier in this run, else (with state not NULL)
 * the entry in <state>/trust/ when the bundle is unchanged since it was
 * written.  The string stays valid until trustpin_cleanup().
 * Thread-safe.
 */
const char *trustpin_lookup(const char *bundle, const char *hostport,
    const char *state);

/*
 * Learn the root for (bundle, host:port) from the peer chain (PEM
 * certificates, leaf first) of a connection that the whole bundle
 * verified: the bundle certificate that issued the lowest certificate
 * of the chain that one issued (or is one of them).  With state, it is
 * kept in <state>/trust/ for later runs.  Failures are silent: the full
 * bundle stays in use.  Thread-safe.
 */
void trustpin_learn(const char *bundle, const char *hostport,
    const char *state, const char *const *chain_pem, size_t n);

/*
 * The pinned root did not verify (bundle, host:port): stop using it in
 * this run and remove the state directory's entry (state may be NULL).
 */
void trustpin_forget(const char *bundle, const char *hostport,
    const char *state);

/* Close the pinned files (atexit); files without a name go with them. */
void trustpin_cleanup(void);

#endif
