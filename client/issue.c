/*
 * certo issue: one struct per order through one state machine (OpenBSD
 * acme-client's netproc.c): while the order is neither valid nor
 * invalid, act on its status.
 */
#include "issue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "buf.h"
#include "certificate.h"
#include "directory.h"
#include "errors.h"
#include "file.h"
#include "finalize.h"
#include "jws.h"
#include "key.h"
#include "log.h"
#include "order.h"
#include "request.h"
#include "sig.h"
#include "solver.h"
#include "store.h"

#define POLL_TIMEOUT_S 300

/* A challenge we published and must withdraw on every exit path. */
struct published {
	char *ident;
	char *token;
};

struct issue {
	const struct certo_cli *cli;
	char *state;
	char *acct_dir;
	struct certo_req req;
	struct certo_directory dir;
	struct certo_account acct;
	struct certo_order order;
	struct solver solver;
	struct published *pub;
	size_t npub;
	struct certo_key *cert_key;
	struct certo_chain chain;
	char *live;
};

/*
 * Wait before the next poll: the CA's Retry-After when it gave one,
 * else a short backoff (the CA's work takes milliseconds at first).
 */
static int
poll_wait(unsigned attempt, long retry_after, time_t deadline,
    const char *what)
{
	static const long backoff_ms[] = { 10, 20, 40, 80, 160, 320, 640, 1000,
		2000 };
	long ms;
	time_t now = time(NULL);

	if (now >= deadline)
		return certo_fail(CERTO_ETIMEDOUT, "%s: still not done after %d s",
		    what, POLL_TIMEOUT_S);
	if (retry_after >= 0)
		ms = retry_after * 1000;
	else
		ms = backoff_ms[attempt < 9 ? attempt : 8];
	if (ms > (long)(deadline - now) * 1000)
		ms = (long)(deadline - now) * 1000;
	if (ms == 0)
		ms = 10;
	return sig_sleep_ms(ms);
}

static void
withdraw_all(struct issue *is)
{
	for (size_t i = 0; i < is->npub; i++) {
		if (is->solver.ops != NULL)
			is->solver.ops->withdraw(is->solver.ctx, is->pub[i].ident,
			    is->pub[i].token);
		free(is->pub[i].ident);
		free(is->pub[i].token);
	}
	free(is->pub);
	is->pub = NULL;
	is->npub = 0;
}

/* Publish the key authorization and remember to withdraw it. */
static int
publish(struct issue *is, const char *ident, const char *token,
    const char *keyauth)
{
	struct published *np;
	int rc;

	np = realloc(is->pub, (is->npub + 1) * sizeof(*np));
	if (np == NULL)
		return CERTO_ENOMEM;
	is->pub = np;
	np[is->npub].ident = strdup(ident);
	np[is->npub].token = strdup(token);
	if (np[is->npub].ident == NULL || np[is->npub].token == NULL) {
		free(np[is->npub].ident);
		free(np[is->npub].token);
		return CERTO_ENOMEM;
	}
	is->npub++;
	rc = is->solver.ops->publish(is->solver.ctx, ident, token, keyauth);
	return rc;
}

/* Report why an authorization is invalid. */
static int
authz_failed(const struct certo_authz *a)
{
	struct certo_buf b;
	char name[300];
	int rc;

	buf_init(&b, 8192);
	for (size_t i = 0; i < a->nchalls; i++)
		if (a->challs[i].error != NULL) {
			buf_printf(&b, "%s: ", challenge_type_name(a->challs[i].type));
			problem_format(a->challs[i].error, &b);
			break;
		}
	rc = certo_fail(CERTO_EINVALID, "authorization for %s is %s%s%s",
	    log_sanitize(name, sizeof(name), a->ident.value, (size_t)-1),
	    authz_status_name(a->status), b.data ? ": " : "",
	    b.data ? b.data : "");
	buf_free(&b);
	return rc;
}

/*
 * Authorizations: start every pending one (publish, self-check, tell
 * the CA), then poll each until it is decided.
 */
static int
stage_authorize(struct issue *is)
{
	struct certo_order *o = &is->order;
	enum chall_type want = is->solver.ops->type;
	char *keyauth = NULL, name[300];
	time_t deadline = time(NULL) + POLL_TIMEOUT_S;
	long ra;
	int rc = 0;

	if (o->authzs == NULL &&
	    (o->authzs = calloc(o->nauthz, sizeof(*o->authzs))) == NULL)
		return CERTO_ENOMEM;
	for (size_t i = 0; i < o->nauthz; i++) {
		struct certo_authz *a = &o->authzs[i];
		struct certo_challenge *c;

		if (a->url == NULL && (a->url = strdup(o->authz_urls[i])) == NULL)
			return CERTO_ENOMEM;
		if ((rc = authz_fetch(&is->req, a, &ra)) != 0)
			return rc;
		log_sanitize(name, sizeof(name), a->ident.value, (size_t)-1);
		if (a->status == AUTHZ_VALID) {
			log_info("authorization: %s already valid", name);
			continue;
		}
		if (a->status != AUTHZ_PENDING)
			return authz_failed(a);
		if (strcmp(a->ident.type, "dns") != 0)
			return certo_fail(CERTO_ENOCHALLENGE, "authorization for %s: "
			    "unsupported identifier type", name);
		if ((c = authz_find_challenge(a, want)) == NULL)
			return certo_fail(CERTO_ENOCHALLENGE, "authorization for %s: "
			    "the CA offers no %s challenge", name,
			    challenge_type_name(want));
		if (c->status != CHALL_PENDING)
			continue; /* already answered; just poll */
		if ((rc = jws_key_authorization(is->acct.key, c->token,
		    &keyauth)) != 0)
			return rc;
		/* Check locally first: a failed validation costs rate limit. */
		if ((rc = publish(is, a->ident.value, c->token, keyauth)) != 0 ||
		    (rc = is->solver.ops->selfcheck(is->solver.ctx,
		    a->ident.value, c->token, keyauth)) != 0) {
			free(keyauth);
			return rc;
		}
		free(keyauth);
		keyauth = NULL;
		if ((rc = challenge_respond(&is->req, c)) != 0)
			return rc;
		log_info("authorization: %s %s challenge answered", name,
		    challenge_type_name(want));
	}
	for (size_t i = 0; i < o->nauthz; i++) {
		struct certo_authz *a = &o->authzs[i];
		unsigned attempt = 0;

		log_sanitize(name, sizeof(name), a->ident.value, (size_t)-1);
		ra = -1;
		while (a->status == AUTHZ_PENDING) {
			if ((rc = poll_wait(attempt++, ra, deadline, name)) != 0 ||
			    (rc = authz_fetch(&is->req, a, &ra)) != 0)
				return rc;
		}
		if (a->status != AUTHZ_VALID)
			return authz_failed(a);
		if (attempt > 0)
			log_info("authorization: %s valid", name);
	}
	return 0;
}

/* READY: a fresh certificate key (never the account key) and a CSR. */
static int
stage_finalize(struct issue *is)
{
	int rc;

	if (is->cert_key == NULL &&
	    (rc = key_generate(is->cli->key_type, &is->cert_key)) != 0)
		return rc;
	if ((rc = finalize_order(&is->req, &is->order, is->cert_key)) != 0)
		return rc;
	log_info("finalize: CSR for %zu name%s sent (%s key), order %s",
	    is->order.nnames, is->order.nnames == 1 ? "" : "s",
	    key_type_name(is->cli->key_type),
	    order_status_name(is->order.status));
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

/* Run the order through its states until valid or invalid. */
static int
drive_order(struct issue *is)
{
	struct certo_order *o = &is->order;
	time_t deadline = time(NULL) + POLL_TIMEOUT_S;
	unsigned attempt = 0;
	long ra = -1;
	int rc = 0;

	while (o->status != ORDER_VALID && o->status != ORDER_INVALID) {
		switch (o->status) {
		case ORDER_PENDING:
			/* Prove control of every identifier. */
			if ((rc = stage_authorize(is)) != 0)
				return rc;
			withdraw_all(is);
			attempt = 0;
			/* The order turns ready once all are valid. */
			do {
				if ((rc = order_fetch(&is->req, o, &ra)) != 0)
					return rc;
			} while (o->status == ORDER_PENDING &&
			    (rc = poll_wait(attempt++, ra, deadline,
			    "order")) == 0);
			if (rc != 0)
				return rc;
			break;
		case ORDER_READY:
			if ((rc = stage_finalize(is)) != 0)
				return rc;
			attempt = 0;
			ra = -1;
			break;
		case ORDER_PROCESSING:
			/* The CA is issuing: poll, honouring Retry-After. */
			if ((rc = poll_wait(attempt++, ra, deadline, "order")) != 0 ||
			    (rc = order_fetch(&is->req, o, &ra)) != 0)
				return rc;
			break;
		default:
			break;
		}
	}
	if (o->status == ORDER_INVALID)
		return order_failed(o);
	if (o->certificate == NULL)
		return certo_fail(CERTO_EPROTO, "the order is valid but has no "
		    "certificate URL");
	return 0;
}

static void
print_summary(const struct issue *is)
{
	char when[64], names[2048] = "";
	struct tm tm;
	time_t left = is->chain.not_after - time(NULL);
	size_t n = 0;

	gmtime_r(&is->chain.not_after, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	for (size_t i = 0; i < is->chain.nsans && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
		    i ? ", " : "", is->chain.sans[i]);
	log_info("certificate: %s/fullchain.pem", is->live);
	log_info("  private key: %s/privkey.pem", is->live);
	log_info("  certificate: %s/cert.pem, chain: %s/chain.pem", is->live,
	    is->live);
	log_info("  names: %s", names);
	log_info("  expires: %s (%ld days)", when, (long)(left / 86400));
}

int
issue_run(const struct certo_cli *cli)
{
	struct issue is;
	struct http_opts ho = { 0 };
	struct solver_http_opts so = { 0 };
	struct account_opts ao = { 0 };
	char *ca_id = NULL, shown[512];
	int rc;

	memset(&is, 0, sizeof(is));
	is.cli = cli;
	/* Local checks first: nothing is asked of the CA if these fail. */
	if ((rc = store_state_dir(cli->state_dir, &is.state)) != 0 ||
	    (rc = store_prepare(is.state)) != 0)
		goto out;
	if ((rc = account_ca_id(cli->server, &ca_id)) != 0)
		goto out;
	if (asprintf(&is.acct_dir, "%s/accounts/%s", is.state, ca_id) < 0) {
		is.acct_dir = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	so.addr = cli->http_addr;
	so.port = cli->http_port;
	if ((rc = solver_http_start(&so, &is.solver)) != 0)
		goto out;

	/* Directory. */
	ho.ca_bundle = cli->ca_bundle;
	ho.allow_http = cli->allow_http;
	if ((rc = request_init(&is.req, &ho)) != 0 ||
	    (rc = directory_fetch(&is.req, cli->server, &is.dir)) != 0)
		goto out;

	/* Account: reuse the stored one, else look up or register. */
	ao.dir = is.acct_dir;
	ao.emails = cli->emails;
	ao.nemails = cli->nemails;
	ao.agree_tos = cli->agree_tos;
	ao.key_type = cli->account_key_type;
	if ((rc = account_ensure(&is.req, &is.dir, &ao, &is.acct)) != 0)
		goto out;
	log_info("account: %s %s", is.acct.created ? "created" :
	    "using existing", log_sanitize(shown, sizeof(shown), is.acct.url,
	    (size_t)-1));

	/* Order. */
	is.order.names = cli->names; /* borrowed: cleared before order_free */
	is.order.nnames = cli->nnames;
	if ((rc = order_new(&is.req, &is.dir, &is.order)) != 0)
		goto out;
	log_info("order: %s (%s, %zu authorization%s)",
	    log_sanitize(shown, sizeof(shown), is.order.url, (size_t)-1),
	    order_status_name(is.order.status), is.order.nauthz,
	    is.order.nauthz == 1 ? "" : "s");
	if ((rc = drive_order(&is)) != 0)
		goto out;

	/* Download, check it is ours and for exactly our names, store. */
	if ((rc = certificate_download(&is.req, is.order.certificate,
	    &is.chain)) != 0 ||
	    (rc = certificate_check(&is.chain, is.cert_key, cli->names,
	    cli->nnames)) != 0)
		goto out;
	log_info("download: %zu certificate%s", is.chain.ncerts,
	    is.chain.ncerts == 1 ? "" : "s");
	if ((rc = store_commit(is.state, cli->names[0], is.cert_key, &is.chain,
	    &is.live)) != 0)
		goto out;
	print_summary(&is);
out:
	/* Every exit path: withdraw challenges, stop the responder. */
	withdraw_all(&is);
	if (is.solver.ops)
		is.solver.ops->stop(is.solver.ctx);
	log_debug("%u requests to the CA", is.req.requests);
	is.order.names = NULL;
	is.order.nnames = 0;
	order_free(&is.order);
	account_free(&is.acct);
	directory_free(&is.dir);
	request_free(&is.req);
	key_free(is.cert_key);
	certificate_free(&is.chain);
	free(is.state);
	free(is.acct_dir);
	free(is.live);
	free(ca_id);
	return rc;
}
