/*
 * The CA's documents, read where their bytes arrive.  Every body an
 * ACME request receives is parsed by the process that performed the
 * transfer (the network process of a privilege-separated run, see
 * privsep.h; this process otherwise) into a typed document: the
 * resource the request asked for (directory, account, order,
 * authorization, challenge, certificate chain, renewalInfo) on a 2xx
 * answer, the problem document on an error answer.  Only the typed
 * fields cross to the key process (doc_put/doc_get, every one checked
 * again there), never the bytes: the key process runs no JSON, PEM or
 * X.509 parser on what the network sent.
 */
#ifndef CERTO_DOC_H
#define CERTO_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "authz.h"
#include "certificate.h"
#include "challenge.h"
#include "directory.h"
#include "order.h"
#include "problem.h"
#include "renewalinfo.h"

struct http_resp;
struct privsep_msg;

/* What a request wants its 2xx body read as (http_xfer.doc). */
enum doc_kind {
	DOC_RAW = 0,        /* the body itself (the http-01 self-check) */
	DOC_NONE,           /* nothing: the body is dropped unread */
	DOC_DIRECTORY,
	DOC_ACCOUNT,
	DOC_ORDER,
	DOC_AUTHZ,
	DOC_CHALLENGE,
	DOC_CHAIN,          /* application/pem-certificate-chain */
	DOC_RENEWALINFO,
	DOC_KEYAUTH,        /* an http-01 self-check: is the body the key
	                     * authorization (http_xfer.doc_arg)? */
	DOC_PROBLEM,        /* an error answer's problem (never asked for) */
	DOC_KIND_MAX
};

/* An account object (RFC 8555 7.1.2): what certo shows of it. */
#define DOC_MAX_CONTACTS 16
#define DOC_JWK_MEMBERS 6   /* kty crv x y n e (doc_jwk_names) */
struct doc_account {
	char *status;       /* "valid", "deactivated" or "revoked" */
	char **contacts;    /* capped at DOC_MAX_CONTACTS, 256 bytes each */
	size_t ncontacts;
	char *orders;       /* the orders list URL, or NULL */
	bool tos_agreed;    /* termsOfServiceAgreed */
	char *jwk[DOC_JWK_MEMBERS]; /* the key the CA holds: each member
	                     * or NULL; kty/crv short names, the others
	                     * base64url */
};
/* The account statuses RFC 8555 7.1.6 names (doc_account.status). */
#define DOC_ACCOUNT_STATUSES 3
extern const char *const doc_account_statuses[DOC_ACCOUNT_STATUSES];
/*
 * Is resp's body JSON by its Content-Type (application/problem+json or
 * application/json, parameters aside)?  An error answer's body is read
 * as a problem document only then.
 */
bool doc_is_json(const struct http_resp *resp);
/* The names of doc_account.jwk's members. */
extern const char *const doc_jwk_names[DOC_JWK_MEMBERS];
/* Is s acceptable as jwk member i (short name or base64url)? */
bool doc_jwk_ok(size_t i, const char *s);

/* An http-01 self-check's body, compared where it arrived. */
#define DOC_KEYAUTH_SHOWN 64
struct doc_keyauth {
	bool match;         /* the key authorization, trailing white space
	                     * aside */
	size_t len;         /* the body's length */
	char shown[4 * DOC_KEYAUTH_SHOWN + 1]; /* its first bytes, printable
	                     * (log_sanitize) */
};

/* One read body. */
struct certo_doc {
	enum doc_kind kind; /* what was read: the kind asked for (2xx),
	                     * DOC_PROBLEM (an error answer with a JSON
	                     * body) or DOC_NONE (nothing) */
	int rc;             /* 0, or why it could not be read */
	char *msg;          /* rc's message (printable) */
	union {
		struct certo_problem prob;
		struct certo_directory dir;
		struct doc_account acct;
		struct certo_order order;
		struct certo_authz authz;
		struct certo_challenge chall;
		struct certo_chain chain;
		struct ari_window ari;
		struct doc_keyauth keyauth;
	} u;
};

/* The body cap of kind (REQUEST_MAX_BODY, REQUEST_MAX_CERT...). */
size_t doc_max(enum doc_kind kind);

/*
 * Make every transfer of this process read its body as its http_xfer
 * asks (http_set_doc_reader).  Idempotent; called by request_init()
 * and by the network process at start.
 */
void doc_init(void);

/*
 * Read resp's body as kind (see enum doc_kind) into resp->doc and drop
 * the body; arg is DOC_KEYAUTH's key authorization.  A body that does
 * not parse is no failure here: the doc records rc and message.
 * Returns 0 or CERTO_ENOMEM.
 */
int doc_read(struct http_resp *resp, unsigned kind, const char *arg);
/* Free a doc (a void * for http.c); NULL is fine. */
void doc_free(void *doc);

/*
 * The document of a 2xx answer to a request for kind, moved out of
 * resp: its parse's result (the message recorded again) or, when none
 * is there, CERTO_EPROTO.  *out is the struct of kind (struct
 * certo_order * for DOC_ORDER...), filled on 0 as the kind's parser
 * fills it (an order keeps its names, URL and still valid fetched
 * authorizations, an authorization its URL); the caller frees it.
 */
int doc_take(struct http_resp *resp, enum doc_kind kind, void *out);

/* The account document (doc_account) free. */
void doc_account_free(struct doc_account *acct);

/*
 * The doc's fields as message fields (privsep_msg.h), and back.
 * doc_get reads what doc_put wrote for a request of kind asked, and
 * checks every field as the parser would (URLs, tokens, enums, counts,
 * lengths): a message that does not pass is CERTO_EPRIVSEP.
 */
int doc_put(struct privsep_msg *m, const struct certo_doc *doc);
int doc_get(struct privsep_msg *m, unsigned asked, struct certo_doc **out);

#endif
