/*
 * Rate-limit memory: when a CA answers rateLimited with a Retry-After,
 * certo remembers what was limited, so that unattended reruns (cron,
 * renew --loop) do not keep hitting the limit.  The memory is scoped to
 * what the CA limited: new orders for those names, or new accounts.  It
 * never blocks revoke, account verbs, or other names; --force ignores
 * it; `certo ratelimit` shows it and `certo ratelimit --clear` forgets it.
 * File: <state>/ratelimits/<ca>.json, {"limits": [{"scope", "names",
 * "until", "why"}]}; expired entries are dropped on the next write.
 */
#ifndef CERTO_RATELIMIT_H
#define CERTO_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct json_object;

enum ratelimit_scope {
	RATELIMIT_ORDER,   /* new orders for any of names */
	RATELIMIT_ACCOUNT, /* creating a new account */
};

struct ratelimit {
	enum ratelimit_scope scope;
	char **names;      /* RATELIMIT_ORDER: the names of the order */
	size_t nnames;
	time_t until;
	char *why;         /* the CA's problem, as shown then (sanitised) */
};

/*
 * The entries for ca_id that have not expired (*out malloc'd, free with
 * ratelimit_free_all).  A missing or unreadable file is no entry.  An
 * older certo's {"until": T} file is one RATELIMIT_ORDER entry for
 * every name.
 */
int ratelimit_load(const char *state, const char *ca_id,
    struct ratelimit **out, size_t *n);
void ratelimit_free_all(struct ratelimit *entries, size_t n);
/* Remember a limit (names: for RATELIMIT_ORDER; why may be NULL). */
int ratelimit_add(const char *state, const char *ca_id,
    enum ratelimit_scope scope, char *const *names, size_t nnames,
    time_t until, const char *why);
/*
 * Is a new order for names (or, with names NULL, a new account) blocked?
 * Returns 0, or CERTO_EPROBLEM with a message naming the deadline, the
 * CA's reason and how to clear it.  *until (may be NULL) gets it.
 */
int ratelimit_check(const char *state, const char *ca_id,
    enum ratelimit_scope scope, char *const *names, size_t nnames,
    time_t *until);
/* The latest deadline of an entry limiting any of names, or 0. */
time_t ratelimit_for_names(const struct ratelimit *entries, size_t n,
    char *const *names, size_t nnames);
/* Forget every entry for ca_id. */
int ratelimit_clear(const char *state, const char *ca_id);
struct certo_cli;
/*
 * For `certo list`: every remembered limit of every CA, appended to arr
 * (when not NULL) as {"rate_limit": {...}} and printed to f (when not
 * NULL) as a section after the certificates.
 */
int ratelimit_list_all(const char *state, struct json_object *arr, FILE *out);
/*
 * certo ratelimit [--clear]: print the remembered limits for --server
 * (text, or one JSON document with --json), or forget them.
 */
int ratelimit_run(const struct certo_cli *cli);
/* "2026-12-01 10:00:00 UTC" */
void ratelimit_when(time_t t, char *buf, size_t len);

#endif
