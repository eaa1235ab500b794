/*
 * The store connection (common/kv.c) against a scripted fake Redis on a
 * loopback port: typed replies, refused credentials, replies over the caps,
 * error replies, an unreachable store within $CERTO_STORE_WAIT.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "errors.h"
#include "kv.h"

enum fake_mode { FAKE_OK, FAKE_WRONGPASS, FAKE_BIG, FAKE_ARRAY, FAKE_ERR };

static atomic_int fake_mode;
static int fake_lfd = -1;
static char *fake_dir;
static char fake_url[200];
static int fake_port;
static pthread_t fake_thread;

static void
fake_send(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
fake_sends(int fd, const char *s)
{
	fake_send(fd, s, strlen(s));
}

/* One reply per command read: enough for kv.c, which waits for each. */
static void
fake_client(int fd)
{
	char buf[4096], *big;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		if (strstr(buf, "AUTH")) {
			if (atomic_load(&fake_mode) == FAKE_WRONGPASS)
				fake_sends(fd, "-WRONGPASS invalid username-password "
				    "pair\r\n");
			else
				fake_sends(fd, "+OK\r\n");
		} else if (strstr(buf, "SELECT")) {
			fake_sends(fd, "+OK\r\n");
		} else if (atomic_load(&fake_mode) == FAKE_BIG) {
			fake_sends(fd, "$8000000\r\n");
			if ((big = calloc(1, 1 << 20)) == NULL)
				return;
			for (int i = 0; i < 8; i++)
				fake_send(fd, big, 1 << 20);
			free(big);
		} else if (atomic_load(&fake_mode) == FAKE_ARRAY) {
			fake_sends(fd, "*200000\r\n:1\r\n:1\r\n");
		} else if (atomic_load(&fake_mode) == FAKE_ERR) {
			fake_sends(fd, "-ERR bad \x01thing\r\n");
		} else if (strstr(buf, "GET")) {
			fake_sends(fd, "$5\r\nhello\r\n");
		} else {
			fake_sends(fd, "*2\r\n:7\r\n$-1\r\n");
		}
	}
}

static void *
fake_main(void *arg)
{
	int fd;

	(void)arg;
	while ((fd = accept(fake_lfd, NULL, NULL)) >= 0) {
		fake_client(fd);
		close(fd);
	}
	return NULL;
}

static int
fake_start(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);

	(void)state;
	fake_dir = tu_tmpdir();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fake_lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fake_lfd >= 0);
	assert_int_equal(bind(fake_lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fake_lfd, (struct sockaddr *)&sa,
	    &salen), 0);
	fake_port = ntohs(sa.sin_port);
	snprintf(fake_url, sizeof(fake_url),
	    "redis://certo:s3cret@127.0.0.1:%d/2", fake_port);
	assert_int_equal(listen(fake_lfd, 8), 0);
	assert_int_equal(pthread_create(&fake_thread, NULL, fake_main, NULL), 0);
	return 0;
}

static int
fake_stop(void **state)
{
	(void)state;
	shutdown(fake_lfd, SHUT_RDWR);
	close(fake_lfd);
	pthread_join(fake_thread, NULL);
	tu_rmtree(fake_dir);
	free(fake_dir);
	return 0;
}

static void
test_typed_replies(void **state)
{
	struct kv_reply *r = NULL;
	struct kv *kv = NULL;
	char *val = NULL;
	size_t len = 0;

	(void)state;
	atomic_store(&fake_mode, FAKE_OK);
	assert_int_equal(kv_open(fake_url, &kv), 0);
	assert_int_equal(kv_get(kv, "certo:x", &val, &len), 1);
	assert_string_equal(val, "hello");
	assert_int_equal(len, 5);
	free(val);
	assert_int_equal(kv_command(kv, &r, "LRANGE %s 0 -1", "k"), 0);
	assert_int_equal(r->type, KV_ARRAY);
	assert_int_equal(r->nelem, 2);
	assert_int_equal(r->elem[0].type, KV_INT);
	assert_int_equal(r->elem[0].integer, 7);
	assert_int_equal(r->elem[1].type, KV_NIL);
	kv_reply_free(r);
	kv_close(kv);
}

static void
test_wrong_password(void **state)
{
	struct kv *kv = NULL;

	(void)state;
	atomic_store(&fake_mode, FAKE_WRONGPASS);
	certo_errclear();
	assert_int_equal(kv_open(fake_url, &kv), CERTO_ESTOREAUTH);
	assert_null(kv);
	assert_non_null(strstr(certo_errmsg(), "refused the credentials"));
	assert_non_null(strstr(certo_errmsg(), "redis://certo:***@127.0.0.1:"));
	assert_null(strstr(certo_errmsg(), "s3cret"));
	assert_int_equal(certo_exitcode(CERTO_ESTOREAUTH), CERTO_EXIT_STOREAUTH);
}

static void
test_caps(void **state)
{
	struct kv_reply *r = NULL;
	struct kv *kv = NULL;
	char *val = NULL;

	(void)state;
	atomic_store(&fake_mode, FAKE_OK);
	assert_int_equal(kv_open(fake_url, &kv), 0);
	atomic_store(&fake_mode, FAKE_BIG);
	certo_errclear();
	assert_int_equal(kv_get(kv, "big", &val, NULL), CERTO_ESTORE);
	assert_null(val);
	assert_non_null(strstr(certo_errmsg(), "reply over"));
	atomic_store(&fake_mode, FAKE_ARRAY);
	certo_errclear();
	assert_int_equal(kv_command(kv, &r, "KEYS *"), CERTO_ESTORE);
	assert_null(r);
	assert_non_null(strstr(certo_errmsg(), "reply refused"));
	atomic_store(&fake_mode, FAKE_ERR);
	certo_errclear();
	assert_int_equal(kv_command(kv, &r, "FOO"), CERTO_ESTORE);
	assert_non_null(strstr(certo_errmsg(), "ERR bad \\x01thing"));
	assert_true(tu_printable(certo_errmsg()));
	kv_close(kv);
}

static void
test_unreachable(void **state)
{
	struct kv *kv = NULL;
	char url[300];

	(void)state;
	setenv("CERTO_STORE_WAIT", "1", 1);
	snprintf(url, sizeof(url), "redis+unix://%s/nothing.sock?db=1",
	    fake_dir);
	certo_errclear();
	assert_int_equal(kv_open(url, &kv), CERTO_ESTORE);
	assert_null(kv);
	assert_non_null(strstr(certo_errmsg(), "unreachable"));
	assert_non_null(strstr(certo_errmsg(), "retried for 1 s"));
	assert_non_null(strstr(certo_errmsg(), "nothing.sock"));
	assert_int_equal(certo_exitcode(CERTO_ESTORE), CERTO_EXIT_STORE);
	unsetenv("CERTO_STORE_WAIT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typed_replies),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, fake_start, fake_stop);
}
