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
    const struct account_opts *o, struct certo_account *acct);
void account_free(struct certo_account *acct);

/*
 * What was said when certo created the account of CA directory server
 * under state (<state>/accounts/<ca-id>/account.json): *agreed is true
 * if it was made with --agree-tos, *emails (malloc'd, each string too;
 * caller frees) its contact addresses.  No account: false and none.
 */
int account_remembered(const char *state, const char *server, bool *agreed,
    char ***emails, size_t *nemails);

struct certo_cli;
/*
 * certo account register|info|update|deactivate|rollover|import.
 */
int account_cmd(const struct certo_cli *cli);

#endif
