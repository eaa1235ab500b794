/*
 * The index of the stored sets: <state>/index, one line per live set
 * with what certo list and a renew pass need to know of it (names, SANs,
 * notBefore/notAfter, key type, CA, ARI certificate ID) and the identity
 * (inode, size, modification and change times) of the live files it was
 * read from, so that a pass over thousands of sets reads one file and
 * stats each set instead of parsing every certificate and certo.json.
 *
 * The index is a cache, never the truth: a record is used only while
 * both live files still have the identity it was made from; any other
 * record (a set changed, replaced or removed behind certo's back, a
 * line that does not parse) is dropped and the set read again.  A pass
 * visits the sets in increasing name order (store_list's), and the index
 * is rewritten (temp file, fsync, rename) only when something changed.
 * Memory does not grow with the number of sets: one line at a time.
 */
#ifndef CERTO_STORE_INDEX_H
#define CERTO_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The live files a record depends on, in this order. */
#define STORE_INDEX_NFILES 2 /* cert.pem, certo.json */
/* The longest line read; a longer one is dropped (its set read again). */
#define STORE_INDEX_LINE_MAX (128 * 1024)

/* The identity of one file: any write, rename or replacement changes it. */
struct store_index_stamp {
	uint64_t ino, size;
	int64_t mtime_ns, ctime_ns;
};

/*
 * One record.  From store_index_find() every pointer is borrowed from
 * the index (valid until its next call); for store_index_put() the
 * caller's.  Empty strings and lists mean "none".
 */
struct store_index_entry {
	const char *name;           /* directory under live/ */
	struct store_index_stamp stamp[STORE_INDEX_NFILES];
	time_t not_before, not_after;
	const char *key_desc;       /* "ec-256", "rsa-2048" ... */
	const char *server;         /* the CA's directory URL */
	const char *ca_bundle;      /* "" for the system bundle */
	bool allow_http;
	const char *ari_id;         /* "" when the leaf has none */
	char *const *sans;          /* the leaf's DNS SANs */
	size_t nsans;
	char *const *names;         /* certo.json's names */
	size_t nnames;
};

struct store_index;

/*
 * Start a pass over the index of state: the kept index is read as the
 * pass goes (missing or unreadable: empty, and rebuilt).  Returns 0 or
 * CERTO_ENOMEM.
 */
int store_index_open(const char *state, struct store_index **out);
/*
 * The stamps of live/<name>/{cert.pem,certo.json}: 0, or -1 when either
 * cannot be stat'ed (the set is read from its files, which will say why).
 */
int store_index_stamp(const struct store_index *idx, const char *name,
    struct store_index_stamp stamp[STORE_INDEX_NFILES]);
/*
 * The record of name (names in increasing strcmp order through a pass)
 * into *entry when it was made from files with exactly these stamps:
 * returns true.  Otherwise false, and a record of name that no longer
 * matches is dropped.
 */
bool store_index_find(struct store_index *idx, const char *name,
    const struct store_index_stamp stamp[STORE_INDEX_NFILES],
    struct store_index_entry *entry);
/* Keep name's record as it is (a set this pass does not look at). */
void store_index_pass(struct store_index *idx, const char *name);
/*
 * A new record for entry->name (just read from its files), after the
 * names already visited.  Returns 0; a failure to write only means the
 * index is not updated this time (logged at debug level).
 */
int store_index_put(struct store_index *idx,
    const struct store_index_entry *entry);
/*
 * End the pass: with complete (every stored set was visited) and a
 * change, the new index replaces the old one atomically; otherwise the
 * kept one stays.  Frees idx (NULL is fine).
 */
void store_index_close(struct store_index *idx, bool complete);

#endif
