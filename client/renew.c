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

#include "certificate.h"
#include "config.h"
#include "directory.h"
#include "errors.h"
#include "file.h"
#include "issue.h"
#include "log.h"
#include "renewalinfo.h"
#include "ratelimit.h"
#include "request.h"
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
	struct issue_env *env;      /* the group it renews in */
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

/* The directories of the CAs in use, fetched once per run. */
struct dircache {
	char *url[16];
	struct certo_directory dir[16];
	bool ok[16];
	size_t n;
};

static const struct certo_directory *
dir_for(struct dircache *dc, const struct certo_cli *cfg)
{
	struct certo_req req;
	struct http_opts ho = { 0 };
	size_t i;

	for (i = 0; i < dc->n; i++)
		if (strcmp(dc->url[i], cfg->server) == 0)
			return dc->ok[i] ? &dc->dir[i] : NULL;
	if (dc->n == 16)
		return NULL;
	i = dc->n++;
	dc->url[i] = strdup(cfg->server);
	ho.ca_bundle = cfg->ca_bundle;
	ho.allow_http = cfg->allow_http;
	if (request_init(&req, &ho) == 0 &&
	    directory_fetch(&req, cfg->server, &dc->dir[i]) == 0)
		dc->ok[i] = true;
	else
		certo_errclear(); /* falls back to the lifetime rule */
	request_free(&req);
	return dc->ok[i] ? &dc->dir[i] : NULL;
}

static void
dircache_free(struct dircache *dc)
{
	for (size_t i = 0; i < dc->n; i++) {
		free(dc->url[i]);
		directory_free(&dc->dir[i]);
	}
}

/*
 * When is s due?  The ARI window when the CA has renewalInfo, else
 * when a third of the lifetime is left.
 */
static void
decide(struct stored *s, struct dircache *dc, bool force)
{
	const struct certo_directory *d = dir_for(dc, &s->cfg.cli);
	time_t life = s->chain.not_after - s->chain.not_before;
	struct certo_req req;
	struct http_opts ho = { 0 };

	s->due = s->chain.not_after - life / 3;
	if (d != NULL && d->renewal_info != NULL &&
	    certificate_ari_id(&s->chain, &s->ari_id) == 0) {
		ho.ca_bundle = s->cfg.cli.ca_bundle;
		ho.allow_http = s->cfg.cli.allow_http;
		if (request_init(&req, &ho) == 0 && renewalinfo_fetch(&req,
		    d->renewal_info, s->ari_id, &s->ari) == 0) {
			s->has_ari = true;
			s->due = renewalinfo_pick(&s->ari, s->ari_id);
			if (s->ari.retry_after > 0)
				s->check_again = time(NULL) + s->ari.retry_after;
		} else {
			log_warn("%s: renewalInfo unavailable (%s); using the "
			    "lifetime rule", s->name, certo_errmsg() ?
			    certo_errmsg() : "error");
		}
		certo_errclear();
		request_free(&req);
	}
	certo_errclear();
	s->is_due = force || time(NULL) >= s->due;
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
		s->rc = issue_job_run(s->env, &s->job);
		if (s->rc != 0) {
			log_error("renew %s: %s", s->name, certo_errmsg() ?
			    certo_errmsg() : certo_strerror(s->rc));
			certo_errclear();
		}
	}
}

/* Renew the due certificates of one group through one environment. */
static void
renew_group(const struct certo_cli *cli, struct stored **g, size_t n,
    struct issue_env *env)
{
	struct pool p = { .jobs = g, .n = n };
	pthread_t th[64];
	unsigned k = cli->jobs < n ? cli->jobs : (unsigned)n, started = 0;

	pthread_mutex_init(&p.lock, NULL);
	for (size_t i = 0; i < n; i++) {
		g[i]->env = env;
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

/* One pass: returns the RENEW_EXIT code; *next is when to look again. */
static int
renew_pass(const struct certo_cli *cli, time_t *next)
{
	struct dircache dc;
	struct stored *v = NULL, **due = NULL;
	char **names = NULL, *state = NULL, t[32];
	size_t n = 0, ndue = 0, failed = 0, renewed = 0, notdue = 0;
	int rc;

	memset(&dc, 0, sizeof(dc));
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
		bool wanted = cli->nonly == 0;
		v[i].name = names[i];
		names[i] = NULL;
		for (size_t k = 0; k < cli->nonly; k++)
			if (strcmp(cli->only[k], v[i].name) == 0)
				wanted = true;
		if (!wanted)
			continue;
		if (stored_load(state, &v[i]) != 0) {
			log_error("renew %s: %s", v[i].name, certo_errmsg());
			certo_errclear();
			failed++;
			continue;
		}
		if (cli->dry_run) {
			const char *stg = directory_staging_for(v[i].cfg.cli.server);
			if (stg != NULL)
				v[i].cfg.cli.server = stg;
		}
		decide(&v[i], &dc, cli->force || cli->dry_run);
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
		struct issue_env env;
		size_t gn = 0;

		if (due[i]->handled)
			continue;
		if ((g = calloc(ndue, sizeof(*g))) == NULL)
			break;
		for (size_t k = i; k < ndue; k++)
			if (!due[k]->handled &&
			    same_env(&due[i]->cfg.cli, &due[k]->cfg.cli))
				g[gn++] = due[k];
		due[i]->cfg.cli.state_dir = cli->state_dir;
		due[i]->cfg.cli.verbosity = cli->verbosity;
		rc = issue_env_open(&due[i]->cfg.cli, true, &env);
		if (rc != 0) {
			/* A group that cannot start fails as a whole. */
			for (size_t k = 0; k < gn; k++) {
				log_error("renew %s: %s", g[k]->name, certo_errmsg() ?
				    certo_errmsg() : certo_strerror(rc));
				g[k]->rc = rc;
			}
			certo_errclear();
		} else {
			renew_group(cli, g, gn, &env);
		}
		issue_env_close(&env);
		for (size_t k = 0; k < gn; k++) {
			g[k]->handled = true;
			g[k]->env = NULL;
		}
		free(g);
	}
	for (size_t i = 0; i < ndue; i++) {
		if (due[i]->rc != 0) {
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
out:
	log_event("renew_done", NULL, "renew: %zu renewed, %zu failed, %zu not "
	    "due", renewed, failed, notdue);
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		if (v != NULL)
			stored_free(&v[i]);
	}
	free(names);
	free(v);
	free(due);
	free(state);
	dircache_free(&dc);
	if (sig_pending())
		return CERTO_EXIT_INTR;
	if (failed > 0)
		return RENEW_EXIT_FAILED;
	return renewed > 0 ? RENEW_EXIT_RENEWED : RENEW_EXIT_NOTHING;
}

int
renew_run(const struct certo_cli *cli)
{
	time_t next;
	int code;

	for (;;) {
		code = renew_pass(cli, &next);
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

int
list_run(const struct certo_cli *cli)
{
	struct dircache dc;
	struct json_object *arr = json_object_new_array();
	char **names = NULL, *state = NULL, t[32], w1[32], w2[32];
	size_t n = 0;
	int rc;

	memset(&dc, 0, sizeof(dc));
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
		decide(&s, &dc, false);
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
		/* This run's settings, not the stored ones. */
		due[i]->cfg.cli.force = cli->force;
		due[i]->cfg.cli.ca_timeout_s = cli->ca_timeout_s;
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
		stored_free(&s);
	}
	if (cli->json)
		printf("%s\n", json_object_to_json_string_ext(arr,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(state);
	json_object_put(arr);
	dircache_free(&dc);
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

		list_ratelimit(state, &s, o, cli->json);
	/* What the CA rate-limited, also for names with no stored set. */
	ratelimit_list_all(state, arr, cli->json ? NULL : stdout);
