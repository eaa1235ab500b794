/* The external solver: manual mode and hook programs. */
#include "solver.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
	char last_progress[1024];
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
	    args, x->o.hook_timeout_ms, false);
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

/*
 * Does body show keyauth as the CA sees it?  RFC 8555 section 8.3: the
 * server compares the body with trailing whitespace removed (Boulder and
 * Pebble do), so a file written with echo is fine.
 */
static bool
keyauth_matches(const char *body, size_t len, const char *keyauth)
{
	while (len > 0 && (body[len - 1] == ' ' || body[len - 1] == '\t' ||
	    body[len - 1] == '\r' || body[len - 1] == '\n' ||
	    body[len - 1] == '\v' || body[len - 1] == '\f'))
		len--;
	return len == strlen(keyauth) && memcmp(body, keyauth, len) == 0;
}

/*
 * Why a TCP connection to host:port fails, in the system's words
 * ("Connection refused", "No route to host"), into out; "" when it
 * connects.  libcurl only says "Couldn't connect to server".
 */
static void
tcp_probe(const char *host, unsigned short port, char *out, size_t len)
{
	struct addrinfo hints, *res = NULL;
	char ps[8];
	int err = 0, g;

	out[0] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%u", port != 0 ? port : 80);
	if ((g = getaddrinfo(host, ps, &hints, &res)) != 0) {
		snprintf(out, len, "%s does not resolve here (%s)", host,
		    gai_strerror(g));
		return;
	}
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t sl = sizeof(err);
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);

		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			err = 0;
		else if (errno != EINPROGRESS)
			err = errno;
		else {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			pfd.revents = 0;
			if (poll(&pfd, 1, 3000) != 1)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
				err = errno;
		}
		close(fd);
		if (err == 0)
			break;
	}
	freeaddrinfo(res);
	if (err != 0)
		snprintf(out, len, "cannot connect to %s port %s: %s", host, ps,
		    strerror(err));
}

/*
 * Why a fetch did not show the key authorization, in a few words:
 * the network error (without the URL, which the caller names), the HTTP
 * status, or the start of the wrong body.
 */
static void
fetch_failure(struct external *x, const struct record *rec, int rc,
    const struct http_resp *r, char *out, size_t len)
{
	char shown[160], why[200];
	const char *m = certo_errmsg();
	size_t ul = strlen(rec->name);

	if (rc != 0) {
		if (m == NULL)
			m = certo_strerror(rc);
		/* http.c starts with the URL: "URL: Failed to connect..." */
		if (strncmp(m, rec->name, ul) == 0 && m[ul] == ':' &&
		    m[ul + 1] == ' ')
			m += ul + 2;
		log_sanitize(shown, sizeof(shown), m, (size_t)-1);
		if (rc == CERTO_ENET)
			tcp_probe(rec->ident, x->o.http_port, why, sizeof(why));
		else
			why[0] = '\0';
		snprintf(out, len, "cannot fetch it: %s", why[0] ? why : shown);
	} else if (r->status != 200) {
		snprintf(out, len, "the server answers HTTP %ld, not 200 with the "
		    "key authorization", r->status);
	} else {
		log_sanitize(shown, sizeof(shown), r->body.data ? r->body.data :
		    "", r->body.len > 64 ? 64 : r->body.len);
		snprintf(out, len, "wrong content (%zu bytes): \"%s%s\"",
		    r->body.len, shown, r->body.len > 64 ? "..." : "");
	}
}

/* One progress line when the reason for waiting changes. */
static void
http_progress(struct external *x, const char *url, const char *why,
    long secs_left)
{
	struct json_object *f;
	char line[700];

	snprintf(line, sizeof(line), "http-01: waiting for %s: %s", url, why);
	pthread_mutex_lock(&x->lock);
	if (strcmp(line, x->last_progress) == 0) {
		pthread_mutex_unlock(&x->lock);
		return;
	}
	snprintf(x->last_progress, sizeof(x->last_progress), "%s", line);
	pthread_mutex_unlock(&x->lock);
	f = json_object_new_object();
	json_object_object_add(f, "url", json_object_new_string(url));
	json_object_object_add(f, "reason", json_object_new_string(why));
	json_object_object_add(f, "seconds_left",
	    json_object_new_int64(secs_left));
	log_event("http_progress", f, "%s (%ld s left)", line, secs_left);
}

/*
 * GET the challenge URL from this host, as the CA will, until it shows
 * keyauth: with progress lines saying why not yet, up to
 * --http-timeout.  With a hook, a URL that cannot be reached from here
 * at all (split DNS, NAT) is left to the CA, and said so.
 */
static int
check_http(struct external *x, const struct solver_item *it)
{
	struct certo_http h;
	struct http_opts ho = { 0 };
	struct http_resp r;
	struct record *rec;
	time_t deadline = time(NULL) + x->o.http_timeout_ms / 1000;
	long wait = 250;
	char why[400] = "", shown[300];
	bool unchecked = false;
	int rc;

	if ((rec = find_record(x, CHALL_HTTP01, it->ident, it->token)) == NULL)
		return 0;
	log_sanitize(shown, sizeof(shown), rec->name, (size_t)-1);
	ho.allow_http = true;
	ho.connect_timeout_ms = 3000;
	ho.total_timeout_ms = 5000;
	if ((rc = http_init(&h, &ho)) != 0)
		return rc;
	if (x->o.manual)
		log_event("http_waiting", NULL, "http-01: waiting until %s serves "
		    "the content (up to %ld s)", shown, x->o.http_timeout_ms / 1000);
	for (;;) {
		rc = http_request(&h, "GET", rec->name, NULL, NULL, 4096, &r);
		if (rc == 0 && r.status == 200 && keyauth_matches(r.body.data ?
		    r.body.data : "", r.body.len, it->keyauth)) {
			http_resp_free(&r);
			break;
		}
		if (rc == CERTO_EINTR) {
			http_resp_free(&r);
			break;
		}
		fetch_failure(x, rec, rc, &r, why, sizeof(why));
		certo_errclear();
		http_resp_free(&r);
		if (rc != 0 && !x->o.manual) {
			/* A hook publishes somewhere we may not reach from
			 * here: say so and let the CA try. */
			log_warn("cannot check http-01 for %s from this host (%s); "
			    "asking the CA anyway", shown, why);
			unchecked = true;
			rc = 0;
			break;
		}
		if (time(NULL) >= deadline) {
			rc = certo_fail(CERTO_ESELFCHECK, "%s did not serve the key "
			    "authorization within %ld s (%s); the CA was not asked",
			    shown, x->o.http_timeout_ms / 1000, why);
			break;
		}
		http_progress(x, shown, why, (long)(deadline - time(NULL)));
		if ((rc = sig_sleep_ms(wait)) != 0)
			break;
		wait = wait < 2000 ? wait * 2 : 2000;
	}
	http_free(&h);
	if (rc == 0 && !unchecked)
		log_event("http_visible", NULL, "http-01: %s serves the key "
		    "authorization", shown);
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
	    x->o.hook_del_timeout_ms, true) != 0)
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
	if (x->o.hook_timeout_ms <= 0)
		x->o.hook_timeout_ms = HOOK_TIMEOUT_MS;
	if (x->o.hook_del_timeout_ms <= 0)
		x->o.hook_del_timeout_ms = HOOK_DEL_TIMEOUT_MS;
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_init(&x->hook_lock, NULL);
	out->ops = &external_ops;
	out->ctx = x;
	return 0;
}
