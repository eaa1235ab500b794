/* Option-table rows for --help and man pages. */
#include "opttab.h"

#include <string.h>

#include "errors.h"
#include "log.h"

void
opttab_getopt_init(opttab_rowfn row, size_t n, struct option *lo,
    char *shortopts)
{
	char *p = shortopts;

	*p++ = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < n; i++) {
		const struct opttab_row *r = row(i);
		lo[i].name = r->name;
		lo[i].has_arg = r->arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = r->id;
		if (r->sh) {
			*p++ = (char)r->sh;
			if (r->arg)
				*p++ = ':';
		}
	}
	*p = '\0';
	memset(&lo[n], 0, sizeof(lo[n]));
	opterr = 0;
	optind = 1;
}

int
opttab_next(int argc, char **argv, const char *shortopts,
    const struct option *lo, opttab_rowfn row, size_t n, const char *prog,
    size_t *idx)
{
	char shown[128];
	int c;

	if ((c = getopt_long(argc, argv, shortopts, lo, NULL)) == -1)
		return 0;
	if (c == '?' || c == ':') {
		if (c == '?' && optopt != 0)
			snprintf(shown, sizeof(shown), "-%c", optopt);
		else
			log_sanitize(shown, sizeof(shown), argv[optind - 1],
			    (size_t)-1);
		if (c == '?')
			return certo_fail(CERTO_EUSAGE, "unknown option '%s' (see "
			    "%s --help)", shown, prog);
		return certo_fail(CERTO_EUSAGE, "option '%s' needs an argument",
		    shown);
	}
	for (size_t i = 0; i < n; i++) {
		const struct opttab_row *r = row(i);
		if (r->id == c || (r->sh && r->sh == c)) {
			*idx = i;
			return 1;
		}
	}
	return certo_fail(CERTO_EUSAGE, "unknown option");
}

void
opttab_help(FILE *f, int width, const struct opttab_row *r)
{
	const char *name = r->name, *arg = r->arg, *help = r->help;
	int sh = r->sh;
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
opttab_man(FILE *f, const struct opttab_row *r)
{
	const char *name = r->name, *arg = r->arg, *help = r->help;
	int sh = r->sh;

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
