/*
 * A read document (doc.h) as the fields of a privsep message, and back.
 * The reading side is the key process: it trusts nothing of the
 * network process's message and checks every field as the parsers do
 * (URL syntax, base64url tokens, enum ranges, counts and lengths) before
 * a struct is built from it.
 */
#include "doc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "privsep_msg.h"

#define STR_MAX 4096          /* problem details and the like */
#define PEM_MAX (512u * 1024) /* REQUEST_MAX_CERT */
#define SANS_MAX 1000
#define PROFILES_MAX 64

/* ---- writing ---- */

static int
put_problem(struct privsep_msg *m, const struct certo_problem *p)
{
	int rc = 0;

	rc |= privsep_put_str(m, p->type);
	rc |= privsep_put_str(m, p->detail);
	rc |= privsep_put_i64(m, p->status);
	rc |= privsep_put_u64(m, p->nsubs);
	for (size_t i = 0; i < p->nsubs; i++) {
		rc |= privsep_put_str(m, p->subs[i].type);
		rc |= privsep_put_str(m, p->subs[i].detail);
		rc |= privsep_put_str(m, p->subs[i].ident_type);
		rc |= privsep_put_str(m, p->subs[i].ident_value);
	}
	return rc;
}

/* An optional problem: a flag, then the problem. */
static int
put_opt_problem(struct privsep_msg *m, const struct certo_problem *p)
{
	int rc = privsep_put_u64(m, p != NULL);

	return p != NULL ? rc | put_problem(m, p) : rc;
}

static int
put_strs(struct privsep_msg *m, char *const *v, size_t n)
{
	int rc = privsep_put_u64(m, n);

	for (size_t i = 0; i < n; i++)
		rc |= privsep_put_str(m, v[i]);
	return rc;
}

static int
put_challenge(struct privsep_msg *m, const struct certo_challenge *c)
{
	int rc = 0;

	rc |= privsep_put_u64(m, (uint64_t)c->type);
	rc |= privsep_put_u64(m, (uint64_t)c->status);
	rc |= privsep_put_str(m, c->url);
	rc |= privsep_put_str(m, c->token);
	return rc | put_opt_problem(m, c->error);
}

static int
put_authz(struct privsep_msg *m, const struct certo_authz *a)
{
	int rc = 0;

	rc |= privsep_put_str(m, a->ident.type);
	rc |= privsep_put_str(m, a->ident.value);
	rc |= privsep_put_u64(m, (uint64_t)a->status);
	rc |= privsep_put_u64(m, a->wildcard);
	rc |= privsep_put_str(m, a->expires);
	rc |= privsep_put_u64(m, a->nchalls);
	for (size_t i = 0; i < a->nchalls; i++)
		rc |= put_challenge(m, &a->challs[i]);
	return rc;
}

static int
put_order(struct privsep_msg *m, const struct certo_order *o)
{
	int rc = 0;

	rc |= privsep_put_u64(m, (uint64_t)o->status);
	rc |= privsep_put_str(m, o->expires);
	rc |= privsep_put_u64(m, o->nidents);
	for (size_t i = 0; i < o->nidents; i++) {
		rc |= privsep_put_str(m, o->idents[i].type);
		rc |= privsep_put_str(m, o->idents[i].value);
	}
	rc |= put_strs(m, o->authz_urls, o->nauthz);
	rc |= privsep_put_str(m, o->finalize);
	rc |= privsep_put_str(m, o->certificate);
	return rc | put_opt_problem(m, o->error);
}

static int
put_directory(struct privsep_msg *m, const struct certo_directory *d)
{
	int rc = 0;

	rc |= privsep_put_str(m, d->new_nonce);
	rc |= privsep_put_str(m, d->new_account);
	rc |= privsep_put_str(m, d->new_order);
	rc |= privsep_put_str(m, d->new_authz);
	rc |= privsep_put_str(m, d->revoke_cert);
	rc |= privsep_put_str(m, d->key_change);
	rc |= privsep_put_str(m, d->renewal_info);
	rc |= privsep_put_str(m, d->terms_of_service);
	rc |= privsep_put_str(m, d->website);
	rc |= privsep_put_u64(m, d->eab_required);
	return rc | put_strs(m, d->profiles, d->nprofiles);
}

static int
put_chain(struct privsep_msg *m, const struct certo_chain *c)
{
	int rc = 0;

	rc |= privsep_put_str(m, c->fullchain);
	rc |= privsep_put_str(m, c->leaf);
	rc |= privsep_put_str(m, c->issuers);
	rc |= put_strs(m, c->sans, c->nsans);
	rc |= privsep_put_i64(m, (int64_t)c->not_after);
	rc |= privsep_put_i64(m, (int64_t)c->not_before);
	rc |= privsep_put_u64(m, c->ncerts);
	rc |= privsep_put_str(m, c->top_issuer);
	rc |= privsep_put_str(m, c->key_desc);
	rc |= privsep_put_bytes(m, c->key_id, c->key_id_len);
	rc |= privsep_put_str(m, c->ari_id);
	return rc | privsep_put_u64(m, c->must_staple);
}

static int
put_kind(struct privsep_msg *m, const struct certo_doc *d)
{
	switch (d->kind) {
	case DOC_PROBLEM:
		return put_problem(m, &d->u.prob);
	case DOC_DIRECTORY:
		return put_directory(m, &d->u.dir);
	case DOC_ACCOUNT:
		return put_strs(m, d->u.acct.jwk, DOC_JWK_MEMBERS) |
		    privsep_put_str(m, d->u.acct.status) |
		    privsep_put_str(m, d->u.acct.orders) |
		    privsep_put_u64(m, d->u.acct.tos_agreed) |
		    put_strs(m, d->u.acct.contacts, d->u.acct.ncontacts);
	case DOC_ORDER:
		return put_order(m, &d->u.order);
	case DOC_AUTHZ:
		return put_authz(m, &d->u.authz);
	case DOC_CHALLENGE:
		return put_challenge(m, &d->u.chall);
	case DOC_CHAIN:
		return put_chain(m, &d->u.chain);
	case DOC_KEYAUTH:
		return privsep_put_u64(m, d->u.keyauth.match) |
		    privsep_put_u64(m, d->u.keyauth.len) |
		    privsep_put_str(m, d->u.keyauth.shown);
	case DOC_RENEWALINFO:
		return privsep_put_i64(m, (int64_t)d->u.ari.start) |
		    privsep_put_i64(m, (int64_t)d->u.ari.end) |
		    privsep_put_str(m, d->u.ari.explanation);
	default:
		return 0;
	}
}

int
doc_put(struct privsep_msg *m, const struct certo_doc *d)
{
	int rc = 0;

	rc |= privsep_put_u64(m, d != NULL ? (uint64_t)d->kind : DOC_NONE);
	rc |= privsep_put_i64(m, d != NULL ? d->rc : 0);
	rc |= privsep_put_str(m, d != NULL ? d->msg : NULL);
	if (d != NULL && d->rc == 0)
		rc |= put_kind(m, d);
	return rc != 0 ? CERTO_ENOMEM : 0;
}

/* ---- reading: -1 for anything that does not pass ---- */

/* An allocation of the reader failed: the message's error is ENOMEM. */
static int
nomem(struct privsep_msg *m)
{
	if (m->err == 0)
		m->err = CERTO_ENOMEM;
	return -1;
}

/* A string of at most max bytes; NULL only when !required. */
static int
get_s(struct privsep_msg *m, char **s, size_t max, bool required)
{
	if (privsep_get_str(m, s) != 0)
		return -1;
	if (*s == NULL)
		return required ? -1 : 0;
	if (strlen(*s) <= max)
		return 0;
	free(*s);
	*s = NULL;
	return -1;
}

/* A URL as json_get_url() accepts it. */
static int
get_url(struct privsep_msg *m, char **s, bool required)
{
	if (get_s(m, s, JSON_URL_MAX, required) != 0)
		return -1;
	return *s == NULL || json_url_ok(*s) ? 0 : -1;
}

/* A number in [0, max]. */
static int
get_n(struct privsep_msg *m, size_t *n, uint64_t max)
{
	uint64_t v;

	if (privsep_get_u64(m, &v) != 0 || v > max)
		return -1;
	*n = (size_t)v;
	return 0;
}

/* A counted list of strings into a new array. */
static int
get_strs(struct privsep_msg *m, char ***v, size_t *n, size_t maxn,
    size_t maxlen)
{
	size_t want;

	if (get_n(m, &want, maxn) != 0)
		return -1;
	if (want > 0 && (*v = calloc(want, sizeof(char *))) == NULL)
		return nomem(m);
	for (*n = 0; *n < want; (*n)++)
		if (get_s(m, &(*v)[*n], maxlen, true) != 0)
			return -1;
	return 0;
}

static int
get_problem(struct privsep_msg *m, struct certo_problem *p)
{
	int64_t status;
	size_t n;

	if (get_s(m, &p->type, 1024, true) != 0 ||
	    get_s(m, &p->detail, STR_MAX, false) != 0 ||
	    privsep_get_i64(m, &status) != 0 || status < 0 || status > 999 ||
	    get_n(m, &n, PROBLEM_MAX_SUBPROBLEMS) != 0)
		return -1;
	p->status = (long)status;
	if (n > 0 && (p->subs = calloc(n, sizeof(*p->subs))) == NULL)
		return nomem(m);
	for (; p->nsubs < n; p->nsubs++) {
		struct certo_subproblem *s = &p->subs[p->nsubs];
		if (get_s(m, &s->type, 1024, true) != 0 ||
		    get_s(m, &s->detail, STR_MAX, false) != 0 ||
		    get_s(m, &s->ident_type, 64, false) != 0 ||
		    get_s(m, &s->ident_value, 1024, false) != 0) {
			p->nsubs++;
			return -1;
		}
	}
	return 0;
}

static int
get_opt_problem(struct privsep_msg *m, struct certo_problem **p)
{
	size_t have;

	if (get_n(m, &have, 1) != 0)
		return -1;
	if (have == 0)
		return 0;
	if ((*p = calloc(1, sizeof(**p))) == NULL)
		return nomem(m);
	return get_problem(m, *p);
}

static int
get_ident(struct privsep_msg *m, struct certo_identifier *id)
{
	if (get_s(m, &id->type, 8, true) != 0 ||
	    get_s(m, &id->value, 1024, true) != 0)
		return -1;
	return strcmp(id->type, "dns") == 0 || strcmp(id->type, "ip") == 0 ?
	    0 : -1;
}

static int
get_challenge(struct privsep_msg *m, struct certo_challenge *c)
{
	size_t type, status;

	if (get_n(m, &type, CHALL_TLSALPN01) != 0 ||
	    get_n(m, &status, CHALL_INVALID) != 0)
		return -1;
	c->type = (enum chall_type)type;
	c->status = (enum chall_status)status;
	if (get_url(m, &c->url, true) != 0 ||
	    get_s(m, &c->token, CHALLENGE_MAX_TOKEN, false) != 0)
		return -1;
	/* Tokens become URL paths and file names. */
	if (c->type != CHALL_UNKNOWN && (c->token == NULL ||
	    !b64url_valid(c->token) || strlen(c->token) < 22))
		return -1;
	return get_opt_problem(m, &c->error);
}

static int
get_authz(struct privsep_msg *m, struct certo_authz *a)
{
	size_t status, wild, n;

	if (get_ident(m, &a->ident) != 0 ||
	    get_n(m, &status, AUTHZ_REVOKED) != 0 || get_n(m, &wild, 1) != 0 ||
	    get_s(m, &a->expires, 64, false) != 0 ||
	    get_n(m, &n, AUTHZ_MAX_CHALLENGES) != 0)
		return -1;
	a->status = (enum authz_status)status;
	a->wildcard = wild != 0;
	if (n > 0 && (a->challs = calloc(n, sizeof(*a->challs))) == NULL)
		return nomem(m);
	for (; a->nchalls < n; a->nchalls++)
		if (get_challenge(m, &a->challs[a->nchalls]) != 0) {
			a->nchalls++;
			return -1;
		}
	return 0;
}

static int
get_order(struct privsep_msg *m, struct certo_order *o)
{
	size_t status, n;

	if (get_n(m, &status, ORDER_INVALID) != 0 ||
	    get_s(m, &o->expires, 64, false) != 0 ||
	    get_n(m, &n, ORDER_MAX_IDENTIFIERS) != 0)
		return -1;
	o->status = (enum order_status)status;
	if (n > 0 && (o->idents = calloc(n, sizeof(*o->idents))) == NULL)
		return nomem(m);
	for (; o->nidents < n; o->nidents++)
		if (get_ident(m, &o->idents[o->nidents]) != 0) {
			o->nidents++;
			return -1;
		}
	if (get_strs(m, &o->authz_urls, &o->nauthz, ORDER_MAX_IDENTIFIERS,
	    JSON_URL_MAX) != 0)
		return -1;
	for (size_t i = 0; i < o->nauthz; i++)
		if (!json_url_ok(o->authz_urls[i]))
			return -1;
	if (get_url(m, &o->finalize, true) != 0 ||
	    get_url(m, &o->certificate, false) != 0)
		return -1;
	return get_opt_problem(m, &o->error);
}

static int
get_directory(struct privsep_msg *m, struct certo_directory *d)
{
	size_t eab;

	if (get_url(m, &d->new_nonce, true) != 0 ||
	    get_url(m, &d->new_account, true) != 0 ||
	    get_url(m, &d->new_order, true) != 0 ||
	    get_url(m, &d->new_authz, false) != 0 ||
	    get_url(m, &d->revoke_cert, true) != 0 ||
	    get_url(m, &d->key_change, true) != 0 ||
	    get_url(m, &d->renewal_info, false) != 0 ||
	    get_s(m, &d->terms_of_service, JSON_URL_MAX, false) != 0 ||
	    get_s(m, &d->website, JSON_URL_MAX, false) != 0 ||
	    get_n(m, &eab, 1) != 0)
		return -1;
	d->eab_required = eab != 0;
	return get_strs(m, &d->profiles, &d->nprofiles, PROFILES_MAX, 64);
}

static int
get_chain(struct privsep_msg *m, struct certo_chain *c)
{
	int64_t na, nb;
	char *desc = NULL, *id = NULL;
	size_t idlen = 0;
	size_t staple;
	int rc = -1;

	if (get_s(m, &c->fullchain, PEM_MAX, true) != 0 ||
	    get_s(m, &c->leaf, PEM_MAX, true) != 0 ||
	    get_s(m, &c->issuers, PEM_MAX, true) != 0 ||
	    get_strs(m, &c->sans, &c->nsans, SANS_MAX, 1024) != 0 ||
	    privsep_get_i64(m, &na) != 0 || privsep_get_i64(m, &nb) != 0 ||
	    get_n(m, &c->ncerts, 16) != 0 || c->ncerts == 0 ||
	    get_s(m, &c->top_issuer, 1024, false) != 0 ||
	    get_s(m, &desc, sizeof(c->key_desc) - 1, true) != 0 ||
	    privsep_get_bytes(m, &id, &idlen) != 0 ||
	    idlen > sizeof(c->key_id) ||
	    get_s(m, &c->ari_id, 1024, false) != 0 ||
	    get_n(m, &staple, 1) != 0)
		goto out;
	c->not_after = (time_t)na;
	c->not_before = (time_t)nb;
	snprintf(c->key_desc, sizeof(c->key_desc), "%s", desc);
	memcpy(c->key_id, id, idlen);
	c->key_id_len = idlen;
	c->must_staple = staple != 0;
	rc = 0;
out:
	free(desc);
	free(id);
	return rc;
}

static int
get_account(struct privsep_msg *m, struct doc_account *a)
{
	size_t n, tos, i;

	if (get_n(m, &n, DOC_JWK_MEMBERS) != 0 || n != DOC_JWK_MEMBERS)
		return -1;
	for (i = 0; i < DOC_JWK_MEMBERS; i++)
		if (get_s(m, &a->jwk[i], 1400, false) != 0 ||
		    (a->jwk[i] != NULL && !doc_jwk_ok(i, a->jwk[i])))
			return -1;
	if (get_s(m, &a->status, 16, true) != 0 ||
	    get_url(m, &a->orders, false) != 0 || get_n(m, &tos, 1) != 0)
		return -1;
	a->tos_agreed = tos != 0;
	for (i = 0; i < DOC_ACCOUNT_STATUSES &&
	    strcmp(a->status, doc_account_statuses[i]) != 0; i++)
		;
	if (i == DOC_ACCOUNT_STATUSES)
		return -1;
	return get_strs(m, &a->contacts, &a->ncontacts, DOC_MAX_CONTACTS,
	    256);
}

/* An http-01 self-check's result; shown must be printable already. */
static int
get_keyauth(struct privsep_msg *m, struct doc_keyauth *k)
{
	size_t match;
	char *shown = NULL;
	int rc = -1;

	if (get_n(m, &match, 1) != 0 || get_n(m, &k->len, 1u << 20) != 0 ||
	    get_s(m, &shown, sizeof(k->shown) - 1, true) != 0)
		goto out;
	for (const char *p = shown; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			goto out;
	k->match = match != 0;
	memcpy(k->shown, shown, strlen(shown) + 1);
	rc = 0;
out:
	free(shown);
	return rc;
}

static int
get_kind(struct privsep_msg *m, struct certo_doc *d)
{
	int64_t t0, t1;

	switch (d->kind) {
	case DOC_PROBLEM:
		return get_problem(m, &d->u.prob);
	case DOC_DIRECTORY:
		return get_directory(m, &d->u.dir);
	case DOC_ACCOUNT:
		return get_account(m, &d->u.acct);
	case DOC_ORDER:
		return get_order(m, &d->u.order);
	case DOC_AUTHZ:
		return get_authz(m, &d->u.authz);
	case DOC_CHALLENGE:
		return get_challenge(m, &d->u.chall);
	case DOC_CHAIN:
		return get_chain(m, &d->u.chain);
	case DOC_KEYAUTH:
		return get_keyauth(m, &d->u.keyauth);
	case DOC_RENEWALINFO:
		if (privsep_get_i64(m, &t0) != 0 ||
		    privsep_get_i64(m, &t1) != 0 || t1 <= t0)
			return -1;
		d->u.ari.start = (time_t)t0;
		d->u.ari.end = (time_t)t1;
		d->u.ari.retry_after = -1;
		return get_s(m, &d->u.ari.explanation, JSON_URL_MAX, false);
	default:
		return 0;
	}
}

int
doc_get(struct privsep_msg *m, unsigned asked, struct certo_doc **out)
{
	struct certo_doc *d;
	uint64_t kind;
	int64_t rc;
	char *msg = NULL, shown[1024];

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	d->kind = DOC_NONE;
	if (privsep_get_u64(m, &kind) != 0 || (kind != DOC_NONE &&
	    kind != DOC_PROBLEM && kind != asked) ||
	    privsep_get_i64(m, &rc) != 0 || (rc != 0 &&
	    (rc <= CERTO_E__FIRST || rc >= CERTO_E__LAST)) ||
	    privsep_get_str(m, &msg) != 0)
		goto bad;
	d->kind = (enum doc_kind)kind;
	d->rc = (int)rc;
	if (msg != NULL &&
	    (d->msg = strdup(log_printable(shown, sizeof(shown), msg))) ==
	    NULL) {
		nomem(m);
		goto bad;
	}
	free(msg);
	msg = NULL;
	if (d->rc == 0 && get_kind(m, d) != 0)
		goto bad;
	*out = d;
	return 0;
bad:
	free(msg);
	doc_free(d);
	if (m->err == CERTO_ENOMEM)
		return certo_fail(CERTO_ENOMEM, "out of memory");
	return certo_fail(CERTO_EPRIVSEP, "internal error: a malformed "
	    "document from the network process");
}
