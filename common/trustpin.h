/*
 * Trust pinning within one run: the first HTTPS connection to a CA is
 * verified against the whole trust bundle (144 roots, about 4 MiB each
 * time libcurl+GnuTLS loads them); the root that verified it is then
 * written to a private file without a name (O_TMPFILE, read through
 * /proc/self/fd) and later connections to the same
 * host trust only that root.  A strict subset of the trust store, so no
 * weaker; it keeps a renew pass with many connections small.
 */
#ifndef CERTO_TRUSTPIN_H
#define CERTO_TRUSTPIN_H

#include <stddef.h>

/*
 * The pinned root file for (bundle, host:port), or NULL when none is
 * known yet.  The string stays valid until trustpin_cleanup().
 */
const char *trustpin_lookup(const char *bundle, const char *hostport);

/*
 * Learn the root for (bundle, host:port) from the peer chain (PEM
 * certificates, leaf first): the bundle certificate that issued the
 * last one (or is it).  Failures are silent: the full bundle stays in
 * use.  Thread-safe.
 */
void trustpin_learn(const char *bundle, const char *hostport,
    const char *const *chain_pem, size_t n);

/* Close the pinned files (atexit); they have no name to remove. */
void trustpin_cleanup(void);

#endif
