#!/usr/bin/env bash
# scripts/bench/store.sh: certo list and a renew pass over many stored
# certificate sets, with the CA unreachable (a benchmark: it prints figures
# and asserts nothing but the outcome of each run).
#
# Set-up (untimed): one certificate issued from a local Pebble into a
# template state directory (its account, its directory copy in
# directories/ and its certo.json), then Pebble is stopped: from then on
# the CA is unreachable. scripts/bench/store-fixture.py makes two state
# directories from the template: BENCH_LIST_SETS (1000) and
# BENCH_RENEW_SETS (10000) sets, each with its own names, key and
# certificate (a throw-away CA of the fixture, 5 years: none is due; no
# ARI, as Pebble 2.4 has none).
#
# What is timed, every round in this order (scripts/bench/measure.c: wall
# time, peak RSS = VmHWM at exit, private dirty):
#   list cold    `certo list` with no <state>/index: every cert.pem and
#                certo.json parsed, the index written
#   list warm    `certo list` again: the index and a stat per set
#   renew cold   `certo renew` with no index (exit 2, nothing due)
#   renew warm   `certo renew` again
# and, with BENCH_CERTO_OLD=path (a certo without the index, e.g. a build
# of an older commit), "list old" and "renew old" with that binary.
# Each run is checked: list exits 0 and prints exactly what the cold run
# printed; renew exits 2 with "0 renewed, 0 failed, N not due".
# Targets (issue 15): list over 1,000 sets < 100 ms; renew over 10,000
# with none due < 2 s and < 20 MiB (the warm figures: the index exists
# after any list or renew).
#
# Environment (all optional; see also scripts/bench/lib.sh):
#   CERTO=path  BENCH_CERTO_OLD=path  BENCH_RUNS=7
#   BENCH_LIST_SETS=1000  BENCH_RENEW_SETS=10000
#   BENCH_BASEPORT=25000   Pebble's ports BASE..BASE+3, http-01 BASE+80
#   BENCH_WORKDIR=dir  BENCH_NO_DEPS=1  BENCH_TIMEOUT=120 (per run)
#
# Network: Pebble on 127.0.0.1 for the set-up only.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_init store
bench_build certo
bench_tools
RUNS=${BENCH_RUNS:-7}
NLIST=${BENCH_LIST_SETS:-1000}
NRENEW=${BENCH_RENEW_SETS:-10000}
BASE=${BENCH_BASEPORT:-25000}
TIMEOUT=${BENCH_TIMEOUT:-120}
OLD=${BENCH_CERTO_OLD:-}
PY=python3
/usr/bin/python3 -c 'import cryptography' 2>/dev/null && PY=/usr/bin/python3
RUNS_TSV=$WORK/store-runs.tsv
printf 'what\tround\twall_s\trss_kib\tpd_kib\tok\n' >"$RUNS_TSV"

echo "certo list / renew over many stored sets ($RUNS rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  certo: $CERTO${OLD:+; old: $OLD}"
bench_pebble_start "$WORK/pebble" "$BASE" $((BASE + 80)) $((BASE + 443))
"$CERTO" issue -d tmpl.store.test --standalone --http-port $((BASE + 80)) \
	--http-addr 127.0.0.1 --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$WORK/template" --agree-tos --email bench@example.com -q \
	>"$LOGS/template.log" 2>&1 || bench_die "the template issuance failed, see $LOGS/template.log"
pebble_stop "$WORK/pebble" >/dev/null 2>&1 || true
echo "  the CA is stopped; making $NLIST and $NRENEW sets (untimed)"
"$PY" "$BENCH_DIR/store-fixture.py" "$WORK/template" "$WORK/list" "$NLIST"
"$PY" "$BENCH_DIR/store-fixture.py" "$WORK/template" "$WORK/renew" "$NRENEW"

# run WHAT ROUND BINARY VERB STATE: one measured run, checked and recorded.
run() {
	local what=$1 round=$2 bin=$3 verb=$4 state=$5 out=$WORK/m.txt log=$LOGS/$1.log
	local ok=1 want=0
	[ "$verb" = renew ] && want=2
	"$BENCH_MEASURE" "$out" "$TIMEOUT" "$bin" --state-dir "$state" "$verb" \
		>"$WORK/$what.out" 2>"$log" || true
	bench_read_measure "$out" || true
	[ "$M_RC" -eq "$want" ] || ok=0
	if [ "$verb" = list ]; then
		[ -f "$WORK/list.ref" ] || cp "$WORK/$what.out" "$WORK/list.ref"
		cmp -s "$WORK/$what.out" "$WORK/list.ref" || ok=0
	else
		grep -q "0 renewed, 0 failed, $NRENEW not due" "$WORK/$what.out" || ok=0
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$what" "$round" "$M_WALL" "$M_RSS" "$M_PD" \
		"$ok" >>"$RUNS_TSV"
	printf '  %-11s round %s  wall %7.3f s  RSS %5s MiB, private dirty %4s MiB  %s\n' \
		"$what" "$round" "$M_WALL" "$(bench_mib "$M_RSS")" "$(bench_mib "$M_PD")" \
		"$([ "$ok" = 1 ] && echo ok || echo "FAILED (rc $M_RC, see $log)")"
}

echo
echo "Timed runs"
for round in $(seq 1 "$RUNS"); do
	rm -f "$WORK/list/index"
	run "list cold" "$round" "$CERTO" list "$WORK/list"
	run "list warm" "$round" "$CERTO" list "$WORK/list"
	rm -f "$WORK/renew/index"
	run "renew cold" "$round" "$CERTO" renew "$WORK/renew"
	run "renew warm" "$round" "$CERTO" renew "$WORK/renew"
	if [ -n "$OLD" ]; then
		run "list old" "$round" "$OLD" list "$WORK/list"
		run "renew old" "$round" "$OLD" renew "$WORK/renew"
	fi
done

echo
echo "Medians over the runs that were ok (memory: the largest)"
for what in "list cold" "list warm" "list old" "renew cold" "renew warm" "renew old"; do
	awk -F'\t' -v w="$what" '$1 == w && $6 == 1 { print $3 }' "$RUNS_TSV" >"$WORK/w.txt"
	[ -s "$WORK/w.txt" ] || continue
	# shellcheck disable=SC2046 # one figure per line
	med=$(bench_median $(cat "$WORK/w.txt"))
	rss=$(awk -F'\t' -v w="$what" '$1 == w && $6 == 1 && $4 > m { m = $4 } END { print m + 0 }' "$RUNS_TSV")
	pd=$(awk -F'\t' -v w="$what" '$1 == w && $6 == 1 && $5 > m { m = $5 } END { print m + 0 }' "$RUNS_TSV")
	printf '  %-11s %5d runs  wall %7.3f s (min %.3f, max %.3f)  peak RSS %5s MiB  private dirty %4s MiB\n' \
		"$what" "$(wc -l <"$WORK/w.txt")" "$med" "$(sort -g "$WORK/w.txt" | head -n1)" \
		"$(sort -g "$WORK/w.txt" | tail -n1)" "$(bench_mib "$rss")" "$(bench_mib "$pd")"
done
echo
echo "Targets (issue 15): list over $NLIST sets < 0.100 s; renew over $NRENEW, none due, < 2 s and < 20 MiB"
echo "Runs: $RUNS_TSV"
