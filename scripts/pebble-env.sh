# shellcheck shell=sh
# pebble-env.sh: start and stop a throwaway Pebble ACME CA on loopback.
#
# Source this file (POSIX sh or bash); do not execute it. Used by the
# integration tests, scripts/demo.sh and the benchmarks.
#
#   . scripts/pebble-env.sh
#   pebble_installed || { echo "SKIPPED: pebble not installed"; exit 77; }
#   pebble_start "$work" 14000 5002 5001 || exit 1
#   pebble_fetch_roots "$work"            # $work/root.pem, $work/intermediate.pem
#   ... certo issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" ...
#   pebble_stop "$work"
#
# pebble_start WORKDIR BASEPORT HTTP01PORT TLSALPNPORT uses these ports, all on
# 127.0.0.1:
#   BASEPORT    Pebble ACME API     https://localhost:BASEPORT/dir
#   BASEPORT+1  Pebble management   https (same TLS CA): /roots/0, ...
#   BASEPORT+2  challtestsrv DNS    Pebble resolves every name here
#   BASEPORT+3  challtestsrv management (plain http): /add-a, /set-txt, ...
#   HTTP01PORT  the port Pebble's validator dials for http-01
#   TLSALPNPORT the port Pebble's validator dials for tls-alpn-01
# It exports PEBBLE_DIR_URL, PEBBLE_CA_BUNDLE (WORKDIR/tls/ca.pem, the CA that
# signed Pebble's HTTPS certificate), PEBBLE_MGMT_URL, CHALLTESTSRV_MGMT_URL,
# PEBBLE_PIDS, and writes them to WORKDIR/pebble.env so another shell can
# source that file. Logs: WORKDIR/pebble.log, WORKDIR/challtestsrv.log.
#
# Knobs read from the caller's environment (exported or plain shell
# variables) and handed to Pebble: PEBBLE_VA_NOSLEEP (default 1 here),
# PEBBLE_VA_SLEEPTIME, PEBBLE_VA_ALWAYS_VALID, PEBBLE_WFE_NONCEREJECT,
# PEBBLE_WFE_ORDERS_PER_PAGE, PEBBLE_AUTHZREUSE, PEBBLE_CHAIN_LENGTH,
# PEBBLE_ALTERNATE_ROOTS. Config knobs: PEBBLE_EAB_KID + PEBBLE_EAB_HMAC
# (base64url) turn on externalAccountBindingRequired with that one key;
# PEBBLE_DEFAULT_IPV4 sets challtestsrv's answer to A queries (127.0.0.1).
# PEBBLE_START_TIMEOUT: seconds to wait for the directory (default 20).
#
# Every function returns 0 on success and non-zero with a message on stderr.

# pebble_installed: true if pebble, pebble-challtestsrv, openssl and curl
# are all on PATH. Tests use it to print "SKIPPED: ..." and exit 77.
pebble_installed() {
	for _pe_tool in pebble pebble-challtestsrv openssl curl; do
		command -v "$_pe_tool" >/dev/null 2>&1 || return 1
	done
	return 0
}

# pebble_missing_tools: print the names of the missing tools (for messages).
pebble_missing_tools() {
	_pe_missing=""
	for _pe_tool in pebble pebble-challtestsrv openssl curl; do
		command -v "$_pe_tool" >/dev/null 2>&1 || _pe_missing="$_pe_missing $_pe_tool"
	done
	echo "${_pe_missing# }"
}

_pebble_err() {
	echo "pebble-env: $*" >&2
}

# _pebble_make_tls DIR: throwaway CA (DIR/ca.pem) and a leaf for
# localhost/127.0.0.1 (DIR/cert.pem, DIR/key.pem) signed by it.
_pebble_make_tls() {
	_pe_tls=$1
	mkdir -p "$_pe_tls" || return 1
	cat >"$_pe_tls/leaf.ext" <<-'EOF'
	basicConstraints=critical,CA:FALSE
	keyUsage=critical,digitalSignature
	extendedKeyUsage=serverAuth
	subjectAltName=DNS:localhost,IP:127.0.0.1
	EOF
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$_pe_tls/ca.key" -out "$_pe_tls/ca.pem" -days 7 \
		-subj "/CN=certo throwaway Pebble TLS CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		>"$_pe_tls/openssl.log" 2>&1 &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$_pe_tls/key.pem" -out "$_pe_tls/leaf.csr" \
		-subj "/CN=localhost" >>"$_pe_tls/openssl.log" 2>&1 &&
	openssl x509 -req -in "$_pe_tls/leaf.csr" -CA "$_pe_tls/ca.pem" \
		-CAkey "$_pe_tls/ca.key" -CAcreateserial -days 7 \
		-extfile "$_pe_tls/leaf.ext" -out "$_pe_tls/cert.pem" \
		>>"$_pe_tls/openssl.log" 2>&1 || {
		_pebble_err "openssl failed, see $_pe_tls/openssl.log"
		return 1
	}
}

# _pebble_alive PID: true while PID runs and is not a zombie.
_pebble_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	if [ -r "/proc/$1/stat" ]; then
		# Field 3 is the state; the command name in field 2 has no spaces here.
		case "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" in
		Z | X | "") return 1 ;;
		esac
	fi
	return 0
}

# _pebble_ours PID: true if PID is (still) a pebble process, so a recycled
# PID is never killed.
_pebble_ours() {
	[ -r "/proc/$1/comm" ] || return 0 # no procfs: trust the PID file
	case "$(cat "/proc/$1/comm" 2>/dev/null)" in
	pebble*) return 0 ;;
	esac
	return 1
}

# _pebble_log_tail FILE: last lines of a log, indented, on stderr.
_pebble_log_tail() {
	[ -f "$1" ] || return 0
	echo "--- last lines of $1:" >&2
	tail -n 15 "$1" | sed 's/^/  /' >&2
}

# pebble_start WORKDIR BASEPORT HTTP01PORT TLSALPNPORT: see the top.
pebble_start() {
	if [ $# -ne 4 ]; then
		_pebble_err "usage: pebble_start WORKDIR BASEPORT HTTP01PORT TLSALPNPORT"
		return 2
	fi
	_pe_dir=$1
	_pe_base=$2
	_pe_http=$3
	_pe_tlsalpn=$4
	for _pe_p in "$_pe_base" "$_pe_http" "$_pe_tlsalpn"; do
		case "$_pe_p" in
		'' | *[!0-9]*)
			_pebble_err "not a port number: '$_pe_p'"
			return 2
			;;
		esac
	done
	if ! pebble_installed; then
		_pebble_err "missing: $(pebble_missing_tools)"
		return 1
	fi
	mkdir -p "$_pe_dir" || return 1
	_pe_dir=$(cd "$_pe_dir" && pwd) || return 1
	if [ -f "$_pe_dir/pids" ]; then
		for _pe_pid in $(cat "$_pe_dir/pids"); do
			if _pebble_alive "$_pe_pid" && _pebble_ours "$_pe_pid"; then
				_pebble_err "already running in $_pe_dir (PID $_pe_pid): pebble_stop it first"
				return 1
			fi
		done
		rm -f "$_pe_dir/pids" # stale, from a run that was killed
	fi
	rm -f "$_pe_dir/pebble.env" "$_pe_dir/root.pem" "$_pe_dir/intermediate.pem"
	_pe_mgmt=$((_pe_base + 1))
	_pe_dns=$((_pe_base + 2))
	_pe_ctsmgmt=$((_pe_base + 3))

	_pebble_make_tls "$_pe_dir/tls" || return 1

	_pe_eab=""
	if [ -n "${PEBBLE_EAB_KID:-}" ]; then
		_pe_eab="
    \"externalAccountMACKeys\": {\"$PEBBLE_EAB_KID\": \"${PEBBLE_EAB_HMAC:-}\"},"
		_pe_eabreq=true
	else
		_pe_eabreq=false
	fi
	cat >"$_pe_dir/pebble-config.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$_pe_base",
    "managementListenAddress": "127.0.0.1:$_pe_mgmt",
    "certificate": "$_pe_dir/tls/cert.pem",
    "privateKey": "$_pe_dir/tls/key.pem",
    "httpPort": $_pe_http,
    "tlsPort": $_pe_tlsalpn,
    "ocspResponderURL": "",$_pe_eab
    "externalAccountBindingRequired": $_pe_eabreq
  }
}
EOF

	: >"$_pe_dir/pids"
	pebble-challtestsrv \
		-dns01 "127.0.0.1:$_pe_dns" \
		-management "127.0.0.1:$_pe_ctsmgmt" \
		-http01 "" -https01 "" -tlsalpn01 "" \
		-defaultIPv4 "${PEBBLE_DEFAULT_IPV4:-127.0.0.1}" -defaultIPv6 "" \
		>"$_pe_dir/challtestsrv.log" 2>&1 </dev/null &
	_pe_ctspid=$!
	echo "$_pe_ctspid" >>"$_pe_dir/pids"

	# A subshell with exec: the knobs reach Pebble without being exported
	# into the caller's shell, and $! is Pebble's own PID.
	(
		export PEBBLE_VA_NOSLEEP="${PEBBLE_VA_NOSLEEP-1}"
		for _pe_knob in PEBBLE_VA_SLEEPTIME PEBBLE_VA_ALWAYS_VALID \
			PEBBLE_WFE_NONCEREJECT PEBBLE_WFE_ORDERS_PER_PAGE \
			PEBBLE_AUTHZREUSE PEBBLE_CHAIN_LENGTH PEBBLE_ALTERNATE_ROOTS; do
			if eval "[ -n \"\${$_pe_knob+x}\" ]"; then
				export "${_pe_knob?}"
			fi
		done
		exec pebble -config "$_pe_dir/pebble-config.json" \
			-dnsserver "127.0.0.1:$_pe_dns" -strict=false
	) >"$_pe_dir/pebble.log" 2>&1 </dev/null &
	_pe_pebpid=$!
	echo "$_pe_pebpid" >>"$_pe_dir/pids"

	# Exported only once this instance answers: a failed start must not
	# repoint the caller at a half-made instance.
	_pe_dirurl="https://localhost:$_pe_base/dir"
	_pe_cabundle="$_pe_dir/tls/ca.pem"
	_pe_ctsurl="http://127.0.0.1:$_pe_ctsmgmt"

	# Poll both servers; give up at once if either one exits (port taken,
	# bad config), else after PEBBLE_START_TIMEOUT seconds.
	_pe_tries=$((${PEBBLE_START_TIMEOUT:-20} * 10))
	_pe_ready=""
	while [ "$_pe_tries" -gt 0 ]; do
		if ! _pebble_alive "$_pe_ctspid"; then
			_pebble_err "pebble-challtestsrv exited during start-up"
			_pebble_log_tail "$_pe_dir/challtestsrv.log"
			pebble_stop "$_pe_dir"
			return 1
		fi
		if ! _pebble_alive "$_pe_pebpid"; then
			_pebble_err "pebble exited during start-up"
			_pebble_log_tail "$_pe_dir/pebble.log"
			pebble_stop "$_pe_dir"
			return 1
		fi
		# challtestsrv's management API has no GET route: any HTTP answer
		# (404) means it listens; curl fails only if nothing does.
		if curl -s -o /dev/null --max-time 2 "$_pe_ctsurl/" &&
			curl -sf -o /dev/null --max-time 2 --cacert "$_pe_cabundle" \
				"$_pe_dirurl"; then
			_pe_ready=1
			break
		fi
		sleep 0.1
		_pe_tries=$((_pe_tries - 1))
	done
	if [ -z "$_pe_ready" ]; then
		_pebble_err "$_pe_dirurl did not answer within ${PEBBLE_START_TIMEOUT:-20} s"
		_pebble_log_tail "$_pe_dir/pebble.log"
		_pebble_log_tail "$_pe_dir/challtestsrv.log"
		pebble_stop "$_pe_dir"
		return 1
	fi

	PEBBLE_DIR_URL=$_pe_dirurl
	PEBBLE_CA_BUNDLE=$_pe_cabundle
	PEBBLE_MGMT_URL="https://localhost:$_pe_mgmt"
	CHALLTESTSRV_MGMT_URL=$_pe_ctsurl
	PEBBLE_PIDS="$_pe_ctspid $_pe_pebpid"
	export PEBBLE_DIR_URL PEBBLE_CA_BUNDLE PEBBLE_MGMT_URL \
		CHALLTESTSRV_MGMT_URL PEBBLE_PIDS
	cat >"$_pe_dir/pebble.env" <<EOF
PEBBLE_DIR_URL='$PEBBLE_DIR_URL'
PEBBLE_CA_BUNDLE='$PEBBLE_CA_BUNDLE'
PEBBLE_MGMT_URL='$PEBBLE_MGMT_URL'
CHALLTESTSRV_MGMT_URL='$CHALLTESTSRV_MGMT_URL'
PEBBLE_PIDS='$PEBBLE_PIDS'
export PEBBLE_DIR_URL PEBBLE_CA_BUNDLE PEBBLE_MGMT_URL CHALLTESTSRV_MGMT_URL PEBBLE_PIDS
EOF
	return 0
}

# pebble_fetch_roots WORKDIR: write WORKDIR/root.pem and
# WORKDIR/intermediate.pem (the issuing hierarchy of this Pebble run: it is
# new on every start) from the management API.
pebble_fetch_roots() {
	_pe_dir=${1:?pebble_fetch_roots WORKDIR}
	[ -f "$_pe_dir/pebble.env" ] || {
		_pebble_err "no $_pe_dir/pebble.env: was pebble_start $_pe_dir run?"
		return 1
	}
	# A subshell: the instance's settings are read from its own WORKDIR and
	# do not touch the caller's variables.
	(
		. "$_pe_dir/pebble.env"
		for _pe_what in roots intermediates; do
			case $_pe_what in
			roots) _pe_out="$_pe_dir/root.pem" ;;
			*) _pe_out="$_pe_dir/intermediate.pem" ;;
			esac
			curl -sf --max-time 10 --cacert "$PEBBLE_CA_BUNDLE" \
				-o "$_pe_out" "$PEBBLE_MGMT_URL/$_pe_what/0" || {
				_pebble_err "cannot fetch $PEBBLE_MGMT_URL/$_pe_what/0"
				exit 1
			}
			grep -q -- '-----BEGIN CERTIFICATE-----' "$_pe_out" || {
				_pebble_err "$PEBBLE_MGMT_URL/$_pe_what/0 is not a PEM certificate"
				exit 1
			}
		done
	)
}

# pebble_stop WORKDIR: stop the processes pebble_start recorded in
# WORKDIR/pids (TERM, then KILL after 5 s), reap them if they are our
# children, and remove the PID file. Safe to call twice.
pebble_stop() {
	_pe_dir=${1:?pebble_stop WORKDIR}
	[ -f "$_pe_dir/pids" ] || return 0
	for _pe_pid in $(cat "$_pe_dir/pids"); do
		if _pebble_alive "$_pe_pid" && _pebble_ours "$_pe_pid"; then
			kill -TERM "$_pe_pid" 2>/dev/null || true
			_pe_tries=50
			while [ "$_pe_tries" -gt 0 ] && _pebble_alive "$_pe_pid"; do
				sleep 0.1
				_pe_tries=$((_pe_tries - 1))
			done
			if _pebble_alive "$_pe_pid"; then
				kill -KILL "$_pe_pid" 2>/dev/null || true
			fi
		fi
		# Reap it if it is a child of this shell; a no-op otherwise.
		wait "$_pe_pid" 2>/dev/null || true
	done
	rm -f "$_pe_dir/pids"
	return 0
}
