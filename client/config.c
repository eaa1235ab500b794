/*
 * certo.json: the issue parameters of a stored certificate (params.h),
 * written by issue and read back by renew.  Format version 1; files
 * written by every earlier certo stay readable (test_config.c).
 */
#include "config.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "file.h"
#include "json.h"
#include "log.h"

static void
add_true(struct json_object *obj, const char *k, bool v)
{
	if (v)
		json_object_object_add(obj, k, json_object_new_boolean(1));
}

static void
add_list(struct json_object *obj, const char *k, char *const *v, size_t n)
{
	struct json_object *arr;

	if (n == 0)
		return;
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(v[i]));
	json_object_object_add(obj, k, arr);
}

/* How challenges are answered (the members renew needs no flags for). */
static void
add_solving(struct json_object *obj, const struct issue_params *params)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < params->nchallenges; i++)
		json_object_array_add(arr, json_object_new_string(
		    challenge_type_name(params->challenges[i])));
	json_object_object_add(obj, "challenges", arr);
	add_true(obj, "standalone", params->mode == SOLVE_STANDALONE);
	add_true(obj, "manual", params->mode == SOLVE_MANUAL);
	add_true(obj, "store_challenges", params->mode == SOLVE_STORE);
	json_add_str(obj, "responder", params->responder);
	json_add_str(obj, "dns_hook", params->dns_hook);
	json_add_str(obj, "http_hook", params->http_hook);
	json_add_str(obj, "webroot", params->webroot);
	json_add_str(obj, "deploy_hook", params->deploy_hook);
	json_add_str(obj, "http_addr", params->http_addr);
	json_add_str(obj, "tls_addr", params->tls_addr);
	json_object_object_add(obj, "http_port", json_object_new_int(
	    params->http_port));
	json_object_object_add(obj, "tls_port", json_object_new_int(
	    params->tls_port));
	if (params->dns_timeout_s >= 0)
		json_object_object_add(obj, "dns_timeout", json_object_new_int64(
		    params->dns_timeout_s));
	if (params->hook_timeout_s > 0)
		json_object_object_add(obj, "hook_timeout", json_object_new_int64(
		    params->hook_timeout_s));
	if (params->http_timeout_s > 0)
		json_object_object_add(obj, "http_timeout", json_object_new_int64(
		    params->http_timeout_s));
	json_object_object_add(obj, "dns_interval", json_object_new_int64(
	    params->dns_interval_s));
	json_object_object_add(obj, "dns_wait_extra", json_object_new_int64(
	    params->dns_wait_extra_s));
	add_list(obj, "dns_resolvers", params->dns_resolvers, params->ndns_resolvers);
}

/* Bring-your-own CSR/key: renew reuses them (absolute paths). */
static void
add_real_path(struct json_object *obj, const char *k, const char *path)
{
	char *real;

	if (path != NULL && (real = realpath(path, NULL)) != NULL) {
		json_add_str(obj, k, real);
		free(real);
	}
}

int
config_serialize(const struct issue_params *params, char **out)
{
	struct json_object *obj;
	const char *text;

	*out = NULL;
	if ((obj = json_object_new_object()) == NULL)
		return CERTO_ENOMEM;
	/* The order of the members is the order of older files. */
	json_object_object_add(obj, "version", json_object_new_int(1));
	add_list(obj, "names", params->names, params->nnames);
	json_add_str(obj, "server", params->server);
	json_add_str(obj, "ca_bundle", params->ca_bundle);
	add_true(obj, "allow_insecure_http", params->allow_http);
	json_add_str(obj, "key_type", key_type_name(params->key_type));
	add_solving(obj, params);
	json_add_str(obj, "profile", params->profile);
	add_real_path(obj, "csr", params->csr_file);
	add_real_path(obj, "key", params->key_file);
	json_add_str(obj, "preferred_chain", params->preferred_chain);
	add_true(obj, "must_staple", params->must_staple);
	add_true(obj, "pem_bundle", params->pem_bundle);
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	*out = text ? strdup(text) : NULL;
	json_object_put(obj);
	return *out ? 0 : CERTO_ENOMEM;
}

void
config_free(struct cert_config *cfg)
{
	if (cfg == NULL)
		return;
	params_free(&cfg->params);
	json_object_put(cfg->root);
	cfg->root = NULL;
}

/* A string member copied into *out (NULL if absent or null). */
static int
get_str(struct json_object *obj, const char *path, const char *k,
    char **out)
{
	struct json_object *val;

	if (!json_object_object_get_ex(obj, k, &val) ||
	    json_object_is_type(val, json_type_null))
		return params_set_str(out, NULL);
	if (!json_object_is_type(val, json_type_string))
		return certo_fail(CERTO_ECONFIG, "%s: \"%s\" is not a string",
		    path, k);
	return params_set_str(out, json_object_get_string(val));
}

/* An integer member from min to max into *out (left alone if absent). */
static int
get_int(struct json_object *obj, const char *path, const char *k, long min,
    long max, long *out)
{
	struct json_object *val;
	long n;

	if (!json_object_object_get_ex(obj, k, &val))
		return 0;
	if (!json_object_is_type(val, json_type_int) ||
	    (n = (long)json_object_get_int64(val)) < min || n > max)
		return certo_fail(CERTO_ECONFIG, "%s: \"%s\" is not a number from "
		    "%ld to %ld", path, k, min, max);
	*out = n;
	return 0;
}

static bool
get_bool(struct json_object *obj, const char *k)
{
	struct json_object *val;

	return json_object_object_get_ex(obj, k, &val) &&
	    json_object_get_boolean(val);
}

/* The member k if it is an array, else NULL. */
static struct json_object *
get_array(struct json_object *obj, const char *k)
{
	struct json_object *val;

	if (json_object_object_get_ex(obj, k, &val) &&
	    json_object_is_type(val, json_type_array))
		return val;
	return NULL;
}

/*
 * Hooks stored by an older certo may be relative paths, found only when
 * renew runs where issue ran (not from cron or systemd): say so.
 */
static void
relative_hook(const char *path, const char *k, const char *v)
{
	const char *w = v;
	char shown[300];

	if (v == NULL)
		return;
	while (*w == ' ' || *w == '\t')
		w++;
	/* The deploy hook is a command line: look at its first word. */
	if (strcmp(k, "deploy_hook") == 0 ? (strncmp(w, "./", 2) == 0 ||
	    strncmp(w, "../", 3) == 0 || (*w != '/' && w[strcspn(w,
	    " \t/")] == '/')) : *w != '/')
		log_warn("%s: \"%s\" is \"%s\", not an absolute path: renew from "
		    "cron or systemd (another directory or PATH) may not find it; "
		    "issue again to store the absolute path", path, k,
		    log_str(shown, sizeof(shown), v));
}

/* "names": at least one, each a name issue would take. */
static int
load_names(struct json_object *root, const char *path,
    struct issue_params *params)
{
	struct json_object *arr = get_array(root, "names"), *v;
	size_t n = arr ? json_object_array_length(arr) : 0;

	if (n == 0)
		return certo_fail(CERTO_ECONFIG, "%s: no \"names\"", path);
	for (size_t i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		/* Why a name is refused, when said, is the message kept. */
		if (!json_object_is_type(v, json_type_string) ||
		    params_add_name(params, json_object_get_string(v)) != 0)
			return certo_fail(CERTO_ECONFIG, "%s: bad name in \"names\"",
			    path);
	}
	return 0;
}

/* The string members, and the key type. */
static int
load_strings(struct json_object *root, const char *path,
    struct issue_params *params)
{
	char *key_type = NULL;
	int rc;

	if ((rc = get_str(root, path, "server", &params->server)) ||
	    (rc = get_str(root, path, "ca_bundle", &params->ca_bundle)) ||
	    (rc = get_str(root, path, "responder", &params->responder)) ||
	    (rc = get_str(root, path, "dns_hook", &params->dns_hook)) ||
	    (rc = get_str(root, path, "http_hook", &params->http_hook)) ||
	    (rc = get_str(root, path, "webroot", &params->webroot)) ||
	    (rc = get_str(root, path, "deploy_hook", &params->deploy_hook)) ||
	    (rc = get_str(root, path, "http_addr", &params->http_addr)) ||
	    (rc = get_str(root, path, "tls_addr", &params->tls_addr)) ||
	    (rc = get_str(root, path, "profile", &params->profile)) ||
	    (rc = get_str(root, path, "csr", &params->csr_file)) ||
	    (rc = get_str(root, path, "key", &params->key_file)) ||
	    (rc = get_str(root, path, "preferred_chain",
	    &params->preferred_chain)) ||
	    (rc = get_str(root, path, "key_type", &key_type)))
		goto out;
	if (params->server == NULL)
		rc = certo_fail(CERTO_ECONFIG, "%s: no \"server\"", path);
	else if (key_type != NULL && (key_type_parse(key_type,
	    &params->key_type) != 0 || params->key_type == KEY_ED25519))
		rc = certo_fail(CERTO_ECONFIG, "%s: bad \"key_type\"", path);
out:
	free(key_type);
	return rc;
}

/* The numbers: ports (80 and 443 when absent), timeouts, intervals. */
static int
load_numbers(struct json_object *root, const char *path,
    struct issue_params *params)
{
	long http_port = 80, tls_port = 443;
	int rc;

	if ((rc = get_int(root, path, "http_port", 1, 65535, &http_port)) ||
	    (rc = get_int(root, path, "tls_port", 1, 65535, &tls_port)) ||
	    (rc = get_int(root, path, "dns_timeout", 1, 86400,
	    &params->dns_timeout_s)) ||
	    (rc = get_int(root, path, "dns_interval", 1, 3600,
	    &params->dns_interval_s)) ||
	    (rc = get_int(root, path, "dns_wait_extra", 0, 3600,
	    &params->dns_wait_extra_s)) ||
	    (rc = get_int(root, path, "hook_timeout", 1, 86400,
	    &params->hook_timeout_s)) ||
	    (rc = get_int(root, path, "http_timeout", 1, 86400,
	    &params->http_timeout_s)))
		return rc;
	params->http_port = (unsigned short)http_port;
	params->tls_port = (unsigned short)tls_port;
	return 0;
}

/* "challenges" (http-01 when absent) and "dns_resolvers". */
static int
load_lists(struct json_object *root, const char *path,
    struct issue_params *params)
{
	struct json_object *arr, *v;
	enum chall_type type;
	size_t n;

	if ((arr = get_array(root, "challenges")) != NULL) {
		params->nchallenges = 0;
		for (size_t i = 0; i < json_object_array_length(arr) &&
		    params->nchallenges < 3; i++) {
			v = json_object_array_get_idx(arr, i);
			type = json_object_is_type(v, json_type_string) ?
			    challenge_type_parse(json_object_get_string(v)) :
			    CHALL_UNKNOWN;
			if (type == CHALL_UNKNOWN)
				return certo_fail(CERTO_ECONFIG, "%s: bad challenge "
				    "type", path);
			params->challenges[params->nchallenges++] = type;
		}
	}
	if ((arr = get_array(root, "dns_resolvers")) == NULL)
		return 0;
	if ((n = json_object_array_length(arr)) > 16 || (n > 0 &&
	    (params->dns_resolvers = calloc(n, sizeof(char *))) == NULL))
		return certo_fail(CERTO_ECONFIG, "%s: bad \"dns_resolvers\"", path);
	for (size_t i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string))
			return certo_fail(CERTO_ECONFIG, "%s: bad "
			    "\"dns_resolvers\"", path);
		if ((params->dns_resolvers[i] = strdup(json_object_get_string(v))) ==
		    NULL)
			return CERTO_ENOMEM;
		params->ndns_resolvers++;
	}
	return 0;
}

int
config_load(const char *path, struct cert_config *cfg)
{
	struct issue_params *params = &cfg->params;
	char *data = NULL;
	size_t len;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	params_init(params);
	if ((rc = file_read(path, CONFIG_MAX, false, &data, &len, NULL)) != 0)
		return rc;
	rc = json_parse_object(data, len, path, &cfg->root);
	free(data);
	if (rc != 0) {
		/* The parser's message, when it left one, is the one kept. */
		rc = certo_fail(CERTO_ECONFIG, "%s: not a certo configuration",
		    path);
		goto fail;
	}
	params->allow_http = get_bool(cfg->root, "allow_insecure_http");
	params->must_staple = get_bool(cfg->root, "must_staple");
	params->pem_bundle = get_bool(cfg->root, "pem_bundle");
	if ((rc = load_names(cfg->root, path, params)) != 0 ||
	    (rc = load_strings(cfg->root, path, params)) != 0 ||
	    (rc = load_numbers(cfg->root, path, params)) != 0)
		goto fail;
	relative_hook(path, "dns_hook", params->dns_hook);
	relative_hook(path, "http_hook", params->http_hook);
	relative_hook(path, "deploy_hook", params->deploy_hook);
	relative_hook(path, "webroot", params->webroot);
	if ((rc = load_lists(cfg->root, path, params)) != 0)
		goto fail;
	/* Through the store: renew's --store names it (params->store). */
	if (get_bool(cfg->root, "store_challenges"))
		params->mode = SOLVE_STORE;
	else if ((rc = params_set_mode(params, get_bool(cfg->root,
	    "standalone"), get_bool(cfg->root, "manual"))) != 0)
		goto fail;
	/* With a CSR, the stored names are the CSR's. */
	params->names_from_csr = params->csr_file != NULL;
	if ((rc = params_check(params)) != 0)
		goto fail;
	return 0;
fail:
	config_free(cfg);
	return rc;
}

/* Does certo.json's text ask for combined.pem? (store.c asks). */
bool
config_text_pem_bundle(const char *text)
{
	struct json_object *obj = json_tokener_parse(text);
	bool yes = obj != NULL && get_bool(obj, "pem_bundle");

	json_object_put(obj);
	return yes;
}

bool
config_same(const struct issue_params *params, const struct cert_config *cfg)
{
	struct json_object *obj;
	char *text = NULL;
	bool same;

	if (cfg->root == NULL || config_serialize(params, &text) != 0) {
		certo_errclear();
		free(text);
		return false;
	}
	obj = json_tokener_parse(text);
	same = obj != NULL && json_object_equal(obj, cfg->root);
	json_object_put(obj);
	free(text);
	return same;
}
