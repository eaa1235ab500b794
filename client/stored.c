/* A stored certificate: its configuration, its chain, when it is due. */
#include "stored.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cli.h"
#include "errors.h"
#include "file.h"
#include "key.h"
#include "log.h"
#include "request.h"
#include "sha256.h"
#include "store.h"
#include "store_index.h"

void
stored_free(struct stored *cert)
{
	if (cert == NULL)
		return;
	free(cert->name);
	config_free(&cert->cfg);
	certificate_free(&cert->chain);
	free(cert->ari_id);
	renewalinfo_free(&cert->ari);
	memset(cert, 0, sizeof(*cert));
}

int
stored_load(const char *state, struct stored *cert)
{
	char *dir = NULL, *cfg = NULL, *crt = NULL, *pem = NULL;
	size_t len;
	int rc;

	if (asprintf(&dir, "%s/live/%s", state, cert->name) < 0)
		return CERTO_ENOMEM;
	if ((cfg = file_join(dir, CONFIG_FILE)) == NULL ||
	    (crt = file_join(dir, "cert.pem")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = config_load(cfg, &cert->cfg)) != 0 ||
	    (rc = file_read(crt, 64 * 1024, false, &pem, &len, NULL)) != 0 ||
	    (rc = certificate_parse(pem, len, &cert->chain)) != 0)
		goto out;
	cert->loaded = true;
out:
	free(dir);
	free(cfg);
	free(crt);
	free(pem);
	return rc;
}

/* Copy n strings of v into *out (malloc'd array). */
static int
copy_list(char *const *v, size_t n, char ***out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof(char *))) == NULL)
		return CERTO_ENOMEM;
	for (; *nout < n; (*nout)++)
		if (((*out)[*nout] = strdup(v[*nout])) == NULL)
			return CERTO_ENOMEM;
	return 0;
}

/* cert (its name set) from an index record. */
static int
from_entry(struct stored *cert, const struct store_index_entry *e)
{
	struct issue_params *p = &cert->cfg.params;
	int rc;

	cert->indexed = true;
	cert->chain.not_before = e->not_before;
	cert->chain.not_after = e->not_after;
	snprintf(cert->chain.key_desc, sizeof(cert->chain.key_desc), "%s",
	    e->key_desc);
	p->allow_http = e->allow_http;
	if ((rc = copy_list(e->sans, e->nsans, &cert->chain.sans,
	    &cert->chain.nsans)) != 0 || (rc = copy_list(e->names, e->nnames,
	    &p->names, &p->nnames)) != 0 ||
	    (rc = params_set_str(&p->server, e->server)) != 0 ||
	    (rc = params_set_str(&p->ca_bundle, *e->ca_bundle ? e->ca_bundle :
	    NULL)) != 0)
		return rc;
	if (*e->ari_id != '\0' && (cert->ari_id = strdup(e->ari_id)) == NULL)
		return CERTO_ENOMEM;
	return 0;
}

/* The index record of a loaded cert, with the stamps read before. */
static void
to_entry(const struct stored *cert,
    const struct store_index_stamp stamp[STORE_INDEX_NFILES],
    const char *ari_id, struct store_index_entry *e)
{
	const struct issue_params *p = &cert->cfg.params;

	memset(e, 0, sizeof(*e));
	e->name = cert->name;
	memcpy(e->stamp, stamp, sizeof(e->stamp));
	e->not_before = cert->chain.not_before;
	e->not_after = cert->chain.not_after;
	e->key_desc = cert->chain.key_desc;
	e->server = p->server ? p->server : "";
	e->ca_bundle = p->ca_bundle ? p->ca_bundle : "";
	e->allow_http = p->allow_http;
	e->ari_id = ari_id ? ari_id : "";
	e->sans = cert->chain.sans;
	e->nsans = cert->chain.nsans;
	e->names = p->names;
	e->nnames = p->nnames;
}

/* Is the deploy hook of cert's set pending (stored.h)? */
bool
stored_deploy_pending(const char *state, const struct stored *cert)
{
	char *live = NULL;
	bool yes;

	if (asprintf(&live, "%s/live/%s", state, cert->name) < 0)
		return true; /* out of memory: reading it fully will say so */
	yes = store_deploy_pending(live) != 0;
	free(live);
	return yes;
}

/* A set through the index, else from its files (stored.h). */
int
stored_load_indexed(const char *state, struct store_index *idx,
    struct stored *cert)
{
	struct store_index_stamp stamp[STORE_INDEX_NFILES];
	struct store_index_entry entry;
	char *ari_id = NULL;
	int rc;

	/* The stamps first: a change while reading makes the record stale. */
	if (idx == NULL || store_index_stamp(idx, cert->name, stamp) != 0)
		return stored_load(state, cert); /* it says what is missing */
	if (store_index_find(idx, cert->name, stamp, &entry))
		return from_entry(cert, &entry);
	if ((rc = stored_load(state, cert)) != 0)
		return rc;
	if (certificate_ari_id(&cert->chain, &ari_id) != 0)
		certo_errclear(); /* no authorityKeyIdentifier: no ARI */
	to_entry(cert, stamp, ari_id, &entry);
	store_index_put(idx, &entry);
	free(ari_id);
	return 0;
}

/* An indexed set read fully, its decision kept (stored.h). */
int
stored_load_full(const char *state, struct stored *cert)
{
	if (cert->loaded)
		return 0;
	/* The decision (due, ARI window and ID) stays; the rest is read. */
	config_free(&cert->cfg);
	certificate_free(&cert->chain);
	memset(&cert->cfg, 0, sizeof(cert->cfg));
	memset(&cert->chain, 0, sizeof(cert->chain));
	cert->indexed = false;
	return stored_load(state, cert);
}

int
stored_session(struct session_set *set, const struct certo_cli *cli,
    const struct stored *cert, struct session **out)
{
	struct session_opts opts;

	params_session_opts(&cert->cfg.params, &opts);
	/* This run's settings, not the stored ones. */
	opts.state_dir = cli->state_dir;
	opts.force = cli->force;
	opts.ca_timeout_s = cli->ca_timeout_s;
	return session_set_get(set, &opts, out);
}

/*
 * Where the last renewalInfo answer for cert is kept for certo list:
 * ari/<sha256 of its certificate ID>.json (malloc'd), or NULL.
 */
static char *
ari_entry(const char *state, const char *ari_id)
{
	char hex[SHA256_HEX_LEN + 1], name[SHA256_HEX_LEN + 8];

	if (sha256_hex(ari_id, strlen(ari_id), hex) != 0) {
		certo_errclear();
		return NULL;
	}
	snprintf(name, sizeof(name), "%s.json", hex);
	return cache_path(state, "ari", name);
}

/* Keep the window the CA suggested (a renewalInfo document). */
static void
keep_ari(const char *state, const struct stored *cert)
{
	struct json_object *doc, *window;
	char *path, start[32], end[32];
	const char *text;

	if ((path = ari_entry(state, cert->ari_id)) == NULL)
		return;
	stored_time(cert->ari.start, start, sizeof(start));
	stored_time(cert->ari.end, end, sizeof(end));
	doc = json_object_new_object();
	window = json_object_new_object();
	json_object_object_add(window, "start", json_object_new_string(start));
	json_object_object_add(window, "end", json_object_new_string(end));
	json_object_object_add(doc, "suggestedWindow", window);
	if (cert->ari.explanation != NULL)
		json_object_object_add(doc, "explanationURL",
		    json_object_new_string(cert->ari.explanation));
	if ((text = json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) != NULL)
		cache_write(path, text, strlen(text));
	json_object_put(doc);
	free(path);
}

/*
 * Could the CA's renewalInfo change when cert is due?  Not when it is
 * renewed now whatever the window says (--force, --dry-run), nor once
 * it has expired: ARI windows lie inside a certificate's lifetime.
 */
static bool
ari_could_move(const struct stored *cert, bool force)
{
	return !force && time(NULL) < cert->chain.not_after;
}

void
stored_fetch_due(struct stored *cert, struct session *sess,
    struct certo_req *req, bool force)
{
	const struct certo_directory *dir = NULL;
	time_t life = cert->chain.not_after - cert->chain.not_before;

	cert->due = cert->chain.not_after - life / 3;
	/* The directory: a copy younger than a day asks nothing (cache.h). */
	if (sess != NULL && session_fetch_directory(sess, &dir) != 0)
		dir = NULL; /* falls back to the lifetime rule */
	certo_errclear();
	if (dir != NULL && dir->renewal_info != NULL &&
	    (cert->ari_id != NULL || (!cert->indexed &&
	    certificate_ari_id(&cert->chain, &cert->ari_id) == 0))) {
		cert->ari_offered = true;
		if (!ari_could_move(cert, force)) {
			/* Not asked: the answer would change nothing. */
		} else if (renewalinfo_fetch(req ? req : &sess->req,
		    dir->renewal_info, cert->ari_id, &cert->ari) == 0) {
			cert->has_ari = true;
			cert->due = renewalinfo_pick(&cert->ari, cert->ari_id);
			if (cert->ari.retry_after > 0)
				cert->check_again = time(NULL) +
				    cert->ari.retry_after;
			keep_ari(sess->state, cert);
		} else {
			log_warn("%s: renewalInfo unavailable (%s); using the "
			    "lifetime rule", cert->name, certo_errmsg() ?
			    certo_errmsg() : "error");
		}
	}
	certo_errclear();
	cert->is_due = force || time(NULL) >= cert->due;
}

void
stored_kept_due(struct stored *cert, const char *state)
{
	time_t life = cert->chain.not_after - cert->chain.not_before;
	char *path = NULL, *text = NULL;
	size_t len;

	cert->due = cert->chain.not_after - life / 3;
	if ((cert->ari_id != NULL || (!cert->indexed &&
	    certificate_ari_id(&cert->chain, &cert->ari_id) == 0)) &&
	    (path = ari_entry(state, cert->ari_id)) != NULL &&
	    cache_read(path, STORED_ARI_KEPT_S, &text, &len, NULL) == 0 &&
	    renewalinfo_parse(text, len, &cert->ari) == 0) {
		cert->has_ari = true;
		cert->due = renewalinfo_pick(&cert->ari, cert->ari_id);
	}
	certo_errclear();
	cert->is_due = time(NULL) >= cert->due;
	free(path);
	free(text);
}

void
stored_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The "issue_skipped" event: what is stored, and until when. */
static void
report_fresh(const char *state, const struct stored *cert)
{
	struct json_object *fields = json_object_new_object();
	char until[32], after[32];

	stored_time(cert->chain.not_after, until, sizeof(until));
	stored_time(cert->due, after, sizeof(after));
	json_object_object_add(fields, "name", json_object_new_string(
	    cert->name));
	json_object_object_add(fields, "not_after",
	    json_object_new_string(until));
	json_object_object_add(fields, "renew_after",
	    json_object_new_string(after));
	log_event("issue_skipped", fields, "issue: %s/live/%s already holds a "
	    "certificate for these names and options, valid until %s and not "
	    "due for renewal before %s%s; nothing to do (--force issues anyway)",
	    state, cert->name, until, after, cert->has_ari ?
	    " (the CA's ARI window)" : "");
}

int
stored_fetch_fresh(struct session *sess, struct certo_req *req,
    const struct issue_params *params, bool *fresh)
{
	const char *state = sess->state;
	struct stored cert;
	struct certo_key *key = NULL;
	int rc = 0;

	*fresh = false;
	memset(&cert, 0, sizeof(cert));
	/* --csr and explicit validity dates always ask the CA. */
	if (params->nnames == 0 || params->csr_file != NULL || params->not_before != 0 ||
	    params->not_after != 0)
		return 0;
	if ((cert.name = strdup(params->names[0])) == NULL)
		return CERTO_ENOMEM;
	/* Nothing stored (or unreadable): issue.  Out of memory: stop. */
	if ((rc = stored_load(state, &cert)) != 0) {
		if (rc == CERTO_ENOMEM)
			goto out;
	} else if (!config_same(params, &cert.cfg)) {
		log_info("issue: %s/live/%s was issued with other names or "
		    "options; issuing anew", state, cert.name);
	} else if ((params->key_file != NULL && key_load(params->key_file, &key) !=
	    0) || certificate_check(&cert.chain, key, params->names,
	    params->nnames) != 0) {
		/* No longer for exactly these names (or for --key's key). */
	} else {
		stored_fetch_due(&cert, sess, req, false);
		if (cert.is_due) {
			log_info("issue: %s/live/%s is due for renewal; issuing",
			    state, cert.name);
		} else {
			*fresh = true;
			report_fresh(state, &cert);
		}
	}
	certo_errclear();
	rc = 0;
out:
	key_free(key);
	stored_free(&cert);
	return rc;
}
