/*
 * Hook programs (client/hook.c), run for real: small /bin/sh scripts in
 * a scratch directory.  Argument order, environment, exit status and
 * stderr in the message, a timeout that stops the whole process group
 * (SIGTERM, then SIGKILL), a hook that exits leaving a child, no
 * descriptor of certo but 0-2, scripts without #!, PATH lookup, and
 * the command-line path resolution.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "hook.h"

static char *dir;

static int
setup(void **state)
{
	(void)state;
	dir = tu_tmpdir();
	setenv("T_DIR", dir, 1);
	certo_errclear();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	free(dir);
	dir = NULL;
	unsetenv("T_DIR");
	certo_errclear();
	return 0;
}

/* Write script name (body after "#!/bin/sh\n" unless raw) with mode. */
static char *
script(const char *name, const char *body, mode_t mode, int raw)
{
	char *path = tu_path(dir, name), *text;

	assert_true(asprintf(&text, "%s%s", raw ? "" : "#!/bin/sh\n", body) > 0);
	tu_write(path, text, strlen(text), mode);
	free(text);
	return path;
}

/* The contents of $T_DIR/name, malloc'd ("" if missing). */
static char *
slurp(const char *name)
{
	char *path = tu_path(dir, name), *text = calloc(1, 8192);
	FILE *f = fopen(path, "r");
	size_t n = 0;

	assert_non_null(text);
	if (f != NULL) {
		n = fread(text, 1, 8191, f);
		fclose(f);
	}
	text[n] = '\0';
	free(path);
	return text;
}

/* The pid written in $T_DIR/name. */
static pid_t
pid_in(const char *name)
{
	char *text = slurp(name);
	pid_t pid = (pid_t)atol(text);

	free(text);
	assert_true(pid > 1);
	return pid;
}

/* True if pid is gone or a zombie (stopped; its parent may not reap). */
static int
stopped(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && (p[2] == 'Z' || p[2] == 'X');
}

/* Wait up to 3 s for pid to be stopped (a SIGKILLed process is not
 * gone at once). */
static int
stopped_soon(pid_t pid)
{
	for (int i = 0; i < 300 && !stopped(pid); i++)
		usleep(10000);
	return stopped(pid);
}

/* method type ident token key_auth, in that order, as argv. */
static void
test_argument_order(void **state)
{
	const char *args[] = { "add", "dns-01", "*.x.example",
		"_acme-challenge.x.example", "VALUE with space", NULL };
	char *prog = script("h.sh", "for a in \"$0\" \"$@\"; do echo \"[$a]\"; "
	    "done >\"$T_DIR/args\"\n", 0755, 0), *got, *want;

	(void)state;
	assert_int_equal(hook_run(prog, args, 10000, false), 0);
	got = slurp("args");
	assert_true(asprintf(&want, "[%s]\n[add]\n[dns-01]\n[*.x.example]\n"
	    "[_acme-challenge.x.example]\n[VALUE with space]\n", prog) > 0);
	assert_string_equal(got, want);
	free(want);
	free(got);
	free(prog);
}

/* A hook inherits certo's environment; no CERTO_HOOK_* is added. */
static void
test_environment(void **state)
{
	const char *args[] = { "add", "http-01", "x.example", "tok", "ka", NULL };
	char *prog = script("env.sh", "env >\"$T_DIR/env\"\n", 0755, 0), *got;

	(void)state;
	setenv("T_API_TOKEN", "s3cret", 1);
	assert_int_equal(hook_run(prog, args, 10000, false), 0);
	unsetenv("T_API_TOKEN");
	got = slurp("env");
	assert_non_null(strstr(got, "T_API_TOKEN=s3cret\n"));
	assert_null(strstr(got, "CERTO_HOOK_"));
	assert_null(strstr(got, "CERTO_LIVE_DIR"));
	free(got);
	free(prog);
}

/* The deploy hook: /bin/sh -c COMMAND, data only in the environment,
 * replacing what certo's environment had under the same names. */
static void
test_deploy_environment(void **state)
{
	char name_a[] = "a.example", name_b[] = "b.example";
	char *names[] = { name_a, name_b };
	char *prog = script("deploy.sh", "{ echo \"args:$*\"; env | grep -E "
	    "'^(CERTO_LIVE_DIR|RENEWED_LINEAGE|CERTO_DOMAINS|RENEWED_DOMAINS)='"
	    " | LC_ALL=C sort; } >\"$T_DIR/deploy\"\n", 0755, 0), *cmd, *got;

	(void)state;
	setenv("RENEWED_LINEAGE", "/stale", 1);
	assert_true(asprintf(&cmd, "'%s' --graceful", prog) > 0);
	assert_int_equal(hook_run_deploy(cmd, "/var/lib/certo/live/a.example",
	    names, 2, 10000), 0);
	unsetenv("RENEWED_LINEAGE");
	got = slurp("deploy");
	assert_string_equal(got, "args:--graceful\n"
	    "CERTO_DOMAINS=a.example b.example\n"
	    "CERTO_LIVE_DIR=/var/lib/certo/live/a.example\n"
	    "RENEWED_DOMAINS=a.example b.example\n"
	    "RENEWED_LINEAGE=/var/lib/certo/live/a.example\n");
	free(got);
	free(cmd);
	free(prog);

	/* A failing deploy hook: its label, status and stderr. */
	assert_int_equal(hook_run_deploy("echo 'nginx: test failed' >&2; "
	    "exit 3", "/l", names, 1, 10000), CERTO_EHOOK);
	assert_non_null(strstr(certo_errmsg(), "deploy hook 'echo "));
	assert_non_null(strstr(certo_errmsg(), "failed (exit 3): nginx: test "
	    "failed"));
}

/* Exit status and stderr in the message; the secret argument is not. */
static void
test_failure_message(void **state)
{
	const char *args[] = { "add", "dns-01", "x.example",
		"_acme-challenge.x.example", "SECRETVALUE", NULL };
	char *prog = script("fail.sh", "echo 'zone is locked' >&2\nprintf "
	    "'\\033[31mred\\n' >&2\nexit 3\n", 0755, 0);
	const char *msg;
	int rc;

	(void)state;
	rc = hook_run(prog, args, 10000, false);
	assert_int_equal(rc, CERTO_EHOOK);
	assert_int_equal(certo_exitcode(rc), CERTO_EXIT_HOOK);
	msg = certo_errmsg();
	assert_non_null(strstr(msg, "hook "));
	assert_non_null(strstr(msg, "fail.sh add dns-01 x.example failed "
	    "(exit 3): zone is locked\\x0a\\x1b[31mred"));
	assert_null(strstr(msg, "SECRETVALUE"));
	assert_true(tu_printable(msg));
	free(prog);

	/* A program that cannot be run: exit 127 and why. */
	certo_errclear();
	assert_int_equal(hook_run("/nonexistent/hook", args, 10000, false),
	    CERTO_EHOOK);
	assert_non_null(strstr(certo_errmsg(), "failed (exit 127): cannot run "
	    "/nonexistent/hook: No such file or directory"));

	/* Killed by a signal. */
	certo_errclear();
	prog = script("sig.sh", "kill -9 $$\n", 0755, 0);
	assert_int_equal(hook_run(prog, args, 10000, false), CERTO_EHOOK);
	assert_non_null(strstr(certo_errmsg(), "killed by signal 9"));
	free(prog);
}

/* On timeout the whole group gets SIGTERM: the hook and its child. */
static void
test_timeout_group(void **state)
{
	const char *args[] = { "add", "dns-01", "x.example", "r", "v", NULL };
	char *prog = script("slow.sh", "sleep 30 &\necho $! >\"$T_DIR/bg\"\n"
	    "echo $$ >\"$T_DIR/fg\"\necho 'working on it' >&2\nwait\n", 0755, 0);
	pid_t bg, fg;

	(void)state;
	assert_int_equal(hook_run(prog, args, 700, false), CERTO_EHOOK);
	assert_non_null(strstr(certo_errmsg(), "timed out after 0 s (stopped "
	    "with SIGTERM): working on it"));
	bg = pid_in("bg");
	fg = pid_in("fg");
	assert_true(stopped_soon(fg));
	assert_true(stopped_soon(bg));
	free(prog);
}

/* A hook (and its child) that ignores SIGTERM is killed after the
 * grace period. */
static void
test_timeout_sigkill(void **state)
{
	const char *args[] = { "add", "dns-01", "x.example", "r", "v", NULL };
	char *prog = script("stubborn.sh", "trap '' TERM\nsleep 30 &\n"
	    "echo $! >\"$T_DIR/bg\"\necho 'not going anywhere' >&2\n"
	    "while :; do sleep 1; done\n", 0755, 0);

	(void)state;
	assert_int_equal(hook_run(prog, args, 300, false), CERTO_EHOOK);
	assert_non_null(strstr(certo_errmsg(), "timed out after 0 s (killed "
	    "with SIGKILL after SIGTERM was ignored): not going anywhere"));
	assert_true(stopped_soon(pid_in("bg")));
	free(prog);
}

struct call {
	const char *prog;
	const char *const *args;
};

static int
run_call(void *arg)
{
	struct call *call = arg;

	return hook_run(call->prog, call->args, 20000, false);
}

/* A hook that exits leaving a child holding its stderr: its exit ends
 * the wait (no timeout), the child is stopped, certo warns. */
static void
test_left_child(void **state)
{
	const char *args[] = { "add", "http-01", "x.example", "t", "k", NULL };
	char *prog = script("bg.sh", "sleep 30 &\necho $! >\"$T_DIR/bg\"\n"
	    "exit 0\n", 0755, 0), *err;
	struct call call = { prog, args };
	int rc;

	(void)state;
	err = tu_stderr_of(run_call, &call, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(err, "exited but left processes running in its "
	    "process group; certo stopped them"));
	assert_true(stopped_soon(pid_in("bg")));
	free(err);
	free(prog);
}

/* No descriptor of certo but 0-2; stdin and stdout are /dev/null. */
static void
test_descriptors(void **state)
{
	const char *args[] = { "add", "http-01", "x.example", "t", "k", NULL };
	char *prog = script("fds.sh", "for fd in 200 201 202; do [ -e "
	    "/proc/$$/fd/$fd ] && echo \"open $fd\"; done >\"$T_DIR/fds\"\n"
	    "in=$(readlink /proc/$$/fd/0); out=$(readlink /proc/$$/fd/1)\n"
	    "echo \"$in $out\" >>\"$T_DIR/fds\"\n", 0755, 0);
	char *got;
	int pipefd[2], null = open("/dev/null", O_RDONLY);

	(void)state;
	assert_true(null >= 0);
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(dup2(null, 200), 200);
	assert_int_equal(dup2(pipefd[0], 201), 201);
	assert_int_equal(dup2(pipefd[1], 202), 202);
	assert_int_equal(hook_run(prog, args, 10000, false), 0);
	got = slurp("fds");
	assert_string_equal(got, "/dev/null /dev/null\n");
	free(got);
	close(200);
	close(201);
	close(202);
	close(pipefd[0]);
	close(pipefd[1]);
	close(null);
	free(prog);
}

/* A script without #! runs with /bin/sh, as execvp would; a name
 * without '/' is looked up in PATH. */
static void
test_no_shebang_and_path(void **state)
{
	const char *args[] = { "del", "dns-01", "x.example", "r", "v", NULL };
	char *prog = script("plain-hook", "echo \"ran $1\" >\"$T_DIR/plain\"\n",
	    0755, 1), *got, *path;
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	(void)state;
	assert_int_equal(hook_run(prog, args, 10000, true), 0);
	got = slurp("plain");
	assert_string_equal(got, "ran del\n");
	free(got);
	unlink(prog);
	free(prog);

	prog = script("found-hook", "echo \"found $2\" >\"$T_DIR/found\"\n",
	    0755, 0);
	assert_true(asprintf(&path, "%s:%s", dir, old ? old : "/bin") > 0);
	setenv("PATH", path, 1);
	assert_int_equal(hook_run("found-hook", args, 10000, false), 0);
	if (old != NULL)
		setenv("PATH", old, 1);
	else
		unsetenv("PATH");
	free(old);
	got = slurp("found");
	assert_string_equal(got, "found dns-01\n");
	free(got);
	free(path);
	free(prog);
}

/* --dns-hook/--http-hook PROGRAM made absolute, or refused. */
static void
test_resolve_program(void **state)
{
	char cwd[4096], *prog, *out, *want;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	prog = script("dns.sh", "exit 0\n", 0755, 0);
	free(script("noexec.sh", "exit 0\n", 0644, 0));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(hook_resolve_program("dns-hook", "./dns.sh", &out), 0);
	assert_string_equal(out, prog);
	free(out);
	assert_int_equal(hook_resolve_program("dns-hook", "sh", &out), 0);
	assert_true(out[0] == '/');
	free(out);

	assert_int_equal(hook_resolve_program("dns-hook", "./noexec.sh", &out),
	    CERTO_EUSAGE);
	assert_null(out);
	assert_true(asprintf(&want, "--dns-hook ./noexec.sh: not executable "
	    "(%s/noexec.sh)", dir) > 0);
	assert_non_null(strstr(certo_errmsg(), want));
	free(want);
	certo_errclear();
	assert_int_equal(mkdir("adir", 0755), 0);
	assert_int_equal(hook_resolve_program("http-hook", "./adir", &out),
	    CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "not a regular file"));
	certo_errclear();
	assert_int_equal(hook_resolve_program("http-hook", "./missing.sh", &out),
	    CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "--http-hook ./missing.sh: No "
	    "such file or directory"));
	certo_errclear();
	assert_int_equal(hook_resolve_program("http-hook",
	    "certo-no-such-hook", &out), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "--http-hook certo-no-such-hook: "
	    "no such program in PATH"));
	certo_errclear();
	assert_int_equal(hook_resolve_program("dns-hook", "dns.sh", &out),
	    CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "not found in PATH; for the one "
	    "in this directory, give ./dns.sh"));
	certo_errclear();
	assert_int_equal(hook_resolve_program("dns-hook", "", &out),
	    CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "--dns-hook needs a program"));
	assert_int_equal(chdir(cwd), 0);
	free(prog);
}

/* --deploy-hook COMMAND: a relative first word made absolute (quoted
 * when needed); command names and shell syntax left alone. */
static void
test_resolve_command(void **state)
{
	char cwd[4096], *sub, *out, *want;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	free(script("reload.sh", "exit 0\n", 0755, 0));
	sub = tu_path(dir, "my hooks");
	assert_int_equal(mkdir(sub, 0755), 0);
	free(script("my hooks/it's.sh", "exit 0\n", 0755, 0));
	assert_int_equal(chdir(dir), 0);

	assert_int_equal(hook_resolve_command("deploy-hook", "./reload.sh "
	    "--graceful", &out), 0);
	assert_true(asprintf(&want, "%s/reload.sh --graceful", dir) > 0);
	assert_string_equal(out, want);
	free(want);
	free(out);
	assert_int_equal(hook_resolve_command("deploy-hook", "'my hooks/it's.sh'"
	    " x", &out), 0);
	/* A quoted first word with a quote inside: the shell's business. */
	assert_string_equal(out, "'my hooks/it's.sh' x");
	free(out);
	assert_int_equal(hook_resolve_command("deploy-hook", "\"my hooks/"
	    "it's.sh\"", &out), 0);
	assert_true(asprintf(&want, "'%s/my hooks/it'\\''s.sh'", dir) > 0);
	assert_string_equal(out, want);
	free(want);
	free(out);
	assert_int_equal(hook_resolve_command("deploy-hook", "sh -c 'exit 0'",
	    &out), 0);
	assert_string_equal(out, "sh -c 'exit 0'");
	free(out);
	assert_int_equal(hook_resolve_command("deploy-hook", "$HOME/x.sh",
	    &out), 0);
	assert_string_equal(out, "$HOME/x.sh");
	free(out);

	assert_int_equal(hook_resolve_command("deploy-hook", "./missing.sh",
	    &out), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "--deploy-hook ./missing.sh: No "
	    "such file"));
	certo_errclear();
	assert_int_equal(hook_resolve_command("deploy-hook", "reload.sh",
	    &out), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "reload.sh is not in PATH; for "
	    "the one in this directory, give ./reload.sh"));
	certo_errclear();
	assert_int_equal(hook_resolve_command("deploy-hook", "  ", &out),
	    CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "--deploy-hook needs a command"));
	assert_int_equal(chdir(cwd), 0);
	free(sub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_argument_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deploy_environment, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failure_message, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout_group, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout_sigkill, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_left_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_descriptors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_shebang_and_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resolve_program, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resolve_command, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
