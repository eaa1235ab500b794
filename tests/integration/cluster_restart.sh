#!/bin/sh
# cluster_restart: the store going away under certo and certo-responder.
# 1. Redis (append-only file, so it comes back with its keys) is stopped
#    while certo --store issue has its challenges published, and started
#    again a second later: certo reconnects, the order issues, the replica
#    subscribes again, and the store holds no challenge afterwards.
# 2. Redis stopped for good: certo --store issue fails after
#    $CERTO_STORE_WAIT seconds with exit 8 and one line naming the store
#    (password hidden); nothing under live/, no temporary files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
it_init cluster_restart
it_need_pebble
command -v redis-server >/dev/null 2>&1 || it_skip "redis-server not installed"
it_start_pebble

PW="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cl_start_redis $((IT_BASEPORT + 4)) "$PW" aof
# One replica straight on the ports Pebble validates.
cl_start_replica 1 "$IT_HTTP_PORT" "$IT_TLS_PORT"
head -c 32 /dev/urandom >"$IT_TMP/store.key"
chmod 600 "$IT_TMP/store.key"
common="--store $CL_STORE --store-key $IT_TMP/store.key --server $PEBBLE_DIR_URL --ca-bundle $PEBBLE_CA_BUNDLE --state-dir $IT_STATE --agree-tos --email test@example.com"

# --- 1. stopped and restarted while the challenges are published
# The replica is held with SIGSTOP (it accepts, never answers), so the
# CA's validation waits and the challenges stay published however fast
# Pebble is; it goes on once Redis is back.
kill -STOP "$CL_PID_1"
# shellcheck disable=SC2086
it_certo_bg issue $common -d re1.cluster.test -d re2.cluster.test
n=200
while [ -z "$(cl_chall_keys 2>/dev/null)" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "no challenge appeared in the store within 20 s"
	it_bg_running || fail "certo exited before publishing (exit: see stderr)"
	sleep 0.1
done
cl_stop_redis
sleep 1
cl_redis_run
kill -CONT "$CL_PID_1"
it_certo_bg_wait 40
it_expect_rc 0 "issue across a Redis restart"
it_check_issued re1.cluster.test re1.cluster.test re2.cluster.test
cl_expect_no_chall "after the restart run"
grep -qF "$PW" "$IT_OUT" "$IT_ERR" && fail "the store password was printed"
# The replica noticed and subscribed again.
n=50
while ! grep -q "subscribed again" "$IT_TMP/r1.log"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the replica did not subscribe again: $(tail -n 5 "$IT_TMP/r1.log")"
	sleep 0.1
done

# --- 2. stopped for good: a bounded wait, then exit 8 naming the store
cl_stop_redis
CERTO_STORE_WAIT=2
export CERTO_STORE_WAIT
# shellcheck disable=SC2086
it_certo issue $common -d down.cluster.test
unset CERTO_STORE_WAIT
it_expect_rc 8 "issue with the store down"
it_expect_err_one_line "issue with the store down"
it_expect_err_contains "store redis://:***@127.0.0.1:$CL_REDIS_PORT/3 unreachable"
it_expect_err_contains "retried for 2 s"
grep -qF "$PW" "$IT_OUT" "$IT_ERR" && fail "the store password was printed"
[ -d "$IT_STATE/live/down.cluster.test" ] && fail "a live set exists after the store was down"
it_expect_no_tmp
# Back up: nothing was left behind by the failed run.
cl_redis_run
cl_expect_no_chall "after the failed run"
it_pass
