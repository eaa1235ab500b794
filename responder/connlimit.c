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

int
connlimit_new(unsigned max_total, unsigned max_per_addr,
    struct connlimit **out)
{
	struct connlimit *cl;
	size_t i;

	*out = NULL;
	if (max_total == 0)
		return CERTO_EUSAGE;
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return CERTO_ENOMEM;
	cl->max_total = max_total;
	cl->max_per_addr = max_per_addr;
	for (cl->nbuckets = 16; cl->nbuckets < max_total; cl->nbuckets *= 2)
		;
	cl->buckets = malloc(cl->nbuckets * sizeof(*cl->buckets));
	cl->nodes = malloc((size_t)max_total * sizeof(*cl->nodes));
	if (cl->buckets == NULL || cl->nodes == NULL) {
		connlimit_free(cl);
		return CERTO_ENOMEM;
	}
	for (i = 0; i < cl->nbuckets; i++)
		cl->buckets[i] = -1;
	for (i = 0; i < max_total; i++)
		cl->nodes[i].next = i + 1 < max_total ? (int)(i + 1) : -1;
	cl->free = 0;
	if (getrandom(&cl->seed, sizeof(cl->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(cl->seed))
		cl->seed = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)cl;
	*out = cl;
	return 0;
}

void
connlimit_free(struct connlimit *cl)
{
	if (cl == NULL)
		return;
	free(cl->buckets);
	free(cl->nodes);
	free(cl);
}

/* The 16-byte key of an IP address; 0 for anything else. */
static int
key_of(const struct sockaddr *sa, socklen_t salen, struct connlimit_key *k)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	memset(k, 0, sizeof(*k));
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET &&
	    salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		memcpy(k->addr, mapped, 12);
		memcpy(k->addr + 12, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, 4);
		k->ip = 1;
	} else if (sa->sa_family == AF_INET6 &&
	    salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		memcpy(k->addr, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, 16);
		k->ip = 1;
	}
	return k->ip;
}

static size_t
bucket_of(const struct connlimit *cl, const unsigned char *a)
{
	uint32_t h = 2166136261u ^ cl->seed;

	for (int i = 0; i < 16; i++) {
		h ^= a[i];
		h *= 16777619u;
	}
	h ^= h >> 15;
	return h & (cl->nbuckets - 1);
}

/* The node of this address, or -1; *prev gets its predecessor. */
static int
find(const struct connlimit *cl, const unsigned char *a, size_t b, int *prev)
{
	int i, p = -1;

	for (i = cl->buckets[b]; i >= 0; p = i, i = cl->nodes[i].next)
		if (memcmp(cl->nodes[i].addr, a, 16) == 0)
			break;
	if (prev != NULL)
		*prev = p;
	return i;
}

enum connlimit_verdict
connlimit_acquire(struct connlimit *cl, const struct sockaddr *sa,
    socklen_t salen, struct connlimit_key *key)
{
	size_t b;
	int i;

	if (cl->total >= cl->max_total)
		return CONNLIMIT_TOTAL;
	if (!key_of(sa, salen, key)) {
		cl->total++;
		return CONNLIMIT_OK;
	}
	b = bucket_of(cl, key->addr);
	if ((i = find(cl, key->addr, b, NULL)) >= 0) {
		if (cl->max_per_addr != 0 &&
		    cl->nodes[i].count >= cl->max_per_addr)
			return CONNLIMIT_ADDR;
		cl->nodes[i].count++;
		cl->total++;
		return CONNLIMIT_OK;
	}
	/* total < max_total, so a node is free. */
	i = cl->free;
	cl->free = cl->nodes[i].next;
	memcpy(cl->nodes[i].addr, key->addr, 16);
	cl->nodes[i].count = 1;
	cl->nodes[i].next = cl->buckets[b];
	cl->buckets[b] = i;
	cl->total++;
	return CONNLIMIT_OK;
}

void
connlimit_release(struct connlimit *cl, const struct connlimit_key *key)
{
	size_t b;
	int i, prev;

	if (cl->total == 0)
		return;
	cl->total--;
	if (!key->ip)
		return;
	b = bucket_of(cl, key->addr);
	if ((i = find(cl, key->addr, b, &prev)) < 0)
		return;
	if (--cl->nodes[i].count > 0)
		return;
	if (prev < 0)
		cl->buckets[b] = cl->nodes[i].next;
	else
		cl->nodes[prev].next = cl->nodes[i].next;
	cl->nodes[i].next = cl->free;
	cl->free = i;
}

unsigned
connlimit_total(const struct connlimit *cl)
{
	return cl->total;
}

unsigned
connlimit_count(const struct connlimit *cl, const struct connlimit_key *key)
{
	int i;

	if (!key->ip)
		return 0;
	i = find(cl, key->addr, bucket_of(cl, key->addr), NULL);
	return i < 0 ? 0 : cl->nodes[i].count;
}

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
