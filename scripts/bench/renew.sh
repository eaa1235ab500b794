#!/usr/bin/env bash
# scripts/bench/renew.sh: renewal-pass benchmark against one local Pebble on
# loopback (a benchmark: it prints figures and asserts nothing). certo
# renews the due certificates out of BENCH_TOTAL (200) stored ones in one
# process; uacme and lego renew BENCH_DUE (20) certificates with as many
# processes in parallel; certbot with one `certbot renew` that works
# through its certificates in sequence.
#
# What is timed
#   certo    `certo renew --jobs BENCH_JOBS` over a state dir with BENCH_TOTAL
#            certificates, BENCH_DUE of them due. One process decides for
#            all (parses each cert.pem, applies the lifetime rule: Pebble
#            2.4 has no ARI), then renews the due ones with a pool of
#            BENCH_JOBS threads, answering HTTP-01 from its built-in server
#            (--standalone, as the certificates were issued). The timed run
#            includes the "not due" checks.
#   uacme    BENCH_DUE `uacme -d 2000 issue NAME` processes started at once,
#            webroot mode: the stock hook /usr/share/uacme/uacme.sh with
#            UACME_CHALLENGE_PATH=<webroot>/.well-known/acme-challenge.
#   lego     BENCH_DUE `lego -d NAME --http --http.webroot <webroot> renew
#            --days 2000 --no-random-sleep` processes started at once.
#   certbot  one `certbot renew --no-random-sleep-on-renew` (certbot renews
#            its lineages one after the other and takes a lock: it cannot
#            run in parallel), webroot authenticator.
# For the peers a static server (python3 http.server) on the HTTP-01 port
# serves the one shared webroot; it stands in for the web server that
# already runs, so it is started before and stopped after the timed batch.
# Accounts exist before the timed runs (untimed set-up), as in real
# renewals.
#
# Trust stores (BENCH_TRUST, default "system pebble"; see scripts/bench/
# lib.sh): every round runs every client under each of them; "system" (the
# system's CAs plus the test CA) is the headline, "pebble" (the test CA
# alone) the second line of each client. certo's certificates are issued
# without --ca-bundle, so that certo.json names none and renew reads the
# system bundle, which the mount namespace of the pass provides; each trust
# store has its own copy of certo's state dir.
#
# How certificates are made due (honestly, with the real CA, no fake clock)
#   Pebble honours the notBefore/notAfter fields of a newOrder. The set-up
#   issues every (TOTAL/DUE)th certo certificate with `certo issue
#   --not-before <now-3d> --not-after <now+1d>`: a genuine Pebble certificate
#   with 4 days of lifetime and 1 day left, so certo's rule (due when
#   notAfter - lifetime/3 <= now) makes it due. The others get Pebble's
#   default 5-year validity and are not due. The renewal asks for the CA's
#   default (certo.json does not record notBefore/notAfter). Before each
#   pass the script checks the due/not-due split with openssl; after it,
#   that exactly the due certificates changed (new file, chains to this
#   Pebble's root, notAfter years away) and the others are byte-identical.
#   Before every pass after a state dir's first, its due certificates are
#   issued again the same way (untimed).
#   uacme and lego cannot ask for a notAfter, so their certificates have
#   Pebble's 5-year validity and are made due by their own threshold:
#   "renew if fewer than 2000 days are left" (uacme -d 2000, lego --days
#   2000; certbot: renew_before_expiry = 2000 days in each renewal conf).
#   That is the same decision (one notAfter comparison per certificate).
#
# Figures per pass (scripts/bench/measure.c on every process): wall time
# (EPOCHREALTIME around certo's process or the whole batch); peak RSS =
# VmHWM at exit (for a batch: the largest process; "sum of RSS" adds the
# processes' peaks: what they can occupy at once); PSS and private dirty =
# the largest values of /proc/PID/smaps_rollup sampled every
# BENCH_MEM_SAMPLE_MS (50) ms and at exit (for a batch: summed over its
# processes, which run at the same time); CPU = user + sys (a batch: summed).
# Summary: median wall, largest memory, median CPU per client and trust
# store; certo/peer ratios per trust store, all measured in this run; the
# fastest peer. Targets for certo: whole pass <= 1.5 s, peak RSS < 16 MiB.
#
# Environment (all optional; see also scripts/bench/lib.sh):
#   CERTO=path            certo binary (default: a fresh Release build in build-bench/)
#   BENCH_RUNS=3          timed rounds (each: one pass per client and trust store)
#   BENCH_CLIENTS="certo uacme lego certbot"
#   BENCH_TRUST="system pebble"
#   BENCH_TOTAL=200       certificates in certo's state dir (at most 1000)
#   BENCH_DUE=20          how many of them are due; also the peers' batch size
#   BENCH_JOBS=4          certo renew --jobs (4 is certo's default)
#   BENCH_BASEPORT=24200  Pebble ACME port; +1..+3 Pebble/challtestsrv
#   BENCH_HTTP01_PORT=$((BASEPORT+80))  BENCH_TLSALPN_PORT=$((BASEPORT+443))
#   BENCH_TIMEOUT=120     per-process timeout (seconds)
#   BENCH_NONCEREJECT=0   PEBBLE_WFE_NONCEREJECT (0 keeps random badNonce
#                         retries out of the timings)
#   BENCH_MEM_SAMPLE_MS=50  (50, not 10: a batch runs 20 samplers at once)
#   BENCH_WORKDIR=dir     work dir (default: a new /tmp/certo-bench-renew.XXXXXX)
#   BENCH_RESULTS=file    summary TSV (default WORKDIR/renew-summary.tsv)
#   BENCH_NO_DEPS=1       do not call scripts/deps.sh --bench
#
# Network: everything binds and dials 127.0.0.1 / localhost only. Every
# process the script starts is stopped on exit (by PID).
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_init renew --bench
bench_build certo
bench_tools
BATCH=$BENCH_DIR/renew-batch.sh
RUNS=${BENCH_RUNS:-3}
bench_acme_settings renew 24200 120 50
TOTAL=${BENCH_TOTAL:-200}
NDUE=${BENCH_DUE:-20}
JOBS=${BENCH_JOBS:-4}
PEER_DAYS=2000
WEBROOT=$WORK/www
CHALLENGE_DIR=$WEBROOT/.well-known/acme-challenge
if [ "$NDUE" -lt 1 ] || [ "$NDUE" -gt "$TOTAL" ] || [ "$TOTAL" -gt 1000 ]; then
	bench_die "need 1 <= BENCH_DUE <= BENCH_TOTAL <= 1000"
fi

# ------------------------------------------------------------------- names
CERTO_NAMES=()
CERTO_DUE=()
for ((i = 0; i < TOTAL; i++)); do CERTO_NAMES+=("$(printf 'b%03d.%s' "$i" "$DOMAIN")"); done
for ((k = 0; k < NDUE; k++)); do CERTO_DUE+=("${CERTO_NAMES[$((k * TOTAL / NDUE))]}"); done
declare -A IS_DUE
for n in "${CERTO_DUE[@]}"; do IS_DUE[$n]=1; done
peer_names() { # peer_names PREFIX
	local k
	for ((k = 0; k < NDUE; k++)); do printf '%s%02d.%s\n' "$1" "$k" "$DOMAIN"; done
}
mapfile -t UACME_NAMES < <(peer_names u)
mapfile -t LEGO_NAMES < <(peer_names l)
mapfile -t CERTBOT_NAMES < <(peer_names c)
CERTBOT_DIRS=(--config-dir "$WORK/certbot/config" --work-dir "$WORK/certbot/work"
	--logs-dir "$WORK/certbot/logs")

# ----------------------------------------------------------- client commands
peer_commands() { # UACME_BASE, LEGO_BASE (after Pebble started)
	UACME_BASE=(/usr/bin/uacme -v -a "$PEBBLE_DIR_URL" -c "$WORK/uacme" -t EC -o
		-h "$BENCH_UACME_HOOK")
	LEGO_BASE=(lego --server "$PEBBLE_DIR_URL" --accept-tos --email "$EMAIL"
		--path "$WORK/lego" --key-type ec256 --http --http.webroot "$WEBROOT")
}

# peer_env CLIENT TRUST CMD...: bench_env, plus uacme's webroot
peer_env() {
	UACME_CHALLENGE_PATH=$CHALLENGE_DIR bench_env "$@"
}

# ------------------------------------------------------------- certo set-up
certo_issue() { # certo_issue TRUST NAME [EXTRA...]: untimed set-up issuance
	local t=$1 name=$2
	shift 2
	bench_env certo "$t" timeout -k 5 "$TIMEOUT" "$CERTO" issue -d "$name" --standalone \
		--http-port "$HTTP01" --http-addr 127.0.0.1 --server "$PEBBLE_DIR_URL" \
		--state-dir "$WORK/certo-$t" --agree-tos -m "$EMAIL" -q "$@" \
		>>"$LOGS/certo-setup.log" 2>&1
}

certo_issue_due() { # TRUST NAME: a certificate in the last third of its 4-day life
	certo_issue "$1" "$2" --not-before "$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)" \
		--not-after "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)"
}

# certo_check_split DIR: exactly the names in CERTO_DUE are due by the
# lifetime rule (openssl, not certo); snapshot the cert.pem hashes.
certo_check_split() {
	local dir=$1 n t nb na now ndue=0 bad=0
	now=$(date +%s)
	: >"$dir.sha256"
	for n in "${CERTO_NAMES[@]}"; do
		t=$(bench_cert_times "$dir/live/$n/cert.pem") || { bad=$((bad + 1)); continue; }
		nb=${t% *} na=${t#* }
		if [ $((na - (na - nb) / 3)) -le "$now" ]; then
			ndue=$((ndue + 1))
			[ -n "${IS_DUE[$n]:-}" ] || bad=$((bad + 1))
		else
			[ -z "${IS_DUE[$n]:-}" ] || bad=$((bad + 1))
		fi
		# not due within the next 10 minutes either (the pass is short)
		[ -n "${IS_DUE[$n]:-}" ] || [ $((na - (na - nb) / 3)) -gt $((now + 600)) ] || bad=$((bad + 1))
		sha256sum "$dir/live/$n/cert.pem" >>"$dir.sha256"
	done
	if [ "$bad" -ne 0 ] || [ "$ndue" -ne "$NDUE" ]; then
		echo "renew.sh: due split wrong in $dir: $ndue due (want $NDUE), $bad mismatches" >&2
		return 1
	fi
}

# fresh_cert FILE NAME MARKER: written after MARKER, for NAME, from this
# Pebble, with more than 1000 days left (a renewal with the CA's default)
fresh_cert() {
	local t
	[ -f "$1" ] && [ "$1" -nt "$3" ] || return 1
	bench_cert_ok "$1" "$2" || return 1
	t=$(bench_cert_times "$1") || return 1
	[ "${t#* }" -gt $(($(date +%s) + 1000 * 86400)) ]
}

# setup_certo: every certificate under the first trust store, then a copy
# of the state dir for each other trust store.
setup_certo() {
	local n i=0 t first=${TRUSTS%% *}
	echo "  certo: issuing $TOTAL certificates ($NDUE due) into $WORK/certo-$first (sequential)"
	for n in "${CERTO_NAMES[@]}"; do
		if [ -n "${IS_DUE[$n]:-}" ]; then
			certo_issue_due "$first" "$n" || { echo "renew.sh: certo issue $n failed (see $LOGS/certo-setup.log)" >&2; return 1; }
		else
			certo_issue "$first" "$n" || { echo "renew.sh: certo issue $n failed (see $LOGS/certo-setup.log)" >&2; return 1; }
		fi
		i=$((i + 1))
		[ $((i % 50)) -eq 0 ] && echo "    $i/$TOTAL"
	done
	if [ -n "$(find "$WORK/certo-$first" -type l -lname '/*' -print -quit)" ]; then
		echo "renew.sh: certo's state dir holds absolute links: it cannot be copied" >&2
		return 1
	fi
	for t in $TRUSTS; do
		[ "$t" = "$first" ] || cp -a "$WORK/certo-$first" "$WORK/certo-$t"
	done
	grep -q '"ca_bundle"' "$WORK/certo-$first/live/${CERTO_NAMES[0]}/certo.json" 2>/dev/null &&
		echo "  warning: certo.json names a ca_bundle: renew would not read the system store" >&2
	return 0
}

# ----------------------------------------------------------------- peer set-up
setup_uacme() {
	local rc=0 t=${TRUSTS%% *}
	echo "  uacme: account + $NDUE certificates (parallel, webroot)"
	bench_run_job peer_env uacme "$t" timeout "$TIMEOUT" "${UACME_BASE[@]}" -y new "$EMAIL" \
		>>"$LOGS/uacme-setup.log" 2>&1 || return 1
	bench_static_start "$WEBROOT" "$HTTP01" || return 1
	bench_run_job peer_env uacme "$t" "$BATCH" "$WORK/setup/uacme" "$TIMEOUT" parallel \
		"${UACME_NAMES[@]}" -- "${UACME_BASE[@]}" issue @NAME@ || rc=$?
	bench_static_stop
	return "$rc"
}

setup_lego() {
	local rc=0 t=${TRUSTS%% *}
	echo "  lego: account + $NDUE certificates (first alone: it registers; then parallel)"
	bench_static_start "$WEBROOT" "$HTTP01" || return 1
	bench_run_job bench_env lego "$t" "$BATCH" "$WORK/setup/lego0" "$TIMEOUT" sequential \
		"${LEGO_NAMES[0]}" -- "${LEGO_BASE[@]}" -d @NAME@ run || rc=$?
	[ "$rc" -eq 0 ] && { bench_run_job bench_env lego "$t" "$BATCH" "$WORK/setup/lego" \
		"$TIMEOUT" parallel "${LEGO_NAMES[@]:1}" -- "${LEGO_BASE[@]}" -d @NAME@ run || rc=$?; }
	bench_static_stop
	return "$rc"
}

setup_certbot() {
	local rc=0 f t=${TRUSTS%% *}
	echo "  certbot: account + $NDUE certificates (sequential: certbot takes a lock)"
	bench_run_job bench_env certbot "$t" timeout "$TIMEOUT" certbot register \
		--server "$PEBBLE_DIR_URL" "${CERTBOT_DIRS[@]}" --non-interactive --agree-tos \
		-m "$EMAIL" --no-eff-email >>"$LOGS/certbot-setup.log" 2>&1 || return 1
	bench_static_start "$WEBROOT" "$HTTP01" || return 1
	bench_run_job bench_env certbot "$t" "$BATCH" "$WORK/setup/certbot" "$TIMEOUT" sequential \
		"${CERTBOT_NAMES[@]}" -- certbot certonly --webroot -w "$WEBROOT" \
		--server "$PEBBLE_DIR_URL" "${CERTBOT_DIRS[@]}" --non-interactive --agree-tos \
		-m "$EMAIL" --no-eff-email --key-type ecdsa -d @NAME@ || rc=$?
	bench_static_stop
	[ "$rc" -eq 0 ] || return "$rc"
	# renew when fewer than PEER_DAYS days are left (as uacme -d, lego --days)
	for f in "$WORK"/certbot/config/renewal/*.conf; do
		sed -i '/^renew_before_expiry/d' "$f"
		sed -i "1i renew_before_expiry = $PEER_DAYS days" "$f"
	done
}

# ---------------------------------------------------------------- timed passes
declare -A PASSES # certo state dir -> passes done

# pass_line CLIENT TRUST ROUND OK NOTE WHAT: print one pass
pass_line() {
	printf '  %-8s %-7s wall %7.3f s  %s  CPU %5.2f s  %s\n' "$1" "$2" "$M_WALL" \
		"$(bench_mem_text "$M_RSS" "$M_PSS" "$M_PD")" "$M_CPU" \
		"$([ "$4" = 1 ] && echo "ok ($6)" || echo "FAILED: $5")"
}

# round_certo TRUST ROUND
round_certo() {
	local t=$1 r=$2 dir=$WORK/certo-$1 out=$WORK/m/certo-$1-$2 rc=0 ok=1 note="" n summary
	local stale=0 changed
	mkdir -p "$out"
	if [ "${PASSES[$t]:-0}" -gt 0 ]; then # make the due ones due again (untimed)
		for n in "${CERTO_DUE[@]}"; do
			certo_issue_due "$t" "$n" || { echo "renew.sh: re-issuing $n failed" >&2; return 1; }
		done
	fi
	certo_check_split "$dir" || return 1
	bench_wait_port_free "$HTTP01" || true
	touch "$out/marker"
	sleep 0.01
	bench_run_job bench_env certo "$t" "$BENCH_MEASURE" "$out/certo.txt" "$TIMEOUT" "$CERTO" \
		renew --state-dir "$dir" --jobs "$JOBS" >"$out/renew.log" 2>&1 || rc=$?
	PASSES[$t]=$((${PASSES[$t]:-0} + 1))
	bench_read_measure "$out/certo.txt" || M_RC=$rc
	[ "$M_RC" -eq 0 ] || { ok=0; note="rc $M_RC"; }
	summary=$(grep -E '^renew: [0-9]+ renewed' "$out/renew.log" | tail -n 1 || true)
	if [ "$summary" != "renew: $NDUE renewed, 0 failed, $((TOTAL - NDUE)) not due" ]; then
		ok=0
		note="${note:+$note; }summary '${summary:-none}'"
	fi
	for n in "${CERTO_DUE[@]}"; do
		fresh_cert "$dir/live/$n/cert.pem" "$n" "$out/marker" || stale=$((stale + 1))
	done
	changed=$(sha256sum --quiet -c "$dir.sha256" 2>/dev/null | grep -c FAILED || true)
	[ "$stale" -eq 0 ] || { ok=0; note="${note:+$note; }$stale due not renewed"; }
	[ "$changed" -eq "$NDUE" ] || { ok=0; note="${note:+$note; }$changed cert.pem changed (want $NDUE)"; }
	bench_record "$RUNS_TSV" certo "$t" "$r" pass "$M_WALL" "$M_RSS" "$M_PSS" "$M_PD" \
		"$M_CPU" 1 "$M_RSS" "$M_RC" "$ok" "$note"
	pass_line certo "$t" "$r" "$ok" "$note (see $out/renew.log)" "$summary"
}

peer_cert() { # peer_cert CLIENT NAME: where CLIENT keeps NAME's certificate
	case $1 in
	uacme) echo "$WORK/uacme/$2/cert.pem" ;;
	lego) echo "$WORK/lego/certificates/$2.crt" ;;
	certbot) readlink -f "$WORK/certbot/config/live/$2/cert.pem" ;;
	esac
}

# batch_figures DIR: M_RSS (largest process) M_RSUM M_PSS M_PD M_CPU (sums)
# M_NPROC over the measure lines DIR/*.txt except batch.txt
batch_figures() {
	read -r M_RSS M_RSUM M_PSS M_PD M_CPU M_NPROC < <(
		find "$1" -maxdepth 1 -name '*.txt' ! -name batch.txt -exec cat {} + 2>/dev/null |
			awk 'NF >= 7 { n++; if ($2 > mx) mx = $2; rs += $2; ps += $6; pd += $7; cpu += $3 + $4 }
			END { printf "%d %d %d %d %.2f %d\n", mx, rs, ps, pd, cpu, n }')
}

# round_peer CLIENT TRUST ROUND
round_peer() {
	local c=$1 t=$2 r=$3 out=$WORK/m/$1-$2-$3 rc=0 ok=1 note="" failed=0 n stale=0 f
	local -n names=${c^^}_NAMES
	rm -rf "$out"
	mkdir -p "$out"
	bench_static_start "$WEBROOT" "$HTTP01" || return 1
	touch "$out.marker"
	sleep 0.01
	case $c in
	certbot)
		bench_run_job bench_env certbot "$t" "$BATCH" "$out" "$TIMEOUT" sequential all -- \
			certbot renew "${CERTBOT_DIRS[@]}" --non-interactive --no-random-sleep-on-renew || rc=$?
		;;
	uacme)
		bench_run_job peer_env uacme "$t" "$BATCH" "$out" "$TIMEOUT" parallel "${names[@]}" -- \
			"${UACME_BASE[@]}" -d "$PEER_DAYS" issue @NAME@ || rc=$?
		;;
	lego)
		bench_run_job bench_env lego "$t" "$BATCH" "$out" "$TIMEOUT" parallel "${names[@]}" -- \
			"${LEGO_BASE[@]}" -d @NAME@ renew --days "$PEER_DAYS" --no-random-sleep || rc=$?
		;;
	esac
	bench_static_stop
	read -r M_WALL failed <"$out/batch.txt" || { M_WALL=0 failed=$rc; }
	if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
		ok=0 note="$failed failed processes"
	fi
	for n in "${names[@]}"; do
		f=$(peer_cert "$c" "$n")
		fresh_cert "$f" "$n" "$out.marker" || stale=$((stale + 1))
	done
	[ "$stale" -eq 0 ] || { ok=0; note="${note:+$note; }$stale of ${#names[@]} not renewed"; }
	batch_figures "$out"
	bench_record "$RUNS_TSV" "$c" "$t" "$r" batch "$M_WALL" "$M_RSS" "$M_PSS" "$M_PD" \
		"$M_CPU" "$M_NPROC" "$M_RSUM" "$rc" "$ok" "$note"
	pass_line "$c" "$t" "$r" "$ok" "$note (see $out/*.log)" \
		"$M_NPROC process(es), sum of RSS $(bench_mib "$M_RSUM") MiB"
}

round_uacme() { round_peer uacme "$@"; }
round_lego() { round_peer lego "$@"; }
round_certbot() { round_peer certbot "$@"; }

bench_what() { # for bench_report's table
	case $1 in
	certo) echo "1 process, $TOTAL checked, $NDUE renewed, --jobs $JOBS" ;;
	certbot) echo "1 certbot renew, $NDUE in sequence" ;;
	*) echo "$NDUE processes at once; memory: largest RSS, summed PSS/dirty" ;;
	esac
}

# ---------------------------------------------------------------------- main
mkdir -p "$WORK/m" "$WORK/setup" "$CHALLENGE_DIR"
bench_acme_start "certo renew benchmark" "$RUNS rounds" \
	"certo: $TOTAL stored, $NDUE due, renew --jobs $JOBS; peers: $NDUE certificates each" \
	"due: every $((TOTAL / NDUE))th certo certificate is issued with notBefore now-3d, notAfter now+1d" \
	"     (last third of its life); peers renew 5-year certificates with a $PEER_DAYS-day threshold"
peer_commands

# set_up CLIENT TRUST...: setup_CLIENT; READY: every trust store once it
# worked (one set-up serves them all)
set_up() {
	local c=$1 t0=$EPOCHREALTIME
	shift
	"setup_$c" || return 0
	echo "    done in $(bench_span "$t0" "$EPOCHREALTIME") s"
	READY=("$@")
}
bench_prepare "Set-up (untimed)" set_up

echo
echo "Timed passes (one at a time; the order rotates every round)"
timed_pass() { "round_$1" "$2" "$3"; } # CLIENT TRUST ROUND
bench_rounds "$RUNS" timed_pass "${ACTIVE[@]}"
bench_report "$RUNS_TSV" "$RESULTS" "$CLIENTS" "$TRUSTS"

HEAD=${TRUSTS%% *}
if bench_targets_begin "$TARGETS_TSV" "$HEAD" ""; then
	bench_target "whole pass <= 1.5 s" "${S_WALL[certo:$HEAD]}" 1.5 le \
		"$(printf '%.3f s median (max %.3f s)' "${S_WALL[certo:$HEAD]}" "${S_WMAX[certo:$HEAD]}")" "$TARGETS_TSV"
	bench_target "peak RSS < 16 MiB" "${S_RSS[certo:$HEAD]}" 16384 lt \
		"$(bench_mib "${S_RSS[certo:$HEAD]}") MiB" "$TARGETS_TSV"
fi
bench_files "$RESULTS"
