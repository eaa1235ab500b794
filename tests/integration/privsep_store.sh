#!/bin/sh
# privsep_store: with --store, the Redis connections are the network
# process's. A real redis-server (password, db 3); certo --store issue
# waits in its --dns-hook, which records every certo process from /proc:
# the one holding the state directory has no TCP or UDP socket; one
# process holds a TCP connection to the Redis port, runs under the
# seccomp filter (Seccomp: 2) and, when the tests run as root, not as
# root. The run completes, the chain verifies to Pebble's root and the
# set is in the store. In the first run the store locks, with a short
# TTL, are renewed meanwhile by their threads over connections of their
# own (two or more in the network process) and none expires. Done with redis://127.0.0.1:PORT, then with
# redis://localhost:PORT (the name resolved inside the sandbox), then
# redis+unix:// (a second server on a unix socket only). certo ratelimit
# --store reads a 3 MiB value (several slices) byte for byte, and one
# over kv.h's 4 MiB cap is refused as without privilege separation.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
. "$IT_DIR/cluster_lib.sh"
. "$IT_DIR/privsep_lib.sh"
it_init privsep_store
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

PW="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cl_start_redis $((IT_BASEPORT + 4)) "$PW"
RPORT=$CL_REDIS_PORT
KEY="$IT_TMP/store.key"
head -c 32 /dev/urandom >"$KEY" && chmod 600 "$KEY" || fail "cannot make the key file"

# make_hook N [SLEEP]: $IT_TMP/hook-N records (once, at add, after SLEEP
# seconds) one line per certo process into $IT_TMP/proc-N: pid uid
# seccomp inet-sockets holds-state redis-connections (privsep_lib.sh);
# then runs the real hook.
make_hook() {
	ps_make_hook "$IT_TMP/hook-$1" "$IT_TMP/proc-$1" "${2:-0}" "$RPORT"
}

# issue N STORE NAME [SLEEP]: certo --store STORE issue NAME through
# hook-N.
issue() {
	make_hook "$1" "${4:-0}"
	it_certo --store "$2" issue --store-key "$KEY" -d "$3" --challenge dns-01 \
		--dns-hook "$IT_TMP/hook-$1" --dns-resolver "127.0.0.1:$DNS_PORT" \
		--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$IT_STATE" --agree-tos -m t@example.com
	it_expect_rc 0 "issue $3 with --store (run $1)"
	it_check_issued "$3" "$3"
	! grep -qF -- "$PW" "$IT_OUT" "$IT_ERR" || fail "run $1 printed the store password"
}

# check N: what hook-N saw.
check() {
	_snap="$IT_TMP/proc-$1"
	[ -s "$_snap" ] || fail "run $1: the hook recorded no certo process"
	it_log "run $1 (pid uid seccomp inet-sockets holds-state redis-connections):"
	sed 's/^/    /' "$_snap"
	[ "$(wc -l <"$_snap")" -ge 2 ] || fail "run $1: fewer than 2 certo processes"
	awk '$5 == 1' "$_snap" | grep -q . || fail "run $1: no certo process holds the state directory"
	bad=$(awk '$5 == 1 && ($4 > 0 || $6 > 0) { print $1 }' "$_snap")
	[ -z "$bad" ] || fail "run $1: the state directory's holder ($bad) has a TCP/UDP socket"
	net=$(awk '$6 > 0 && $5 == 0 { print $1 }' "$_snap")
	[ -n "$net" ] || fail "run $1: no certo process without the state directory is connected to redis port $CL_REDIS_PORT"
	bad=$(awk '$6 > 0 && $3 != 2 { print $1 }' "$_snap")
	[ -z "$bad" ] || fail "run $1: process(es) $bad talk to redis without a seccomp filter"
	if [ "$(id -u)" = 0 ]; then
		bad=$(awk '$6 > 0 && $2 == 0 { print $1 }' "$_snap")
		[ -z "$bad" ] || fail "run $1: process(es) $bad talk to redis as root"
	fi
}

# Run 1 with a short store lock TTL, the hook waiting 1.5 s: the locks'
# renewer threads extend them on channels (so Redis connections) of their
# own, and no lock expires.
CERTO_STORE_LOCK_TTL_MS=600
export CERTO_STORE_LOCK_TTL_MS
issue 1 "redis://:$PW@127.0.0.1:$CL_REDIS_PORT/3" ip.ps.certo.test 1.5
unset CERTO_STORE_LOCK_TTL_MS
check 1
n=$(awk '$6 > 0 && $5 == 0 { s += $6 } END { print s + 0 }' "$IT_TMP/proc-1")
[ "$n" -ge 2 ] || fail "run 1: $n Redis connection(s) in the network process while locks were renewed (one per key-process thread expected: 2 or more)"
! grep -q "had expired" "$IT_ERR" || fail "run 1: a store lock expired: $(cat "$IT_ERR")"
issue 2 "redis://:$PW@localhost:$CL_REDIS_PORT/3" name.ps.certo.test
check 2
# The sets are in the store (the key process could only have put them
# there through the network process).
n=$(cl_redis -n 3 --scan --pattern 'certo:*' | wc -l)
[ "$n" -ge 2 ] || fail "the store holds $n certo keys after two issues"

# ratelimit (network process started for --store): a 3 MiB value crosses
# in slices byte for byte into the state directory; one over kv.h's 4 MiB
# reply cap is refused as before (the host's copy kept).
RL=certo:ratelimit:acme-v02.api.letsencrypt.org
RLFILE="$IT_STATE/ratelimits/acme-v02.api.letsencrypt.org.json"
head -c 2300000 /dev/urandom | base64 -w0 >"$IT_TMP/big"
cl_redis -n 3 -x set "$RL" <"$IT_TMP/big" >/dev/null || fail "redis-cli set failed"
it_certo --store "redis://:$PW@localhost:$CL_REDIS_PORT/3" ratelimit --state-dir "$IT_STATE"
it_expect_rc 0 "ratelimit with 3 MiB of memory in the store"
cmp -s "$IT_TMP/big" "$RLFILE" || fail "the 3 MiB value did not arrive byte for byte"
head -c 4300000 /dev/urandom | base64 -w0 | cl_redis -n 3 -x set "$RL" >/dev/null ||
	fail "redis-cli set failed"
it_certo --store "redis://:$PW@localhost:$CL_REDIS_PORT/3" ratelimit --state-dir "$IT_STATE"
it_expect_rc 0 "ratelimit with 5.7 MiB of memory in the store"
grep -qF "reply over 4194304 bytes; using this host's copy" "$IT_ERR" ||
	fail "a reply over 4 MiB was not refused: $(cat "$IT_ERR")"
cmp -s "$IT_TMP/big" "$RLFILE" || fail "the host's copy changed after a refused reply"
! grep -qF -- "$PW" "$IT_OUT" "$IT_ERR" || fail "ratelimit printed the store password"

# redis+unix://: a second server on a unix socket only, which the
# network process's user (nobody when the tests run as root) may reach.
SOCK="$IT_TMP/redis-unix/redis.sock"
mkdir -p "$IT_TMP/redis-unix" && chmod 711 "$IT_TMP" "$IT_TMP/redis-unix" ||
	fail "cannot make the unix socket's directory"
redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 777 --save '' --appendonly no \
	--dir "$IT_TMP/redis-unix" --daemonize no >>"$IT_TMP/redis-unix.log" 2>&1 </dev/null &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
n=100
while [ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" != PONG ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the unix-socket redis-server did not answer within 10 s"
	sleep 0.1
done
issue 3 "redis+unix://$SOCK?db=2" unix.ps.certo.test
n=$(redis-cli -s "$SOCK" -n 2 --scan --pattern 'certo:*' | wc -l)
[ "$n" -ge 1 ] || fail "the unix-socket store holds no certo key after the issue"
it_pass
