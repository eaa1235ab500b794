/*
 * certo issue: one struct per order through one state machine (OpenBSD
 * acme-client's netproc.c): while the order is neither valid nor
 * invalid, act on its status.
 */
#include "issue.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "certificate.h"
#include "config.h"
#include "csr.h"
#include "errors.h"
#include "file.h"
#include "finalize.h"
#include "hook.h"
#include "jws.h"
#include "key.h"
#include "log.h"
#include "order.h"
#include "polling.h"
#include "ratelimit.h"
#include "renew.h"
#include "request.h"
#include "session.h"
#include "sig.h"
#include "store.h"

/*
 * stage_authorize()/drive_order() return this (positive, never seen
 * outside this file) when a resumed order cannot be completed: one of
 * its challenges failed in an earlier run.  The driver then starts a new
 * order, once.
 */
#define ISSUE_RESTART 1

/* A challenge we published and must withdraw on every exit path. */
struct published {
	enum chall_type type;
	char *ident;
	char *token;
	char *keyauth;
	struct certo_challenge *chall;  /* in order.authzs; NULL once polled */
	bool answered;                  /* the CA was told already (resume) */
};

/* One order in flight. */
struct issue {
	struct session *sess;
	struct issue_job *job;
	const struct certo_cli *cli;
	struct certo_req req;
	struct certo_order order;
	struct published *pub;
	size_t npub;
	struct certo_key *cert_key;
	char *csr_b64;                 /* --csr */
	char *order_dir;               /* resume state */
	bool resumed;                  /* the order came from order_dir */
	struct certo_chain chain;
};

static void
withdraw_all(struct issue *is)
{
	for (size_t i = 0; i < is->npub; i++) {
		if (is->sess->solver.ops != NULL)
			is->sess->solver.ops->withdraw(is->sess->solver.ctx, is->pub[i].type,
			    is->pub[i].ident, is->pub[i].token);
		free(is->pub[i].ident);
		free(is->pub[i].token);
		free(is->pub[i].keyauth);
	}
	free(is->pub);
	is->pub = NULL;
	is->npub = 0;
}

/* Publish a key authorization (ownership of keyauth moves here). */
static int
publish(struct issue *is, enum chall_type t, const char *ident,
    struct certo_challenge *c, char *keyauth, bool answered)
{
	struct published *np, *p;

	np = realloc(is->pub, (is->npub + 1) * sizeof(*np));
	if (np == NULL) {
		free(keyauth);
		return CERTO_ENOMEM;
	}
	is->pub = np;
	p = &np[is->npub];
	memset(p, 0, sizeof(*p));
	p->type = t;
	p->chall = c;
	p->answered = answered;
	p->keyauth = keyauth;
	p->ident = strdup(ident);
	p->token = strdup(c->token);
	if (p->ident == NULL || p->token == NULL) {
		free(p->ident);
		free(p->token);
		free(p->keyauth);
		return CERTO_ENOMEM;
	}
	/* Recorded before publishing: withdraw runs even if this fails. */
	is->npub++;
	return is->sess->solver.ops->publish(is->sess->solver.ctx, t, ident, p->token,
	    keyauth);
}

/*
 * Report why an authorization failed: its status, and the problem of the
 * challenge c (the one answered, when known) or else of any challenge
 * that carries one (type, detail, subproblems).
 */
static int
authz_failed(const struct certo_authz *a, const struct certo_challenge *c)
{
	struct certo_buf b;
	char name[300];
	int rc;

	buf_init(&b, 8192);
	for (size_t i = 0; c == NULL && i < a->nchalls; i++)
		if (a->challs[i].error != NULL)
			c = &a->challs[i];
	if (c != NULL && c->error != NULL) {
		buf_printf(&b, "%s challenge %s: ", challenge_type_name(c->type),
		    challenge_status_name(c->status));
		problem_format(c->error, &b);
	}
	rc = certo_fail(CERTO_EINVALID, "authorization for %s%s is %s%s%s",
	    a->wildcard ? "*." : "", log_sanitize(name, sizeof(name),
	    a->ident.value, (size_t)-1), authz_status_name(a->status),
	    b.data ? ": " : "", b.data ? b.data : "");
	buf_free(&b);
	return rc;
}

/* {"name": name, "challenge": type} for events. */
static struct json_object *
fields_name(const char *name, const char *type)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(name));
	if (type != NULL)
		json_object_object_add(o, "challenge",
		    json_object_new_string(type));
	return o;
}

/* {"url": url} for events. */
static struct json_object *
fields_url(const char *url)
{
	struct json_object *o = json_object_new_object();

	if (o != NULL)
		json_object_object_add(o, "url", json_object_new_string(url));
	return o;
}

static void
ev_authz(const struct certo_authz *a, const char *event, const char *name,
    const char *what)
{
	struct json_object *f = fields_name(name, NULL);

	if (f != NULL)
		json_object_object_add(f, "url", json_object_new_string(a->url));
	log_event(event, f, "authorization: %s %s", name, what);
}

/*
 * Fetch authorization a and type it: its identifier must be one that was
 * ordered (else exit 2: a CA's string never becomes a file name or a hook
 * argument).  *name gets certo's own copy of that name ("*.example.com"
 * for a wildcard), borrowed from the job's names.
 */
static int
authz_get(struct issue *is, struct certo_authz *a, long *ra,
    const char **name)
{
	size_t k = 0;
	int rc;

	if ((rc = authz_fetch(&is->req, a, ra)) != 0 ||
	    (rc = authz_check_ident(&a->ident, a->wildcard, is->cli->names,
	    is->cli->nnames, &k)) != 0)
		return rc;
	*name = is->cli->names[k];
	return 0;
}

/*
 * Poll one answered authorization until the CA has decided.  The
 * challenge answered (type t) is read on every poll as well: some CAs
 * keep the authorization pending and put the failure on the challenge
 * (an "error", status pending or invalid).  That ends the wait at once
 * when the challenge is invalid, and after two polls showing the same
 * error when it stays pending (the CA may be retrying).
 */
static int
authz_wait(struct issue *is, struct certo_authz *a, enum chall_type t)
{
	struct polling ps;
	struct certo_challenge *c;
	enum chall_status last = CHALL_PENDING;
	const char *name;
	unsigned errors = 0;
	long ra = -1;
	int rc;

	polling_start(&ps, "authorization", is->sess->ca_timeout_s);
	for (;;) {
		c = t != CHALL_UNKNOWN ? authz_find_challenge(a, t) : NULL;
		if (a->status != AUTHZ_PENDING)
			break;
		if (c != NULL) {
			if (c->status == CHALL_INVALID ||
			    (c->error != NULL && c->status != CHALL_VALID &&
			    ++errors >= 2))
				return authz_failed(a, c);
			if (c->status != last) {
				last = c->status;
				polling_progress(&ps);
			}
		}
		if ((rc = polling_wait(&ps, ra)) != 0 ||
		    (rc = authz_get(is, a, &ra, &name)) != 0)
			return rc;
	}
	if (a->status != AUTHZ_VALID)
		return authz_failed(a, c);
	return 0;
}

/*
 * Authorizations, in four steps: publish every pending challenge, let
 * the solver check all of them at once (DNS propagation, HTTP/TLS self
 * fetch), only then tell the CA, and poll each until decided.  A
 * challenge the CA is still processing (a resumed order) is published
 * again, so the CA's fetch finds it, but not answered twice.
 */
static int
stage_authorize(struct issue *is)
{
	struct certo_order *o = &is->order;
	struct solver_item *items = NULL;
	enum chall_type *chosen = NULL;
	char *keyauth = NULL, shown[300];
	const char *name = NULL;
	size_t first = is->npub, n;
	long ra;
	int rc = 0;

	if (o->authzs == NULL &&
	    (o->authzs = calloc(o->nauthz, sizeof(*o->authzs))) == NULL)
		return CERTO_ENOMEM;
	if ((chosen = calloc(o->nauthz ? o->nauthz : 1, sizeof(*chosen))) ==
	    NULL)
		return CERTO_ENOMEM;
	/* 1. Fetch each authorization; publish what must be proven. */
	for (size_t i = 0; i < o->nauthz; i++) {
		struct certo_authz *a = &o->authzs[i];
		struct certo_challenge *c = NULL;
		enum chall_type want = CHALL_UNKNOWN;

		if (a->url == NULL && (a->url = strdup(o->authz_urls[i])) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		if ((rc = authz_get(is, a, &ra, &name)) != 0)
			goto out;
		if (a->status == AUTHZ_VALID) {
			ev_authz(a, "authorization_valid", name, "already valid");
			continue;
		}
		if (a->status != AUTHZ_PENDING) {
			rc = is->resumed ? ISSUE_RESTART : authz_failed(a, NULL);
			goto out;
		}
		/* The first type in the user's order that the CA offers. */
		for (size_t t = 0; c == NULL && t < is->sess->solver.ntypes; t++) {
			want = is->sess->solver.types[t];
			c = authz_find_challenge(a, want);
		}
		if (c == NULL) {
			rc = certo_fail(CERTO_ENOCHALLENGE, "authorization for %s: "
			    "the CA offers none of the challenge types certo was "
			    "told to use (--challenge)%s", name, a->wildcard ?
			    "; wildcards need dns-01" : "");
			goto out;
		}
		chosen[i] = want;
		/* Failed in an earlier run: this order cannot be completed. */
		if (c->status == CHALL_INVALID || c->error != NULL) {
			rc = is->resumed ? ISSUE_RESTART : authz_failed(a, c);
			goto out;
		}
		if (c->status == CHALL_VALID)
			continue; /* the authorization follows; just poll */
		if ((rc = jws_key_authorization(is->sess->acct.key, c->token,
		    &keyauth)) != 0)
			goto out;
		/* publish() owns keyauth now, also when it fails. */
		rc = publish(is, want, name, c, keyauth,
		    c->status == CHALL_PROCESSING);
		keyauth = NULL;
		if (rc != 0)
			goto out;
	}
	/* 2. Check locally first: a failed validation costs rate limit. */
	n = is->npub - first;
	if (n > 0) {
		if ((items = calloc(n, sizeof(*items))) == NULL) {
			rc = CERTO_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			items[i].type = is->pub[first + i].type;
			items[i].ident = is->pub[first + i].ident;
			items[i].token = is->pub[first + i].token;
			items[i].keyauth = is->pub[first + i].keyauth;
		}
		rc = is->sess->solver.ops->selfcheck(is->sess->solver.ctx, items, n);
		free(items);
		if (rc != 0)
			goto out;
	}
	/* 3. Tell the CA (what an earlier run answered is published again). */
	for (size_t i = first; i < is->npub; i++) {
		struct published *p = &is->pub[i];
		if (p->answered) {
			log_event("challenge_republished", fields_name(p->ident,
			    challenge_type_name(p->type)), "authorization: %s %s "
			    "challenge already answered, served again", p->ident,
			    challenge_type_name(p->type));
			continue;
		}
		if ((rc = challenge_respond(&is->req, p->chall)) != 0)
			goto out;
		log_event("challenge_answered", fields_name(p->ident,
		    challenge_type_name(p->type)), "authorization: %s %s "
		    "challenge answered", p->ident, challenge_type_name(p->type));
	}
	/* 4. Poll each until the CA has decided. */
	for (size_t i = 0; i < o->nauthz; i++) {
		struct certo_authz *a = &o->authzs[i];
		bool was_pending = a->status == AUTHZ_PENDING;

		if ((rc = authz_wait(is, a, chosen[i])) != 0)
			goto out;
		if (was_pending) {
			snprintf(shown, sizeof(shown), "%s%s", a->wildcard ? "*." :
			    "", a->ident.value);
			ev_authz(a, "authorization_valid", shown, "valid");
		}
	}
out:
	/* authz_fetch replaced the challenge objects: forget pointers. */
	for (size_t i = 0; i < is->npub; i++)
		is->pub[i].chall = NULL;
	free(keyauth);
	free(chosen);
	return rc;
}

/* READY: the certificate key (made with the order) signs a CSR. */
static int
stage_finalize(struct issue *is)
{
	int rc;

	if ((rc = finalize_order(&is->req, &is->order, is->cert_key,
	    is->csr_b64, is->cli->must_staple)) != 0)
		return rc;
	log_event("finalize", NULL, "finalize: CSR for %zu name%s sent%s%s%s, "
	    "order %s", is->order.nnames, is->order.nnames == 1 ? "" : "s",
	    is->csr_b64 ? "" : " (", is->csr_b64 ? "" :
	    key_type_name(key_get_type(is->cert_key)), is->csr_b64 ? "" :
	    " key)", order_status_name(is->order.status));
	return 0;
}

static int
order_failed(const struct certo_order *o)
{
	struct certo_buf b;
	int rc;

	buf_init(&b, 8192);
	if (o->error != NULL)
		problem_format(o->error, &b);
	rc = certo_fail(CERTO_EINVALID, "the order is invalid%s%s",
	    b.data ? ": " : "", b.data ? b.data : "");
	buf_free(&b);
	return rc;
}

/*
 * Run the order through its states until valid or invalid.  Each wait
 * on the CA is one poll (polling.h) started when the wait starts, so time
 * spent publishing, in hooks or in a manual DNS wait never counts
 * against the CA; a status change is progress.  Finalize is sent once
 * per ready order: a CA that still says "ready" afterwards is polled,
 * not asked again and again.
 */
static int
drive_order(struct issue *is)
{
	struct certo_order *o = &is->order;
	struct polling ps;
	enum order_status last = o->status;
	bool authorized = false, finalized = false;
	long ra = -1;
	int rc = 0;

	polling_start(&ps, "order", is->sess->ca_timeout_s);
	while (o->status != ORDER_VALID && o->status != ORDER_INVALID) {
		if (o->status != last) {
			last = o->status;
			polling_progress(&ps);
		}
		switch (o->status) {
		case ORDER_PENDING:
			if (!authorized) {
				/* Prove control of every identifier. */
				if ((rc = stage_authorize(is)) != 0)
					return rc;
				withdraw_all(is);
				authorized = true;
				polling_progress(&ps);
				/* The order turns ready once all are valid. */
				if ((rc = order_fetch(&is->req, o, &ra)) != 0)
					return rc;
				continue;
			}
			break;
		case ORDER_READY:
			if (is->job->authorize_only)
				return 0; /* proven; no certificate wanted */
			if (!finalized) {
				finalized = true;
				if ((rc = stage_finalize(is)) != 0)
					return rc;
				ra = -1;
				continue;
			}
			break;
		case ORDER_PROCESSING:
		default:
			break;
		}
		/* Wait for the CA, honouring Retry-After, then look again. */
		if ((rc = polling_wait(&ps, ra)) != 0 ||
		    (rc = order_fetch(&is->req, o, &ra)) != 0)
			return rc;
	}
	if (o->status == ORDER_INVALID)
		return order_failed(o);
	if (o->certificate == NULL && !is->job->authorize_only)
		return certo_fail(CERTO_EPROTO, "the order is valid but has no "
		    "certificate URL");
	return 0;
}

/*
 * Download the chain; with --preferred-chain, look through the alternate
 * chains for one whose root has that issuer name.
 */
static int
stage_download(struct issue *is)
{
	const char *want = is->cli->preferred_chain;
	struct certo_chain alt;
	char **alts = NULL;
	size_t nalts = 0;
	int rc;

	if ((rc = certificate_download(&is->req, is->order.certificate,
	    &is->chain)) != 0)
		return rc;
	if (want == NULL || (is->chain.top_issuer != NULL &&
	    strcmp(is->chain.top_issuer, want) == 0))
		return 0;
	/* Take the alternate URLs over: the loop replaces is->chain. */
	alts = is->chain.alternates;
	nalts = is->chain.nalternates;
	is->chain.alternates = NULL;
	is->chain.nalternates = 0;
	for (size_t i = 0; i < nalts && rc == 0; i++) {
		if ((rc = certificate_download(&is->req, alts[i], &alt)) != 0)
			break;
		if (alt.top_issuer != NULL && strcmp(alt.top_issuer, want) == 0) {
			certificate_free(&is->chain);
			is->chain = alt; /* ownership moves to is */
			log_event("chain_selected", NULL, "download: alternate chain "
			    "%zu of %zu ends at \"%s\"", i + 1, nalts, want);
			goto out;
		}
		certificate_free(&alt);
	}
	if (rc == 0)
		log_warn("no chain ends at \"%s\"; keeping the default chain",
		    want);
out:
	for (size_t i = 0; i < nalts; i++)
		free(alts[i]);
	free(alts);
	return rc;
}

static void
summary(const struct issue *is)
{
	char when[64], names[2048] = "";
	struct json_object *f, *a;
	struct tm tm;
	time_t left = is->chain.not_after - time(NULL);
	size_t n = 0;

	gmtime_r(&is->chain.not_after, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (size_t i = 0; i < is->chain.nsans && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
		    i ? ", " : "", is->chain.sans[i]);
	f = json_object_new_object();
	a = json_object_new_array();
	for (size_t i = 0; i < is->chain.nsans; i++)
		json_object_array_add(a, json_object_new_string(
		    is->chain.sans[i]));
	json_object_object_add(f, "names", a);
	json_object_object_add(f, "not_after", json_object_new_string(when));
	if (is->job->live != NULL)
		json_object_object_add(f, "live_dir",
		    json_object_new_string(is->job->live));
	if (is->job->live == NULL) {
		log_event("certificate_checked", f, "certificate: issued for %s, "
		    "expires %s (dry run: not stored)", names, when);
		return;
	}
	/* --csr without --key: no privkey.pem was written. */
	log_event("certificate_saved", f, "certificate: %s/fullchain.pem\n"
	    "  private key: %s%s\n"
	    "  certificate: %s/cert.pem, chain: %s/chain.pem\n"
	    "  names: %s\n  expires: %s (%ld days)", is->job->live,
	    is->cert_key ? is->job->live : "none stored (--csr without --key)",
	    is->cert_key ? "/privkey.pem" : "", is->job->live, is->job->live,
	    names, when, (long)(left / 86400));
}

/*
 * A saved order for the same names and CA: resume it (Ctrl-C or a crash
 * left it).  Invalid or vanished orders are discarded and reported.
 */
static int
resume_order(struct issue *is)
{
	char *url = NULL, shown[512];
	long ra;
	int rc;

	if ((rc = store_order_load(is->order_dir, is->sess->server, &url,
	    &is->cert_key)) != 0) {
		/* Out of memory says nothing about the order: keep it. */
		if (rc == CERTO_ENOMEM)
			return rc;
		log_warn("ignoring the saved order in %s: %s", is->order_dir,
		    certo_errmsg() ? certo_errmsg() : certo_strerror(rc));
		certo_errclear();
		store_order_remove(is->order_dir);
		return 0;
	}
	if (url == NULL)
		return 0;
	is->order.url = url;
	log_sanitize(shown, sizeof(shown), url, (size_t)-1);
	rc = order_fetch(&is->req, &is->order, &ra);
	if (rc == CERTO_EINTR)
		return rc;
	if (rc != 0 || is->order.status == ORDER_INVALID) {
		log_event("order_discarded", fields_url(shown),
		    "order: the saved order %s is %s; starting a new one", shown,
		    rc != 0 ? "gone" : "invalid");
		certo_errclear();
		free(is->order.url);
		is->order.url = NULL;
		key_free(is->cert_key);
		is->cert_key = NULL;
		store_order_remove(is->order_dir);
		return 0;
	}
	is->resumed = true;
	log_event("order_resumed", fields_url(shown), "order: resuming "
	    "%s (%s)", shown, order_status_name(is->order.status));
	return 0;
}

/* A new order; its key is saved with it so that a rerun can resume. */
static int
new_order(struct issue *is)
{
	const struct certo_cli *cli = is->cli;
	struct order_opts oo = { 0 };
	char shown[512];
	int rc;

	if (is->cert_key == NULL && is->csr_b64 == NULL) {
		if (cli->key_file != NULL)
			rc = key_load(cli->key_file, &is->cert_key);
		else
			rc = key_generate(cli->key_type, &is->cert_key);
		if (rc != 0)
			return rc;
		/* Never the account key (RFC 8555 11.1). */
		if (key_same_public(is->cert_key, is->sess->acct.key))
			return certo_fail(CERTO_EUSAGE, "the certificate key must "
			    "not be the account key");
	}
	oo.not_before = cli->not_before;
	oo.not_after = cli->not_after;
	oo.profile = cli->profile;
	oo.replaces = is->job->replaces;
	rc = order_new(&is->req, &is->sess->dir, &oo, &is->order);
	if (rc != 0)
		return rc;
	log_sanitize(shown, sizeof(shown), is->order.url, (size_t)-1);
	if (is->cert_key != NULL && !is->job->authorize_only &&
	    (rc = store_order_save(is->order_dir, cli->names, cli->nnames,
	    is->order.url, is->sess->server, is->cert_key)) != 0)
		return rc;
	log_event("order_created", fields_url(shown), "order: %s (%s, "
	    "%zu authorization%s)", shown, order_status_name(is->order.status),
	    is->order.nauthz, is->order.nauthz == 1 ? "" : "s");
	return 0;
}

int
issue_deploy(const struct certo_cli *cli, const char *live)
{
	long ms = cli->hook_timeout_s > 0 ? cli->hook_timeout_s * 1000 :
	    HOOK_TIMEOUT_MS;
	char msg[1200];
	int rc;

	/* Marked first: a hook cut short by a kill runs again, too. */
	if (store_deploy_mark(live, "the deploy hook has not run to the end "
	    "yet\n") != 0) {
		log_warn("%s", certo_errmsg());
		certo_errclear();
	}
	if ((rc = hook_run_deploy(cli->deploy_hook, live, cli->names,
	    cli->nnames, ms)) != 0) {
		snprintf(msg, sizeof(msg), "%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
		certo_errclear();
		if (store_deploy_mark(live, msg) != 0)
			certo_errclear();
		return certo_fail(rc, "%s; the certificate in %s is live all the "
		    "same, and the next `certo renew` runs the deploy hook again",
		    msg, live);
	}
	if ((rc = store_deploy_mark(live, NULL)) != 0)
		return rc;
	log_event("deployed", NULL, "deploy: %s ran", cli->deploy_hook);
	return 0;
}

/* The deploy hook after a new set was stored. */
static int
deploy(struct issue *is)
{
	int rc = issue_deploy(is->cli, is->job->live);

	if (rc != 0)
		is->job->deploy_failed = true;
	return rc;
}

/*
 * The order's identifiers must be exactly what was asked for: each one
 * ordered, as many as ordered (a CA adding or swapping a name is refused
 * before anything is published for it).
 */
static int
check_order_idents(struct issue *is)
{
	const struct certo_order *o = &is->order;
	int rc;

	for (size_t i = 0; i < o->nidents; i++)
		if ((rc = authz_check_ident(&o->idents[i], false, is->cli->names,
		    is->cli->nnames, NULL)) != 0)
			return rc;
	if (o->nidents != is->cli->nnames || o->nauthz > is->cli->nnames)
		return certo_fail(CERTO_EPROTO, "the CA's order has %zu "
		    "identifiers and %zu authorizations for %zu names ordered",
		    o->nidents, o->nauthz, is->cli->nnames);
	return 0;
}

/*
 * Forget a resumed order that cannot be completed (and its saved state
 * and key), so that new_order() starts afresh; the names stay.
 */
static void
restart_order(struct issue *is, const char *why)
{
	char shown[512];
	char **names = is->order.names;
	size_t nnames = is->order.nnames;

	log_sanitize(shown, sizeof(shown), is->order.url, (size_t)-1);
	log_event("order_discarded", fields_url(shown), "order: the saved "
	    "order %s %s; starting a new one", shown, why);
	certo_errclear();
	withdraw_all(is);
	is->order.names = NULL; /* borrowed from the job: not order_free's */
	is->order.nnames = 0;
	order_free(&is->order);
	is->order.names = names;
	is->order.nnames = nnames;
	key_free(is->cert_key); /* new_order() makes or loads one again */
	is->cert_key = NULL;
	store_order_remove(is->order_dir);
	is->resumed = false;
}

int
issue_job_run(struct session *sess, struct issue_job *job)
{
	struct issue is;
	struct store_lock lock = STORE_LOCK_INIT;
	const struct certo_cli *cli = job->cli;
	char *config = NULL;
	int rc;

	memset(&is, 0, sizeof(is));
	is.sess = sess;
	is.job = job;
	is.cli = cli;
	if ((rc = session_request(sess, &is.req)) != 0)
		goto out;
	if (cli->csr_file != NULL) {
		char **n = NULL;
		size_t nn = 0;
		if ((rc = csr_load(cli->csr_file, &n, &nn, &is.csr_b64)) != 0)
			goto out;
		for (size_t i = 0; i < nn; i++)
			free(n[i]);
		free(n);
		if (cli->key_file != NULL &&
		    (rc = key_load(cli->key_file, &is.cert_key)) != 0)
			goto out;
	}
	/* A rate limit the CA set on these names is honoured (--force: not). */
	if (!sess->force && (rc = ratelimit_check(sess->state, sess->ca_id,
	    RATELIMIT_ORDER, cli->names, cli->nnames, NULL)) != 0)
		goto out;
	is.order.names = cli->names; /* borrowed: cleared before order_free */
	is.order.nnames = cli->nnames;
	if ((rc = store_order_dir(sess->state, cli->names, cli->nnames,
	    &is.order_dir)) != 0)
		goto out;
	/* One run at a time per certificate (others wait: store.h). */
	if ((rc = store_lock_cert(sess->state, cli->names[0], cli->names,
	    cli->nnames, &lock)) != 0)
		goto out;
	/* The run we waited for may have stored these very names. */
	if (lock.waited && cli->verb == VERB_ISSUE && !sess->force &&
	    !job->authorize_only && !job->dry_run) {
		bool fresh = false;
		if ((rc = renew_issue_fresh(sess, &is.req, cli, &fresh)) != 0 ||
		    fresh)
			goto out;
	}

	/* Resume a saved order for these names, else open a new one. */
	if (!job->authorize_only && cli->csr_file == NULL &&
	    (rc = resume_order(&is)) != 0)
		goto out;
	if (is.order.url == NULL && (rc = new_order(&is)) != 0)
		goto out;
	if ((rc = check_order_idents(&is)) != 0)
		goto out;
	if ((rc = drive_order(&is)) == ISSUE_RESTART) {
		/* A challenge of the saved order failed in an earlier run. */
		restart_order(&is, "had a challenge fail in an earlier run");
		if ((rc = new_order(&is)) != 0 ||
		    (rc = check_order_idents(&is)) != 0)
			goto out;
		rc = drive_order(&is);
	}
	if (rc != 0)
		goto out;
	if (job->authorize_only) {
		/* Saved under certo's own copy of each name, never the CA's. */
		for (size_t i = 0; i < is.order.nauthz && is.order.authzs; i++) {
			const struct certo_authz *a = &is.order.authzs[i];
			size_t k;
			if (a->url == NULL)
				continue;
			if ((rc = authz_check_ident(&a->ident, a->wildcard,
			    cli->names, cli->nnames, &k)) != 0 ||
			    (rc = store_authz_save(sess->state, sess->ca_id,
			    cli->names[k], a->url)) != 0)
				goto out;
		}
		log_event("authorized", NULL, "authorize: %zu name%s proven; "
		    "certo issue reuses the authorizations while they are valid",
		    cli->nnames, cli->nnames == 1 ? "" : "s");
		goto out;
	}

	/* Download, check it is ours and for exactly our names, store. */
	if ((rc = stage_download(&is)) == 0 &&
	    (rc = certificate_check(&is.chain, is.cert_key, cli->names,
	    cli->nnames)) != 0 && is.resumed) {
		/*
		 * A resumed order finalized with another key (saved by a certo
		 * before key and URL were one unit): start over, once.
		 */
		restart_order(&is, "has a certificate that is not for its saved "
		    "key or names");
		certificate_free(&is.chain);
		if ((rc = new_order(&is)) == 0 &&
		    (rc = check_order_idents(&is)) == 0 &&
		    (rc = drive_order(&is)) == 0 &&
		    (rc = stage_download(&is)) == 0)
			rc = certificate_check(&is.chain, is.cert_key, cli->names,
			    cli->nnames);
	}
	if (rc != 0)
		goto out;
	log_event("downloaded", NULL, "download: %zu certificate%s",
	    is.chain.ncerts, is.chain.ncerts == 1 ? "" : "s");
	if (cli->must_staple && !certificate_must_staple(&is.chain))
		log_warn("the CA issued the certificate without the must-staple "
		    "(TLS Feature) extension that --must-staple asked for");
	job->not_after = is.chain.not_after;
	if (!job->dry_run) {
		if ((rc = config_serialize(cli, &config)) != 0 ||
		    (rc = store_commit(sess->state, cli->names[0], is.cert_key,
		    &is.chain, config, &job->live)) != 0)
			goto out;
	}
	store_order_remove(is.order_dir);
	summary(&is);
	if (!job->dry_run && cli->deploy_hook != NULL)
		rc = deploy(&is);
out:
	/* Every exit path: withdraw what this order published. */
	withdraw_all(&is);
	if (is.req.rate_limited_until != 0) {
		/* Remembered for these names only (ratelimit.h). */
		job->rate_limited = true;
		ratelimit_add(sess->state, sess->ca_id, RATELIMIT_ORDER, cli->names,
		    cli->nnames, is.req.rate_limited_until, certo_errmsg());
	}
	log_debug("%u requests to the CA", is.req.requests);
	store_unlock(&lock);
	is.order.names = NULL;
	is.order.nnames = 0;
	order_free(&is.order);
	request_free(&is.req);
	key_free(is.cert_key);
	certificate_free(&is.chain);
	free(is.csr_b64);
	free(is.order_dir);
	free(config);
	return rc;
}

void
issue_job_free(struct issue_job *job)
{
	if (job == NULL)
		return;
	free(job->live);
	job->live = NULL;
}

/* --csr: the names come from the CSR. */
static int
names_from_csr(struct certo_cli *cli)
{
	char **names = NULL, *der = NULL;
	size_t n = 0;
	int rc;

	if ((rc = csr_load(cli->csr_file, &names, &n, &der)) != 0)
		return rc;
	cli->names_from_csr = true;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = cli_add_name(cli, names[i]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == 0)
		rc = cli_check_challenges(cli);
	/* --key must be the CSR's key: checked before anything is ordered. */
	if (rc == 0 && cli->key_file != NULL) {
		struct certo_key *k = NULL;
		if ((rc = key_load(cli->key_file, &k)) == 0)
			rc = csr_key_check(der, k);
		key_free(k);
	}
	free(der);
	return rc;
}

/* One job through a fresh session: issue and authorize. */
static int
run_one(struct certo_cli *cli, bool authorize_only)
{
	struct session sess;
	struct session_opts so;
	struct session_needs needs = { 0 };
	struct account_opts ao;
	struct issue_job job;
	bool fresh = false;
	int rc;

	memset(&job, 0, sizeof(job));
	job.authorize_only = authorize_only;
	job.cli = cli;
	session_opts_cli(cli, &so);
	session_account_cli(cli, &ao);
	needs.account = SESSION_ACCOUNT_USE;
	needs.account_opts = &ao;
	needs.profile = cli->profile;
	needs.solve = cli;
	if ((rc = session_open(&so, &sess)) != 0)
		goto out;
	/* A valid set for the same names and options: nothing to do. */
	if (!authorize_only && !cli->force) {
		if ((rc = renew_issue_fresh(&sess, NULL, cli, &fresh)) != 0)
			goto out;
		if (fresh) {
			/*
			 * Still sweep what interrupted runs left, and the saved
			 * order of a run killed after it stored these names.
			 */
			if (store_prepare(sess.state) == 0)
				store_order_forget(sess.state, cli->names, cli->nnames);
			certo_errclear();
			goto out;
		}
	}
	if ((rc = session_connect(&sess, &needs)) == 0)
		rc = issue_job_run(&sess, &job);
out:
	session_close(&sess);
	issue_job_free(&job);
	return rc;
}

int
issue_run(struct certo_cli *cli)
{
	int rc;

	if (cli->csr_file != NULL && (rc = names_from_csr(cli)) != 0)
		return rc;
	return run_one(cli, false);
}

int
authorize_run(struct certo_cli *cli)
{
	return run_one(cli, true);
}

int
deactivate_authz_run(const struct certo_cli *cli)
{
	struct session sess;
	struct session_opts so;
	struct session_needs needs = { 0 };
	struct account_opts ao;
	struct certo_authz a;
	struct http_resp r;
	char *url = NULL, shown[512];
	int rc;

	memset(&a, 0, sizeof(a));
	session_opts_cli(cli, &so);
	session_account_cli(cli, &ao);
	needs.account = SESSION_ACCOUNT_USE;
	needs.account_opts = &ao;
	if ((rc = session_open(&so, &sess)) != 0)
		goto out;
	/* Find the authorization first: a bad name needs no account. */
	if (strncmp(cli->arg, "https://", 8) == 0 ||
	    strncmp(cli->arg, "http://", 7) == 0)
		url = strdup(cli->arg);
	else if ((rc = store_authz_load(sess.state, sess.ca_id, cli->arg,
	    &url)) != 0)
		goto out;
	if (url == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = session_connect(&sess, &needs)) != 0)
		goto out;
	/* RFC 8555 7.5.2: POST {"status": "deactivated"}. */
	if ((rc = request_post(&sess.req, url, "{\"status\":\"deactivated\"}",
	    REQUEST_MAX_BODY, &r, NULL)) == 0 &&
	    (rc = authz_parse(r.body.data, r.body.len, &a)) == 0)
		log_event("authorization_deactivated", fields_url(log_str(shown,
		    sizeof(shown), url)), "authorization %s: %s", shown,
		    authz_status_name(a.status));
	http_resp_free(&r);
out:
	authz_free(&a);
	session_close(&sess);
	free(url);
	return rc;
}
