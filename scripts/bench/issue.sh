#!/usr/bin/env bash
# scripts/bench/issue.sh: time to certificate, certo vs. uacme, lego and
# certbot, against one local Pebble on loopback (a benchmark: it prints
# figures and asserts nothing).
#
# Each client issues a certificate for one NEW name per run
# (b<round>-<client>-<trust>.certo.test; challtestsrv answers every A query
# with 127.0.0.1) with an EXISTING account (registered by one untimed
# warm-up issuance per client and trust store), HTTP-01 on one shared port
# (certo --standalone, lego --http, certbot --standalone; uacme's stock
# webroot hook with a python3 static server that is not timed: it stands in
# for a web server that already runs). One run at a time; every round runs
# each client under each trust store, in an order that rotates every round.
#
# Trust stores (BENCH_TRUST, default "system pebble"; scripts/bench/lib.sh
# says how each client is given them): "system" = the system's CAs plus the
# test CA that signed Pebble's HTTPS certificate, what a user has; it is the
# headline figure. "pebble" = the test CA alone, a best case no user has:
# printed as the second line of each client. Each client and trust store
# has its own state directory, so that nothing one learns is used by the
# other.
#
# Per run (scripts/bench/measure.c): wall time from fork to exit; peak RSS
# = VmHWM of the client's process at its exit (the kernel's peak); PSS and
# private dirty = the largest values of /proc/PID/smaps_rollup sampled every
# BENCH_MEM_SAMPLE_MS (10) ms and once at exit (the client is stopped in
# exit_group() through ptrace, before its memory is released); CPU = user +
# sys from wait4. Memory is the client's own process, not its hooks.
# Per client and trust store: median wall (min-max), the largest memory
# figures, median CPU. Then certo/peer ratios for each trust store, all
# measured in this run, and the fastest peer: the one to beat. Targets
# (issue 15, system trust store): wall <= 0.12x uacme, peak RSS <= 11.5
# MiB, private dirty <= 1.2 MiB; CPU < 0.1 s.
#
# Environment (all optional; see also scripts/bench/lib.sh):
#   CERTO=path            certo binary (default: a fresh Release build in build-bench/)
#   BENCH_RUNS=5          timed runs per client and trust store
#   BENCH_CLIENTS="certo uacme lego certbot"  (add certo-old with BENCH_CERTO_OLD)
#   BENCH_CERTO_OLD=path  another certo build, run as the client certo-old in
#                         the same rounds (e.g. one from before the process
#                         split: the target wall <= 1.10x certo-old, issue 13)
#   BENCH_TRUST="system pebble"
#   BENCH_BASEPORT=24000  Pebble ACME port; +1..+3 Pebble management, challtestsrv
#   BENCH_HTTP01_PORT=$((BASEPORT+80))  BENCH_TLSALPN_PORT=$((BASEPORT+443))
#   BENCH_TIMEOUT=60      per-run timeout (seconds)
#   BENCH_NONCEREJECT=0   PEBBLE_WFE_NONCEREJECT (Pebble's default is 5; 0
#                         keeps random badNonce retries out of the timings)
#   BENCH_MEM_SAMPLE_MS=10
#   BENCH_WORKDIR=dir     work dir (default: a new /tmp/certo-bench-issue.XXXXXX)
#   BENCH_RESULTS=file    summary TSV (default WORKDIR/issue-summary.tsv; runs,
#                         ratios and targets go next to it)
#   BENCH_NO_DEPS=1       do not call scripts/deps.sh --bench
#
# Network: everything binds and dials 127.0.0.1 / localhost only.
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_init issue --bench
bench_build certo
bench_tools
RUNS=${BENCH_RUNS:-5}
bench_acme_settings issue 24000 60 10
WWW=$WORK/uacme-www

# ------------------------------------------------------------------- clients
# client_CLIENT TRUST NAME OUT LOG: issue one certificate for NAME, measured
# into OUT. State under $WORK/CLIENT-TRUST.

client_certo() {
	bench_run_job bench_env certo "$1" "$BENCH_MEASURE" "$3" "$TIMEOUT" \
		"$CERTO" issue -d "$2" --standalone --http-port "$HTTP01" \
		--http-addr 127.0.0.1 --server "$PEBBLE_DIR_URL" \
		--state-dir "$WORK/certo-$1" --agree-tos --email "$EMAIL" -q >>"$4" 2>&1
}

# The same, with the build of BENCH_CERTO_OLD (state apart).
client_certo-old() {
	bench_run_job bench_env certo-old "$1" "$BENCH_MEASURE" "$3" "$TIMEOUT" \
		"$BENCH_CERTO_OLD" issue -d "$2" --standalone --http-port "$HTTP01" \
		--http-addr 127.0.0.1 --server "$PEBBLE_DIR_URL" \
		--state-dir "$WORK/certo-old-$1" --agree-tos --email "$EMAIL" -q >>"$4" 2>&1
}

client_uacme() {
	local rc=0
	bench_static_start "$WWW" "$HTTP01" || return 1
	UACME_CHALLENGE_PATH=$WWW/.well-known/acme-challenge \
		bench_run_job bench_env uacme "$1" "$BENCH_MEASURE" "$3" "$TIMEOUT" \
		/usr/bin/uacme -v -a "$PEBBLE_DIR_URL" -c "$WORK/uacme-$1" -t EC -o \
		-h "$BENCH_UACME_HOOK" issue "$2" >>"$4" 2>&1 || rc=$?
	bench_static_stop
	return "$rc"
}

client_lego() {
	bench_run_job bench_env lego "$1" "$BENCH_MEASURE" "$3" "$TIMEOUT" \
		lego --server "$PEBBLE_DIR_URL" --accept-tos --email "$EMAIL" \
		--path "$WORK/lego-$1" --key-type ec256 \
		--http --http.port "127.0.0.1:$HTTP01" -d "$2" run >>"$4" 2>&1
}

certbot_dirs() { # certbot_dirs TRUST
	echo --config-dir "$WORK/certbot-$1/config" --work-dir "$WORK/certbot-$1/work" \
		--logs-dir "$WORK/certbot-$1/logs"
}

client_certbot() {
	# shellcheck disable=SC2046 # the paths have no spaces (WORK is checked)
	bench_run_job bench_env certbot "$1" "$BENCH_MEASURE" "$3" "$TIMEOUT" \
		certbot certonly --standalone --http-01-port "$HTTP01" \
		--http-01-address 127.0.0.1 --server "$PEBBLE_DIR_URL" $(certbot_dirs "$1") \
		--non-interactive --agree-tos -m "$EMAIL" --no-eff-email \
		--key-type ecdsa -d "$2" >>"$4" 2>&1
}

# register_CLIENT TRUST LOG: account registration (untimed), where the
# client has a separate command; the warm-up issuance does it for the rest.
register_uacme() {
	mkdir -p "$WWW/.well-known/acme-challenge"
	bench_run_job bench_env uacme "$1" timeout "$TIMEOUT" /usr/bin/uacme -v \
		-a "$PEBBLE_DIR_URL" -c "$WORK/uacme-$1" -t EC -y new "$EMAIL" >>"$2" 2>&1
}

register_certbot() {
	# shellcheck disable=SC2046
	bench_run_job bench_env certbot "$1" timeout "$TIMEOUT" certbot register \
		--server "$PEBBLE_DIR_URL" $(certbot_dirs "$1") --non-interactive \
		--agree-tos -m "$EMAIL" --no-eff-email >>"$2" 2>&1
}

# cert_written NAME DIR MARKER: a certificate for NAME from this Pebble,
# written under DIR after MARKER was touched.
cert_written() {
	local f
	while IFS= read -r f; do
		bench_cert_ok "$f" "$1" && return 0
	done < <(find "$2" -type f -newer "$3" 2>/dev/null; true)
	return 1
}

# one_run CLIENT TRUST NAME ROUND: issue, check, record, print one line.
one_run() {
	local c=$1 t=$2 name=$3 round=$4
	local out=$WORK/m/$c-$t-$round.txt log=$LOGS/$c-$t.log rc=0 ok=0
	bench_wait_port_free "$HTTP01" || true
	touch "$WORK/m/$name.marker"
	sleep 0.01 # mtime granularity
	printf '\n=== round %s: %s %s %s\n' "$round" "$c" "$t" "$name" >>"$log"
	"client_$c" "$t" "$name" "$out" "$log" || rc=$?
	bench_read_measure "$out" || M_RC=$rc
	[ "$rc" -eq 0 ] || M_RC=$rc
	[ "$M_RC" -eq 0 ] && cert_written "$name" "$WORK/$c-$t" "$WORK/m/$name.marker" && ok=1
	bench_record "$RUNS_TSV" "$c" "$t" "$round" "$name" "$M_WALL" "$M_RSS" "$M_PSS" \
		"$M_PD" "$M_CPU" 1 "$M_RSS" "$M_RC" "$ok" ""
	printf '  %-8s %-7s %-31s wall %7.3f s  %s  CPU %5.2f s  %s\n' "$c" "$t" "$name" \
		"$M_WALL" "$(bench_mem_text "$M_RSS" "$M_PSS" "$M_PD")" "$M_CPU" \
		"$([ "$ok" = 1 ] && echo ok || echo "FAILED (rc $M_RC, see $log)")"
	[ "$ok" = 1 ]
}

# ---------------------------------------------------------------------- main
mkdir -p "$WORK/m"
bench_acme_start "certo issue benchmark" "$RUNS runs per client and trust store"

# warm_up CLIENT TRUST...: register the account, issue one certificate
# (untimed); READY: the trust stores where both worked.
warm_up() {
	local c=$1 t log
	shift
	for t in "$@"; do
		log=$LOGS/$c-$t.log
		: >"$log"
		if declare -F "register_$c" >/dev/null && ! "register_$c" "$t" "$log"; then
			echo "  $c ($t): account registration failed"
		elif one_run "$c" "$t" "w-$c-$t.$DOMAIN" 0; then
			READY+=("$t")
		fi
	done
}
bench_prepare "Warm-up (untimed): register each client's account, issue one certificate" warm_up

echo
echo "Timed runs (one at a time; the order rotates every round)"
timed_run() { one_run "$1" "$2" "b$3-$1-$2.$DOMAIN" "$3"; } # CLIENT TRUST ROUND
bench_rounds "$RUNS" timed_run "${ACTIVE[@]}"
bench_report "$RUNS_TSV" "$RESULTS" "$CLIENTS" "$TRUSTS"

# ------------------------------------------------------------------- targets
HEAD=${TRUSTS%% *}
if bench_targets_begin "$TARGETS_TSV" "$HEAD" "issue 15"; then
	if [ -n "${S_WALL[uacme:$HEAD]:-}" ]; then
		r=$(bench_ratio "${S_WALL[certo:$HEAD]}" "${S_WALL[uacme:$HEAD]}")
		bench_target "wall <= 0.12x uacme" "$r" 0.12 le \
			"${r}x ($(printf '%.3f s vs %.3f s' "${S_WALL[certo:$HEAD]}" "${S_WALL[uacme:$HEAD]}"))" "$TARGETS_TSV"
	else
		echo "  wall <= 0.12x uacme                n/a (no uacme figures in this run)"
	fi
	if [ -n "${S_WALL[certo-old:$HEAD]:-}" ]; then
		r=$(bench_ratio "${S_WALL[certo:$HEAD]}" "${S_WALL[certo-old:$HEAD]}")
		bench_target "wall <= 1.10x certo-old" "$r" 1.10 le \
			"${r}x ($(printf '%.3f s vs %.3f s' "${S_WALL[certo:$HEAD]}" "${S_WALL[certo-old:$HEAD]}"))" "$TARGETS_TSV"
	fi
	bench_target "peak RSS <= 11.5 MiB" "${S_RSS[certo:$HEAD]}" 11776 le \
		"$(bench_mib "${S_RSS[certo:$HEAD]}") MiB" "$TARGETS_TSV"
	bench_target "private dirty <= 1.2 MiB" "${S_PD[certo:$HEAD]}" 1229 le \
		"$(bench_mib "${S_PD[certo:$HEAD]}") MiB" "$TARGETS_TSV"
	bench_target "CPU < 0.1 s (median)" "${S_CPU[certo:$HEAD]}" 0.1 lt \
		"${S_CPU[certo:$HEAD]} s (max ${S_CPUMAX[certo:$HEAD]} s)" "$TARGETS_TSV"
fi
bench_files "$RESULTS"
