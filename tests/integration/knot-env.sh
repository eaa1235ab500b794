# shellcheck shell=sh
# knot-env.sh: start and stop a throwaway authoritative DNS server (Knot DNS,
# Debian package `knot`) on loopback, for the DNS-01 discovery tests.
#
# Source this file; do not execute it.
#
#   . tests/integration/knot-env.sh
#   knot_installed || it_skip "knot not installed"
#   knot_start "$work" 15320 || exit 1     # 127.0.0.1:15320, UDP and TCP
#   ... nsupdate -k "$KNOT_TSIG_FILE" ..., or scripts/hooks/nsupdate.sh
#   knot_stop "$work"
#
# Zones (SOA negative TTL 1 s, so NXDOMAIN is not cached for long):
#   certo.test.       NS ns1.certo.test., ns1.certo.test. A 127.0.0.1 (glue)
#                     _acme-challenge.c CNAME c.acme.certo-dele.test.
#                     _acme-challenge.m TXT "one-record-" "in-two-strings"
#                     _acme-challenge.m TXT "second-record"
#   certo-dele.test.  NS ns1.certo.test. (CNAME delegation target zone)
# Both accept dynamic updates (RFC 2136) signed with one TSIG key.
#
# The name server's address is 127.0.0.1 but it listens on PORT: certo's
# discovery, pointed at this server as its resolver, queries discovered
# name servers on the resolver's port (see client/dns01_propagation.h).
#
# knot_start exports KNOT_PORT, KNOT_TSIG (hmac-sha256:certo-key:SECRET, for
# `nsupdate -y`), KNOT_TSIG_FILE (a BIND key file, for `nsupdate -k`),
# KNOT_PID, and writes them to WORKDIR/knot.env. Log: WORKDIR/knot.log.

# knot_installed: knotd and openssl (for the TSIG secret) are on PATH.
knot_installed() {
	command -v knotd >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1
}

# nsupdate_installed: nsupdate (bind9-dnsutils) is on PATH.
nsupdate_installed() {
	command -v nsupdate >/dev/null 2>&1
}

_knot_err() {
	echo "knot-env: $*" >&2
}

# _knot_alive PID: true while PID runs and is not a zombie.
_knot_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	if [ -r "/proc/$1/stat" ]; then
		case "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" in
		Z | X | "") return 1 ;;
		esac
	fi
	return 0
}

# _knot_ready PORT: the server answers an SOA query for certo.test.
_knot_ready() {
	if command -v dig >/dev/null 2>&1; then
		dig +short +time=1 +tries=1 -p "$1" @127.0.0.1 certo.test SOA 2>/dev/null |
			grep -q hostmaster
		return
	fi
	if command -v kdig >/dev/null 2>&1; then
		kdig +short +time=1 +retry=0 -p "$1" @127.0.0.1 certo.test SOA 2>/dev/null |
			grep -q hostmaster
		return
	fi
	# No query tool: the control socket says the server runs.
	knotc -s "$_ke_dir/knot.sock" status >/dev/null 2>&1
}

# knot_start WORKDIR PORT
knot_start() {
	if [ $# -ne 2 ]; then
		_knot_err "usage: knot_start WORKDIR PORT"
		return 2
	fi
	_ke_dir=$1
	_ke_port=$2
	case "$_ke_port" in
	'' | *[!0-9]*)
		_knot_err "not a port number: '$_ke_port'"
		return 2
		;;
	esac
	knot_installed || {
		_knot_err "knotd not installed (Debian package knot)"
		return 1
	}
	mkdir -p "$_ke_dir/zones" "$_ke_dir/db" || return 1
	_ke_dir=$(cd "$_ke_dir" && pwd) || return 1
	if [ -f "$_ke_dir/knot.pid.ours" ] && _knot_alive "$(cat "$_ke_dir/knot.pid.ours")"; then
		_knot_err "already running in $_ke_dir: knot_stop it first"
		return 1
	fi
	_ke_secret=$(openssl rand -base64 32) || return 1

	cat >"$_ke_dir/zones/certo.test.zone" <<'EOF'
$ORIGIN certo.test.
$TTL 60
@                  SOA   ns1 hostmaster 1 3600 600 86400 1
@                  NS    ns1
ns1                A     127.0.0.1
_acme-challenge.c  CNAME c.acme.certo-dele.test.
_acme-challenge.m  TXT   "one-record-" "in-two-strings"
_acme-challenge.m  TXT   "second-record"
EOF
	cat >"$_ke_dir/zones/certo-dele.test.zone" <<'EOF'
$ORIGIN certo-dele.test.
$TTL 60
@                  SOA   ns1.certo.test. hostmaster.certo.test. 1 3600 600 86400 1
@                  NS    ns1.certo.test.
EOF
	cat >"$_ke_dir/knot.conf" <<EOF
server:
    rundir: "$_ke_dir"
    pidfile: "$_ke_dir/knot.pid"
    listen: 127.0.0.1@$_ke_port

log:
  - target: stderr
    any: info

database:
    storage: "$_ke_dir/db"

control:
    listen: "$_ke_dir/knot.sock"

key:
  - id: certo-key
    algorithm: hmac-sha256
    secret: $_ke_secret

acl:
  - id: certo-update
    key: certo-key
    action: update

template:
  - id: default
    storage: "$_ke_dir/zones"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: certo.test
    acl: certo-update
  - domain: certo-dele.test
    acl: certo-update
EOF
	cat >"$_ke_dir/tsig.key" <<EOF
key "certo-key" {
	algorithm hmac-sha256;
	secret "$_ke_secret";
};
EOF
	chmod 600 "$_ke_dir/tsig.key"

	knotd -c "$_ke_dir/knot.conf" >"$_ke_dir/knot.log" 2>&1 </dev/null &
	_ke_pid=$!
	echo "$_ke_pid" >"$_ke_dir/knot.pid.ours"
	_ke_tries=100
	while [ "$_ke_tries" -gt 0 ]; do
		if ! _knot_alive "$_ke_pid"; then
			_knot_err "knotd exited during start-up; end of $_ke_dir/knot.log:"
			tail -n 15 "$_ke_dir/knot.log" | sed 's/^/  /' >&2
			rm -f "$_ke_dir/knot.pid.ours"
			return 1
		fi
		_knot_ready "$_ke_port" && break
		sleep 0.1
		_ke_tries=$((_ke_tries - 1))
	done
	if [ "$_ke_tries" -eq 0 ]; then
		_knot_err "knotd did not answer on 127.0.0.1:$_ke_port within 10 s"
		knot_stop "$_ke_dir"
		return 1
	fi
	KNOT_PORT=$_ke_port
	KNOT_TSIG="hmac-sha256:certo-key:$_ke_secret"
	KNOT_TSIG_FILE="$_ke_dir/tsig.key"
	KNOT_PID=$_ke_pid
	export KNOT_PORT KNOT_TSIG KNOT_TSIG_FILE KNOT_PID
	cat >"$_ke_dir/knot.env" <<EOF
KNOT_PORT='$KNOT_PORT'
KNOT_TSIG='$KNOT_TSIG'
KNOT_TSIG_FILE='$KNOT_TSIG_FILE'
KNOT_PID='$KNOT_PID'
export KNOT_PORT KNOT_TSIG KNOT_TSIG_FILE KNOT_PID
EOF
	return 0
}

# knot_stop WORKDIR: stop the knotd that knot_start started there (TERM,
# then KILL after 5 s). Safe to call twice.
knot_stop() {
	_ke_dir=${1:?knot_stop WORKDIR}
	[ -f "$_ke_dir/knot.pid.ours" ] || return 0
	_ke_pid=$(cat "$_ke_dir/knot.pid.ours")
	if _knot_alive "$_ke_pid" &&
		{ [ ! -r "/proc/$_ke_pid/comm" ] || [ "$(cat "/proc/$_ke_pid/comm")" = knotd ]; }; then
		kill -TERM "$_ke_pid" 2>/dev/null || true
		_ke_tries=50
		while [ "$_ke_tries" -gt 0 ] && _knot_alive "$_ke_pid"; do
			sleep 0.1
			_ke_tries=$((_ke_tries - 1))
		done
		_knot_alive "$_ke_pid" && kill -KILL "$_ke_pid" 2>/dev/null
	fi
	wait "$_ke_pid" 2>/dev/null || true
	rm -f "$_ke_dir/knot.pid.ours"
	return 0
}
