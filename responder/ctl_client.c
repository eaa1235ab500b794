/*
 * The one-shot client of the certo-responder control socket, used by
 * certo issue --responder (client/solver_socket.c): connect, send one
 * request line, read its answer, all within CTL_CLIENT_TIMEOUT_MS.
 */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"

#define CTL_CLIENT_TIMEOUT_MS 5000   /* the whole exchange */

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/* Wait for events on fd until the deadline; CERTO_ETIMEDOUT after it. */
static int
wait_fd(int fd, short events, const struct timespec *deadline,
    const char *path)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	for (;;) {
		r = poll(&pfd, 1, (int)ms_left(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return certo_fail(CERTO_ETIMEDOUT, "certo-responder at '%s' "
			    "did not answer within %d s", path,
			    CTL_CLIENT_TIMEOUT_MS / 1000);
		if (errno != EINTR)
			return certo_fail(CERTO_ENET, "poll: %s", strerror(errno));
	}
}

/*
 * Connect a non-blocking socket to path into *fd.  A refused permission
 * is a local problem (CERTO_EIO, exit 4), anything else CERTO_ENET; the
 * message names path and a likely cause.
 */
static int
connect_socket(const char *path, int *fd)
{
	struct sockaddr_un sa;
	int e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return certo_fail(CERTO_EUSAGE, "control socket path '%s' is "
		    "too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return certo_fail(CERTO_ENET, "socket: %s", strerror(errno));
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	e = errno;
	return certo_fail(e == EACCES || e == EPERM ? CERTO_EIO : CERTO_ENET,
	    "cannot reach certo-responder at '%s': %s%s", path, strerror(e),
	    e == EACCES || e == EPERM ? " (a local permission problem: is "
	    "this user in the socket's group, and may it search the socket's "
	    "directory?)" : e == ENOENT || e == ECONNREFUSED ? " (is "
	    "certo-responder running?)" : "");
}

/* Send all len bytes of buf before the deadline. */
static int
send_request(int fd, const char *buf, size_t len,
    const struct timespec *deadline, const char *path)
{
	ssize_t r;
	int rc;

	for (size_t sent = 0; sent < len;) {
		if ((rc = wait_fd(fd, POLLOUT, deadline, path)) != 0)
			return rc;
		r = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return certo_fail(CERTO_ENET, "send to certo-responder at "
			    "'%s': %s", path, strerror(errno));
		sent += (size_t)r;
	}
	return 0;
}

/* The n of "OK <n>\n": want becomes 1 + n. */
static int
list_count(const char *s, size_t *want)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\n' || n > 1000000)
		return certo_fail(CERTO_EPROTO, "malformed list answer from "
		    "certo-responder");
	*want = 1 + (size_t)n;
	return 0;
}

/*
 * Read the answer into reply (NUL-terminated, its last \n removed): one
 * line, or for list the "OK <n>" line and n more.  Bytes after those
 * lines are dropped.
 */
static int
recv_answer(int fd, bool list, char *reply, size_t replylen,
    const struct timespec *deadline, const char *path)
{
	size_t off = 0, lines = 0, want = 1;
	char *nl;
	ssize_t r;
	int rc;

	while (lines < want) {
		if (off + 1 >= replylen)
			return certo_fail(list ? CERTO_ETOOBIG : CERTO_EPROTO,
			    "answer of certo-responder at '%s' too long", path);
		if ((rc = wait_fd(fd, POLLIN, deadline, path)) != 0)
			return rc;
		r = recv(fd, reply + off, replylen - 1 - off, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return certo_fail(CERTO_ENET, "certo-responder at '%s' "
			    "closed the connection%s%s", path, r < 0 ? ": " : "",
			    r < 0 ? strerror(errno) : "");
		for (char *p = reply + off; p < reply + off + r; p++) {
			if (*p != '\n' || lines == want)
				continue;
			if (++lines == 1 && list && strncmp(reply, "OK ", 3) == 0 &&
			    (rc = list_count(reply + 3, &want)) != 0)
				return rc;
		}
		off += (size_t)r;
	}
	reply[off] = '\0';
	/* Cut after the last expected line and drop its \n. */
	for (nl = reply, lines = 0; (nl = strchr(nl, '\n')) != NULL; nl++)
		if (++lines == want) {
			*nl = '\0';
			break;
		}
	return 0;
}

/* 0 for "OK" or "OK ..."; the ERR reason or the whole answer quoted. */
static int
check_answer(const char *reply, const char *line, const char *path)
{
	char shown_line[CTL_MAX_LINE + 1], shown[160];

	if (strcmp(reply, "OK") == 0 || strncmp(reply, "OK ", 3) == 0)
		return 0;
	if (strncmp(reply, "ERR ", 4) == 0)
		return certo_fail(CERTO_EPROTO, "certo-responder refused '%s': "
		    "%s", log_str(shown_line, sizeof(shown_line), line),
		    log_str(shown, sizeof(shown), reply + 4));
	return certo_fail(CERTO_EPROTO, "malformed answer from certo-responder "
	    "at '%s': '%s'", path, log_str(shown, sizeof(shown), reply));
}

/*
 * Network I/O on the control socket: one request, one answer; see
 * ctl.h for the codes.  reply always holds a NUL-terminated string.
 */
int
ctl_client_request(const char *path, const char *line, char *reply,
    size_t replylen)
{
	struct timespec deadline;
	char buf[CTL_MAX_LINE + 1];
	size_t len = strlen(line);
	int fd = -1, rc;

	if (replylen == 0)
		return certo_fail(CERTO_EUSAGE, "no room for the answer");
	reply[0] = '\0';
	if (len + 1 >= CTL_MAX_LINE || memchr(line, '\n', len) != NULL)
		return certo_fail(CERTO_EUSAGE, "control request too long or "
		    "with a newline");
	memcpy(buf, line, len);
	buf[len++] = '\n';
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += CTL_CLIENT_TIMEOUT_MS / 1000;
	if ((rc = connect_socket(path, &fd)) == 0 &&
	    (rc = send_request(fd, buf, len, &deadline, path)) == 0 &&
	    (rc = recv_answer(fd, strcmp(line, "list") == 0, reply, replylen,
	    &deadline, path)) == 0)
		rc = check_answer(reply, line, path);
	if (fd >= 0)
		close(fd);
	return rc;
}
