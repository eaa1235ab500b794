/* The responder's token table (responder/tokens.h). */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "tokens.h"

#define TOK1 "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define TOK2 "DGyRejmCefe7v4NfDGDKfA"
#define KA1 TOK1 ".NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
#define KA2 TOK2 ".NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

static void
test_add_lookup_remove(void **state)
{
	struct token_table table;
	char out[TOKENS_MAX_KEYAUTH + 1];

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	assert_int_equal(tokens_count(&table), 0);
	assert_int_equal(tokens_lookup_http(&table, TOK1, out, sizeof(out)), -1);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", TOK1, KA1),
	    0);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "www.example.org", TOK2,
	    KA2), 0);
	assert_int_equal(tokens_count(&table), 2);
	assert_int_equal(tokens_lookup_http(&table, TOK1, out, sizeof(out)),
	    (long)strlen(KA1));
	assert_string_equal(out, KA1);
	assert_int_equal(tokens_lookup_http(&table, TOK2, out, sizeof(out)),
	    (long)strlen(KA2));
	assert_string_equal(out, KA2);
	/* Unknown token; a prefix of a token is not the token. */
	assert_int_equal(tokens_lookup_http(&table, "nope", out, sizeof(out)), -1);
	assert_int_equal(tokens_lookup_http(&table, "LoqXcYV8", out, sizeof(out)),
	    -1);
	/* HTTP-01 entries are not TLS-ALPN-01 ones. */
	assert_int_equal(tokens_lookup_alpn(&table, "example.org", out,
	    sizeof(out)), -1);
	/* An output buffer too small is a miss, not an overflow. */
	assert_int_equal(tokens_lookup_http(&table, TOK1, out, strlen(KA1)), -1);
	assert_int_equal(tokens_remove(&table, CHALL_HTTP01, "example.org", TOK1),
	    0);
	assert_int_equal(tokens_lookup_http(&table, TOK1, out, sizeof(out)), -1);
	assert_int_equal(tokens_remove(&table, CHALL_HTTP01, "example.org", TOK1),
	    CERTO_EUSAGE);
	/* Wrong type or identifier: not removed. */
	assert_int_equal(tokens_remove(&table, CHALL_TLSALPN01, "www.example.org",
	    TOK2), CERTO_EUSAGE);
	assert_int_equal(tokens_remove(&table, CHALL_HTTP01, "example.org", TOK2),
	    CERTO_EUSAGE);
	assert_int_equal(tokens_count(&table), 1);
	tokens_free(&table);
}

static void
test_alpn(void **state)
{
	struct token_table table;
	char out[TOKENS_MAX_KEYAUTH + 1];

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	assert_int_equal(tokens_add(&table, CHALL_TLSALPN01, "example.org", TOK1,
	    KA1), 0);
	assert_int_equal(tokens_lookup_alpn(&table, "example.org", out,
	    sizeof(out)), (long)strlen(KA1));
	assert_string_equal(out, KA1);
	assert_int_equal(tokens_lookup_alpn(&table, "example.com", out,
	    sizeof(out)), -1);
	assert_int_equal(tokens_lookup_http(&table, TOK1, out, sizeof(out)), -1);
	tokens_free(&table);
}

/* Same type, identifier and token: replaced, not duplicated. */
static void
test_replace(void **state)
{
	struct token_table table;
	char out[TOKENS_MAX_KEYAUTH + 1];

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", TOK1,
	    TOK1 ".old"), 0);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", TOK1, KA1),
	    0);
	assert_int_equal(tokens_count(&table), 1);
	assert_true(tokens_lookup_http(&table, TOK1, out, sizeof(out)) > 0);
	assert_string_equal(out, KA1);
	/* Another type is another entry. */
	assert_int_equal(tokens_add(&table, CHALL_TLSALPN01, "example.org", TOK1,
	    KA1), 0);
	assert_int_equal(tokens_count(&table), 2);
	tokens_free(&table);
}

static void
test_cap(void **state)
{
	struct token_table table;
	char tok[32], out[TOKENS_MAX_KEYAUTH + 1];

	(void)state;
	assert_int_equal(tokens_init(&table, 4, 0), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(tok, sizeof(tok), "token%d", i);
		assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", tok,
		    "keyauth"), 0);
	}
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", "token4",
	    "keyauth"), CERTO_ETOOBIG);
	assert_int_equal(tokens_count(&table), 4);
	assert_int_equal(tokens_lookup_http(&table, "token4", out, sizeof(out)),
	    -1);
	/* Replacing an entry of a full table is fine. */
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", "token3",
	    "keyauth2"), 0);
	/* Room again after a removal. */
	assert_int_equal(tokens_remove(&table, CHALL_HTTP01, "example.org",
	    "token0"), 0);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", "token4",
	    "keyauth"), 0);
	assert_int_equal(tokens_count(&table), 4);
	assert_true(tokens_lookup_http(&table, "token4", out, sizeof(out)) > 0);
	tokens_free(&table);
}

static void
test_expiry(void **state)
{
	struct token_table table;
	char out[TOKENS_MAX_KEYAUTH + 1];
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(tokens_init(&table, 2, 60), 0);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", TOK1, KA1),
	    0);
	assert_int_equal(tokens_add(&table, CHALL_TLSALPN01, "example.org", TOK2,
	    KA2), 0);
	/* Not yet. */
	assert_int_equal(tokens_expire(&table, now), 2);
	assert_int_equal(tokens_expire(&table, now + 30), 2);
	/* After the TTL everything is gone. */
	assert_int_equal(tokens_expire(&table, now + 3600), 0);
	assert_int_equal(tokens_count(&table), 0);
	assert_int_equal(tokens_lookup_http(&table, TOK1, out, sizeof(out)), -1);
	tokens_free(&table);

	/* Lookups never answer an expired entry, and a full table of
	 * expired entries makes room. */
	assert_int_equal(tokens_init(&table, 1, 1), 0);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", TOK1, KA1),
	    0);
	assert_true(tokens_lookup_http(&table, TOK1, out, sizeof(out)) > 0);
	sleep(2);
	assert_int_equal(tokens_lookup_http(&table, TOK1, out, sizeof(out)), -1);
	assert_int_equal(tokens_add(&table, CHALL_TLSALPN01, "example.org", TOK2,
	    KA2), 0);
	assert_int_equal(tokens_count(&table), 1);
	assert_true(tokens_lookup_alpn(&table, "example.org", out, sizeof(out)) >
	    0);
	tokens_free(&table);
}

static void
test_bad_fields(void **state)
{
	static const char *const bad_tokens[] = { "", "../x", "../../etc/passwd",
		"a b", "abc=", "a/b", "tok\n", "a\x1b" "b", "%2e%2e" };
	struct token_table table;
	char *long_tok, *long_ka, *long_id;

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	for (size_t i = 0; i < sizeof(bad_tokens) / sizeof(bad_tokens[0]); i++)
		if (tokens_add(&table, CHALL_HTTP01, "example.org", bad_tokens[i],
		    "keyauth") != CERTO_EUSAGE)
			fail_msg("token \"%s\" accepted", bad_tokens[i]);
	/* Key authorizations and identifiers must be printable. */
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", TOK1,
	    "ka\nX-Injected: 1"), CERTO_EUSAGE);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", TOK1, ""),
	    CERTO_EUSAGE);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", TOK1,
	    NULL), CERTO_EUSAGE);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "exa mple.org", TOK1,
	    KA1), CERTO_EUSAGE);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "", TOK1, KA1),
	    CERTO_EUSAGE);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, NULL, TOK1, KA1),
	    CERTO_EUSAGE);
	/* Size caps. */
	long_tok = malloc(TOKENS_MAX_TOKEN + 2);
	long_ka = malloc(TOKENS_MAX_KEYAUTH + 2);
	long_id = malloc(TOKENS_MAX_IDENT + 2);
	assert_non_null(long_tok);
	assert_non_null(long_ka);
	assert_non_null(long_id);
	memset(long_tok, 'A', TOKENS_MAX_TOKEN + 1);
	long_tok[TOKENS_MAX_TOKEN + 1] = '\0';
	memset(long_ka, 'A', TOKENS_MAX_KEYAUTH + 1);
	long_ka[TOKENS_MAX_KEYAUTH + 1] = '\0';
	memset(long_id, 'a', TOKENS_MAX_IDENT + 1);
	long_id[TOKENS_MAX_IDENT + 1] = '\0';
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", long_tok,
	    KA1), CERTO_EUSAGE);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, "example.org", TOK1,
	    long_ka), CERTO_EUSAGE);
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, long_id, TOK1, KA1),
	    CERTO_EUSAGE);
	/* At the caps: accepted. */
	long_tok[TOKENS_MAX_TOKEN] = '\0';
	long_ka[TOKENS_MAX_KEYAUTH] = '\0';
	long_id[TOKENS_MAX_IDENT] = '\0';
	assert_int_equal(tokens_add(&table, CHALL_HTTP01, long_id, long_tok,
	    long_ka), 0);
	assert_int_equal(tokens_count(&table), 1);
	free(long_tok);
	free(long_ka);
	free(long_id);
	tokens_free(&table);
	/* Freeing a zeroed or freed table is safe. */
	tokens_free(&table);
}

struct worker {
	struct token_table *table;
	int id;
};

static void *
work(void *arg)
{
	struct worker *worker = arg;
	char tok[32], ka[64], out[TOKENS_MAX_KEYAUTH + 1];

	for (int i = 0; i < 200; i++) {
		snprintf(tok, sizeof(tok), "w%dt%d", worker->id, i % 10);
		snprintf(ka, sizeof(ka), "%s.thumb", tok);
		if (tokens_add(worker->table, CHALL_HTTP01, "example.org", tok,
		    ka) != 0)
			return (void *)1;
		if (tokens_lookup_http(worker->table, tok, out, sizeof(out)) < 0 ||
		    strcmp(out, ka) != 0)
			return (void *)1;
		if (i % 3 == 0 && tokens_remove(worker->table, CHALL_HTTP01,
		    "example.org", tok) != 0)
			return (void *)1;
	}
	return NULL;
}

/* libmicrohttpd looks up from its own threads while the client adds. */
static void
test_threads(void **state)
{
	struct token_table table;
	pthread_t th[4];
	struct worker workers[4];
	void *res;

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	for (int i = 0; i < 4; i++) {
		workers[i].table = &table;
		workers[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, work, &workers[i]),
		    0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], &res), 0);
		assert_null(res);
	}
	assert_true(tokens_count(&table) <= 40);
	tokens_free(&table);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_lookup_remove),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
