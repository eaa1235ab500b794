/* Cache entries in the state directory (trust roots, CA directories). */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "file.h"
#include "log.h"

#define FORGET_MAX 8

static pthread_mutex_t forget_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *hostport;
	char *path;
} forget[FORGET_MAX];
static size_t nforget;
static bool forget_registered;

char *
cache_path(const char *state, const char *kind, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s/%s", state, kind, name) < 0)
		return NULL;
	return p;
}

char *
cache_name(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	char *out = malloc(n + m + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[i] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '.' && i > 0) || c == '-' ? c : '_';
	}
	memcpy(out + n, suffix, m + 1);
	return out;
}

/* Read exactly len bytes from fd into buf.  Returns 0 or -1. */
static int
read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((n = read(fd, buf + got, len - got)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int
cache_read(const char *path, long max_age_s, char **out, size_t *len,
    struct stat *st)
{
	struct stat sb;
	time_t now = time(NULL);
	char *buf = NULL;
	int fd, rc = -1;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    sb.st_size > CACHE_MAX)
		goto out;
	if (max_age_s > 0 && (sb.st_mtime > now ||
	    now - sb.st_mtime > max_age_s))
		goto out;
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL ||
	    read_all(fd, buf, (size_t)sb.st_size) != 0)
		goto out;
	buf[sb.st_size] = '\0';
	*out = buf;
	*len = (size_t)sb.st_size;
	buf = NULL;
	if (st != NULL)
		*st = sb;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

int
cache_write(const char *path, const void *data, size_t len)
{
	const char *slash = strrchr(path, '/');
	bool had_message = certo_errmsg() != NULL;
	char *dir = NULL;
	int rc = -1;

	if (slash == NULL || len > CACHE_MAX ||
	    (dir = strndup(path, (size_t)(slash - path))) == NULL)
		goto out;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_debug("cache: cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	file_sweep_tmp(dir, NULL);
	if (file_write_atomic(path, data, len, 0644, false) != 0) {
		log_debug("cache: not kept: %s", certo_errmsg() ?
		    certo_errmsg() : path);
		goto out;
	}
	rc = 0;
out:
	/* A cache that cannot be written is no failure of the run. */
	if (!had_message)
		certo_errclear();
	free(dir);
	return rc;
}

void
cache_remove(const char *path)
{
	if (unlink(path) == 0)
		log_debug("cache: removed %s", path);
}

void
cache_cleanup(void)
{
	pthread_mutex_lock(&forget_lock);
	for (size_t i = 0; i < nforget; i++) {
		free(forget[i].hostport);
		free(forget[i].path);
	}
	nforget = 0;
	pthread_mutex_unlock(&forget_lock);
}

void
cache_forget_on_error(const char *hostport, const char *path)
{
	char *hp = strdup(hostport), *p = strdup(path);

	pthread_mutex_lock(&forget_lock);
	for (size_t i = 0; i < nforget && hp != NULL; i++)
		if (strcmp(forget[i].path, path) == 0 &&
		    strcmp(forget[i].hostport, hostport) == 0) {
			free(hp);
			hp = NULL; /* known already */
		}
	if (hp != NULL && p != NULL && nforget < FORGET_MAX) {
		forget[nforget].hostport = hp;
		forget[nforget].path = p;
		nforget++;
		hp = p = NULL;
		if (!forget_registered) {
			atexit(cache_cleanup);
			forget_registered = true;
		}
	}
	pthread_mutex_unlock(&forget_lock);
	free(hp);
	free(p);
}

void
cache_request_failed(const char *hostport)
{
	size_t i = 0;

	pthread_mutex_lock(&forget_lock);
	while (i < nforget) {
		if (strcmp(forget[i].hostport, hostport) != 0) {
			i++;
			continue;
		}
		cache_remove(forget[i].path);
		free(forget[i].hostport);
		free(forget[i].path);
		forget[i] = forget[--nforget];
	}
	pthread_mutex_unlock(&forget_lock);
}
