/*
 * The external solver: challenges published by the user (--manual:
 * certo prints the record or file and waits until it is visible) or by
 * hook programs (--dns-hook/--http-hook: PROGRAM add|del ..., see
 * docs/hooks.md), then checked from this host: DNS-01 on every
 * authoritative server (dns01_propagation.c), HTTP-01 by fetching the
 * URL (solver_http01.c).
 */
#include "solver.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "domain.h"
#include "errors.h"
#include "hook.h"
#include "http.h"
#include "log.h"
#include "privsep.h"
#include "sig.h"
#include "solver_http01.h"

/* One published challenge. */
struct record {
	struct record *next;
	enum chall_type type;
	char *ident;
	char *token;
	char *name;     /* dns-01: _acme-challenge.<ident>; http-01: URL */
	char *value;    /* dns-01: TXT value; http-01: key authorization */
};

/* The solver's context. */
struct external {
	struct solver_external_opts opts;
	pthread_mutex_t lock;  /* renew runs several orders at once */
	pthread_mutex_t hook_lock; /* hooks are called one at a time
	                            * (docs/hooks.md), whatever the pool */
	struct record *recs;   /* published, for reminders and del; newest
	                        * first, never moved while listed */
	size_t nrecs;
	char last_progress[1024];
};

static void
record_free(struct record *rec)
{
	free(rec->ident);
	free(rec->token);
	free(rec->name);
	free(rec->value);
	free(rec);
}

/* Add a record (name and value are taken over); *out points to it. */
static int
add_record(struct external *ext, enum chall_type type, const char *ident,
    const char *token, char *name, char *value, struct record **out)
{
	struct record *rec = calloc(1, sizeof(*rec));

	if (rec == NULL) {
		free(name);
		free(value);
		return CERTO_ENOMEM;
	}
	rec->type = type;
	rec->name = name;
	rec->value = value;
	rec->ident = strdup(ident);
	rec->token = strdup(token);
	if (rec->ident == NULL || rec->token == NULL) {
		record_free(rec);
		return CERTO_ENOMEM;
	}
	pthread_mutex_lock(&ext->lock);
	rec->next = ext->recs;
	ext->recs = rec;
	ext->nrecs++;
	pthread_mutex_unlock(&ext->lock);
	*out = rec;
	return 0;
}

static struct record *
find_record(struct external *ext, enum chall_type type, const char *ident,
    const char *token)
{
	struct record *rec;

	pthread_mutex_lock(&ext->lock);
	for (rec = ext->recs; rec != NULL; rec = rec->next)
		if (rec->type == type && strcmp(rec->ident, ident) == 0 &&
		    strcmp(rec->token, token) == 0)
			break;
	pthread_mutex_unlock(&ext->lock);
	return rec;
}

/* The record name and value to publish: the TXT record of dns-01, or
 * the URL the CA fetches and its content (IPv6 literals in brackets). */
static int
record_text(const struct external *ext, enum chall_type type,
    const char *ident, const char *token, const char *keyauth, char **name,
    char **value)
{
	char port[8] = "";
	bool v6;
	int rc;

	*name = *value = NULL;
	if (type == CHALL_DNS01) {
		if ((rc = dns01_record_name(ident, name)) != 0 ||
		    (rc = dns01_txt_value(keyauth, value)) != 0) {
			free(*name);
			*name = NULL;
		}
		return rc;
	}
	v6 = ident_classify(ident, false, NULL, NULL) == IDENT_IPV6;
	if (ext->opts.http_port != 0 && ext->opts.http_port != 80)
		snprintf(port, sizeof(port), ":%u", ext->opts.http_port);
	if (asprintf(name, "http://%s%s%s%s/.well-known/acme-challenge/%s",
	    v6 ? "[" : "", ident, v6 ? "]" : "", port, token) < 0) {
		*name = NULL;
		return CERTO_ENOMEM;
	}
	if ((*value = strdup(keyauth)) == NULL) {
		free(*name);
		*name = NULL;
		return CERTO_ENOMEM;
	}
	return 0;
}

/* Manual mode: tell the user what to publish. */
static void
publish_manual(struct external *ext, const struct record *rec)
{
	struct json_object *fields = json_object_new_object();
	size_t same = 0;

	json_object_object_add(fields, "name",
	    json_object_new_string(rec->ident));
	json_object_object_add(fields, "record",
	    json_object_new_string(rec->name));
	json_object_object_add(fields, "value",
	    json_object_new_string(rec->value));
	if (rec->type != CHALL_DNS01) {
		log_event("manual_publish", fields, "http-01: serve this for "
		    "%s:\n  URL:     %s\n  content: %s", rec->ident, rec->name,
		    rec->value);
		return;
	}
	log_event("manual_publish", fields, "dns-01: create this record for "
	    "%s:\n%s. 300 IN TXT \"%s\"", rec->ident, rec->name, rec->value);
	pthread_mutex_lock(&ext->lock);
	for (const struct record *r = ext->recs; r != NULL; r = r->next)
		if (r->type == CHALL_DNS01 && strcmp(r->name, rec->name) == 0)
			same++;
	pthread_mutex_unlock(&ext->lock);
	/* Apex and wildcard share a name: both values must stay. */
	if (same > 1)
		log_event("manual_note", NULL, "dns-01: %s now needs %zu TXT "
		    "values at once (apex and wildcard share the name): add "
		    "this one, do not replace the other", rec->name, same);
}

/* Run the hook of rec's type: PROGRAM verb type ident name|token value. */
static int
run_hook(struct external *ext, const struct record *rec, const char *verb,
    long timeout_ms, bool quiet)
{
	const char *args[6];
	int rc;

	args[0] = verb;
	args[1] = challenge_type_name(rec->type);
	args[2] = rec->ident;
	args[3] = rec->type == CHALL_DNS01 ? rec->name : rec->token;
	args[4] = rec->value;
	args[5] = NULL;
	pthread_mutex_lock(&ext->hook_lock);
	rc = hook_run(rec->type == CHALL_DNS01 ? ext->opts.dns_hook :
	    ext->opts.http_hook, args, timeout_ms, quiet);
	pthread_mutex_unlock(&ext->hook_lock);
	return rc;
}

static int
publish(void *ctx, enum chall_type type, const char *ident,
    const char *token, const char *keyauth)
{
	struct external *ext = ctx;
	struct record *rec;
	char *name, *value;
	int rc;

	if ((rc = record_text(ext, type, ident, token, keyauth, &name,
	    &value)) != 0 ||
	    (rc = add_record(ext, type, ident, token, name, value, &rec)) != 0)
		return rc;
	if (ext->opts.manual) {
		publish_manual(ext, rec);
		return 0;
	}
	return run_hook(ext, rec, "add", ext->opts.hook_timeout_ms, false);
}

/* The dns-01 progress line, one per change so logs stay readable. */
static void
on_progress(void *arg, const struct dns01_progress *prog, size_t n,
    long ms_left)
{
	struct external *ext = arg;
	struct certo_buf line;
	size_t ok = 0;

	buf_init(&line, 2048);
	for (size_t i = 0; i < n; i++)
		if (prog[i].visible)
			ok++;
	buf_printf(&line, "dns-01: %zu/%zu checks see the records", ok, n);
	for (size_t i = 0; i < n && line.len < 1500; i++) {
		char server[64];
		log_str(server, sizeof(server), prog[i].server->name);
		if (!prog[i].visible)
			buf_printf(&line, "; waiting for %s on %s%s%s",
			    prog[i].record, server, prog[i].error ? ": " : "",
			    prog[i].error ? prog[i].error : "");
	}
	buf_printf(&line, " (%ld s left)", ms_left / 1000);
	if (line.data && strncmp(line.data, ext->last_progress,
	    strcspn(line.data, "(")) != 0) {
		log_event("dns_progress", NULL, "%s", line.data);
		snprintf(ext->last_progress, sizeof(ext->last_progress), "%s",
		    line.data);
	}
	buf_free(&line);
}

/*
 * The dns-01 records among items[0..n), each with its values (apex and
 * wildcard share a name), into recs (room for n) and vals (room for n,
 * the values of one name next to each other).  Returns how many.
 */
static size_t
group_dns_records(struct external *ext, const struct solver_item *items,
    size_t n, struct dns01_record *recs, const char **vals)
{
	struct record *rec;
	size_t nrecs = 0, nv = 0, k;

	for (size_t i = 0; i < n; i++) {
		if (items[i].type != CHALL_DNS01 || (rec = find_record(ext,
		    CHALL_DNS01, items[i].ident, items[i].token)) == NULL)
			continue;
		for (k = 0; k < nrecs; k++)
			if (strcmp(recs[k].name, rec->name) == 0)
				break;
		if (k == nrecs)
			recs[nrecs++].name = rec->name;
	}
	for (k = 0; k < nrecs; k++) {
		recs[k].values = (const char *const *)&vals[nv];
		for (size_t i = 0; i < n; i++) {
			rec = items[i].type != CHALL_DNS01 ? NULL :
			    find_record(ext, CHALL_DNS01, items[i].ident,
			    items[i].token);
			if (rec != NULL && strcmp(rec->name, recs[k].name) == 0)
				vals[nv++] = rec->value;
		}
		recs[k].nvalues = (size_t)(&vals[nv] -
		    (const char **)(uintptr_t)recs[k].values);
	}
	return nrecs;
}

/* Wait until every published TXT value is on every server. */
static int
wait_dns_visible(struct external *ext, const struct solver_item *items,
    size_t n)
{
	struct dns01_record *recs = NULL;
	struct dns01_opts dns = ext->opts.dns;
	const char **vals = NULL;
	size_t nrecs, nv = 0;
	int rc = 0;

	if ((recs = calloc(n, sizeof(*recs))) == NULL ||
	    (vals = calloc(n, sizeof(*vals))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((nrecs = group_dns_records(ext, items, n, recs, vals)) == 0)
		goto out;
	for (size_t k = 0; k < nrecs; k++)
		nv += recs[k].nvalues;
	if (ext->opts.manual)
		log_event("dns_waiting", NULL, "dns-01: waiting until every "
		    "authoritative server answers with %s (up to %ld s)",
		    nv == 1 ? "the value" : "all values",
		    dns.timeout_ms / 1000);
	dns.progress = on_progress;
	dns.arg = ext;
	/* DNS queries are the network process's (privsep.h). */
	rc = privsep_active() ? privsep_dns01_wait(recs, nrecs, &dns) :
	    dns01_wait(recs, nrecs, &dns);
	if (rc == 0)
		log_event("dns_visible", NULL, "dns-01: all records visible on "
		    "every server");
out:
	free(recs);
	free(vals);
	return rc;
}

/*
 * GET the challenge URL from this host, as the CA will, until it shows
 * keyauth: with progress lines saying why not yet, up to
 * --http-timeout.  With a hook, a URL that cannot be reached from here
 * at all (split DNS, NAT) is left to the CA, and said so.
 */
static int
wait_http_served(struct external *ext, const struct solver_item *item)
{
	struct certo_http client;
	struct http_opts hopts = { 0 };
	struct record *rec;
	time_t deadline = time(NULL) + ext->opts.http_timeout_ms / 1000;
	long wait = 250;
	char why[400] = "", reason[420], shown[300];
	int rc;

	if ((rec = find_record(ext, CHALL_HTTP01, item->ident,
	    item->token)) == NULL)
		return 0;
	log_str(shown, sizeof(shown), rec->name);
	hopts.allow_http = true;
	hopts.connect_timeout_ms = 3000;
	hopts.total_timeout_ms = 5000;
	if ((rc = http_init(&client, &hopts)) != 0)
		return rc;
	if (ext->opts.manual)
		log_event("http_waiting", NULL, "http-01: waiting until %s "
		    "serves the content (up to %ld s)", shown,
		    ext->opts.http_timeout_ms / 1000);
	for (;;) {
		rc = solver_http01_fetch(&client, rec->name, rec->ident,
		    ext->opts.http_port, item->keyauth, why, sizeof(why));
		if (rc == SOLVER_HTTP01_SERVED) {
			log_event("http_visible", NULL, "http-01: %s serves "
			    "the key authorization", shown);
			break;
		}
		if (rc < 0)
			break;
		snprintf(reason, sizeof(reason), "%s%s",
		    rc == SOLVER_HTTP01_UNREACHABLE ? "cannot fetch it: " : "",
		    why);
		if (rc == SOLVER_HTTP01_UNREACHABLE && !ext->opts.manual) {
			/* A hook publishes somewhere we may not reach from
			 * here: say so and let the CA try. */
			log_warn("cannot check http-01 for %s from this host "
			    "(%s); asking the CA anyway", shown, reason);
			rc = 0;
			break;
		}
		if (time(NULL) >= deadline) {
			rc = certo_fail(CERTO_ESELFCHECK, "%s did not serve "
			    "the key authorization within %ld s (%s); the CA "
			    "was not asked", shown,
			    ext->opts.http_timeout_ms / 1000, reason);
			break;
		}
		solver_http01_progress(&ext->lock, ext->last_progress,
		    sizeof(ext->last_progress), shown, reason,
		    (long)(deadline - time(NULL)));
		if ((rc = sig_sleep_ms(wait)) != 0)
			break;
		wait = wait < 2000 ? wait * 2 : 2000;
	}
	http_free(&client);
	return rc;
}

static int
selfcheck(void *ctx, const struct solver_item *items, size_t n)
{
	struct external *ext = ctx;
	int rc;

	if ((rc = wait_dns_visible(ext, items, n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (items[i].type == CHALL_HTTP01 &&
		    (rc = wait_http_served(ext, &items[i])) != 0)
			return rc;
	return 0;
}

static void
withdraw(void *ctx, enum chall_type type, const char *ident,
    const char *token)
{
	struct external *ext = ctx;
	struct record *rec = find_record(ext, type, ident, token);
	char saved[1024] = "";
	int saved_code;

	if (rec == NULL || ext->opts.manual)
		return; /* manual: reminded once, in stop() */
	/*
	 * Always runs, Ctrl-C included; a failure is only a warning.  The
	 * error that brought us here (first error wins) must survive it.
	 */
	saved_code = certo_errcode();
	if (certo_errmsg() != NULL)
		snprintf(saved, sizeof(saved), "%s", certo_errmsg());
	certo_errclear();
	if (run_hook(ext, rec, "del", ext->opts.hook_del_timeout_ms, true) != 0)
		log_warn("%s", certo_errmsg() != NULL ? certo_errmsg() :
		    "the del hook failed");
	certo_errclear();
	if (saved_code != 0)
		certo_fail(saved_code, "%s", saved);
}

static void
stop(void *ctx)
{
	struct external *ext = ctx;
	struct record *rec;

	if (ext == NULL)
		return;
	if (ext->opts.manual && ext->nrecs > 0) {
		log_event("manual_cleanup", NULL, "You can now remove what "
		    "certo asked you to publish:");
		for (rec = ext->recs; rec != NULL; rec = rec->next)
			if (rec->type == CHALL_DNS01)
				log_event("manual_cleanup", NULL,
				    "  %s. TXT \"%s\"", rec->name, rec->value);
			else
				log_event("manual_cleanup", NULL, "  %s",
				    rec->name);
	}
	while ((rec = ext->recs) != NULL) {
		ext->recs = rec->next;
		record_free(rec);
	}
	pthread_mutex_destroy(&ext->lock);
	pthread_mutex_destroy(&ext->hook_lock);
	free(ext);
}

static const struct solver_ops external_ops = {
	.name = "external",
	.publish = publish,
	.selfcheck = selfcheck,
	.withdraw = withdraw,
	.stop = stop,
};

/* Start the external solver (see solver.h). */
int
solver_external_start(const struct solver_external_opts *opts,
    struct solver *out)
{
	struct external *ext;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < opts->ntypes && i < 3; i++) {
		enum chall_type type = opts->types[i];
		if (type == CHALL_TLSALPN01)
			return certo_fail(CERTO_EUSAGE, "tls-alpn-01 needs "
			    "--standalone or --responder");
		if (!opts->manual && type == CHALL_DNS01 &&
		    opts->dns_hook == NULL)
			return certo_fail(CERTO_EUSAGE, "dns-01 needs --manual "
			    "or --dns-hook PROGRAM");
		if (!opts->manual && type == CHALL_HTTP01 &&
		    opts->http_hook == NULL)
			return certo_fail(CERTO_EUSAGE, "http-01 needs "
			    "--standalone, --responder, --manual or "
			    "--http-hook PROGRAM");
		out->types[out->ntypes++] = type;
	}
	if ((ext = calloc(1, sizeof(*ext))) == NULL)
		return CERTO_ENOMEM;
	ext->opts = *opts;
	if (ext->opts.hook_timeout_ms <= 0)
		ext->opts.hook_timeout_ms = HOOK_TIMEOUT_MS;
	if (ext->opts.hook_del_timeout_ms <= 0)
		ext->opts.hook_del_timeout_ms = HOOK_DEL_TIMEOUT_MS;
	pthread_mutex_init(&ext->lock, NULL);
	pthread_mutex_init(&ext->hook_lock, NULL);
	out->ops = &external_ops;
	out->ctx = ext;
	return 0;
}
