/*
 * certo-responder: a long-running HTTP-01 and TLS-ALPN-01 responder fed
 * through the control socket (ctl.h, docs/responder-protocol.md).  It
 * binds everything as root if need be, drops to --user and enters its
 * sandbox, then starts the servers' threads (all of them in the sandbox)
 * and only waits for signals, serves /healthz and expires tokens.  With
 * --user, a helper process forked before anything else stays root to
 * remove the control socket at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <grp.h>
#include <linux/capability.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "store_tokens.h"
#include "daemon_cli.h"
#include "errors.h"
#include "http01.h"
#include "listen.h"
#include "log.h"
#include "sandbox.h"
#include "tlsalpn01.h"
#include "tokens.h"

#define HEALTH_MAX_CLIENTS 16
#define HEALTH_MAX_REQUEST 1024
#define HEALTH_TIMEOUT_S 5
#define EXPIRE_EVERY_S 60
/* Descriptors besides connections: listeners, epoll and event fds,
 * pipes, the signalfd, stdio, resolver lookups, GnuTLS, libmicrohttpd. */
#define FD_RESERVE 64
#define FD_SOFT_MAX 65536       /* the soft limit is raised at most to this */
#define MIN_CONNS 16
#define PROXY_THREADS 4         /* HTTP threads with --http-proxy */
#define HELPER_WAIT_MS 2000

struct health_client {
	int fd;
	time_t start;
	size_t len;
	char buf[HEALTH_MAX_REQUEST];
};

struct health {
	int lfd;                     /* -1: no --health */
	struct health_client client[HEALTH_MAX_CLIENTS];
	size_t nclients;
	time_t paused_until;         /* out of descriptors: accept again then */
};

static void
print_version(void)
{
	printf("certo-responder %s\n", CERTO_VERSION);
	printf("  GnuTLS %s, libmicrohttpd %s\n", gnutls_check_version(NULL),
	    MHD_get_version());
}

/*
 * Switch to uid/gid for good (acme-client-portable's dropprivs):
 * supplementary groups first, then gid, then uid, and check that none
 * of the real, effective or saved ids is left behind.
 */
static int
drop_privileges(const char *user, uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(1, &gid) != 0)
		return certo_fail(CERTO_EIO, "setgroups for --user %s: %s", user,
		    strerror(errno));
	if (setresgid(gid, gid, gid) != 0)
		return certo_fail(CERTO_EIO, "setresgid(%ld) for --user %s: %s",
		    (long)gid, user, strerror(errno));
	if (setresuid(uid, uid, uid) != 0)
		return certo_fail(CERTO_EIO, "setresuid(%ld) for --user %s: %s",
		    (long)uid, user, strerror(errno));
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid || getuid() != uid || geteuid() != uid ||
	    getgid() != gid || getegid() != gid)
		return certo_fail(CERTO_EIO, "privileges were not dropped to "
		    "--user %s", user);
	if (getuid() == 0 || geteuid() == 0 || setuid(0) == 0 ||
	    seteuid(0) == 0)
		return certo_fail(CERTO_EIO, "still root after switching to "
		    "--user %s; refusing to run", user);
	return 0;
}

/* ----------------------------------------------------------- /healthz */

static void
health_drop(struct health *health, size_t i)
{
	close(health->client[i].fd);
	health->client[i] = health->client[--health->nclients];
}

/* Answer once the request head is complete: 200 for /healthz, else 404. */
static bool
health_read(struct health_client *client)
{
	static const char ok[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain"
	    "\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
	static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 0"
	    "\r\nConnection: close\r\n\r\n";
	static const char big[] = "HTTP/1.0 431 Request Header Fields Too "
	    "Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	const char *ans = nf;
	size_t n;
	ssize_t r;

	r = recv(client->fd, client->buf + client->len,
	    sizeof(client->buf) - 1 - client->len, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (r <= 0)
		return false;
	client->len += (size_t)r;
	client->buf[client->len] = '\0';
	if (memchr(client->buf, '\0', client->len) == NULL &&
	    strstr(client->buf, "\r\n\r\n") == NULL &&
	    strstr(client->buf, "\n\n") == NULL) {
		if (client->len < sizeof(client->buf) - 1)
			return true;
		ans = big;
	} else if (strncmp(client->buf, "GET /healthz ", 13) == 0 ||
	    strncmp(client->buf, "HEAD /healthz ", 14) == 0)
		ans = ok;
	n = strlen(ans);
	/* HEAD: the same head without the "ok\n" body. */
	if (ans == ok && client->buf[0] == 'H')
		n -= 3;
	if (send(client->fd, ans, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("healthz: %s", strerror(errno));
	return false;
}

static void
health_accept(struct health *health, time_t now)
{
	int fd;

	for (;;) {
		if ((fd = accept4(health->lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* The listener stays readable: do not poll it a while. */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				health->paused_until = now + 1;
			return;
		}
		if (health->nclients == HEALTH_MAX_CLIENTS) {
			close(fd);
			continue;
		}
		health->client[health->nclients].fd = fd;
		health->client[health->nclients].start = now;
		health->client[health->nclients].len = 0;
		health->nclients++;
	}
}

static void
health_close(struct health *health)
{
	while (health->nclients > 0)
		health_drop(health, health->nclients - 1);
	if (health->lfd >= 0)
		close(health->lfd);
	health->lfd = -1;
}

/* --------------------------------------------------------- descriptors */

/*
 * Raise the soft descriptor limit to the hard one (at most FD_SOFT_MAX)
 * and fit --max-conns into it: every connection the servers may hold,
 * plus the control socket's and /healthz's clients, plus FD_RESERVE, so
 * that no flood can make accept() fail with EMFILE.
 */
static int
fit_descriptors(struct daemon_cli *cli)
{
	struct rlimit rl, raised;
	rlim_t want, fixed, per, fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("getrlimit: %s; assuming 1024 descriptors",
		    strerror(errno));
		rl.rlim_cur = rl.rlim_max = 1024;
	}
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FD_SOFT_MAX ?
	    FD_SOFT_MAX : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		raised = rl;
		raised.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl = raised;
		else
			log_warn("cannot raise the descriptor limit to %lu: %s",
			    (unsigned long)want, strerror(errno));
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_SOFT_MAX)
		rl.rlim_cur = FD_SOFT_MAX;
	fixed = FD_RESERVE + CTL_MAX_CLIENTS + (cli->health ?
	    HEALTH_MAX_CLIENTS : 0) + (cli->http_proxy ? PROXY_THREADS : 0);
	per = (cli->http_port ? 1 : 0) + (cli->tls_port ? (cli->tls_proxy ?
	    2 : 1) : 0);
	if (rl.rlim_cur < fixed + per * MIN_CONNS)
		return certo_fail(CERTO_ECONFIG, "the descriptor limit %lu is too "
		    "low for %d connections per port; raise it (ulimit -n, "
		    "LimitNOFILE=) to at least %lu", (unsigned long)rl.rlim_cur,
		    MIN_CONNS, (unsigned long)(fixed + per * MIN_CONNS));
	fit = (rl.rlim_cur - fixed) / per;
	if (cli->max_conns > fit) {
		log_warn("descriptor limit %lu: --max-conns lowered from %u to "
		    "%lu", (unsigned long)rl.rlim_cur, cli->max_conns,
		    (unsigned long)fit);
		cli->max_conns = (unsigned)fit;
	}
	log_info("descriptor limit %lu: at most %u connections per port, %u "
	    "per client address%s", (unsigned long)rl.rlim_cur, cli->max_conns,
	    cli->max_per_ip, cli->max_per_ip ? "" : " (no cap)");
	return 0;
}

/* -------------------------------------------------- socket removal helper */
/*
 * After the switch to --user the daemon can no longer remove its socket
 * from a directory that belongs to root (/run/certo).  So, before any
 * thread or socket exists, it forks a helper that stays root with
 * nothing but CAP_DAC_OVERRIDE and CAP_FOWNER: the helper learns the
 * socket's device and inode over a pipe, waits for the pipe to close
 * (the daemon exited, whichever way) and removes the file if it is
 * still that socket.
 */
struct sock_id {
	dev_t dev;
	ino_t ino;
};

/* Keep only CAP_DAC_OVERRIDE and CAP_FOWNER (best effort). */
static void
helper_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	const unsigned keep = 1u << CAP_DAC_OVERRIDE | 1u << CAP_FOWNER;

	for (int cap = 0; cap < 64; cap++)
		if (cap >= 32 || !(keep & 1u << cap))
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capget, &hdr, data) != 0)
		return;
	data[0].permitted &= keep;
	data[0].effective = data[0].permitted;
	data[0].inheritable = 0;
	data[1].permitted = data[1].effective = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) != 0)
		dprintf(STDERR_FILENO, "certo-responder: helper: capset: %s\n",
		    strerror(errno));
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void __attribute__((noreturn))
helper_main(const char *path, int rfd)
{
	struct sock_id id;
	struct stat st;
	char buf[64];
	size_t got = 0;
	ssize_t n;

	/* Only the daemon's exit ends us; systemd's SIGTERM is for it. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (rfd > 3)
		close_range(3, (unsigned)rfd - 1, 0);
	close_range((unsigned)rfd + 1, ~0U, 0);
	prctl(PR_SET_NAME, "certo-resp-rm", 0, 0, 0);
	helper_caps();
	while (got < sizeof(id)) {
		n = read(rfd, (char *)&id + got, sizeof(id) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);   /* the daemon never got that far */
		got += (size_t)n;
	}
	while ((n = read(rfd, buf, sizeof(buf))) != 0)
		if (n < 0 && errno != EINTR)
			break;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == id.dev && st.st_ino == id.ino && unlink(path) != 0)
		dprintf(STDERR_FILENO, "certo-responder: cannot remove the "
		    "control socket '%s': %s\n", path, strerror(errno));
	_exit(0);
}

/* Fork the helper; *wfd is the daemon's end of the pipe. */
static int
helper_start(const char *path, pid_t *pid, int *wfd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		return certo_fail(CERTO_EIO, "pipe: %s", strerror(errno));
	fflush(NULL);
	if ((*pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return certo_fail(CERTO_EIO, "fork: %s", strerror(errno));
	}
	if (*pid == 0) {
		close(p[1]);
		helper_main(path, p[0]);
	}
	close(p[0]);
	*wfd = p[1];
	return 0;
}

/* Tell the helper which file to remove; it does once wfd closes. */
static void
helper_arm(int wfd, struct ctl_server *ctl)
{
	struct sock_id id;

	memset(&id, 0, sizeof(id));
	ctl_server_disown(ctl, &id.dev, &id.ino);
	if (write(wfd, &id, sizeof(id)) != (ssize_t)sizeof(id))
		log_warn("the helper process is gone: the control socket will "
		    "not be removed at exit");
}

/* Close our end and give the helper a moment to remove the socket. */
static void
helper_finish(pid_t pid, int wfd)
{
	if (wfd >= 0)
		close(wfd);
	if (pid <= 0)
		return;
	for (int i = 0; i < HELPER_WAIT_MS / 10; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		usleep(10000);
	}
	log_warn("the helper process (pid %ld) has not finished removing the "
	    "control socket", (long)pid);
}

/* ------------------------------------------------------------- servers */

/* Everything main() sets up; daemon_close() takes it down in reverse. */
struct daemon_state {
	struct daemon_cli cli;
	bool dropping;               /* --user given and started as root */
	bool tls_init;               /* gnutls_global_init() done */
	bool have_tokens;
	struct token_table tokens;
	struct ctl_server *ctl;
	struct store_tokens *store;  /* --store */
	struct http01_server *http;
	struct tlsalpn01_server *tls;
	struct health health;
	int sfd;                     /* signalfd, -1 */
	pid_t helper;                /* the socket removal helper, -1 */
	int helper_fd;               /* our end of its pipe, -1 */
};

/* The HTTP-01 server of --http-port (and its fallback), bound. */
static int
start_http(const struct daemon_cli *cli, struct token_table *tokens,
    struct http01_server **http)
{
	struct http01_opts ho;
	int rc;

	memset(&ho, 0, sizeof(ho));
	ho.addr = cli->http_addr;
	ho.port = cli->http_port;
	ho.max_conns = cli->max_conns;
	ho.max_per_ip = cli->max_per_ip;
	ho.timeout_s = cli->idle_timeout;
	/* A proxied request holds its thread until the backend answers. */
	ho.threads = cli->http_proxy ? PROXY_THREADS : 1;
	ho.redirect_https = cli->http_redirect;
	ho.proxy = cli->http_proxy;
	if ((rc = http01_listen(&ho, tokens, http)) != 0)
		return rc;
	log_info("http-01 on %s port %u%s%s%s",
	    cli->http_addr ? cli->http_addr : "*", http01_port(*http),
	    cli->http_redirect ? ", redirecting other paths to https" : "",
	    cli->http_proxy ? ", other paths to " : "",
	    cli->http_proxy ? cli->http_proxy : "");
	return 0;
}

/* The TLS-ALPN-01 server of --tls-port (and its proxy), bound. */
static int
start_tls(const struct daemon_cli *cli, struct token_table *tokens,
    struct tlsalpn01_server **tls)
{
	struct tlsalpn01_opts to;
	int rc;

	memset(&to, 0, sizeof(to));
	to.addr = cli->tls_addr;
	to.port = cli->tls_port;
	to.max_conns = cli->max_conns;
	to.max_per_ip = cli->max_per_ip;
	to.timeout_s = cli->idle_timeout;
	to.proxy = cli->tls_proxy;
	if ((rc = tlsalpn01_listen(&to, tokens, tls)) != 0)
		return rc;
	log_info("tls-alpn-01 on %s port %u%s%s",
	    cli->tls_addr ? cli->tls_addr : "*", tlsalpn01_port(*tls),
	    cli->tls_proxy ? ", other TLS to " : "",
	    cli->tls_proxy ? cli->tls_proxy : "");
	return 0;
}

/* The --health listener. */
static int
start_health(const struct daemon_cli *cli, struct health *health)
{
	unsigned short bound;
	int rc;

	if ((rc = listen_tcp(cli->health_addr, cli->health_port, "health",
	    "--health", &health->lfd, &bound)) != 0)
		return rc;
	if (fcntl(health->lfd, F_SETFL, fcntl(health->lfd, F_GETFL) |
	    O_NONBLOCK) != 0)
		return certo_fail(CERTO_EBIND, "--health: %s", strerror(errno));
	log_info("health on %s port %u", cli->health_addr, bound);
	return 0;
}

/*
 * Bind every configured server, no thread yet (start_threads); bind
 * errors carry CERTO_EBIND & co.
 */
static int
listen_servers(struct daemon_state *state)
{
	const struct daemon_cli *cli = &state->cli;
	int rc;

	if ((rc = ctl_server_listen(cli->socket, cli->socket_mode,
	    cli->socket_gid, &state->tokens, &state->ctl)) != 0)
		return rc;
	log_info("control socket %s (mode %04o%s%s)", cli->socket,
	    (unsigned)cli->socket_mode, cli->socket_group ? ", group " : "",
	    cli->socket_group ? cli->socket_group : "");
	if (cli->http_port != 0 &&
	    (rc = start_http(cli, &state->tokens, &state->http)) != 0)
		return rc;
	if (cli->tls_port != 0 &&
	    (rc = start_tls(cli, &state->tokens, &state->tls)) != 0)
		return rc;
	if (cli->health && (rc = start_health(cli, &state->health)) != 0)
		return rc;
	return 0;
}

/*
 * Wait for signals; meanwhile serve /healthz and expire tokens.  Returns
 * 0 on SIGTERM/SIGINT.
 */
static int
run(int sfd, struct health *health, struct token_table *tokens, long ttl)
{
	struct pollfd pfd[2 + HEALTH_MAX_CLIENTS];
	struct signalfd_siginfo si;
	time_t now, next_expire = time(NULL) + (ttl < EXPIRE_EVERY_S ? ttl :
	    EXPIRE_EVERY_S);
	size_t i, n;

	for (;;) {
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		/* A negative descriptor is left out by poll(). */
		pfd[1].fd = time(NULL) < health->paused_until ? -1 : health->lfd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		for (i = 0; i < health->nclients; i++) {
			pfd[2 + i].fd = health->client[i].fd;
			pfd[2 + i].events = POLLIN;
			pfd[2 + i].revents = 0;
		}
		n = health->nclients;
		if (poll(pfd, 2 + n, 1000) < 0 && errno != EINTR)
			return certo_fail(CERTO_EIO, "poll: %s", strerror(errno));
		now = time(NULL);
		if (pfd[0].revents & POLLIN &&
		    read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGHUP)
				log_info("SIGHUP: logging to stderr, nothing to "
				    "reopen");
			else {
				log_info("signal %u: stopping", si.ssi_signo);
				return 0;
			}
		}
		for (i = n; i-- > 0;)
			if ((pfd[2 + i].revents &&
			    !health_read(&health->client[i])) ||
			    now - health->client[i].start >= HEALTH_TIMEOUT_S)
				health_drop(health, i);
		if (pfd[1].revents & POLLIN)
			health_accept(health, now);
		if (now >= next_expire) {
			size_t left = tokens_expire(tokens, now);
			log_debug("%zu challenge(s) pending", left);
			next_expire = now + (ttl < EXPIRE_EVERY_S ? ttl :
			    EXPIRE_EVERY_S);
		}
	}
}

/* ---------------------------------------------------------- main steps */

/* All logging goes to stderr (the journal, the container log). */
static int
log_to_stderr(void)
{
	fflush(stdout);
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		return certo_fail(CERTO_EIO, "dup2: %s", strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);
	return 0;
}

/* Root must choose --user or --stay-root; --user needs root. */
static int
check_identity(const struct daemon_cli *cli)
{
	if (geteuid() == 0 && cli->user == NULL && !cli->stay_root)
		return certo_fail(CERTO_ECONFIG, "started as root: pass --user "
		    "USER to drop privileges after binding, or --stay-root to "
		    "keep running as root");
	if (geteuid() != 0 && cli->user != NULL && (cli->uid != geteuid() ||
	    cli->gid != getegid()))
		return certo_fail(CERTO_ECONFIG, "--user/--group need starting as "
		    "root (running as uid %ld, gid %ld)", (long)geteuid(),
		    (long)getegid());
	return 0;
}

/*
 * Signals are read from a signalfd by the main loop: block them before
 * any server thread starts, so that every thread inherits the mask and
 * none is interrupted.
 */
static int
block_signals(int *sfd)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (*sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return certo_fail(CERTO_EIO, "signalfd: %s", strerror(errno));
	return 0;
}

/* GnuTLS, the token table, the helper (forked first), the store's
 * connections, the servers' sockets: everything but the threads. */
static int
daemon_open(struct daemon_state *state)
{
	const struct daemon_cli *cli = &state->cli;
	int rc;

	if (gnutls_global_init() < 0)
		return certo_fail(CERTO_ECRYPTO, "GnuTLS initialisation failed");
	state->tls_init = true;
	if ((rc = tokens_init(&state->tokens, cli->max_tokens,
	    cli->token_ttl)) != 0)
		return rc;
	state->have_tokens = true;
	/* Forked while there is one thread and no socket to inherit. */
	state->dropping = cli->user != NULL && geteuid() == 0;
	if (state->dropping && (rc = helper_start(cli->socket, &state->helper,
	    &state->helper_fd)) != 0)
		return rc;
	/* Connected as the user who started us (no thread yet). */
	if (cli->store && (rc = store_tokens_open(cli->store, &state->tokens,
	    &state->store)) != 0)
		return rc;
	return listen_servers(state);
}

/*
 * Every thread, once the sandbox is on (drop_to_user), so that each
 * inherits it: Landlock restricts only the thread that asks and the
 * threads it starts afterwards.
 */
static int
start_threads(struct daemon_state *state)
{
	int rc;

	if ((state->store && (rc = store_tokens_run(state->store)) != 0) ||
	    (rc = ctl_server_run(state->ctl)) != 0 ||
	    (state->http && (rc = http01_run(state->http)) != 0) ||
	    (state->tls && (rc = tlsalpn01_run(state->tls)) != 0))
		return rc;
	return 0;
}

/*
 * After the drop and before any thread (start_threads): the seccomp
 * allow-list of common/sandbox.c (open only to read: the proxies'
 * backends are resolved by name; never execve, never a write to a
 * file), and Landlock (read-only file system) where the kernel has it,
 * both inherited by every thread started afterwards.  A trapped call
 * in any thread ends the daemon with a message, exit 4.
 */
static int
enter_sandbox(void)
{
	static const int extra[] = { SCMP_SYS(wait4), SCMP_SYS(waitid) };
	struct sandbox_opts o = { 0 };

	o.who = "certo-responder";
	o.report_fd = -1;
	o.read_opens = true;
	o.extra = extra;
	o.nextra = sizeof(extra) / sizeof(extra[0]);
	return sandbox_enter(&o);
}

/* Everything is bound: switch to --user, or say we stay root. */
static int
drop_to_user(struct daemon_state *state)
{
	const struct daemon_cli *cli = &state->cli;
	int rc;

	if (!state->dropping) {
		if (geteuid() == 0)
			log_warn("--stay-root: running as root");
		return 0;
	}
	helper_arm(state->helper_fd, state->ctl);
	if ((rc = drop_privileges(cli->user, cli->uid, cli->gid)) != 0)
		return rc;
	log_info("running as user %s (uid %ld, gid %ld)", cli->user,
	    (long)cli->uid, (long)cli->gid);
	return enter_sandbox();
}

/*
 * Take down what daemon_open() set up, log rc's message and return the
 * documented exit code: 0, 1 (usage, configuration), 4 (anything else).
 */
static int
daemon_close(struct daemon_state *state, int rc)
{
	/* Stop the servers before the table they read from goes away. */
	tlsalpn01_stop(state->tls);
	http01_stop(state->http);
	ctl_server_stop(state->ctl);
	store_tokens_stop(state->store);
	/* The socket is closed: now the helper may remove its file. */
	helper_finish(state->helper, state->helper_fd);
	health_close(&state->health);
	if (state->have_tokens)
		tokens_free(&state->tokens);
	if (state->tls_init)
		gnutls_global_deinit();
	if (state->sfd >= 0)
		close(state->sfd);
	if (rc != 0)
		log_error("%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
	if (rc == CERTO_ESTORE || rc == CERTO_ESTOREAUTH)
		return certo_exitcode(rc);
	return rc == 0 ? 0 : certo_exitcode(rc) == CERTO_EXIT_USAGE ?
	    CERTO_EXIT_USAGE : CERTO_EXIT_LOCAL;
}

/*
 * certo-responder: parse the options, bind everything (as root if need
 * be), drop to --user and enter the sandbox, start the threads, then
 * wait for a stop signal.
 */
int
main(int argc, char **argv)
{
	struct daemon_state state;
	int rc;

	memset(&state, 0, sizeof(state));
	state.health.lfd = state.sfd = state.helper_fd = -1;
	state.helper = -1;
	log_set_progname("certo-responder");
	if ((rc = daemon_cli_parse(argc, argv, &state.cli)) != 0)
		goto out;
	if (state.cli.help || state.cli.version) {
		if (state.cli.help)
			daemon_cli_help(stdout);
		else
			print_version();
		goto out;
	}
	log_set_level((enum log_level)state.cli.verbosity);
	if ((rc = log_to_stderr()) != 0 ||
	    (rc = check_identity(&state.cli)) != 0 ||
	    (rc = fit_descriptors(&state.cli)) != 0 ||
	    (rc = block_signals(&state.sfd)) != 0 ||
	    (rc = daemon_open(&state)) != 0 ||
	    (rc = drop_to_user(&state)) != 0 ||
	    (rc = start_threads(&state)) != 0)
		goto out;
	log_info("ready (at most %zu challenges, each kept %ld s)",
	    state.cli.max_tokens, state.cli.token_ttl);
	rc = run(state.sfd, &state.health, &state.tokens, state.cli.token_ttl);
out:
	return daemon_close(&state, rc);
}
