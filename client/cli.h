/*
 * The command line: one option table (CERTO_OPTIONS) drives
 * getopt_long, --help and the man page's OPTIONS section.
 */
#ifndef CERTO_CLI_H
#define CERTO_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "challenge.h"
#include "key.h"

/* Verbs an option applies to (bit mask). */
#define V_GLOBAL 0x1
#define V_ISSUE 0x2

/*
 * XX(id, long name, short char or 0, argument name or NULL, verbs, help)
 */
#define CERTO_OPTIONS(XX)                                                    \
	XX(HELP, "help", 'h', NULL, V_GLOBAL, "show help and exit")          \
	XX(VERSION, "version", 'V', NULL, V_GLOBAL,                           \
	    "show the version and the linked libraries, and exit")           \
	XX(VERBOSE, "verbose", 'v', NULL, V_GLOBAL,                           \
	    "log protocol detail to stderr (never private keys)")            \
	XX(QUIET, "quiet", 'q', NULL, V_GLOBAL, "print errors only")          \
	XX(STATE_DIR, "state-dir", 0, "DIR", V_GLOBAL,                        \
	    "state directory (default: $CERTO_STATE_DIR, /var/lib/certo for " \
	    "root, else $XDG_DATA_HOME/certo)")                               \
	XX(SERVER, "server", 0, "URL|NAME", V_GLOBAL,                         \
	    "ACME directory URL or CA name: letsencrypt (default), "          \
	    "letsencrypt-staging, zerossl, buypass, buypass-staging, google, "\
	    "google-staging, sectigo")                                        \
	XX(CA_BUNDLE, "ca-bundle", 0, "FILE", V_GLOBAL,                       \
	    "trust only the CA certificates in FILE for HTTPS to the CA "  \
	    "(a private or test CA; default: the system bundle)")     \
	XX(ALLOW_HTTP, "allow-insecure-http", 0, NULL, V_GLOBAL,              \
	    "permit a plain http:// directory URL (test CAs only)")           \
	XX(DOMAIN, "domain", 'd', "NAME", V_ISSUE,                            \
	    "a name for the certificate; repeat for more (the first one "     \
	    "names the files); non-ASCII names become punycode")              \
	XX(STANDALONE, "standalone", 0, NULL, V_ISSUE,                        \
	    "answer challenges from built-in servers (HTTP-01 on --http-port,"\
	    " TLS-ALPN-01 on --tls-port)")                                    \
	XX(RESPONDER, "responder", 0, "SOCKET", V_ISSUE,                      \
	    "answer challenges through a running certo-responder's control "  \
	    "socket instead of binding ports")                               \
	XX(CHALLENGE, "challenge", 'c', "TYPES", V_ISSUE,                     \
	    "challenge types to use, in order of preference, comma-separated:"\
	    " http-01 (default), tls-alpn-01")                                \
	XX(HTTP_PORT, "http-port", 0, "PORT", V_ISSUE,                        \
	    "port of the built-in HTTP-01 server (default 80)")               \
	XX(HTTP_ADDR, "http-addr", 0, "ADDR", V_ISSUE,                        \
	    "bind the HTTP-01 server to this address only (default: all)")   \
	XX(TLS_PORT, "tls-port", 0, "PORT", V_ISSUE,                          \
	    "port of the built-in TLS-ALPN-01 server (default 443)")          \
	XX(TLS_ADDR, "tls-addr", 0, "ADDR", V_ISSUE,                          \
	    "bind the TLS-ALPN-01 server to this address only (default: all)")\
	XX(EMAIL, "email", 'm', "ADDR", V_ISSUE,                              \
	    "contact address for a new account; repeatable")                 \
	XX(AGREE_TOS, "agree-tos", 0, NULL, V_ISSUE,                          \
	    "agree to the CA's terms of service")                            \
	XX(KEY_TYPE, "key-type", 'k', "TYPE", V_ISSUE,                        \
	    "certificate key: ec-256 (default), ec-384, rsa-2048, rsa-3072, " \
	    "rsa-4096")                                                       \
	XX(ACCOUNT_KEY_TYPE, "account-key-type", 0, "TYPE", V_ISSUE,          \
	    "key type for a new account key (default ec-256)")

enum cli_opt {
	CLI_OPT__FIRST = 256,
#define XX(id, name, sh, arg, verbs, help) CLI_OPT_##id,
	CERTO_OPTIONS(XX)
#undef XX
};

enum cli_verb { VERB_NONE = 0, VERB_ISSUE };

struct certo_cli {
	enum cli_verb verb;
	bool help, version, agree_tos, standalone, allow_http;
	int verbosity;                /* 0 quiet, 1 normal, 2 verbose */
	char **names;                 /* normalised, owned */
	size_t nnames;
	char **emails;                /* pointers into argv */
	size_t nemails;
	const char *server;           /* directory URL */
	const char *ca_bundle;
	const char *state_dir;
	const char *http_addr;
	unsigned short http_port;
	const char *tls_addr;
	unsigned short tls_port;
	const char *responder;        /* control socket path, or NULL */
	enum chall_type challenges[3]; /* preference order */
	size_t nchallenges;
	enum key_type key_type;
	enum key_type account_key_type;
};

/*
 * Parse argv into cli.  Returns 0, or CERTO_EUSAGE / CERTO_EIDENT with a
 * one-line message naming the culprit.
 */
int cli_parse(int argc, char **argv, struct certo_cli *cli);
/* Print help for verb (VERB_NONE: the overview). */
void cli_help(FILE *f, enum cli_verb verb);
/* Print the certo(1) man page (roff) from the option table. */
void cli_man(FILE *f);
void cli_free(struct certo_cli *cli);

#endif
