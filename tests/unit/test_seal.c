/*
 * Sealed keys (common/seal.h): round trip of a real key's PEM, random
 * nonces, tamper detection, wrong key file, a blob moved to another
 * record, key files that are too short, missing or readable by others.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "b64.h"
#include "errors.h"
#include "key.h"
#include "seal.h"

static char *tmp;

static int
setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tu_rmtree(tmp);
	free(tmp);
	unsetenv("CERTO_STORE_KEY");
	return 0;
}

/* A sealing key from 32 bytes of c. */
static struct seal_key *
key_of(char c)
{
	unsigned char ikm[32];
	struct seal_key *key = NULL;

	memset(ikm, c, sizeof(ikm));
	assert_int_equal(seal_key_from_bytes(ikm, sizeof(ikm), "test", &key),
	    0);
	assert_non_null(key);
	return key;
}

/* A real EC key's PEM (key_export_pem) seals and opens to the same bytes. */
static void
test_round_trip(void **state)
{
	struct certo_key *ck = NULL, *back = NULL;
	struct seal_key *key = key_of('a');
	char *pem = NULL, *blob = NULL, *blob2 = NULL, *plain = NULL;
	size_t len = 0, plen = 0;

	(void)state;
	assert_int_equal(key_generate(KEY_EC256, &ck), 0);
	assert_int_equal(key_export_pem(ck, &pem, &len), 0);
	assert_non_null(strstr(pem, "BEGIN PRIVATE KEY"));
	assert_int_equal(seal_seal(key, "certo:cert:a.test", pem, len, &blob),
	    0);
	assert_true(strncmp(blob, SEAL_PREFIX, strlen(SEAL_PREFIX)) == 0);
	/* No PEM text in the blob. */
	assert_null(strstr(blob, "PRIVATE"));
	assert_int_equal(seal_seal(key, "certo:cert:a.test", pem, len, &blob2),
	    0);
	/* A random nonce each time. */
	assert_string_not_equal(blob, blob2);
	assert_int_equal(seal_open(key, "certo:cert:a.test", blob, strlen(blob),
	    &plain, &plen), 0);
	assert_int_equal(plen, len);
	assert_memory_equal(plain, pem, len);
	assert_int_equal(key_parse(plain, plen, "unsealed", &back), 0);
	assert_true(key_same_public(ck, back));
	seal_wipe_free(plain, plen);
	key_free(ck);
	key_free(back);
	seal_wipe_free(pem, len);
	free(blob);
	free(blob2);
	seal_key_free(key);
}

/* Every single-bit flip of the binary blob is refused. */
static void
test_tamper(void **state)
{
	struct seal_key *key = key_of('b');
	const char secret[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
	char *blob = NULL, *plain = NULL, *text = NULL, *bad = NULL;
	unsigned char *raw = NULL;
	size_t rawlen = 0, plen = 0, pl = strlen(SEAL_PREFIX);

	(void)state;
	assert_int_equal(seal_seal(key, "n", secret, sizeof(secret) - 1, &blob),
	    0);
	assert_int_equal(b64url_decode(blob + pl, &raw, &rawlen), 0);
	for (size_t i = 0; i < rawlen; i++) {
		raw[i] ^= 0x01;
		text = b64url_encode(raw, rawlen);
		assert_non_null(text);
		assert_true(asprintf(&bad, "%s%s", SEAL_PREFIX, text) > 0);
		assert_int_equal(seal_open(key, "n", bad, strlen(bad), &plain,
		    &plen), CERTO_ECRYPTO);
		assert_null(plain);
		assert_non_null(certo_errmsg());
		certo_errclear();
		free(text);
		free(bad);
		raw[i] ^= 0x01;
	}
	/* Truncated, not a blob, another format version. */
	assert_int_equal(seal_open(key, "n", blob, strlen(blob) - 4, &plain,
	    &plen), CERTO_ECRYPTO);
	certo_errclear();
	assert_int_equal(seal_open(key, "n", "-----BEGIN PRIVATE KEY-----", 27,
	    &plain, &plen), CERTO_ECRYPTO);
	assert_non_null(strstr(certo_errmsg(), "not a sealed key"));
	certo_errclear();
	assert_int_equal(seal_open(key, "n", "certo-seal:2:AAAA", 17, &plain,
	    &plen), CERTO_ECRYPTO);
	certo_errclear();
	assert_int_equal(seal_open(key, "n", "certo-seal:1:AAAA", 17, &plain,
	    &plen), CERTO_ECRYPTO);
	assert_non_null(strstr(certo_errmsg(), "damaged"));
	certo_errclear();
	free(raw);
	free(blob);
	seal_key_free(key);
}

/* Another key file, another record name: clear errors. */
static void
test_wrong_key_and_name(void **state)
{
	struct seal_key *key = key_of('c'), *other = key_of('d');
	char *blob = NULL, *plain = NULL;
	size_t plen = 0;

	(void)state;
	assert_int_equal(seal_seal(key, "certo:cert:a.test", "secret", 6,
	    &blob), 0);
	assert_int_equal(seal_open(other, "certo:cert:a.test", blob,
	    strlen(blob), &plain, &plen), CERTO_ECRYPTO);
	assert_non_null(strstr(certo_errmsg(), "another store key file"));
	certo_errclear();
	assert_int_equal(seal_open(key, "certo:cert:b.test", blob, strlen(blob),
	    &plain, &plen), CERTO_ECRYPTO);
	assert_non_null(strstr(certo_errmsg(), "moved from another record"));
	certo_errclear();
	assert_null(plain);
	free(blob);
	seal_key_free(key);
	seal_key_free(other);
}

/* Key files: short, missing, readable by others, none named; env. */
static void
test_key_files(void **state)
{
	struct seal_key *key = NULL, *same = NULL;
	char *good = tu_path(tmp, "good.key"), *shortk = tu_path(tmp, "short"),
	    *open_k = tu_path(tmp, "open.key"), *gone = tu_path(tmp, "gone");
	unsigned char bytes[40];
	char *blob = NULL, *plain = NULL;
	size_t plen = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 7 + 3);
	tu_write(good, bytes, sizeof(bytes), 0600);
	tu_write(shortk, bytes, 31, 0600);
	tu_write(open_k, bytes, sizeof(bytes), 0644);
	assert_int_equal(seal_key_load(good, &key), 0);
	assert_int_equal(seal_key_load(shortk, &same), CERTO_ECONFIG);
	assert_non_null(strstr(certo_errmsg(), "at least 32"));
	certo_errclear();
	assert_int_equal(seal_key_load(gone, &same), CERTO_ECONFIG);
	assert_non_null(strstr(certo_errmsg(), "cannot read the store key"));
	certo_errclear();
	assert_int_equal(seal_key_load(open_k, &same), CERTO_EKEYPERM);
	certo_errclear();
	unsetenv("CERTO_STORE_KEY");
	assert_int_equal(seal_key_load(NULL, &same), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "--store-key"));
	certo_errclear();
	assert_null(same);
	/* The same file through the environment derives the same key. */
	setenv("CERTO_STORE_KEY", good, 1);
	assert_int_equal(seal_key_load(NULL, &same), 0);
	assert_int_equal(seal_seal(key, "r", "x", 1, &blob), 0);
	assert_int_equal(seal_open(same, "r", blob, strlen(blob), &plain,
	    &plen), 0);
	assert_string_equal(plain, "x");
	seal_wipe_free(plain, plen);
	free(blob);
	seal_key_free(key);
	seal_key_free(same);
	seal_key_free(NULL);
	free(good);
	free(shortk);
	free(open_k);
	free(gone);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_wrong_key_and_name),
		cmocka_unit_test(test_key_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
