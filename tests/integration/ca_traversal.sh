#!/bin/sh
# ca_traversal: CA input never becomes a path (issue 9, item 3: today
# `certo authorize` writes authz/<ca>/<identifier>.json from the identifier
# the CA sends, and "../" x20 wrote a file outside the state directory).
# Through tests/integration/standin_ca.py (scenario ident): every
# authorization names the identifier
#   ../../(x20)../tmp/certo-pwn-<random>
# instead of the ordered name.
#  (a) certo authorize -d tr-a.certo.test
#  (b) certo issue -d tr-b.certo.test
# Each: exit 2, certo's error line names the bad identifier (sanitised),
# no /tmp/certo-pwn-<random>* exists, no file name under the state dir
# carries it, nothing under live/, no temp files, nothing written outside
# the state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_traversal
PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 it_start_pebble
IT_PWN="certo-pwn-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
[ "${#IT_PWN}" -eq 22 ] || fail "cannot make a random name"
# Whatever happens, the file a broken certo wrote in /tmp goes away.
# shellcheck disable=SC2154 # _ca_rc is set inside the trap
trap '_ca_rc=$?; rm -f "/tmp/$IT_PWN" "/tmp/$IT_PWN".*; (exit $_ca_rc); _it_cleanup' EXIT
up=""
for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	up="$up../"
done
bad="${up}tmp/$IT_PWN"
it_start_standin ident --set "ident=$bad"
it_outside_begin
CERTO_IT_RUN_TIMEOUT=30

# expect_refused WHAT: the checks after each run.
expect_refused() {
	# (the worst first: a file outside the state dir)
	_left=$(find /tmp -maxdepth 1 -name "$IT_PWN*" | head -n 3)
	[ -z "$_left" ] || fail "$1: certo wrote outside the state dir: $(echo "$_left" | tr '\n' ' ')"
	_left=$(find "$IT_STATE" -name "*certo-pwn*" | head -n 3)
	[ -z "$_left" ] || fail "$1: a file name in the state dir comes from the CA's identifier: $(echo "$_left" | tr '\n' ' ')"
	it_expect_rc 2 "$1"
	it_expect_err_certo_line "$1"
	# (a sanitised name may be cut short: its start will do)
	it_err_msg | grep -qF -e "$IT_PWN" -e "../../../" ||
		fail "$1: certo's error line [$(it_err_msg)] does not name the CA's identifier"
	it_expect_no_ctl_bytes "$IT_ERR" "$1"
	it_expect_no_live "$1"
	it_expect_no_tmp
	it_expect_nothing_outside "$1"
}

if it_case a; then
	it_si_ca authorize --standalone --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 --agree-tos --email test@example.com -d tr-a.certo.test
	expect_refused "authorize, the CA's identifier is a ../ path"
fi
if it_case b; then
	it_si_issue -d tr-b.certo.test
	expect_refused "issue, the CA's identifier is a ../ path"
fi
it_pass
