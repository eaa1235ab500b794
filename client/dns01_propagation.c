/*
 * DNS-01 propagation check: the wait (see dns01_propagation.h).
 *
 * Servers: with explicit resolvers (opts->resolvers) every record asks
 * each of them; else dns_discover.c finds, once per record name, the
 * authoritative servers of its zone through the recursive resolver
 * (opts->recursive or /etc/resolv.conf).
 *
 * Rounds: every (record, server) pair is asked TXT directly, all pairs
 * at once (one c-ares channel per server, one poll() loop in
 * dns_query.c), discovered servers without recursion; the interval
 * grows 250 ms, 500 ms, 1 s, then opts->interval_ms.
 *
 * The addresses of one NS host form a group: the group is satisfied
 * when one address shows every value and none answered without them.
 * An address that never answers (IPv6 on a v4-only host) does not
 * block; one that answers stale data does.  Each explicit resolver is
 * its own group, so every one must show the values.
 */
#include "dns01_propagation.h"

#include <ares.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "dns_discover.h"
#include "dns_query.h"
#include "dns_wire.h"
#include "domain.h"
#include "errors.h"
#include "log.h"
#include "sha256.h"
#include "sig.h"

#define DEFAULT_INTERVAL_MS 2000
#define MSG_MAX 1024            /* the timeout message */

static const char acme_prefix[] = "_acme-challenge.";

/* ------------------------------------------------------------ small API */

/* The record name of an identifier (see dns01_propagation.h). */
int
dns01_record_name(const char *ident, char **out)
{
	char shown[DNS_SHOWN_MAX];
	const char *p = ident;
	size_t n, plen = sizeof(acme_prefix) - 1;

	*out = NULL;
	if (ident == NULL)
		return certo_fail(CERTO_EIDENT, "dns-01: no identifier");
	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	n = strlen(p);
	if (n > 0 && p[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-' &&
		    p[i] != '.' && p[i] != '_')
			n = 0;
	if (n == 0 || n + plen > 253)
		return certo_fail(CERTO_EIDENT, "dns-01: bad identifier \"%s\"",
		    log_str(shown, sizeof(shown), ident));
	if ((*out = malloc(plen + n + 1)) == NULL)
		return CERTO_ENOMEM;
	memcpy(*out, acme_prefix, plen);
	for (size_t i = 0; i < n; i++)
		(*out)[plen + i] = p[i] >= 'A' && p[i] <= 'Z' ?
		    (char)(p[i] - 'A' + 'a') : p[i];
	(*out)[plen + n] = '\0';
	return 0;
}

/* The TXT value of a key authorization (see dns01_propagation.h). */
int
dns01_txt_value(const char *keyauth, char **out)
{
	unsigned char digest[SHA256_LEN];
	int rc;

	*out = NULL;
	if ((rc = sha256(keyauth, strlen(keyauth), digest)) != 0)
		return rc;
	if ((*out = b64url_encode(digest, sizeof(digest))) == NULL)
		return CERTO_ENOMEM;
	return 0;
}

/* A decimal port 1..65535, nothing else. */
static int
parse_port(const char *s, unsigned short *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (unsigned short)v;
	return 0;
}

/* Parse a DNS server spec (see dns01_propagation.h). */
int
dns01_server_parse(const char *spec, struct dns01_server *server)
{
	char buf[64], shown[DNS_SHOWN_MAX], *addr, *colon, *port = NULL;
	enum ident_kind want;

	memset(server, 0, sizeof(*server));
	server->port = 53;
	if (spec == NULL || strlen(spec) >= sizeof(buf))
		goto bad;
	strcpy(buf, spec);
	addr = buf;
	if (buf[0] == '[') {
		/* "[V6]" or "[V6]:PORT" */
		if ((colon = strchr(buf, ']')) == NULL)
			goto bad;
		*colon = '\0';
		addr = buf + 1;
		if (colon[1] == ':')
			port = colon + 2;
		else if (colon[1] != '\0')
			goto bad;
		want = IDENT_IPV6;
	} else if ((colon = strchr(buf, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		/* "V4:PORT" */
		*colon = '\0';
		port = colon + 1;
		want = IDENT_IPV4;
	} else
		want = colon != NULL ? IDENT_IPV6 : IDENT_IPV4;
	if (ident_classify(addr, false, NULL, NULL) != want)
		goto bad;
	if (port != NULL && parse_port(port, &server->port) != 0)
		goto bad;
	if ((server->addr = strdup(addr)) == NULL ||
	    (server->name = strdup(addr)) == NULL) {
		dns01_server_free(server);
		return CERTO_ENOMEM;
	}
	return 0;
bad:
	return certo_fail(CERTO_EUSAGE, "invalid DNS server \"%s\": expected "
	    "ADDR, ADDR:PORT or [IPV6]:PORT with a numeric address",
	    spec == NULL ? "" : log_str(shown, sizeof(shown), spec));
}

/* Free a server's members (see dns01_propagation.h). */
void
dns01_server_free(struct dns01_server *server)
{
	if (server == NULL)
		return;
	free(server->name);
	free(server->addr);
	memset(server, 0, sizeof(*server));
}

/* ------------------------------------------------------------ the wait */

/* A server asked TXT, with its channel. */
struct server_chan {
	struct dns01_server server;  /* owned */
	ares_channel chan;
};

/* One (record, server) pair and its verdict after the last round. */
struct target {
	size_t rec, srv, group;
	bool visible;
	bool answered;           /* the last query got an answer */
	bool failed;             /* errbuf says why it failed */
	char errbuf[DNS_ERR_MAX];
	size_t missing;          /* values not seen in the last answer */
};

/* Where one record stands. */
struct rec_state {
	char *final;             /* the name asked (after CNAMEs) */
	bool ready;              /* final and targets are set */
	char why[DNS_WHY_MAX];   /* the last discovery failure */
};

/* Everything one dns01_wait() holds. */
struct wait_state {
	const struct dns01_record *recs;
	size_t nrecs;
	const struct dns01_opts *opts;
	struct rec_state *rstates;
	struct server_chan *srvs;
	size_t nsrv;
	struct target *targets;
	size_t ntg;
	size_t ngroups;
	struct dns_discover disc;
	unsigned short nsport;   /* port of discovered servers */
	long long deadline;
	struct dns01_progress *prog;
};

static char disc_name[] = "(name servers)";
static char disc_addr[] = "";
static const struct dns01_server disc_placeholder = {
	disc_name, disc_addr, 0
};

static void
state_free(struct wait_state *state)
{
	if (state->rstates != NULL)
		for (size_t i = 0; i < state->nrecs; i++)
			free(state->rstates[i].final);
	free(state->rstates);
	for (size_t i = 0; i < state->nsrv; i++) {
		if (state->srvs[i].chan != NULL)
			ares_destroy(state->srvs[i].chan);
		dns01_server_free(&state->srvs[i].server);
	}
	free(state->srvs);
	free(state->targets);
	free(state->prog);
	dns_discover_close(&state->disc);
	memset(state, 0, sizeof(*state));
}

/* "name (addr:port)" or "addr:port", sanitised. */
static const char *
server_label(const struct dns01_server *server, char *buf, size_t n)
{
	char name[DNS_SHOWN_MAX], ap[80];

	if (server == &disc_placeholder) {
		snprintf(buf, n, "%s", server->name);
		return buf;
	}
	if (ident_classify(server->addr, false, NULL, NULL) == IDENT_IPV6)
		snprintf(ap, sizeof(ap), "[%s]:%u", server->addr,
		    (unsigned)server->port);
	else
		snprintf(ap, sizeof(ap), "%s:%u", server->addr,
		    (unsigned)server->port);
	if (strcmp(server->name, server->addr) == 0)
		snprintf(buf, n, "%s", ap);
	else
		snprintf(buf, n, "%s (%s)", log_str(name, sizeof(name),
		    server->name), ap);
	return buf;
}

/* The index of the server addr:port, added (with its channel) if new. */
static int
srv_add(struct wait_state *state, const char *name, const char *addr,
    unsigned short port, bool direct, size_t *idx)
{
	struct server_chan *v, *entry;
	int rc;

	for (size_t i = 0; i < state->nsrv; i++)
		if (state->srvs[i].server.port == port &&
		    strcmp(state->srvs[i].server.addr, addr) == 0) {
			*idx = i;
			return 0;
		}
	if ((v = realloc(state->srvs, (state->nsrv + 1) * sizeof(*v))) == NULL)
		return CERTO_ENOMEM;
	state->srvs = v;
	entry = &state->srvs[state->nsrv];
	memset(entry, 0, sizeof(*entry));
	if ((entry->server.name = strdup(name)) == NULL ||
	    (entry->server.addr = strdup(addr)) == NULL) {
		dns01_server_free(&entry->server);
		return CERTO_ENOMEM;
	}
	entry->server.port = port;
	if ((rc = dns_channel_open(&entry->server, direct,
	    &entry->chan)) != 0) {
		dns01_server_free(&entry->server);
		return rc;
	}
	*idx = state->nsrv++;
	return 0;
}

/* Pair record rec with server srv (in its group) unless paired. */
static int
target_add(struct wait_state *state, size_t rec, size_t srv, size_t group)
{
	struct target *v;

	for (size_t i = 0; i < state->ntg; i++)
		if (state->targets[i].rec == rec &&
		    state->targets[i].srv == srv)
			return 0;
	if ((v = realloc(state->targets, (state->ntg + 1) *
	    sizeof(*v))) == NULL)
		return CERTO_ENOMEM;
	state->targets = v;
	memset(&state->targets[state->ntg], 0, sizeof(*v));
	state->targets[state->ntg].rec = rec;
	state->targets[state->ntg].srv = srv;
	state->targets[state->ntg].group = group;
	state->ntg++;
	return 0;
}

/* Append to a bounded message; "..." once it is full. */
static void
msg_add(char *buf, size_t n, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
msg_add(char *buf, size_t n, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*off >= n - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *off, n - *off, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	if ((size_t)w >= n - *off) {
		*off = n - 1;
		if (n > 4)
			memcpy(buf + n - 4, "...", 4);
		return;
	}
	*off += (size_t)w;
}

/* Give record ri the servers of an earlier record with the same name. */
static int
share_servers(struct wait_state *state, size_t ri)
{
	struct rec_state *rstate = &state->rstates[ri];
	size_t j, n;
	int rc;

	for (j = 0; j < ri; j++)
		if (state->rstates[j].ready && dns_name_eq(state->recs[j].name,
		    state->recs[ri].name))
			break;
	if (j == ri)
		return 0;
	if ((rstate->final = strdup(state->rstates[j].final)) == NULL)
		return CERTO_ENOMEM;
	for (n = state->ntg, rc = 0; rc == 0 && n-- > 0;)
		if (state->targets[n].rec == j)
			rc = target_add(state, ri, state->targets[n].srv,
			    state->targets[n].group);
	if (rc == 0)
		rstate->ready = true;
	return rc;
}

/* Each NS host found is a group of servers (one per address). */
static int
add_zone_servers(struct wait_state *state, size_t ri,
    const struct dns_zone_servers *found)
{
	size_t idx;
	int rc;

	for (size_t h = 0; h < found->hosts.n; h++) {
		size_t group = state->ngroups++;
		for (size_t k = 0; k < found->addrs[h].n; k++)
			if ((rc = srv_add(state, found->hosts.v[h],
			    found->addrs[h].v[k], state->nsport, true,
			    &idx)) != 0 ||
			    (rc = target_add(state, ri, idx, group)) != 0)
				return rc;
	}
	return 0;
}

/*
 * Find the authoritative servers of record ri (or share those of an
 * earlier record of the same name).  Returns 0 (targets added, or
 * discovery to be tried again next round: rstate->why says why),
 * CERTO_EDNSWAIT when the answers show no usable servers, CERTO_EINTR,
 * CERTO_ENOMEM.
 */
static int
discover_record(struct wait_state *state, size_t ri)
{
	struct rec_state *rstate = &state->rstates[ri];
	struct dns_zone_servers found;
	int rc;

	if ((rc = share_servers(state, ri)) != 0 || rstate->ready)
		return rc;
	rc = dns_discover_servers(&state->disc, state->recs[ri].name, &found,
	    rstate->why, sizeof(rstate->why));
	if (rc == 0 && (rc = add_zone_servers(state, ri, &found)) == 0) {
		/* Ownership of the final name moves to the record. */
		rstate->final = found.final;
		found.final = NULL;
		rstate->ready = true;
	}
	dns_zone_servers_free(&found);
	return rc < 0 ? rc : 0;
}

/* Explicit resolvers: every record asks every one of them. */
static int
setup_resolvers(struct wait_state *state)
{
	size_t idx;
	int rc;

	for (size_t i = 0; i < state->opts->nresolvers; i++) {
		const struct dns01_server *res = &state->opts->resolvers[i];
		if ((rc = srv_add(state, res->name != NULL ? res->name :
		    res->addr, res->addr, res->port != 0 ? res->port : 53,
		    false, &idx)) != 0)
			return rc;
		for (size_t r = 0; r < state->nrecs; r++)
			if ((rc = target_add(state, r, idx, idx)) != 0)
				return rc;
	}
	for (size_t r = 0; r < state->nrecs; r++) {
		state->rstates[r].final = dns_name_dup(state->recs[r].name);
		if (state->rstates[r].final == NULL)
			return CERTO_ENOMEM;
		state->rstates[r].ready = true;
	}
	state->ngroups = state->nsrv;
	return 0;
}

/* Judge one pair from its TXT query; CERTO_ENOMEM or 0. */
static int
judge_target(struct target *target, const struct dns01_record *rec,
    const struct dns_query *q)
{
	struct dns_strs txt = { 0 };
	int rc;

	target->visible = false;
	target->failed = false;
	target->missing = rec->nvalues;
	target->answered = q->state != DNS_Q_NET;
	if (q->state != DNS_Q_ANSWER) {
		dns_query_error(q, target->errbuf, sizeof(target->errbuf));
		target->failed = true;
		return 0;
	}
	if ((rc = dns_txt_parse(q->pkt, q->len, q->name, &txt)) != 0) {
		dns_strs_free(&txt);
		if (rc == CERTO_ENOMEM)
			return rc;
		snprintf(target->errbuf, sizeof(target->errbuf),
		    "malformed answer");
		target->failed = true;
		return 0;
	}
	target->missing = dns_txt_missing(&txt, rec->values, rec->nvalues);
	target->visible = target->missing == 0;
	dns_strs_free(&txt);
	return 0;
}

/* One round: TXT from every pair at once, then judge each pair. */
static int
query_txt_round(struct wait_state *state)
{
	struct dns_query *qs = NULL;
	ares_channel *chans = NULL;
	int rc = 0;

	if (state->ntg == 0)
		return 0;
	if ((qs = calloc(state->ntg, sizeof(*qs))) == NULL ||
	    (chans = calloc(state->nsrv, sizeof(*chans))) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < state->nsrv; i++)
		chans[i] = state->srvs[i].chan;
	for (size_t i = 0; i < state->ntg; i++) {
		qs[i].chan = state->srvs[state->targets[i].srv].chan;
		qs[i].name = state->rstates[state->targets[i].rec].final;
		qs[i].type = DNS_T_TXT;
	}
	if ((rc = dns_query_run(qs, state->ntg, chans, state->nsrv,
	    dns_query_deadline(state->deadline))) != 0)
		goto out;
	for (size_t i = 0; i < state->ntg && rc == 0; i++)
		rc = judge_target(&state->targets[i],
		    &state->recs[state->targets[i].rec], &qs[i]);
out:
	for (size_t i = 0; qs != NULL && i < state->ntg; i++)
		free(qs[i].pkt);
	free(qs);
	free(chans);
	return rc;
}

/* The group of target is done: one address shows the values, none
 * lacks them. */
static bool
group_ok(const struct wait_state *state, const struct target *target)
{
	bool seen = false;

	for (size_t i = 0; i < state->ntg; i++) {
		const struct target *other = &state->targets[i];
		if (other->rec != target->rec || other->group != target->group)
			continue;
		if (other->visible)
			seen = true;
		else if (other->answered)
			return false;
	}
	return seen;
}

static bool
all_visible(const struct wait_state *state)
{
	for (size_t r = 0; r < state->nrecs; r++)
		if (!state->rstates[r].ready)
			return false;
	for (size_t i = 0; i < state->ntg; i++)
		if (!group_ok(state, &state->targets[i]))
			return false;
	return true;
}

/* Hand the caller's progress callback every record and pair. */
static int
report(struct wait_state *state)
{
	long long left = state->deadline - sig_now_ms();
	size_t n = 0;

	free(state->prog);
	if ((state->prog = calloc(state->ntg + state->nrecs,
	    sizeof(*state->prog))) == NULL)
		return CERTO_ENOMEM;
	if (state->opts->progress == NULL)
		return 0;
	for (size_t r = 0; r < state->nrecs; r++) {
		if (state->rstates[r].ready)
			continue;
		state->prog[n].record = state->recs[r].name;
		state->prog[n].server = &disc_placeholder;
		state->prog[n].visible = false;
		state->prog[n].error = state->rstates[r].why[0] != '\0' ?
		    state->rstates[r].why : "not found yet";
		n++;
	}
	for (size_t i = 0; i < state->ntg; i++) {
		const struct target *target = &state->targets[i];
		state->prog[n].record = state->recs[target->rec].name;
		state->prog[n].server = &state->srvs[target->srv].server;
		state->prog[n].visible = target->visible;
		state->prog[n].error = target->failed ? target->errbuf : NULL;
		n++;
	}
	state->opts->progress(state->opts->arg, state->prog, n,
	    left > 0 ? (long)left : 0);
	return 0;
}

/* The servers of record r that do not show its values, into msg. */
static void
describe_missing(const struct wait_state *state, size_t r, char *msg,
    size_t len, size_t *off)
{
	const struct dns01_record *rec = &state->recs[r];
	char label[DNS_SHOWN_MAX + 80];
	bool first = true;

	for (size_t i = 0; i < state->ntg; i++) {
		const struct target *target = &state->targets[i];
		if (target->rec != r || target->visible ||
		    group_ok(state, target))
			continue;
		server_label(&state->srvs[target->srv].server, label,
		    sizeof(label));
		if (first)
			msg_add(msg, len, off, " %s not on %s (", rec->name,
			    label);
		else
			msg_add(msg, len, off, ", %s (", label);
		if (target->failed)
			msg_add(msg, len, off, "%s)", target->errbuf);
		else if (rec->nvalues == 1)
			msg_add(msg, len, off, "value missing)");
		else
			msg_add(msg, len, off, "%zu of %zu values missing)",
			    target->missing, rec->nvalues);
		first = false;
	}
	if (!first)
		msg_add(msg, len, off, ";");
}

/* CERTO_EDNSWAIT naming every record and server that is not done. */
static int
fail_timeout(const struct wait_state *state)
{
	char msg[MSG_MAX];
	size_t off = 0;
	long timeout_ms = state->opts->timeout_ms;

	if (timeout_ms % 1000 == 0)
		msg_add(msg, sizeof(msg), &off, "dns-01: TXT not visible after "
		    "%ld s:", timeout_ms / 1000);
	else
		msg_add(msg, sizeof(msg), &off, "dns-01: TXT not visible after "
		    "%.1f s:", (double)timeout_ms / 1000.0);
	for (size_t r = 0; r < state->nrecs; r++) {
		if (state->rstates[r].ready)
			describe_missing(state, r, msg, sizeof(msg), &off);
		else
			msg_add(msg, sizeof(msg), &off, " %s: name servers not "
			    "found (%s);", state->recs[r].name,
			    state->rstates[r].why[0] != '\0' ?
			    state->rstates[r].why : "no answer");
	}
	if (off > 0 && msg[off - 1] == ';')
		msg[off - 1] = '\0';
	return certo_fail(CERTO_EDNSWAIT, "%s", msg);
}

/* The pause before round `round` (0-based, after the first). */
static long
round_interval(unsigned round, long interval_ms)
{
	static const long ramp[] = { 250, 500, 1000 };
	long iv = interval_ms > 0 ? interval_ms : DEFAULT_INTERVAL_MS;

	if (round < sizeof(ramp) / sizeof(ramp[0]) && ramp[round] < iv)
		return ramp[round];
	return iv;
}

/* Set up the state of one wait; the servers of explicit resolvers. */
static int
state_init(struct wait_state *state, const struct dns01_record *recs,
    size_t nrecs, const struct dns01_opts *opts)
{
	memset(state, 0, sizeof(*state));
	state->recs = recs;
	state->nrecs = nrecs;
	state->opts = opts;
	state->deadline = sig_now_ms() + (opts->timeout_ms > 0 ?
	    opts->timeout_ms : 0);
	state->disc.recursive = opts->recursive;
	state->disc.deadline = state->deadline;
	state->nsport = opts->recursive != NULL && opts->recursive->port != 0 ?
	    opts->recursive->port : 53;
	if ((state->rstates = calloc(nrecs, sizeof(*state->rstates))) == NULL)
		return CERTO_ENOMEM;
	if (opts->resolvers != NULL && opts->nresolvers > 0)
		return setup_resolvers(state);
	return 0;
}

/* Wait until every record is visible on every server (see
 * dns01_propagation.h). */
int
dns01_wait(const struct dns01_record *recs, size_t nrecs,
    const struct dns01_opts *opts)
{
	struct wait_state state;
	long long left;
	long iv;
	unsigned round = 0;
	int rc, st;

	if (nrecs == 0)
		return 0;
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].name == NULL || recs[i].name[0] == '\0' ||
		    (recs[i].nvalues > 0 && recs[i].values == NULL))
			return certo_fail(CERTO_EUSAGE, "dns-01: bad record");
	if ((st = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
		return certo_fail(CERTO_ENET, "dns-01: c-ares: %s",
		    ares_strerror(st));
	if ((rc = state_init(&state, recs, nrecs, opts)) != 0)
		goto out;
	for (;;) {
		if (sig_pending()) {
			rc = certo_fail(CERTO_EINTR, "interrupted by signal %d",
			    sig_pending());
			goto out;
		}
		for (size_t r = 0; r < nrecs; r++)
			if (!state.rstates[r].ready &&
			    (rc = discover_record(&state, r)) != 0)
				goto out;
		if ((rc = query_txt_round(&state)) != 0 ||
		    (rc = report(&state)) != 0)
			goto out;
		if (all_visible(&state))
			break;
		left = state.deadline - sig_now_ms();
		if (left <= 0) {
			rc = fail_timeout(&state);
			goto out;
		}
		iv = round_interval(round++, opts->interval_ms);
		if ((rc = sig_sleep_ms(iv < left ? iv : (long)left)) != 0)
			goto out;
	}
	log_debug("dns-01: visible on every server after %u round(s)",
	    round + 1);
	rc = 0;
	if (opts->wait_extra_ms > 0)
		rc = sig_sleep_ms(opts->wait_extra_ms);
out:
	state_free(&state);
	ares_library_cleanup();
	return rc;
}
