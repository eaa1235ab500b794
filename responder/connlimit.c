/*
 * Per-address and total connection caps: a chained hash table over a
 * fixed pool of max_total nodes (there are never more distinct addresses
 * than open connections), with a random seed so that a client choosing
 * its IPv6 addresses cannot aim them all at one chain.
 */
#include "connlimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "errors.h"

struct node {
	unsigned char addr[16];
	unsigned count;
	int next;            /* index in nodes, -1: end of chain / free list */
};

struct connlimit {
	unsigned max_total, max_per_addr;
	unsigned total;
	uint32_t seed;
	size_t nbuckets;     /* a power of two */
	int *buckets;        /* heads, -1: empty */
	struct node *nodes;  /* max_total of them */
	int free;            /* head of the free list */
};

/* A limiter with a node pool of max_total; see connlimit.h. */
int
connlimit_new(unsigned max_total, unsigned max_per_addr,
    struct connlimit **out)
{
	struct connlimit *limit;
	size_t i;

	*out = NULL;
	if (max_total == 0)
		return CERTO_EUSAGE;
	if ((limit = calloc(1, sizeof(*limit))) == NULL)
		return CERTO_ENOMEM;
	limit->max_total = max_total;
	limit->max_per_addr = max_per_addr;
	for (limit->nbuckets = 16; limit->nbuckets < max_total; limit->nbuckets *= 2)
		;
	limit->buckets = malloc(limit->nbuckets * sizeof(*limit->buckets));
	limit->nodes = malloc((size_t)max_total * sizeof(*limit->nodes));
	if (limit->buckets == NULL || limit->nodes == NULL) {
		connlimit_free(limit);
		return CERTO_ENOMEM;
	}
	for (i = 0; i < limit->nbuckets; i++)
		limit->buckets[i] = -1;
	for (i = 0; i < max_total; i++)
		limit->nodes[i].next = i + 1 < max_total ? (int)(i + 1) : -1;
	limit->free = 0;
	if (getrandom(&limit->seed, sizeof(limit->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(limit->seed))
		limit->seed = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)limit;
	*out = limit;
	return 0;
}

/* Free; NULL is fine. */
void
connlimit_free(struct connlimit *limit)
{
	if (limit == NULL)
		return;
	free(limit->buckets);
	free(limit->nodes);
	free(limit);
}

/* The 16-byte key of an IP address; 0 for anything else. */
static int
key_of(const struct sockaddr *sa, socklen_t salen, struct connlimit_key *key)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	memset(key, 0, sizeof(*key));
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET &&
	    salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		memcpy(key->addr, mapped, 12);
		memcpy(key->addr + 12, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, 4);
		key->ip = 1;
	} else if (sa->sa_family == AF_INET6 &&
	    salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		memcpy(key->addr, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, 16);
		key->ip = 1;
	}
	return key->ip;
}

static size_t
bucket_of(const struct connlimit *limit, const unsigned char *a)
{
	uint32_t h = 2166136261u ^ limit->seed;

	for (int i = 0; i < 16; i++) {
		h ^= a[i];
		h *= 16777619u;
	}
	h ^= h >> 15;
	return h & (limit->nbuckets - 1);
}

/* The node of this address, or -1; *prev gets its predecessor. */
static int
find(const struct connlimit *limit, const unsigned char *a, size_t b,
    int *prev)
{
	int i, p = -1;

	for (i = limit->buckets[b]; i >= 0; p = i, i = limit->nodes[i].next)
		if (memcmp(limit->nodes[i].addr, a, 16) == 0)
			break;
	if (prev != NULL)
		*prev = p;
	return i;
}

/* Count a connection from sa unless a cap is reached. */
enum connlimit_verdict
connlimit_acquire(struct connlimit *limit, const struct sockaddr *sa,
    socklen_t salen, struct connlimit_key *key)
{
	size_t b;
	int i;

	if (limit->total >= limit->max_total)
		return CONNLIMIT_TOTAL;
	if (!key_of(sa, salen, key)) {
		limit->total++;
		return CONNLIMIT_OK;
	}
	b = bucket_of(limit, key->addr);
	if ((i = find(limit, key->addr, b, NULL)) >= 0) {
		if (limit->max_per_addr != 0 &&
		    limit->nodes[i].count >= limit->max_per_addr)
			return CONNLIMIT_ADDR;
		limit->nodes[i].count++;
		limit->total++;
		return CONNLIMIT_OK;
	}
	/* total < max_total, so a node is free. */
	i = limit->free;
	limit->free = limit->nodes[i].next;
	memcpy(limit->nodes[i].addr, key->addr, 16);
	limit->nodes[i].count = 1;
	limit->nodes[i].next = limit->buckets[b];
	limit->buckets[b] = i;
	limit->total++;
	return CONNLIMIT_OK;
}

/* Forget one connection counted under key. */
void
connlimit_release(struct connlimit *limit, const struct connlimit_key *key)
{
	size_t b;
	int i, prev;

	if (limit->total == 0)
		return;
	limit->total--;
	if (!key->ip)
		return;
	b = bucket_of(limit, key->addr);
	if ((i = find(limit, key->addr, b, &prev)) < 0)
		return;
	if (--limit->nodes[i].count > 0)
		return;
	if (prev < 0)
		limit->buckets[b] = limit->nodes[i].next;
	else
		limit->nodes[prev].next = limit->nodes[i].next;
	limit->nodes[i].next = limit->free;
	limit->free = i;
}

/* Open connections in total. */
unsigned
connlimit_total(const struct connlimit *limit)
{
	return limit->total;
}

/* Open connections from the address of key (0 for non-IP keys). */
unsigned
connlimit_count(const struct connlimit *limit, const struct connlimit_key *key)
{
	int i;

	if (!key->ip)
		return 0;
	i = find(limit, key->addr, bucket_of(limit, key->addr), NULL);
	return i < 0 ? 0 : limit->nodes[i].count;
}

/* The address of key as text, "local" for non-IP peers. */
void
connlimit_key_str(const struct connlimit_key *key, char *buf, size_t len)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	if (len == 0)
		return;
	if (!key->ip)
		snprintf(buf, len, "local");
	else if (memcmp(key->addr, mapped, 12) == 0) {
		if (inet_ntop(AF_INET, key->addr + 12, buf, (socklen_t)len) ==
		    NULL)
			buf[0] = '\0';
	} else if (inet_ntop(AF_INET6, key->addr, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
}
