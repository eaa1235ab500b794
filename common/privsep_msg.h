/*
 * The messages between certo's key-and-state process and its network
 * process (client/privsep.c, client/netproc.c): over a socketpair, each
 * message is a header (magic, protocol version, type, payload length)
 * and a payload of typed fields read back in the order they were
 * written.  Every read is bounded: a message longer than its cap, a
 * field of the wrong kind, a string with a NUL byte or a payload read
 * past its end is refused (CERTO_EPRIVSEP), never half-used.
 */
#ifndef CERTO_PRIVSEP_MSG_H
#define CERTO_PRIVSEP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PRIVSEP_MAGIC 0x4345u         /* "CE" */
#define PRIVSEP_VERSION 1u
#define PRIVSEP_MAX_MSG (4u * 1024 * 1024)

/* One message being built or read. */
struct privsep_msg {
	uint16_t type;
	struct certo_buf buf;   /* the payload */
	size_t pos;             /* read position in buf */
	int err;                /* the first failed get: CERTO_EPRIVSEP
	                         * (malformed) or CERTO_ENOMEM; later gets
	                         * fail with it too */
};

/* An empty message of type (payload capped at PRIVSEP_MAX_MSG). */
void privsep_msg_init(struct privsep_msg *msg, uint16_t type);
/* Release the payload; safe on a zeroed message and twice. */
void privsep_msg_free(struct privsep_msg *msg);

/* Append a field; CERTO_ENOMEM or CERTO_ETOOBIG past the cap. */
int privsep_put_u64(struct privsep_msg *msg, uint64_t v);
int privsep_put_i64(struct privsep_msg *msg, int64_t v);
/* A string or NULL (read back as NULL). */
int privsep_put_str(struct privsep_msg *msg, const char *s);
int privsep_put_bytes(struct privsep_msg *msg, const void *p, size_t n);

/*
 * Read the next field, which must be of that kind.  Strings and bytes
 * are malloc'd (the caller frees; bytes get a NUL after them too);
 * *n is their length.  Returns 0 or CERTO_EPRIVSEP / CERTO_ENOMEM.
 */
int privsep_get_u64(struct privsep_msg *msg, uint64_t *v);
int privsep_get_i64(struct privsep_msg *msg, int64_t *v);
int privsep_get_str(struct privsep_msg *msg, char **s);
int privsep_get_bytes(struct privsep_msg *msg, char **p, size_t *n);

/*
 * Send msg on fd (whole, EINTR retried).  Returns 0 or CERTO_EPRIVSEP
 * when the peer is gone.
 */
int privsep_send(int fd, const struct privsep_msg *msg);
/*
 * Receive one message from fd into msg (initialised here): the header
 * checked (magic, version, length at most max).  Returns 0,
 * CERTO_EPRIVSEP on end of file or a bad header, CERTO_ENOMEM (the
 * payload read and dropped: the stream stays in step; msg->type set).
 * Signals do not interrupt it.
 */
int privsep_recv(int fd, struct privsep_msg *msg, size_t max);

/* Pass a descriptor over a unix socket (SCM_RIGHTS); 0 or -errno. */
int privsep_send_fd(int sock, int fd);
/* Receive one; returns the descriptor (O_CLOEXEC) or -errno (-EPIPE on
 * end of file). */
int privsep_recv_fd(int sock);

#endif
