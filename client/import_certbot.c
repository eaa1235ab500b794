/*
 * certo import --certbot [DIR]: certbot's config directory (default
 * /etc/letsencrypt), read only.  For each renewal/NAME.conf: the live
 * set live/NAME/ (symbolic links into archive/), the account it names
 * (accounts/<host><path of the server>/<id>/private_key.json, a JWK, and
 * regr.json's "uri") and the renewal parameters certo has a meaning for
 * (server, authenticator standalone/webroot/manual, ports, webroot map,
 * key type, deploy hook, chain, must-staple).  Every other setting is
 * named in a warning line, never dropped silently.
 */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "errors.h"
#include "file.h"
#include "hook.h"
#include "import_priv.h"
#include "json.h"
#include "key.h"
#include "log.h"

#define CB_CONF_MAX (64 * 1024)
#define CB_ENTRIES 128

/* One key = value of a renewal configuration (ConfigObj subset). */
struct cb_entry {
	char *section;   /* "", "renewalparams", "webroot_map" */
	char *key;
	char *value;
	bool used;       /* mapped, or known to mean nothing for certo */
};

struct cb_conf {
	struct cb_entry e[CB_ENTRIES];
	size_t n;
};

static void
cb_conf_free(struct cb_conf *conf)
{
	for (size_t i = 0; i < conf->n; i++) {
		free(conf->e[i].section);
		free(conf->e[i].key);
		free(conf->e[i].value);
	}
	conf->n = 0;
}

/* s without leading and trailing blanks (in place). */
static char *
cb_trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* A value without the quotes ConfigObj puts around some. */
static char *
cb_unquote(char *v)
{
	size_t len = strlen(v);

	if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
		v[len - 1] = '\0';
		return v + 1;
	}
	return v;
}

/* One line: a [section], [[subsection]] or key = value. */
static int
cb_line(struct cb_conf *conf, char *line, char **section, const char *path)
{
	char *eq, *name;

	line = cb_trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if (*line == '[') {
		name = line + strspn(line, "[");
		name[strcspn(name, "]")] = '\0';
		free(*section);
		return (*section = strdup(cb_trim(name))) ? 0 : CERTO_ENOMEM;
	}
	if ((eq = strchr(line, '=')) == NULL || conf->n >= CB_ENTRIES)
		return certo_fail(CERTO_ECONFIG, "%s: cannot read line \"%.40s\"",
		    path, line);
	*eq = '\0';
	conf->e[conf->n].section = strdup(*section);
	conf->e[conf->n].key = strdup(cb_trim(line));
	conf->e[conf->n].value = strdup(cb_unquote(cb_trim(eq + 1)));
	conf->n++;
	if (!conf->e[conf->n - 1].section || !conf->e[conf->n - 1].key ||
	    !conf->e[conf->n - 1].value)
		return CERTO_ENOMEM;
	return 0;
}

/* Read a renewal configuration. */
static int
cb_conf_read(const char *path, struct cb_conf *conf)
{
	char *data = NULL, *line, *next, *section = strdup("");
	size_t len;
	int rc;

	memset(conf, 0, sizeof(*conf));
	if (section == NULL)
		return CERTO_ENOMEM;
	if ((rc = file_read(path, CB_CONF_MAX, false, &data, &len, NULL)) != 0)
		goto out;
	for (line = data; line != NULL && rc == 0; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		rc = cb_line(conf, line, &section, path);
	}
out:
	free(section);
	free(data);
	return rc;
}

/* The value of key in section (marked used), or NULL. */
static const char *
cb_get(struct cb_conf *conf, const char *section, const char *key)
{
	for (size_t i = 0; i < conf->n; i++)
		if (strcmp(conf->e[i].section, section) == 0 &&
		    strcmp(conf->e[i].key, key) == 0) {
			conf->e[i].used = true;
			if (strcmp(conf->e[i].value, "None") == 0)
				return NULL;
			return conf->e[i].value;
		}
	return NULL;
}

/* Read a file of DIR (joined parts) into *out. */
static int
cb_read(const char *a, const char *b, const char *c, size_t max, char **out,
    size_t *len)
{
	char *ab = file_join(a, b), *path = ab ? file_join(ab, c) : NULL;
	int rc = path ? file_read(path, max, false, out, len, NULL) :
	    CERTO_ENOMEM;

	free(ab);
	free(path);
	return rc;
}

/*
 * A file of live/NAME/: certbot's symbolic link into archive/, followed
 * only when it stays inside DIR.
 */
static int
cb_read_live(const char *dir, const char *name, const char *file,
    size_t max, char **out, size_t *len)
{
	char *link = NULL, *real = NULL, *top = realpath(dir, NULL);
	size_t tl = top ? strlen(top) : 0;
	int rc;

	if (top == NULL || asprintf(&link, "%s/live/%s/%s", dir, name,
	    file) < 0) {
		free(top);
		return certo_fail(CERTO_EIO, "%s: cannot resolve", dir);
	}
	if ((real = realpath(link, NULL)) == NULL)
		rc = certo_fail(CERTO_EIO, "%s: %s", link, strerror(errno));
	else if (strncmp(real, top, tl) != 0 || real[tl] != '/')
		rc = certo_fail(CERTO_EUSAGE, "%s points outside %s", link, dir);
	else
		rc = file_read(real, max, false, out, len, NULL);
	free(top);
	free(link);
	free(real);
	return rc;
}

/* Was the account at rel (under DIR) imported in this run already? */
static bool
cb_seen(struct import_ctx *ctx, const char *rel)
{
	for (size_t i = 0; i < ctx->nseen; i++)
		if (strcmp(ctx->seen[i], rel) == 0)
			return true;
	if (ctx->nseen < IMPORT_SEEN_MAX &&
	    (ctx->seen[ctx->nseen] = strdup(rel)) != NULL)
		ctx->nseen++;
	return false;
}

/*
 * The certbot account at DIR/rel (accounts/<netloc><path>/<id>): its JWK
 * key (private_key.json) and regr.json's URL, made certo's account for
 * server.
 */
static int
cb_account_at(struct import_ctx *ctx, const char *dir, const char *rel,
    const char *server)
{
	struct json_object *regr = NULL;
	struct certo_key *key = NULL;
	char *acct = NULL, *data = NULL, *url = NULL;
	size_t len = 0;
	int rc;

	if (cb_seen(ctx, rel))
		return 0;
	if ((acct = file_join(dir, rel)) == NULL)
		return CERTO_ENOMEM;
	if ((rc = cb_read(acct, ".", "private_key.json", IMPORT_KEY_MAX, &data,
	    &len)) != 0 || (rc = key_parse_jwk(data, len, rel, &key)) != 0)
		goto out;
	memset(data, 0, len);
	free(data);
	data = NULL;
	if ((rc = cb_read(acct, ".", "regr.json", IMPORT_JSON_MAX, &data,
	    &len)) != 0 || (rc = json_parse_object(data, len, rel, &regr)) != 0 ||
	    (rc = json_get_url(regr, rel, "uri", true, &url)) != 0)
		goto out;
	rc = import_account(ctx, server, key, url, rel);
out:
	if (data != NULL)
		memset(data, 0, len);
	free(data);
	free(acct);
	free(url);
	json_object_put(regr);
	key_free(key);
	return rc;
}

/* The account the configuration names (renewalparams "account"). */
static int
cb_account(struct import_ctx *ctx, const char *dir, const char *name,
    struct cb_conf *conf, const char *server)
{
	const char *id = cb_get(conf, "renewalparams", "account");
	const char *hostpath = strstr(server, "://");
	char rel[600];

	if (id == NULL || strspn(id, "0123456789abcdef") != strlen(id) ||
	    strlen(id) > 64 || hostpath == NULL || strstr(hostpath, "..") ||
	    strchr(hostpath + 3, '/') == NULL) {
		import_note(ctx, name, "account: no usable certbot account "
		    "reference; renew uses (or creates) certo's own account");
		return 0;
	}
	/* certbot: accounts/<netloc><path>/<id>/ */
	snprintf(rel, sizeof(rel), "accounts/%s/%s", hostpath + 3, id);
	return cb_account_at(ctx, dir, rel, server);
}

/*
 * Accounts no certificate names, below DIR/rel (depth levels left):
 * a directory with regr.json is one, at https://<the path between
 * accounts/ and its id>.  Symbolic links (certbot's for old server
 * names) are not followed.  Problems are named, not fatal.
 */
static int
cb_accounts_walk(struct import_ctx *ctx, const char *dir, const char *rel,
    int depth)
{
	char *path = file_join(dir, rel), **names = NULL, sub[600], *p = NULL;
	char server[600];
	const char *netpath = rel + strlen("accounts");
	struct stat st;
	size_t n = 0;
	int rc = 0;

	if (path == NULL || import_list_dir(path, "", &names, &n) != 0) {
		free(path);
		return CERTO_ENOMEM;
	}
	/* Here, rel is accounts[/<netloc><path>]: the server of an id below. */
	snprintf(server, sizeof(server), "https://%s", *netpath == '/' ?
	    netpath + 1 : "");
	for (size_t i = 0; i < n && rc == 0; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", rel, names[i]);
		free(p);
		if (asprintf(&p, "%s/%s/regr.json", dir, sub) < 0) {
			p = NULL;
			rc = CERTO_ENOMEM;
			break;
		}
		/* sub itself, not what a symbolic link points to. */
		p[strlen(p) - strlen("/regr.json")] = '\0';
		if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		p[strlen(p)] = '/';
		if (!file_exists(p)) {
			if (depth > 0)
				rc = cb_accounts_walk(ctx, dir, sub, depth - 1);
			continue;
		}
		if (*netpath == '\0')
			continue;   /* accounts/<netloc> itself: no server path */
		if ((rc = cb_account_at(ctx, dir, sub, server)) != 0 &&
		    rc != CERTO_ENOMEM) {
			import_note(ctx, sub, "account not imported: %s",
			    certo_errmsg() ? certo_errmsg() : certo_strerror(rc));
			certo_errclear();
			rc = 0;
		}
	}
	free(p);
	import_list_free(names, n);
	free(path);
	return rc;
}

/* key_type, rsa_key_size, elliptic_curve: the type renew makes. */
static void
cb_key_type(struct import_ctx *ctx, const char *name, struct cb_conf *conf,
    struct issue_params *params)
{
	const char *type = cb_get(conf, "renewalparams", "key_type");
	const char *size = cb_get(conf, "renewalparams", "rsa_key_size");
	const char *curve = cb_get(conf, "renewalparams", "elliptic_curve");

	if (type == NULL || strcmp(type, "rsa") == 0) {
		/* certbot before 2.0 made RSA keys; 2048 bits by default. */
		params->key_type = size == NULL || strcmp(size, "2048") == 0 ?
		    KEY_RSA2048 : strcmp(size, "3072") == 0 ? KEY_RSA3072 :
		    KEY_RSA4096;
		if (size != NULL && strcmp(size, "2048") != 0 &&
		    strcmp(size, "3072") != 0 && strcmp(size, "4096") != 0)
			import_note(ctx, name, "rsa_key_size = %.16s: not mapped; "
			    "renew makes rsa-4096 keys", size);
	} else if (strcmp(type, "ecdsa") == 0) {
		params->key_type = curve != NULL && strcmp(curve, "secp384r1") == 0 ?
		    KEY_EC384 : KEY_EC256;
		if (curve != NULL && strcmp(curve, "secp256r1") != 0 &&
		    strcmp(curve, "secp384r1") != 0)
			import_note(ctx, name, "elliptic_curve = %.16s: not mapped; "
			    "renew makes ec-256 keys", curve);
	} else {
		import_note(ctx, name, "key_type = %.16s: not mapped; renew makes "
		    "ec-256 keys", type);
	}
}

/*
 * webroot_path and [[webroot_map]]: certo serves one --webroot per
 * certificate, so every name must map to the same directory.
 */
static int
cb_webroot(struct cb_conf *conf, struct issue_params *params)
{
	const char *root = NULL, *list = cb_get(conf, "renewalparams",
	    "webroot_path");
	char first[4096];

	for (size_t i = 0; i < conf->n; i++) {
		if (strcmp(conf->e[i].section, "webroot_map") != 0)
			continue;
		conf->e[i].used = true;
		if (root != NULL && strcmp(root, conf->e[i].value) != 0)
			return certo_fail(CERTO_EUSAGE, "webroot_map: names map to "
			    "different webroots (%.100s, %.100s); certo serves one "
			    "--webroot per certificate (give --webroot DIR to import "
			    "with one)", root, conf->e[i].value);
		root = conf->e[i].value;
	}
	if (root == NULL && list != NULL) {
		snprintf(first, sizeof(first), "%s", list);
		first[strcspn(first, ",")] = '\0';
		root = cb_trim(first);
	}
	if (root == NULL || *root != '/')
		return certo_fail(CERTO_EUSAGE, "authenticator webroot without an "
		    "absolute webroot_path");
	params->challenges[0] = CHALL_HTTP01;
	params->nchallenges = 1;
	return params_set_str(&params->webroot, root);
}

/* preferred_challenges ("http-01, dns" ...) into params->challenges. */
static void
cb_challenges(struct cb_conf *conf, struct issue_params *params)
{
	const char *pref = cb_get(conf, "renewalparams", "preferred_challenges");
	char buf[128], *tok, *save = NULL;

	if (pref == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s", pref);
	params->nchallenges = 0;
	for (tok = strtok_r(buf, ", ", &save); tok && params->nchallenges < 3;
	    tok = strtok_r(NULL, ", ", &save)) {
		enum chall_type t = strncmp(tok, "dns", 3) == 0 ? CHALL_DNS01 :
		    strncmp(tok, "http", 4) == 0 ? CHALL_HTTP01 :
		    strncmp(tok, "tls-alpn", 8) == 0 ? CHALL_TLSALPN01 :
		    CHALL_UNKNOWN;

		if (t != CHALL_UNKNOWN)
			params->challenges[params->nchallenges++] = t;
	}
	if (params->nchallenges == 0) {
		params->challenges[0] = CHALL_HTTP01;
		params->nchallenges = 1;
	}
}

/*
 * The authenticator: standalone (http01_port, http01_address), webroot,
 * manual without hooks.  Anything else needs the command line's
 * challenge options (ctx->override).
 */
static int
cb_authenticator(struct import_ctx *ctx, const char *name,
    struct cb_conf *conf, struct issue_params *params)
{
	const char *auth = cb_get(conf, "renewalparams", "authenticator");
	const char *port = cb_get(conf, "renewalparams", "http01_port");
	const char *addr = cb_get(conf, "renewalparams", "http01_address");
	const char *hook = cb_get(conf, "renewalparams", "manual_auth_hook");
	long p;
	int rc;

	cb_challenges(conf, params);
	if (port != NULL && ((p = strtol(port, NULL, 10)) < 1 || p > 65535))
		return certo_fail(CERTO_EUSAGE, "http01_port = %.16s is not a port",
		    port);
	if (port != NULL)
		params->http_port = (unsigned short)p;
	if (addr != NULL && *addr != '\0' &&
	    (rc = params_set_str(&params->http_addr, addr)) != 0)
		return rc;
	if (ctx->override) {
		char shown[256], ashown[48];

		log_info("import: %s: authenticator %s: replaced by this "
		    "command line's challenge options", log_str(shown,
		    sizeof(shown), name), log_str(ashown, sizeof(ashown),
		    auth ? auth : "(none)"));
		return 0;
	}
	if (auth != NULL && strcmp(auth, "standalone") == 0) {
		params->challenges[0] = CHALL_HTTP01;
		params->nchallenges = 1;
		return params_set_mode(params, true, false);
	}
	if (auth != NULL && strcmp(auth, "webroot") == 0)
		return (rc = cb_webroot(conf, params)) != 0 ? rc :
		    params_set_mode(params, false, false);
	if (auth != NULL && strcmp(auth, "manual") == 0 && hook == NULL)
		return params_set_mode(params, false, true);
	if (hook != NULL)
		return certo_fail(CERTO_EUSAGE, "manual_auth_hook: certbot's "
		    "manual hooks take CERTBOT_* variables, certo's hooks take "
		    "arguments (docs/hooks.md): give --dns-hook or --http-hook "
		    "PROGRAM to import with a certo hook");
	return certo_fail(CERTO_EUSAGE, "authenticator %.40s: not mapped; give "
	    "--standalone, --webroot DIR, --dns-hook PROGRAM... to import with "
	    "a certo way of answering challenges", auth ? auth : "(none)");
}

/* The settings certo has no meaning for: each named (import_note). */
static void
cb_leftovers(struct import_ctx *ctx, const char *name, struct cb_conf *conf)
{
	static const char *const silent[] = { "version", "archive_dir", "cert",
		"privkey", "chain", "fullchain", "config_dir", "work_dir",
		"logs_dir", "manual_public_ip_logging_ok", "manual_cleanup_hook",
		"installer", NULL };
	const char *inst = cb_get(conf, "renewalparams", "installer");
	const char *const *s;

	if (inst != NULL)
		import_note(ctx, name, "installer = %.40s: not mapped: certo does "
		    "not edit server configurations; use --deploy-hook 'systemctl "
		    "reload ...'", inst);
	for (size_t i = 0; i < conf->n; i++) {
		struct cb_entry *e = &conf->e[i];

		for (s = silent; *s != NULL && strcmp(*s, e->key) != 0; s++)
			;
		if (e->used || *s != NULL || strcmp(e->value, "None") == 0)
			continue;
		if (strcmp(e->key, "pre_hook") == 0 ||
		    strcmp(e->key, "post_hook") == 0)
			import_note(ctx, name, "%s = %.100s: not mapped: certo has "
			    "no pre or post hooks (its standalone server needs only "
			    "the port)", e->key, e->value);
		else
			import_note(ctx, name, "%s%s%s = %.100s: not mapped",
			    e->section, *e->section ? "." : "", e->key, e->value);
	}
}

/* The renewal parameters of one configuration into params. */
static int
cb_params(struct import_ctx *ctx, const char *name, struct cb_conf *conf,
    struct issue_params *params)
{
	const char *hook = cb_get(conf, "renewalparams", "renew_hook");
	const char *chain = cb_get(conf, "renewalparams", "preferred_chain");
	const char *staple = cb_get(conf, "renewalparams", "must_staple");
	const char *reuse = cb_get(conf, "renewalparams", "reuse_key");
	char *resolved = NULL;
	int rc;

	cb_key_type(ctx, name, conf, params);
	if ((rc = cb_authenticator(ctx, name, conf, params)) != 0)
		return rc;
	if (hook != NULL) {
		if ((rc = hook_resolve_command("renew_hook", hook, &resolved)) != 0)
			return rc;
		rc = params_set_str(&params->deploy_hook, resolved);
		free(resolved);
		if (rc != 0)
			return rc;
	}
	if (chain != NULL && (rc = params_set_str(&params->preferred_chain,
	    chain)) != 0)
		return rc;
	params->must_staple = staple != NULL && strcmp(staple, "True") == 0;
	if (reuse != NULL && strcmp(reuse, "True") == 0)
		import_note(ctx, name, "reuse_key = True: not mapped: renew makes "
		    "a new key each time");
	cb_get(conf, "", "renew_before_expiry");
	if (cb_get(conf, "", "renew_before_expiry") != NULL)
		import_note(ctx, name, "renew_before_expiry: not mapped: certo "
		    "renews at the CA's renewalInfo window, else after two thirds "
		    "of the lifetime");
	cb_get(conf, "", "autorenew");
	return 0;
}

/* The server of conf (certbot's default when absent), checked. */
static int
cb_server(struct cb_conf *conf, struct issue_params *params)
{
	const char *server = cb_get(conf, "renewalparams", "server");

	if (server == NULL)
		server = "https://acme-v02.api.letsencrypt.org/directory";
	if (!json_url_ok(server) || strstr(server, "acme-v01.") != NULL)
		return certo_fail(CERTO_EUSAGE, "server %.100s: not an ACME v2 "
		    "directory URL", server);
	return params_set_str(&params->server, server);
}

/* The configuration, the account and the live set of certbot's NAME. */
static int
cb_lineage(struct import_ctx *ctx, const char *dir, const char *name,
    const char *what, struct cb_conf *conf, struct issue_params *params)
{
	char *path = NULL, *chain = NULL, *key = NULL;
	size_t chain_len = 0, key_len = 0;
	int rc;

	if (asprintf(&path, "%s/renewal/%s.conf", dir, name) < 0) {
		path = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = cb_conf_read(path, conf)) != 0 ||
	    (rc = cb_server(conf, params)) != 0 ||
	    (rc = cb_account(ctx, dir, what, conf, params->server)) != 0 ||
	    (rc = cb_params(ctx, what, conf, params)) != 0)
		goto out;
	cb_leftovers(ctx, what, conf);
	if ((rc = cb_read_live(dir, name, "fullchain.pem", IMPORT_CHAIN_MAX,
	    &chain, &chain_len)) != 0 || (rc = cb_read_live(dir, name,
	    "privkey.pem", IMPORT_KEY_MAX, &key, &key_len)) != 0)
		goto out;
	/* import_cert() counts and says what became of it. */
	rc = import_cert(ctx, what, params, name, chain, chain_len, key,
	    key_len);
	rc = rc == CERTO_ENOMEM ? rc : 0;
out:
	if (key != NULL)
		memset(key, 0, key_len);
	free(key);
	free(chain);
	free(path);
	return rc;
}

/* One renewal/NAME.conf: a failure is counted and said, not fatal. */
static int
cb_one(struct import_ctx *ctx, const char *dir, const char *conffile)
{
	struct issue_params params;
	struct cb_conf conf;
	char name[256], what[300];
	int rc;

	memset(&conf, 0, sizeof(conf));
	params_init(&params);
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(conffile) - 5),
	    conffile);
	snprintf(what, sizeof(what), "certbot %s", name);
	rc = cb_lineage(ctx, dir, name, what, &conf, &params);
	if (rc != 0)
		rc = import_failed(ctx, what, rc);
	cb_conf_free(&conf);
	params_free(&params);
	return rc;
}

/* Hook scripts in renewal-hooks/{pre,post,deploy}/: named, not run. */
static void
cb_hook_dirs(struct import_ctx *ctx, const char *dir)
{
	static const char *const kinds[] = { "pre", "post", "deploy" };
	char sub[64], *path, **names;
	size_t n;

	for (size_t k = 0; k < 3; k++) {
		snprintf(sub, sizeof(sub), "renewal-hooks/%s", kinds[k]);
		if ((path = file_join(dir, sub)) == NULL ||
		    import_list_dir(path, "", &names, &n) != 0) {
			free(path);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			import_note(ctx, sub, "%s: not mapped: give certo a "
			    "--deploy-hook that runs it%s", names[i], k < 2 ?
			    " (certo has no pre or post hooks)" : "");
		import_list_free(names, n);
		free(path);
	}
}

/* certbot's config directory (import_priv.h). */
int
import_certbot(struct import_ctx *ctx, const char *dir)
{
	char *renewal = file_join(dir, "renewal"), **confs = NULL, shown[300];
	size_t n = 0;
	int rc = 0;

	if (renewal == NULL)
		return CERTO_ENOMEM;
	if (!file_exists(renewal)) {
		rc = certo_fail(CERTO_EUSAGE, "import: %s is not a certbot "
		    "configuration directory (no renewal/)", log_str(shown,
		    sizeof(shown), dir));
		goto out;
	}
	if ((rc = import_list_dir(renewal, ".conf", &confs, &n)) != 0)
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = cb_one(ctx, dir, confs[i]);
	/* Then the accounts of CAs no certificate is from. */
	if (rc == 0)
		rc = cb_accounts_walk(ctx, dir, "accounts", 6);
	if (rc == 0)
		cb_hook_dirs(ctx, dir);
out:
	import_list_free(confs, n);
	free(renewal);
	return rc;
}
