/*
 * certo import --lego DIR: lego's --path directory (.lego), read only.
 * accounts/<host[_port]>/<email>/account.json ("registration"."uri") and
 * keys/<email>.key (PEM) become certo's account for the CA whose
 * directory URL has that host (a CA certo knows by name, else --server);
 * certificates/<name>.crt (+ .issuer.crt when not bundled), .key and
 * .json ("certUrl" says which CA) go into the store.  lego keeps no
 * renewal settings (its renew is a command line), so the command line
 * of the import says how renew answers challenges.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "account.h"
#include "cli.h"
#include "directory.h"
#include "errors.h"
#include "file.h"
#include "import_priv.h"
#include "json.h"
#include "key.h"
#include "log.h"

#define LEGO_SERVERS 16

/* The CAs whose accounts were read: lego's directory name, the URL. */
struct lego_servers {
	char *host[LEGO_SERVERS];
	char *url[LEGO_SERVERS];
	size_t n;
};

static void
lego_servers_free(struct lego_servers *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->host[i]);
		free(s->url[i]);
	}
	s->n = 0;
}

/* True if certo's account directory name of url is host. */
static bool
lego_same_host(const char *url, const char *host)
{
	char *id = NULL;
	bool same;

	if (url == NULL || account_ca_id(url, &id) != 0) {
		certo_errclear();
		return false;
	}
	same = strcmp(id, host) == 0;
	free(id);
	return same;
}

/*
 * The directory URL of lego's accounts/<host>: a CA certo knows by name
 * with that host, else --server when it has that host, else NULL.
 */
static const char *
lego_server_of(const struct import_ctx *ctx, const char *host)
{
	for (const char *const *n = directory_names(); *n != NULL; n++)
		if (lego_same_host(directory_url_for(*n), host))
			return directory_url_for(*n);
	if (lego_same_host(ctx->cli->server, host))
		return ctx->cli->server;
	return NULL;
}

/* accounts/<host>/<email>/: the key and the URL, imported. */
static int
lego_account(struct import_ctx *ctx, const char *acct, const char *email,
    const char *server, const char *what)
{
	struct json_object *obj = NULL, *reg = NULL;
	struct certo_key *key = NULL;
	char *path = NULL, *data = NULL, *url = NULL;
	struct stat st;
	size_t len = 0;
	int rc;

	if (asprintf(&path, "%s/account.json", acct) < 0) {
		path = NULL;
		return CERTO_ENOMEM;
	}
	if ((rc = json_load_file(path, IMPORT_JSON_MAX, &obj, NULL)) != 0 ||
	    (rc = json_get_object(obj, what, "registration", true, &reg)) != 0 ||
	    (rc = json_get_url(reg, what, "uri", true, &url)) != 0)
		goto out;
	free(path);
	if (asprintf(&path, "%s/keys/%s.key", acct, email) < 0) {
		path = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_read(path, IMPORT_KEY_MAX, false, &data, &len,
	    NULL)) != 0 || (rc = key_parse(data, len, what, &key)) != 0)
		goto out;
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		import_note(ctx, what, "keys/%s.key can be read by others (mode "
		    "%03o): certo's copy is 0600; consider the key exposed", email,
		    (unsigned)(st.st_mode & 0777));
	rc = import_account(ctx, server, key, url, what);
out:
	if (data != NULL)
		memset(data, 0, len);
	free(data);
	free(path);
	free(url);
	json_object_put(obj);
	key_free(key);
	return rc;
}

/* Every accounts/<host>/<email>/ (one account per CA for certo). */
static int
lego_accounts(struct import_ctx *ctx, const char *dir,
    struct lego_servers *servers)
{
	char *root = file_join(dir, "accounts"), **hosts = NULL, **emails = NULL;
	char *hostdir = NULL, *acct = NULL, what[600];
	size_t nh = 0, ne = 0;
	const char *server;
	int rc;

	if (root == NULL || (rc = import_list_dir(root, "", &hosts, &nh)) != 0) {
		free(root);
		return CERTO_ENOMEM;
	}
	for (size_t h = 0; h < nh && rc == 0; h++) {
		snprintf(what, sizeof(what), "lego accounts/%s", hosts[h]);
		if ((server = lego_server_of(ctx, hosts[h])) == NULL) {
			import_note(ctx, what, "which CA directory URL is this? give "
			    "--server URL with this host to import it");
			continue;
		}
		if (servers->n < LEGO_SERVERS &&
		    ((servers->host[servers->n] = strdup(hosts[h])) == NULL ||
		    (servers->url[servers->n++] = strdup(server)) == NULL)) {
			rc = CERTO_ENOMEM;
			break;
		}
		if ((hostdir = file_join(root, hosts[h])) == NULL ||
		    (rc = import_list_dir(hostdir, "", &emails, &ne)) != 0) {
			rc = CERTO_ENOMEM;
			break;
		}
		for (size_t e = 0; e < ne && rc == 0; e++) {
			snprintf(what, sizeof(what), "lego accounts/%s/%s", hosts[h],
			    emails[e]);
			if ((acct = file_join(hostdir, emails[e])) == NULL)
				rc = CERTO_ENOMEM;
			else if ((rc = lego_account(ctx, acct, emails[e], server,
			    what)) != 0)
				rc = import_failed(ctx, what, rc);
			free(acct);
		}
		import_list_free(emails, ne);
		emails = NULL;
		free(hostdir);
		hostdir = NULL;
	}
	import_list_free(hosts, nh);
	free(hostdir);
	free(root);
	return rc;
}

/* The CA of a certificate: its "certUrl"'s host among the accounts read. */
static const char *
lego_cert_server(const struct lego_servers *servers, const char *cert_url)
{
	for (size_t i = 0; i < servers->n; i++)
		if (lego_same_host(cert_url, servers->host[i]))
			return servers->url[i];
	return NULL;
}

/* certificates/<base>.crt, chain completed with .issuer.crt if needed. */
static int
lego_chain(const char *certs, const char *base, char **chain, size_t *len)
{
	char *path = NULL, *issuer = NULL, *both;
	size_t ilen = 0;
	int rc;

	if (asprintf(&path, "%s/%s.crt", certs, base) < 0)
		return CERTO_ENOMEM;
	rc = file_read(path, IMPORT_CHAIN_MAX, false, chain, len, NULL);
	free(path);
	if (rc != 0 || strstr(strstr(*chain, "-----END CERTIFICATE-----") ?
	    strstr(*chain, "-----END CERTIFICATE-----") + 1 : *chain,
	    "-----BEGIN CERTIFICATE-----") != NULL)
		return rc;
	/* lego --no-bundle: the leaf alone; the issuer is beside it. */
	if (asprintf(&path, "%s/%s.issuer.crt", certs, base) < 0)
		return CERTO_ENOMEM;
	rc = file_read(path, IMPORT_CHAIN_MAX, false, &issuer, &ilen, NULL);
	free(path);
	if (rc != 0)
		return rc;
	if (asprintf(&both, "%s%s%s", *chain, (*len > 0 && (*chain)[*len - 1] ==
	    '\n') ? "" : "\n", issuer) < 0) {
		free(issuer);
		return CERTO_ENOMEM;
	}
	free(issuer);
	free(*chain);
	*chain = both;
	*len = strlen(both);
	return 0;
}

/* One certificates/<base>.json with its .crt and .key. */
static int
lego_cert(struct import_ctx *ctx, const char *certs, const char *base,
    const struct lego_servers *servers, struct issue_params *params)
{
	struct json_object *obj = NULL;
	struct certo_key *key = NULL;
	char *path = NULL, *cert_url = NULL, *domain = NULL, *chain = NULL;
	char *pem = NULL, what[300];
	const char *server;
	size_t clen = 0, klen = 0;
	int rc;

	snprintf(what, sizeof(what), "lego %s", base);
	if (asprintf(&path, "%s/%s.json", certs, base) < 0) {
		path = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = json_load_file(path, IMPORT_JSON_MAX, &obj, NULL)) != 0 ||
	    (rc = json_get_str(obj, what, "domain", false, 256, &domain)) != 0 ||
	    (rc = json_get_url(obj, what, "certUrl", false, &cert_url)) != 0)
		goto out;
	if ((server = lego_cert_server(servers, cert_url)) == NULL) {
		rc = certo_fail(CERTO_EUSAGE, "no imported lego account is at the "
		    "CA of its certUrl (give --server URL of that CA)");
		goto out;
	}
	if (!ctx->override) {
		rc = certo_fail(CERTO_EUSAGE, "lego keeps no renewal settings: "
		    "say how renew answers challenges (--standalone --http-port "
		    "N, --webroot DIR, --dns-hook PROGRAM...)");
		goto out;
	}
	free(path);
	if (asprintf(&path, "%s/%s.key", certs, base) < 0) {
		path = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = params_set_str(&params->server, server)) != 0 ||
	    (rc = lego_chain(certs, base, &chain, &clen)) != 0 ||
	    (rc = file_read(path, IMPORT_KEY_MAX, false, &pem, &klen,
	    NULL)) != 0 || (rc = key_parse(pem, klen, what, &key)) != 0)
		goto out;
	/* Renew makes a key of the type lego made (--key-type). */
	params->key_type = key_get_type(key);
	rc = import_cert(ctx, what, params, domain, chain, clen, pem, klen);
	json_object_put(obj);
	obj = NULL;
	rc = rc == CERTO_ENOMEM ? rc : 0;
	goto done;
out:
	if (rc != 0)
		rc = import_failed(ctx, what, rc);
done:
	if (pem != NULL)
		memset(pem, 0, klen);
	free(pem);
	key_free(key);
	free(chain);
	free(path);
	free(cert_url);
	free(domain);
	json_object_put(obj);
	return rc;
}

/* lego's .lego directory (import_priv.h). */
int
import_lego(struct import_ctx *ctx, const char *dir)
{
	struct lego_servers servers;
	struct issue_params params;
	char *certs = file_join(dir, "certificates"), **files = NULL, shown[300];
	size_t n = 0;
	int rc;

	memset(&servers, 0, sizeof(servers));
	if (certs == NULL)
		return CERTO_ENOMEM;
	if (!file_exists(certs)) {
		rc = certo_fail(CERTO_EUSAGE, "import: %s is not lego's directory "
		    "(no certificates/)", log_str(shown, sizeof(shown), dir));
		goto out;
	}
	if ((rc = lego_accounts(ctx, dir, &servers)) != 0 ||
	    (rc = import_list_dir(certs, ".json", &files, &n)) != 0)
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++) {
		files[i][strlen(files[i]) - 5] = '\0';
		params_init(&params);
		rc = lego_cert(ctx, certs, files[i], &servers, &params);
		params_free(&params);
	}
out:
	import_list_free(files, n);
	lego_servers_free(&servers);
	free(certs);
	return rc;
}
