/*
 * The webroot solver (--webroot DIR, certbot's most used mode): a web
 * server already owns the http-01 port and serves DIR; certo writes
 * DIR/.well-known/acme-challenge/TOKEN (0644, directories 0755 made as
 * needed), checks through that server that the URL serves the key
 * authorization (solver_http01.c), and removes the files and only the
 * directories it made, on every exit path (the driver withdraws every
 * published challenge, Ctrl-C and SIGTERM included).
 *
 * Nothing is followed out of DIR: every step below DIR is an openat()
 * from the descriptor of the step above with O_NOFOLLOW, directories
 * with O_DIRECTORY, files O_CREAT|O_EXCL; a symbolic link for
 * .well-known or acme-challenge is refused.  Tokens are base64url
 * before they become a file name.
 */
#include "solver.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "b64.h"
#include "domain.h"
#include "errors.h"
#include "http.h"
#include "log.h"
#include "sig.h"
#include "solver_http01.h"

#define WEBROOT_MAX_TOKEN 256

/* One file written: DIR/.well-known/acme-challenge/<token>. */
struct webroot_file {
	struct webroot_file *next;
	char *ident;
	char *token;
	unsigned refs;    /* published that many times, same content */
};

/* The solver's context. */
struct webroot {
	struct solver_webroot_opts opts;
	pthread_mutex_t lock;      /* renew runs several orders at once */
	char *dir;                 /* DIR as given, for messages */
	int dirfd;                 /* DIR */
	int wkfd;                  /* DIR/.well-known, -1: not open */
	int acfd;                  /* .../acme-challenge, -1: not open */
	bool made_wk, made_ac;     /* made by us: removed when empty */
	struct webroot_file *files;
	char last_progress[1024];
};

static void
file_free(struct webroot_file *file)
{
	if (file == NULL)
		return;
	free(file->ident);
	free(file->token);
	free(file);
}

/* Why a directory step name of DIR cannot be used, in words. */
static int
refuse_step(struct webroot *wr, int parent, const char *rel,
    const char *name, int err)
{
	struct stat st;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return certo_fail(CERTO_EUSAGE, "--webroot: %s/%s is a symbolic "
		    "link: refusing to follow it out of %s", wr->dir, rel,
		    wr->dir);
	if (err == ENOTDIR || err == ELOOP)
		return certo_fail(CERTO_EUSAGE, "--webroot: %s/%s is not a "
		    "directory", wr->dir, rel);
	return certo_fail(CERTO_EIO, "--webroot: cannot open %s/%s: %s",
	    wr->dir, rel, strerror(err));
}

/*
 * Open the directory name under parent without following a symbolic
 * link; make it (0755, whatever the umask) when it is missing, *made
 * then set.  rel names it in messages.
 */
static int
open_step(struct webroot *wr, int parent, const char *name,
    const char *rel, bool *made, int *fdp)
{
	int fd;

	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(parent, name, 0755) == 0)
			*made = true;
		else if (errno != EEXIST)
			return certo_fail(CERTO_EIO, "--webroot: cannot create "
			    "%s/%s: %s", wr->dir, rel, strerror(errno));
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return refuse_step(wr, parent, rel, name, errno);
	/* The web server runs as another user: it must enter them. */
	if (*made && fchmod(fd, 0755) != 0) {
		close(fd);
		return certo_fail(CERTO_EIO, "--webroot: cannot chmod %s/%s: "
		    "%s", wr->dir, rel, strerror(errno));
	}
	*fdp = fd;
	return 0;
}

/*
 * Close the challenge directories; remove those we made once nothing of
 * ours is left in them (a directory someone else filled meanwhile
 * stays).  Called with the lock held.
 */
static void
tidy_locked(struct webroot *wr)
{
	if (wr->files != NULL)
		return;
	if (wr->acfd >= 0)
		close(wr->acfd);
	wr->acfd = -1;
	if (wr->made_ac && wr->wkfd >= 0 &&
	    unlinkat(wr->wkfd, "acme-challenge", AT_REMOVEDIR) != 0 &&
	    errno != ENOENT && errno != ENOTEMPTY)
		log_warn("--webroot: cannot remove %s/.well-known/"
		    "acme-challenge: %s", wr->dir, strerror(errno));
	wr->made_ac = false;
	if (wr->wkfd >= 0)
		close(wr->wkfd);
	wr->wkfd = -1;
	if (wr->made_wk && unlinkat(wr->dirfd, ".well-known",
	    AT_REMOVEDIR) != 0 && errno != ENOENT && errno != ENOTEMPTY)
		log_warn("--webroot: cannot remove %s/.well-known: %s", wr->dir,
		    strerror(errno));
	wr->made_wk = false;
}

/* DIR/.well-known/acme-challenge open in wr->acfd (lock held). */
static int
open_dirs_locked(struct webroot *wr)
{
	int rc;

	if (wr->acfd >= 0)
		return 0;
	if (wr->wkfd < 0 && (rc = open_step(wr, wr->dirfd, ".well-known",
	    ".well-known", &wr->made_wk, &wr->wkfd)) != 0)
		return rc;
	return open_step(wr, wr->wkfd, "acme-challenge",
	    ".well-known/acme-challenge", &wr->made_ac, &wr->acfd);
}

/* Write keyauth into a new file token under acfd, 0644 (lock held). */
static int
write_token_locked(struct webroot *wr, const char *token,
    const char *keyauth)
{
	size_t len = strlen(keyauth), off = 0;
	ssize_t n;
	int fd, err = 0;

	fd = openat(wr->acfd, token, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	/* Left by a killed run (tokens are random): ours to replace. */
	if (fd < 0 && errno == EEXIST && unlinkat(wr->acfd, token, 0) == 0)
		fd = openat(wr->acfd, token, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return certo_fail(CERTO_EIO, "--webroot: cannot create %s/"
		    ".well-known/acme-challenge/%s: %s", wr->dir, token,
		    strerror(errno));
	if (fchmod(fd, 0644) != 0)
		err = errno;
	while (err == 0 && off < len) {
		if ((n = write(fd, keyauth + off, len - off)) < 0) {
			if (errno != EINTR)
				err = errno;
			continue;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err == 0)
		return 0;
	unlinkat(wr->acfd, token, 0);
	return certo_fail(CERTO_EIO, "--webroot: cannot write %s/"
	    ".well-known/acme-challenge/%s: %s", wr->dir, token,
	    strerror(err));
}

/* The file of token (lock held), or NULL. */
static struct webroot_file *
find_file_locked(struct webroot *wr, const char *token)
{
	struct webroot_file *file;

	for (file = wr->files; file != NULL; file = file->next)
		if (strcmp(file->token, token) == 0)
			return file;
	return NULL;
}

/* Write the file of (ident, token) and remember it (lock held). */
static int
publish_locked(struct webroot *wr, const char *ident, const char *token,
    const char *keyauth)
{
	struct webroot_file *file;
	int rc;

	if ((file = find_file_locked(wr, token)) != NULL) {
		file->refs++;
		return 0;
	}
	if ((file = calloc(1, sizeof(*file))) == NULL ||
	    (file->ident = strdup(ident)) == NULL ||
	    (file->token = strdup(token)) == NULL) {
		file_free(file);
		return CERTO_ENOMEM;
	}
	if ((rc = open_dirs_locked(wr)) != 0 ||
	    (rc = write_token_locked(wr, token, keyauth)) != 0) {
		file_free(file);
		return rc;
	}
	file->refs = 1;
	file->next = wr->files;
	wr->files = file;
	return 0;
}

static int
publish(void *ctx, enum chall_type type, const char *ident,
    const char *token, const char *keyauth)
{
	struct webroot *wr = ctx;
	char shown[80];
	int rc;

	if (type != CHALL_HTTP01)
		return certo_fail(CERTO_EUSAGE, "--webroot answers http-01 "
		    "only, not %s", challenge_type_name(type));
	/* Untrusted input never becomes a path unless it is base64url. */
	if (token[0] == '\0' || strlen(token) > WEBROOT_MAX_TOKEN ||
	    !b64url_valid(token))
		return certo_fail(CERTO_EPROTO, "--webroot: token \"%s\" is not "
		    "base64url: not writing it as a file name",
		    log_str(shown, sizeof(shown), token));
	pthread_mutex_lock(&wr->lock);
	rc = publish_locked(wr, ident, token, keyauth);
	if (rc != 0)
		tidy_locked(wr);
	pthread_mutex_unlock(&wr->lock);
	if (rc == 0)
		log_debug("webroot: wrote %s/.well-known/acme-challenge/%s",
		    wr->dir, token);
	return rc;
}

/* http://IDENT[:port]/.well-known/acme-challenge/TOKEN, as the CA asks. */
static char *
challenge_url(const struct webroot *wr, const struct solver_item *item)
{
	bool v6 = ident_classify(item->ident, false, NULL, NULL) == IDENT_IPV6;
	char port[8] = "", *url;

	if (wr->opts.http_port != 0 && wr->opts.http_port != 80)
		snprintf(port, sizeof(port), ":%u", wr->opts.http_port);
	if (asprintf(&url, "http://%s%s%s%s/.well-known/acme-challenge/%s",
	    v6 ? "[" : "", item->ident, v6 ? "]" : "", port, item->token) < 0)
		return NULL;
	return url;
}

/* What the last fetch said, once the time is up. */
static int
served_too_late(const struct webroot *wr, const char *url, const char *why)
{
	return certo_fail(CERTO_ESELFCHECK, "%s did not serve the key "
	    "authorization within %ld s (%s): is %s the directory the web "
	    "server on port %u serves for this name?; the CA was not asked",
	    url, wr->opts.http_timeout_ms / 1000, why, wr->dir,
	    wr->opts.http_port != 0 ? wr->opts.http_port : 80);
}

/*
 * GET the challenge URL through the web server, as the CA will, until
 * it serves keyauth, up to the http timeout, with progress lines.  A
 * URL this host cannot reach at all (split DNS, NAT) is left to the CA,
 * and said so, as with --http-hook.
 */
static int
wait_served(struct webroot *wr, const struct solver_item *item)
{
	struct certo_http client;
	struct http_opts hopts = { 0 };
	time_t deadline = time(NULL) + wr->opts.http_timeout_ms / 1000;
	long wait = 100;
	char why[400] = "", shown[300], *url;
	int rc;

	if ((url = challenge_url(wr, item)) == NULL)
		return CERTO_ENOMEM;
	log_str(shown, sizeof(shown), url);
	hopts.allow_http = true;
	hopts.connect_timeout_ms = 3000;
	hopts.total_timeout_ms = 5000;
	if ((rc = http_init(&client, &hopts)) != 0) {
		free(url);
		return rc;
	}
	for (;;) {
		rc = solver_http01_fetch(&client, url, item->ident,
		    wr->opts.http_port, item->keyauth, why, sizeof(why));
		if (rc == SOLVER_HTTP01_SERVED) {
			log_event("http_visible", log_fields_url(shown),
			    "http-01: %s serves the key authorization", shown);
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		if (rc == SOLVER_HTTP01_UNREACHABLE) {
			log_warn("cannot check http-01 for %s from this host "
			    "(cannot fetch it: %s); asking the CA anyway",
			    shown, why);
			rc = 0;
			break;
		}
		if (time(NULL) >= deadline) {
			rc = served_too_late(wr, shown, why);
			break;
		}
		solver_http01_progress(&wr->lock, wr->last_progress,
		    sizeof(wr->last_progress), shown, why,
		    (long)(deadline - time(NULL)));
		if ((rc = sig_sleep_ms(wait)) != 0)
			break;
		wait = wait < 2000 ? wait * 2 : 2000;
	}
	http_free(&client);
	free(url);
	return rc;
}

static int
selfcheck(void *ctx, const struct solver_item *items, size_t n)
{
	struct webroot *wr = ctx;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (items[i].type == CHALL_HTTP01 &&
		    (rc = wait_served(wr, &items[i])) != 0)
			return rc;
	return 0;
}

/* Remove the file of token (lock held); the directories once empty. */
static void
remove_locked(struct webroot *wr, struct webroot_file *file)
{
	struct webroot_file **pp;

	for (pp = &wr->files; *pp != NULL && *pp != file; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return;
	*pp = file->next;
	if (wr->acfd >= 0 && unlinkat(wr->acfd, file->token, 0) != 0 &&
	    errno != ENOENT)
		log_warn("--webroot: cannot remove %s/.well-known/"
		    "acme-challenge/%s: %s", wr->dir, file->token,
		    strerror(errno));
	file_free(file);
	tidy_locked(wr);
}

static void
withdraw(void *ctx, enum chall_type type, const char *ident,
    const char *token)
{
	struct webroot *wr = ctx;
	struct webroot_file *file;

	(void)ident;
	if (type != CHALL_HTTP01)
		return;
	pthread_mutex_lock(&wr->lock);
	if ((file = find_file_locked(wr, token)) != NULL && --file->refs == 0)
		remove_locked(wr, file);
	pthread_mutex_unlock(&wr->lock);
}

static void
stop(void *ctx)
{
	struct webroot *wr = ctx;

	if (wr == NULL)
		return;
	/* Everything is withdrawn by now; this is the last line of defence. */
	pthread_mutex_lock(&wr->lock);
	while (wr->files != NULL)
		remove_locked(wr, wr->files);
	tidy_locked(wr);
	pthread_mutex_unlock(&wr->lock);
	if (wr->dirfd >= 0)
		close(wr->dirfd);
	pthread_mutex_destroy(&wr->lock);
	free(wr->dir);
	free(wr);
}

/*
 * Refuse now, before anything is asked of the CA, a .well-known or
 * acme-challenge that is a symbolic link or not a directory (publish
 * checks again as it opens them: this is for an early, clear error).
 */
static int
precheck(struct webroot *wr)
{
	int fd, ac, rc = 0;

	fd = openat(wr->dirfd, ".well-known", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : refuse_step(wr, wr->dirfd,
		    ".well-known", ".well-known", errno);
	ac = openat(fd, "acme-challenge", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (ac < 0 && errno != ENOENT)
		rc = refuse_step(wr, fd, ".well-known/acme-challenge",
		    "acme-challenge", errno);
	if (ac >= 0)
		close(ac);
	close(fd);
	return rc;
}

static const struct solver_ops webroot_ops = {
	.name = "webroot",
	.publish = publish,
	.selfcheck = selfcheck,
	.withdraw = withdraw,
	.stop = stop,
};

/* Start the webroot solver (see solver.h). */
int
solver_webroot_start(const struct solver_webroot_opts *opts,
    struct solver *out)
{
	struct webroot *wr;
	int rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < opts->ntypes; i++)
		if (opts->types[i] != CHALL_HTTP01)
			return certo_fail(CERTO_EUSAGE, "--webroot answers "
			    "http-01 only, not %s",
			    challenge_type_name(opts->types[i]));
	if ((wr = calloc(1, sizeof(*wr))) == NULL)
		return CERTO_ENOMEM;
	wr->opts = *opts;
	wr->wkfd = wr->acfd = -1;
	if (wr->opts.http_timeout_ms <= 0)
		wr->opts.http_timeout_ms = SOLVER_WEBROOT_TIMEOUT_MS;
	if ((wr->dir = strdup(opts->dir)) == NULL) {
		free(wr);
		return CERTO_ENOMEM;
	}
	/* A missing DIR fails now, before anything is asked of the CA. */
	wr->dirfd = open(opts->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wr->dirfd < 0) {
		int err = errno;
		free(wr->dir);
		free(wr);
		return certo_fail(CERTO_EUSAGE, "--webroot %s: %s", opts->dir,
		    strerror(err));
	}
	pthread_mutex_init(&wr->lock, NULL);
	if ((rc = precheck(wr)) != 0) {
		stop(wr);
		return rc;
	}
	out->types[0] = CHALL_HTTP01;
	out->ntypes = 1;
	out->ops = &webroot_ops;
	out->ctx = wr;
	return 0;
}
