/* The messages between certo's two processes (common/privsep_msg.h). */
#include "testutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"
#include "privsep_msg.h"

/* A socketpair: [0] writes, [1] reads. */
static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

/* Every kind of field comes back, in order, through a socket. */
static void
test_round_trip(void **state)
{
	struct privsep_msg m, r;
	char *s = NULL, *b = NULL;
	uint64_t u;
	int64_t i;
	size_t n;
	int sv[2];

	(void)state;
	pair(sv);
	privsep_msg_init(&m, 7);
	assert_int_equal(privsep_put_u64(&m, UINT64_MAX), 0);
	assert_int_equal(privsep_put_i64(&m, -5), 0);
	assert_int_equal(privsep_put_str(&m, "héllo"), 0);
	assert_int_equal(privsep_put_str(&m, NULL), 0);
	assert_int_equal(privsep_put_bytes(&m, "a\0b", 3), 0);
	assert_int_equal(privsep_send(sv[0], &m), 0);
	assert_int_equal(privsep_recv(sv[1], &r, 1024), 0);
	assert_int_equal(r.type, 7);
	assert_int_equal(privsep_get_u64(&r, &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(privsep_get_i64(&r, &i), 0);
	assert_true(i == -5);
	assert_int_equal(privsep_get_str(&r, &s), 0);
	assert_string_equal(s, "héllo");
	free(s);
	assert_int_equal(privsep_get_str(&r, &s), 0);
	assert_null(s);
	assert_int_equal(privsep_get_bytes(&r, &b, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "a\0b", 3);
	free(b);
	/* Past the end: refused, and every later get too. */
	assert_int_equal(privsep_get_u64(&r, &u), CERTO_EPRIVSEP);
	assert_int_equal(r.err, CERTO_EPRIVSEP);
	privsep_msg_free(&m);
	privsep_msg_free(&r);
	close(sv[0]);
	close(sv[1]);
}

/* A field of another kind, or a string holding a NUL, is refused. */
static void
test_wrong_kind(void **state)
{
	struct privsep_msg m;
	char *s = NULL;
	uint64_t u;

	(void)state;
	privsep_msg_init(&m, 1);
	assert_int_equal(privsep_put_i64(&m, 1), 0);
	assert_int_equal(privsep_put_bytes(&m, "x\0y", 3), 0);
	assert_int_equal(privsep_get_u64(&m, &u), CERTO_EPRIVSEP);
	/* Sticky: the next get fails the same way, whatever it is. */
	assert_int_equal(privsep_get_str(&m, &s), CERTO_EPRIVSEP);
	assert_null(s);
	privsep_msg_free(&m);

	privsep_msg_init(&m, 1);
	assert_int_equal(privsep_put_bytes(&m, "x\0y", 3), 0);
	m.buf.data[0] = 4; /* claim it is a string */
	assert_int_equal(privsep_get_str(&m, &s), CERTO_EPRIVSEP);
	assert_null(s);
	privsep_msg_free(&m);
}

/* A length field beyond the payload is refused, not read past. */
static void
test_truncated(void **state)
{
	struct privsep_msg m;
	char *s = NULL;

	(void)state;
	privsep_msg_init(&m, 1);
	assert_int_equal(privsep_put_str(&m, "abcdef"), 0);
	m.buf.len -= 3;
	assert_int_equal(privsep_get_str(&m, &s), CERTO_EPRIVSEP);
	assert_null(s);
	privsep_msg_free(&m);
}

/* Headers: bad magic, another version, over the cap, end of file. */
static void
test_bad_headers(void **state)
{
	static const unsigned char magic[10] = { 'x', 'x', 1, 0, 1, 0 };
	static const unsigned char version[10] = { 0x45, 0x43, 9, 0, 1, 0 };
	unsigned char big[10] = { 0x45, 0x43, 1, 0, 1, 0, 0, 0, 0x10, 0 };
	struct privsep_msg r;
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(write(sv[0], magic, sizeof(magic)), 10);
	assert_int_equal(privsep_recv(sv[1], &r, 1024), CERTO_EPRIVSEP);
	privsep_msg_free(&r);
	assert_int_equal(write(sv[0], version, sizeof(version)), 10);
	assert_int_equal(privsep_recv(sv[1], &r, 1024), CERTO_EPRIVSEP);
	privsep_msg_free(&r);
	/* 1 MiB announced, 1 KiB allowed: refused before any allocation. */
	assert_int_equal(write(sv[0], big, sizeof(big)), 10);
	assert_int_equal(privsep_recv(sv[1], &r, 1024), CERTO_EPRIVSEP);
	privsep_msg_free(&r);
	close(sv[0]);
	assert_int_equal(privsep_recv(sv[1], &r, 1024), CERTO_EPRIVSEP);
	privsep_msg_free(&r);
	close(sv[1]);
}

/* A descriptor passed over the socket is the same open file. */
static void
test_pass_fd(void **state)
{
	int sv[2], p[2], fd;
	char c = 0;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(privsep_send_fd(sv[0], p[1]), 0);
	fd = privsep_recv_fd(sv[1]);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "z", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'z');
	close(fd);
	close(sv[0]);
	assert_int_equal(privsep_recv_fd(sv[1]), -EPIPE);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_pass_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
