/*
 * A growable byte buffer with a hard size cap (curl's dynbuf): every
 * buffer filled from the network is one of these.
 */
#ifndef CERTO_BUF_H
#define CERTO_BUF_H

#include <stddef.h>

struct certo_buf {
	char *data;   /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;   /* len never exceeds this */
};

/* Empty buffer that refuses to grow past max bytes. */
void buf_init(struct certo_buf *buf, size_t max);
/* Append n bytes; CERTO_ETOOBIG past the cap, CERTO_ENOMEM. */
int buf_add(struct certo_buf *buf, const void *p, size_t n);
/* Append a string. */
int buf_adds(struct certo_buf *buf, const char *s);
/* Append formatted text. */
int buf_printf(struct certo_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Empty the buffer, keep the memory. */
void buf_reset(struct certo_buf *buf);
/* Take the data (caller frees); the buffer is left empty. */
char *buf_steal(struct certo_buf *buf);
/* Free the memory; safe on a zeroed or freed buffer. */
void buf_free(struct certo_buf *buf);

#endif
