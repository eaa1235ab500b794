/*
 * Hook programs and commands as the command line gives them, made
 * absolute and checked (docs/hooks.md): renew runs them later from
 * another directory, with another PATH.  Also the PATH lookup that
 * hook.c makes before fork.
 */
#include "hook.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "errors.h"
#include "log.h"

/* arg made absolute against the working directory (symlinks kept). */
static char *
absolute(const char *arg)
{
	char cwd[4096], *out;

	if (arg[0] == '/')
		return strdup(arg);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	while (arg[0] == '.' && arg[1] == '/')
		for (arg += 2; *arg == '/'; arg++)
			;
	if (asprintf(&out, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", arg) < 0)
		return NULL;
	return out;
}

/* 0 if path is an executable regular file, else an errno value. */
static int
executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return EISDIR;
	if (access(path, X_OK) != 0)
		return errno;
	return 0;
}

/*
 * name (no '/') looked up in PATH (hook.h).
 */
char *
hook_in_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	char *cand = NULL;

	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		/* An empty entry is the working directory. */
		if (asprintf(&cand, "%.*s%s%s", (int)(end - p), p,
		    end > p ? "/" : "", name) < 0)
			return NULL;
		if (executable(cand) == 0) {
			char *abs = absolute(cand);
			free(cand);
			return abs;
		}
		free(cand);
		if (*end == '\0')
			return NULL;
	}
}

static int
not_runnable(const char *opt, const char *arg, const char *path, int err)
{
	char shown[300], where[300];
	bool other = strcmp(path, arg) != 0;

	log_str(shown, sizeof(shown), arg);
	log_str(where, sizeof(where), path);
	return certo_fail(CERTO_EUSAGE, "--%s %s: %s%s%s%s", opt, shown,
	    err == EISDIR ? "not a regular file" : err == EACCES ?
	    "not executable" : strerror(err), other ? " (" : "",
	    other ? where : "", other ? ")" : "");
}

/*
 * --dns-hook / --http-hook PROGRAM as an absolute path (hook.h).
 */
int
hook_resolve_program(const char *opt, const char *arg, char **out)
{
	char shown[300];
	int err;

	*out = NULL;
	if (*arg == '\0')
		return certo_fail(CERTO_EUSAGE, "--%s needs a program", opt);
	if (strchr(arg, '/') == NULL) {
		if ((*out = hook_in_path(arg)) != NULL)
			return 0;
		log_str(shown, sizeof(shown), arg);
		if (executable(arg) == 0)
			return certo_fail(CERTO_EUSAGE, "--%s %s: not found in PATH;"
			    " for the one in this directory, give ./%s", opt, shown,
			    shown);
		return certo_fail(CERTO_EUSAGE, "--%s %s: no such program in "
		    "PATH", opt, shown);
	}
	if ((*out = absolute(arg)) == NULL)
		return certo_fail(CERTO_EUSAGE, "--%s: cannot make %s absolute: "
		    "%s", opt, log_str(shown, sizeof(shown), arg),
		    strerror(errno));
	if ((err = executable(*out)) != 0) {
		int rc = not_runnable(opt, arg, *out, err);
		free(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

/* Characters a shell word may hold without quoting. */
static bool
plain_word(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("_./+,:@%-", *s) == NULL)
			return false;
	return true;
}

/* abs, shell-quoted when needed, then rest: *out malloc'd. */
static int
quoted_command(const char *abs, const char *rest, char **out)
{
	struct certo_buf cmd;
	int rc;

	buf_init(&cmd, 64 * 1024);
	if (plain_word(abs))
		rc = buf_adds(&cmd, abs);
	else {
		rc = buf_adds(&cmd, "'");
		for (const char *s = abs; rc == 0 && *s; s++)
			rc = *s == '\'' ? buf_adds(&cmd, "'\\''") :
			    buf_add(&cmd, s, 1);
		if (rc == 0)
			rc = buf_adds(&cmd, "'");
	}
	if (rc == 0)
		rc = buf_adds(&cmd, rest);
	if (rc == 0)
		*out = buf_steal(&cmd);
	buf_free(&cmd);
	return rc;
}

/*
 * --deploy-hook COMMAND with its first word made absolute (hook.h).
 */
int
hook_resolve_command(const char *opt, const char *arg, char **out)
{
	const char *p = arg, *end;
	char *word = NULL, *abs = NULL, *found, shown[300];
	int rc = 0, err;

	*out = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	/* A quoted first word ('/srv/my hooks/reload.sh'), if plain inside. */
	if ((*p == '\'' || *p == '"') && (end = strchr(p + 1, *p)) != NULL &&
	    (*p == '\'' || strcspn(p + 1, "\\$`") >= (size_t)(end - p - 1)) &&
	    strchr(" \t\n;&|<>()", end[1]) != NULL) {
		if ((word = strndup(p + 1, (size_t)(end - p - 1))) == NULL)
			return CERTO_ENOMEM;
		end++;
		if (strchr(word, '/') != NULL)
			goto path;
		free(word);
		word = NULL;
	}
	end = p + strcspn(p, " \t\n;&|<>()");
	if (end == p)
		return certo_fail(CERTO_EUSAGE, "--%s needs a command", opt);
	if ((word = strndup(p, (size_t)(end - p))) == NULL)
		return CERTO_ENOMEM;
	/*
	 * A command name is looked up in PATH by the shell (at renew time
	 * too); a file of that name in this directory only is a mistake.
	 */
	if (strchr(word, '/') == NULL) {
		if (strpbrk(word, "'\"\\$`=") == NULL) {
			found = hook_in_path(word);
			if (found == NULL && executable(word) == 0)
				rc = certo_fail(CERTO_EUSAGE, "--%s: %s is not in PATH; "
				    "for the one in this directory, give ./%s", opt,
				    log_str(shown, sizeof(shown), word),
				    shown);
			free(found);
		}
		if (rc == 0 && (*out = strdup(arg)) == NULL)
			rc = CERTO_ENOMEM;
		goto out;
	}
	/* Quoting, expansions: the shell's business. */
	if (strpbrk(word, "'\"\\$`*?[~=#{}!") != NULL) {
		if ((*out = strdup(arg)) == NULL)
			rc = CERTO_ENOMEM;
		goto out;
	}
path:
	if ((abs = absolute(word)) == NULL) {
		rc = certo_fail(CERTO_EUSAGE, "--%s: cannot make %s absolute: %s",
		    opt, log_str(shown, sizeof(shown), word), strerror(errno));
		goto out;
	}
	if ((err = executable(abs)) != 0) {
		rc = not_runnable(opt, word, abs, err);
		goto out;
	}
	/* The absolute path, quoted when needed, then the rest as given. */
	rc = quoted_command(abs, end, out);
out:
	free(word);
	free(abs);
	return rc;
}
