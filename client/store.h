/*
 * The only writer of certificates: <state>/live/<name>/{privkey.pem,
 * cert.pem,chain.pem,fullchain.pem}, built in a staging directory and
 * swapped in with one atomic rename; the previous set moves to
 * <state>/archive/<name>/<UTC timestamp>/.
 */
#ifndef CERTO_STORE_H
#define CERTO_STORE_H

struct certo_key;
struct certo_chain;

/*
 * The state directory: --state-dir, else $CERTO_STATE_DIR, else
 * /var/lib/certo for root, else $XDG_DATA_HOME/certo or
 * ~/.local/share/certo.  Malloc'd.
 */
int store_state_dir(const char *opt, char **out);
/* Create the state directory (0700) and check it is writable. */
int store_prepare(const char *state);
/*
 * Write the set for name; *live_dir (malloc'd) says where.  Nothing of
 * the new set is visible unless all of it was written.
 */
int store_commit(const char *state, const char *name,
    const struct certo_key *key, const struct certo_chain *chain,
    char **live_dir);

#endif
