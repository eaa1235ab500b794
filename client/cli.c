/* Command-line parsing from the option table. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "domain.h"
#include "errors.h"
#include "log.h"

struct opt_info {
	const char *name;
	int sh;
	const char *arg;
	unsigned verbs;
	const char *help;
	int id;
};

static const struct opt_info opts[] = {
#define XX(id, name, sh, arg, verbs, help) \
	{ name, sh, arg, verbs, help, CLI_OPT_##id },
	CERTO_OPTIONS(XX)
#undef XX
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const struct {
	const char *name;
	enum cli_verb verb;
	unsigned mask;
	const char *summary;
} verbs[] = {
	{ "issue", VERB_ISSUE, V_ISSUE,
	  "get a certificate for one or more names" },
};

void
cli_free(struct certo_cli *cli)
{
	for (size_t i = 0; i < cli->nnames; i++)
		free(cli->names[i]);
	free(cli->names);
	free(cli->emails);
	memset(cli, 0, sizeof(*cli));
}

static void
help_opts(FILE *f, unsigned mask)
{
	char left[64];

	for (size_t i = 0; i < NOPTS; i++) {
		if (!(opts[i].verbs & mask))
			continue;
		if (opts[i].sh)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].sh,
			    opts[i].name, opts[i].arg ? " " : "",
			    opts[i].arg ? opts[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", opts[i].name,
			    opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-32s %s\n", left, opts[i].help);
	}
}

void
cli_help(FILE *f, enum cli_verb verb)
{
	if (verb == VERB_ISSUE) {
		fprintf(f, "usage: certo [global options] issue -d NAME [-d NAME...] "
		    "--standalone [options]\n\n%s.\n\nOptions:\n",
		    verbs[0].summary);
		help_opts(f, V_ISSUE);
		fprintf(f, "\nGlobal options:\n");
		help_opts(f, V_GLOBAL);
	} else {
		fprintf(f, "usage: certo [global options] VERB [options]\n\n"
		    "certo gets certificates from ACME (RFC 8555) CAs, answering "
		    "challenges itself.\n\nVerbs:\n");
		for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
			fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
		fprintf(f, "\nGlobal options:\n");
		help_opts(f, V_GLOBAL);
		fprintf(f, "\nRun 'certo VERB --help' for a verb's options.\n");
	}
	fprintf(f, "\nExit codes: 0 done, 1 usage or configuration error, 2 the "
	    "CA refused or validation failed,\n3 network error or timeout, 4 "
	    "local I/O error, 5 challenge self-check failed, 130 interrupted.\n");
}

/* roff-escape s: backslashes and leading dots/quotes, hyphens as \-. */
static void
roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void
man_opts(FILE *f, unsigned mask)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (!(opts[i].verbs & mask))
			continue;
		fputs(".TP\n", f);
		if (opts[i].sh)
			fprintf(f, "\\fB\\-%c\\fR, ", opts[i].sh);
		fputs("\\fB\\-\\-", f);
		roff(f, opts[i].name);
		fputs("\\fR", f);
		if (opts[i].arg) {
			fputs(" \\fI", f);
			roff(f, opts[i].arg);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		roff(f, opts[i].help);
		fputs(".\n", f);
	}
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
	    "\\fBissue\\fR \\fB\\-d\\fR \\fINAME\\fR... "
	    "\\fB\\-\\-standalone\\fR [\\fIoptions\\fR]\n"
	    ".SH DESCRIPTION\n\\fBcerto\\fR gets certificates from ACME "
	    "(RFC 8555) certificate authorities. It answers the HTTP\\-01 "
	    "challenge from a built\\-in server, checks that the answer is "
	    "reachable before the CA is asked to validate, and stores the "
	    "key and chain atomically under the state directory.\n"
	    ".SH VERBS\n", f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		fprintf(f, ".TP\n\\fB%s\\fR\n", verbs[i].name);
		roff(f, verbs[i].summary);
		fputs(".\n", f);
	}
	fputs(".SH GLOBAL OPTIONS\n", f);
	man_opts(f, V_GLOBAL);
	fputs(".SH ISSUE OPTIONS\n", f);
	man_opts(f, V_ISSUE);
	fputs(".SH FILES\n.TP\n\\fI<state>/accounts/<ca>/account.key\\fR\n"
	    "The account key (mode 0600).\n"
	    ".TP\n\\fI<state>/live/<name>/\\fR\n"
	    "privkey.pem (0600), cert.pem, chain.pem, fullchain.pem.\n"
	    ".TP\n\\fI<state>/archive/<name>/<time>/\\fR\n"
	    "The previous set of files, kept on every re\\-issue.\n"
	    ".SH ENVIRONMENT\n.TP\n\\fBCERTO_STATE_DIR\\fR\n"
	    "The state directory when \\fB\\-\\-state\\-dir\\fR is not "
	    "given.\n"
	    ".SH EXIT STATUS\n.TP\n0\nDone.\n.TP\n1\nUsage or configuration "
	    "error.\n.TP\n2\nThe CA refused or validation failed.\n.TP\n3\n"
	    "Network error or timeout.\n.TP\n4\nLocal I/O error (files, "
	    "ports).\n.TP\n5\nThe challenge self\\-check failed; the CA was "
	    "not asked.\n.TP\n130\nInterrupted.\n"
	    ".SH EXAMPLES\n.nf\ncerto issue \\-d example.com \\-d "
	    "www.example.com \\-\\-standalone \\\\\n"
	    "    \\-\\-email me@example.com \\-\\-agree\\-tos\n.fi\n"
	    ".SH SEE ALSO\n\\fBcerto\\-responder\\fR(8)\n", f);
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

static int
add_name(struct certo_cli *cli, const char *arg)
{
	char *name;
	int rc;

	if ((rc = domain_normalize(arg, false, &name)) != 0)
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

int
cli_parse(int argc, char **argv, struct certo_cli *cli)
{
	struct option lo[NOPTS + 1];
	char shortopts[2 * NOPTS + 2], *p = shortopts, shown[128];
	unsigned used[NOPTS];
	const char *verb_word = NULL;
	unsigned mask = V_GLOBAL;
	int c, rc = 0;

	memset(cli, 0, sizeof(*cli));
	memset(used, 0, sizeof(used));
	cli->verbosity = 1;
	cli->http_port = 80;
	cli->key_type = KEY_EC256;
	cli->account_key_type = KEY_EC256;
	cli->server = directory_url_for("letsencrypt");
	*p++ = ':';
	for (size_t i = 0; i < NOPTS; i++) {
		lo[i].name = opts[i].name;
		lo[i].has_arg = opts[i].arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = opts[i].id;
		if (opts[i].sh) {
			*p++ = (char)opts[i].sh;
			if (opts[i].arg)
				*p++ = ':';
		}
	}
	*p = '\0';
	memset(&lo[NOPTS], 0, sizeof(lo[NOPTS]));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		size_t i;
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			if (c == '?' && optopt != 0)
				snprintf(shown, sizeof(shown), "-%c", optopt);
			else
				log_sanitize(shown, sizeof(shown), bad, (size_t)-1);
			return certo_fail(CERTO_EUSAGE, c == '?' ?
			    "unknown option '%s' (see certo --help)" :
			    "option '%s' needs an argument", shown);
		}
		for (i = 0; i < NOPTS; i++)
			if (opts[i].id == c || (opts[i].sh && opts[i].sh == c))
				break;
		if (i == NOPTS)
			return certo_fail(CERTO_EUSAGE, "unknown option");
		used[i]++;
		switch (opts[i].id) {
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
		case CLI_OPT_STATE_DIR:
			cli->state_dir = optarg;
			break;
		case CLI_OPT_SERVER:
			cli->server = directory_url_for(optarg);
			if (cli->server == NULL) {
				if (strncmp(optarg, "https://", 8) != 0 &&
				    strncmp(optarg, "http://", 7) != 0)
					return certo_fail(CERTO_EUSAGE, "unknown CA "
					    "'%s' for --server: give a directory URL or "
					    "a known name", log_sanitize(shown,
					    sizeof(shown), optarg, (size_t)-1));
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
			if ((rc = add_name(cli, optarg)) != 0)
				return rc;
			break;
		case CLI_OPT_STANDALONE:
			cli->standalone = true;
			break;
		case CLI_OPT_HTTP_PORT:
			if ((rc = parse_port(optarg, "http-port",
			    &cli->http_port)) != 0)
				return rc;
			break;
		case CLI_OPT_HTTP_ADDR:
			cli->http_addr = optarg;
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
			if (key_type_parse(optarg, opts[i].id ==
			    CLI_OPT_KEY_TYPE ? &cli->key_type :
			    &cli->account_key_type) != 0)
				return certo_fail(CERTO_EUSAGE, "unknown key type "
				    "'%s' for --%s (ec-256, ec-384, rsa-2048, "
				    "rsa-3072, rsa-4096)", log_sanitize(shown,
				    sizeof(shown), optarg, (size_t)-1),
				    opts[i].name);
			break;
		}
	}
	/* The verb is the one word that is not an option. */
	for (int i = optind; i < argc; i++) {
		if (verb_word != NULL)
			return certo_fail(CERTO_EUSAGE, "unexpected argument '%s'",
			    log_sanitize(shown, sizeof(shown), argv[i],
			    (size_t)-1));
		verb_word = argv[i];
	}
	if (verb_word != NULL) {
		size_t v;
		for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
			if (strcmp(verbs[v].name, verb_word) == 0)
				break;
		if (v == sizeof(verbs) / sizeof(verbs[0]))
			return certo_fail(CERTO_EUSAGE, "unknown verb '%s' (see "
			    "certo --help)", log_sanitize(shown, sizeof(shown),
			    verb_word, (size_t)-1));
		cli->verb = verbs[v].verb;
		mask |= verbs[v].mask;
	}
	if (cli->help || cli->version)
		return 0;
	for (size_t i = 0; i < NOPTS; i++)
		if (used[i] && !(opts[i].verbs & mask))
			return certo_fail(CERTO_EUSAGE, "option --%s does not apply "
			    "to %s", opts[i].name, verb_word ? verb_word :
			    "certo without a verb");
	if (cli->verb == VERB_NONE)
		return certo_fail(CERTO_EUSAGE, "no verb given (see certo --help)");
	if (cli->verb == VERB_ISSUE) {
		if (cli->nnames == 0)
			return certo_fail(CERTO_EUSAGE, "issue needs at least one "
			    "name (-d NAME)");
		if (!cli->standalone)
			return certo_fail(CERTO_EUSAGE, "issue needs a way to answer "
			    "challenges: --standalone");
	}
	if (strncmp(cli->server, "http://", 7) == 0 && !cli->allow_http)
		return certo_fail(CERTO_EUSAGE, "refusing plain http:// CA URL "
		    "'%s' without --allow-insecure-http", log_sanitize(shown,
		    sizeof(shown), cli->server, (size_t)-1));
	return 0;
}
