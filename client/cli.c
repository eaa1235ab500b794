/*
 * Command-line parsing: a walk of the option table (each row's parse
 * function in cli_options.c), then the verb and its arguments, then
 * the checks that span several options.  --help, certo(1) and the bash
 * completion: cli_doc.c.
 */
#include "cli.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_table.h"
#include "directory.h"
#include "errors.h"
#include "kv.h"
#include "hook.h"
#include "log.h"
#include "opttab.h"

#define NOPTS CLI_NOPTIONS

/*
 * Free what cli_parse() and cli_add_name() allocated; cli is zeroed.
 */
void
cli_free(struct certo_cli *cli)
{
	for (size_t i = 0; i < cli->nnames; i++)
		free(cli->names[i]);
	free(cli->names);
	free(cli->emails);
	free(cli->dns_resolvers);
	free(cli->only);
	for (size_t i = 0; i < 3; i++)
		free(cli->owned_hooks[i]);
	memset(cli, 0, sizeof(*cli));
}

/*
 * Hooks are stored in certo.json and run later by renew from another
 * directory (cron, systemd): make their programs absolute now, and
 * refuse one that does not exist or cannot be run (hook.c).
 */
static int
resolve_hooks(struct certo_cli *cli)
{
	const char **hook[3] = { &cli->dns_hook, &cli->http_hook,
		&cli->deploy_hook };
	static const char *const name[3] = { "dns-hook", "http-hook",
		"deploy-hook" };
	int rc;

	for (size_t i = 0; i < 3; i++) {
		if (*hook[i] == NULL)
			continue;
		rc = i < 2 ? hook_resolve_program(name[i], *hook[i],
		    &cli->owned_hooks[i]) : hook_resolve_command(name[i],
		    *hook[i], &cli->owned_hooks[i]);
		if (rc != 0)
			return rc;
		*hook[i] = cli->owned_hooks[i];
	}
	return 0;
}

/* Row i of the option table, for opttab.c. */
static const struct opttab_row *
row_of(size_t i)
{
	return &cli_options[i].row;
}

/* Defaults before the walk. */
static void
parse_start(struct cli_parse *walk, struct certo_cli *cli)
{
	memset(walk, 0, sizeof(*walk));
	walk->cli = cli;
	walk->now = time(NULL);
	walk->mask = V_GLOBAL;
	memset(cli, 0, sizeof(*cli));
	cli->verbosity = 1;
	cli->http_port = 80;
	cli->tls_port = 443;
	cli->dns_timeout_s = -1;
	cli->hook_timeout_s = -1;
	cli->http_timeout_s = -1;
	cli->dns_interval_s = 2;
	cli->challenges[0] = CHALL_HTTP01;
	cli->nchallenges = 1;
	cli->key_type = KEY_EC256;
	cli->account_key_type = KEY_EC256;
	cli->jobs = 4;
	cli->reason = -1;
	cli->server = directory_url_for("letsencrypt");
}

/* The verb, then the verb's own positional arguments. */
static int
parse_words(struct cli_parse *walk, int argc, char **argv)
{
	struct certo_cli *cli = walk->cli;
	char shown[128];

	for (int a = optind; a < argc; a++) {
		if (walk->verb != NULL) {
			if (cli->arg != NULL || walk->verb->nargs == 0)
				return certo_fail(CERTO_EUSAGE, "unexpected argument "
				    "'%s'", log_str(shown, sizeof(shown), argv[a]));
			cli->arg = argv[a];
			continue;
		}
		walk->verb_word = argv[a];
		for (size_t v = 0; v < cli_nverbs && walk->verb == NULL; v++)
			if (strcmp(cli_verbs[v].name, argv[a]) == 0)
				walk->verb = &cli_verbs[v];
		if (walk->verb == NULL)
			return certo_fail(CERTO_EUSAGE, "unknown verb '%s' (see "
			    "certo --help)", log_str(shown, sizeof(shown), argv[a]));
		cli->verb = walk->verb->verb;
		walk->mask |= walk->verb->mask;
	}
	return 0;
}

/* Every option given applies to the verb; the verb has its argument. */
static int
check_verb_words(const struct cli_parse *walk, const unsigned *used)
{
	char args[128];

	for (size_t i = 0; i < NOPTS; i++)
		if (used[i] && !(cli_options[i].verbs & walk->mask))
			return certo_fail(CERTO_EUSAGE, "option --%s does not apply "
			    "to %s", cli_options[i].row.name, walk->verb_word ?
			    walk->verb_word : "certo without a verb");
	if (walk->verb == NULL)
		return certo_fail(CERTO_EUSAGE, "no verb given (see certo --help)");
	if (walk->verb->nargs == 1 && walk->cli->arg == NULL)
		return certo_fail(CERTO_EUSAGE, "%s needs %s", walk->verb->name,
		    cli_verb_args(walk->verb, "|", args, sizeof(args)));
	return 0;
}

/*
 * CERTO_<OPTION> (the long name in upper case, '-' as '_') for each
 * option of the verb that the command line did not give: the command
 * line wins.  A flag is set by 1, true or yes and left by 0, false, no or
 * an empty value.  Not here: help and version; state-dir, store and
 * store-key (read where they are used, also for the verbs that do not
 * take them); responder (CERTO_RESPONDER_* configure certo-responder,
 * and the image sets CERTO_RESPONDER_SOCKET for it: a client there would
 * otherwise refuse --standalone).
 */
static int
options_from_env(struct cli_parse *walk, const unsigned *used)
{
	static const char *const skip[] = { "help", "version", "state-dir",
		"store", "store-key", "responder", NULL };
	const struct cli_option *opt;
	char var[64], shown[128];
	const char *val;
	size_t k;
	int rc;

	for (size_t i = 0; i < NOPTS; i++) {
		opt = &cli_options[i];
		if (used[i] || opt->row.help == NULL ||
		    !(opt->verbs & walk->mask))
			continue;
		for (k = 0; skip[k] != NULL &&
		    strcmp(skip[k], opt->row.name) != 0; k++)
			;
		if (skip[k] != NULL)
			continue;
		snprintf(var, sizeof(var), "CERTO_%s", opt->row.name);
		for (k = 6; var[k] != '\0'; k++)
			var[k] = var[k] == '-' ? '_' :
			    (char)toupper((unsigned char)var[k]);
		if ((val = getenv(var)) == NULL)
			continue;
		if (opt->row.arg == NULL) {
			if (*val == '\0' || strcmp(val, "0") == 0 ||
			    strcasecmp(val, "false") == 0 ||
			    strcasecmp(val, "no") == 0)
				continue;
			if (strcmp(val, "1") != 0 &&
			    strcasecmp(val, "true") != 0 &&
			    strcasecmp(val, "yes") != 0)
				return certo_fail(CERTO_EUSAGE, "%s='%s': a flag "
				    "takes 1, true, yes, 0, false or no", var,
				    log_str(shown, sizeof(shown), val));
		} else if (*val == '\0')
			continue;
		if ((rc = opt->parse(walk, opt, val)) != 0)
			return rc;
	}
	return 0;
}

/* Options that go together or need another one. */
static int
check_pairs(const struct certo_cli *cli)
{
	char shown[128];

	if (strncmp(cli->server, "http://", 7) == 0 && !cli->allow_http)
		return certo_fail(CERTO_EUSAGE, "refusing plain http:// CA URL "
		    "'%s' without --allow-insecure-http", log_str(shown,
		    sizeof(shown), cli->server));
	if (cli->dry_run_server != NULL && !cli->dry_run)
		return certo_fail(CERTO_EUSAGE, "--dry-run-server goes with "
		    "--dry-run");
	if (cli->dry_run_server != NULL &&
	    strncmp(cli->dry_run_server, "http://", 7) == 0 && !cli->allow_http)
		return certo_fail(CERTO_EUSAGE, "refusing plain http:// "
		    "--dry-run-server without --allow-insecure-http");
	if ((cli->eab_kid == NULL) != (cli->eab_hmac_key == NULL))
		return certo_fail(CERTO_EUSAGE, "--eab-kid and --eab-hmac-key go "
		    "together");
	return 0;
}

/* $CERTO_STORE when --store is not given, checked as --store is. */
static int
store_from_env(struct certo_cli *cli)
{
	const char *env = getenv("CERTO_STORE");
	struct kv_url url;
	int rc;

	if (cli->store != NULL || env == NULL || *env == '\0')
		return 0;
	if ((rc = kv_url_parse(env, &url)) != 0)
		return rc;
	kv_url_wipe(&url);
	cli->store = env;
	return 0;
}

/* What each verb needs beyond its options. */
static int
check_verb(const struct cli_parse *walk)
{
	struct certo_cli *cli = walk->cli;
	const char *const *w = walk->verb->words;
	char shown[128], list[128];

	if (cli->verb == VERB_ISSUE || cli->verb == VERB_AUTHORIZE)
		return cli_check_challenges(cli);
	if (cli->verb == VERB_REVOKE && cli->cert_file == NULL)
		return certo_fail(CERTO_EUSAGE, "revoke needs --cert FILE");
	if (w == NULL)
		return 0;
	while (*w != NULL && strcmp(*w, cli->arg) != 0)
		w++;
	if (*w == NULL)
		return certo_fail(CERTO_EUSAGE, "unknown %s command '%s' (%s)",
		    walk->verb->name, log_str(shown, sizeof(shown), cli->arg),
		    cli_verb_args(walk->verb, ", ", list, sizeof(list)));
	if (cli->verb == VERB_ACCOUNT && strcmp(*w, "import") == 0 &&
	    cli->manuale_file == NULL)
		return certo_fail(CERTO_EUSAGE, "account import needs "
		    "--manuale-account FILE");
	return 0;
}

/*
 * Parse argv into cli: a walk of the option table, then the verb and
 * the checks across options (cli.h).
 */
int
cli_parse(int argc, char **argv, struct certo_cli *cli)
{
	struct option lo[NOPTS + 1];
	char shortopts[2 * NOPTS + 2];
	unsigned used[NOPTS];
	struct cli_parse walk;
	size_t i;
	int rc;

	parse_start(&walk, cli);
	memset(used, 0, sizeof(used));
	opttab_getopt_init(row_of, NOPTS, lo, shortopts);
	while ((rc = opttab_next(argc, argv, shortopts, lo, row_of, NOPTS,
	    "certo", &i)) > 0) {
		used[i]++;
		if ((rc = cli_options[i].parse(&walk, &cli_options[i], optarg)) != 0)
			return rc;
	}
	if (rc < 0 || (rc = parse_words(&walk, argc, argv)) != 0)
		return rc;
	if (cli->help || cli->version)
		return 0;
	if ((rc = options_from_env(&walk, used)) != 0)
		return rc;
	if (walk.deprecated != NULL && cli->verbosity > 0)
		log_warn("--%s is deprecated: use --%s%s%s",
		    walk.deprecated->row.name, walk.replacement->row.name,
		    walk.replacement->row.arg ? " " : "",
		    walk.replacement->row.arg ? walk.replacement->row.arg : "");
	if ((rc = check_verb_words(&walk, used)) != 0 ||
	    (rc = check_pairs(cli)) != 0 || (rc = store_from_env(cli)) != 0 ||
	    (rc = resolve_hooks(cli)) != 0)
		return rc;
	return check_verb(&walk);
}

/*
 * The challenge options of issue/authorize, alone and together (cli.h).
 */
int
cli_check_challenges(struct certo_cli *cli)
{
	int modes = (cli->standalone ? 1 : 0) + (cli->responder ? 1 : 0) +
	    (cli->manual || cli->dns_hook || cli->http_hook ? 1 : 0) +
	    (cli->webroot ? 1 : 0);
	bool dns = false;

	if (cli->nnames == 0 && (cli->csr_file == NULL || cli->names_from_csr))
		return certo_fail(CERTO_EUSAGE, "%s needs at least one name "
		    "(-d NAME)", cli->verb == VERB_AUTHORIZE ? "authorize" :
		    "issue");
	if (cli->csr_file != NULL && cli->nnames > 0 && !cli->names_from_csr)
		return certo_fail(CERTO_EUSAGE, "with --csr the names come from "
		    "the CSR; drop -d");
	/* issue without one may finish an order authorize left (issue_verb.c). */
	if (modes == 0 && cli->verb != VERB_ISSUE && cli->store == NULL)
		return certo_fail(CERTO_EUSAGE, "a way to answer challenges is "
		    "needed: --standalone, --responder SOCKET, --webroot DIR, "
		    "--manual, --dns-hook or --http-hook");
	if (modes > 1)
		return certo_fail(CERTO_EUSAGE, "--standalone, --responder, "
		    "--webroot and --manual/--dns-hook/--http-hook exclude each "
		    "other");
	if (cli->manual && (cli->dns_hook || cli->http_hook))
		return certo_fail(CERTO_EUSAGE, "--manual and hooks exclude each "
		    "other");
	for (size_t i = 0; i < cli->nchallenges; i++)
		if (cli->challenges[i] == CHALL_DNS01)
			dns = true;
	for (size_t i = 0; i < cli->nnames; i++) {
		if (cli->names[i][0] == '*' && !dns)
			return certo_fail(CERTO_EUSAGE, "wildcard name '%s' needs "
			    "--challenge dns-01", cli->names[i]);
		if (cli_is_ip(cli->names[i]) && dns && cli->nchallenges == 1)
			return certo_fail(CERTO_EUSAGE, "IP address %s cannot be "
			    "validated with dns-01 (RFC 8738)", cli->names[i]);
	}
	if (dns && (cli->standalone || cli->responder || cli->webroot ||
	    (modes == 0 && cli->store)))
		return certo_fail(CERTO_EUSAGE, "dns-01 needs --manual or "
		    "--dns-hook PROGRAM");
	for (size_t i = 0; i < cli->nchallenges && cli->webroot; i++)
		if (cli->challenges[i] != CHALL_HTTP01)
			return certo_fail(CERTO_EUSAGE, "--webroot answers http-01 "
			    "only, not %s", challenge_type_name(cli->challenges[i]));
	if (cli->not_before && cli->not_after &&
	    cli->not_after <= cli->not_before)
		return certo_fail(CERTO_EUSAGE, "--not-after must be later than "
		    "--not-before");
	return 0;
}
