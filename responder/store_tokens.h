/*
 * Challenges in the shared store (common/kv.h), for clusters of
 * responders behind a load balancer (docs/design.md, "Cluster mode:
 * challenges").
 *
 * Keys: certo:chall:http-01:<token> and certo:chall:tls-alpn-01:<ident>,
 * each holding "<ident> <token> <key authorization>" with a TTL.
 * Every change is announced on the channel certo:chall as
 * "set <type> <ident> <token> <keyauth>" or "del <type> <ident> <token>".
 * Publishing and withdrawing are one Lua script each (SET+PUBLISH;
 * compare-and-delete+PUBLISH), so a withdraw never removes what another
 * client published for the same identifier since.
 *
 * A responder (store_tokens_open, store_tokens_run) keeps a short cache
 * filled and emptied by the channel, asks the store directly on a cache
 * miss, and publishes what its control socket receives.
 */
#ifndef CERTO_STORE_TOKENS_H
#define CERTO_STORE_TOKENS_H

#include "kv.h"
#include "tokens.h"

#define STORE_TOKENS_CHANNEL "certo:chall"
#define STORE_TOKENS_PREFIX "certo:chall:"
#define STORE_TOKENS_CACHE_TTL 30     /* seconds a cached entry lives */
#define STORE_TOKENS_LOOKUP_MS 250    /* connect/command timeout of a miss */
#define STORE_TOKENS_TTL_MAX (7LL * 86400 * 1000)

/*
 * Publish a challenge (type CHALL_HTTP01 or CHALL_TLSALPN01) for ttl_ms
 * milliseconds (clamped to 1 s .. 7 days).  Fields are checked as the
 * control protocol does.  Returns 0, CERTO_EUSAGE, or the store's code.
 */
int store_tokens_publish(struct kv *kv, enum chall_type type,
    const char *ident, const char *token, const char *keyauth,
    long long ttl_ms);
/*
 * Withdraw what store_tokens_publish published with the same fields:
 * deleted only while it still holds them.  Returns 0 (also when it was
 * gone) or the store's code.
 */
int store_tokens_withdraw(struct kv *kv, enum chall_type type,
    const char *ident, const char *token, const char *keyauth);

struct store_tokens;

/*
 * Put the store at url behind table (its store ops): subscribe, and open
 * the connections for lookups and for publishing what the table
 * receives; no thread yet.  Returns 0 and *out, or what kv_open returns
 * (the store named in the message).
 */
int store_tokens_open(const char *url, struct token_table *table,
    struct store_tokens **out);
/*
 * Start the thread that keeps the cache from the channel's messages
 * (certo-responder: after its sandbox).  0 or CERTO_ENOMEM; the caller
 * still stops st either way.
 */
int store_tokens_run(struct store_tokens *st);
/* Stop the thread, detach from the table, free (NULL is fine). */
void store_tokens_stop(struct store_tokens *st);

#endif
