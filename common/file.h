/*
 * Files: atomic writes (temp file, fchmod, write, fsync, rename, fsync of
 * the directory, as acme-client's fileproc), private directories, and
 * reading with a size cap and a permission check for secrets.
 */
#ifndef CERTO_FILE_H
#define CERTO_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CERTO_FILE_MAX (1024 * 1024)

/*
 * Create dir and its missing parents with mode 0700 (existing ones are
 * left as they are, except the last, which is chmod'ed 0700 when we own
 * it and it is wider).  Returns 0 or CERTO_EIO with a message.
 */
int file_mkdirs(const char *dir);

/*
 * Write len bytes to path atomically with the given mode: a temp file in
 * the same directory, fsync, rename over path, fsync the directory.  On
 * any failure the temp file is removed and path is untouched.
 * With exclusive, fails with CERTO_EIO if path exists (link instead of
 * rename, so a racing writer cannot be overwritten).
 */
int file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, bool exclusive);

/*
 * Read a whole file of at most max bytes into a malloc'd NUL-terminated
 * buffer.  With secret, refuse a file that group or others can access
 * (CERTO_EKEYPERM).  A missing file is CERTO_EIO with errno ENOENT kept
 * in *missing when missing is not NULL.
 */
int file_read(const char *path, size_t max, bool secret, char **out,
    size_t *outlen, bool *missing);

/* True if path exists (any type). */
bool file_exists(const char *path);

/* Join a and b with a '/' into a malloc'd string, or NULL. */
char *file_join(const char *a, const char *b);

#endif
