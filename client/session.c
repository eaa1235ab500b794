/*
 * The session with one CA: state directory -> CA id -> accounts/<ca> ->
 * request -> directory -> account, the same for every verb.
 */
#include "session.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "errors.h"
#include "file.h"
#include "hook.h"
#include "log.h"
#include "ratelimit.h"

void
session_opts_cli(const struct certo_cli *cli, struct session_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->state_dir = cli->state_dir;
	o->server = cli->server;
	o->ca_bundle = cli->ca_bundle;
	o->allow_http = cli->allow_http;
	o->force = cli->force;
	o->ca_timeout_s = cli->ca_timeout_s;
}

void
session_account_cli(const struct certo_cli *cli, struct account_opts *ao)
{
	memset(ao, 0, sizeof(*ao));
	ao->emails = cli->emails;
	ao->nemails = cli->nemails;
	ao->agree_tos = cli->agree_tos;
	ao->key_type = cli->account_key_type;
	ao->eab_kid = cli->eab_kid;
	ao->eab_hmac_key = cli->eab_hmac_key;
}

int
session_open(const struct session_opts *o, struct session *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->acct_lock = (struct store_lock)STORE_LOCK_INIT;
	s->opened = true;
	s->force = o->force;
	s->ca_timeout_s = o->ca_timeout_s;
	s->http.allow_http = o->allow_http;
	if ((s->server = strdup(o->server)) == NULL ||
	    (o->ca_bundle != NULL && (s->ca_bundle = strdup(o->ca_bundle)) ==
	    NULL))
		return CERTO_ENOMEM;
	s->http.ca_bundle = s->ca_bundle;
	if ((rc = store_state_dir(o->state_dir, &s->state)) != 0 ||
	    (rc = account_ca_id(o->server, &s->ca_id)) != 0)
		return rc;
	if (asprintf(&s->acct_dir, "%s/accounts/%s", s->state, s->ca_id) < 0) {
		s->acct_dir = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

/* Is there an account (its key) in the session's account directory? */
static bool
account_exists(const struct session *s)
{
	char *p = file_join(s->acct_dir, "account.key");
	bool yes = p != NULL && file_exists(p);

	free(p);
	return yes;
}

/* Manual mode or hooks: the DNS-01 check settings come from the CLI. */
static int
start_external(struct session *s, const struct certo_cli *cli)
{
	struct solver_external_opts xopts;
	int rc;

	memset(&xopts, 0, sizeof(xopts));
	xopts.types = cli->challenges;
	xopts.ntypes = cli->nchallenges;
	xopts.manual = cli->manual;
	xopts.dns_hook = cli->dns_hook;
	xopts.http_hook = cli->http_hook;
	xopts.dns.timeout_ms = (cli->dns_timeout_s >= 0 ? cli->dns_timeout_s :
	    cli->manual ? 600 : 120) * 1000;
	xopts.dns.interval_ms = cli->dns_interval_s * 1000;
	xopts.dns.wait_extra_ms = cli->dns_wait_extra_s * 1000;
	xopts.http_timeout_ms = cli->http_timeout_s > 0 ? cli->http_timeout_s *
	    1000 : (cli->manual ? 600 : 120) * 1000;
	xopts.hook_timeout_ms = cli->hook_timeout_s > 0 ?
	    cli->hook_timeout_s * 1000 : HOOK_TIMEOUT_MS;
	xopts.hook_del_timeout_ms = cli->hook_timeout_s > 0 ?
	    cli->hook_timeout_s * 1000 : HOOK_DEL_TIMEOUT_MS;
	xopts.http_port = cli->http_port;
	if (cli->ndns_resolvers > 0) {
		if ((s->resolvers = calloc(cli->ndns_resolvers,
		    sizeof(*s->resolvers))) == NULL)
			return CERTO_ENOMEM;
		for (size_t i = 0; i < cli->ndns_resolvers; i++) {
			if ((rc = dns01_server_parse(cli->dns_resolvers[i],
			    &s->resolvers[i])) != 0)
				return rc;
			s->nresolvers++;
		}
		xopts.dns.resolvers = s->resolvers;
		xopts.dns.nresolvers = s->nresolvers;
	}
	return solver_external_start(&xopts, &s->solver);
}

/* The solver cli asks for. */
static int
start_solver(struct session *s, const struct certo_cli *cli)
{
	struct solver_standalone_opts sopts = { 0 };

	if (cli->responder != NULL)
		return solver_socket_start(cli->responder, cli->challenges,
		    cli->nchallenges, &s->solver);
	if (cli->manual || cli->dns_hook || cli->http_hook)
		return start_external(s, cli);
	sopts.types = cli->challenges;
	sopts.ntypes = cli->nchallenges;
	sopts.http_addr = cli->http_addr;
	sopts.http_port = cli->http_port;
	sopts.tls_addr = cli->tls_addr;
	sopts.tls_port = cli->tls_port;
	return solver_standalone_start(&sopts, &s->solver);
}

int
session_fetch_directory(struct session *s,
    const struct certo_directory **dir)
{
	int rc;

	*dir = NULL;
	if (s->have_dir) {
		*dir = &s->dir;
		return 0;
	}
	if (s->dir_rc != 0)
		return certo_fail(s->dir_rc, "%s", s->dir_err ? s->dir_err :
		    certo_strerror(s->dir_rc));
	if (!s->have_req) {
		if ((rc = request_init(&s->req, &s->http)) != 0)
			return rc;
		s->have_req = true;
	}
	/* The one directory_fetch outside directory.c. */
	if ((rc = directory_fetch(&s->req, s->server, &s->dir)) != 0) {
		/* Kept: renew asks once per CA, and says why each time. */
		s->dir_rc = rc;
		free(s->dir_err);
		s->dir_err = certo_errmsg() ? strdup(certo_errmsg()) : NULL;
		return rc;
	}
	s->have_dir = true;
	*dir = &s->dir;
	return 0;
}

/* Profiles are checked before an account is made for nothing. */
static int
check_profile(const struct session *s, const char *profile)
{
	char shown[128];

	if (profile == NULL)
		return 0;
	for (size_t i = 0; i < s->dir.nprofiles; i++)
		if (strcmp(s->dir.profiles[i], profile) == 0)
			return 0;
	return certo_fail(CERTO_EUSAGE, "the CA does not offer profile '%s'%s",
	    log_str(shown, sizeof(shown), profile), s->dir.nprofiles ? "" :
	    " (it advertises no profiles)");
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

/* Load or create the account, under the account lock. */
static int
ensure_account(struct session *s, const struct session_needs *n)
{
	struct account_opts ao = *n->account_opts;
	bool manage = n->account != SESSION_ACCOUNT_USE;
	char shown[512];
	int rc;

	ao.dir = s->acct_dir;
	/* Concurrent runs on a new state dir: one creates the account. */
	if (s->acct_lock.fd[0] < 0 &&
	    (rc = store_lock_account(s->state, s->ca_id, &s->acct_lock)) != 0)
		return rc;
	rc = account_ensure(&s->req, &s->dir, &ao, &s->acct);
	/* The account verbs hold it to the end (rollover, deactivate). */
	if (!manage)
		store_unlock(&s->acct_lock);
	if (rc != 0) {
		if (!manage && s->req.rate_limited_until != 0)
			ratelimit_add(s->state, s->ca_id, RATELIMIT_ACCOUNT, NULL, 0,
			    s->req.rate_limited_until, certo_errmsg());
		return rc;
	}
	if (!manage)
		log_event(s->acct.created ? "account_created" : "account_reused",
		    fields_url(log_str(shown, sizeof(shown), s->acct.url)),
		    "account: %s %s", s->acct.created ? "created" :
		    "using existing", shown);
	return 0;
}

/*
 * What must hold before the CA is asked for the account: the account
 * verbs need one to exist (but register); a CA that rate-limited new
 * accounts is not asked for one again before its deadline (an existing
 * account is still used; the account verbs are never blocked).
 */
static int
check_account_local(const struct session *s, const struct session_needs *n)
{
	if (n->account == SESSION_ACCOUNT_MANAGE_EXISTING &&
	    !file_exists(s->acct_dir))
		return certo_fail(CERTO_EUSAGE, "no account for this CA in %s "
		    "(certo account register first)", s->acct_dir);
	if (n->account == SESSION_ACCOUNT_USE && !s->force &&
	    !account_exists(s))
		return ratelimit_check(s->state, s->ca_id, RATELIMIT_ACCOUNT, NULL,
		    0, NULL);
	return 0;
}

int
session_connect(struct session *s, const struct session_needs *n)
{
	const struct certo_directory *dir;
	bool need_account = n->account != SESSION_ACCOUNT_NONE &&
	    s->acct.url == NULL;
	int rc;

	/* Local checks first: nothing is asked of the CA if these fail. */
	if (!s->prepared) {
		if ((rc = store_prepare(s->state)) != 0)
			return rc;
		s->prepared = true;
	}
	if (need_account && (rc = check_account_local(s, n)) != 0)
		return rc;
	/* Bind ports / reach the responder before anything goes to the CA. */
	if (n->solve != NULL && (rc = start_solver(s, n->solve)) != 0)
		return rc;
	if ((rc = session_fetch_directory(s, &dir)) != 0 ||
	    (rc = check_profile(s, n->profile)) != 0)
		return rc;
	if (need_account)
		return ensure_account(s, n);
	return 0;
}

int
session_request(const struct session *s, struct certo_req *req)
{
	int rc;

	if ((rc = request_init(req, &s->http)) != 0 ||
	    (rc = request_set_new_nonce_url(req, s->dir.new_nonce)) != 0)
		return rc;
	return request_set_account(req, s->acct.key, s->acct.url);
}

void
session_stop_solver(struct session *s)
{
	if (s->solver.ops != NULL)
		s->solver.ops->stop(s->solver.ctx);
	memset(&s->solver, 0, sizeof(s->solver));
	for (size_t i = 0; i < s->nresolvers; i++)
		dns01_server_free(&s->resolvers[i]);
	free(s->resolvers);
	s->resolvers = NULL;
	s->nresolvers = 0;
}

void
session_close(struct session *s)
{
	if (s == NULL || !s->opened)
		return; /* zeroed, or closed already */
	session_stop_solver(s);
	store_unlock(&s->acct_lock);
	account_free(&s->acct);
	directory_free(&s->dir);
	request_free(&s->req);
	free(s->state);
	free(s->ca_id);
	free(s->acct_dir);
	free(s->server);
	free(s->ca_bundle);
	free(s->dir_err);
	memset(s, 0, sizeof(*s));
}

/* Would o reach the CA of s the same way (URL, trust, plain http)? */
static bool
same_ca(const struct session *s, const struct session_opts *o)
{
	const char *b = s->http.ca_bundle;

	return strcmp(s->server, o->server) == 0 &&
	    s->http.allow_http == o->allow_http &&
	    ((b == NULL && o->ca_bundle == NULL) || (b != NULL &&
	    o->ca_bundle != NULL && strcmp(b, o->ca_bundle) == 0));
}

int
session_set_get(struct session_set *set, const struct session_opts *o,
    struct session **out)
{
	struct session **nv, *s;
	int rc;

	*out = NULL;
	for (size_t i = 0; i < set->n; i++)
		if (same_ca(set->v[i], o)) {
			*out = set->v[i];
			return 0;
		}
	if ((nv = realloc(set->v, (set->n + 1) * sizeof(*nv))) == NULL)
		return CERTO_ENOMEM;
	set->v = nv;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CERTO_ENOMEM;
	if ((rc = session_open(o, s)) != 0) {
		session_close(s);
		free(s);
		return rc;
	}
	set->v[set->n++] = s;
	*out = s;
	return 0;
}

void
session_set_free(struct session_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		session_close(set->v[i]);
		free(set->v[i]);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}
