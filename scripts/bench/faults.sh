#!/usr/bin/env bash
# scripts/bench/faults.sh: robustness figures off the happy path (a
# benchmark, not a test: it prints figures and asserts nothing). Loopback
# only: Pebble, challtestsrv, certo's responder and the fault proxy all
# bind and dial 127.0.0.1.
#
# Parts (BENCH_PARTS, default "faults sweep kill nonce"):
#   faults  BENCH_FAULT_RUNS (30) issuances, one new name each, through
#           tests/integration/fault_proxy.py resetting, truncating and
#           delaying 12% + 12% + 12% of the connections (cut points drawn
#           from 0..BENCH_CUT_MAX bytes of the server's reply, delays of
#           BENCH_DELAY_S s): success rate, median and worst time.
#   sweep   one issuance per cut point: the proxy resets (even steps) or
#           truncates (odd steps) only connection C at byte K, for C = 1, 2
#           and K = 0, BENCH_SWEEP_STEP, ... up to what C carries in a clean
#           run: every point of the conversation is hit once (TLS handshake,
#           each request and answer, finalize included). Success count and
#           the failures.
#   kill    the SIGKILL matrix: tests/integration/kill_matrix.sh --full (it
#           prints "cells N, failures M"), if it exists.
#   nonce   BENCH_NONCE_RUNS (30) issuances against a Pebble that rejects
#           50% of good nonces (PEBBLE_WFE_NONCEREJECT=50) and sleeps before
#           each validation as it does by default (PEBBLE_VA_NOSLEEP unset):
#           success rate, median and worst time.
#
# certo trusts the test CA alone here (--ca-bundle): these figures are about
# what survives faults, not about speed.
#
# Environment (all optional; see also scripts/bench/lib.sh):
#   CERTO=path            certo binary (default: a fresh Release build in build-bench/)
#   BENCH_PARTS="faults sweep kill nonce"
#   BENCH_FAULT_RUNS=30   BENCH_NONCE_RUNS=30
#   BENCH_SEED=1          the proxy's seed in "faults"
#   BENCH_CUT_MAX=3000    BENCH_DELAY_S=2   BENCH_SWEEP_STEP=250
#   BENCH_BASEPORT=29000  Pebble ports BASEPORT..+3; proxy +20; http-01 +50
#                         ("nonce" uses its own Pebble at BASEPORT+100, the
#                         kill matrix its own at BASEPORT+200)
#   BENCH_TIMEOUT=180     per-issuance timeout (seconds)
#   BENCH_WORKDIR=dir     work dir (default: a new /tmp/certo-bench-faults.XXXXXX)
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_init faults
bench_build certo
PROXY=$ROOT/tests/integration/fault_proxy.py
KILL_MATRIX=$ROOT/tests/integration/kill_matrix.sh
PARTS=${BENCH_PARTS:-faults sweep kill nonce}
FAULT_RUNS=${BENCH_FAULT_RUNS:-30}
NONCE_RUNS=${BENCH_NONCE_RUNS:-30}
SEED=${BENCH_SEED:-1}
CUT_MAX=${BENCH_CUT_MAX:-3000}
DELAY_S=${BENCH_DELAY_S:-2}
STEP=${BENCH_SWEEP_STEP:-250}
BASEPORT=${BENCH_BASEPORT:-29000}
TIMEOUT=${BENCH_TIMEOUT:-180}
PY=$(command -v python3)
pebble_installed || bench_die "pebble not installed (missing: $(pebble_missing_tools))"

PROXY_PID=""
stop_proxy() {
	if [ -n "$PROXY_PID" ]; then
		bench_stop_pid "$PROXY_PID"
		PROXY_PID=""
	fi
}

# start_proxy LISTEN TARGET LOG ARGS...: fault_proxy.py in the background.
start_proxy() {
	local listen=$1 target=$2 log=$3 _
	shift 3
	"$PY" "$PROXY" --listen "$listen" --target "$target" --log "$log" \
		--lifetime 3600 "$@" </dev/null >/dev/null 2>&1 &
	PROXY_PID=$!
	BENCH_PIDS+=("$PROXY_PID")
	# Wait for its "listening" line: a probe connection would count as
	# connection 1.
	for _ in $(seq 1 100); do
		grep -q ' listening on ' "$log" 2>/dev/null && return 0
		sleep 0.05
	done
	bench_die "the proxy did not start (see $log)"
}

# issue SERVER STATE NAME HTTPPORT CABUNDLE OUTPREFIX: one timed issuance;
# appends "wall rc name" to OUTPREFIX.times, keeps stdout and stderr in
# OUTPREFIX.NAME.out and .err.
issue() {
	local server=$1 state=$2 name=$3 http=$4 ca=$5 out=$6 t0 t1 rc=0
	t0=$EPOCHREALTIME
	timeout -k 5 "$TIMEOUT" "$CERTO" issue --server "$server" --ca-bundle "$ca" \
		--state-dir "$state" --standalone --http-port "$http" \
		--http-addr 127.0.0.1 --agree-tos --email bench@example.com -d "$name" \
		>"$out.$name.out" 2>"$out.$name.err" </dev/null || rc=$?
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" -v rc="$rc" -v n="$name" \
		'BEGIN { printf "%.3f %d %s\n", b - a, rc, n }' >>"$out.times"
	return 0
}

# summary LABEL FILE: "LABEL: ok/N issued, median X s, worst Y s".
summary() {
	sort -n "$2" | awk -v label="$1" '
		{ t[NR] = $1; if ($2 == 0) ok++ }
		END {
			if (NR == 0) { print label ": no runs"; exit }
			m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
			printf "%s: %d/%d issued (%.0f%%), median %.2f s, worst %.2f s\n",
				label, ok, NR, 100 * ok / NR, m, t[NR]
		}'
}

# failures PREFIX: exit code and first error line of each failed run.
failures() {
	local wall rc name
	while read -r wall rc name; do
		[ "$rc" = 0 ] && continue
		echo "    $name: exit $rc after ${wall}s: $(head -n 1 "$1.$name.err" | cut -c1-200)"
	done <"$1.times"
	return 0
}

HTTP=$((BASEPORT + 50))
TLS=$((BASEPORT + 51))
PPORT=$((BASEPORT + 20))
need_main_pebble() {
	[ -n "${MAIN_PEBBLE:-}" ] && return 0
	MAIN_PEBBLE="$WORK/pebble"
	PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0 \
		bench_pebble_start "$MAIN_PEBBLE" "$BASEPORT" "$HTTP" "$TLS"
	MAIN_CA=$PEBBLE_CA_BUNDLE
	STATE="$WORK/state"
	# Register the account once, untimed, without the proxy.
	issue "$PEBBLE_DIR_URL" "$STATE" warmup.certo.test "$HTTP" "$MAIN_CA" "$WORK/warmup"
	read -r _ rc _ <"$WORK/warmup.times"
	[ "$rc" = 0 ] || bench_die "the warm-up issuance failed: $(cat "$WORK/warmup.warmup.certo.test.err")"
}

echo "faults.sh: certo $CERTO, work dir $WORK"

for part in $PARTS; do
	case $part in
	faults)
		need_main_pebble
		start_proxy "$PPORT" "$BASEPORT" "$WORK/faults-proxy.log" \
			--reset 0.12 --truncate 0.12 --delay 0.12 \
			--delay-seconds "$DELAY_S" --cut-max "$CUT_MAX" --seed "$SEED"
		: >"$WORK/faults.times"
		for i in $(seq 1 "$FAULT_RUNS"); do
			issue "https://localhost:$PPORT/dir" "$STATE" "f$i.certo.test" \
				"$HTTP" "$MAIN_CA" "$WORK/faults"
		done
		stop_proxy
		summary "faults (12/12/12% reset/truncate/delay)" "$WORK/faults.times"
		echo "  proxy: $(grep -m1 summary "$WORK/faults-proxy.log" | cut -d' ' -f2-)"
		echo "  certo retries: $(cat "$WORK"/faults.f*.out | grep -c 'retry [0-9]* of' || true)"
		failures "$WORK/faults"
		;;
	sweep)
		need_main_pebble
		# A clean run through the proxy: how many bytes each connection carries.
		start_proxy "$PPORT" "$BASEPORT" "$WORK/sweep-cal.log"
		: >"$WORK/sweep-cal.times"
		issue "https://localhost:$PPORT/dir" "$STATE" cal.certo.test "$HTTP" \
			"$MAIN_CA" "$WORK/sweep-cal"
		stop_proxy
		: >"$WORK/sweep.times"
		: >"$WORK/sweep.list"
		k=0
		for conn in 1 2; do
			bytes=$(sed -n "s/.* conn $conn pass (\([0-9]*\) bytes).*/\1/p" "$WORK/sweep-cal.log")
			[ -n "$bytes" ] || continue
			for cut in $(seq 0 "$STEP" "$bytes"); do
				k=$((k + 1))
				if [ $((k % 2)) -eq 0 ]; then act=reset; else act=truncate; fi
				start_proxy "$PPORT" "$BASEPORT" "$WORK/sweep-$k.log" \
					--plan "$conn:$act@$cut"
				issue "https://localhost:$PPORT/dir" "$STATE" "s$k.certo.test" \
					"$HTTP" "$MAIN_CA" "$WORK/sweep"
				stop_proxy
				echo "s$k.certo.test: conn $conn $act@$cut" >>"$WORK/sweep.list"
			done
		done
		summary "sweep (one cut per run, every $STEP bytes of connections 1-2)" "$WORK/sweep.times"
		echo "  applied $(cat "$WORK"/sweep-*.log | grep -c ': applied' || true) of $k cuts"
		failures "$WORK/sweep" | while read -r line; do
			echo "    $line ($(grep -m1 "^${line%%:*}:" "$WORK/sweep.list" | cut -d' ' -f2-))"
		done
		;;
	kill)
		if [ -x "$KILL_MATRIX" ]; then
			echo "kill matrix: $KILL_MATRIX --full"
			CERTO=$CERTO CERTO_IT_BASEPORT=$((BASEPORT + 200)) \
				CERTO_IT_HTTP_PORT=$((BASEPORT + 250)) CERTO_IT_TLS_PORT=$((BASEPORT + 251)) \
				"$KILL_MATRIX" --full 2>&1 | tee "$WORK/kill.log" |
				grep -E 'cells [0-9]+, failures [0-9]+' || echo "  (no 'cells N, failures M' line; see $WORK/kill.log)"
		else
			echo "kill matrix: $KILL_MATRIX is missing: not measured"
		fi
		;;
	nonce)
		NP="$WORK/pebble-nonce"
		# PEBBLE_VA_NOSLEEP set but empty: Pebble sleeps before validating.
		PEBBLE_VA_NOSLEEP="" PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=50 \
			bench_pebble_start "$NP" $((BASEPORT + 100)) $((BASEPORT + 150)) $((BASEPORT + 151))
		grep -q 'reject 50% of good nonces' "$NP/pebble.log" ||
			echo "  warning: Pebble did not log the 50% nonce rejection"
		if grep -qi 'disabling random VA sleeps' "$NP/pebble.log"; then
			echo "  warning: Pebble's validation sleeps are off"
		fi
		: >"$WORK/nonce.times"
		for i in $(seq 1 "$NONCE_RUNS"); do
			issue "$PEBBLE_DIR_URL" "$WORK/state-nonce" "n$i.certo.test" \
				$((BASEPORT + 150)) "$PEBBLE_CA_BUNDLE" "$WORK/nonce"
		done
		summary "nonce (50% badNonce, real validation delays)" "$WORK/nonce.times"
		failures "$WORK/nonce"
		;;
	*)
		bench_die "unknown part '$part'"
		;;
	esac
done
