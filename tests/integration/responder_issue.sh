#!/bin/sh
# responder_issue: certo issue --responder SOCKET through a running
# certo-responder, for http-01 and tls-alpn-01 (chains verify against
# Pebble's root); then the TLS-ALPN-01 server seen from openssl s_client:
# acme-tls/1 for a pending name gets the RFC 8737 validation certificate,
# http/1.1 does not; in --tls-proxy mode http/1.1 reaches the backend
# (openssl s_server) and gets the backend's certificate.
. "$(dirname "$0")/lib.sh"
it_init responder_issue
[ -n "${CERTO_RESPONDER:-}" ] && [ -x "$CERTO_RESPONDER" ] ||
	fail "CERTO_RESPONDER is not set to the certo-responder binary"
it_start_pebble

SOCK="$IT_TMP/responder.sock"
"$CERTO_RESPONDER" --socket "$SOCK" --http-port "$IT_HTTP_PORT" \
	--http-addr 127.0.0.1 --tls-port "$IT_TLS_PORT" --tls-addr 127.0.0.1 \
	--stay-root 2>"$IT_TMP/responder.log" &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
n=50
while [ ! -S "$SOCK" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "certo-responder did not create $SOCK: $(cat "$IT_TMP/responder.log")"
	sleep 0.1
done

common="--server $PEBBLE_DIR_URL --ca-bundle $PEBBLE_CA_BUNDLE --state-dir $IT_STATE --agree-tos --email test@example.com --responder $SOCK"
# shellcheck disable=SC2086
it_certo issue $common -d r1.certo.test
it_expect_rc 0 "issue via the responder (http-01)"
it_check_issued r1.certo.test r1.certo.test
# shellcheck disable=SC2086
it_certo issue $common -d r2.certo.test -d r3.certo.test -c tls-alpn-01
it_expect_rc 0 "issue via the responder (tls-alpn-01)"
it_check_issued r2.certo.test r2.certo.test r3.certo.test

# Nothing left published in the daemon.
ctl() {
	it_ctl "$SOCK" "$1"
}
[ "$(ctl list)" = "OK 0" ] || fail "the responder still lists entries after issuance: $(ctl list)"

# A pending tls-alpn-01 entry, then openssl s_client against it.
TOKEN=tok_abcdefghijklmnopqrstuvwxyz0123456789
KA="$TOKEN.thumb_abcdefghijklmnopqrstuvwxyz012345"
[ "$(ctl "auth tls-alpn-01 pending.certo.test $TOKEN $KA")" = OK ] ||
	fail "auth was refused"
sclient() {  # PORT ALPN SNI -> the peer certificate (PEM) or nothing
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" -alpn "$2" \
		-servername "$3" 2>/dev/null | openssl x509 2>/dev/null
}
cert=$(sclient "$IT_TLS_PORT" acme-tls/1 pending.certo.test)
[ -n "$cert" ] || fail "acme-tls/1 handshake for a pending name gave no certificate"
text=$(echo "$cert" | openssl x509 -noout -text)
echo "$text" | grep -q "DNS:pending.certo.test" || fail "validation cert lacks the SAN"
echo "$text" | grep -A1 "1.3.6.1.5.5.7.1.31: critical" >/dev/null ||
	fail "validation cert lacks the critical acmeIdentifier extension: $text"
want=$(printf '%s' "$KA" | openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n')
got=$(echo "$cert" | openssl asn1parse -inform PEM 2>/dev/null |
	grep -A2 'id-pe-acmeIdentifier\|1.3.6.1.5.5.7.1.31' | grep 'HEX DUMP' |
	tail -1 | sed 's/.*\[HEX DUMP\]://' | tr 'A-F' 'a-f')
[ "$got" = "0420$want" ] || fail "acmeIdentifier is [$got], expected [0420$want]"
[ -z "$(sclient "$IT_TLS_PORT" http/1.1 pending.certo.test)" ] ||
	fail "a validation certificate was served for ALPN http/1.1"
[ -z "$(sclient "$IT_TLS_PORT" acme-tls/1 unknown.certo.test)" ] ||
	fail "a certificate was served for an unknown name"

# Proxy mode: http/1.1 is spliced to a real TLS backend.
BPORT=$((IT_BASEPORT + 60))
PPORT=$((IT_BASEPORT + 61))
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=backend.certo.test" -days 1 -keyout "$IT_TMP/b.key" \
	-out "$IT_TMP/b.crt" 2>/dev/null || fail "openssl req failed"
openssl s_server -accept "$BPORT" -cert "$IT_TMP/b.crt" -key "$IT_TMP/b.key" \
	-www -quiet </dev/null >/dev/null 2>&1 &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
"$CERTO_RESPONDER" --socket "$IT_TMP/proxy.sock" --http-port 0 \
	--tls-port "$PPORT" --tls-addr 127.0.0.1 --tls-proxy "127.0.0.1:$BPORT" \
	--stay-root 2>"$IT_TMP/proxy.log" &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
n=50
while ! it_port_busy "$PPORT" || ! it_port_busy "$BPORT"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "proxy or backend did not start: $(cat "$IT_TMP/proxy.log")"
	sleep 0.1
done
SOCK_SAVE=$SOCK
SOCK="$IT_TMP/proxy.sock"
[ "$(ctl "auth tls-alpn-01 pending.certo.test $TOKEN $KA")" = OK ] ||
	fail "auth on the proxy daemon was refused"
SOCK=$SOCK_SAVE
subj=$(sclient "$PPORT" http/1.1 www.certo.test | openssl x509 -noout -subject 2>/dev/null)
echo "$subj" | grep -q "backend.certo.test" ||
	fail "http/1.1 through the proxy did not reach the backend (got: $subj)"
sclient "$PPORT" acme-tls/1 pending.certo.test | openssl x509 -noout -text 2>/dev/null |
	grep -q "1.3.6.1.5.5.7.1.31: critical" ||
	fail "acme-tls/1 through the proxy port did not get the validation certificate"
it_pass
