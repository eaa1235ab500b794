/*
 * The seccomp and Landlock sandboxes of certo's network process
 * (client/netproc_sandbox.c) and of certo-responder (after it dropped
 * to --user): one allow-list of system calls (I/O on descriptors,
 * sockets, memory, threads, time, signals to itself), every other call
 * trapping into a handler that reports which call it was and exits 4.
 * What differs is passed in struct sandbox_opts.
 *
 * Sanitizer builds (CERTO_SANITIZER): LeakSanitizer's check at exit
 * reads /proc/self and ptrace-attaches to the threads from a helper.
 * There, system calls made from the sanitizer runtimes' own code
 * (libasan, libubsan) are allowed by their instruction pointer, and
 * Landlock lets /proc be read.  Everything certo and its libraries call
 * is filtered exactly as in other builds.
 */
#include "sandbox.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errors.h"

/* Where the SIGSYS handler reports: the call's number (4 bytes, little
 * endian) to report_fd, else a line to stderr. */
static int death_fd = -1;
static char who[64];
/* $CERTO_PRIVSEP_DEBUG: the handler also prints the call's stack. */
static bool debug;

static void
on_sigsys(int sig, siginfo_t *si, void *uc)
{
	unsigned char b[4];
	unsigned nr = (unsigned)si->si_syscall;

	(void)sig;
	(void)uc;
	if (debug) {
		void *frames[32];

		backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
	}
	b[0] = (unsigned char)nr;
	b[1] = (unsigned char)(nr >> 8);
	b[2] = (unsigned char)(nr >> 16);
	b[3] = (unsigned char)(nr >> 24);
	if (death_fd >= 0) {
		if (write(death_fd, b, sizeof(b)) < 0)
			_exit(4);
	} else {
		char line[160];
		int n = snprintf(line, sizeof(line), "%s: internal error: "
		    "forbidden system call %s (#%u)\n", who,
		    sandbox_syscall_word((int)nr), nr);

		if (n > 0 && write(2, line, (size_t)n) < 0)
			_exit(4);
	}
	_exit(4); /* nothing else: no flush, no atexit */
}

/* What a sandboxed process may call; everything else traps. */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(close),
	SCMP_SYS(close_range), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(lseek), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(fcntl),
	SCMP_SYS(ioctl), SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3),
	SCMP_SYS(pipe), SCMP_SYS(pipe2), SCMP_SYS(mmap), SCMP_SYS(munmap),
	SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(brk), SCMP_SYS(mincore), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(socket), SCMP_SYS(socketpair), SCMP_SYS(connect),
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(bind),
	SCMP_SYS(listen), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendmmsg),
	SCMP_SYS(recvmmsg), SCMP_SYS(shutdown), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
	SCMP_SYS(pselect6), SCMP_SYS(epoll_create), SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2), SCMP_SYS(eventfd), SCMP_SYS(eventfd2),
	SCMP_SYS(futex), SCMP_SYS(set_robust_list),
	SCMP_SYS(get_robust_list), SCMP_SYS(rseq), SCMP_SYS(clone),
	SCMP_SYS(clone3), SCMP_SYS(set_tid_address), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(gettid), SCMP_SYS(getpid),
	SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getresuid),
	SCMP_SYS(getresgid), SCMP_SYS(getgroups), SCMP_SYS(tgkill),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getrandom),
	SCMP_SYS(uname), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(prlimit64), SCMP_SYS(getrlimit), SCMP_SYS(sysinfo),
	SCMP_SYS(restart_syscall), SCMP_SYS(membarrier), SCMP_SYS(getcwd),
	SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime), SCMP_SYS(arch_prctl),
	SCMP_SYS(getrusage), SCMP_SYS(times),
};

#ifdef CERTO_SANITIZER
/* The executable segments of the sanitizer runtimes. */
struct san_ranges {
	uint64_t lo[8], hi[8];
	size_t n;
};

static int
find_san(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct san_ranges *r = arg;

	(void)size;
	if (info->dlpi_name == NULL || (strstr(info->dlpi_name, "libasan") ==
	    NULL && strstr(info->dlpi_name, "libubsan") == NULL &&
	    strstr(info->dlpi_name, "liblsan") == NULL))
		return 0;
	for (int i = 0; i < info->dlpi_phnum && r->n < 8; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD &&
		    (info->dlpi_phdr[i].p_flags & PF_X)) {
			r->lo[r->n] = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
			r->hi[r->n] = r->lo[r->n] + info->dlpi_phdr[i].p_memsz;
			r->n++;
		}
	return 0;
}

/*
 * Load ctx's program after a prefix that allows every system call made
 * from the sanitizer runtimes' code (instruction pointer in one of
 * their executable segments; both halves compared).
 */
static int
load_with_prefix(scmp_filter_ctx ctx)
{
	struct san_ranges r = { .n = 0 };
	struct sock_filter pre[8 * 8 + 2], *prog = NULL;
	struct sock_fprog fp;
	size_t np = 0, nbody;
	int mfd = -1, rc = -1;
	ssize_t len;

	dl_iterate_phdr(find_san, &r);
	if (r.n == 0 || r.hi[0] >> 32 != r.lo[0] >> 32)
		return seccomp_load(ctx);
	if ((mfd = memfd_create("seccomp", MFD_CLOEXEC)) < 0 ||
	    seccomp_export_bpf(ctx, mfd) != 0 ||
	    (len = lseek(mfd, 0, SEEK_END)) <= 0 || lseek(mfd, 0, SEEK_SET) != 0)
		goto out;
	nbody = (size_t)len / sizeof(struct sock_filter);
	for (size_t i = 0; i < r.n; i++) {
		uint32_t hi = (uint32_t)(r.lo[i] >> 32);
		uint32_t lo = (uint32_t)r.lo[i], end = (uint32_t)r.hi[i];

		if (r.hi[i] >> 32 != hi)
			continue;
		/* A = ip high; != hi: next range (skip 6). */
		pre[np++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, instruction_pointer) + 4);
		pre[np++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, hi, 0, 4);
		pre[np++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, instruction_pointer));
		pre[np++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE |
		    BPF_K, lo, 0, 2);
		pre[np++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE |
		    BPF_K, end, 1, 0);
		pre[np++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    SECCOMP_RET_ALLOW);
	}
	if ((prog = calloc(np + nbody, sizeof(*prog))) == NULL)
		goto out;
	memcpy(prog, pre, np * sizeof(*prog));
	if (read(mfd, prog + np, nbody * sizeof(*prog)) != len)
		goto out;
	fp.len = (unsigned short)(np + nbody);
	fp.filter = prog;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &fp) == 0)
		rc = 0;
out:
	free(prog);
	if (mfd >= 0)
		close(mfd);
	return rc;
}
#endif

/* The seccomp filter: the allow-list, everything else traps. */
static int
enter_seccomp(const struct sandbox_opts *opts)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (allowed[i] >= 0 &&
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0) != 0)
			goto out;
	/* Signals only to this process's own threads. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)) != 0)
		goto out;
	/* Opening files to read, not to write or create (resolver). */
	if (opts->read_opens && (seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE |
	    O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE, O_RDONLY)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
	    O_APPEND | O_TMPFILE, O_RDONLY)) != 0))
		goto out;
	for (size_t i = 0; i < opts->nextra; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, opts->extra[i], 0) != 0)
			goto out;
#ifdef CERTO_SANITIZER
	rc = load_with_prefix(ctx);
#else
	rc = seccomp_load(ctx);
#endif
out:
	seccomp_release(ctx);
	return rc;
}

/* The threads of this process ("Threads:" of /proc/self/status), 0
 * when unknown. */
static long
count_threads(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	long n = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Threads:", 8) == 0) {
			n = strtol(line + 8, NULL, 10);
			break;
		}
	if (f != NULL)
		fclose(f);
	return n;
}

/*
 * Landlock: a ruleset handling every file system access of ABI 1 with
 * no rule (no file can be opened, executed or made), but every file
 * readable with read_opens, /proc readable in sanitizer builds.  It
 * restricts the calling thread and the threads it starts afterwards,
 * not the others: with another thread already running, nothing is
 * done and -1 returned.  A kernel without Landlock: nothing (seccomp
 * alone), 0.
 */
static int
enter_landlock(const struct sandbox_opts *opts)
{
	struct landlock_ruleset_attr attr = { 0 };
	int fd;

	attr.handled_access_fs = (1ULL << 13) - 1; /* ABI 1: all of them */
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) < 0)
		return 0;
	if (count_threads() > 1) {
		close(fd);
		return -1;
	}
	{
		struct landlock_path_beneath_attr pb = { 0 };
		const char *dir = opts->read_opens ? "/" : NULL;

#ifdef CERTO_SANITIZER
		if (dir == NULL)
			dir = "/proc";
#endif
		pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_READ_DIR;
		if (dir != NULL && (pb.parent_fd = open(dir, O_PATH |
		    O_CLOEXEC)) >= 0) {
			syscall(SYS_landlock_add_rule, fd,
			    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
			close(pb.parent_fd);
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
		syscall(SYS_landlock_restrict_self, fd, 0);
	close(fd);
	return 0;
}

const char *
sandbox_syscall_word(int nr)
{
	switch (nr) {
#ifdef __NR_open
	case __NR_open:
#endif
#ifdef __NR_creat
	case __NR_creat:
#endif
	case __NR_openat:
#ifdef __NR_openat2
	case __NR_openat2:
#endif
		return "open";
	case __NR_execve:
	case __NR_execveat:
		return "execve";
	default:
		return "other";
	}
}

#ifdef CERTO_SANITIZER
/* The sanitizers' symbolizer (public interface of sanitizer_common). */
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out,
    size_t len) __attribute__((weak));
#endif

int
sandbox_enter(const struct sandbox_opts *opts)
{
	struct sigaction sa;

#ifdef CERTO_SANITIZER
	/*
	 * A sanitizer report symbolizes its stack with the C library's
	 * open() on the binaries (libbacktrace): do it once now, so that
	 * their debug information is read before the filter.
	 */
	if (__sanitizer_symbolize_pc != NULL) {
		char buf[256];

		__sanitizer_symbolize_pc(__builtin_return_address(0), "%p %F %L",
		    buf, sizeof(buf));
	}
#endif

	death_fd = opts->report_fd;
	snprintf(who, sizeof(who), "%s", opts->who ? opts->who : "certo");
	if ((debug = getenv("CERTO_PRIVSEP_DEBUG") != NULL)) {
		void *frame;

		backtrace(&frame, 1); /* loads libgcc_s now, not in the handler */
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		return certo_fail(CERTO_EIO, "sigaction: %s", strerror(errno));
	if (enter_landlock(opts) != 0)
		return certo_fail(CERTO_EIO, "internal error: %ld threads "
		    "before the sandbox (Landlock would restrict only one)",
		    count_threads());
	if (enter_seccomp(opts) != 0)
		return certo_fail(CERTO_EIO, "%s: cannot enter the seccomp "
		    "filter", who);
	return 0;
}
