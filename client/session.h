/*
 * One session with one CA, set up the same way for every verb: the
 * state directory, the CA's id (accounts/<ca>, ratelimits/<ca>.json),
 * one request (one reused HTTP handle), the CA's directory (fetched
 * once), the account (with its lock and the rate-limit memory on new
 * accounts) and, for issue, authorize and renew, the challenge solver.
 * session.c is the only code outside directory.c that fetches a
 * directory.
 */
#ifndef CERTO_SESSION_H
#define CERTO_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"
#include "directory.h"
#include "dns01_propagation.h"
#include "http.h"
#include "request.h"
#include "solver.h"
#include "store.h"

struct issue_params;

/* Where the session goes: no network, nothing written. */
struct session_opts {
	const char *state_dir;         /* --state-dir, NULL: the default */
	const char *server;            /* directory URL */
	const char *ca_bundle;         /* NULL: the system bundle */
	bool allow_http;
	bool force;                    /* --force: ignore rate-limit memory */
	long ca_timeout_s;             /* each wait on the CA; 0: default */
};

/* What a verb does with the account. */
enum session_account {
	SESSION_ACCOUNT_NONE = 0,      /* none (revoke --cert-key, import) */
	/*
	 * Load or create it for orders (issue, authorize, renew, revoke,
	 * deactivate-authz): the rate-limit memory on new accounts is
	 * honoured and kept, an "account:" line says which one is used.
	 */
	SESSION_ACCOUNT_USE,
	/* certo account register: load or create, locked until close. */
	SESSION_ACCOUNT_MANAGE,
	/* The other account verbs: it must exist; locked until close. */
	SESSION_ACCOUNT_MANAGE_EXISTING,
};

/* What session_connect() sets up besides the directory. */
struct session_needs {
	enum session_account account;
	const struct account_opts *account_opts; /* unless ACCOUNT_NONE */
	const char *profile;           /* the CA must offer it, or NULL */
	const struct issue_params *solve; /* start its solver, or NULL */
};

struct session {
	char *state;                   /* the state directory */
	char *ca_id;                   /* account_ca_id() of the server */
	char *acct_dir;                /* <state>/accounts/<ca_id> */
	char *server;                  /* directory URL */
	char *ca_bundle;               /* or NULL: the system bundle */
	bool force;
	long ca_timeout_s;             /* each wait on the CA (polling.h) */
	struct http_opts http;         /* ca_bundle points at the above */
	/*
	 * The session's own requests (directory, account, renewalInfo,
	 * revoke...): main thread only.  Each order gets its own request
	 * (session_request()), so renew's threads share nothing mutable.
	 */
	struct certo_req req;
	struct certo_directory dir;    /* valid once have_dir */
	struct certo_account acct;     /* url NULL until the account is set */
	struct solver solver;          /* thread-safe: renew shares it */
	struct dns01_server *resolvers;
	size_t nresolvers;
	struct store_lock acct_lock;   /* held by the account verbs */
	bool opened;                   /* by session_open(); zeroed: not */
	bool have_req, have_dir, prepared;
	int dir_rc;                    /* a failed directory fetch, kept */
	char *dir_err;
};

/*
 * Start a session: the state directory's path, the CA's id and the
 * account directory's path.  Nothing is written and nothing asked of the
 * CA yet.  Returns 0 or a CERTO_E* code; session_close() s either way.
 */
int session_open(const struct session_opts *o, struct session *s);
/*
 * Make s ready for a verb, local checks first so that nothing is asked
 * of the CA if they fail: the state directory prepared (store_prepare,
 * once), a saved rate limit on new accounts honoured when an account
 * must be created (CERTO_EPROBLEM without contacting the CA), the
 * solver started (ports bound, responder reached), then the directory
 * (fetched once per session), the profile checked, and the account
 * loaded or created under its lock.  May be called again with other
 * needs (renew: one call per group of certificates); an account already
 * loaded is kept.
 */
int session_connect(struct session *s, const struct session_needs *n);
/*
 * The CA's directory, fetched over the network on first use (once per
 * session; a failure is remembered and reported again).  Main thread
 * only.  Returns 0 with *dir borrowed from s, or a CERTO_E* code.
 */
int session_fetch_directory(struct session *s,
    const struct certo_directory **dir);
/*
 * A request of its own for one order: the session's HTTP options, the
 * directory's newNonce, signed with the session's account.  Thread-safe
 * once s is connected.  Free with request_free().
 */
int session_request(const struct session *s, struct certo_req *req);
/* Stop the solver of s (renew: before the next group starts its own). */
void session_stop_solver(struct session *s);
/*
 * Release everything s holds (the solver stopped, locks released); safe
 * on a zeroed struct and twice.
 */
void session_close(struct session *s);

/* The sessions of one run, one per CA (renew, list). */
struct session_set {
	struct session **v;
	size_t n;
};

/*
 * The session of set for o's CA (server, trust bundle, plain http),
 * opened on first use.  *out is borrowed from set.  Returns 0 or a
 * CERTO_E* code from session_open().
 */
int session_set_get(struct session_set *set, const struct session_opts *o,
    struct session **out);
void session_set_free(struct session_set *set);

#endif
