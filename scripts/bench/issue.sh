#!/usr/bin/env bash
# scripts/bench/issue.sh: time-to-certificate benchmark, certo vs. uacme, lego
# (and certbot), against one local Pebble on loopback.
#
# Each client issues a certificate for one NEW name per run
# (b<round>-<client>.certo.test; challtestsrv answers every A query with
# 127.0.0.1) with an EXISTING account (registered by one untimed warm-up
# issuance per client), HTTP-01 on one shared port. Clients alternate, one at a
# time, and the order rotates every round. Per run: wall time, peak RSS, user+sys
# CPU from /usr/bin/time (scripts/bench/measure.sh). Per client: median wall,
# peak RSS, median CPU; ratios certo/uacme and certo/lego; targets.
#
# Environment (all optional):
#   CERTO=path          certo binary (default: a fresh Release build in build-bench/)
#   BENCH_RUNS=5        timed runs per client
#   BENCH_CLIENTS="certo uacme lego certbot"
#   BENCH_BASEPORT=24000  Pebble ACME port; the other ports derive from it
#   BENCH_HTTP01_PORT=$((BASEPORT+80))  BENCH_TLSALPN_PORT=$((BASEPORT+443))
#   BENCH_TIMEOUT=60    per-run timeout (seconds)
#   BENCH_NONCEREJECT=0 PEBBLE_WFE_NONCEREJECT for the run (Pebble's default is 5;
#                       0 keeps random badNonce retries out of the timings)
#   BENCH_WORKDIR=dir   work dir (default: a new /tmp/certo-bench-issue.XXXXXX)
#   BENCH_RESULTS=file  summary TSV (default WORKDIR/issue-summary.tsv)
#   BENCH_TRUST=system  trust store of every client for HTTPS to Pebble:
#                       "system" = the system CAs + Pebble's TLS CA (real use
#                       with one extra CA: certo's --ca-bundle adds to the system
#                       store, uacme's libcurl-gnutls re-reads the store on each
#                       of its ~11 connections, lego gets LEGO_CA_SYSTEM_CERT_POOL
#                       =true, certbot a system+Pebble REQUESTS_CA_BUNDLE), or
#                       "pebble" = Pebble's TLS CA only (certo and uacme then run
#                       in a mount namespace whose /etc/ssl/certs holds only it)
#   BENCH_NO_DEPS=1     do not call scripts/deps.sh --bench
#
# Network: everything binds and dials 127.0.0.1 / localhost only.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR="$ROOT/scripts/bench"
MEASURE="$BENCH_DIR/measure.sh"

if [ "${BENCH_NO_DEPS:-0}" != 1 ]; then
	"$ROOT/scripts/deps.sh" --bench
fi

. "$ROOT/scripts/bench/build-certo.sh"
RUNS=${BENCH_RUNS:-5}
CLIENTS=${BENCH_CLIENTS:-certo uacme lego certbot}
BASEPORT=${BENCH_BASEPORT:-24000}
HTTP01=${BENCH_HTTP01_PORT:-$((BASEPORT + 80))}
TLSALPN=${BENCH_TLSALPN_PORT:-$((BASEPORT + 443))}
TIMEOUT=${BENCH_TIMEOUT:-60}
EMAIL=bench@example.com
DOMAIN=certo.test
SYS_CA=/etc/ssl/certs/ca-certificates.crt
UACME_HOOK=/usr/share/uacme/uacme.sh
TRUST=${BENCH_TRUST:-system}
case $TRUST in system | pebble) ;; *)
	echo "issue.sh: BENCH_TRUST must be system or pebble" >&2
	exit 1
	;;
esac

WORK=${BENCH_WORKDIR:-$(mktemp -d /tmp/certo-bench-issue.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RESULTS=${BENCH_RESULTS:-$WORK/issue-summary.tsv}
RUNS_TSV="${RESULTS%.tsv}-runs.tsv"
TARGETS_TSV="${RESULTS%.tsv}-targets.tsv"

# ---------------------------------------------------------------- Pebble env
# Shared helper (pebble_start/pebble_fetch_roots/pebble_stop). Ports used, all
# on 127.0.0.1: BASEPORT (ACME), +1 (Pebble management), +2 (challtestsrv DNS),
# +3 (challtestsrv management), HTTP01, TLSALPN.
# shellcheck source=scripts/pebble-env.sh
. "$ROOT/scripts/pebble-env.sh"
export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0
export PEBBLE_WFE_NONCEREJECT=${BENCH_NONCEREJECT:-0}

# ------------------------------------------------------------ process cleanup
PEBBLE_UP=0
STATIC_PID=""
JOB_PID=""

kill_tree() { # kill_tree PID: PID and all its descendants (by parent link)
	local pid=$1 child
	for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
		kill_tree "$child"
	done
	kill "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$JOB_PID" ] && kill_tree "$JOB_PID"
	stop_static_server
	if [ "$PEBBLE_UP" = 1 ]; then
		pebble_stop "$WORK/pebble" || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_job CMD...: run in the background so the trap can reach it; return its rc
run_job() {
	"$@" &
	JOB_PID=$!
	local rc=0
	wait "$JOB_PID" || rc=$?
	JOB_PID=""
	return "$rc"
}

# port_free PORT: nothing accepts connections on 127.0.0.1:PORT
port_free() { ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_port_free() {
	local i
	for i in $(seq 1 50); do
		port_free "$1" && return 0
		sleep 0.1
	done
	echo "issue.sh: port $1 still in use" >&2
	return 1
}

# --------------------------------------------- static server for uacme's hook
start_static_server() { # webroot served on 127.0.0.1:$HTTP01
	/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$1" "$HTTP01" \
		>>"$WORK/static-server.log" 2>&1 &
	STATIC_PID=$!
	local i
	for i in $(seq 1 100); do
		if curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$HTTP01/"; then
			return 0
		fi
		sleep 0.05
	done
	echo "issue.sh: static server on 127.0.0.1:$HTTP01 did not start" >&2
	return 1
}

stop_static_server() {
	if [ -n "$STATIC_PID" ]; then
		kill "$STATIC_PID" 2>/dev/null || true
		wait "$STATIC_PID" 2>/dev/null || true
		STATIC_PID=""
	fi
}

# ------------------------------------------------------------------- clients
# client_<name> NAME OUTFILE LOG: issue one certificate for NAME, measured by
# measure.sh into OUTFILE. Each client keeps its state under $WORK/<client>.

client_certo() {
	local ns=()
	[ "$TRUST" = pebble ] && ns=(trust_ns dir)
	run_job "${ns[@]}" "$MEASURE" "$2" "$TIMEOUT" "$CERTO" issue -d "$1" --standalone \
		--http-port "$HTTP01" --http-addr 127.0.0.1 \
		--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$WORK/certo" --agree-tos --email "$EMAIL" -q \
		>>"$3" 2>&1
}

# trust_ns MODE CMD...: run CMD in a private mount namespace (unshare -m) with
# a different system trust store. GnuTLS (certo, and uacme through libcurl)
# reads the CA file /etc/ssl/certs/ca-certificates.crt and libcurl also the CA
# path /etc/ssl/certs/. MODE "file": $WORK/trust/ca-certificates.crt is
# bind-mounted over the CA file (the CA path stays); MODE "dir": $WORK/trust,
# whose only file is ca-certificates.crt, is bind-mounted over /etc/ssl/certs.
# The namespace set-up happens before measure.sh starts, so it is not timed.
# shellcheck disable=SC2016 # $0 $1 $@ are expanded by the inner bash
trust_ns() {
	local unshare_opts=(-m) src=$WORK/trust/ca-certificates.crt dst=$SYS_CA
	[ "$(id -u)" -eq 0 ] || unshare_opts=(-r -m)
	if [ "$1" = dir ]; then
		src=$WORK/trust dst=$(dirname "$SYS_CA")
	fi
	shift
	unshare "${unshare_opts[@]}" bash -c \
		'mount --bind "$0" "$1" && shift && exec "$@"' "$src" "$dst" "$@"
}

# uacme has no CA-file option: it always runs under trust_ns, with
# $WORK/trust/ca-certificates.crt = system CAs + Pebble's TLS CA over the CA
# file (BENCH_TRUST=system) or Pebble's TLS CA alone over /etc/ssl/certs
# (BENCH_TRUST=pebble). The stock webroot hook writes the key authorization to
# $UACME_CHALLENGE_PATH/<token>; a static server (python3 http.server on
# 127.0.0.1:$HTTP01) serves the webroot. The static server is not timed (it
# stands in for an existing web server).
uacme_ns() { # uacme_ns CMD...
	local mode=file
	[ "$TRUST" = pebble ] && mode=dir
	UACME_CHALLENGE_PATH="$WORK/uacme-www/.well-known/acme-challenge" \
		trust_ns "$mode" "$@"
}

client_uacme() {
	local rc=0
	start_static_server "$WORK/uacme-www" || return 1
	run_job uacme_ns "$MEASURE" "$2" "$TIMEOUT" /usr/bin/uacme -v \
		-a "$PEBBLE_DIR_URL" -c "$WORK/uacme" -t EC -o -h "$UACME_HOOK" \
		issue "$1" >>"$3" 2>&1 || rc=$?
	stop_static_server
	return "$rc"
}

client_lego() {
	local syspool=false
	[ "$TRUST" = system ] && syspool=true
	LEGO_CA_CERTIFICATES="$PEBBLE_CA_BUNDLE" LEGO_CA_SYSTEM_CERT_POOL=$syspool \
		run_job "$MEASURE" "$2" "$TIMEOUT" \
		lego --server "$PEBBLE_DIR_URL" --accept-tos --email "$EMAIL" \
		--path "$WORK/lego" --key-type ec256 \
		--http --http.port "127.0.0.1:$HTTP01" -d "$1" run >>"$3" 2>&1
}

client_certbot() {
	REQUESTS_CA_BUNDLE="$WORK/trust/ca-certificates.crt" \
		run_job "$MEASURE" "$2" "$TIMEOUT" \
		certbot certonly --standalone --http-01-port "$HTTP01" \
		--http-01-address 127.0.0.1 --server "$PEBBLE_DIR_URL" \
		--config-dir "$WORK/certbot/config" --work-dir "$WORK/certbot/work" \
		--logs-dir "$WORK/certbot/logs" --non-interactive --agree-tos \
		-m "$EMAIL" --no-eff-email --key-type ecdsa -d "$1" >>"$3" 2>&1
}

# Account registration (untimed) where the client has a separate command;
# for all clients the untimed warm-up issuance then creates/loads the account.
register_uacme() {
	mkdir -p "$WORK/uacme-www/.well-known/acme-challenge"
	run_job uacme_ns timeout "$TIMEOUT" /usr/bin/uacme -v -a "$PEBBLE_DIR_URL" \
		-c "$WORK/uacme" -t EC -y new "$EMAIL" >>"$1" 2>&1
}

register_certbot() {
	REQUESTS_CA_BUNDLE="$WORK/trust/ca-certificates.crt" run_job timeout "$TIMEOUT" \
		certbot register --server "$PEBBLE_DIR_URL" \
		--config-dir "$WORK/certbot/config" --work-dir "$WORK/certbot/work" \
		--logs-dir "$WORK/certbot/logs" --non-interactive --agree-tos \
		-m "$EMAIL" --no-eff-email >>"$1" 2>&1
}

client_available() { # prints a reason and fails when the client cannot run
	case $1 in
	certo) [ -x "$CERTO" ] || { echo "binary $CERTO not built (set CERTO=...)"; return 1; }
		[ "$TRUST" = system ] || command -v unshare >/dev/null || { echo "unshare missing"; return 1; } ;;
	uacme) { [ -x /usr/bin/uacme ] && [ -x "$UACME_HOOK" ]; } || { echo "uacme or $UACME_HOOK missing"; return 1; }
		command -v unshare >/dev/null || { echo "unshare missing"; return 1; } ;;
	lego) command -v lego >/dev/null || { echo "lego missing"; return 1; } ;;
	certbot) command -v certbot >/dev/null || { echo "certbot missing"; return 1; } ;;
	*) echo "unknown client"; return 1 ;;
	esac
}

# check_cert NAME DIR MARKER: a certificate for NAME, written under DIR after
# the file MARKER was touched, that chains to this Pebble's root.
check_cert() {
	local name=$1 dir=$2 marker=$3 f san
	while IFS= read -r f; do
		grep -q -- '-----BEGIN CERTIFICATE-----' "$f" 2>/dev/null || continue
		san=$(openssl x509 -in "$f" -noout -ext subjectAltName 2>/dev/null) || continue
		case "$san," in *"DNS:$name,"*) ;; *) continue ;; esac
		openssl verify -CAfile "$WORK/pebble/root.pem" \
			-untrusted "$WORK/pebble/intermediate.pem" "$f" >/dev/null 2>&1 &&
			return 0
	done < <(find "$dir" -type f -newer "$marker" 2>/dev/null; true)
	return 1
}

# one_run CLIENT NAME ROUND: issue + record one line in $RUNS_TSV
one_run() {
	local c=$1 name=$2 round=$3
	local out="$WORK/m/$c-$round.txt" log="$WORK/logs/$c.log"
	local rc=0 ok=0 wall rss usr sys mrc cpu
	wait_port_free "$HTTP01" || true
	touch "$WORK/m/$name.marker"
	sleep 0.01 # mtime granularity
	printf '\n=== round %s: %s %s\n' "$round" "$c" "$name" >>"$log"
	"client_$c" "$name" "$out" "$log" || rc=$?
	if [ -s "$out" ]; then
		read -r wall rss usr sys mrc <"$out"
	else
		wall=0 rss=0 usr=0 sys=0 mrc=$rc
	fi
	[ "$rc" -eq 0 ] || mrc=$rc
	if [ "$mrc" -eq 0 ] && check_cert "$name" "$WORK/$c" "$WORK/m/$name.marker"; then
		ok=1
	fi
	cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$round" "$name" \
		"$wall" "$rss" "$usr" "$sys" "$mrc" "$ok" >>"$RUNS_TSV"
	printf '  %-8s %-26s wall %7.3f s  RSS %6.1f MiB  CPU %5.2f s  %s\n' \
		"$c" "$name" "$wall" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
		"$cpu" "$([ "$ok" = 1 ] && echo ok || echo "FAILED (rc $mrc, see $log)")"
	[ "$ok" = 1 ]
}

# ---------------------------------------------------------------------- main
for p in "$BASEPORT" $((BASEPORT + 1)) $((BASEPORT + 2)) $((BASEPORT + 3)) \
	"$HTTP01" "$TLSALPN"; do
	if ! port_free "$p"; then
		echo "issue.sh: port 127.0.0.1:$p is in use; set BENCH_BASEPORT" >&2
		exit 1
	fi
done
mkdir -p "$WORK/m" "$WORK/logs" "$WORK/pebble"

echo "certo issue benchmark: work dir $WORK"
echo "  Pebble via scripts/pebble-env.sh, base port $BASEPORT, HTTP-01 port $HTTP01"
echo "  PEBBLE_VA_NOSLEEP=$PEBBLE_VA_NOSLEEP PEBBLE_AUTHZREUSE=$PEBBLE_AUTHZREUSE" \
	"PEBBLE_WFE_NONCEREJECT=$PEBBLE_WFE_NONCEREJECT; $RUNS runs per client, timeout ${TIMEOUT}s"
PEBBLE_UP=1
pebble_start "$WORK/pebble" "$BASEPORT" "$HTTP01" "$TLSALPN"
pebble_fetch_roots "$WORK/pebble"
for f in root.pem intermediate.pem; do
	[ -s "$WORK/pebble/$f" ] || { echo "issue.sh: no $f from Pebble" >&2; exit 1; }
done
echo "  Pebble directory $PEBBLE_DIR_URL"
mkdir -p "$WORK/trust"
if [ "$TRUST" = system ]; then
	cat "$SYS_CA" "$PEBBLE_CA_BUNDLE" >"$WORK/trust/ca-certificates.crt"
	echo "  trust: system CAs + Pebble's TLS CA for every client (BENCH_TRUST=system)"
else
	cat "$PEBBLE_CA_BUNDLE" >"$WORK/trust/ca-certificates.crt"
	echo "  trust: Pebble's TLS CA only for every client (BENCH_TRUST=pebble)"
fi

printf 'client\tround\tname\twall_s\tmaxrss_kib\tuser_s\tsys_s\trc\tok\n' >"$RUNS_TSV"

declare -A NOTE
ACTIVE=()
echo
echo "Warm-up (untimed): register each client's account, issue one certificate"
for c in $CLIENTS; do
	if ! why=$(client_available "$c"); then
		NOTE[$c]="skipped: $why"
		echo "  $c: ${NOTE[$c]}"
		continue
	fi
	log="$WORK/logs/$c.log"
	: >"$log"
	if declare -F "register_$c" >/dev/null && ! "register_$c" "$log"; then
		NOTE[$c]="skipped: account registration failed (see $log)"
		echo "  $c: ${NOTE[$c]}"
		continue
	fi
	if one_run "$c" "w-$c.$DOMAIN" 0; then
		ACTIVE+=("$c")
	else
		NOTE[$c]="skipped: warm-up issuance failed (see $log)"
		echo "  $c: ${NOTE[$c]}"
	fi
done
[ "${#ACTIVE[@]}" -gt 0 ] || { echo "issue.sh: no client could issue" >&2; exit 1; }

echo
echo "Timed runs (clients alternate; order rotates each round)"
n=${#ACTIVE[@]}
for ((i = 1; i <= RUNS; i++)); do
	echo " round $i/$RUNS"
	for ((j = 0; j < n; j++)); do
		c=${ACTIVE[$(((i - 1 + j) % n))]}
		one_run "$c" "b$i-$c.$DOMAIN" "$i" || true
	done
done

# ------------------------------------------------------------------- summary
# per client, over ok timed runs: median/min/max wall, peak RSS, median CPU
summarize() {
	awk -F'\t' -v c="$1" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	NR > 1 && $1 == c && $2 > 0 { runs++; if ($9 == 1) { k++; w[k] = $4; u[k] = $6 + $7; if ($5 > rss) rss = $5; if (min == "" || $4 < min) min = $4; if ($4 > max) max = $4; if ($6 + $7 > cmax) cmax = $6 + $7 } }
	END {
		if (k == 0) { printf "%d\t0\t\t\t\t\t\t\n", runs; exit }
		printf "%d\t%d\t%.4f\t%.4f\t%.4f\t%d\t%.2f\t%.2f\n", runs, k, median(w, k), min, max, rss, median(u, k), cmax
	}' "$RUNS_TSV"
}

declare -A RUNS_N OK_N WALL WMIN WMAX RSS CPU CPUMAX
for c in $CLIENTS; do
	[ -n "${NOTE[$c]:-}" ] && continue
	IFS=$'\t' read -r "RUNS_N[$c]" "OK_N[$c]" "WALL[$c]" "WMIN[$c]" "WMAX[$c]" "RSS[$c]" "CPU[$c]" "CPUMAX[$c]" \
		< <(summarize "$c")
	if [ "${OK_N[$c]}" -eq 0 ]; then
		NOTE[$c]="all ${RUNS_N[$c]} timed runs failed (see $WORK/logs/$c.log)"
	elif [ "${OK_N[$c]}" -lt "${RUNS_N[$c]}" ]; then
		NOTE[$c]="$((RUNS_N[$c] - OK_N[$c])) of ${RUNS_N[$c]} runs failed"
	fi
	# A client whose first status poll comes before Pebble has validated sleeps
	# its back-off (uacme and lego: ~5 s): flag widely spread run times.
	if [ "${OK_N[$c]}" -gt 1 ] &&
		awk -v mx="${WMAX[$c]}" -v mn="${WMIN[$c]}" 'BEGIN { exit !(mx > 2 * mn && mx - mn > 1) }'; then
		NOTE[$c]="${NOTE[$c]:+${NOTE[$c]}; }bimodal: max > 2x min + 1 s (poll back-off sleep?)"
	fi
done
has() { [ -n "${WALL[$1]:-}" ]; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo
echo "Results: time to certificate, new name, existing account, HTTP-01 (median of ok runs)"
printf '%-8s %5s  %-26s %10s  %-18s  %s\n' client ok "wall s median (min-max)" "peak RSS" \
	"CPU s median (max)" note
printf '%s\n' "------------------------------------------------------------------------------------------"
printf 'client\tstatus\truns\truns_ok\twall_median_s\twall_min_s\twall_max_s\trss_peak_kib\tcpu_median_s\tcpu_max_s\tcerto_wall_ratio\tcerto_rss_ratio\tcerto_cpu_ratio\tnote\n' >"$RESULTS"
for c in $CLIENTS; do
	if has "$c"; then
		printf '%-8s %2s/%-2s  %7.3f (%.3f-%.3f)  %6s MiB  %6.2f (%.2f)  %s\n' "$c" \
			"${OK_N[$c]}" "${RUNS_N[$c]}" "${WALL[$c]}" "${WMIN[$c]}" "${WMAX[$c]}" \
			"$(mib "${RSS[$c]}")" "${CPU[$c]}" "${CPUMAX[$c]}" "${NOTE[$c]:-}"
		rw=n/a rr=n/a rc=n/a
		if has certo; then
			rw=$(ratio "${WALL[certo]}" "${WALL[$c]}")
			rr=$(ratio "${RSS[certo]}" "${RSS[$c]}")
			rc=$(ratio "${CPU[certo]}" "${CPU[$c]}")
		fi
		printf '%s\tok\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" \
			"${RUNS_N[$c]}" "${OK_N[$c]}" "${WALL[$c]}" "${WMIN[$c]}" "${WMAX[$c]}" \
			"${RSS[$c]}" "${CPU[$c]}" "${CPUMAX[$c]}" "$rw" "$rr" "$rc" "${NOTE[$c]:-}" >>"$RESULTS"
	else
		printf '%-8s %5s  %s\n' "$c" "-" "${NOTE[$c]:-no data}"
		printf '%s\tskipped\t0\t0\t\t\t\t\t\t\t\t\t\t%s\n' "$c" "${NOTE[$c]:-no data}" >>"$RESULTS"
	fi
done

echo
fastest=""
for c in $CLIENTS; do
	[ "$c" = certo ] && continue
	has "$c" || continue
	if [ -z "$fastest" ] || awk -v a="${WALL[$c]}" -v b="${WALL[$fastest]}" 'BEGIN { exit !(a < b) }'; then
		fastest=$c
	fi
done
[ -n "$fastest" ] && printf 'Fastest peer: %s (median wall %.3f s)\n' "$fastest" "${WALL[$fastest]}"

printf 'target\tvalue\tlimit\tpass\n' >"$TARGETS_TSV"
if has certo; then
	for p in uacme lego certbot; do
		has "$p" || continue
		printf 'certo/%-8s wall %5sx   peak RSS %5sx   CPU %5sx\n' "$p" \
			"$(ratio "${WALL[certo]}" "${WALL[$p]}")" "$(ratio "${RSS[certo]}" "${RSS[$p]}")" \
			"$(ratio "${CPU[certo]}" "${CPU[$p]}")"
	done
	echo
	echo "Targets for certo:"
	verdict() { awk -v v="$1" -v l="$2" -v op="$3" 'BEGIN { p = (op == "le") ? (v <= l) : (v < l); print p ? "PASS" : "FAIL" }'; }
	if has uacme; then
		r=$(ratio "${WALL[certo]}" "${WALL[uacme]}")
		v=$(verdict "$r" 0.5 le)
		printf '  wall <= 0.5x uacme : %sx (%.3f s vs %.3f s)  %s\n' "$r" "${WALL[certo]}" "${WALL[uacme]}" "$v"
		printf 'wall_ratio_vs_uacme\t%s\t0.5\t%s\n' "$r" "$v" >>"$TARGETS_TSV"
	else
		echo "  wall <= 0.5x uacme : n/a (no uacme figures)"
	fi
	v=$(verdict "${RSS[certo]}" 10240 lt)
	printf '  peak RSS < 10 MiB  : %s MiB  %s\n' "$(mib "${RSS[certo]}")" "$v"
	printf 'peak_rss_kib\t%s\t10240\t%s\n' "${RSS[certo]}" "$v" >>"$TARGETS_TSV"
	v=$(verdict "${CPU[certo]}" 0.1 lt)
	printf '  CPU < 0.1 s        : %.2f s median (max %.2f s; 10 ms resolution)  %s\n' \
		"${CPU[certo]}" "${CPUMAX[certo]}" "$v"
	printf 'cpu_median_s\t%s\t0.1\t%s\n' "${CPU[certo]}" "$v" >>"$TARGETS_TSV"
else
	echo "certo: ${NOTE[certo]:-not in BENCH_CLIENTS}; ratios and targets not computed"
	echo "  targets: certo wall <= 0.5x uacme, peak RSS < 10 MiB, CPU < 0.1 s"
fi

echo
echo "Summary TSV : $RESULTS"
echo "Per-run TSV : $RUNS_TSV"
echo "Targets TSV : $TARGETS_TSV"
echo "Client logs : $WORK/logs/"
