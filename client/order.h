/* Order objects (RFC 8555 section 7.1.3, 7.4). */
#ifndef CERTO_ORDER_H
#define CERTO_ORDER_H

#include <stddef.h>

#include "authz.h"
#include "problem.h"

struct certo_req;
struct certo_directory;

enum order_status {
	ORDER_PENDING,
	ORDER_READY,
	ORDER_PROCESSING,
	ORDER_VALID,
	ORDER_INVALID,
};

#define ORDER_MAX_IDENTIFIERS 100

struct certo_order {
	/* Asked for by the user (ASCII names, owned). */
	char **names;
	size_t nnames;
	/* From the CA. */
	char *url;
	enum order_status status;
	char *expires;
	struct certo_identifier *idents;
	size_t nidents;
	char **authz_urls;
	size_t nauthz;
	char *finalize;
	char *certificate;          /* once valid */
	struct certo_problem *error;
	/* Fetched authorizations, parallel to authz_urls. */
	struct certo_authz *authzs;
};

/* The status as the CA spells it ("pending"...). */
const char *order_status_name(enum order_status s);
/*
 * Parse an order document into order's CA fields (names and url are
 * left alone; the fetched authzs are kept when the document lists the
 * same authorization URLs, else freed).
 */
int order_parse(const char *json, size_t len, struct certo_order *order);
/*
 * Take the CA fields of fresh (a parsed order with no names, URL or
 * fetched authorizations) into order: its names and URL stay, and its
 * fetched authorizations too when fresh lists the same authorization
 * URLs in the same order.  fresh is left empty.
 */
void order_update(struct certo_order *order, struct certo_order *fresh);
#include <time.h>

/* Optional newOrder fields. */
struct order_opts {
	time_t not_before;       /* 0: omitted */
	time_t not_after;
	const char *profile;     /* NULL: omitted */
	const char *replaces;    /* ARI certID (RFC 9773), NULL: omitted */
};

/*
 * POST newOrder for order->names (IP literals as "ip" identifiers, RFC
 * 8738); sets url and the CA fields.  opts may be NULL.
 */
int order_new(struct certo_req *req, const struct certo_directory *dir,
    const struct order_opts *opts, struct certo_order *order);
/* POST-as-GET order->url; *retry_after as in authz_fetch(). */
int order_fetch(struct certo_req *req, struct certo_order *order,
    long *retry_after);
/* Free everything order holds (NULL is fine). */
void order_free(struct certo_order *order);

#endif
