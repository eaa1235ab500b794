/*
 * Accounts (RFC 8555 section 7.3): the key and URL kept under
 * <state>/accounts/<ca-id>/ (account.key 0600, account.json), created
 * on first use and reused afterwards.
 */
#ifndef CERTO_ACCOUNT_H
#define CERTO_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "key.h"

struct certo_req;
struct certo_directory;
struct json_object;

struct account_opts {
	const char *dir;             /* <state>/accounts/<ca-id> */
	char *const *emails;
	size_t nemails;
	bool agree_tos;
	enum key_type key_type;      /* for a new account key */
	const char *eab_kid;         /* external account binding, or NULL */
	const char *eab_hmac_key;
};

struct certo_account {
	char *url;                   /* the kid */
	struct certo_key *key;       /* owned */
	bool created;                /* a new account was registered */
};

/*
 * The account directory name for a CA directory URL: host, plus
 * "_port" for a non-default port ("localhost_14000").  Malloc'd.
 */
int account_ca_id(const char *dir_url, char **out);

/*
 * Load or create the account and make req sign with it.  Without a
 * stored URL, an existing key is looked up with onlyReturnExisting;
 * a new account needs agree_tos when the directory has terms of
 * service (CERTO_ETOS, message printing the URL).
 */
int account_ensure(struct certo_req *req, const struct certo_directory *dir,
    const struct account_opts *opts, struct certo_account *acct);
void account_free(struct certo_account *acct);
/*
 * Ask the CA which account req->key has (newAccount with
 * onlyReturnExisting, RFC 8555 7.3.1): *url (malloc'd) gets it, or
 * *missing is true when the CA knows none.
 */
int account_lookup(struct certo_req *req, const struct certo_directory *dir,
    char **url, bool *missing);
/*
 * An ACME v1 registration URL ("https://acme-v01.api.letsencrypt.org/
 * acme/reg/123", any /acme/reg/ or /acme/new-reg path): never an RFC
 * 8555 account URL.
 */
bool account_url_v1(const char *url);
/*
 * The CA refused the account URL req signs with (req->kid: unknown to
 * it, or an ACME v1 URL): find the account of req->key with
 * onlyReturnExisting, write its URL into acct_dir/account.json (the
 * rest of the file kept), say "account: OLD -> NEW", and make req sign
 * with it.  Returns 0 (req->kid is the new URL), 1 when the CA names the
 * same URL (nothing changed, req as it was), CERTO_EUNKNOWNKEY when the
 * CA knows no account for the key (nothing is created), or another
 * CERTO_E* code.  Safe from several threads (account.json is replaced
 * atomically with the same URL).
 */
int account_relocate(struct certo_req *req, const struct certo_directory *dir,
    const char *acct_dir);
/*
 * Write account.json at path: the URL and, for an account created by
 * certo, what the user said when it was made (remembered for the
 * staging account of renew --dry-run): agreed ("terms_agreed") and the
 * "contact" addresses.
 */
int account_save(const char *path, const char *url, bool agreed,
    char *const *emails, size_t nemails);
/* ["mailto:a", ...] for emails, or NULL when out of memory. */
struct json_object *account_contacts(char *const *emails, size_t n);

/*
 * What was said when certo created the account of CA directory server
 * under state (<state>/accounts/<ca-id>/account.json): *agreed is true
 * if it was made with --agree-tos, *emails (malloc'd, each string too;
 * caller frees) its contact addresses.  No account: false and none.
 */
int account_remembered(const char *state, const char *server, bool *agreed,
    char ***emails, size_t *nemails);

#endif
