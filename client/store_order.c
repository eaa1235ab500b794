/*
 * Saved orders, for resume: <state>/orders/<sha256 of the sorted names>/
 * holds order.json (URL, CA, names, the key's ID, and what the CA last
 * said of it) and privkey.pem, written and replaced as one unit (see
 * store.h); the listing of certo orders.
 */
#include "store.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "errors.h"
#include "file.h"
#include "json.h"
#include "key.h"
#include "log.h"
#include "order.h"
#include "store_priv.h"
#include "store_remote.h"

#define ORDER_JSON_MAX (64 * 1024)
#define NAMES_JSON_MAX (256 * 1024)
#define NAMES_MAX 1000

/* Hash of the sorted names, each with its NUL (store_priv.h). */
int
store_names_hash(char *const *names, size_t n, char hex[SHA256_HEX_LEN + 1])
{
	char **sorted, *buf = NULL;
	size_t len = 0, off = 0, one;
	int rc;

	if ((sorted = calloc(n ? n : 1, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		sorted[i] = names[i];
		len += strlen(names[i]) + 1;
	}
	qsort(sorted, n, sizeof(char *), store_cmp_str);
	if ((buf = malloc(len ? len : 1)) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		one = strlen(sorted[i]) + 1;
		memcpy(buf + off, sorted[i], one);
		off += one;
	}
	rc = sha256_hex(buf, off, hex);
out:
	free(buf);
	free(sorted);
	return rc;
}

/* Free n strings and the array (store_priv.h). */
void
store_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The "names" array of a JSON file (store_priv.h). */
int
store_read_names(const char *path, char ***names, size_t *n)
{
	struct json_object *doc = NULL, *arr;
	size_t cnt;
	int rc;

	*names = NULL;
	*n = 0;
	if ((rc = json_load_file(path, NAMES_JSON_MAX, &doc, NULL)) != 0)
		goto out;
	if (!json_object_object_get_ex(doc, "names", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    (cnt = json_object_array_length(arr)) == 0 || cnt > NAMES_MAX) {
		rc = certo_fail(CERTO_EIO, "%s: no \"names\" array", path);
		goto out;
	}
	if ((*names = calloc(cnt, sizeof(char *))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cnt; i++) {
		const char *v = json_object_get_string(
		    json_object_array_get_idx(arr, i));
		if (v == NULL || ((*names)[i] = strdup(v)) == NULL) {
			rc = v == NULL ? certo_fail(CERTO_EIO, "%s: bad \"names\"",
			    path) : CERTO_ENOMEM;
			break;
		}
		(*n)++;
	}
out:
	json_object_put(doc);
	return rc;
}

/*
 * Does the saved order in dir store into live/<dname>?  Its order.json's
 * first name decides; an unreadable one does not.
 */
static bool
order_for_set(const char *dir, const char *dname)
{
	char *jp, **names = NULL, *first = NULL;
	size_t n = 0;
	bool yes;

	if ((jp = file_join(dir, "order.json")) == NULL ||
	    store_read_names(jp, &names, &n) != 0) {
		certo_errclear();
		free(jp);
		return false;
	}
	yes = (first = store_set_name(names[0])) != NULL &&
	    strcmp(first, dname) == 0;
	free(first);
	store_free_names(names, n);
	free(jp);
	return yes;
}

/* Remove the saved orders that would store into live/<dname>. */
void
store_orders_remove_for(const char *state, const char *dname,
    const char *hash)
{
	char *orders, *path = NULL;
	struct dirent *ent;
	DIR *dirp;

	if ((orders = file_join(state, "orders")) == NULL)
		return;
	if ((dirp = opendir(orders)) == NULL)
		goto out;
	while ((ent = readdir(dirp)) != NULL) {
		if (ent->d_name[0] == '.')
			continue;
		free(path);
		if ((path = file_join(orders, ent->d_name)) == NULL)
			break;
		if ((hash != NULL && strcmp(ent->d_name, hash) == 0) ||
		    order_for_set(path, dname))
			store_remove_atomic(orders, ent->d_name, path);
	}
	closedir(dirp);
out:
	free(path);
	free(orders);
}

/* <state>/orders/<hash of the names> into *out (malloc'd). */
int
store_order_dir(const char *state, char *const *names, size_t n, char **out)
{
	char hex[SHA256_HEX_LEN + 1];
	int rc;

	*out = NULL;
	if ((rc = store_names_hash(names, n, hex)) != 0)
		return rc;
	if (asprintf(out, "%s/orders/%s", state, hex) < 0) {
		*out = NULL;
		return CERTO_ENOMEM;
	}
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

/* order.json's text for url, server, names and the key ID (malloc'd). */
static int
order_json(const char *url, const char *server, char *const *names,
    size_t n, const char *kid, char **out)
{
	struct json_object *doc, *arr;
	const char *text;

	*out = NULL;
	if ((doc = json_object_new_object()) == NULL)
		return CERTO_ENOMEM;
	if ((arr = json_object_new_array()) == NULL) {
		json_object_put(doc);
		return CERTO_ENOMEM;
	}
	json_object_object_add(doc, "url", json_object_new_string(url));
	json_object_object_add(doc, "server", json_object_new_string(server));
	json_object_object_add(doc, "key_id", json_object_new_string(kid));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(names[i]));
	json_object_object_add(doc, "names", arr);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || (*out = strdup(text)) == NULL) {
		json_object_put(doc);
		return CERTO_ENOMEM;
	}
	json_object_put(doc);
	return 0;
}

/*
 * Write order.json's text and the key as one unit in dir; with a shared
 * store and put, put the unit there too (store_remote.h).
 */
static int
save_unit(const char *dir, const char *text, const struct certo_key *key,
    bool put)
{
	char *parent = NULL, *base = NULL, *stg = NULL, *kp = NULL, *jp = NULL;
	bool exchanged;
	int rc, fd = -1;

	if ((rc = split_path(dir, &parent, &base)) != 0 ||
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
	    (jp = file_join(stg, "order.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = key_save_staged(key, kp)) != 0 ||
	    (rc = file_write_staged(jp, text, strlen(text), 0600)) != 0)
		goto out;
	/* Both names complete on disk before the unit is swapped in. */
	if ((rc = file_sync_staged(stg)) != 0 ||
	    (rc = store_swap_in(parent, stg, dir, &exchanged)) != 0)
		goto out;
	/* An older unit for these names, now at stg: drop it. */
	if (exchanged)
		store_remove_tree(stg);
	free(stg);
	stg = NULL;
	/* Hosts sharing a store can resume it (another host's order). */
	if (put)
		rc = store_remote_put_order(base, text, key);
out:
	if (stg != NULL)
		store_remove_tree(stg);
	if (fd >= 0)
		close(fd);
	free(stg);
	free(kp);
	free(jp);
	free(parent);
	free(base);
	return rc;
}

/* Save the order and its key as one unit in dir (see store.h). */
int
store_order_save(const char *dir, char *const *names, size_t n,
    const char *url, const char *server, const struct certo_key *key)
{
	char kid[SHA256_HEX_LEN + 1], *text = NULL;
	int rc;

	if ((rc = key_id_hex(key, kid)) == 0 &&
	    (rc = order_json(url, server, names, n, kid, &text)) == 0)
		rc = save_unit(dir, text, key, true);
	free(text);
	return rc;
}

/*
 * No saved order in dir: the shared store's unit for it, if any, written
 * there (another host created the order and stopped before storing the
 * certificate).
 */
static int
order_from_store(const char *dir)
{
	struct certo_key *key = NULL;
	const char *base = strrchr(dir, '/');
	char *text = NULL;
	int rc;

	if (!store_remote_active() || base == NULL)
		return 0;
	if ((rc = store_remote_get_order(base + 1, &text, &key)) == 0 &&
	    text != NULL) {
		log_info("order: resuming the order another host saved in the "
		    "store");
		rc = save_unit(dir, text, key, false);
	}
	key_free(key);
	free(text);
	return rc;
}

/*
 * The key in kp, checked against order.json's key ID (when it has one:
 * older certo versions saved none).  CERTO_EIO when it is another key.
 */
static int
order_key_load(const char *dir, const char *kp, struct json_object *doc,
    struct certo_key **key)
{
	struct json_object *saved;
	char kid[SHA256_HEX_LEN + 1];
	int rc;

	if ((rc = key_load(kp, key)) != 0)
		return rc;
	if (!json_object_object_get_ex(doc, "key_id", &saved))
		return 0;
	if ((rc = key_id_hex(*key, kid)) != 0)
		return rc;
	if (strcmp(json_object_get_string(saved), kid) != 0)
		return certo_fail(CERTO_EIO, "%s: privkey.pem is not the key "
		    "this order was created with", dir);
	return 0;
}

/* Load the unit in dir when it was saved for server (see store.h). */
int
store_order_load(const char *dir, const char *server, char **url,
    struct certo_key **key)
{
	struct json_object *doc = NULL;
	char *kp = NULL, *jp = NULL, *srv = NULL;
	bool missing;
	int rc;

	*url = NULL;
	*key = NULL;
	if ((kp = file_join(dir, "privkey.pem")) == NULL ||
	    (jp = file_join(dir, "order.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if (!file_exists(jp) && (rc = order_from_store(dir)) != 0)
		goto out;
	if ((rc = json_load_file(jp, ORDER_JSON_MAX, &doc, &missing)) != 0) {
		if (missing) {
			certo_errclear(); /* no saved order */
			rc = 0;
		}
		goto out;
	}
	if ((rc = json_get_str(doc, jp, "url", true, JSON_URL_MAX, url)) != 0 ||
	    (rc = json_get_str(doc, jp, "server", true, JSON_URL_MAX,
	    &srv)) != 0)
		goto out;
	if (strcmp(srv, server) != 0) {
		free(*url);
		*url = NULL;
		goto out;
	}
	rc = order_key_load(dir, kp, doc, key);
out:
	if (rc != 0) {
		free(*url);
		*url = NULL;
		key_free(*key);
		*key = NULL;
	}
	json_object_put(doc);
	free(srv);
	free(kp);
	free(jp);
	return rc;
}

/* Forget the saved order in dir (renamed away first, then removed). */
void
store_order_remove(const char *dir)
{
	char *parent = NULL, *base = NULL;

	if (split_path(dir, &parent, &base) == 0) {
		store_remove_atomic(parent, base, dir);
		/* And the store's copy (a failure is only logged). */
		bool had_error = certo_errmsg() != NULL;
		if (store_remote_del_order(base) != 0) {
			log_warn("saved order %s not removed from the store %s",
			    base, store_remote_shown());
			if (!had_error)
				certo_errclear();
		}
	}
	free(parent);
	free(base);
}

/*
 * The live set for names is fresh: remove a saved order for them left
 * by a run killed after it stored the set, unless a run holds its lock.
 */
int
store_order_forget(const char *state, char *const *names, size_t n)
{
	char *dir = NULL, hash[SHA256_HEX_LEN + 1];
	int rc, fd = -1;

	if ((rc = store_names_hash(names, n, hash)) != 0 ||
	    (rc = store_order_dir(state, names, n, &dir)) != 0)
		goto out;
	if (!file_exists(dir))
		goto out;
	/* Only when no run holds it (one that does may be resuming it). */
	if ((rc = store_lock_try(state, "order", hash, &fd)) == 1)
		store_order_remove(dir);
	if (rc > 0)
		rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/*
 * The status to remember for order: the CA's, except that a pending
 * order with a failed authorization is invalid (RFC 8555 7.1.6), which
 * the CA decided after the order was last fetched.
 */
static const char *
note_status(const struct certo_order *order)
{
	for (size_t i = 0; order->status == ORDER_PENDING && order->authzs &&
	    i < order->nauthz; i++)
		if (order->authzs[i].ident.value != NULL &&
		    order->authzs[i].status != AUTHZ_PENDING &&
		    order->authzs[i].status != AUTHZ_VALID)
			return order_status_name(ORDER_INVALID);
	return order_status_name(order->status);
}

/*
 * {name: status} of the authorizations of order, under certo's own copy
 * of each name (never the CA's string); NULL unless all were fetched
 * (the last complete record is kept then).
 */
static struct json_object *
note_authzs(const struct certo_order *order)
{
	struct json_object *obj = NULL;
	size_t k;

	for (size_t i = 0; order->authzs && i < order->nauthz; i++)
		if (order->authzs[i].ident.value == NULL)
			return NULL;
	for (size_t i = 0; order->authzs && i < order->nauthz; i++) {
		const struct certo_authz *authz = &order->authzs[i];

		if (authz->ident.value == NULL || authz_check_ident(&authz->ident,
		    authz->wildcard, order->names, order->nnames, &k) != 0) {
			certo_errclear();
			continue;
		}
		if (obj == NULL && (obj = json_object_new_object()) == NULL)
			return NULL;
		json_object_object_add(obj, order->names[k],
		    json_object_new_string(authz_status_name(authz->status)));
	}
	return obj;
}

/*
 * order.json of the unit in dir, when it holds the order at url, with
 * "status", "seen" (now), "expires" and "authorizations" set (the last
 * two when not NULL; authzs is taken over).
 */
static int
note_write(const char *dir, const char *url, const char *status,
    const char *expires, struct json_object *authzs)
{
	struct json_object *doc = NULL, *saved;
	char *jp, stamp[32];
	const char *text;
	time_t now = time(NULL);
	struct tm tm;
	bool missing = false;
	int rc;

	if ((jp = file_join(dir, "order.json")) == NULL) {
		json_object_put(authzs);
		return CERTO_ENOMEM;
	}
	if ((rc = json_load_file(jp, ORDER_JSON_MAX, &doc, &missing)) != 0) {
		if (missing) {
			certo_errclear(); /* not saved (--csr), or stored */
			rc = 0;
		}
		goto out;
	}
	/* Only the unit of this very order. */
	if (!json_object_object_get_ex(doc, "url", &saved) ||
	    strcmp(json_object_get_string(saved), url) != 0)
		goto out;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(doc, "status", json_object_new_string(status));
	json_object_object_add(doc, "seen", json_object_new_string(stamp));
	if (expires != NULL)
		json_object_object_add(doc, "expires", json_object_new_string(
		    expires));
	if (authzs != NULL)
		json_object_object_add(doc, "authorizations", authzs);
	authzs = NULL; /* doc's now */
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = text == NULL ? CERTO_ENOMEM : file_write_atomic(jp, text,
	    strlen(text), 0600, false);
out:
	json_object_put(authzs);
	json_object_put(doc);
	free(jp);
	return rc;
}

/*
 * Remember what the CA last said of the order saved in dir (store.h).
 * A failed run's message, recorded before, is kept as it was.
 */
int
store_order_note(const char *dir, const struct certo_order *order)
{
	char saved[1024];
	int code = certo_errcode(), rc;

	if (order->url == NULL)
		return 0;
	snprintf(saved, sizeof(saved), "%s", certo_errmsg() ? certo_errmsg() :
	    "");
	rc = note_write(dir, order->url, note_status(order), order->expires,
	    note_authzs(order));
	if (code != 0) {
		certo_errclear();
		certo_fail(code, "%s", saved);
	}
	return rc;
}

/* The CA no longer knows the order saved in dir (store.h). */
int
store_order_note_gone(const char *dir, const char *url)
{
	return note_write(dir, url, "gone", NULL, NULL);
}

/* A string member of doc, copied (NULL when absent or not a string). */
static char *
info_str(struct json_object *doc, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

/*
 * One saved order's order.json into info; an unreadable one is listed
 * with why (info->error).
 */
static int
info_read(const char *orders, const char *hash, struct store_order_info *info)
{
	struct json_object *doc = NULL, *authzs;
	char *dir, *jp = NULL;
	size_t n;
	int rc = 0;

	if ((info->hash = strdup(hash)) == NULL ||
	    (dir = file_join(orders, hash)) == NULL)
		return CERTO_ENOMEM;
	if ((jp = file_join(dir, "order.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if (json_load_file(jp, ORDER_JSON_MAX, &doc, NULL) != 0 ||
	    store_read_names(jp, &info->names, &info->nnames) != 0) {
		info->error = strdup(certo_errmsg() ? certo_errmsg() :
		    "unreadable");
		certo_errclear();
		goto out;
	}
	info->url = info_str(doc, "url");
	info->server = info_str(doc, "server");
	info->status = info_str(doc, "status");
	info->seen = info_str(doc, "seen");
	info->expires = info_str(doc, "expires");
	if (!json_object_object_get_ex(doc, "authorizations", &authzs) ||
	    !json_object_is_type(authzs, json_type_object))
		goto out;
	info->authz_known = true;
	/* The names whose authorization is still pending. */
	n = (size_t)json_object_object_length(authzs);
	if ((info->pending = calloc(n ? n : 1, sizeof(char *))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	json_object_object_foreach(authzs, name, status) {
		if (!json_object_is_type(status, json_type_string) ||
		    strcmp(json_object_get_string(status), "pending") != 0)
			continue;
		if ((info->pending[info->npending] = strdup(name)) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		info->npending++;
	}
out:
	json_object_put(doc);
	free(jp);
	free(dir);
	return rc;
}

/* The orders under <state>/orders/, sorted by directory name (store.h). */
int
store_orders_list(const char *state, struct store_order_info **out,
    size_t *n)
{
	struct store_order_info *v = NULL;
	char *orders, **hashes = NULL;
	size_t nhashes = 0, kept = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if ((orders = file_join(state, "orders")) == NULL)
		return CERTO_ENOMEM;
	/* Temporary names (.<hash>.new.<pid>...) are not orders. */
	if ((rc = file_list_dir(orders, "", SIZE_MAX, &hashes, &nhashes)) != 0)
		goto out;
	for (size_t i = 0; i < nhashes; i++) {
		if (strlen(hashes[i]) == SHA256_HEX_LEN)
			hashes[kept++] = hashes[i];
		else
			free(hashes[i]);
	}
	nhashes = kept;
	if (nhashes > 0 && (v = calloc(nhashes, sizeof(*v))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nhashes && rc == 0; i++, (*n)++)
		rc = info_read(orders, hashes[i], &v[i]);
	*out = v;
	if (rc != 0) {
		store_orders_free(v, *n);
		*out = NULL;
		*n = 0;
	}
out:
	store_free_names(hashes, nhashes);
	free(orders);
	return rc;
}

/* Free what store_orders_list() returned (store.h). */
void
store_orders_free(struct store_order_info *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		free(v[i].hash);
		free(v[i].url);
		free(v[i].server);
		free(v[i].status);
		free(v[i].seen);
		free(v[i].expires);
		free(v[i].error);
		store_free_names(v[i].names, v[i].nnames);
		store_free_names(v[i].pending, v[i].npending);
	}
	free(v);
}

/* authorize's certo.json text next to the order saved in dir (store.h). */
int
store_order_put_config(const char *dir, const char *text)
{
	char *jp = file_join(dir, "order.json"), *cp = file_join(dir,
	    "certo.json");
	int rc = 0;

	if (jp == NULL || cp == NULL)
		rc = CERTO_ENOMEM;
	else if (file_exists(jp))
		rc = file_write_atomic(cp, text, strlen(text), 0600, false);
	free(jp);
	free(cp);
	return rc;
}

/* Take the lock of the order named hash without waiting (store.h). */
int
store_order_trylock(const char *state, const char *hash, int *fd)
{
	char *locks;
	int rc;

	*fd = -1;
	/* A state directory no run has locked anything in yet. */
	if ((locks = file_join(state, "locks")) == NULL)
		return CERTO_ENOMEM;
	rc = file_mkdirs(locks);
	free(locks);
	return rc != 0 ? rc : store_lock_try(state, "order", hash, fd);
}
