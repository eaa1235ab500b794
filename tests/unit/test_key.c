/* Keys (common/key.h): types, save/load round trips, permissions. */
#include "testutil.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "key.h"

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
	return 0;
}

static void
test_type_names(void **state)
{
	static const struct {
		const char *name;
		enum key_type t;
	} v[] = {
		{ "ec-256", KEY_EC256 }, { "ec-384", KEY_EC384 },
		{ "rsa-2048", KEY_RSA2048 }, { "rsa-3072", KEY_RSA3072 },
		{ "rsa-4096", KEY_RSA4096 }, { "ed25519", KEY_ED25519 },
	};
	enum key_type t;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		t = KEY_RSA4096;
		assert_int_equal(key_type_parse(v[i].name, &t), 0);
		assert_int_equal(t, v[i].t);
		assert_string_equal(key_type_name(v[i].t), v[i].name);
	}
	assert_int_equal(key_type_parse("ec-521", &t), CERTO_EUSAGE);
	assert_int_equal(key_type_parse("rsa-1024", &t), CERTO_EUSAGE);
	assert_int_equal(key_type_parse("", &t), CERTO_EUSAGE);
	assert_int_equal(key_type_parse("EC-256", &t), CERTO_EUSAGE);
	certo_errclear();
	key_free(NULL);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
test_save_load(void **state)
{
	static const enum key_type types[] = { KEY_EC256, KEY_EC384,
		KEY_RSA2048, KEY_ED25519 };
	struct certo_key *other;

	(void)state;
	assert_int_equal(key_generate(KEY_EC256, &other), 0);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct certo_key *k, *l;
		char *path = tu_path(tmp, key_type_name(types[i]));
		mode_t old = umask(0);   /* mode must not depend on umask */

		assert_int_equal(key_generate(types[i], &k), 0);
		assert_int_equal(key_get_type(k), types[i]);
		assert_int_equal(key_save(k, path, true), 0);
		umask(old);
		assert_int_equal(mode_of(path), 0600);
		assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
		assert_int_equal(key_load(path, &l), 0);
		assert_non_null(l);
		assert_int_equal(key_get_type(l), types[i]);
		assert_true(key_same_public(k, l));
		assert_true(key_same_public(l, k));
		assert_false(key_same_public(l, other));
		assert_false(key_same_public(other, k));
		key_free(l);
		key_free(k);
		unlink(path);
		free(path);
	}
	key_free(other);
}

/* key_save exclusive refuses an existing file and leaves it alone. */
static void
test_save_exclusive(void **state)
{
	struct certo_key *a, *b, *l;
	char *path = tu_path(tmp, "excl.pem");

	(void)state;
	assert_int_equal(key_generate(KEY_EC256, &a), 0);
	assert_int_equal(key_generate(KEY_EC256, &b), 0);
	assert_int_equal(key_save(a, path, true), 0);
	assert_int_equal(key_save(b, path, true), CERTO_EIO);
	certo_errclear();
	assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
	assert_int_equal(key_load(path, &l), 0);
	assert_true(key_same_public(l, a));
	key_free(l);
	/* Not exclusive: replaced. */
	assert_int_equal(key_save(b, path, false), 0);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(key_load(path, &l), 0);
	assert_true(key_same_public(l, b));
	key_free(l);
	key_free(a);
	key_free(b);
	unlink(path);
	free(path);
}

/* A key file group or others can read is refused (CERTO_EKEYPERM). */
static void
test_load_permissions(void **state)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0660, 0601, 0610 };
	struct certo_key *k;
	char *path;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = tu_copy_fixture(tmp, "testkey-ec256.pem", bad[i]);
		assert_int_equal(mode_of(path), bad[i]);
		k = (struct certo_key *)&k;     /* must be reset to NULL */
		if (key_load(path, &k) != CERTO_EKEYPERM)
			fail_msg("mode %04o accepted", (unsigned)bad[i]);
		assert_null(k);
		assert_int_equal(certo_errcode(), CERTO_EKEYPERM);
		certo_errclear();
		unlink(path);
		free(path);
	}
	/* 0600 and 0400 are fine. */
	path = tu_copy_fixture(tmp, "testkey-ec256.pem", 0600);
	assert_int_equal(key_load(path, &k), 0);
	key_free(k);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(key_load(path, &k), 0);
	key_free(k);
	unlink(path);
	free(path);
}

static void
test_load_bad_files(void **state)
{
	struct certo_key *k;
	char *path;

	(void)state;
	path = tu_path(tmp, "missing.pem");
	assert_int_equal(key_load(path, &k), CERTO_EIO);
	assert_null(k);
	certo_errclear();
	free(path);

	path = tu_path(tmp, "garbage.pem");
	tu_write(path, "not a key\n", 10, 0600);
	assert_int_equal(key_load(path, &k), CERTO_ECRYPTO);
	assert_null(k);
	certo_errclear();
	unlink(path);
	free(path);

	path = tu_path(tmp, "empty.pem");
	tu_write(path, "", 0, 0600);
	assert_int_not_equal(key_load(path, &k), 0);
	assert_null(k);
	certo_errclear();
	unlink(path);
	free(path);

	/* A directory is not a key. */
	assert_int_not_equal(key_load(tmp, &k), 0);
	assert_null(k);
	certo_errclear();
}

/* Keys GnuTLS can read but certo must not use: RSA-1024, P-521. */
static void
test_load_unsupported(void **state)
{
	static const struct {
		gnutls_pk_algorithm_t pk;
		unsigned bits;
	} v[] = {
		{ GNUTLS_PK_RSA, 1024 },
		{ GNUTLS_PK_ECDSA,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP521R1) },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		gnutls_x509_privkey_t x;
		gnutls_datum_t d = { NULL, 0 };
		struct certo_key *k;
		char *path = tu_path(tmp, "unsupported.pem");

		assert_int_equal(gnutls_x509_privkey_init(&x), 0);
		assert_int_equal(gnutls_x509_privkey_generate2(x, v[i].pk,
		    v[i].bits, 0, NULL, 0), 0);
		assert_int_equal(gnutls_x509_privkey_export2_pkcs8(x,
		    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d), 0);
		tu_write(path, d.data, d.size, 0600);
		assert_int_equal(key_load(path, &k), CERTO_ECRYPTO);
		assert_null(k);
		certo_errclear();
		gnutls_free(d.data);
		gnutls_x509_privkey_deinit(x);
		unlink(path);
		free(path);
	}
}

/* The fixture keys in both PEM flavours load with the right type. */
static void
test_load_fixtures(void **state)
{
	static const struct {
		const char *name;
		enum key_type t;
	} v[] = {
		{ "testkey-ec256.pem", KEY_EC256 },
		{ "testkey-ec256-traditional.pem", KEY_EC256 },
		{ "testkey-ec384.pem", KEY_EC384 },
		{ "testkey-ec384-traditional.pem", KEY_EC384 },
		{ "testkey-rsa2048.pem", KEY_RSA2048 },
		{ "testkey-rsa2048-traditional.pem", KEY_RSA2048 },
	};
	struct certo_key *prev = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_key *k;
		char *path = tu_copy_fixture(tmp, v[i].name, 0600);
		assert_int_equal(key_load(path, &k), 0);
		assert_int_equal(key_get_type(k), v[i].t);
		/* PKCS#8 and traditional encodings are the same key. */
		if (i % 2 == 1) {
			assert_true(key_same_public(prev, k));
			key_free(prev);
			key_free(k);
			prev = NULL;
		} else {
			prev = k;
		}
		unlink(path);
		free(path);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_save_exclusive),
		cmocka_unit_test(test_load_permissions),
		cmocka_unit_test(test_load_bad_files),
		cmocka_unit_test(test_load_unsupported),
		cmocka_unit_test(test_load_fixtures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
