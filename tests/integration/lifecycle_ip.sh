#!/bin/sh
# lifecycle_ip: IP address identifiers (RFC 8738). Pebble validates an ip
# identifier by connecting to the address itself, so 127.0.0.1 reaches
# certo's responder.
#  - http-01 (standalone) for -d 127.0.0.1: the certificate's only SAN is
#    "IP Address:127.0.0.1", and the order asked for an "ip" identifier;
#  - tls-alpn-01 for 127.0.0.1 (Pebble 2.4 supports it; the validator asks
#    for the reverse-DNS name in SNI);
#  - ::1 (when the host has IPv6 loopback);
#  - a DNS name and an IP address in one certificate.
# PEBBLE_AUTHZREUSE=0: every order is validated afresh.
. "$(dirname "$0")/lib.sh"
it_init lifecycle_ip
PEBBLE_AUTHZREUSE=0 it_start_pebble

# check_ip_cert LIVENAME SAN...: cert.pem has exactly the SANs SAN... (as
# openssl prints them), verifies to Pebble's root, matches privkey.pem.
check_ip_cert() {
	_live="$IT_STATE/live/$1"
	shift
	[ -d "$_live" ] || fail "no $_live (live/ has: $(ls "$IT_STATE/live" 2>/dev/null | tr '\n' ' '))"
	for _f in cert.pem chain.pem fullchain.pem privkey.pem; do
		[ -s "$_live/$_f" ] || fail "missing or empty $_live/$_f"
	done
	_want=$(for _s in "$@"; do echo "$_s"; done | LC_ALL=C sort)
	_got=$(it_cert_sans "$_live/cert.pem")
	[ "$_got" = "$_want" ] ||
		fail "$_live/cert.pem SANs are [$(echo "$_got" | tr '\n' ' ')], expected [$(echo "$_want" | tr '\n' ' ')]"
	it_expect_verifies "$_live/cert.pem" "$_live/chain.pem"
	it_expect_verifies "$_live/cert.pem" "$IT_INTERMEDIATE"
	it_expect_key_matches "$_live/privkey.pem" "$_live/cert.pem"
	it_expect_private_modes
	it_expect_no_tmp
}

# ip_validations: how many validations Pebble ran for the ip identifier
# 127.0.0.1.
ip_validations() {
	grep -c 'Identifier{Type:"ip", Value:"127.0.0.1"}' "$IT_PEBBLE_DIR/pebble.log"
}

# -- http-01
IT_GLOBAL_OPTS=--json it_issue -d 127.0.0.1
it_expect_rc 0 "issue -d 127.0.0.1 (http-01)"
check_ip_cert 127.0.0.1 "IP Address:127.0.0.1"
[ "$(it_json_lines_field "$IT_OUT" challenge_answered challenge)" = http-01 ] ||
	fail "the JSON output has no challenge_answered event for http-01"
n_http=$(ip_validations)
[ "$n_http" -ge 1 ] || fail "Pebble validated no identifier {type: ip, value: 127.0.0.1}"
serial1=$(it_cert_serial "$IT_STATE/live/127.0.0.1/cert.pem")

# -- tls-alpn-01
IT_GLOBAL_OPTS=--json it_issue -d 127.0.0.1 --challenge tls-alpn-01 \
	--tls-port "$IT_TLS_PORT" --tls-addr 127.0.0.1
it_expect_rc 0 "issue -d 127.0.0.1 --challenge tls-alpn-01"
check_ip_cert 127.0.0.1 "IP Address:127.0.0.1"
[ "$(it_json_lines_field "$IT_OUT" challenge_answered challenge)" = tls-alpn-01 ] ||
	fail "the JSON output has no challenge_answered event for tls-alpn-01"
[ "$(ip_validations)" -gt "$n_http" ] ||
	fail "Pebble ran no new validation for the ip identifier (authorization reused?)"
[ "$(it_cert_serial "$IT_STATE/live/127.0.0.1/cert.pem")" != "$serial1" ] ||
	fail "live/127.0.0.1/cert.pem did not change on the second issuance"

# -- IPv6 loopback, when this host has it: Pebble dials [::1]
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	it_issue -d ::1 --http-addr ::1
	it_expect_rc 0 "issue -d ::1 --http-addr ::1"
	check_ip_cert ::1 "IP Address:0:0:0:0:0:0:0:1"
else
	it_log "no IPv6 loopback here: ::1 not tested"
fi

# -- a DNS name and an IP address together
it_issue -d mixed.certo.test -d 127.0.0.1
it_expect_rc 0 "issue -d mixed.certo.test -d 127.0.0.1"
check_ip_cert mixed.certo.test "DNS:mixed.certo.test" "IP Address:127.0.0.1"
it_pass
