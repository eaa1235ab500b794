/* Atomic writes and capped, permission-checked reads (common/file.h). */
#include "testutil.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "file.h"

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

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
check_content(const char *path, const char *want)
{
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(file_read(path, CERTO_FILE_MAX, false, &data, &len,
	    NULL), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(data, want);
	free(data);
}

static void
test_write_modes(void **state)
{
	static const mode_t modes[] = { 0600, 0644, 0640, 0400 };
	mode_t old = umask(077);   /* the mode is exact, whatever the umask */

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char *p = tu_path(tmp, "modes");
		assert_int_equal(file_write_atomic(p, "content\n", 8, modes[i],
		    false), 0);
		assert_int_equal(mode_of(p), modes[i]);
		check_content(p, "content\n");
		unlink(p);
		free(p);
	}
	umask(old);
	assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
}

static void
test_replace(void **state)
{
	char *p = tu_path(tmp, "replace");
	struct stat a, b;

	(void)state;
	assert_int_equal(file_write_atomic(p, "first", 5, 0644, false), 0);
	assert_int_equal(stat(p, &a), 0);
	assert_int_equal(file_write_atomic(p, "second, longer", 14, 0600,
	    false), 0);
	assert_int_equal(stat(p, &b), 0);
	check_content(p, "second, longer");
	assert_int_equal(mode_of(p), 0600);
	/* A new inode (rename), not a rewrite in place. */
	assert_int_not_equal(a.st_ino, b.st_ino);
	/* Shorter content leaves nothing of the old one. */
	assert_int_equal(file_write_atomic(p, "3", 1, 0600, false), 0);
	check_content(p, "3");
	/* Empty content. */
	assert_int_equal(file_write_atomic(p, "", 0, 0600, false), 0);
	check_content(p, "");
	assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
	unlink(p);
	free(p);
}

static void
test_exclusive(void **state)
{
	char *p = tu_path(tmp, "exclusive");

	(void)state;
	assert_int_equal(file_write_atomic(p, "mine", 4, 0600, true), 0);
	check_content(p, "mine");
	assert_int_equal(mode_of(p), 0600);
	assert_int_equal(file_write_atomic(p, "theirs", 6, 0600, true),
	    CERTO_EIO);
	assert_non_null(certo_errmsg());
	certo_errclear();
	check_content(p, "mine");
	assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
	unlink(p);
	/* A dangling symlink is an existing path too. */
	assert_int_equal(symlink("/nonexistent/target", p), 0);
	assert_int_equal(file_write_atomic(p, "x", 1, 0600, true), CERTO_EIO);
	certo_errclear();
	assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
	unlink(p);
	free(p);
}

/* file_write_staged: a new name in a staging directory, mode exact. */
static void
test_staged(void **state)
{
	char *p = tu_path(tmp, "staged");
	mode_t old = umask(077);

	(void)state;
	assert_int_equal(file_write_staged(p, "key\n", 4, 0644), 0);
	check_content(p, "key\n");
	assert_int_equal(mode_of(p), 0644);
	/* Never over an existing name, nor through a link. */
	assert_int_equal(file_write_staged(p, "other", 5, 0600), CERTO_EIO);
	certo_errclear();
	check_content(p, "key\n");
	unlink(p);
	assert_int_equal(symlink("/nonexistent/target", p), 0);
	assert_int_equal(file_write_staged(p, "x", 1, 0600), CERTO_EIO);
	certo_errclear();
	assert_int_equal(access("/nonexistent/target", F_OK), -1);
	unlink(p);
	/* No temporary names. */
	assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
	umask(old);
	free(p);
}

static void
test_failure_leaves_nothing(void **state)
{
	char *dir = tu_path(tmp, "no-such-dir"), *p = tu_path(dir, "file");
	char *sub, *q;

	(void)state;
	assert_int_equal(file_write_atomic(p, "x", 1, 0600, false), CERTO_EIO);
	certo_errclear();
	assert_false(file_exists(p));
	assert_false(file_exists(dir));
	assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
	/* Renaming over a directory fails after the temp file was made. */
	sub = tu_path(tmp, "isadir");
	assert_int_equal(mkdir(sub, 0700), 0);
	q = tu_path(sub, "keep");
	tu_write(q, "k", 1, 0600);
	assert_int_equal(file_write_atomic(sub, "x", 1, 0600, false),
	    CERTO_EIO);
	certo_errclear();
	assert_int_equal(tu_count_entries(tmp, ".tmp."), 0);
	assert_true(file_exists(q));
	unlink(q);
	rmdir(sub);
	free(q);
	free(sub);
	free(p);
	free(dir);
}

static void
test_read(void **state)
{
	char *p = tu_path(tmp, "read"), *data;
	size_t len;
	bool missing = true;

	(void)state;
	tu_write(p, "0123456789", 10, 0600);
	assert_int_equal(file_read(p, 10, true, &data, &len, &missing), 0);
	assert_false(missing);
	assert_int_equal(len, 10);
	assert_string_equal(data, "0123456789");
	free(data);
	/* outlen and missing may be NULL. */
	assert_int_equal(file_read(p, 100, false, &data, NULL, NULL), 0);
	free(data);
	/* Over the cap. */
	data = p;
	assert_int_not_equal(file_read(p, 9, false, &data, &len, NULL), 0);
	assert_null(data);
	certo_errclear();
	/* Secret: group/other bits refused, whatever they are. */
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(file_read(p, 100, true, &data, &len, NULL),
	    CERTO_EKEYPERM);
	assert_null(data);
	certo_errclear();
	assert_int_equal(chmod(p, 0604), 0);
	assert_int_equal(file_read(p, 100, true, &data, &len, NULL),
	    CERTO_EKEYPERM);
	certo_errclear();
	assert_int_equal(chmod(p, 0620), 0);
	assert_int_equal(file_read(p, 100, true, &data, &len, NULL),
	    CERTO_EKEYPERM);
	certo_errclear();
	/* ...but fine for a non-secret. */
	assert_int_equal(file_read(p, 100, false, &data, &len, NULL), 0);
	free(data);
	unlink(p);
	/* Missing. */
	assert_int_equal(file_read(p, 100, false, &data, &len, &missing),
	    CERTO_EIO);
	assert_true(missing);
	assert_null(data);
	certo_errclear();
	/* A directory is not a file. */
	missing = true;
	assert_int_equal(file_read(tmp, 100, false, &data, &len, &missing),
	    CERTO_EIO);
	assert_false(missing);
	certo_errclear();
	free(p);
}

static void
test_helpers(void **state)
{
	char *j, *d, *e;

	(void)state;
	j = file_join("/var/lib", "certo");
	assert_string_equal(j, "/var/lib/certo");
	free(j);
	assert_true(file_exists(tmp));
	d = tu_path(tmp, "a/b/c");
	assert_int_equal(file_mkdirs(d), 0);
	assert_true(file_exists(d));
	assert_int_equal(mode_of(d), 0700);
	/* Existing: fine, and the last one is tightened to 0700. */
	assert_int_equal(chmod(d, 0755), 0);
	assert_int_equal(file_mkdirs(d), 0);
	assert_int_equal(mode_of(d), 0700);
	/* A file in the way. */
	e = tu_path(tmp, "a/file");
	tu_write(e, "", 0, 0600);
	free(d);
	d = tu_path(e, "sub");
	assert_int_equal(file_mkdirs(d), CERTO_EIO);
	certo_errclear();
	free(d);
	free(e);
}

/* Temporary names are recognised by their end, whatever comes before. */
static void
test_temp_kind(void **state)
{
	static const struct {
		const char *name;
		enum file_temp kind;
		long pid;
	} cases[] = {
		{ "account.key.tmp.123.AbCdEf", FILE_TEMP_TMP, 123 },
		{ ".a.b.example.new.99.xYz012", FILE_TEMP_NEW, 99 },
		{ ".x.del.7.aaaaaa", FILE_TEMP_DEL, 7 },
		{ "order.json.tmp.AbCdEf", FILE_TEMP_TMP, 0 },   /* no pid */
		{ ".example.com.new.Ab1234", FILE_TEMP_NEW, 0 },
		{ "a.tmp.example.com", FILE_TEMP_NONE, 0 },      /* a live name */
		{ "example.com", FILE_TEMP_NONE, 0 },
		{ "x.tmp.12.abcde", FILE_TEMP_NONE, 0 },         /* 5 characters */
		{ "x.tmp.12.abc-ef", FILE_TEMP_NONE, 0 },
		{ "x.old.12.abcdef", FILE_TEMP_NONE, 0 },
		{ ".tmp.abcdef", FILE_TEMP_NONE, 0 },            /* too short */
	};
	long pid;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid = -1;
		assert_int_equal(file_temp_kind(cases[i].name, &pid),
		    cases[i].kind);
		assert_int_equal(pid, cases[i].pid);
	}
}

/* Only entries of a dead writer with a free lock may be removed. */
static void
test_claim_stale(void **state)
{
	char name[128], *p, *d = NULL;
	long dead = tu_dead_pid();
	int fd, other, dfd;

	(void)state;
	/* A dead writer's temp file. */
	snprintf(name, sizeof(name), "f.tmp.%ld.AbCdEf", dead);
	p = tu_path(tmp, name);
	tu_write(p, "x", 1, 0600);
	assert_int_equal(file_claim_stale(p, false, &fd), FILE_TEMP_TMP);
	assert_true(fd >= 0);
	close(fd);
	/* ...but not while someone holds its lock (another namespace). */
	other = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX), 0);
	assert_int_equal(file_claim_stale(p, false, &fd), 0);
	assert_int_equal(fd, -1);
	close(other);
	/* A directory is not claimed as a file. */
	assert_int_equal(file_claim_stale(p, true, &fd), 0);
	unlink(p);
	free(p);
	/* A running writer's (ours): never. */
	snprintf(name, sizeof(name), "f.tmp.%ld.AbCdEf", (long)getpid());
	p = tu_path(tmp, name);
	tu_write(p, "x", 1, 0600);
	assert_int_equal(file_claim_stale(p, false, &fd), 0);
	unlink(p);
	free(p);
	/* No pid (older certo): only once it is old. */
	p = tu_path(tmp, "g.tmp.AbCdEf");
	tu_write(p, "x", 1, 0600);
	assert_int_equal(file_claim_stale(p, false, &fd), 0);
	{
		struct timespec ts[2] = { { time(NULL) - FILE_LEGACY_STALE_S - 5,
			0 }, { time(NULL) - FILE_LEGACY_STALE_S - 5, 0 } };
		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	}
	assert_int_equal(file_claim_stale(p, false, &fd), FILE_TEMP_TMP);
	close(fd);
	unlink(p);
	free(p);
	/* A staging directory: ours and locked while we hold it. */
	assert_int_equal(file_staging_dir(tmp, "example.com", "new", &d, &dfd),
	    0);
	assert_true(dfd >= 0);
	assert_non_null(strstr(d, "/.example.com.new."));
	assert_int_equal(file_claim_stale(d, true, &fd), 0);
	/* Renamed to a dead pid, it is still locked by us. */
	snprintf(name, sizeof(name), ".example.com.new.%ld.Zz0000", dead);
	p = tu_path(tmp, name);
	assert_int_equal(rename(d, p), 0);
	assert_int_equal(file_claim_stale(p, true, &fd), 0);
	close(dfd);
	assert_int_equal(file_claim_stale(p, true, &fd), FILE_TEMP_NEW);
	close(fd);
	rmdir(p);
	free(p);
	free(d);
}

/*
 * file_list_dir: sorted, dot names left out, the suffix and the cap
 * applied; a missing directory is an empty list.  file_sweep_tmp: only
 * the dead writer's temp file with the prefix goes.
 */
static void
test_list_and_sweep(void **state)
{
	static const char *const files[] = {
		"b.conf", "a.conf", ".a.conf.new.1.x", "c.txt", "d.conf",
	};
	char *dir = tu_path(tmp, "list"), *p, **names = NULL, dead[64];
	size_t n = 99;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		p = tu_path(dir, files[i]);
		tu_write(p, "x", 1, 0600);
		free(p);
	}
	assert_int_equal(file_list_dir(dir, ".conf", SIZE_MAX, &names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "a.conf");
	assert_string_equal(names[1], "b.conf");
	assert_string_equal(names[2], "d.conf");
	file_list_free(names, n);
	assert_int_equal(file_list_dir(dir, "", 2, &names, &n), 0);
	assert_int_equal(n, 2);
	file_list_free(names, n);
	assert_int_equal(file_list_dir(dir, "", SIZE_MAX, &names, &n), 0);
	assert_int_equal(n, 4);        /* no ".a.conf.new..." */
	file_list_free(names, n);
	p = tu_path(dir, "missing");
	assert_int_equal(file_list_dir(p, "", SIZE_MAX, &names, &n), 0);
	assert_null(names);
	assert_int_equal(n, 0);
	free(p);
	/* A dead writer's temp files: only the one with the prefix goes. */
	snprintf(dead, sizeof(dead), "a.conf.tmp.%ld.AbCdEf", tu_dead_pid());
	p = tu_path(dir, dead);
	tu_write(p, "x", 1, 0600);
	free(p);
	snprintf(dead, sizeof(dead), "c.txt.tmp.%ld.AbCdEf", tu_dead_pid());
	p = tu_path(dir, dead);
	tu_write(p, "x", 1, 0600);
	file_sweep_tmp(dir, "a.conf.");
	assert_int_equal(tu_count_entries(dir, ".tmp."), 1);
	assert_int_equal(access(p, F_OK), 0);
	file_sweep_tmp(dir, NULL);
	assert_int_equal(tu_count_entries(dir, ".tmp."), 0);
	free(p);
	free(dir);
}

/*
 * Degenerate paths get an error, not undefined behaviour.  Kept last: an
 * out-of-bounds read here aborts the binary under ASan; run from the
 * scratch directory so that without ASan nothing stray is created in
 * the build tree.
 */
static void
test_mkdirs_empty(void **state)
{
	char cwd[4096];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmp), 0);
	assert_int_equal(file_mkdirs(""), CERTO_EIO);
	certo_errclear();
	assert_int_equal(chdir(cwd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_modes),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_exclusive),
		cmocka_unit_test(test_staged),
		cmocka_unit_test(test_failure_leaves_nothing),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_temp_kind),
		cmocka_unit_test(test_claim_stale),
		cmocka_unit_test(test_list_and_sweep),
		cmocka_unit_test(test_mkdirs_empty),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
