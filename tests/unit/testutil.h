/*
 * Helpers shared by the unit tests: fixture files, scratch directories,
 * and an independent base64url encoder to check the library's against.
 * cmocka needs <stdarg.h>, <stddef.h>, <stdint.h> and <setjmp.h> first.
 */
#ifndef CERTO_TESTUTIL_H
#define CERTO_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR must be defined by the build"
/* A NUL-terminated copy of exactly n bytes (decoded buffers have no NUL). */
char *tu_memdup0(const void *p, size_t n);

#endif


/*
 * Read tests/fixtures/<name> into a malloc'd NUL-terminated buffer (its
 * length in *len when len is not NULL).  Fails the test if unreadable.
 */
char *tu_fixture(const char *name, size_t *len);
/* The fixture's path, malloc'd. */
char *tu_fixture_path(const char *name);

/* A fresh private scratch directory under $TMPDIR (malloc'd). */
char *tu_tmpdir(void);
/* Remove dir and everything below it; frees nothing. */
void tu_rmtree(const char *dir);
/* dir "/" name, malloc'd. */
char *tu_path(const char *dir, const char *name);
/* Write len bytes to path with mode (exactly: umask is undone). */
void tu_write(const char *path, const void *data, size_t len, mode_t mode);
/* Copy a fixture into dir with mode; returns the new path (malloc'd). */
char *tu_copy_fixture(const char *dir, const char *name, mode_t mode);
/* Number of entries in dir whose name contains needle. */
int tu_count_entries(const char *dir, const char *needle);

/* base64url without padding, written independently of common/b64.c. */
char *tu_b64url(const void *p, size_t n);
/* True if s contains no byte < 0x20 or 0x7f (and no byte >= 0x80). */
int tu_printable(const char *s);

/*
 * JSON fixture mutation for malformed variants: parse the fixture,
 * apply one change at a dotted path ("meta.website", "challenges.0.token"),
 * return the serialised document (malloc'd).  With value NULL the member
 * is deleted; otherwise value is JSON text that replaces it.
 */
char *tu_json_edit(const char *fixture, const char *path, const char *value);
/* The same on JSON text instead of a fixture, to chain edits. */
char *tu_json_edit_text(const char *json, const char *path,
    const char *value);
/* A NULL-terminated vector of strdup'd strings (for char *const *). */
char **tu_strv(const char *first, ...);
size_t tu_strv_len(char *const *v);
void tu_strv_free(char **v);
/* A string of n copies of c, malloc'd. */
char *tu_repeat(char c, size_t n);

/* A NUL-terminated copy of exactly n bytes (decoded buffers have no NUL). */
char *tu_memdup0(const void *p, size_t n);

/* A pid that was just in use and is no longer (a reaped child). */
long tu_dead_pid(void);
/*
 * Run fn(arg) with stderr captured; returns what it wrote (malloc'd,
 * at most 8 KiB) and *rc gets fn's result.
 */
char *tu_stderr_of(int (*fn)(void *), void *arg, int *rc);

#endif
