/*
 * Small records under the state directory: the valid authorizations
 * `certo authorize` keeps (authz/<ca>/<name>.json), the mark of a
 * deploy hook that has not succeeded yet (live/<name>/.deploy-pending)
 * and what the last renew pass came to (last-renew.json).
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "errors.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "store_priv.h"

#define AUTHZ_JSON_MAX 8192
#define DEPLOY_MARK ".deploy-pending"

/*
 * <state>/authz/<ca_id> (*dir) and <dir>/<dir name of name>.json
 * (*path), both malloc'd.
 */
static int
authz_path(const char *state, const char *ca_id, const char *name,
    char **dir, char **path)
{
	char *dname;
	int rc = 0;

	*dir = *path = NULL;
	if ((dname = store_set_name(name)) == NULL)
		return CERTO_ENOMEM;
	if (asprintf(dir, "%s/authz/%s", state, ca_id) < 0) {
		*dir = NULL;
		rc = CERTO_ENOMEM;
	} else if (asprintf(path, "%s/%s.json", *dir, dname) < 0) {
		*path = NULL;
		rc = CERTO_ENOMEM;
	}
	free(dname);
	return rc;
}

/* Keep the URL of a valid authorization for ca_id and name. */
int
store_authz_save(const char *state, const char *ca_id, const char *name,
    const char *url)
{
	struct json_object *doc;
	char *dir = NULL, *path = NULL, shown[128];
	const char *text;
	int rc;

	/* The caller passes a validated name; a path never comes of it. */
	if (*name == '\0' || *name == '.' || strchr(name, '/') != NULL)
		return certo_fail(CERTO_EIDENT, "refusing to save an "
		    "authorization under the name \"%s\"",
		    log_str(shown, sizeof(shown), name));
	if ((rc = authz_path(state, ca_id, name, &dir, &path)) != 0 ||
	    (rc = file_mkdirs(dir)) != 0)
		goto out;
	if ((doc = json_object_new_object()) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	json_object_object_add(doc, "url", json_object_new_string(url));
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = text == NULL ? CERTO_ENOMEM :
	    file_write_atomic(path, text, strlen(text), 0600, false);
	json_object_put(doc);
out:
	free(dir);
	free(path);
	return rc;
}

/*
 * The kept authorization URL for ca_id and name into *url (malloc'd).
 * CERTO_EUSAGE when none was kept; an unreadable record keeps its cause.
 */
int
store_authz_load(const char *state, const char *ca_id, const char *name,
    char **url)
{
	struct json_object *doc = NULL;
	char *dir = NULL, *path = NULL;
	bool missing;
	int rc;

	*url = NULL;
	if ((rc = authz_path(state, ca_id, name, &dir, &path)) != 0)
		goto out;
	if ((rc = json_load_file(path, AUTHZ_JSON_MAX, &doc, &missing)) != 0) {
		if (missing) {
			certo_errclear();
			rc = certo_fail(CERTO_EUSAGE, "no saved authorization for "
			    "%s (certo authorize -d %s first, or give the URL)",
			    name, name);
		}
		goto out;
	}
	rc = json_get_str(doc, path, "url", true, JSON_URL_MAX, url);
out:
	json_object_put(doc);
	free(dir);
	free(path);
	return rc;
}

/* Write (why != NULL) or remove the deploy-pending mark of live_dir. */
int
store_deploy_mark(const char *live_dir, const char *why)
{
	char *path = file_join(live_dir, DEPLOY_MARK);
	int rc = 0;

	if (path == NULL)
		return CERTO_ENOMEM;
	if (why != NULL)
		rc = file_write_atomic(path, why, strlen(why), 0600, false);
	else if (unlink(path) != 0 && errno != ENOENT)
		rc = certo_fail(CERTO_EIO, "cannot remove %s: %s", path,
		    strerror(errno));
	free(path);
	return rc;
}

/* 1 when live_dir's deploy hook is pending, else 0. */
int
store_deploy_pending(const char *live_dir)
{
	char *path = file_join(live_dir, DEPLOY_MARK);
	int yes = path != NULL && file_exists(path);

	free(path);
	return yes;
}

#define RENEW_STATUS "last-renew.json"

/* Write what the last renew pass came to (store.h). */
int
store_renew_status_save(const char *state, const struct store_renew_status *st)
{
	char *path, text[256];
	int n, rc;

	if ((path = file_join(state, RENEW_STATUS)) == NULL)
		return CERTO_ENOMEM;
	n = snprintf(text, sizeof(text), "{\"time\":%lld,\"exit\":%d,"
	    "\"renewed\":%zu,\"failed\":%zu,\"not_due\":%zu,"
	    "\"deploy_failed\":%zu}\n", (long long)st->time, st->exit_code,
	    st->renewed, st->failed, st->not_due, st->deploy_failed);
	rc = file_write_atomic(path, text, (size_t)n, 0600, false);
	free(path);
	return rc;
}

/* A non-negative integer member of the renew status into *out. */
static int
status_int(struct json_object *doc, const char *path, const char *key,
    long long *out)
{
	struct json_object *val;

	if (!json_object_object_get_ex(doc, key, &val) ||
	    !json_object_is_type(val, json_type_int) ||
	    (*out = json_object_get_int64(val)) < 0)
		return certo_fail(CERTO_ECONFIG, "%s: \"%s\" is not a "
		    "non-negative integer", path, key);
	return 0;
}

/* Read what the last renew pass came to (store.h). */
int
store_renew_status_load(const char *state, struct store_renew_status *st,
    bool *missing)
{
	struct json_object *doc = NULL;
	long long v[6];
	static const char *const keys[6] = { "time", "exit", "renewed",
		"failed", "not_due", "deploy_failed" };
	char *path;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	*missing = false;
	if ((path = file_join(state, RENEW_STATUS)) == NULL)
		return CERTO_ENOMEM;
	if ((rc = json_load_file(path, 4096, &doc, missing)) != 0)
		goto out;
	for (size_t i = 0; i < 6 && rc == 0; i++)
		rc = status_int(doc, path, keys[i], &v[i]);
	if (rc != 0)
		goto out;
	st->time = (time_t)v[0];
	st->exit_code = (int)v[1];
	st->renewed = (size_t)v[2];
	st->failed = (size_t)v[3];
	st->not_due = (size_t)v[4];
	st->deploy_failed = (size_t)v[5];
out:
	json_object_put(doc);
	free(path);
	return rc;
}

/* Is live_dir's deploy pending for a set from the store (store.h)? */
bool
store_deploy_from_store(const char *live_dir)
{
	char *path = file_join(live_dir, DEPLOY_MARK), *why = NULL;
	size_t len = 0;
	bool yes = false, had_error = certo_errmsg() != NULL;

	if (path != NULL && file_read(path, 256, false, &why, &len, NULL) == 0)
		yes = strcmp(why, STORE_DEPLOY_FROM_STORE) == 0;
	else if (!had_error)
		certo_errclear();
	free(path);
	free(why);
	return yes;
}
