#!/usr/bin/env bash
# scripts/bench/dns.sh: DNS-01 benchmark against one local Pebble +
# pebble-challtestsrv on loopback (a benchmark: it prints figures and
# asserts nothing).
#
# 1. Reaction time: certo --manual -v waits for a record; the script
#    publishes it in challtestsrv after a random delay and measures the time
#    from the record being visible (the /set-txt call returned) to certo
#    answering the challenge (its "POST .../chalZ/..." line, every output
#    line timestamped with $EPOCHREALTIME). Target: under the polling
#    interval + 100 ms.
# 2. Wildcard + apex order (two authorizations, one record name, two values)
#    with a hook, existing account (one untimed warm-up each), clients one
#    at a time in an order that rotates every round:
#      certo     --dns-hook scripts/hooks/challtestsrv.sh, checking
#                propagation itself against --dns-resolver (challtestsrv)
#      lego-1s   lego --dns exec (EXEC_PATH = a wrapper around the same hook)
#                with EXEC_POLLING_INTERVAL=1 EXEC_SEQUENCE_INTERVAL=1 (lego
#                solves the two authorizations one after the other and by
#                default sleeps 60 s between them)
#      lego-0s   the same with both intervals at 0 s: lego's own work, not
#                its sleeps; the fastest peer is the one to beat
#    lego cannot check propagation against challtestsrv (it asks for SOA,
#    challtestsrv answers NOTIMP), so it runs with --dns.disable-cp.
#    Every client trusts the system's CAs plus the test CA (scripts/bench/
#    lib.sh: certo in a mount namespace without --ca-bundle, lego with
#    LEGO_CA_SYSTEM_CERT_POOL=true). Per run: wall, peak RSS, PSS, private
#    dirty and CPU from scripts/bench/measure.c; medians; certo/peer ratios.
#
# Environment (all optional; see also scripts/bench/lib.sh):
#   CERTO=path             certo binary (default: a fresh Release build in build-bench/)
#   BENCH_RUNS=5           reaction-time runs, and timed orders per client
#   BENCH_DNS_INTERVAL=1   certo --dns-interval in part 1 (seconds)
#   BENCH_BASEPORT=27000   Pebble ACME port; +1..+3 as in scripts/pebble-env.sh
#   BENCH_TIMEOUT=60       per-run timeout (seconds)
#   BENCH_CLIENTS="certo lego-1s lego-0s"
#   BENCH_WORKDIR=dir      work dir (default: a new /tmp/certo-bench-dns.XXXXXX)
#   BENCH_NO_DEPS=1        do not call scripts/deps.sh --bench
#
# Network: everything binds and dials 127.0.0.1 / localhost only.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_init dns --bench
bench_build certo
bench_tools
HOOK=$ROOT/scripts/hooks/challtestsrv.sh
RUNS=${BENCH_RUNS:-5}
INTERVAL=${BENCH_DNS_INTERVAL:-1}
BASEPORT=${BENCH_BASEPORT:-27000}
TIMEOUT=${BENCH_TIMEOUT:-60}
CLIENTS=${BENCH_CLIENTS:-certo lego-1s lego-0s}
DNSPORT=$((BASEPORT + 2))
RUNS_TSV=$WORK/dns-runs.tsv
export BENCH_MEM_SAMPLE_MS=${BENCH_MEM_SAMPLE_MS:-10}
export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0

help=$("$CERTO" issue --help 2>&1 || true)
case $help in *--dns-hook*) ;; *) bench_die "$CERTO has no --dns-hook option" ;; esac
bench_ports_free "$BASEPORT" $((BASEPORT + 1)) "$DNSPORT" $((BASEPORT + 3)) \
	$((BASEPORT + 50)) $((BASEPORT + 51))
bench_pebble_start "$WORK/pebble" "$BASEPORT" $((BASEPORT + 50)) $((BASEPORT + 51))
bench_trust_files
export CHALLTESTSRV_MGMT_URL CHALLTESTSRV_HOOK_STATE="$WORK/hook.state"
echo "dns.sh: Pebble on $BASEPORT, challtestsrv DNS on 127.0.0.1:$DNSPORT, work dir $WORK"
echo "  host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "  trust store of every client: $(bench_trust_label system)"

now_ms() {
	awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.1f", t * 1000 }'
}

set_txt() {
	curl -sf -o /dev/null --max-time 10 -X POST \
		-d "{\"host\":\"$1.\",\"value\":\"$2\"}" "$CHALLTESTSRV_MGMT_URL/set-txt"
}

certo_args=(--server "$PEBBLE_DIR_URL" --agree-tos -m bench@example.com
	--challenge dns-01 --dns-resolver "127.0.0.1:$DNSPORT")

# ------------------------------------------------------------ 1. reaction
# react_certo NAME LOG: certo --manual, every output line timestamped
# without forking.
react_certo() {
	bench_env certo system timeout -k 5 "$TIMEOUT" "$CERTO" -v issue -d "$1" --manual \
		--dns-interval "$INTERVAL" --dns-timeout $((TIMEOUT - 5)) \
		--state-dir "$WORK/certo-react" "${certo_args[@]}" 2>&1 </dev/null |
		while IFS= read -r line; do
			printf '%s %s\n' "$EPOCHREALTIME" "$line"
		done >"$2"
}

echo
echo "== 1. record visible -> challenge answered (certo --manual, --dns-interval $INTERVAL)"
LAT=()
for i in $(seq 1 "$RUNS"); do
	log=$LOGS/react-$i.log
	: >"$log"
	react_certo "r$i.certo.test" "$log" &
	pid=$!
	BENCH_PIDS+=("$pid")
	for _ in $(seq 1 $((TIMEOUT * 10))); do
		grep -q 'dns-01: waiting until' "$log" 2>/dev/null && break
		sleep 0.1
	done
	rec=$(sed -n 's/^[0-9.]* \(_acme-challenge\.[A-Za-z0-9._-]*\)\. 300 IN TXT "\([A-Za-z0-9_-]*\)"$/\1 \2/p' "$log" | head -n 1)
	[ -n "$rec" ] || { tail -n 20 "$log" >&2; bench_die "run $i: certo printed no record"; }
	# A random point in the polling cycle: 1 s + 0..(interval + 0.5) s.
	sleep "$(awk -v s="$RANDOM" -v iv="$INTERVAL" 'BEGIN { srand(s); printf "%.3f", 1 + rand() * (iv + 0.5) }')"
	set_txt "${rec%% *}" "${rec#* }"
	t_set=$(now_ms)
	wait "$pid" || { tail -n 20 "$log" >&2; bench_die "run $i: certo failed"; }
	t_ans=$(awk '/POST .*\/chalZ\// { printf "%.1f", $1 * 1000; exit }' "$log")
	[ -n "$t_ans" ] || bench_die "run $i: no challenge POST in certo's -v output"
	LAT+=("$(awk -v a="$t_set" -v b="$t_ans" 'BEGIN { printf "%.0f", b - a }')")
	printf '  run %d: %5d ms\n' "$i" "${LAT[-1]}"
done
target=$((INTERVAL * 1000 + 100))
printf '%s\n' "${LAT[@]}" | awk -v target="$target" '
	{ s += $1; if (NR == 1 || $1 > max) max = $1; if (NR == 1 || $1 < min) min = $1 }
	END {
		printf "  min %d ms, mean %.0f ms, max %d ms; target < %d ms (interval + 100 ms): %s\n",
		    min, s / NR, max, target, max < target ? "met" : "MISSED"
	}'

# ------------------------------------------------------------ 2. wildcard + apex
LEGO_HOOK=$WORK/lego-exec.sh
cat >"$LEGO_HOOK" <<EOF
#!/bin/sh
# lego's exec protocol (present|cleanup FQDN VALUE) -> certo's hook contract.
case "\$1" in
present) exec "$HOOK" add dns-01 bench "\${2%.}" "\$3" ;;
cleanup) exec "$HOOK" del dns-01 bench "\${2%.}" "\$3" ;;
esac
exit 0
EOF
chmod +x "$LEGO_HOOK"

run_client() { # CLIENT NAME OUTFILE
	local iv
	case $1 in
	certo)
		bench_run_job bench_env certo system "$BENCH_MEASURE" "$3" "$TIMEOUT" "$CERTO" -q \
			issue -d "$2" -d "*.$2" --dns-hook "$HOOK" --state-dir "$WORK/certo-order" \
			"${certo_args[@]}"
		;;
	lego-*)
		iv=${1#lego-}
		iv=${iv%s}
		EXEC_PATH=$LEGO_HOOK EXEC_POLLING_INTERVAL=$iv EXEC_SEQUENCE_INTERVAL=$iv \
			EXEC_PROPAGATION_TIMEOUT=30 bench_run_job bench_env lego system \
			"$BENCH_MEASURE" "$3" "$TIMEOUT" lego --server "$PEBBLE_DIR_URL" \
			--email bench@example.com --accept-tos --path "$WORK/$1" \
			--domains "$2" --domains "*.$2" --dns exec \
			--dns.resolvers "127.0.0.1:$DNSPORT" --dns.disable-cp run
		;;
	*) bench_die "unknown client $1" ;;
	esac
}

echo
echo "== 2. wildcard + apex order with a hook (existing account; one at a time, order rotating)"
printf '%b\n' "$BENCH_RUNS_HDR" >"$RUNS_TSV"
declare -A NOTE
ACTIVE=()
for c in $CLIENTS; do
	if [ "${c%%-*}" = lego ] && ! command -v lego >/dev/null 2>&1; then
		NOTE[$c:system]="skipped: lego not installed"
	elif ! run_client "$c" "warm-$c.certo.test" "$WORK/warm-$c.m" >"$LOGS/warm-$c.log" 2>&1; then
		NOTE[$c:system]="skipped: warm-up failed (see $LOGS/warm-$c.log)"
	else
		ACTIVE+=("$c:system")
		continue
	fi
	echo "  $c: ${NOTE[$c:system]}"
done
[ "${#ACTIVE[@]}" -gt 0 ] || bench_die "no client could issue"
# timed_order CLIENT TRUST ROUND: one measured order, recorded
timed_order() {
	local c=$1 i=$3 m=$WORK/order-$1-$3.m ok=0
	run_client "$c" "w$i-$c.certo.test" "$m" >"$LOGS/order-$c-$i.log" 2>&1 && ok=1
	bench_read_measure "$m" || true
	bench_record "$RUNS_TSV" "$c" "$2" "$i" "w$i-$c" "$M_WALL" "$M_RSS" "$M_PSS" "$M_PD" \
		"$M_CPU" 1 "$M_RSS" "$M_RC" "$ok" ""
	printf '  %-8s %6.0f ms wall, %5.0f ms CPU, %s  %s\n' "$c" \
		"$(awk -v w="$M_WALL" 'BEGIN { print w * 1000 }')" \
		"$(awk -v u="$M_CPU" 'BEGIN { print u * 1000 }')" \
		"$(bench_mem_text "$M_RSS" "$M_PSS" "$M_PD")" \
		"$([ "$ok" = 1 ] && echo ok || echo "FAILED (see $LOGS/order-$c-$i.log)")"
}
bench_rounds "$RUNS" timed_order "${ACTIVE[@]}"
for c in $CLIENTS; do # what lego says it waits, from its first timed run
	[ "${c%%-*}" = lego ] || continue
	grep -h -E 'sequence: wait|Wait for propagation' "$LOGS/order-$c-1.log" 2>/dev/null |
		cut -d' ' -f3- | sort -u | sed "s/^/  $c says: /" || true
done

bench_report "$RUNS_TSV" "$WORK/dns-summary.tsv" "$CLIENTS" system
echo
echo "Per-run TSV: $RUNS_TSV; summary: $WORK/dns-summary.tsv; logs: $LOGS/"
