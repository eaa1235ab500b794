/* Rate-limit memory, scoped to what the CA limited (see ratelimit.h). */
#include "ratelimit.h"

#include <dirent.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "errors.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "store_remote.h"

#define RATELIMIT_MAX_FILE (256 * 1024)
#define RATELIMIT_MAX_ENTRIES 256

/* renew runs orders in threads: one read-modify-write at a time. */
static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const scope_names[] = {
	[RATELIMIT_ORDER] = "order",
	[RATELIMIT_ACCOUNT] = "account",
};

static int
paths(const char *state, const char *ca_id, char **dir, char **path)
{
	*dir = *path = NULL;
	if (asprintf(dir, "%s/ratelimits", state) < 0) {
		*dir = NULL;
		return CERTO_ENOMEM;
	}
	if (asprintf(path, "%s/%s.json", *dir, ca_id) < 0) {
		*path = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

/* Free what one entry holds and zero it. */
static void
entry_clear(struct ratelimit *entry)
{
	for (size_t j = 0; j < entry->nnames; j++)
		free(entry->names[j]);
	free(entry->names);
	free(entry->why);
	memset(entry, 0, sizeof(*entry));
}

/* Free n entries and the array. */
void
ratelimit_free_all(struct ratelimit *entries, size_t n)
{
	if (entries == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		entry_clear(&entries[i]);
	free(entries);
}

/* The strings of the "names" array into entry (others are skipped). */
static int
parse_names(struct json_object *names, struct ratelimit *entry)
{
	size_t n = json_object_array_length(names);
	struct json_object *name;

	if (n > 0 && (entry->names = calloc(n, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		name = json_object_array_get_idx(names, i);
		if (!json_object_is_type(name, json_type_string))
			continue;
		if ((entry->names[entry->nnames] =
		    strdup(json_object_get_string(name))) == NULL)
			return CERTO_ENOMEM;
		entry->nnames++;
	}
	return 0;
}

/* One entry of the file; 1 when it is to be skipped (expired, odd). */
static int
parse_entry(struct json_object *item, const char *path, time_t now,
    struct ratelimit *entry)
{
	struct json_object *until, *names = NULL;
	int scope = RATELIMIT_ORDER;
	int rc;

	memset(entry, 0, sizeof(*entry));
	if (!json_object_is_type(item, json_type_object) ||
	    !json_object_object_get_ex(item, "until", &until))
		return 1;
	entry->until = (time_t)json_object_get_int64(until);
	if (entry->until <= now)
		return 1;
	if ((rc = json_get_enum(item, path, "scope", false, scope_names, 2,
	    &scope)) != 0 ||
	    (rc = json_get_str(item, path, "why", false, 1024,
	    &entry->why)) != 0 ||
	    (rc = json_get_array(item, path, "names", false, &names)) != 0)
		return rc;
	entry->scope = (enum ratelimit_scope)scope;
	return names != NULL ? parse_names(names, entry) : 0;
}

/*
 * The first cnt entries of the "limits" array that have not expired
 * into entries[0..*n); malformed ones are dropped, their message too
 * unless one was recorded before.
 */
static int
parse_limits(struct json_object *arr, size_t cnt, const char *path,
    time_t now, bool had_error, struct ratelimit *entries, size_t *n)
{
	int skip;

	for (size_t i = 0; i < cnt; i++) {
		skip = parse_entry(json_object_array_get_idx(arr, i), path, now,
		    &entries[*n]);
		if (skip == 0) {
			(*n)++;
			continue;
		}
		/* Expired or malformed: dropped. */
		entry_clear(&entries[*n]);
		if (skip == CERTO_ENOMEM)
			return skip;
		if (!had_error)
			certo_errclear();
	}
	return 0;
}

/*
 * The store's memory for ca_id (store_remote.h) written over path; none
 * there (cleared on another host, or never set) removes this host's copy.
 * A store that cannot be read is logged: this host's copy is used.
 */
static int
from_store(const char *ca_id, const char *dir, const char *path)
{
	char *json = NULL;
	int rc;

	if ((rc = store_remote_get_ratelimit(ca_id, &json)) != 0) {
		log_warn("rate-limit memory: %s; using this host's copy",
		    certo_errmsg() ? certo_errmsg() : certo_strerror(rc));
		return rc;
	}
	if (json == NULL)
		unlink(path);
	else if ((rc = file_mkdirs(dir)) == 0)
		rc = file_write_atomic(path, json, strlen(json), 0600, false);
	free(json);
	return rc;
}

/* ratelimit_load without the lock. */
static int
load(const char *state, const char *ca_id, struct ratelimit **out,
    size_t *n)
{
	struct json_object *doc = NULL, *until, *arr;
	char *dir = NULL, *path = NULL;
	struct ratelimit *entries = NULL;
	time_t now = time(NULL);
	/* Called on error paths too: a message recorded before is kept. */
	bool had_error = certo_errmsg() != NULL;
	size_t cnt;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = paths(state, ca_id, &dir, &path)) != 0)
		goto out;
	/* --store: the fleet's memory replaces this host's copy. */
	if (store_remote_active() && from_store(ca_id, dir, path) != 0 &&
	    !had_error)
		certo_errclear();
	if (json_load_file(path, RATELIMIT_MAX_FILE, &doc, NULL) != 0) {
		if (!had_error)
			certo_errclear(); /* none, or unreadable: no memory */
		goto out;
	}
	if (json_object_object_get_ex(doc, "limits", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		cnt = json_object_array_length(arr);
		if (cnt > RATELIMIT_MAX_ENTRIES)
			cnt = RATELIMIT_MAX_ENTRIES;
		if (cnt > 0 &&
		    (entries = calloc(cnt, sizeof(*entries))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		if ((rc = parse_limits(arr, cnt, path, now, had_error, entries,
		    n)) != 0)
			goto out;
	} else if (json_object_object_get_ex(doc, "until", &until) &&
	    (time_t)json_object_get_int64(until) > now) {
		/* An older certo's file: it limited everything. */
		if ((entries = calloc(1, sizeof(*entries))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		entries->until = (time_t)json_object_get_int64(until);
		*n = 1;
	}
	*out = entries;
	entries = NULL;
out:
	if (entries != NULL) {
		ratelimit_free_all(entries, *n);
		*n = 0;
	}
	json_object_put(doc);
	free(dir);
	free(path);
	return rc;
}

/*
 * The entries for ca_id that have not expired (*out malloc'd, free with
 * ratelimit_free_all).
 */
int
ratelimit_load(const char *state, const char *ca_id,
    struct ratelimit **out, size_t *n)
{
	int rc;

	pthread_mutex_lock(&ratelimit_lock);
	rc = load(state, ca_id, out, n);
	pthread_mutex_unlock(&ratelimit_lock);
	return rc;
}

/* One entry as the file keeps it: scope, until, why, names. */
static struct json_object *
entry_json(const struct ratelimit *entry)
{
	struct json_object *obj = json_object_new_object(), *arr;

	if (obj == NULL)
		return NULL;
	json_object_object_add(obj, "scope",
	    json_object_new_string(scope_names[entry->scope]));
	json_object_object_add(obj, "until",
	    json_object_new_int64(entry->until));
	if (entry->why != NULL)
		json_object_object_add(obj, "why",
		    json_object_new_string(entry->why));
	if (entry->scope == RATELIMIT_ORDER && entry->names != NULL) {
		arr = json_object_new_array();
		for (size_t i = 0; i < entry->nnames; i++)
			json_object_array_add(arr,
			    json_object_new_string(entry->names[i]));
		json_object_object_add(obj, "names", arr);
	}
	return obj;
}

/* Write the entries. */
static int
save(const char *state, const char *ca_id, const struct ratelimit *entries,
    size_t n)
{
	struct json_object *doc = json_object_new_object(), *arr;
	char *dir = NULL, *path = NULL;
	const char *text;
	int rc;

	if (doc == NULL || (arr = json_object_new_array()) == NULL) {
		json_object_put(doc);
		return CERTO_ENOMEM;
	}
	json_object_object_add(doc, "limits", arr);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, entry_json(&entries[i]));
	if ((rc = paths(state, ca_id, &dir, &path)) == 0 &&
	    (rc = file_mkdirs(dir)) == 0) {
		text = json_object_to_json_string_ext(doc,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
		rc = file_write_atomic(path, text, strlen(text), 0600, false);
		if (rc == 0)
			rc = store_remote_put_ratelimit(ca_id, text);
	}
	json_object_put(doc);
	free(dir);
	free(path);
	return rc;
}

/* Remember a limit for ca_id (names for RATELIMIT_ORDER). */
int
ratelimit_add(const char *state, const char *ca_id,
    enum ratelimit_scope scope, char *const *names, size_t nnames,
    time_t until, const char *why)
{
	struct ratelimit *entries = NULL, *grown;
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&ratelimit_lock);
	if ((rc = load(state, ca_id, &entries, &n)) != 0)
		goto out;
	if (n >= RATELIMIT_MAX_ENTRIES) {
		/* The newest wins: the last kept entry makes room. */
		n = RATELIMIT_MAX_ENTRIES - 1;
		entry_clear(&entries[n]);
	}
	if ((grown = realloc(entries, (n + 1) * sizeof(*entries))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	entries = grown;
	memset(&entries[n], 0, sizeof(*entries));
	entries[n].scope = scope;
	entries[n].until = until;
	entries[n].names = (char **)(uintptr_t)names; /* borrowed for save() */
	entries[n].nnames = scope == RATELIMIT_ORDER ? nnames : 0;
	entries[n].why = (char *)(uintptr_t)why;
	rc = save(state, ca_id, entries, n + 1);
	entries[n].names = NULL;
	entries[n].nnames = 0;
	entries[n].why = NULL;
	n++;
out:
	pthread_mutex_unlock(&ratelimit_lock);
	ratelimit_free_all(entries, n);
	return rc;
}

/* Does entry e limit a new order for names (or a new account)? */
static bool
entry_limits(const struct ratelimit *entry, enum ratelimit_scope scope,
    char *const *names, size_t nnames)
{
	if (entry->scope != scope)
		return false;
	if (scope != RATELIMIT_ORDER || entry->nnames == 0)
		return true; /* an account limit, or an older certo's entry */
	for (size_t i = 0; i < entry->nnames; i++)
		for (size_t j = 0; j < nnames; j++)
			if (strcasecmp(entry->names[i], names[j]) == 0)
				return true;
	return false;
}

/* The latest deadline of an entry limiting any of names, or 0. */
time_t
ratelimit_for_names(const struct ratelimit *entries, size_t n,
    char *const *names, size_t nnames)
{
	time_t t = 0;

	for (size_t i = 0; i < n; i++)
		if (entry_limits(&entries[i], RATELIMIT_ORDER, names, nnames) &&
		    entries[i].until > t)
			t = entries[i].until;
	return t;
}

/* t as "2026-12-01 10:00:00 UTC" into buf. */
void
ratelimit_when(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/*
 * Is a new order for names (or, with names NULL, a new account) blocked?
 * Returns 0, or CERTO_EPROBLEM with a message naming the deadline, the
 * CA's reason and how to clear it.
 */
int
ratelimit_check(const char *state, const char *ca_id,
    enum ratelimit_scope scope, char *const *names, size_t nnames,
    time_t *until)
{
	struct ratelimit *entries = NULL;
	const struct ratelimit *hit = NULL;
	char when[32];
	size_t n = 0;
	int rc;

	if (until != NULL)
		*until = 0;
	if ((rc = ratelimit_load(state, ca_id, &entries, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (entry_limits(&entries[i], scope, names, nnames) &&
		    (hit == NULL || entries[i].until > hit->until))
			hit = &entries[i];
	if (hit != NULL) {
		if (until != NULL)
			*until = hit->until;
		ratelimit_when(hit->until, when, sizeof(when));
		rc = certo_fail(CERTO_EPROBLEM, "the CA rate-limited %s until %s%s%s"
		    "; not asking it again before then ('certo ratelimit "
		    "--clear' forgets it, --force ignores it)", scope ==
		    RATELIMIT_ACCOUNT ? "new accounts" : nnames > 0 ?
		    "new orders for these names" : "new orders", when,
		    hit->why ? ": " : "", hit->why ? hit->why : "");
	}
	ratelimit_free_all(entries, n);
	return rc;
}

/* Forget every entry for ca_id. */
int
ratelimit_clear(const char *state, const char *ca_id)
{
	char *dir = NULL, *path = NULL;
	int rc;

	pthread_mutex_lock(&ratelimit_lock);
	if ((rc = paths(state, ca_id, &dir, &path)) == 0 &&
	    unlink(path) == 0)
		rc = file_fsync_dir(dir);
	if (rc == 0)
		rc = store_remote_put_ratelimit(ca_id, NULL);
	pthread_mutex_unlock(&ratelimit_lock);
	free(dir);
	free(path);
	return rc;
}

/* One entry as JSON, with its deadline also as text. */
static struct json_object *
entry_show_json(const char *ca_id, const struct ratelimit *entry)
{
	struct json_object *obj = entry_json(entry);
	char when[32];

	if (obj == NULL)
		return NULL;
	ratelimit_when(entry->until, when, sizeof(when));
	json_object_object_add(obj, "ca", json_object_new_string(ca_id));
	json_object_object_add(obj, "until_utc", json_object_new_string(when));
	return obj;
}

/* One entry as a line of text. */
static void
entry_print(FILE *out, const char *ca_id, const struct ratelimit *entry)
{
	char when[32];

	ratelimit_when(entry->until, when, sizeof(when));
	fprintf(out, "%s: until %s: ", ca_id, when);
	if (entry->scope == RATELIMIT_ACCOUNT)
		fprintf(out, "new accounts");
	else if (entry->nnames == 0)
		fprintf(out, "new orders for every name");
	else
		for (size_t j = 0; j < entry->nnames; j++)
			fprintf(out, "%s%s", j ? " " : "new orders for ",
			    entry->names[j]);
	fprintf(out, "%s%s\n", entry->why ? ": " : "",
	    entry->why ? entry->why : "");
}

/*
 * The limits of ca_id appended to arr (when not NULL) and printed to out
 * (when not NULL) under a heading printed once (*shown counts).
 */
static void
list_ca(const char *state, const char *ca_id, struct json_object *arr,
    FILE *out, int *shown)
{
	struct ratelimit *entries = NULL;
	struct json_object *item;
	size_t cnt = 0;

	if (ratelimit_load(state, ca_id, &entries, &cnt) != 0)
		return;
	for (size_t j = 0; j < cnt; j++) {
		if (arr != NULL) {
			item = json_object_new_object();
			json_object_object_add(item, "rate_limit",
			    entry_show_json(ca_id, &entries[j]));
			json_object_array_add(arr, item);
		}
		if (out == NULL)
			continue;
		if ((*shown)++ == 0)
			fprintf(out, "rate limits remembered (certo ratelimit "
			    "--clear forgets them):\n");
		fputs("  ", out);
		entry_print(out, ca_id, &entries[j]);
	}
	ratelimit_free_all(entries, cnt);
}

/* For `certo list`: every remembered limit of every CA. */
int
ratelimit_list_all(const char *state, struct json_object *arr, FILE *out)
{
	struct dirent **ents = NULL;
	char *dir = NULL, *ca_id;
	size_t len;
	int n, shown = 0;

	if (asprintf(&dir, "%s/ratelimits", state) < 0)
		return CERTO_ENOMEM;
	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0)
		n = 0; /* no limits remembered */
	for (int i = 0; i < n; i++) {
		len = strlen(ents[i]->d_name);
		if (ents[i]->d_name[0] == '.' || len <= 5 ||
		    strcmp(ents[i]->d_name + len - 5, ".json") != 0 ||
		    (ca_id = strndup(ents[i]->d_name, len - 5)) == NULL)
			continue;
		list_ca(state, ca_id, arr, out, &shown);
		free(ca_id);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(dir);
	return 0;
}

/* certo ratelimit [--clear]: show or forget the limits of --server. */
int
ratelimit_run(const struct certo_cli *cli)
{
	struct ratelimit *entries = NULL;
	struct json_object *doc = NULL, *arr;
	char *state = NULL, *ca_id = NULL;
	size_t n = 0;
	int rc;

	if ((rc = store_state_dir(cli->state_dir, &state)) != 0 ||
	    (rc = account_ca_id(cli->server, &ca_id)) != 0)
		goto out;
	if (cli->clear) {
		if ((rc = ratelimit_clear(state, ca_id)) == 0)
			log_event("ratelimit_cleared", NULL, "ratelimit: forgot "
			    "the limits of %s", ca_id);
		goto out;
	}
	if ((rc = ratelimit_load(state, ca_id, &entries, &n)) != 0)
		goto out;
	if (cli->json) {
		doc = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(doc, "ca",
		    json_object_new_string(ca_id));
		json_object_object_add(doc, "limits", arr);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, entry_show_json(ca_id,
			    &entries[i]));
		printf("%s\n", json_object_to_json_string_ext(doc,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		goto out;
	}
	if (n == 0)
		printf("no rate limits remembered for %s\n", ca_id);
	for (size_t i = 0; i < n; i++)
		entry_print(stdout, ca_id, &entries[i]);
out:
	json_object_put(doc);
	ratelimit_free_all(entries, n);
	free(state);
	free(ca_id);
	return rc;
}
