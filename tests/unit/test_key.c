/* Keys (common/key.h): types, save/load round trips, permissions. */
#include "testutil.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "key.h"
#include "key_priv.h"

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

/*
 * The private scalar of a saved EC key: decode the PEM, walk PKCS#8
 * PrivateKeyInfo to its ECPrivateKey and return the length of the
 * privateKey OCTET STRING (RFC 5915); -1 if the file is not that shape.
 */
static size_t
der_read(const unsigned char *p, size_t n, size_t *off, unsigned char tag)
{
	size_t len;

	assert_true(*off + 2 <= n);
	assert_int_equal(p[*off], tag);
	len = p[*off + 1];
	*off += 2;
	if (len == 0x81) {
		assert_true(*off + 1 <= n);
		len = p[(*off)++];
	} else if (len == 0x82) {
		assert_true(*off + 2 <= n);
		len = (size_t)p[*off] << 8 | p[*off + 1];
		*off += 2;
	} else {
		assert_true(len < 0x80);
	}
	assert_true(len <= n - *off);
	return len;
}

static size_t
saved_scalar_len(const char *path)
{
	gnutls_datum_t pem, der;
	FILE *f;
	char buf[4096];
	size_t n, off = 0, len;

	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	pem.data = (unsigned char *)buf;
	pem.size = (unsigned)n;
	assert_int_equal(gnutls_pem_base64_decode2("PRIVATE KEY", &pem, &der),
	    0);
	(void)der_read(der.data, der.size, &off, 0x30);      /* PKCS#8 */
	off += der_read(der.data, der.size, &off, 0x02);     /* version */
	off += der_read(der.data, der.size, &off, 0x30);     /* algorithm */
	(void)der_read(der.data, der.size, &off, 0x04);      /* privateKey */
	(void)der_read(der.data, der.size, &off, 0x30);      /* ECPrivateKey */
	len = der_read(der.data, der.size, &off, 0x02);      /* version 1 */
	assert_int_equal(len, 1);
	assert_int_equal(der.data[off], 1);
	off += len;
	len = der_read(der.data, der.size, &off, 0x04);      /* privateKey */
	gnutls_free(der.data);
	return len;
}

/* k signs, and the public key of pub verifies the signature. */
static void
assert_signs_for(const struct certo_key *k, const struct certo_key *pub)
{
	static const char msg[] = "certo key test";
	gnutls_datum_t data = { (unsigned char *)(uintptr_t)msg,
		sizeof(msg) - 1 }, sig = { NULL, 0 };
	gnutls_sign_algorithm_t alg = key_get_type(k) == KEY_EC384 ?
	    GNUTLS_SIGN_ECDSA_SHA384 : GNUTLS_SIGN_ECDSA_SHA256;

	assert_int_equal(gnutls_privkey_sign_data2(k->priv, alg, 0, &data,
	    &sig), 0);
	assert_int_equal(gnutls_pubkey_verify_data2(pub->pub, alg, 0, &data,
	    &sig), 0);
	gnutls_free(sig.data);
}

/*
 * Item 10 of issue 9: EC keys are saved with the fixed-length private
 * scalar of RFC 5915 (GnuTLS alone writes 33 bytes for about half of all
 * P-256 keys and 31 for 1 in 256), they load back as the same key, and
 * python3-cryptography (strict about the length) loads every one.
 */
#define NKEYS 64
static void
test_ec_fixed_length(void **state)
{
	static const struct {
		enum key_type t;
		size_t n;
	} v[] = { { KEY_EC256, 32 }, { KEY_EC384, 48 } };
	char *dir = tu_path(tmp, "ec");
	char cmd[8192];
	int rc;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (int j = 0; j < NKEYS; j++) {
			struct certo_key *k, *l;
			char name[64], *path;

			snprintf(name, sizeof(name), "%s-%02d.pem",
			    key_type_name(v[i].t), j);
			path = tu_path(dir, name);
			assert_int_equal(key_generate(v[i].t, &k), 0);
			assert_int_equal(key_save(k, path, true), 0);
			if (saved_scalar_len(path) != v[i].n)
				fail_msg("%s: private scalar of %zu bytes, "
				    "expected %zu", name,
				    saved_scalar_len(path), v[i].n);
			assert_int_equal(key_load(path, &l), 0);
			assert_int_equal(key_get_type(l), v[i].t);
			assert_true(key_same_public(k, l));
			/* The scalar read back is the key's, not just the point. */
			assert_signs_for(l, k);
			key_free(l);
			key_free(k);
			free(path);
		}
	}
	/* Python's cryptography refuses a scalar of the wrong length. */
	snprintf(cmd, sizeof(cmd), "python3 -c '"
	    "import glob, sys\n"
	    "from cryptography.hazmat.primitives.serialization import "
	    "load_pem_private_key\n"
	    "fs = sorted(glob.glob(sys.argv[1] + \"/*.pem\"))\n"
	    "assert len(fs) == %d, len(fs)\n"
	    "for f in fs:\n"
	    "    k = load_pem_private_key(open(f, \"rb\").read(), None)\n"
	    "    c = \"ec-\" + k.curve.name[4:7]\n"
	    "    assert f.split(\"/\")[-1].startswith(c), (f, c)\n"
	    "' '%s'", NKEYS * 2, dir);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("python3-cryptography refused a saved key (exit %d); "
		    "scripts/deps.sh installs python3-cryptography", rc);
	tu_rmtree(dir);
	free(dir);
}

/*
 * Key files written before the fix (GnuTLS's 33- and 31-byte scalars)
 * still load, sign, and are saved again in the fixed-length form.
 */
static void
test_ec_old_lengths(void **state)
{
	static const char *const names[] = { "testkey-ec256-scalar33.pem",
		"testkey-ec256-scalar31.pem" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct certo_key *k, *l;
		char *path = tu_copy_fixture(tmp, names[i], 0600);
		char *again = tu_path(tmp, "again.pem");

		assert_int_equal(saved_scalar_len(path), i == 0 ? 33 : 31);
		assert_int_equal(key_load(path, &k), 0);
		assert_int_equal(key_get_type(k), KEY_EC256);
		assert_int_equal(key_save(k, again, true), 0);
		assert_int_equal(saved_scalar_len(again), 32);
		assert_int_equal(key_load(again, &l), 0);
		assert_true(key_same_public(k, l));
		assert_signs_for(l, k);
		assert_signs_for(k, l);
		key_free(l);
		key_free(k);
		unlink(again);
		unlink(path);
		free(again);
		free(path);
	}
}

/*
 * key_id_hex is the hex of key_public_id (GnuTLS's SHA-256 key ID): the
 * key_id of order.json files saved by earlier versions must still match.
 */
static void
test_key_id_hex(void **state)
{
	static const enum key_type types[] = { KEY_EC256, KEY_EC384,
		KEY_RSA2048, KEY_ED25519 };
	struct certo_key *k, *other;
	unsigned char id[64];
	char hex[65], want[129];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		assert_int_equal(key_generate(types[i], &k), 0);
		len = sizeof(id);
		assert_int_equal(key_public_id(k, id, &len), 0);
		assert_int_equal(len, 32);
		for (size_t j = 0; j < len; j++)
			snprintf(want + 2 * j, 3, "%02x", id[j]);
		assert_int_equal(key_id_hex(k, hex), 0);
		assert_string_equal(hex, want);
		assert_true(key_same_public(k, k));
		assert_int_equal(key_generate(types[i], &other), 0);
		assert_false(key_same_public(k, other));
		key_free(other);
		key_free(k);
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
		cmocka_unit_test(test_ec_fixed_length),
		cmocka_unit_test(test_ec_old_lengths),
		cmocka_unit_test(test_key_id_hex),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
