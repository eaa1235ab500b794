/*
 * Small files certo keeps in its state directory to save work on later
 * runs: the root that verified a CA (trustpin.c, <state>/trust/) and the
 * CA's directory document (client/directory.c, <state>/directories/).
 * A cache is never an error: a missing, stale or unreadable entry is a
 * miss, a write that fails is logged at debug level, and neither leaves
 * a message behind (certo_fail's first message stays the real cause).
 * Entries are written atomically (file_write_atomic); the temporary names
 * that a killed run left in a cache directory are removed by the next
 * write there.
 */
#ifndef CERTO_CACHE_H
#define CERTO_CACHE_H

#include <stddef.h>
#include <sys/stat.h>

/* The largest cache entry read or written. */
#define CACHE_MAX (256 * 1024)

/* "<state>/<kind>/<name>" (malloc'd), or NULL when out of memory. */
char *cache_path(const char *state, const char *kind, const char *name);

/*
 * A file name piece made of s: lower-case letters, digits, '.' and '-'
 * kept, anything else '_' (malloc'd), or NULL.
 */
char *cache_name(const char *s, const char *suffix);

/*
 * Read the entry at path into a malloc'd NUL-terminated buffer (*out,
 * its length in *len) when it is a regular file of at most CACHE_MAX
 * bytes whose modification time is at most max_age_s seconds ago
 * (max_age_s 0: any age; a time in the future is never fresh).  st
 * (when not NULL) gets its stat.  Returns 0, or -1 for a miss.
 */
int cache_read(const char *path, long max_age_s, char **out, size_t *len,
    struct stat *st);

/*
 * Write len bytes to path atomically, mode 0644, making its directory
 * (0700) when missing, after removing the temporary names that killed
 * runs left there.  Returns 0 or -1 (logged at debug level only).
 */
int cache_write(const char *path, const void *data, size_t len);

/* Remove the entry at path (a stale one); silent. */
void cache_remove(const char *path);

/*
 * Remove path when a later request of this process to hostport fails
 * (cache_request_failed): the cached document that led to that request
 * may be stale, and the next run asks again.  At most 8 entries are
 * kept; thread-safe.
 */
void cache_forget_on_error(const char *hostport, const char *path);

/* A request to hostport failed: remove what was registered for it. */
void cache_request_failed(const char *hostport);

/* Drop the registrations (atexit); files stay. */
void cache_cleanup(void);

#endif
