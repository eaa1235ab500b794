/*
 * What one order published through the solver (solver.h): each key
 * authorization is recorded before it is published, so that
 * publish_withdraw_all() takes every one of them down again on every
 * exit path, failures and Ctrl-C included.
 */
#ifndef CERTO_PUBLISH_H
#define CERTO_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "challenge.h"
#include "solver.h"

/* One published challenge. */
struct published {
	enum chall_type type;
	char *ident;                    /* certo's own copy of the name */
	char *token;
	char *keyauth;
	struct certo_challenge *chall;  /* in the order's authzs; NULL once
	                                 * the authorizations were fetched
	                                 * again */
	bool answered;                  /* the CA was told already (resume) */
};

struct publish_set {
	const struct solver *solver;    /* borrowed, shared by the orders */
	struct published *items;
	size_t n;
};

/* An empty set publishing through solver. */
void publish_init(struct publish_set *set, const struct solver *solver);
/*
 * Record and publish keyauth (ownership moves here, also on failure)
 * for chall of type t under ident.  Returns 0 or the solver's error.
 */
int publish_add(struct publish_set *set, enum chall_type t,
    const char *ident, struct certo_challenge *chall, char *keyauth,
    bool answered);
/*
 * The solver's self-check (solver.h) of the items published from index
 * first on, all at once.  Returns 0, CERTO_ESELFCHECK, CERTO_EDNSWAIT...
 */
int publish_selfcheck(struct publish_set *set, size_t first);
/* Forget the challenge pointers (the authorizations were replaced). */
void publish_forget_challenges(struct publish_set *set);
/* Withdraw and free everything published; the set is empty again. */
void publish_withdraw_all(struct publish_set *set);

#endif
