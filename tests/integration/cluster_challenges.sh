#!/bin/sh
# cluster_challenges: a real redis-server, three certo-responder --store
# replicas behind a real HAProxy (round robin; HTTP frontend on the http-01
# port and TCP frontend on the tls-alpn-01 port Pebble validates).
# A token given to one replica's control socket is served by the others
# and withdrawn from all, one written without its message is read by
# every replica on a miss; certo --store issue (no other way chosen)
# issues an 8-name http-01 order and a 3-name tls-alpn-01 order (chains
# verify, SANs exact); one replica is SIGKILLed and another order still
# issues, and a renew goes through the store too; the store holds no
# challenge after each run; a wrong password
# is exit 9 with one line naming the store, the password never shown.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
it_init cluster_challenges
it_need_pebble
command -v haproxy >/dev/null 2>&1 || it_skip "haproxy not installed"
command -v redis-server >/dev/null 2>&1 || it_skip "redis-server not installed"
it_start_pebble

PW="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cl_start_redis $((IT_BASEPORT + 4)) "$PW"
B=$IT_BASEPORT
cl_start_replica 1 $((B + 20)) $((B + 21))
cl_start_replica 2 $((B + 22)) $((B + 23))
cl_start_replica 3 $((B + 24)) $((B + 25))
cl_start_haproxy "$IT_HTTP_PORT" "$IT_TLS_PORT" \
	"$((B + 20)):$((B + 21)) $((B + 22)):$((B + 23)) $((B + 24)):$((B + 25))"

# --- a token on replica 1's control socket is served by replicas 2 and 3
ctl() {
	it_ctl "$IT_TMP/r1.sock" "$1"
}
fetch() {  # PORT TOKEN -> body, or the HTTP status when not 200
	curl -s --max-time 5 -w '%{http_code}' -o "$IT_TMP/body" \
		"http://127.0.0.1:$1/.well-known/acme-challenge/$2" >"$IT_TMP/code"
	if [ "$(cat "$IT_TMP/code")" = 200 ]; then cat "$IT_TMP/body"; else cat "$IT_TMP/code"; fi
}
TOK=clusterTok_0123456789abcdefghijklmnopqrstuvwxyz
KA="$TOK.thumb_abcdefghijklmnopqrstuvwxyz0123456789AB"
[ "$(ctl "auth http-01 seen.certo.test $TOK $KA")" = OK ] || fail "auth refused on replica 1"
[ "$(cl_redis -n 3 get "certo:chall:http-01:$TOK")" = "seen.certo.test $TOK $KA" ] ||
	fail "the control socket's token is not in the store"
for p in $((B + 20)) $((B + 22)) $((B + 24)); do
	[ "$(fetch "$p" "$TOK")" = "$KA" ] || fail "replica on port $p does not serve the token published on replica 1"
done
[ "$(ctl "unauth http-01 seen.certo.test $TOK")" = OK ] || fail "unauth refused"
cl_expect_no_chall "after unauth"
# The withdraw message empties every cache within the bounded wait.
for p in $((B + 22)) $((B + 24)); do
	n=30
	while [ "$(fetch "$p" "$TOK")" != 404 ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "replica on port $p still serves a withdrawn token"
		sleep 0.1
	done
done

# A key written without its message (a replica that missed it): every
# replica finds it by its direct read on a miss.
cl_redis -n 3 set "certo:chall:http-01:$TOK" "miss.certo.test $TOK $KA" px 60000 >/dev/null
for p in $((B + 20)) $((B + 22)) $((B + 24)); do
	[ "$(fetch "$p" "$TOK")" = "$KA" ] || fail "replica on port $p does not read a token missing from its cache"
done
cl_redis -n 3 del "certo:chall:http-01:$TOK" >/dev/null

# certo keeps its account and sets in the store too: sealed with this key.
head -c 32 /dev/urandom >"$IT_TMP/store.key"
chmod 600 "$IT_TMP/store.key"
common="--store-key $IT_TMP/store.key --server $PEBBLE_DIR_URL --ca-bundle $PEBBLE_CA_BUNDLE --state-dir $IT_STATE --agree-tos --email test@example.com"

# --- 8 names, http-01, through HAProxy (round robin over 3 replicas)
names=""
sans=""
for i in 1 2 3 4 5 6 7 8; do
	names="$names -d h$i.cluster.test"
	sans="$sans h$i.cluster.test"
done
# shellcheck disable=SC2086
it_certo --store "$CL_STORE" issue $common $names
it_expect_rc 0 "8-name http-01 order through the store"
# shellcheck disable=SC2086
it_check_issued h1.cluster.test $sans
cl_expect_no_chall "after the http-01 order"
grep -qF "$PW" "$IT_OUT" "$IT_ERR" && fail "the store password was printed"

# --- 3 names, tls-alpn-01, CERTO_STORE from the environment
CERTO_STORE="$CL_STORE"
export CERTO_STORE
# shellcheck disable=SC2086
it_certo issue $common -c tls-alpn-01 -d t1.cluster.test -d t2.cluster.test -d t3.cluster.test
it_expect_rc 0 "3-name tls-alpn-01 order through the store"
it_check_issued t1.cluster.test t1.cluster.test t2.cluster.test t3.cluster.test
cl_expect_no_chall "after the tls-alpn-01 order"
unset CERTO_STORE

# --- one replica killed: another order still issues
kill -KILL "$CL_PID_2"
wait "$CL_PID_2" 2>/dev/null
# shellcheck disable=SC2086
it_certo --store "$CL_STORE" issue $common -d k1.cluster.test -d k2.cluster.test -d k3.cluster.test
it_expect_rc 0 "order with one replica killed"
it_check_issued k1.cluster.test k1.cluster.test k2.cluster.test k3.cluster.test
# shellcheck disable=SC2086
it_certo --store "$CL_STORE" issue $common -c tls-alpn-01 -d k4.cluster.test -d k5.cluster.test
it_expect_rc 0 "tls-alpn-01 order with one replica killed"
it_check_issued k4.cluster.test k4.cluster.test k5.cluster.test
cl_expect_no_chall "after the orders with a replica down"

# --- renew of a set whose challenges went through the store: --store again
rcommon="--store-key $IT_TMP/store.key --ca-bundle $PEBBLE_CA_BUNDLE --state-dir $IT_STATE"
# shellcheck disable=SC2086
it_certo --store "$CL_STORE" renew $rcommon --force -n k1.cluster.test
it_expect_rc 0 "renew through the store"
it_check_issued k1.cluster.test k1.cluster.test k2.cluster.test k3.cluster.test
cl_expect_no_chall "after the renewal"

# --- wrong password: exit 9, one line naming the store, password hidden
# shellcheck disable=SC2086
it_certo --store "redis://:wrong-$PW@127.0.0.1:$CL_REDIS_PORT/3" issue $common -d w.cluster.test
it_expect_rc 9 "wrong store password"
it_expect_err_one_line "wrong store password"
it_expect_err_contains "127.0.0.1:$CL_REDIS_PORT/3 refused the credentials"
it_expect_err_contains "redis://:***@"
grep -qF "$PW" "$IT_ERR" "$IT_OUT" && fail "the wrong password was printed"
[ -d "$IT_STATE/live/w.cluster.test" ] && fail "a live set exists after the refused store"

# --- and a replica with the wrong password does not start (exit 9)
CERTO_STORE="redis://:nope@127.0.0.1:$CL_REDIS_PORT/3" timeout 20 "$CERTO_RESPONDER" \
	--socket "$IT_TMP/bad.sock" --http-port $((B + 26)) --http-addr 127.0.0.1 \
	--tls-port 0 --stay-root >"$IT_TMP/bad.log" 2>&1 </dev/null
rc=$?
[ "$rc" = 9 ] || fail "certo-responder with a wrong store password exited $rc, expected 9: $(cat "$IT_TMP/bad.log")"
grep -q "refused the credentials" "$IT_TMP/bad.log" || fail "certo-responder's message: $(cat "$IT_TMP/bad.log")"
it_pass
