/*
 * certo import --certbot [DIR] | --lego DIR: another client's accounts,
 * certificates and renewal settings into certo's state directory.  The
 * CA is never contacted and DIR is only read.  Accounts go to
 * accounts/<ca>/ (key.c writes the key, account.c the URL), certificates
 * through store_commit() with the certo.json that config.c makes, so
 * `certo list` shows them and `certo renew` renews them.  Reading the
 * other clients' files is import_certbot.c's and import_lego.c's.
 */
#include "verbs.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "certificate.h"
#include "cli.h"
#include "config.h"
#include "errors.h"
#include "file.h"
#include "import_priv.h"
#include "json.h"
#include "key.h"
#include "log.h"
#include "store.h"

#define IMPORT_CERTBOT_DEFAULT "/etc/letsencrypt"

/* A setting not taken over: one warning line (import_priv.h). */
void
import_note(struct import_ctx *ctx, const char *what, const char *fmt, ...)
{
	char line[1024], safe[1024], shown[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ctx->notes++;
	log_warn("import: %s: %s", log_str(shown, sizeof(shown), what),
	    log_str(safe, sizeof(safe), line));
}

/*
 * Something (a certificate, an account) was not imported because of rc:
 * counted and said on one line (its recorded message, made printable:
 * it may quote the other client's files), the message cleared.
 * CERTO_ENOMEM stays an error; anything else becomes 0.
 */
int
import_failed(struct import_ctx *ctx, const char *what, int rc)
{
	char why[1024], shown[256];

	if (rc == CERTO_ENOMEM)
		return rc;
	log_str(why, sizeof(why), certo_errmsg() ? certo_errmsg() :
	    certo_strerror(rc));
	certo_errclear();
	ctx->failed++;
	log_error("import: %s: not imported: %s", log_str(shown, sizeof(shown),
	    what), why);
	return 0;
}

/* Free a list import_list_dir() made. */
void
import_list_free(char **names, size_t n)
{
	file_list_free(names, n);
}

/*
 * The entries of dir ending in suffix, sorted; no "." names, at most
 * IMPORT_ENTRIES_MAX.  A missing dir is an empty list.
 */
int
import_list_dir(const char *dir, const char *suffix, char ***names,
    size_t *n)
{
	return file_list_dir(dir, suffix, IMPORT_ENTRIES_MAX, names, n);
}

/* The URL in certo's account.json at path, or NULL. */
static char *
stored_account_url(const char *path)
{
	struct json_object *obj = NULL;
	char *url = NULL;

	if (json_load_file(path, IMPORT_JSON_MAX, &obj, NULL) != 0 ||
	    json_get_str(obj, path, "url", true, JSON_URL_MAX, &url) != 0)
		certo_errclear();
	json_object_put(obj);
	return url;
}

/*
 * certo has an account for this CA already: the same one is fine, a
 * different one is kept (and said).
 */
static int
account_present(struct import_ctx *ctx, const char *keypath,
    const char *jsonpath, const struct certo_key *key, const char *url,
    const char *from)
{
	struct certo_key *have = NULL;
	char *have_url = stored_account_url(jsonpath), shown[512];
	bool same;

	if (key_load(keypath, &have) != 0) {
		free(have_url);
		return certo_errcode() ? certo_errcode() : CERTO_EIO;
	}
	same = key_same_public(have, key) && have_url != NULL &&
	    strcmp(have_url, url) == 0;
	if (same)
		log_info("import: account %s: already certo's", log_str(shown,
		    sizeof(shown), url));
	else
		import_note(ctx, from, "account %s not imported: certo already "
		    "has another account for this CA (%s), which renew uses",
		    log_str(shown, sizeof(shown), url), keypath);
	key_free(have);
	free(have_url);
	return 0;
}

/* The account of server becomes certo's, unless it has one (import_priv.h). */
int
import_account(struct import_ctx *ctx, const char *server,
    const struct certo_key *key, const char *url, const char *from)
{
	struct store_lock lock = STORE_LOCK_INIT;
	char *ca_id = NULL, *acct = NULL, *accounts = NULL, *keypath = NULL;
	char *jsonpath = NULL, shown[512], from_shown[256];
	int rc;

	if ((rc = account_ca_id(server, &ca_id)) != 0)
		goto out;
	if ((accounts = file_join(ctx->state, "accounts")) == NULL ||
	    (acct = file_join(accounts, ca_id)) == NULL ||
	    (keypath = file_join(acct, "account.key")) == NULL ||
	    (jsonpath = file_join(acct, "account.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	/* Not while a certo run creates or rolls over this account. */
	if ((rc = store_lock_account(ctx->state, ca_id, &lock)) != 0)
		goto out;
	if (file_exists(keypath)) {
		rc = account_present(ctx, keypath, jsonpath, key, url, from);
		goto out;
	}
	if ((rc = file_mkdirs(acct)) != 0 ||
	    (rc = key_save(key, keypath, true)) != 0)
		goto out;
	if ((rc = account_save(jsonpath, url, false, NULL, 0)) != 0) {
		unlink(keypath);
		goto out;
	}
	ctx->accounts++;
	log_event("account_imported", NULL, "import: account %s from %s",
	    log_str(shown, sizeof(shown), url), log_str(from_shown,
	    sizeof(from_shown), from));
out:
	store_unlock(&lock);
	free(ca_id);
	free(accounts);
	free(acct);
	free(keypath);
	free(jsonpath);
	return rc;
}

/*
 * The names of the certificate (DNS SANs), first the one equal to
 * first (the other client's name for it), then in the certificate's
 * order.
 */
static int
names_from_chain(struct issue_params *params, const struct certo_chain *chain,
    const char *first)
{
	int rc;

	for (size_t i = 0; first != NULL && i < chain->nsans; i++)
		if (strcmp(chain->sans[i], first) == 0 &&
		    (rc = params_add_name(params, first)) != 0)
			return rc;
	for (size_t i = 0; i < chain->nsans; i++) {
		if (params->nnames > 0 && strcmp(params->names[0],
		    chain->sans[i]) == 0)
			continue;
		if ((rc = params_add_name(params, chain->sans[i])) != 0)
			return rc;
	}
	if (params->nnames == 0)
		return certo_fail(CERTO_EUSAGE, "the certificate has no DNS name");
	return 0;
}

/*
 * The command line named a way to answer challenges: its challenge
 * options, with the other client's CA, names, key type, chain choice,
 * must-staple and deploy hook (unless the command line gave one).
 */
static int
apply_override(const struct import_ctx *ctx, struct issue_params *params)
{
	struct issue_params mine;
	int rc;

	if ((rc = params_from_cli(ctx->cli, &mine)) != 0)
		return rc;
	if ((rc = params_set_str(&mine.server, params->server)) != 0 ||
	    (ctx->cli->deploy_hook == NULL &&
	    (rc = params_set_str(&mine.deploy_hook, params->deploy_hook)) != 0) ||
	    (ctx->cli->preferred_chain == NULL &&
	    (rc = params_set_str(&mine.preferred_chain,
	    params->preferred_chain)) != 0)) {
		params_free(&mine);
		return rc;
	}
	mine.key_type = params->key_type;
	mine.must_staple = params->must_staple || mine.must_staple;
	params_free(params);
	*params = mine;
	return 0;
}

/*
 * What certo holds for names[0] already: nothing (*exists false), or a
 * set whose certificate is this one or newer (*keep: a repeated import,
 * or certo renewed it since), else an older one that this replaces.
 */
static int
existing_set(const struct import_ctx *ctx, const struct issue_params *params,
    const struct certo_chain *chain, bool *exists, bool *keep)
{
	struct certo_chain have;
	char *live = NULL, *path = NULL, *pem = NULL;
	size_t len = 0;
	int rc;

	*exists = *keep = false;
	memset(&have, 0, sizeof(have));
	if ((rc = store_live_dir(ctx->state, params->names[0], &live)) != 0)
		return rc;
	if ((path = file_join(live, "fullchain.pem")) == NULL) {
		free(live);
		return CERTO_ENOMEM;
	}
	if ((*exists = file_exists(live))) {
		if (file_read(path, IMPORT_CHAIN_MAX, false, &pem, &len, NULL) == 0 &&
		    certificate_parse(pem, len, &have) == 0)
			*keep = strcmp(have.leaf, chain->leaf) == 0 ||
			    have.not_before >= chain->not_before;
		certo_errclear();
	}
	certificate_free(&have);
	free(pem);
	free(path);
	free(live);
	return 0;
}

/* How renew will answer the challenges, for the summary line. */
static const char *
mode_word(enum solve_mode mode)
{
	switch (mode) {
	case SOLVE_STANDALONE:
		return "standalone";
	case SOLVE_RESPONDER:
		return "responder";
	case SOLVE_MANUAL:
		return "manual";
	case SOLVE_HOOKS:
		return "hooks";
	case SOLVE_WEBROOT:
		return "webroot";
	default:
		return "none";
	}
}

/* Checked, serialised and committed under the certificate's lock. */
static int
commit_cert(struct import_ctx *ctx, const char *what,
    struct issue_params *params, const struct certo_chain *chain,
    const struct certo_key *key)
{
	struct store_lock lock = STORE_LOCK_INIT;
	char *config = NULL, *live = NULL, expires[32], shown[256];
	bool exists, keep;
	int rc;

	if ((rc = certificate_check(chain, key, params->names,
	    params->nnames)) != 0 || (rc = params_check(params)) != 0 ||
	    (rc = config_serialize(params, &config)) != 0 ||
	    (rc = store_lock_cert(ctx->state, params->names[0], params->names,
	    params->nnames, &lock)) != 0 ||
	    (rc = existing_set(ctx, params, chain, &exists, &keep)) != 0)
		goto out;
	/* what names the other client's files: made printable. */
	log_str(shown, sizeof(shown), what);
	if (exists && keep) {
		ctx->already++;
		log_info("import: %s: certo has it, or a newer one (live/%s): "
		    "left as it is", shown, params->names[0]);
		goto out;
	}
	/* An older set of certo's goes to the archive (store_commit). */
	if ((rc = store_commit(ctx->state, params->names[0], key, chain, config,
	    &live)) != 0)
		goto out;
	ctx->imported++;
	strftime(expires, sizeof(expires), "%Y-%m-%d", gmtime(&chain->not_after));
	log_event("cert_imported", NULL, "import: %s: %s (%zu name%s, expires "
	    "%s, renew: %s)", shown, live, params->nnames, params->nnames == 1 ?
	    "" : "s", expires, mode_word(params->mode));
out:
	store_unlock(&lock);
	free(config);
	free(live);
	return rc;
}

/* One certificate into the store (import_priv.h). */
int
import_cert(struct import_ctx *ctx, const char *what,
    struct issue_params *params, const char *first, const char *chain_pem,
    size_t chain_len, const char *key_pem, size_t key_len)
{
	struct certo_chain chain;
	struct certo_key *key = NULL;
	int rc;

	memset(&chain, 0, sizeof(chain));
	if ((rc = certificate_parse(chain_pem, chain_len, &chain)) != 0 ||
	    (rc = key_parse(key_pem, key_len, what, &key)) != 0 ||
	    (ctx->override && (rc = apply_override(ctx, params)) != 0) ||
	    (rc = names_from_chain(params, &chain, first)) != 0)
		goto out;
	/* The trust of this import's --ca-bundle goes with the CA. */
	if (ctx->cli->ca_bundle != NULL && params->ca_bundle == NULL) {
		char *real = realpath(ctx->cli->ca_bundle, NULL);

		rc = params_set_str(&params->ca_bundle, real ? real :
		    ctx->cli->ca_bundle);
		free(real);
		if (rc != 0)
			goto out;
	}
	params->allow_http = params->allow_http || ctx->cli->allow_http;
	rc = commit_cert(ctx, what, params, &chain, key);
out:
	if (rc != 0)
		import_failed(ctx, what, rc);
	key_free(key);
	certificate_free(&chain);
	return rc;
}

/* The counts of the run, for the JSON event. */
static struct json_object *
import_counts(const struct import_ctx *ctx)
{
	struct json_object *f = json_object_new_object();

	json_object_object_add(f, "imported", json_object_new_int(
	    (int)ctx->imported));
	json_object_object_add(f, "already", json_object_new_int(
	    (int)ctx->already));
	json_object_object_add(f, "failed", json_object_new_int(
	    (int)ctx->failed));
	json_object_object_add(f, "accounts", json_object_new_int(
	    (int)ctx->accounts));
	json_object_object_add(f, "not_mapped", json_object_new_int(
	    (int)ctx->notes));
	return f;
}

/* The source directory: DIR, or certbot's default. */
static int
import_check_cli(const struct certo_cli *cli, const char **dir)
{
	if (cli->import_certbot == cli->import_lego)
		return certo_fail(CERTO_EUSAGE, "import needs --certbot [DIR] or "
		    "--lego DIR");
	*dir = cli->arg;
	if (*dir == NULL && cli->import_lego)
		return certo_fail(CERTO_EUSAGE, "import --lego needs DIR (lego's "
		    "--path, e.g. ~/.lego)");
	if (*dir == NULL)
		*dir = IMPORT_CERTBOT_DEFAULT;
	return 0;
}

/*
 * certo import: 0 when every certificate found was imported (or was
 * there already), CERTO_EUSAGE when one or more could not be (each said
 * on its own line).
 */
int
import_run(const struct certo_cli *cli)
{
	struct import_ctx ctx;
	const char *dir = NULL;
	char shown[512];
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cli = cli;
	ctx.override = cli->standalone || cli->responder || cli->manual ||
	    cli->dns_hook || cli->http_hook || cli->webroot;
	if ((rc = import_check_cli(cli, &dir)) != 0 ||
	    (rc = store_state_dir(cli->state_dir, &ctx.state)) != 0)
		goto out;
	if (!file_exists(dir)) {
		rc = certo_fail(CERTO_EUSAGE, "import: %s: no such directory",
		    log_str(shown, sizeof(shown), dir));
		goto out;
	}
	if ((rc = store_prepare(ctx.state)) != 0)
		goto out;
	rc = cli->import_certbot ? import_certbot(&ctx, dir) :
	    import_lego(&ctx, dir);
	if (rc != 0)
		goto out;
	log_event("import_done", import_counts(&ctx), "import: %u certificate%s "
	    "imported, %u already there, %u not imported; %u account%s "
	    "imported; %u setting%s not taken over", ctx.imported, ctx.imported == 1 ? "" : "s", ctx.already, ctx.failed,
	    ctx.accounts, ctx.accounts == 1 ? "" : "s", ctx.notes,
	    ctx.notes == 1 ? "" : "s");
	if (ctx.failed > 0)
		rc = certo_fail(CERTO_EUSAGE, "import: %u certificate%s not "
		    "imported (see above)", ctx.failed, ctx.failed == 1 ? "" : "s");
out:
	for (size_t i = 0; i < ctx.nseen; i++)
		free(ctx.seen[i]);
	free(ctx.state);
	return rc;
}
