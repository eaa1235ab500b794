/*
 * The certificate store (client/store.h): live sets committed and swapped,
 * the archive, saved orders (one unit of key and URL, key ID checked),
 * the sweep of what killed runs left, locks between runs, small records.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certificate.h"
#include "errors.h"
#include "file.h"
#include "key.h"
#include "store.h"

/* sha256("a.example\0b.example\0"): orders/<hash> of {a,b}.example. */
#define AB_HASH "d964e02ec88c5c83dd948c166b8f03d9c38068d459e40ab3fe7529086a9192b2"
/* sha256("ca.test_14000\0"): the account lock of CA id ca.test_14000. */
#define CA_LOCK "account-d401c30fe54762a393f8c5b292eea8ffada9cce1a9a4cf20caada390df30ff9d.lock"
/* sha256("example.com\0"): the live lock of example.com. */
#define LIVE_LOCK "live-e9f6f6c8034f6898328a48e66739669a171d11a936805a31016e8cf489b05f04.lock"

static char *tmp;
static struct certo_key *key1, *key2;

static int
setup(void **state)
{
	(void)state;
	setenv("CERTO_LOCK_WAIT", "0", 1);
	if (key_generate(KEY_EC256, &key1) != 0 ||
	    key_generate(KEY_EC256, &key2) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	key_free(key1);
	key_free(key2);
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
	tmp = NULL;
	return 0;
}

/* tmp "/" a "/" b..., malloc'd (NULL ends the list). */
static char *
path_of(const char *first, ...)
{
	va_list ap;
	const char *part;
	char *path = strdup(tmp), *next;

	va_start(ap, first);
	for (part = first; part != NULL; part = va_arg(ap, const char *)) {
		next = tu_path(path, part);
		free(path);
		path = next;
	}
	va_end(ap);
	return path;
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* noinline: GCC 12 -O2 took the inlined out-parameter for a local. */
static __attribute__((noinline)) char *
slurp(const char *path)
{
	char *data = NULL;
	size_t len;

	assert_int_equal(file_read(path, CERTO_FILE_MAX, false, &data, &len,
	    NULL), 0);
	return data;
}

/* The file tmp/<parts...> holds exactly want. */
static void
expect_file(const char *want, const char *a, const char *b, const char *c)
{
	char *p = path_of(a, b, c, NULL), *data = slurp(p);

	assert_string_equal(data, want);
	free(data);
	free(p);
}

/* The unit in dir loads for the CA "https://ca/dir" with url and key. */
static void
expect_order(const char *dir, const char *want_url,
    const struct certo_key *want_key)
{
	struct certo_key *key = NULL;
	char *url = NULL;

	assert_int_equal(store_order_load(dir, "https://ca/dir", &url, &key), 0);
	assert_string_equal(url, want_url);
	assert_true(key_same_public(key, want_key));
	free(url);
	key_free(key);
}

/* A chain whose three texts carry tag, enough for write_set. */
static void
fake_chain(struct certo_chain *chain, const char *tag)
{
	memset(chain, 0, sizeof(*chain));
	assert_true(asprintf(&chain->leaf, "leaf %s\n", tag) > 0);
	assert_true(asprintf(&chain->issuers, "issuers %s\n", tag) > 0);
	assert_true(asprintf(&chain->fullchain, "leaf %s\nissuers %s\n", tag,
	    tag) > 0);
}

/* First commit renames a complete set in; the second swaps and archives. */
static void
test_commit_swap_archive(void **state)
{
	struct certo_chain one, two;
	struct certo_key *back = NULL;
	char *live_dir = NULL, *p, **names = NULL;
	size_t n = 0;
	struct stat st;

	(void)state;
	fake_chain(&one, "one");
	fake_chain(&two, "two");
	assert_int_equal(store_commit(tmp, "example.com", key1, &one,
	    "{\"names\": [\"example.com\"]}\n", &live_dir), 0);
	p = path_of("live", "example.com", NULL);
	assert_string_equal(live_dir, p);
	free(p);
	free(live_dir);
	p = path_of("live", "example.com", "privkey.pem", NULL);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(key_load(p, &back), 0);
	assert_true(key_same_public(back, key1));
	key_free(back);
	free(p);
	expect_file("issuers one\n", "live", "example.com", "chain.pem");
	expect_file("leaf one\nissuers one\n", "live", "example.com",
	    "fullchain.pem");
	/* Re-issue: the new set is live, the old one is archived whole. */
	assert_int_equal(store_commit(tmp, "example.com", key2, &two, NULL,
	    &live_dir), 0);
	free(live_dir);
	expect_file("leaf two\n", "live", "example.com", "cert.pem");
	p = path_of("live", "example.com", "certo.json", NULL);
	assert_false(exists(p)); /* config NULL: none in the new set */
	free(p);
	p = path_of("archive", "example.com", NULL);
	assert_int_equal(tu_count_entries(p, "Z"), 1);
	free(p);
	p = path_of("live", NULL);
	assert_int_equal(tu_count_entries(p, ".new."), 0);
	free(p);
	/* A third swap in the same second gets its own archive name. */
	assert_int_equal(store_commit(tmp, "example.com", key1, &one, NULL,
	    &live_dir), 0);
	free(live_dir);
	p = path_of("archive", "example.com", NULL);
	assert_int_equal(tu_count_entries(p, "Z"), 2);
	free(p);
	/* Listing: sorted, wildcard sets under "_.", no key without --key. */
	assert_int_equal(store_commit(tmp, "*.b.example", NULL, &one, NULL,
	    &live_dir), 0);
	p = path_of("live", "_.b.example", "privkey.pem", NULL);
	assert_false(exists(p));
	free(p);
	free(live_dir);
	assert_int_equal(store_list(tmp, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "_.b.example");
	assert_string_equal(names[1], "example.com");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	certificate_free(&one);
	certificate_free(&two);
}

/* The state directory's name, in the documented order of sources. */
static void
test_state_dir(void **state)
{
	char *dir = NULL;

	(void)state;
	setenv("CERTO_STATE_DIR", "/from/env", 1);
	assert_int_equal(store_state_dir("/from/opt", &dir), 0);
	assert_string_equal(dir, "/from/opt");
	free(dir);
	assert_int_equal(store_state_dir(NULL, &dir), 0);
	assert_string_equal(dir, "/from/env");
	free(dir);
	unsetenv("CERTO_STATE_DIR");
	if (geteuid() != 0) {
		setenv("XDG_DATA_HOME", "/xdg", 1);
		assert_int_equal(store_state_dir("", &dir), 0);
		assert_string_equal(dir, "/xdg/certo");
		free(dir);
		unsetenv("XDG_DATA_HOME");
	}
}

/* Orders: the directory is the hash of the sorted names. */
static void
test_order_dir(void **state)
{
	char **ab = tu_strv("a.example", "b.example", NULL);
	char **ba = tu_strv("b.example", "a.example", NULL);
	char *d1 = NULL, *d2 = NULL, *want;

	(void)state;
	assert_int_equal(store_order_dir(tmp, ab, 2, &d1), 0);
	assert_int_equal(store_order_dir(tmp, ba, 2, &d2), 0);
	want = path_of("orders", AB_HASH, NULL);
	assert_string_equal(d1, want);
	assert_string_equal(d2, want);
	free(want);
	free(d1);
	free(d2);
	tu_strv_free(ab);
	tu_strv_free(ba);
}

/* Save, load, replace, another CA, a missing unit, removal. */
static void
test_order_save_load(void **state)
{
	char **names = tu_strv("a.example", "b.example", NULL);
	char *dir = NULL, *url = NULL, *p, *data;
	struct certo_key *key = NULL;

	(void)state;
	assert_int_equal(store_order_dir(tmp, names, 2, &dir), 0);
	/* Nothing saved: no URL, no key, no error. */
	assert_int_equal(store_order_load(dir, "https://ca/dir", &url, &key), 0);
	assert_null(url);
	assert_null(key);
	assert_int_equal(store_order_save(dir, names, 2, "https://ca/order/1",
	    "https://ca/dir", key1), 0);
	p = path_of("orders", AB_HASH, "order.json", NULL);
	data = slurp(p);
	assert_non_null(strstr(data, "\"key_id\""));
	assert_non_null(strstr(data, "\"a.example\""));
	free(data);
	free(p);
	expect_order(dir, "https://ca/order/1", key1);
	/* Another CA's order is not resumed. */
	assert_int_equal(store_order_load(dir, "https://other/dir", &url, &key),
	    0);
	assert_null(url);
	assert_null(key);
	/* A second save replaces the unit whole (exchange, then removal). */
	assert_int_equal(store_order_save(dir, names, 2, "https://ca/order/2",
	    "https://ca/dir", key2), 0);
	expect_order(dir, "https://ca/order/2", key2);
	p = path_of("orders", NULL);
	assert_int_equal(tu_count_entries(p, ".new."), 0);
	assert_int_equal(tu_count_entries(p, ".del."), 0);
	store_order_remove(dir);
	assert_false(exists(dir));
	assert_int_equal(tu_count_entries(p, ""), 0);
	free(p);
	free(dir);
	tu_strv_free(names);
}

/* A unit whose key is not the one its order.json names is refused. */
static void
test_order_key_mismatch(void **state)
{
	char **names = tu_strv("a.example", "b.example", NULL);
	char *dir = NULL, *url = NULL, *kp, *jp, *data, *at;
	struct certo_key *key = NULL;

	(void)state;
	assert_int_equal(store_order_dir(tmp, names, 2, &dir), 0);
	assert_int_equal(store_order_save(dir, names, 2, "https://ca/order/1",
	    "https://ca/dir", key1), 0);
	kp = tu_path(dir, "privkey.pem");
	jp = tu_path(dir, "order.json");
	unlink(kp);
	assert_int_equal(key_save(key2, kp, true), 0);
	assert_int_equal(store_order_load(dir, "https://ca/dir", &url, &key),
	    CERTO_EIO);
	assert_null(url);
	assert_null(key);
	assert_non_null(strstr(certo_errmsg(), "not the key this order was "
	    "created with"));
	certo_errclear();
	/* An older certo's unit without a key ID is taken as it is. */
	data = slurp(jp);
	at = strstr(data, "\"key_id\"");
	assert_non_null(at);
	memcpy(at, "\"key_xx\"", 8);
	unlink(jp);
	tu_write(jp, data, strlen(data), 0600);
	free(data);
	expect_order(dir, "https://ca/order/1", key2);
	/* A unit without its key is an error, not an order without one. */
	unlink(kp);
	assert_int_equal(store_order_load(dir, "https://ca/dir", &url, &key),
	    CERTO_EIO);
	assert_null(url);
	assert_null(key);
	certo_errclear();
	free(kp);
	free(jp);
	free(dir);
	tu_strv_free(names);
}

/* The key ID saved in order.json is the hex SHA-256 key ID of the key. */
static void
test_order_key_id(void **state)
{
	char **names = tu_strv("a.example", NULL);
	char *dir = NULL, *jp, *data, want[200], hex[65];
	unsigned char id[64];
	size_t len = sizeof(id);

	(void)state;
	assert_int_equal(key_public_id(key1, id, &len), 0);
	assert_int_equal(len, 32);
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	snprintf(want, sizeof(want), "\"key_id\":\"%s\"", hex);
	assert_int_equal(store_order_dir(tmp, names, 1, &dir), 0);
	assert_int_equal(store_order_save(dir, names, 1, "https://ca/o",
	    "https://ca/dir", key1), 0);
	jp = tu_path(dir, "order.json");
	data = slurp(jp);
	/* Pretty-printed: compare without spaces. */
	for (char *r = data, *w = data; ; r++) {
		if (*r != ' ' && *r != '\n')
			*w++ = *r;
		if (*r == '\0')
			break;
	}
	assert_non_null(strstr(data, want));
	free(data);
	free(jp);
	free(dir);
	tu_strv_free(names);
}

/* Make dir/name (a file, or a directory with the given files). */
static char *
plant(const char *dir, const char *name, bool is_dir, const char *const *files)
{
	char *p = tu_path(dir, name), *f;

	assert_int_equal(file_mkdirs(dir), 0);
	if (!is_dir) {
		tu_write(p, "x", 1, 0600);
		return p;
	}
	assert_int_equal(mkdir(p, 0700), 0);
	for (size_t i = 0; files != NULL && files[i] != NULL; i++) {
		f = tu_path(p, files[i]);
		tu_write(f, "x", 1, 0600);
		free(f);
	}
	return p;
}

/* The sweep: only names of dead, unlocked writers; complete sets kept. */
static void
test_sweep(void **state)
{
	static const char *const full[] = { "cert.pem", "fullchain.pem",
		"privkey.pem", NULL };
	static const char *const half[] = { "privkey.pem", NULL };
	char name[128], *live = path_of("live", NULL);
	char *orders = path_of("orders", NULL), *acct = path_of("accounts",
	    "ca", NULL), *rl = path_of("ratelimits", NULL);
	char *dead_tmp, *own_tmp, *locked, *set, *halfset, *del, *deep, *old;
	char *newlegacy, *p;
	long dead = tu_dead_pid();
	struct timeval tv[2];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "ca.json.tmp.%ld.AbCdEf", dead);
	dead_tmp = plant(rl, name, false, NULL);
	snprintf(name, sizeof(name), "ca2.json.tmp.%ld.AbCdEf", (long)getpid());
	own_tmp = plant(rl, name, false, NULL);
	snprintf(name, sizeof(name), "ca3.json.tmp.%ld.AbCdEf", dead);
	locked = plant(rl, name, false, NULL);
	assert_true((fd = open(locked, O_RDONLY)) >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	snprintf(name, sizeof(name), ".example.com.new.%ld.AbCdEf", dead);
	set = plant(live, name, true, full);
	snprintf(name, sizeof(name), ".half.example.new.%ld.AbCdEf", dead);
	halfset = plant(live, name, true, half);
	snprintf(name, sizeof(name), "." AB_HASH ".del.%ld.AbCdEf", dead);
	del = plant(orders, name, true, half);
	snprintf(name, sizeof(name), "account.key.tmp.%ld.AbCdEf", dead);
	deep = plant(acct, name, false, NULL);
	/* Names without a pid (older certo): only once 10 minutes old. */
	old = plant(rl, "old.json.tmp.AbCdEf", false, NULL);
	newlegacy = plant(rl, "new.json.tmp.AbCdEf", false, NULL);
	memset(tv, 0, sizeof(tv));
	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - FILE_LEGACY_STALE_S - 60;
	assert_int_equal(utimes(old, tv), 0);

	assert_int_equal(store_prepare(tmp), 0);
	assert_false(exists(dead_tmp));
	assert_true(exists(own_tmp));
	assert_true(exists(locked));
	assert_false(exists(set));
	p = path_of("archive", "example.com", NULL);
	assert_int_equal(tu_count_entries(p, "Z"), 1);
	free(p);
	assert_false(exists(halfset));
	assert_false(exists(del));
	assert_false(exists(deep));
	assert_false(exists(old));
	assert_true(exists(newlegacy));
	/* Once its lock is free the dead writer's file goes too. */
	close(fd);
	assert_int_equal(store_prepare(tmp), 0);
	assert_false(exists(locked));
	assert_true(exists(own_tmp));
	free(dead_tmp);
	free(own_tmp);
	free(locked);
	free(set);
	free(halfset);
	free(del);
	free(deep);
	free(old);
	free(newlegacy);
	free(live);
	free(orders);
	free(acct);
	free(rl);
}

/* Locks: files named by hashes; a held lock is EBUSY after the wait. */
static void
test_locks(void **state)
{
	struct store_lock one = STORE_LOCK_INIT, two = STORE_LOCK_INIT;
	char **names = tu_strv("example.com", NULL);
	char *p;

	(void)state;
	assert_int_equal(store_lock_account(tmp, "ca.test_14000", &one), 0);
	assert_false(one.waited);
	p = path_of("locks", CA_LOCK, NULL);
	assert_true(exists(p));
	free(p);
	assert_int_equal(store_lock_account(tmp, "ca.test_14000", &two),
	    CERTO_EBUSY);
	assert_true(two.waited);
	assert_non_null(strstr(certo_errmsg(), "the account for ca.test_14000"));
	certo_errclear();
	assert_int_equal(two.fd[0], -1);
	store_unlock(&one);
	store_unlock(&one); /* twice is fine */
	assert_int_equal(store_lock_account(tmp, "ca.test_14000", &two), 0);
	store_unlock(&two);

	assert_int_equal(store_lock_cert(tmp, "example.com", names, 1, &one), 0);
	p = path_of("locks", LIVE_LOCK, NULL);
	assert_true(exists(p));
	free(p);
	/* The same live name with other names: the live lock is held. */
	assert_int_equal(store_lock_cert(tmp, "example.com", names, 1, &two),
	    CERTO_EBUSY);
	assert_non_null(strstr(certo_errmsg(), "certificate example.com"));
	certo_errclear();
	assert_int_equal(two.fd[0], -1);
	assert_int_equal(two.fd[1], -1);
	store_unlock(&one);
	assert_int_equal(store_lock_cert(tmp, "example.com", names, 1, &two), 0);
	store_unlock(&two);
	tu_strv_free(names);
}

/* order_forget removes a saved order only when no run holds its lock. */
static void
test_order_forget(void **state)
{
	struct store_lock lock = STORE_LOCK_INIT;
	char **names = tu_strv("a.example", "b.example", NULL);
	char *dir = NULL;

	(void)state;
	/* Nothing saved: nothing to do. */
	assert_int_equal(store_order_forget(tmp, names, 2), 0);
	assert_int_equal(store_order_dir(tmp, names, 2, &dir), 0);
	assert_int_equal(store_order_save(dir, names, 2, "https://ca/o",
	    "https://ca/dir", key1), 0);
	assert_int_equal(store_lock_cert(tmp, "a.example", names, 2, &lock), 0);
	assert_int_equal(store_order_forget(tmp, names, 2), 0);
	assert_true(exists(dir));
	store_unlock(&lock);
	assert_int_equal(store_order_forget(tmp, names, 2), 0);
	assert_false(exists(dir));
	free(dir);
	tu_strv_free(names);
}

/* delete: live, archive and the orders that would store there go. */
static void
test_delete(void **state)
{
	struct certo_chain chain;
	char **names = tu_strv("a.example", "b.example", NULL);
	char **other = tu_strv("c.example", NULL);
	char *live_dir = NULL, *dir = NULL, *odir = NULL, *p;

	(void)state;
	fake_chain(&chain, "x");
	assert_int_equal(store_delete(tmp, "a.example"), CERTO_EUSAGE);
	certo_errclear();
	assert_int_equal(store_delete(tmp, "../x"), CERTO_EUSAGE);
	certo_errclear();
	assert_int_equal(store_delete(tmp, ".hidden"), CERTO_EUSAGE);
	certo_errclear();
	assert_int_equal(store_commit(tmp, "a.example", key1, &chain,
	    "{\"names\": [\"a.example\", \"b.example\"]}", &live_dir), 0);
	free(live_dir);
	assert_int_equal(store_commit(tmp, "a.example", key1, &chain,
	    "{\"names\": [\"a.example\", \"b.example\"]}", &live_dir), 0);
	free(live_dir);
	assert_int_equal(store_order_dir(tmp, names, 2, &dir), 0);
	assert_int_equal(store_order_save(dir, names, 2, "https://ca/o",
	    "https://ca/dir", key1), 0);
	assert_int_equal(store_order_dir(tmp, other, 1, &odir), 0);
	assert_int_equal(store_order_save(odir, other, 1, "https://ca/o2",
	    "https://ca/dir", key1), 0);
	assert_int_equal(store_delete(tmp, "a.example"), 0);
	p = path_of("live", "a.example", NULL);
	assert_false(exists(p));
	free(p);
	p = path_of("archive", "a.example", NULL);
	assert_false(exists(p));
	free(p);
	assert_false(exists(dir));
	assert_true(exists(odir)); /* another certificate's order stays */
	p = path_of("live", NULL);
	assert_int_equal(tu_count_entries(p, ".del."), 0);
	free(p);
	certificate_free(&chain);
	free(dir);
	free(odir);
	tu_strv_free(names);
	tu_strv_free(other);
}

/* Kept authorizations and deploy marks. */
static void
test_records(void **state)
{
	char *url = NULL, *live;

	(void)state;
	assert_int_equal(store_authz_load(tmp, "ca", "a.example", &url),
	    CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "no saved authorization"));
	certo_errclear();
	assert_int_equal(store_authz_save(tmp, "ca", "*.a.example",
	    "https://ca/authz/1"), 0);
	assert_int_equal(store_authz_load(tmp, "ca", "*.a.example", &url), 0);
	assert_string_equal(url, "https://ca/authz/1");
	free(url);
	url = NULL;
	live = path_of("authz", "ca", "_.a.example.json", NULL);
	assert_true(exists(live));
	free(live);
	assert_int_equal(store_authz_save(tmp, "ca", "../evil", "https://x"),
	    CERTO_EIDENT);
	certo_errclear();
	/* An unreadable record keeps its own cause, not "none saved". */
	live = path_of("authz", "ca", "_.a.example.json", NULL);
	unlink(live);
	assert_int_equal(mkdir(live, 0700), 0);
	assert_int_equal(store_authz_load(tmp, "ca", "*.a.example", &url),
	    CERTO_EIO);
	assert_null(strstr(certo_errmsg(), "no saved authorization"));
	certo_errclear();
	free(live);

	live = path_of("live", "x.example", NULL);
	assert_int_equal(file_mkdirs(live), 0);
	assert_int_equal(store_deploy_pending(live), 0);
	assert_int_equal(store_deploy_mark(live, "hook failed"), 0);
	assert_int_equal(store_deploy_pending(live), 1);
	assert_int_equal(store_deploy_mark(live, NULL), 0);
	assert_int_equal(store_deploy_pending(live), 0);
	assert_int_equal(store_deploy_mark(live, NULL), 0); /* none: fine */
	free(live);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_swap_archive,
		    each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(test_state_dir, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_order_dir, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_order_save_load, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_order_key_mismatch,
		    each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(test_order_key_id, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_sweep, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_locks, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_order_forget, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_delete, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_records, each_setup,
		    each_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
