/* The external solver: manual mode and hook programs. */
#include "solver.h"

#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "errors.h"
#include "hook.h"
#include "http.h"
#include "log.h"
#include "sig.h"

struct record {
	struct record *next;
	enum chall_type type;
	char *ident;
	char *token;
	char *name;     /* dns-01: _acme-challenge.<ident>; http-01: URL */
	char *value;    /* dns-01: TXT value; http-01: key authorization */
};

struct external {
	struct solver_external_opts o;
	pthread_mutex_t lock;  /* renew runs several orders at once */
	pthread_mutex_t hook_lock; /* hooks are called one at a time
	                            * (docs/hooks.md), whatever the pool */
	struct record *recs;   /* published, for reminders and del; newest
	                        * first, never moved while listed */
	size_t nrecs;
	bool reminded;
	char last_progress[512];
};

static void
record_free(struct record *r)
{
	free(r->ident);
	free(r->token);
	free(r->name);
	free(r->value);
	free(r);
}

/* Add a record (name and value are taken over); *out points to it. */
static int
add_record(struct external *x, enum chall_type t, const char *ident,
    const char *token, char *name, char *value, struct record **out)
{
	struct record *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		free(name);
		free(value);
		return CERTO_ENOMEM;
	}
	r->type = t;
	r->name = name;
	r->value = value;
	r->ident = strdup(ident);
	r->token = strdup(token);
	if (r->ident == NULL || r->token == NULL) {
		record_free(r);
		return CERTO_ENOMEM;
	}
	pthread_mutex_lock(&x->lock);
	r->next = x->recs;
	x->recs = r;
	x->nrecs++;
	pthread_mutex_unlock(&x->lock);
	*out = r;
	return 0;
}

static struct record *
find_record(struct external *x, enum chall_type t, const char *ident,
    const char *token)
{
	struct record *r;

	pthread_mutex_lock(&x->lock);
	for (r = x->recs; r != NULL; r = r->next)
		if (r->type == t && strcmp(r->ident, ident) == 0 &&
		    strcmp(r->token, token) == 0)
			break;
	pthread_mutex_unlock(&x->lock);
	return r;
}

static int
publish(void *ctx, enum chall_type t, const char *ident, const char *token,
    const char *keyauth)
{
	struct external *x = ctx;
	struct record *rec;
	char *name = NULL, *value = NULL;
	const char *args[6];
	int rc;

	if (t == CHALL_DNS01) {
		if ((rc = dns01_record_name(ident, &name)) != 0 ||
		    (rc = dns01_txt_value(keyauth, &value)) != 0) {
			free(name);
			return rc;
		}
	} else {
		/* The URL the CA fetches (IPv6 literals in brackets). */
		bool v6 = strchr(ident, ':') != NULL;
		char port[8] = "";
		if (x->o.http_port != 0 && x->o.http_port != 80)
			snprintf(port, sizeof(port), ":%u", x->o.http_port);
		if (asprintf(&name, "http://%s%s%s%s/.well-known/acme-challenge/%s",
		    v6 ? "[" : "", ident, v6 ? "]" : "", port, token) < 0)
			return CERTO_ENOMEM;
		if ((value = strdup(keyauth)) == NULL) {
			free(name);
			return CERTO_ENOMEM;
		}
	}
	if ((rc = add_record(x, t, ident, token, name, value, &rec)) != 0)
		return rc;
	name = rec->name;
	value = rec->value;
	if (x->o.manual) {
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "name", json_object_new_string(ident));
		json_object_object_add(f, "record", json_object_new_string(name));
		json_object_object_add(f, "value", json_object_new_string(value));
		if (t == CHALL_DNS01) {
			size_t same = 0;
			log_event("manual_publish", f, "dns-01: create this record "
			    "for %s:\n%s. 300 IN TXT \"%s\"", ident, name, value);
			pthread_mutex_lock(&x->lock);
			for (struct record *r = x->recs; r != NULL; r = r->next)
				if (r->type == CHALL_DNS01 && strcmp(r->name, name) == 0)
					same++;
			pthread_mutex_unlock(&x->lock);
			/* Apex and wildcard share a name: both values must stay. */
			if (same > 1)
				log_event("manual_note", NULL, "dns-01: %s now needs %zu TXT "
				    "values at once (apex and wildcard share the name): "
				    "add this one, do not replace the other", name, same);
		}
		else
			log_event("manual_publish", f, "http-01: serve this for %s:\n"
			    "  URL:     %s\n  content: %s", ident, name, value);
		return 0;
	}
	args[0] = "add";
	args[1] = challenge_type_name(t);
	args[2] = ident;
	args[3] = t == CHALL_DNS01 ? name : token;
	args[4] = value;
	args[5] = NULL;
	pthread_mutex_lock(&x->hook_lock);
	rc = hook_run(t == CHALL_DNS01 ? x->o.dns_hook : x->o.http_hook,
	    args, HOOK_TIMEOUT_MS, false);
	pthread_mutex_unlock(&x->hook_lock);
	return rc;
}

static void
on_progress(void *arg, const struct dns01_progress *p, size_t n,
    long ms_left)
{
	struct external *x = arg;
	struct certo_buf b;
	size_t ok = 0;

	buf_init(&b, 2048);
	for (size_t i = 0; i < n; i++)
		if (p[i].visible)
			ok++;
	buf_printf(&b, "dns-01: %zu/%zu checks see the records", ok, n);
	for (size_t i = 0; i < n && b.len < 1500; i++) {
		char a[64];
		log_sanitize(a, sizeof(a), p[i].server->name, (size_t)-1);
		if (!p[i].visible)
			buf_printf(&b, "; waiting for %s on %s%s%s", p[i].record, a,
			    p[i].error ? ": " : "", p[i].error ? p[i].error : "");
	}
	buf_printf(&b, " (%ld s left)", ms_left / 1000);
	/* One line per change, so logs stay readable. */
	if (b.data && strncmp(b.data, x->last_progress,
	    strcspn(b.data, "(")) != 0) {
		log_event("dns_progress", NULL, "%s", b.data);
		snprintf(x->last_progress, sizeof(x->last_progress), "%s", b.data);
	}
	buf_free(&b);
}

/* Wait until every published TXT value is on every server. */
static int
check_dns(struct external *x, const struct solver_item *items, size_t n)
{
	struct dns01_record *recs = NULL;
	const char **vals = NULL;
	size_t nrecs = 0, nv = 0;
	struct dns01_opts o = x->o.dns;
	int rc = 0;

	if ((recs = calloc(n, sizeof(*recs))) == NULL ||
	    (vals = calloc(n, sizeof(*vals))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	/* Group the values by record name; values of one name are kept
	 * next to each other in vals. */
	for (size_t i = 0; i < n; i++) {
		struct record *r;
		if (items[i].type != CHALL_DNS01 || (r = find_record(x,
		    CHALL_DNS01, items[i].ident, items[i].token)) == NULL)
			continue;
		size_t k;
		for (k = 0; k < nrecs; k++)
			if (strcmp(recs[k].name, r->name) == 0)
				break;
		if (k == nrecs) {
			recs[nrecs].name = r->name;
			nrecs++;
		}
	}
	for (size_t k = 0; k < nrecs; k++) {
		recs[k].values = (const char *const *)&vals[nv];
		for (size_t i = 0; i < n; i++) {
			struct record *r = items[i].type != CHALL_DNS01 ? NULL :
			    find_record(x, CHALL_DNS01, items[i].ident,
			    items[i].token);
			if (r != NULL && strcmp(r->name, recs[k].name) == 0)
				vals[nv++] = r->value;
		}
		recs[k].nvalues = (size_t)(&vals[nv] -
		    (const char **)(uintptr_t)recs[k].values);
	}
	if (nrecs == 0)
		goto out;
	if (x->o.manual)
		log_event("dns_waiting", NULL, "dns-01: waiting until every "
		    "authoritative server "
		    "answers with %s (up to %ld s)", nv == 1 ? "the value" :
		    "all values", o.timeout_ms / 1000);
	o.progress = on_progress;
	o.arg = x;
	rc = dns01_wait(recs, nrecs, &o);
	if (rc == 0)
		log_event("dns_visible", NULL, "dns-01: all records visible on "
		    "every server");
out:
	free(recs);
	free(vals);
	return rc;
}

/* GET the challenge URL from this host until it shows keyauth. */
static int
check_http(struct external *x, const struct solver_item *it)
{
	struct certo_http h;
	struct http_opts ho = { 0 };
	struct http_resp r;
	struct record *rec;
	time_t deadline = time(NULL) + x->o.http_timeout_ms / 1000;
	long wait = 250;
	char shown[128];
	int rc;

	if ((rec = find_record(x, CHALL_HTTP01, it->ident, it->token)) == NULL)
		return 0;
	ho.allow_http = true;
	ho.connect_timeout_ms = 3000;
	ho.total_timeout_ms = 5000;
	if ((rc = http_init(&h, &ho)) != 0)
		return rc;
	for (;;) {
		rc = http_request(&h, "GET", rec->name, NULL, NULL, 4096, &r);
		if (rc == 0 && r.status == 200 && r.body.len ==
		    strlen(it->keyauth) && memcmp(r.body.data, it->keyauth,
		    r.body.len) == 0) {
			http_resp_free(&r);
			break;
		}
		if (rc == 0)
			log_sanitize(shown, sizeof(shown), r.body.data ?
			    r.body.data : "", r.body.len);
		if (rc != 0 && !x->o.manual) {
			/* A hook publishes somewhere we may not reach from
			 * here (split DNS, NAT): say so and let the CA try. */
			log_warn("cannot check %s from this host (%s); asking the "
			    "CA anyway", rec->name, certo_errmsg());
			certo_errclear();
			http_resp_free(&r);
			rc = 0;
			break;
		}
		certo_errclear();
		if (time(NULL) >= deadline) {
			rc = certo_fail(CERTO_ESELFCHECK, "%s did not serve the key "
			    "authorization within %ld s%s%s%s; the CA was not asked",
			    rec->name, x->o.http_timeout_ms / 1000, rc == 0 ?
			    " (last answer: \"" : "", rc == 0 ? shown : "",
			    rc == 0 ? "\")" : "");
			http_resp_free(&r);
			break;
		}
		http_resp_free(&r);
		if ((rc = sig_sleep_ms(wait)) != 0)
			break;
		wait = wait < 2000 ? wait * 2 : 2000;
	}
	http_free(&h);
	if (rc == 0)
		log_event("http_visible", NULL, "http-01: %s serves the key "
		    "authorization", rec->name);
	return rc;
}

static int
selfcheck(void *ctx, const struct solver_item *items, size_t n)
{
	struct external *x = ctx;
	int rc;

	if ((rc = check_dns(x, items, n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (items[i].type == CHALL_HTTP01 &&
		    (rc = check_http(x, &items[i])) != 0)
			return rc;
	return 0;
}

static void
withdraw(void *ctx, enum chall_type t, const char *ident, const char *token)
{
	struct external *x = ctx;
	struct record *r = find_record(x, t, ident, token);
	const char *args[6];

	if (r == NULL || x->o.manual)
		return; /* manual: reminded once, in stop() */
	args[0] = "del";
	args[1] = challenge_type_name(t);
	args[2] = ident;
	args[3] = t == CHALL_DNS01 ? r->name : token;
	args[4] = r->value;
	args[5] = NULL;
	/*
	 * Always runs, Ctrl-C included; a failure is only a warning.  The
	 * error that brought us here (first error wins) must survive it.
	 */
	char saved[1024] = "";
	int saved_code = certo_errcode();
	if (certo_errmsg() != NULL)
		snprintf(saved, sizeof(saved), "%s", certo_errmsg());
	certo_errclear();
	pthread_mutex_lock(&x->hook_lock);
	if (hook_run(t == CHALL_DNS01 ? x->o.dns_hook : x->o.http_hook, args,
	    30000, true) != 0)
		log_warn("%s", certo_errmsg());
	pthread_mutex_unlock(&x->hook_lock);
	certo_errclear();
	if (saved_code != 0)
		certo_fail(saved_code, "%s", saved);
}

static void
stop(void *ctx)
{
	struct external *x = ctx;

	if (x == NULL)
		return;
	if (x->o.manual && x->nrecs > 0) {
		log_event("manual_cleanup", NULL, "You can now remove what certo "
		    "asked you to publish:");
		for (struct record *r = x->recs; r != NULL; r = r->next)
			if (r->type == CHALL_DNS01)
				log_event("manual_cleanup", NULL, "  %s. TXT \"%s\"",
				    r->name, r->value);
			else
				log_event("manual_cleanup", NULL, "  %s", r->name);
	}
	while (x->recs != NULL) {
		struct record *r = x->recs;
		x->recs = r->next;
		record_free(r);
	}
	pthread_mutex_destroy(&x->lock);
	pthread_mutex_destroy(&x->hook_lock);
	free(x);
}

static const struct solver_ops external_ops = {
	.name = "external",
	.publish = publish,
	.selfcheck = selfcheck,
	.withdraw = withdraw,
	.stop = stop,
};

int
solver_external_start(const struct solver_external_opts *o,
    struct solver *out)
{
	struct external *x;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < o->ntypes && i < 3; i++) {
		enum chall_type t = o->types[i];
		if (t == CHALL_TLSALPN01)
			return certo_fail(CERTO_EUSAGE, "tls-alpn-01 needs "
			    "--standalone or --responder");
		if (!o->manual && t == CHALL_DNS01 && o->dns_hook == NULL)
			return certo_fail(CERTO_EUSAGE, "dns-01 needs --manual or "
			    "--dns-hook PROGRAM");
		if (!o->manual && t == CHALL_HTTP01 && o->http_hook == NULL)
			return certo_fail(CERTO_EUSAGE, "http-01 needs --standalone, "
			    "--responder, --manual or --http-hook PROGRAM");
		out->types[out->ntypes++] = t;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return CERTO_ENOMEM;
	x->o = *o;
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_init(&x->hook_lock, NULL);
	out->ops = &external_ops;
	out->ctx = x;
	return 0;
}
