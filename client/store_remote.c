/*
 * Certificate sets, accounts, saved orders and rate-limit memory in the
 * shared store (store_remote.h, docs/cluster.md); the state directory
 * holds each host's copy.
 */
#include "store_remote.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certificate.h"
#include "errors.h"
#include "file.h"
#include "key.h"
#include "kv.h"
#include "kvlock.h"
#include "log.h"
#include "seal.h"
#include "sha256.h"
#include "store.h"
#include "store_priv.h"

/* Largest file of a set read back from live/ (a chain, certo.json). */
#define SR_FILE_MAX (1024 * 1024)

static struct kv *sr_kv;
static struct seal_key *sr_seal;

/* Replace a set and its index entry in one step. */
static const char sr_put_set_lua[] =
    "redis.call('del', KEYS[1]) "
    "redis.call('hset', KEYS[1], unpack(ARGV, 3)) "
    "redis.call('hset', KEYS[2], ARGV[1], ARGV[2]) return 1";
/* Replace a saved order, expiring with the CA's order. */
static const char sr_put_order_lua[] =
    "redis.call('del', KEYS[1]) "
    "redis.call('hset', KEYS[1], 'json', ARGV[1], 'key', ARGV[2]) "
    "redis.call('pexpire', KEYS[1], ARGV[3]) return 1";
/* Replace a hash. */
static const char sr_replace_lua[] =
    "redis.call('del', KEYS[1]) "
    "redis.call('hset', KEYS[1], unpack(ARGV)) return 1";
/* Put a hash unless the key exists. */
static const char sr_put_new_lua[] =
    "if redis.call('exists', KEYS[1]) == 1 then return 0 end "
    "redis.call('hset', KEYS[1], unpack(ARGV)) return 1";

/* Open the process's store (store_remote.h). */
int
store_remote_open(const char *url, const char *key_file, bool need_key)
{
	int rc;

	if (url == NULL || *url == '\0' || sr_kv != NULL)
		return 0;
	if ((key_file != NULL && *key_file != '\0') ||
	    getenv("CERTO_STORE_KEY") != NULL || need_key) {
		if ((rc = seal_key_load(key_file, &sr_seal)) == CERTO_EUSAGE) {
			certo_errclear();
			rc = certo_fail(CERTO_EUSAGE, "--store: certo never puts "
			    "a private key in a store without sealing it; give "
			    "--store-key FILE (or CERTO_STORE_KEY): 32 or more "
			    "random bytes, the same file on every host");
		}
		if (rc != 0)
			return rc;
	}
	if ((rc = kv_open(url, &sr_kv)) != 0) {
		seal_key_free(sr_seal);
		sr_seal = NULL;
		sr_kv = NULL;
	}
	return rc;
}

/* Close the store (store_remote.h). */
void
store_remote_close(void)
{
	kv_close(sr_kv);
	sr_kv = NULL;
	seal_key_free(sr_seal);
	sr_seal = NULL;
}

/* Is a store open (store_remote.h)? */
bool
store_remote_active(void)
{
	return sr_kv != NULL;
}

/* The store's URL for messages (store_remote.h). */
const char *
store_remote_shown(void)
{
	return sr_kv != NULL ? kv_url_shown(sr_kv) : "";
}

/* A set or account name from the store is only ever a plain file name. */
static bool
sr_safe_name(const char *name, size_t len)
{
	if (len == 0 || len > 255 || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* The value of field in a HGETALL reply, or NULL (*len its length). */
static const char *
sr_field(const struct kv_reply *reply, const char *field, size_t *len)
{
	if (reply == NULL || reply->type != KV_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < reply->nelem; i += 2)
		if (reply->elem[i].type == KV_STR &&
		    strcmp(reply->elem[i].str, field) == 0 &&
		    reply->elem[i + 1].type == KV_STR) {
			if (len != NULL)
				*len = reply->elem[i + 1].len;
			return reply->elem[i + 1].str;
		}
	return NULL;
}

/* HGETALL key into *reply; an empty hash is *reply NULL. */
static int
sr_hgetall(const char *key, struct kv_reply **reply)
{
	int rc;

	*reply = NULL;
	if ((rc = kv_command(sr_kv, reply, "HGETALL %s", key)) != 0)
		return rc;
	if ((*reply)->type != KV_ARRAY || (*reply)->nelem == 0) {
		kv_reply_free(*reply);
		*reply = NULL;
	}
	return 0;
}

/*
 * key sealed for the record rec: *sealed malloc'd.  Refused without a
 * store key: a private key never goes into the store in clear.
 */
static int
sr_seal_key(const char *rec, const struct certo_key *key, char **sealed)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	*sealed = NULL;
	if (sr_seal == NULL)
		return certo_fail(CERTO_EUSAGE, "refusing to put a private key "
		    "in the store %s without --store-key", kv_url_shown(sr_kv));
	if ((rc = key_export_pem(key, &pem, &len)) == 0)
		rc = seal_seal(sr_seal, rec, pem, len, sealed);
	seal_wipe_free(pem, len);
	return rc;
}

/* Open a sealed key of the record rec into *key. */
static int
sr_open_key(const char *rec, const char *sealed, size_t slen,
    struct certo_key **key)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	*key = NULL;
	if (sr_seal == NULL)
		return certo_fail(CERTO_EUSAGE, "the store %s holds sealed keys: "
		    "give --store-key FILE (or CERTO_STORE_KEY)",
		    kv_url_shown(sr_kv));
	if ((rc = seal_open(sr_seal, rec, sealed, slen, &pem, &len)) == 0)
		rc = key_parse(pem, len, rec, key);
	seal_wipe_free(pem, len);
	return rc;
}

/*
 * certo.json of the record rec sealed too (it names the hooks renew
 * runs: nobody without the key file may read or change it).
 */
static int
sr_seal_config(const char *rec, const char *config, char **sealed)
{
	char name[320];

	*sealed = NULL;
	if (sr_seal == NULL)
		return certo_fail(CERTO_EUSAGE, "refusing to put a set in the "
		    "store %s without --store-key", kv_url_shown(sr_kv));
	snprintf(name, sizeof(name), "%s#config", rec);
	return seal_seal(sr_seal, name, config, strlen(config), sealed);
}

/* Open the sealed certo.json of the record rec (*config malloc'd). */
static int
sr_open_config(const char *rec, const char *sealed, size_t slen,
    char **config)
{
	char name[320];
	size_t len = 0;

	*config = NULL;
	if (sr_seal == NULL)
		return certo_fail(CERTO_EUSAGE, "the store %s holds sealed sets: "
		    "give --store-key FILE (or CERTO_STORE_KEY)",
		    kv_url_shown(sr_kv));
	snprintf(name, sizeof(name), "%s#config", rec);
	return seal_open(sr_seal, name, sealed, slen, config, &len);
}

/* Put a set into the store after a local commit (store_remote.h). */
int
store_remote_put_set(const char *dname, const struct certo_key *key,
    const struct certo_chain *chain, const char *config)
{
	const char *argv[24];
	size_t lens[24];
	char rec[300], idx[SHA256_HEX_LEN + 40], sha[SHA256_HEX_LEN + 1];
	char na[32], *sealed = NULL, *sealed_config = NULL;
	int argc = 0, rc;

	if (sr_kv == NULL)
		return 0;
	snprintf(rec, sizeof(rec), "certo:set:%s", dname);
	if ((rc = sha256_hex(chain->fullchain, strlen(chain->fullchain),
	    sha)) != 0 || (key != NULL && (rc = sr_seal_key(rec, key,
	    &sealed)) != 0) || (config != NULL &&
	    (rc = sr_seal_config(rec, config, &sealed_config)) != 0))
		goto out;
	snprintf(na, sizeof(na), "%lld", (long long)chain->not_after);
	snprintf(idx, sizeof(idx), "%s %s", sha, na);
#define SR_ARG(s) do { argv[argc] = (s); lens[argc] = strlen(s); argc++; } \
	while (0)
	SR_ARG("EVAL"); SR_ARG(sr_put_set_lua); SR_ARG("2"); SR_ARG(rec);
	SR_ARG("certo:sets"); SR_ARG(dname); SR_ARG(idx);
	SR_ARG("cert"); SR_ARG(chain->leaf);
	SR_ARG("chain"); SR_ARG(chain->issuers);
	SR_ARG("fullchain"); SR_ARG(chain->fullchain);
	SR_ARG("sha"); SR_ARG(sha);
	SR_ARG("not_after"); SR_ARG(na);
	if (sealed_config != NULL) {
		SR_ARG("config");
		SR_ARG(sealed_config);
	}
	if (sealed != NULL) {
		SR_ARG("key");
		SR_ARG(sealed);
	}
#undef SR_ARG
	rc = kv_command_argv(sr_kv, NULL, argc, argv, lens);
out:
	free(sealed);
	free(sealed_config);
	return rc;
}

/*
 * Is the local set in live (its fullchain.pem) the store's (same sha)?
 * *newer when the local one expires later than not_after (then it is
 * not replaced by an older set).  A missing set is neither.
 */
static int
sr_compare_local(const char *live, const char *sha, long long not_after,
    bool *same, bool *newer)
{
	struct certo_chain local;
	char *path = NULL, *pem = NULL, hex[SHA256_HEX_LEN + 1];
	size_t len = 0;
	bool missing = false;
	int rc;

	*same = *newer = false;
	memset(&local, 0, sizeof(local));
	if ((path = file_join(live, "fullchain.pem")) == NULL)
		return CERTO_ENOMEM;
	if ((rc = file_read(path, SR_FILE_MAX, false, &pem, &len,
	    &missing)) != 0) {
		certo_errclear();
		rc = 0;
		goto out;
	}
	if ((rc = sha256_hex(pem, len, hex)) != 0)
		goto out;
	*same = strcmp(hex, sha) == 0;
	if (!*same && certificate_parse(pem, len, &local) == 0)
		*newer = (long long)local.not_after > not_after;
	certo_errclear();
out:
	certificate_free(&local);
	free(pem);
	free(path);
	return rc;
}

/* Remove a set from the store (store_remote.h). */
int
store_remote_del_set(const char *dname)
{
	char rec[300];
	int rc;

	if (sr_kv == NULL)
		return 0;
	snprintf(rec, sizeof(rec), "certo:set:%s", dname);
	if ((rc = kv_command(sr_kv, NULL, "HDEL certo:sets %s", dname)) == 0)
		rc = kv_del(sr_kv, rec);
	return rc;
}

/* Commit the store's set (reply) into live/<dname>. */
static int
sr_materialise(const char *state, const char *dname, const char *rec,
    const struct kv_reply *reply)
{
	struct certo_chain chain;
	struct certo_key *key = NULL;
	const char *full, *sealed, *sconfig;
	size_t flen = 0, slen = 0, clen = 0;
	char *live = NULL, *config = NULL;
	int rc;

	memset(&chain, 0, sizeof(chain));
	full = sr_field(reply, "fullchain", &flen);
	sealed = sr_field(reply, "key", &slen);
	sconfig = sr_field(reply, "config", &clen);
	if (full == NULL) {
		rc = certo_fail(CERTO_ESTORE, "the store's set %s has no chain",
		    rec);
		goto out;
	}
	if ((rc = certificate_parse(full, flen, &chain)) != 0 ||
	    (sealed != NULL && (rc = sr_open_key(rec, sealed, slen,
	    &key)) != 0) || (sconfig != NULL && (rc = sr_open_config(rec,
	    sconfig, clen, &config)) != 0))
		goto out;
	/* The key must be the certificate's (a swapped field is refused). */
	if (key != NULL && (rc = certificate_check(&chain, key,
	    chain.sans, chain.nsans)) != 0)
		goto out;
	rc = store_commit_from_store(state, dname, key, &chain, config, &live);
	if (rc == 0)
		log_event("store_materialised", NULL, "store: %s brought in "
		    "from %s", dname, kv_url_shown(sr_kv));
out:
	key_free(key);
	certificate_free(&chain);
	free(live);
	free(config);
	return rc;
}

/* Bring one set in when it differs and is not older (store_remote.h). */
int
store_remote_sync_set(const char *state, const char *dname, bool *changed)
{
	struct kv_reply *reply = NULL;
	const char *sha, *na;
	char rec[300], *live = NULL;
	bool same = false, newer = false;
	int rc;

	if (changed != NULL)
		*changed = false;
	if (sr_kv == NULL)
		return 0;
	snprintf(rec, sizeof(rec), "certo:set:%s", dname);
	if ((rc = sr_hgetall(rec, &reply)) != 0 || reply == NULL)
		goto out;
	sha = sr_field(reply, "sha", NULL);
	na = sr_field(reply, "not_after", NULL);
	if (sha == NULL || na == NULL) {
		rc = certo_fail(CERTO_ESTORE, "the store's set %s is incomplete",
		    rec);
		goto out;
	}
	if ((rc = store_live_dir(state, dname, &live)) != 0 ||
	    (rc = sr_compare_local(live, sha, strtoll(na, NULL, 10), &same,
	    &newer)) != 0 || same)
		goto out;
	if (newer) {
		log_warn("store: the set of %s here expires later than the "
		    "store's; kept", dname);
		goto out;
	}
	if ((rc = sr_materialise(state, dname, rec, reply)) == 0 &&
	    changed != NULL)
		*changed = true;
out:
	kv_reply_free(reply);
	free(live);
	return rc;
}

/* Counts of one sync_all. */
struct sr_counts {
	size_t changed, failed;
};

/*
 * One entry of certo:sets (name -> "<sha> <not_after>"): brought in when
 * it differs from this host's set and is not older.  Returns 0 (also for
 * a set that could not be brought in: logged and counted) or the error
 * that stops the pass (the store unreachable, memory, a signal).
 */
static int
sr_sync_entry(const char *state, const struct kv_reply *name,
    const struct kv_reply *val, struct sr_counts *counts)
{
	char sha[SHA256_HEX_LEN + 1], *live = NULL;
	bool same = false, newer = false, changed = false;
	int rc;

	if (name->type != KV_STR || val->type != KV_STR ||
	    !sr_safe_name(name->str, name->len) || val->len < SHA256_HEX_LEN) {
		log_warn("store: skipping a set with a bad name or index");
		return 0;
	}
	memcpy(sha, val->str, SHA256_HEX_LEN);
	sha[SHA256_HEX_LEN] = '\0';
	rc = store_live_dir(state, name->str, &live);
	if (rc == 0)
		rc = sr_compare_local(live, sha, strtoll(val->str +
		    SHA256_HEX_LEN, NULL, 10), &same, &newer);
	free(live);
	if (rc != 0 || same || newer)
		return rc;
	rc = store_remote_sync_set(state, name->str, &changed);
	if (rc == CERTO_ESTORE || rc == CERTO_ESTOREAUTH ||
	    rc == CERTO_ENOMEM || rc == CERTO_EINTR)
		return rc;
	if (rc != 0) {
		log_error("store: %s not brought in: %s", name->str,
		    certo_errmsg() ? certo_errmsg() : certo_strerror(rc));
		certo_errclear();
		counts->failed++;
	} else if (changed)
		counts->changed++;
	return 0;
}

/*
 * Bring every set of the store in (store_remote.h): certo:sets read in
 * HSCAN pages, so that no reply comes near kv.h's caps however many sets
 * the store holds.
 */
int
store_remote_sync_all(const char *state, size_t *nchanged, size_t *nfailed)
{
	struct sr_counts counts = { 0, 0 };
	struct kv_reply *reply = NULL;
	char cursor[32] = "0";
	int rc = 0, pages = 0;

	if (sr_kv == NULL)
		goto out;
	do {
		const struct kv_reply *page;

		if ((rc = kv_command(sr_kv, &reply, "HSCAN certo:sets %s COUNT 1000",
		    cursor)) != 0)
			goto out;
		if (reply->type != KV_ARRAY || reply->nelem != 2 ||
		    reply->elem[0].type != KV_STR || reply->elem[0].len >=
		    sizeof(cursor) || reply->elem[1].type != KV_ARRAY ||
		    ++pages > 1000000) {
			rc = certo_fail(CERTO_ESTORE, "the store %s answered HSCAN "
			    "with something else", kv_url_shown(sr_kv));
			goto out;
		}
		memcpy(cursor, reply->elem[0].str, reply->elem[0].len + 1);
		page = &reply->elem[1];
		for (size_t i = 0; i + 1 < page->nelem && rc == 0; i += 2)
			rc = sr_sync_entry(state, &page->elem[i], &page->elem[i + 1],
			    &counts);
		kv_reply_free(reply);
		reply = NULL;
	} while (rc == 0 && strcmp(cursor, "0") != 0);
out:
	kv_reply_free(reply);
	if (nchanged != NULL)
		*nchanged = counts.changed;
	if (nfailed != NULL)
		*nfailed = counts.failed;
	return rc;
}

/* A lock in the store (store_remote.h). */
int
store_remote_lock(const char *kind, const char *id, const char *what,
    struct kvlock **lock, bool *waited)
{
	char key[400];

	*lock = NULL;
	if (sr_kv == NULL)
		return 0;
	snprintf(key, sizeof(key), "certo:lock:%s:%s", kind, id);
	return kvlock_acquire(sr_kv, key, what, lock, waited);
}

/* The CA id of an account directory: its last component. */
static const char *
sr_ca_id(const char *acct_dir)
{
	const char *slash = strrchr(acct_dir, '/');

	return slash != NULL ? slash + 1 : acct_dir;
}

/* Write the account of reply into acct_dir (no account there yet). */
static int
sr_write_account(const char *acct_dir, const char *rec,
    const struct kv_reply *reply, bool replace)
{
	struct certo_key *key = NULL;
	const char *sealed, *json;
	size_t slen = 0, jlen = 0;
	char *keypath = NULL, *jsonpath = NULL;
	int rc;

	sealed = sr_field(reply, "key", &slen);
	json = sr_field(reply, "json", &jlen);
	if (sealed == NULL || json == NULL)
		return certo_fail(CERTO_ESTORE, "the store's account %s is "
		    "incomplete", rec);
	if ((keypath = file_join(acct_dir, "account.key")) == NULL ||
	    (jsonpath = file_join(acct_dir, "account.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = sr_open_key(rec, sealed, slen, &key)) != 0 ||
	    (rc = file_mkdirs(acct_dir)) != 0 ||
	    (rc = file_write_atomic(jsonpath, json, jlen, 0600, false)) != 0 ||
	    (rc = key_save(key, keypath, !replace)) != 0)
		goto out;
	log_event("store_account", NULL, "store: account %s %s from %s",
	    sr_ca_id(acct_dir), replace ? "key replaced (rolled over on "
	    "another host)" : "brought in", kv_url_shown(sr_kv));
out:
	key_free(key);
	free(keypath);
	free(jsonpath);
	return rc;
}

/*
 * Does the account key in keypath differ from the store's key_id (a
 * rollover on another host)?  No key_id in the store: no.
 */
static int
sr_account_rolled(const char *keypath, const struct kv_reply *reply,
    bool *rolled)
{
	struct certo_key *key = NULL;
	const char *kid_store;
	char kid[SHA256_HEX_LEN + 1];
	int rc;

	*rolled = false;
	if ((kid_store = sr_field(reply, "key_id", NULL)) == NULL)
		return 0;
	if ((rc = key_load(keypath, &key)) == 0 &&
	    (rc = key_id_hex(key, kid)) == 0)
		*rolled = strcmp(kid, kid_store) != 0;
	key_free(key);
	return rc;
}

/*
 * The account from the store when there is none here, or when the
 * store's key is another (store_remote.h).
 */
int
store_remote_get_account(const char *acct_dir)
{
	struct kv_reply *reply = NULL;
	char rec[300], *keypath;
	bool have, rolled = false;
	int rc;

	if (sr_kv == NULL)
		return 0;
	if ((keypath = file_join(acct_dir, "account.key")) == NULL)
		return CERTO_ENOMEM;
	have = file_exists(keypath);
	snprintf(rec, sizeof(rec), "certo:account:%s", sr_ca_id(acct_dir));
	if ((rc = sr_hgetall(rec, &reply)) != 0 || reply == NULL)
		goto out;
	if (have && ((rc = sr_account_rolled(keypath, reply, &rolled)) != 0 ||
	    !rolled))
		goto out;
	rc = sr_write_account(acct_dir, rec, reply, have);
out:
	kv_reply_free(reply);
	free(keypath);
	return rc;
}

/* Put the account into the store (store_remote.h). */
int
store_remote_put_account(const char *acct_dir, const struct certo_key *key,
    bool replace)
{
	const char *argv[10];
	size_t lens[10];
	char rec[300], kid[SHA256_HEX_LEN + 1], *jsonpath = NULL, *json = NULL;
	char *sealed = NULL;
	size_t jlen = 0;
	int rc;

	if (sr_kv == NULL)
		return 0;
	snprintf(rec, sizeof(rec), "certo:account:%s", sr_ca_id(acct_dir));
	if ((jsonpath = file_join(acct_dir, "account.json")) == NULL) {
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = file_read(jsonpath, SR_FILE_MAX, false, &json, &jlen,
	    NULL)) != 0 || (rc = key_id_hex(key, kid)) != 0 ||
	    (rc = sr_seal_key(rec, key, &sealed)) != 0)
		goto out;
	argv[0] = "EVAL";
	argv[1] = replace ? sr_replace_lua : sr_put_new_lua;
	argv[2] = "1"; argv[3] = rec; argv[4] = "json"; argv[5] = json;
	argv[6] = "key"; argv[7] = sealed; argv[8] = "key_id"; argv[9] = kid;
	for (size_t i = 0; i < 10; i++)
		lens[i] = strlen(argv[i]);
	rc = kv_command_argv(sr_kv, NULL, 10, argv, lens);
out:
	free(jsonpath);
	free(json);
	free(sealed);
	return rc;
}

/* A CA's rate-limit memory from the store (store_remote.h). */
int
store_remote_get_ratelimit(const char *ca_id, char **json)
{
	char key[300];
	int rc;

	*json = NULL;
	if (sr_kv == NULL)
		return 0;
	snprintf(key, sizeof(key), "certo:ratelimit:%s", ca_id);
	rc = kv_get(sr_kv, key, json, NULL);
	return rc < 0 ? rc : 0;
}

/* Replace or forget a CA's rate-limit memory (store_remote.h). */
int
store_remote_put_ratelimit(const char *ca_id, const char *json)
{
	char key[300];

	if (sr_kv == NULL)
		return 0;
	snprintf(key, sizeof(key), "certo:ratelimit:%s", ca_id);
	if (json == NULL)
		return kv_del(sr_kv, key);
	return kv_set(sr_kv, key, json, strlen(json), 0);
}

/* Shuffle v when a store is open (store_remote.h). */
void
store_remote_shuffle(void **v, size_t n)
{
	uint32_t r;

	if (sr_kv == NULL || n < 2)
		return;
	for (size_t i = n - 1; i > 0; i--) {
		void *tmp;
		size_t j;

		if (gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r)) < 0)
			return;
		j = r % (i + 1);
		tmp = v[i];
		v[i] = v[j];
		v[j] = tmp;
	}
}

/* Put a saved order into the store (store_remote.h). */
int
store_remote_put_order(const char *hash, const char *text,
    const struct certo_key *key)
{
	const char *argv[7];
	size_t lens[7];
	char rec[300], *sealed = NULL;
	int rc;

	if (sr_kv == NULL)
		return 0;
	snprintf(rec, sizeof(rec), "certo:order:%s", hash);
	if ((rc = sr_seal_key(rec, key, &sealed)) != 0)
		return rc;
	argv[0] = "EVAL"; argv[1] = sr_put_order_lua; argv[2] = "1";
	argv[3] = rec; argv[4] = text; argv[5] = sealed;
	argv[6] = "604800000";
	for (size_t i = 0; i < 7; i++)
		lens[i] = strlen(argv[i]);
	rc = kv_command_argv(sr_kv, NULL, 7, argv, lens);
	free(sealed);
	return rc;
}

/* A saved order from the store (store_remote.h). */
int
store_remote_get_order(const char *hash, char **text, struct certo_key **key)
{
	struct kv_reply *reply = NULL;
	const char *json, *sealed;
	size_t slen = 0;
	char rec[300];
	int rc;

	*text = NULL;
	*key = NULL;
	if (sr_kv == NULL)
		return 0;
	snprintf(rec, sizeof(rec), "certo:order:%s", hash);
	if ((rc = sr_hgetall(rec, &reply)) != 0 || reply == NULL)
		return rc;
	json = sr_field(reply, "json", NULL);
	sealed = sr_field(reply, "key", &slen);
	if (json == NULL || sealed == NULL)
		rc = certo_fail(CERTO_ESTORE, "the store's order %s is "
		    "incomplete", rec);
	else if ((rc = sr_open_key(rec, sealed, slen, key)) == 0 &&
	    (*text = strdup(json)) == NULL)
		rc = CERTO_ENOMEM;
	if (rc != 0) {
		key_free(*key);
		*key = NULL;
	}
	kv_reply_free(reply);
	return rc;
}

/* Forget a saved order in the store (store_remote.h). */
int
store_remote_del_order(const char *hash)
{
	char rec[300];

	if (sr_kv == NULL)
		return 0;
	snprintf(rec, sizeof(rec), "certo:order:%s", hash);
	return kv_del(sr_kv, rec);
}
