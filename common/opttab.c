/*
 * Option tables walked for getopt_long, --help and man pages; shared by
 * certo and certo-responder.  A row whose help is NULL is a hidden
 * alias: accepted, never shown nor suggested.
 */
#include "opttab.h"

#include <string.h>

#include "errors.h"
#include "log.h"

/*
 * getopt_long's arrays from the rows (opttab.h); getopt starts afresh.
 */
void
opttab_getopt_init(opttab_rowfn row, size_t n, struct option *lo,
    char *shortopts)
{
	char *p = shortopts;

	*p++ = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < n; i++) {
		const struct opttab_row *opt = row(i);
		lo[i].name = opt->name;
		lo[i].has_arg = opt->arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = opt->id;
		if (opt->sh) {
			*p++ = (char)opt->sh;
			if (opt->arg)
				*p++ = ':';
		}
	}
	*p = '\0';
	memset(&lo[n], 0, sizeof(lo[n]));
	opterr = 0;
	/* 0, not 1: glibc forgets a word it stopped in (a second parse). */
	optind = 0;
}

/* Edit distance of a and b (at most 64 bytes each, else large). */
static size_t
distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), row[65], diag, up;

	if (la > 64 || lb > 64)
		return 100;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/*
 * A hint for an unknown option word ("--standalon", "--dns",
 * "-standalone"): " (did you mean --standalone?)", the candidates of an
 * ambiguous prefix, or "" when nothing is close.
 */
static void
suggest(const char *word, opttab_rowfn row, size_t n, char *out,
    size_t outlen)
{
	const char *name = word, *best = NULL;
	size_t len, bestd = 100, nprefix = 0, k = 0;

	*out = '\0';
	if (strncmp(name, "--", 2) == 0)
		name += 2;
	else if (name[0] == '-' && strlen(name) > 2)
		name += 1; /* a long option written with one dash */
	else
		return;
	len = strcspn(name, "=");
	if (len == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *r = row(i)->name;
		size_t d;
		if (row(i)->help == NULL)
			continue;
		d = distance(name, len, r);
		if (strncmp(r, name, len) == 0)
			nprefix++;
		if (d < bestd) {
			bestd = d;
			best = r;
		}
	}
	if (nprefix > 1 && word[1] == '-') {
		/* getopt_long refuses an ambiguous abbreviation. */
		k = (size_t)snprintf(out, outlen, " (ambiguous: ");
		for (size_t i = 0, shown = 0; i < n && k < outlen; i++) {
			const char *r = row(i)->name;
			if (row(i)->help == NULL || strncmp(r, name, len) != 0)
				continue;
			if (shown++ == 4) {
				k += (size_t)snprintf(out + k, outlen - k, ", ...");
				break;
			}
			k += (size_t)snprintf(out + k, outlen - k, "%s--%s",
			    shown > 1 ? ", " : "", r);
		}
		if (k < outlen)
			snprintf(out + k, outlen - k, ")");
		return;
	}
	/* Close enough to be a typo: at most 2 edits, or 3 for long words. */
	if (best != NULL && bestd > 0 && bestd <= (len >= 10 ? 3 : 2) &&
	    bestd < len)
		snprintf(out, outlen, " (did you mean --%s?)", best);
	else if (best != NULL && bestd == 0)
		snprintf(out, outlen, " (did you mean --%s?)", best);
}

/*
 * The next option of argv, or a one-line usage error (opttab.h).
 */
int
opttab_next(int argc, char **argv, const char *shortopts,
    const struct option *lo, opttab_rowfn row, size_t n, const char *prog,
    size_t *idx)
{
	char shown[128], hint[160] = "";
	const char *word;
	int c;

	if ((c = getopt_long(argc, argv, shortopts, lo, NULL)) == -1)
		return 0;
	if (c == '?' || c == ':') {
		if (c == '?' && optopt != 0) {
			snprintf(shown, sizeof(shown), "-%c", optopt);
			/* "-standalone": the word still being scanned. */
			word = optind < argc && argv[optind][0] == '-' &&
			    argv[optind][1] == optopt ? argv[optind] :
			    argv[optind - 1];
			if (word[0] == '-' && word[1] == optopt) {
				suggest(word, row, n, hint, sizeof(hint));
				if (*hint != '\0')
					log_str(shown, sizeof(shown), word);
			}
		} else {
			log_str(shown, sizeof(shown), argv[optind - 1]);
			if (c == '?')
				suggest(argv[optind - 1], row, n, hint, sizeof(hint));
		}
		if (c == '?' && *hint != '\0')
			return certo_fail(CERTO_EUSAGE, "unknown option '%s'%s",
			    shown, hint);
		if (c == '?')
			return certo_fail(CERTO_EUSAGE, "unknown option '%s' (see "
			    "%s --help)", shown, prog);
		return certo_fail(CERTO_EUSAGE, "option '%s' needs an argument",
		    shown);
	}
	for (size_t i = 0; i < n; i++) {
		const struct opttab_row *opt = row(i);
		if (opt->id == c || (opt->sh && opt->sh == c)) {
			*idx = i;
			return 1;
		}
	}
	return certo_fail(CERTO_EUSAGE, "unknown option");
}

/*
 * One --help line for opt; nothing for a hidden row.
 */
void
opttab_help(FILE *f, int width, const struct opttab_row *opt)
{
	const char *name = opt->name, *arg = opt->arg, *help = opt->help;
	int sh = opt->sh;
	char left[80];

	if (help == NULL)
		return;
	if (sh)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", sh, name,
		    arg ? " " : "", arg ? arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", name, arg ? " " : "",
		    arg ? arg : "");
	fprintf(f, "  %-*s %s\n", width, left, help);
}

/*
 * s as roff text (opttab.h).
 */
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

/*
 * One man-page entry for opt; nothing for a hidden row.
 */
void
opttab_man(FILE *f, const struct opttab_row *opt)
{
	const char *name = opt->name, *arg = opt->arg, *help = opt->help;
	int sh = opt->sh;

	if (help == NULL)
		return;
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
