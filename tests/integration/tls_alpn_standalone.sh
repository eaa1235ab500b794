#!/bin/sh
# tls_alpn_standalone: TLS-ALPN-01 through certo's in-process GnuTLS
# responder (Pebble's tlsPort points at it), and challenge preference:
# with "tls-alpn-01,http-01" certo answers tls-alpn-01, with
# "http-01,tls-alpn-01" it answers http-01.
. "$(dirname "$0")/lib.sh"
it_init tls_alpn_standalone
it_start_pebble

it_issue -d t1.certo.test -d t2.certo.test --challenge tls-alpn-01 \
	--tls-port "$IT_TLS_PORT" --tls-addr 127.0.0.1
it_expect_rc 0 "issue via tls-alpn-01"
it_check_issued t1.certo.test t1.certo.test t2.certo.test
[ "$(grep -c 'tls-alpn-01 challenge answered' "$IT_OUT")" -eq 2 ] ||
	fail "expected two tls-alpn-01 answers in: $(cat "$IT_OUT")"

it_issue -d p1.certo.test --challenge tls-alpn-01,http-01 \
	--tls-port "$IT_TLS_PORT" --tls-addr 127.0.0.1
it_expect_rc 0 "issue preferring tls-alpn-01"
grep -q 'p1.certo.test tls-alpn-01 challenge answered' "$IT_OUT" ||
	fail "tls-alpn-01 was preferred but not used: $(cat "$IT_OUT")"
it_check_issued p1.certo.test p1.certo.test

it_issue -d p2.certo.test --challenge http-01,tls-alpn-01 \
	--tls-port "$IT_TLS_PORT" --tls-addr 127.0.0.1
it_expect_rc 0 "issue preferring http-01"
grep -q 'p2.certo.test http-01 challenge answered' "$IT_OUT" ||
	fail "http-01 was preferred but not used: $(cat "$IT_OUT")"

# The TLS port taken: exit 4, naming --tls-port, nothing stored.
it_listen "$IT_TLS_PORT"
it_issue -d busy.certo.test --challenge tls-alpn-01 --tls-port "$IT_TLS_PORT" \
	--tls-addr 127.0.0.1
it_expect_rc 4 "busy TLS port"
it_expect_err_contains "--tls-port"
[ ! -e "$IT_STATE/live/busy.certo.test" ] || fail "busy port left files"
it_pass
