#!/bin/sh
# ca_escape_bytes: every CA string certo prints is sanitised (issue 9,
# item 3: identifiers with ESC/BEL bytes are printed raw today). Through
# tests/integration/standin_ca.py:
#  (a) scenario escape_problem: newOrder is refused (403 rejectedIdentifier)
#      with ESC (0x1b) and BEL (0x07) bytes in the detail, in a
#      subproblem's detail and in its identifier;
#  (b) scenario ident: the authorization names
#      "esc<ESC>[31m.bel<BEL>.certo.test" instead of the ordered name.
# Each: exit 2, neither stderr nor stdout holds a raw ESC or BEL byte, and
# certo's error line shows them escaped (\x1b, \x07); nothing under live/,
# no temp files, nothing written outside the state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_escape_bytes
PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 it_start_pebble
it_start_standin escape_problem \
	--set 'ident="esc\u001b[31m.bel\u0007.certo.test"'
it_outside_begin
CERTO_IT_RUN_TIMEOUT=30

# expect_escaped WHAT
expect_escaped() {
	it_expect_no_ctl_bytes "$IT_ERR" "$1"
	it_expect_no_ctl_bytes "$IT_OUT" "$1"
	it_expect_rc 2 "$1"
	it_expect_err_certo_line "$1"
	it_expect_msg_contains '\x1b' "$1: ESC shown escaped"
	it_expect_msg_contains '\x07' "$1: BEL shown escaped"
	it_expect_no_live "$1"
	it_expect_no_tmp
	it_expect_nothing_outside "$1"
}

if it_case a; then
	it_si_set '{"scenario": "escape_problem"}'
	it_si_issue -d esc-a.certo.test
	expect_escaped "a problem document with ESC/BEL"
	it_expect_msg_contains "rejectedIdentifier" "the problem type"
	it_expect_msg_contains "policy forbids" "the problem detail"
fi
if it_case b; then
	it_si_set '{"scenario": "ident"}'
	it_si_issue -d esc-b.certo.test
	expect_escaped "an authorization identifier with ESC/BEL"
	it_expect_msg_contains 'esc\x1b[31m.bel\x07.certo.test' "the identifier, escaped"
fi
it_pass
