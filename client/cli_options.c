/*
 * The option rows of certo's command line (cli.h's CERTO_OPTIONS): one
 * parse function per kind of row, which validates an argument and
 * writes its field of struct certo_cli; the verbs; and the value
 * parsers the rest of the client shares (names, times).
 */
#include "cli.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"
#include "directory.h"
#include "domain.h"
#include "errors.h"
#include "kv.h"
#include "log.h"

/* The field a row writes, as the type its kind writes. */
#define FIELD(walk, opt, type) \
	((type *)(void *)((char *)(walk)->cli + (opt)->field))

/*
 * The type of the field each kind of row writes: the option table does
 * not compile when a row names a field of another type (FIELD_OF).
 */
typedef bool ftype_flag;
typedef int ftype_level;
typedef const char *ftype_string;
typedef const char *ftype_store;
typedef const char *ftype_deprecated;
typedef const char *ftype_server;
typedef const char *ftype_url;
typedef const char *ftype_profile;
typedef char **ftype_names;
typedef char **ftype_email;
typedef char **ftype_resolver;
typedef char **ftype_only;
typedef enum chall_type *ftype_challenges;
typedef long ftype_seconds;
typedef long ftype_seconds1;
typedef unsigned short ftype_port;
typedef enum key_type ftype_key_type;
typedef time_t ftype_time;
typedef unsigned ftype_jobs;
typedef int ftype_reason;

#define FIELD_OF(kind, field) (offsetof(struct certo_cli, field) + 0 *      \
	sizeof(char[_Generic(((struct certo_cli *)0)->field,                    \
	    ftype_##kind: 1, default: -1)]))

static int
add_ptr(char ***v, size_t *n, char *p)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(char *));

	if (nv == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	*v = nv;
	(*v)[(*n)++] = p;
	return 0;
}

/* A flag: the bool field becomes true. */
static int
set_flag(struct cli_parse *walk, const struct cli_option *opt, const char *arg)
{
	(void)arg;
	*FIELD(walk, opt, bool) = true;
	return 0;
}

/* -v, -q: the int field becomes param. */
static int
set_level(struct cli_parse *walk, const struct cli_option *opt, const char *arg)
{
	(void)arg;
	*FIELD(walk, opt, int) = (int)opt->param;
	return 0;
}

/* A string kept as given (a pointer into argv). */
static int
set_string(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	*FIELD(walk, opt, const char *) = arg;
	return 0;
}

/* --store URL: kept as given once it parses (the password never shown). */
static int
set_store(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	struct kv_url url;
	int rc;

	if ((rc = kv_url_parse(arg, &url)) != 0)
		return rc;
	kv_url_wipe(&url);
	*FIELD(walk, opt, const char *) = arg;
	return 0;
}

/* An old spelling: parsed as its replacement (row id param), noted. */
static int
set_deprecated(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	for (size_t i = 0; i < CLI_NOPTIONS; i++)
		if (cli_options[i].row.id == opt->param) {
			walk->deprecated = opt;
			walk->replacement = &cli_options[i];
			return cli_options[i].parse(walk, &cli_options[i], arg);
		}
	return certo_fail(CERTO_EUSAGE, "--%s has no replacement",
	    opt->row.name);
}

/* --server URL|NAME; an unknown NAME lists the names certo knows. */
static int
set_server(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	char shown[128], list[512] = "";
	size_t n = 0;

	if ((*FIELD(walk, opt, const char *) = directory_url_for(arg)) != NULL)
		return 0;
	if (strncmp(arg, "https://", 8) == 0 || strncmp(arg, "http://", 7) == 0) {
		*FIELD(walk, opt, const char *) = arg;
		return 0;
	}
	for (const char *const *k = directory_names(); *k && n < sizeof(list);
	    k++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    k == directory_names() ? "" : ", ", *k);
	return certo_fail(CERTO_EUSAGE, "unknown CA '%s' for --server: give "
	    "a directory URL (https://...) or one of: %s", log_str(shown,
	    sizeof(shown), arg), list);
}

/* A directory URL (--dry-run-server). */
static int
set_url(struct cli_parse *walk, const struct cli_option *opt, const char *arg)
{
	if (strncmp(arg, "https://", 8) != 0 && strncmp(arg, "http://", 7) != 0)
		return certo_fail(CERTO_EUSAGE, "--%s needs a directory URL",
		    opt->row.name);
	*FIELD(walk, opt, const char *) = arg;
	return 0;
}

/* --profile: a short name without spaces or quotes. */
static int
set_profile(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	if (*arg == '\0' || strlen(arg) > 64 ||
	    strpbrk(arg, " \t\r\n\"\\") != NULL)
		return certo_fail(CERTO_EUSAGE, "invalid profile name for --%s",
		    opt->row.name);
	*FIELD(walk, opt, const char *) = arg;
	return 0;
}

/*
 * -d a.example,b.example (certbot's habit): each comma-separated piece,
 * spaces around it dropped, is one name; empty pieces are refused.
 */
static int
set_names(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	char *copy, *piece, *next, *end, shown[128];
	int rc = 0;

	(void)opt;
	if (strchr(arg, ',') == NULL)
		return cli_add_name(walk->cli, arg);
	if ((copy = strdup(arg)) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	for (piece = copy; piece != NULL && rc == 0; piece = next) {
		if ((next = strchr(piece, ',')) != NULL)
			*next++ = '\0';
		while (*piece == ' ' || *piece == '\t')
			piece++;
		end = piece + strlen(piece);
		while (end > piece && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*piece == '\0')
			rc = certo_fail(CERTO_EUSAGE, "empty name in -d '%s'",
			    log_str(shown, sizeof(shown), arg));
		else
			rc = cli_add_name(walk->cli, piece);
	}
	free(copy);
	return rc;
}

/* "http-01,tls-alpn-01": known types, no repeats, in order. */
static int
set_challenges(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	struct certo_cli *cli = walk->cli;
	char *copy, *tok, *save = NULL, shown[64];
	enum chall_type type;
	int rc = 0;

	if ((copy = strdup(arg)) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	cli->nchallenges = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((type = challenge_type_parse(tok)) == CHALL_UNKNOWN) {
			rc = certo_fail(CERTO_EUSAGE, "unknown challenge type '%s' for "
			    "--%s (use http-01, tls-alpn-01, dns-01)",
			    log_str(shown, sizeof(shown), tok), opt->row.name);
			break;
		}
		for (size_t i = 0; i < cli->nchallenges && rc == 0; i++)
			if (cli->challenges[i] == type)
				rc = certo_fail(CERTO_EUSAGE, "challenge type %s given "
				    "twice in --%s", tok, opt->row.name);
		if (rc == 0 && cli->nchallenges < 3)
			cli->challenges[cli->nchallenges++] = type;
	}
	if (rc == 0 && cli->nchallenges == 0)
		rc = certo_fail(CERTO_EUSAGE, "--%s needs at least one type",
		    opt->row.name);
	free(copy);
	return rc;
}

/* A whole number 0..max, or CERTO_EUSAGE with what (after the value). */
static int
parse_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max)
		return CERTO_EUSAGE;
	*out = v;
	return 0;
}

/* Seconds, 0 to param. */
static int
set_seconds(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	if (parse_number(arg, 0, opt->param, FIELD(walk, opt, long)) != 0)
		return certo_fail(CERTO_EUSAGE, "invalid number of seconds '%s' "
		    "for --%s (0 to %ld)", arg, opt->row.name, opt->param);
	return 0;
}

/* Seconds, 1 to param (0 is said apart: a timeout of nothing). */
static int
set_seconds1(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	int rc;

	if ((rc = set_seconds(walk, opt, arg)) != 0)
		return rc;
	if (*FIELD(walk, opt, long) == 0)
		return certo_fail(CERTO_EUSAGE, "--%s must be at least 1 second",
		    opt->row.name);
	return 0;
}

/* A TCP port, 1 to 65535. */
static int
set_port(struct cli_parse *walk, const struct cli_option *opt, const char *arg)
{
	long port;

	if (parse_number(arg, 1, 65535, &port) != 0)
		return certo_fail(CERTO_EUSAGE, "invalid port '%s' for --%s", arg,
		    opt->row.name);
	*FIELD(walk, opt, unsigned short) = (unsigned short)port;
	return 0;
}

/* --jobs N, 1 to param. */
static int
set_jobs(struct cli_parse *walk, const struct cli_option *opt, const char *arg)
{
	char shown[128];
	long jobs;

	if (parse_number(arg, 1, opt->param, &jobs) != 0)
		return certo_fail(CERTO_EUSAGE, "invalid --%s '%s' (1 to %ld)",
		    opt->row.name, log_str(shown, sizeof(shown), arg), opt->param);
	*FIELD(walk, opt, unsigned) = (unsigned)jobs;
	return 0;
}

/* --dns-resolver: at most param of them. */
static int
set_resolver(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	struct certo_cli *cli = walk->cli;

	if (cli->ndns_resolvers >= (size_t)opt->param)
		return certo_fail(CERTO_EUSAGE, "at most %ld --%s servers",
		    opt->param, opt->row.name);
	return add_ptr(&cli->dns_resolvers, &cli->ndns_resolvers,
	    (char *)(uintptr_t)arg);
}

/* --email: one address, no list, no display name. */
static int
set_email(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	struct certo_cli *cli = walk->cli;
	char shown[128];

	(void)opt;
	if (strchr(arg, '@') == NULL || strpbrk(arg, " \t\r\n,<>\"") != NULL ||
	    strlen(arg) > 254)
		return certo_fail(CERTO_EUSAGE, "invalid e-mail address '%s'",
		    log_str(shown, sizeof(shown), arg));
	return add_ptr(&cli->emails, &cli->nemails, (char *)(uintptr_t)arg);
}

/* renew --name: checked against the stored names by renew. */
static int
set_only(struct cli_parse *walk, const struct cli_option *opt, const char *arg)
{
	(void)opt;
	return add_ptr(&walk->cli->only, &walk->cli->nonly, (char *)(uintptr_t)arg);
}

/* A key type; ed25519 only when param is 1 (CAs do not issue for it). */
static int
set_key_type(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	enum key_type *type = FIELD(walk, opt, enum key_type);
	char shown[128];

	if (key_type_parse(arg, type) != 0 ||
	    (opt->param == 0 && *type == KEY_ED25519))
		return certo_fail(CERTO_EUSAGE, "unknown key type '%s' for --%s "
		    "(ec-256, ec-384, rsa-2048, rsa-3072, rsa-4096%s)",
		    log_str(shown, sizeof(shown), arg), opt->row.name,
		    opt->param ? ", ed25519" : "");
	return 0;
}

/* A time; with param 1 it must be in the future (--not-after). */
static int
set_time(struct cli_parse *walk, const struct cli_option *opt, const char *arg)
{
	time_t *when = FIELD(walk, opt, time_t);
	char shown[128];
	int rc;

	if ((rc = cli_parse_time(arg, opt->row.name, walk->now, when)) != 0)
		return rc;
	/* A certificate that expired before it was asked for. */
	if (opt->param && *when <= walk->now)
		return certo_fail(CERTO_EUSAGE, "--%s %s is not in the future",
		    opt->row.name, log_str(shown, sizeof(shown), arg));
	return 0;
}

/* RFC 5280 CRLReason names, by code (7 is unused). */
static const char *const reasons[] = { "unspecified", "keyCompromise",
	"cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", NULL, "removeFromCRL",
	"privilegeWithdrawn", "aACompromise" };
#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

/* --reason NAME as its CRLReason code. */
static int
set_reason(struct cli_parse *walk, const struct cli_option *opt,
    const char *arg)
{
	char shown[128];

	for (size_t code = 0; code < NREASONS; code++)
		if (reasons[code] != NULL && strcmp(reasons[code], arg) == 0) {
			*FIELD(walk, opt, int) = (int)code;
			return 0;
		}
	return certo_fail(CERTO_EUSAGE, "unknown --%s '%s' (unspecified, "
	    "keyCompromise, affiliationChanged, superseded, "
	    "cessationOfOperation...)", opt->row.name, log_str(shown,
	    sizeof(shown), arg));
}

const struct cli_option cli_options[CLI_NOPTIONS] = {
#define XX(id, name, sh, arg, verbs, kind, field, param, help)              \
	{ { name, sh, arg, help, CLI_OPT_##id }, verbs, set_##kind,             \
	    FIELD_OF(kind, field), param },
	CERTO_OPTIONS(XX)
#undef XX
};
_Static_assert(sizeof(cli_options) / sizeof(cli_options[0]) == CLI_NOPTIONS,
    "CLI_NOPTIONS counts the rows");

/* account's sub-commands (account.c runs them). */
static const char *const account_words[] = { "register", "info", "update",
	"deactivate", "rollover", "import", NULL };

const struct cli_verb_row cli_verbs[] = {
	{ "issue", VERB_ISSUE, V_ISSUE, "", NULL, 0,
	  "get a certificate for one or more names" },
	{ "renew", VERB_RENEW, V_RENEW, "", NULL, 0,
	  "renew every stored certificate that is due (cron, systemd timer)" },
	{ "authorize", VERB_AUTHORIZE, V_AUTHORIZE, "", NULL, 0,
	  "prove control of names now; a later issue reuses the "
	  "authorizations" },
	{ "revoke", VERB_REVOKE, V_REVOKE, "", NULL, 0,
	  "revoke a certificate" },
	{ "account", VERB_ACCOUNT, V_ACCOUNT, "", account_words, 1,
	  "manage the ACME account for --server" },
	{ "list", VERB_LIST, V_LIST, "", NULL, 0,
	  "list stored certificates with expiry and renewal window" },
	{ "delete", VERB_DELETE, V_DELETE, "NAME", NULL, 1,
	  "delete a stored certificate (its live and archive files)" },
	{ "deactivate-authz", VERB_DEACTIVATE, V_DEACTIVATE, "URL|NAME", NULL,
	  1, "deactivate an authorization (by URL, or the saved one for NAME)" },
	{ "ratelimit", VERB_RATELIMIT, V_RATELIMIT, "", NULL, 0,
	  "show what the CA rate-limited and until when (--clear forgets it)" },
	{ "import", VERB_IMPORT, V_IMPORT, "[DIR]", NULL, 2,
	  "take over certbot's (--certbot) or lego's (--lego) accounts, "
	  "certificates and renewal settings, without asking the CA" },
	{ "orders", VERB_ORDERS, V_ORDERS, "", NULL, 0,
	  "list the saved orders in flight (authorize, interrupted issues): "
	  "names, CA, status, expiry, pending authorizations" },
};
const size_t cli_nverbs = sizeof(cli_verbs) / sizeof(cli_verbs[0]);

/*
 * The verb's positional argument as help shows it (cli_table.h).
 */
const char *
cli_verb_args(const struct cli_verb_row *v, const char *sep, char *buf,
    size_t len)
{
	size_t n = 0;

	if (v->words == NULL || len == 0)
		return v->args;
	buf[0] = '\0';
	for (const char *const *w = v->words; *w != NULL && n < len; w++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
		    w == v->words ? "" : sep, *w);
	return buf;
}

/*
 * True if name is an IPv4 or IPv6 literal (ident_classify()).
 */
bool
cli_is_ip(const char *name)
{
	enum ident_kind kind = ident_classify(name, false, NULL, NULL);

	return kind == IDENT_IPV4 || kind == IDENT_IPV6;
}

/*
 * The form a name is stored under (cli.h).
 */
int
cli_normalize_name(const char *arg, char **out)
{
	return ident_normalize(arg, out);
}

/*
 * Add a name, normalised, unless it is there already (cli.h).
 */
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
 * Parse "+30m" or an RFC 3339 UTC time for --opt (cli.h).
 */
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
