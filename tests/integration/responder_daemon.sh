#!/bin/sh
# responder_daemon: the certo-responder daemon on its own (no CA needed).
# Control socket round trip, http-01 answers, /healthz, abuse (malformed
# control lines, a 100 KB line, junk on the TLS port, slow HTTP clients)
# with a memory ceiling, config and bind errors, SIGHUP/SIGTERM, and the
# privilege drop to nobody: the socket in a root-owned directory gets its
# group and mode from the start, and the helper that stays root removes
# it after SIGTERM and after SIGKILL of the daemon.
#
# Environment (tests/integration/CMakeLists.txt):
#   CERTO_RESPONDER       the certo-responder binary (required)
#   CERTO_IT_BASEPORT     first of 8 loopback ports, BASE..BASE+7 (default 16100)
#   CERTO_IT_PORT_OFFSET  added to it (default 0)
#   CERTO_IT_KEEP=1       keep the temp dir
#   CERTO_IT_RSS_LIMIT_KB peak RSS allowed (default 32768, which holds even
#                         for an AddressSanitizer build: about 15 MB)

NAME=responder_daemon
: "${CERTO_RESPONDER:?CERTO_RESPONDER must name the certo-responder binary}"
[ -x "$CERTO_RESPONDER" ] || { echo "FAIL: $NAME: $CERTO_RESPONDER is not executable" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "SKIPPED: python3 missing"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIPPED: curl missing"; exit 77; }

BASE=$(( ${CERTO_IT_BASEPORT:-16100} + ${CERTO_IT_PORT_OFFSET:-0} ))
HTTP=$BASE
TLS=$((BASE + 1))
HEALTH=$((BASE + 2))
DROP_HTTP=$((BASE + 3))
DROP_TLS=$((BASE + 4))

TMP=$(mktemp -d "${TMPDIR:-/tmp}/certo-rd.XXXXXX") || exit 1
chmod 755 "$TMP"                # nobody must reach $TMP/drop
SOCK=$TMP/ctl.sock
LOG=$TMP/daemon.log
PY=$TMP/helper.py
PID=""
PIDS=""
FAILED=0

TOKEN=evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA
THUMB=9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI
KEYAUTH=$TOKEN.$THUMB

log() { echo "[$NAME] $*"; }

fail() {
	FAILED=1
	echo "FAIL: $NAME: $*" >&2
	if [ -s "$LOG" ]; then
		echo "--- end of $LOG:" >&2
		tail -n 30 "$LOG" | sed 's/^/  /' >&2
	fi
	exit 1
}

cleanup() {
	for p in $PID $PIDS; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$FAILED" = 0 ] && [ -z "$CERTO_IT_KEEP" ]; then
		rm -rf "$TMP"
	else
		echo "[$NAME] temp dir kept: $TMP" >&2
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The python side: talks to the control socket and abuses the ports.
cat >"$PY" <<'EOF'
import os, random, socket, sys, time

def ctl(path, line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(line + b"\n")
    data = b""
    want = 1
    while data.count(b"\n") < want:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        if want == 1 and b"\n" in data and data.startswith(b"OK ") \
                and line == b"list":
            want = 1 + int(data.split(b"\n", 1)[0][3:])
    s.close()
    return data

def garbage_lines(n):
    r = random.Random(8555)
    pool = [b"", b" ", b"auth", b"unauth http-01", b"list x",
            b"auth  http-01 a.example t t.x", b"auth dns-01 a.example t t.x",
            b"auth http-01 A.EXAMPLE t t.x", b"auth http-01 a_b.example t t.x",
            b"auth http-01 a.example ../x ../x.y",
            b"auth http-01 a.example t u.x", b"unauth http-01 a.example t x",
            b"list\r", b"l\x00ist", b"\x1b[2J", b"\xff\xfe", b"%s%n%x" * 20]
    out = []
    for i in range(n):
        if i % 3 == 0:
            out.append(bytes(r.randrange(0, 256) for _ in range(r.randrange(1, 200)))
                       .replace(b"\n", b"."))
        else:
            out.append(pool[i % len(pool)])
    return out

def abuse_ctl(path, n):
    # n malformed lines on one connection, pipelined; every answer ERR.
    lines = garbage_lines(n)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(b"".join(l + b"\n" for l in lines))
    data = b""
    while data.count(b"\n") < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    answers = data.split(b"\n")[:-1]
    bad = [a for a in answers if not a.startswith(b"ERR ")]
    print("%d answers, %d not ERR" % (len(answers), len(bad)))
    return 0 if len(answers) == n and not bad else 1

def bigline(path, size):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    try:
        s.sendall(b"A" * size)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    while True:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    sys.stdout.write(data.decode("ascii", "replace"))
    return 0

def tls_garbage(port, n):
    # Junk instead of a ClientHello: the server must hang up on each.
    r = random.Random(8737)
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=15)
        junk = b"GET / HTTP/1.0\r\n\r\n" if i % 2 == 0 else \
            bytes(r.randrange(0, 256) for _ in range(r.randrange(1, 3000)))
        try:
            s.sendall(junk)
        except OSError:
            pass
        socks.append(s)
    closed = 0
    for s in socks:
        try:
            while s.recv(4096):
                pass
            closed += 1
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except socket.timeout:
            pass
        s.close()
    print("%d/%d junk connections closed by the server" % (closed, n))
    return 0 if closed == n else 1

def slow_http(port, n, seconds, ready):
    # n clients from 127.0.0.2 each sending a request head one byte every
    # 0.5 s (the daemon keeps at most --max-conns-per-ip of them).
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                     source_address=("127.0.0.2", 0))
        s.sendall(b"GET /.well-known/acme-challenge/slow%d HTTP/1.1\r\n" % i)
        socks.append(s)
    open(ready, "w").close()
    end = time.time() + seconds
    while time.time() < end:
        for s in socks:
            try:
                s.sendall(b"X")
            except OSError:
                pass
        time.sleep(0.5)
    for s in socks:
        s.close()
    return 0

cmd = sys.argv[1]
if cmd == "ctl":
    sys.stdout.write(ctl(sys.argv[2], sys.argv[3].encode()).decode("ascii", "replace"))
    sys.exit(0)
if cmd == "abuse-ctl":
    sys.exit(abuse_ctl(sys.argv[2], int(sys.argv[3])))
if cmd == "bigline":
    sys.exit(bigline(sys.argv[2], int(sys.argv[3])))
if cmd == "tls-garbage":
    sys.exit(tls_garbage(int(sys.argv[2]), int(sys.argv[3])))
if cmd == "slow-http":
    sys.exit(slow_http(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]))
sys.exit(2)
EOF

ctl() { python3 "$PY" ctl "$SOCK" "$1"; }

# expect_ctl LINE ANSWER: the first answer line must be exactly ANSWER.
expect_ctl() {
	_got=$(ctl "$1" | head -n 1)
	[ "$_got" = "$2" ] || fail "control '$1': got '$_got', expected '$2'"
}

alive() { kill -0 "$PID" 2>/dev/null || fail "certo-responder (pid $PID) died"; }

# wait_for COND-COMMAND...: up to 10 s.
wait_for() {
	_i=0
	while ! "$@" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || return 1
		sleep 0.1
	done
}

health_up() { curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$HEALTH/healthz"; }

# http_get PATH: "<status> <content-type>", body in $TMP/body.
http_get() {
	curl -s --max-time 5 -o "$TMP/body" -w '%{http_code} %{content_type}' \
		"http://127.0.0.1:$1$2"
}

# rss_kb KEY: VmHWM or VmRSS of the daemon in kB.
rss_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }

# --------------------------------------------------------------- start

# shellcheck disable=SC3045
ulimit -c 0 2>/dev/null || :
if [ "$(id -u)" = 0 ]; then
	# As root the daemon insists on --user or --stay-root.
	"$CERTO_RESPONDER" --socket "$TMP/x.sock" --http-port "$HTTP" \
		--tls-port 0 2>"$TMP/err"
	rc=$?
	[ $rc = 1 ] || fail "root without --user/--stay-root: exit $rc, expected 1"
	grep -q -- "--stay-root" "$TMP/err" || fail "root refusal does not mention --stay-root"
	[ ! -e "$TMP/x.sock" ] || fail "root refusal created the socket"
	log "ok: refuses to run as root without --user or --stay-root"
fi

"$CERTO_RESPONDER" --stay-root --socket "$SOCK" --http-port "$HTTP" \
	--http-addr 127.0.0.1 --tls-port "$TLS" --tls-addr 127.0.0.1 \
	--health "127.0.0.1:$HEALTH" 2>"$LOG" &
PID=$!
wait_for health_up || fail "the daemon did not come up (no /healthz on $HEALTH)"
alive
[ -S "$SOCK" ] || fail "no control socket at $SOCK"
mode=$(stat -c %a "$SOCK")
[ "$mode" = 660 ] || fail "socket mode $mode, expected 660"
rss_start=$(rss_kb VmRSS)
log "ok: up (pid $PID, socket mode $mode, RSS ${rss_start} kB)"

# ------------------------------------------------------- http-01 round trip

expect_ctl "auth http-01 test.example $TOKEN $KEYAUTH" "OK"
got=$(http_get "$HTTP" "/.well-known/acme-challenge/$TOKEN")
[ "$got" = "200 application/octet-stream" ] || fail "challenge GET: '$got'"
printf '%s' "$KEYAUTH" | cmp -s - "$TMP/body" || fail "challenge body differs: '$(cat "$TMP/body")'"
log "ok: http-01 answer (exact body, application/octet-stream)"

ctl list >"$TMP/list"
[ "$(head -n 1 "$TMP/list")" = "OK 1" ] || fail "list: '$(head -n 1 "$TMP/list")'"
grep -qx "http-01 test.example $TOKEN" "$TMP/list" || fail "list lacks the entry"
grep -qF -- "$THUMB" "$TMP/list" && fail "list shows key authorizations"
log "ok: list"

expect_ctl "auth http-01 test.example ../x ../x.y" "ERR bad token"
expect_ctl "auth http-01 test.example $TOKEN AAAA.$THUMB" \
	"ERR key authorization does not match token"
expect_ctl "auth http-01 TEST.example $TOKEN $KEYAUTH" "ERR bad identifier"
expect_ctl "frobnicate" "ERR unknown command"
expect_ctl "unauth http-01 test.example $TOKEN" "OK"
got=$(http_get "$HTTP" "/.well-known/acme-challenge/$TOKEN")
[ "${got%% *}" = 404 ] || fail "after unauth: '$got', expected 404"
expect_ctl "unauth http-01 test.example $TOKEN" "ERR not found"
log "ok: unauth -> 404; malformed requests answered ERR"

got=$(curl -s --max-time 5 -o "$TMP/hbody" -w '%{http_code}' "http://127.0.0.1:$HEALTH/healthz")
[ "$got" = 200 ] && [ "$(cat "$TMP/hbody")" = ok ] ||
	fail "/healthz: $got '$(cat "$TMP/hbody")'"
got=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/other")
[ "$got" = 404 ] || fail "health listener /other: $got, expected 404"
log "ok: /healthz 200"

# ------------------------------------------------------------------ abuse

out=$(python3 "$PY" abuse-ctl "$SOCK" 1000) || fail "1000 malformed lines: $out"
alive
log "ok: 1000 malformed control lines: $out"

out=$(python3 "$PY" bigline "$SOCK" 102400)
[ "$out" = "ERR line too long" ] || fail "100 KB line: '$out'"
alive
log "ok: 100 KB line -> ERR line too long, connection closed"

out=$(python3 "$PY" tls-garbage "$TLS" 20) || fail "junk on the TLS port: $out"
alive
log "ok: $out"

python3 "$PY" slow-http "$HTTP" 50 6 "$TMP/slow.ready" &
SLOW=$!
PIDS="$PIDS $SLOW"
wait_for test -e "$TMP/slow.ready" || fail "slow clients did not connect"
# While 50 slow clients hold connections, a real request is answered fast.
expect_ctl "auth http-01 test.example $TOKEN $KEYAUTH" "OK"
start=$(date +%s%N)
got=$(http_get "$HTTP" "/.well-known/acme-challenge/$TOKEN")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$got" = "200 application/octet-stream" ] || fail "with 50 slow clients: '$got'"
[ "$ms" -lt 2000 ] || fail "with 50 slow clients the answer took $ms ms"
nconn=$(ss -Htn state established "( sport = :$HTTP )" 2>/dev/null | wc -l)
wait "$SLOW" || fail "slow clients failed"
PIDS=""
alive
log "ok: 50 slow-header clients ($nconn connections seen), valid answer in $ms ms"

# Still serving everything afterwards.
expect_ctl "auth http-01 after.example $TOKEN $KEYAUTH" "OK"
got=$(http_get "$HTTP" "/.well-known/acme-challenge/$TOKEN")
[ "$got" = "200 application/octet-stream" ] || fail "after abuse: '$got'"
health_up || fail "/healthz after abuse"
hwm=$(rss_kb VmHWM)
rss=$(rss_kb VmRSS)
limit=${CERTO_IT_RSS_LIMIT_KB:-32768}
[ -n "$hwm" ] && [ "$hwm" -lt "$limit" ] || fail "peak RSS ${hwm} kB over ${limit} kB"
log "ok: after abuse RSS ${rss} kB (start ${rss_start} kB), peak ${hwm} kB < ${limit} kB"

# ------------------------------------------- --http-redirect, --http-proxy

REDIR=$((BASE + 5))
PROXY=$((BASE + 6))
BACKEND=$((BASE + 7))
"$CERTO_RESPONDER" --stay-root --socket "$TMP/r.sock" --http-port "$REDIR" \
	--http-addr 127.0.0.1 --tls-port 0 --http-redirect 2>"$TMP/redirect.log" &
RPID=$!
PIDS="$PIDS $RPID"
mkdir "$TMP/www"
echo backend-page >"$TMP/www/page.txt"
python3 -m http.server "$BACKEND" --bind 127.0.0.1 --directory "$TMP/www" \
	>/dev/null 2>&1 &
PIDS="$PIDS $!"
"$CERTO_RESPONDER" --stay-root --socket "$TMP/p.sock" --http-port "$PROXY" \
	--http-addr 127.0.0.1 --tls-port 0 \
	--http-proxy "127.0.0.1:$BACKEND" 2>"$TMP/proxy.log" &
PXPID=$!
PIDS="$PIDS $PXPID"
wait_for test -S "$TMP/r.sock" || fail "redirecting daemon did not start"
wait_for test -S "$TMP/p.sock" || fail "proxying daemon did not start"
wait_for curl -sf -o /dev/null "http://127.0.0.1:$BACKEND/page.txt" ||
	fail "backend did not start"
got=$(curl -s --max-time 5 -o /dev/null -H 'Host: Example.ORG:8080' \
	-w '%{http_code} %{redirect_url}' "http://127.0.0.1:$REDIR/a%20b/c?x=1&y=%2F")
[ "$got" = "301 https://example.org/a%20b/c?x=1&y=%2F" ] || fail "redirect: '$got'"
got=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$REDIR/.well-known/acme-challenge/$TOKEN")
[ "$got" = 404 ] || fail "redirect mode, unknown token: $got, expected 404"
got=$(curl -s --max-time 5 -o /dev/null -H 'Host: bad/host' -w '%{http_code}' \
	"http://127.0.0.1:$REDIR/x")
[ "$got" = 400 ] || fail "redirect with a bad Host: $got, expected 400"
SOCK_SAVE=$SOCK
SOCK=$TMP/p.sock
expect_ctl "auth http-01 proxy.example $TOKEN $KEYAUTH" "OK"
SOCK=$SOCK_SAVE
got=$(http_get "$PROXY" "/.well-known/acme-challenge/$TOKEN")
[ "$got" = "200 application/octet-stream" ] || fail "proxy mode, challenge: '$got'"
got=$(http_get "$PROXY" "/page.txt")
[ "${got%% *}" = 200 ] && [ "$(cat "$TMP/body")" = backend-page ] ||
	fail "proxied page: '$got' '$(cat "$TMP/body")'"
got=$(http_get "$PROXY" "/missing")
[ "${got%% *}" = 404 ] || fail "proxied 404: '$got'"
got=$(curl -s --max-time 5 -o /dev/null -X POST -w '%{http_code}' \
	"http://127.0.0.1:$PROXY/page.txt")
[ "$got" = 405 ] || fail "POST in proxy mode: $got, expected 405"
kill "$RPID" "$PXPID"
wait "$RPID" "$PXPID" 2>/dev/null
log "ok: --http-redirect (301 with Host and query), --http-proxy (relayed 200/404, 405 for POST)"

# ------------------------------------------------------ errors, signals

"$CERTO_RESPONDER" --stay-root --socket "$TMP/y.sock" --http-port nope 2>"$TMP/err"
rc=$?
[ $rc = 1 ] || fail "--http-port nope: exit $rc, expected 1"
grep -q -- "--http-port" "$TMP/err" || fail "config error does not name --http-port"
CERTO_RESPONDER_TLS_PORT=99999 "$CERTO_RESPONDER" --stay-root \
	--socket "$TMP/y.sock" 2>"$TMP/err"
rc=$?
[ $rc = 1 ] || fail "CERTO_RESPONDER_TLS_PORT=99999: exit $rc, expected 1"
grep -q CERTO_RESPONDER_TLS_PORT "$TMP/err" || fail "env error does not name the variable"
"$CERTO_RESPONDER" --stay-root --socket "$TMP/y.sock" --http-port "$HTTP" \
	--http-addr 127.0.0.1 --tls-port 0 2>"$TMP/err"
rc=$?
[ $rc = 4 ] || fail "port in use: exit $rc, expected 4"
grep -q -- "--http-port" "$TMP/err" || fail "bind error does not suggest --http-port"
[ ! -e "$TMP/y.sock" ] || fail "failed start left its socket behind"
echo keep >"$TMP/file"
"$CERTO_RESPONDER" --stay-root --socket "$TMP/file" --http-port 0 \
	--tls-port "$DROP_TLS" --tls-addr 127.0.0.1 2>"$TMP/err"
rc=$?
[ $rc = 4 ] || fail "socket path is a file: exit $rc, expected 4"
[ "$(cat "$TMP/file")" = keep ] || fail "a regular file at --socket was touched"
"$CERTO_RESPONDER" --stay-root --socket "$SOCK" --http-port "$DROP_HTTP" \
	--http-addr 127.0.0.1 --tls-port 0 2>"$TMP/err"
rc=$?
[ $rc = 4 ] || fail "socket of a live daemon: exit $rc, expected 4"
expect_ctl "list" "OK 2"
log "ok: config errors exit 1, bind errors exit 4, live socket not stolen"

kill -HUP "$PID"
sleep 0.5
alive
grep -q SIGHUP "$LOG" || fail "SIGHUP not logged"
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=""
[ $rc = 0 ] || fail "SIGTERM: exit $rc, expected 0"
[ ! -e "$SOCK" ] || fail "socket file left after SIGTERM"
log "ok: SIGHUP logged; SIGTERM exits 0 and removes the socket"

# -------------------------------------------------------- privilege drop

if [ "$(id -u)" != 0 ]; then
	log "not root: privilege drop not tested"
	echo "PASS: $NAME"
	exit 0
fi
nobody_uid=$(id -u nobody 2>/dev/null) || { log "no user nobody: drop not tested"; echo "PASS: $NAME"; exit 0; }
mkdir "$TMP/drop"
chown nobody "$TMP/drop"
SOCK=$TMP/drop/ctl.sock
LOG=$TMP/drop.log
"$CERTO_RESPONDER" --user nobody --socket "$SOCK" --http-port "$DROP_HTTP" \
	--http-addr 127.0.0.1 --tls-port "$DROP_TLS" --tls-addr 127.0.0.1 \
	2>"$LOG" &
PID=$!
wait_for test -S "$SOCK" || fail "dropping daemon: no socket"
wait_for grep -q ready "$LOG" || fail "dropping daemon never got ready"
alive
uids=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$PID/status")
gids=$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$PID/status")
[ "$uids" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] ||
	fail "Uid line '$uids', expected $nobody_uid x4"
[ "$(echo "$gids" | tr ' ' '\n' | grep -cx 0)" = 0 ] || fail "Gid line '$gids' still has 0"
for t in /proc/"$PID"/task/*/status; do
	tu=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "$t")
	[ "$tu" = "$uids" ] || fail "thread $t has Uid '$tu'"
done
groups=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$PID/status")
case " $groups " in *" 0 "*) fail "supplementary groups still include 0: $groups" ;; esac
expect_ctl "auth http-01 drop.example $TOKEN $KEYAUTH" "OK"
got=$(http_get "$DROP_HTTP" "/.well-known/acme-challenge/$TOKEN")
[ "$got" = "200 application/octet-stream" ] || fail "after the drop: '$got'"
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=""
[ $rc = 0 ] || fail "dropped daemon SIGTERM: exit $rc"
[ ! -e "$SOCK" ] || fail "dropped daemon left its socket"
log "ok: --user nobody: Uid '$uids', Gid '$gids' in all threads, still serving"

# The socket in a directory that belongs to root (like /run/certo): nobody
# cannot remove it, the helper process that stayed root does.
NOGROUP=$(id -gn nobody)
mkdir "$TMP/rootdir"
chmod 755 "$TMP/rootdir"
SOCK=$TMP/rootdir/ctl.sock
LOG=$TMP/rootdir.log
start_dropped() {
	rm -f "$LOG"
	"$CERTO_RESPONDER" --user nobody --socket "$SOCK" --http-port "$DROP_HTTP" \
		--http-addr 127.0.0.1 --tls-port 0 --socket-group "$NOGROUP" \
		--socket-mode 0640 2>"$LOG" &
	PID=$!
	wait_for grep -q ready "$LOG" || fail "daemon in a root directory never got ready"
	alive
	HELPER=$(ps -o pid= --ppid "$PID" | tr -d ' ')
	[ -n "$HELPER" ] || fail "no helper process"
}
start_dropped
[ "$(stat -c '%U %G %a' "$SOCK")" = "root $NOGROUP 640" ] ||
	fail "socket is '$(stat -c '%U %G %a' "$SOCK")', expected root $NOGROUP 640"
ls -a "$TMP/rootdir" | grep -q '^\.certo-ctl' && fail "a private directory was left behind"
caps=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$HELPER/status")
[ "$caps" = 000000000000000a ] ||
	fail "helper capabilities $caps, expected only CAP_DAC_OVERRIDE and CAP_FOWNER (a)"
hsock=$(ls -l "/proc/$HELPER/fd" | grep -c 'socket:')
[ "$hsock" = 0 ] || fail "the helper holds $hsock sockets"
hfds=$(ls "/proc/$HELPER/fd" | wc -l)
expect_ctl "list" "OK 0"
kill -TERM "$PID"
wait "$PID"
rc=$?
[ $rc = 0 ] || fail "SIGTERM in a root directory: exit $rc"
[ ! -e "$SOCK" ] || fail "socket left in a root directory after SIGTERM (helper $HELPER)"
kill -0 "$HELPER" 2>/dev/null && fail "the helper outlived the daemon"
log "ok: socket in a root directory, group and mode from the start; helper (CapEff $caps, $hfds descriptors, no socket) removed it after SIGTERM"

# However the daemon ends: SIGKILL.
start_dropped
kill -KILL "$PID"
wait "$PID" 2>/dev/null
PID=""
n=0
while [ -e "$SOCK" ] && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
[ ! -e "$SOCK" ] || fail "socket left after SIGKILL of the daemon"
log "ok: after SIGKILL of the daemon its helper removed the socket"

echo "PASS: $NAME"
exit 0
