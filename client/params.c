/* Typed issue parameters, from the command line; names and checks. */
#include "params.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "csr.h"
#include "domain.h"
#include "errors.h"
#include "log.h"

#define PARAMS_MAX_NAMES 100

void
params_init(struct issue_params *params)
{
	memset(params, 0, sizeof(*params));
	params->key_type = KEY_EC256;
	params->account_key_type = KEY_EC256;
	params->challenges[0] = CHALL_HTTP01;
	params->nchallenges = 1;
	params->http_port = 80;
	params->tls_port = 443;
	params->dns_timeout_s = -1;
	params->dns_interval_s = 2;
	params->http_timeout_s = -1;
	params->hook_timeout_s = -1;
}

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
params_free(struct issue_params *params)
{
	if (params == NULL)
		return;
	free_list(params->names, params->nnames);
	free_list(params->dns_resolvers, params->ndns_resolvers);
	free_list(params->emails, params->nemails);
	free(params->key_file);
	free(params->csr_file);
	free(params->profile);
	free(params->preferred_chain);
	free(params->server);
	free(params->ca_bundle);
	free(params->responder);
	free(params->dns_hook);
	free(params->http_hook);
	free(params->webroot);
	free(params->store);
	free(params->http_addr);
	free(params->tls_addr);
	free(params->deploy_hook);
	free(params->state_dir);
	free(params->eab_kid);
	free(params->eab_hmac_key);
	memset(params, 0, sizeof(*params));
}

int
params_set_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (src != NULL && (copy = strdup(src)) == NULL)
		return CERTO_ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

/* *dst (n strings) gets copies of src. */
static int
copy_list(char ***dst, size_t *n, char *const *src, size_t count)
{
	*dst = NULL;
	*n = 0;
	if (count == 0)
		return 0;
	if ((*dst = calloc(count, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	for (; *n < count; (*n)++)
		if (((*dst)[*n] = strdup(src[*n])) == NULL)
			return CERTO_ENOMEM;
	return 0;
}

static int
no_mode(void)
{
	return certo_fail(CERTO_EUSAGE, "a way to answer challenges is needed: "
	    "--standalone, --responder SOCKET, --webroot DIR, --manual, "
	    "--dns-hook, --http-hook or --store URL");
}

/* The one way given, or SOLVE_NONE when none or more than one. */
static enum solve_mode
mode_of(const struct issue_params *params, bool standalone, bool manual)
{
	bool hooks = params->dns_hook != NULL || params->http_hook != NULL;
	int modes = (standalone ? 1 : 0) + (params->responder ? 1 : 0) +
	    (manual || hooks ? 1 : 0) + (params->webroot ? 1 : 0);

	if (modes == 0 && params->store != NULL)
		return SOLVE_STORE;
	if (modes != 1 || (manual && hooks))
		return SOLVE_NONE;
	if (params->webroot != NULL)
		return SOLVE_WEBROOT;
	return standalone ? SOLVE_STANDALONE : params->responder ? SOLVE_RESPONDER :
	    manual ? SOLVE_MANUAL : SOLVE_HOOKS;
}

/* The strings of the command line, copied. */
static int
copy_cli_strings(const struct certo_cli *cli, struct issue_params *params)
{
	int rc;

	if ((rc = copy_list(&params->names, &params->nnames, cli->names,
	    cli->nnames)) != 0 ||
	    (rc = copy_list(&params->dns_resolvers, &params->ndns_resolvers,
	    cli->dns_resolvers, cli->ndns_resolvers)) != 0 ||
	    (rc = copy_list(&params->emails, &params->nemails, cli->emails,
	    cli->nemails)) != 0)
		return rc;
	if ((rc = params_set_str(&params->key_file, cli->key_file)) != 0 ||
	    (rc = params_set_str(&params->csr_file, cli->csr_file)) != 0 ||
	    (rc = params_set_str(&params->profile, cli->profile)) != 0 ||
	    (rc = params_set_str(&params->preferred_chain,
	    cli->preferred_chain)) != 0 ||
	    (rc = params_set_str(&params->server, cli->server)) != 0 ||
	    (rc = params_set_str(&params->ca_bundle, cli->ca_bundle)) != 0 ||
	    (rc = params_set_str(&params->responder, cli->responder)) != 0 ||
	    (rc = params_set_str(&params->dns_hook, cli->dns_hook)) != 0 ||
	    (rc = params_set_str(&params->http_hook, cli->http_hook)) != 0 ||
	    (rc = params_set_str(&params->http_addr, cli->http_addr)) != 0 ||
	    (rc = params_set_str(&params->tls_addr, cli->tls_addr)) != 0 ||
	    (rc = params_set_str(&params->deploy_hook, cli->deploy_hook)) != 0 ||
	    (rc = params_set_str(&params->state_dir, cli->state_dir)) != 0 ||
	    (rc = params_set_str(&params->store, cli->store)) != 0 ||
	    (rc = params_set_str(&params->eab_kid, cli->eab_kid)) != 0)
		return rc;
	return params_set_str(&params->eab_hmac_key, cli->eab_hmac_key);
}

/*
 * --webroot DIR as renew will find it from cron or systemd: absolute,
 * an existing directory (symbolic links in DIR's own path resolved).
 */
static int
webroot_absolute(const char *dir, char **out)
{
	struct stat st;
	char shown[300];

	log_str(shown, sizeof(shown), dir);
	if ((*out = realpath(dir, NULL)) == NULL)
		return errno == ENOMEM ? CERTO_ENOMEM : certo_fail(CERTO_EUSAGE,
		    "--webroot %s: %s", shown, strerror(errno));
	if (stat(*out, &st) != 0 || !S_ISDIR(st.st_mode)) {
		free(*out);
		*out = NULL;
		return certo_fail(CERTO_EUSAGE, "--webroot %s: not a directory",
		    shown);
	}
	return 0;
}

int
params_from_cli(const struct certo_cli *cli, struct issue_params *params)
{
	int rc;

	params_init(params);
	if ((rc = copy_cli_strings(cli, params)) != 0) {
		params_free(params);
		return rc;
	}
	params->names_from_csr = cli->names_from_csr;
	params->key_type = cli->key_type;
	params->must_staple = cli->must_staple;
	params->not_before = cli->not_before;
	params->not_after = cli->not_after;
	params->allow_http = cli->allow_http;
	memcpy(params->challenges, cli->challenges, sizeof(params->challenges));
	params->nchallenges = cli->nchallenges;
	params->http_port = cli->http_port;
	params->tls_port = cli->tls_port;
	params->dns_timeout_s = cli->dns_timeout_s;
	params->dns_interval_s = cli->dns_interval_s;
	params->dns_wait_extra_s = cli->dns_wait_extra_s;
	params->http_timeout_s = cli->http_timeout_s;
	params->hook_timeout_s = cli->hook_timeout_s;
	params->force = cli->force;
	params->ca_timeout_s = cli->ca_timeout_s;
	params->agree_tos = cli->agree_tos;
	params->account_key_type = cli->account_key_type;
	params->pem_bundle = cli->pem_bundle;
	if (cli->webroot != NULL && (rc = webroot_absolute(cli->webroot,
	    &params->webroot)) != 0) {
		params_free(params);
		return rc;
	}
	/* cli_parse() let exactly one way through (issue, authorize). */
	params->mode = mode_of(params, cli->standalone, cli->manual);
	return 0;
}

int
params_normalize_name(const char *arg, char **out)
{
	return ident_normalize(arg, out);
}

int
params_add_name(struct issue_params *params, const char *arg)
{
	char **grown, *name;
	int rc;

	if ((rc = params_normalize_name(arg, &name)) != 0)
		return rc;
	for (size_t i = 0; i < params->nnames; i++)
		if (strcmp(params->names[i], name) == 0) {
			rc = certo_fail(CERTO_EUSAGE, "duplicate name '%s'", name);
			free(name);
			return rc;
		}
	if (params->nnames >= PARAMS_MAX_NAMES) {
		free(name);
		return certo_fail(CERTO_EUSAGE, "at most 100 names per "
		    "certificate");
	}
	if ((grown = realloc(params->names, (params->nnames + 1) * sizeof(*grown))) ==
	    NULL) {
		free(name);
		return CERTO_ENOMEM;
	}
	params->names = grown;
	params->names[params->nnames++] = name;
	return 0;
}

int
params_set_mode(struct issue_params *params, bool standalone, bool manual)
{
	bool hooks = params->dns_hook != NULL || params->http_hook != NULL;

	if ((params->mode = mode_of(params, standalone, manual)) != SOLVE_NONE)
		return 0;
	if (!standalone && params->responder == NULL && !manual && !hooks &&
	    params->webroot == NULL)
		return no_mode();
	if (manual && hooks && !standalone && params->responder == NULL &&
	    params->webroot == NULL)
		return certo_fail(CERTO_EUSAGE, "--manual and hooks exclude each "
		    "other");
	return certo_fail(CERTO_EUSAGE, "--standalone, --responder, --webroot "
	    "and --manual/--dns-hook/--http-hook exclude each other");
}

/* Can the challenge types prove every name (wildcards, IP addresses)? */
static int
check_names(const struct issue_params *params)
{
	enum ident_kind kind;
	bool dns = false;

	for (size_t i = 0; i < params->nchallenges; i++)
		if (params->challenges[i] == CHALL_DNS01)
			dns = true;
	for (size_t i = 0; i < params->nnames; i++) {
		kind = ident_classify(params->names[i], false, NULL, NULL);
		if (params->names[i][0] == '*' && !dns)
			return certo_fail(CERTO_EUSAGE, "wildcard name '%s' needs "
			    "--challenge dns-01", params->names[i]);
		if ((kind == IDENT_IPV4 || kind == IDENT_IPV6) && dns &&
		    params->nchallenges == 1)
			return certo_fail(CERTO_EUSAGE, "IP address %s cannot be "
			    "validated with dns-01 (RFC 8738)", params->names[i]);
	}
	if (dns && (params->mode == SOLVE_STANDALONE ||
	    params->mode == SOLVE_RESPONDER || params->mode == SOLVE_WEBROOT ||
	    params->mode == SOLVE_STORE))
		return certo_fail(CERTO_EUSAGE, "dns-01 needs --manual or "
		    "--dns-hook PROGRAM");
	for (size_t i = 0; i < params->nchallenges; i++)
		if (params->mode == SOLVE_WEBROOT &&
		    params->challenges[i] != CHALL_HTTP01)
			return certo_fail(CERTO_EUSAGE, "--webroot answers http-01 "
			    "only, not %s",
			    challenge_type_name(params->challenges[i]));
	return 0;
}

int
params_check(const struct issue_params *params)
{
	int rc;

	if (params->nnames == 0 && (params->csr_file == NULL ||
	    params->names_from_csr))
		return certo_fail(CERTO_EUSAGE, "issue needs at least one name "
		    "(-d NAME)");
	if (params->csr_file != NULL && params->nnames > 0 && !params->names_from_csr)
		return certo_fail(CERTO_EUSAGE, "with --csr the names come from "
		    "the CSR; drop -d");
	if (params->mode == SOLVE_NONE)
		return no_mode();
	if (params->pem_bundle && params->csr_file != NULL &&
	    params->key_file == NULL)
		return certo_fail(CERTO_EUSAGE, "--pem-bundle needs the key: "
		    "with --csr, give --key too");
	if ((rc = check_names(params)) != 0)
		return rc;
	if (params->not_before && params->not_after &&
	    params->not_after <= params->not_before)
		return certo_fail(CERTO_EUSAGE, "--not-after must be later than "
		    "--not-before");
	return 0;
}

int
params_names_from_csr(struct issue_params *params)
{
	char **names = NULL, *der = NULL;
	size_t n = 0;
	int rc;

	if ((rc = csr_load(params->csr_file, &names, &n, &der)) != 0)
		return rc;
	params->names_from_csr = true;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = params_add_name(params, names[i]);
	free_list(names, n);
	if (rc == 0)
		rc = params_check(params);
	/* --key must be the CSR's key: checked before anything is ordered. */
	if (rc == 0 && params->key_file != NULL) {
		struct certo_key *key = NULL;
		if ((rc = key_load(params->key_file, &key)) == 0)
			rc = csr_key_check(der, key);
		key_free(key);
	}
	free(der);
	return rc;
}

void
params_session_opts(const struct issue_params *params,
    struct session_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->state_dir = params->state_dir;
	opts->server = params->server;
	opts->ca_bundle = params->ca_bundle;
	opts->allow_http = params->allow_http;
	opts->force = params->force;
	opts->ca_timeout_s = params->ca_timeout_s;
}

void
params_account_opts(const struct issue_params *params,
    struct account_opts *acct)
{
	memset(acct, 0, sizeof(*acct));
	acct->emails = params->emails;
	acct->nemails = params->nemails;
	acct->agree_tos = params->agree_tos;
	acct->key_type = params->account_key_type;
	acct->eab_kid = params->eab_kid;
	acct->eab_hmac_key = params->eab_hmac_key;
}

int
params_open_session(const struct certo_cli *cli, struct session *sess)
{
	struct session_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.state_dir = cli->state_dir;
	opts.server = cli->server;
	opts.ca_bundle = cli->ca_bundle;
	opts.allow_http = cli->allow_http;
	opts.force = cli->force;
	opts.ca_timeout_s = cli->ca_timeout_s;
	return session_open(&opts, sess);
}

int
params_connect_session(struct session *sess, const struct certo_cli *cli,
    enum session_account account)
{
	struct session_needs needs = { 0 };
	struct account_opts acct;

	memset(&acct, 0, sizeof(acct));
	acct.emails = cli->emails;
	acct.nemails = cli->nemails;
	acct.agree_tos = cli->agree_tos;
	acct.key_type = cli->account_key_type;
	acct.eab_kid = cli->eab_kid;
	acct.eab_hmac_key = cli->eab_hmac_key;
	needs.account = account;
	needs.account_opts = &acct;
	return session_connect(sess, &needs);
}
