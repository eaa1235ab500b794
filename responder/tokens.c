/* The challenge token table. */
#include "tokens.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"

/* An empty table (see tokens.h); CERTO_ENOMEM if the lock fails. */
int
tokens_init(struct token_table *table, size_t max, long ttl)
{
	memset(table, 0, sizeof(*table));
	table->max = max ? max : TOKENS_DEFAULT_MAX;
	table->ttl = ttl > 0 ? ttl : TOKENS_DEFAULT_TTL;
	if (pthread_mutex_init(&table->lock, NULL) != 0)
		return CERTO_ENOMEM;
	return 0;
}

static void
entry_free(struct token_entry *entry)
{
	free(entry->ident);
	free(entry->token);
	if (entry->keyauth) {
		memset(entry->keyauth, 0, strlen(entry->keyauth));
		free(entry->keyauth);
	}
	memset(entry, 0, sizeof(*entry));
}

/* Free every entry and the lock; NULL and a zeroed table are fine. */
void
tokens_free(struct token_table *table)
{
	if (table == NULL || table->max == 0)
		return;
	for (size_t i = 0; i < table->count; i++)
		entry_free(&table->entries[i]);
	free(table->entries);
	pthread_mutex_destroy(&table->lock);
	memset(table, 0, sizeof(*table));
}

/* Printable ASCII, no spaces, at most max bytes, not empty. */
static bool
field_ok(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++, n++)
		if (n >= max || (unsigned char)*s <= 0x20 ||
		    (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Remove entry i (unlocked). */
static void
drop(struct token_table *table, size_t i)
{
	entry_free(&table->entries[i]);
	table->entries[i] = table->entries[table->count - 1];
	table->count--;
}

static size_t
expire_locked(struct token_table *table, time_t now)
{
	for (size_t i = 0; i < table->count;)
		if (table->entries[i].expires <= now)
			drop(table, i);
		else
			i++;
	return table->count;
}

static long
find(struct token_table *table, enum chall_type type, const char *ident,
    const char *token)
{
	for (size_t i = 0; i < table->count; i++)
		if (table->entries[i].type == type &&
		    strcmp(table->entries[i].ident, ident) == 0 &&
		    (token == NULL || strcmp(table->entries[i].token, token) == 0))
			return (long)i;
	return -1;
}

/* Add or replace an entry; see tokens.h for the rules and codes. */
int
tokens_add(struct token_table *table, enum chall_type type,
    const char *ident, const char *token, const char *keyauth)
{
	struct token_entry entry = { 0 }, *nv;
	long i;
	int rc = 0;

	if ((type != CHALL_HTTP01 && type != CHALL_TLSALPN01) ||
	    token == NULL || !field_ok(ident, TOKENS_MAX_IDENT) ||
	    !field_ok(keyauth, TOKENS_MAX_KEYAUTH) ||
	    strlen(token) > TOKENS_MAX_TOKEN || !b64url_valid(token))
		return CERTO_EUSAGE;
	entry.type = type;
	entry.expires = time(NULL) + table->ttl;
	if ((entry.ident = strdup(ident)) == NULL ||
	    (entry.token = strdup(token)) == NULL ||
	    (entry.keyauth = strdup(keyauth)) == NULL) {
		entry_free(&entry);
		return CERTO_ENOMEM;
	}
	pthread_mutex_lock(&table->lock);
	/* TLS-ALPN-01 answers by identifier: the newest entry wins. */
	if ((i = find(table, type, ident, type == CHALL_TLSALPN01 ? NULL :
	    token)) >= 0) {
		entry_free(&table->entries[i]);
		table->entries[i] = entry;
		goto out;
	}
	if (table->count >= table->max &&
	    expire_locked(table, time(NULL)) >= table->max) {
		entry_free(&entry);
		rc = CERTO_ETOOBIG;
		goto out;
	}
	if ((nv = realloc(table->entries, (table->count + 1) * sizeof(*nv))) == NULL) {
		entry_free(&entry);
		rc = CERTO_ENOMEM;
		goto out;
	}
	table->entries = nv;
	table->entries[table->count++] = entry;
out:
	pthread_mutex_unlock(&table->lock);
	if (rc == 0 && table->store && table->store->publish &&
	    (rc = table->store->publish(table->store_arg, type, ident, token,
	    keyauth, table->ttl)) != 0) {
		pthread_mutex_lock(&table->lock);
		if ((i = find(table, type, ident, token)) >= 0)
			drop(table, (size_t)i);
		pthread_mutex_unlock(&table->lock);
	}
	return rc;
}

/* Remove the entry of type, ident and token; CERTO_EUSAGE if none. */
int
tokens_remove(struct token_table *table, enum chall_type type,
    const char *ident, const char *token)
{
	char *keyauth = NULL;
	long i;
	int rc = 0;

	pthread_mutex_lock(&table->lock);
	if ((i = find(table, type, ident, token)) >= 0) {
		if (table->store && table->store->withdraw)
			keyauth = strdup(table->entries[i].keyauth);
		drop(table, (size_t)i);
	} else
		rc = CERTO_EUSAGE;
	pthread_mutex_unlock(&table->lock);
	if (keyauth) {
		table->store->withdraw(table->store_arg, type, ident, token,
		    keyauth);
		free(keyauth);
	}
	return rc;
}

static long
copy_out(const struct token_entry *entry, char *out, size_t outlen)
{
	size_t n = strlen(entry->keyauth);

	if (n + 1 > outlen)
		return -1;
	memcpy(out, entry->keyauth, n + 1);
	return (long)n;
}

/* A live entry of type whose token (HTTP-01) or ident (TLS-ALPN-01) is
 * key: copy its key authorization out. */
static long
lookup(struct token_table *table, enum chall_type type, const char *key,
    char *out, size_t outlen)
{
	time_t now = time(NULL);
	long r = -1;

	pthread_mutex_lock(&table->lock);
	for (size_t i = 0; i < table->count; i++) {
		struct token_entry *entry = &table->entries[i];
		if (entry->type == type && entry->expires > now &&
		    strcmp(type == CHALL_HTTP01 ? entry->token : entry->ident,
		    key) == 0) {
			r = copy_out(entry, out, outlen);
			break;
		}
	}
	pthread_mutex_unlock(&table->lock);
	if (r < 0 && table->store && table->store->lookup)
		r = table->store->lookup(table->store_arg, type, key, out,
		    outlen);
	return r;
}

/* The key authorization of a live HTTP-01 token; see tokens.h. */
long
tokens_lookup_http(struct token_table *table, const char *token, char *out,
    size_t outlen)
{
	return lookup(table, CHALL_HTTP01, token, out, outlen);
}

/* The key authorization of a live TLS-ALPN-01 identifier; see tokens.h. */
long
tokens_lookup_alpn(struct token_table *table, const char *ident, char *out,
    size_t outlen)
{
	return lookup(table, CHALL_TLSALPN01, ident, out, outlen);
}

/* Drop entries expired at now; returns how many remain. */
size_t
tokens_expire(struct token_table *table, time_t now)
{
	size_t n;

	pthread_mutex_lock(&table->lock);
	n = expire_locked(table, now);
	pthread_mutex_unlock(&table->lock);
	return n;
}

/* The number of entries, expired ones included until swept. */
size_t
tokens_count(struct token_table *table)
{
	size_t n;

	pthread_mutex_lock(&table->lock);
	n = table->count;
	pthread_mutex_unlock(&table->lock);
	return n;
}
