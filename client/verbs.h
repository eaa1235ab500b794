/*
 * The verbs of certo(1), one entry point each (main.c's table), each in
 * its own file: issue_verb.c, authorize.c (authorize, deactivate-authz),
 * renew.c, revoke.c, list.c, delete.c, account_verb.c; ratelimit_run()
 * is in ratelimit.c.  Each returns 0 or a CERTO_E* code (main.c turns it
 * into the exit code and prints the message), except renew_run().
 */
#ifndef CERTO_VERBS_H
#define CERTO_VERBS_H

struct certo_cli;

/* Exit codes of renew (certo(1)). */
#define RENEW_EXIT_RENEWED 0
#define RENEW_EXIT_FAILED 1
#define RENEW_EXIT_NOTHING 2

/*
 * certo issue: one certificate for cli's names, unless a set stored for
 * the same names and options is not due (--force: always).
 */
int issue_run(const struct certo_cli *cli);
/* certo authorize: prove control of cli's names; no certificate. */
int authorize_run(const struct certo_cli *cli);
/* certo deactivate-authz URL|NAME (NAME: the one authorize saved). */
int deactivate_authz_run(const struct certo_cli *cli);
/*
 * certo renew: every stored certificate that is due (--name: those).
 * Returns a RENEW_EXIT_* code (or CERTO_EXIT_INTR on a signal), not a
 * CERTO_E* code.
 */
int renew_run(const struct certo_cli *cli);
/*
 * certo revoke --cert FILE [--reason R] [--cert-key FILE]: signed by the
 * account key (kid), or by the certificate's own key (jwk) with
 * --cert-key, which needs no account.
 */
int revoke_run(const struct certo_cli *cli);
/* certo list: stored certificates, expiry, renewal time, rate limits. */
int list_run(const struct certo_cli *cli);
/* certo delete NAME: live and archive files and saved orders. */
int delete_run(const struct certo_cli *cli);
/* certo account register|info|update|deactivate|rollover|import. */
int account_run(const struct certo_cli *cli);
/*
 * certo import --certbot [DIR] | --lego DIR: another client's accounts,
 * certificates and renewal settings into the state directory, without
 * contacting the CA and without writing to DIR (import_verb.c).
 */
int import_run(const struct certo_cli *cli);
/*
 * certo orders [--refresh] [--prune]: the saved orders under
 * <state>/orders/ (orders_verb.c); offline unless --refresh.
 */
int orders_run(const struct certo_cli *cli);

#endif
