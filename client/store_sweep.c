/*
 * The sweep of what killed runs left under the state directory: temp
 * files, staging and removal directories whose writer is gone (pid not
 * running and flock free: file_claim_stale).  A complete certificate set
 * staged in live/ goes to archive/, never away.
 */
#include "store.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "file.h"
#include "log.h"
#include "store_priv.h"

/* A staging set with the files of a whole certificate. */
static bool
complete_set(const char *dir)
{
	char *cert = file_join(dir, "cert.pem");
	char *full = file_join(dir, "fullchain.pem");
	bool ok = cert != NULL && full != NULL && file_exists(cert) &&
	    file_exists(full);

	free(cert);
	free(full);
	return ok;
}

/* "example.com" from ".example.com.new.<pid>.XXXXXX" (malloc'd). */
static char *
staging_base(const char *name)
{
	size_t len = strlen(name);
	const char *end = name + len - 7, *p = end;
	char *base;

	while (p > name && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p < end && p > name && p[-1] == '.')
		end = p - 1; /* the '.' after the mark */
	/* end is now the last '.' of ".new."; the base ends before it. */
	if (name[0] != '.' || end - name < 6)
		return NULL;
	if ((base = strndup(name + 1, (size_t)(end - 4 - name - 1))) == NULL)
		return NULL;
	if (base[0] == '\0' || base[0] == '.' || strchr(base, '/') != NULL) {
		free(base);
		return NULL;
	}
	return base;
}

static void sweep_dir(const char *state, const char *dir, bool live);

/*
 * A complete set staged in live/ by a killed run (between the swap and
 * the archive move, or right before the swap): to archive/<its name>.
 * False when it is not one (the caller removes it).
 */
static bool
sweep_to_archive(const char *state, const char *path, const char *name)
{
	char *base;

	if (!complete_set(path) || (base = staging_base(name)) == NULL)
		return false;
	sweep_dir(state, path, false); /* its half-written files */
	if (store_archive_set(state, base, path) == 0)
		log_info("moved %s, left by an interrupted run, to archive/%s",
		    path, base);
	else
		log_warn("%s; %s stays where it is",
		    certo_errmsg() ? certo_errmsg() : "out of memory", path);
	certo_errclear();
	free(base);
	return true;
}

/* Remove (or, in live/, archive) what killed runs left in dir. */
static void
sweep_dir(const char *state, const char *dir, bool live)
{
	struct dirent *ent;
	struct stat st;
	char *path;
	long pid;
	DIR *dirp;
	int kind, fd;

	if ((dirp = opendir(dir)) == NULL)
		return;
	while ((ent = readdir(dirp)) != NULL) {
		if (file_temp_kind(ent->d_name, &pid) == FILE_TEMP_NONE ||
		    (path = file_join(dir, ent->d_name)) == NULL)
			continue;
		if (lstat(path, &st) != 0 || (kind = file_claim_stale(path,
		    S_ISDIR(st.st_mode), &fd)) == 0) {
			free(path);
			continue;
		}
		if (!(kind == FILE_TEMP_NEW && live &&
		    sweep_to_archive(state, path, ent->d_name))) {
			if (S_ISDIR(st.st_mode))
				store_remove_tree(path);
			else
				unlink(path);
			log_debug("removed %s, left by an interrupted run", path);
		}
		close(fd);
		free(path);
	}
	closedir(dirp);
}

/* The subdirectories of top (orders/<hash>/, accounts/<ca>/...). */
static void
sweep_below(const char *state, const char *top)
{
	struct dirent *ent;
	struct stat st;
	char *sub;
	DIR *dirp;

	if ((dirp = opendir(top)) == NULL)
		return;
	while ((ent = readdir(dirp)) != NULL) {
		if (ent->d_name[0] == '.' ||
		    (sub = file_join(top, ent->d_name)) == NULL)
			continue;
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			sweep_dir(state, sub, false);
		free(sub);
	}
	closedir(dirp);
}

/* Sweep the directories certo writes temporary names into. */
void
store_sweep(const char *state)
{
	static const char *const tops[] = { "live", "orders", "accounts",
		"ratelimits", "authz", "archive" };
	char *top;

	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		if ((top = file_join(state, tops[i])) == NULL)
			return;
		sweep_dir(state, top, i == 0);
		/* One level down, not in the archive (nothing is written
		 * there in place). */
		if (strcmp(tops[i], "archive") != 0)
			sweep_below(state, top);
		free(top);
	}
}
