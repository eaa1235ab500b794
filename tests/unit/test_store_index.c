/*
 * The index of the stored sets (client/store_index.h): records made and
 * read back (escaped strings included), used only while the live files
 * keep their identity, rewritten only after a change and only by a
 * complete pass, lines that do not parse or are out of order dropped,
 * the temp names of killed writers swept.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "store_index.h"

static char *tmp;

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

/* live/<name>/{cert.pem,certo.json} holding text. */
static void
make_set(const char *name, const char *text)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/live", tmp);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/live/%s", tmp, name);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/live/%s/cert.pem", tmp, name);
	tu_write(path, text, strlen(text), 0644);
	snprintf(path, sizeof(path), "%s/live/%s/certo.json", tmp, name);
	tu_write(path, text, strlen(text), 0600);
}

/* The inode of tmp/index (0: none). */
static ino_t
index_ino(void)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/index", tmp);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static char name_a[] = "a.example", name_wild[] = "*.a.example";
static char *sans_v[] = { name_a, name_wild };
static char *names_v[] = { name_a, name_wild };

/* The record of name as the tests write it (tag in the key type). */
static void
entry_of(const char *name, const struct store_index_stamp *stamp,
    const char *tag, struct store_index_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->name = name;
	memcpy(e->stamp, stamp, sizeof(e->stamp));
	e->not_before = 1700000000;
	e->not_after = 1800000000;
	e->key_desc = tag;
	e->server = "https://ca.test:14000/dir";
	e->ca_bundle = "/etc/my ca\t%bundle\n.pem";
	e->allow_http = true;
	e->ari_id = strcmp(name, "b") == 0 ? "" : "aki.serial";
	e->sans = sans_v;
	e->nsans = 2;
	e->names = names_v;
	e->nnames = strcmp(name, "c") == 0 ? 0 : 2;
}

/*
 * One pass over names: each found (true) or put with tag; returns how
 * many were found.  complete is handed to store_index_close().
 */
static int
pass(const char *const *names, size_t n, const char *tag, bool complete)
{
	struct store_index *idx = NULL;
	struct store_index_stamp stamp[STORE_INDEX_NFILES];
	struct store_index_entry e, put;
	int found = 0;

	assert_int_equal(store_index_open(tmp, &idx), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(store_index_stamp(idx, names[i], stamp), 0);
		if (store_index_find(idx, names[i], stamp, &e)) {
			found++;
			assert_string_equal(e.name, names[i]);
			assert_memory_equal(e.stamp, stamp, sizeof(e.stamp));
			assert_int_equal(e.not_after, 1800000000);
			assert_string_equal(e.ca_bundle,
			    "/etc/my ca\t%bundle\n.pem");
			assert_true(e.allow_http);
			assert_int_equal(e.nsans, 2);
			assert_string_equal(e.sans[1], "*.a.example");
			assert_int_equal(e.nnames, strcmp(names[i], "c") ? 2 : 0);
			assert_string_equal(e.ari_id,
			    strcmp(names[i], "b") ? "aki.serial" : "");
			continue;
		}
		entry_of(names[i], stamp, tag, &put);
		assert_int_equal(store_index_put(idx, &put), 0);
	}
	store_index_close(idx, complete);
	return found;
}

static void
test_build_reuse(void **state)
{
	const char *names[] = { "a", "b", "c" };
	ino_t ino;

	(void)state;
	make_set("a", "1");
	make_set("b", "2");
	make_set("c", "3");
	assert_int_equal(pass(names, 3, "k1", true), 0);
	assert_true((ino = index_ino()) != 0);
	/* Unchanged sets: all found, nothing rewritten. */
	assert_int_equal(pass(names, 3, "k2", true), 3);
	assert_int_equal(index_ino(), ino);
	assert_int_equal(pass(names, 3, "k2", true), 3);
}

static void
test_changed_removed(void **state)
{
	const char *names[] = { "a", "b", "c" };
	char path[4096];
	ino_t ino;

	(void)state;
	make_set("a", "1");
	make_set("b", "2");
	make_set("c", "3");
	assert_int_equal(pass(names, 3, "k1", true), 0);
	/* b's certo.json rewritten in place behind certo's back. */
	snprintf(path, sizeof(path), "%s/live/b/certo.json", tmp);
	tu_write(path, "22", 2, 0600);
	ino = index_ino();
	assert_int_equal(pass(names, 3, "k3", true), 2);
	assert_true(index_ino() != ino);
	assert_int_equal(pass(names, 3, "k4", true), 3);
	/* An incomplete pass after a change leaves the index as it was. */
	snprintf(path, sizeof(path), "%s/live/a/cert.pem", tmp);
	tu_write(path, "11", 2, 0644);
	ino = index_ino();
	assert_int_equal(pass(names, 1, "k5", false), 0);
	assert_int_equal(index_ino(), ino);
	/* c removed: its record goes at the end of a complete pass. */
	assert_int_equal(pass(names, 2, "k5", true), 1);
	assert_true(index_ino() != ino);
	ino = index_ino();
	assert_int_equal(pass(names, 2, "k5", true), 2);
	assert_int_equal(index_ino(), ino);
}

static void
test_pass_keeps(void **state)
{
	const char *names[] = { "a", "b", "c" };
	struct store_index *idx = NULL;
	struct store_index_stamp stamp[STORE_INDEX_NFILES];
	struct store_index_entry e;

	(void)state;
	make_set("a", "1");
	make_set("b", "2");
	make_set("c", "3");
	assert_int_equal(pass(names, 3, "k1", true), 0);
	/* b not looked at but kept; a changed, so the index is rewritten. */
	make_set("a", "111");
	assert_int_equal(store_index_open(tmp, &idx), 0);
	assert_int_equal(store_index_stamp(idx, "a", stamp), 0);
	assert_false(store_index_find(idx, "a", stamp, &e));
	entry_of("a", stamp, "k2", &e);
	store_index_put(idx, &e);
	store_index_pass(idx, "b");
	assert_int_equal(store_index_stamp(idx, "c", stamp), 0);
	assert_true(store_index_find(idx, "c", stamp, &e));
	store_index_close(idx, true);
	assert_int_equal(pass(names, 3, "k3", true), 3);
}

static void
test_garbage(void **state)
{
	const char *names[] = { "a", "b", "c" };
	char path[4096], *text, *line, *p;
	size_t len;
	FILE *f;

	(void)state;
	make_set("a", "1");
	make_set("b", "2");
	make_set("c", "3");
	assert_int_equal(pass(names, 3, "k1", true), 0);
	snprintf(path, sizeof(path), "%s/index", tmp);
	assert_non_null(f = fopen(path, "r"));
	text = calloc(1, 1 << 20);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 0);
	/* b's line made invalid, a line too long and one out of order. */
	assert_non_null(line = strstr(text, "\nb\t"));
	assert_non_null(p = strchr(line + 3, '\t'));
	*p = 'x';
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fputs("zz\t", f);
	for (int i = 0; i < STORE_INDEX_LINE_MAX + 10; i++)
		putc('y', f);
	fputs("\naa\tbad\n", f);
	fclose(f);
	assert_int_equal(pass(names, 3, "k2", true), 2);
	assert_int_equal(pass(names, 3, "k2", true), 3);
	/* A header of another version: rebuilt. */
	assert_non_null(f = fopen(path, "w"));
	fputs("certo-index 0\n", f);
	fclose(f);
	assert_int_equal(pass(names, 3, "k2", true), 0);
	assert_int_equal(pass(names, 3, "k2", true), 3);
	free(text);
}

static void
test_sweep_tmp(void **state)
{
	const char *names[] = { "a" };
	char path[4096];
	long dead = tu_dead_pid();

	(void)state;
	make_set("a", "1");
	snprintf(path, sizeof(path), "%s/index.tmp.%ld.AbCdEf", tmp, dead);
	tu_write(path, "x", 1, 0600);
	assert_int_equal(pass(names, 1, "k1", true), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_build_reuse, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_changed_removed, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_pass_keeps, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_garbage, each_setup,
		    each_teardown),
		cmocka_unit_test_setup_teardown(test_sweep_tmp, each_setup,
		    each_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
