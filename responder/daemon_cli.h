/*
 * certo-responder's command line: one option table (RESPONDER_OPTIONS)
 * drives getopt_long, the CERTO_RESPONDER_<OPTION> environment
 * variables, --help and the OPTIONS of docs/certo-responder.8.
 */
#ifndef CERTO_DAEMON_CLI_H
#define CERTO_DAEMON_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define DAEMON_DEFAULT_SOCKET "/run/certo/responder.sock"
#define DAEMON_MAX_TOKENS 100000
#define DAEMON_MAX_TTL (7L * 86400)
#define DAEMON_DEFAULT_MAX_CONNS 512
#define DAEMON_DEFAULT_PER_IP 32
#define DAEMON_DEFAULT_IDLE_S 10
#define DAEMON_MAX_CONNS 1000000
#define DAEMON_MAX_IDLE_S 300

/*
 * XX(id, long name, short char or 0, argument name or NULL, help).
 * Every option but help and version can also be set with the variable
 * CERTO_RESPONDER_<ID> (flags take 1/yes/true/on or 0/no/false/off);
 * the command line wins.
 */
#define RESPONDER_OPTIONS(XX)                                                \
	XX(HELP, "help", 'h', NULL, "show help and exit")                    \
	XX(VERSION, "version", 'V', NULL,                                     \
	    "show the version and the linked libraries, and exit")           \
	XX(VERBOSE, "verbose", 'v', NULL,                                     \
	    "also log rejected control lines and list requests")             \
	XX(QUIET, "quiet", 'q', NULL, "log errors only")                      \
	XX(SOCKET, "socket", 0, "PATH",                                       \
	    "control socket (default " DAEMON_DEFAULT_SOCKET ")")             \
	XX(SOCKET_MODE, "socket-mode", 0, "MODE",                             \
	    "octal permissions of the control socket (default 0660; "        \
	    "others may not write)")                                          \
	XX(SOCKET_GROUP, "socket-group", 0, "GROUP",                          \
	    "group owning the control socket (default: unchanged)")          \
	XX(STORE, "store", 0, "URL",                                          \
	    "serve the challenges of this shared Redis store "              \
	    "(redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or "               \
	    "redis+unix:///PATH[?db=N]; also CERTO_STORE); the control "     \
	    "socket publishes into it")                                       \
	XX(HTTP_PORT, "http-port", 0, "PORT",                                 \
	    "HTTP-01 port (default 80, 0 disables)")                          \
	XX(HTTP_ADDR, "http-addr", 0, "ADDR",                                 \
	    "HTTP-01 listen address (default: all)")                          \
	XX(HTTP_PROXY, "http-proxy", 0, "HOST:PORT",                          \
	    "forward other GET/HEAD requests to this HTTP backend")          \
	XX(HTTP_REDIRECT, "http-redirect", 0, NULL,                           \
	    "answer other GET/HEAD requests with 301 to https://HOST/PATH")  \
	XX(TLS_PORT, "tls-port", 0, "PORT",                                   \
	    "TLS-ALPN-01 port (default 443, 0 disables)")                     \
	XX(TLS_ADDR, "tls-addr", 0, "ADDR",                                   \
	    "TLS-ALPN-01 listen address (default: all)")                      \
	XX(TLS_PROXY, "tls-proxy", 0, "HOST:PORT",                            \
	    "pass other TLS connections through to this backend")            \
	XX(HEALTH, "health", 0, "ADDR:PORT",                                  \
	    "answer GET /healthz with 200 on this address (default: off)")   \
	XX(USER, "user", 0, "USER",                                           \
	    "switch to this user after binding (needed when started as "     \
	    "root)")                                                          \
	XX(GROUP, "group", 0, "GROUP",                                        \
	    "switch to this group after binding (default: USER's group)")    \
	XX(STAY_ROOT, "stay-root", 0, NULL,                                   \
	    "keep running as root without --user (not recommended)")         \
	XX(MAX_TOKENS, "max-tokens", 0, "N",                                  \
	    "at most N pending challenges (default 1024)")                    \
	XX(TOKEN_TTL, "token-ttl", 0, "SECONDS",                              \
	    "forget a challenge this long after its auth (default 3600)")   \
	XX(MAX_CONNS, "max-conns", 0, "N",                                    \
	    "connections at once on each of the HTTP and TLS ports "         \
	    "(default 512, lowered to fit the descriptor limit)")            \
	XX(MAX_CONNS_PER_IP, "max-conns-per-ip", 0, "N",                      \
	    "connections at once from one client address on each port "      \
	    "(default 32, 0: no cap)")                                        \
	XX(IDLE_TIMEOUT, "idle-timeout", 0, "SECONDS",                        \
	    "close HTTP connections idle this long, and TLS connections "    \
	    "without a handshake or backend by then (default 10)")

enum daemon_opt {
	DAEMON_OPT__FIRST = 256,
#define XX(id, name, sh, arg, help) DAEMON_OPT_##id,
	RESPONDER_OPTIONS(XX)
#undef XX
};

struct daemon_cli {
	bool help, version, http_redirect, stay_root;
	int verbosity;                /* 0 quiet, 1 normal, 2 verbose */
	const char *socket;
	mode_t socket_mode;
	const char *socket_group;
	gid_t socket_gid;             /* (gid_t)-1: leave as created */
	const char *store;            /* --store URL, checked; NULL: none */
	unsigned short http_port;     /* 0: disabled */
	const char *http_addr;
	const char *http_proxy;
	unsigned short tls_port;      /* 0: disabled */
	const char *tls_addr;
	const char *tls_proxy;
	bool health;
	char health_addr[64];         /* without brackets */
	unsigned short health_port;
	const char *user;             /* NULL: no privilege drop */
	const char *group;
	uid_t uid;
	gid_t gid;
	size_t max_tokens;
	long token_ttl;
	unsigned max_conns;           /* per port */
	unsigned max_per_ip;          /* per address and port, 0: no cap */
	unsigned idle_timeout;        /* seconds */
};

/*
 * Fill cli from the CERTO_RESPONDER_* environment, then argv (which
 * wins), and check the result; user and group names are looked up.
 * Strings point into argv or the environment.  Returns 0, or
 * CERTO_EUSAGE / CERTO_ECONFIG with a one-line message naming the option.
 */
int daemon_cli_parse(int argc, char **argv, struct daemon_cli *cli);
/* Print --help. */
void daemon_cli_help(FILE *f);
/*
 * Print the whole man page, docs/certo-responder.8, with OPTIONS and
 * ENVIRONMENT generated from the option table (certo-responder-mkman).
 */
void daemon_cli_man(FILE *f);

#endif
