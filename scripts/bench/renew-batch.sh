#!/usr/bin/env bash
# renew-batch.sh OUTDIR TIMEOUT_S parallel|sequential NAME... -- CMD [ARG...]
# Helper of scripts/bench/renew.sh: runs CMD once per NAME, every literal
# @NAME@ in CMD's arguments replaced by that NAME, each run under
# $BENCH_MEASURE (scripts/bench/measure.c, built by lib.sh's bench_tools;
# OUTDIR/NAME.txt holds its line, OUTDIR/NAME.log the output). "parallel"
# starts all runs at once and waits for all; "sequential" runs them one after
# the other. Writes OUTDIR/batch.txt: "wall_s failed_runs", wall_s from the
# first start to the last exit (EPOCHREALTIME). Exit status: 0 if every run
# exited 0.
# renew.sh runs it inside uacme's mount namespace, so that the namespace
# set-up is outside the timed batch; it is a script, not a function, for
# that reason.
set -u
out=$1 limit=$2 mode=$3
shift 3
names=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	names+=("$1")
	shift
done
[ "${1:-}" = "--" ] || { echo "renew-batch.sh: missing -- CMD" >&2; exit 2; }
shift
[ $# -gt 0 ] || { echo "renew-batch.sh: missing CMD" >&2; exit 2; }
case $mode in parallel | sequential) ;; *)
	echo "renew-batch.sh: mode must be parallel or sequential" >&2
	exit 2
	;;
esac
[ -x "${BENCH_MEASURE:-}" ] || { echo "renew-batch.sh: BENCH_MEASURE is not set" >&2; exit 2; }
mkdir -p "$out"

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; exit 143' TERM INT

one() { # one NAME CMD...: CMD with @NAME@ replaced, measured
	local name=$1 a args=()
	shift
	for a in "$@"; do args+=("${a//@NAME@/$name}"); done
	"$BENCH_MEASURE" "$out/$name.txt" "$limit" "${args[@]}" >"$out/$name.log" 2>&1
}

failed=0
start=$EPOCHREALTIME
if [ "$mode" = parallel ]; then
	for n in "${names[@]}"; do
		one "$n" "$@" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || failed=$((failed + 1))
	done
else
	for n in "${names[@]}"; do
		one "$n" "$@" || failed=$((failed + 1))
	done
fi
end=$EPOCHREALTIME
awk -v s="$start" -v e="$end" -v f="$failed" 'BEGIN { printf "%.4f %d\n", e - s, f }' \
	>"$out/batch.txt"
[ "$failed" -eq 0 ]
