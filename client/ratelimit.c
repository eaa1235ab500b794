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

void
ratelimit_free_all(struct ratelimit *r, size_t n)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < r[i].nnames; j++)
			free(r[i].names[j]);
		free(r[i].names);
		free(r[i].why);
	}
	free(r);
}

/* One entry of the file; 1 when it is to be skipped (expired, odd). */
static int
parse_entry(struct json_object *e, const char *path, time_t now,
    struct ratelimit *r)
{
	struct json_object *v, *names = NULL;
	int scope = RATELIMIT_ORDER;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "until", &v))
		return 1;
	r->until = (time_t)json_object_get_int64(v);
	if (r->until <= now)
		return 1;
	if ((rc = json_get_enum(e, path, "scope", false, scope_names, 2,
	    &scope)) != 0 ||
	    (rc = json_get_str(e, path, "why", false, 1024, &r->why)) != 0 ||
	    (rc = json_get_array(e, path, "names", false, &names)) != 0)
		return rc;
	r->scope = (enum ratelimit_scope)scope;
	if (names != NULL) {
		size_t n = json_object_array_length(names);
		if (n > 0 && (r->names = calloc(n, sizeof(char *))) == NULL)
			return CERTO_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			struct json_object *s = json_object_array_get_idx(names, i);
			if (!json_object_is_type(s, json_type_string))
				continue;
			if ((r->names[r->nnames] = strdup(json_object_get_string(s)))
			    == NULL)
				return CERTO_ENOMEM;
			r->nnames++;
		}
	}
	return 0;
}

/* ratelimit_load without the lock. */
static int
load(const char *state, const char *ca_id, struct ratelimit **out,
    size_t *n)
{
	struct json_object *o = NULL, *v, *arr;
	char *dir = NULL, *path = NULL, *data = NULL;
	struct ratelimit *r = NULL;
	time_t now = time(NULL);
	/* Called on error paths too: a message recorded before is kept. */
	bool had_error = certo_errmsg() != NULL;
	size_t len, cnt;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = paths(state, ca_id, &dir, &path)) != 0)
		goto out;
	if (file_read(path, RATELIMIT_MAX_FILE, false, &data, &len, NULL) != 0 ||
	    json_parse_object(data, len, path, &o) != 0) {
		if (!had_error)
			certo_errclear(); /* none, or unreadable: no memory */
		goto out;
	}
	if (json_object_object_get_ex(o, "limits", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		cnt = json_object_array_length(arr);
		if (cnt > RATELIMIT_MAX_ENTRIES)
			cnt = RATELIMIT_MAX_ENTRIES;
		if (cnt > 0 && (r = calloc(cnt, sizeof(*r))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < cnt; i++) {
			int e = parse_entry(json_object_array_get_idx(arr, i), path,
			    now, &r[*n]);
			if (e == 0) {
				(*n)++;
				continue;
			}
			/* Expired or malformed: dropped. */
			for (size_t j = 0; j < r[*n].nnames; j++)
				free(r[*n].names[j]);
			free(r[*n].names);
			free(r[*n].why);
			memset(&r[*n], 0, sizeof(*r));
			if (e == CERTO_ENOMEM) {
				rc = e;
				goto out;
			}
			if (!had_error)
				certo_errclear();
		}
	} else if (json_object_object_get_ex(o, "until", &v) &&
	    (time_t)json_object_get_int64(v) > now) {
		/* An older certo's file: it limited everything. */
		if ((r = calloc(1, sizeof(*r))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		r->until = (time_t)json_object_get_int64(v);
		*n = 1;
	}
	*out = r;
	r = NULL;
out:
	if (r != NULL) {
		ratelimit_free_all(r, *n);
		*n = 0;
	}
	json_object_put(o);
	free(data);
	free(dir);
	free(path);
	return rc;
}

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

static struct json_object *
entry_json(enum ratelimit_scope scope, char *const *names, size_t nnames,
    time_t until, const char *why)
{
	struct json_object *e = json_object_new_object(), *a;

	if (e == NULL)
		return NULL;
	json_object_object_add(e, "scope",
	    json_object_new_string(scope_names[scope]));
	json_object_object_add(e, "until", json_object_new_int64(until));
	if (why != NULL)
		json_object_object_add(e, "why", json_object_new_string(why));
	if (scope == RATELIMIT_ORDER && names != NULL) {
		a = json_object_new_array();
		for (size_t i = 0; i < nnames; i++)
			json_object_array_add(a, json_object_new_string(names[i]));
		json_object_object_add(e, "names", a);
	}
	return e;
}

/* Write the entries. */
static int
save(const char *state, const char *ca_id, const struct ratelimit *r,
    size_t n)
{
	struct json_object *o = json_object_new_object(), *arr;
	char *dir = NULL, *path = NULL;
	const char *text;
	int rc;

	if (o == NULL || (arr = json_object_new_array()) == NULL) {
		json_object_put(o);
		return CERTO_ENOMEM;
	}
	json_object_object_add(o, "limits", arr);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, entry_json(r[i].scope, r[i].names,
		    r[i].nnames, r[i].until, r[i].why));
	if ((rc = paths(state, ca_id, &dir, &path)) == 0 &&
	    (rc = file_mkdirs(dir)) == 0) {
		text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		rc = file_write_atomic(path, text, strlen(text), 0600, false);
	}
	json_object_put(o);
	free(dir);
	free(path);
	return rc;
}

int
ratelimit_add(const char *state, const char *ca_id,
    enum ratelimit_scope scope, char *const *names, size_t nnames,
    time_t until, const char *why)
{
	struct ratelimit *r = NULL, *nr;
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&ratelimit_lock);
	if ((rc = load(state, ca_id, &r, &n)) != 0)
		goto out;
	if (n >= RATELIMIT_MAX_ENTRIES)
		n = RATELIMIT_MAX_ENTRIES - 1; /* the newest wins */
	if ((nr = realloc(r, (n + 1) * sizeof(*r))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	r = nr;
	memset(&r[n], 0, sizeof(*r));
	r[n].scope = scope;
	r[n].until = until;
	r[n].names = (char **)(uintptr_t)names; /* borrowed for save() */
	r[n].nnames = scope == RATELIMIT_ORDER ? nnames : 0;
	r[n].why = (char *)(uintptr_t)why;
	rc = save(state, ca_id, r, n + 1);
	r[n].names = NULL;
	r[n].nnames = 0;
	r[n].why = NULL;
	n++;
out:
	pthread_mutex_unlock(&ratelimit_lock);
	ratelimit_free_all(r, n);
	return rc;
}

/* Does entry e limit a new order for names (or a new account)? */
static bool
limits(const struct ratelimit *e, enum ratelimit_scope scope,
    char *const *names, size_t nnames)
{
	if (e->scope != scope)
		return false;
	if (scope != RATELIMIT_ORDER || e->nnames == 0)
		return true; /* an account limit, or an older certo's entry */
	for (size_t i = 0; i < e->nnames; i++)
		for (size_t j = 0; j < nnames; j++)
			if (strcasecmp(e->names[i], names[j]) == 0)
				return true;
	return false;
}

time_t
ratelimit_for_names(const struct ratelimit *r, size_t n, char *const *names,
    size_t nnames)
{
	time_t t = 0;

	for (size_t i = 0; i < n; i++)
		if (limits(&r[i], RATELIMIT_ORDER, names, nnames) &&
		    r[i].until > t)
			t = r[i].until;
	return t;
}

void
ratelimit_when(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

int
ratelimit_check(const char *state, const char *ca_id,
    enum ratelimit_scope scope, char *const *names, size_t nnames,
    time_t *until)
{
	struct ratelimit *r = NULL;
	const struct ratelimit *hit = NULL;
	char when[32];
	size_t n = 0;
	int rc;

	if (until != NULL)
		*until = 0;
	if ((rc = ratelimit_load(state, ca_id, &r, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (limits(&r[i], scope, names, nnames) &&
		    (hit == NULL || r[i].until > hit->until))
			hit = &r[i];
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
	ratelimit_free_all(r, n);
	return rc;
}

int
ratelimit_clear(const char *state, const char *ca_id)
{
	char *dir = NULL, *path = NULL;
	int rc;

	pthread_mutex_lock(&ratelimit_lock);
	if ((rc = paths(state, ca_id, &dir, &path)) == 0 &&
	    unlink(path) == 0)
		rc = file_fsync_dir(dir);
	pthread_mutex_unlock(&ratelimit_lock);
	free(dir);
	free(path);
	return rc;
}

/* One entry as JSON, with its deadline also as text. */
static struct json_object *
entry_show_json(const char *ca_id, const struct ratelimit *e)
{
	struct json_object *o = entry_json(e->scope, e->names, e->nnames,
	    e->until, e->why);
	char when[32];

	if (o == NULL)
		return NULL;
	ratelimit_when(e->until, when, sizeof(when));
	json_object_object_add(o, "ca", json_object_new_string(ca_id));
	json_object_object_add(o, "until_utc", json_object_new_string(when));
	return o;
}

/* One entry as a line of text. */
static void
entry_print(FILE *f, const char *ca_id, const struct ratelimit *e)
{
	char when[32];

	ratelimit_when(e->until, when, sizeof(when));
	fprintf(f, "%s: until %s: ", ca_id, when);
	if (e->scope == RATELIMIT_ACCOUNT)
		fprintf(f, "new accounts");
	else if (e->nnames == 0)
		fprintf(f, "new orders for every name");
	else
		for (size_t j = 0; j < e->nnames; j++)
			fprintf(f, "%s%s", j ? " " : "new orders for ", e->names[j]);
	fprintf(f, "%s%s\n", e->why ? ": " : "", e->why ? e->why : "");
}

int
ratelimit_list_all(const char *state, struct json_object *arr, FILE *f)
{
	struct dirent **ents = NULL;
	char *dir = NULL;
	int n, shown = 0;

	if (asprintf(&dir, "%s/ratelimits", state) < 0)
		return CERTO_ENOMEM;
	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0)
		n = 0; /* no limits remembered */
	for (int i = 0; i < n; i++) {
		struct ratelimit *r = NULL;
		size_t cnt = 0, len = strlen(ents[i]->d_name);
		char *ca_id;

		if (ents[i]->d_name[0] == '.' || len <= 5 ||
		    strcmp(ents[i]->d_name + len - 5, ".json") != 0 ||
		    (ca_id = strndup(ents[i]->d_name, len - 5)) == NULL)
			continue;
		if (ratelimit_load(state, ca_id, &r, &cnt) == 0)
			for (size_t j = 0; j < cnt; j++) {
				if (arr != NULL) {
					struct json_object *o = json_object_new_object();
					json_object_object_add(o, "rate_limit",
					    entry_show_json(ca_id, &r[j]));
					json_object_array_add(arr, o);
				}
				if (f != NULL) {
					if (shown++ == 0)
						fprintf(f, "rate limits remembered (certo "
						    "ratelimit --clear forgets them):\n");
					fputs("  ", f);
					entry_print(f, ca_id, &r[j]);
				}
			}
		ratelimit_free_all(r, cnt);
		free(ca_id);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(dir);
	return 0;
}

int
ratelimit_run(const struct certo_cli *cli)
{
	struct ratelimit *r = NULL;
	struct json_object *doc = NULL, *arr;
	char *state = NULL, *ca_id = NULL;
	size_t n = 0;
	int rc;

	if ((rc = store_state_dir(cli->state_dir, &state)) != 0 ||
	    (rc = account_ca_id(cli->server, &ca_id)) != 0)
		goto out;
	if (cli->clear) {
		if ((rc = ratelimit_clear(state, ca_id)) == 0)
			log_event("ratelimit_cleared", NULL, "ratelimit: forgot the "
			    "limits of %s", ca_id);
		goto out;
	}
	if ((rc = ratelimit_load(state, ca_id, &r, &n)) != 0)
		goto out;
	if (cli->json) {
		doc = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(doc, "ca", json_object_new_string(ca_id));
		json_object_object_add(doc, "limits", arr);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, entry_show_json(ca_id, &r[i]));
		printf("%s\n", json_object_to_json_string_ext(doc,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		goto out;
	}
	if (n == 0)
		printf("no rate limits remembered for %s\n", ca_id);
	for (size_t i = 0; i < n; i++)
		entry_print(stdout, ca_id, &r[i]);
out:
	json_object_put(doc);
	ratelimit_free_all(r, n);
	free(state);
	free(ca_id);
	return rc;
}
