#!/bin/sh
# cluster_signals: certo --store issue withdraws its challenges from the
# store on every exit path.  The replica behind the validation port is
# stopped with SIGSTOP (it accepts, never answers), so the CA's
# validation hangs and certo is still waiting when it gets SIGINT, then
# (second run) SIGTERM: exit 130 both times, the store holds no challenge,
# nothing under live/.  Third run: no replica at all, the validation fails
# (exit 2) and the challenges are withdrawn too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
it_init cluster_signals
it_need_pebble
command -v redis-server >/dev/null 2>&1 || it_skip "redis-server not installed"
it_start_pebble

PW="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cl_start_redis $((IT_BASEPORT + 4)) "$PW"
cl_start_replica 1 "$IT_HTTP_PORT" "$IT_TLS_PORT"
head -c 32 /dev/urandom >"$IT_TMP/store.key"
chmod 600 "$IT_TMP/store.key"
common="--store $CL_STORE --store-key $IT_TMP/store.key --server $PEBBLE_DIR_URL --ca-bundle $PEBBLE_CA_BUNDLE --state-dir $IT_STATE --agree-tos --email test@example.com"

# wait_published: until the store holds a challenge (20 s).
wait_published() {
	n=200
	while [ -z "$(cl_chall_keys 2>/dev/null)" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "no challenge appeared in the store within 20 s"
		it_bg_running || fail "certo exited before publishing"
		sleep 0.1
	done
}

for sig in INT TERM; do
	# shellcheck disable=SC2086
	kill -STOP "$CL_PID_1"
	it_certo_bg -v issue $common -d sig$sig.cluster.test
	wait_published
	# Kept until the authorization expires (Pebble: an hour), not less.
	key=$(cl_chall_keys | head -n 1)
	ttl=$(cl_redis -n 3 pttl "$key")
	[ "$ttl" -gt 600000 ] || fail "the challenge's TTL in the store is $ttl ms"
	it_wait_grep "$IT_ERR" "until the authorization expires" 5
	sleep 0.5
	it_bg_running || fail "certo finished although the validation hangs"
	kill "-$sig" "$IT_BG_PID"
	it_certo_bg_wait 30
	kill -CONT "$CL_PID_1"
	it_expect_rc 130 "SIG$sig during the validation"
	cl_expect_no_chall "after SIG$sig"
	[ -d "$IT_STATE/live/sig$sig.cluster.test" ] && fail "a live set after SIG$sig"
	it_expect_no_tmp
done

# No replica: the CA cannot validate; the challenge goes all the same.
kill "$CL_PID_1"
wait "$CL_PID_1" 2>/dev/null
# shellcheck disable=SC2086
it_certo issue $common -d fail.cluster.test
it_expect_rc 2 "validation with no replica"
cl_expect_no_chall "after the failed validation"
it_pass
