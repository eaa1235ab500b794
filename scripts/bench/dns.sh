#!/usr/bin/env bash
# scripts/bench/dns.sh: DNS-01 benchmark against one local Pebble +
# pebble-challtestsrv on loopback (not a test: prints figures).
#
# 1. Reaction time: certo --manual -v waits for a record; the script
#    publishes it in challtestsrv after a random delay and measures the time
#    from the record being visible (the /set-txt call returned) to certo
#    answering the challenge (its "POST .../chalZ/..." line, every output
#    line timestamped with $EPOCHREALTIME). Target: under the polling
#    interval + 100 ms.
# 2. Wildcard + apex order (two authorizations, one record name, two values)
#    with a hook: certo --dns-hook scripts/hooks/challtestsrv.sh vs lego
#    --dns exec (EXEC_PATH = a wrapper around the same hook), alternating,
#    with an existing account (one untimed warm-up each). lego cannot check
#    propagation against challtestsrv (it needs SOA, challtestsrv answers
#    NOTIMP), so it runs with --dns.disable-cp and short exec intervals
#    (EXEC_POLLING_INTERVAL=1, EXEC_SEQUENCE_INTERVAL=1: lego solves the two
#    authorizations one after the other and otherwise sleeps 60 s between
#    them); certo does its check against --dns-resolver.
#
# Environment (all optional):
#   CERTO=path             certo binary (default: a fresh Release build in build-bench/)
#   BENCH_RUNS=5           reaction-time runs, and timed orders per client
#   BENCH_DNS_INTERVAL=1   certo --dns-interval (seconds)
#   BENCH_BASEPORT=27000   Pebble ACME port; +1..+3 as in scripts/pebble-env.sh
#   BENCH_TIMEOUT=60       per-run timeout (seconds)
#   BENCH_CLIENTS="certo lego"
#   BENCH_WORKDIR=dir      work dir (default: a new /tmp/certo-bench-dns.XXXXXX)
#   BENCH_NO_DEPS=1        do not call scripts/deps.sh --bench
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MEASURE="$ROOT/scripts/bench/measure.sh"
HOOK="$ROOT/scripts/hooks/challtestsrv.sh"

if [ "${BENCH_NO_DEPS:-0}" != 1 ]; then
	"$ROOT/scripts/deps.sh" --bench
fi

. "$ROOT/scripts/bench/build-certo.sh"
RUNS=${BENCH_RUNS:-5}
INTERVAL=${BENCH_DNS_INTERVAL:-1}
BASEPORT=${BENCH_BASEPORT:-27000}
TIMEOUT=${BENCH_TIMEOUT:-60}
CLIENTS=${BENCH_CLIENTS:-certo lego}
DNSPORT=$((BASEPORT + 2))

[ -x "$CERTO" ] || {
	echo "dns.sh: no certo binary at $CERTO (set CERTO=)" >&2
	exit 1
}
"$CERTO" issue --help 2>&1 | grep -q -- '--dns-hook' || {
	echo "dns.sh: $CERTO has no --dns-hook option" >&2
	exit 1
}

WORK=${BENCH_WORKDIR:-$(mktemp -d /tmp/certo-bench-dns.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

# shellcheck source=scripts/pebble-env.sh
. "$ROOT/scripts/pebble-env.sh"
export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0

BG_PIDS=""
cleanup() {
	for p in $BG_PIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pebble_stop "$WORK/pebble" || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pebble_start "$WORK/pebble" "$BASEPORT" $((BASEPORT + 50)) $((BASEPORT + 51)) >/dev/null
export CHALLTESTSRV_MGMT_URL CHALLTESTSRV_HOOK_STATE="$WORK/hook.state"
echo "dns.sh: Pebble on $BASEPORT, challtestsrv DNS on 127.0.0.1:$DNSPORT, work dir $WORK"

now_ms() {
	awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.1f", t * 1000 }'
}

set_txt() {
	curl -sf -o /dev/null --max-time 10 -X POST \
		-d "{\"host\":\"$1.\",\"value\":\"$2\"}" "$CHALLTESTSRV_MGMT_URL/set-txt"
}

certo_args=(--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE"
	--agree-tos -m bench@example.com --challenge dns-01
	--dns-resolver "127.0.0.1:$DNSPORT")

# ------------------------------------------------------------ 1. reaction
echo
echo "== 1. record visible -> challenge answered (certo --manual, --dns-interval $INTERVAL)"
lat_file="$WORK/latency.txt"
: >"$lat_file"
for i in $(seq 1 "$RUNS"); do
	log="$WORK/react-$i.log"
	name="r$i.certo.test"
	# Every output line of certo, timestamped without forking.
	(
		timeout -k 5 "$TIMEOUT" "$CERTO" -v issue -d "$name" --manual \
			--dns-interval "$INTERVAL" --dns-timeout $((TIMEOUT - 5)) \
			--state-dir "$WORK/certo-react" "${certo_args[@]}" 2>&1 </dev/null |
			while IFS= read -r line; do
				printf '%s %s\n' "$EPOCHREALTIME" "$line"
			done >"$log"
	) &
	pid=$!
	BG_PIDS="$BG_PIDS $pid"
	for _ in $(seq 1 $((TIMEOUT * 10))); do
		grep -q 'dns-01: waiting until' "$log" 2>/dev/null && break
		sleep 0.1
	done
	rec=$(sed -n 's/^[0-9.]* \(_acme-challenge\.[A-Za-z0-9._-]*\)\. 300 IN TXT "\([A-Za-z0-9_-]*\)"$/\1 \2/p' "$log" | head -n 1)
	[ -n "$rec" ] || {
		echo "dns.sh: run $i: certo printed no record" >&2
		tail -n 20 "$log" >&2
		exit 1
	}
	# A random point in the polling cycle: 1 s + 0..(interval + 0.5) s.
	sleep "$(awk -v s="$RANDOM" -v iv="$INTERVAL" 'BEGIN { srand(s); printf "%.3f", 1 + rand() * (iv + 0.5) }')"
	set_txt "${rec%% *}" "${rec#* }"
	t_set=$(now_ms)
	wait "$pid" || {
		echo "dns.sh: run $i: certo failed" >&2
		tail -n 20 "$log" >&2
		exit 1
	}
	t_ans=$(awk '/POST .*\/chalZ\// { printf "%.1f", $1 * 1000; exit }' "$log")
	[ -n "$t_ans" ] || {
		echo "dns.sh: run $i: no challenge POST in certo's -v output" >&2
		exit 1
	}
	lat=$(awk -v a="$t_set" -v b="$t_ans" 'BEGIN { printf "%.0f", b - a }')
	echo "$lat" >>"$lat_file"
	printf '  run %d: %5d ms\n' "$i" "$lat"
done
target=$((INTERVAL * 1000 + 100))
awk -v target="$target" '
	{ s += $1; if (NR == 1 || $1 > max) max = $1; if (NR == 1 || $1 < min) min = $1 }
	END {
		printf "  min %d ms, mean %.0f ms, max %d ms; target < %d ms (interval + 100 ms): %s\n",
		    min, s / NR, max, target, max < target ? "met" : "MISSED"
	}' "$lat_file"

# ------------------------------------------------------------ 2. wildcard + apex
echo
echo "== 2. wildcard + apex order with a hook (wall time, existing account)"
LEGO_HOOK="$WORK/lego-exec.sh"
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
	case $1 in
	certo)
		"$MEASURE" "$3" "$TIMEOUT" "$CERTO" -q issue -d "$2" -d "*.$2" \
			--dns-hook "$HOOK" --state-dir "$WORK/certo-order" "${certo_args[@]}"
		;;
	lego)
		env LEGO_CA_CERTIFICATES="$PEBBLE_CA_BUNDLE" EXEC_PATH="$LEGO_HOOK" \
			EXEC_POLLING_INTERVAL=1 EXEC_SEQUENCE_INTERVAL=1 \
			EXEC_PROPAGATION_TIMEOUT=30 \
			"$MEASURE" "$3" "$TIMEOUT" lego --server "$PEBBLE_DIR_URL" \
			--email bench@example.com --accept-tos --path "$WORK/lego" \
			--domains "$2" --domains "*.$2" --dns exec \
			--dns.resolvers "127.0.0.1:$DNSPORT" --dns.disable-cp run
		;;
	esac
}

active=""
for c in $CLIENTS; do
	if [ "$c" = lego ] && ! command -v lego >/dev/null 2>&1; then
		echo "  lego not installed: skipped"
		continue
	fi
	# Untimed warm-up: registers the account.
	if run_client "$c" "warm-$c.certo.test" "$WORK/warm-$c.m" >"$WORK/warm-$c.log" 2>&1; then
		active="$active $c"
	else
		echo "  $c: warm-up failed, skipped (see $WORK/warm-$c.log)"
	fi
done
for i in $(seq 1 "$RUNS"); do
	for c in $active; do
		m="$WORK/order-$c-$i.m"
		if run_client "$c" "w$i-$c.certo.test" "$m" >"$WORK/order-$c-$i.log" 2>&1; then
			read -r wall _ usr sys _ <"$m"
			printf '  %-5s run %d: %6.0f ms wall, %5.0f ms CPU\n' "$c" "$i" \
				"$(awk -v w="$wall" 'BEGIN { print w * 1000 }')" \
				"$(awk -v u="$usr" -v s="$sys" 'BEGIN { print (u + s) * 1000 }')"
			echo "$c $wall" >>"$WORK/orders.txt"
		else
			echo "  $c run $i failed (see $WORK/order-$c-$i.log)"
		fi
	done
done
if [ -s "$WORK/orders.txt" ]; then
	echo
	for c in $active; do
		awk -v c="$c" '$1 == c { print $2 }' "$WORK/orders.txt" | sort -n |
			awk -v c="$c" '{ v[NR] = $1 } END {
				if (NR == 0) exit
				m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf "  %-5s median %6.0f ms over %d runs\n", c, m * 1000, NR
			}'
	done
	awk '{ n[$1]++; v[$1, n[$1]] = $2 } END {
		if (n["certo"] == 0 || n["lego"] == 0) exit
		for (k in n) {
			cnt = n[k]
			for (i = 1; i <= cnt; i++) a[i] = v[k, i]
			for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			med[k] = cnt % 2 ? a[(cnt + 1) / 2] : (a[cnt / 2] + a[cnt / 2 + 1]) / 2
		}
		printf "  ratio certo/lego (median wall): %.2f (lego %.1fx the time of certo)\n",
		    med["certo"] / med["lego"], med["lego"] / med["certo"]
	}' "$WORK/orders.txt"
fi
