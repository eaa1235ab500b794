/*
 * The certo-responder control socket: the line parser (pure: it sees
 * whatever a local client sends) and the server (one poll() thread,
 * non-blocking clients with bounded buffers and an idle timeout).  The
 * one-shot client used by certo issue --responder is ctl_client.c.
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
#define CTL_MAX_FIELDS 5
#define CTL_BACKOFF_S 1              /* out of descriptors: pause accept() */

/* --------------------------------------------------------------- parser */

/* Field f (n bytes) equals the string s. */
static bool
field_is(const char *f, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(f, s, n) == 0;
}

/* The challenge type a field names: http-01 or tls-alpn-01 only. */
static enum chall_type
type_field(const char *f, size_t n)
{
	char name[16];
	enum chall_type type;

	if (n >= sizeof(name))
		return CHALL_UNKNOWN;
	memcpy(name, f, n);
	name[n] = '\0';
	type = challenge_type_parse(name);
	return type == CHALL_HTTP01 || type == CHALL_TLSALPN01 ? type :
	    CHALL_UNKNOWN;
}

/*
 * A valid identifier (ident_classify): a lower-case DNS name, or an IP
 * literal rewritten in its canonical text form (so "2001:DB8::1" and
 * "2001:db8:0::1" name the same entry).
 */
static bool
ident_field(const char *f, size_t n, char *out, size_t outlen)
{
	unsigned char addr[16];
	char tmp[TOKENS_MAX_IDENT + 1];

	if (n == 0 || n > TOKENS_MAX_IDENT || n >= outlen)
		return false;
	memcpy(tmp, f, n);
	tmp[n] = '\0';
	switch (ident_classify(tmp, false, addr, NULL)) {
	case IDENT_IPV4:
		return inet_ntop(AF_INET, addr, out, (socklen_t)outlen) != NULL;
	case IDENT_IPV6:
		return inet_ntop(AF_INET6, addr, out, (socklen_t)outlen) != NULL;
	case IDENT_DNS:
		memcpy(out, tmp, n + 1);
		return true;
	case IDENT_INVALID:
		break;
	}
	return false;
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

/*
 * Parse one control line into *req; see ctl.h.  Every field is checked
 * here, so the server acts on typed, validated values only.
 */
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
	if ((req->type = type_field(f[1], fl[1])) == CHALL_UNKNOWN)
		return *err = "bad type", CERTO_EUSAGE;
	if (!ident_field(f[2], fl[2], req->ident, sizeof(req->ident)))
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
	struct ctl_client *clients[CTL_MAX_CLIENTS];
	size_t nclients;
	time_t paused_until;         /* accept again from then (EMFILE) */
	time_t warn_at;
};

static void
client_close(struct ctl_server *srv, size_t i)
{
	struct ctl_client *client = srv->clients[i];

	close(client->fd);
	free(client->out);
	free(client);
	srv->clients[i] = srv->clients[--srv->nclients];
	srv->clients[srv->nclients] = NULL;
}

/* Queue an answer (text without the final \n). */
static int
client_answer(struct ctl_client *client, const char *text)
{
	size_t n = strlen(text);

	free(client->out);
	client->outoff = 0;
	client->outlen = 0;
	if ((client->out = malloc(n + 1)) == NULL)
		return CERTO_ENOMEM;
	memcpy(client->out, text, n);
	client->out[n] = '\n';
	client->outlen = n + 1;
	return 0;
}

/* "OK <n>" and one "<type> <ident> <token>" line per live entry. */
static int
list_answer(struct ctl_server *srv, struct ctl_client *client)
{
	struct token_table *table = srv->tokens;
	size_t cap, off = 0, n;
	char *b;
	int w;

	tokens_expire(table, time(NULL));
	pthread_mutex_lock(&table->lock);
	n = table->count;
	cap = 32 + n * (12 + TOKENS_MAX_IDENT + TOKENS_MAX_TOKEN + 3);
	if (cap > CTL_MAX_LIST) {
		pthread_mutex_unlock(&table->lock);
		return client_answer(client, "ERR list too long");
	}
	if ((b = malloc(cap)) == NULL) {
		pthread_mutex_unlock(&table->lock);
		return client_answer(client, "ERR out of memory");
	}
	w = snprintf(b, cap, "OK %zu\n", n);
	off = (size_t)w;
	for (size_t i = 0; i < n && off < cap; i++) {
		w = snprintf(b + off, cap - off, "%s %s %s\n",
		    challenge_type_name(table->entries[i].type), table->entries[i].ident,
		    table->entries[i].token);
		if (w < 0 || (size_t)w >= cap - off)
			break;
		off += (size_t)w;
	}
	pthread_mutex_unlock(&table->lock);
	free(client->out);
	client->out = b;
	client->outlen = off;
	client->outoff = 0;
	return 0;
}

/* Carry out one request line and queue its answer. */
static int
client_line(struct ctl_server *srv, struct ctl_client *client,
    const char *line, size_t len)
{
	struct ctl_request req;
	const char *err;
	char shown[96], ans[64];
	int rc;

	if (ctl_parse_line(line, len, &req, &err) != 0) {
		log_debug("control: uid %ld: rejected '%s': %s",
		    (long)client->uid, log_sanitize(shown, sizeof(shown), line,
		    len), err);
		snprintf(ans, sizeof(ans), "ERR %s", err);
		return client_answer(client, ans);
	}
	switch (req.cmd) {
	case CTL_AUTH:
		rc = tokens_add(srv->tokens, req.type, req.ident, req.token,
		    req.keyauth);
		memset(req.keyauth, 0, sizeof(req.keyauth));
		if (rc == 0)
			log_info("control: auth %s %s %s",
			    challenge_type_name(req.type),
			    req.ident, req.token);
		return client_answer(client, rc == 0 ? "OK" :
		    rc == CERTO_ETOOBIG ? "ERR table full" :
		    rc == CERTO_ENOMEM ? "ERR out of memory" :
		    rc == CERTO_ESTORE || rc == CERTO_ESTOREAUTH ?
		    "ERR store unreachable" : "ERR rejected");
	case CTL_UNAUTH:
		rc = tokens_remove(srv->tokens, req.type, req.ident, req.token);
		if (rc == 0)
			log_info("control: unauth %s %s %s",
			    challenge_type_name(req.type),
			    req.ident, req.token);
		return client_answer(client, rc == 0 ? "OK" : "ERR not found");
	case CTL_LIST:
		log_debug("control: uid %ld: list", (long)client->uid);
		return list_answer(srv, client);
	}
	return client_answer(client, "ERR internal error");
}

/*
 * Write what is pending, then handle buffered lines one at a time while
 * nothing is pending (a client that does not read its answers stops
 * being read).  Returns false when the client is to be closed.
 */
static bool
client_run(struct ctl_server *srv, struct ctl_client *client)
{
	char *nl;
	ssize_t w;
	size_t len;

	for (;;) {
		while (client->outoff < client->outlen) {
			w = send(client->fd, client->out + client->outoff,
			    client->outlen - client->outoff, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return true;
			if (w <= 0)
				return false;
			client->outoff += (size_t)w;
		}
		free(client->out);
		client->out = NULL;
		client->outlen = client->outoff = 0;
		if (client->closing)
			return false;
		if ((nl = memchr(client->in, '\n', client->inlen)) == NULL) {
			if (client->inlen < sizeof(client->in))
				return true;
			/* A full buffer without a newline. */
			client->closing = true;
			client->inlen = 0;
			if (client_answer(client, "ERR line too long") != 0)
				return false;
			continue;
		}
		len = (size_t)(nl - client->in);
		if (client_line(srv, client, client->in, len) != 0)
			return false;
		memmove(client->in, nl + 1, client->inlen - len - 1);
		client->inlen -= len + 1;
	}
}

/* Read what is there; false to close. */
static bool
client_read(struct ctl_server *srv, struct ctl_client *client)
{
	ssize_t r;

	if (client->inlen == sizeof(client->in) ||
	    client->outoff < client->outlen)
		return client_run(srv, client);
	r = recv(client->fd, client->in + client->inlen,
	    sizeof(client->in) - client->inlen, 0);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return true;
	if (r <= 0)
		return false;
	client->inlen += (size_t)r;
	return client_run(srv, client);
}

/*
 * Accept what is waiting.  Out of descriptors or memory, the listener
 * is left out of poll() for CTL_BACKOFF_S, as it would stay readable
 * and make the thread spin.
 */
static void
accept_clients(struct ctl_server *srv, time_t now)
{
	struct ctl_client *client;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	int fd;

	for (;;) {
		if ((fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				if (now >= srv->warn_at) {
					log_warn("control: accept: %s; pausing",
					    strerror(errno));
					srv->warn_at = now + 10;
				}
				srv->paused_until = now + CTL_BACKOFF_S;
			}
			return;
		}
		if (srv->nclients == CTL_MAX_CLIENTS ||
		    (client = calloc(1, sizeof(*client))) == NULL) {
			static const char busy[] = "ERR busy\n";
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL |
			    MSG_DONTWAIT) < 0)
				log_debug("control: busy answer: %s",
				    strerror(errno));
			close(fd);
			continue;
		}
		client->fd = fd;
		client->last = now;
		client->uid = (uid_t)-1;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0)
			client->uid = cr.uid;
		srv->clients[srv->nclients++] = client;
	}
}

static void *
ctl_thread(void *arg)
{
	struct ctl_server *srv = arg;
	struct pollfd pfd[2 + CTL_MAX_CLIENTS];
	struct ctl_client *client;
	time_t now;
	size_t i, n;
	bool keep;

	for (;;) {
		pfd[0].fd = srv->wake[0];
		pfd[0].events = POLLIN;
		/* A negative descriptor is left out by poll(). */
		pfd[1].fd = time(NULL) < srv->paused_until ? -1 : srv->lfd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		for (i = 0; i < srv->nclients; i++) {
			client = srv->clients[i];
			pfd[2 + i].fd = client->fd;
			pfd[2 + i].events = client->outoff < client->outlen ?
			    POLLOUT : POLLIN;
			pfd[2 + i].revents = 0;
		}
		n = srv->nclients;
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
			client = srv->clients[i];
			keep = true;
			if (pfd[2 + i].revents & (POLLIN | POLLOUT))
				keep = pfd[2 + i].revents & POLLOUT ?
				    client_run(srv, client) :
				    client_read(srv, client);
			else if (pfd[2 + i].revents & (POLLERR | POLLHUP |
			    POLLNVAL))
				keep = false;
			if (keep && pfd[2 + i].revents)
				client->last = now;
			if (keep && now - client->last >= CTL_IDLE_S)
				keep = false;
			if (!keep)
				client_close(srv, i);
		}
		if (pfd[1].revents & POLLIN)
			accept_clients(srv, now);
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
 * Bind srv->lfd as "s" inside the private directory tmp (open as dfd)
 * and listen.  The umask keeps the socket at 0600 until its chmod.
 */
static int
bind_private(struct ctl_server *srv, const char *path, const char *tmp,
    int dfd)
{
	struct sockaddr_un sa;
	mode_t old;
	int e;

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
	e = bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	umask(old);
	if (e != 0)
		return certo_fail(CERTO_EBIND, "cannot create the control socket "
		    "'%s': %s", path, strerror(e));
	if (listen(srv->lfd, 64) != 0)
		return certo_fail(CERTO_EBIND, "listen on '%s': %s", path,
		    strerror(errno));
	return 0;
}

/*
 * Give "s" in dfd its group and mode, then move it to path without
 * replacing anything (RENAME_NOREPLACE, or link() where the file system
 * lacks it).  Records its device and inode in srv.
 */
static int
publish_socket(struct ctl_server *srv, const char *path, mode_t mode,
    gid_t gid, int dfd)
{
	struct stat st;
	int e;

	if (gid != (gid_t)-1 && fchownat(dfd, "s", (uid_t)-1, gid,
	    AT_SYMLINK_NOFOLLOW) != 0)
		return certo_fail(CERTO_EIO, "cannot give the control socket "
		    "'%s' to group %ld: %s", path, (long)gid, strerror(errno));
	if (fchmodat(dfd, "s", mode & 0777, 0) != 0 ||
	    fstatat(dfd, "s", &st, AT_SYMLINK_NOFOLLOW) != 0)
		return certo_fail(CERTO_EIO, "cannot chmod the control socket "
		    "'%s': %s", path, strerror(errno));
	e = renameat2(dfd, "s", AT_FDCWD, path, RENAME_NOREPLACE) == 0 ? 0 :
	    errno;
	if (e == EINVAL || e == ENOSYS)
		e = linkat(dfd, "s", AT_FDCWD, path, 0) == 0 ? 0 : errno;
	if (e == EEXIST)
		return certo_fail(CERTO_EBIND, "'%s' appeared while the control "
		    "socket was being created; refusing to replace it", path);
	if (e != 0)
		return certo_fail(CERTO_EBIND, "cannot create the control socket "
		    "'%s': %s", path, strerror(e));
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	return 0;
}

/*
 * Bind and listen, and give the socket its group and mode, inside a
 * private 0700 directory next to path; then move it into place.  So
 * path never is a socket with other permissions, and nothing is changed
 * by path name where others may write: a symlink planted in a writable
 * directory cannot redirect the chown or chmod.
 */
static int
place_socket(struct ctl_server *srv, const char *path, mode_t mode, gid_t gid)
{
	char copy[PATH_MAX], tmp[PATH_MAX];
	int dfd = -1, rc;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy) ||
	    snprintf(tmp, sizeof(tmp), "%s/.certo-ctl.XXXXXX",
	    dirname(copy)) >= (int)sizeof(tmp))
		return certo_fail(CERTO_ECONFIG, "control socket path too long");
	if (mkdtemp(tmp) == NULL)
		return certo_fail(CERTO_EBIND, "cannot create the control socket "
		    "'%s': %s", path, strerror(errno));
	if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		rc = certo_fail(CERTO_EBIND, "cannot create the control socket "
		    "'%s': %s", path, strerror(errno));
	else if ((rc = bind_private(srv, path, tmp, dfd)) == 0)
		rc = publish_socket(srv, path, mode, gid, dfd);
	if (dfd >= 0) {
		/* Gone after a rename; the second name after a link. */
		if (unlinkat(dfd, "s", 0) != 0 && errno != ENOENT)
			log_debug("control: %s/s: %s", tmp, strerror(errno));
		close(dfd);
	}
	if (rmdir(tmp) != 0)
		log_warn("control: cannot remove '%s': %s", tmp, strerror(errno));
	return rc;
}

/*
 * A file already at path: a stale socket nobody listens on is removed;
 * a live one (CERTO_EADDRINUSE) or any other file is refused.
 */
static int
clear_stale_socket(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return certo_fail(CERTO_EBIND, "control socket '%s': %s", path,
		    strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return certo_fail(CERTO_EBIND, "control socket path '%s' exists "
		    "and is not a socket; refusing to replace it", path);
	if (socket_live(sa))
		return certo_fail(CERTO_EADDRINUSE, "another process is "
		    "listening on the control socket '%s'", path);
	if (unlink(path) != 0)
		return certo_fail(CERTO_EBIND, "cannot remove the stale control "
		    "socket '%s': %s", path, strerror(errno));
	return 0;
}

/*
 * Listen on path, no thread yet (ctl_server_run); see ctl.h.  On
 * failure nothing is left behind (no socket file).
 */
int
ctl_server_listen(const char *path, mode_t mode, gid_t gid,
    struct token_table *tokens, struct ctl_server **out)
{
	struct ctl_server *srv = NULL;
	struct sockaddr_un sa;
	int rc;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return certo_fail(CERTO_ECONFIG, "control socket path '%s' is "
		    "longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return CERTO_ENOMEM;
	srv->lfd = srv->wake[0] = srv->wake[1] = -1;
	srv->tokens = tokens;
	if ((srv->path = strdup(path)) == NULL) {
		rc = CERTO_ENOMEM;
		goto fail;
	}
	if ((rc = clear_stale_socket(path, &sa)) != 0)
		goto fail;
	if (pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = certo_fail(CERTO_EIO, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		rc = certo_fail(CERTO_EBIND, "socket: %s", strerror(errno));
		goto fail;
	}
	if ((rc = place_socket(srv, path, mode, gid)) != 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	/* Removes the socket file if place_socket() put it there. */
	ctl_server_stop(srv);
	return rc;
}

/* Serve the socket of ctl_server_listen() from a new thread; see ctl.h. */
int
ctl_server_run(struct ctl_server *srv)
{
	int e;

	if ((e = pthread_create(&srv->thread, NULL, ctl_thread, srv)) != 0)
		return certo_fail(CERTO_ENOMEM, "cannot start the control "
		    "thread: %s", strerror(e));
	srv->started = true;
	return 0;
}

/*
 * ctl_server_listen() and ctl_server_run(); see ctl.h.  On failure
 * nothing is left behind (no thread, no socket file).
 */
int
ctl_server_start(const char *path, mode_t mode, gid_t gid,
    struct token_table *tokens, struct ctl_server **out)
{
	int rc;

	if ((rc = ctl_server_listen(path, mode, gid, tokens, out)) != 0)
		return rc;
	if ((rc = ctl_server_run(*out)) != 0) {
		ctl_server_stop(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * Hand the removal of the socket file over to someone else (the
 * daemon's privileged helper): *dev and *ino identify the file, and
 * ctl_server_stop leaves it alone.
 */
void
ctl_server_disown(struct ctl_server *srv, dev_t *dev, ino_t *ino)
{
	*dev = srv->dev;
	*ino = srv->ino;
	srv->ino = 0;
}

/*
 * Stop the thread, close every client and remove the socket file if it
 * is still the one we made (and not disowned).  NULL is fine.
 */
void
ctl_server_stop(struct ctl_server *srv)
{
	struct stat st;

	if (srv == NULL)
		return;
	if (srv->started) {
		if (write(srv->wake[1], "x", 1) < 0)
			log_debug("control: wake: %s", strerror(errno));
		pthread_join(srv->thread, NULL);
	}
	while (srv->nclients > 0)
		client_close(srv, srv->nclients - 1);
	if (srv->lfd >= 0)
		close(srv->lfd);
	/* Remove the socket file only if it is still the one we made. */
	if (srv->ino != 0 && lstat(srv->path, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == srv->dev &&
	    st.st_ino == srv->ino && unlink(srv->path) != 0)
		log_warn("cannot remove the control socket '%s': %s", srv->path,
		    strerror(errno));
	if (srv->wake[0] >= 0)
		close(srv->wake[0]);
	if (srv->wake[1] >= 0)
		close(srv->wake[1]);
	free(srv->path);
	free(srv);
}
