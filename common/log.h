/*
 * Logging: progress lines on stdout, errors and warnings on stderr,
 * protocol detail with -v.  Strings that come from the network must go
 * through log_sanitize() (acme-client's stravis) before printing.
 */
#ifndef CERTO_LOG_H
#define CERTO_LOG_H

#include <stddef.h>

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2 };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Set the program name printed before errors ("certo"). */
void log_set_progname(const char *name);
struct json_object;

/* Switch progress output to JSON lines (--json). */
void log_set_json(int on);
int log_get_json(void);
/*
 * A progress event: with --json one JSON object per line on stdout,
 * {"time":..., "event": event, "message": text, ...fields}; else the
 * text as a progress line.  fields (may be NULL) is consumed.
 */
void log_event(const char *event, struct json_object *fields,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A progress line on stdout (suppressed by -q and --json). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Protocol detail on stderr, only with -v. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning on stderr (suppressed by -q). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error line on stderr, always shown: "certo: <msg>". */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy src (n bytes, or up to NUL if n is (size_t)-1) into dst, making
 * it printable: control and non-ASCII bytes become \xHH, the result is
 * cut to dstlen-1 bytes with "..." when too long.  Returns dst.
 */
char *log_sanitize(char *dst, size_t dstlen, const char *src, size_t n);

/*
 * log_sanitize() of a whole NUL-terminated string: the usual way to show
 * a string from the network.  Returns dst.
 */
char *log_str(char *dst, size_t dstlen, const char *src);

/*
 * A message made printable by another process (the network process's
 * error messages, already log_str()'d there): src as it is when every
 * byte is printable ASCII, else log_str() of it.  Printable either way,
 * and escaped only once.  Returns dst.
 */
char *log_printable(char *dst, size_t dstlen, const char *src);

struct json_object;
/* {"url": url} for a log_event's fields (NULL if out of memory). */
struct json_object *log_fields_url(const char *url);

#endif
