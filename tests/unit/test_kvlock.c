/*
 * Store locks (client/kvlock.c) against a real redis-server that the
 * fixture starts on a free loopback port (exit 77, skipped, without
 * one): of two holders only one gets the lock; a holder whose lock was
 * taken over does not delete the new holder's; a crashed holder's lock
 * expires after the TTL; a held lock is extended past its TTL.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "kv.h"
#include "kvlock.h"

#define KEY "certo:lock:test"
#define TTL_MS 300

static char *redis_dir;
static pid_t redis_pid = -1;
static char redis_url[64];

/* A port nothing listens on now (bound once to port 0, then closed). */
static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* 1 once something accepts connections on 127.0.0.1:port. */
static int
port_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* redis-server on a free port in redis_dir, answering within 5 s: 0. */
static int
redis_start(void)
{
	char portstr[16], *log = tu_path(redis_dir, "redis.log");
	int port = free_port();

	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((redis_pid = fork()) == 0) {
		if (freopen(log, "w", stdout) == NULL ||
		    dup2(fileno(stdout), 2) < 0)
			_exit(126);
		execlp("redis-server", "redis-server", "--port", portstr,
		    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		    "--dir", redis_dir, "--daemonize", "no", (char *)NULL);
		_exit(127);
	}
	free(log);
	assert_true(redis_pid > 0);
	for (int i = 0; i < 50; i++) {
		if (port_open(port)) {
			snprintf(redis_url, sizeof(redis_url),
			    "redis://127.0.0.1:%d", port);
			return 0;
		}
		if (waitpid(redis_pid, NULL, WNOHANG) == redis_pid) {
			redis_pid = -1;    /* the port was taken meanwhile */
			return -1;
		}
		usleep(100 * 1000);
	}
	return -1;
}

static void
redis_stop(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
	}
	redis_pid = -1;
}

static int
setup(void **state)
{
	(void)state;
	redis_dir = tu_tmpdir();
	/* Another run may take the free port first: three tries. */
	for (int i = 0; i < 3; i++)
		if (redis_start() == 0)
			break;
	if (redis_pid <= 0)
		fail_msg("redis-server did not start (see %s/redis.log)",
		    redis_dir);
	setenv("CERTO_STORE_WAIT", "2", 1);
	setenv("CERTO_LOCK_WAIT", "0", 1);
	setenv("CERTO_STORE_LOCK_TTL_MS", "300", 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	redis_stop();
	tu_rmtree(redis_dir);
	free(redis_dir);
	return 0;
}

/* A new connection to the fixture's server. */
static struct kv *
conn(void)
{
	struct kv *kv = NULL;

	assert_int_equal(kv_open(redis_url, &kv), 0);
	return kv;
}

/* The lock key's value now (malloc'd), NULL when it is gone. */
static char *
lock_value(struct kv *kv)
{
	char *val = NULL;

	assert_true(kv_get(kv, KEY, &val, NULL) >= 0);
	return val;
}

/* The lock key's remaining time to live in ms (-2: no key). */
static long long
lock_pttl(struct kv *kv)
{
	struct kv_reply *r = NULL;
	long long v;

	assert_int_equal(kv_command(kv, &r, "PTTL %s", KEY), 0);
	assert_int_equal(r->type, KV_INT);
	v = r->integer;
	kv_reply_free(r);
	return v;
}

/* Two holders on two connections: the second is refused while held. */
static void
test_two_holders(void **state)
{
	struct kv *a = conn(), *b = conn();
	struct kvlock *la = NULL, *lb = NULL;
	bool waited = true;
	char *val;

	(void)state;
	assert_int_equal(kvlock_acquire(a, KEY, "test", &la, &waited), 0);
	assert_non_null(la);
	assert_false(waited);
	val = lock_value(b);
	assert_non_null(val);
	assert_int_equal(strlen(val), 32);     /* the holder's token */
	certo_errclear();
	assert_int_equal(kvlock_acquire(b, KEY, "test", &lb, &waited),
	    CERTO_EBUSY);
	assert_null(lb);
	assert_true(waited);
	assert_non_null(strstr(certo_errmsg(), KEY));
	kvlock_release(la);
	assert_null(lock_value(b));
	/* Free again: the second holder gets it now. */
	assert_int_equal(kvlock_acquire(b, KEY, "test", &lb, &waited), 0);
	assert_false(waited);
	kvlock_release(lb);
	free(val);
	kv_close(a);
	kv_close(b);
}

/*
 * A's lock is gone behind its back (as when it expired) and B holds the
 * key now: A's release leaves B's lock alone.
 */
static void
test_release_by_non_holder(void **state)
{
	struct kv *a = conn(), *b = conn();
	struct kvlock *la = NULL, *lb = NULL;
	char *before, *after;

	(void)state;
	assert_int_equal(kvlock_acquire(a, KEY, "test", &la, NULL), 0);
	assert_int_equal(kv_del(b, KEY), 0);
	assert_int_equal(kvlock_acquire(b, KEY, "test", &lb, NULL), 0);
	before = lock_value(b);
	assert_non_null(before);
	kvlock_release(la);
	after = lock_value(b);
	assert_non_null(after);
	assert_string_equal(before, after);
	kvlock_release(lb);
	assert_null(lock_value(a));
	free(before);
	free(after);
	kv_close(a);
	kv_close(b);
}

/*
 * A holder killed while holding (no release, no renewal): the key keeps
 * at most the TTL, and another holder gets the lock once it expired.
 */
static void
test_expiry_after_ttl(void **state)
{
	struct kv *kv;
	struct kvlock *lock = NULL;
	bool waited = false;
	long long pttl;
	int p[2], status;
	char c;
	pid_t child;

	(void)state;
	assert_int_equal(pipe(p), 0);
	if ((child = fork()) == 0) {
		struct kv *ckv = NULL;
		struct kvlock *cl = NULL;

		close(p[0]);
		if (kv_open(redis_url, &ckv) != 0 ||
		    kvlock_acquire(ckv, KEY, "test", &cl, NULL) != 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	assert_true(child > 0);
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	kv = conn();
	pttl = lock_pttl(kv);
	assert_true(pttl > 0 && pttl <= TTL_MS);
	certo_errclear();
	assert_int_equal(kvlock_acquire(kv, KEY, "test", &lock, NULL),
	    CERTO_EBUSY);
	/* Waiting up to 5 s, it is ours once the dead holder's expired. */
	setenv("CERTO_LOCK_WAIT", "5", 1);
	assert_int_equal(kvlock_acquire(kv, KEY, "test", &lock, &waited), 0);
	setenv("CERTO_LOCK_WAIT", "0", 1);
	assert_true(waited);
	kvlock_release(lock);
	kv_close(kv);
}

/*
 * A held lock outlives three TTLs, keeps its token, stays exclusive (a
 * 600 ms TTL, renewed every 200 ms, leaves room for a loaded machine).
 */
static void
test_extended_while_held(void **state)
{
	struct kv *a = conn(), *b = conn();
	struct kvlock *la = NULL, *lb = NULL;
	char *before, *after;

	(void)state;
	setenv("CERTO_STORE_LOCK_TTL_MS", "600", 1);
	assert_int_equal(kvlock_ttl_ms(), 600);
	assert_int_equal(kvlock_acquire(a, KEY, "test", &la, NULL), 0);
	setenv("CERTO_STORE_LOCK_TTL_MS", "300", 1);
	before = lock_value(b);
	assert_non_null(before);
	usleep(3 * 600 * 1000);
	after = lock_value(b);
	assert_non_null(after);
	assert_string_equal(before, after);
	assert_true(lock_pttl(b) > 0);
	assert_int_equal(kvlock_acquire(b, KEY, "test", &lb, NULL),
	    CERTO_EBUSY);
	kvlock_release(la);
	assert_null(lock_value(b));
	free(before);
	free(after);
	kv_close(a);
	kv_close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_holders),
		cmocka_unit_test(test_release_by_non_holder),
		cmocka_unit_test(test_expiry_after_ttl),
		cmocka_unit_test(test_extended_while_held),
	};
	if (system("command -v redis-server >/dev/null 2>&1") != 0) {
		printf("redis-server not installed: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
