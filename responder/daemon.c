/*
 * certo-responder: a long-running HTTP-01 and TLS-ALPN-01 responder fed
 * through the control socket (ctl.h, docs/responder-protocol.md).  It
 * binds everything as root if need be, drops to --user, and then only
 * waits for signals, serves /healthz and expires tokens; the servers run
 * in their own threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <grp.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon_cli.h"
#include "errors.h"
#include "http01.h"
#include "listen.h"
#include "log.h"
#include "tlsalpn01.h"
#include "tokens.h"

#define HEALTH_MAX_CLIENTS 16
#define HEALTH_MAX_REQUEST 1024
#define HEALTH_TIMEOUT_S 5
#define EXPIRE_EVERY_S 60

struct health_client {
	int fd;
	time_t start;
	size_t len;
	char buf[HEALTH_MAX_REQUEST];
};

struct health {
	int lfd;                     /* -1: no --health */
	struct health_client c[HEALTH_MAX_CLIENTS];
	size_t nc;
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
health_drop(struct health *h, size_t i)
{
	close(h->c[i].fd);
	h->c[i] = h->c[--h->nc];
}

/* Answer once the request head is complete: 200 for /healthz, else 404. */
static bool
health_read(struct health_client *c)
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

	r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (r <= 0)
		return false;
	c->len += (size_t)r;
	c->buf[c->len] = '\0';
	if (memchr(c->buf, '\0', c->len) == NULL &&
	    strstr(c->buf, "\r\n\r\n") == NULL &&
	    strstr(c->buf, "\n\n") == NULL) {
		if (c->len < sizeof(c->buf) - 1)
			return true;
		ans = big;
	} else if (strncmp(c->buf, "GET /healthz ", 13) == 0 ||
	    strncmp(c->buf, "HEAD /healthz ", 14) == 0)
		ans = ok;
	n = strlen(ans);
	/* HEAD: the same head without the "ok\n" body. */
	if (ans == ok && c->buf[0] == 'H')
		n -= 3;
	if (send(c->fd, ans, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("healthz: %s", strerror(errno));
	return false;
}

static void
health_accept(struct health *h, time_t now)
{
	int fd;

	while ((fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if (h->nc == HEALTH_MAX_CLIENTS) {
			close(fd);
			continue;
		}
		h->c[h->nc].fd = fd;
		h->c[h->nc].start = now;
		h->c[h->nc].len = 0;
		h->nc++;
	}
}

static void
health_close(struct health *h)
{
	while (h->nc > 0)
		health_drop(h, h->nc - 1);
	if (h->lfd >= 0)
		close(h->lfd);
	h->lfd = -1;
}

/* ------------------------------------------------------------- servers */

/* Start every configured server; bind errors carry CERTO_EBIND & co. */
static int
start_servers(const struct daemon_cli *cli, struct token_table *tokens,
    struct ctl_server **ctl, struct http01_server **http,
    struct tlsalpn01_server **tls, struct health *h)
{
	struct http01_opts ho;
	struct tlsalpn01_opts to;
	unsigned short bound;
	int rc;

	if ((rc = ctl_server_start(cli->socket, cli->socket_mode,
	    cli->socket_gid, tokens, ctl)) != 0)
		return rc;
	log_info("control socket %s (mode %04o%s%s)", cli->socket,
	    (unsigned)cli->socket_mode, cli->socket_group ? ", group " : "",
	    cli->socket_group ? cli->socket_group : "");
	if (cli->http_port != 0) {
		memset(&ho, 0, sizeof(ho));
		ho.addr = cli->http_addr;
		ho.port = cli->http_port;
		/* A proxied request holds its thread until the backend answers. */
		ho.threads = cli->http_proxy ? 4 : 1;
		ho.redirect_https = cli->http_redirect;
		ho.proxy = cli->http_proxy;
		if ((rc = http01_start(&ho, tokens, http)) != 0)
			return rc;
		log_info("http-01 on %s port %u%s%s%s",
		    cli->http_addr ? cli->http_addr : "*", http01_port(*http),
		    cli->http_redirect ? ", redirecting other paths to https" :
		    "", cli->http_proxy ? ", other paths to " : "",
		    cli->http_proxy ? cli->http_proxy : "");
	}
	if (cli->tls_port != 0) {
		memset(&to, 0, sizeof(to));
		to.addr = cli->tls_addr;
		to.port = cli->tls_port;
		to.proxy = cli->tls_proxy;
		if ((rc = tlsalpn01_start(&to, tokens, tls)) != 0)
			return rc;
		log_info("tls-alpn-01 on %s port %u%s%s",
		    cli->tls_addr ? cli->tls_addr : "*", tlsalpn01_port(*tls),
		    cli->tls_proxy ? ", other TLS to " : "",
		    cli->tls_proxy ? cli->tls_proxy : "");
	}
	if (cli->health) {
		if ((rc = listen_tcp(cli->health_addr, cli->health_port,
		    "health", "--health", &h->lfd, &bound)) != 0)
			return rc;
		if (fcntl(h->lfd, F_SETFL, fcntl(h->lfd, F_GETFL) |
		    O_NONBLOCK) != 0)
			return certo_fail(CERTO_EBIND, "--health: %s",
			    strerror(errno));
		log_info("health on %s port %u", cli->health_addr, bound);
	}
	return 0;
}

/*
 * Wait for signals; meanwhile serve /healthz and expire tokens.  Returns
 * 0 on SIGTERM/SIGINT.
 */
static int
run(int sfd, struct health *h, struct token_table *tokens, long ttl)
{
	struct pollfd pfd[2 + HEALTH_MAX_CLIENTS];
	struct signalfd_siginfo si;
	time_t now, next_expire = time(NULL) + (ttl < EXPIRE_EVERY_S ? ttl :
	    EXPIRE_EVERY_S);
	size_t i, n;

	for (;;) {
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = h->lfd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		for (i = 0; i < h->nc; i++) {
			pfd[2 + i].fd = h->c[i].fd;
			pfd[2 + i].events = POLLIN;
			pfd[2 + i].revents = 0;
		}
		n = h->nc;
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
			if ((pfd[2 + i].revents && !health_read(&h->c[i])) ||
			    now - h->c[i].start >= HEALTH_TIMEOUT_S)
				health_drop(h, i);
		if (pfd[1].revents & POLLIN)
			health_accept(h, now);
		if (now >= next_expire) {
			size_t left = tokens_expire(tokens, now);
			log_debug("%zu challenge(s) pending", left);
			next_expire = now + (ttl < EXPIRE_EVERY_S ? ttl :
			    EXPIRE_EVERY_S);
		}
	}
}

int
main(int argc, char **argv)
{
	struct daemon_cli cli;
	struct token_table tokens;
	struct ctl_server *ctl = NULL;
	struct http01_server *http = NULL;
	struct tlsalpn01_server *tls = NULL;
	struct health h;
	sigset_t set;
	bool have_tokens = false, tls_init = false;
	int rc, sfd = -1;

	memset(&h, 0, sizeof(h));
	h.lfd = -1;
	log_set_progname("certo-responder");
	if ((rc = daemon_cli_parse(argc, argv, &cli)) != 0)
		goto out;
	if (cli.help) {
		daemon_cli_help(stdout);
		goto out;
	}
	if (cli.version) {
		print_version();
		goto out;
	}
	log_set_level((enum log_level)cli.verbosity);
	/* All logging goes to stderr (the journal, the container log). */
	fflush(stdout);
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		rc = certo_fail(CERTO_EIO, "dup2: %s", strerror(errno));
		goto out;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() == 0 && cli.user == NULL && !cli.stay_root) {
		rc = certo_fail(CERTO_ECONFIG, "started as root: pass --user USER "
		    "to drop privileges after binding, or --stay-root to keep "
		    "running as root");
		goto out;
	}
	if (geteuid() != 0 && cli.user != NULL && (cli.uid != geteuid() ||
	    cli.gid != getegid())) {
		rc = certo_fail(CERTO_ECONFIG, "--user/--group need starting as "
		    "root (running as uid %ld, gid %ld)", (long)geteuid(),
		    (long)getegid());
		goto out;
	}
	/*
	 * Signals are read from a signalfd by the main loop: block them
	 * before any server thread starts, so that every thread inherits
	 * the mask and none is interrupted.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		rc = certo_fail(CERTO_EIO, "signalfd: %s", strerror(errno));
		goto out;
	}
	if (gnutls_global_init() < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "GnuTLS initialisation failed");
		goto out;
	}
	tls_init = true;
	if ((rc = tokens_init(&tokens, cli.max_tokens, cli.token_ttl)) != 0)
		goto out;
	have_tokens = true;
	if ((rc = start_servers(&cli, &tokens, &ctl, &http, &tls, &h)) != 0)
		goto out;
	if (cli.user != NULL && geteuid() == 0) {
		if ((rc = drop_privileges(cli.user, cli.uid, cli.gid)) != 0)
			goto out;
		log_info("running as user %s (uid %ld, gid %ld)", cli.user,
		    (long)cli.uid, (long)cli.gid);
	} else if (geteuid() == 0)
		log_warn("--stay-root: running as root");
	log_info("ready (at most %zu challenges, each kept %ld s)",
	    cli.max_tokens, cli.token_ttl);
	rc = run(sfd, &h, &tokens, cli.token_ttl);
out:
	/* Stop the servers before the table they read from goes away. */
	tlsalpn01_stop(tls);
	http01_stop(http);
	ctl_server_stop(ctl);
	health_close(&h);
	if (have_tokens)
		tokens_free(&tokens);
	if (tls_init)
		gnutls_global_deinit();
	if (sfd >= 0)
		close(sfd);
	if (rc != 0)
		log_error("%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
	return certo_exitcode(rc);
}
