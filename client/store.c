/* The certificate store: state directory, live and archive sets. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "certificate.h"
#include "json.h"
#include "errors.h"
#include "file.h"
#include "key.h"
#include "log.h"
#include "sig.h"

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

static void sweep(const char *state);

int
store_prepare(const char *state)
{
	int rc;

	if ((rc = file_mkdirs(state)) == 0)
		sweep(state);
	return rc;
}

/* fsync a directory; failures only cost durability, not correctness. */
static void
sync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
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

/*
 * Remove the tree at path so that no half of it is ever seen: rename it
 * to "<parent>/.<base>.del.<pid>.XXXXXX" first (one atomic step), then
 * delete that.  A SIGKILL in between leaves only the .del name, which
 * the next run's sweep removes.  Returns 0 when path is gone.
 */
static int
remove_atomic(const char *parent, const char *base, const char *path)
{
	char *tmp = NULL;
	int fd, rc;

	if (!file_exists(path))
		return 0;
	if ((rc = file_staging_dir(parent, base, "del", &tmp, &fd)) != 0)
		return rc;
	/* rename() replaces the empty directory tmp with path. */
	if (rename(path, tmp) != 0) {
		rc = certo_fail(CERTO_EIO, "cannot remove %s: %s", path,
		    strerror(errno));
		rmdir(tmp);
	} else {
		sync_dir(parent);
		remove_tree(tmp);
	}
	close(fd);
	free(tmp);
	return rc;
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
	else
		sync_dir(adir);
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
	int rc, lfd = -1;

	*live_dir = NULL;
	if ((dname = set_name(name)) == NULL ||
	    (live = file_join(state, "live")) == NULL ||
	    (target = file_join(live, dname)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_mkdirs(live)) != 0)
		goto out;
	/* live/.<name>.new.<pid>.XXXXXX, locked while we build it. */
	if ((rc = file_staging_dir(live, dname, "new", &staging, &lfd)) != 0)
		goto out;
	if ((rc = write_set(staging, key, chain, config)) != 0)
		goto out;
	sync_dir(staging);
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
		/*
		 * staging now holds the previous set (a SIGKILL here leaves it
		 * there: the sweep of the next run archives it).
		 */
		sync_dir(live);
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
	sync_dir(live);
	*live_dir = target;
	target = NULL;
out:
	if (staging != NULL)
		remove_tree(staging);
	if (lfd >= 0)
		close(lfd);
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

/* Hex SHA-256 of the n strings (each with its NUL) into hex[65]. */
static int
sha256_hex(char *const *v, size_t n, char hex[65])
{
	gnutls_hash_hd_t h;
	unsigned char dig[32];

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return certo_fail(CERTO_ECRYPTO, "SHA-256 failed");
	for (size_t i = 0; i < n; i++)
		gnutls_hash(h, v[i], strlen(v[i]) + 1);
	gnutls_hash_deinit(h, dig);
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	return 0;
}

/* The hash naming orders/<hash>: of the sorted names. */
static int
names_hash(char *const *names, size_t n, char hex[65])
{
	char **sorted;
	int rc;

	if ((sorted = calloc(n ? n : 1, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	if (n > 0)
		memcpy(sorted, names, n * sizeof(char *));
	qsort(sorted, n, sizeof(char *), cmp_str);
	rc = sha256_hex(sorted, n, hex);
	free(sorted);
	return rc;
}

/* The "names" array of a JSON file (certo.json, order.json). */
static int
read_names(const char *path, char ***names, size_t *n)
{
	struct json_object *o = NULL, *a;
	char *data = NULL;
	size_t len, cnt;
	int rc;

	*names = NULL;
	*n = 0;
	if ((rc = file_read(path, 256 * 1024, false, &data, &len, NULL)) != 0 ||
	    (rc = json_parse_object(data, len, path, &o)) != 0)
		goto out;
	if (!json_object_object_get_ex(o, "names", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    (cnt = json_object_array_length(a)) == 0 || cnt > 1000) {
		rc = certo_fail(CERTO_EIO, "%s: no \"names\" array", path);
		goto out;
	}
	if ((*names = calloc(cnt, sizeof(char *))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cnt; i++) {
		const char *v = json_object_get_string(
		    json_object_array_get_idx(a, i));
		if (v == NULL || ((*names)[i] = strdup(v)) == NULL) {
			rc = v == NULL ? certo_fail(CERTO_EIO, "%s: bad \"names\"",
			    path) : CERTO_ENOMEM;
			break;
		}
		(*n)++;
	}
out:
	json_object_put(o);
	free(data);
	return rc;
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * Remove every saved order that would store into live/<dname>: the one
 * for the stored names (hash), and any whose order.json names start
 * with a name of that directory.
 */
static void
remove_orders_for(const char *state, const char *dname, const char *hash)
{
	char *orders, *p = NULL, *jp = NULL, **names = NULL, *d;
	struct dirent *e;
	size_t n = 0;
	DIR *dir;

	if ((orders = file_join(state, "orders")) == NULL)
		return;
	if ((dir = opendir(orders)) == NULL)
		goto out;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		free(p);
		free(jp);
		jp = NULL;
		if ((p = file_join(orders, e->d_name)) == NULL)
			break;
		if (hash != NULL && strcmp(e->d_name, hash) == 0) {
			remove_atomic(orders, e->d_name, p);
			continue;
		}
		if ((jp = file_join(p, "order.json")) == NULL ||
		    read_names(jp, &names, &n) != 0) {
			certo_errclear();
			continue;
		}
		if ((d = set_name(names[0])) != NULL && strcmp(d, dname) == 0)
			remove_atomic(orders, e->d_name, p);
		free(d);
		free_names(names, n);
		names = NULL;
		n = 0;
	}
	closedir(dir);
out:
	free(p);
	free(jp);
	free(orders);
}

int
store_delete(const char *state, const char *name)
{
	struct store_lock lk = STORE_LOCK_INIT;
	char *live = NULL, *arch = NULL, *d = NULL, *cj = NULL, **names = NULL;
	char *one[1], hash[65];
	size_t n = 0;
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
	/* The names it was issued for, so that their order goes too. */
	if ((cj = file_join(live, "certo.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if (read_names(cj, &names, &n) != 0) {
		certo_errclear();
		n = 0;
	}
	one[0] = d;
	/* Not while a run issues or renews it. */
	if ((rc = store_lock_cert(state, d, n ? names : one, n ? n : 1,
	    &lk)) != 0 || (rc = names_hash(n ? names : one, n ? n : 1,
	    hash)) != 0)
		goto out;
	/* First what killed runs left (a staged set would be archived
	 * after the delete otherwise). */
	sweep(state);
	/* Each tree goes in one atomic rename: never half a set. */
	free(live);
	free(arch);
	live = arch = NULL;
	if (asprintf(&live, "%s/live", state) < 0 ||
	    asprintf(&arch, "%s/archive", state) < 0) {
		live = arch = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	free(cj);
	if ((cj = file_join(live, d)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = remove_atomic(live, d, cj)) != 0)
		goto out;
	free(cj);
	if ((cj = file_join(arch, d)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = remove_atomic(arch, d, cj)) != 0)
		goto out;
	remove_orders_for(state, d, hash);
out:
	store_unlock(&lk);
	free_names(names, n);
	free(cj);
	free(d);
	free(live);
	free(arch);
	return rc;
}

int
store_order_dir(const char *state, char *const *names, size_t n, char **out)
{
	char hex[65];
	int rc;

	*out = NULL;
	if ((rc = names_hash(names, n, hex)) != 0)
		return rc;
	if (asprintf(out, "%s/orders/%s", state, hex) < 0) {
		*out = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

/* Hex of the key's SHA-256 public key ID (binds order.json to the key). */
static int
key_id_hex(const struct certo_key *key, char hex[129])
{
	unsigned char id[64];
	size_t len = sizeof(id);

	if (key_public_id(key, id, &len) < 0 || len > 64)
		return certo_fail(CERTO_ECRYPTO, "cannot compute the key ID");
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	return 0;
}

/* Split dir into its parent and last component (both malloc'd). */
static int
split_path(const char *dir, char **parent, char **base)
{
	const char *sl = strrchr(dir, '/');

	*parent = *base = NULL;
	if (sl == NULL || sl == dir || sl[1] == '\0')
		return certo_fail(CERTO_EIO, "bad directory %s", dir);
	if ((*parent = strndup(dir, (size_t)(sl - dir))) == NULL ||
	    (*base = strdup(sl + 1)) == NULL) {
		free(*parent);
		*parent = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

int
store_order_save(const char *dir, char *const *names, size_t n,
    const char *url, const char *server, const struct certo_key *key)
{
	struct json_object *o = NULL, *a;
	char *parent = NULL, *base = NULL, *stg = NULL, *kp = NULL, *jp = NULL;
	char kid[129];
	const char *s;
	int rc, fd = -1;

	if ((rc = split_path(dir, &parent, &base)) != 0 ||
	    (rc = key_id_hex(key, kid)) != 0 ||
	    (rc = file_mkdirs(parent)) != 0)
		goto out;
	/*
	 * Key and URL are one unit: both are written into a new locked
	 * directory orders/.<hash>.new.<pid>.XXXXXX, which then replaces
	 * orders/<hash> in one rename.  A SIGKILL or a full disk leaves the
	 * previous unit or the new one, never a key of one order with the
	 * URL of another.
	 */
	if ((rc = file_staging_dir(parent, base, "new", &stg, &fd)) != 0)
		goto out;
	if ((kp = file_join(stg, "privkey.pem")) == NULL ||
	    (jp = file_join(stg, "order.json")) == NULL ||
	    (o = json_object_new_object()) == NULL ||
	    (a = json_object_new_array()) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "server", json_object_new_string(server));
	json_object_object_add(o, "key_id", json_object_new_string(kid));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(names[i]));
	json_object_object_add(o, "names", a);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if ((rc = key_save(key, kp, true)) != 0 ||
	    (rc = file_write_atomic(jp, s, strlen(s), 0600, true)) != 0)
		goto out;
	if (rename(stg, dir) != 0) {
		if (errno != ENOTEMPTY && errno != EEXIST) {
			rc = certo_fail(CERTO_EIO, "cannot create %s: %s", dir,
			    strerror(errno));
			goto out;
		}
		/* An older unit for these names: swap, then drop it. */
		if (renameat2(AT_FDCWD, stg, AT_FDCWD, dir, RENAME_EXCHANGE) != 0) {
			rc = certo_fail(CERTO_EIO, "cannot replace %s: %s", dir,
			    strerror(errno));
			goto out;
		}
		sync_dir(parent);
		remove_tree(stg);
	} else
		sync_dir(parent);
	free(stg);
	stg = NULL;
out:
	if (stg != NULL)
		remove_tree(stg);
	if (fd >= 0)
		close(fd);
	json_object_put(o);
	free(stg);
	free(kp);
	free(jp);
	free(parent);
	free(base);
	return rc;
}

int
store_order_load(const char *dir, const char *server, char **url,
    struct certo_key **key)
{
	struct json_object *o = NULL, *v;
	char *kp = NULL, *jp = NULL, *data = NULL, *srv = NULL, kid[129];
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
	if ((rc = key_load(kp, key)) != 0)
		goto out;
	/* Saved by a certo that bound the key to the URL: check it. */
	if (json_object_object_get_ex(o, "key_id", &v) &&
	    ((rc = key_id_hex(*key, kid)) != 0 ||
	    strcmp(json_object_get_string(v), kid) != 0)) {
		if (rc == 0)
			rc = certo_fail(CERTO_EIO, "%s: privkey.pem is not the key "
			    "this order was created with", dir);
		goto out;
	}
out:
	if (rc != 0) {
		free(*url);
		*url = NULL;
		key_free(*key);
		*key = NULL;
	}
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
	char *parent = NULL, *base = NULL;

	if (split_path(dir, &parent, &base) == 0)
		remove_atomic(parent, base, dir);
	free(parent);
	free(base);
}

/* Seconds to wait for a lock: $CERTO_LOCK_WAIT, else STORE_LOCK_WAIT_S. */
static long
lock_wait_s(void)
{
	const char *e = getenv("CERTO_LOCK_WAIT");
	char *end;
	long v;

	if (e != NULL && *e != '\0') {
		v = strtol(e, &end, 10);
		if (*end == '\0' && v >= 0 && v <= 86400)
			return v;
	}
	return STORE_LOCK_WAIT_S;
}

/*
 * flock <state>/locks/<kind>-<sha256 of key>.lock; while another run
 * holds it, say so once and wait (bounded, Ctrl-C ends it).
 */
static int
lock_take(const char *state, const char *kind, const char *key,
    const char *shown, int *fd, bool *waited)
{
	struct json_object *f;
	char *dir = NULL, *path = NULL, hex[65], *kv[1];
	time_t deadline;
	long wait_s;
	int rc;

	*fd = -1;
	kv[0] = (char *)(uintptr_t)key;
	if ((rc = sha256_hex(kv, 1, hex)) != 0)
		return rc;
	if ((dir = file_join(state, "locks")) == NULL ||
	    asprintf(&path, "%s/%s-%s.lock", dir, kind, hex) < 0) {
		path = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_mkdirs(dir)) != 0)
		goto out;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		rc = certo_fail(CERTO_EIO, "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		goto out;
	if (errno != EWOULDBLOCK) {
		rc = certo_fail(CERTO_EIO, "cannot lock %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (waited != NULL)
		*waited = true;
	wait_s = lock_wait_s();
	f = json_object_new_object();
	if (f != NULL)
		json_object_object_add(f, "what", json_object_new_string(shown));
	log_event("lock_wait", f, "waiting for another certo run on %s "
	    "(up to %ld s)", shown, wait_s);
	deadline = time(NULL) + wait_s;
	while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			rc = certo_fail(CERTO_EIO, "cannot lock %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (time(NULL) >= deadline) {
			rc = certo_fail(CERTO_EBUSY, "another certo run is still "
			    "working on %s after %ld s (lock %s); try again "
			    "later", shown, wait_s, path);
			goto out;
		}
		if ((rc = sig_sleep_ms(50)) != 0)
			goto out;
	}
out:
	if (rc != 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	free(dir);
	free(path);
	return rc;
}

int
store_lock_account(const char *state, const char *ca_id,
    struct store_lock *lk)
{
	char shown[300];

	lk->fd[0] = lk->fd[1] = -1;
	lk->waited = false;
	snprintf(shown, sizeof(shown), "the account for %s", ca_id);
	return lock_take(state, "account", ca_id, shown, &lk->fd[0],
	    &lk->waited);
}

int
store_lock_cert(const char *state, const char *live_name,
    char *const *names, size_t n, struct store_lock *lk)
{
	char *d, hash[65], shown[300];
	int rc;

	lk->fd[0] = lk->fd[1] = -1;
	lk->waited = false;
	if ((d = set_name(live_name)) == NULL)
		return CERTO_ENOMEM;
	snprintf(shown, sizeof(shown), "certificate %s", live_name);
	/* Always live name first, then the order: no lock-order cycle. */
	if ((rc = lock_take(state, "live", d, shown, &lk->fd[0],
	    &lk->waited)) == 0 && (rc = names_hash(names, n, hash)) == 0)
		rc = lock_take(state, "order", hash, shown, &lk->fd[1],
		    &lk->waited);
	if (rc != 0)
		store_unlock(lk);
	free(d);
	return rc;
}

void
store_unlock(struct store_lock *lk)
{
	for (size_t i = 0; i < 2; i++)
		if (lk->fd[i] >= 0) {
			close(lk->fd[i]);
			lk->fd[i] = -1;
		}
}

int
store_order_forget(const char *state, char *const *names, size_t n)
{
	char *dir = NULL, *lp = NULL, hash[65], lh[65], *kv[1];
	int rc, fd = -1;

	kv[0] = hash;
	if ((rc = names_hash(names, n, hash)) != 0 ||
	    (rc = store_order_dir(state, names, n, &dir)) != 0)
		goto out;
	if (!file_exists(dir))
		goto out;
	/* Only when no run holds it (one that does may be resuming it). */
	if ((rc = sha256_hex(kv, 1, lh)) != 0)
		goto out;
	if (asprintf(&lp, "%s/locks/order-%s.lock", state, lh) < 0) {
		lp = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((fd = open(lp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
		store_order_remove(dir);
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	free(lp);
	return rc;
}

/* A staging set with the files of a whole certificate. */
static bool
complete_set(const char *dir)
{
	char *a = file_join(dir, "cert.pem"), *b = file_join(dir,
	    "fullchain.pem");
	bool ok = a != NULL && b != NULL && file_exists(a) && file_exists(b);

	free(a);
	free(b);
	return ok;
}

/* "example.com" from ".example.com.new.<pid>.XXXXXX" (malloc'd). */
static char *
staging_base(const char *name)
{
	size_t len = strlen(name);
	const char *end = name + len - 7, *p = end;
	char *b;

	while (p > name && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p < end && p > name && p[-1] == '.')
		end = p - 1; /* the '.' after the mark */
	/* end is now the last '.' of ".new."; the base ends before it. */
	if (name[0] != '.' || end - name < 6)
		return NULL;
	if ((b = strndup(name + 1, (size_t)(end - 4 - name - 1))) == NULL)
		return NULL;
	if (b[0] == '\0' || b[0] == '.' || strchr(b, '/') != NULL) {
		free(b);
		return NULL;
	}
	return b;
}

/*
 * Remove what killed runs left in dir: temp files, staging and removal
 * directories whose writer is gone (file_claim_stale).  A complete
 * certificate set staged in live/ (a kill between the swap and the
 * archive move, or right before the swap) goes to archive/, never away.
 */
static void
sweep_dir(const char *state, const char *dir, bool live)
{
	struct dirent *e;
	struct stat st;
	char *p, *b;
	long pid;
	DIR *d;
	int k, fd;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (file_temp_kind(e->d_name, &pid) == FILE_TEMP_NONE ||
		    (p = file_join(dir, e->d_name)) == NULL)
			continue;
		if (lstat(p, &st) != 0 || (k = file_claim_stale(p,
		    S_ISDIR(st.st_mode), &fd)) == 0) {
			free(p);
			continue;
		}
		if (k == FILE_TEMP_NEW && live && complete_set(p) &&
		    (b = staging_base(e->d_name)) != NULL) {
			sweep_dir(state, p, false); /* its half-written files */
			if (archive_set(state, b, p) == 0)
				log_info("moved %s, left by an interrupted run, to "
				    "archive/%s", p, b);
			certo_errclear();
			free(b);
		} else {
			if (S_ISDIR(st.st_mode))
				remove_tree(p);
			else
				unlink(p);
			log_debug("removed %s, left by an interrupted run", p);
		}
		close(fd);
		free(p);
	}
	closedir(d);
}

/* Sweep the directories certo writes temporary names into. */
static void
sweep(const char *state)
{
	static const char *const tops[] = { "live", "orders", "accounts",
		"ratelimits", "authz", "archive" };
	struct dirent *e;
	char *t, *s;
	DIR *d;

	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		if ((t = file_join(state, tops[i])) == NULL)
			return;
		sweep_dir(state, t, i == 0);
		/* One level down (orders/<hash>/, accounts/<ca>/...), not in
		 * the archive (nothing is written there in place). */
		if (strcmp(tops[i], "archive") != 0 && (d = opendir(t)) != NULL) {
			while ((e = readdir(d)) != NULL) {
				struct stat st;

				if (e->d_name[0] == '.' ||
				    (s = file_join(t, e->d_name)) == NULL)
					continue;
				if (lstat(s, &st) == 0 && S_ISDIR(st.st_mode))
					sweep_dir(state, s, false);
				free(s);
			}
			closedir(d);
		}
		free(t);
	}
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
	char *dir, *path, *n;
	int rc;

	/* The caller passes a validated name; a path never comes of it. */
	if (*name == '\0' || *name == '.' || strchr(name, '/') != NULL) {
		char shown[128];
		return certo_fail(CERTO_EIDENT, "refusing to save an "
		    "authorization under the name \"%s\"", log_sanitize(shown,
		    sizeof(shown), name, (size_t)-1));
	}
	if ((n = set_name(name)) == NULL)
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
	if (n == NULL)
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
