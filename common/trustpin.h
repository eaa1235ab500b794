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
 * Which certificate of a trust bundle anchors a peer's chain: the one
 * that issued the lowest certificate of the chain that one issued (or
 * is one of them).  bundle_pem is the bundle's contents (len bytes, no
 * NUL needed), its PEM certificate blocks numbered from 0 in file order
 * (a block that does not parse keeps its number); chain_pem holds n PEM
 * certificates, leaf first, as the peer sent them (network input: one
 * that does not parse is skipped).  Pure: no file, no lock, no state.
 * Runs where the transfer ran (the network process under privsep), so
 * the peer's certificates are never parsed in the key process.  Returns
 * the block's number, or -1 when no bundle certificate anchors it.
 */
long trustpin_find(const char *bundle_pem, size_t len,
    const char *const *chain_pem, size_t n);

/*
 * The contents of a bundle file (at most 8 MiB) for trustpin_find() in
 * this process: *pem malloc'd and NUL-terminated, *len its length.
 * Returns 0, or -1 (silently: nothing is learnt then).
 */
int trustpin_read(const char *bundle, char **pem, size_t *len);

/*
 * Learn the root for (bundle, host:port) after a connection that the
 * whole bundle verified: index is trustpin_find()'s answer (-1: none).
 * The root is read again from the bundle file here and pinned only when
 * that block of the file is a certificate, so the pin is always one of
 * the bundle's own certificates (a bundle changed in between at worst
 * pins another of them, which then fails once and is learnt again).
 * With state, it is kept in <state>/trust/ for later runs.  Failures are
 * silent: the full bundle stays in use.  Thread-safe.
 */
void trustpin_learn(const char *bundle, const char *hostport,
    const char *state, long index);

/*
 * The pinned root did not verify (bundle, host:port): stop using it in
 * this run and remove the state directory's entry (state may be NULL).
 */
void trustpin_forget(const char *bundle, const char *hostport,
    const char *state);

/* Close the pinned files (atexit); files without a name go with them. */
void trustpin_cleanup(void);

#endif
