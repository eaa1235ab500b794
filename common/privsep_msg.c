/* Length-prefixed, versioned, typed messages over a socketpair. */
#include "privsep_msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "errors.h"

/* The kinds of fields. */
enum {
	FIELD_U64 = 1,
	FIELD_I64 = 2,
	FIELD_NULL = 3,
	FIELD_STR = 4,
	FIELD_BYTES = 5,
};

/* The header: magic, version, type (16 bits each), payload length. */
#define HDR_LEN 10

void
privsep_msg_init(struct privsep_msg *msg, uint16_t type)
{
	memset(msg, 0, sizeof(*msg));
	msg->type = type;
	buf_init(&msg->buf, PRIVSEP_MAX_MSG);
}

void
privsep_msg_free(struct privsep_msg *msg)
{
	if (msg == NULL)
		return;
	buf_free(&msg->buf);
	msg->pos = 0;
}

static void
put_le(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int
put_field(struct privsep_msg *msg, unsigned char kind, uint64_t v,
    size_t vlen, const void *data, size_t n)
{
	unsigned char h[9];
	int rc;

	h[0] = kind;
	put_le(h + 1, v, vlen);
	if ((rc = buf_add(&msg->buf, h, 1 + vlen)) != 0)
		return rc;
	return n > 0 ? buf_add(&msg->buf, data, n) : 0;
}

int
privsep_put_u64(struct privsep_msg *msg, uint64_t v)
{
	return put_field(msg, FIELD_U64, v, 8, NULL, 0);
}

int
privsep_put_i64(struct privsep_msg *msg, int64_t v)
{
	return put_field(msg, FIELD_I64, (uint64_t)v, 8, NULL, 0);
}

int
privsep_put_str(struct privsep_msg *msg, const char *s)
{
	if (s == NULL)
		return put_field(msg, FIELD_NULL, 0, 0, NULL, 0);
	return put_field(msg, FIELD_STR, strlen(s), 4, s, strlen(s));
}

int
privsep_put_bytes(struct privsep_msg *msg, const void *p, size_t n)
{
	if (n > PRIVSEP_MAX_MSG)
		return CERTO_ETOOBIG;
	return put_field(msg, FIELD_BYTES, n, 4, p, n);
}

/* Remember the first failure of a get; returns it. */
static int
get_failed(struct privsep_msg *msg, int rc)
{
	if (msg->err == 0)
		msg->err = rc;
	return msg->err;
}

/* The next field's kind byte, which must be want; advances past it. */
static int
take_kind(struct privsep_msg *msg, unsigned char want)
{
	if (msg->err != 0)
		return msg->err;
	if (msg->pos >= msg->buf.len ||
	    (unsigned char)msg->buf.data[msg->pos] != want)
		return get_failed(msg, CERTO_EPRIVSEP);
	msg->pos++;
	return 0;
}

static int
take_num(struct privsep_msg *msg, unsigned char kind, uint64_t *v)
{
	int rc;

	if ((rc = take_kind(msg, kind)) != 0)
		return rc;
	if (msg->buf.len - msg->pos < 8)
		return get_failed(msg, CERTO_EPRIVSEP);
	*v = get_le((const unsigned char *)msg->buf.data + msg->pos, 8);
	msg->pos += 8;
	return 0;
}

int
privsep_get_u64(struct privsep_msg *msg, uint64_t *v)
{
	return take_num(msg, FIELD_U64, v);
}

int
privsep_get_i64(struct privsep_msg *msg, int64_t *v)
{
	uint64_t u;
	int rc;

	if ((rc = take_num(msg, FIELD_I64, &u)) == 0)
		*v = (int64_t)u;
	return rc;
}

/* A length-prefixed field of kind: malloc'd copy with a NUL after it. */
static int
take_data(struct privsep_msg *msg, unsigned char kind, char **p,
    size_t *n)
{
	size_t len;
	int rc;

	*p = NULL;
	if ((rc = take_kind(msg, kind)) != 0)
		return rc;
	if (msg->buf.len - msg->pos < 4)
		return get_failed(msg, CERTO_EPRIVSEP);
	len = (size_t)get_le((const unsigned char *)msg->buf.data + msg->pos,
	    4);
	msg->pos += 4;
	if (msg->buf.len - msg->pos < len)
		return get_failed(msg, CERTO_EPRIVSEP);
	if ((*p = malloc(len + 1)) == NULL)
		return get_failed(msg, CERTO_ENOMEM);
	memcpy(*p, msg->buf.data + msg->pos, len);
	(*p)[len] = '\0';
	msg->pos += len;
	if (n != NULL)
		*n = len;
	return 0;
}

int
privsep_get_str(struct privsep_msg *msg, char **s)
{
	size_t n;
	int rc;

	*s = NULL;
	if (msg->err == 0 && msg->pos < msg->buf.len &&
	    (unsigned char)msg->buf.data[msg->pos] == FIELD_NULL) {
		msg->pos++;
		return 0;
	}
	if ((rc = take_data(msg, FIELD_STR, s, &n)) != 0)
		return rc;
	if (strlen(*s) != n) { /* a NUL inside: refused */
		free(*s);
		*s = NULL;
		return get_failed(msg, CERTO_EPRIVSEP);
	}
	return 0;
}

int
privsep_get_bytes(struct privsep_msg *msg, char **p, size_t *n)
{
	return take_data(msg, FIELD_BYTES, p, n);
}

/* Write all of iov (EINTR retried, no SIGPIPE); 0 or CERTO_EPRIVSEP. */
static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return CERTO_EPRIVSEP;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes; 0, or CERTO_EPRIVSEP on end of file/error. */
static int
read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return CERTO_EPRIVSEP;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int
privsep_send(int fd, const struct privsep_msg *msg)
{
	unsigned char h[HDR_LEN];
	int rc;

	put_le(h, PRIVSEP_MAGIC, 2);
	put_le(h + 2, PRIVSEP_VERSION, 2);
	put_le(h + 4, msg->type, 2);
	put_le(h + 6, msg->buf.len, 4);
	if ((rc = write_all(fd, h, sizeof(h))) != 0)
		return rc;
	return msg->buf.len > 0 ? write_all(fd, msg->buf.data, msg->buf.len) :
	    0;
}

int
privsep_recv(int fd, struct privsep_msg *msg, size_t max)
{
	unsigned char h[HDR_LEN];
	size_t len;
	int rc;

	privsep_msg_init(msg, 0);
	if ((rc = read_all(fd, h, sizeof(h))) != 0)
		return rc;
	len = (size_t)get_le(h + 6, 4);
	if (get_le(h, 2) != PRIVSEP_MAGIC || get_le(h + 2, 2) !=
	    PRIVSEP_VERSION || len > max || len > PRIVSEP_MAX_MSG)
		return CERTO_EPRIVSEP;
	msg->type = (uint16_t)get_le(h + 4, 2);
	if (len == 0)
		return 0;
	if ((msg->buf.data = malloc(len + 1)) == NULL) {
		/* Read past it: the next message starts where it should. */
		char sink[4096];

		while (len > 0) {
			size_t n = len < sizeof(sink) ? len : sizeof(sink);

			if ((rc = read_all(fd, sink, n)) != 0)
				return rc;
			len -= n;
		}
		return CERTO_ENOMEM;
	}
	msg->buf.cap = len + 1;
	if ((rc = read_all(fd, msg->buf.data, len)) != 0) {
		privsep_msg_free(msg);
		return rc;
	}
	msg->buf.len = len;
	msg->buf.data[len] = '\0';
	return 0;
}

int
privsep_send_fd(int sock, int fd)
{
	char c = 'F';
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.space;
	mh.msg_controllen = sizeof(u.space);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	for (;;) {
		if (sendmsg(sock, &mh, MSG_NOSIGNAL) == 1)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int
privsep_recv_fd(int sock)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t r;
	int fd;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.space;
	mh.msg_controllen = sizeof(u.space);
	while ((r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 &&
	    errno == EINTR)
		;
	if (r < 0)
		return -errno;
	if (r == 0)
		return -EPIPE;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}
