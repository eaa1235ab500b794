/*
 * Allocation-failure injection for the certo-allocfail test binary (the
 * curl "torture" idea).  Linked with -Wl,--wrap=malloc,... so that only
 * certo's own calls (its object files and static libraries) come here;
 * allocations inside GnuTLS, libcurl, json-c and libc stay untouched.
 *
 *   CERTO_FAIL_ALLOC=N        the Nth allocation (1-based) fails, once
 *   CERTO_ALLOC_COUNT=FILE    at exit, write the number of allocations
 *   CERTO_ALLOC_TRACE=1       print the stack of the failed allocation
 *                             (ASan builds; to find the call site)
 *
 * Counting is process-wide and atomic; a forked child keeps counting but
 * only the process that started writes FILE.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t nmemb, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
char *__real_realpath(const char *path, char *resolved);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t nmemb, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
char *__wrap_realpath(const char *path, char *resolved);

/* From the sanitizer runtime when there is one. */
void __sanitizer_print_stack_trace(void) __attribute__((weak));

static unsigned long fail_at;   /* 0: never */
static unsigned long count;
static const char *count_file;
static pid_t first_pid;
static int trace;

static void
allocfail_report(void)
{
	FILE *f;

	if (count_file == NULL || getpid() != first_pid)
		return;
	if ((f = fopen(count_file, "w")) == NULL)
		return;
	fprintf(f, "%lu\n",
	    (unsigned long)__atomic_load_n(&count, __ATOMIC_SEQ_CST));
	fclose(f);
}

__attribute__((constructor)) static void
allocfail_init(void)
{
	const char *s = getenv("CERTO_FAIL_ALLOC");
	char *end;

	if (s != NULL && *s != '\0') {
		errno = 0;
		fail_at = strtoul(s, &end, 10);
		if (errno != 0 || *end != '\0')
			fail_at = 0;
	}
	first_pid = getpid();
	trace = (s = getenv("CERTO_ALLOC_TRACE")) != NULL && *s == '1';
	if ((count_file = getenv("CERTO_ALLOC_COUNT")) != NULL &&
	    *count_file != '\0')
		atexit(allocfail_report);
	else
		count_file = NULL;
}

/* Count one allocation; true if this is the one to fail. */
static int
allocfail_now(void)
{
	unsigned long n = __atomic_add_fetch(&count, 1, __ATOMIC_SEQ_CST);

	if (fail_at != 0 && n == fail_at) {
		if (trace && __sanitizer_print_stack_trace != NULL) {
			fprintf(stderr, "certo-allocfail: failing allocation "
			    "%lu here:\n", n);
			__sanitizer_print_stack_trace();
		}
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *
__wrap_malloc(size_t n)
{
	return allocfail_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t nmemb, size_t n)
{
	return allocfail_now() ? NULL : __real_calloc(nmemb, n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return allocfail_now() ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	return allocfail_now() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return allocfail_now() ? NULL : __real_strndup(s, n);
}

int
__wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
	/* On failure *out is left alone: glibc leaves it undefined too. */
	if (allocfail_now())
		return -1;
	return __real_vasprintf(out, fmt, ap);
}

int
__wrap_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (allocfail_now())
		return -1;
	va_start(ap, fmt);
	r = __real_vasprintf(out, fmt, ap);
	va_end(ap);
	return r;
}

char *
__wrap_realpath(const char *path, char *resolved)
{
	if (resolved == NULL && allocfail_now())
		return NULL;
	return __real_realpath(path, resolved);
}
