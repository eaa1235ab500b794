/*
 * The certo-responder control socket: the line parser, the server (one
 * poll() thread, non-blocking clients with bounded buffers and an idle
 * timeout) and the one-shot client used by certo issue --responder.
 */
#include "ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "domain.h"
#include "errors.h"
#include "log.h"
#include "tokens.h"

#define CTL_IDLE_S 30                /* a client silent this long is closed */
#define CTL_MAX_LIST (1024 * 1024)   /* bytes of one list answer */
#define CTL_CLIENT_TIMEOUT_MS 5000   /* ctl_client_request, whole exchange */
#define CTL_MAX_FIELDS 5
#define CTL_BACKOFF_S 1              /* out of descriptors: accept again after */

/* --------------------------------------------------------------- parser */

static const char *
type_name(enum token_type t)
{
	return t == TOKEN_TLSALPN01 ? "tls-alpn-01" : "http-01";
}

/* Field f (n bytes) equals the string s. */
static bool
field_is(const char *f, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(f, s, n) == 0;
}

/*
 * A valid identifier: a lower-case DNS name, or an IP literal rewritten
 * in its canonical text form (so "2001:DB8::1" and "2001:db8:0::1" name
 * the same entry).
 */
static bool
ident_parse(const char *f, size_t n, char *out, size_t outlen)
{
	unsigned char addr[16];
	char tmp[TOKENS_MAX_IDENT + 1];

	if (n == 0 || n > TOKENS_MAX_IDENT || n >= outlen)
		return false;
	memcpy(tmp, f, n);
	tmp[n] = '\0';
	if (strchr(tmp, ':') != NULL) {
		if (inet_pton(AF_INET6, tmp, addr) != 1)
			return false;
		return inet_ntop(AF_INET6, addr, out, (socklen_t)outlen) != NULL;
	}
	if (inet_pton(AF_INET, tmp, addr) == 1)
		return inet_ntop(AF_INET, addr, out, (socklen_t)outlen) != NULL;
	if (!domain_valid(tmp, false, NULL))
		return false;
	memcpy(out, tmp, n + 1);
	return true;
}

/* A base64url string of 1..max bytes copied into out (max+1 bytes). */
static bool
b64_field(const char *f, size_t n, size_t max, char *out)
{
	if (n == 0 || n > max)
		return false;
	memcpy(out, f, n);
	out[n] = '\0';
	return b64url_valid(out);
}

int
ctl_parse_line(const char *line, size_t len, struct ctl_request *req,
    const char **err)
{
	const char *f[CTL_MAX_FIELDS + 1], *dummy, *dot;
	size_t fl[CTL_MAX_FIELDS + 1], nf = 0, i, start;

	if (err == NULL)
		err = &dummy;
	*err = NULL;
	memset(req, 0, sizeof(*req));
	if (len >= CTL_MAX_LINE)
		return *err = "line too long", CERTO_EUSAGE;
	if (len == 0)
		return *err = "empty line", CERTO_EUSAGE;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == 0)
			return *err = "NUL byte", CERTO_EUSAGE;
		if (c < 0x20 || c == 0x7f)
			return *err = "control byte", CERTO_EUSAGE;
		if (c >= 0x80)
			return *err = "non-ASCII byte", CERTO_EUSAGE;
	}
	/* Split on single spaces; an empty field means a stray space. */
	for (start = 0, i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		if (i == start)
			return *err = "empty field", CERTO_EUSAGE;
		if (nf == CTL_MAX_FIELDS)
			return *err = "too many fields", CERTO_EUSAGE;
		f[nf] = line + start;
		fl[nf++] = i - start;
		start = i + 1;
	}
	if (field_is(f[0], fl[0], "list")) {
		req->cmd = CTL_LIST;
		if (nf != 1)
			return *err = "too many fields", CERTO_EUSAGE;
		return 0;
	}
	if (field_is(f[0], fl[0], "auth"))
		req->cmd = CTL_AUTH;
	else if (field_is(f[0], fl[0], "unauth"))
		req->cmd = CTL_UNAUTH;
	else
		return *err = "unknown command", CERTO_EUSAGE;
	if (nf < (req->cmd == CTL_AUTH ? 5u : 4u))
		return *err = "missing fields", CERTO_EUSAGE;
	if (nf > (req->cmd == CTL_AUTH ? 5u : 4u))
		return *err = "too many fields", CERTO_EUSAGE;
	if (field_is(f[1], fl[1], "http-01"))
		req->type = TOKEN_HTTP01;
	else if (field_is(f[1], fl[1], "tls-alpn-01"))
		req->type = TOKEN_TLSALPN01;
	else
		return *err = "bad type", CERTO_EUSAGE;
	if (!ident_parse(f[2], fl[2], req->ident, sizeof(req->ident)))
		return *err = "bad identifier", CERTO_EUSAGE;
	if (!b64_field(f[3], fl[3], TOKENS_MAX_TOKEN, req->token))
		return *err = "bad token", CERTO_EUSAGE;
	if (req->cmd == CTL_UNAUTH)
		return 0;
	/* <token>.<base64url(JWK thumbprint)> with this request's token. */
	if (fl[4] > TOKENS_MAX_KEYAUTH ||
	    (dot = memchr(f[4], '.', fl[4])) == NULL)
		return *err = "bad key authorization", CERTO_EUSAGE;
	if ((size_t)(dot - f[4]) != fl[3] || memcmp(f[4], f[3], fl[3]) != 0)
		return *err = "key authorization does not match token",
		    CERTO_EUSAGE;
	if (!b64_field(dot + 1, fl[4] - fl[3] - 1, TOKENS_MAX_KEYAUTH,
	    req->keyauth))
		return *err = "bad key authorization", CERTO_EUSAGE;
	memcpy(req->keyauth, f[4], fl[4]);
	req->keyauth[fl[4]] = '\0';
	return 0;
}

/* --------------------------------------------------------------- server */

struct ctl_client {
	int fd;
	time_t last;                 /* last activity, for the idle timeout */
	bool closing;                /* close once the output is written */
	char in[CTL_MAX_LINE];
	size_t inlen;
	char *out;                   /* pending answer, malloc'd */
	size_t outlen, outoff;
	uid_t uid;                   /* peer, for the log */
};

struct ctl_server {
	pthread_t thread;
	bool started;
	int lfd;
	int wake[2];                 /* ctl_server_stop writes here */
	char *path;
	dev_t dev;                   /* of our socket file, to unlink only it */
	ino_t ino;
	struct token_table *tokens;
	struct ctl_client *c[CTL_MAX_CLIENTS];
	size_t nc;
	time_t paused_until;         /* accept again from then (EMFILE) */
	time_t warn_at;
};

static void
client_close(struct ctl_server *s, size_t i)
{
	struct ctl_client *c = s->c[i];

	close(c->fd);
	free(c->out);
	free(c);
	s->c[i] = s->c[--s->nc];
	s->c[s->nc] = NULL;
}

/* Queue an answer (text without the final \n). */
static int
client_answer(struct ctl_client *c, const char *text)
{
	size_t n = strlen(text);

	free(c->out);
	c->outoff = 0;
	c->outlen = 0;
	if ((c->out = malloc(n + 1)) == NULL)
		return CERTO_ENOMEM;
	memcpy(c->out, text, n);
	c->out[n] = '\n';
	c->outlen = n + 1;
	return 0;
}

/* "OK <n>" and one "<type> <ident> <token>" line per live entry. */
static int
list_answer(struct ctl_server *s, struct ctl_client *c)
{
	struct token_table *t = s->tokens;
	size_t cap, off = 0, n;
	char *b;
	int w;

	tokens_expire(t, time(NULL));
	pthread_mutex_lock(&t->lock);
	n = t->n;
	cap = 32 + n * (12 + TOKENS_MAX_IDENT + TOKENS_MAX_TOKEN + 3);
	if (cap > CTL_MAX_LIST) {
		pthread_mutex_unlock(&t->lock);
		return client_answer(c, "ERR list too long");
	}
	if ((b = malloc(cap)) == NULL) {
		pthread_mutex_unlock(&t->lock);
		return client_answer(c, "ERR out of memory");
	}
	w = snprintf(b, cap, "OK %zu\n", n);
	off = (size_t)w;
	for (size_t i = 0; i < n && off < cap; i++) {
		w = snprintf(b + off, cap - off, "%s %s %s\n",
		    type_name(t->v[i].type), t->v[i].ident, t->v[i].token);
		if (w < 0 || (size_t)w >= cap - off)
			break;
		off += (size_t)w;
	}
	pthread_mutex_unlock(&t->lock);
	free(c->out);
	c->out = b;
	c->outlen = off;
	c->outoff = 0;
	return 0;
}

/* Carry out one request line and queue its answer. */
static int
client_line(struct ctl_server *s, struct ctl_client *c, const char *line,
    size_t len)
{
	struct ctl_request req;
	const char *err;
	char shown[96], ans[64];
	int rc;

	if (ctl_parse_line(line, len, &req, &err) != 0) {
		log_debug("control: uid %ld: rejected '%s': %s", (long)c->uid,
		    log_sanitize(shown, sizeof(shown), line, len), err);
		snprintf(ans, sizeof(ans), "ERR %s", err);
		return client_answer(c, ans);
	}
	switch (req.cmd) {
	case CTL_AUTH:
		rc = tokens_add(s->tokens, req.type, req.ident, req.token,
		    req.keyauth);
		memset(req.keyauth, 0, sizeof(req.keyauth));
		if (rc == 0)
			log_info("control: auth %s %s %s", type_name(req.type),
			    req.ident, req.token);
		return client_answer(c, rc == 0 ? "OK" :
		    rc == CERTO_ETOOBIG ? "ERR table full" :
		    rc == CERTO_ENOMEM ? "ERR out of memory" : "ERR rejected");
	case CTL_UNAUTH:
		rc = tokens_remove(s->tokens, req.type, req.ident, req.token);
		if (rc == 0)
			log_info("control: unauth %s %s %s", type_name(req.type),
			    req.ident, req.token);
		return client_answer(c, rc == 0 ? "OK" : "ERR not found");
	case CTL_LIST:
		log_debug("control: uid %ld: list", (long)c->uid);
		return list_answer(s, c);
	}
	return client_answer(c, "ERR internal error");
}

/*
 * Write what is pending, then handle buffered lines one at a time while
 * nothing is pending (a client that does not read its answers stops
 * being read).  Returns false when the client is to be closed.
 */
static bool
client_run(struct ctl_server *s, struct ctl_client *c)
{
	char *nl;
	ssize_t w;
	size_t len;

	for (;;) {
		while (c->outoff < c->outlen) {
			w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			    MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return true;
			if (w <= 0)
				return false;
			c->outoff += (size_t)w;
		}
		free(c->out);
		c->out = NULL;
		c->outlen = c->outoff = 0;
		if (c->closing)
			return false;
		if ((nl = memchr(c->in, '\n', c->inlen)) == NULL) {
			if (c->inlen < sizeof(c->in))
				return true;
			/* A full buffer without a newline. */
			c->closing = true;
			c->inlen = 0;
			if (client_answer(c, "ERR line too long") != 0)
				return false;
			continue;
		}
		len = (size_t)(nl - c->in);
		if (client_line(s, c, c->in, len) != 0)
			return false;
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
	}
}

/* Read what is there; false to close. */
static bool
client_read(struct ctl_server *s, struct ctl_client *c)
{
	ssize_t r;

	if (c->inlen == sizeof(c->in) || c->outoff < c->outlen)
		return client_run(s, c);
	r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return true;
	if (r <= 0)
		return false;
	c->inlen += (size_t)r;
	return client_run(s, c);
}

/*
 * Accept what is waiting.  Out of descriptors or memory, the listener
 * is left out of poll() for CTL_BACKOFF_S, as it would stay readable
 * and make the thread spin.
 */
static void
accept_clients(struct ctl_server *s, time_t now)
{
	struct ctl_client *c;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	int fd;

	for (;;) {
		if ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				if (now >= s->warn_at) {
					log_warn("control: accept: %s; pausing",
					    strerror(errno));
					s->warn_at = now + 10;
				}
				s->paused_until = now + CTL_BACKOFF_S;
			}
			return;
		}
		if (s->nc == CTL_MAX_CLIENTS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			static const char busy[] = "ERR busy\n";
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL |
			    MSG_DONTWAIT) < 0)
				log_debug("control: busy answer: %s",
				    strerror(errno));
			close(fd);
			continue;
		}
		c->fd = fd;
		c->last = now;
		c->uid = (uid_t)-1;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0)
			c->uid = cr.uid;
		s->c[s->nc++] = c;
	}
}

static void *
ctl_thread(void *arg)
{
	struct ctl_server *s = arg;
	struct pollfd pfd[2 + CTL_MAX_CLIENTS];
	struct ctl_client *c;
	time_t now;
	size_t i, n;
	bool keep;

	for (;;) {
		pfd[0].fd = s->wake[0];
		pfd[0].events = POLLIN;
		/* A negative descriptor is left out by poll(). */
		pfd[1].fd = time(NULL) < s->paused_until ? -1 : s->lfd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		for (i = 0; i < s->nc; i++) {
			pfd[2 + i].fd = s->c[i]->fd;
			pfd[2 + i].events = s->c[i]->outoff < s->c[i]->outlen ?
			    POLLOUT : POLLIN;
			pfd[2 + i].revents = 0;
		}
		n = s->nc;
		if (poll(pfd, 2 + n, 1000) < 0 && errno != EINTR) {
			log_error("control: poll: %s", strerror(errno));
			usleep(100000);
			continue;
		}
		if (pfd[0].revents)
			break;
		now = time(NULL);
		/* Walk backwards: client_close() moves the last one into i. */
		for (i = n; i-- > 0;) {
			c = s->c[i];
			keep = true;
			if (pfd[2 + i].revents & (POLLIN | POLLOUT))
				keep = pfd[2 + i].revents & POLLOUT ?
				    client_run(s, c) : client_read(s, c);
			else if (pfd[2 + i].revents & (POLLERR | POLLHUP |
			    POLLNVAL))
				keep = false;
			if (keep && pfd[2 + i].revents)
				c->last = now;
			if (keep && now - c->last >= CTL_IDLE_S)
				keep = false;
			if (!keep)
				client_close(s, i);
		}
		if (pfd[1].revents & POLLIN)
			accept_clients(s, now);
	}
	return NULL;
}

/* Is something accepting connections at this socket path? */
static bool
socket_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

/*
 * Bind and listen, and give the socket its group and mode, inside a
 * private 0700 directory next to path; then move it into place without
 * replacing anything (RENAME_NOREPLACE, or link() where the file system
 * lacks it).  So path never is a socket with other permissions, and
 * nothing is changed by path name where others may write: a symlink
 * planted in a writable directory cannot redirect the chown or chmod.
 * Records the socket's device and inode in s.
 */
static int
place_socket(struct ctl_server *s, const char *path, mode_t mode, gid_t gid)
{
	struct sockaddr_un sa;
	struct stat st;
	char copy[PATH_MAX], tmp[PATH_MAX];
	const char *dir;
	bool made = false;
	mode_t old;
	int dfd = -1, rc = 0, e;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return certo_fail(CERTO_ECONFIG, "control socket path too long");
	dir = dirname(copy);
	if (snprintf(tmp, sizeof(tmp), "%s/.certo-ctl.XXXXXX", dir) >=
	    (int)sizeof(tmp))
		return certo_fail(CERTO_ECONFIG, "control socket path too long");
	if (mkdtemp(tmp) == NULL)
		return certo_fail(CERTO_EBIND, "cannot create the control socket "
		    "'%s': %s", path, strerror(errno));
	made = true;
	if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		rc = certo_fail(CERTO_EBIND, "cannot create the control socket "
		    "'%s': %s", path, strerror(errno));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	/* A long directory: reach it through our descriptor instead. */
	if (strlen(tmp) + 2 < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, tmp, strlen(tmp));
		memcpy(sa.sun_path + strlen(tmp), "/s", 3);
	} else
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/s",
		    dfd);
	old = umask(0177);
	e = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	umask(old);
	if (e != 0) {
		rc = certo_fail(CERTO_EBIND, "cannot create the control socket "
		    "'%s': %s", path, strerror(e));
		goto out;
	}
	if (listen(s->lfd, 64) != 0) {
		rc = certo_fail(CERTO_EBIND, "listen on '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (gid != (gid_t)-1 && fchownat(dfd, "s", (uid_t)-1, gid,
	    AT_SYMLINK_NOFOLLOW) != 0) {
		rc = certo_fail(CERTO_EIO, "cannot give the control socket '%s' "
		    "to group %ld: %s", path, (long)gid, strerror(errno));
		goto out;
	}
	if (fchmodat(dfd, "s", mode & 0777, 0) != 0 ||
	    fstatat(dfd, "s", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = certo_fail(CERTO_EIO, "cannot chmod the control socket "
		    "'%s': %s", path, strerror(errno));
		goto out;
	}
	e = renameat2(dfd, "s", AT_FDCWD, path, RENAME_NOREPLACE) == 0 ? 0 :
	    errno;
	if (e == EINVAL || e == ENOSYS)
		e = linkat(dfd, "s", AT_FDCWD, path, 0) == 0 ? 0 : errno;
	if (e == EEXIST)
		rc = certo_fail(CERTO_EBIND, "'%s' appeared while the control "
		    "socket was being created; refusing to replace it", path);
	else if (e != 0)
		rc = certo_fail(CERTO_EBIND, "cannot create the control socket "
		    "'%s': %s", path, strerror(e));
	else {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
out:
	if (dfd >= 0) {
		/* Gone after a rename; the second name after a link. */
		if (unlinkat(dfd, "s", 0) != 0 && errno != ENOENT)
			log_debug("control: %s/s: %s", tmp, strerror(errno));
		close(dfd);
	}
	if (made && rmdir(tmp) != 0)
		log_warn("control: cannot remove '%s': %s", tmp, strerror(errno));
	return rc;
}

int
ctl_server_start(const char *path, mode_t mode, gid_t gid,
    struct token_table *tokens, struct ctl_server **out)
{
	struct ctl_server *s = NULL;
	struct sockaddr_un sa;
	struct stat st;
	int rc, e;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return certo_fail(CERTO_ECONFIG, "control socket path '%s' is "
		    "longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CERTO_ENOMEM;
	s->lfd = s->wake[0] = s->wake[1] = -1;
	s->tokens = tokens;
	if ((s->path = strdup(path)) == NULL) {
		rc = CERTO_ENOMEM;
		goto fail;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			rc = certo_fail(CERTO_EBIND, "control socket path '%s' "
			    "exists and is not a socket; refusing to replace it",
			    path);
			goto fail;
		}
		if (socket_live(&sa)) {
			rc = certo_fail(CERTO_EADDRINUSE, "another process is "
			    "listening on the control socket '%s'", path);
			goto fail;
		}
		if (unlink(path) != 0) {
			rc = certo_fail(CERTO_EBIND, "cannot remove the stale "
			    "control socket '%s': %s", path, strerror(errno));
			goto fail;
		}
	} else if (errno != ENOENT) {
		rc = certo_fail(CERTO_EBIND, "control socket '%s': %s", path,
		    strerror(errno));
		goto fail;
	}
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = certo_fail(CERTO_EIO, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		rc = certo_fail(CERTO_EBIND, "socket: %s", strerror(errno));
		goto fail;
	}
	if ((rc = place_socket(s, path, mode, gid)) != 0)
		goto fail;
	if ((e = pthread_create(&s->thread, NULL, ctl_thread, s)) != 0) {
		rc = certo_fail(CERTO_ENOMEM, "cannot start the control thread: "
		    "%s", strerror(e));
		goto fail;
	}
	s->started = true;
	*out = s;
	return 0;
fail:
	/* Removes the socket file if place_socket() put it there. */
	ctl_server_stop(s);
	return rc;
}

/*
 * Hand the removal of the socket file over to someone else (the
 * daemon's privileged helper): *dev and *ino identify the file, and
 * ctl_server_stop leaves it alone.
 */
void
ctl_server_disown(struct ctl_server *s, dev_t *dev, ino_t *ino)
{
	*dev = s->dev;
	*ino = s->ino;
	s->ino = 0;
}

void
ctl_server_stop(struct ctl_server *s)
{
	struct stat st;

	if (s == NULL)
		return;
	if (s->started) {
		if (write(s->wake[1], "x", 1) < 0)
			log_debug("control: wake: %s", strerror(errno));
		pthread_join(s->thread, NULL);
	}
	while (s->nc > 0)
		client_close(s, s->nc - 1);
	if (s->lfd >= 0)
		close(s->lfd);
	/* Remove the socket file only if it is still the one we made. */
	if (s->ino != 0 && lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == s->dev && st.st_ino == s->ino && unlink(s->path) != 0)
		log_warn("cannot remove the control socket '%s': %s", s->path,
		    strerror(errno));
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	free(s->path);
	free(s);
}

/* --------------------------------------------------------------- client */

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
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	for (;;) {
		r = poll(&p, 1, (int)ms_left(deadline));
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

int
ctl_client_request(const char *path, const char *line, char *reply,
    size_t replylen)
{
	struct sockaddr_un sa;
	struct timespec deadline;
	char buf[CTL_MAX_LINE + 1], shown[160];
	size_t len = strlen(line), off = 0, lines = 0, want = 1;
	const char *err;
	bool list;
	ssize_t r;
	char *nl;
	int fd = -1, rc;

	if (replylen == 0)
		return certo_fail(CERTO_EUSAGE, "no room for the answer");
	reply[0] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return certo_fail(CERTO_EUSAGE, "control socket path '%s' is "
		    "too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (len + 1 >= CTL_MAX_LINE || memchr(line, '\n', len) != NULL)
		return certo_fail(CERTO_EUSAGE, "control request too long or "
		    "with a newline");
	list = strcmp(line, "list") == 0;
	memcpy(buf, line, len);
	buf[len++] = '\n';
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += CTL_CLIENT_TIMEOUT_MS / 1000;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0) {
		rc = certo_fail(CERTO_ENET, "socket: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		/* Permissions are a local problem (exit 4), not the network. */
		rc = certo_fail(e == EACCES || e == EPERM ? CERTO_EIO : CERTO_ENET,
		    "cannot reach certo-responder at '%s': %s%s", path,
		    strerror(e), e == EACCES || e == EPERM ? " (a local "
		    "permission problem: is this user in the socket's group, and "
		    "may it search the socket's directory?)" : e == ENOENT ||
		    e == ECONNREFUSED ? " (is certo-responder running?)" : "");
		goto out;
	}
	for (size_t sent = 0; sent < len;) {
		if ((rc = wait_fd(fd, POLLOUT, &deadline, path)) != 0)
			goto out;
		r = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			rc = certo_fail(CERTO_ENET, "send to certo-responder at "
			    "'%s': %s", path, strerror(errno));
			goto out;
		}
		sent += (size_t)r;
	}
	/* One line; for list, the "OK <n>" line and n more. */
	while (lines < want) {
		if (off + 1 >= replylen) {
			rc = certo_fail(list ? CERTO_ETOOBIG : CERTO_EPROTO,
			    "answer of certo-responder at '%s' too long", path);
			goto out;
		}
		if ((rc = wait_fd(fd, POLLIN, &deadline, path)) != 0)
			goto out;
		r = recv(fd, reply + off, replylen - 1 - off, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			rc = certo_fail(CERTO_ENET, "certo-responder at '%s' closed "
			    "the connection%s%s", path, r < 0 ? ": " : "",
			    r < 0 ? strerror(errno) : "");
			goto out;
		}
		for (char *p = reply + off; p < reply + off + r; p++) {
			if (*p != '\n' || lines == want)
				continue;
			if (++lines == 1 && list && strncmp(reply, "OK ", 3) == 0 &&
			    (rc = list_count(reply + 3, &want)) != 0)
				goto out;
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
	if (strcmp(reply, "OK") == 0 || strncmp(reply, "OK ", 3) == 0) {
		rc = 0;
		goto out;
	}
	if (strncmp(reply, "ERR ", 4) == 0) {
		err = reply + 4;
		rc = certo_fail(CERTO_EPROTO, "certo-responder refused '%s': %s",
		    log_sanitize(buf, sizeof(buf), line, (size_t)-1),
		    log_sanitize(shown, sizeof(shown), err, (size_t)-1));
		goto out;
	}
	rc = certo_fail(CERTO_EPROTO, "malformed answer from certo-responder "
	    "at '%s': '%s'", path, log_sanitize(shown, sizeof(shown), reply,
	    (size_t)-1));
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
