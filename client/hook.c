/*
 * Running hook programs: own process group, bounded in time, no leaks.
 * A call is spawned (fork + execve, everything the child needs made
 * before fork), collected (stderr, timeout, leftovers in its group,
 * reaped) and described (certo's error).  Paths at the command line:
 * hook_path.c.
 */
#include "hook.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "errors.h"
#include "log.h"
#include "sig.h"

/* All hooks, of every thread, one at a time (docs/hooks.md). */
static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * One hook call, with everything the child needs made before fork: the
 * child only calls async-signal-safe functions (no allocation between
 * fork and exec).
 */
struct hook_call {
	const char *label;      /* how messages name it (sanitised) */
	const char *path;       /* what execve runs */
	char **argv;
	char **sh_argv;         /* /bin/sh path args...: a script without #! */
	char **envp;            /* the child's environment */
	long timeout_ms;
	bool cleanup;           /* a del: signals to certo do not cut it */
	bool verbose;           /* its stdout to our stderr */
	char exec_failed[600];  /* "cannot run PROGRAM: " */
};

/* A started hook. */
struct hook_proc {
	pid_t pid;              /* also its process group */
	int errfd;              /* read end of its stderr */
	int pidfd;              /* readable once it exits; -1 without */
};

/* How a hook call ended. */
struct hook_outcome {
	char err[HOOK_MAX_STDERR];      /* its stderr, capped */
	size_t errlen;
	int status;                     /* waitpid's */
	enum { HOOK_RAN, HOOK_TIMED_OUT, HOOK_INTERRUPTED } why;
	bool killed;                    /* SIGKILL after SIGTERM was ignored */
	bool left;                      /* it left processes in its group */
};

/* Move fd to a number >= 3 (close-on-exec), so dup2 onto 0-2 is safe. */
static int
fd_above_stdio(int fd)
{
	int nfd;

	if (fd >= 3)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

/* Close every descriptor from 3 up (close_range, else one by one). */
static void
close_from_3(void)
{
	long max;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		close(fd);
}

/* write() all of s to fd, as far as it goes (async-signal-safe). */
static void
write_str(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len > 0 && (n = write(fd, s, len)) > 0) {
		s += n;
		len -= (size_t)n;
	}
}

/*
 * The child: its own process group, default signal mask, stdin from
 * /dev/null, stdout to our stderr with -v (else /dev/null), stderr into
 * errfd, no other descriptor (the CA connection, sockets, key files stay
 * with certo), then exec; a file without #! runs with /bin/sh, as
 * execvp does.  Only async-signal-safe calls.  Never returns.
 */
static void
child(const struct hook_call *call, int errfd, pid_t parent)
{
	sigset_t none;
	int devnull, err;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* An add/deploy must not outlive a certo killed with SIGKILL. */
	if (!call->cleanup) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
	}
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0 && devnull != 0)
		dup2(devnull, 0);
	if (call->verbose)
		dup2(2, 1);
	else if (devnull >= 0 && devnull != 1)
		dup2(devnull, 1);
	dup2(errfd, 2);
	close_from_3();
	execve(call->path, call->argv, call->envp);
	err = errno;
	if (err == ENOEXEC && call->sh_argv != NULL) {
		execve("/bin/sh", call->sh_argv, call->envp);
		err = errno;
	}
	write_str(2, call->exec_failed);
	write_str(2, strerrordesc_np(err) ? strerrordesc_np(err) : "error");
	write_str(2, "\n");
	_exit(127);
}

/*
 * True while a process of group pgid other than a zombie exists (our
 * hook, once exited, is a zombie until reaped: the group id cannot be
 * reused meanwhile).  Without /proc, asks kill(), which counts zombies.
 */
static bool
group_alive(pid_t pgid)
{
	DIR *proc;
	struct dirent *ent;
	bool alive = false;

	if ((proc = opendir("/proc")) == NULL)
		return kill(-pgid, 0) == 0;
	while (!alive && (ent = readdir(proc)) != NULL) {
		char path[300], buf[512], state, *p;
		long ppid, pgrp;
		ssize_t n;
		int fd;

		if (!isdigit((unsigned char)ent->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", ent->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) state ppid pgrp ...": comm may hold anything. */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3)
			continue;
		if (pgrp == (long)pgid && state != 'Z' && state != 'X')
			alive = true;
	}
	closedir(proc);
	return alive;
}

/*
 * Stop what is left of group pgid: SIGTERM, then SIGKILL once grace_ms
 * have passed.  Returns true if anything was left.  Signals to certo do
 * not cut this short.
 */
static bool
stop_group(pid_t pgid, long grace_ms)
{
	long until = sig_now_ms() + grace_ms;

	if (!group_alive(pgid))
		return false;
	kill(-pgid, SIGTERM);
	while (group_alive(pgid) && sig_now_ms() < until)
		poll(NULL, 0, 20);
	if (group_alive(pgid))
		kill(-pgid, SIGKILL);
	return true;
}

/* True once pid has exited (it stays a zombie: WNOWAIT). */
static bool
has_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == pid;
}

/* Read what is there (non-blocking) into out->err; false at EOF/error. */
static bool
take_output(int fd, struct hook_outcome *out)
{
	size_t cap = sizeof(out->err);
	char tmp[512];
	ssize_t r;

	for (int i = 0; i < 64; i++) {
		if ((r = read(fd, tmp, sizeof(tmp))) < 0)
			return errno == EINTR || errno == EAGAIN;
		if (r == 0)
			return false;
		if (out->errlen < cap - 1) {
			size_t k = (size_t)r;
			if (k > cap - 1 - out->errlen)
				k = cap - 1 - out->errlen;
			memcpy(out->err + out->errlen, tmp, k);
			out->errlen += k;
		}
	}
	return true;
}

/*
 * Start the call: a pipe for its stderr, fork, the child execs.  0, or
 * CERTO_EHOOK naming the call and why it could not start.
 */
static int
spawn(const struct hook_call *call, struct hook_proc *proc)
{
	int pipefd[2], rc;
	pid_t parent = getpid();

	proc->pidfd = -1;
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return certo_fail(CERTO_EHOOK, "%s: pipe: %s", call->label,
		    strerror(errno));
	pipefd[0] = fd_above_stdio(pipefd[0]);
	pipefd[1] = fd_above_stdio(pipefd[1]);
	if (pipefd[0] < 0 || pipefd[1] < 0 || (proc->pid = fork()) < 0) {
		rc = certo_fail(CERTO_EHOOK, "%s: cannot start: %s", call->label,
		    strerror(errno));
		if (pipefd[0] >= 0)
			close(pipefd[0]);
		if (pipefd[1] >= 0)
			close(pipefd[1]);
		return rc;
	}
	if (proc->pid == 0)
		child(call, pipefd[1], parent);
	/* Also here: a kill before the child ran setpgid must not miss. */
	setpgid(proc->pid, proc->pid);
	close(pipefd[1]);
	proc->errfd = pipefd[0];
	fcntl(proc->errfd, F_SETFL, fcntl(proc->errfd, F_GETFL) | O_NONBLOCK);
#ifdef SYS_pidfd_open
	proc->pidfd = (int)syscall(SYS_pidfd_open, proc->pid, 0);
#endif
	return 0;
}

/*
 * Until the hook itself exits: collect its stderr, and on timeout (or a
 * signal to us, except for a cleanup call) SIGTERM its group, SIGKILL
 * after the grace period.  A background child that keeps the pipe open
 * does not hold us: the hook's exit ends the wait.  Returns true if it
 * exited (false: killed with SIGKILL); *kill_at is when SIGKILL was due.
 */
static bool
wait_exit(const struct hook_call *call, const struct hook_proc *proc,
    struct hook_outcome *out, long *kill_at)
{
	long deadline = sig_now_ms() + call->timeout_ms, now, wait;
	bool eof = false;
	struct pollfd pfd[2];
	nfds_t n;

	while (!has_exited(proc->pid)) {
		now = sig_now_ms();
		if (out->why == HOOK_RAN) {
			if (now >= deadline)
				out->why = HOOK_TIMED_OUT;
			else if (!call->cleanup && sig_pending())
				out->why = HOOK_INTERRUPTED;
			if (out->why != HOOK_RAN) {
				kill(-proc->pid, SIGTERM);
				*kill_at = now + HOOK_KILL_GRACE_MS;
			}
		} else if (now >= *kill_at) {
			kill(-proc->pid, SIGKILL);
			out->killed = true;
			return false;
		}
		wait = (out->why == HOOK_RAN ? deadline : *kill_at) - now;
		if (wait > 1000)
			wait = 1000;            /* sig_pending() */
		if (proc->pidfd < 0 && wait > 50)
			wait = 50;              /* no pidfd: look again soon */
		n = 0;
		if (!eof)
			pfd[n++] = (struct pollfd){ proc->errfd, POLLIN, 0 };
		if (proc->pidfd >= 0)
			pfd[n++] = (struct pollfd){ proc->pidfd, POLLIN, 0 };
		if (poll(n ? pfd : NULL, n, wait < 1 ? 1 : (int)wait) > 0 &&
		    !eof && pfd[0].revents != 0)
			eof = !take_output(proc->errfd, out);
	}
	return true;
}

/*
 * Wait for the started call (wait_exit), take the rest of its stderr,
 * stop what it left in its group, reap it.  Fills out; closes proc's
 * descriptors.
 */
static void
collect(const struct hook_call *call, struct hook_proc *proc,
    struct hook_outcome *out)
{
	long kill_at = 0, grace;
	bool exited = wait_exit(call, proc, out, &kill_at);

	/* What it wrote before exiting is in the pipe already. */
	take_output(proc->errfd, out);
	close(proc->errfd);
	if (proc->pidfd >= 0)
		close(proc->pidfd);
	/* Whatever the hook left running in its group is stopped too. */
	if (exited) {
		grace = out->why == HOOK_RAN ? HOOK_KILL_GRACE_MS :
		    kill_at - sig_now_ms();
		out->left = stop_group(proc->pid, grace > 0 ? grace : 0);
	}
	while (waitpid(proc->pid, &out->status, 0) < 0 && errno == EINTR)
		;
	while (out->errlen > 0 && (out->err[out->errlen - 1] == '\n' ||
	    out->err[out->errlen - 1] == '\r'))
		out->errlen--;
}

/*
 * How the call ended, as certo's result: 0, CERTO_EHOOK (timeout,
 * signal, exit status, with its stderr quoted) or CERTO_EINTR.
 */
static int
describe(const struct hook_call *call, const struct hook_outcome *out)
{
	char shown[HOOK_MAX_STDERR + 64];
	const char *sep = out->errlen ? ": " : "";
	int rc = 0;

	log_sanitize(shown, sizeof(shown), out->err, out->errlen);
	if (out->why == HOOK_TIMED_OUT)
		rc = certo_fail(CERTO_EHOOK, "%s timed out after %ld s (%s)%s%s",
		    call->label, call->timeout_ms / 1000, out->killed ? "killed "
		    "with SIGKILL after SIGTERM was ignored" : "stopped with "
		    "SIGTERM", sep, shown);
	else if (out->why == HOOK_INTERRUPTED)
		rc = certo_fail(CERTO_EINTR, "interrupted while %s ran",
		    call->label);
	else if (WIFSIGNALED(out->status))
		rc = certo_fail(CERTO_EHOOK, "%s killed by signal %d%s%s",
		    call->label, WTERMSIG(out->status), sep, shown);
	else if (WEXITSTATUS(out->status) != 0)
		rc = certo_fail(CERTO_EHOOK, "%s failed (exit %d)%s%s",
		    call->label, WEXITSTATUS(out->status), sep, shown);
	else if (out->errlen > 0)
		log_debug("%s said: %s", call->label, shown);
	if (out->left && out->why == HOOK_RAN)
		log_warn("%s exited but left processes running in its process "
		    "group; certo stopped them (a program that must keep "
		    "running should start its own session: setsid)",
		    call->label);
	return rc;
}

/* Run one call: spawn, collect, describe; all hooks one at a time. */
static int
run(struct hook_call *call)
{
	struct hook_outcome out;
	struct hook_proc proc = { .pid = -1, .errfd = -1, .pidfd = -1 };
	long t0 = sig_now_ms();
	int rc;

	memset(&out, 0, sizeof(out));
	call->verbose = log_get_level() >= LOG_VERBOSE;
	pthread_mutex_lock(&hook_lock);
	log_debug("running %s ...", call->label);
	if ((rc = spawn(call, &proc)) == 0) {
		collect(call, &proc, &out);
		rc = describe(call, &out);
	}
	pthread_mutex_unlock(&hook_lock);
	log_debug("%s took %ld ms", call->label, sig_now_ms() - t0);
	return rc;
}

/*
 * Run a dns/http hook (hook.h): program and args as argv, certo's own
 * environment.
 */
int
hook_run(const char *program, const char *const *args, long timeout_ms,
    bool cleanup)
{
	struct hook_call call = { 0 };
	char *argv[16], *sh_argv[17], *found = NULL, what[512], label[600];
	size_t n = 0;
	int rc;

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
	snprintf(label, sizeof(label), "hook ");
	log_str(label + 5, sizeof(label) - 5, what);
	/* The PATH lookup of execvp, made here: the child allocates nothing. */
	if (strchr(program, '/') == NULL && *program != '\0')
		found = hook_in_path(program);
	call.path = found != NULL ? found : program;
	sh_argv[0] = (char *)(uintptr_t)"/bin/sh";
	sh_argv[1] = (char *)(uintptr_t)call.path;
	memcpy(sh_argv + 2, argv + 1, n * sizeof(*argv));
	call.label = label;
	call.argv = argv;
	call.sh_argv = sh_argv;
	call.envp = environ;
	call.timeout_ms = timeout_ms;
	call.cleanup = cleanup;
	snprintf(call.exec_failed, sizeof(call.exec_failed), "cannot run %s: ",
	    program);
	rc = run(&call);
	free(found);
	return rc;
}

/* Free env_with()'s array. */
static void
env_free(char **envp, size_t nkept)
{
	if (envp == NULL)
		return;
	for (size_t i = nkept; envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

/*
 * certo's environment without the variables of vars (n of them), then
 * vars[k]=values[k]: a NULL-ended array whose first *nkept entries are
 * borrowed from environ and the rest malloc'd.  NULL when out of memory.
 */
static char **
env_with(const char *const *vars, const char *const *values, size_t n,
    size_t *nkept)
{
	size_t nenv = 0, used = 0, len;
	char **envp;
	bool ours;

	while (environ != NULL && environ[nenv] != NULL)
		nenv++;
	if ((envp = calloc(nenv + n + 1, sizeof(*envp))) == NULL)
		return NULL;
	for (size_t i = 0; i < nenv; i++) {
		ours = false;
		for (size_t k = 0; k < n && !ours; k++) {
			len = strlen(vars[k]);
			ours = strncmp(environ[i], vars[k], len) == 0 &&
			    environ[i][len] == '=';
		}
		if (!ours)
			envp[used++] = environ[i];
	}
	*nkept = used;
	for (size_t k = 0; k < n; k++)
		if (asprintf(&envp[used++], "%s=%s", vars[k], values[k]) < 0) {
			envp[--used] = NULL;
			env_free(envp, *nkept);
			return NULL;
		}
	return envp;
}

/*
 * Run the deploy hook (hook.h): /bin/sh -c COMMAND, the live directory
 * and the names only in its environment.
 */
int
hook_run_deploy(const char *command, const char *live_dir,
    char *const *names, size_t nnames, long timeout_ms)
{
	static const char *const vars[] = { "CERTO_LIVE_DIR", "RENEWED_LINEAGE",
		"CERTO_DOMAINS", "RENEWED_DOMAINS" };
	struct hook_call call = { 0 };
	struct certo_buf domains;
	const char *values[4];
	char *argv[4], **envp = NULL, label[300];
	size_t nkept = 0;
	int rc;

	buf_init(&domains, 64 * 1024);
	for (size_t i = 0; i < nnames; i++)
		if (buf_printf(&domains, "%s%s", i ? " " : "", names[i]) != 0)
			goto oom;
	if (buf_adds(&domains, "") != 0)
		goto oom;
	values[0] = values[1] = live_dir;
	values[2] = values[3] = domains.data;
	/* The child's environment, made before fork. */
	if ((envp = env_with(vars, values, 4, &nkept)) == NULL)
		goto oom;
	argv[0] = (char *)(uintptr_t)"sh";
	argv[1] = (char *)(uintptr_t)"-c";
	argv[2] = (char *)(uintptr_t)command;
	argv[3] = NULL;
	snprintf(label, sizeof(label), "deploy hook '");
	log_str(label + 13, sizeof(label) - 15, command);
	strcat(label, "'");
	call.label = label;
	call.path = "/bin/sh";
	call.argv = argv;
	call.envp = envp;
	call.timeout_ms = timeout_ms;
	snprintf(call.exec_failed, sizeof(call.exec_failed), "cannot run "
	    "/bin/sh: ");
	rc = run(&call);
out:
	env_free(envp, nkept);
	buf_free(&domains);
	return rc;
oom:
	rc = certo_fail(CERTO_ENOMEM, "deploy hook: out of memory");
	goto out;
}
