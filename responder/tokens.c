/* The challenge token table. */
#include "tokens.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"

int
tokens_init(struct token_table *t, size_t max, long ttl)
{
	memset(t, 0, sizeof(*t));
	t->max = max ? max : TOKENS_DEFAULT_MAX;
	t->ttl = ttl > 0 ? ttl : TOKENS_DEFAULT_TTL;
	if (pthread_mutex_init(&t->lock, NULL) != 0)
		return CERTO_ENOMEM;
	return 0;
}

static void
entry_free(struct token_entry *e)
{
	free(e->ident);
	free(e->token);
	if (e->keyauth) {
		memset(e->keyauth, 0, strlen(e->keyauth));
		free(e->keyauth);
	}
	memset(e, 0, sizeof(*e));
}

void
tokens_free(struct token_table *t)
{
	if (t == NULL || t->max == 0)
		return;
	for (size_t i = 0; i < t->n; i++)
		entry_free(&t->v[i]);
	free(t->v);
	pthread_mutex_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
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
drop(struct token_table *t, size_t i)
{
	entry_free(&t->v[i]);
	t->v[i] = t->v[t->n - 1];
	t->n--;
}

static size_t
expire_locked(struct token_table *t, time_t now)
{
	for (size_t i = 0; i < t->n;)
		if (t->v[i].expires <= now)
			drop(t, i);
		else
			i++;
	return t->n;
}

static long
find(struct token_table *t, enum token_type type, const char *ident,
    const char *token)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].type == type && strcmp(t->v[i].ident, ident) == 0 &&
		    (token == NULL || strcmp(t->v[i].token, token) == 0))
			return (long)i;
	return -1;
}

int
tokens_add(struct token_table *t, enum token_type type, const char *ident,
    const char *token, const char *keyauth)
{
	struct token_entry e = { 0 }, *nv;
	long i;
	int rc = 0;

	if (token == NULL || !field_ok(ident, TOKENS_MAX_IDENT) ||
	    !field_ok(keyauth, TOKENS_MAX_KEYAUTH) ||
	    strlen(token) > TOKENS_MAX_TOKEN || !b64url_valid(token))
		return CERTO_EUSAGE;
	e.type = type;
	e.expires = time(NULL) + t->ttl;
	if ((e.ident = strdup(ident)) == NULL ||
	    (e.token = strdup(token)) == NULL ||
	    (e.keyauth = strdup(keyauth)) == NULL) {
		entry_free(&e);
		return CERTO_ENOMEM;
	}
	pthread_mutex_lock(&t->lock);
	/* TLS-ALPN-01 answers by identifier: the newest entry wins. */
	if ((i = find(t, type, ident, type == TOKEN_TLSALPN01 ? NULL :
	    token)) >= 0) {
		entry_free(&t->v[i]);
		t->v[i] = e;
		goto out;
	}
	if (t->n >= t->max && expire_locked(t, time(NULL)) >= t->max) {
		entry_free(&e);
		rc = CERTO_ETOOBIG;
		goto out;
	}
	if ((nv = realloc(t->v, (t->n + 1) * sizeof(*nv))) == NULL) {
		entry_free(&e);
		rc = CERTO_ENOMEM;
		goto out;
	}
	t->v = nv;
	t->v[t->n++] = e;
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int
tokens_remove(struct token_table *t, enum token_type type,
    const char *ident, const char *token)
{
	long i;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	if ((i = find(t, type, ident, token)) >= 0)
		drop(t, (size_t)i);
	else
		rc = CERTO_EUSAGE;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

static long
copy_out(const struct token_entry *e, char *out, size_t outlen)
{
	size_t n = strlen(e->keyauth);

	if (n + 1 > outlen)
		return -1;
	memcpy(out, e->keyauth, n + 1);
	return (long)n;
}

/* A live entry of type whose token (HTTP-01) or ident (TLS-ALPN-01) is
 * key: copy its key authorization out. */
static long
lookup(struct token_table *t, enum token_type type, const char *key,
    char *out, size_t outlen)
{
	time_t now = time(NULL);
	long r = -1;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n; i++) {
		struct token_entry *e = &t->v[i];
		if (e->type == type && e->expires > now && strcmp(type ==
		    TOKEN_HTTP01 ? e->token : e->ident, key) == 0) {
			r = copy_out(e, out, outlen);
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

long
tokens_lookup_http(struct token_table *t, const char *token, char *out,
    size_t outlen)
{
	return lookup(t, TOKEN_HTTP01, token, out, outlen);
}

long
tokens_lookup_alpn(struct token_table *t, const char *ident, char *out,
    size_t outlen)
{
	return lookup(t, TOKEN_TLSALPN01, ident, out, outlen);
}

size_t
tokens_expire(struct token_table *t, time_t now)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = expire_locked(t, now);
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t
tokens_count(struct token_table *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->n;
	pthread_mutex_unlock(&t->lock);
	return n;
}
