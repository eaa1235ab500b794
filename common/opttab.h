/*
 * Printing an option-table row, shared by certo's and certo-responder's
 * option tables: one --help line, one man-page .TP entry, roff escaping.
 * The tables themselves stay with their programs.
 */
#ifndef CERTO_OPTTAB_H
#define CERTO_OPTTAB_H

#include <stdio.h>

/* "  -d, --domain NAME          help" with the left column width wide. */
void opttab_help(FILE *f, int width, const char *name, int sh,
    const char *arg, const char *help);
/* A ".TP" man-page entry for the option. */
void opttab_man(FILE *f, const char *name, int sh, const char *arg,
    const char *help);
/* roff-escape s: backslashes, leading dots/quotes, hyphens as \-. */
void opttab_roff(FILE *f, const char *s);

#endif
