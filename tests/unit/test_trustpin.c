/*
 * Trust pinning (common/trustpin.h): the finder (which certificate of a
 * bundle anchors a peer's chain, run where the transfer ran) and the
 * key side (the root pinned from the bundle file by that index), on
 * certificates made here with GnuTLS.
 */
#include "testutil.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "trustpin.h"

#define HP "ca.example:443"

/* Three roots, an intermediate under root B, leaves, a stranger root. */
enum { ROOT_A, ROOT_B, ROOT_C, INTER, LEAF, LEAF_A, STRANGER, LEAF_X, NCERT };
static char *pem[NCERT];
static char *tmp;

static gnutls_x509_privkey_t
ec_key(void)
{
	gnutls_x509_privkey_t k;

	assert_int_equal(gnutls_x509_privkey_init(&k), 0);
	assert_int_equal(gnutls_x509_privkey_generate2(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0), 0);
	return k;
}

/* A certificate named cn for key, signed by issuer (NULL: itself). */
static gnutls_x509_crt_t
make_cert(gnutls_x509_privkey_t key, const char *cn, bool ca,
    gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
    unsigned serial)
{
	gnutls_x509_crt_t c;
	unsigned char sn[4] = { 0x20, 0, 0, (unsigned char)serial };
	time_t now = time(NULL);

	assert_int_equal(gnutls_x509_crt_init(&c), 0);
	assert_int_equal(gnutls_x509_crt_set_version(c, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(c, sn, sizeof(sn)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(c, now - 86400),
	    0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(c,
	    now + 86400 * 365), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(c, ca, -1), 0);
	if (ca)
		assert_int_equal(gnutls_x509_crt_set_key_usage(c,
		    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
	assert_int_equal(gnutls_x509_crt_set_key(c, key), 0);
	assert_int_equal(gnutls_x509_crt_sign2(c, issuer ? issuer : c,
	    issuer ? issuer_key : key, GNUTLS_DIG_SHA256, 0), 0);
	return c;
}

static char *
to_pem(gnutls_x509_crt_t c)
{
	gnutls_datum_t d = { NULL, 0 };
	char *s;

	assert_int_equal(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d),
	    0);
	s = tu_memdup0(d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static int
setup(void **state)
{
	/* Who signs what: [i] is signed by [issuer[i]] (-1: itself). */
	static const int issuer[NCERT] = { -1, -1, -1, ROOT_B, INTER, ROOT_A,
	    -1, STRANGER };
	static const char *const cn[NCERT] = { "Root A", "Root B", "Root C",
	    "Intermediate B1", "ca.example", "a.example", "Stranger Root",
	    "x.example" };
	gnutls_x509_privkey_t k[NCERT];
	gnutls_x509_crt_t c[NCERT];

	(void)state;
	tmp = tu_tmpdir();
	for (int i = 0; i < NCERT; i++) {
		bool ca = i != LEAF && i != LEAF_A && i != LEAF_X;

		k[i] = ec_key();
		c[i] = make_cert(k[i], cn[i], ca, issuer[i] < 0 ? NULL :
		    c[issuer[i]], issuer[i] < 0 ? NULL : k[issuer[i]],
		    (unsigned)i);
		pem[i] = to_pem(c[i]);
	}
	for (int i = 0; i < NCERT; i++) {
		gnutls_x509_crt_deinit(c[i]);
		gnutls_x509_privkey_deinit(k[i]);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	trustpin_cleanup();
	for (int i = 0; i < NCERT; i++)
		free(pem[i]);
	tu_rmtree(tmp);
	free(tmp);
	return 0;
}

/* The concatenation of NULL-terminated strings, malloc'd. */
static char *
cat(const char *first, ...)
{
	va_list ap;
	size_t len = 0;
	char *out;

	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
		len += strlen(s);
	va_end(ap);
	out = calloc(1, len + 1);
	assert_non_null(out);
	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
		strcat(out, s);
	va_end(ap);
	return out;
}

static long
find(const char *bundle, const char *const *chain, size_t n)
{
	return trustpin_find(bundle, bundle ? strlen(bundle) : 0, chain, n);
}

/* Several roots: the one that issued the chain's top is found. */
static void
test_find_roots(void **state)
{
	const char *chain[] = { pem[LEAF], pem[INTER] };
	const char *full[] = { pem[LEAF], pem[INTER], pem[ROOT_B] };
	const char *leaf_a[] = { pem[LEAF_A] };
	char *bundle = cat("# comment\n", pem[ROOT_A], "\n", pem[ROOT_B],
	    pem[ROOT_C], NULL);

	(void)state;
	assert_int_equal(find(bundle, chain, 2), 1);
	/* The peer also sent the root: still that root. */
	assert_int_equal(find(bundle, full, 3), 1);
	assert_int_equal(find(bundle, leaf_a, 1), 0);
	/* The bundle's bytes need no NUL: only len of them are read. */
	assert_int_equal(trustpin_find(bundle, strlen(bundle) -
	    strlen(pem[ROOT_C]), chain, 2), 1);
	assert_int_equal(trustpin_find(bundle, strlen(pem[ROOT_A]) + 10,
	    chain, 2), -1);
	free(bundle);
}

/*
 * An intermediate in the bundle issued the leaf: it is the answer (the
 * lowest certificate of the chain wins), whichever comes first.
 */
static void
test_find_intermediate(void **state)
{
	const char *chain[] = { pem[LEAF], pem[INTER] };
	const char *leaf[] = { pem[LEAF] };
	char *b1 = cat(pem[ROOT_A], pem[INTER], pem[ROOT_B], NULL);
	char *b2 = cat(pem[ROOT_B], pem[ROOT_C], pem[INTER], NULL);

	(void)state;
	assert_int_equal(find(b1, chain, 2), 1);
	assert_int_equal(find(b2, chain, 2), 2);
	/* The leaf alone (the server sent no intermediate). */
	assert_int_equal(find(b2, leaf, 1), 2);
	/* Only root B: it anchors the intermediate, not the leaf. */
	assert_int_equal(find(pem[ROOT_B], chain, 2), 0);
	assert_int_equal(find(pem[ROOT_B], leaf, 1), -1);
	free(b1);
	free(b2);
}

/* A chain that no bundle certificate issued: none. */
static void
test_find_none(void **state)
{
	const char *x[] = { pem[LEAF_X], pem[STRANGER] };
	const char *chain[] = { pem[LEAF], pem[INTER] };
	char *bundle = cat(pem[ROOT_A], pem[ROOT_C], NULL);

	(void)state;
	assert_int_equal(find(bundle, x, 2), -1);
	assert_int_equal(find(bundle, chain, 2), -1);
	assert_int_equal(find(bundle, chain, 0), -1);
	assert_int_equal(find(NULL, chain, 2), -1);
	assert_int_equal(find("", chain, 2), -1);
	free(bundle);
}

/* Garbage from the peer or in the bundle: no pin, no crash. */
static void
test_find_garbage(void **state)
{
	static const char broken[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n";
	const char *junk[] = { "garbage", broken, "", NULL,
	    "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----" };
	const char *mixed[] = { "garbage", pem[LEAF], broken, pem[INTER] };
	char *b1 = cat(broken, pem[ROOT_A], "junk", pem[ROOT_B], NULL);
	char *b2 = cat(pem[ROOT_B], NULL);
	const char *many[20];

	(void)state;
	assert_int_equal(find(b1, junk, 6), -1);
	/* Broken blocks keep their number; unparsable chain entries skip. */
	assert_int_equal(find(b1, mixed, 4), 2);
	/* A bundle cut within a block, or without any. */
	assert_int_equal(trustpin_find(b2, strlen(b2) - 10, mixed, 4), -1);
	assert_int_equal(find("-----BEGIN CERTIFICATE-----", mixed, 4), -1);
	assert_int_equal(find("just text\n", mixed, 4), -1);
	/* More chain entries than are looked at: the first 16 only. */
	for (size_t i = 0; i < 20; i++)
		many[i] = i < 19 ? "garbage" : pem[INTER];
	assert_int_equal(find(b1, many, 20), -1);
	many[15] = pem[INTER];
	assert_int_equal(find(b1, many, 20), 2);
	free(b1);
	free(b2);
}

/* The file's text, or NULL when missing. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

/*
 * The key side: the root is the bundle file's own block at the index;
 * an index that is not a certificate of the file pins nothing.
 */
static void
test_learn(void **state)
{
	static const char broken[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n";
	char *bundle = tu_path(tmp, "learn.pem"), *text, *got, *want;
	char *missing = tu_path(tmp, "missing.pem");
	const char *p;

	(void)state;
	text = cat(pem[ROOT_A], broken, pem[ROOT_B], NULL);
	tu_write(bundle, text, strlen(text), 0644);
	trustpin_learn(bundle, HP, NULL, -1);
	trustpin_learn(bundle, HP, NULL, 1);   /* not a certificate */
	trustpin_learn(bundle, HP, NULL, 3);   /* no such block */
	trustpin_learn(bundle, HP, NULL, 1L << 40);
	assert_null(trustpin_lookup(bundle, HP, NULL));
	trustpin_learn(missing, HP, NULL, 0);
	assert_null(trustpin_lookup(missing, HP, NULL));
	trustpin_learn(bundle, HP, NULL, 2);
	assert_non_null(p = trustpin_lookup(bundle, HP, NULL));
	got = slurp(p);
	assert_non_null(got);
	/* Root B's bytes as the bundle has them (PEM_END included). */
	want = cat(pem[ROOT_B], NULL);
	assert_string_equal(got, want);
	/* Learnt once: another answer does not replace a live pin. */
	trustpin_learn(bundle, HP, NULL, 0);
	assert_string_equal(trustpin_lookup(bundle, HP, NULL), p);
	/* The pin fails: gone, and a later answer pins again. */
	trustpin_forget(bundle, HP, NULL);
	assert_null(trustpin_lookup(bundle, HP, NULL));
	trustpin_learn(bundle, HP, NULL, 0);
	assert_non_null(p = trustpin_lookup(bundle, HP, NULL));
	free(got);
	assert_non_null(got = slurp(p));
	assert_string_equal(got, pem[ROOT_A]);
	free(got);
	free(want);
	free(text);
	free(missing);
	free(bundle);
}

/*
 * With a state directory: the entry outlives the run while the bundle
 * is unchanged, and a changed bundle is learnt again.
 */
static void
test_learn_state(void **state)
{
	char *bundle = tu_path(tmp, "state.pem"), *dir = tu_path(tmp, "st");
	char *entry = tu_path(dir, "trust/ca.example_443.pem"), *text, *got;
	const char *chain[] = { pem[LEAF], pem[INTER] };
	const char *p;
	long idx;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	text = cat(pem[ROOT_A], pem[ROOT_C], pem[ROOT_B], NULL);
	tu_write(bundle, text, strlen(text), 0644);
	idx = trustpin_find(text, strlen(text), chain, 2);
	assert_int_equal(idx, 2);
	trustpin_learn(bundle, HP, dir, idx);
	assert_non_null(p = trustpin_lookup(bundle, HP, dir));
	assert_string_equal(p, entry);
	assert_non_null(got = slurp(entry));
	assert_non_null(strstr(got, pem[ROOT_B]));
	assert_null(strstr(got, pem[ROOT_A]));
	free(got);
	/* A later run: the entry is used. */
	trustpin_cleanup();
	assert_non_null(p = trustpin_lookup(bundle, HP, dir));
	assert_string_equal(p, entry);
	/* Root B leaves the bundle: not trusted from the entry. */
	trustpin_cleanup();
	free(text);
	text = cat(pem[ROOT_A], pem[ROOT_C], NULL);
	tu_write(bundle, text, strlen(text), 0644);
	assert_null(trustpin_lookup(bundle, HP, dir));
	assert_int_equal(trustpin_find(text, strlen(text), chain, 2), -1);
	free(text);
	free(entry);
	free(dir);
	free(bundle);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_roots),
		cmocka_unit_test(test_find_intermediate),
		cmocka_unit_test(test_find_none),
		cmocka_unit_test(test_find_garbage),
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_learn_state),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
