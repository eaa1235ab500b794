/*
 * The challenge token table shared by the HTTP-01 and TLS-ALPN-01
 * responders, in-process (certo issue --standalone) and in the daemon.
 * Thread-safe (libmicrohttpd answers from its own thread); entries
 * expire; the table has a size cap.  Entries are typed with the client's
 * enum chall_type (common/challenge_type.h): CHALL_HTTP01 or
 * CHALL_TLSALPN01.
 */
#ifndef CERTO_TOKENS_H
#define CERTO_TOKENS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "challenge_type.h"

#define TOKENS_DEFAULT_MAX 1024
#define TOKENS_DEFAULT_TTL 3600
#define TOKENS_MAX_TOKEN 256
#define TOKENS_MAX_KEYAUTH 512
#define TOKENS_MAX_IDENT 253

struct token_entry {
	enum chall_type type;
	char *ident;
	char *token;
	char *keyauth;
	time_t expires;
};

/*
 * A shared store behind a table (certo-responder --store,
 * responder/store_tokens.c); every op is optional and called without the
 * table's lock.
 */
struct token_store_ops {
	/* After a local add: publish it; an error undoes the add. */
	int (*publish)(void *arg, enum chall_type type, const char *ident,
	    const char *token, const char *keyauth, long ttl);
	/* After a local remove: withdraw what was published. */
	void (*withdraw)(void *arg, enum chall_type type, const char *ident,
	    const char *token, const char *keyauth);
	/* After a local miss: the store's answer, as tokens_lookup_http. */
	long (*lookup)(void *arg, enum chall_type type, const char *key,
	    char *out, size_t outlen);
};

struct token_table {
	pthread_mutex_t lock;
	struct token_entry *entries;
	size_t count;
	size_t max;
	long ttl;
	const struct token_store_ops *store;  /* NULL: none */
	void *store_arg;
};

/* Empty table of at most max entries living ttl seconds (0: defaults). */
int tokens_init(struct token_table *table, size_t max, long ttl);
/* Free every entry (key authorizations wiped); NULL is fine. */
void tokens_free(struct token_table *table);
/*
 * Add (or replace: same type, ident and token; for TLS-ALPN-01 the same
 * ident) an entry of type CHALL_HTTP01 or CHALL_TLSALPN01.  Token must be
 * base64url, keyauth printable.  CERTO_EUSAGE on bad fields or another
 * type, CERTO_ETOOBIG when full of live entries.
 */
int tokens_add(struct token_table *table, enum chall_type type,
    const char *ident, const char *token, const char *keyauth);
/* Remove an entry; returns 0 or CERTO_EUSAGE if there was none. */
int tokens_remove(struct token_table *table, enum chall_type type,
    const char *ident, const char *token);
/*
 * HTTP-01 lookup by token: copies the key authorization into out
 * (size outlen) and returns its length, or -1 if absent or expired.
 */
long tokens_lookup_http(struct token_table *table, const char *token,
    char *out, size_t outlen);
/*
 * TLS-ALPN-01 lookup by identifier: copies the key authorization, as
 * tokens_lookup_http().
 */
long tokens_lookup_alpn(struct token_table *table, const char *ident,
    char *out, size_t outlen);
/* Drop expired entries; returns how many remain. */
size_t tokens_expire(struct token_table *table, time_t now);
/* Number of entries. */
size_t tokens_count(struct token_table *table);

#endif
