/*
 * certo import: what import_verb.c (the verb, accounts, certificates
 * into the store) shares with the readers of other clients' directories,
 * import_certbot.c and import_lego.c.  Internal to the import_*.c files.
 */
#ifndef CERTO_IMPORT_PRIV_H
#define CERTO_IMPORT_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "params.h"

struct certo_cli;
struct certo_key;

#define IMPORT_SEEN_MAX 64

/* One import run. */
struct import_ctx {
	const struct certo_cli *cli;
	char *state;                 /* the state directory */
	bool override;               /* it named a way to answer challenges */
	unsigned imported, already, failed, notes, accounts;
	char *seen[IMPORT_SEEN_MAX]; /* accounts read (paths under DIR) */
	size_t nseen;
};

/* Upper bounds on what is read from another client's directory. */
#define IMPORT_CHAIN_MAX (512 * 1024)
#define IMPORT_KEY_MAX (64 * 1024)
#define IMPORT_JSON_MAX (64 * 1024)
#define IMPORT_ENTRIES_MAX 1000

/*
 * One line for a setting certo does not take over, naming what it
 * belongs to (a certificate, an account, a file) and the setting;
 * printed on stderr as a warning, counted.
 */
void import_note(struct import_ctx *ctx, const char *what, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/*
 * what was not imported because of rc: counted, said on one line (made
 * printable), the recorded message cleared.  Returns 0, or CERTO_ENOMEM
 * which stops the run.
 */
int import_failed(struct import_ctx *ctx, const char *what, int rc);

/*
 * The account (key, URL) of the CA directory server as certo's account
 * for that CA, unless certo has one: the same one is "already there", a
 * different one is kept and noted (renew then uses certo's).  from names
 * the source in messages.  Returns 0 or a CERTO_E* code.
 */
int import_account(struct import_ctx *ctx, const char *server,
    const struct certo_key *key, const char *url, const char *from);

/*
 * One certificate into the store: the chain (PEM, leaf first) and its
 * key (PEM) read from the other client; params holds the CA and the
 * renewal settings (the names are taken from the certificate, first
 * the one equal to first when given).  With the command line's
 * challenge options, those replace params' solving settings.  Nothing is
 * written unless all of it checks out (one store_commit); an existing
 * set with the same certificate is left alone (a repeated import).
 * Counts the outcome in ctx; returns 0 or a CERTO_E* code.
 */
int import_cert(struct import_ctx *ctx, const char *what,
    struct issue_params *params, const char *first, const char *chain_pem,
    size_t chain_len, const char *key_pem, size_t key_len);

/* The sorted entries of dir whose names end with suffix ("" for all). */
int import_list_dir(const char *dir, const char *suffix, char ***names,
    size_t *n);
void import_list_free(char **names, size_t n);

/* certbot's config directory (import_certbot.c). */
int import_certbot(struct import_ctx *ctx, const char *dir);
/* lego's .lego directory (import_lego.c). */
int import_lego(struct import_ctx *ctx, const char *dir);

#endif
