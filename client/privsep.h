/*
 * Privilege separation (docs/design.md, "Processes"): certo runs as two
 * processes.  The key and state process (the one the user started)
 * holds the keys, the state directory and the hooks; it signs, writes
 * and decides.  The network process, forked from it at start, does
 * every network exchange: HTTPS to the CA (libcurl), DNS (c-ares), the
 * self-checks and the in-process responders.  It runs as --user when
 * started as root, under a seccomp filter that traps open and execve,
 * with no file system access (Landlock where the kernel has it), and
 * holds no key and no descriptor of the state directory.
 *
 * They talk over socketpairs in the messages of privsep_msg.h.  Each
 * thread of the key process that talks to the network gets a channel of
 * its own (a socketpair whose other end is passed over the control
 * socket), served by a thread of the network process, so renew's
 * parallel orders stay parallel.
 */
#ifndef CERTO_PRIVSEP_H
#define CERTO_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>

#include "dns01_propagation.h"
#include "solver.h"

/* The message types (privsep_msg.h), requests and their replies. */
enum privsep_type {
	PS_REPLY = 1,          /* rc, message, then the request's fields */
	PS_HTTP,               /* one transfer (http.h struct http_xfer) */
	PS_TRUST,              /* the trust bundle of the channel's handle */
	PS_TCP_PROBE,          /* why a TCP connection fails */
	PS_DNS_WAIT,           /* dns01_wait() */
	PS_DNS_PROGRESS,       /* a round of a PS_DNS_WAIT (no reply) */
	PS_SA_START,           /* the standalone solver: start */
	PS_SA_PUBLISH,
	PS_SA_SELFCHECK,
	PS_SA_WITHDRAW,
	PS_SA_STOP,
	PS_KV_OPEN,            /* kv_open() of the store (kv.h transport) */
	PS_KV_COMMAND,         /* one store command, its reply's first slice */
	PS_KV_MORE,            /* the next slice of that reply */
	PS_TYPE_MAX
};

/* How the network process is set up. */
struct privsep_opts {
	const char *user;      /* --user when started as root; NULL: certo,
	                        * else nobody */
};

/*
 * Fork the network process and send every later HTTP transfer, DNS-01
 * wait, TCP probe and standalone responder through it.  Call once,
 * before any thread starts and before the libraries (libcurl, GnuTLS,
 * c-ares) are set up: each process sets up its own, in parallel.
 * Returns 0 in the key process; the network process never returns from
 * here (it exits with its status).  CERTO_EPRIVSEP when it cannot start.
 */
int privsep_start(const struct privsep_opts *opts);
/* Is a network process serving this one? */
bool privsep_active(void);
/*
 * End the network process and reap it.  rc is the run's result so far;
 * returns it, or CERTO_EPRIVSEP when the network process died of a
 * forbidden system call or a signal (the message says which).
 */
int privsep_stop(int rc);

/* The network process's counterparts of solver_http01.c's probe and
 * dns01_wait() (same contracts). */
void privsep_tcp_probe(const char *host, unsigned short port, char *out,
    size_t len);
int privsep_dns01_wait(const struct dns01_record *recs, size_t nrecs,
    const struct dns01_opts *opts);
/* solver_standalone_start() in the network process; out's ops forward
 * to it. */
int privsep_standalone_start(const struct solver_standalone_opts *opts,
    struct solver *out);

/* The network process (netproc.c): serve the control socket ctl. */
void netproc_main(int ctl, int death, const struct privsep_opts *opts)
	__attribute__((noreturn));

#endif
