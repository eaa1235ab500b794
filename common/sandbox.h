/*
 * The seccomp allow-list and Landlock ruleset shared by certo's network
 * process and certo-responder (sandbox.c).
 */
#ifndef CERTO_SANDBOX_H
#define CERTO_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* What differs between the sandboxed processes. */
struct sandbox_opts {
	const char *who;       /* "certo-responder": its messages */
	int report_fd;         /* the trapped call's number goes here (the
	                        * key process reads it); -1: a line on
	                        * stderr */
	bool read_opens;       /* opening files read-only is allowed (the
	                        * responder's resolver); else every open
	                        * traps */
	const int *extra;      /* more system calls allowed (SCMP_SYS) */
	size_t nextra;
};

/*
 * Enter the sandbox, for good: the SIGSYS handler, Landlock where the
 * kernel has it, then the seccomp filter (for every thread: TSYNC).
 * Landlock restricts only the calling thread and the threads started
 * after, so call it while the process has one thread: with more (and
 * Landlock), nothing is entered and CERTO_EIO returned with a message.
 * Returns 0 or CERTO_EIO.
 */
int sandbox_enter(const struct sandbox_opts *opts);
/* "open" (open, openat, openat2, creat), "execve" or "other". */
const char *sandbox_syscall_word(int nr);

#endif
