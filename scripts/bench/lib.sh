# shellcheck shell=bash
# scripts/bench/lib.sh: the one set-up shared by the benchmarks in
# scripts/bench/ (issue.sh, renew.sh, responder.sh, dns.sh, faults.sh).
# Source it from bash; it only defines functions and the variables below.
# See scripts/bench/README.md for what each benchmark measures.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_init issue --bench        # WORK, LOGS, deps, the EXIT trap
#   bench_build certo               # Release build: $CERTO
#   bench_tools                     # compiles measure.c: $BENCH_MEASURE
#   bench_pebble_start "$WORK/pebble" 24000 24080 24443
#   bench_trust_files               # system+test CA, test CA only
#   bench_env uacme system "$BENCH_MEASURE" out.txt 60 uacme ...
#
# Sets: ROOT, BENCH_DIR, BENCH_BUILD (ROOT/build-bench), WORK, LOGS,
# CERTO / CERTO_RESPONDER (after bench_build), BENCH_MEASURE (after
# bench_tools), BENCH_PEBBLE (the work dir of the last Pebble started).
#
# Environment read here (all optional):
#   CERTO=path  CERTO_RESPONDER=path   binaries to use instead of a build
#   BENCH_NO_BUILD=1    do not build (the binaries must exist)
#   BENCH_NO_DEPS=1     do not call scripts/deps.sh
#   BENCH_WORKDIR=dir   work dir (default: a new /tmp/certo-bench-NAME.XXXXXX)
#   BENCH_TRUST="system pebble"  the trust stores of the clients, in order;
#                       the first one is the headline (see bench_trusts)
#   BENCH_MEM_SAMPLE_MS=10  smaps_rollup sampling interval of measure.c
#
# Network: every server binds, and every client dials, 127.0.0.1 only.
# Every process started through these functions is stopped on exit, by
# PID and start time (a recycled PID is never signalled).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=$ROOT/scripts/bench
BENCH_BUILD=$ROOT/build-bench
BENCH_SYS_CA=/etc/ssl/certs/ca-certificates.crt
BENCH_UACME_HOOK=/usr/share/uacme/uacme.sh
export LC_ALL=C
# shellcheck source=scripts/pebble-env.sh
. "$ROOT/scripts/pebble-env.sh"

BENCH_NAME=bench
BENCH_PIDS=()      # servers, stopped on exit
BENCH_JOB_PID=""   # the command bench_run_job waits for
BENCH_STATIC_PID=""
BENCH_PEBBLES=()   # Pebble work dirs, stopped on exit
BENCH_PEBBLE=""

bench_die() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

# bench_init NAME [--bench]: work dir and logs, the dependencies
# (scripts/deps.sh, with --bench the peers too), the exit trap.
bench_init() {
	BENCH_NAME=$1.sh
	WORK=${BENCH_WORKDIR:-$(mktemp -d "/tmp/certo-bench-$1.XXXXXX")}
	mkdir -p "$WORK" || exit 1
	WORK=$(cd "$WORK" && pwd)
	LOGS=$WORK/logs
	mkdir -p "$LOGS"
	if [ "${BENCH_NO_DEPS:-0}" != 1 ]; then
		"$ROOT/scripts/deps.sh" ${2:+"$2"} || bench_die "scripts/deps.sh $2 failed"
	fi
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# ------------------------------------------------------------------- build
# bench_build TARGET...: a Release build in build-bench/ of certo and/or
# certo-responder, unless CERTO / CERTO_RESPONDER name a binary already.
# Incremental, so a benchmark never measures a stale binary.
bench_build() {
	local t want=()
	for t in "$@"; do
		case $t in
		certo) [ -n "${CERTO:-}" ] || want+=(certo) ;;
		certo-responder) [ -n "${CERTO_RESPONDER:-}" ] || want+=(certo-responder) ;;
		*) bench_die "bench_build: unknown target $t" ;;
		esac
	done
	if [ "${#want[@]}" -gt 0 ] && [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
		{
			cmake -S "$ROOT" -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=Release \
				-DCERTO_TESTS=OFF &&
				cmake --build "$BENCH_BUILD" -j2 --target "${want[@]}"
		} >"$LOGS/build.log" 2>&1 || bench_die "building ${want[*]} failed, see $LOGS/build.log"
	fi
	CERTO=${CERTO:-$BENCH_BUILD/client/certo}
	CERTO_RESPONDER=${CERTO_RESPONDER:-$BENCH_BUILD/responder/certo-responder}
	for t in "$@"; do
		case $t in
		certo) [ -x "$CERTO" ] || bench_die "no certo binary at $CERTO (set CERTO=)" ;;
		*) [ -x "$CERTO_RESPONDER" ] || bench_die "no daemon at $CERTO_RESPONDER" ;;
		esac
	done
}

# bench_compile SRC OUT [CFLAGS...]: gcc -O2 SRC into OUT when OUT is older.
bench_compile() {
	local src=$1 out=$2
	shift 2
	[ "$out" -nt "$src" ] && return 0
	mkdir -p "$(dirname "$out")"
	# shellcheck disable=SC2068 # the flags are word lists on purpose
	gcc -O2 -Wall -Wextra -o "$out" "$src" $@ >"$LOGS/$(basename "$out")-build.log" 2>&1 ||
		bench_die "cannot compile $src, see $LOGS/$(basename "$out")-build.log"
}

# bench_tools: measure.c -> $BENCH_MEASURE (exported: renew-batch.sh runs it).
bench_tools() {
	BENCH_MEASURE=$BENCH_BUILD/bench-tools/measure
	bench_compile "$BENCH_DIR/measure.c" "$BENCH_MEASURE"
	export BENCH_MEASURE
}

# ---------------------------------------------------------------- processes
# bench_proc_id PID: PID:STARTTIME, nothing if PID is gone or a zombie.
bench_proc_id() {
	local f
	f=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
	# shellcheck disable=SC2086 # split the stat fields on purpose
	set -- "$1" $f
	[ "$2" = Z ] || echo "$1:${21}"
}

# bench_descendants PID: PID:STARTTIME of every descendant.
bench_descendants() {
	local child
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		bench_proc_id "$child"
		bench_descendants "$child"
	done
}

# bench_stop_pid PID: TERM, up to 5 s, then KILL it and its descendants.
bench_stop_pid() {
	local pid=$1 me id _
	me=$(bench_proc_id "$pid")
	[ -n "$me" ] || { wait "$pid" 2>/dev/null || true; return 0; }
	local ids=("$me")
	mapfile -t -O 1 ids < <(bench_descendants "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		[ -n "$(bench_proc_id "$pid")" ] || break
		sleep 0.1
	done
	for id in "${ids[@]}"; do
		[ "$(bench_proc_id "${id%%:*}")" = "$id" ] && kill -KILL "${id%%:*}" 2>/dev/null
	done
	wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	[ -n "$BENCH_JOB_PID" ] && bench_stop_pid "$BENCH_JOB_PID"
	bench_static_stop
	for p in "${BENCH_PIDS[@]}"; do bench_stop_pid "$p"; done
	for p in "${BENCH_PEBBLES[@]}"; do pebble_stop "$p" || true; done
	exit "$rc"
}

# bench_run_job CMD...: CMD in the background, so that the trap can stop
# it; returns its exit status.
bench_run_job() {
	"$@" &
	BENCH_JOB_PID=$!
	local rc=0
	wait "$BENCH_JOB_PID" || rc=$?
	BENCH_JOB_PID=""
	return "$rc"
}

# bench_port_free PORT: nothing accepts connections on 127.0.0.1:PORT.
bench_port_free() { ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# bench_ports_free PORT...: dies naming the first port in use.
bench_ports_free() {
	local p
	for p in "$@"; do
		bench_port_free "$p" || bench_die "port 127.0.0.1:$p is in use; set BENCH_BASEPORT"
	done
}

# bench_wait_port_free PORT: up to 5 s.
bench_wait_port_free() {
	local _
	for _ in $(seq 1 50); do
		bench_port_free "$1" && return 0
		sleep 0.1
	done
	echo "$BENCH_NAME: port $1 still in use" >&2
	return 1
}

# bench_wait_port PORT PID: until something accepts on PORT (10 s), while
# PID lives.
bench_wait_port() {
	local _
	for _ in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || return 1
		bench_port_free "$1" || return 0
		sleep 0.1
	done
	return 1
}

# bench_static_start WEBROOT PORT: python3 http.server on 127.0.0.1:PORT,
# the web server that already runs for the peers' webroot mode (not timed).
bench_static_start() {
	local _
	bench_wait_port_free "$2" || return 1
	/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$1" "$2" \
		>>"$LOGS/static-server.log" 2>&1 &
	BENCH_STATIC_PID=$!
	for _ in $(seq 1 100); do
		curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$2/" && return 0
		sleep 0.05
	done
	echo "$BENCH_NAME: static server on 127.0.0.1:$2 did not start" >&2
	return 1
}

bench_static_stop() {
	if [ -n "$BENCH_STATIC_PID" ]; then
		bench_stop_pid "$BENCH_STATIC_PID"
		BENCH_STATIC_PID=""
	fi
}

# ------------------------------------------------------------------- Pebble
# bench_pebble_start DIR BASEPORT HTTP01PORT TLSALPNPORT: a Pebble and
# challtestsrv (scripts/pebble-env.sh) with this run's issuing root and
# intermediate in DIR; stopped on exit. Pebble's knobs come from the
# caller's environment.
bench_pebble_start() {
	BENCH_PEBBLES+=("$1")
	pebble_start "$@" >/dev/null || bench_die "Pebble did not start (see $1/pebble.log)"
	pebble_fetch_roots "$1" || bench_die "no roots from Pebble"
	BENCH_PEBBLE=$1
}

# bench_cert_ok FILE NAME: FILE is a certificate for NAME that chains to
# the root of the last Pebble started.
bench_cert_ok() {
	local san
	grep -q -- '-----BEGIN CERTIFICATE-----' "$1" 2>/dev/null || return 1
	san=$(openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null) || return 1
	case "$san," in *"DNS:$2,"*) ;; *) return 1 ;; esac
	openssl verify -CAfile "$BENCH_PEBBLE/root.pem" \
		-untrusted "$BENCH_PEBBLE/intermediate.pem" "$1" >/dev/null 2>&1
}

# bench_cert_times FILE: "notBefore notAfter" in seconds since the epoch.
bench_cert_times() {
	local nb na
	nb=$(openssl x509 -in "$1" -noout -startdate) || return 1
	na=$(openssl x509 -in "$1" -noout -enddate) || return 1
	echo "$(date -u -d "${nb#notBefore=}" +%s) $(date -u -d "${na#notAfter=}" +%s)"
}

# bench_acme_settings NAME BASEPORT TIMEOUT SAMPLE_MS: the settings of a
# client comparison (issue.sh, renew.sh) with these defaults: CLIENTS,
# TRUSTS, BASEPORT, HTTP01, TLSALPN, TIMEOUT, EMAIL, DOMAIN, RESULTS,
# RUNS_TSV, TARGETS_TSV; Pebble's knobs and the memory sampling exported.
# shellcheck disable=SC2034 # used by the scripts that source this file
bench_acme_settings() {
	CLIENTS=${BENCH_CLIENTS:-certo uacme lego certbot}
	TRUSTS=$(bench_trusts)
	BASEPORT=${BENCH_BASEPORT:-$2}
	HTTP01=${BENCH_HTTP01_PORT:-$((BASEPORT + 80))}
	TLSALPN=${BENCH_TLSALPN_PORT:-$((BASEPORT + 443))}
	TIMEOUT=${BENCH_TIMEOUT:-$3}
	EMAIL=bench@example.com
	DOMAIN=certo.test
	RESULTS=${BENCH_RESULTS:-$WORK/$1-summary.tsv}
	RUNS_TSV="${RESULTS%.tsv}-runs.tsv"
	TARGETS_TSV="${RESULTS%.tsv}-targets.tsv"
	export BENCH_MEM_SAMPLE_MS=${BENCH_MEM_SAMPLE_MS:-$4}
	# shellcheck disable=SC2031 # a set-up knob, exported on purpose
	export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0
	export PEBBLE_WFE_NONCEREJECT=${BENCH_NONCEREJECT:-0}
	case $WORK in *[[:space:]]*) bench_die "the work dir must not contain spaces" ;; esac
}

# bench_acme_start TITLE LINE...: the ports free, a Pebble on them, the
# trust stores, the runs TSV begun; prints TITLE, the set-up and the LINEs.
bench_acme_start() {
	local t
	bench_ports_free "$BASEPORT" $((BASEPORT + 1)) $((BASEPORT + 2)) $((BASEPORT + 3)) \
		"$HTTP01" "$TLSALPN"
	echo "$1: work dir $WORK"
	shift
	echo "  host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
	echo "  Pebble base port $BASEPORT, HTTP-01 port $HTTP01; PEBBLE_VA_NOSLEEP=1" \
		"PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=$PEBBLE_WFE_NONCEREJECT"
	echo "  timeout ${TIMEOUT} s; memory sampled every $BENCH_MEM_SAMPLE_MS ms and at exit"
	printf '  %s\n' "$@"
	bench_pebble_start "$WORK/pebble" "$BASEPORT" "$HTTP01" "$TLSALPN"
	bench_trust_files
	for t in $TRUSTS; do echo "  trust store \"$t\": $(bench_trust_label "$t")"; done
	printf '%b\n' "$BENCH_RUNS_HDR" >"$RUNS_TSV"
}

# -------------------------------------------------------------- trust stores
# The clients reach Pebble over HTTPS; its TLS certificate comes from a
# throwaway CA ($PEBBLE_CA_BUNDLE). Two trust stores:
#   system  the system's CAs plus that CA: what a user has who added one CA
#   pebble  that CA alone (a best case no user has)
# Each client meets them the way it reads trust by default:
#   certo, uacme  (GnuTLS; uacme through libcurl) run in a private mount
#                 namespace: "system" binds $WORK/trust-system/ca-certificates
#                 .crt over /etc/ssl/certs/ca-certificates.crt, "pebble" binds
#                 $WORK/trust-pebble (that file alone) over /etc/ssl/certs.
#                 certo gets no --ca-bundle: it reads the system bundle.
#   lego          LEGO_CA_CERTIFICATES=<test CA>, LEGO_CA_SYSTEM_CERT_POOL=
#                 true (system) or false (pebble)
#   certbot       REQUESTS_CA_BUNDLE=<the file of that trust store>
# The namespace is set up before the measured command starts (not timed).

# bench_trusts: the validated BENCH_TRUST list (default "system pebble").
bench_trusts() {
	local t list=${BENCH_TRUST:-system pebble}
	for t in $list; do
		case $t in system | pebble) ;; *) bench_die "BENCH_TRUST: '$t' is not system or pebble" ;; esac
	done
	[ -n "$list" ] || bench_die "BENCH_TRUST is empty"
	echo "$list"
}

# bench_trust_label TRUST: how it reads in a table.
bench_trust_label() {
	case $1 in
	system) echo "system CAs + test CA" ;;
	*) echo "test CA only" ;;
	esac
}

# bench_trust_files: the two trust stores (after Pebble started).
bench_trust_files() {
	mkdir -p "$WORK/trust-system" "$WORK/trust-pebble"
	cat "$BENCH_SYS_CA" "$PEBBLE_CA_BUNDLE" >"$WORK/trust-system/ca-certificates.crt"
	cat "$PEBBLE_CA_BUNDLE" >"$WORK/trust-pebble/ca-certificates.crt"
}

# bench_trust_ns TRUST CMD...: CMD in a private mount namespace with that
# trust store as the system one.
# shellcheck disable=SC2016 # $0 $1 $@ are expanded by the inner bash
bench_trust_ns() {
	local opts=(-m) src=$WORK/trust-system/ca-certificates.crt dst=$BENCH_SYS_CA
	[ "$(id -u)" -eq 0 ] || opts=(-r -m)
	if [ "$1" = pebble ]; then
		src=$WORK/trust-pebble dst=$(dirname "$BENCH_SYS_CA")
	fi
	shift
	unshare "${opts[@]}" bash -c 'mount --bind "$0" "$1" && shift && exec "$@"' \
		"$src" "$dst" "$@"
}

# bench_env CLIENT TRUST CMD...: CMD as CLIENT meets TRUST (see above).
bench_env() {
	local c=$1 t=$2 pool=false
	shift 2
	case $c in
	certo | certo-old | uacme) bench_trust_ns "$t" "$@" ;;
	lego)
		[ "$t" = system ] && pool=true
		LEGO_CA_CERTIFICATES=$PEBBLE_CA_BUNDLE LEGO_CA_SYSTEM_CERT_POOL=$pool "$@"
		;;
	certbot) REQUESTS_CA_BUNDLE=$WORK/trust-$t/ca-certificates.crt "$@" ;;
	*) bench_die "bench_env: unknown client $c" ;;
	esac
}

# bench_client_available CLIENT: prints why CLIENT cannot run, and fails.
bench_client_available() {
	case $1 in
	certo) [ -x "${CERTO:-}" ] || { echo "no certo binary"; return 1; } ;;
	certo-old)
		[ -x "${BENCH_CERTO_OLD:-}" ] ||
			{ echo "no BENCH_CERTO_OLD binary"; return 1; }
		;;
	uacme)
		{ [ -x /usr/bin/uacme ] && [ -x "$BENCH_UACME_HOOK" ]; } ||
			{ echo "uacme or $BENCH_UACME_HOOK missing"; return 1; }
		;;
	lego) command -v lego >/dev/null || { echo "lego missing"; return 1; } ;;
	certbot) command -v certbot >/dev/null || { echo "certbot missing"; return 1; } ;;
	*) echo "unknown client"; return 1 ;;
	esac
	case $1 in certo | certo-old | uacme)
		command -v unshare >/dev/null || { echo "unshare missing"; return 1; } ;;
	esac
}

# --------------------------------------------------------------- arithmetic
bench_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
bench_sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }
bench_span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; } # START END: seconds
# bench_verdict VALUE LIMIT le|lt|ge: PASS or FAIL
bench_verdict() {
	awk -v v="$1" -v l="$2" -v op="$3" 'BEGIN {
		if (v == "n/a" || v == "") { print "n/a"; exit }
		p = (op == "le") ? (v <= l) : (op == "lt") ? (v < l) : (v >= l)
		print p ? "PASS" : "FAIL" }'
}
# bench_median NUMBER...: 0 when there is none
bench_median() {
	printf '%s\n' "$@" | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print 0; exit }
		if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ------------------------------------------------------------- runs and table
# One runs TSV per benchmark, one row per measured run:
#   client trust round item wall_s rss_kib pss_kib pd_kib cpu_s nproc
#   rss_sum_kib rc ok note
# rss = peak RSS (VmHWM); pss, pd = the largest sampled PSS and private dirty
# (measure.c); for a batch of processes rss is the largest process and pss,
# pd, cpu, rss_sum are sums over the processes.
# shellcheck disable=SC2034 # M_* and this are read by the sourcing scripts
BENCH_RUNS_HDR='client\ttrust\tround\titem\twall_s\trss_kib\tpss_kib\tpd_kib\tcpu_s\tnproc\trss_sum_kib\trc\tok\tnote'

# bench_read_measure FILE: M_WALL M_RSS M_CPU M_RC M_PSS M_PD from measure.c.
# shellcheck disable=SC2034
bench_read_measure() {
	local usr sys
	M_WALL=0 M_RSS=0 M_CPU=0 M_RC=125 M_PSS=0 M_PD=0
	[ -s "$1" ] || return 1
	read -r M_WALL M_RSS usr sys M_RC M_PSS M_PD _ <"$1" || return 1
	M_CPU=$(bench_sum "$usr" "$sys")
}

# bench_record TSV CLIENT TRUST ROUND ITEM WALL RSS PSS PD CPU NPROC RSSSUM RC OK NOTE
bench_record() {
	local f=$1
	shift
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$f"
}

# bench_mem_text RSS PSS PD: "RSS 15.2 MiB (PSS 12.0, private dirty 1.9)"
bench_mem_text() {
	printf 'RSS %5s MiB (PSS %5s, private dirty %4s)' "$(bench_mib "$1")" \
		"$(bench_mib "$2")" "$(bench_mib "$3")"
}

# bench_stats TSV CLIENT TRUST: over the ok rows with round > 0:
# "runs ok wall_med wall_min wall_max rss pss pd cpu_med cpu_max rss_sum"
# (memory: the largest of the runs).
bench_stats() {
	awk -F'\t' -v c="$2" -v t="$3" '
	function median(a, n,   i, j, x) {
		for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	$1 == c && $2 == t && $3 > 0 {
		runs++
		if ($col["ok"] != 1) next
		k++; w[k] = $col["wall_s"]; u[k] = $col["cpu_s"]
		if (min == "" || w[k] < min) min = w[k]; if (w[k] > max) max = w[k]
		if (u[k] > cmax) cmax = u[k]
		if ($col["rss_kib"] > rss) rss = $col["rss_kib"]
		if ($col["pss_kib"] > pss) pss = $col["pss_kib"]
		if ($col["pd_kib"] > pd) pd = $col["pd_kib"]
		if ($col["rss_sum_kib"] > rsum) rsum = $col["rss_sum_kib"]
	}
	END {
		if (k == 0) { printf "%d 0\n", runs; exit }
		printf "%d %d %.4f %.4f %.4f %d %d %d %.2f %.2f %d\n", runs, k, median(w, k),
			min, max, rss, pss, pd, median(u, k), cmax, rsum
	}' "$1"
}

# bench_report RUNS_TSV SUMMARY_TSV "CLIENTS" "TRUSTS": the table of every
# client and trust store, the ratios certo/peer for each trust store, and
# the fastest peer under the first trust store. Reads the associative
# array NOTE ("client:trust" -> why it was skipped) and the optional
# function bench_what CLIENT (a description for the table). Fills S_WALL,
# S_WMIN, S_WMAX, S_RSS, S_PSS, S_PD, S_CPU, S_CPUMAX, S_RSUM keyed
# "client:trust", and BENCH_FASTEST (the fastest peer).
bench_report() {
	local runs=$1 sum=$2 clients=$3 trusts=$4 c t k first runs_n ok_n note what wall
	declare -gA S_WALL S_WMIN S_WMAX S_RSS S_PSS S_PD S_CPU S_CPUMAX S_RSUM
	printf '%s\n' 'client	trust	status	runs	runs_ok	wall_median_s	wall_min_s	wall_max_s	rss_peak_kib	pss_peak_kib	private_dirty_peak_kib	cpu_median_s	cpu_max_s	rss_sum_kib	note' >"$sum"
	echo
	echo "Results (median of the ok runs; memory: the largest over the runs)"
	printf '%-8s %-7s %5s  %-24s %9s %9s %10s  %-15s %s\n' client trust ok \
		"wall s median (min-max)" "peak RSS" PSS "priv.dirty" "CPU s med (max)" note
	printf '%s\n' "-------------------------------------------------------------------------------------------------------------------"
	for c in $clients; do
		first=$c
		what=""
		declare -F bench_what >/dev/null && what=$(bench_what "$c")
		for t in $trusts; do
			k=$c:$t
			note=${NOTE[$k]:-}
			runs_n=0 ok_n=0
			[ -n "$note" ] || read -r runs_n ok_n "S_WALL[$k]" "S_WMIN[$k]" "S_WMAX[$k]" "S_RSS[$k]" \
				"S_PSS[$k]" "S_PD[$k]" "S_CPU[$k]" "S_CPUMAX[$k]" "S_RSUM[$k]" < <(bench_stats "$runs" "$c" "$t")
			if [ "$ok_n" -eq 0 ]; then
				unset "S_WALL[$k]"
				note=${note:-all $runs_n runs failed (see $LOGS/)}
				printf '%-8s %-7s %5s  %s\n' "$first" "$t" - "$note"
				printf '%s\t%s\tskipped\t%s\t0\t\t\t\t\t\t\t\t\t\t%s\n' "$c" "$t" "$runs_n" "$note" >>"$sum"
				first=""
				continue
			fi
			[ "$ok_n" -lt "$runs_n" ] && note="$((runs_n - ok_n)) of $runs_n runs failed"
			if [ "$ok_n" -gt 1 ] && awk -v mx="${S_WMAX[$k]}" -v mn="${S_WMIN[$k]}" \
				'BEGIN { exit !(mx > 2 * mn && mx - mn > 1) }'; then
				note="${note:+$note; }spread: max > 2x min + 1 s"
			fi
			printf -v wall '%7.3f (%.3f-%.3f)' "${S_WALL[$k]}" "${S_WMIN[$k]}" "${S_WMAX[$k]}"
			printf '%-8s %-7s %2s/%-2s  %-24s %5s MiB %5s MiB %6s MiB  %5.2f (%5.2f)  %s\n' \
				"$first" "$t" "$ok_n" "$runs_n" "$wall" \
				"$(bench_mib "${S_RSS[$k]}")" "$(bench_mib "${S_PSS[$k]}")" "$(bench_mib "${S_PD[$k]}")" \
				"${S_CPU[$k]}" "${S_CPUMAX[$k]}" "$what${what:+${note:+; }}$note"
			printf '%s\t%s\tok\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
				"$c" "$t" "$runs_n" "$ok_n" "${S_WALL[$k]}" "${S_WMIN[$k]}" "${S_WMAX[$k]}" \
				"${S_RSS[$k]}" "${S_PSS[$k]}" "${S_PD[$k]}" "${S_CPU[$k]}" "${S_CPUMAX[$k]}" \
				"${S_RSUM[$k]}" "$note" >>"$sum"
			first=""
		done
	done
	bench_report_ratios "$clients" "$trusts" "${sum%.tsv}-ratios.tsv"
}

# bench_report_ratios "CLIENTS" "TRUSTS" TSV: certo/peer per trust store
# (the first one first), then the fastest peer under the first trust store.
bench_report_ratios() {
	local clients=$1 trusts=$2 tsv=$3 p t k head w r ps d cpu
	head=${trusts%% *}
	printf 'peer\ttrust\twall\trss\tpss\tprivate_dirty\tcpu\tfastest\n' >"$tsv"
	BENCH_FASTEST=""
	for p in $clients; do
		[ "$p" = certo ] && continue
		[ -n "${S_WALL[$p:$head]:-}" ] || continue
		if [ -z "$BENCH_FASTEST" ] || awk -v a="${S_WALL[$p:$head]}" -v b="${S_WALL[$BENCH_FASTEST:$head]}" \
			'BEGIN { exit !(a < b) }'; then
			BENCH_FASTEST=$p
		fi
	done
	echo
	if [ -z "${S_WALL[certo:$head]:-}" ]; then
		echo "No certo figures under the $head trust store: no ratios."
		return 0
	fi
	echo "certo/peer, both measured in this run with the same trust store (< 1: certo uses less)"
	for p in $clients; do
		[ "$p" = certo ] && continue
		for t in $trusts; do
			k=$p:$t
			if [ -z "${S_WALL[$k]:-}" ] || [ -z "${S_WALL[certo:$t]:-}" ]; then continue; fi
			w=$(bench_ratio "${S_WALL[certo:$t]}" "${S_WALL[$k]}")
			r=$(bench_ratio "${S_RSS[certo:$t]}" "${S_RSS[$k]}")
			ps=$(bench_ratio "${S_PSS[certo:$t]}" "${S_PSS[$k]}")
			d=$(bench_ratio "${S_PD[certo:$t]}" "${S_PD[$k]}")
			cpu=$(bench_ratio "${S_CPU[certo:$t]}" "${S_CPU[$k]}")
			printf '  %-8s %-23s wall %5sx  peak RSS %5sx  PSS %5sx  priv.dirty %5sx  CPU %5sx\n' \
				"$([ "$t" = "$head" ] && echo "$p")" "($(bench_trust_label "$t"))" \
				"$w" "$r" "$ps" "$d" "$cpu"
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$t" "$w" "$r" "$ps" "$d" "$cpu" \
				"$([ "$p" = "$BENCH_FASTEST" ] && [ "$t" = "$head" ] && echo yes || echo no)" >>"$tsv"
		done
	done
	if [ -n "$BENCH_FASTEST" ]; then
		printf 'Fastest peer (%s): %s, median %.3f s; certo %.3f s = %sx of it\n' \
			"$(bench_trust_label "$head")" "$BENCH_FASTEST" "${S_WALL[$BENCH_FASTEST:$head]}" \
			"${S_WALL[certo:$head]}" "$(bench_ratio "${S_WALL[certo:$head]}" "${S_WALL[$BENCH_FASTEST:$head]}")"
	else
		echo "No peer figures: no ratios (peers measured in this run only)."
	fi
}

# bench_prepare TITLE FN: the untimed set-up. For every client in CLIENTS
# that can run, FN CLIENT TRUST... prepares it and puts the trust stores it
# is ready for in the array READY; the "client:trust" pairs ready go to
# ACTIVE, the others get a NOTE.
# shellcheck disable=SC2034 # NOTE and ACTIVE are read by the sourcing script
bench_prepare() {
	local fn=$2 c t why
	declare -gA NOTE
	ACTIVE=()
	echo
	echo "$1"
	for c in $CLIENTS; do
		if ! why=$(bench_client_available "$c"); then
			for t in $TRUSTS; do NOTE[$c:$t]="skipped: $why"; done
			echo "  $c: skipped: $why"
			continue
		fi
		READY=()
		# shellcheck disable=SC2086 # TRUSTS is a word list
		"$fn" "$c" $TRUSTS
		for t in $TRUSTS; do
			case " ${READY[*]} " in
			*" $t "*) ACTIVE+=("$c:$t") ;;
			*)
				NOTE[$c:$t]="skipped: set-up failed (see $LOGS/)"
				echo "  $c ($t): ${NOTE[$c:$t]}"
				;;
			esac
		done
	done
	[ "${#ACTIVE[@]}" -gt 0 ] || bench_die "no client could be set up"
}

# bench_rounds RUNS FN PAIR...: RUNS rounds; in each, FN CLIENT TRUST ROUND
# for every "client:trust" PAIR, one at a time, in an order that rotates
# every round.
bench_rounds() {
	local runs=$1 fn=$2 i k
	shift 2
	for ((i = 1; i <= runs; i++)); do
		echo " round $i/$runs"
		while read -r k; do
			"$fn" "${k%%:*}" "${k#*:}" "$i" || echo "  ${k%%:*} (${k#*:}): round $i failed" >&2
		done < <(bench_rotate "$i" "$@")
	done
}

# bench_targets_begin TSV TRUST WHY: start the targets for certo under
# TRUST; fails (saying so) when certo has no figures there.
bench_targets_begin() {
	printf 'target\tvalue\tlimit\tverdict\n' >"$1"
	echo
	if [ -z "${S_WALL[certo:$2]:-}" ]; then
		echo "certo: no figures under the $2 trust store; targets not computed"
		return 1
	fi
	echo "Targets for certo ($(bench_trust_label "$2")${3:+; $3}):"
}

# bench_files SUMMARY_TSV: where the figures were written.
bench_files() {
	echo
	echo "Summary TSV : $1"
	echo "Per-run TSV : ${1%.tsv}-runs.tsv"
	echo "Ratios TSV  : ${1%.tsv}-ratios.tsv"
	echo "Targets TSV : ${1%.tsv}-targets.tsv"
	echo "Logs        : $LOGS/"
}

# bench_target LABEL VALUE LIMIT le|lt|ge SHOWN TSV: one target line.
bench_target() {
	local v
	v=$(bench_verdict "$2" "$3" "$4")
	printf '  %-34s %-28s %s\n' "$1" "$5" "$v"
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$v" >>"$6"
}

# bench_rotate ROUND ITEM...: the items, starting at index ROUND-1
# (so that the order of the clients changes every round).
bench_rotate() {
	local r=$1 n j
	shift
	n=$#
	local a=("$@")
	for ((j = 0; j < n; j++)); do echo "${a[$(((r - 1 + j) % n))]}"; done
}
