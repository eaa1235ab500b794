/*
 * A stored certificate (live/<name>/: certo.json and cert.pem) as renew,
 * list and issue's "nothing to do" check see it: how it was issued, its
 * chain, and when it is due (the CA's ARI window when it offers
 * renewalInfo, RFC 9773, else when a third of its lifetime is left).
 */
#ifndef CERTO_STORED_H
#define CERTO_STORED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "certificate.h"
#include "config.h"
#include "renewalinfo.h"
#include "session.h"

struct certo_cli;
struct store_index;

struct stored {
	char *name;                 /* directory name under live/ */
	struct cert_config cfg;
	struct certo_chain chain;
	char *ari_id;               /* when the CA offers ARI */
	struct ari_window ari;
	bool has_ari;               /* ari holds the CA's window */
	bool ari_offered;           /* the CA has renewalInfo */
	time_t due;                 /* when to renew */
	time_t check_again;         /* ARI Retry-After, 0 if none */
	bool loaded, is_due;
	/*
	 * From the index (stored_load_indexed), not loaded: only the names
	 * (cfg.params.names), server, ca_bundle, allow_http, the chain's
	 * SANs, dates and key_desc, and ari_id are set.
	 */
	bool indexed;
};

/* Load live/<cert->name>/{certo.json,cert.pem} under state. */
int stored_load(const char *state, struct stored *cert);
/*
 * cert->name's set through the index of this pass (store_index.h, names
 * in increasing order): from its record while the live files are the
 * ones it was made from (cert->indexed), else read from them
 * (stored_load(), cert->loaded) and its record made anew; idx NULL:
 * stored_load().  Returns 0 or stored_load()'s error.
 */
int stored_load_indexed(const char *state, struct store_index *idx,
    struct stored *cert);
/*
 * A cert from stored_load_indexed() read fully (stored_load()), its
 * name kept; one already loaded is left as it is.
 */
int stored_load_full(const char *state, struct stored *cert);
/*
 * Is the deploy hook of cert's set pending (live/<name>/.deploy-pending,
 * store_deploy_mark)?  True also when out of memory.
 */
bool stored_deploy_pending(const char *state, const struct stored *cert);
/* Free what cert holds (name included); a zeroed struct is fine. */
void stored_free(struct stored *cert);
/*
 * *out gets the session of set (borrowed) for the CA cert was issued
 * by, with this run's state directory, --force and --ca-timeout (cli).
 * Returns 0 or session_open()'s error.
 */
int stored_session(struct session_set *set, const struct certo_cli *cli,
    const struct stored *cert, struct session **out);
/* How long certo list shows the last renewalInfo answer renew got. */
#define STORED_ARI_KEPT_S (7 * 86400)

/*
 * Decide when cert is due: ask the CA's renewalInfo over the network
 * (through sess's directory, with req, or sess's own request when req is
 * NULL) when it offers it and the answer could change anything (not
 * forced, not expired), else a third of the lifetime left; force makes
 * it due now.  The directory comes from the session (a copy younger than
 * a day asks nothing).  The answer is kept in the state directory for
 * certo list (ari/, STORED_ARI_KEPT_S).  A CA that cannot be asked falls
 * back to the lifetime rule with a warning.
 */
void stored_fetch_due(struct stored *cert, struct session *sess,
    struct certo_req *req, bool force);
/*
 * The same decision without the network (certo list): the last window
 * renew got from the CA, when kept, else the lifetime rule.
 */
void stored_kept_due(struct stored *cert, const char *state);
/*
 * certo issue without --force: *fresh is true (and an "issue_skipped"
 * event said why) when live/<first name> holds a set stored with the
 * same certo.json options (names, CA, key type...), still for exactly
 * these names (and --key's key), and not due (stored_fetch_due() through
 * sess and req).  --csr, --not-before and --not-after always issue.
 * Returns 0 or CERTO_ENOMEM.
 */
int stored_fetch_fresh(struct session *sess, struct certo_req *req,
    const struct issue_params *params, bool *fresh);
/* t as RFC 3339 UTC ("2026-01-02T03:04:05Z") into buf. */
void stored_time(time_t t, char *buf, size_t len);

#endif
