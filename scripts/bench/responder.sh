#!/usr/bin/env bash
# scripts/bench/responder.sh: certo-responder throughput and memory benchmark,
# HTTP-01 against nginx and TLS-ALPN-01 against ualpn (uacme), on loopback.
#
# 1. HTTP-01 requests/s: certo-responder vs nginx serving the same key
#    authorization as a static file (same body, Content-Type
#    application/octet-stream from a location block), driven by
#    `wrk -t1 -c$CONNS -d${DURATION}s --latency`. Each server is pinned to one
#    core (BENCH_SERVER_CPU, nginx worker_processes 1), wrk to another
#    (BENCH_CLIENT_CPU). Two client modes: "keepalive" (wrk's default HTTP/1.1
#    keep-alive; the target) and "close" (Connection: close, one TCP
#    connection per request, as an ACME validator does; information).
#    Target: certo-responder >= 0.8x nginx requests/s (keepalive).
# 2. TLS-ALPN-01 full handshakes/s: certo-responder vs ualpn (-n 1: one
#    worker process, pinned like the rest), driven by responder-tlsdrive.c
#    (compiled here into the work dir: GnuTLS client, epoll, BENCH_TLS_CONC
#    handshakes in flight, ALPN acme-tls/1 only, SNI = the identifier, no
#    resumption, TLS 1.3/1.2, key share X25519 then P-256). Both servers make
#    ECDSA P-256 validation certificates (ualpn has no other key type; certo-
#    responder's default). One handshake per server is checked (one dNSName
#    SAN, critical acmeIdentifier = SHA-256 of the key authorization) and the
#    negotiated parameters printed. Also one run with one connection in flight
#    for the handshake latency. Target: certo-responder >= ualpn handshakes/s.
# 3. Memory: VmHWM (peak RSS) of every server after its load, and next to it
#    PSS and private dirty from /proc/PID/smaps_rollup read at that moment
#    (the servers still run), each summed over the server's processes
#    (nginx and ualpn: master + worker); and certo-responder's VmRSS while
#    BENCH_IDLE_CONNS idle TCP connections (responder-idle.py) are open to its
#    HTTP port and, separately, to its TLS port, both on the instance that
#    carried the load and on a fresh one (started with --max-conns above
#    BENCH_IDLE_CONNS: the default cap is 512). Target: < 16 MiB with 1000
#    idle connections (the largest of these readings).
#
# Every rate is also given per second of server CPU time (utime + stime of
# the server's processes from /proc, over the run): on a shared or small host
# the load generator or other tenants can keep the server core from being
# busy, and then the wall-clock rate measures them rather than the server.
# The table shows each run's server CPU use; the wall-clock ratio is the
# target verdict, the CPU-normalised ratio is printed next to it.
#
# Rounds alternate the server order (certo first in odd rounds); figures are
# medians over BENCH_ROUNDS.
#
# Environment (all optional; see also scripts/bench/lib.sh):
#   CERTO_RESPONDER=path  daemon binary (default: a fresh Release build in
#                         build-bench/)
#   BENCH_NO_BUILD=1      do not (re)build it
#   BENCH_NO_DEPS=1       do not call scripts/deps.sh --bench
#   BENCH_DURATION=10     seconds per timed run
#   BENCH_ROUNDS=3        rounds per comparison
#   BENCH_WRK_CONNS=50    wrk connections
#   BENCH_TLS_CONC=32     handshakes in flight (TLS driver)
#   BENCH_IDLE_CONNS=1000 idle connections for the RSS reading
#   BENCH_IDLE_HOLD=12    seconds the fresh instance's idle connections are
#                         held (a second sample shows idle-timeout closing)
#   BENCH_HTTP_MODES="keepalive close"
#   BENCH_SERVER_CPU=0    core of every server (taskset)
#   BENCH_CLIENT_CPU=1    core of wrk / the TLS driver / the idle script
#   BENCH_BASEPORT=25300  ports BASEPORT..BASEPORT+6 on 127.0.0.1
#   BENCH_WORKDIR=dir     work dir (default: a new /tmp/certo-bench-responder.XXXXXX)
#   BENCH_RESULTS=file    summary TSV (default WORKDIR/responder-summary.tsv;
#                         per-run rows go to ...-runs.tsv next to it)
#
# Network: everything binds and dials 127.0.0.1 (clients use source addresses
# 127.0.0.2-201) only.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_init responder --bench
# nginx's worker runs as nobody and must read the webroot below WORK.
chmod 0755 "$WORK"
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
WRK_CONNS=${BENCH_WRK_CONNS:-50}
TLS_CONC=${BENCH_TLS_CONC:-32}
IDLE_CONNS=${BENCH_IDLE_CONNS:-1000}
IDLE_HOLD=${BENCH_IDLE_HOLD:-12}
HTTP_MODES=${BENCH_HTTP_MODES:-keepalive close}
SCPU=${BENCH_SERVER_CPU:-0}
CCPU=${BENCH_CLIENT_CPU:-1}
BASEPORT=${BENCH_BASEPORT:-25300}
RUN_TIMEOUT=$((DURATION + 30))

P_CERTO_HTTP=$BASEPORT
P_CERTO_TLS=$((BASEPORT + 1))
P_NGINX=$((BASEPORT + 2))
P_UALPN=$((BASEPORT + 3))
P_UALPN_BACKEND=$((BASEPORT + 4)) # nothing listens: no connection is proxied
P_FRESH_HTTP=$((BASEPORT + 5))
P_FRESH_TLS=$((BASEPORT + 6))
IDENT=bench.certo.test
RSS_LIMIT_KIB=16384
RESULTS=${BENCH_RESULTS:-$WORK/responder-summary.tsv}
RUNS_TSV="${RESULTS%.tsv}-runs.tsv"

# --------------------------------------------------------------- /proc reads
CLK_TCK=$(getconf CLK_TCK)

procs_of() { # procs_of PID: PID and its direct children
	echo "$1"
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true
}

cpu_ticks() { # cpu_ticks PID...: utime + stime summed (all threads)
	local p t=0 v
	for p in "$@"; do
		# comm may contain spaces: fields after ") " start at state.
		v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# proc_kib FILE FIELD PID...: the field (kB) of /proc/PID/FILE summed over
# PIDs (FILE status: VmHWM, VmRSS; smaps_rollup: Pss, Private_Dirty).
proc_kib() {
	local file=$1 f=$2 p t=0 v
	shift 2
	for p in "$@"; do
		v=$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$p/$file" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

status_max_kib() { # status_max_kib FIELD PID...: the largest single value
	local f=$1 p m=0 v
	shift
	for p in "$@"; do
		v=$(proc_kib status "$f" "$p")
		[ "$v" -gt "$m" ] && m=$v
	done
	echo "$m"
}

# mem_of PID...: "VmHWM Pss Private_Dirty" summed over PIDs, now.
mem_of() {
	echo "$(proc_kib status VmHWM "$@") $(proc_kib smaps_rollup Pss "$@")" \
		"$(proc_kib smaps_rollup Private_Dirty "$@")"
}

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "n/a" && a >= b) }'; }
verdict_ge() { if ge "$1" "$2"; then echo PASS; else echo FAIL; fi; }

# ------------------------------------------------------------------- checks
[ "$(id -u)" -eq 0 ] || bench_die "run as root (the daemons are started with --stay-root / as root)"
NCPU=$(nproc)
{ [ "$SCPU" -lt "$NCPU" ] && [ "$CCPU" -lt "$NCPU" ] && [ "$SCPU" != "$CCPU" ]; } ||
	bench_die "need two distinct CPUs (BENCH_SERVER_CPU=$SCPU BENCH_CLIENT_CPU=$CCPU, $NCPU online)"
for c in nginx wrk /usr/bin/ualpn taskset python3 gcc pkg-config curl; do
	command -v "$c" >/dev/null || bench_die "$c missing (scripts/deps.sh --bench)"
done
bench_ports_free $(seq "$BASEPORT" $((BASEPORT + 6)))
# descriptors: idle connections on both ends, with room to spare
hard=$(ulimit -Hn)
nofile=65536
[ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ] && nofile=$hard
ulimit -n "$nofile"
[ "$(ulimit -n)" -ge $((IDLE_CONNS + 256)) ] ||
	bench_die "ulimit -n is $(ulimit -n); $((IDLE_CONNS + 256)) needed"

# -------------------------------------------------------------------- build
bench_build certo-responder
RESPONDER=$CERTO_RESPONDER
DRIVER=$BENCH_BUILD/bench-tools/responder-tlsdrive
# shellcheck disable=SC2046 # pkg-config output is word-split on purpose
bench_compile "$BENCH_DIR/responder-tlsdrive.c" "$DRIVER" $(pkg-config --cflags --libs gnutls)
IDLE_PY=$BENCH_DIR/responder-idle.py
CAPS=()
case $("$RESPONDER" --help 2>&1 || true) in *--max-conns*) CAPS=(--max-conns $((IDLE_CONNS + 64))) ;; esac

# --------------------------------------------------------- challenge values
b64url() { basenc --base64url | tr -d '=\n'; }
TOKEN=$(head -c 32 /dev/urandom | b64url)
THUMB=$(head -c 32 /dev/urandom | b64url)
KEYAUTH=$TOKEN.$THUMB
UALPN_AUTH=$(printf '%s' "$KEYAUTH" | openssl dgst -sha256 -binary | b64url)
URL_PATH=/.well-known/acme-challenge/$TOKEN

ctl() { # ctl SOCKET LINE...: send lines to certo-responder, print the answers
	python3 - "$@" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
lines = sys.argv[2:]
s.sendall("".join(l + "\n" for l in lines).encode())
buf = b""
while buf.count(b"\n") < len(lines):
    d = s.recv(4096)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
EOF
}

declare -A SPID      # certo-responder instance name -> PID
declare -A KEEPALIVE # HTTP server -> keep-alive finding

# start_certo NAME HTTP_PORT TLS_PORT: a pinned daemon with both challenges
# (its connection cap, 512 by default, raised to hold BENCH_IDLE_CONNS)
start_certo() {
	local name=$1 hp=$2 tp=$3 sock=$WORK/$1.sock out pid
	taskset -c "$SCPU" "$RESPONDER" --socket "$sock" --http-port "$hp" \
		--http-addr 127.0.0.1 --tls-port "$tp" --tls-addr 127.0.0.1 \
		"${CAPS[@]}" --stay-root >"$LOGS/$name.log" 2>&1 &
	pid=$!
	BENCH_PIDS+=("$pid")
	{ bench_wait_port "$hp" "$pid" && bench_wait_port "$tp" "$pid"; } ||
		bench_die "$name did not start, see $LOGS/$name.log"
	out=$(ctl "$sock" "auth http-01 $IDENT $TOKEN $KEYAUTH" \
		"auth tls-alpn-01 $IDENT $TOKEN $KEYAUTH")
	[ "$out" = $'OK\nOK' ] || bench_die "$name: auth answered: $out"
	SPID[$name]=$pid
}

# ------------------------------------------------------------------ runners
RUNS_HDR='test\tmode\tround\tserver\tconcurrency\tseconds\trate_per_s\tcount\tserver_cpu_s\tserver_cpu_pct\trate_per_cpu_s\tp50_ms\tp99_ms\terrors\tnote'
printf '%b\n' "$RUNS_HDR" >"$RUNS_TSV"

# kv KEY LINE: the value of KEY=... in a line of key=value words
kv() { printf '%s\n' "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'; }

# record TEST MODE ROUND SERVER CONC SECONDS RATE COUNT TICKS P50 P99 ERRORS NOTE
# SECONDS: the load generator's measuring window, RATE: its rate, COUNT: the
# successes in that window, TICKS: the server's CPU ticks in that window.
record() {
	local cpu pct per
	cpu=$(awk -v t="$9" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }')
	pct=$(awk -v c="$cpu" -v w="$6" 'BEGIN { printf "%.0f", (w > 0) ? 100 * c / w : 0 }')
	per=$(awk -v n="$8" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0) ? n / c : 0 }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
		"$4" "$5" "$6" "$7" "$8" "$cpu" "$pct" "$per" "${10}" "${11}" "${12}" "${13}" >>"$RUNS_TSV"
	printf '    %-6s %-9s r%-2s %-6s c=%-4s %9.1f /s  server CPU %5s s (%3s%%) -> %7s per CPU-s  p50 %6s ms  p99 %6s ms%s\n' \
		"$1" "$2" "$3" "$4" "$5" "$7" "$cpu" "$pct" "$per" "${10}" "${11}" \
		"$([ "${12}" = 0 ] || echo "  errors ${12}")"
}

# scale_ticks TICKS WINDOW WALL: ticks measured over WALL s, prorated to WINDOW s
scale_ticks() {
	awk -v t="$1" -v s="$2" -v w="$3" 'BEGIN { printf "%.0f", (w > 0 && s > 0 && s < w) ? t * s / w : t }'
}

# wrk_to_ms VALUE: wrk latency (12.3us, 1.2ms, 1.5s) in ms
wrk_to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else print "n/a" }'
}

# http_run MODE ROUND SERVER PORT PIDS...
http_run() {
	local mode=$1 round=$2 server=$3 port=$4 out t0 t1 c0 c1 rate count secs wall p50 p99 err
	shift 4
	local hdr=()
	[ "$mode" = close ] && hdr=(-H "Connection: close")
	out=$LOGS/wrk-$mode-$server-r$round.txt
	c0=$(cpu_ticks "$@")
	t0=$EPOCHREALTIME
	bench_run_job timeout -k 5 "$RUN_TIMEOUT" taskset -c "$CCPU" wrk -t1 -c"$WRK_CONNS" \
		-d"${DURATION}s" --latency "${hdr[@]}" "http://127.0.0.1:$port$URL_PATH" \
		>"$out" 2>&1 || echo "    (wrk exit status $?, see $out)"
	t1=$EPOCHREALTIME
	c1=$(cpu_ticks "$@")
	rate=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	# "  43224 requests in 5.08s, 9.15MB read"
	count=$(awk '/ requests in / { print $1 }' "$out")
	secs=$(awk '/ requests in / { v = $4; sub(/s,$/, "", v); print v }' "$out")
	p50=$(wrk_to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
	p99=$(wrk_to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
	err=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
		END { print n + 0 }' "$out")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	record http "$mode" "$round" "$server" "$WRK_CONNS" "${secs:-0}" "${rate:-0}" "${count:-0}" \
		"$(scale_ticks $((c1 - c0)) "${secs:-0}" "$wall")" "$p50" "$p99" "$err" ""
}

# tls_run MODE ROUND SERVER PORT CONC PIDS...
tls_run() {
	local mode=$1 round=$2 server=$3 port=$4 conc=$5 out line t0 t1 c0 c1 wall secs
	shift 5
	out=$LOGS/tls-$mode-$server-r$round.txt
	c0=$(cpu_ticks "$@")
	t0=$EPOCHREALTIME
	bench_run_job timeout -k 5 "$((RUN_TIMEOUT + 1))" taskset -c "$CCPU" "$DRIVER" 127.0.0.1 \
		"$port" "$IDENT" "$DURATION" "$conc" >"$out" 2>&1 ||
		echo "    (driver exit status $?, see $out)"
	t1=$EPOCHREALTIME
	c1=$(cpu_ticks "$@")
	line=$(tail -n 1 "$out")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	secs=$(kv seconds "$line")
	# The driver's first second is an uncounted warm-up: the server's CPU
	# ticks are prorated to the counted window.
	record tls "$mode" "$round" "$server" "$conc" "${secs:-0}" "$(kv rate "$line")" \
		"$(kv ok "$line")" "$(scale_ticks $((c1 - c0)) "${secs:-0}" "$wall")" \
		"$(kv lat_p50_ms "$line")" "$(kv lat_p99_ms "$line")" "$(kv err "$line")" \
		"over_30ms=$(kv over_30ms "$line")"
}

# ---------------------------------------------------------------- phase 0
echo "certo-responder benchmark: work dir $WORK"
echo "  host: $NCPU CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "  servers on CPU $SCPU, load generators on CPU $CCPU; $ROUNDS rounds x ${DURATION} s," \
	"order alternating; medians"
echo "  $("$RESPONDER" -V 2>&1 | tr '\n' ' ')"
echo "  $(nginx -v 2>&1), $(/usr/bin/ualpn -V 2>&1 | head -n 1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
echo "  certo-responder ${CAPS[*]:-(default connection cap)}; it has no option for HTTP worker threads: libmicrohttpd runs one"
echo "  internal polling thread (4 only with --http-proxy); the TLS side is one epoll thread"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)

# ------------------------------------------------------------ start servers
start_certo certo "$P_CERTO_HTTP" "$P_CERTO_TLS"
CERTO_PIDS=("${SPID[certo]}")

mkdir -p "$WORK/nginx/www/.well-known/acme-challenge" "$WORK/nginx/tmp"
printf '%s' "$KEYAUTH" >"$WORK/nginx/www$URL_PATH"
chmod -R a+rX "$WORK/nginx/www"
cat >"$WORK/nginx/nginx.conf" <<EOF
# Tuned for nginx's best static-file rate: one worker, no access log,
# unlimited keep-alive requests (default 1000), open file cache.
worker_processes 1;
daemon off;
master_process on;
pid $WORK/nginx/nginx.pid;
error_log $LOGS/nginx-error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	server_tokens off;
	keepalive_requests 1000000;
	open_file_cache max=64 inactive=60s;
	open_file_cache_valid 60s;
	client_body_temp_path $WORK/nginx/tmp/body;
	proxy_temp_path $WORK/nginx/tmp/proxy;
	fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
	uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
	scgi_temp_path $WORK/nginx/tmp/scgi;
	server {
		listen 127.0.0.1:$P_NGINX;
		root $WORK/nginx/www;
		location /.well-known/acme-challenge/ {
			types { }
			default_type application/octet-stream;
		}
	}
}
EOF
taskset -c "$SCPU" nginx -p "$WORK/nginx" -e "$LOGS/nginx-error.log" \
	-c "$WORK/nginx/nginx.conf" >"$LOGS/nginx.log" 2>&1 &
NGINX_PID=$!
BENCH_PIDS+=("$NGINX_PID")
bench_wait_port "$P_NGINX" "$NGINX_PID" || bench_die "nginx did not start, see $LOGS/nginx-error.log"
sleep 0.2
mapfile -t NGINX_PIDS < <(procs_of "$NGINX_PID")

taskset -c "$SCPU" /usr/bin/ualpn -n 1 -b "127.0.0.1@$P_UALPN" -c "127.0.0.1@$P_UALPN_BACKEND" \
	-s "$WORK/ualpn.sock" -p "$WORK/ualpn.pid" -l "$LOGS/ualpn.log" >"$LOGS/ualpn.out" 2>&1 &
UALPN_PID=$!
BENCH_PIDS+=("$UALPN_PID")
bench_wait_port "$P_UALPN" "$UALPN_PID" || bench_die "ualpn did not start, see $LOGS/ualpn.log"
for _ in $(seq 1 50); do [ -S "$WORK/ualpn.sock" ] && break; sleep 0.1; done
out=$(echo "auth $IDENT $UALPN_AUTH" | timeout 5 /usr/bin/ualpn -s "$WORK/ualpn.sock" 2>&1) || true
[ "$out" = OK ] || bench_die "ualpn auth answered: $out"
sleep 0.2
mapfile -t UALPN_PIDS < <(procs_of "$UALPN_PID")

# ------------------------------------------------------------ sanity checks
echo
echo "Checks"
for s in certo:$P_CERTO_HTTP nginx:$P_NGINX; do
	n=${s%%:*} p=${s#*:}
	body=$(curl -s --max-time 5 -o - "http://127.0.0.1:$p$URL_PATH")
	ctype=$(curl -s --max-time 5 -o /dev/null -w '%{content_type}' "http://127.0.0.1:$p$URL_PATH")
	size=$(curl -s --max-time 5 -o /dev/null -w '%{size_header}+%{size_download}' "http://127.0.0.1:$p$URL_PATH")
	reuse=$(curl -sv --max-time 5 -o /dev/null -o /dev/null "http://127.0.0.1:$p$URL_PATH" \
		"http://127.0.0.1:$p$URL_PATH" 2>&1 | grep -c 'Re-using existing connection' || true)
	[ "$body" = "$KEYAUTH" ] || bench_die "$n: wrong body for the token"
	[ "$ctype" = application/octet-stream ] || bench_die "$n: Content-Type $ctype"
	ka=yes
	[ "$reuse" -ge 1 ] || ka="NO (answers Connection: close, every request is a new TCP connection)"
	KEEPALIVE[$n]=$ka
	printf '  HTTP-01 %-6s body ok, Content-Type %s, %s bytes header+body, keep-alive %s\n' \
		"$n" "$ctype" "$size" "$ka"
done
for s in certo:$P_CERTO_TLS ualpn:$P_UALPN; do
	n=${s%%:*} p=${s#*:}
	line=$(timeout 10 taskset -c "$CCPU" "$DRIVER" 127.0.0.1 "$p" "$IDENT" 1 1 "$KEYAUTH" 2>&1) ||
		bench_die "$n: TLS-ALPN-01 check failed: $line"
	printf '  TLS-ALPN-01 %-6s %s\n' "$n" "$(printf '%s\n' "$line" | tr ' ' '\n' |
		grep -E '^(cert_check|key|tls)=' | tr '\n' ' ')"
done

# ------------------------------------------------------------ HTTP-01 phase
echo
echo "HTTP-01: wrk -t1 -c$WRK_CONNS -d${DURATION}s on CPU $CCPU (warm-up 2 s each, untimed)"
for s in certo:$P_CERTO_HTTP nginx:$P_NGINX; do
	timeout 20 taskset -c "$CCPU" wrk -t1 -c"$WRK_CONNS" -d2s "http://127.0.0.1:${s#*:}$URL_PATH" \
		>/dev/null 2>&1 || true
done
for mode in $HTTP_MODES; do
	for ((r = 1; r <= ROUNDS; r++)); do
		order="certo nginx"
		[ $((r % 2)) -eq 0 ] && order="nginx certo"
		for s in $order; do
			if [ "$s" = certo ]; then
				http_run "$mode" "$r" certo "$P_CERTO_HTTP" "${CERTO_PIDS[@]}"
			else
				http_run "$mode" "$r" nginx "$P_NGINX" "${NGINX_PIDS[@]}"
			fi
		done
	done
done
read -r HWM_CERTO_HTTP PSS_CERTO_HTTP PD_CERTO_HTTP < <(mem_of "${CERTO_PIDS[@]}")
read -r HWM_NGINX PSS_NGINX PD_NGINX < <(mem_of "${NGINX_PIDS[@]}")
HWM_NGINX_MAX=$(status_max_kib VmHWM "${NGINX_PIDS[@]}")

# -------------------------------------------------------- TLS-ALPN-01 phase
echo
echo "TLS-ALPN-01: responder-tlsdrive, $TLS_CONC handshakes in flight, ${DURATION} s + 1 s warm-up, on CPU $CCPU"
for s in certo:$P_CERTO_TLS ualpn:$P_UALPN; do
	timeout 20 taskset -c "$CCPU" "$DRIVER" 127.0.0.1 "${s#*:}" "$IDENT" 2 "$TLS_CONC" >/dev/null 2>&1 || true
done
for ((r = 1; r <= ROUNDS; r++)); do
	order="certo ualpn"
	[ $((r % 2)) -eq 0 ] && order="ualpn certo"
	for s in $order; do
		if [ "$s" = certo ]; then
			tls_run conc "$r" certo "$P_CERTO_TLS" "$TLS_CONC" "${CERTO_PIDS[@]}"
		else
			tls_run conc "$r" ualpn "$P_UALPN" "$TLS_CONC" "${UALPN_PIDS[@]}"
		fi
	done
done
echo "  one handshake in flight (latency):"
tls_run serial 1 certo "$P_CERTO_TLS" 1 "${CERTO_PIDS[@]}"
tls_run serial 1 ualpn "$P_UALPN" 1 "${UALPN_PIDS[@]}"
read -r HWM_CERTO PSS_CERTO PD_CERTO < <(mem_of "${CERTO_PIDS[@]}")
RSS_CERTO_LOADED=$(proc_kib status VmRSS "${CERTO_PIDS[@]}")
read -r HWM_UALPN PSS_UALPN PD_UALPN < <(mem_of "${UALPN_PIDS[@]}")
HWM_UALPN_MAX=$(status_max_kib VmHWM "${UALPN_PIDS[@]}")

# ---------------------------------------------------------- idle RSS phase
echo
echo "Idle connections: $IDLE_CONNS TCP connections held open (nothing sent), certo-responder's VmRSS"
bench_stop_pid "$NGINX_PID"
bench_stop_pid "$UALPN_PID"
start_certo fresh "$P_FRESH_HTTP" "$P_FRESH_TLS"
RSS_FRESH_BASE=$(proc_kib status VmRSS "${SPID[fresh]}")
declare -A IDLE_RSS IDLE_NOTE
# idle_run LABEL PID PORT HOLD
idle_run() {
	local label=$1 pid=$2 port=$3 hold=$4 out s1 s2 rss fds alive alive2=""
	out=$LOGS/idle-$label.txt
	bench_run_job timeout -k 5 $((hold + 60)) taskset -c "$CCPU" python3 "$IDLE_PY" "$pid" "$port" \
		"$IDLE_CONNS" "$hold" >"$out" 2>&1 || echo "    (idle script exit status $?, see $out)"
	s1=$(grep '^sample' "$out" | head -n 1)
	s2=$(grep '^sample' "$out" | sed -n 2p)
	rss=$(kv rss_kib "$s1")
	fds=$(kv fds "$s1")
	alive=$(kv alive "$s1")
	[ -n "$s2" ] && alive2=$(kv alive "$s2")
	IDLE_RSS[$label]=${rss:-0}
	IDLE_NOTE[$label]="fds=${fds:-?} alive=${alive:-?}/$IDLE_CONNS at 1 s${alive2:+, $alive2/$IDLE_CONNS still open at ${hold} s}"
	printf '  %-14s VmRSS %6s MiB  (%s kB; %s)\n' "$label" "$(bench_mib "${rss:-0}")" "${rss:-0}" "${IDLE_NOTE[$label]}"
	[ "${alive:-0}" -eq "$IDLE_CONNS" ] || IDLE_NOTE[$label]="${IDLE_NOTE[$label]} INCOMPLETE"
}
printf '  loaded instance: VmRSS %s MiB before (VmHWM %s MiB)\n' "$(bench_mib "$RSS_CERTO_LOADED")" "$(bench_mib "$HWM_CERTO")"
idle_run loaded-http "${SPID[certo]}" "$P_CERTO_HTTP" 1
idle_run loaded-tls "${SPID[certo]}" "$P_CERTO_TLS" 1
printf '  fresh instance:  VmRSS %s MiB before\n' "$(bench_mib "$RSS_FRESH_BASE")"
idle_run fresh-http "${SPID[fresh]}" "$P_FRESH_HTTP" "$IDLE_HOLD"
idle_run fresh-tls "${SPID[fresh]}" "$P_FRESH_TLS" "$IDLE_HOLD"
HWM_CERTO_AFTER_IDLE=$(proc_kib status VmHWM "${CERTO_PIDS[@]}")
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)

# ------------------------------------------------------------------ summary
col() { # col TEST MODE SERVER COLUMN: median of a runs-TSV column
	local vals
	mapfile -t vals < <(awk -F'\t' -v t="$1" -v m="$2" -v s="$3" -v c="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
		$1 == t && $2 == m && $4 == s { print $k }' "$RUNS_TSV")
	bench_median "${vals[@]}"
}
fmt0() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
fmt2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }

printf 'metric\tcerto\tpeer\tpeer_value\tratio\ttarget\tverdict\tunit\tnote\n' >"$RESULTS"
row() { # row METRIC CERTO PEER PEERVAL RATIO TARGET VERDICT UNIT NOTE
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
	printf '%-44s %10s  %-6s %10s  %6s  %-15s %-5s %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$9"
}

echo
echo "Results (medians of $ROUNDS rounds; server CPU = share of one core the server used)"
printf '%-44s %10s  %-6s %10s  %6s  %-15s %-5s %s\n' metric certo peer value ratio target verdict note
printf '%s\n' "-------------------------------------------------------------------------------------------------------------------"
for mode in $HTTP_MODES; do
	c=$(col http "$mode" certo rate_per_s) n=$(col http "$mode" nginx rate_per_s)
	cc=$(col http "$mode" certo rate_per_cpu_s) nc=$(col http "$mode" nginx rate_per_cpu_s)
	cp=$(col http "$mode" certo server_cpu_pct) np=$(col http "$mode" nginx server_cpu_pct)
	c50=$(fmt2 "$(col http "$mode" certo p50_ms)") n50=$(fmt2 "$(col http "$mode" nginx p50_ms)")
	r=$(bench_ratio "$c" "$n") rc=$(bench_ratio "$cc" "$nc")
	if [ "$mode" = keepalive ]; then
		t=">= 0.8x nginx" v=$(verdict_ge "$r" 0.8) vc=$(verdict_ge "$rc" 0.8)
	else
		t="(info)" v="-" vc="-"
	fi
	row "HTTP-01 req/s, $mode (wrk -c$WRK_CONNS)" "$(fmt0 "$c")" nginx "$(fmt0 "$n")" "$r" "$t" "$v" \
		"req/s" "server CPU certo $(fmt0 "$cp")% nginx $(fmt0 "$np")%; p50 $c50 vs $n50 ms"
	row "HTTP-01 req per server CPU-s, $mode" "$(fmt0 "$cc")" nginx "$(fmt0 "$nc")" "$rc" "$t" "$vc" \
		"req/CPU-s" "CPU-normalised"
done
c=$(col tls conc certo rate_per_s) u=$(col tls conc ualpn rate_per_s)
cc=$(col tls conc certo rate_per_cpu_s) uc=$(col tls conc ualpn rate_per_cpu_s)
cp=$(col tls conc certo server_cpu_pct) up=$(col tls conc ualpn server_cpu_pct)
r=$(bench_ratio "$c" "$u") rc=$(bench_ratio "$cc" "$uc")
row "TLS-ALPN-01 handshakes/s (c=$TLS_CONC)" "$(fmt0 "$c")" ualpn "$(fmt0 "$u")" "$r" ">= 1.0x ualpn" \
	"$(verdict_ge "$r" 1.0)" "hs/s" "server CPU certo $(fmt0 "$cp")% ualpn $(fmt0 "$up")%"
row "TLS-ALPN-01 handshakes per server CPU-s" "$(fmt0 "$cc")" ualpn "$(fmt0 "$uc")" "$rc" ">= 1.0x ualpn" \
	"$(verdict_ge "$rc" 1.0)" "hs/CPU-s" "CPU-normalised"
for q in p50 p99; do
	c=$(fmt2 "$(col tls serial certo "${q}_ms")") u=$(fmt2 "$(col tls serial ualpn "${q}_ms")")
	row "TLS-ALPN-01 handshake latency $q (c=1)" "$c" ualpn "$u" "$(bench_ratio "$c" "$u")" "(info)" "-" "ms" \
		"$(awk -F'\t' -v q="$q" '$1 == "tls" && $2 == "serial" { n[$4] = $15 } END {
			if (q == "p99") printf "handshakes over 30 ms: certo %s, ualpn %s", n["certo"], n["ualpn"] }' "$RUNS_TSV" |
			sed 's/over_30ms=//g')"
done
c=$(col tls serial certo rate_per_s) u=$(col tls serial ualpn rate_per_s)
row "TLS-ALPN-01 handshakes/s (c=1)" "$(fmt0 "$c")" ualpn "$(fmt0 "$u")" "$(bench_ratio "$c" "$u")" "(info)" "-" "hs/s" ""
# mem_rows PEER WHEN CERTO_HWM CERTO_PSS CERTO_PD PEER_HWM PEER_PSS PEER_PD NOTE
mem_rows() {
	row "Peak RSS (VmHWM) vs $1" "$(bench_mib "$3")" "$1" "$(bench_mib "$6")" \
		"$(bench_ratio "$3" "$6")" "(info)" "-" "MiB" "certo after $2 load; $1 $9"
	row "  PSS, same moment" "$(bench_mib "$4")" "$1" "$(bench_mib "$7")" \
		"$(bench_ratio "$4" "$7")" "(info)" "-" "MiB" "smaps_rollup, summed over processes"
	row "  private dirty, same moment" "$(bench_mib "$5")" "$1" "$(bench_mib "$8")" \
		"$(bench_ratio "$5" "$8")" "(info)" "-" "MiB" "smaps_rollup, summed over processes"
}
mem_rows nginx HTTP "$HWM_CERTO_HTTP" "$PSS_CERTO_HTTP" "$PD_CERTO_HTTP" "$HWM_NGINX" \
	"$PSS_NGINX" "$PD_NGINX" "master+worker (worker $(bench_mib "$HWM_NGINX_MAX") MiB)"
mem_rows ualpn HTTP+TLS "$HWM_CERTO" "$PSS_CERTO" "$PD_CERTO" "$HWM_UALPN" \
	"$PSS_UALPN" "$PD_UALPN" "master+worker (largest $(bench_mib "$HWM_UALPN_MAX") MiB)"
worst=0
for l in loaded-http loaded-tls fresh-http fresh-tls; do
	[ "${IDLE_RSS[$l]}" -gt "$worst" ] && worst=${IDLE_RSS[$l]}
	row "RSS with $IDLE_CONNS idle conns, $l" "$(bench_mib "${IDLE_RSS[$l]}")" "" "" "" "< 16 MiB" \
		"$(awk -v v="${IDLE_RSS[$l]}" -v l=$RSS_LIMIT_KIB 'BEGIN { if (v < l) print "PASS"; else print "FAIL" }')" \
		"MiB" "${IDLE_NOTE[$l]}"
done
v=$(awk -v v="$worst" -v l=$RSS_LIMIT_KIB 'BEGIN { if (v < l) print "PASS"; else print "FAIL" }')
for l in loaded-http loaded-tls fresh-http fresh-tls; do
	case ${IDLE_NOTE[$l]} in *INCOMPLETE*) v="FAIL (not all connections held)" ;; esac
done
row "RSS with $IDLE_CONNS idle conns, worst" "$(bench_mib "$worst")" "" "" "" "< 16 MiB" "$v" "MiB" \
	"fresh instance $(bench_mib "$RSS_FRESH_BASE") MiB before; loaded $(bench_mib "$RSS_CERTO_LOADED") MiB before"
echo
echo "Notes"
echo "  certo HTTP keep-alive: ${KEEPALIVE[certo]}"
echo "  nginx HTTP keep-alive: ${KEEPALIVE[nginx]}"
echo "  certo VmHWM after the idle tests on the loaded instance: $(bench_mib "$HWM_CERTO_AFTER_IDLE") MiB"
echo "  load average: $LOAD_START at start, $LOAD_END at end ($NCPU CPUs; other tenants share the cores)"
echo
echo "Summary TSV : $RESULTS"
echo "Per-run TSV : $RUNS_TSV"
echo "Logs        : $LOGS/"
