/*
 * Keeping certificates valid: renew (cron, systemd timer, --loop),
 * list, delete.  A certificate is due inside the CA's ARI window when
 * the CA offers renewalInfo (RFC 9773), else when a third of its
 * lifetime is left.
 */
#ifndef CERTO_RENEW_H
#define CERTO_RENEW_H

#include <stdbool.h>

#include "cli.h"
#include "session.h"

/* Exit codes of renew (certo(1)). */
#define RENEW_EXIT_RENEWED 0
#define RENEW_EXIT_FAILED 1
#define RENEW_EXIT_NOTHING 2

/* certo renew: returns a RENEW_EXIT_* code (or 130 on a signal). */
int renew_run(const struct certo_cli *cli);
/*
 * certo issue without --force: *fresh is true (and an "issue_skipped"
 * event said why) when live/<first name> holds a set stored with the
 * same certo.json options (names, CA, key type...), still for exactly
 * these names (and --key's key), and not due by renew's rule (ARI
 * window, asked through sess's directory with req, or sess's own
 * request when NULL; else a third of the lifetime left).  --csr,
 * --not-before and --not-after always issue.  Returns 0 or
 * CERTO_ENOMEM/ECONFIG.
 */
int renew_issue_fresh(struct session *sess, struct certo_req *req,
    const struct certo_cli *cli, bool *fresh);
/* certo list: 0 or a CERTO_E* code. */
int list_run(const struct certo_cli *cli);
/* certo delete NAME. */
int delete_run(const struct certo_cli *cli);

#endif
