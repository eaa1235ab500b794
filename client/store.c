/* The certificate store: state directory, live and archive sets. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certificate.h"
#include "errors.h"
#include "file.h"
#include "key.h"
#include "log.h"

static const char *const set_files[] = { "privkey.pem", "cert.pem",
	"chain.pem", "fullchain.pem" };

int
store_state_dir(const char *opt, char **out)
{
	const char *env, *home;
	struct passwd *pw;
	int n;

	*out = NULL;
	if (opt != NULL && *opt != '\0')
		n = asprintf(out, "%s", opt);
	else if ((env = getenv("CERTO_STATE_DIR")) != NULL && *env != '\0')
		n = asprintf(out, "%s", env);
	else if (geteuid() == 0)
		n = asprintf(out, "/var/lib/certo");
	else if ((env = getenv("XDG_DATA_HOME")) != NULL && *env == '/')
		n = asprintf(out, "%s/certo", env);
	else {
		home = getenv("HOME");
		if ((home == NULL || *home != '/') &&
		    (pw = getpwuid(geteuid())) != NULL)
			home = pw->pw_dir;
		if (home == NULL)
			return certo_fail(CERTO_ECONFIG, "cannot find a state "
			    "directory: set --state-dir or CERTO_STATE_DIR");
		n = asprintf(out, "%s/.local/share/certo", home);
	}
	if (n < 0) {
		*out = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

int
store_prepare(const char *state)
{
	return file_mkdirs(state);
}

/* Remove a staging directory and the set files in it. */
static void
remove_set(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char *p;

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
			    (e->d_name[1] == '.' && e->d_name[2] == '\0')))
				continue;
			if ((p = file_join(dir, e->d_name)) != NULL) {
				unlink(p);
				free(p);
			}
		}
		closedir(d);
	}
	rmdir(dir);
}

/* Directory name for a certificate name: "*." becomes "_.". */
static char *
set_name(const char *name)
{
	char *s = strdup(name);

	if (s != NULL && s[0] == '*')
		s[0] = '_';
	return s;
}

static int
write_set(const char *dir, const struct certo_key *key,
    const struct certo_chain *chain)
{
	const char *data[] = { NULL, chain->leaf, chain->issuers,
		chain->fullchain };
	char *p;
	int rc = 0;

	for (size_t i = 0; i < 4 && rc == 0; i++) {
		if ((p = file_join(dir, set_files[i])) == NULL)
			return CERTO_ENOMEM;
		if (i == 0)
			rc = key_save(key, p, true);
		else
			rc = file_write_atomic(p, data[i], strlen(data[i]), 0644,
			    true);
		free(p);
	}
	return rc;
}

/* Move the old set (now at from) to <state>/archive/<name>/<stamp>. */
static int
archive_set(const char *state, const char *name, const char *from)
{
	char *adir = NULL, *dest = NULL, stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc = 0;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (asprintf(&adir, "%s/archive/%s", state, name) < 0) {
		adir = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_mkdirs(adir)) != 0)
		goto out;
	for (int i = 0; i < 100; i++) {
		free(dest);
		if ((i == 0 ? asprintf(&dest, "%s/%s", adir, stamp) :
		    asprintf(&dest, "%s/%s.%d", adir, stamp, i)) < 0) {
			dest = NULL;
			rc = CERTO_ENOMEM;
			goto out;
		}
		if (!file_exists(dest))
			break;
	}
	if (rename(from, dest) != 0)
		rc = certo_fail(CERTO_EIO, "cannot archive the previous "
		    "certificate to %s: %s", dest, strerror(errno));
out:
	free(adir);
	free(dest);
	return rc;
}

int
store_commit(const char *state, const char *name,
    const struct certo_key *key, const struct certo_chain *chain,
    char **live_dir)
{
	char *live = NULL, *target = NULL, *staging = NULL, *dname = NULL;
	int rc, fd;

	*live_dir = NULL;
	if ((dname = set_name(name)) == NULL ||
	    (live = file_join(state, "live")) == NULL ||
	    (target = file_join(live, dname)) == NULL ||
	    asprintf(&staging, "%s/.%s.new.XXXXXX", live, dname) < 0) {
		staging = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_mkdirs(live)) != 0)
		goto out;
	if (mkdtemp(staging) == NULL) {
		rc = certo_fail(CERTO_EIO, "cannot create %s: %s", staging,
		    strerror(errno));
		free(staging);
		staging = NULL;
		goto out;
	}
	if ((rc = write_set(staging, key, chain)) != 0)
		goto out;
	/* Swap the complete new set in with one atomic step. */
	if (rename(staging, target) == 0) {
		free(staging);
		staging = NULL;
	} else if (errno == ENOTEMPTY || errno == EEXIST) {
		if (renameat2(AT_FDCWD, staging, AT_FDCWD, target,
		    RENAME_EXCHANGE) != 0) {
			rc = certo_fail(CERTO_EIO, "cannot replace %s: %s", target,
			    strerror(errno));
			goto out;
		}
		/* staging now holds the previous set. */
		if (archive_set(state, dname, staging) != 0) {
			/* Never delete the previous set: say where it is. */
			log_warn("%s; the previous certificate stays in %s",
			    certo_errmsg(), staging);
			certo_errclear();
		}
		free(staging);
		staging = NULL;
	} else {
		rc = certo_fail(CERTO_EIO, "cannot create %s: %s", target,
		    strerror(errno));
		goto out;
	}
	if ((fd = open(live, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	*live_dir = target;
	target = NULL;
out:
	if (staging != NULL)
		remove_set(staging);
	free(staging);
	free(target);
	free(live);
	free(dname);
	return rc;
}
