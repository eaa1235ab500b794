/* Command-line parsing from the option table. */
#include "cli.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "domain.h"
#include "errors.h"
#include "hook.h"
#include "log.h"
#include "opttab.h"

struct opt_info {
	struct opttab_row row;
	unsigned verbs;
};

static const struct opt_info opts[] = {
#define XX(id, name, sh, arg, verbs, help) \
	{ { name, sh, arg, help, CLI_OPT_##id }, verbs },
	CERTO_OPTIONS(XX)
#undef XX
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const struct {
	const char *name;
	enum cli_verb verb;
	unsigned mask;
	const char *args;     /* positional arguments, for help */
	int nargs;            /* how many positionals it takes (-1: 0 or 1) */
	const char *summary;
} verbs[] = {
	{ "issue", VERB_ISSUE, V_ISSUE, "", 0,
	  "get a certificate for one or more names" },
	{ "renew", VERB_RENEW, V_RENEW, "", 0,
	  "renew every stored certificate that is due (cron, systemd timer)" },
	{ "authorize", VERB_AUTHORIZE, V_AUTHORIZE, "", 0,
	  "prove control of names now; a later issue reuses the "
	  "authorizations" },
	{ "revoke", VERB_REVOKE, V_REVOKE, "", 0, "revoke a certificate" },
	{ "account", VERB_ACCOUNT, V_ACCOUNT,
	  "register|info|update|deactivate|rollover|import", 1,
	  "manage the ACME account for --server" },
	{ "list", VERB_LIST, V_LIST, "", 0,
	  "list stored certificates with expiry and renewal window" },
	{ "delete", VERB_DELETE, V_DELETE, "NAME", 1,
	  "delete a stored certificate (its live and archive files)" },
	{ "deactivate-authz", VERB_DEACTIVATE, V_DEACTIVATE, "URL|NAME", 1,
	  "deactivate an authorization (by URL, or the saved one for NAME)" },
	{ "ratelimit", VERB_RATELIMIT, V_RATELIMIT, "", 0,
	  "show what the CA rate-limited and until when (--clear forgets it)" },
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

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

static void
help_opts(FILE *f, unsigned mask)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].verbs & mask)
			opttab_help(f, 32, &opts[i].row);
}

void
cli_help(FILE *f, enum cli_verb verb)
{
	size_t v;

	for (v = 0; v < NVERBS; v++)
		if (verbs[v].verb == verb)
			break;
	if (v < NVERBS) {
		fprintf(f, "usage: certo [global options] %s%s%s [options]\n\n%s."
		    "\n\nOptions:\n", verbs[v].name, *verbs[v].args ? " " : "",
		    verbs[v].args, verbs[v].summary);
		help_opts(f, verbs[v].mask);
		fprintf(f, "\nGlobal options:\n");
		help_opts(f, V_GLOBAL);
	} else {
		fprintf(f, "usage: certo [global options] VERB [options]\n\n"
		    "certo gets and keeps certificates from ACME (RFC 8555) CAs, "
		    "answering challenges itself.\n\nVerbs:\n");
		for (v = 0; v < NVERBS; v++)
			fprintf(f, "  %-17s %s\n", verbs[v].name, verbs[v].summary);
		fprintf(f, "\nGlobal options:\n");
		help_opts(f, V_GLOBAL);
		fprintf(f, "\nRun 'certo VERB --help' for a verb's options.\n");
	}
	fprintf(f, "\nExit codes: 0 done, 1 usage or configuration error, 2 the "
	    "CA refused or validation\nfailed (renew: nothing was due), 3 "
	    "network error or timeout, 4 local I/O error,\n5 challenge "
	    "self-check failed, 6 DNS record not visible in time, 7 a hook "
	    "failed,\n130 interrupted.\n");
}


static void
man_opts(FILE *f, unsigned mask)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].verbs & mask)
			opttab_man(f, &opts[i].row);
}

void
cli_man(FILE *f)
{
	fputs(".\\\" Generated from the option table in client/cli.h by "
	    "certo-mkman; do not edit.\n"
	    ".TH CERTO 1 \"\" \"certo " CERTO_VERSION "\" \"User Commands\"\n"
	    ".SH NAME\ncerto \\- ACME certificate client with built\\-in "
	    "challenge responders\n"
	    ".SH SYNOPSIS\n\\fBcerto\\fR [\\fIglobal options\\fR] "
	    "\\fIverb\\fR [\\fIarguments\\fR] [\\fIoptions\\fR]\n"
	    ".SH DESCRIPTION\n\\fBcerto\\fR gets certificates from ACME "
	    "(RFC 8555) certificate authorities and keeps them valid. It "
	    "answers HTTP\\-01 and TLS\\-ALPN\\-01 challenges from "
	    "built\\-in servers (or through a running "
	    "\\fBcerto\\-responder\\fR(8)), DNS\\-01 challenges through "
	    "hooks or by hand, checks that every answer is visible before the "
	    "CA is asked to validate, and stores keys and chains atomically "
	    "under the state directory.\n", f);
	fputs(".SH GLOBAL OPTIONS\n", f);
	man_opts(f, V_GLOBAL);
	for (size_t v = 0; v < NVERBS; v++) {
		fputs(".SH ", f);
		for (const char *p = verbs[v].name; *p; p++)
			fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, f);
		fputs("\n\\fBcerto\\fR \\fB", f);
		opttab_roff(f, verbs[v].name);
		fputs("\\fR", f);
		if (*verbs[v].args) {
			fputs(" \\fI", f);
			opttab_roff(f, verbs[v].args);
			fputs("\\fR", f);
		}
		fputs(" [\\fIoptions\\fR]\n.PP\n", f);
		opttab_roff(f, verbs[v].summary);
		fputs(".\n", f);
		man_opts(f, verbs[v].mask);
	}
	fputs(".SH FILES\n.TP\n\\fI<state>/accounts/<ca>/account.key\\fR\n"
	    "The account key (mode 0600); \\fIaccount.json\\fR holds its URL "
	    "and, for an account certo created, the terms agreement and "
	    "e\\-mail addresses it was made with (\\fBrenew \\-\\-dry\\-run\\fR "
	    "creates the staging account with them).\n"
	    ".TP\n\\fI<state>/live/<name>/\\fR\n"
	    "privkey.pem (0600), cert.pem, chain.pem, fullchain.pem, and "
	    "certo.json (how it was issued, for renew).\n"
	    ".TP\n\\fI<state>/archive/<name>/<time>/\\fR\n"
	    "The previous set of files, kept on every re\\-issue.\n"
	    ".TP\n\\fI<state>/orders/<hash>/\\fR\n"
	    "An order in flight (URL, key); an interrupted run with the same "
	    "names resumes it.\n"
	    ".SH ENVIRONMENT\n.TP\n\\fBCERTO_STATE_DIR\\fR\n"
	    "The state directory when \\fB\\-\\-state\\-dir\\fR is not "
	    "given.\n"
	    ".SH EXIT STATUS\n.TP\n0\nDone (renew: something was renewed)."
	    "\n.TP\n1\nUsage or configuration error (renew: some "
	    "certificates failed, or a \\-\\-name is not stored).\n.TP\n2\n"
	    "The CA refused or validation "
	    "failed (renew: nothing was due).\n.TP\n3\n"
	    "Network error or timeout.\n.TP\n4\nLocal I/O error (files, "
	    "ports).\n.TP\n5\nThe challenge self\\-check failed; the CA was "
	    "not asked.\n.TP\n6\nA DNS record did not become visible in "
	    "time; the CA was not asked.\n.TP\n7\nA hook program failed.\n"
	    ".TP\n130\nInterrupted.\n"
	    ".SH EXAMPLES\n.nf\ncerto issue \\-d example.com \\-d "
	    "www.example.com \\-\\-standalone \\\\\n"
	    "    \\-\\-email me@example.com \\-\\-agree\\-tos\n"
	    "certo issue \\-d example.com \\-d \\(aq*.example.com\\(aq "
	    "\\-\\-challenge dns\\-01 \\-\\-manual\n"
	    "certo renew        # from cron or certo\\-renew.timer\n.fi\n"
	    ".SH SEE ALSO\n\\fBcerto\\-responder\\fR(8)\n", f);
}

void
cli_completion(FILE *f)
{
	fputs("# bash completion for certo; generated from the option table in "
	    "client/cli.h\n# by certo-mkman --completion; do not edit.\n"
	    "_certo()\n{\n\tlocal cur prev verb i opts\n"
	    "\tcur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
	    "\tprev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
	    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	    "\t\tcase \"${COMP_WORDS[i]}\" in\n\t\t", f);
	for (size_t v = 0; v < NVERBS; v++)
		fprintf(f, "%s%s", v ? "|" : "", verbs[v].name);
	fputs(") verb=${COMP_WORDS[i]}; break ;;\n\t\tesac\n\tdone\n"
	    "\tcase \"$prev\" in\n", f);
	/* Options with file or program arguments complete file names. */
	fputs("\t", f);
	for (size_t i = 0, first = 1; i < NOPTS; i++)
		if (opts[i].row.arg && (strcmp(opts[i].row.arg, "FILE") == 0 ||
		    strcmp(opts[i].row.arg, "DIR") == 0 ||
		    strcmp(opts[i].row.arg, "PROGRAM") == 0 ||
		    strcmp(opts[i].row.arg, "COMMAND") == 0 ||
		    strcmp(opts[i].row.arg, "SOCKET") == 0)) {
			fprintf(f, "%s--%s", first ? "" : "|", opts[i].row.name);
			first = 0;
		}
	/* --key-type has no ed25519 (CAs do not issue for it). */
	fputs(")\n\t\tCOMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
	    "\t--key-type|-k)\n\t\tCOMPREPLY=($(compgen -W "
	    "\"ec-256 ec-384 rsa-2048 rsa-3072 rsa-4096\" -- \"$cur\"));"
	    " return ;;\n\t--account-key-type)\n\t\tCOMPREPLY=($(compgen -W "
	    "\"ec-256 ec-384 rsa-2048 rsa-3072 rsa-4096 ed25519\" -- \"$cur\"));"
	    " return ;;\n\t--challenge|-c)\n\t\tCOMPREPLY=($(compgen -W "
	    "\"http-01 tls-alpn-01 dns-01 http-01,tls-alpn-01\" -- \"$cur\"));"
	    " return ;;\n\t--reason)\n\t\tCOMPREPLY=($(compgen -W \""
	    "unspecified keyCompromise affiliationChanged superseded "
	    "cessationOfOperation\" -- \"$cur\")); return ;;\n\t--server)\n"
	    "\t\tCOMPREPLY=($(compgen -W \"", f);
	for (const char *const *n = directory_names(); *n; n++)
		fprintf(f, "%s%s", n == directory_names() ? "" : " ", *n);
	fputs("\" -- \"$cur\")); return ;;\n\tesac\n\tcase \"$verb\" in\n",
	    f);
	for (size_t v = 0; v < NVERBS; v++) {
		fprintf(f, "\t%s) opts=\"", verbs[v].name);
		for (size_t i = 0, first = 1; i < NOPTS; i++)
			if (opts[i].verbs & (verbs[v].mask | V_GLOBAL)) {
				fprintf(f, "%s--%s", first ? "" : " ", opts[i].row.name);
				first = 0;
			}
		if (verbs[v].verb == VERB_ACCOUNT)
			fputs(" register info update deactivate rollover import", f);
		fputs("\" ;;\n", f);
	}
	fputs("\t*) opts=\"", f);
	for (size_t v = 0; v < NVERBS; v++)
		fprintf(f, "%s ", verbs[v].name);
	for (size_t i = 0, first = 1; i < NOPTS; i++)
		if (opts[i].verbs & V_GLOBAL) {
			fprintf(f, "%s--%s", first ? "" : " ", opts[i].row.name);
			first = 0;
		}
	fputs("\" ;;\n\tesac\n\tCOMPREPLY=($(compgen -W \"$opts\" -- "
	    "\"$cur\"))\n}\ncomplete -F _certo certo\n", f);
}

static int
add_ptr(char ***v, size_t *n, char *p)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(char *));

	if (nv == NULL)
		return CERTO_ENOMEM;
	*v = nv;
	(*v)[(*n)++] = p;
	return 0;
}

static int
parse_seconds(const char *s, const char *opt, long max, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > max)
		return certo_fail(CERTO_EUSAGE, "invalid number of seconds '%s' "
		    "for --%s (0 to %ld)", s, opt, max);
	*out = v;
	return 0;
}

static int
parse_port(const char *s, const char *opt, unsigned short *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
		return certo_fail(CERTO_EUSAGE, "invalid port '%s' for --%s", s,
		    opt);
	*out = (unsigned short)v;
	return 0;
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

/* "http-01,tls-alpn-01": known types, no repeats, in order. */
static int
parse_challenges(struct certo_cli *cli, const char *arg)
{
	char *copy, *tok, *save = NULL, shown[64];
	enum chall_type t;
	int rc = 0;

	if ((copy = strdup(arg)) == NULL)
		return CERTO_ENOMEM;
	cli->nchallenges = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		t = challenge_type_parse(tok);
		if (t == CHALL_UNKNOWN) {
			rc = certo_fail(CERTO_EUSAGE, "unknown challenge type '%s' for "
			    "--challenge (use http-01, tls-alpn-01, dns-01)",
			    log_sanitize(shown, sizeof(shown), tok, (size_t)-1));
			goto out;
		}
		for (size_t i = 0; i < cli->nchallenges; i++)
			if (cli->challenges[i] == t) {
				rc = certo_fail(CERTO_EUSAGE, "challenge type %s given "
				    "twice in --challenge", tok);
				goto out;
			}
		if (cli->nchallenges == 3)
			break;
		cli->challenges[cli->nchallenges++] = t;
	}
	if (cli->nchallenges == 0)
		rc = certo_fail(CERTO_EUSAGE, "--challenge needs at least one "
		    "type");
out:
	free(copy);
	return rc;
}

bool
cli_is_ip(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

int
cli_normalize_name(const char *arg, char **out)
{
	unsigned char buf[16];
	char text[INET6_ADDRSTRLEN];

	*out = NULL;
	if (inet_pton(AF_INET6, arg, buf) == 1) {
		/* IP identifiers in the canonical text form (RFC 8738). */
		inet_ntop(AF_INET6, buf, text, sizeof(text));
	} else if (inet_pton(AF_INET, arg, buf) == 1) {
		inet_ntop(AF_INET, buf, text, sizeof(text));
	} else {
		/* Wildcards are checked against --challenge at the end. */
		return domain_normalize(arg, true, out);
	}
	return (*out = strdup(text)) == NULL ? CERTO_ENOMEM : 0;
}

int
cli_add_name(struct certo_cli *cli, const char *arg)
{
	char *name;
	int rc;

	if ((rc = cli_normalize_name(arg, &name)) != 0)
		return rc;
	for (size_t i = 0; i < cli->nnames; i++)
		if (strcmp(cli->names[i], name) == 0) {
			rc = certo_fail(CERTO_EUSAGE, "duplicate name '%s'", name);
			free(name);
			return rc;
		}
	if (cli->nnames >= 100) {
		free(name);
		return certo_fail(CERTO_EUSAGE, "at most 100 names per "
		    "certificate");
	}
	if ((rc = add_ptr(&cli->names, &cli->nnames, name)) != 0)
		free(name);
	return rc;
}

/*
 * -d a.example,b.example (certbot's habit): each comma-separated piece,
 * spaces around it dropped, is one name; empty pieces are refused.
 */
static int
add_names(struct certo_cli *cli, const char *arg)
{
	char *copy, *p, *next, *end, shown[128];
	int rc = 0;

	if (strchr(arg, ',') == NULL)
		return cli_add_name(cli, arg);
	if ((copy = strdup(arg)) == NULL)
		return CERTO_ENOMEM;
	for (p = copy; p != NULL && rc == 0; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0')
			rc = certo_fail(CERTO_EUSAGE, "empty name in -d '%s'",
			    log_sanitize(shown, sizeof(shown), arg, (size_t)-1));
		else
			rc = cli_add_name(cli, p);
	}
	free(copy);
	return rc;
}

/* An unknown --server NAME: the message lists the names certo knows. */
static int
unknown_server(const char *arg)
{
	char shown[128], list[512] = "";
	size_t n = 0;

	for (const char *const *k = directory_names(); *k && n < sizeof(list);
	    k++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    k == directory_names() ? "" : ", ", *k);
	return certo_fail(CERTO_EUSAGE, "unknown CA '%s' for --server: give "
	    "a directory URL (https://...) or one of: %s", log_sanitize(shown,
	    sizeof(shown), arg, (size_t)-1), list);
}

int
cli_parse_time(const char *s, const char *opt, time_t now, time_t *out)
{
	struct tm tm;
	char *end;
	long v;

	if (*s == '+') {
		v = strtol(s + 1, &end, 10);
		if (end == s + 1 || v < 0 || v > 3650L * 24 * 60)
			goto bad;
		switch (*end) {
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		case 's': break;
		default: goto bad;
		}
		if (end[1] != '\0')
			goto bad;
		*out = now + v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0))
		goto bad;
	*out = timegm(&tm);
	return 0;
bad:
	return certo_fail(CERTO_EUSAGE, "invalid time '%s' for --%s (use "
	    "+30m, +12h, +7d or 2026-01-02T03:04:05Z)", s, opt);
}

static const char *const reasons[] = { "unspecified", "keyCompromise",
	"cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", NULL, "removeFromCRL",
	"privilegeWithdrawn", "aACompromise" };

/* Row i of the option table, for opttab.c. */
static const struct opttab_row *
row_of(size_t i)
{
	return &opts[i].row;
}

int
cli_parse(int argc, char **argv, struct certo_cli *cli)
{
	struct option lo[NOPTS + 1];
	char shortopts[2 * NOPTS + 2], shown[128];
	unsigned used[NOPTS];
	const char *verb_word = NULL;
	unsigned mask = V_GLOBAL;
	size_t v = NVERBS, i;
	time_t now = time(NULL);
	int rc = 0;

	memset(cli, 0, sizeof(*cli));
	memset(used, 0, sizeof(used));
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
	opttab_getopt_init(row_of, NOPTS, lo, shortopts);
	while ((rc = opttab_next(argc, argv, shortopts, lo, row_of, NOPTS,
	    "certo", &i)) > 0) {
		used[i]++;
		switch (opts[i].row.id) {
		case CLI_OPT_HELP:
			cli->help = true;
			break;
		case CLI_OPT_VERSION:
			cli->version = true;
			break;
		case CLI_OPT_VERBOSE:
			cli->verbosity = 2;
			break;
		case CLI_OPT_QUIET:
			cli->verbosity = 0;
			break;
		case CLI_OPT_JSON:
			cli->json = true;
			break;
		case CLI_OPT_STATE_DIR:
			cli->state_dir = optarg;
			break;
		case CLI_OPT_SERVER:
			cli->server = directory_url_for(optarg);
			if (cli->server == NULL) {
				if (strncmp(optarg, "https://", 8) != 0 &&
				    strncmp(optarg, "http://", 7) != 0)
					return unknown_server(optarg);
				cli->server = optarg;
			}
			break;
		case CLI_OPT_CA_BUNDLE:
			cli->ca_bundle = optarg;
			break;
		case CLI_OPT_ALLOW_HTTP:
			cli->allow_http = true;
			break;
		case CLI_OPT_DOMAIN:
			if ((rc = add_names(cli, optarg)) != 0)
				return rc;
			break;
		case CLI_OPT_STANDALONE:
			cli->standalone = true;
			break;
		case CLI_OPT_RESPONDER:
			cli->responder = optarg;
			break;
		case CLI_OPT_CHALLENGE:
			if ((rc = parse_challenges(cli, optarg)) != 0)
				return rc;
			break;
		case CLI_OPT_MANUAL:
			cli->manual = true;
			break;
		case CLI_OPT_DNS_HOOK:
			cli->dns_hook = optarg;
			break;
		case CLI_OPT_HTTP_HOOK:
			cli->http_hook = optarg;
			break;
		case CLI_OPT_DNS_TIMEOUT:
			if ((rc = parse_seconds(optarg, "dns-timeout", 86400,
			    &cli->dns_timeout_s)) != 0)
				return rc;
			if (cli->dns_timeout_s == 0)
				return certo_fail(CERTO_EUSAGE, "--dns-timeout must be "
				    "at least 1 second");
			break;
		case CLI_OPT_CA_TIMEOUT:
			if ((rc = parse_seconds(optarg, "ca-timeout", 86400,
			    &cli->ca_timeout_s)) != 0)
				return rc;
			if (cli->ca_timeout_s == 0)
				return certo_fail(CERTO_EUSAGE, "--ca-timeout must be "
				    "at least 1 second");
			break;
		case CLI_OPT_DNS_INTERVAL:
			if ((rc = parse_seconds(optarg, "dns-interval", 3600,
			    &cli->dns_interval_s)) != 0)
				return rc;
			if (cli->dns_interval_s == 0)
				return certo_fail(CERTO_EUSAGE, "--dns-interval must be "
				    "at least 1 second");
			break;
		case CLI_OPT_DNS_WAIT_EXTRA:
			if ((rc = parse_seconds(optarg, "dns-wait-extra", 3600,
			    &cli->dns_wait_extra_s)) != 0)
				return rc;
			break;
		case CLI_OPT_HTTP_TIMEOUT:
		case CLI_OPT_HOOK_TIMEOUT:
			if ((rc = parse_seconds(optarg, opts[i].row.name, 86400,
			    opts[i].row.id == CLI_OPT_HOOK_TIMEOUT ?
			    &cli->hook_timeout_s : &cli->http_timeout_s)) != 0)
				return rc;
			if (cli->hook_timeout_s == 0 || cli->http_timeout_s == 0)
				return certo_fail(CERTO_EUSAGE, "--%s must be at least "
				    "1 second", opts[i].row.name);
			break;
		case CLI_OPT_DNS_RESOLVER:
			if (cli->ndns_resolvers >= 16)
				return certo_fail(CERTO_EUSAGE, "at most 16 "
				    "--dns-resolver servers");
			if ((rc = add_ptr(&cli->dns_resolvers,
			    &cli->ndns_resolvers, optarg)) != 0)
				return rc;
			break;
		case CLI_OPT_HTTP_PORT:
			if ((rc = parse_port(optarg, "http-port",
			    &cli->http_port)) != 0)
				return rc;
			break;
		case CLI_OPT_HTTP_ADDR:
			cli->http_addr = optarg;
			break;
		case CLI_OPT_TLS_PORT:
			if ((rc = parse_port(optarg, "tls-port",
			    &cli->tls_port)) != 0)
				return rc;
			break;
		case CLI_OPT_TLS_ADDR:
			cli->tls_addr = optarg;
			break;
		case CLI_OPT_EMAIL:
			if (strchr(optarg, '@') == NULL ||
			    strpbrk(optarg, " \t\r\n,<>\"") != NULL ||
			    strlen(optarg) > 254)
				return certo_fail(CERTO_EUSAGE, "invalid e-mail "
				    "address '%s'", log_sanitize(shown,
				    sizeof(shown), optarg, (size_t)-1));
			if ((rc = add_ptr(&cli->emails, &cli->nemails,
			    optarg)) != 0)
				return rc;
			break;
		case CLI_OPT_AGREE_TOS:
			cli->agree_tos = true;
			break;
		case CLI_OPT_KEY_TYPE:
		case CLI_OPT_ACCOUNT_KEY_TYPE:
			if (key_type_parse(optarg, opts[i].row.id ==
			    CLI_OPT_KEY_TYPE ? &cli->key_type :
			    &cli->account_key_type) != 0 ||
			    (opts[i].row.id == CLI_OPT_KEY_TYPE &&
			    cli->key_type == KEY_ED25519))
				return certo_fail(CERTO_EUSAGE, "unknown key type "
				    "'%s' for --%s (ec-256, ec-384, rsa-2048, "
				    "rsa-3072, rsa-4096%s)", log_sanitize(shown,
				    sizeof(shown), optarg, (size_t)-1),
				    opts[i].row.name, opts[i].row.id == CLI_OPT_KEY_TYPE ?
				    "" : ", ed25519");
			break;
		case CLI_OPT_EAB_KID:
			cli->eab_kid = optarg;
			break;
		case CLI_OPT_EAB_HMAC_KEY:
			cli->eab_hmac_key = optarg;
			break;
		case CLI_OPT_KEY:
			cli->key_file = optarg;
			break;
		case CLI_OPT_CSR:
			cli->csr_file = optarg;
			break;
		case CLI_OPT_MUST_STAPLE:
			cli->must_staple = true;
			break;
		case CLI_OPT_NOT_BEFORE:
		case CLI_OPT_NOT_AFTER:
			if ((rc = cli_parse_time(optarg, opts[i].row.name, now,
			    opts[i].row.id == CLI_OPT_NOT_BEFORE ? &cli->not_before :
			    &cli->not_after)) != 0)
				return rc;
			/* A certificate that expired before it was asked for. */
			if (opts[i].row.id == CLI_OPT_NOT_AFTER &&
			    cli->not_after <= now)
				return certo_fail(CERTO_EUSAGE, "--not-after %s is not "
				    "in the future", log_sanitize(shown,
				    sizeof(shown), optarg, (size_t)-1));
			break;
		case CLI_OPT_PROFILE:
			if (*optarg == '\0' || strlen(optarg) > 64 ||
			    strpbrk(optarg, " \t\r\n\"\\") != NULL)
				return certo_fail(CERTO_EUSAGE, "invalid profile name "
				    "for --profile");
			cli->profile = optarg;
			break;
		case CLI_OPT_PREFERRED_CHAIN:
			cli->preferred_chain = optarg;
			break;
		case CLI_OPT_DEPLOY_HOOK:
			cli->deploy_hook = optarg;
			break;
		case CLI_OPT_FORCE:
			cli->force = true;
			break;
		case CLI_OPT_CLEAR:
			cli->clear = true;
			break;
		case CLI_OPT_DRY_RUN:
			cli->dry_run = true;
			break;
		case CLI_OPT_DRY_RUN_SERVER:
			if (strncmp(optarg, "https://", 8) != 0 &&
			    strncmp(optarg, "http://", 7) != 0)
				return certo_fail(CERTO_EUSAGE, "--dry-run-server needs "
				    "a directory URL");
			cli->dry_run_server = optarg;
			break;
		case CLI_OPT_LOOP:
			cli->loop = true;
			break;
		case CLI_OPT_NAME:
			if ((rc = add_ptr(&cli->only, &cli->nonly, optarg)) != 0)
				return rc;
			break;
		case CLI_OPT_JOBS: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > 64)
				return certo_fail(CERTO_EUSAGE, "invalid --jobs '%s' "
				    "(1 to 64)", log_sanitize(shown, sizeof(shown),
				    optarg, (size_t)-1));
			cli->jobs = (unsigned)n;
			break;
		}
		case CLI_OPT_CERT:
			cli->cert_file = optarg;
			break;
		case CLI_OPT_CERT_KEY:
			cli->cert_key_file = optarg;
			break;
		case CLI_OPT_REASON: {
			size_t r;
			for (r = 0; r < sizeof(reasons) / sizeof(reasons[0]); r++)
				if (reasons[r] && strcmp(reasons[r], optarg) == 0)
					break;
			if (r == sizeof(reasons) / sizeof(reasons[0]))
				return certo_fail(CERTO_EUSAGE, "unknown --reason '%s' "
				    "(unspecified, keyCompromise, affiliationChanged, "
				    "superseded, cessationOfOperation...)",
				    log_sanitize(shown, sizeof(shown), optarg,
				    (size_t)-1));
			cli->reason = (int)r;
			break;
		}
		case CLI_OPT_MANUALE:
			cli->manuale_file = optarg;
			break;
		}
	}
	if (rc < 0)
		return rc;
	/* The verb, then the verb's own positional arguments. */
	for (int a = optind; a < argc; a++) {
		if (verb_word == NULL) {
			verb_word = argv[a];
			for (v = 0; v < NVERBS; v++)
				if (strcmp(verbs[v].name, verb_word) == 0)
					break;
			if (v == NVERBS)
				return certo_fail(CERTO_EUSAGE, "unknown verb '%s' (see "
				    "certo --help)", log_sanitize(shown, sizeof(shown),
				    verb_word, (size_t)-1));
			cli->verb = verbs[v].verb;
			mask |= verbs[v].mask;
			continue;
		}
		if (cli->arg != NULL || verbs[v].nargs == 0)
			return certo_fail(CERTO_EUSAGE, "unexpected argument '%s'",
			    log_sanitize(shown, sizeof(shown), argv[a],
			    (size_t)-1));
		cli->arg = argv[a];
	}
	if (cli->help || cli->version)
		return 0;
	for (i = 0; i < NOPTS; i++)
		if (used[i] && !(opts[i].verbs & mask))
			return certo_fail(CERTO_EUSAGE, "option --%s does not apply "
			    "to %s", opts[i].row.name, verb_word ? verb_word :
			    "certo without a verb");
	if (cli->verb == VERB_NONE)
		return certo_fail(CERTO_EUSAGE, "no verb given (see certo --help)");
	if (verbs[v].nargs == 1 && cli->arg == NULL)
		return certo_fail(CERTO_EUSAGE, "%s needs %s", verbs[v].name,
		    verbs[v].args);
	if (strncmp(cli->server, "http://", 7) == 0 && !cli->allow_http)
		return certo_fail(CERTO_EUSAGE, "refusing plain http:// CA URL "
		    "'%s' without --allow-insecure-http", log_sanitize(shown,
		    sizeof(shown), cli->server, (size_t)-1));
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
	if ((rc = resolve_hooks(cli)) != 0)
		return rc;
	if (cli->verb == VERB_ISSUE || cli->verb == VERB_AUTHORIZE)
		return cli_check_challenges(cli);
	if (cli->verb == VERB_REVOKE && cli->cert_file == NULL)
		return certo_fail(CERTO_EUSAGE, "revoke needs --cert FILE");
	if (cli->verb == VERB_ACCOUNT && strcmp(cli->arg, "register") != 0 &&
	    strcmp(cli->arg, "info") != 0 && strcmp(cli->arg, "update") != 0 &&
	    strcmp(cli->arg, "deactivate") != 0 &&
	    strcmp(cli->arg, "rollover") != 0 && strcmp(cli->arg, "import") != 0)
		return certo_fail(CERTO_EUSAGE, "unknown account command '%s' "
		    "(register, info, update, deactivate, rollover, import)",
		    log_sanitize(shown, sizeof(shown), cli->arg, (size_t)-1));
	if (cli->verb == VERB_ACCOUNT && strcmp(cli->arg, "import") == 0 &&
	    cli->manuale_file == NULL)
		return certo_fail(CERTO_EUSAGE, "account import needs --manuale "
		    "FILE");
	return 0;
}

int
cli_check_challenges(struct certo_cli *cli)
{
	int modes = (cli->standalone ? 1 : 0) + (cli->responder ? 1 : 0) +
	    (cli->manual || cli->dns_hook || cli->http_hook ? 1 : 0);
	bool dns = false;

	if (cli->nnames == 0 && (cli->csr_file == NULL || cli->names_from_csr))
		return certo_fail(CERTO_EUSAGE, "%s needs at least one name "
		    "(-d NAME)", cli->verb == VERB_AUTHORIZE ? "authorize" :
		    "issue");
	if (cli->csr_file != NULL && cli->nnames > 0 && !cli->names_from_csr)
		return certo_fail(CERTO_EUSAGE, "with --csr the names come from "
		    "the CSR; drop -d");
	if (modes == 0)
		return certo_fail(CERTO_EUSAGE, "a way to answer challenges is "
		    "needed: --standalone, --responder SOCKET, --manual, "
		    "--dns-hook or --http-hook");
	if (modes > 1)
		return certo_fail(CERTO_EUSAGE, "--standalone, --responder and "
		    "--manual/--dns-hook/--http-hook exclude each other");
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
	if (dns && (cli->standalone || cli->responder))
		return certo_fail(CERTO_EUSAGE, "dns-01 needs --manual or "
		    "--dns-hook PROGRAM");
	if (cli->not_before && cli->not_after &&
	    cli->not_after <= cli->not_before)
		return certo_fail(CERTO_EUSAGE, "--not-after must be later than "
		    "--not-before");
	return 0;
}
