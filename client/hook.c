/* Running hook programs without a shell. */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "errors.h"
#include "log.h"
#include "sig.h"

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Run program with args; env (NULL, or NAME, VALUE pairs ending with
 * NULL) is added to the child's environment.
 */
static int
run(const char *program, const char *const *args, const char *const *env,
    long timeout_ms, bool cleanup)
{
	char *argv[16], errbuf[HOOK_MAX_STDERR], shown[HOOK_MAX_STDERR + 64];
	char what[512];
	size_t n = 0, errlen = 0;
	int pipefd[2], devnull, status = 0, rc = 0;
	long deadline = now_ms() + timeout_ms;
	bool timed_out = false;
	pid_t pid;
	ssize_t r;

	argv[n++] = (char *)(uintptr_t)program;
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = (char *)(uintptr_t)args[i];
	argv[n] = NULL;
	/* Name the call without the last (secret-bearing) argument. */
	snprintf(what, sizeof(what), "%s", program);
	for (size_t i = 1; i + 1 < n && i < 4; i++) {
		size_t w = strlen(what);
		snprintf(what + w, sizeof(what) - w, " %s", argv[i]);
	}
	log_debug("running hook: %s ...", what);
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return certo_fail(CERTO_EHOOK, "hook %s: pipe: %s", what,
		    strerror(errno));
	if ((pid = fork()) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return certo_fail(CERTO_EHOOK, "hook %s: fork: %s", what,
		    strerror(errno));
	}
	if (pid == 0) {
		/* Child: stdin from /dev/null, stdout to our stderr (or
		 * nowhere), stderr into the pipe. */
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0)
			dup2(devnull, 0);
		if (log_get_level() >= LOG_VERBOSE)
			dup2(2, 1);
		else if (devnull >= 0)
			dup2(devnull, 1);
		dup2(pipefd[1], 2);
		signal(SIGPIPE, SIG_DFL);
		/*
		 * A removal must survive the Ctrl-C that caused it: a
		 * terminal (or timeout(1)) signals the whole process group,
		 * possibly again after we forked this child.
		 */
		if (cleanup)
			setpgid(0, 0);
		for (size_t i = 0; env != NULL && env[i] != NULL &&
		    env[i + 1] != NULL; i += 2)
			setenv(env[i], env[i + 1], 1);
		execvp(program, argv);
		dprintf(2, "cannot run %s: %s\n", program, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = { pipefd[0], POLLIN, 0 };
		long left = deadline - now_ms();
		char tmp[512];

		if (left <= 0 || (!cleanup && sig_pending())) {
			timed_out = left <= 0;
			kill(pid, SIGTERM);
			break;
		}
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		if ((r = read(pipefd[0], tmp, sizeof(tmp))) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		if (errlen < sizeof(errbuf) - 1) {
			size_t k = (size_t)r;
			if (k > sizeof(errbuf) - 1 - errlen)
				k = sizeof(errbuf) - 1 - errlen;
			memcpy(errbuf + errlen, tmp, k);
			errlen += k;
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	while (errlen > 0 && (errbuf[errlen - 1] == '\n' ||
	    errbuf[errlen - 1] == '\r'))
		errlen--;
	log_sanitize(shown, sizeof(shown), errbuf, errlen);
	if (timed_out)
		rc = certo_fail(CERTO_EHOOK, "hook %s timed out after %ld s%s%s",
		    what, timeout_ms / 1000, errlen ? ": " : "", shown);
	else if (WIFSIGNALED(status))
		rc = certo_fail(CERTO_EHOOK, "hook %s killed by signal %d%s%s",
		    what, WTERMSIG(status), errlen ? ": " : "", shown);
	else if (WEXITSTATUS(status) != 0)
		rc = certo_fail(CERTO_EHOOK, "hook %s failed (exit %d)%s%s", what,
		    WEXITSTATUS(status), errlen ? ": " : "", shown);
	else if (errlen > 0)
		log_debug("hook %s said: %s", what, shown);
	return rc;
}

int
hook_run(const char *program, const char *const *args, long timeout_ms,
    bool cleanup)
{
	return run(program, args, NULL, timeout_ms, cleanup);
}

int
hook_run_deploy(const char *program, const char *live_dir,
    const char *domains)
{
	const char *args[1] = { NULL };
	const char *env[] = { "CERTO_LIVE_DIR", live_dir, "CERTO_DOMAINS",
		domains, NULL };

	return run(program, args, env, HOOK_TIMEOUT_MS, false);
}
