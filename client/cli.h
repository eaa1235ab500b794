/*
 * The command line: one option table (CERTO_OPTIONS) drives
 * getopt_long, --help and the man page's OPTIONS sections.
 */
#ifndef CERTO_CLI_H
#define CERTO_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "challenge.h"
#include "key.h"

/* Verbs an option applies to (bit mask). */
#define V_GLOBAL 0x001
#define V_ISSUE 0x002
#define V_AUTHORIZE 0x004
#define V_RENEW 0x008
#define V_REVOKE 0x010
#define V_ACCOUNT 0x020
#define V_LIST 0x040
#define V_DELETE 0x080
#define V_DEACTIVATE 0x100
#define V_RATELIMIT 0x200
#define V_IMPORT 0x400
#define V_ORDERS 0x800
/* import: the challenge options replace what the other client kept. */
#define V_CHALL (V_ISSUE | V_AUTHORIZE | V_IMPORT)
#define V_NEWACCT (V_ISSUE | V_AUTHORIZE | V_ACCOUNT)

/*
 * XX(id, long name, short char or 0, argument name or NULL, verbs,
 *    kind, field, param, help)
 *
 * kind names the parse function of the row (set_<kind> in cli.c), which
 * validates the argument and writes struct certo_cli's field; param is
 * the kind's parameter: the upper bound of a number (seconds, jobs,
 * resolver count), the value of a level, 1 when a key type may be
 * ed25519 or a time must be in the future, the replacement's id of a
 * deprecated spelling.  A row whose help is NULL is a hidden alias:
 * accepted, never shown in --help, the man page, the completion or a
 * suggestion.
 */
#define CERTO_OPTIONS(XX)                                                   \
	XX(HELP, "help", 'h', NULL, V_GLOBAL, flag, help, 0,                 \
	    "show help and exit")                                            \
	XX(VERSION, "version", 'V', NULL, V_GLOBAL, flag, version, 0,        \
	    "show the version and the linked libraries, and exit")           \
	XX(VERBOSE, "verbose", 'v', NULL, V_GLOBAL, level, verbosity, 2,     \
	    "log protocol detail to stderr (never private keys)")            \
	XX(QUIET, "quiet", 'q', NULL, V_GLOBAL, level, verbosity, 0,         \
	    "print errors only")                                             \
	XX(JSON, "json", 0, NULL, V_GLOBAL, flag, json, 0,                   \
	    "machine-readable output: JSON lines, one object per event "     \
	    "(issue, renew, authorize) or one document (list, account info)")\
	XX(STATE_DIR, "state-dir", 0, "DIR", V_GLOBAL, string, state_dir, 0, \
	    "state directory (default: $CERTO_STATE_DIR, /var/lib/certo for "\
	    "root, else $XDG_DATA_HOME/certo)")                              \
	XX(STORE, "store", 0, "URL", V_GLOBAL, store, store, 0,              \
	    "share challenges (and more) through this Redis store: "        \
	    "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or "                \
	    "redis+unix:///PATH[?db=N] (default: $CERTO_STORE); with no "    \
	    "other way chosen, issue publishes http-01/tls-alpn-01 "         \
	    "challenges there for certo-responder --store")                 \
	XX(STORE_KEY, "store-key", 0, "FILE", V_GLOBAL, string, store_key, 0,\
	    "with --store: seal private keys in the store with a key derived "\
	    "from FILE (32 or more random bytes, the same file on every "    \
	    "host; default: $CERTO_STORE_KEY)")                              \
	XX(NET_USER, "user", 0, "USER", V_GLOBAL, string, net_user, 0,      \
	    "when started as root, the user of the network process (every "  \
	    "connection: the CA, DNS, responders, the store; default: certo " \
	    "if it exists, else nobody)")                                    \
	XX(SERVER, "server", 0, "URL|NAME", V_GLOBAL, server, server, 0,     \
	    "ACME directory URL or CA name: letsencrypt (default), "         \
	    "letsencrypt-staging, zerossl, buypass, buypass-staging, google, "\
	    "google-staging, sectigo")                                       \
	XX(CA_BUNDLE, "ca-bundle", 0, "FILE", V_GLOBAL,                      \
	    string, ca_bundle, 0,                                            \
	    "trust only the CA certificates in FILE for HTTPS to the CA "    \
	    "(a private or test CA; default: the system bundle)")            \
	XX(ALLOW_HTTP, "allow-insecure-http", 0, NULL, V_GLOBAL,             \
	    flag, allow_http, 0,                                             \
	    "permit a plain http:// directory URL (test CAs only)")          \
	XX(DOMAIN, "domain", 'd', "NAME", V_ISSUE | V_AUTHORIZE,             \
	    names, names, 0,                                                 \
	    "a DNS name or IP address for the certificate; repeat for more " \
	    "(the first names the files); non-ASCII names become punycode")  \
	XX(STANDALONE, "standalone", 0, NULL, V_CHALL, flag, standalone, 0,  \
	    "answer challenges from built-in servers (HTTP-01 on --http-port,"\
	    " TLS-ALPN-01 on --tls-port)")                                   \
	XX(RESPONDER, "responder", 0, "SOCKET", V_CHALL,                     \
	    string, responder, 0,                                            \
	    "answer challenges through a running certo-responder's control " \
	    "socket instead of binding ports")                               \
	XX(CHALLENGE, "challenge", 'c', "TYPES", V_CHALL,                    \
	    challenges, challenges, 0,                                       \
	    "challenge types to use, in order of preference, comma-separated:"\
	    " http-01 (default), tls-alpn-01, dns-01")                       \
	XX(MANUAL, "manual", 0, NULL, V_CHALL, flag, manual, 0,              \
	    "print the DNS record (dns-01) or file (http-01) to publish and "\
	    "wait until it is visible")                                      \
	XX(DNS_HOOK, "dns-hook", 0, "PROGRAM", V_CHALL, string, dns_hook, 0, \
	    "run PROGRAM add|del dns-01 IDENT RECORD VALUE to publish DNS-01 "\
	    "records (docs/hooks.md)")                                       \
	XX(HTTP_HOOK, "http-hook", 0, "PROGRAM", V_CHALL,                    \
	    string, http_hook, 0,                                            \
	    "run PROGRAM add|del http-01 IDENT TOKEN KEYAUTH to publish "    \
	    "HTTP-01 files (webroot, external servers)")                     \
	XX(WEBROOT, "webroot", 'w', "DIR", V_CHALL, string, webroot, 0,      \
	    "a web server on --http-port serves DIR: answer http-01 by "     \
	    "writing DIR/.well-known/acme-challenge/TOKEN (removed "         \
	    "afterwards, with the directories certo made; remembered for "   \
	    "renew)")                                                        \
	XX(DNS_TIMEOUT, "dns-timeout", 0, "SECONDS", V_CHALL,                \
	    seconds1, dns_timeout_s, 86400,                                  \
	    "how long to wait for DNS records on every authoritative server "\
	    "(default 600 with --manual, 120 with a hook)")                  \
	XX(DNS_INTERVAL, "dns-interval", 0, "SECONDS", V_CHALL,              \
	    seconds1, dns_interval_s, 3600,                                  \
	    "seconds between DNS checks (default 2; shorter at first)")      \
	XX(DNS_RESOLVER, "dns-resolver", 0, "ADDR[:PORT]", V_CHALL,          \
	    resolver, dns_resolvers, 16,                                     \
	    "check these servers instead of the zone's authoritative ones "  \
	    "(repeatable; split DNS, tests)")                                \
	XX(DNS_WAIT_EXTRA, "dns-wait-extra", 0, "SECONDS", V_CHALL,          \
	    seconds, dns_wait_extra_s, 3600,                                 \
	    "wait this much longer once records are visible (anycast lag)")  \
	XX(HTTP_TIMEOUT, "http-timeout", 0, "SECONDS", V_CHALL,              \
	    seconds1, http_timeout_s, 86400,                                 \
	    "with --manual, --http-hook or --webroot: how long to wait until "\
	    "the http-01 file is served (default 600 with --manual, 120 with"\
	    " a hook, 30 with --webroot)")                                   \
	XX(HOOK_TIMEOUT, "hook-timeout", 0, "SECONDS", V_CHALL | V_RENEW,    \
	    seconds1, hook_timeout_s, 86400,                                 \
	    "stop a dns, http or deploy hook call after SECONDS (SIGTERM to "\
	    "its process group, SIGKILL 5 s later; default 120, del 30)")    \
	XX(CA_TIMEOUT, "ca-timeout", 0, "SECONDS", V_CHALL | V_RENEW,        \
	    seconds1, ca_timeout_s, 86400,                                   \
	    "how long to wait on the CA at each stage (validation, issuance) "\
	    "without progress (default 300)")                                \
	XX(HTTP_PORT, "http-port", 0, "PORT", V_CHALL, port, http_port, 0,   \
	    "port of the built-in HTTP-01 server (default 80); with "        \
	    "--manual, --http-hook or --webroot, the port the self-check "   \
	    "fetches from")                                                  \
	XX(HTTP_ADDR, "http-addr", 0, "ADDR", V_CHALL, string, http_addr, 0, \
	    "bind the HTTP-01 server to this address only (default: all)")   \
	XX(TLS_PORT, "tls-port", 0, "PORT", V_CHALL, port, tls_port, 0,      \
	    "port of the built-in TLS-ALPN-01 server (default 443)")         \
	XX(TLS_ADDR, "tls-addr", 0, "ADDR", V_CHALL, string, tls_addr, 0,    \
	    "bind the TLS-ALPN-01 server to this address only (default: all)")\
	XX(EMAIL, "email", 'm', "ADDR", V_NEWACCT | V_RENEW,                 \
	    email, emails, 0,                                                \
	    "contact address for the account; repeatable (renew: for an "    \
	    "account it must create, e.g. at the staging CA of --dry-run)")  \
	XX(AGREE_TOS, "agree-tos", 0, NULL, V_NEWACCT | V_RENEW,             \
	    flag, agree_tos, 0,                                              \
	    "agree to the CA's terms of service (remembered with the "       \
	    "account; renew --dry-run reuses it for the staging account)")   \
	XX(ACCOUNT_KEY_TYPE, "account-key-type", 0, "TYPE", V_NEWACCT,       \
	    key_type, account_key_type, 1,                                   \
	    "key type for a new account key: ec-256 (default), ec-384, "     \
	    "rsa-2048, rsa-3072, rsa-4096, ed25519")                         \
	XX(EAB_KID, "eab-kid", 0, "KID", V_NEWACCT, string, eab_kid, 0,      \
	    "external account binding key ID (ZeroSSL, Sectigo, Google)")    \
	XX(EAB_HMAC_KEY, "eab-hmac-key", 0, "KEY", V_NEWACCT,                \
	    string, eab_hmac_key, 0,                                         \
	    "external account binding HMAC key, base64url")                  \
	XX(KEY_TYPE, "key-type", 'k', "TYPE", V_ISSUE,                       \
	    key_type, key_type, 0,                                           \
	    "certificate key: ec-256 (default), ec-384, rsa-2048, rsa-3072, "\
	    "rsa-4096")                                                      \
	XX(KEY, "key", 0, "FILE", V_ISSUE, string, key_file, 0,              \
	    "use this private key for the certificate instead of a new one") \
	XX(CSR, "csr", 0, "FILE", V_ISSUE, string, csr_file, 0,              \
	    "send this CSR (PEM or DER); the names come from it; with --key "\
	    "the key is stored too")                                         \
	XX(MUST_STAPLE, "must-staple", 0, NULL, V_ISSUE,                     \
	    flag, must_staple, 0,                                            \
	    "ask for the OCSP must-staple extension")                        \
	XX(NOT_BEFORE, "not-before", 0, "TIME", V_ISSUE,                     \
	    time, not_before, 0,                                             \
	    "requested notBefore: RFC 3339 time or +DURATION (30m, 12h, 7d)")\
	XX(NOT_AFTER, "not-after", 0, "TIME", V_ISSUE, time, not_after, 1,   \
	    "requested notAfter: RFC 3339 time or +DURATION")                \
	XX(PROFILE, "profile", 0, "NAME", V_ISSUE, profile, profile, 0,      \
	    "certificate profile, when the CA advertises profiles")          \
	XX(PREFERRED_CHAIN, "preferred-chain", 0, "ISSUER", V_ISSUE,         \
	    string, preferred_chain, 0,                                      \
	    "pick the alternate chain whose top certificate's issuer CN is " \
	    "ISSUER")                                                        \
	XX(DEPLOY_HOOK, "deploy-hook", 0, "COMMAND", V_ISSUE | V_RENEW,      \
	    string, deploy_hook, 0,                                          \
	    "run COMMAND with /bin/sh -c after a certificate changed; "      \
	    "CERTO_LIVE_DIR (RENEWED_LINEAGE) and CERTO_DOMAINS "            \
	    "(RENEWED_DOMAINS) in its environment; a failure is retried by " \
	    "the next renew")                                                \
	XX(PEM_BUNDLE, "pem-bundle", 0, NULL, V_ISSUE, flag, pem_bundle, 0,  \
	    "also write combined.pem (private key and full chain, 0600) in " \
	    "the live set, for HAProxy; remembered for renew")               \
	XX(FORCE, "force", 0, NULL, V_ISSUE | V_RENEW, flag, force, 0,       \
	    "renew even if not due; issue even if a stored set for the same "\
	    "names and options is not due")                                  \
	XX(DRY_RUN, "dry-run", 0, NULL, V_RENEW, flag, dry_run, 0,           \
	    "renew against the CA's staging directory and store nothing; "   \
	    "refused for a CA without a known staging directory unless "     \
	    "--dry-run-server is given")                                     \
	XX(DRY_RUN_SERVER, "dry-run-server", 0, "URL", V_RENEW,              \
	    url, dry_run_server, 0,                                          \
	    "with --dry-run: renew every certificate against this directory "\
	    "URL (a private CA's test instance) instead of the known staging "\
	    "directory")                                                     \
	XX(NAME, "name", 'n', "NAME", V_RENEW, only, only, 0,                \
	    "renew only this certificate (its first name, Unicode or "       \
	    "punycode); repeatable; a name not stored is an error (exit 1)") \
	XX(JOBS, "jobs", 'j', "N", V_RENEW, jobs, jobs, 64,                  \
	    "renew up to N certificates at once (default 4)")                \
	XX(LOOP, "loop", 0, NULL, V_RENEW, flag, loop, 0,                    \
	    "keep running: sleep until the next certificate is due, renew, " \
	    "repeat (SIGHUP re-reads, SIGTERM exits)")                       \
	XX(CERT, "cert", 0, "FILE", V_REVOKE, string, cert_file, 0,          \
	    "the certificate to revoke (PEM)")                               \
	XX(CERT_KEY, "cert-key", 0, "FILE", V_REVOKE,                        \
	    string, cert_key_file, 0,                                        \
	    "sign the revocation with the certificate's own key (no account)")\
	XX(REASON, "reason", 0, "REASON", V_REVOKE, reason, reason, 0,       \
	    "unspecified, keyCompromise, affiliationChanged, superseded, "   \
	    "cessationOfOperation")                                          \
	XX(MANUALE_ACCOUNT, "manuale-account", 0, "FILE", V_ACCOUNT,         \
	    string, manuale_file, 0,                                         \
	    "account import: a manuale account.json")                        \
	/* The old spelling, one letter from --manual: hidden, warns. */     \
	XX(MANUALE, "manuale", 0, "FILE", V_ACCOUNT,                         \
	    deprecated, manuale_file, CLI_OPT_MANUALE_ACCOUNT, NULL)         \
	XX(PROMETHEUS, "prometheus", 0, NULL, V_LIST, flag, prometheus, 0,   \
	    "list: print the Prometheus text format (node_exporter's "       \
	    "textfile collector): each certificate's notAfter and renewal "  \
	    "time, the time and result of the last renew")                   \
	XX(CLEAR, "clear", 0, NULL, V_RATELIMIT, flag, clear, 0,             \
	    "forget what the CA rate-limited, so that certo asks it again")   \
	XX(REFRESH, "refresh", 0, NULL, V_ORDERS, flag, refresh, 0,          \
	    "orders: ask the CA for each saved order and its authorizations "\
	    "and remember what it says (else offline, as last seen)")        \
	XX(PRUNE, "prune", 0, NULL, V_ORDERS, flag, prune, 0,                \
	    "orders: remove the saved orders that are invalid or expired")   \
	XX(CERTBOT, "certbot", 0, NULL, V_IMPORT, flag, import_certbot, 0,   \
	    "import certbot's accounts, certificates and renewal settings "  \
	    "from DIR (default /etc/letsencrypt)")                           \
	XX(LEGO, "lego", 0, NULL, V_IMPORT, flag, import_lego, 0,            \
	    "import lego's accounts and certificates from DIR (its .lego "   \
	    "directory)")

enum cli_opt {
	CLI_OPT__FIRST = 256,
#define XX(id, name, sh, arg, verbs, kind, field, param, help) CLI_OPT_##id,
	CERTO_OPTIONS(XX)
#undef XX
};

enum cli_verb {
	VERB_NONE = 0,
	VERB_ISSUE,
	VERB_AUTHORIZE,
	VERB_RENEW,
	VERB_REVOKE,
	VERB_ACCOUNT,
	VERB_LIST,
	VERB_DELETE,
	VERB_DEACTIVATE,
	VERB_RATELIMIT,
	VERB_IMPORT,
	VERB_ORDERS,
};

struct certo_cli {
	enum cli_verb verb;
	const char *arg;              /* account subcommand, delete NAME... */
	bool help, version, json, agree_tos, standalone, allow_http;
	int verbosity;                /* 0 quiet, 1 normal, 2 verbose */
	char **names;                 /* normalised, owned */
	size_t nnames;
	char **emails;                /* pointers into argv */
	size_t nemails;
	const char *server;           /* directory URL */
	const char *ca_bundle;
	const char *state_dir;
	const char *store;            /* --store URL (checked), or NULL */
	const char *store_key;        /* --store-key FILE, or NULL */
	const char *net_user;         /* --user: the network process's */
	const char *http_addr;
	unsigned short http_port;
	const char *tls_addr;
	unsigned short tls_port;
	const char *responder;        /* control socket path, or NULL */
	enum chall_type challenges[3]; /* preference order */
	size_t nchallenges;
	bool manual;
	const char *dns_hook;
	const char *http_hook;
	const char *webroot;          /* --webroot DIR, or NULL */
	long dns_timeout_s;           /* -1: default for the mode */
	long dns_interval_s;
	long dns_wait_extra_s;
	long ca_timeout_s;            /* 0: POLL_DEFAULT_TIMEOUT_S */
	char **dns_resolvers;         /* pointers into argv */
	size_t ndns_resolvers;
	enum key_type key_type;
	enum key_type account_key_type;
	const char *eab_kid;
	const char *eab_hmac_key;
	const char *key_file;
	const char *csr_file;
	bool names_from_csr;          /* names were read from --csr */
	bool must_staple;
	time_t not_before;            /* 0: not asked */
	time_t not_after;
	const char *profile;
	const char *preferred_chain;
	const char *deploy_hook;
	bool pem_bundle;              /* also write combined.pem */
	long hook_timeout_s;          /* -1: HOOK_TIMEOUT_MS, del 30 s */
	long http_timeout_s;          /* -1: as --dns-timeout's default */
	char *owned_hooks[3];         /* dns, http, deploy hook made absolute */
	bool force, dry_run, loop;
	bool clear;                   /* ratelimit --clear */
	bool prometheus;              /* list --prometheus */
	bool refresh, prune;          /* orders --refresh, --prune */
	const char *dry_run_server;   /* renew --dry-run-server URL */
	char **only;                  /* renew --name, pointers into argv */
	size_t nonly;
	unsigned jobs;
	const char *cert_file;
	const char *cert_key_file;
	int reason;                   /* RFC 5280 CRLReason, -1: omit */
	const char *manuale_file;
	bool import_certbot, import_lego; /* import --certbot / --lego */
};

/*
 * Parse argv into cli.  Returns 0, or CERTO_EUSAGE / CERTO_EIDENT with a
 * one-line message naming the culprit.
 */
int cli_parse(int argc, char **argv, struct certo_cli *cli);
/*
 * Add a name given by the user or read from a CSR: IDN to punycode,
 * validated (DNS name or IP literal), no duplicates.
 */
int cli_add_name(struct certo_cli *cli, const char *arg);
/*
 * The form a name is stored under: an IP literal in canonical text,
 * else domain_normalize()'s A-label form.  *out is malloc'd.  Returns 0,
 * CERTO_EIDENT or CERTO_ENOMEM.
 */
int cli_normalize_name(const char *arg, char **out);
/*
 * Check the challenge options of issue/authorize (also after a stored
 * configuration was loaded for renew).
 */
int cli_check_challenges(struct certo_cli *cli);
/* Parse "+7d" or "2026-01-02T03:04:05Z" (RFC 3339) into *out. */
int cli_parse_time(const char *s, const char *opt, time_t now, time_t *out);
/* True if name is an IPv4/IPv6 literal (an "ip" identifier). */
bool cli_is_ip(const char *name);
/* Print help for verb (VERB_NONE: the overview). */
void cli_help(FILE *f, enum cli_verb verb);
/* Print a bash completion script from the option table. */
void cli_completion(FILE *f);
/* Print the certo(1) man page (roff) from the option table. */
void cli_man(FILE *f);
void cli_free(struct certo_cli *cli);

#endif
