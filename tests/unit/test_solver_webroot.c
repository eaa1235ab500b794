/*
 * The webroot solver without a network (its self-check is the http-01
 * fetch, run against nginx by tests/integration/webroot_nginx.sh): what
 * publish writes where and with which modes whatever the umask, what
 * withdraw and stop remove (only the directories it made), symbolic
 * links out of DIR refused at start and at publish, tokens that are not
 * base64url, and the usage errors of start.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "errors.h"
#include "solver.h"
#include "testutil.h"

#define TOKEN1 "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define TOKEN2 "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"

static const enum chall_type http01[] = { CHALL_HTTP01 };

/* A started webroot solver on dir. */
static void
start(const char *dir, struct solver *s)
{
	struct solver_webroot_opts opts = { 0 };

	opts.types = http01;
	opts.ntypes = 1;
	opts.dir = dir;
	opts.http_port = 80;
	assert_int_equal(solver_webroot_start(&opts, s), 0);
}

/* The mode bits of dir/rel (-1 if it does not exist, symlinks not followed). */
static int
mode_of(const char *dir, const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (lstat(path, &st) != 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

/* The content of dir/rel, malloc'd ("" if unreadable). */
static char *
content_of(const char *dir, const char *rel)
{
	char path[512], *buf = calloc(1, 256);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (buf != NULL && (f = fopen(path, "r")) != NULL) {
		if (fread(buf, 1, 255, f) == 0)
			buf[0] = '\0';
		fclose(f);
	}
	return buf;
}

/* Files and modes with umask 077; withdraw removes files, then dirs. */
static void
test_publish_withdraw(void **state)
{
	char *dir = tu_tmpdir(), *got;
	struct solver s;
	mode_t old = umask(077);

	(void)state;
	start(dir, &s);
	assert_int_equal(s.ntypes, 1);
	assert_int_equal(s.ops->publish(s.ctx, CHALL_HTTP01, "a.example",
	    TOKEN1, TOKEN1 ".thumb"), 0);
	assert_int_equal(s.ops->publish(s.ctx, CHALL_HTTP01, "b.example",
	    TOKEN2, TOKEN2 ".thumb"), 0);
	umask(old);
	assert_int_equal(mode_of(dir, ".well-known"), 0755);
	assert_int_equal(mode_of(dir, ".well-known/acme-challenge"), 0755);
	assert_int_equal(mode_of(dir, ".well-known/acme-challenge/" TOKEN1),
	    0644);
	got = content_of(dir, ".well-known/acme-challenge/" TOKEN2);
	assert_string_equal(got, TOKEN2 ".thumb");
	free(got);
	s.ops->withdraw(s.ctx, CHALL_HTTP01, "a.example", TOKEN1);
	assert_int_equal(mode_of(dir, ".well-known/acme-challenge/" TOKEN1), -1);
	assert_int_equal(mode_of(dir, ".well-known/acme-challenge"), 0755);
	s.ops->withdraw(s.ctx, CHALL_HTTP01, "b.example", TOKEN2);
	assert_int_equal(mode_of(dir, ".well-known"), -1);
	/* Withdrawing again, or what was never published, is harmless. */
	s.ops->withdraw(s.ctx, CHALL_HTTP01, "b.example", TOKEN2);
	s.ops->stop(s.ctx);
	tu_rmtree(dir);
	free(dir);
}

/* A .well-known that was there stays, with what else it holds. */
static void
test_existing_kept(void **state)
{
	char *dir = tu_tmpdir(), *wk = tu_path(dir, ".well-known");
	char *sec = tu_path(wk, "security.txt");
	struct solver s;

	(void)state;
	assert_int_equal(mkdir(wk, 0700), 0);
	tu_write(sec, "x\n", 2, 0644);
	start(dir, &s);
	assert_int_equal(s.ops->publish(s.ctx, CHALL_HTTP01, "a.example",
	    TOKEN1, "k"), 0);
	assert_int_equal(mode_of(dir, ".well-known"), 0700);
	s.ops->withdraw(s.ctx, CHALL_HTTP01, "a.example", TOKEN1);
	assert_int_equal(mode_of(dir, ".well-known"), 0700);
	assert_int_equal(mode_of(dir, ".well-known/acme-challenge"), -1);
	assert_int_equal(mode_of(dir, ".well-known/security.txt"), 0644);
	s.ops->stop(s.ctx);
	tu_rmtree(dir);
	free(sec);
	free(wk);
	free(dir);
}

/* stop() removes what was not withdrawn; a stale file is replaced. */
static void
test_stop_cleans(void **state)
{
	char *dir = tu_tmpdir(), *got, path[512];
	struct solver s;

	(void)state;
	start(dir, &s);
	assert_int_equal(s.ops->publish(s.ctx, CHALL_HTTP01, "a.example",
	    TOKEN1, "first"), 0);
	s.ops->stop(s.ctx);
	assert_int_equal(mode_of(dir, ".well-known"), -1);
	/* A file a killed run left under the same token name. */
	snprintf(path, sizeof(path), "%s/.well-known", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.well-known/acme-challenge", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.well-known/acme-challenge/" TOKEN1,
	    dir);
	tu_write(path, "old", 3, 0600);
	start(dir, &s);
	assert_int_equal(s.ops->publish(s.ctx, CHALL_HTTP01, "a.example",
	    TOKEN1, "new"), 0);
	got = content_of(dir, ".well-known/acme-challenge/" TOKEN1);
	assert_string_equal(got, "new");
	free(got);
	assert_int_equal(mode_of(dir, ".well-known/acme-challenge/" TOKEN1),
	    0644);
	s.ops->stop(s.ctx);
	/* Not made by this run: the directories stay, the file goes. */
	assert_int_equal(mode_of(dir, ".well-known/acme-challenge/" TOKEN1), -1);
	assert_int_equal(mode_of(dir, ".well-known/acme-challenge"), 0755);
	tu_rmtree(dir);
	free(dir);
}

/* Symbolic links out of DIR: refused at start, and at publish. */
static void
test_symlinks(void **state)
{
	char *dir = tu_tmpdir(), *out = tu_tmpdir();
	char *wk = tu_path(dir, ".well-known"), *ac;
	struct solver_webroot_opts opts = { 0 };
	struct solver s;

	(void)state;
	opts.types = http01;
	opts.ntypes = 1;
	opts.dir = dir;
	assert_int_equal(symlink(out, wk), 0);
	certo_errclear();
	assert_int_equal(solver_webroot_start(&opts, &s), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "is a symbolic link"));
	certo_errclear();
	/* Made a link after the start: publish refuses, writes nothing. */
	assert_int_equal(unlink(wk), 0);
	start(dir, &s);
	assert_int_equal(mkdir(wk, 0755), 0);
	ac = tu_path(wk, "acme-challenge");
	assert_int_equal(symlink(out, ac), 0);
	assert_int_equal(s.ops->publish(s.ctx, CHALL_HTTP01, "a.example",
	    TOKEN1, "k"), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "acme-challenge is a symbolic "
	    "link"));
	certo_errclear();
	assert_int_equal(mode_of(out, TOKEN1), -1);
	s.ops->withdraw(s.ctx, CHALL_HTTP01, "a.example", TOKEN1);
	s.ops->stop(s.ctx);
	/* Ours to keep: the directory and the link were not made by it. */
	assert_int_equal(mode_of(dir, ".well-known"), 0755);
	tu_rmtree(dir);
	tu_rmtree(out);
	free(ac);
	free(wk);
	free(out);
	free(dir);
}

/* Tokens that are not base64url never become a file name. */
static void
test_bad_tokens(void **state)
{
	static const char *const bad[] = { "../../etc/passwd", "a/b", "..",
		"", "tok en", "a\nb" };
	char *dir = tu_tmpdir();
	struct solver s;

	(void)state;
	start(dir, &s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(s.ops->publish(s.ctx, CHALL_HTTP01, "a.example",
		    bad[i], "k"), CERTO_EPROTO);
		certo_errclear();
	}
	assert_int_equal(mode_of(dir, ".well-known"), -1);
	s.ops->stop(s.ctx);
	tu_rmtree(dir);
	free(dir);
}

/* Start: a missing DIR, types other than http-01. */
static void
test_start_refused(void **state)
{
	static const enum chall_type alpn[] = { CHALL_HTTP01, CHALL_TLSALPN01 };
	struct solver_webroot_opts opts = { 0 };
	struct solver s;

	(void)state;
	opts.types = http01;
	opts.ntypes = 1;
	opts.dir = "/nonexistent/certo-webroot";
	assert_int_equal(solver_webroot_start(&opts, &s), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "No such file or directory"));
	certo_errclear();
	opts.dir = "/tmp";
	opts.types = alpn;
	opts.ntypes = 2;
	assert_int_equal(solver_webroot_start(&opts, &s), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "http-01 only"));
	certo_errclear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_withdraw),
		cmocka_unit_test(test_existing_kept),
		cmocka_unit_test(test_stop_cleans),
		cmocka_unit_test(test_symlinks),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_start_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
