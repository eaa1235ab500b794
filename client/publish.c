/* The challenges one order published, withdrawn on every exit path. */
#include "publish.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"

void
publish_init(struct publish_set *set, const struct solver *solver)
{
	memset(set, 0, sizeof(*set));
	set->solver = solver;
}

int
publish_add(struct publish_set *set, enum chall_type t, const char *ident,
    struct certo_challenge *chall, char *keyauth, bool answered)
{
	struct published *items, *item;

	items = realloc(set->items, (set->n + 1) * sizeof(*items));
	if (items == NULL) {
		free(keyauth);
		return CERTO_ENOMEM;
	}
	set->items = items;
	item = &items[set->n];
	memset(item, 0, sizeof(*item));
	item->type = t;
	item->chall = chall;
	item->answered = answered;
	item->keyauth = keyauth;
	item->ident = strdup(ident);
	item->token = strdup(chall->token);
	if (item->ident == NULL || item->token == NULL) {
		free(item->ident);
		free(item->token);
		free(item->keyauth);
		return CERTO_ENOMEM;
	}
	/* Recorded before publishing: withdraw runs even if this fails. */
	set->n++;
	return set->solver->ops->publish(set->solver->ctx, t, ident,
	    item->token, keyauth);
}

int
publish_selfcheck(struct publish_set *set, size_t first)
{
	struct solver_item *items;
	size_t n = set->n - first;
	int rc;

	if (n == 0)
		return 0;
	if ((items = calloc(n, sizeof(*items))) == NULL)
		return CERTO_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		items[i].type = set->items[first + i].type;
		items[i].ident = set->items[first + i].ident;
		items[i].token = set->items[first + i].token;
		items[i].keyauth = set->items[first + i].keyauth;
	}
	rc = set->solver->ops->selfcheck(set->solver->ctx, items, n);
	free(items);
	return rc;
}

void
publish_forget_challenges(struct publish_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		set->items[i].chall = NULL;
}

void
publish_withdraw_all(struct publish_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct published *item = &set->items[i];

		if (set->solver != NULL && set->solver->ops != NULL)
			set->solver->ops->withdraw(set->solver->ctx, item->type,
			    item->ident, item->token);
		free(item->ident);
		free(item->token);
		free(item->keyauth);
	}
	free(set->items);
	set->items = NULL;
	set->n = 0;
}
