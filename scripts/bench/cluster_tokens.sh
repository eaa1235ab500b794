#!/usr/bin/env bash
# scripts/bench/cluster_tokens.sh: challenge tokens in a cluster of
# certo-responder --store replicas (part 1 of scripts/bench/cluster.sh).
#
# Set-up, all on 127.0.0.1: one redis-server, three certo-responder
# --store replicas, a real HAProxy in front of them (round robin), and one
# certo-responder without a store for the baseline.
#
# 1. Publish-to-servable latency: BENCH_TOKENS (1000) tokens published one
#    after the other the way certo --store issue publishes them (the same
#    SET+PUBLISH script as responder/store_tokens.c, one EVAL over its own
#    connection, as a client on another host would), each polled on all three
#    replicas directly (one keep-alive connection each, a GET every 0.2 ms)
#    until every replica serves it: p50, p90, p99 and max of the time from
#    sending the EVAL to the last replica's 200; then withdrawn as certo
#    does (compare-and-delete + PUBLISH).  Also the same with the
#    replicas' caches cold (tokens written with SET only, no message: each
#    replica finds them by its direct GET on a miss).  Target: p99 < 100 ms.
# 2. Fetches/s: wrk (-t1 -c$BENCH_CONNS keep-alive, BENCH_DURATION s) GETs of
#    one published token through HAProxy to the 3 replicas, vs directly from
#    the one replica without a store (token given on its control socket),
#    vs through HAProxy to that one replica (HAProxy's own cost).  On a
#    2-core host HAProxy, wrk and the replicas share the cores: the ratio is
#    what a single box shows, not what three hosts would.
#
# Environment (all optional):
#   CERTO_RESPONDER=path  (default: build-bench/responder/certo-responder,
#                         built Release by scripts/bench/lib.sh's bench_build
#                         unless BENCH_NO_BUILD=1)
#   BENCH_TOKENS=1000  BENCH_DURATION=5  BENCH_CONNS=16
#   BENCH_PORT=26000   first of the ~12 ports used
# Prints figures, asserts nothing.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init cluster_tokens
if [ -z "${CERTO_RESPONDER:-}" ]; then
	bench_build certo-responder
fi
[ -x "${CERTO_RESPONDER:-}" ] || bench_die "no certo-responder (CERTO_RESPONDER)"
for t in redis-server redis-cli haproxy wrk python3 curl; do
	command -v "$t" >/dev/null || bench_die "$t not installed (scripts/deps.sh --bench)"
done
TOKENS=${BENCH_TOKENS:-1000}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNS:-16}
P=${BENCH_PORT:-26000}
REDIS_PORT=$P
PW=bench-$RANDOM$RANDOM
STORE="redis://:$PW@127.0.0.1:$REDIS_PORT/5"
wait_port() {  # PORT WHAT: the last process started listens on PORT
	bench_wait_port "$1" "${BENCH_PIDS[-1]}" ||
		bench_die "nothing listens on port $1 ($2), see $LOGS"
}
bench_ports_free "$P" $((P + 1)) $((P + 2)) $((P + 3)) $((P + 4)) \
	$((P + 10)) $((P + 11))

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --requirepass "$PW" \
	--save '' --appendonly no --dir "$WORK" >"$LOGS/redis.log" 2>&1 &
BENCH_PIDS+=($!)
wait_port "$REDIS_PORT" redis
replica() {  # N HTTPPORT [--store]
	local env=()
	[ "${3:-}" = --store ] && env=(CERTO_STORE="$STORE")
	env "${env[@]}" "$CERTO_RESPONDER" --socket "$WORK/r$1.sock" \
		--http-port "$2" --http-addr 127.0.0.1 --tls-port 0 --stay-root \
		--max-conns 1024 --max-conns-per-ip 0 >"$LOGS/r$1.log" 2>&1 &
	BENCH_PIDS+=($!)
	wait_port "$2" "replica $1"
}
replica 1 $((P + 1)) --store
replica 2 $((P + 2)) --store
replica 3 $((P + 3)) --store
replica 0 $((P + 4))
cat >"$WORK/haproxy.cfg" <<EOF
global
	maxconn 4096
defaults
	mode http
	timeout connect 1s
	timeout client 30s
	timeout server 30s
frontend cluster
	bind 127.0.0.1:$((P + 10))
	default_backend replicas
frontend single
	bind 127.0.0.1:$((P + 11))
	default_backend single
backend replicas
	balance roundrobin
	server r1 127.0.0.1:$((P + 1))
	server r2 127.0.0.1:$((P + 2))
	server r3 127.0.0.1:$((P + 3))
backend single
	server r0 127.0.0.1:$((P + 4))
EOF
haproxy -db -f "$WORK/haproxy.cfg" >"$LOGS/haproxy.log" 2>&1 &
BENCH_PIDS+=($!)
wait_port $((P + 10)) haproxy

echo "== 1. publish-to-servable latency, $TOKENS tokens, 3 replicas"
python3 - "$REDIS_PORT" "$PW" "$TOKENS" $((P + 1)) $((P + 2)) $((P + 3)) <<'PY'
import http.client, os, socket, sys, time, base64

port, pw, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
replicas = [int(p) for p in sys.argv[4:]]
LUA = ("redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
       "redis.call('PUBLISH', ARGV[3], ARGV[4]) return 1")
UNLUA = ("if redis.call('GET', KEYS[1]) == ARGV[1] then "
         "redis.call('DEL', KEYS[1]) redis.call('PUBLISH', ARGV[2], ARGV[3]) "
         "return 1 end return 0")

def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out

class Redis:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")
        self.cmd("AUTH", pw); self.cmd("SELECT", 5)
    def cmd(self, *args):
        self.s.sendall(resp(*args))
        line = self.f.readline()
        if line[:1] == b"$" and int(line[1:]) >= 0:
            self.f.read(int(line[1:]) + 2)
        if line[:1] == b"-":
            raise SystemExit("redis: " + line.decode())
        return line

r = Redis()
conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=5) for p in replicas]

def served(c, tok):
    c.request("GET", "/.well-known/acme-challenge/" + tok)
    res = c.getresponse(); res.read()
    return res.status == 200

def run(mode):
    lat = []
    for i in range(n):
        tok = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        ident = "b%d.bench.test" % i
        ka = tok + ".thumbprint_bench_0123456789abcdefghijklmnopqrs"
        val = "%s %s %s" % (ident, tok, ka)
        t0 = time.perf_counter()
        if mode == "message":
            r.cmd("EVAL", LUA, 1, "certo:chall:http-01:" + tok, val, 600000,
                  "certo:chall", "set http-01 " + val)
        else:
            r.cmd("SET", "certo:chall:http-01:" + tok, val, "PX", 600000)
        left = list(conns)
        while left:
            left = [c for c in left if not served(c, tok)]
            if left:
                time.sleep(0.0002)
            if time.perf_counter() - t0 > 5:
                raise SystemExit("token %d not served within 5 s" % i)
        lat.append((time.perf_counter() - t0) * 1000)
        r.cmd("EVAL", UNLUA, 1, "certo:chall:http-01:" + tok, val,
              "certo:chall", "del http-01 %s %s" % (ident, tok))
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("  %-28s p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %6.2f ms"
          % (mode == "message" and "published (SET+PUBLISH)" or
             "cold (SET only, GET on miss)", pct(.5), pct(.9), pct(.99),
             lat[-1]))

run("message")
run("cold")
PY

echo "== 2. fetches/s (wrk -t1 -c$CONNS, ${DURATION}s, keep-alive)"
TOK=benchTok_0123456789abcdefghijklmnopqrstuvwxyzAB
KA="$TOK.thumbprint_bench_0123456789abcdefghijklmnopqrs"
redis-cli -p "$REDIS_PORT" -a "$PW" --no-auth-warning -n 5 set \
	"certo:chall:http-01:$TOK" "w.bench.test $TOK $KA" >/dev/null
python3 - "$WORK/r0.sock" "auth http-01 w.bench.test $TOK $KA" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n"); assert s.recv(64).startswith(b"OK")
PY
for target in "3 replicas --store via HAProxy:$((P + 10))" \
	"1 replica, no store, direct:$((P + 4))" \
	"1 replica, no store, via HAProxy:$((P + 11))"; do
	port=${target##*:}
	body=$(curl -s "http://127.0.0.1:$port/.well-known/acme-challenge/$TOK")
	[ "$body" = "$KA" ] || bench_die "port $port does not serve the token"
	rps=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" \
		"http://127.0.0.1:$port/.well-known/acme-challenge/$TOK" |
		awk '/Requests\/sec/ { print $2 }')
	printf '  %-36s %10s fetches/s\n' "${target%:*}" "$rps"
done
