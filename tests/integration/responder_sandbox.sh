#!/bin/sh
# responder_sandbox: every thread of certo-responder runs in its sandbox.
# Started as root with --user nobody, --store against a real redis-server
# (the subscriber's thread), TLS-ALPN-01 and --http-proxy (libmicrohttpd's
# pool, the resolvers' threads): more than one task, and every
# /proc/PID/task/*/status says Seccomp: 2 and the uid of nobody, while an
# HTTP-01 token given on the control socket (published to the store from
# the control thread) and one only announced on the store's channel (the
# subscriber's cache) are served. Then certo-responder-test (a test build
# whose HTTP threads, at GET /certo-test-violation, bind a unix socket and
# open a file to write): Landlock refuses the bind in that thread (where
# the kernel has Landlock), the seccomp filter traps the open: exit 4 with
# "internal error: forbidden system call open", nothing made, and the
# control socket removed by the helper that stayed root.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
it_init responder_sandbox
[ -n "${CERTO_RESPONDER:-}" ] && [ -x "$CERTO_RESPONDER" ] ||
	fail "CERTO_RESPONDER is not set to the certo-responder binary"
[ "$(id -u)" = 0 ] || it_skip "not root: the sandbox is entered after dropping to --user"
NOBODY=$(id -u nobody 2>/dev/null) || it_skip "no user nobody"
command -v curl >/dev/null 2>&1 || it_skip "curl missing"

B=$IT_BASEPORT
chmod 755 "$IT_TMP"               # nobody must reach $IT_TMP/run
mkdir "$IT_TMP/run"
chown nobody "$IT_TMP/run"
SOCK=$IT_TMP/run/ctl.sock
LOG=$IT_TMP/responder.log
PW="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cl_start_redis $((B + 4)) "$PW"

# start_responder BINARY [VAR=VALUE...]: start it dropping to nobody, with
# every server and the store; RPID; wait (10 s at most) for "ready".
start_responder() {
	_bin=$1
	shift
	rm -f "$LOG"
	env "$@" "$_bin" --user nobody --socket "$SOCK" \
		--http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 \
		--tls-port "$IT_TLS_PORT" --tls-addr 127.0.0.1 \
		--http-proxy "127.0.0.1:$((B + 5))" --store "$CL_STORE" \
		2>"$LOG" </dev/null &
	RPID=$!
	IT_HELPER_PIDS="$IT_HELPER_PIDS $RPID"
	_n=100
	while ! grep -q '^ready' "$LOG" 2>/dev/null; do
		_n=$((_n - 1))
		it_pid_alive "$RPID" && [ "$_n" -gt 0 ] ||
			fail "$_bin never got ready: $(tail -n 5 "$LOG")"
		sleep 0.1
	done
}

# fetch TOKEN: the body served for it, else the HTTP status.
fetch() {
	curl -s --max-time 5 -w '%{http_code}' -o "$IT_TMP/body" \
		"http://127.0.0.1:$IT_HTTP_PORT/.well-known/acme-challenge/$1" >"$IT_TMP/code"
	if [ "$(cat "$IT_TMP/code")" = 200 ]; then cat "$IT_TMP/body"; else cat "$IT_TMP/code"; fi
}

# --- every thread under the seccomp filter, as nobody
start_responder "$CERTO_RESPONDER"
tasks=0
for st in /proc/"$RPID"/task/*/status; do
	t=${st%/status}
	sec=$(awk '$1 == "Seccomp:" { print $2 }' "$st")
	uid=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "$st")
	[ "$sec" = 2 ] ||
		fail "thread ${t##*/} ($(cat "$t/comm")) has Seccomp: '$sec', expected 2"
	[ "$uid" = "$NOBODY $NOBODY $NOBODY $NOBODY" ] ||
		fail "thread ${t##*/} ($(cat "$t/comm")) has Uid '$uid'"
	tasks=$((tasks + 1))
done
[ "$tasks" -gt 1 ] || fail "only $tasks task: the servers' threads are missing"
it_log "ok: $tasks threads, every one with Seccomp: 2 and uid $NOBODY"

# --- and serving: the control thread publishes, the subscriber caches
TOK=sandboxTok_0123456789abcdefghijklmnopqrstuvwxyz
KA="$TOK.thumb_abcdefghijklmnopqrstuvwxyz0123456789AB"
[ "$(it_ctl "$SOCK" "auth http-01 sb.certo.test $TOK $KA")" = OK ] ||
	fail "auth refused on the control socket"
[ "$(fetch "$TOK")" = "$KA" ] || fail "the control socket's token is not served"
[ "$(cl_redis -n 3 get "certo:chall:http-01:$TOK")" = "sb.certo.test $TOK $KA" ] ||
	fail "the control socket's token is not in the store"
TOK2=sandboxSub_0123456789abcdefghijklmnopqrstuvwxyz
KA2="$TOK2.thumb_abcdefghijklmnopqrstuvwxyz0123456789AB"
cl_redis -n 3 publish certo:chall "set http-01 sub.certo.test $TOK2 $KA2" >/dev/null
n=30
while [ "$(fetch "$TOK2")" != "$KA2" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "a token announced on the store's channel is not served"
	sleep 0.1
done
kill -TERM "$RPID"
wait "$RPID"
rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc, expected 0: $(tail -n 5 "$LOG")"
grep -q 'forbidden system call' "$LOG" && fail "a forbidden call: $(cat "$LOG")"
it_log "ok: served a control-socket token and a store-channel token; exit 0"

# --- a violation in an HTTP thread: Landlock, then seccomp
VIOL="$(dirname "$CERTO_RESPONDER")/certo-responder-test"
if [ ! -x "$VIOL" ]; then
	it_log "certo-responder-test not built: the violation is not tested"
	it_pass
fi
BIND=$IT_TMP/run/probe.sock
WRITE=$IT_TMP/run/written
start_responder "$VIOL" "CERTO_TEST_RESPONDER_BIND=$BIND" \
	"CERTO_TEST_RESPONDER_OPEN=$WRITE"
curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$IT_HTTP_PORT/certo-test-violation"
wait "$RPID"
rc=$?
[ "$rc" = 4 ] || fail "violation in an HTTP thread: exit $rc, expected 4: $(tail -n 5 "$LOG")"
grep -q '^certo-responder: internal error: forbidden system call open (#' "$LOG" ||
	fail "no 'forbidden system call open' message: $(tail -n 5 "$LOG")"
grep -q 'responder test: opened' "$LOG" && fail "the HTTP thread opened a file to write"
[ ! -e "$WRITE" ] || fail "the HTTP thread created $WRITE"
abi=$(sed -n 's/^certo-responder: responder test: Landlock ABI \(-\{0,1\}[0-9]*\)$/\1/p' "$LOG")
[ -n "$abi" ] || fail "the test hook did not run: $(tail -n 5 "$LOG")"
if [ "$abi" -ge 1 ]; then
	grep -qF "responder test: bind $BIND: Permission denied" "$LOG" ||
		fail "Landlock (ABI $abi) did not refuse the bind in the HTTP thread: $(grep 'responder test: bind' "$LOG")"
	[ ! -e "$BIND" ] || fail "the HTTP thread made $BIND"
	it_log "ok: Landlock ABI $abi refused the HTTP thread's bind"
else
	it_log "no Landlock on this kernel: the bind is not checked"
fi
n=50
while [ -e "$SOCK" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the control socket was left after the violation"
	sleep 0.1
done
it_log "ok: the HTTP thread's open was trapped: exit 4, nothing written, socket removed"
it_pass
