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
 * Write len bytes to path atomically with the given mode: a temp file
 * "<path>.tmp.<pid>.XXXXXX" in the same directory, locked (flock) until
 * its name is gone, fsync, rename over path, fsync the directory.  On
 * any failure the temp file is removed and path is untouched; after a
 * SIGKILL, file_claim_stale() lets the next run remove it.
 * With exclusive, fails with CERTO_EIO if path exists (link instead of
 * rename, so a racing writer cannot be overwritten).
 */
int file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, bool exclusive);

/*
 * Write len bytes to path, a new name inside a private staging directory
 * (file_staging_dir: locked, not yet renamed into place): created with
 * O_EXCL under its final name, written, its write-back started.  No
 * temporary name, no rename, no fsync yet: nobody sees the directory
 * before it is complete, and the caller makes it durable with one
 * file_sync_staged() before renaming it into place (a SIGKILL leaves a
 * stale staging directory, which the next run removes).  On failure
 * path is removed.
 */
int file_write_staged(const char *path, const void *data, size_t len,
    mode_t mode);
/*
 * Make a staging directory durable before it is renamed into place:
 * fsync every file in it, then the directory.  The files' write-back was
 * started when they were written, so the file system commits them
 * together (one journal commit on ext4 instead of one per file).
 * Returns 0 or CERTO_EIO naming the file.
 */
int file_sync_staged(const char *dir);

/* fsync a directory (after entries in it were created or renamed). */
int file_fsync_dir(const char *dir);

/*
 * Make a private staging directory "<parent>/.<base>.<kind>.<pid>.XXXXXX"
 * (kind "new" for something being built, "del" for something being
 * removed) and hold an flock on it: *path (malloc'd) and *fd (close it
 * once the directory was renamed away or removed).
 */
int file_staging_dir(const char *parent, const char *base, const char *kind,
    char **path, int *fd);

/* What a temporary name is (made by file_write_atomic, file_staging_dir). */
enum file_temp {
	FILE_TEMP_NONE,  /* not a temporary name */
	FILE_TEMP_TMP,   /* "<name>.tmp.<pid>.XXXXXX": a file being written */
	FILE_TEMP_NEW,   /* ".<name>.new.<pid>.XXXXXX": a set being built */
	FILE_TEMP_DEL,   /* ".<name>.del.<pid>.XXXXXX": a tree being removed */
};

/* Classify the last path component name; *pid is 0 if it has none. */
enum file_temp file_temp_kind(const char *name, long *pid);

/* Names without a pid (older certo) count as stale after this long. */
#define FILE_LEGACY_STALE_S 600

/*
 * Is path (a file, or with dir a directory) a temporary entry whose
 * writer is gone?  Only when its name's pid is no running process and
 * nobody holds its flock (or, for a name without a pid, it is older than
 * FILE_LEGACY_STALE_S).  Returns its enum file_temp kind with *fd holding
 * it open and locked (remove it, then close *fd), else 0 and *fd = -1.
 */
int file_claim_stale(const char *path, bool dir, int *fd);
/*
 * Remove the files file_write_atomic's killed writers left in dir
 * (file_claim_stale: writer gone), only names starting with prefix
 * unless it is NULL; each removal said at debug level.  Best effort.
 */
void file_sweep_tmp(const char *dir, const char *prefix);
/*
 * The names in dir ending in suffix ("" for all), bytewise sorted, at
 * most max of them; names starting with "." (temporary and staging
 * names) are left out.  A missing dir is an empty list; one that cannot
 * be read (not a directory, no permission) is CERTO_EIO, never taken for
 * empty.  Returns 0 with *names (free with file_list_free) or an error.
 */
int file_list_dir(const char *dir, const char *suffix, size_t max,
    char ***names, size_t *n);
/* Free n strings and the array (NULL is fine). */
void file_list_free(char **names, size_t n);

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
