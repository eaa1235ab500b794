/* Logging and sanitising of untrusted strings. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

static enum log_level level = LOG_NORMAL;
static int json_mode;
static const char *progname = "certo";

/* Set how much is printed (-q, -v). */
void
log_set_level(enum log_level lvl)
{
	level = lvl;
}

/* How much is printed. */
enum log_level
log_get_level(void)
{
	return level;
}

/* Set the program name printed before errors ("certo"). */
void
log_set_progname(const char *name)
{
	progname = name;
}

/* Switch progress output to JSON lines (--json). */
void
log_set_json(int on)
{
	json_mode = on;
}

/* True with --json. */
int
log_get_json(void)
{
	return json_mode;
}

/* A progress event: a JSON line with --json, else a progress line. */
void
log_event(const char *event, struct json_object *fields, const char *fmt,
    ...)
{
	char msg[4096], stamp[32];
	struct json_object *doc = fields;
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!json_mode) {
		json_object_put(fields);
		if (level >= LOG_NORMAL) {
			fputs(msg, stdout);
			fputc('\n', stdout);
			fflush(stdout);
		}
		return;
	}
	if (doc == NULL && (doc = json_object_new_object()) == NULL)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(doc, "time", json_object_new_string(stamp));
	json_object_object_add(doc, "event", json_object_new_string(event));
	json_object_object_add(doc, "message", json_object_new_string(msg));
	fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
	fputc('\n', stdout);
	fflush(stdout);
	json_object_put(doc);
}

/* A progress line on stdout (suppressed by -q and --json). */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_NORMAL || json_mode)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Protocol detail on stderr, only with -v. */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_VERBOSE)
		return;
	fprintf(stderr, "%s: debug: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A warning on stderr (suppressed by -q). */
void
log_warn(const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_NORMAL)
		return;
	fprintf(stderr, "%s: warning: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* An error line on stderr, always shown. */
void
log_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Copy src (n bytes, or up to NUL if n is (size_t)-1) into dst, making
 * it printable.
 */
char *
log_sanitize(char *dst, size_t dstlen, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	if (dstlen == 0)
		return dst;
	if (src == NULL)
		src = "(null)";
	if (n == (size_t)-1)
		n = strlen(src);
	for (i = 0; i < n; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstlen)
				goto cut;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstlen)
				goto cut;
			dst[o++] = '\\';
			if (c == '\\') {
				dst[o++] = '\\';
				continue;
			}
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
cut:
	if (dstlen >= 4) {
		o = o > dstlen - 4 ? dstlen - 4 : o;
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o < dstlen ? o : dstlen - 1] = '\0';
	return dst;
}

/* log_sanitize() of a whole NUL-terminated string. */
char *
log_str(char *dst, size_t dstlen, const char *src)
{
	return log_sanitize(dst, dstlen, src != NULL ? src : "(null)",
	    (size_t)-1);
}

char *
log_printable(char *dst, size_t dstlen, const char *src)
{
	const char *p;

	if (src == NULL || dstlen == 0)
		return log_str(dst, dstlen, src);
	for (p = src; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return log_str(dst, dstlen, src);
	if ((size_t)(p - src) >= dstlen)
		return log_str(dst, dstlen, src);
	memcpy(dst, src, (size_t)(p - src) + 1);
	return dst;
}

struct json_object *
log_fields_url(const char *url)
{
	struct json_object *fields = json_object_new_object();

	if (fields != NULL)
		json_object_object_add(fields, "url",
		    json_object_new_string(url));
	return fields;
}
