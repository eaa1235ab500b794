/*
 * certo error codes: one X-macro table, CERTO_ERROR_MAP, generates the
 * enum, the names, the messages and the process exit code of every
 * error, so they never drift apart (as libuv's UV_ERRNO_MAP does; these
 * are certo's own codes, not errno values).  Functions return 0 or a negative
 * CERTO_E* code; the first, most specific message of a failure is kept
 * by certo_fail() (curl's failf()).
 */
#ifndef CERTO_ERRORS_H
#define CERTO_ERRORS_H

#include <stddef.h>

/* Process exit codes, documented in certo(1). */
#define CERTO_EXIT_OK 0
#define CERTO_EXIT_USAGE 1    /* usage or configuration error */
#define CERTO_EXIT_CA 2       /* the CA refused, validation failed */
#define CERTO_EXIT_NET 3      /* network error or timeout */
#define CERTO_EXIT_LOCAL 4    /* local I/O: files, ports, keys */
#define CERTO_EXIT_SELFCHECK 5 /* our own challenge self-check failed */
#define CERTO_EXIT_DNSWAIT 6  /* DNS record never visible everywhere */
#define CERTO_EXIT_HOOK 7     /* a hook program failed */
#define CERTO_EXIT_STORE 8    /* the store (Redis) unreachable or refused */
#define CERTO_EXIT_STOREAUTH 9 /* the store refused our credentials */
#define CERTO_EXIT_NOKEY 10   /* the CA knows no account for the key */
#define CERTO_EXIT_PENDING 11 /* an order waits for its authorizations */
#define CERTO_EXIT_INTR 130   /* interrupted by a signal */

/* XX(NAME, exit code, message) */
#define CERTO_ERROR_MAP(XX)                                                  \
	XX(ENOMEM, CERTO_EXIT_LOCAL, "out of memory")                        \
	XX(EUSAGE, CERTO_EXIT_USAGE, "invalid usage")                        \
	XX(ECONFIG, CERTO_EXIT_USAGE, "invalid configuration")               \
	XX(EIDENT, CERTO_EXIT_USAGE, "invalid identifier")                   \
	XX(ETOS, CERTO_EXIT_USAGE, "terms of service not agreed")            \
	XX(EIO, CERTO_EXIT_LOCAL, "local I/O error")                         \
	XX(EKEYPERM, CERTO_EXIT_LOCAL, "key file readable by others")        \
	XX(EADDRINUSE, CERTO_EXIT_LOCAL, "address already in use")           \
	XX(EBIND, CERTO_EXIT_LOCAL, "cannot listen")                         \
	XX(ECRYPTO, CERTO_EXIT_LOCAL, "cryptographic operation failed")      \
	XX(ENET, CERTO_EXIT_NET, "network error")                            \
	XX(ETIMEDOUT, CERTO_EXIT_NET, "timed out")                           \
	XX(ETLS, CERTO_EXIT_NET, "TLS error")                                \
	XX(ETOOBIG, CERTO_EXIT_CA, "response too large")                     \
	XX(EPROTO, CERTO_EXIT_CA, "malformed response from the CA")          \
	XX(EHTTP, CERTO_EXIT_CA, "unexpected HTTP status from the CA")       \
	XX(EPROBLEM, CERTO_EXIT_CA, "the CA returned an error")              \
	XX(EINVALID, CERTO_EXIT_CA, "the order or authorization is invalid") \
	XX(ENOCHALLENGE, CERTO_EXIT_CA, "no usable challenge offered")       \
	XX(ENOACCOUNT, CERTO_EXIT_CA, "no account exists for this key")      \
	XX(ESELFCHECK, CERTO_EXIT_SELFCHECK, "challenge self-check failed")  \
	XX(EDNSWAIT, CERTO_EXIT_DNSWAIT, "DNS record not visible in time")   \
	XX(EHOOK, CERTO_EXIT_HOOK, "hook program failed")                    \
	XX(EBUSY, CERTO_EXIT_LOCAL, "another certo run holds the lock")      \
	XX(EPRIVSEP, CERTO_EXIT_LOCAL, "internal error in the network process") \
	XX(EUNKNOWNKEY, CERTO_EXIT_NOKEY, "account key unknown to the CA")    \
	XX(EPENDING, CERTO_EXIT_PENDING, "authorizations still pending")     \
	XX(ESTORE, CERTO_EXIT_STORE, "store unreachable or refused")         \
	XX(ESTOREAUTH, CERTO_EXIT_STOREAUTH, "store refused the credentials") \
	XX(EINTR, CERTO_EXIT_INTR, "interrupted")

enum certo_err {
	CERTO_OK = 0,
	CERTO_E__FIRST = -1000,
#define XX(name, code, msg) CERTO_##name,
	CERTO_ERROR_MAP(XX)
#undef XX
	CERTO_E__LAST
};

/* Symbolic name ("ENOMEM") of a code; "UNKNOWN" for anything else. */
const char *certo_errname(int err);
/* Generic message of a code. */
const char *certo_strerror(int err);
/* Exit code (CERTO_EXIT_*) for a code; 0 for CERTO_OK. */
int certo_exitcode(int err);

/*
 * Record the message of a failure unless one is recorded already (the
 * first, innermost message wins).  Returns err, so callers can write
 * `return certo_fail(CERTO_EIO, "open %s: %s", p, strerror(errno));`.
 */
int certo_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The recorded message, or NULL. */
const char *certo_errmsg(void);
/* The code passed with the recorded message, or 0. */
int certo_errcode(void);
/* Forget the recorded message (after a handled failure). */
void certo_errclear(void);

#endif
