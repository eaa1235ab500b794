/*
 * What the option table (cli.h) prints: --help, the certo(1) man page
 * and the bash completion (certo-mkman; tests compare docs/certo.1 and
 * scripts/completion/certo.bash with it).  Hidden rows (help NULL) are
 * never shown.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_table.h"
#include "directory.h"
#include "opttab.h"

#define NOPTS CLI_NOPTIONS
#define NVERBS cli_nverbs

/* True if row i is shown (not a hidden alias) and applies to mask. */
static bool
shown_for(size_t i, unsigned mask)
{
	return cli_options[i].row.help != NULL &&
	    (cli_options[i].verbs & mask) != 0;
}

static void
help_opts(FILE *f, unsigned mask)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (shown_for(i, mask))
			opttab_help(f, 32, &cli_options[i].row);
}

/*
 * --help of verb (VERB_NONE: the overview) from the tables.
 */
void
cli_help(FILE *f, enum cli_verb verb)
{
	const struct cli_verb_row *row = NULL;
	const char *args;
	char buf[128];

	for (size_t v = 0; v < NVERBS && row == NULL; v++)
		if (cli_verbs[v].verb == verb)
			row = &cli_verbs[v];
	if (row != NULL) {
		args = cli_verb_args(row, "|", buf, sizeof(buf));
		fprintf(f, "usage: certo [global options] %s%s%s [options]\n\n%s."
		    "\n\nOptions:\n", row->name, *args ? " " : "", args,
		    row->summary);
		help_opts(f, row->mask);
		fprintf(f, "\nGlobal options:\n");
		help_opts(f, V_GLOBAL);
	} else {
		fprintf(f, "usage: certo [global options] VERB [options]\n\n"
		    "certo gets and keeps certificates from ACME (RFC 8555) CAs, "
		    "answering challenges itself.\n\nVerbs:\n");
		for (size_t v = 0; v < NVERBS; v++)
			fprintf(f, "  %-17s %s\n", cli_verbs[v].name,
			    cli_verbs[v].summary);
		fprintf(f, "\nGlobal options:\n");
		help_opts(f, V_GLOBAL);
		fprintf(f, "\nRun 'certo VERB --help' for a verb's options.\n");
	}
	fprintf(f, "\nExit codes: 0 done, 1 usage or configuration error, 2 the "
	    "CA refused or validation\nfailed (renew: nothing was due), 3 "
	    "network error or timeout, 4 local I/O error,\n5 challenge "
	    "self-check failed, 6 DNS record not visible in time, 7 a hook "
	    "failed,\n8/9 the store failed/refused the credentials, 10 the CA "
	    "knows no account for the\nkey, 11 authorizations still pending "
	    "(finish certo authorize), 130 interrupted.\n");
}

static void
man_opts(FILE *f, unsigned mask)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (shown_for(i, mask))
			opttab_man(f, &cli_options[i].row);
}

/*
 * The certo(1) man page: the fixed sections around the tables.
 */
void
cli_man(FILE *f)
{
	char buf[128];
	const char *args;

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
		for (const char *p = cli_verbs[v].name; *p; p++)
			fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, f);
		fputs("\n\\fBcerto\\fR \\fB", f);
		opttab_roff(f, cli_verbs[v].name);
		fputs("\\fR", f);
		args = cli_verb_args(&cli_verbs[v], "|", buf, sizeof(buf));
		if (*args) {
			fputs(" \\fI", f);
			opttab_roff(f, args);
			fputs("\\fR", f);
		}
		fputs(" [\\fIoptions\\fR]\n.PP\n", f);
		opttab_roff(f, cli_verbs[v].summary);
		fputs(".\n", f);
		man_opts(f, cli_verbs[v].mask);
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
	    ".TP\n\\fBCERTO_\\fR\\fIOPTION\\fR\n"
	    "Any other option of the verb that the command line does not "
	    "give: the long name in upper case with \\- as _ "
	    "(\\fBCERTO_SERVER\\fR, \\fBCERTO_DOMAIN\\fR=a,b, "
	    "\\fBCERTO_STANDALONE\\fR=1); a flag takes 1, true, yes, 0, "
	    "false or no.  Not \\-\\-help, \\-\\-version or "
	    "\\-\\-responder (\\fBCERTO_RESPONDER_\\fR* configure "
	    "certo\\-responder).  \\fBCERTO_STORE\\fR and "
	    "\\fBCERTO_STORE_KEY\\fR are \\-\\-store and "
	    "\\-\\-store\\-key.\n"
	    ".SH EXIT STATUS\n.TP\n0\nDone (renew: something was renewed)."
	    "\n.TP\n1\nUsage or configuration error (renew: some "
	    "certificates failed, or a \\-\\-name is not stored).\n.TP\n2\n"
	    "The CA refused or validation "
	    "failed (renew: nothing was due).\n.TP\n3\n"
	    "Network error or timeout.\n.TP\n4\nLocal I/O error (files, "
	    "ports).\n.TP\n5\nThe challenge self\\-check failed; the CA was "
	    "not asked.\n.TP\n6\nA DNS record did not become visible in "
	    "time; the CA was not asked.\n.TP\n7\nA hook program failed.\n"
	    ".TP\n8\nThe store (\\-\\-store) stayed unreachable or refused "
	    "a command.\n.TP\n9\nThe store refused the credentials.\n"
	    ".TP\n10\nThe CA knows no account for the account key; none "
	    "was created.\n.TP\n11\nAn order's authorizations are still "
	    "pending and issue was given no way to answer challenges: finish "
	    "\\fBcerto authorize\\fR first.\n"
	    ".TP\n130\nInterrupted.\n"
	    ".SH EXAMPLES\n.nf\ncerto issue \\-d example.com \\-d "
	    "www.example.com \\-\\-standalone \\\\\n"
	    "    \\-\\-email me@example.com \\-\\-agree\\-tos\n"
	    "certo issue \\-d example.com \\-d \\(aq*.example.com\\(aq "
	    "\\-\\-challenge dns\\-01 \\-\\-manual\n"
	    "certo renew        # from cron or certo\\-renew.timer\n.fi\n"
	    ".SH SEE ALSO\n\\fBcerto\\-responder\\fR(8)\n", f);
}

/* True if an argument named arg is a path (completes file names). */
static bool
takes_path(const char *arg)
{
	static const char *const paths[] = { "FILE", "DIR", "PROGRAM",
		"COMMAND", "SOCKET" };

	for (size_t i = 0; arg != NULL && i < sizeof(paths) / sizeof(*paths);
	    i++)
		if (strcmp(arg, paths[i]) == 0)
			return true;
	return false;
}

/* The shown options of mask as "--a --b" (bash words). */
static void
completion_words(FILE *f, unsigned mask)
{
	for (size_t i = 0, first = 1; i < NOPTS; i++)
		if (shown_for(i, mask)) {
			fprintf(f, "%s--%s", first ? "" : " ",
			    cli_options[i].row.name);
			first = 0;
		}
}

/*
 * A bash completion script: verbs, each verb's options, the values of
 * options with a fixed set, file names for path arguments.
 */
void
cli_completion(FILE *f)
{
	char buf[128];

	fputs("# bash completion for certo; generated from the option table in "
	    "client/cli.h\n# by certo-mkman --completion; do not edit.\n"
	    "_certo()\n{\n\tlocal cur prev verb i opts\n"
	    "\tcur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
	    "\tprev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
	    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	    "\t\tcase \"${COMP_WORDS[i]}\" in\n\t\t", f);
	for (size_t v = 0; v < NVERBS; v++)
		fprintf(f, "%s%s", v ? "|" : "", cli_verbs[v].name);
	fputs(") verb=${COMP_WORDS[i]}; break ;;\n\t\tesac\n\tdone\n"
	    "\tcase \"$prev\" in\n", f);
	/* Options with file or program arguments complete file names. */
	fputs("\t", f);
	for (size_t i = 0, first = 1; i < NOPTS; i++)
		if (shown_for(i, ~0U) && takes_path(cli_options[i].row.arg)) {
			fprintf(f, "%s--%s", first ? "" : "|",
			    cli_options[i].row.name);
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
		fprintf(f, "\t%s) opts=\"", cli_verbs[v].name);
		completion_words(f, cli_verbs[v].mask | V_GLOBAL);
		if (cli_verbs[v].words != NULL)
			fprintf(f, " %s", cli_verb_args(&cli_verbs[v], " ", buf,
			    sizeof(buf)));
		fputs("\" ;;\n", f);
	}
	fputs("\t*) opts=\"", f);
	for (size_t v = 0; v < NVERBS; v++)
		fprintf(f, "%s ", cli_verbs[v].name);
	completion_words(f, V_GLOBAL);
	fputs("\" ;;\n\tesac\n\tCOMPREPLY=($(compgen -W \"$opts\" -- "
	    "\"$cur\"))\n}\ncomplete -F _certo certo\n", f);
}
