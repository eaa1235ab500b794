/*
 * The tables behind certo's command line, shared by client/cli.c
 * (parsing, where the rows are defined) and client/cli_doc.c (--help,
 * certo(1), the bash completion).  Internal to those two files.
 */
#ifndef CERTO_CLI_TABLE_H
#define CERTO_CLI_TABLE_H

#include <stddef.h>

#include "cli.h"
#include "opttab.h"

#include <time.h>

/* The number of rows of CERTO_OPTIONS, as a constant. */
#define CLI_COUNT_ROW(...) + 1
#define CLI_NOPTIONS (0 CERTO_OPTIONS(CLI_COUNT_ROW))

struct cli_option;
struct cli_verb_row;

/* The state of one cli_parse() call, handed to each row's parser. */
struct cli_parse {
	struct certo_cli *cli;
	time_t now;                            /* for --not-before +7d */
	unsigned mask;                         /* V_GLOBAL | the verb's */
	const struct cli_verb_row *verb;       /* NULL until the verb */
	const char *verb_word;
	const struct cli_option *deprecated;   /* an old spelling used, */
	const struct cli_option *replacement;  /* and its new one */
};

/* One option: its opttab row, the verbs it applies to, how it parses. */
struct cli_option {
	struct opttab_row row;  /* row.help NULL: a hidden alias */
	unsigned verbs;         /* V_* mask */
	/* Validate arg and write field; 0 or CERTO_EUSAGE with a message. */
	int (*parse)(struct cli_parse *walk, const struct cli_option *opt,
	    const char *arg);
	size_t field;           /* offsetof(struct certo_cli, <field>) */
	long param;             /* the kind's parameter (cli.h) */
};

/* One verb. */
struct cli_verb_row {
	const char *name;
	enum cli_verb verb;
	unsigned mask;              /* the V_* bit of its options */
	const char *args;           /* its positional argument, "" if none */
	const char *const *words;   /* or its sub-commands (NULL-ended) */
	int nargs;                  /* positionals: 0, 1, 2 (0 or 1) */
	const char *summary;
};

extern const struct cli_option cli_options[CLI_NOPTIONS];
extern const struct cli_verb_row cli_verbs[];
extern const size_t cli_nverbs;

/*
 * The positional argument of verb v as help shows it: its args, or its
 * sub-commands joined by sep ("register|info|...").  Returns buf or a
 * static string; never NULL.
 */
const char *cli_verb_args(const struct cli_verb_row *v, const char *sep,
    char *buf, size_t len);

#endif
