/* renew, list, delete. */
#include "renew.h"

#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "certificate.h"
#include "config.h"
#include "directory.h"
#include "errors.h"
#include "file.h"
#include "issue.h"
#include "log.h"
#include "ratelimit.h"
#include "renewalinfo.h"
#include "request.h"
#include "session.h"
#include "sig.h"
#include "store.h"

/* One stored certificate, as renew sees it. */
struct stored {
	char *name;                 /* directory name under live/ */
	struct cert_config cfg;
	struct certo_chain chain;
	char *ari_id;               /* when the CA offers ARI */
	struct ari_window ari;
	bool has_ari;
	time_t due;                 /* when to renew */
	time_t check_again;         /* ARI Retry-After, 0 if none */
	bool loaded, is_due, handled;
	struct issue_job job;
	int rc;
	char *errmsg;               /* why it failed, for renew_failed */
	char **mails;               /* remembered account addresses, owned */
	size_t nmails;
	struct session *sess;       /* the session it renews in */
};

static void
stored_free(struct stored *s)
{
	free(s->name);
	config_free(&s->cfg);
	certificate_free(&s->chain);
	free(s->ari_id);
	renewalinfo_free(&s->ari);
	issue_job_free(&s->job);
	free(s->errmsg);
	/* cfg.cli.emails (freed by config_free) pointed at these. */
	for (size_t i = 0; i < s->nmails; i++)
		free(s->mails[i]);
	free(s->mails);
}

/*
 * s failed with rc: keep the message for the renew_failed event, print
 * it ("certo: renew NAME: ...") and clear it for the next certificate.
 */
static void
stored_failed(struct stored *s, int rc)
{
	const char *m = certo_errmsg() ? certo_errmsg() : certo_strerror(rc);

	s->rc = rc;
	free(s->errmsg);
	s->errmsg = strdup(m);
	log_error("renew %s: %s", s->name, m);
	certo_errclear();
}

/* Load live/<name>/{certo.json,cert.pem}. */
static int
stored_load(const char *state, struct stored *s)
{
	char *dir = NULL, *cfg = NULL, *crt = NULL, *pem = NULL;
	size_t len;
	int rc;

	if (asprintf(&dir, "%s/live/%s", state, s->name) < 0)
		return CERTO_ENOMEM;
	if ((cfg = file_join(dir, "certo.json")) == NULL ||
	    (crt = file_join(dir, "cert.pem")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = config_load(cfg, &s->cfg)) != 0 ||
	    (rc = file_read(crt, 64 * 1024, false, &pem, &len, NULL)) != 0 ||
	    (rc = certificate_parse(pem, len, &s->chain)) != 0)
		goto out;
	s->loaded = true;
out:
	free(dir);
	free(cfg);
	free(crt);
	free(pem);
	return rc;
}

/* The session options for the CA of a stored configuration. */
static void
session_opts_for(const struct certo_cli *cli, const struct certo_cli *cfg,
    struct session_opts *o)
{
	session_opts_cli(cfg, o);
	/* This run's settings, not the stored ones. */
	o->state_dir = cli->state_dir;
	o->force = cli->force;
	o->ca_timeout_s = cli->ca_timeout_s;
}

/*
 * When is s due?  The ARI window when the CA has renewalInfo (asked
 * over the network, through sess), else when a third of the lifetime is
 * left.  req: the request to ask with, NULL: the session's own.
 */
static void
fetch_due(struct stored *s, struct session *sess, struct certo_req *req,
    bool force)
{
	const struct certo_directory *d = NULL;
	time_t life = s->chain.not_after - s->chain.not_before;

	s->due = s->chain.not_after - life / 3;
	if (sess != NULL && session_fetch_directory(sess, &d) != 0)
		d = NULL; /* falls back to the lifetime rule */
	certo_errclear();
	if (d != NULL && d->renewal_info != NULL &&
	    certificate_ari_id(&s->chain, &s->ari_id) == 0) {
		if (renewalinfo_fetch(req ? req : &sess->req, d->renewal_info,
		    s->ari_id, &s->ari) == 0) {
			s->has_ari = true;
			s->due = renewalinfo_pick(&s->ari, s->ari_id);
			if (s->ari.retry_after > 0)
				s->check_again = time(NULL) + s->ari.retry_after;
		} else {
			log_warn("%s: renewalInfo unavailable (%s); using the "
			    "lifetime rule", s->name, certo_errmsg() ?
			    certo_errmsg() : "error");
		}
	}
	certo_errclear();
	s->is_due = force || time(NULL) >= s->due;
}

/* The session (from set) of the CA s was issued by, or NULL. */
static struct session *
session_for(struct session_set *set, const struct certo_cli *cli,
    struct stored *s)
{
	struct session_opts o;
	struct session *sess = NULL;

	session_opts_for(cli, &s->cfg.cli, &o);
	if (session_set_get(set, &o, &sess) != 0)
		certo_errclear(); /* falls back to the lifetime rule */
	return sess;
}

static void
when(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Two certificates can share an environment (solver, account). */
static bool
same_env(const struct certo_cli *a, const struct certo_cli *b)
{
#define SAME(f) ((a->f == NULL && b->f == NULL) || \
	(a->f != NULL && b->f != NULL && strcmp(a->f, b->f) == 0))
	if (!SAME(server) || !SAME(ca_bundle) || !SAME(responder) ||
	    !SAME(dns_hook) || !SAME(http_hook) || !SAME(http_addr) ||
	    !SAME(tls_addr))
		return false;
#undef SAME
	if (a->standalone != b->standalone || a->manual != b->manual ||
	    a->hook_timeout_s != b->hook_timeout_s ||
	    a->http_timeout_s != b->http_timeout_s ||
	    a->http_port != b->http_port || a->tls_port != b->tls_port ||
	    a->nchallenges != b->nchallenges ||
	    a->ndns_resolvers != b->ndns_resolvers)
		return false;
	for (size_t i = 0; i < a->nchallenges; i++)
		if (a->challenges[i] != b->challenges[i])
			return false;
	for (size_t i = 0; i < a->ndns_resolvers; i++)
		if (strcmp(a->dns_resolvers[i], b->dns_resolvers[i]) != 0)
			return false;
	return true;
}

/* The worker pool: jobs taken in order by up to --jobs threads. */
struct pool {
	pthread_mutex_t lock;
	struct stored **jobs;
	size_t n, next;
};

static void *
worker(void *arg)
{
	struct pool *p = arg;
	struct stored *s;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		s = p->next < p->n ? p->jobs[p->next++] : NULL;
		pthread_mutex_unlock(&p->lock);
		if (s == NULL || sig_pending())
			return NULL;
		s->rc = issue_job_run(s->sess, &s->job);
		if (s->rc != 0)
			stored_failed(s, s->rc);
	}
}

/* Renew the due certificates of one group through one session. */
static void
renew_group(const struct certo_cli *cli, struct stored **g, size_t n,
    struct session *sess)
{
	struct pool p = { .jobs = g, .n = n };
	pthread_t th[64];
	unsigned k = cli->jobs < n ? cli->jobs : (unsigned)n, started = 0;

	pthread_mutex_init(&p.lock, NULL);
	for (size_t i = 0; i < n; i++) {
		g[i]->sess = sess;
		g[i]->job.cli = &g[i]->cfg.cli;
		g[i]->job.replaces = g[i]->has_ari ? g[i]->ari_id : NULL;
		g[i]->job.dry_run = cli->dry_run;
		if (cli->deploy_hook != NULL)
			g[i]->cfg.cli.deploy_hook = cli->deploy_hook;
		g[i]->cfg.cli.verbosity = cli->verbosity;
	}
	if (k <= 1) {
		worker(&p);
	} else {
		for (unsigned i = 0; i < k && i < 64; i++)
			if (pthread_create(&th[i], NULL, worker, &p) == 0)
				started++;
		if (started == 0)
			worker(&p);
		for (unsigned i = 0; i < started; i++)
			pthread_join(th[i], NULL);
	}
	pthread_mutex_destroy(&p.lock);
}

/*
 * Renew one group (same CA and solver settings): its session connected
 * with the group's solver and the first one's account options, the
 * certificates renewed, the solver stopped.  A group that cannot start
 * fails as a whole.
 */
static void
renew_due_group(const struct certo_cli *cli, struct session_set *sessions,
    struct stored **g, size_t n)
{
	struct session_opts o;
	struct session_needs needs = { 0 };
	struct account_opts ao;
	struct session *sess = NULL;
	const struct certo_cli *lead = &g[0]->cfg.cli;
	char *m;
	int rc;

	session_opts_for(cli, lead, &o);
	session_account_cli(lead, &ao);
	needs.account = SESSION_ACCOUNT_USE;
	needs.account_opts = &ao;
	needs.profile = lead->profile;
	needs.solve = lead;
	if ((rc = session_set_get(sessions, &o, &sess)) == 0 &&
	    (rc = session_connect(sess, &needs)) == 0) {
		renew_group(cli, g, n, sess);
		session_stop_solver(sess);
		return;
	}
	if (sess != NULL)
		session_stop_solver(sess);
	m = strdup(certo_errmsg() ? certo_errmsg() : certo_strerror(rc));
	for (size_t k = 0; k < n; k++) {
		certo_errclear();
		certo_fail(rc, "%s", m ? m : certo_strerror(rc));
		stored_failed(g[k], rc);
	}
	free(m);
}

/* Is url the directory of a CA's known staging environment? */
static bool
is_staging(const char *url)
{
	for (const char *const *n = directory_names(); *n; n++)
		if (strstr(*n, "-staging") != NULL &&
		    strcmp(directory_url_for(*n), url) == 0)
			return true;
	return false;
}

/*
 * renew --dry-run: switch s to its CA's staging directory (or
 * --dry-run-server), and give it what the production account was made
 * with, so that the staging account can be created.  A CA without a
 * known staging directory is refused: a dry run never issues for real.
 */
static int
dry_run_target(const struct certo_cli *cli, const char *state,
    struct stored *s)
{
	const char *prod = s->cfg.cli.server, *stg = cli->dry_run_server;
	char shown[512];
	bool agreed = false;
	int rc;

	if (stg == NULL)
		stg = directory_staging_for(prod);
	if (stg == NULL && is_staging(prod))
		stg = prod;
	if (stg == NULL)
		return certo_fail(CERTO_EUSAGE, "--dry-run: no staging directory "
		    "is known for %s, and a dry run never asks the real CA; pass "
		    "--dry-run-server URL (a test instance of that CA)",
		    log_sanitize(shown, sizeof(shown), prod, (size_t)-1));
	if ((rc = account_remembered(state, prod, &agreed, &s->mails,
	    &s->nmails)) != 0)
		return rc;
	s->cfg.cli.agree_tos = s->cfg.cli.agree_tos || agreed;
	s->cfg.cli.server = stg;
	return 0;
}

/*
 * The account options of s for this run: --agree-tos and --email of the
 * renew command line, else what dry_run_target() remembered.
 */
static int
account_options(const struct certo_cli *cli, struct stored *s)
{
	char *const *src = cli->nemails > 0 ? cli->emails : s->mails;
	size_t n = cli->nemails > 0 ? cli->nemails : s->nmails;

	s->cfg.cli.agree_tos = s->cfg.cli.agree_tos || cli->agree_tos;
	if (n == 0)
		return 0;
	/* The array is freed by config_free; the strings are not. */
	if ((s->cfg.cli.emails = calloc(n, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	memcpy(s->cfg.cli.emails, src, n * sizeof(char *));
	s->cfg.cli.nemails = n;
	return 0;
}

/* renew --name NAME: does NAME (as given, or normalised) name s? */
static bool
wanted_name(const struct certo_cli *cli, char *const *want, const char *name)
{
	if (cli->nonly == 0)
		return true;
	for (size_t k = 0; k < cli->nonly; k++)
		if (strcmp(cli->only[k], name) == 0 ||
		    (want[k] != NULL && strcmp(want[k], name) == 0))
			return true;
	return false;
}

/*
 * A deploy hook that failed (or was cut short) in an earlier run left a
 * mark in the live directory (store_deploy_mark): run it again now, due
 * or not.  Returns 0 (also when nothing was pending) or the failure,
 * reported like a failed renewal.
 */
static int
deploy_retry(const char *state, struct stored *s)
{
	char *live = NULL;
	int rc;

	if (asprintf(&live, "%s/live/%s", state, s->name) < 0)
		return CERTO_ENOMEM;
	if (!store_deploy_pending(live)) {
		free(live);
		return 0;
	}
	if (s->cfg.cli.deploy_hook == NULL) {
		/* The hook was dropped since: nothing to retry. */
		rc = store_deploy_mark(live, NULL);
	} else {
		log_event("deploy_retry", NULL, "renew: %s: running the deploy "
		    "hook that failed earlier", s->name);
		rc = issue_deploy(&s->cfg.cli, live);
	}
	if (rc != 0)
		stored_failed(s, rc);
	free(live);
	return rc;
}

/* One pass: returns the RENEW_EXIT code; *next is when to look again. */
static int
renew_pass(const struct certo_cli *cli, char *const *want, time_t *next)
{
	struct session_set sessions = { 0 };
	struct stored *v = NULL, **due = NULL;
	char **names = NULL, *state = NULL, t[32];
	size_t n = 0, ndue = 0, failed = 0, renewed = 0, notdue = 0;
	size_t deploy_failed = 0;
	int rc, code;

	*next = time(NULL) + 12 * 3600;
	if ((rc = store_state_dir(cli->state_dir, &state)) != 0 ||
	    (rc = store_list(state, &names, &n)) != 0) {
		log_error("%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
		certo_errclear();
		free(state);
		return RENEW_EXIT_FAILED;
	}
	if (n > 0 && ((v = calloc(n, sizeof(*v))) == NULL ||
	    (due = calloc(n, sizeof(*due))) == NULL)) {
		free(v);
		v = NULL;
		failed = n;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].name = names[i];
		names[i] = NULL;
		if (!wanted_name(cli, want, v[i].name))
			continue;
		if ((rc = stored_load(state, &v[i])) != 0 ||
		    (cli->dry_run && (rc = dry_run_target(cli, state,
		    &v[i])) != 0) ||
		    (rc = account_options(cli, &v[i])) != 0) {
			stored_failed(&v[i], rc);
			failed++;
			continue;
		}
		/* This run's hook settings over the stored ones. */
		if (cli->deploy_hook != NULL)
			v[i].cfg.cli.deploy_hook = cli->deploy_hook;
		if (cli->hook_timeout_s > 0)
			v[i].cfg.cli.hook_timeout_s = cli->hook_timeout_s;
		fetch_due(&v[i], session_for(&sessions, cli, &v[i]), NULL,
		    cli->force || cli->dry_run);
		when(v[i].due, t, sizeof(t));
		if (!v[i].is_due) {
			struct json_object *f = json_object_new_object();
			json_object_object_add(f, "name",
			    json_object_new_string(v[i].name));
			json_object_object_add(f, "due", json_object_new_string(t));
			log_event("renew_skipped", f, "renew: %s not due until %s%s",
			    v[i].name, t, v[i].has_ari ? " (ARI window)" : "");
			notdue++;
			if (v[i].due < *next)
				*next = v[i].due;
			if (v[i].check_again && v[i].check_again < *next)
				*next = v[i].check_again;
			continue;
		}
		due[ndue++] = &v[i];
	}
	/* Renew the due ones, grouped by shared CA and solver settings. */
	for (size_t i = 0; i < ndue; i++) {
		struct stored **g;
		size_t gn = 0;

		if (due[i]->handled)
			continue;
		if ((g = calloc(ndue, sizeof(*g))) == NULL)
			break;
		for (size_t k = i; k < ndue; k++)
			if (!due[k]->handled &&
			    same_env(&due[i]->cfg.cli, &due[k]->cfg.cli))
				g[gn++] = due[k];
		renew_due_group(cli, &sessions, g, gn);
		for (size_t k = 0; k < gn; k++) {
			g[k]->handled = true;
			g[k]->sess = NULL;
		}
		free(g);
	}
	for (size_t i = 0; i < ndue; i++) {
		/* Stored and live: only its deploy hook failed. */
		if (due[i]->rc != 0 && due[i]->job.deploy_failed)
			deploy_failed++;
		else if (due[i]->rc != 0) {
			failed++;
			continue;
		}
		renewed++;
		if (due[i]->job.not_after) {
			time_t life = due[i]->job.not_after - time(NULL);
			if (due[i]->job.not_after - life / 3 < *next)
				*next = due[i]->job.not_after - life / 3;
		}
	}
	/* Deploy hooks that failed in an earlier run, due or not. */
	for (size_t i = 0; i < n && !cli->dry_run && !sig_pending(); i++)
		if (v[i].loaded && v[i].job.live == NULL &&
		    deploy_retry(state, &v[i]) != 0)
			deploy_failed++;
out:
	/* With --json, one event per failure, then the counts. */
	for (size_t i = 0; i < n && v != NULL && log_get_json(); i++)
		if (v[i].rc != 0) {
			struct json_object *f = json_object_new_object();
			json_object_object_add(f, "name",
			    json_object_new_string(v[i].name));
			json_object_object_add(f, "code",
			    json_object_new_string(certo_errname(v[i].rc)));
			json_object_object_add(f, "exit",
			    json_object_new_int(certo_exitcode(v[i].rc)));
			log_event("renew_failed", f, "%s", v[i].errmsg ?
			    v[i].errmsg : certo_strerror(v[i].rc));
		}
	code = sig_pending() ? CERTO_EXIT_INTR : failed + deploy_failed > 0 ?
	    RENEW_EXIT_FAILED : renewed > 0 ? RENEW_EXIT_RENEWED :
	    RENEW_EXIT_NOTHING;
	{
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "renewed",
		    json_object_new_int64((int64_t)renewed));
		json_object_object_add(f, "failed",
		    json_object_new_int64((int64_t)failed));
		json_object_object_add(f, "not_due",
		    json_object_new_int64((int64_t)notdue));
		json_object_object_add(f, "deploy_failed",
		    json_object_new_int64((int64_t)deploy_failed));
		json_object_object_add(f, "exit", json_object_new_int(code));
		char dep[96] = "";
		if (deploy_failed > 0)
			snprintf(dep, sizeof(dep), ", %zu deploy hook%s failed "
			    "(retried on the next renew)", deploy_failed,
			    deploy_failed == 1 ? "" : "s");
		log_event("renew_done", f, "renew: %zu renewed, %zu failed, %zu "
		    "not due%s", renewed, failed, notdue, dep);
	}
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		if (v != NULL)
			stored_free(&v[i]);
	}
	free(names);
	free(v);
	free(due);
	free(state);
	session_set_free(&sessions);
	return code;
}

/*
 * renew --name: each NAME normalised as issue stores names (Unicode to
 * A-labels: "bücher.example" finds live/xn--bcher-kva.example), and
 * every one must name a stored certificate: a typo in a cron line is an
 * error (exit 1), not a silent "nothing due".
 */
static int
resolve_names(const struct certo_cli *cli, char ***want)
{
	char **names = NULL, *state = NULL, shown[300], alabel[300];
	size_t n = 0, unknown = 0;
	int rc;

	*want = NULL;
	if (cli->nonly == 0)
		return RENEW_EXIT_NOTHING;
	if ((*want = calloc(cli->nonly, sizeof(char *))) == NULL)
		return RENEW_EXIT_FAILED;
	if ((rc = store_state_dir(cli->state_dir, &state)) != 0 ||
	    (rc = store_list(state, &names, &n)) != 0) {
		log_error("%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
		certo_errclear();
		free(state);
		return RENEW_EXIT_FAILED;
	}
	for (size_t k = 0; k < cli->nonly; k++) {
		bool found = false;
		if (cli_normalize_name(cli->only[k], &(*want)[k]) != 0)
			certo_errclear(); /* not a name: only an exact match */
		for (size_t i = 0; i < n && !found; i++)
			found = strcmp(cli->only[k], names[i]) == 0 ||
			    ((*want)[k] != NULL && strcmp((*want)[k], names[i]) == 0);
		if (found)
			continue;
		unknown++;
		log_sanitize(shown, sizeof(shown), cli->only[k], (size_t)-1);
		alabel[0] = '\0';
		if ((*want)[k] != NULL && strcmp((*want)[k], cli->only[k]) != 0)
			snprintf(alabel, sizeof(alabel), " (looked for %s)",
			    (*want)[k]);
		certo_fail(CERTO_EUSAGE, "renew: no stored certificate is named "
		    "'%s'%s; certo list shows the stored ones", shown, alabel);
		if (log_get_json()) {
			struct json_object *f = json_object_new_object();
			json_object_object_add(f, "name",
			    json_object_new_string(shown));
			json_object_object_add(f, "code",
			    json_object_new_string(certo_errname(CERTO_EUSAGE)));
			json_object_object_add(f, "exit",
			    json_object_new_int(certo_exitcode(CERTO_EUSAGE)));
			log_event("renew_failed", f, "%s", certo_errmsg());
		}
		log_error("%s", certo_errmsg());
		certo_errclear();
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(state);
	if (unknown == 0)
		return RENEW_EXIT_NOTHING;
	{
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "renewed", json_object_new_int64(0));
		json_object_object_add(f, "failed",
		    json_object_new_int64((int64_t)unknown));
		json_object_object_add(f, "not_due", json_object_new_int64(0));
		json_object_object_add(f, "exit",
		    json_object_new_int(RENEW_EXIT_FAILED));
		log_event("renew_done", f, "renew: nothing renewed: %zu unknown "
		    "name%s given with --name", unknown, unknown == 1 ? "" : "s");
	}
	return RENEW_EXIT_FAILED;
}

static void
free_names(char **want, size_t n)
{
	for (size_t k = 0; k < n && want != NULL; k++)
		free(want[k]);
	free(want);
}

static int renew_loop(const struct certo_cli *cli, char *const *want);

int
renew_run(const struct certo_cli *cli)
{
	char **want = NULL;
	int code;

	if ((code = resolve_names(cli, &want)) != RENEW_EXIT_NOTHING) {
		free_names(want, cli->nonly);
		return code;
	}
	code = renew_loop(cli, want);
	free_names(want, cli->nonly);
	return code;
}

/* renew, and with --loop again at the next due time. */
static int
renew_loop(const struct certo_cli *cli, char *const *want)
{
	time_t next;
	int code;

	for (;;) {
		code = renew_pass(cli, want, &next);
		if (!cli->loop || code == CERTO_EXIT_INTR)
			return code;
		/* Sidecar mode: sleep until the earliest due time. */
		long secs = (long)(next - time(NULL));
		if (secs < 60)
			secs = 60;
		log_event("renew_sleep", NULL, "renew: next check in %ld s", secs);
		while (secs > 0) {
			long step = secs > 3600 ? 3600 : secs;
			if (sig_sleep_ms(step * 1000) != 0) {
				certo_errclear();
				if (sig_take() == SIGHUP) {
					log_event("renew_reload", NULL, "renew: SIGHUP, "
					    "re-reading the state");
					break;
				}
				return 0; /* SIGTERM/SIGINT: clean exit */
			}
			secs -= step;
		}
	}
}

/* A remembered rate limit on the names of s (ratelimit.h), if any. */
static void
list_ratelimit(const char *state, const struct stored *s,
    struct json_object *o, bool json)
{
	struct ratelimit *r = NULL;
	char *ca_id = NULL, w[32];
	size_t n = 0;
	time_t until;

	if (account_ca_id(s->cfg.cli.server, &ca_id) != 0 ||
	    ratelimit_load(state, ca_id, &r, &n) != 0) {
		certo_errclear();
		goto out;
	}
	if ((until = ratelimit_for_names(r, n, s->cfg.cli.names,
	    s->cfg.cli.nnames)) == 0)
		goto out;
	ratelimit_when(until, w, sizeof(w));
	json_object_object_add(o, "rate_limited_until",
	    json_object_new_string(w));
	if (!json)
		printf("  limit:   the CA rate-limited new orders until %s "
		    "(certo ratelimit)\n", w);
out:
	ratelimit_free_all(r, n);
	free(ca_id);
}

int
list_run(const struct certo_cli *cli)
{
	struct session_set sessions = { 0 };
	struct json_object *arr = json_object_new_array();
	char **names = NULL, *state = NULL, t[32], w1[32], w2[32];
	size_t n = 0;
	int rc;

	if ((rc = store_state_dir(cli->state_dir, &state)) != 0 ||
	    (rc = store_list(state, &names, &n)) != 0)
		goto out;
	if (!cli->json && n == 0)
		printf("no certificates stored in %s\n", state);
	for (size_t i = 0; i < n; i++) {
		struct stored s;
		struct json_object *o, *a;
		char sans[1024] = "";
		size_t k = 0;

		memset(&s, 0, sizeof(s));
		s.name = names[i];
		names[i] = NULL;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(s.name));
		if (stored_load(state, &s) != 0) {
			json_object_object_add(o, "error", json_object_new_string(
			    certo_errmsg() ? certo_errmsg() : "unreadable"));
			if (!cli->json)
				printf("%s: unreadable: %s\n", s.name, certo_errmsg());
			certo_errclear();
			json_object_array_add(arr, o);
			stored_free(&s);
			continue;
		}
		fetch_due(&s, session_for(&sessions, cli, &s), NULL, false);
		a = json_object_new_array();
		for (size_t j = 0; j < s.chain.nsans; j++) {
			json_object_array_add(a, json_object_new_string(
			    s.chain.sans[j]));
			k += (size_t)snprintf(sans + k, k < sizeof(sans) ?
			    sizeof(sans) - k : 0, "%s%s", j ? " " : "",
			    s.chain.sans[j]);
		}
		when(s.chain.not_after, t, sizeof(t));
		long days = (long)((s.chain.not_after - time(NULL)) / 86400);
		json_object_object_add(o, "names", a);
		json_object_object_add(o, "not_after", json_object_new_string(t));
		json_object_object_add(o, "days_left", json_object_new_int64(days));
		json_object_object_add(o, "key_type",
		    json_object_new_string(s.chain.key_desc));
		json_object_object_add(o, "server",
		    json_object_new_string(s.cfg.cli.server));
		when(s.due, w1, sizeof(w1));
		json_object_object_add(o, "renew_after",
		    json_object_new_string(w1));
		if (s.has_ari) {
			when(s.ari.start, w1, sizeof(w1));
			when(s.ari.end, w2, sizeof(w2));
			json_object_object_add(o, "ari_start",
			    json_object_new_string(w1));
			json_object_object_add(o, "ari_end",
			    json_object_new_string(w2));
		}
		json_object_array_add(arr, o);
		if (!cli->json) {
			when(s.due, w1, sizeof(w1));
			printf("%s\n  names:   %s\n  expires: %s (%ld days left)\n"
			    "  key:     %s\n  CA:      %s\n  renew:   %s%s\n", s.name,
			    sans, t, days, s.chain.key_desc, s.cfg.cli.server, w1,
			    s.has_ari ? " (in the CA's ARI window)" :
			    " (a third of the lifetime left)");
			if (s.has_ari) {
				when(s.ari.start, w1, sizeof(w1));
				when(s.ari.end, w2, sizeof(w2));
				printf("  ARI:     %s to %s\n", w1, w2);
			}
		}
		list_ratelimit(state, &s, o, cli->json);
		stored_free(&s);
	}
	/* What the CA rate-limited, also for names with no stored set. */
	ratelimit_list_all(state, arr, cli->json ? NULL : stdout);
	if (cli->json)
		printf("%s\n", json_object_to_json_string_ext(arr,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(state);
	json_object_put(arr);
	session_set_free(&sessions);
	return rc;
}

int
delete_run(const struct certo_cli *cli)
{
	char *state = NULL;
	int rc;

	if ((rc = store_state_dir(cli->state_dir, &state)) == 0 &&
	    (rc = store_delete(state, cli->arg)) == 0)
		log_event("deleted", NULL, "delete: %s removed (live and archive)",
		    cli->arg);
	free(state);
	return rc;
}

int
renew_issue_fresh(struct session *sess, struct certo_req *req,
    const struct certo_cli *cli, bool *fresh)
{
	struct stored s;
	struct certo_key *key = NULL;
	struct json_object *f;
	const char *state;
	char t[32], e[32];
	int rc = 0;

	*fresh = false;
	memset(&s, 0, sizeof(s));
	/* --csr and explicit validity dates always ask the CA. */
	if (cli->nnames == 0 || cli->csr_file != NULL || cli->not_before != 0 ||
	    cli->not_after != 0)
		return 0;
	state = sess->state;
	if ((s.name = strdup(cli->names[0])) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	/* Nothing stored (or unreadable): issue.  Out of memory: stop. */
	if ((rc = stored_load(state, &s)) != 0) {
		if (rc == CERTO_ENOMEM)
			goto out;
		goto quiet;
	}
	if (!config_same(cli, &s.cfg)) {
		log_info("issue: %s/live/%s was issued with other names or "
		    "options; issuing anew", state, s.name);
		goto quiet;
	}
	/* The live certificate is still for exactly these names (and for
	 * --key's key). */
	if ((cli->key_file != NULL && key_load(cli->key_file, &key) != 0) ||
	    certificate_check(&s.chain, key, cli->names, cli->nnames) != 0)
		goto quiet;
	fetch_due(&s, sess, req, false);
	if (s.is_due) {
		log_info("issue: %s/live/%s is due for renewal; issuing", state,
		    s.name);
		goto quiet;
	}
	*fresh = true;
	when(s.chain.not_after, e, sizeof(e));
	when(s.due, t, sizeof(t));
	f = json_object_new_object();
	json_object_object_add(f, "name", json_object_new_string(s.name));
	json_object_object_add(f, "not_after", json_object_new_string(e));
	json_object_object_add(f, "renew_after", json_object_new_string(t));
	log_event("issue_skipped", f, "issue: %s/live/%s already holds a "
	    "certificate for these names and options, valid until %s and not "
	    "due for renewal before %s%s; nothing to do (--force issues anyway)",
	    state, s.name, e, t, s.has_ari ? " (the CA's ARI window)" : "");
quiet:
	certo_errclear();
	rc = 0;
out:
	key_free(key);
	stored_free(&s);
	return rc;
}
