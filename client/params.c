/* Typed issue parameters, from the command line; names and checks. */
#include "params.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csr.h"
#include "domain.h"
#include "errors.h"
#include "log.h"

#define PARAMS_MAX_NAMES 100

void
params_init(struct issue_params *p)
{
	memset(p, 0, sizeof(*p));
	p->key_type = KEY_EC256;
	p->account_key_type = KEY_EC256;
	p->challenges[0] = CHALL_HTTP01;
	p->nchallenges = 1;
	p->http_port = 80;
	p->tls_port = 443;
	p->dns_timeout_s = -1;
	p->dns_interval_s = 2;
	p->http_timeout_s = -1;
	p->hook_timeout_s = -1;
}

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
params_free(struct issue_params *p)
{
	if (p == NULL)
		return;
	free_list(p->names, p->nnames);
	free_list(p->dns_resolvers, p->ndns_resolvers);
	free_list(p->emails, p->nemails);
	free(p->key_file);
	free(p->csr_file);
	free(p->profile);
	free(p->preferred_chain);
	free(p->server);
	free(p->ca_bundle);
	free(p->responder);
	free(p->dns_hook);
	free(p->http_hook);
	free(p->http_addr);
	free(p->tls_addr);
	free(p->deploy_hook);
	free(p->state_dir);
	free(p->eab_kid);
	free(p->eab_hmac_key);
	memset(p, 0, sizeof(*p));
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
	    "--standalone, --responder SOCKET, --manual, --dns-hook or "
	    "--http-hook");
}

/* The one way given, or SOLVE_NONE when none or more than one. */
static enum solve_mode
mode_of(const struct issue_params *p, bool standalone, bool manual)
{
	bool hooks = p->dns_hook != NULL || p->http_hook != NULL;
	int modes = (standalone ? 1 : 0) + (p->responder ? 1 : 0) +
	    (manual || hooks ? 1 : 0);

	if (modes != 1 || (manual && hooks))
		return SOLVE_NONE;
	return standalone ? SOLVE_STANDALONE : p->responder ? SOLVE_RESPONDER :
	    manual ? SOLVE_MANUAL : SOLVE_HOOKS;
}

/* The strings of the command line, copied. */
static int
copy_cli_strings(const struct certo_cli *cli, struct issue_params *p)
{
	int rc;

	if ((rc = copy_list(&p->names, &p->nnames, cli->names,
	    cli->nnames)) != 0 ||
	    (rc = copy_list(&p->dns_resolvers, &p->ndns_resolvers,
	    cli->dns_resolvers, cli->ndns_resolvers)) != 0 ||
	    (rc = copy_list(&p->emails, &p->nemails, cli->emails,
	    cli->nemails)) != 0)
		return rc;
	if ((rc = params_set_str(&p->key_file, cli->key_file)) != 0 ||
	    (rc = params_set_str(&p->csr_file, cli->csr_file)) != 0 ||
	    (rc = params_set_str(&p->profile, cli->profile)) != 0 ||
	    (rc = params_set_str(&p->preferred_chain,
	    cli->preferred_chain)) != 0 ||
	    (rc = params_set_str(&p->server, cli->server)) != 0 ||
	    (rc = params_set_str(&p->ca_bundle, cli->ca_bundle)) != 0 ||
	    (rc = params_set_str(&p->responder, cli->responder)) != 0 ||
	    (rc = params_set_str(&p->dns_hook, cli->dns_hook)) != 0 ||
	    (rc = params_set_str(&p->http_hook, cli->http_hook)) != 0 ||
	    (rc = params_set_str(&p->http_addr, cli->http_addr)) != 0 ||
	    (rc = params_set_str(&p->tls_addr, cli->tls_addr)) != 0 ||
	    (rc = params_set_str(&p->deploy_hook, cli->deploy_hook)) != 0 ||
	    (rc = params_set_str(&p->state_dir, cli->state_dir)) != 0 ||
	    (rc = params_set_str(&p->eab_kid, cli->eab_kid)) != 0)
		return rc;
	return params_set_str(&p->eab_hmac_key, cli->eab_hmac_key);
}

int
params_from_cli(const struct certo_cli *cli, struct issue_params *p)
{
	int rc;

	params_init(p);
	if ((rc = copy_cli_strings(cli, p)) != 0) {
		params_free(p);
		return rc;
	}
	p->names_from_csr = cli->names_from_csr;
	p->key_type = cli->key_type;
	p->must_staple = cli->must_staple;
	p->not_before = cli->not_before;
	p->not_after = cli->not_after;
	p->allow_http = cli->allow_http;
	memcpy(p->challenges, cli->challenges, sizeof(p->challenges));
	p->nchallenges = cli->nchallenges;
	p->http_port = cli->http_port;
	p->tls_port = cli->tls_port;
	p->dns_timeout_s = cli->dns_timeout_s;
	p->dns_interval_s = cli->dns_interval_s;
	p->dns_wait_extra_s = cli->dns_wait_extra_s;
	p->http_timeout_s = cli->http_timeout_s;
	p->hook_timeout_s = cli->hook_timeout_s;
	p->force = cli->force;
	p->ca_timeout_s = cli->ca_timeout_s;
	p->agree_tos = cli->agree_tos;
	p->account_key_type = cli->account_key_type;
	/* cli_parse() let exactly one way through (issue, authorize). */
	p->mode = mode_of(p, cli->standalone, cli->manual);
	return 0;
}

int
params_normalize_name(const char *arg, char **out)
{
	unsigned char ip[16];
	char text[INET6_ADDRSTRLEN];

	*out = NULL;
	switch (ident_classify(arg, true, ip, NULL)) {
	case IDENT_IPV4:
		/* IP identifiers in the canonical text form (RFC 8738). */
		inet_ntop(AF_INET, ip, text, sizeof(text));
		break;
	case IDENT_IPV6:
		inet_ntop(AF_INET6, ip, text, sizeof(text));
		break;
	case IDENT_DNS:
	case IDENT_INVALID:
	default:
		/* IDN, case, the reason a name is refused: domain.c's. */
		return domain_normalize(arg, true, out);
	}
	if ((*out = strdup(text)) == NULL)
		return CERTO_ENOMEM;
	return 0;
}

int
params_add_name(struct issue_params *p, const char *arg)
{
	char **grown, *name;
	int rc;

	if ((rc = params_normalize_name(arg, &name)) != 0)
		return rc;
	for (size_t i = 0; i < p->nnames; i++)
		if (strcmp(p->names[i], name) == 0) {
			rc = certo_fail(CERTO_EUSAGE, "duplicate name '%s'", name);
			free(name);
			return rc;
		}
	if (p->nnames >= PARAMS_MAX_NAMES) {
		free(name);
		return certo_fail(CERTO_EUSAGE, "at most 100 names per "
		    "certificate");
	}
	if ((grown = realloc(p->names, (p->nnames + 1) * sizeof(*grown))) ==
	    NULL) {
		free(name);
		return CERTO_ENOMEM;
	}
	p->names = grown;
	p->names[p->nnames++] = name;
	return 0;
}

int
params_set_mode(struct issue_params *p, bool standalone, bool manual)
{
	bool hooks = p->dns_hook != NULL || p->http_hook != NULL;

	if ((p->mode = mode_of(p, standalone, manual)) != SOLVE_NONE)
		return 0;
	if (!standalone && p->responder == NULL && !manual && !hooks)
		return no_mode();
	if (manual && hooks && !standalone && p->responder == NULL)
		return certo_fail(CERTO_EUSAGE, "--manual and hooks exclude each "
		    "other");
	return certo_fail(CERTO_EUSAGE, "--standalone, --responder and "
	    "--manual/--dns-hook/--http-hook exclude each other");
}

/* Can the challenge types prove every name (wildcards, IP addresses)? */
static int
check_names(const struct issue_params *p)
{
	enum ident_kind kind;
	bool dns = false;

	for (size_t i = 0; i < p->nchallenges; i++)
		if (p->challenges[i] == CHALL_DNS01)
			dns = true;
	for (size_t i = 0; i < p->nnames; i++) {
		kind = ident_classify(p->names[i], false, NULL, NULL);
		if (p->names[i][0] == '*' && !dns)
			return certo_fail(CERTO_EUSAGE, "wildcard name '%s' needs "
			    "--challenge dns-01", p->names[i]);
		if ((kind == IDENT_IPV4 || kind == IDENT_IPV6) && dns &&
		    p->nchallenges == 1)
			return certo_fail(CERTO_EUSAGE, "IP address %s cannot be "
			    "validated with dns-01 (RFC 8738)", p->names[i]);
	}
	if (dns && (p->mode == SOLVE_STANDALONE || p->mode == SOLVE_RESPONDER))
		return certo_fail(CERTO_EUSAGE, "dns-01 needs --manual or "
		    "--dns-hook PROGRAM");
	return 0;
}

int
params_check(const struct issue_params *p)
{
	int rc;

	if (p->nnames == 0 && (p->csr_file == NULL || p->names_from_csr))
		return certo_fail(CERTO_EUSAGE, "issue needs at least one name "
		    "(-d NAME)");
	if (p->csr_file != NULL && p->nnames > 0 && !p->names_from_csr)
		return certo_fail(CERTO_EUSAGE, "with --csr the names come from "
		    "the CSR; drop -d");
	if (p->mode == SOLVE_NONE)
		return no_mode();
	if ((rc = check_names(p)) != 0)
		return rc;
	if (p->not_before && p->not_after && p->not_after <= p->not_before)
		return certo_fail(CERTO_EUSAGE, "--not-after must be later than "
		    "--not-before");
	return 0;
}

int
params_names_from_csr(struct issue_params *p)
{
	char **names = NULL, *der = NULL;
	size_t n = 0;
	int rc;

	if ((rc = csr_load(p->csr_file, &names, &n, &der)) != 0)
		return rc;
	p->names_from_csr = true;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = params_add_name(p, names[i]);
	free_list(names, n);
	if (rc == 0)
		rc = params_check(p);
	/* --key must be the CSR's key: checked before anything is ordered. */
	if (rc == 0 && p->key_file != NULL) {
		struct certo_key *key = NULL;
		if ((rc = key_load(p->key_file, &key)) == 0)
			rc = csr_key_check(der, key);
		key_free(key);
	}
	free(der);
	return rc;
}

void
params_session_opts(const struct issue_params *p, struct session_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->state_dir = p->state_dir;
	opts->server = p->server;
	opts->ca_bundle = p->ca_bundle;
	opts->allow_http = p->allow_http;
	opts->force = p->force;
	opts->ca_timeout_s = p->ca_timeout_s;
}

void
params_account_opts(const struct issue_params *p, struct account_opts *acct)
{
	memset(acct, 0, sizeof(*acct));
	acct->emails = p->emails;
	acct->nemails = p->nemails;
	acct->agree_tos = p->agree_tos;
	acct->key_type = p->account_key_type;
	acct->eab_kid = p->eab_kid;
	acct->eab_hmac_key = p->eab_hmac_key;
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
