/* Atomic file writes, private directories, capped reads. */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"

/* Join a and b with a '/' into a malloc'd string, or NULL. */
char *
file_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}

/* True if path exists (any type). */
bool
file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * Create dir and its missing parents with mode 0700 (existing ones are
 * left as they are, except the last, which is chmod'ed 0700 when we own
 * it and it is wider).
 */
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

/* Fsync a directory (after entries in it were created or renamed). */
int
file_fsync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0)
		rc = certo_fail(CERTO_EIO, "fsync %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* fsync the directory that holds path. */
static int
fsync_parent(const char *path)
{
	char *copy;
	int rc;

	if ((copy = strdup(path)) == NULL)
		return CERTO_ENOMEM;
	rc = file_fsync_dir(dirname(copy));
	free(copy);
	return rc;
}

/* Write len bytes to path atomically with the given mode. */
/* Write all len bytes of p to fd (EINTR retried); CERTO_EIO naming
 * path. */
static int
write_fd(int fd, const void *p, size_t len, const char *path)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, c, len)) < 0) {
			if (errno == EINTR)
				continue;
			return certo_fail(CERTO_EIO, "write %s: %s", path,
			    strerror(errno));
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

int
file_write_staged(const char *path, const void *data, size_t len,
    mode_t mode)
{
	int fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) < 0)
		return certo_fail(CERTO_EIO, "cannot create %s: %s", path,
		    strerror(errno));
	if (fchmod(fd, mode) != 0)
		rc = certo_fail(CERTO_EIO, "chmod %s: %s", path,
		    strerror(errno));
	if (rc == 0)
		rc = write_fd(fd, data, len, path);
	/* Durable with the others in file_sync_staged(). */
	if (rc == 0)
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (close(fd) != 0 && rc == 0)
		rc = certo_fail(CERTO_EIO, "close %s: %s", path,
		    strerror(errno));
	if (rc != 0)
		unlink(path);
	return rc;
}

int
file_sync_staged(const char *dir)
{
	struct dirent *e;
	DIR *d;
	int fd, dfd, rc = 0;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(dfd)) == NULL) {
		rc = certo_fail(CERTO_EIO, "cannot open %s: %s", dir,
		    strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return rc;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
			continue;
		if ((fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0 || fsync(fd) != 0)
			rc = certo_fail(CERTO_EIO, "fsync %s/%s: %s", dir,
			    e->d_name, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0 && fsync(dfd) != 0)
		rc = certo_fail(CERTO_EIO, "fsync %s: %s", dir, strerror(errno));
	closedir(d);
	return rc;
}

int
file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, bool exclusive)
{
	char *tmp = NULL;
	int fd = -1, rc = 0;

	/*
	 * The temp name carries our pid and the file stays locked until it
	 * is renamed or linked: file_claim_stale() removes it only once we
	 * are gone (SIGKILL, power loss), never while we write it.
	 */
	if (asprintf(&tmp, "%s.tmp.%ld.XXXXXX", path, (long)getpid()) < 0)
		return CERTO_ENOMEM;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = certo_fail(CERTO_EIO, "cannot create %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		return rc;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = certo_fail(CERTO_EIO, "lock %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fchmod(fd, mode) != 0) {
		rc = certo_fail(CERTO_EIO, "chmod %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if ((rc = write_fd(fd, data, len, tmp)) != 0)
		goto fail;
	if (fsync(fd) != 0) {
		rc = certo_fail(CERTO_EIO, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
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
	/* Closed (and unlocked) only now that the temp name is gone. */
	if (close(fd) != 0) {
		fd = -1;
		rc = certo_fail(CERTO_EIO, "close %s: %s", path, strerror(errno));
		free(tmp);
		return rc;
	}
	free(tmp);
	return fsync_parent(path);
fail:
	unlink(tmp);
	if (fd >= 0)
		close(fd);
	free(tmp);
	return rc;
}

/*
 * Make a private staging directory
 * "<parent>/.<base>.<kind>.<pid>.XXXXXX" (kind "new" for something being
 * built, "del" for something being removed) and hold an flock on it.
 */
int
file_staging_dir(const char *parent, const char *base, const char *kind,
    char **path, int *fd)
{
	int rc;

	*fd = -1;
	if (asprintf(path, "%s/.%s.%s.%ld.XXXXXX", parent, base, kind,
	    (long)getpid()) < 0) {
		*path = NULL;
		return CERTO_ENOMEM;
	}
	if (mkdtemp(*path) == NULL) {
		rc = certo_fail(CERTO_EIO, "cannot create %s: %s", *path,
		    strerror(errno));
		goto fail;
	}
	if ((*fd = open(*path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		rc = certo_fail(CERTO_EIO, "lock %s: %s", *path, strerror(errno));
		rmdir(*path);
		goto fail;
	}
	return 0;
fail:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	free(*path);
	*path = NULL;
	return rc;
}

/* True if s is 6 characters of a mkstemp/mkdtemp suffix. */
static bool
is_suffix6(const char *s)
{
	for (size_t i = 0; i < 6; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return s[6] == '\0';
}

/* The kind of the 5-byte mark ".tmp." that ends at dot (inclusive). */
static enum file_temp
mark_at(const char *name, const char *dot)
{
	if (dot - name < 4)
		return FILE_TEMP_NONE;
	if (strncmp(dot - 4, ".tmp.", 5) == 0)
		return FILE_TEMP_TMP;
	if (strncmp(dot - 4, ".new.", 5) == 0)
		return FILE_TEMP_NEW;
	if (strncmp(dot - 4, ".del.", 5) == 0)
		return FILE_TEMP_DEL;
	return FILE_TEMP_NONE;
}

/* Classify the last path component name. */
enum file_temp
file_temp_kind(const char *name, long *pid)
{
	size_t len = strlen(name);
	const char *end, *p;
	enum file_temp k;

	*pid = 0;
	/* Parsed from the end, so any name may come before the mark. */
	if (len < 12 || !is_suffix6(name + len - 6) || name[len - 7] != '.')
		return FILE_TEMP_NONE;
	end = name + len - 7; /* the '.' before the suffix */
	for (p = end; p > name && p[-1] >= '0' && p[-1] <= '9' &&
	    end - p < 10; p--)
		;
	/* "<mark><pid>.XXXXXX" */
	if (p < end && p > name && p[-1] == '.' &&
	    (k = mark_at(name, p - 1)) != FILE_TEMP_NONE) {
		*pid = strtol(p, NULL, 10);
		return k;
	}
	/* Before certo recorded pids: "<mark>XXXXXX". */
	return mark_at(name, end);
}

/* True while process pid exists (ours, or anyone's we may not signal). */
static bool
pid_alive(long pid)
{
	if (pid <= 0 || pid > 0x7fffffffL)
		return false;
	if (pid == (long)getpid())
		return true;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Claim a temporary entry whose writer is gone (see file.h). */
int
file_claim_stale(const char *path, bool dir, int *fd)
{
	const char *base = strrchr(path, '/');
	struct stat st, st2;
	enum file_temp k;
	long pid;

	*fd = -1;
	base = base != NULL ? base + 1 : path;
	if ((k = file_temp_kind(base, &pid)) == FILE_TEMP_NONE)
		return 0;
	if (lstat(path, &st) != 0 || (dir ? !S_ISDIR(st.st_mode) :
	    !S_ISREG(st.st_mode)))
		return 0;
	/* Its writer still runs: never touch it. */
	if (pid != 0 && pid_alive(pid))
		return 0;
	/* Written by a certo that recorded no pid: only when old. */
	if (pid == 0 && st.st_mtime > time(NULL) - FILE_LEGACY_STALE_S)
		return 0;
	/* Writers hold a lock until the name is gone (pid namespaces). */
	if ((*fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    (dir ? O_DIRECTORY : 0))) < 0)
		return 0;
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0 || fstat(*fd, &st2) != 0 ||
	    st2.st_ino != st.st_ino || st2.st_dev != st.st_dev) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	return (int)k;
}

/* Free a list of names (file.h). */
void
file_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
file_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of a directory (file.h). */
int
file_list_dir(const char *dir, const char *suffix, size_t max,
    char ***names, size_t *n)
{
	size_t sl = strlen(suffix), len;
	struct dirent *ent;
	char **grown;
	DIR *dirp;

	*names = NULL;
	*n = 0;
	if ((dirp = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return certo_fail(CERTO_EIO, "cannot read directory %s: %s",
		    dir, strerror(errno));
	}
	while (*n < max && (ent = readdir(dirp)) != NULL) {
		len = strlen(ent->d_name);
		if (ent->d_name[0] == '.' || len <= sl ||
		    strcmp(ent->d_name + len - sl, suffix) != 0)
			continue;
		if ((grown = realloc(*names, (*n + 1) * sizeof(char *))) == NULL ||
		    (grown[*n] = strdup(ent->d_name)) == NULL) {
			if (grown != NULL)
				*names = grown;
			closedir(dirp);
			file_list_free(*names, *n);
			*names = NULL;
			*n = 0;
			return CERTO_ENOMEM;
		}
		*names = grown;
		(*n)++;
	}
	closedir(dirp);
	if (*n > 1)
		qsort(*names, *n, sizeof(char *), file_cmp_names);
	return 0;
}

/* Remove stale temp files in dir (file.h). */
void
file_sweep_tmp(const char *dir, const char *prefix)
{
	size_t pl = prefix != NULL ? strlen(prefix) : 0;
	struct dirent *ent;
	DIR *dirp;
	char *path;
	long pid;
	int fd;

	if ((dirp = opendir(dir)) == NULL)
		return;
	while ((ent = readdir(dirp)) != NULL) {
		if (strncmp(ent->d_name, pl > 0 ? prefix : "", pl) != 0 ||
		    file_temp_kind(ent->d_name, &pid) != FILE_TEMP_TMP ||
		    (path = file_join(dir, ent->d_name)) == NULL)
			continue;
		if (file_claim_stale(path, false, &fd) != 0) {
			unlink(path);
			close(fd);
			log_debug("removed %s, left by an interrupted run", path);
		}
		free(path);
	}
	closedir(dirp);
}

/*
 * Read a whole file of at most max bytes into a malloc'd NUL-terminated
 * buffer.
 */
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
