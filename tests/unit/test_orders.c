/*
 * Saved orders as certo orders sees them (client/store_order.c): the
 * directory name is the hash of the sorted names (any order of -d maps
 * to one directory), what the CA last said is remembered in order.json
 * (store_order_note) and read back by store_orders_list, the lock.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "key.h"
#include "order.h"
#include "store.h"

/* sha256("a.example\0b.example\0"): the README's shell line, too. */
#define AB_HASH "d964e02ec88c5c83dd948c166b8f03d9c38068d459e40ab3fe7529086a9192b2"
#define URL "https://ca.test/order/1"
#define SERVER "https://ca.test/dir"

static char *tmp;
static struct certo_key *key;

static int
setup(void **state)
{
	(void)state;
	return key_generate(KEY_EC256, &key) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	key_free(key);
	return 0;
}

static int
each_setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	certo_errclear();
	return 0;
}

static int
each_teardown(void **state)
{
	(void)state;
	tu_rmtree(tmp);
	free(tmp);
	return 0;
}

/* The directory of names v (NULL-ended), malloc'd. */
static char *
dir_of(char **v)
{
	char *dir = NULL;

	assert_int_equal(store_order_dir(tmp, v, tu_strv_len(v), &dir), 0);
	return dir;
}

/* Every order of the names gives one directory, named as README says. */
static void
test_dir_sorted(void **state)
{
	char **ab = tu_strv("a.example", "b.example", NULL);
	char **ba = tu_strv("b.example", "a.example", NULL);
	char **abc = tu_strv("a.example", "b.example", "c.example", NULL);
	char **cab = tu_strv("c.example", "a.example", "b.example", NULL);
	char **bca = tu_strv("b.example", "c.example", "a.example", NULL);
	char *d1 = dir_of(ab), *d2 = dir_of(ba), *d3 = dir_of(abc);
	char *d4 = dir_of(cab), *d5 = dir_of(bca), *want;

	(void)state;
	want = tu_path(tmp, "orders/" AB_HASH);
	assert_string_equal(d1, want);
	assert_string_equal(d2, want);
	assert_string_equal(d3, d4);
	assert_string_equal(d3, d5);
	assert_string_not_equal(d1, d3);
	/* The caller's array is left in its order (the first names files). */
	assert_string_equal(ba[0], "b.example");
	free(want);
	free(d1);
	free(d2);
	free(d3);
	free(d4);
	free(d5);
	tu_strv_free(ab);
	tu_strv_free(ba);
	tu_strv_free(abc);
	tu_strv_free(cab);
	tu_strv_free(bca);
}

/* An order for names with two fetched authorizations (a: sa, b: sb). */
struct fake {
	char *names[2];
	struct certo_authz authzs[2];
	char *urls[2];
	struct certo_order order;
};

static void
fake_init(struct fake *f, enum order_status st, enum authz_status sa,
    enum authz_status sb)
{
	static char a[] = "a.example", b[] = "b.example", dns[] = "dns";
	static char u1[] = "https://ca.test/authz/1";
	static char u2[] = "https://ca.test/authz/2";
	static char url[] = URL, exp[] = "2001-02-03T04:05:06Z";

	memset(f, 0, sizeof(*f));
	f->names[0] = b; /* as given: b first */
	f->names[1] = a;
	f->urls[0] = u1;
	f->urls[1] = u2;
	f->authzs[0].ident.type = dns;
	f->authzs[0].ident.value = a;
	f->authzs[0].status = sa;
	f->authzs[1].ident.type = dns;
	f->authzs[1].ident.value = b;
	f->authzs[1].status = sb;
	f->order.names = f->names;
	f->order.nnames = 2;
	f->order.url = url;
	f->order.status = st;
	f->order.expires = exp;
	f->order.authz_urls = f->urls;
	f->order.nauthz = 2;
	f->order.authzs = f->authzs;
}

/* The one listed order, checked for the saved names. */
static struct store_order_info *
list_one(size_t *n)
{
	struct store_order_info *v = NULL;

	assert_int_equal(store_orders_list(tmp, &v, n), 0);
	assert_int_equal(*n, 1);
	assert_null(v[0].error);
	assert_string_equal(v[0].hash, AB_HASH);
	assert_int_equal(v[0].nnames, 2);
	assert_string_equal(v[0].names[0], "b.example");
	return v;
}

/* Saved, then noted: the listing shows what the CA last said. */
static void
test_note_list(void **state)
{
	static char other[] = "https://ca.test/order/2";
	char **ba = tu_strv("b.example", "a.example", NULL);
	char *dir = dir_of(ba);
	struct store_order_info *v;
	struct fake f;
	size_t n = 0;

	(void)state;
	/* Nothing saved: an empty list. */
	assert_int_equal(store_orders_list(tmp, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_order_save(dir, ba, 2, URL, SERVER, key), 0);
	v = list_one(&n);
	assert_string_equal(v[0].url, URL);
	assert_string_equal(v[0].server, SERVER);
	assert_null(v[0].status);
	assert_false(v[0].authz_known);
	store_orders_free(v, n);

	fake_init(&f, ORDER_PENDING, AUTHZ_PENDING, AUTHZ_VALID);
	assert_int_equal(store_order_note(dir, &f.order), 0);
	v = list_one(&n);
	assert_string_equal(v[0].status, "pending");
	assert_non_null(v[0].seen);
	assert_string_equal(v[0].expires, "2001-02-03T04:05:06Z");
	assert_true(v[0].authz_known);
	assert_int_equal(v[0].npending, 1);
	assert_string_equal(v[0].pending[0], "a.example");
	store_orders_free(v, n);

	/* A failed authorization makes the pending order invalid. */
	fake_init(&f, ORDER_PENDING, AUTHZ_VALID, AUTHZ_INVALID);
	assert_int_equal(store_order_note(dir, &f.order), 0);
	v = list_one(&n);
	assert_string_equal(v[0].status, "invalid");
	assert_int_equal(v[0].npending, 0);
	store_orders_free(v, n);

	/* Authorizations not all fetched: the last complete record stays. */
	fake_init(&f, ORDER_READY, AUTHZ_PENDING, AUTHZ_PENDING);
	f.authzs[1].ident.value = NULL;
	assert_int_equal(store_order_note(dir, &f.order), 0);
	v = list_one(&n);
	assert_string_equal(v[0].status, "ready");
	assert_true(v[0].authz_known);
	assert_int_equal(v[0].npending, 0);
	store_orders_free(v, n);

	/* Another order's note leaves this unit alone; gone is recorded. */
	fake_init(&f, ORDER_VALID, AUTHZ_VALID, AUTHZ_VALID);
	f.order.url = other;
	assert_int_equal(store_order_note(dir, &f.order), 0);
	assert_int_equal(store_order_note_gone(dir, "https://ca.test/order/9"),
	    0);
	v = list_one(&n);
	assert_string_equal(v[0].status, "ready");
	store_orders_free(v, n);
	assert_int_equal(store_order_note_gone(dir, URL), 0);
	v = list_one(&n);
	assert_string_equal(v[0].status, "gone");
	store_orders_free(v, n);

	/* The unit still loads: the key ID was kept. */
	{
		struct certo_key *k = NULL;
		char *url = NULL;
		assert_int_equal(store_order_load(dir, SERVER, &url, &k), 0);
		assert_string_equal(url, URL);
		assert_true(key_same_public(k, key));
		key_free(k);
		free(url);
	}
	free(dir);
	tu_strv_free(ba);
}

/* Temporary names are not listed; an unreadable order.json says why. */
static void
test_list_odd(void **state)
{
	char *p, *q;
	struct store_order_info *v = NULL;
	size_t n = 0;

	(void)state;
	p = tu_path(tmp, "orders/." AB_HASH ".new.1.abc");
	q = tu_path(tmp, "orders");
	assert_int_equal(mkdir(q, 0700), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = tu_path(tmp, "orders/" AB_HASH);
	assert_int_equal(mkdir(p, 0700), 0);
	free(q);
	q = tu_path(p, "order.json");
	tu_write(q, "{not json", 9, 0600);
	assert_int_equal(store_orders_list(tmp, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].hash, AB_HASH);
	assert_non_null(v[0].error);
	assert_true(tu_printable(v[0].error));
	store_orders_free(v, n);
	free(p);
	free(q);
}

/* The order lock: one holder at a time. */
static void
test_trylock(void **state)
{
	int fd1 = -1, fd2 = -1;

	(void)state;
	assert_int_equal(store_order_trylock(tmp, AB_HASH, &fd1), 1);
	assert_true(fd1 >= 0);
	assert_int_equal(store_order_trylock(tmp, AB_HASH, &fd2), 0);
	assert_int_equal(fd2, -1);
	close(fd1);
	assert_int_equal(store_order_trylock(tmp, AB_HASH, &fd2), 1);
	close(fd2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dir_sorted, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_note_list, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_list_odd, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_trylock, each_setup,
		    each_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
