/* certo-responder's options: environment, then the command line. */
#include "daemon_cli.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "errors.h"
#include "kv.h"
#include "opttab.h"
#include "log.h"
#include "tokens.h"

struct opt_info {
	struct opttab_row row;
	const char *env;
};

static const struct opt_info opts[] = {
#define XX(id, name, sh, arg, help) \
	{ { name, sh, arg, help, DAEMON_OPT_##id }, "CERTO_RESPONDER_" #id },
	RESPONDER_OPTIONS(XX)
#undef XX
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* --help: usage, every option of the table, signals and exit codes. */
void
daemon_cli_help(FILE *f)
{
	fprintf(f, "usage: certo-responder [options]\n\n"
	    "Answer ACME http-01 and tls-alpn-01 challenges for clients that "
	    "register them\non a control socket (certo issue --responder "
	    "SOCKET).  Runs in the foreground\nand logs to stderr.\n\n"
	    "Options (each also as the variable CERTO_RESPONDER_<OPTION>, "
	    "e.g.\nCERTO_RESPONDER_HTTP_PORT=8080; the command line wins):\n");
	for (size_t i = 0; i < NOPTS; i++)
		opttab_help(f, 28, &opts[i].row);
	fprintf(f, "\nSignals: TERM and INT stop cleanly (the socket is "
	    "removed), HUP is logged.\nExit codes: 0 stopped by a signal, 1 "
	    "usage or configuration error, 4 cannot\nbind a port or the "
	    "socket, or another local error; 8 --store unreachable, 9 it "
	    "refused the\ncredentials; no other code.\n");
}


/* Fixed roff text of docs/certo-responder.8, around the generated parts. */
static const char *const man_head[] = {
    ".\\\" Generated from the option table in responder/daemon_cli.h by "
    "certo-responder-mkman; do not edit.\n"
    ".TH CERTO\\-RESPONDER 8 \"\" \"certo " CERTO_VERSION "\" "
    "\"System Administration\"\n",
    ".SH NAME\n"
    "certo\\-responder \\- ACME http\\-01 and tls\\-alpn\\-01 challenge "
    "responder daemon\n",
    ".SH SYNOPSIS\n"
    "\\fBcerto\\-responder\\fR [\\fIoptions\\fR]\n",
    ".SH DESCRIPTION\n"
    "\\fBcerto\\-responder\\fR answers ACME (RFC 8555) challenges on behalf "
    "of clients that register them on a unix control socket: "
    "\\fBhttp\\-01\\fR on an HTTP port (default 80) and "
    "\\fBtls\\-alpn\\-01\\fR (RFC 8737) on a TLS port (default 443). "
    "\\fBcerto issue \\-\\-responder\\fR \\fISOCKET\\fR uses it, so that "
    "the client needs no privileges and no ports, and one long\\-running "
    "responder can serve several clients or containers.\n"
    ".PP\n"
    "It runs in the foreground and logs to standard error. When started as "
    "root it binds its ports and the socket first and then switches to "
    "\\fB\\-\\-user\\fR; it refuses to keep running as root unless told "
    "\\fB\\-\\-stay\\-root\\fR. With \\fB\\-\\-user\\fR, a second "
    "process forked before any socket exists stays root to remove the "
    "control socket at exit (its directory, such as \\fI/run/certo\\fR, "
    "usually belongs to root): it keeps no capability but "
    "\\fBCAP_DAC_OVERRIDE\\fR and \\fBCAP_FOWNER\\fR, holds no socket, "
    "waits for the daemon to exit (however it exits, \\fBSIGKILL\\fR "
    "included) and then removes the socket file if it is still the one the "
    "daemon created.\n"
    ".PP\n"
    "HTTP requests for \\fI/.well\\-known/acme\\-challenge/<token>\\fR "
    "(GET or HEAD) are answered with the key authorization as "
    "\\fIapplication/octet\\-stream\\fR; other paths get 404, or a 301 "
    "redirect to https with \\fB\\-\\-http\\-redirect\\fR, or the "
    "answer of a backend with \\fB\\-\\-http\\-proxy\\fR; other methods "
    "get 405. TLS connections offering the ALPN protocol "
    "\\fIacme\\-tls/1\\fR for a registered identifier get the validation "
    "certificate; all other TLS is refused, or passed through unchanged "
    "to \\fB\\-\\-tls\\-proxy\\fR.\n",
    ".SH OPTIONS\n",
    NULL
};

static const char *const man_env_intro[] = {
    ".SH ENVIRONMENT\n"
    "Every option except \\fB\\-\\-help\\fR and \\fB\\-\\-version\\fR can "
    "also be given as a variable; an option on the command line wins over "
    "its variable. Options without an argument take \\fB1\\fR, "
    "\\fByes\\fR, \\fBtrue\\fR or \\fBon\\fR (and \\fB0\\fR, \\fBno\\fR, "
    "\\fBfalse\\fR, \\fBoff\\fR or empty for off). An invalid value is a "
    "configuration error naming the variable.\n",
    NULL
};

static const char *const man_tail[] = {
    ".SH CONTROL PROTOCOL\n"
    "One request per line on the control socket, answered with one line "
    "(\\fIdocs/responder\\-protocol.md\\fR has every rule, limit and "
    "error):\n"
    ".PP\n.nf\n"
    "auth <type> <ident> <token> <key\\-authorization>   \\-> OK | ERR <reason>\n"
    "unauth <type> <ident> <token>                      \\-> OK | ERR <reason>\n"
    "list                 \\-> OK <n>, then n lines <type> <ident> <token>\n"
    ".fi\n"
    ".PP\n"
    "\\fI<type>\\fR is \\fBhttp\\-01\\fR or \\fBtls\\-alpn\\-01\\fR; "
    "\\fI<ident>\\fR a lower\\-case DNS name or an IP address; "
    "\\fI<token>\\fR base64url; the key authorization "
    "\\fI<token>.<thumbprint>\\fR with the same token. Fields are "
    "separated by single spaces, lines end with a newline and hold at "
    "most 1023 bytes, without control or non\\-ASCII bytes. At most 64 "
    "clients are served at once; idle connections are closed after 30 "
    "seconds.\n"
    ".PP\n"
    "Whoever can write to the socket can have certificates issued for the "
    "names this responder serves: give it to a group "
    "(\\fB\\-\\-socket\\-group\\fR) that holds only the users running "
    "\\fBcerto\\fR. Modes giving others write access are refused.\n",
    ".SH HTTP FALLBACK\n"
    "With \\fB\\-\\-http\\-redirect\\fR, GET and HEAD requests outside "
    "\\fI/.well\\-known/acme\\-challenge/\\fR are answered with 301 and "
    "\\fILocation: https://<host><path>[?<query>]\\fR, where "
    "\\fI<host>\\fR is the request's Host header without its port (a "
    "missing or malformed Host gets 400). Unknown challenge tokens still "
    "get 404.\n"
    ".PP\n"
    "With \\fB\\-\\-http\\-proxy\\fR \\fIHOST:PORT\\fR, those requests are "
    "forwarded to the backend as HTTP/1.0 with the client's headers (minus "
    "hop\\-by\\-hop ones), \\fIX\\-Forwarded\\-For\\fR and "
    "\\fIX\\-Forwarded\\-Proto: http\\fR; the backend's status, headers "
    "and body are relayed. Answers larger than 1 MiB, taking longer than "
    "10 seconds, or using chunked encoding become 502. This is meant for "
    "small sites and redirects behind the responder, not as a general "
    "reverse proxy: a slow backend holds one of four HTTP threads. A HEAD "
    "answer keeps the backend's \\fIContent\\-Length\\fR.\n"
    ".PP\n"
    "The \\fIHOST\\fR of \\fB\\-\\-http\\-proxy\\fR and "
    "\\fB\\-\\-tls\\-proxy\\fR is looked up when a connection needs "
    "it, not only at start: a backend that does not resolve yet (a "
    "container started later) is not an error. An answer is kept 30 "
    "seconds (an older one is used while it is refreshed); while the name "
    "does not resolve it is looked up again every second for as long as "
    "connections wait, each at most \\fB\\-\\-idle\\-timeout\\fR "
    "seconds (TLS, then closed) or 5 seconds (HTTP, then 502). One warning "
    "is logged when the name stops resolving, one line when it resolves "
    "again.\n",
    ".SH LIMITS\n"
    "At start the soft limit on open descriptors (\\fBRLIMIT_NOFILE\\fR) "
    "is raised to the hard limit (at most 65536). The connection caps must "
    "fit in it, with room for 64 control socket clients, 16 "
    "\\fB\\-\\-health\\fR clients and 64 descriptors of the daemon's "
    "own: each HTTP connection takes one descriptor, each TLS connection "
    "one, or two when passed through to \\fB\\-\\-tls\\-proxy\\fR. "
    "When \\fB\\-\\-max\\-conns\\fR does not fit, it is lowered with "
    "a warning; a limit too small for 16 connections per port is a "
    "configuration error. The log says which caps are in force.\n"
    ".PP\n"
    "A port at \\fB\\-\\-max\\-conns\\fR, or a client address at "
    "\\fB\\-\\-max\\-conns\\-per\\-ip\\fR on that port (IPv4 and "
    "IPv4\\-mapped IPv6 count as one address), gets further connections "
    "accepted and closed at once, so one client cannot starve the others, "
    "the other port or the control socket; one warning per 10 seconds says "
    "so. HTTP connections idle for \\fB\\-\\-idle\\-timeout\\fR "
    "seconds are closed, and so are TLS connections that have not finished "
    "their handshake (or reached their backend) by then; connections "
    "passed through to a backend are closed after 300 seconds without "
    "traffic. Should descriptors run out all the same (the system\\-wide "
    "limit), each server stops accepting for a moment (a quarter of a "
    "second, one second for the control socket) instead of spinning.\n",
    ".SH SIGNALS\n"
    ".TP\n\\fBSIGTERM\\fR, \\fBSIGINT\\fR\n"
    "Stop the servers, remove the control socket and exit 0 (after a "
    "switch to \\fB\\-\\-user\\fR the helper process removes it, "
    "before the daemon exits).\n"
    ".TP\n\\fBSIGHUP\\fR\n"
    "Logged; logs go to standard error, so there is nothing to reopen.\n",
    ".SH EXIT STATUS\n"
    ".TP\n0\nStopped by SIGTERM or SIGINT (also after \\fB\\-\\-help\\fR "
    "and \\fB\\-\\-version\\fR).\n"
    ".TP\n1\nUsage or configuration error (the message names the option "
    "or variable), including starting as root without \\fB\\-\\-user\\fR "
    "or \\fB\\-\\-stay\\-root\\fR.\n"
    ".TP\n4\nA port or the control socket could not be bound (in use, "
    "permission), another daemon listens on the socket, a non\\-socket file "
    "is in its place, or another local error such as a failed privilege "
    "drop.\n"
    ".TP\n8\nThe \\fB\\-\\-store\\fR stayed unreachable at start "
    "(\\fBCERTO_STORE_WAIT\\fR seconds, default 10).\n"
    ".TP\n9\nThe store refused the credentials of its URL.\n"
    ".PP\n"
    "No other status is used. A proxy backend that does not resolve is not "
    "an error at start (see \\fBHTTP FALLBACK\\fR).\n",
    ".SH FILES\n"
    ".TP\n\\fI/run/certo/responder.sock\\fR\n"
    "The default control socket (systemd: \\fBRuntimeDirectory=certo\\fR).\n"
    ".TP\n\\fIcerto\\-responder.service\\fR\n"
    "The systemd unit installed with certo.\n",
    ".SH EXAMPLES\n"
    "As a systemd service, binding 80 and 443 as root and then running as "
    "the system user \\fIcerto\\-responder\\fR, reachable by the members "
    "of group \\fIcerto\\fR:\n"
    ".PP\n.nf\n"
    "adduser \\-\\-system \\-\\-group \\-\\-no\\-create\\-home certo\\-responder\n"
    "addgroup \\-\\-system certo\n"
    "systemctl enable \\-\\-now certo\\-responder.service\n"
    "certo issue \\-d example.org \\-\\-responder /run/certo/responder.sock\n"
    ".fi\n"
    ".PP\n"
    "The unit runs:\n"
    ".PP\n.nf\n"
    "certo\\-responder \\-\\-user certo\\-responder \\-\\-socket\\-group certo \\e\n"
    "    \\-\\-health 127.0.0.1:8081\n"
    ".fi\n"
    ".PP\n"
    "As a container sidecar (the image certo:" CERTO_VERSION " that "
    "\\fIscripts/container/build.sh\\fR builds; \\fIdocs/container.md\\fR): "
    "the responder is the image's default command, run as the user certo "
    "on ports 8080 and 8443 published as 80 and 443; it redirects other "
    "HTTP to https and passes other TLS through to the web server; the "
    "socket lives in a volume shared with the containers running "
    "\\fBcerto\\fR (issue, then renew \\-\\-loop):\n"
    ".PP\n.nf\n"
    "podman run \\-d \\-\\-name responder \\-p 80:8080 \\-p 443:8443 \\e\n"
    "    \\-v certo\\-run:/run/certo \\e\n"
    "    \\-e CERTO_RESPONDER_HTTP_REDIRECT=1 \\e\n"
    "    \\-e CERTO_RESPONDER_TLS_PROXY=web:8443 certo:" CERTO_VERSION "\n"
    "podman run \\-\\-rm \\-v certo\\-run:/run/certo "
    "\\-v certo\\-state:/var/lib/certo \\e\n"
    "    certo:" CERTO_VERSION " certo issue \\-d example.org \\e\n"
    "    \\-\\-responder /run/certo/responder.sock\n"
    ".fi\n"
    ".PP\n"
    "Testing by hand on high ports:\n"
    ".PP\n.nf\n"
    "certo\\-responder \\-\\-stay\\-root \\-\\-socket /tmp/r.sock "
    "\\-\\-http\\-port 8080 \\-\\-tls\\-port 8443 &\n"
    "printf \\(aqlist\\en\\(aq | socat \\- UNIX\\-CONNECT:/tmp/r.sock\n"
    ".fi\n",
    ".SH SEE ALSO\n"
    "\\fBcerto\\fR(1), RFC 8555, RFC 8737, RFC 8738\n",
    NULL
};

/* Each piece stays under C99's 4095-byte string literal limit. */
static void
man_puts(FILE *f, const char *const *parts)
{
	for (; *parts != NULL; parts++)
		fputs(*parts, f);
}

/* docs/certo-responder.8: fixed text around the table's OPTIONS/ENVIRONMENT. */
void
daemon_cli_man(FILE *f)
{
	man_puts(f, man_head);
	for (size_t i = 0; i < NOPTS; i++)
		opttab_man(f, &opts[i].row);
	man_puts(f, man_env_intro);
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].row.id == DAEMON_OPT_HELP ||
		    opts[i].row.id == DAEMON_OPT_VERSION)
			continue;
		fputs(".TP\n\\fB", f);
		fputs(opts[i].env, f);
		fputs("\\fR\n", f);
		fputs("As \\fB\\-\\-", f);
		opttab_roff(f, opts[i].row.name);
		fputs("\\fR.\n", f);
	}
	man_puts(f, man_tail);
}

/* Where a value came from, for messages: "--http-port" or the variable. */
static const char *
source(const struct opt_info *opt, bool env, char *buf, size_t len)
{
	if (env)
		snprintf(buf, len, "%s (--%s)", opt->env, opt->row.name);
	else
		snprintf(buf, len, "--%s", opt->row.name);
	return buf;
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "", "0", "no", "false", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, 0;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, 0;
	return -1;
}

/* "ADDR:PORT" or "[V6]:PORT" into cli->health_addr/port. */
static int
parse_health(struct daemon_cli *cli, const char *s)
{
	const char *colon = strrchr(s, ':');
	unsigned long port;
	size_t n;

	if (colon == NULL || colon == s ||
	    parse_ulong(colon + 1, 65535, &port) != 0 || port == 0)
		return -1;
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return -1;
		s++;
		n -= 2;
	}
	if (n >= sizeof(cli->health_addr))
		return -1;
	memcpy(cli->health_addr, s, n);
	cli->health_addr[n] = '\0';
	cli->health_port = (unsigned short)port;
	cli->health = true;
	return 0;
}

/* A flag (help, version, -v, -q, --http-redirect, --stay-root). */
static void
apply_flag(struct daemon_cli *cli, enum daemon_opt id, bool on)
{
	switch (id) {
	case DAEMON_OPT_HELP:
		cli->help = on;
		break;
	case DAEMON_OPT_VERSION:
		cli->version = on;
		break;
	case DAEMON_OPT_VERBOSE:
		if (on)
			cli->verbosity = 2;
		break;
	case DAEMON_OPT_QUIET:
		if (on)
			cli->verbosity = 0;
		break;
	case DAEMON_OPT_HTTP_REDIRECT:
		cli->http_redirect = on;
		break;
	case DAEMON_OPT_STAY_ROOT:
		cli->stay_root = on;
		break;
	default:
		break;
	}
}

/* The range of a numeric option and the word for its unit in messages. */
struct num_rule {
	enum daemon_opt id;
	unsigned long min, max;
	const char *unit;       /* NULL: a port (0 disables) */
};

static const struct num_rule num_rules[] = {
	{ DAEMON_OPT_HTTP_PORT, 0, 65535, NULL },
	{ DAEMON_OPT_TLS_PORT, 0, 65535, NULL },
	{ DAEMON_OPT_MAX_TOKENS, 1, DAEMON_MAX_TOKENS, "a number" },
	{ DAEMON_OPT_MAX_CONNS, 1, DAEMON_MAX_CONNS, "a number" },
	{ DAEMON_OPT_MAX_CONNS_PER_IP, 0, DAEMON_MAX_CONNS, "a number" },
	{ DAEMON_OPT_IDLE_TIMEOUT, 1, DAEMON_MAX_IDLE_S, "seconds" },
	{ DAEMON_OPT_TOKEN_TTL, 10, (unsigned long)DAEMON_MAX_TTL, "seconds" },
};
#define NRULES (sizeof(num_rules) / sizeof(num_rules[0]))

static const struct num_rule *
num_rule_of(enum daemon_opt id)
{
	for (size_t i = 0; i < NRULES; i++)
		if (num_rules[i].id == id)
			return &num_rules[i];
	return NULL;
}

/* A number within its rule's range into the field of that option. */
static int
apply_number(struct daemon_cli *cli, const struct opt_info *opt,
    const struct num_rule *rule, const char *val, bool env)
{
	char src[96], shown[96];
	unsigned long v;

	if (parse_ulong(val, rule->max, &v) != 0 || v < rule->min) {
		source(opt, env, src, sizeof(src));
		log_str(shown, sizeof(shown), val);
		if (rule->unit == NULL)
			return certo_fail(CERTO_EUSAGE, "%s: invalid port '%s' "
			    "(0 disables)", src, shown);
		return certo_fail(CERTO_EUSAGE, "%s: expected %s from %lu to "
		    "%lu, not '%s'", src, rule->unit, rule->min, rule->max,
		    shown);
	}
	switch (rule->id) {
	case DAEMON_OPT_HTTP_PORT:
		cli->http_port = (unsigned short)v;
		break;
	case DAEMON_OPT_TLS_PORT:
		cli->tls_port = (unsigned short)v;
		break;
	case DAEMON_OPT_MAX_TOKENS:
		cli->max_tokens = v;
		break;
	case DAEMON_OPT_MAX_CONNS:
		cli->max_conns = (unsigned)v;
		break;
	case DAEMON_OPT_MAX_CONNS_PER_IP:
		cli->max_per_ip = (unsigned)v;
		break;
	case DAEMON_OPT_IDLE_TIMEOUT:
		cli->idle_timeout = (unsigned)v;
		break;
	case DAEMON_OPT_TOKEN_TTL:
		cli->token_ttl = (long)v;
		break;
	default:
		break;
	}
	return 0;
}

/* --socket-mode: octal, at most 0777, never writable by others. */
static int
apply_socket_mode(struct daemon_cli *cli, const char *src, const char *val)
{
	char shown[96];
	unsigned long v;

	if (strspn(val, "01234567") != strlen(val) || strlen(val) > 4 ||
	    (v = strtoul(val, NULL, 8)) > 0777)
		return certo_fail(CERTO_EUSAGE, "%s: expected an octal mode such "
		    "as 0660, not '%s'", src, log_str(shown, sizeof(shown), val));
	if (v & 0002)
		return certo_fail(CERTO_ECONFIG, "%s: mode %04lo would let every "
		    "local user answer challenges; use --socket-group instead",
		    src, v);
	cli->socket_mode = (mode_t)v;
	return 0;
}

/* "HOST:PORT" of --http-proxy / --tls-proxy (looked up later). */
static bool
proxy_spec_ok(const char *val)
{
	const char *colon = strrchr(val, ':');
	unsigned long port;

	return colon != NULL && colon != val && strlen(val) <= 255 &&
	    parse_ulong(colon + 1, 65535, &port) == 0 && port != 0;
}

/* --store URL: parsed now so that a bad one fails at start. */
static int
apply_store(struct daemon_cli *cli, const char *src, const char *val)
{
	struct kv_url url;

	if (kv_url_parse(val, &url) != 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", certo_errmsg() ?
		    certo_errmsg() : "bad store URL");
		certo_errclear();
		return certo_fail(CERTO_EUSAGE, "%s: %s", src, msg);
	}
	kv_url_wipe(&url);
	cli->store = val;
	return 0;
}

/* An option with a text argument. */
static int
apply_text(struct daemon_cli *cli, const struct opt_info *opt,
    const char *val, bool env)
{
	char src[96], shown[96];

	source(opt, env, src, sizeof(src));
	switch (opt->row.id) {
	case DAEMON_OPT_SOCKET:
		if (strlen(val) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return certo_fail(CERTO_EUSAGE, "%s: path longer than %zu "
			    "bytes", src,
			    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		cli->socket = val;
		return 0;
	case DAEMON_OPT_SOCKET_MODE:
		return apply_socket_mode(cli, src, val);
	case DAEMON_OPT_STORE:
		return apply_store(cli, src, val);
	case DAEMON_OPT_HTTP_PROXY:
	case DAEMON_OPT_TLS_PROXY:
		if (!proxy_spec_ok(val))
			return certo_fail(CERTO_EUSAGE, "%s: expected HOST:PORT, "
			    "not '%s'", src, log_str(shown, sizeof(shown), val));
		*(opt->row.id == DAEMON_OPT_HTTP_PROXY ? &cli->http_proxy :
		    &cli->tls_proxy) = val;
		return 0;
	case DAEMON_OPT_HEALTH:
		if (parse_health(cli, val) != 0)
			return certo_fail(CERTO_EUSAGE, "%s: expected ADDR:PORT such "
			    "as 127.0.0.1:8081 or [::1]:8081, not '%s'", src,
			    log_str(shown, sizeof(shown), val));
		return 0;
	case DAEMON_OPT_SOCKET_GROUP:
		cli->socket_group = val;
		return 0;
	case DAEMON_OPT_HTTP_ADDR:
		cli->http_addr = val;
		return 0;
	case DAEMON_OPT_TLS_ADDR:
		cli->tls_addr = val;
		return 0;
	case DAEMON_OPT_USER:
		cli->user = val;
		return 0;
	case DAEMON_OPT_GROUP:
		cli->group = val;
		return 0;
	default:
		return 0;
	}
}

/* Apply one option; env says whether val came from the environment. */
static int
apply(struct daemon_cli *cli, const struct opt_info *opt, const char *val,
    bool env)
{
	const struct num_rule *rule;
	char src[96], shown[96];
	bool on = true;

	if (opt->row.arg == NULL) {
		if (env && parse_bool(val, &on) != 0)
			return certo_fail(CERTO_EUSAGE, "%s: expected 1 or 0, not "
			    "'%s'", source(opt, env, src, sizeof(src)),
			    log_str(shown, sizeof(shown), val));
		apply_flag(cli, (enum daemon_opt)opt->row.id, on);
		return 0;
	}
	if (*val == '\0')
		return certo_fail(CERTO_EUSAGE, "%s: empty value",
		    source(opt, env, src, sizeof(src)));
	if ((rule = num_rule_of((enum daemon_opt)opt->row.id)) != NULL)
		return apply_number(cli, opt, rule, val, env);
	return apply_text(cli, opt, val, env);
}

/* A group by name or number. */
static int
lookup_group(const char *name, const char *opt, gid_t *gid)
{
	struct group *gr;
	unsigned long v;
	char shown[96];

	errno = 0;
	if ((gr = getgrnam(name)) != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (parse_ulong(name, 0x7fffffffUL, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	return certo_fail(CERTO_ECONFIG, "--%s: no group '%s'", opt,
	    log_str(shown, sizeof(shown), name));
}

/* Look names up and reject combinations that cannot work. */
static int
check(struct daemon_cli *cli)
{
	struct passwd *pw;
	unsigned long v;
	char shown[96];
	int rc;

	if (cli->http_port == 0 && cli->tls_port == 0)
		return certo_fail(CERTO_ECONFIG, "--http-port and --tls-port are "
		    "both 0: nothing to serve");
	if (cli->http_proxy && cli->http_redirect)
		return certo_fail(CERTO_ECONFIG, "--http-proxy and --http-redirect "
		    "exclude each other");
	if ((cli->http_proxy || cli->http_redirect) && cli->http_port == 0)
		return certo_fail(CERTO_ECONFIG, "--%s needs the HTTP-01 server, "
		    "but --http-port is 0", cli->http_proxy ? "http-proxy" :
		    "http-redirect");
	if (cli->tls_proxy && cli->tls_port == 0)
		return certo_fail(CERTO_ECONFIG, "--tls-proxy needs the "
		    "TLS-ALPN-01 server, but --tls-port is 0");
	if (cli->socket_group != NULL &&
	    (rc = lookup_group(cli->socket_group, "socket-group",
	    &cli->socket_gid)) != 0)
		return rc;
	if (cli->group != NULL && cli->user == NULL)
		return certo_fail(CERTO_ECONFIG, "--group needs --user");
	if (cli->user != NULL) {
		errno = 0;
		if ((pw = getpwnam(cli->user)) != NULL) {
			cli->uid = pw->pw_uid;
			cli->gid = pw->pw_gid;
		} else if (parse_ulong(cli->user, 0x7fffffffUL, &v) == 0) {
			cli->uid = (uid_t)v;
			cli->gid = (gid_t)v;
			if ((pw = getpwuid(cli->uid)) != NULL)
				cli->gid = pw->pw_gid;
		} else
			return certo_fail(CERTO_ECONFIG, "--user: no user '%s'",
			    log_str(shown, sizeof(shown), cli->user));
		if (cli->uid == 0)
			return certo_fail(CERTO_ECONFIG, "--user %s is root; to keep "
			    "root say --stay-root instead", log_str(shown,
			    sizeof(shown), cli->user));
		if (cli->group != NULL &&
		    (rc = lookup_group(cli->group, "group", &cli->gid)) != 0)
			return rc;
		if (cli->gid == 0)
			return certo_fail(CERTO_ECONFIG, "--group: refusing to keep "
			    "group root (gid 0)");
	}
	return 0;
}

/* Row i of the option table, for opttab.c. */
static const struct opttab_row *
row_of(size_t i)
{
	return &opts[i].row;
}

/*
 * Defaults, then CERTO_RESPONDER_* variables, then argv, then check();
 * see daemon_cli.h.
 */
int
daemon_cli_parse(int argc, char **argv, struct daemon_cli *cli)
{
	struct option lo[NOPTS + 1];
	char shortopts[2 * NOPTS + 2], shown[128];
	const char *val;
	size_t i;
	int rc;

	memset(cli, 0, sizeof(*cli));
	cli->verbosity = 1;
	cli->socket = DAEMON_DEFAULT_SOCKET;
	cli->socket_mode = 0660;
	cli->socket_gid = (gid_t)-1;
	cli->http_port = 80;
	cli->tls_port = 443;
	cli->max_tokens = TOKENS_DEFAULT_MAX;
	cli->token_ttl = TOKENS_DEFAULT_TTL;
	cli->max_conns = DAEMON_DEFAULT_MAX_CONNS;
	cli->max_per_ip = DAEMON_DEFAULT_PER_IP;
	cli->idle_timeout = DAEMON_DEFAULT_IDLE_S;
	cli->uid = (uid_t)-1;
	cli->gid = (gid_t)-1;
	/* The environment first: the command line below overrides it. */
	for (i = 0; i < NOPTS; i++) {
		if (opts[i].row.id == DAEMON_OPT_HELP ||
		    opts[i].row.id == DAEMON_OPT_VERSION ||
		    (val = getenv(opts[i].env)) == NULL)
			continue;
		if ((rc = apply(cli, &opts[i], val, true)) != 0)
			return rc;
	}
	/* CERTO_STORE, shared with certo, below CERTO_RESPONDER_STORE. */
	if (cli->store == NULL && (val = getenv("CERTO_STORE")) != NULL &&
	    *val != '\0' && (rc = apply_store(cli, "CERTO_STORE", val)) != 0)
		return rc;
	opttab_getopt_init(row_of, NOPTS, lo, shortopts);
	while ((rc = opttab_next(argc, argv, shortopts, lo, row_of, NOPTS,
	    "certo-responder", &i)) > 0) {
		if ((rc = apply(cli, &opts[i], optarg ? optarg : "1",
		    false)) != 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (optind < argc)
		return certo_fail(CERTO_EUSAGE, "unexpected argument '%s' "
		    "(certo-responder takes options only)", log_str(shown,
		    sizeof(shown), argv[optind]));
	if (cli->help || cli->version)
		return 0;
	return check(cli);
}
