/* Running hook programs: own process group, bounded in time, no leaks. */
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
#include <sys/stat.h>
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

/* One hook call. */
struct call {
	const char *label;      /* how messages name it (sanitised) */
	const char *program;    /* execvp'd */
	char **argv;
	char **envp;            /* the child's environment */
	long timeout_ms;
	bool cleanup;
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

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

/*
 * The child: its own process group, default signal mask, stdin from
 * /dev/null, stdout to our stderr with -v (else /dev/null), stderr into
 * errfd, no other descriptor (the CA connection, sockets, key files stay
 * with certo), then exec.  Never returns.
 */
static void
child(const struct call *c, int errfd, pid_t parent)
{
	sigset_t none;
	int devnull;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* An add/deploy must not outlive a certo killed with SIGKILL. */
	if (!c->cleanup) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
	}
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0 && devnull != 0)
		dup2(devnull, 0);
	if (log_get_level() >= LOG_VERBOSE)
		dup2(2, 1);
	else if (devnull >= 0 && devnull != 1)
		dup2(devnull, 1);
	dup2(errfd, 2);
	close_from_3();
	execvpe(c->program, c->argv, c->envp);
	dprintf(2, "cannot run %s: %s\n", c->program, strerror(errno));
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
	DIR *d;
	struct dirent *e;
	bool alive = false;

	if ((d = opendir("/proc")) == NULL)
		return kill(-pgid, 0) == 0;
	while (!alive && (e = readdir(d)) != NULL) {
		char path[300], buf[512], state, *p;
		long ppid, pgrp;
		ssize_t n;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
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
	closedir(d);
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
	long until = now_ms() + grace_ms;

	if (!group_alive(pgid))
		return false;
	kill(-pgid, SIGTERM);
	while (group_alive(pgid) && now_ms() < until)
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

/* Read what is there (non-blocking) into errbuf; false at EOF/error. */
static bool
take_output(int fd, char *errbuf, size_t cap, size_t *errlen)
{
	char tmp[512];
	ssize_t r;

	for (int i = 0; i < 64; i++) {
		if ((r = read(fd, tmp, sizeof(tmp))) < 0)
			return errno == EINTR || errno == EAGAIN;
		if (r == 0)
			return false;
		if (*errlen < cap - 1) {
			size_t k = (size_t)r;
			if (k > cap - 1 - *errlen)
				k = cap - 1 - *errlen;
			memcpy(errbuf + *errlen, tmp, k);
			*errlen += k;
		}
	}
	return true;
}

static int
run_locked(const struct call *c)
{
	char errbuf[HOOK_MAX_STDERR], shown[HOOK_MAX_STDERR + 64];
	size_t errlen = 0;
	int pipefd[2], pidfd = -1, status = 0, rc = 0;
	long t0 = now_ms(), deadline = t0 + c->timeout_ms, kill_at = 0;
	bool eof = false, exited = false, killed = false, left = false;
	enum { RUNNING, TIMED_OUT, INTERRUPTED } why = RUNNING;
	pid_t pid, parent = getpid();

	log_debug("running %s ...", c->label);
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return certo_fail(CERTO_EHOOK, "%s: pipe: %s", c->label,
		    strerror(errno));
	pipefd[0] = fd_above_stdio(pipefd[0]);
	pipefd[1] = fd_above_stdio(pipefd[1]);
	if (pipefd[0] < 0 || pipefd[1] < 0 || (pid = fork()) < 0) {
		rc = certo_fail(CERTO_EHOOK, "%s: cannot start: %s", c->label,
		    strerror(errno));
		if (pipefd[0] >= 0)
			close(pipefd[0]);
		if (pipefd[1] >= 0)
			close(pipefd[1]);
		return rc;
	}
	if (pid == 0)
		child(c, pipefd[1], parent);
	/* Also here: a kill before the child ran setpgid must not miss. */
	setpgid(pid, pid);
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, fcntl(pipefd[0], F_GETFL) | O_NONBLOCK);
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	/*
	 * Until the hook itself exits: collect its stderr, and on timeout
	 * (or a signal to us, except for a cleanup call) SIGTERM its group,
	 * SIGKILL after the grace period.  A background child that keeps
	 * the pipe open does not hold us: the hook's exit ends the wait.
	 */
	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		long now = now_ms(), wait;

		if (has_exited(pid)) {
			exited = true;
			break;
		}
		if (why == RUNNING) {
			if (now >= deadline)
				why = TIMED_OUT;
			else if (!c->cleanup && sig_pending())
				why = INTERRUPTED;
			if (why != RUNNING) {
				kill(-pid, SIGTERM);
				kill_at = now + HOOK_KILL_GRACE_MS;
			}
		} else if (now >= kill_at) {
			kill(-pid, SIGKILL);
			killed = true;
			break;
		}
		wait = (why == RUNNING ? deadline : kill_at) - now;
		if (wait > 1000)
			wait = 1000;            /* sig_pending() */
		if (pidfd < 0 && wait > 50)
			wait = 50;              /* no pidfd: look again soon */
		if (wait < 1)
			wait = 1;
		if (!eof)
			pfd[n++] = (struct pollfd){ pipefd[0], POLLIN, 0 };
		if (pidfd >= 0)
			pfd[n++] = (struct pollfd){ pidfd, POLLIN, 0 };
		if (poll(n ? pfd : NULL, n, (int)wait) > 0 && !eof &&
		    pfd[0].revents != 0)
			eof = !take_output(pipefd[0], errbuf, sizeof(errbuf),
			    &errlen);
	}
	/* What it wrote before exiting is in the pipe already. */
	if (!eof)
		take_output(pipefd[0], errbuf, sizeof(errbuf), &errlen);
	close(pipefd[0]);
	if (pidfd >= 0)
		close(pidfd);
	/* Whatever the hook left running in its group is stopped too. */
	if (exited && !killed) {
		long grace = why == RUNNING ? HOOK_KILL_GRACE_MS :
		    kill_at - now_ms();
		left = stop_group(pid, grace > 0 ? grace : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	while (errlen > 0 && (errbuf[errlen - 1] == '\n' ||
	    errbuf[errlen - 1] == '\r'))
		errlen--;
	log_sanitize(shown, sizeof(shown), errbuf, errlen);
	if (why == TIMED_OUT)
		rc = certo_fail(CERTO_EHOOK, "%s timed out after %ld s (%s)%s%s",
		    c->label, c->timeout_ms / 1000, killed ? "killed with SIGKILL "
		    "after SIGTERM was ignored" : "stopped with SIGTERM",
		    errlen ? ": " : "", shown);
	else if (why == INTERRUPTED)
		rc = certo_fail(CERTO_EINTR, "interrupted while %s ran",
		    c->label);
	else if (WIFSIGNALED(status))
		rc = certo_fail(CERTO_EHOOK, "%s killed by signal %d%s%s",
		    c->label, WTERMSIG(status), errlen ? ": " : "", shown);
	else if (WEXITSTATUS(status) != 0)
		rc = certo_fail(CERTO_EHOOK, "%s failed (exit %d)%s%s", c->label,
		    WEXITSTATUS(status), errlen ? ": " : "", shown);
	else if (errlen > 0)
		log_debug("%s said: %s", c->label, shown);
	if (left && why == RUNNING)
		log_warn("%s exited but left processes running in its process "
		    "group; certo stopped them (a program that must keep "
		    "running should start its own session: setsid)", c->label);
	log_debug("%s took %ld ms", c->label, now_ms() - t0);
	return rc;
}

static int
run(const struct call *c)
{
	int rc;

	pthread_mutex_lock(&hook_lock);
	rc = run_locked(c);
	pthread_mutex_unlock(&hook_lock);
	return rc;
}

int
hook_run(const char *program, const char *const *args, long timeout_ms,
    bool cleanup)
{
	struct call c = { 0 };
	char *argv[16], what[512], label[600];
	size_t n = 0;

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
	log_sanitize(label + 5, sizeof(label) - 5, what, (size_t)-1);
	c.label = label;
	c.program = program;
	c.argv = argv;
	c.envp = environ;
	c.timeout_ms = timeout_ms;
	c.cleanup = cleanup;
	return run(&c);
}

int
hook_run_deploy(const char *command, const char *live_dir,
    char *const *names, size_t nnames, long timeout_ms)
{
	static const char *const vars[] = { "CERTO_LIVE_DIR", "RENEWED_LINEAGE",
		"CERTO_DOMAINS", "RENEWED_DOMAINS" };
	struct call c = { 0 };
	struct certo_buf domains;
	char *argv[4], **envp = NULL, label[300];
	size_t n = 0, nenv = 0;
	int rc = CERTO_ENOMEM;

	buf_init(&domains, 64 * 1024);
	for (size_t i = 0; i < nnames; i++)
		if (buf_printf(&domains, "%s%s", i ? " " : "", names[i]) != 0)
			goto out;
	if (buf_adds(&domains, "") != 0)
		goto out;
	/* certo's environment without our names, then ours. */
	while (environ != NULL && environ[nenv] != NULL)
		nenv++;
	if ((envp = calloc(nenv + 5, sizeof(*envp))) == NULL)
		goto out;
	for (size_t i = 0; i < nenv; i++) {
		bool ours = false;
		for (size_t k = 0; k < 4; k++) {
			size_t l = strlen(vars[k]);
			if (strncmp(environ[i], vars[k], l) == 0 &&
			    environ[i][l] == '=')
				ours = true;
		}
		if (!ours)
			envp[n++] = environ[i];
	}
	nenv = n;       /* envp[nenv..] are ours to free */
	for (size_t k = 0; k < 4; k++)
		if (asprintf(&envp[n++], "%s=%s", vars[k], k < 2 ? live_dir :
		    domains.data) < 0) {
			envp[--n] = NULL;
			goto out;
		}
	argv[0] = (char *)(uintptr_t)"sh";
	argv[1] = (char *)(uintptr_t)"-c";
	argv[2] = (char *)(uintptr_t)command;
	argv[3] = NULL;
	snprintf(label, sizeof(label), "deploy hook '");
	log_sanitize(label + 13, sizeof(label) - 15, command, (size_t)-1);
	strcat(label, "'");
	c.label = label;
	c.program = "/bin/sh";
	c.argv = argv;
	c.envp = envp;
	c.timeout_ms = timeout_ms;
	rc = run(&c);
out:
	if (envp != NULL)
		for (size_t i = nenv; envp[i] != NULL; i++)
			free(envp[i]);
	free(envp);
	buf_free(&domains);
	return rc;
}

/* arg made absolute against the working directory (symlinks kept). */
static char *
absolute(const char *arg)
{
	char cwd[4096], *out;

	if (arg[0] == '/')
		return strdup(arg);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	while (arg[0] == '.' && arg[1] == '/')
		for (arg += 2; *arg == '/'; arg++)
			;
	if (asprintf(&out, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", arg) < 0)
		return NULL;
	return out;
}

/* 0 if path is an executable regular file, else an errno value. */
static int
executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return EISDIR;
	if (access(path, X_OK) != 0)
		return errno;
	return 0;
}

/* name (no '/') in PATH: the first executable match, malloc'd, or NULL. */
static char *
in_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	char *cand = NULL;

	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		/* An empty entry is the working directory. */
		if (asprintf(&cand, "%.*s%s%s", (int)(end - p), p,
		    end > p ? "/" : "", name) < 0)
			return NULL;
		if (executable(cand) == 0) {
			char *abs = absolute(cand);
			free(cand);
			return abs;
		}
		free(cand);
		if (*end == '\0')
			return NULL;
	}
}

static int
not_runnable(const char *opt, const char *arg, const char *path, int err)
{
	char shown[300], where[300];
	bool other = strcmp(path, arg) != 0;

	log_sanitize(shown, sizeof(shown), arg, (size_t)-1);
	log_sanitize(where, sizeof(where), path, (size_t)-1);
	return certo_fail(CERTO_EUSAGE, "--%s %s: %s%s%s%s", opt, shown,
	    err == EISDIR ? "not a regular file" : err == EACCES ?
	    "not executable" : strerror(err), other ? " (" : "",
	    other ? where : "", other ? ")" : "");
}

int
hook_resolve_program(const char *opt, const char *arg, char **out)
{
	char shown[300];
	int err;

	*out = NULL;
	if (*arg == '\0')
		return certo_fail(CERTO_EUSAGE, "--%s needs a program", opt);
	if (strchr(arg, '/') == NULL) {
		if ((*out = in_path(arg)) != NULL)
			return 0;
		log_sanitize(shown, sizeof(shown), arg, (size_t)-1);
		if (executable(arg) == 0)
			return certo_fail(CERTO_EUSAGE, "--%s %s: not found in PATH;"
			    " for the one in this directory, give ./%s", opt, shown,
			    shown);
		return certo_fail(CERTO_EUSAGE, "--%s %s: no such program in "
		    "PATH", opt, shown);
	}
	if ((*out = absolute(arg)) == NULL)
		return certo_fail(CERTO_EUSAGE, "--%s: cannot make %s absolute: "
		    "%s", opt, arg, strerror(errno));
	if ((err = executable(*out)) != 0) {
		int rc = not_runnable(opt, arg, *out, err);
		free(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

/* Characters a shell word may hold without quoting. */
static bool
plain_word(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("_./+,:@%-", *s) == NULL)
			return false;
	return true;
}

int
hook_resolve_command(const char *opt, const char *arg, char **out)
{
	const char *p = arg, *end;
	struct certo_buf b;
	char *word = NULL, *abs = NULL, *found, shown[300];
	int rc = 0, err;

	*out = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	/* A quoted first word ('/srv/my hooks/reload.sh'), if plain inside. */
	if ((*p == '\'' || *p == '"') && (end = strchr(p + 1, *p)) != NULL &&
	    (*p == '\'' || strcspn(p + 1, "\\$`") >= (size_t)(end - p - 1)) &&
	    strchr(" \t\n;&|<>()", end[1]) != NULL) {
		if ((word = strndup(p + 1, (size_t)(end - p - 1))) == NULL)
			return CERTO_ENOMEM;
		end++;
		if (strchr(word, '/') != NULL)
			goto path;
		free(word);
		word = NULL;
	}
	end = p + strcspn(p, " \t\n;&|<>()");
	if (end == p)
		return certo_fail(CERTO_EUSAGE, "--%s needs a command", opt);
	if ((word = strndup(p, (size_t)(end - p))) == NULL)
		return CERTO_ENOMEM;
	/*
	 * A command name is looked up in PATH by the shell (at renew time
	 * too); a file of that name in this directory only is a mistake.
	 */
	if (strchr(word, '/') == NULL) {
		if (strpbrk(word, "'\"\\$`=") == NULL) {
			found = in_path(word);
			if (found == NULL && executable(word) == 0)
				rc = certo_fail(CERTO_EUSAGE, "--%s: %s is not in PATH; "
				    "for the one in this directory, give ./%s", opt,
				    log_sanitize(shown, sizeof(shown), word, (size_t)-1),
				    shown);
			free(found);
		}
		if (rc == 0 && (*out = strdup(arg)) == NULL)
			rc = CERTO_ENOMEM;
		goto out;
	}
	/* Quoting, expansions: the shell's business. */
	if (strpbrk(word, "'\"\\$`*?[~=#{}!") != NULL) {
		if ((*out = strdup(arg)) == NULL)
			rc = CERTO_ENOMEM;
		goto out;
	}
path:
	if ((abs = absolute(word)) == NULL) {
		rc = certo_fail(CERTO_EUSAGE, "--%s: cannot make %s absolute: %s",
		    opt, word, strerror(errno));
		goto out;
	}
	if ((err = executable(abs)) != 0) {
		rc = not_runnable(opt, word, abs, err);
		goto out;
	}
	/* The absolute path, quoted when needed, then the rest as given. */
	buf_init(&b, 64 * 1024);
	if (plain_word(abs))
		rc = buf_adds(&b, abs);
	else {
		rc = buf_adds(&b, "'");
		for (const char *s = abs; rc == 0 && *s; s++)
			rc = *s == '\'' ? buf_adds(&b, "'\\''") : buf_add(&b, s, 1);
		if (rc == 0)
			rc = buf_adds(&b, "'");
	}
	if (rc == 0)
		rc = buf_adds(&b, end);
	if (rc == 0)
		*out = buf_steal(&b);
	buf_free(&b);
out:
	free(word);
	free(abs);
	return rc;
}
