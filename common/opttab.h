/*
 * Option tables shared by certo's and certo-responder's command lines:
 * each program's table row starts with a struct opttab_row, and these
 * helpers turn the table into getopt_long's arrays, walk argv, and
 * print --help lines and man-page entries.
 */
#ifndef CERTO_OPTTAB_H
#define CERTO_OPTTAB_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* The part of an option-table row every program has. */
struct opttab_row {
	const char *name;   /* long name, without "--" */
	int sh;             /* short letter, or 0 */
	const char *arg;    /* argument name, NULL for a flag */
	const char *help;   /* NULL: a hidden alias (never shown) */
	int id;             /* getopt_long's value for the long form */
};

/* Row i of a program's table (each program supplies one). */
typedef const struct opttab_row *(*opttab_rowfn)(size_t i);

/*
 * Fill lo (n + 1 entries) and shortopts (2n + 2 bytes) for getopt_long
 * from the n rows, and reset getopt for a fresh walk of argv (also after
 * an earlier walk stopped inside a word).
 */
void opttab_getopt_init(opttab_rowfn row, size_t n, struct option *lo,
    char *shortopts);

/*
 * The next option of argv: 1 with its row index in *idx (optarg set),
 * 0 at the end of the options, or CERTO_EUSAGE with a one-line message
 * ("unknown option '-x' (see PROG --help)", with a suggestion of the
 * nearest shown option when one is close / "option '--x' needs an
 * argument").
 */
int opttab_next(int argc, char **argv, const char *shortopts,
    const struct option *lo, opttab_rowfn row, size_t n, const char *prog,
    size_t *idx);

/*
 * "  -d, --domain NAME          help" with the left column width wide;
 * nothing for a hidden row.
 */
void opttab_help(FILE *f, int width, const struct opttab_row *opt);
/* A ".TP" man-page entry for the option; nothing for a hidden row. */
void opttab_man(FILE *f, const struct opttab_row *opt);
/* roff-escape s: backslashes, leading dots/quotes, hyphens as \-. */
void opttab_roff(FILE *f, const char *s);

#endif
