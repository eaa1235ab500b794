/* certo.json: the issue options of a stored certificate. */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "errors.h"
#include "file.h"
#include "json.h"
#include "log.h"

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void
add_list(struct json_object *o, const char *k, char *const *v, size_t n)
{
	struct json_object *a;

	if (n == 0)
		return;
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	json_object_object_add(o, k, a);
}

int
config_serialize(const struct certo_cli *cli, char **out)
{
	struct json_object *o, *ch;
	const char *s;

	*out = NULL;
	if ((o = json_object_new_object()) == NULL)
		return CERTO_ENOMEM;
	json_object_object_add(o, "version", json_object_new_int(1));
	add_list(o, "names", cli->names, cli->nnames);
	add_str(o, "server", cli->server);
	add_str(o, "ca_bundle", cli->ca_bundle);
	if (cli->allow_http)
		json_object_object_add(o, "allow_insecure_http",
		    json_object_new_boolean(1));
	add_str(o, "key_type", key_type_name(cli->key_type));
	ch = json_object_new_array();
	for (size_t i = 0; i < cli->nchallenges; i++)
		json_object_array_add(ch, json_object_new_string(
		    challenge_type_name(cli->challenges[i])));
	json_object_object_add(o, "challenges", ch);
	if (cli->standalone)
		json_object_object_add(o, "standalone",
		    json_object_new_boolean(1));
	if (cli->manual)
		json_object_object_add(o, "manual", json_object_new_boolean(1));
	add_str(o, "responder", cli->responder);
	add_str(o, "dns_hook", cli->dns_hook);
	add_str(o, "http_hook", cli->http_hook);
	add_str(o, "deploy_hook", cli->deploy_hook);
	add_str(o, "http_addr", cli->http_addr);
	add_str(o, "tls_addr", cli->tls_addr);
	json_object_object_add(o, "http_port", json_object_new_int(
	    cli->http_port));
	json_object_object_add(o, "tls_port", json_object_new_int(
	    cli->tls_port));
	if (cli->dns_timeout_s >= 0)
		json_object_object_add(o, "dns_timeout", json_object_new_int64(
		    cli->dns_timeout_s));
	if (cli->hook_timeout_s > 0)
		json_object_object_add(o, "hook_timeout", json_object_new_int64(
		    cli->hook_timeout_s));
	if (cli->http_timeout_s > 0)
		json_object_object_add(o, "http_timeout", json_object_new_int64(
		    cli->http_timeout_s));
	json_object_object_add(o, "dns_interval", json_object_new_int64(
	    cli->dns_interval_s));
	json_object_object_add(o, "dns_wait_extra", json_object_new_int64(
	    cli->dns_wait_extra_s));
	add_list(o, "dns_resolvers", cli->dns_resolvers, cli->ndns_resolvers);
	add_str(o, "profile", cli->profile);
	/* Bring-your-own CSR/key: renew reuses them (absolute paths). */
	if (cli->csr_file != NULL || cli->key_file != NULL) {
		char *p;
		if (cli->csr_file && (p = realpath(cli->csr_file, NULL)) != NULL) {
			add_str(o, "csr", p);
			free(p);
		}
		if (cli->key_file && (p = realpath(cli->key_file, NULL)) != NULL) {
			add_str(o, "key", p);
			free(p);
		}
	}
	add_str(o, "preferred_chain", cli->preferred_chain);
	if (cli->must_staple)
		json_object_object_add(o, "must_staple",
		    json_object_new_boolean(1));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	*out = s ? strdup(s) : NULL;
	json_object_put(o);
	return *out ? 0 : CERTO_ENOMEM;
}

void
config_free(struct cert_config *c)
{
	if (c == NULL)
		return;
	cli_free(&c->cli);
	json_object_put(c->root);
	c->root = NULL;
}

/* A string member, borrowed from root; NULL if absent. */
static int
get_s(struct json_object *o, const char *path, const char *k,
    const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, k, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return certo_fail(CERTO_ECONFIG, "%s: \"%s\" is not a string",
		    path, k);
	*out = json_object_get_string(v);
	return 0;
}

static int
get_i(struct json_object *o, const char *path, const char *k, long min,
    long max, long *out)
{
	struct json_object *v;
	long n;

	if (!json_object_object_get_ex(o, k, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) ||
	    (n = (long)json_object_get_int64(v)) < min || n > max)
		return certo_fail(CERTO_ECONFIG, "%s: \"%s\" is not a number from "
		    "%ld to %ld", path, k, min, max);
	*out = n;
	return 0;
}

static bool
get_b(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) &&
	    json_object_get_boolean(v);
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
		    log_sanitize(shown, sizeof(shown), v, (size_t)-1));
}

int
config_load(const char *path, struct cert_config *c)
{
	struct certo_cli *cli = &c->cli;
	struct json_object *a, *v;
	const char *s;
	char *data = NULL;
	size_t len;
	long n;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = file_read(path, CONFIG_MAX, false, &data, &len, NULL)) != 0)
		return rc;
	rc = json_parse_object(data, len, path, &c->root);
	free(data);
	if (rc != 0)
		return certo_fail(CERTO_ECONFIG, "%s: not a certo configuration",
		    path);
	cli->verb = VERB_ISSUE;
	cli->verbosity = 1;
	cli->dns_timeout_s = -1;
	cli->hook_timeout_s = -1;
	cli->http_timeout_s = -1;
	cli->dns_interval_s = 2;
	cli->reason = -1;
	cli->jobs = 1;
	if (!json_object_object_get_ex(c->root, "names", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) == 0) {
		rc = certo_fail(CERTO_ECONFIG, "%s: no \"names\"", path);
		goto fail;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    (rc = cli_add_name(cli, json_object_get_string(v))) != 0) {
			rc = certo_fail(CERTO_ECONFIG, "%s: bad name in \"names\"",
			    path);
			goto fail;
		}
	}
	if ((rc = get_s(c->root, path, "server", &cli->server)) ||
	    (rc = get_s(c->root, path, "ca_bundle", &cli->ca_bundle)) ||
	    (rc = get_s(c->root, path, "responder", &cli->responder)) ||
	    (rc = get_s(c->root, path, "dns_hook", &cli->dns_hook)) ||
	    (rc = get_s(c->root, path, "http_hook", &cli->http_hook)) ||
	    (rc = get_s(c->root, path, "deploy_hook", &cli->deploy_hook)) ||
	    (rc = get_s(c->root, path, "http_addr", &cli->http_addr)) ||
	    (rc = get_s(c->root, path, "tls_addr", &cli->tls_addr)) ||
	    (rc = get_s(c->root, path, "profile", &cli->profile)) ||
	    (rc = get_s(c->root, path, "csr", &cli->csr_file)) ||
	    (rc = get_s(c->root, path, "key", &cli->key_file)) ||
	    (rc = get_s(c->root, path, "preferred_chain",
	    &cli->preferred_chain)))
		goto fail;
	if (cli->server == NULL) {
		rc = certo_fail(CERTO_ECONFIG, "%s: no \"server\"", path);
		goto fail;
	}
	cli->allow_http = get_b(c->root, "allow_insecure_http");
	cli->standalone = get_b(c->root, "standalone");
	cli->manual = get_b(c->root, "manual");
	cli->must_staple = get_b(c->root, "must_staple");
	if ((rc = get_s(c->root, path, "key_type", &s)) != 0)
		goto fail;
	if (s != NULL && (key_type_parse(s, &cli->key_type) != 0 ||
	    cli->key_type == KEY_ED25519)) {
		rc = certo_fail(CERTO_ECONFIG, "%s: bad \"key_type\"", path);
		goto fail;
	}
	n = 80;
	if ((rc = get_i(c->root, path, "http_port", 1, 65535, &n)) != 0)
		goto fail;
	cli->http_port = (unsigned short)n;
	n = 443;
	if ((rc = get_i(c->root, path, "tls_port", 1, 65535, &n)) != 0)
		goto fail;
	cli->tls_port = (unsigned short)n;
	if ((rc = get_i(c->root, path, "dns_timeout", 1, 86400,
	    &cli->dns_timeout_s)) ||
	    (rc = get_i(c->root, path, "dns_interval", 1, 3600,
	    &cli->dns_interval_s)) ||
	    (rc = get_i(c->root, path, "dns_wait_extra", 0, 3600,
	    &cli->dns_wait_extra_s)) ||
	    (rc = get_i(c->root, path, "hook_timeout", 1, 86400,
	    &cli->hook_timeout_s)) ||
	    (rc = get_i(c->root, path, "http_timeout", 1, 86400,
	    &cli->http_timeout_s)))
		goto fail;
	relative_hook(path, "dns_hook", cli->dns_hook);
	relative_hook(path, "http_hook", cli->http_hook);
	relative_hook(path, "deploy_hook", cli->deploy_hook);
	cli->challenges[0] = CHALL_HTTP01;
	cli->nchallenges = 1;
	if (json_object_object_get_ex(c->root, "challenges", &a) &&
	    json_object_is_type(a, json_type_array)) {
		cli->nchallenges = 0;
		for (size_t i = 0; i < json_object_array_length(a) &&
		    cli->nchallenges < 3; i++) {
			v = json_object_array_get_idx(a, i);
			enum chall_type t = json_object_is_type(v,
			    json_type_string) ? challenge_type_parse(
			    json_object_get_string(v)) : CHALL_UNKNOWN;
			if (t == CHALL_UNKNOWN) {
				rc = certo_fail(CERTO_ECONFIG, "%s: bad challenge "
				    "type", path);
				goto fail;
			}
			cli->challenges[cli->nchallenges++] = t;
		}
	}
	if (json_object_object_get_ex(c->root, "dns_resolvers", &a) &&
	    json_object_is_type(a, json_type_array)) {
		size_t k = json_object_array_length(a);
		if (k > 16 || (cli->dns_resolvers = calloc(k + 1,
		    sizeof(char *))) == NULL) {
			rc = certo_fail(CERTO_ECONFIG, "%s: bad \"dns_resolvers\"",
			    path);
			goto fail;
		}
		for (size_t i = 0; i < k; i++) {
			v = json_object_array_get_idx(a, i);
			if (!json_object_is_type(v, json_type_string)) {
				rc = certo_fail(CERTO_ECONFIG, "%s: bad "
				    "\"dns_resolvers\"", path);
				goto fail;
			}
			/* Borrowed from root, as argv strings are. */
			cli->dns_resolvers[cli->ndns_resolvers++] =
			    (char *)(uintptr_t)json_object_get_string(v);
		}
	}
	/* With a CSR, the stored names are the CSR's. */
	cli->names_from_csr = cli->csr_file != NULL;
	if ((rc = cli_check_challenges(cli)) != 0)
		goto fail;
	return 0;
fail:
	config_free(c);
	return rc;
}

bool
config_same(const struct certo_cli *cli, const struct cert_config *c)
{
	struct json_object *o;
	char *text = NULL;
	bool same;

	if (c->root == NULL || config_serialize(cli, &text) != 0) {
		certo_errclear();
		free(text);
		return false;
	}
	o = json_tokener_parse(text);
	same = o != NULL && json_object_equal(o, c->root);
	json_object_put(o);
	free(text);
	return same;
}
