/*
 * Typed issue parameters: what one certificate is ordered with (names,
 * key or CSR, order options, how challenges are answered, hooks), the
 * one struct that the command line (params_from_cli()) and a stored
 * certo.json (config_load()) both produce, and that the order driver
 * (issue.c), the session's solver (session.c) and renew consume.  The
 * driver never sees the command line.  Every string is owned by the
 * struct (params_free()).
 */
#ifndef CERTO_PARAMS_H
#define CERTO_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "account.h"
#include "challenge_type.h"
#include "key.h"
#include "session.h"

struct certo_cli;

/* How the challenges are answered: exactly one way. */
enum solve_mode {
	SOLVE_NONE = 0,       /* none chosen: a usage error for issue */
	SOLVE_STANDALONE,     /* in-process HTTP-01 / TLS-ALPN-01 servers */
	SOLVE_RESPONDER,      /* a running certo-responder's control socket */
	SOLVE_MANUAL,         /* the user publishes; certo waits to see it */
	SOLVE_HOOKS,          /* --dns-hook / --http-hook programs */
	SOLVE_WEBROOT,        /* files in a web server's root (--webroot) */
	SOLVE_STORE,          /* none of those, --store: the shared store */
};

struct issue_params {
	/* What to certify. */
	char **names;                  /* normalised, first names the files */
	size_t nnames;
	bool names_from_csr;           /* names were read from csr_file */
	char *key_file;                /* --key, or NULL: a new key */
	char *csr_file;                /* --csr, or NULL */
	enum key_type key_type;
	/* Order options. */
	bool must_staple;
	time_t not_before;             /* 0: not asked */
	time_t not_after;
	char *profile;
	char *preferred_chain;
	/* The CA. */
	char *server;                  /* directory URL */
	char *ca_bundle;               /* NULL: the system bundle */
	bool allow_http;
	/* How challenges are answered. */
	enum solve_mode mode;
	enum chall_type challenges[3]; /* preference order */
	size_t nchallenges;
	char *responder;               /* SOLVE_RESPONDER: socket path */
	char *dns_hook;                /* SOLVE_HOOKS: programs */
	char *http_hook;
	char *webroot;                 /* SOLVE_WEBROOT: DIR, absolute */
	char *http_addr;
	unsigned short http_port;
	char *tls_addr;
	unsigned short tls_port;
	long dns_timeout_s;            /* -1: default for the mode */
	long dns_interval_s;
	long dns_wait_extra_s;
	long http_timeout_s;           /* -1: as dns_timeout_s's default */
	char **dns_resolvers;
	size_t ndns_resolvers;
	/* After issuance. */
	char *deploy_hook;             /* a command line (sh -c) */
	bool pem_bundle;               /* also combined.pem (key + chain) */
	long hook_timeout_s;           /* -1: hook.h's defaults */
	/* This run only: never stored in certo.json. */
	bool solver_off;               /* issue after authorize: its way (mode
	                                * and settings) kept, none started */
	char *state_dir;               /* NULL: the default */
	char *store;                   /* --store URL, or NULL */
	bool force;                    /* ignore rate-limit memory, freshness */
	long ca_timeout_s;             /* each wait on the CA; 0: default */
	char **emails;                 /* for an account certo creates */
	size_t nemails;
	bool agree_tos;
	enum key_type account_key_type;
	char *eab_kid;
	char *eab_hmac_key;
};

/* p with the command line's defaults (ports 80 and 443, http-01...). */
void params_init(struct issue_params *p);
/* Free what p holds; a zeroed or freed p is fine. */
void params_free(struct issue_params *p);
/*
 * The issue parameters of a command line (issue, authorize), copied;
 * --webroot made absolute.  Returns 0, CERTO_ENOMEM, or CERTO_EUSAGE
 * when --webroot names no directory.
 */
int params_from_cli(const struct certo_cli *cli, struct issue_params *p);
/* *dst gets a copy of src (NULL: NULL), the old value freed. */
int params_set_str(char **dst, const char *src);
/*
 * The form a name is stored under: an IP literal in canonical text,
 * else domain_normalize()'s A-label form.  *out is malloc'd.  Returns 0,
 * CERTO_EIDENT or CERTO_ENOMEM.
 */
int params_normalize_name(const char *arg, char **out);
/* Add a name (normalised, no duplicates, at most 100). */
int params_add_name(struct issue_params *p, const char *arg);
/*
 * The solving mode from certo.json's or the command line's flags:
 * exactly one of standalone, responder, manual, hooks, webroot
 * (CERTO_EUSAGE otherwise).
 */
int params_set_mode(struct issue_params *p, bool standalone, bool manual);
/*
 * Check p as issue would (after --csr's names or a stored configuration
 * were read): names present, one solving mode, wildcards and IP
 * addresses with challenge types that can prove them, notAfter after
 * notBefore.  Returns 0 or CERTO_EUSAGE naming the culprit.
 */
int params_check(const struct issue_params *p);
/*
 * --csr: the names come from the CSR (checked again), and --key must be
 * the CSR's key.
 */
int params_names_from_csr(struct issue_params *p);
/* The session options of p (borrowed strings). */
void params_session_opts(const struct issue_params *p,
    struct session_opts *opts);
/* The options for an account certo creates (borrowed; dir NULL). */
void params_account_opts(const struct issue_params *p,
    struct account_opts *acct);

/*
 * The verbs that order nothing (revoke, account, deactivate-authz):
 * open cli's session (session_open()), and connect it with the account
 * as account says and cli's account options (session_connect()).
 */
int params_open_session(const struct certo_cli *cli, struct session *sess);
int params_connect_session(struct session *sess, const struct certo_cli *cli,
    enum session_account account);

#endif
