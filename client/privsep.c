/*
 * The key and state process's side of privilege separation: start the
 * network process, open channels to it, call it, notice when it dies.
 */
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errors.h"
#include "http.h"
#include "kv.h"
#include "log.h"
#include "privsep_priv.h"
#include "sandbox.h"
#include "sig.h"

/* How long privsep_stop() waits for the network process to end. */
#define STOP_WAIT_MS 10000

/* The one network process of this run. */
static struct {
	pid_t pid;            /* 0: none */
	int ctl;              /* channels are passed on it */
	int death;            /* its last words: the trapped system call */
	pthread_mutex_t lock; /* ctl, and the fields below */
	bool dead;            /* reaped */
	int status;           /* its wait status once dead */
	int nr;               /* the forbidden system call, or -1 */
	int start_rc;         /* why it could not start, or 0 */
	char start_msg[201];
} ps = { 0, -1, -1, PTHREAD_MUTEX_INITIALIZER, false, 0, -1, 0, "" };

bool
privsep_active(void)
{
	return ps.pid > 0;
}

int
privsep_start(const struct privsep_opts *opts)
{
	int sv[2], dp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return certo_fail(CERTO_EPRIVSEP, "socketpair: %s",
		    strerror(errno));
	if (pipe2(dp, O_CLOEXEC) != 0) {
		close(sv[0]);
		close(sv[1]);
		return certo_fail(CERTO_EPRIVSEP, "pipe: %s", strerror(errno));
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		close(dp[0]);
		close(dp[1]);
		return certo_fail(CERTO_EPRIVSEP, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(sv[0]);
		close(dp[0]);
		netproc_main(sv[1], dp[1], opts);
	}
	close(sv[1]);
	close(dp[1]);
	ps.pid = pid;
	ps.ctl = sv[0];
	ps.death = dp[0];
	http_set_transport(&privsep_http_transport);
	kv_set_transport(&privsep_kv_transport); /* --store: Redis too */
	log_debug("privsep: network process %ld started", (long)pid);
	return 0;
}

/* Reap the network process (waiting when block) and read its last
 * words; under ps.lock. */
static void
reap(bool block)
{
	struct rusage ru;
	unsigned char b[8 + 200];
	unsigned v;
	ssize_t n;
	pid_t r;

	if (ps.dead || ps.pid <= 0)
		return;
	while ((r = wait4(ps.pid, &ps.status, block ? 0 : WNOHANG, &ru)) < 0 &&
	    errno == EINTR)
		;
	if (r != ps.pid)
		return;
	ps.dead = true;
	log_debug("privsep: network process %ld ended; peak RSS %ld KiB",
	    (long)ps.pid, ru.ru_maxrss);
	if ((n = read(ps.death, b, sizeof(b))) < 4)
		return;
	v = (unsigned)b[0] | (unsigned)b[1] << 8 | (unsigned)b[2] << 16 |
	    (unsigned)b[3] << 24;
	if (v != PRIVSEP_DEATH_START) {
		ps.nr = (int)v;
		return;
	}
	if (n < 8)
		return;
	ps.start_rc = (int)((unsigned)b[4] | (unsigned)b[5] << 8 |
	    (unsigned)b[6] << 16 | (unsigned)b[7] << 24);
	if (ps.start_rc <= CERTO_E__FIRST || ps.start_rc >= CERTO_E__LAST)
		ps.start_rc = CERTO_EPRIVSEP;
	memcpy(ps.start_msg, b + 8, (size_t)n - 8);
	ps.start_msg[n - 8] = '\0';
}

/* The name of a trapped system call as the message shows it. */
static const char *
syscall_word(int nr)
{
	static char num[16];
	const char *w = sandbox_syscall_word(nr);

	if (strcmp(w, "other") != 0)
		return w;
	snprintf(num, sizeof(num), "#%d", nr);
	return num;
}

/* The failure of a dead network process (under ps.lock). */
static int
died(void)
{
	/* A channel broke: whatever the network process does now, it is
	 * not trusted to go on. */
	reap(false);
	if (!ps.dead && ps.pid > 0)
		kill(ps.pid, SIGKILL);
	reap(true);
	if (ps.start_rc != 0) {
		char shown[256];

		return certo_fail(ps.start_rc, "%s", log_str(shown,
		    sizeof(shown), ps.start_msg));
	}
	if (ps.nr >= 0)
		return certo_fail(CERTO_EPRIVSEP, "internal error: the network "
		    "process attempted a forbidden system call (%s)",
		    syscall_word(ps.nr));
	if (ps.dead && WIFSIGNALED(ps.status))
		return certo_fail(CERTO_EPRIVSEP, "internal error: the network "
		    "process was killed by signal %d", WTERMSIG(ps.status));
	return certo_fail(CERTO_EPRIVSEP, "internal error: the network "
	    "process ended (status %d)", ps.dead ?
	    WEXITSTATUS(ps.status) : -1);
}

int
privsep_chan_open(struct privsep_chan *chan)
{
	int sv[2], rc = 0;

	chan->fd = -1;
	chan->trust = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return certo_fail(CERTO_EPRIVSEP, "socketpair: %s",
		    strerror(errno));
	pthread_mutex_lock(&ps.lock);
	if (ps.dead || privsep_send_fd(ps.ctl, sv[1]) != 0)
		rc = died();
	pthread_mutex_unlock(&ps.lock);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return rc;
	}
	chan->fd = sv[0];
	return 0;
}

void
privsep_chan_close(struct privsep_chan *chan)
{
	if (chan == NULL)
		return;
	if (chan->fd >= 0)
		close(chan->fd);
	chan->fd = -1;
	free(chan->trust);
	chan->trust = NULL;
}

/* Wait until fd is readable (or closed), passing a signal on to the
 * network process once. */
static void
wait_readable(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int passed = 0, sig;

	for (;;) {
		if ((sig = sig_pending()) != 0 && sig != passed) {
			kill(ps.pid, sig);
			passed = sig;
		}
		if (poll(&pfd, 1, 200) > 0)
			return;
	}
}

int
privsep_malformed(const struct privsep_msg *reply)
{
	if (reply->err == CERTO_ENOMEM)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	return certo_fail(CERTO_EPRIVSEP, "internal error: a malformed message "
	    "from the network process");
}

/* The reply's rc and message: a network process failure is kept. */
static int
reply_rc(struct privsep_msg *reply)
{
	int64_t rc;
	char *msg = NULL, shown[1024];
	int ret;

	if (reply->type != PS_REPLY ||
	    (ret = privsep_get_i64(reply, &rc)) != 0 ||
	    (ret = privsep_get_str(reply, &msg)) != 0 ||
	    rc > 0 || (rc < 0 && (rc <= CERTO_E__FIRST ||
	    rc >= CERTO_E__LAST))) {
		free(msg);
		return privsep_malformed(reply);
	}
	if (rc != 0) {
		ret = msg != NULL ? certo_fail((int)rc, "%s",
		    log_printable(shown, sizeof(shown), msg)) : (int)rc;
		free(msg);
		return ret;
	}
	free(msg);
	return 0;
}

int
privsep_call(struct privsep_chan *chan, const struct privsep_msg *req,
    struct privsep_msg *reply, privsep_progress_fn fn, void *arg)
{
	int rc;

	privsep_msg_init(reply, 0);
	if (chan->fd < 0 && (rc = privsep_chan_open(chan)) != 0)
		return rc;
	if (privsep_send(chan->fd, req) != 0)
		goto dead;
	for (;;) {
		wait_readable(chan->fd);
		privsep_msg_free(reply);
		rc = privsep_recv(chan->fd, reply, PRIVSEP_REPLY_MAX);
		/* A progress line lost to memory: the wait goes on. */
		if (rc == CERTO_ENOMEM && reply->type == PS_DNS_PROGRESS)
			continue;
		if (rc == CERTO_ENOMEM)
			return certo_fail(rc, "out of memory");
		if (rc != 0)
			goto dead;
		if (reply->type != PS_DNS_PROGRESS || fn == NULL)
			break;
		if ((rc = fn(arg, reply)) == CERTO_ENOMEM)
			certo_errclear();
		else if (rc != 0)
			return rc;
	}
	return reply_rc(reply);
dead:
	/* A closed channel: the network process is gone, or going. */
	pthread_mutex_lock(&ps.lock);
	rc = died();
	pthread_mutex_unlock(&ps.lock);
	return rc;
}

int
privsep_stop(int rc)
{
	int64_t deadline = sig_now_ms() + STOP_WAIT_MS;
	struct pollfd pfd = { -1, 0, 0 };
	int ret = rc;

	if (ps.pid <= 0)
		return rc;
	pthread_mutex_lock(&ps.lock);
	if (ps.ctl >= 0)
		close(ps.ctl); /* the network process exits at end of file */
	ps.ctl = -1;
	/*
	 * It exits at once (sanitizer builds: after their leak check): its
	 * end of the death pipe closes then.  One stuck is not waited for
	 * past STOP_WAIT_MS.
	 */
	pfd.fd = ps.death;
	pfd.events = POLLIN;
	while (!ps.dead && sig_now_ms() < deadline) {
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)(deadline - sig_now_ms())) > 0 &&
		    (pfd.revents & (POLLHUP | POLLERR)))
			break;
		reap(false); /* a note in the pipe: it may still be ending */
	}
	reap(false);
	if (!ps.dead && !(pfd.revents & (POLLHUP | POLLERR))) {
		log_warn("the network process (pid %ld) did not end: killed",
		    (long)ps.pid);
		kill(ps.pid, SIGKILL);
	}
	reap(true);
	/* A violation ends the run even when nothing asked it since. */
	if (ps.nr >= 0 || (ps.dead && WIFSIGNALED(ps.status)))
		ret = died();
	pthread_mutex_unlock(&ps.lock);
	close(ps.death);
	ps.death = -1;
	return ret;
}
