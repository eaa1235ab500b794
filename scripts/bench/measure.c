/*
 * measure.c: run one command and measure it, for the benchmarks in
 * scripts/bench/ (compiled by lib.sh's bench_tools into build-bench/; not
 * part of the build).
 *
 * usage: measure OUTFILE LIMIT_S CMD [ARG...]
 *
 * Runs CMD in its own process group and writes one line to OUTFILE:
 *
 *   wall_s peak_rss_kib user_s sys_s rc pss_peak_kib pd_peak_kib
 *   rss_exit_kib pss_exit_kib pd_exit_kib samples
 *
 * wall_s      CLOCK_MONOTONIC from fork to reaping CMD.
 * peak_rss    VmHWM of CMD's process read at its exit (the kernel's own
 *             peak: every page it ever had resident at once), or wait4's
 *             ru_maxrss when the exit could not be caught.
 * user/sys    wait4's rusage of CMD (and the children it reaped).
 * rc          CMD's exit status, 128+N when killed by signal N, 124 when
 *             LIMIT_S ran out (then TERM to the group, KILL 5 s later).
 * pss/pd peak the largest Pss and Private_Dirty of /proc/PID/smaps_rollup
 *             over the samples: one every $BENCH_MEM_SAMPLE_MS ms (default
 *             10; 0: only at exit) and one at exit. Sampling can miss a
 *             spike shorter than the interval; the kernel keeps no peak of
 *             either figure.
 * *_exit      smaps_rollup at CMD's exit: CMD is traced (PTRACE_TRACEME,
 *             PTRACE_O_TRACEEXIT and _TRACEEXEC: no system call is traced), so it
 *             stops in exit_group() after atexit handlers and before its
 *             memory is torn down; read, then let go. 0 when not caught.
 * samples     how many smaps_rollup readings were taken.
 *
 * Memory is that of CMD's own process, not of the processes it starts
 * (hooks): the figure a user's `ps` shows for it. PSS divides each shared
 * page by the processes mapping it, so it depends on what else runs.
 * Signals TERM, INT and HUP sent to measure are passed to CMD's group.
 * Exit status: rc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct mem {
	long rss, pss, pd;
};

struct run {
	pid_t pid;
	int traced;            /* options set at the exec stop */
	struct mem peak;       /* largest pss / pd seen */
	struct mem at_exit;    /* sample in the exit stop */
	long hwm;              /* VmHWM in the exit stop */
	int samples;
	int rc;
	struct rusage ru;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Field "Name:   123 kB" of a /proc file; -1 if absent. */
static long
proc_kib(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == ':')
			return strtol(p + n + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

/* Read /proc/PID/WHAT into buf; 0 on success. */
static int
proc_read(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	size_t got;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	got = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[got] = '\0';
	return got > 0 ? 0 : -1;
}

/* One smaps_rollup reading; at exit also keeps it and VmHWM. */
static void
sample(struct run *r, int at_exit)
{
	char buf[4096];
	struct mem m;

	if (proc_read(r->pid, "smaps_rollup", buf, sizeof(buf)) != 0)
		return;
	m.rss = proc_kib(buf, "Rss");
	m.pss = proc_kib(buf, "Pss");
	m.pd = proc_kib(buf, "Private_Dirty");
	if (m.rss <= 0)
		return; /* a zombie or a kernel thread: nothing mapped */
	r->samples++;
	if (m.pss > r->peak.pss)
		r->peak.pss = m.pss;
	if (m.pd > r->peak.pd)
		r->peak.pd = m.pd;
	if (at_exit) {
		r->at_exit = m;
		if (proc_read(r->pid, "status", buf, sizeof(buf)) == 0)
			r->hwm = proc_kib(buf, "VmHWM");
	}
}

/* Reap or restart CMD after SIGCHLD; returns 1 once it has ended. */
static int
on_child(struct run *r)
{
	int st, sig;
	pid_t w;

	while ((w = wait4(r->pid, &st, WNOHANG | __WALL, &r->ru)) > 0) {
		if (WIFEXITED(st)) {
			r->rc = WEXITSTATUS(st);
			return 1;
		}
		if (WIFSIGNALED(st)) {
			r->rc = 128 + WTERMSIG(st);
			return 1;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		if (sig == SIGTRAP && (st >> 16) == PTRACE_EVENT_EXIT) {
			sample(r, 1);
			sig = 0;
		} else if (sig == SIGTRAP && (st >> 16) == PTRACE_EVENT_EXEC) {
			sig = 0; /* CMD ran another program (a wrapper) */
		} else if (sig == SIGTRAP && !r->traced) {
			/* The stop after execve(): from now on, stop at exit. */
			ptrace(PTRACE_SETOPTIONS, r->pid, 0,
			    (void *)(long)(PTRACE_O_TRACEEXIT |
			    PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL));
			r->traced = 1;
			sig = 0;
		}
		/* Any other stop is a signal for CMD: deliver it. */
		ptrace(PTRACE_CONT, r->pid, 0, (void *)(long)sig);
	}
	return 0;
}

static void
start(struct run *r, char **argv, const sigset_t *old)
{
	if ((r->pid = fork()) < 0) {
		perror("measure: fork");
		exit(125);
	}
	if (r->pid > 0) {
		setpgid(r->pid, r->pid); /* both sides: no race with kill(-pid) */
		return;
	}
	setpgid(0, 0);
	sigprocmask(SIG_SETMASK, old, NULL);
	/* Not traced (no ptrace here): only the sampling is lost. */
	(void)ptrace(PTRACE_TRACEME, 0, 0, 0);
	execvp(argv[0], argv);
	fprintf(stderr, "measure: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int
main(int argc, char **argv)
{
	struct run r;
	sigset_t set, old;
	siginfo_t si;
	struct timespec ts;
	double t0, t_end, limit, deadline, kill_at = 0, next, wait_s;
	const char *env = getenv("BENCH_MEM_SAMPLE_MS");
	double every = (env != NULL ? atof(env) : 10) / 1000;
	int done = 0, timed_out = 0, sig;
	FILE *out;

	if (argc < 4 || (limit = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: measure OUTFILE LIMIT_S CMD [ARG...]\n");
		return 125;
	}
	memset(&r, 0, sizeof(r));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	t0 = now_s();
	start(&r, argv + 3, &old);
	deadline = t0 + limit;
	next = every > 0 ? t0 + every : 0;
	while (!done) {
		double t = now_s();

		wait_s = (kill_at > 0 ? kill_at : deadline) - t;
		if (next > 0 && next - t < wait_s)
			wait_s = next - t;
		if (wait_s < 0)
			wait_s = 0;
		ts.tv_sec = (time_t)wait_s;
		ts.tv_nsec = (long)((wait_s - ts.tv_sec) * 1e9);
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGCHLD) {
			done = on_child(&r);
			continue;
		}
		if (sig > 0) { /* TERM, INT, HUP for us: for CMD */
			kill(-r.pid, sig);
			if (kill_at == 0)
				kill_at = now_s() + 5;
			continue;
		}
		t = now_s();
		if (kill_at > 0 && t >= kill_at) {
			kill(-r.pid, SIGKILL);
			kill(r.pid, SIGKILL);
			kill_at = t + 5;
		} else if (kill_at == 0 && t >= deadline) {
			timed_out = 1;
			kill(-r.pid, SIGTERM);
			kill_at = t + 5;
		}
		if (next > 0 && t >= next) {
			sample(&r, 0);
			next = t + every;
		}
	}
	t_end = now_s();
	if (timed_out)
		r.rc = 124;
	if (r.hwm <= 0)
		r.hwm = r.ru.ru_maxrss;
	if ((out = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 125;
	}
	fprintf(out, "%.4f %ld %.3f %.3f %d %ld %ld %ld %ld %ld %d\n",
	    t_end - t0, r.hwm,
	    r.ru.ru_utime.tv_sec + r.ru.ru_utime.tv_usec / 1e6,
	    r.ru.ru_stime.tv_sec + r.ru.ru_stime.tv_usec / 1e6,
	    r.rc, r.peak.pss, r.peak.pd, r.at_exit.rss, r.at_exit.pss,
	    r.at_exit.pd, r.samples);
	if (fclose(out) != 0) {
		perror(argv[1]);
		return 125;
	}
	return r.rc;
}
