#!/bin/sh
# responder_flood: certo-responder under `ulimit -n 1024` against 1,100
# idle connections from one address (127.0.0.2) on its HTTP port and
# 1,100 on its TLS port. While they are held, the control socket, an
# http-01 fetch and a tls-alpn-01 handshake from 127.0.0.1 still work;
# the per-address cap and the total cap (fitted to the descriptor limit)
# are what the flood gets; afterwards the daemon does not spin (its CPU
# time over 2 s, from /proc/PID/stat). Then the same with no per-address
# cap (the total cap and the headroom left for the control socket), and
# the idle timeout.
. "$(dirname "$0")/lib.sh"
it_init responder_flood

: "${CERTO_RESPONDER:?CERTO_RESPONDER must name the certo-responder binary}"
for t in python3 curl openssl; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t not installed"
done

HTTP=$((IT_BASEPORT + 1))
TLS=$((IT_BASEPORT + 2))
HEALTH=$((IT_BASEPORT + 3))
FLOOD=1100
TOKEN=evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA
KA=$TOKEN.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI
PY=$IT_TMP/flood.py
PID=""

cat >"$PY" <<'EOF'
import os, resource, select, socket, sys, time

def ctl(path, line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(line.encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode().splitlines()[0] if data else ""

def flood(src, dst, ports, count, ready, stop, hold_s):
    # count idle connections from src to each port (nothing is sent);
    # report how many the server keeps open; hold until stop appears.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = count * len(ports) + 64
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))
    end = time.time() + 20
    socks = {p: [] for p in ports}
    failed = 0
    for p in ports:
        for i in range(count):
            if time.time() > end:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((src, 0))
            s.settimeout(1)
            try:
                s.connect((dst, p))
                socks[p].append(s)
            except OSError:
                failed += 1
                s.close()
    time.sleep(1)
    held = {}
    for p in ports:
        n = 0
        for s in socks[p]:
            pl = select.poll()
            pl.register(s, select.POLLIN)
            if not pl.poll(0):
                n += 1
                continue
            try:
                if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    n += 1
            except OSError:
                pass
        held[p] = n
    connected = sum(len(v) for v in socks.values())
    with open(ready + ".tmp", "w") as f:
        f.write("connected %d failed %d %s\n" % (connected, failed,
                " ".join("held_%d %d" % (p, held[p]) for p in ports)))
    os.rename(ready + ".tmp", ready)
    end = time.time() + hold_s
    while time.time() < end and not os.path.exists(stop):
        time.sleep(0.1)
    for v in socks.values():
        for s in v:
            s.close()
    return 0

def idle(dst, port, n, wait_s):
    # n idle connections; how many has the server closed after wait_s?
    socks = [socket.create_connection((dst, port), timeout=2) for _ in range(n)]
    time.sleep(wait_s)
    closed = 0
    for s in socks:
        s.settimeout(0.5)
        try:
            if s.recv(1) == b"":
                closed += 1
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except socket.timeout:
            pass
        s.close()
    print(closed)
    return 0

cmd = sys.argv[1]
if cmd == "ctl":
    print(ctl(sys.argv[2], sys.argv[3]))
    sys.exit(0)
if cmd == "flood":
    sys.exit(flood(sys.argv[2], sys.argv[3], [int(p) for p in sys.argv[4].split(",")],
                   int(sys.argv[5]), sys.argv[6], sys.argv[7], float(sys.argv[8])))
if cmd == "idle":
    sys.exit(idle(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])))
sys.exit(2)
EOF

python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
	it_skip "cannot bind 127.0.0.2"

ctl() { "$IT_PY" "$PY" ctl "$SOCK" "$1"; }
alive() { kill -0 "$PID" 2>/dev/null || fail "certo-responder died; log: $(tail -n 20 "$LOG")"; }

# start NAME ARGS...: the daemon under ulimit -n 1024, ready.
start() {
	SOCK=$IT_TMP/$1.sock
	LOG=$IT_TMP/$1.log
	shift
	root=""
	[ "$(id -u)" = 0 ] && root=--stay-root
	# shellcheck disable=SC2086
	(ulimit -n 1024 && exec "$CERTO_RESPONDER" $root --socket "$SOCK" \
		--http-port "$HTTP" --http-addr 127.0.0.1 --tls-port "$TLS" \
		--tls-addr 127.0.0.1 --health "127.0.0.1:$HEALTH" "$@") \
		</dev/null 2>"$LOG" &
	PID=$!
	IT_HELPER_PIDS="$IT_HELPER_PIDS $PID"
	it_wait_grep "$LOG" "ready" 10
	alive
	lim=$(awk '$1 == "Max" && $2 == "open" { print $4 }' "/proc/$PID/limits")
	[ "$lim" = 1024 ] || fail "the daemon's descriptor limit is $lim, not 1024"
}

stop() {
	kill -TERM "$PID"
	wait "$PID"
	rc=$?
	[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"
	PID=""
}

# flood PORTS: 1,100 idle connections from 127.0.0.2 to each of PORTS, in
# the background; returns once they are all made (the counts in $FL).
flood() {
	FL=$IT_TMP/flood.counts
	rm -f "$IT_TMP/stop" "$FL"
	"$IT_PY" "$PY" flood 127.0.0.2 127.0.0.1 "$1" "$FLOOD" "$FL" "$IT_TMP/stop" 40 &
	FPID=$!
	IT_HELPER_PIDS="$IT_HELPER_PIDS $FPID"
	n=0
	while [ ! -e "$FL" ]; do
		n=$((n + 1))
		[ $n -lt 400 ] || fail "the flood did not finish connecting within 40 s"
		kill -0 "$FPID" 2>/dev/null || fail "the flood client died"
		sleep 0.1
	done
	it_log "flood: $(cat "$FL")"
}

held() { awk -v k="held_$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$FL"; }

flood_stop() {
	touch "$IT_TMP/stop"
	wait "$FPID" || fail "the flood client failed"
}

# cpu_ticks: user + system time of the daemon, in clock ticks.
cpu_ticks() {
	# Fields after the ")" of the command name: utime is the 12th, stime the 13th.
	sed 's/.*) //' "/proc/$PID/stat" | awk '{ print $12 + $13 }'
}

# no_spin WHAT: sample the daemon's CPU time over 2 s.
no_spin() {
	sleep 1   # let it notice the closed connections
	t0=$(cpu_ticks)
	sleep 2
	t1=$(cpu_ticks)
	ticks=$((t1 - t0))
	hz=$(getconf CLK_TCK)
	# Spinning on one core would be 2 * CLK_TCK ticks; idle is about 0.
	[ "$ticks" -lt $((hz / 5)) ] ||
		fail "$1: the daemon used $ticks ticks of CPU in 2 s (CLK_TCK $hz): spinning"
	it_log "ok: $1: $ticks CPU ticks in 2 s after the flood (CLK_TCK $hz)"
}

fds() { ls "/proc/$PID/fd" | wc -l; }

# validate: an http-01 fetch and a tls-alpn-01 handshake from 127.0.0.1.
validate() {
	got=$(curl -s --max-time 5 -o "$IT_TMP/body" -w '%{http_code}' \
		"http://127.0.0.1:$HTTP/.well-known/acme-challenge/$TOKEN")
	[ "$got" = 200 ] || fail "$1: http-01 fetch from 127.0.0.1: status '$got'"
	printf '%s' "$KA" | cmp -s - "$IT_TMP/body" || fail "$1: http-01 body differs"
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$TLS" -alpn acme-tls/1 \
		-servername flood.certo.test 2>"$IT_TMP/sclient.err" >"$IT_TMP/sclient.out"
	grep -q "ALPN protocol: acme-tls/1" "$IT_TMP/sclient.out" ||
		fail "$1: no acme-tls/1 handshake from 127.0.0.1: $(tail -n 5 "$IT_TMP/sclient.err")"
	openssl x509 -noout -text <"$IT_TMP/sclient.out" 2>/dev/null |
		grep -q "1.3.6.1.5.5.7.1.31: critical" ||
		fail "$1: the handshake did not present the validation certificate"
}

# ------------------------------------------ the defaults: 32 per address

start defaults
grep -q "descriptor limit 1024: --max-conns lowered from 512 to 440" "$LOG" ||
	fail "the caps were not fitted to 1024 descriptors: $(grep descriptor "$LOG")"
[ "$(ctl "auth http-01 flood.certo.test $TOKEN $KA")" = OK ] || fail "auth http-01"
[ "$(ctl "auth tls-alpn-01 flood.certo.test $TOKEN $KA")" = OK ] || fail "auth tls-alpn-01"

flood "$HTTP,$TLS"
alive
h=$(held "$HTTP")
t=$(held "$TLS")
[ "$h" -ge 1 ] && [ "$h" -le 32 ] || fail "127.0.0.2 holds $h HTTP connections, expected 1..32"
[ "$t" -ge 1 ] && [ "$t" -le 32 ] || fail "127.0.0.2 holds $t TLS connections, expected 1..32"
[ "$(ctl list)" = "OK 2" ] || fail "control socket during the flood: '$(ctl list)'"
validate "during the flood"
curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$HEALTH/healthz" ||
	fail "/healthz during the flood"
nfd=$(fds)
[ "$nfd" -lt 1024 ] || fail "$nfd descriptors open"
grep -q "HTTP-01: refused .* connection(s), the last from 127.0.0.2" "$LOG" ||
	fail "no warning about refused HTTP connections"
grep -q "TLS-ALPN-01: refused .* the last from 127.0.0.2, which has 32 open" "$LOG" ||
	fail "no warning about refused TLS connections"
it_log "ok: 2 x $FLOOD idle connections from 127.0.0.2: it holds $h HTTP and $t TLS," \
	"$nfd descriptors open; control socket, http-01, tls-alpn-01 and /healthz from 127.0.0.1 work"
flood_stop
no_spin "per-address cap"
validate "after the flood"
stop

# ---------------------------------- no per-address cap: the total caps

start total --max-conns-per-ip 0
[ "$(ctl "auth http-01 flood.certo.test $TOKEN $KA")" = OK ] || fail "auth http-01"
[ "$(ctl "auth tls-alpn-01 flood.certo.test $TOKEN $KA")" = OK ] || fail "auth tls-alpn-01"
flood "$HTTP,$TLS"
alive
h=$(held "$HTTP")
t=$(held "$TLS")
[ "$h" -ge 400 ] && [ "$h" -le 440 ] || fail "127.0.0.2 holds $h HTTP connections, expected 400..440"
[ "$t" -ge 400 ] && [ "$t" -le 440 ] || fail "127.0.0.2 holds $t TLS connections, expected 400..440"
nfd=$(fds)
[ "$nfd" -lt 1024 ] || fail "$nfd descriptors open"
# The ports are full; the control socket and /healthz have their headroom.
[ "$(ctl list)" = "OK 2" ] || fail "control socket with full ports: '$(ctl list)'"
curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$HEALTH/healthz" ||
	fail "/healthz with full ports"
grep -q "Too many open files" "$LOG" && fail "the daemon ran out of descriptors: $(grep -m1 'Too many' "$LOG")"
it_log "ok: no per-address cap: $h HTTP and $t TLS held (cap 440), $nfd descriptors;" \
	"control socket and /healthz still answer"
flood_stop
no_spin "total cap"
validate "after the second flood"
stop

# ------------------------------------------------------- idle timeout

start idle --idle-timeout 2
n=$("$IT_PY" "$PY" idle 127.0.0.1 "$HTTP" 5 4)
[ "$n" = 5 ] || fail "after --idle-timeout 2: $n of 5 idle HTTP connections closed"
n=$("$IT_PY" "$PY" idle 127.0.0.1 "$TLS" 5 4)
[ "$n" = 5 ] || fail "after --idle-timeout 2: $n of 5 idle TLS connections closed"
stop
it_log "ok: --idle-timeout 2 closes idle HTTP and TLS connections"

it_pass
