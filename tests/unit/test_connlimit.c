/*
 * Connection caps (responder/connlimit.h) on their own: per address
 * (IPv4-mapped IPv6 counts as IPv4), in total, non-IP peers, and many
 * addresses coming and going through the fixed node pool.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "connlimit.h"
#include "errors.h"

static void
sa4(struct sockaddr_in *sa, const char *ip)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &sa->sin_addr), 1);
}

static void
sa6(struct sockaddr_in6 *sa, const char *ip)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &sa->sin6_addr), 1);
}

/* connlimit on its own: per address (IPv4-mapped IPv6 is IPv4), total. */
static void
test_connlimit(void **state)
{
	struct connlimit *limit;
	struct connlimit_key k1, k2, k3, k4, k5, kx;
	struct sockaddr_in v4;
	struct sockaddr_in6 mapped, v6;
	struct sockaddr un = { .sa_family = AF_UNIX };
	char buf[64];

	(void)state;
	assert_int_equal(connlimit_new(0, 1, &limit), CERTO_EUSAGE);
	assert_int_equal(connlimit_new(4, 2, &limit), 0);
	sa4(&v4, "192.0.2.1");
	sa6(&mapped, "::ffff:192.0.2.1");
	sa6(&v6, "2001:db8::1");
	assert_int_equal(connlimit_acquire(limit, (struct sockaddr *)&v4,
	    sizeof(v4), &k1), CONNLIMIT_OK);
	assert_int_equal(connlimit_acquire(limit, (struct sockaddr *)&mapped,
	    sizeof(mapped), &k2), CONNLIMIT_OK);
	assert_int_equal(connlimit_count(limit, &k1), 2);
	/* The same address, either way it is written. */
	assert_int_equal(connlimit_acquire(limit, (struct sockaddr *)&v4,
	    sizeof(v4), &kx), CONNLIMIT_ADDR);
	assert_int_equal(connlimit_acquire(limit, (struct sockaddr *)&mapped,
	    sizeof(mapped), &kx), CONNLIMIT_ADDR);
	assert_int_equal(connlimit_acquire(limit, (struct sockaddr *)&v6,
	    sizeof(v6), &k3), CONNLIMIT_OK);
	assert_int_equal(connlimit_acquire(limit, &un, sizeof(un), &k4),
	    CONNLIMIT_OK);
	assert_int_equal(connlimit_total(limit), 4);
	assert_int_equal(connlimit_acquire(limit, (struct sockaddr *)&v6,
	    sizeof(v6), &kx), CONNLIMIT_TOTAL);
	connlimit_key_str(&k2, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1");
	connlimit_key_str(&k3, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");
	connlimit_key_str(&k4, buf, sizeof(buf));
	assert_string_equal(buf, "local");
	connlimit_release(limit, &k1);
	assert_int_equal(connlimit_count(limit, &k2), 1);
	assert_int_equal(connlimit_acquire(limit, (struct sockaddr *)&v4,
	    sizeof(v4), &k5), CONNLIMIT_OK);
	connlimit_release(limit, &k2);
	connlimit_release(limit, &k5);
	assert_int_equal(connlimit_count(limit, &k5), 0);
	connlimit_release(limit, &k3);
	connlimit_release(limit, &k4);
	assert_int_equal(connlimit_total(limit), 0);
	/* Many addresses come and go through the fixed pool. */
	for (int round = 0; round < 3; round++) {
		struct connlimit_key keys[4];
		for (int i = 0; i < 4; i++) {
			snprintf(buf, sizeof(buf), "198.51.100.%d", round * 4 + i);
			sa4(&v4, buf);
			assert_int_equal(connlimit_acquire(limit,
			    (struct sockaddr *)&v4, sizeof(v4), &keys[i]),
			    CONNLIMIT_OK);
		}
		for (int i = 0; i < 4; i++)
			connlimit_release(limit, &keys[i]);
	}
	assert_int_equal(connlimit_total(limit), 0);
	connlimit_free(limit);
	connlimit_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connlimit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
