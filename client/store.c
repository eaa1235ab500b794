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

#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <stdbool.h>

#include "certificate.h"
#include "json.h"
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
    const struct certo_chain *chain, const char *config)
{
	const char *data[] = { NULL, chain->leaf, chain->issuers,
		chain->fullchain };
	char *p;
	int rc = 0;

	for (size_t i = 0; i < 4 && rc == 0; i++) {
		/* --csr without --key: the user keeps the key; no privkey.pem. */
		if (i == 0 && key == NULL)
			continue;
		if ((p = file_join(dir, set_files[i])) == NULL)
			return CERTO_ENOMEM;
		if (i == 0)
			rc = key_save(key, p, true);
		else
			rc = file_write_atomic(p, data[i], strlen(data[i]), 0644,
			    true);
		free(p);
	}
	if (rc == 0 && config != NULL) {
		if ((p = file_join(dir, "certo.json")) == NULL)
			return CERTO_ENOMEM;
		rc = file_write_atomic(p, config, strlen(config), 0600, true);
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
    const char *config, char **live_dir)
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
	if ((rc = write_set(staging, key, chain, config)) != 0)
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

int
store_live_dir(const char *state, const char *name, char **out)
{
	char *d = set_name(name);
	int rc = 0;

	if (d == NULL || asprintf(out, "%s/live/%s", state, d) < 0) {
		*out = NULL;
		rc = CERTO_ENOMEM;
	}
	free(d);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
store_list(const char *state, char ***names, size_t *n)
{
	char *live;
	DIR *d;
	struct dirent *e;
	char **v = NULL, **nv;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if ((live = file_join(state, "live")) == NULL)
		return CERTO_ENOMEM;
	if ((d = opendir(live)) == NULL) {
		free(live);
		return 0; /* nothing stored yet */
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue; /* ., .., staging directories */
		if ((nv = realloc(v, (*n + 1) * sizeof(char *))) == NULL ||
		    (nv[*n] = strdup(e->d_name)) == NULL) {
			if (nv)
				v = nv;
			rc = CERTO_ENOMEM;
			break;
		}
		v = nv;
		(*n)++;
	}
	closedir(d);
	free(live);
	if (v != NULL)
		qsort(v, *n, sizeof(char *), cmp_str);
	*names = v;
	return rc;
}

/* Remove a directory tree we wrote (files and subdirectories). */
static void
remove_tree(const char *dir)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	char *p;

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if ((p = file_join(dir, e->d_name)) == NULL)
				continue;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				remove_tree(p);
			else
				unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

int
store_delete(const char *state, const char *name)
{
	char *live = NULL, *arch = NULL, *d = NULL;
	int rc = 0;

	if (strchr(name, '/') != NULL || name[0] == '.' || name[0] == '\0')
		return certo_fail(CERTO_EUSAGE, "invalid certificate name '%s'",
		    name);
	if ((d = set_name(name)) == NULL ||
	    asprintf(&live, "%s/live/%s", state, d) < 0 ||
	    asprintf(&arch, "%s/archive/%s", state, d) < 0) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if (!file_exists(live)) {
		rc = certo_fail(CERTO_EUSAGE, "no stored certificate '%s' (see "
		    "certo list)", name);
		goto out;
	}
	remove_tree(live);
	remove_tree(arch);
	if (file_exists(live))
		rc = certo_fail(CERTO_EIO, "could not remove %s", live);
out:
	free(d);
	free(live);
	free(arch);
	return rc;
}

int
store_order_dir(const char *state, char *const *names, size_t n, char **out)
{
	char **sorted;
	gnutls_hash_hd_t h;
	unsigned char dig[32];
	char hex[65];

	*out = NULL;
	if ((sorted = calloc(n ? n : 1, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	memcpy(sorted, names, n * sizeof(char *));
	qsort(sorted, n, sizeof(char *), cmp_str);
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		free(sorted);
		return certo_fail(CERTO_ECRYPTO, "SHA-256 failed");
	}
	for (size_t i = 0; i < n; i++)
		gnutls_hash(h, sorted[i], strlen(sorted[i]) + 1);
	gnutls_hash_deinit(h, dig);
	free(sorted);
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	if (asprintf(out, "%s/orders/%s", state, hex) < 0) {
		*out = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

int
store_order_save(const char *dir, const char *url, const char *server,
    const struct certo_key *key)
{
	struct json_object *o;
	char *kp = NULL, *jp = NULL;
	const char *s;
	int rc;

	if ((rc = file_mkdirs(dir)) != 0)
		return rc;
	if ((kp = file_join(dir, "privkey.pem")) == NULL ||
	    (jp = file_join(dir, "order.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if (!file_exists(kp) && (rc = key_save(key, kp, true)) != 0)
		goto out;
	if ((o = json_object_new_object()) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "server", json_object_new_string(server));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = file_write_atomic(jp, s, strlen(s), 0600, false);
	json_object_put(o);
out:
	free(kp);
	free(jp);
	return rc;
}

int
store_order_load(const char *dir, const char *server, char **url,
    struct certo_key **key)
{
	struct json_object *o = NULL;
	char *kp = NULL, *jp = NULL, *data = NULL, *srv = NULL;
	size_t len;
	bool missing;
	int rc;

	*url = NULL;
	*key = NULL;
	if ((kp = file_join(dir, "privkey.pem")) == NULL ||
	    (jp = file_join(dir, "order.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_read(jp, 64 * 1024, false, &data, &len, &missing)) != 0) {
		if (missing) {
			certo_errclear();
			rc = 0;
		}
		goto out;
	}
	if ((rc = json_parse_object(data, len, jp, &o)) != 0 ||
	    (rc = json_get_str(o, jp, "url", true, 2048, url)) != 0 ||
	    (rc = json_get_str(o, jp, "server", true, 2048, &srv)) != 0)
		goto out;
	if (strcmp(srv, server) != 0) {
		free(*url);
		*url = NULL;
		goto out;
	}
	if ((rc = key_load(kp, key)) != 0) {
		free(*url);
		*url = NULL;
	}
out:
	json_object_put(o);
	free(data);
	free(srv);
	free(kp);
	free(jp);
	return rc;
}

void
store_order_remove(const char *dir)
{
	remove_tree(dir);
}

static int
small_json_path(const char *state, const char *sub, const char *ca_id,
    const char *name, char **dir, char **path)
{
	*dir = *path = NULL;
	if (asprintf(dir, "%s/%s/%s", state, sub, ca_id) < 0) {
		*dir = NULL;
		return CERTO_ENOMEM;
	}
	if (asprintf(path, "%s/%s.json", *dir, name) < 0) {
		*path = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

int
store_ratelimit_get(const char *state, const char *ca_id, time_t *until)
{
	struct json_object *o = NULL, *v;
	char *dir, *path, *data = NULL;
	size_t len;
	bool missing;
	int rc;

	*until = 0;
	if ((rc = small_json_path(state, "ratelimits", ".", ca_id, &dir,
	    &path)) != 0)
		goto out;
	if (file_read(path, 4096, false, &data, &len, &missing) != 0) {
		certo_errclear(); /* none (or unreadable: ignore it) */
		goto out;
	}
	if (json_parse_object(data, len, path, &o) == 0 &&
	    json_object_object_get_ex(o, "until", &v))
		*until = (time_t)json_object_get_int64(v);
	certo_errclear();
out:
	json_object_put(o);
	free(data);
	free(dir);
	free(path);
	return rc;
}

int
store_ratelimit_set(const char *state, const char *ca_id, time_t until)
{
	char *dir, *path, buf[64];
	int rc;

	if ((rc = small_json_path(state, "ratelimits", ".", ca_id, &dir,
	    &path)) == 0 && (rc = file_mkdirs(dir)) == 0) {
		snprintf(buf, sizeof(buf), "{\"until\": %lld}\n",
		    (long long)until);
		rc = file_write_atomic(path, buf, strlen(buf), 0600, false);
	}
	free(dir);
	free(path);
	return rc;
}

int
store_authz_save(const char *state, const char *ca_id, const char *name,
    const char *url)
{
	struct json_object *o;
	char *dir, *path, *n = set_name(name);
	int rc;

	if (n == NULL)
		return CERTO_ENOMEM;
	if ((rc = small_json_path(state, "authz", ca_id, n, &dir, &path)) == 0 &&
	    (rc = file_mkdirs(dir)) == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "url", json_object_new_string(url));
		const char *s = json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		rc = file_write_atomic(path, s, strlen(s), 0600, false);
		json_object_put(o);
	}
	free(n);
	free(dir);
	free(path);
	return rc;
}

int
store_authz_load(const char *state, const char *ca_id, const char *name,
    char **url)
{
	struct json_object *o = NULL;
	char *dir, *path, *data = NULL, *n = set_name(name);
	size_t len;
	int rc;

	*url = NULL;
	/* The caller passes a validated name; a path never comes of it. */
	if (*name == '\0' || *name == '.' || strchr(name, '/') != NULL) {
		char shown[128];
		return certo_fail(CERTO_EIDENT, "refusing to save an "
		    "authorization under the name \"%s\"", log_sanitize(shown,
		    sizeof(shown), name, (size_t)-1));
	}
	if ((n = set_name(name)) == NULL)
		return CERTO_ENOMEM;
	if ((rc = small_json_path(state, "authz", ca_id, n, &dir, &path)) != 0)
		goto out;
	if ((rc = file_read(path, 8192, false, &data, &len, NULL)) != 0) {
		certo_errclear();
		rc = certo_fail(CERTO_EUSAGE, "no saved authorization for %s "
		    "(certo authorize -d %s first, or give the URL)", name, name);
		goto out;
	}
	if ((rc = json_parse_object(data, len, path, &o)) == 0)
		rc = json_get_str(o, path, "url", true, 2048, url);
out:
	json_object_put(o);
	free(data);
	free(n);
	free(dir);
	free(path);
	return rc;
}

#define DEPLOY_MARK ".deploy-pending"

int
store_deploy_mark(const char *live_dir, const char *why)
{
	char *p = file_join(live_dir, DEPLOY_MARK);
	int rc = 0;

	if (p == NULL)
		return CERTO_ENOMEM;
	if (why != NULL)
		rc = file_write_atomic(p, why, strlen(why), 0600, false);
	else if (unlink(p) != 0 && errno != ENOENT)
		rc = certo_fail(CERTO_EIO, "cannot remove %s: %s", p,
		    strerror(errno));
	free(p);
	return rc;
}

int
store_deploy_pending(const char *live_dir)
{
	char *p = file_join(live_dir, DEPLOY_MARK);
	int yes = p != NULL && file_exists(p);

	free(p);
	return yes;
}
