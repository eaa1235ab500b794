#!/usr/bin/env bash
# scripts/bench/renew.sh: renewal-pass benchmark against one local Pebble on
# loopback. certo renews the due certificates out of 200 stored ones in one
# process; uacme and lego renew 20 certificates with 20 processes in parallel
# (and certbot, if installed, with one `certbot renew` that works through its
# 20 certificates in sequence).
#
# What is timed
#   certo    `certo renew --jobs N` over a state dir with BENCH_TOTAL (200)
#            certificates, BENCH_DUE (20) of them due. One process decides for
#            all 200 (parses each cert.pem, applies the lifetime rule: Pebble
#            2.4 has no ARI), then renews the due ones concurrently with a pool
#            of N threads, answering HTTP-01 from its built-in server
#            (--standalone, as the certificates were issued). The timed run
#            includes the 180 "not due" checks.
#   uacme    20 `uacme -d 2000 issue NAME` processes started at once (one per
#            certificate), webroot mode: the stock hook /usr/share/uacme/
#            uacme.sh with UACME_CHALLENGE_PATH=<webroot>/.well-known/
#            acme-challenge.
#   lego     20 `lego -d NAME --http --http.webroot <webroot> renew --days
#            2000 --no-random-sleep` processes started at once.
#   certbot  one `certbot renew --no-random-sleep-on-renew` (certbot renews its
#            lineages one after the other and takes a lock: it cannot run in
#            parallel), webroot authenticator. Only if installed and listed.
# For the peers a static server (python3 http.server, ThreadingHTTPServer) on
# the HTTP-01 port serves the one shared webroot; it stands in for the web
# server that already runs, so it is started before and stopped after the
# timed batch. Accounts exist before the timed runs (untimed set-up), as in
# real renewals.
#
# How certificates are made due (honestly, with the real CA, no fake clock)
#   Pebble honours the notBefore/notAfter fields of a newOrder. The set-up
#   issues every 10th certo certificate (b000, b010, ... b190 with the
#   defaults) with `certo issue --not-before <now-3d> --not-after <now+1d>`:
#   a genuine Pebble certificate with a genuine chain, 4 days of lifetime and
#   1 day left, so certo's rule (due when notAfter - lifetime/3 <= now) makes
#   it due. The other 180 get Pebble's default 5-year validity and are not due.
#   certo.json does not record notBefore/notAfter, so the renewal asks for
#   the CA's default (5 years) like any renewal. Before each timed pass the
#   script checks the due/not-due split with openssl; after it, that exactly
#   the due certificates changed (new file, chains to this Pebble's root,
#   notAfter years away) and the other 180 cert.pem files are byte-identical.
#   For rounds after the first, the 20 are re-issued the same way (untimed).
#   uacme and lego cannot ask for a notAfter, so their 20 certificates have
#   Pebble's 5-year validity and are made due by their own threshold option:
#   "renew if fewer than 2000 days are left" (uacme -d 2000, lego --days
#   2000; certbot: renew_before_expiry = 2000 days in each renewal conf).
#   That is the same decision (one notAfter comparison per certificate).
#
# Per round (the clients alternate, the order rotates every round): wall time
# (EPOCHREALTIME around the process or the whole parallel batch), peak RSS
# (/usr/bin/time %M; for a batch the largest process, and also the sum of the
# per-process peaks = what 20 processes at once can occupy), CPU user+sys
# (for a batch the sum over its processes). Summary: median wall, peak RSS,
# median CPU per client; ratios certo/peer; the fastest peer; certo's targets
# (whole pass <= 1.5 s, peak RSS < 16 MiB).
#
# Environment (all optional):
#   CERTO=path            certo binary (default: a fresh Release build in build-bench/)
#                         -DCMAKE_BUILD_TYPE=Release -DCERTO_TESTS=OFF &&
#                         cmake --build build-bench --target certo)
#   BENCH_RUNS=3          timed rounds (each: one certo pass + one batch/peer)
#   BENCH_CLIENTS="certo uacme lego certbot"
#   BENCH_TOTAL=200       certificates in certo's state dir
#   BENCH_DUE=20          how many of them are due; also the peers' batch size
#   BENCH_JOBS=8          certo renew --jobs (4 is certo's default). Each
#                         concurrent job opens its own TLS connection, which
#                         loads the whole CA bundle: with BENCH_TRUST=system
#                         peak RSS grows by ~4 MiB per job)
#   BENCH_BASEPORT=24200  Pebble ACME port; +1..+3 Pebble/challtestsrv
#   BENCH_HTTP01_PORT=$((BASEPORT+80))  BENCH_TLSALPN_PORT=$((BASEPORT+443))
#   BENCH_TIMEOUT=120     per-process timeout (seconds)
#   BENCH_NONCEREJECT=0   PEBBLE_WFE_NONCEREJECT (0 keeps random badNonce
#                         retries out of the timings)
#   BENCH_WORKDIR=dir     work dir (default: a new /tmp/certo-bench-renew.XXXXXX)
#   BENCH_RESULTS=file    summary TSV (default WORKDIR/renew-summary.tsv)
#   BENCH_TRUST=system    as in issue.sh: "system" = every client trusts the
#                         system CAs + Pebble's TLS CA (certo through
#                         --ca-bundle <that combined file>, uacme through the
#                         file bind-mounted over /etc/ssl/certs/ca-certificates
#                         .crt in a private mount namespace, lego with
#                         LEGO_CA_SYSTEM_CERT_POOL=true, certbot with
#                         REQUESTS_CA_BUNDLE); "pebble" = Pebble's TLS CA only
#                         (uacme: /etc/ssl/certs replaced by a dir holding it)
#   BENCH_NO_DEPS=1       do not call scripts/deps.sh --bench
#
# Network: everything binds and dials 127.0.0.1 / localhost only. Every
# process the script starts is stopped on exit (by PID).
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR="$ROOT/scripts/bench"
MEASURE="$BENCH_DIR/measure.sh"
BATCH="$BENCH_DIR/renew-batch.sh"

if [ "${BENCH_NO_DEPS:-0}" != 1 ]; then
	"$ROOT/scripts/deps.sh" --bench
fi

. "$ROOT/scripts/bench/build-certo.sh"
RUNS=${BENCH_RUNS:-3}
CLIENTS=${BENCH_CLIENTS:-certo uacme lego certbot}
TOTAL=${BENCH_TOTAL:-200}
NDUE=${BENCH_DUE:-20}
JOBS=${BENCH_JOBS:-4}
BASEPORT=${BENCH_BASEPORT:-24200}
HTTP01=${BENCH_HTTP01_PORT:-$((BASEPORT + 80))}
TLSALPN=${BENCH_TLSALPN_PORT:-$((BASEPORT + 443))}
TIMEOUT=${BENCH_TIMEOUT:-120}
EMAIL=bench@example.com
DOMAIN=certo.test
SYS_CA=/etc/ssl/certs/ca-certificates.crt
UACME_HOOK=/usr/share/uacme/uacme.sh
PEER_DAYS=2000
TRUST=${BENCH_TRUST:-system}
case $TRUST in system | pebble) ;; *)
	echo "renew.sh: BENCH_TRUST must be system or pebble" >&2
	exit 1
	;;
esac
if [ "$NDUE" -lt 1 ] || [ "$NDUE" -gt "$TOTAL" ] || [ "$TOTAL" -gt 1000 ]; then
	echo "renew.sh: need 1 <= BENCH_DUE <= BENCH_TOTAL <= 1000" >&2
	exit 1
fi

WORK=${BENCH_WORKDIR:-$(mktemp -d /tmp/certo-bench-renew.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RESULTS=${BENCH_RESULTS:-$WORK/renew-summary.tsv}
RUNS_TSV="${RESULTS%.tsv}-runs.tsv"
TARGETS_TSV="${RESULTS%.tsv}-targets.tsv"
WEBROOT=$WORK/www
CHALLENGE_DIR=$WEBROOT/.well-known/acme-challenge

# ---------------------------------------------------------------- Pebble env
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

port_free() { ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_port_free() {
	local i
	for i in $(seq 1 50); do
		port_free "$1" && return 0
		sleep 0.1
	done
	echo "renew.sh: port $1 still in use" >&2
	return 1
}

start_static_server() { # the shared webroot on 127.0.0.1:$HTTP01
	wait_port_free "$HTTP01" || return 1
	/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$WEBROOT" "$HTTP01" \
		>>"$WORK/logs/static-server.log" 2>&1 &
	STATIC_PID=$!
	local i
	for i in $(seq 1 100); do
		if curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$HTTP01/"; then
			return 0
		fi
		sleep 0.05
	done
	echo "renew.sh: static server on 127.0.0.1:$HTTP01 did not start" >&2
	return 1
}

stop_static_server() {
	if [ -n "$STATIC_PID" ]; then
		kill "$STATIC_PID" 2>/dev/null || true
		wait "$STATIC_PID" 2>/dev/null || true
		STATIC_PID=""
	fi
}

# trust_ns MODE CMD...: CMD in a private mount namespace whose system trust
# store is $WORK/trust (as in issue.sh). MODE "file": the combined file over
# /etc/ssl/certs/ca-certificates.crt; "dir": $WORK/trust over /etc/ssl/certs.
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

uacme_ns() { # uacme_ns CMD...: uacme's environment (trust store, webroot)
	local mode=file
	[ "$TRUST" = pebble ] && mode=dir
	UACME_CHALLENGE_PATH="$CHALLENGE_DIR" trust_ns "$mode" "$@"
}

lego_env() { # lego_env CMD...
	local syspool=false
	[ "$TRUST" = system ] && syspool=true
	LEGO_CA_CERTIFICATES="$PEBBLE_CA_BUNDLE" LEGO_CA_SYSTEM_CERT_POOL=$syspool "$@"
}

certbot_env() { REQUESTS_CA_BUNDLE="$WORK/trust/ca-certificates.crt" "$@"; }

CERTBOT_DIRS=()
UACME_BASE=()
LEGO_BASE=()
set_client_args() {
	CERTBOT_DIRS=(--config-dir "$WORK/certbot/config" --work-dir "$WORK/certbot/work"
		--logs-dir "$WORK/certbot/logs")
	UACME_BASE=(/usr/bin/uacme -v -a "$PEBBLE_DIR_URL" -c "$WORK/uacme" -t EC -o
		-h "$UACME_HOOK")
	LEGO_BASE=(lego --server "$PEBBLE_DIR_URL" --accept-tos --email "$EMAIL"
		--path "$WORK/lego" --key-type ec256 --http --http.webroot "$WEBROOT")
}

client_available() { # prints a reason and fails when the client cannot run
	case $1 in
	certo) [ -x "$CERTO" ] || { echo "binary $CERTO not built (set CERTO=...)"; return 1; } ;;
	uacme) { [ -x /usr/bin/uacme ] && [ -x "$UACME_HOOK" ]; } || { echo "uacme or $UACME_HOOK missing"; return 1; }
		command -v unshare >/dev/null || { echo "unshare missing"; return 1; } ;;
	lego) command -v lego >/dev/null || { echo "lego missing"; return 1; } ;;
	certbot) command -v certbot >/dev/null || { echo "certbot missing"; return 1; } ;;
	*) echo "unknown client"; return 1 ;;
	esac
}

# ---------------------------------------------------------------- cert checks
epoch_of() { date -u -d "$1" +%s; } # openssl date -> seconds

# cert_times FILE: prints "notBefore notAfter" in seconds
cert_times() {
	local nb na
	nb=$(openssl x509 -in "$1" -noout -startdate) || return 1
	na=$(openssl x509 -in "$1" -noout -enddate) || return 1
	echo "$(epoch_of "${nb#notBefore=}") $(epoch_of "${na#notAfter=}")"
}

# chains FILE NAME: FILE is a certificate for NAME from this Pebble
chains() {
	local san
	san=$(openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null) || return 1
	case "$san," in *"DNS:$2,"*) ;; *) return 1 ;; esac
	openssl verify -CAfile "$WORK/pebble/root.pem" \
		-untrusted "$WORK/pebble/intermediate.pem" "$1" >/dev/null 2>&1
}

# fresh_cert FILE NAME MARKER: written after MARKER, for NAME, from this
# Pebble, with more than 1000 days left (a renewal with the CA's default)
fresh_cert() {
	local t
	[ -f "$1" ] && [ "$1" -nt "$3" ] || return 1
	chains "$1" "$2" || return 1
	t=$(cert_times "$1") || return 1
	[ "${t#* }" -gt $(($(date +%s) + 1000 * 86400)) ]
}

# --------------------------------------------------------------------- names
CERTO_NAMES=()
CERTO_DUE=()
for ((i = 0; i < TOTAL; i++)); do
	n=$(printf 'b%03d.%s' "$i" "$DOMAIN")
	CERTO_NAMES+=("$n")
done
# NDUE names spread evenly over the list
for ((k = 0; k < NDUE; k++)); do
	CERTO_DUE+=("${CERTO_NAMES[$((k * TOTAL / NDUE))]}")
done
declare -A IS_DUE
for n in "${CERTO_DUE[@]}"; do IS_DUE[$n]=1; done
peer_names() { # peer_names PREFIX
	local k
	for ((k = 0; k < NDUE; k++)); do printf '%s%02d.%s\n' "$1" "$k" "$DOMAIN"; done
}
mapfile -t UACME_NAMES < <(peer_names u)
mapfile -t LEGO_NAMES < <(peer_names l)
mapfile -t CERTBOT_NAMES < <(peer_names c)

# ---------------------------------------------------------------- certo setup
certo_issue() { # certo_issue NAME [EXTRA...]: untimed set-up issuance
	local name=$1
	shift
	timeout -k 5 "$TIMEOUT" "$CERTO" issue -d "$name" --standalone \
		--http-port "$HTTP01" --http-addr 127.0.0.1 \
		--server "$PEBBLE_DIR_URL" --ca-bundle "$CERTO_CA_BUNDLE" \
		--state-dir "$WORK/certo" --agree-tos -m "$EMAIL" -q "$@" \
		>>"$WORK/logs/certo-setup.log" 2>&1
}

certo_issue_due() { # a certificate in the last third of its 4-day life
	local nb na
	nb=$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)
	na=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
	certo_issue "$1" --not-before "$nb" --not-after "$na"
}

# certo_check_split: exactly the names in CERTO_DUE are due by the lifetime
# rule (openssl, not certo), and snapshot the cert.pem hashes
certo_check_split() {
	local n t nb na now ndue=0 bad=0
	now=$(date +%s)
	: >"$WORK/certo-before.sha256"
	for n in "${CERTO_NAMES[@]}"; do
		t=$(cert_times "$WORK/certo/live/$n/cert.pem") || { bad=$((bad + 1)); continue; }
		nb=${t% *} na=${t#* }
		if [ $((na - (na - nb) / 3)) -le "$now" ]; then
			ndue=$((ndue + 1))
			[ -n "${IS_DUE[$n]:-}" ] || bad=$((bad + 1))
		else
			[ -z "${IS_DUE[$n]:-}" ] || bad=$((bad + 1))
		fi
		# not due within the next 10 minutes either (the pass is short)
		[ -n "${IS_DUE[$n]:-}" ] || [ $((na - (na - nb) / 3)) -gt $((now + 600)) ] || bad=$((bad + 1))
		sha256sum "$WORK/certo/live/$n/cert.pem" >>"$WORK/certo-before.sha256"
	done
	if [ "$bad" -ne 0 ] || [ "$ndue" -ne "$NDUE" ]; then
		echo "renew.sh: due split wrong: $ndue due (want $NDUE), $bad mismatches" >&2
		return 1
	fi
}

setup_certo() {
	local n i=0
	echo "  certo: issuing $TOTAL certificates ($NDUE due) into $WORK/certo (sequential, one HTTP-01 port)"
	for n in "${CERTO_NAMES[@]}"; do
		if [ -n "${IS_DUE[$n]:-}" ]; then
			certo_issue_due "$n" || { echo "renew.sh: certo issue $n failed (see $WORK/logs/certo-setup.log)" >&2; return 1; }
		else
			certo_issue "$n" || { echo "renew.sh: certo issue $n failed (see $WORK/logs/certo-setup.log)" >&2; return 1; }
		fi
		i=$((i + 1))
		[ $((i % 50)) -eq 0 ] && echo "    $i/$TOTAL"
	done
	return 0
}

# ---------------------------------------------------------------- peer setup
setup_uacme() {
	local rc=0
	echo "  uacme: account + $NDUE certificates (parallel, webroot)"
	run_job uacme_ns timeout "$TIMEOUT" "${UACME_BASE[@]}" -y new "$EMAIL" \
		>>"$WORK/logs/uacme-setup.log" 2>&1 || return 1
	start_static_server || return 1
	run_job uacme_ns "$BATCH" "$WORK/setup/uacme" "$TIMEOUT" parallel "${UACME_NAMES[@]}" \
		-- "${UACME_BASE[@]}" issue @NAME@ || rc=$?
	stop_static_server
	return "$rc"
}

setup_lego() {
	local rc=0
	echo "  lego: account + $NDUE certificates (first alone: it registers; then parallel)"
	start_static_server || return 1
	run_job lego_env "$BATCH" "$WORK/setup/lego0" "$TIMEOUT" sequential "${LEGO_NAMES[0]}" \
		-- "${LEGO_BASE[@]}" -d @NAME@ run || rc=$?
	[ "$rc" -eq 0 ] && { run_job lego_env "$BATCH" "$WORK/setup/lego" "$TIMEOUT" parallel \
		"${LEGO_NAMES[@]:1}" -- "${LEGO_BASE[@]}" -d @NAME@ run || rc=$?; }
	stop_static_server
	return "$rc"
}

setup_certbot() {
	local rc=0 f
	echo "  certbot: account + $NDUE certificates (sequential: certbot takes a lock)"
	run_job certbot_env timeout "$TIMEOUT" certbot register --server "$PEBBLE_DIR_URL" \
		"${CERTBOT_DIRS[@]}" --non-interactive --agree-tos -m "$EMAIL" --no-eff-email \
		>>"$WORK/logs/certbot-setup.log" 2>&1 || return 1
	start_static_server || return 1
	run_job certbot_env "$BATCH" "$WORK/setup/certbot" "$TIMEOUT" sequential "${CERTBOT_NAMES[@]}" \
		-- certbot certonly --webroot -w "$WEBROOT" --server "$PEBBLE_DIR_URL" \
		"${CERTBOT_DIRS[@]}" --non-interactive --agree-tos -m "$EMAIL" --no-eff-email \
		--key-type ecdsa -d @NAME@ || rc=$?
	stop_static_server
	[ "$rc" -eq 0 ] || return "$rc"
	# renew when fewer than PEER_DAYS days are left (as uacme -d, lego --days)
	for f in "$WORK"/certbot/config/renewal/*.conf; do
		sed -i '/^renew_before_expiry/d' "$f"
		sed -i "1i renew_before_expiry = $PEER_DAYS days" "$f"
	done
}

# ------------------------------------------------------------- timed rounds
# Each records one line in $RUNS_TSV:
# client round wall_s rss_max_kib rss_sum_kib cpu_s nproc failed ok note

record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RUNS_TSV"
}

# batch_figures DIR: "rss_max rss_sum cpu_sum nproc" over DIR/*.txt
batch_figures() {
	cat "$1"/*.txt 2>/dev/null | grep -v '^$' | awk 'NF == 5 {
		n++; if ($2 > mx) mx = $2; sum += $2; cpu += $3 + $4
	} END { printf "%d %d %.2f %d\n", mx, sum, cpu, n }'
}

round_certo() {
	local r=$1
	local out="$WORK/m/certo-$r" log rc=0 wall rss usr sys mrc ok=1 note="" n summary
	mkdir -p "$out"
	log=$out/renew.log
	if [ "$r" -gt 1 ]; then # make the 20 due again (untimed)
		for n in "${CERTO_DUE[@]}"; do
			certo_issue_due "$n" || { echo "renew.sh: re-issuing $n failed" >&2; return 1; }
		done
	fi
	certo_check_split || return 1
	wait_port_free "$HTTP01" || true
	touch "$out/marker"
	sleep 0.01
	run_job "$MEASURE" "$out/certo.txt" "$TIMEOUT" "$CERTO" renew \
		--state-dir "$WORK/certo" --jobs "$JOBS" >"$log" 2>&1 || rc=$?
	read -r wall rss usr sys mrc <"$out/certo.txt" || { wall=0 rss=0 usr=0 sys=0 mrc=$rc; }
	[ "$mrc" -eq 0 ] || { ok=0; note="rc $mrc"; }
	summary=$(grep -E '^renew: [0-9]+ renewed' "$log" | tail -n 1 || true)
	if [ "$summary" != "renew: $NDUE renewed, 0 failed, $((TOTAL - NDUE)) not due" ]; then
		ok=0
		note="${note:+$note; }summary '${summary:-none}'"
	fi
	local stale=0 changed=0
	for n in "${CERTO_DUE[@]}"; do
		fresh_cert "$WORK/certo/live/$n/cert.pem" "$n" "$out/marker" || stale=$((stale + 1))
	done
	changed=$(sha256sum --quiet -c "$WORK/certo-before.sha256" 2>/dev/null | grep -c FAILED || true)
	[ "$stale" -eq 0 ] || { ok=0; note="${note:+$note; }$stale due not renewed"; }
	[ "$changed" -eq "$NDUE" ] || { ok=0; note="${note:+$note; }$changed cert.pem changed (want $NDUE)"; }
	record certo "$r" "$wall" "$rss" "$rss" "$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" \
		1 $((1 - ok)) "$ok" "${note:-}"
	printf '  %-8s wall %7.3f s  peak RSS %6.1f MiB  CPU %5.2f s  %s\n' certo "$wall" \
		"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(awk -v u="$usr" -v s="$sys" 'BEGIN { print u + s }')" \
		"$([ "$ok" = 1 ] && echo "ok ($summary)" || echo "FAILED: $note (see $log)")"
}

# round_peer CLIENT ROUND MODE NAMES_VAR CERT_PATH_FN RUNNER CMD...
peer_cert_uacme() { echo "$WORK/uacme/$1/cert.pem"; }
peer_cert_lego() { echo "$WORK/lego/certificates/$1.crt"; }
peer_cert_certbot() { readlink -f "$WORK/certbot/config/live/$1/cert.pem"; }

round_peer() {
	local c=$1 r=$2
	local out="$WORK/m/$c-$r" rc=0 ok=1 note="" wall failed n stale=0 f rmax rsum cpu np
	local -n names=$3
	shift 3
	rm -rf "$out"
	mkdir -p "$out"
	start_static_server || return 1
	touch "$WORK/m/$c-$r.marker"
	sleep 0.01
	if [ "$c" = certbot ]; then
		run_job "$@" "$out" "$TIMEOUT" sequential all -- certbot renew "${CERTBOT_DIRS[@]}" \
			--non-interactive --no-random-sleep-on-renew || rc=$?
	elif [ "$c" = uacme ]; then
		run_job "$@" "$out" "$TIMEOUT" parallel "${names[@]}" -- \
			"${UACME_BASE[@]}" -d "$PEER_DAYS" issue @NAME@ || rc=$?
	else
		run_job "$@" "$out" "$TIMEOUT" parallel "${names[@]}" -- \
			"${LEGO_BASE[@]}" -d @NAME@ renew --days "$PEER_DAYS" --no-random-sleep || rc=$?
	fi
	stop_static_server
	read -r wall failed <"$out/batch.txt" || { wall=0 failed=$rc; }
	if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
		ok=0 note="$failed failed processes"
	fi
	for n in "${names[@]}"; do
		f=$("peer_cert_$c" "$n")
		fresh_cert "$f" "$n" "$WORK/m/$c-$r.marker" || stale=$((stale + 1))
	done
	[ "$stale" -eq 0 ] || { ok=0; note="${note:+$note; }$stale of ${#names[@]} not renewed"; }
	read -r rmax rsum cpu np < <(batch_figures "$out")
	record "$c" "$r" "$wall" "$rmax" "$rsum" "$cpu" "$np" "${failed:-0}" "$ok" "${note:-}"
	printf '  %-8s wall %7.3f s  peak RSS %6.1f MiB/process (sum %6.1f MiB, %d processes)  CPU %5.2f s  %s\n' \
		"$c" "$wall" "$(awk -v k="$rmax" 'BEGIN { print k / 1024 }')" \
		"$(awk -v k="$rsum" 'BEGIN { print k / 1024 }')" "$np" "$cpu" \
		"$([ "$ok" = 1 ] && echo ok || echo "FAILED: $note (see $out/*.log)")"
}

round_uacme() { round_peer uacme "$1" UACME_NAMES uacme_ns "$BATCH"; }
round_lego() { round_peer lego "$1" LEGO_NAMES lego_env "$BATCH"; }
round_certbot() { round_peer certbot "$1" CERTBOT_NAMES certbot_env "$BATCH"; }

# ---------------------------------------------------------------------- main
for p in "$BASEPORT" $((BASEPORT + 1)) $((BASEPORT + 2)) $((BASEPORT + 3)) \
	"$HTTP01" "$TLSALPN"; do
	if ! port_free "$p"; then
		echo "renew.sh: port 127.0.0.1:$p is in use; set BENCH_BASEPORT" >&2
		exit 1
	fi
done
mkdir -p "$WORK/m" "$WORK/logs" "$WORK/pebble" "$WORK/setup" "$CHALLENGE_DIR"

echo "certo renew benchmark: work dir $WORK"
echo "  Pebble via scripts/pebble-env.sh, base port $BASEPORT, HTTP-01 port $HTTP01"
echo "  PEBBLE_VA_NOSLEEP=$PEBBLE_VA_NOSLEEP PEBBLE_AUTHZREUSE=$PEBBLE_AUTHZREUSE" \
	"PEBBLE_WFE_NONCEREJECT=$PEBBLE_WFE_NONCEREJECT; $RUNS rounds, timeout ${TIMEOUT}s"
echo "  certo: $TOTAL stored, $NDUE due, renew --jobs $JOBS; peers: $NDUE certificates each"
echo "  due: every $((TOTAL / NDUE))th certo certificate is issued with notBefore now-3d, notAfter now+1d"
echo "       (last third of its life); peers renew 5-year certificates with a $PEER_DAYS-day threshold"
PEBBLE_UP=1
pebble_start "$WORK/pebble" "$BASEPORT" "$HTTP01" "$TLSALPN"
pebble_fetch_roots "$WORK/pebble"
echo "  Pebble directory $PEBBLE_DIR_URL"
mkdir -p "$WORK/trust"
if [ "$TRUST" = system ]; then
	cat "$SYS_CA" "$PEBBLE_CA_BUNDLE" >"$WORK/trust/ca-certificates.crt"
	CERTO_CA_BUNDLE=$WORK/trust/ca-certificates.crt
	echo "  trust: system CAs + Pebble's TLS CA for every client (BENCH_TRUST=system)"
else
	cat "$PEBBLE_CA_BUNDLE" >"$WORK/trust/ca-certificates.crt"
	CERTO_CA_BUNDLE=$PEBBLE_CA_BUNDLE
	echo "  trust: Pebble's TLS CA only for every client (BENCH_TRUST=pebble)"
fi
set_client_args

printf 'client\tround\twall_s\trss_max_kib\trss_sum_kib\tcpu_s\tnproc\tfailed\tok\tnote\n' >"$RUNS_TSV"

declare -A NOTE
ACTIVE=()
echo
echo "Set-up (untimed)"
for c in $CLIENTS; do
	if ! why=$(client_available "$c"); then
		NOTE[$c]="skipped: $why"
		echo "  $c: ${NOTE[$c]}"
		continue
	fi
	t0=$EPOCHREALTIME
	if "setup_$c"; then
		ACTIVE+=("$c")
		echo "    done in $(awk -v s="$t0" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }') s"
	else
		NOTE[$c]="skipped: set-up failed (see $WORK/logs/ and $WORK/setup/)"
		echo "  $c: ${NOTE[$c]}"
	fi
done
[ "${#ACTIVE[@]}" -gt 0 ] || { echo "renew.sh: no client could be set up" >&2; exit 1; }

echo
echo "Timed rounds (clients alternate; order rotates each round)"
n=${#ACTIVE[@]}
for ((i = 1; i <= RUNS; i++)); do
	echo " round $i/$RUNS"
	for ((j = 0; j < n; j++)); do
		c=${ACTIVE[$(((i - 1 + j) % n))]}
		"round_$c" "$i" || echo "  $c: round $i could not run" >&2
	done
done

# ------------------------------------------------------------------- summary
summarize() { # per client over ok rounds: runs ok wall_med wall_min wall_max rss_max rss_sum_max cpu_med
	awk -F'\t' -v c="$1" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	NR > 1 && $1 == c { runs++; if ($9 == 1) { k++; w[k] = $3; u[k] = $6; if ($4 > rss) rss = $4; if ($5 > rsum) rsum = $5
		if (min == "" || $3 < min) min = $3; if ($3 > max) max = $3 } }
	END {
		if (k == 0) { printf "%d\t0\t\t\t\t\t\t\n", runs; exit }
		printf "%d\t%d\t%.4f\t%.4f\t%.4f\t%d\t%d\t%.2f\n", runs, k, median(w, k), min, max, rss, rsum, median(u, k)
	}' "$RUNS_TSV"
}

declare -A RUNS_N OK_N WALL WMIN WMAX RSS RSUM CPU
for c in $CLIENTS; do
	[ -n "${NOTE[$c]:-}" ] && continue
	IFS=$'\t' read -r "RUNS_N[$c]" "OK_N[$c]" "WALL[$c]" "WMIN[$c]" "WMAX[$c]" "RSS[$c]" "RSUM[$c]" "CPU[$c]" \
		< <(summarize "$c")
	if [ "${OK_N[$c]}" -eq 0 ]; then
		NOTE[$c]="all ${RUNS_N[$c]} rounds failed (see $WORK/m/$c-*)"
		unset "WALL[$c]"
	elif [ "${OK_N[$c]}" -lt "${RUNS_N[$c]}" ]; then
		NOTE[$c]="$((RUNS_N[$c] - OK_N[$c])) of ${RUNS_N[$c]} rounds failed"
	fi
done
has() { [ -n "${WALL[$1]:-}" ]; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
what() {
	case $1 in
	certo) echo "1 process, $TOTAL checked, $NDUE renewed, --jobs $JOBS" ;;
	certbot) echo "1 certbot renew, $NDUE in sequence" ;;
	*) echo "$NDUE processes in parallel" ;;
	esac
}

echo
echo "Results: one renewal pass (median of ok rounds); peers: peak RSS = largest process"
printf '%-8s %5s  %-26s %9s %11s  %9s  %s\n' client ok "wall s median (min-max)" "peak RSS" \
	"sum of RSS" "CPU s" "what"
printf '%s\n' "----------------------------------------------------------------------------------------------------------"
printf 'client\tstatus\truns\truns_ok\twall_median_s\twall_min_s\twall_max_s\trss_peak_kib\trss_sum_kib\tcpu_median_s\tcerto_wall_ratio\tcerto_rss_ratio\tcerto_cpu_ratio\tnote\n' >"$RESULTS"
for c in $CLIENTS; do
	if has "$c"; then
		printf '%-8s %2s/%-2s  %7.3f (%.3f-%.3f)  %5s MiB  %7s MiB  %9.2f  %s%s\n' "$c" \
			"${OK_N[$c]}" "${RUNS_N[$c]}" "${WALL[$c]}" "${WMIN[$c]}" "${WMAX[$c]}" \
			"$(mib "${RSS[$c]}")" "$(mib "${RSUM[$c]}")" "${CPU[$c]}" "$(what "$c")" \
			"${NOTE[$c]:+; ${NOTE[$c]}}"
		rw=n/a rr=n/a rc=n/a
		if has certo; then
			rw=$(ratio "${WALL[certo]}" "${WALL[$c]}")
			rr=$(ratio "${RSS[certo]}" "${RSS[$c]}")
			rc=$(ratio "${CPU[certo]}" "${CPU[$c]}")
		fi
		printf '%s\tok\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" \
			"${RUNS_N[$c]}" "${OK_N[$c]}" "${WALL[$c]}" "${WMIN[$c]}" "${WMAX[$c]}" \
			"${RSS[$c]}" "${RSUM[$c]}" "${CPU[$c]}" "$rw" "$rr" "$rc" "${NOTE[$c]:-}" >>"$RESULTS"
	else
		printf '%-8s %5s  %s\n' "$c" "-" "${NOTE[$c]:-no data}"
		printf '%s\tskipped\t0\t0\t\t\t\t\t\t\t\t\t\t%s\n' "$c" "${NOTE[$c]:-no data}" >>"$RESULTS"
	fi
done
echo "(reference, measured earlier on this machine class: uacme 20-parallel 4.6 s, lego 20-parallel 6.5 s, certbot 20-sequential 61 s)"

echo
fastest=""
for c in $CLIENTS; do
	[ "$c" = certo ] && continue
	has "$c" || continue
	if [ -z "$fastest" ] || awk -v a="${WALL[$c]}" -v b="${WALL[$fastest]}" 'BEGIN { exit !(a < b) }'; then
		fastest=$c
	fi
done
[ -n "$fastest" ] && printf 'Fastest peer: %s (median wall %.3f s for %d certificates)\n' "$fastest" "${WALL[$fastest]}" "$NDUE"

printf 'target\tvalue\tlimit\tpass\n' >"$TARGETS_TSV"
if has certo; then
	for p in uacme lego certbot; do
		has "$p" || continue
		printf 'certo/%-8s wall %5sx   peak RSS %5sx (vs its largest process)   CPU %5sx (vs all its processes)\n' "$p" \
			"$(ratio "${WALL[certo]}" "${WALL[$p]}")" "$(ratio "${RSS[certo]}" "${RSS[$p]}")" \
			"$(ratio "${CPU[certo]}" "${CPU[$p]}")"
	done
	echo
	echo "Targets for certo:"
	verdict() { awk -v v="$1" -v l="$2" -v op="$3" 'BEGIN { p = (op == "le") ? (v <= l) : (v < l); print p ? "PASS" : "FAIL" }'; }
	v=$(verdict "${WALL[certo]}" 1.5 le)
	printf '  whole pass <= 1.5 s : %.3f s median (max %.3f s)  %s\n' "${WALL[certo]}" "${WMAX[certo]}" "$v"
	printf 'pass_wall_median_s\t%s\t1.5\t%s\n' "${WALL[certo]}" "$v" >>"$TARGETS_TSV"
	v=$(verdict "${RSS[certo]}" 16384 lt)
	printf '  peak RSS < 16 MiB   : %s MiB  %s\n' "$(mib "${RSS[certo]}")" "$v"
	printf 'peak_rss_kib\t%s\t16384\t%s\n' "${RSS[certo]}" "$v" >>"$TARGETS_TSV"
else
	echo "certo: ${NOTE[certo]:-not in BENCH_CLIENTS}; ratios and targets not computed"
	echo "  targets: whole pass <= 1.5 s, peak RSS < 16 MiB"
fi

echo
echo "Summary TSV : $RESULTS"
echo "Per-run TSV : $RUNS_TSV"
echo "Targets TSV : $TARGETS_TSV"
echo "Logs        : $WORK/logs/, $WORK/m/<client>-<round>/"
