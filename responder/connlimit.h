/*
 * Connection caps for a listening server: at most max_total connections
 * at once, and at most max_per_addr from one client address (IPv4, and
 * IPv4-mapped IPv6, count as the IPv4 address).  One flooding client then
 * cannot take the descriptors that other clients, the other port and the
 * control socket need.  Not thread-safe: one owner thread (the
 * TLS-ALPN-01 event loop) or the caller's lock.
 */
#ifndef CERTO_CONNLIMIT_H
#define CERTO_CONNLIMIT_H

#include <sys/socket.h>

struct connlimit;

/* Where a connection was counted; kept by the caller until release. */
struct connlimit_key {
	unsigned char addr[16];
	int ip;          /* 0: not an IP address, counted in the total only */
};

enum connlimit_verdict {
	CONNLIMIT_OK = 0,
	CONNLIMIT_TOTAL,     /* max_total connections are open */
	CONNLIMIT_ADDR,      /* max_per_addr from this address are open */
};

/*
 * A limiter for max_total connections, max_per_addr per address (0: no
 * per-address cap).  Returns 0, CERTO_EUSAGE for max_total 0,
 * CERTO_ENOMEM.  Free with connlimit_free.
 */
int connlimit_new(unsigned max_total, unsigned max_per_addr,
    struct connlimit **out);
/* Free; NULL is fine. */
void connlimit_free(struct connlimit *limit);

/*
 * Count a new connection from sa (as accept() filled it).  CONNLIMIT_OK
 * fills *key and the caller must connlimit_release(key) when it closes;
 * otherwise nothing was counted and the caller closes at once.
 */
enum connlimit_verdict connlimit_acquire(struct connlimit *limit,
    const struct sockaddr *sa, socklen_t salen, struct connlimit_key *key);
/* Forget one connection counted under key. */
void connlimit_release(struct connlimit *limit,
    const struct connlimit_key *key);

/* Open connections in total, and from the address of key. */
unsigned connlimit_total(const struct connlimit *limit);
unsigned connlimit_count(const struct connlimit *limit,
    const struct connlimit_key *key);

/* "192.0.2.1" / "2001:db8::1" / "local" for messages. */
void connlimit_key_str(const struct connlimit_key *key, char *buf,
    size_t len);

#endif
