/* Option-table rows for --help and man pages. */
#include "opttab.h"

void
opttab_help(FILE *f, int width, const char *name, int sh, const char *arg,
    const char *help)
{
	char left[80];

	if (sh)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", sh, name,
		    arg ? " " : "", arg ? arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", name, arg ? " " : "",
		    arg ? arg : "");
	fprintf(f, "  %-*s %s\n", width, left, help);
}

void
opttab_roff(FILE *f, const char *s)
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

void
opttab_man(FILE *f, const char *name, int sh, const char *arg,
    const char *help)
{
	fputs(".TP\n", f);
	if (sh)
		fprintf(f, "\\fB\\-%c\\fR, ", sh);
	fputs("\\fB\\-\\-", f);
	opttab_roff(f, name);
	fputs("\\fR", f);
	if (arg) {
		fputs(" \\fI", f);
		opttab_roff(f, arg);
		fputs("\\fR", f);
	}
	fputc('\n', f);
	opttab_roff(f, help);
	fputs(".\n", f);
}
