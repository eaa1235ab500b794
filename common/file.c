/* Atomic file writes, private directories, capped reads. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"

char *
file_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}

bool
file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
file_mkdirs(const char *dir)
{
	char *p, *s;
	struct stat st;
	int rc = 0;

	if (*dir == '\0')
		return certo_fail(CERTO_EIO, "empty directory name");
	if ((p = strdup(dir)) == NULL)
		return CERTO_ENOMEM;
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = certo_fail(CERTO_EIO, "cannot create directory %s: %s: %s",
			    dir, p, strerror(errno));
			goto out;
		}
		if (stat(p, &st) != 0) {
			rc = certo_fail(CERTO_EIO, "cannot create directory %s: %s: %s",
			    dir, p, strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc = certo_fail(CERTO_EIO, "cannot create directory %s: %s is "
			    "not a directory", dir, p);
			goto out;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (st.st_uid == geteuid() && (st.st_mode & 077) != 0 &&
	    chmod(p, 0700) != 0) {
		rc = certo_fail(CERTO_EIO, "chmod 0700 %s: %s", p,
		    strerror(errno));
		goto out;
	}
	if (access(p, W_OK | X_OK) != 0) {
		rc = certo_fail(CERTO_EIO, "directory %s is not writable: %s", p,
		    strerror(errno));
		goto out;
	}
out:
	free(p);
	return rc;
}

static int
fsync_dir(const char *path)
{
	char *copy, *dir;
	int fd, rc = 0;

	if ((copy = strdup(path)) == NULL)
		return CERTO_ENOMEM;
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0)
		rc = certo_fail(CERTO_EIO, "fsync %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int
file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, bool exclusive)
{
	char *tmp = NULL;
	const char *p = data;
	ssize_t n;
	int fd = -1, rc = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return CERTO_ENOMEM;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = certo_fail(CERTO_EIO, "cannot create %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		return rc;
	}
	if (fchmod(fd, mode) != 0) {
		rc = certo_fail(CERTO_EIO, "chmod %s: %s", tmp, strerror(errno));
		goto fail;
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			rc = certo_fail(CERTO_EIO, "write %s: %s", tmp,
			    strerror(errno));
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		rc = certo_fail(CERTO_EIO, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = certo_fail(CERTO_EIO, "close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (exclusive) {
		/* link() fails if path exists: never overwrite a racing key. */
		if (link(tmp, path) != 0) {
			rc = certo_fail(CERTO_EIO, "cannot create %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		rc = certo_fail(CERTO_EIO, "rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto fail;
	}
	free(tmp);
	return fsync_dir(path);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

int
file_read(const char *path, size_t max, bool secret, char **out,
    size_t *outlen, bool *missing)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = 0;

	*out = NULL;
	if (outlen)
		*outlen = 0;
	if (missing)
		*missing = false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT && missing)
			*missing = true;
		return certo_fail(CERTO_EIO, "cannot open %s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = certo_fail(CERTO_EIO, "%s: not a regular file", path);
		goto out;
	}
	if (secret && (st.st_mode & 077) != 0) {
		rc = certo_fail(CERTO_EKEYPERM, "%s: refusing a key file that "
		    "group or others can access (mode %04o; chmod 600 it)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = certo_fail(CERTO_EIO, "%s: file larger than %zu bytes",
		    path, max);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = certo_fail(CERTO_EIO, "read %s: %s", path,
			    n < 0 ? strerror(errno) : "short read");
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	buf = NULL;
	if (outlen)
		*outlen = got;
out:
	free(buf);
	close(fd);
	return rc;
}
