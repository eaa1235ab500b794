/* Bounded growable buffer. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

/* Empty buffer that refuses to grow past max bytes. */
void
buf_init(struct certo_buf *buf, size_t max)
{
	buf->data = NULL;
	buf->len = buf->cap = 0;
	buf->max = max;
}

/* Append n bytes. */
int
buf_add(struct certo_buf *buf, const void *p, size_t n)
{
	size_t need, ncap;
	char *np;

	if (n > buf->max || buf->len > buf->max - n)
		return CERTO_ETOOBIG;
	need = buf->len + n + 1;
	if (need > buf->cap) {
		ncap = buf->cap ? buf->cap : 256;
		while (ncap < need)
			ncap *= 2;
		if ((np = realloc(buf->data, ncap)) == NULL)
			return CERTO_ENOMEM;
		buf->data = np;
		buf->cap = ncap;
	}
	if (n > 0)
		memcpy(buf->data + buf->len, p, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
	return 0;
}

/* Append a string. */
int
buf_adds(struct certo_buf *buf, const char *s)
{
	return buf_add(buf, s, strlen(s));
}

/* Append formatted text. */
int
buf_printf(struct certo_buf *buf, const char *fmt, ...)
{
	va_list ap;
	char small[512], *big;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return CERTO_ENOMEM;
	if ((size_t)n < sizeof(small))
		return buf_add(buf, small, (size_t)n);
	if ((big = malloc((size_t)n + 1)) == NULL)
		return CERTO_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = buf_add(buf, big, (size_t)n);
	free(big);
	return rc;
}

/* Empty the buffer, keep the memory. */
void
buf_reset(struct certo_buf *buf)
{
	buf->len = 0;
	if (buf->data)
		buf->data[0] = '\0';
}

/* Take the data (caller frees). */
char *
buf_steal(struct certo_buf *buf)
{
	char *p = buf->data;

	if (p == NULL)
		p = calloc(1, 1);
	buf->data = NULL;
	buf->len = buf->cap = 0;
	return p;
}

/* Free the memory. */
void
buf_free(struct certo_buf *buf)
{
	if (buf == NULL)
		return;
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}
