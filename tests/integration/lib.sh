# shellcheck shell=sh
# lib.sh: helpers shared by certo's integration tests. Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#   it_init issue_single          # temp dir, EXIT trap, checks $CERTO
#   it_start_pebble               # skips (exit 77) if pebble is missing
#   it_issue -d a.certo.test      # runs certo issue with the test flags
#   it_expect_rc 0
#   it_check_issued a.certo.test a.certo.test
#   it_pass
#
# Environment (set by tests/integration/CMakeLists.txt):
#   CERTO               the certo binary under test (required)
#   CERTO_IT_BASEPORT   Pebble ports BASE..BASE+3 (see scripts/pebble-env.sh; default 15100)
#   CERTO_IT_HTTP_PORT  certo's http-01 port (Pebble's validator dials it)
#   CERTO_IT_TLS_PORT   certo's tls-alpn-01 port
#   CERTO_IT_PORT_OFFSET  added to all three (default 0): lets two ctest runs
#                       share a machine, e.g. CERTO_IT_PORT_OFFSET=5000 ctest
#   CERTO_IT_KEEP=1     keep the temp dir even when the test passes
#   CERTO_IT_RUN_TIMEOUT  seconds one certo run may take (default 40)
#
# A failed check prints "FAIL: <test>: <reason>", the last certo command
# with its exit code, stdout and stderr, the end of Pebble's log, and exits 1.
# The temp dir is kept on failure and its path printed.

IT_DIR=$(cd "$(dirname "$0")" && pwd)
IT_SRCROOT=$(cd "$IT_DIR/../.." && pwd)
. "$IT_SRCROOT/scripts/pebble-env.sh"

IT_NAME=""
IT_TMP=""
IT_STATE=""
IT_PEBBLE_DIR=""
IT_LAST_CMD=""
IT_RC=""
IT_ELAPSED=""
IT_OUT=""
IT_ERR=""
IT_HELPER_PIDS=""

# ---------------------------------------------------------------- basics

it_log() {
	echo "[$IT_NAME] $*"
}

# fail REASON...: report and exit 1.
fail() {
	echo "FAIL: $IT_NAME: $*" >&2
	if [ -n "$IT_LAST_CMD" ]; then
		echo "--- last certo run (exit $IT_RC, ${IT_ELAPSED}s):$IT_LAST_CMD" >&2
		if [ -s "$IT_OUT" ]; then
			echo "--- its stdout:" >&2
			tail -n 40 "$IT_OUT" | sed 's/^/  /' >&2
		fi
		if [ -s "$IT_ERR" ]; then
			echo "--- its stderr:" >&2
			tail -n 40 "$IT_ERR" | sed 's/^/  /' >&2
		fi
	fi
	if [ -n "$IT_PEBBLE_DIR" ] && [ -f "$IT_PEBBLE_DIR/pebble.log" ]; then
		echo "--- end of $IT_PEBBLE_DIR/pebble.log:" >&2
		tail -n 25 "$IT_PEBBLE_DIR/pebble.log" | sed 's/^/  /' >&2
	fi
	exit 1
}

it_pass() {
	echo "PASS: $IT_NAME"
	exit 0
}

it_skip() {
	echo "SKIPPED: $*"
	exit 77
}

_it_cleanup() {
	_it_rc=$?
	trap - EXIT INT TERM
	for _it_p in $IT_HELPER_PIDS; do
		kill "$_it_p" 2>/dev/null
		# A helper a test held with SIGSTOP gets the signal only once
		# it runs again.
		kill -CONT "$_it_p" 2>/dev/null
		wait "$_it_p" 2>/dev/null
	done
	if [ -n "$IT_PEBBLE_DIR" ]; then
		pebble_stop "$IT_PEBBLE_DIR"
	fi
	if [ -n "$IT_TMP" ] && [ -d "$IT_TMP" ]; then
		if [ "$_it_rc" -ne 0 ] && [ "$_it_rc" -ne 77 ] || [ "${CERTO_IT_KEEP:-}" = 1 ]; then
			echo "[$IT_NAME] kept $IT_TMP" >&2
		else
			rm -rf "$IT_TMP"
		fi
	fi
	exit "$_it_rc"
}

# it_init NAME: temp dir ($IT_TMP, state dir $IT_STATE inside it, not yet
# created), cleanup trap, ports, and a check that $CERTO is runnable.
it_init() {
	IT_NAME=$1
	if [ "${IT_NO_CERTO:-}" != 1 ]; then
		[ -n "${CERTO:-}" ] ||
			fail "CERTO is not set: run through ctest, or CERTO=path/to/certo $0"
		[ -f "$CERTO" ] && [ -x "$CERTO" ] ||
			fail "CERTO=$CERTO is not an executable file"
	fi
	# CERTO_IT_PORT_OFFSET shifts every port, so that two ctest runs (two
	# build dirs, two people) on one machine do not collide.
	_it_off=${CERTO_IT_PORT_OFFSET:-0}
	IT_BASEPORT=$((${CERTO_IT_BASEPORT:-15100} + _it_off))
	IT_HTTP_PORT=$((${CERTO_IT_HTTP_PORT:-$((IT_BASEPORT - _it_off + 50))} + _it_off))
	IT_TLS_PORT=$((${CERTO_IT_TLS_PORT:-$((IT_BASEPORT - _it_off + 51))} + _it_off))
	IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certo-it-$IT_NAME.XXXXXX") ||
		fail "mktemp failed"
	IT_STATE="$IT_TMP/state"
	IT_OUT="$IT_TMP/stdout"
	IT_ERR="$IT_TMP/stderr"
	trap _it_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# Keep certo's environment predictable.
	unset CERTO_STATE_DIR
}

# it_need_pebble: exit 77 unless pebble, challtestsrv, openssl, curl exist.
it_need_pebble() {
	pebble_installed || it_skip "pebble not installed (missing: $(pebble_missing_tools))"
}

# it_port_busy PORT: true if something listens on 127.0.0.1:PORT (TCP).
it_port_busy() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
		return
	fi
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"
	[ $? -ne 7 ]
}

# it_start_pebble: start Pebble + challtestsrv for this test (knobs come
# from the environment, e.g. PEBBLE_WFE_NONCEREJECT=50 it_start_pebble),
# fetch root.pem and intermediate.pem into $IT_PEBBLE_DIR.
it_start_pebble() {
	it_need_pebble
	for _it_p in "$IT_BASEPORT" $((IT_BASEPORT + 1)) $((IT_BASEPORT + 2)) \
		$((IT_BASEPORT + 3)) "$IT_HTTP_PORT" "$IT_TLS_PORT"; do
		if it_port_busy "$_it_p"; then
			fail "port $_it_p is already in use (another test or process?)"
		fi
	done
	IT_PEBBLE_DIR="$IT_TMP/pebble"
	pebble_start "$IT_PEBBLE_DIR" "$IT_BASEPORT" "$IT_HTTP_PORT" "$IT_TLS_PORT" ||
		fail "could not start Pebble"
	pebble_fetch_roots "$IT_PEBBLE_DIR" || fail "could not fetch Pebble's roots"
	IT_ROOT="$IT_PEBBLE_DIR/root.pem"
	IT_INTERMEDIATE="$IT_PEBBLE_DIR/intermediate.pem"
	IT_ACCOUNT_DIR="$IT_STATE/accounts/localhost_$IT_BASEPORT"
}

# ---------------------------------------------------------------- running certo

# it_certo ARGS...: run "$CERTO" ARGS with stdin from /dev/null and a
# timeout; sets IT_RC, IT_ELAPSED (seconds, decimal), IT_OUT, IT_ERR (files).
it_certo() {
	IT_LAST_CMD=""
	for _it_a in "$@"; do
		IT_LAST_CMD="$IT_LAST_CMD '$_it_a'"
	done
	IT_LAST_CMD=" certo$IT_LAST_CMD"
	_it_t0=$(date +%s.%N)
	timeout -k 5 "${CERTO_IT_RUN_TIMEOUT:-40}" "$CERTO" "$@" \
		>"$IT_OUT" 2>"$IT_ERR" </dev/null
	IT_RC=$?
	_it_t1=$(date +%s.%N)
	IT_ELAPSED=$(awk -v a="$_it_t0" -v b="$_it_t1" 'BEGIN { printf "%.2f", b - a }')
	if [ "$IT_RC" -eq 124 ] || [ "$IT_RC" -eq 137 ]; then
		fail "certo did not finish within ${CERTO_IT_RUN_TIMEOUT:-40} s (killed by timeout)"
	fi
}

# it_issue ARGS...: certo issue against this test's Pebble with the
# standard flags, plus ARGS (the -d names and anything else). Global options
# (-v, -q) go in IT_GLOBAL_OPTS.
it_issue() {
	# shellcheck disable=SC2086 # IT_GLOBAL_OPTS is a word list
	it_certo ${IT_GLOBAL_OPTS:-} issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$IT_STATE" --standalone --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 --agree-tos --email test@example.com "$@"
}

# ---------------------------------------------------------------- assertions

# it_expect_rc N [WHAT]: the last certo run exited with N.
it_expect_rc() {
	[ "$IT_RC" = "$1" ] ||
		fail "${2:+$2: }expected exit code $1, got $IT_RC"
}

# it_expect_err_contains TEXT [WHAT]: stderr contains TEXT (fixed string,
# case-insensitive).
it_expect_err_contains() {
	grep -qiF -- "$1" "$IT_ERR" ||
		fail "${2:+$2: }stderr does not contain '$1'"
}

it_expect_out_contains() {
	grep -qiF -- "$1" "$IT_OUT" ||
		fail "${2:+$2: }stdout does not contain '$1'"
}

# it_expect_err_certo_line [WHAT]: stderr is non-empty and its first line
# starts with "certo: " (the error format of the CLI contract).
it_expect_err_certo_line() {
	[ -s "$IT_ERR" ] || fail "${1:+$1: }stderr is empty, expected an error line"
	head -n 1 "$IT_ERR" | grep -q '^certo: ' ||
		fail "${1:+$1: }first stderr line does not start with 'certo: '"
}

# it_expect_err_one_line [WHAT]: stderr is exactly one line starting "certo: ".
it_expect_err_one_line() {
	it_expect_err_certo_line "$1"
	_it_n=$(wc -l <"$IT_ERR")
	# A last line without newline counts too.
	[ -n "$(tail -c 1 "$IT_ERR")" ] && _it_n=$((_it_n + 1))
	[ "$_it_n" -eq 1 ] ||
		fail "${1:+$1: }expected exactly one stderr line, got $_it_n"
}

# it_expect_no_live [WHAT]: no file anywhere under $IT_STATE/live.
it_expect_no_live() {
	if [ -d "$IT_STATE/live" ]; then
		_it_f=$(find "$IT_STATE/live" ! -type d | head -n 5)
		[ -z "$_it_f" ] ||
			fail "${1:+$1: }files under live/ after a failed run: $(echo "$_it_f" | tr '\n' ' ')"
	fi
}

# it_mode PATH: octal permission bits, e.g. 600.
it_mode() {
	stat -c %a "$1"
}

# it_expect_mode PATH MODE
it_expect_mode() {
	[ -e "$1" ] || fail "missing: $1"
	_it_m=$(it_mode "$1")
	[ "$_it_m" = "$2" ] || fail "$1 has mode 0$_it_m, expected 0$2"
}

# it_cert_count FILE: number of PEM certificates in FILE.
it_cert_count() {
	grep -c -- '-----BEGIN CERTIFICATE-----' "$1"
}

# it_fingerprints FILE: SHA-256 fingerprint of each PEM certificate in FILE,
# in order, one per line (compares certificates by DER, not by PEM text).
it_fingerprints() {
	_it_split="$IT_TMP/split.$$"
	rm -rf "$_it_split" && mkdir "$_it_split" || fail "mkdir $_it_split"
	awk -v pfx="$_it_split/" '
		/-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s%04d.pem", pfx, n) }
		f != "" { print > f }
		/-----END CERTIFICATE-----/ { close(f); f = "" }' "$1"
	for _it_b in "$_it_split"/*.pem; do
		[ -f "$_it_b" ] || continue
		openssl x509 -in "$_it_b" -noout -fingerprint -sha256 2>/dev/null ||
			echo "UNPARSABLE($_it_b)"
	done
	rm -rf "$_it_split"
}

# it_cert_sans CERT: the subjectAltName entries, sorted, one per line
# ("DNS:a.example", "IP Address:...").
it_cert_sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
		sed 1d | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' |
		sed '/^$/d' | LC_ALL=C sort
}

# it_cert_serial CERT: serial number (hex, as openssl prints it).
it_cert_serial() {
	openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}

# it_expect_sans CERT NAME...: the SANs are exactly DNS:NAME... (any order,
# nothing else).
it_expect_sans() {
	_it_cert=$1
	shift
	_it_want=$(for _it_n in "$@"; do echo "DNS:$_it_n"; done | LC_ALL=C sort)
	_it_got=$(it_cert_sans "$_it_cert")
	[ -n "$_it_got" ] || fail "$_it_cert has no subjectAltName extension"
	[ "$_it_got" = "$_it_want" ] ||
		fail "$_it_cert SANs are [$(echo "$_it_got" | tr '\n' ' ')], expected [$(echo "$_it_want" | tr '\n' ' ')]"
}

# it_expect_key_matches KEY CERT: KEY is the private key for CERT.
it_expect_key_matches() {
	_it_k=$(openssl pkey -in "$1" -pubout 2>/dev/null) ||
		fail "$1 is not a readable private key"
	_it_c=$(openssl x509 -in "$2" -noout -pubkey 2>/dev/null) ||
		fail "$2 is not a readable certificate"
	[ "$_it_k" = "$_it_c" ] || fail "$1 does not match the public key of $2"
}

# it_expect_verifies CERT UNTRUSTED: CERT chains to this Pebble's root via
# the certificates in UNTRUSTED.
it_expect_verifies() {
	_it_v=$(openssl verify -CAfile "$IT_ROOT" -untrusted "$2" "$1" 2>&1) ||
		fail "openssl verify -CAfile root.pem -untrusted $(basename "$2") $(basename "$1") failed: $(echo "$_it_v" | tr '\n' ' ')"
}

# it_expect_no_tmp: no temporary files (*.tmp*) anywhere in the state dir.
it_expect_no_tmp() {
	_it_f=$(find "$IT_STATE" -name '*.tmp*' | head -n 5)
	[ -z "$_it_f" ] || fail "temporary files left in the state dir: $(echo "$_it_f" | tr '\n' ' ')"
}

# it_expect_private_modes: every directory in the state dir is 0700 and
# every private key file (privkey*.pem, *.key) is 0600.
it_expect_private_modes() {
	it_expect_mode "$IT_STATE" 700
	find "$IT_STATE" -type d >"$IT_TMP/dirs"
	while IFS= read -r _it_d; do
		it_expect_mode "$_it_d" 700
	done <"$IT_TMP/dirs"
	find "$IT_STATE" -type f \( -name 'privkey*.pem' -o -name '*.key' \) >"$IT_TMP/keys"
	while IFS= read -r _it_d; do
		it_expect_mode "$_it_d" 600
	done <"$IT_TMP/keys"
	# Nothing in the state dir is writable by group or others.
	_it_f=$(find "$IT_STATE" ! -type l -perm /022 | head -n 5)
	[ -z "$_it_f" ] || fail "group/other-writable in the state dir: $(echo "$_it_f" | tr '\n' ' ')"
}

# it_expect_account: the account files of this CA exist with safe modes
# and account.json holds an account URL of this Pebble.
it_expect_account() {
	[ -d "$IT_ACCOUNT_DIR" ] || fail "no account directory $IT_ACCOUNT_DIR (found: $(ls "$IT_STATE/accounts" 2>/dev/null | tr '\n' ' '))"
	it_expect_mode "$IT_ACCOUNT_DIR/account.key" 600
	[ -s "$IT_ACCOUNT_DIR/account.json" ] || fail "missing or empty $IT_ACCOUNT_DIR/account.json"
	grep -q "https://localhost:$IT_BASEPORT/" "$IT_ACCOUNT_DIR/account.json" ||
		fail "$IT_ACCOUNT_DIR/account.json holds no https://localhost:$IT_BASEPORT/ account URL"
}

# it_check_issued LIVENAME SAN...: every check of a successful issuance:
# live/LIVENAME holds exactly privkey.pem cert.pem chain.pem fullchain.pem
# and certo.json (how it was issued, for renew; 0600, valid JSON naming
# the SANs);
# cert.pem is one certificate, fullchain.pem = cert.pem + chain.pem; the
# chain verifies to Pebble's root both with chain.pem and with Pebble's
# intermediate; the SANs are exactly SAN...; the key matches; modes; no
# temp files; account files present.
it_check_issued() {
	_it_live="$IT_STATE/live/$1"
	shift
	[ -d "$_it_live" ] || fail "no directory $_it_live (live/ has: $(ls "$IT_STATE/live" 2>/dev/null | tr '\n' ' '))"
	_it_files=$(cd "$_it_live" && ls -A | LC_ALL=C sort | tr '\n' ' ')
	[ "$_it_files" = "cert.pem certo.json chain.pem fullchain.pem privkey.pem " ] ||
		fail "$_it_live holds [$_it_files], expected exactly cert.pem certo.json chain.pem fullchain.pem privkey.pem"
	it_expect_mode "$_it_live/certo.json" 600
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if sorted(d["names"])==sorted(sys.argv[2:]) else 1)' \
		"$_it_live/certo.json" "$@" ||
		fail "$_it_live/certo.json is not JSON naming exactly: $*"
	for _it_f in cert.pem chain.pem fullchain.pem privkey.pem; do
		[ -f "$_it_live/$_it_f" ] && [ -s "$_it_live/$_it_f" ] ||
			fail "$_it_live/$_it_f is not a non-empty regular file"
	done

	# Split: cert.pem is the leaf alone, fullchain = cert + chain.
	[ "$(it_cert_count "$_it_live/cert.pem")" -eq 1 ] ||
		fail "cert.pem holds $(it_cert_count "$_it_live/cert.pem") certificates, expected 1"
	[ "$(it_cert_count "$_it_live/chain.pem")" -ge 1 ] ||
		fail "chain.pem holds no certificate"
	_it_full=$(it_fingerprints "$_it_live/fullchain.pem")
	_it_parts=$(it_fingerprints "$_it_live/cert.pem"; it_fingerprints "$_it_live/chain.pem")
	case "$_it_full$_it_parts" in
	*UNPARSABLE*) fail "a certificate in cert.pem, chain.pem or fullchain.pem does not parse" ;;
	esac
	[ "$_it_full" = "$_it_parts" ] ||
		fail "fullchain.pem is not cert.pem followed by chain.pem"
	grep -q -- '-----BEGIN' "$_it_live/privkey.pem" && ! grep -q -- 'CERTIFICATE' "$_it_live/privkey.pem" ||
		fail "privkey.pem is not a lone PEM private key"

	it_expect_verifies "$_it_live/cert.pem" "$IT_INTERMEDIATE"
	it_expect_verifies "$_it_live/cert.pem" "$_it_live/chain.pem"
	it_expect_sans "$_it_live/cert.pem" "$@"
	it_expect_key_matches "$_it_live/privkey.pem" "$_it_live/cert.pem"
	it_expect_mode "$_it_live/privkey.pem" 600
	it_expect_private_modes
	it_expect_no_tmp
	it_expect_account
}

# it_account_line FILE: the first "account:" line of a stdout file.
it_account_line() {
	grep -m 1 '^account:' "$1"
}

# ---------------------------------------------------------------- helpers

# it_listen PORT: start a TCP listener on 127.0.0.1:PORT that holds the
# port (it never answers); stopped by the cleanup trap.
it_listen() {
	_it_py=$(command -v python3) || it_skip "python3 not installed (needed to occupy a port)"
	"$_it_py" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
time.sleep(300)
' "$1" </dev/null >/dev/null 2>&1 &
	IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
	it_wait_port "$1" "helper listener"
}

# it_wait_port PORT WHAT [PID [LOG...]]: wait up to 5 s for a listener on
# 127.0.0.1:PORT, else fail naming WHAT and the last lines of the LOGs;
# with PID, fail at once when that process is gone.
it_wait_port() {
	_it_wport=$1
	_it_wwhat=$2
	shift 2
	_it_wpid=${1:-}
	[ $# -gt 0 ] && shift
	_it_tries=50
	while ! it_port_busy "$_it_wport"; do
		_it_tries=$((_it_tries - 1))
		if [ "$_it_tries" -le 0 ] ||
		    { [ -n "$_it_wpid" ] && ! it_pid_alive "$_it_wpid"; }; then
			_it_wlog=""
			[ $# -gt 0 ] && _it_wlog=": $(cat "$@" 2>/dev/null | tail -n 5)"
			fail "$_it_wwhat did not listen on port $_it_wport$_it_wlog"
		fi
		sleep 0.1
	done
}

# ---------------------------------------------------------------- lifecycle
# Helpers of the lifecycle_* tests (account, revoke, renew, resume, ARI...).

# IT_PY: the real python3 executable (a pyenv shim costs a shell per call).
IT_PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || IT_PY=python3
[ -n "$IT_PY" ] || IT_PY=python3

# it_certo_ca VERB ARGS...: certo VERB against this test's Pebble (--server,
# --ca-bundle, --state-dir $IT_STATE), plus ARGS; global options (--json,
# -v) go in IT_GLOBAL_OPTS. Sets IT_RC, IT_OUT, IT_ERR like it_certo.
it_certo_ca() {
	_it_verb=$1
	shift
	# shellcheck disable=SC2086 # IT_GLOBAL_OPTS is a word list
	it_certo ${IT_GLOBAL_OPTS:-} "$_it_verb" --server "$PEBBLE_DIR_URL" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_STATE" "$@"
}

# it_certo_bg ARGS...: start "$CERTO" ARGS in the background, stdout and
# stderr to $IT_OUT and $IT_ERR; sets IT_BG_PID (killed by the cleanup
# trap if still running). Wait for it with it_certo_bg_wait.
it_certo_bg() {
	IT_LAST_CMD=""
	for _it_a in "$@"; do
		IT_LAST_CMD="$IT_LAST_CMD '$_it_a'"
	done
	IT_LAST_CMD=" certo$IT_LAST_CMD (in the background)"
	IT_BG_T0=$(date +%s.%N)
	# Truncated here, not in the child: a wait that reads them at once
	# must never see the previous run's output.
	: >"$IT_OUT"
	: >"$IT_ERR"
	"$CERTO" "$@" >>"$IT_OUT" 2>>"$IT_ERR" </dev/null &
	IT_BG_PID=$!
	IT_HELPER_PIDS="$IT_HELPER_PIDS $IT_BG_PID"
}

# it_pid_alive PID: true while PID runs (a zombie, exited and not yet
# reaped, counts as gone).
it_pid_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	case "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" in
	Z | X | "") return 1 ;;
	esac
	return 0
}

# it_expect_pids_gone FILE WHAT: every pid listed in FILE (one a line) is
# gone within 2 s; else fails with "WHAT: PIDS".
it_expect_pids_gone() {
	_it_n=20
	while [ "$_it_n" -gt 0 ]; do
		_it_left=""
		while read -r _it_p; do
			if it_pid_alive "$_it_p"; then _it_left="$_it_left $_it_p"; fi
		done <"$1"
		[ -z "$_it_left" ] && return 0
		_it_n=$((_it_n - 1))
		sleep 0.1
	done
	fail "$2:$_it_left"
}

# it_bg_running: true while the background certo runs (a zombie counts as
# finished).
it_bg_running() {
	it_pid_alive "$IT_BG_PID"
}

# it_certo_bg_wait SECONDS: wait for the background certo; sets IT_RC and
# IT_ELAPSED; fails (after killing it) if it runs longer.
it_certo_bg_wait() {
	_it_n=$(($1 * 10))
	while it_bg_running && [ "$_it_n" -gt 0 ]; do
		sleep 0.1
		_it_n=$((_it_n - 1))
	done
	if [ "$_it_n" -le 0 ] && it_bg_running; then
		kill "$IT_BG_PID" 2>/dev/null
		wait "$IT_BG_PID" 2>/dev/null
		IT_RC=timeout
		fail "certo did not finish within $1 s"
	fi
	wait "$IT_BG_PID"
	IT_RC=$?
	IT_ELAPSED=$(awk -v a="$IT_BG_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}

# it_certo_bg_kill SIGNAL: send SIGNAL to the background certo and reap it;
# sets IT_RC.
it_certo_bg_kill() {
	kill "-$1" "$IT_BG_PID" 2>/dev/null
	# (stderr: the shell's "Killed" notice is expected here)
	wait "$IT_BG_PID" 2>/dev/null
	IT_RC=$?
}

# it_wait_grep FILE PATTERN SECONDS: wait until FILE has a line matching
# the extended regex PATTERN; fails if it does not within SECONDS, or if
# the background certo (IT_BG_PID, when set) exits first.
it_wait_grep() {
	_it_n=$(($3 * 10))
	while ! grep -qE -- "$2" "$1" 2>/dev/null; do
		_it_n=$((_it_n - 1))
		[ "$_it_n" -gt 0 ] || fail "no line matching '$2' in $(basename "$1") within $3 s"
		if [ -n "${IT_BG_PID:-}" ] && ! it_bg_running; then
			grep -qE -- "$2" "$1" 2>/dev/null && return 0
			fail "certo exited before printing a line matching '$2'"
		fi
		sleep 0.1
	done
}

# it_json_lines_field FILE EVENT FIELD: FIELD of the first JSON line in FILE
# whose "event" is EVENT (empty if none). Lines that are not JSON fail.
it_json_lines_field() {
	"$IT_PY" - "$1" "$2" "$3" <<-'PYEOF' || fail "$(basename "$1") is not JSON lines"
	import json, sys
	for line in open(sys.argv[1]):
	    line = line.strip()
	    if not line:
	        continue
	    o = json.loads(line)
	    if o.get("event") == sys.argv[2]:
	        v = o.get(sys.argv[3], "")
	        print(v if isinstance(v, str) else json.dumps(v))
	        break
	PYEOF
}

# it_json_get FILE EXPR: evaluate the Python expression EXPR with d = the
# JSON document in FILE; prints the result (strings bare, else JSON).
it_json_get() {
	"$IT_PY" - "$1" "$2" <<-'PYEOF' || fail "cannot evaluate '$2' on $(basename "$1")"
	import json, sys
	d = json.load(open(sys.argv[1]))
	v = eval(sys.argv[2], {"d": d})
	print(v if isinstance(v, str) else json.dumps(v))
	PYEOF
}

# it_pebble_serial CERT: the serial as Pebble's management API spells it
# (lowercase hex, no leading zeros).
it_pebble_serial() {
	it_cert_serial "$1" | tr 'A-F' 'a-f' | sed 's/^0*//'
}

# it_pebble_cert_status CERT: "Valid", "Revoked" (Pebble's view of CERT) or
# the HTTP failure.
it_pebble_cert_status() {
	_it_s=$(it_pebble_serial "$1")
	curl -sf --max-time 10 --cacert "$PEBBLE_CA_BUNDLE" \
		"$PEBBLE_MGMT_URL/cert-status-by-serial/$_it_s" >"$IT_TMP/cert-status.json" ||
		{ echo "HTTP-ERROR"; return 0; }
	it_json_get "$IT_TMP/cert-status.json" 'd.get("Status", "")'
}

# it_cert_cn CERT subject|issuer: the commonName of the subject or issuer.
it_cert_cn() {
	openssl x509 -in "$1" -noout "-$2" -nameopt multiline 2>/dev/null |
		sed -n 's/^ *commonName *= //p' | head -n 1
}

# it_pem_split FILE DIR: write each certificate of FILE to DIR/0001.pem,
# DIR/0002.pem, ... (in order); prints the count.
it_pem_split() {
	rm -rf "$2" && mkdir -p "$2" || fail "mkdir $2"
	awk -v pfx="$2/" '
		/-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s%04d.pem", pfx, n) }
		f != "" { print > f }
		/-----END CERTIFICATE-----/ { close(f); f = "" }' "$1"
	find "$2" -name '*.pem' | wc -l
}

# it_ari_certid CERT: the ARI certificate identifier (RFC 9773):
# base64url(AKI keyIdentifier) "." base64url(DER serial number content),
# both without padding, computed with openssl.
it_ari_certid() {
	_it_aki=$(openssl x509 -in "$1" -noout -ext authorityKeyIdentifier 2>/dev/null |
		sed 1d | sed 's/^ *//; s/^keyid://' | grep -E '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$' |
		head -n 1 | tr -d ':')
	_it_ser=$(it_cert_serial "$1")
	[ -n "$_it_aki" ] && [ -n "$_it_ser" ] || fail "cannot read AKI/serial of $1"
	"$IT_PY" - "$_it_aki" "$_it_ser" <<-'PYEOF'
	import base64, sys
	aki, ser = sys.argv[1], sys.argv[2]
	if len(ser) % 2:
	    ser = "0" + ser
	b = bytes.fromhex(ser)
	while len(b) > 1 and b[0] == 0 and b[1] < 0x80:
	    b = b[1:]                       # minimal DER INTEGER content
	if b[0] >= 0x80:
	    b = b"\x00" + b                 # positive: DER adds a zero byte
	e = lambda x: base64.urlsafe_b64encode(x).decode().rstrip("=")
	print(e(bytes.fromhex(aki)) + "." + e(b))
	PYEOF
}

# it_tree_digest DIR...: one line per file under DIR... (path and SHA-256),
# sorted; for "nothing changed" checks.
it_tree_digest() {
	for _it_d in "$@"; do
		[ -d "$_it_d" ] || continue
		find "$_it_d" -type f -exec sha256sum {} + 2>/dev/null
	done | LC_ALL=C sort -k2
}

# ---------------------------------------------------------------- stand-in CA
# Helpers of the ca_* tests: tests/integration/standin_ca.py, a scripted
# misbehaving CA in front of this test's Pebble (HTTPS on BASE+60 with
# Pebble's TLS certificate, so --ca-bundle "$PEBBLE_CA_BUNDLE" trusts it;
# see the top of standin_ca.py for the scenarios and the log format).

# it_start_standin SCENARIO [ARGS...]: after it_start_pebble, start
# standin_ca.py playing SCENARIO (ARGS: --phase P, --set KEY=JSON...).
# Sets SI_PORT, SI_URL (its directory URL), SI_CTL (its control URL),
# SI_LOG (its JSON-lines request log), SI_DIR (its files) and
# SI_ACCOUNT_DIR; the cleanup trap stops it.
it_start_standin() {
	"$IT_PY" -c 'import ssl, http.server' 2>/dev/null ||
		it_skip "python3 with ssl is needed for standin_ca.py"
	[ -n "$IT_PEBBLE_DIR" ] || fail "it_start_standin needs it_start_pebble first"
	SI_PORT=$((IT_BASEPORT + 60))
	if it_port_busy "$SI_PORT"; then
		fail "port $SI_PORT is already in use (another test or process?)"
	fi
	SI_DIR="$IT_TMP/standin"
	mkdir -p "$SI_DIR" || fail "mkdir $SI_DIR"
	SI_LOG="$SI_DIR/requests.log"
	: >"$SI_LOG"
	"$IT_PY" "$IT_DIR/standin_ca.py" --pebble-port "$IT_BASEPORT" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --tls-cert "$IT_PEBBLE_DIR/tls/cert.pem" \
		--tls-key "$IT_PEBBLE_DIR/tls/key.pem" --port "$SI_PORT" \
		--log "$SI_LOG" --max-seconds 600 --scenario "$@" \
		>"$SI_DIR/stdout" 2>"$SI_DIR/stderr" </dev/null &
	IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
	SI_URL="https://localhost:$SI_PORT/dir"
	SI_CTL="https://localhost:$SI_PORT/control"
	SI_ACCOUNT_DIR="$IT_STATE/accounts/localhost_$SI_PORT"
	_it_n=100
	until curl -sf --max-time 2 --cacert "$PEBBLE_CA_BUNDLE" -o /dev/null \
		"$SI_CTL/ping"; do
		_it_n=$((_it_n - 1))
		[ "$_it_n" -gt 0 ] ||
			fail "standin_ca.py did not answer within 10 s: $(tail -n 5 "$SI_DIR/stderr" | tr '\n' ' ')"
		sleep 0.1
	done
}

# it_si_set JSON: merge JSON (scenario, phase, parameters) into the
# stand-in's running settings.
it_si_set() {
	_it_c=$(curl -s -o "$SI_DIR/set.out" -w '%{http_code}' --max-time 10 \
		--cacert "$PEBBLE_CA_BUNDLE" -X POST -d "$1" "$SI_CTL/set")
	[ "$_it_c" = 200 ] ||
		fail "stand-in /control/set $1 answered $_it_c: $(cat "$SI_DIR/set.out" 2>/dev/null)"
}

# it_si_count EXPR: how many entries e of the stand-in's log make the
# Python expression EXPR true, e.g. 'e["kind"] == "newOrder"'.
it_si_count() {
	"$IT_PY" - "$SI_LOG" "$1" <<-'PYEOF' || fail "cannot evaluate '$1' on the stand-in log"
	import json, sys
	n = 0
	for line in open(sys.argv[1]):
	    if line.strip() and eval(sys.argv[2], {"e": json.loads(line)}):
	        n += 1
	print(n)
	PYEOF
}

# it_si_seq: the sequence number ("n") of the stand-in's last log entry (0
# if none); count what came later with it_si_count 'e["n"] > N and ...'.
it_si_seq() {
	"$IT_PY" - "$SI_LOG" <<-'PYEOF' || fail "cannot read the stand-in log"
	import json, sys
	n = 0
	for line in open(sys.argv[1]):
	    if line.strip():
	        n = max(n, json.loads(line).get("n", 0))
	print(n)
	PYEOF
}

# it_si_ca VERB ARGS...: certo VERB against the stand-in (--server,
# --ca-bundle, --state-dir); global options go in IT_GLOBAL_OPTS.
it_si_ca() {
	_it_verb=$1
	shift
	# shellcheck disable=SC2086 # IT_GLOBAL_OPTS is a word list
	it_certo ${IT_GLOBAL_OPTS:-} "$_it_verb" --server "$SI_URL" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_STATE" "$@"
}

# it_si_issue ARGS...: certo issue against the stand-in with it_issue's
# standard flags (standalone http-01 on IT_HTTP_PORT), plus ARGS.
it_si_issue() {
	it_si_ca issue --standalone --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 --agree-tos --email test@example.com "$@"
}

# it_si_issue_killed NAME WHAT: start certo issue -d NAME against the
# stand-in in the background (--json), wait until it answered the
# challenge and polled the authorization once, SIGKILL it; fails (WHAT:
# ...) unless it died of the SIGKILL leaving exactly one saved order.
it_si_issue_killed() {
	it_certo_bg --json issue --server "$SI_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$IT_STATE" --standalone --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 --agree-tos --email test@example.com -d "$1"
	it_wait_grep "$IT_OUT" '"event":"challenge_answered"' 30
	_it_seq=$(it_si_seq)
	_it_n=50
	while [ "$(it_si_count "e[\"n\"] > $_it_seq and e[\"kind\"] == \"authz\"")" -eq 0 ]; do
		_it_n=$((_it_n - 1))
		[ "$_it_n" -gt 0 ] || fail "$2: certo did not poll the authorization after answering"
		sleep 0.1
	done
	it_certo_bg_kill KILL
	[ "$IT_RC" -eq 137 ] || fail "$2: run 1 was not killed by SIGKILL (exit $IT_RC)"
	_it_saved=$(find "$IT_STATE/orders" -name order.json 2>/dev/null | wc -l)
	[ "$_it_saved" -eq 1 ] || fail "$2: expected one orders/*/order.json after the kill, found $_it_saved"
}

# it_err_msg: certo's error line from the last run (the last stderr line
# starting "certo: " that is not a warning or debug line), without the
# "certo: " prefix; empty if none.
it_err_msg() {
	grep '^certo: ' "$IT_ERR" | grep -v '^certo: \(warning\|debug\): ' |
		tail -n 1 | sed 's/^certo: //'
}

# it_expect_msg_contains TEXT [WHAT]: certo's error line (it_err_msg)
# contains TEXT (fixed string, case-insensitive).
it_expect_msg_contains() {
	it_err_msg | grep -qiF -- "$1" ||
		fail "${2:+$2: }certo's error line [$(it_err_msg)] does not contain '$1'"
}

# it_expect_no_ctl_bytes FILE [WHAT]: FILE holds no raw ESC (0x1b) or BEL
# (0x07) byte (a CA's string printed without log_sanitize).
it_expect_no_ctl_bytes() {
	_it_a=$(wc -c <"$1")
	_it_b=$(tr -d '\033\007' <"$1" | wc -c)
	[ "$_it_a" -eq "$_it_b" ] ||
		fail "${2:+$2: }$(basename "$1") holds $((_it_a - _it_b)) raw ESC/BEL byte(s): $(od -c "$1" | grep -m 2 -E '033|007' | tr -s ' ')"
}

# it_outside_begin: from now on certo runs in an empty working directory
# ($IT_TMP/cwd) with TMPDIR and HOME pointing at empty directories in
# $IT_TMP, and every path under $IT_TMP is remembered, so that
# it_expect_nothing_outside can tell what a run wrote outside the state
# dir. Call it after starting Pebble and the stand-in. The test's own
# scratch files belong in $IT_WORK.
it_outside_begin() {
	IT_WORK="$IT_TMP/work"
	mkdir -p "$IT_WORK" "$IT_TMP/cwd" "$IT_TMP/certo-tmp" "$IT_TMP/home" ||
		fail "mkdir in $IT_TMP"
	cd "$IT_TMP/cwd" || fail "cd $IT_TMP/cwd"
	TMPDIR="$IT_TMP/certo-tmp"
	HOME="$IT_TMP/home"
	export TMPDIR HOME
	_it_outside_list >"$IT_WORK/outside.before"
	touch "$IT_WORK/outside.marker"
}

# (every path under $IT_TMP but the state dir, Pebble's and the stand-in's
# files, the test's scratch and lib.sh's own scratch files)
_it_outside_list() {
	find "$IT_TMP" -mindepth 1 \( -path "$IT_STATE" -o -path "$IT_TMP/pebble" \
		-o -path "$IT_TMP/standin" -o -path "$IT_TMP/work" \
		-o -path "$IT_TMP/split.*" \) -prune -o \
		\( -path "$IT_TMP/stdout" -o -path "$IT_TMP/stderr" -o -path "$IT_TMP/dirs" \
		-o -path "$IT_TMP/keys" -o -path "$IT_TMP/cert-status.json" \) -o -print |
		LC_ALL=C sort
}

# it_expect_nothing_outside [WHAT]: since it_outside_begin, no path under
# $IT_TMP outside the state dir was created and no file there changed
# (certo's working directory, TMPDIR and HOME are empty); and, when the
# test set IT_PWN (a random token in a path it fed to certo), no /tmp
# entry holds that token.
it_expect_nothing_outside() {
	[ -f "$IT_WORK/outside.marker" ] || fail "it_expect_nothing_outside needs it_outside_begin"
	_it_outside_list >"$IT_WORK/outside.after"
	{
		LC_ALL=C comm -13 "$IT_WORK/outside.before" "$IT_WORK/outside.after"
		while IFS= read -r _it_p; do
			[ -f "$_it_p" ] && [ "$_it_p" -nt "$IT_WORK/outside.marker" ] && echo "$_it_p"
		done <"$IT_WORK/outside.after"
		[ -z "${IT_PWN:-}" ] || find /tmp -maxdepth 1 -name "*$IT_PWN*" 2>/dev/null
	} | LC_ALL=C sort -u >"$IT_WORK/outside.new"
	[ ! -s "$IT_WORK/outside.new" ] ||
		fail "${1:+$1: }written outside the state dir: $(head -n 5 "$IT_WORK/outside.new" | tr '\n' ' ')"
}

# it_si_first EXPR: the sequence number ("n") of the first entry e of the
# stand-in's log that makes EXPR true; 0 if none.
it_si_first() {
	"$IT_PY" - "$SI_LOG" "$1" <<-'PYEOF' || fail "cannot evaluate '$1' on the stand-in log"
	import json, sys
	n = 0
	for line in open(sys.argv[1]):
	    if line.strip():
	        e = json.loads(line)
	        if eval(sys.argv[2], {"e": e}):
	            n = e["n"]
	            break
	print(n)
	PYEOF
}

# it_case NAME: true unless CERTO_IT_CASES (a space-separated list, for
# running part of a multi-case test by hand) is set and lacks NAME.
it_case() {
	case " ${CERTO_IT_CASES:-$1} " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# it_ctl SOCK LINE: send LINE to a certo-responder control socket and
# print the first line of its answer (5 s timeout).
it_ctl() {
	"$IT_PY" - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode().splitlines()[0])
PY
}
