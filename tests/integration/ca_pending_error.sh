#!/bin/sh
# ca_pending_error: a CA that keeps the authorization "pending" after a
# failed validation and puts the failure on the challenge (RFC 8555 7.1.6
# allows a server to let a client retry; smallstep-based CAs do this).
# Through tests/integration/standin_ca.py (scenario pending_error): once
# certo answered the challenge, the authorization stays "pending" and the
# challenge carries "error" {incorrectResponse, a detail, one subproblem
# naming the identifier}, with challenge status
#  (a) "pending"  (b) "invalid".
# Each: exit 2 within a few polls (fewer than 10 authorization/challenge
# POST-as-GETs after the answer, and within 30 s), certo's error line
# shows the problem type, the detail and the subproblem (identifier and
# detail), nothing under live/, no temp files, nothing written outside the
# state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_pending_error
# No random badNonce answers (they would blur the request counts), no
# authorization reuse between the cases.
PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 it_start_pebble
it_start_standin pending_error
it_outside_begin
CERTO_IT_RUN_TIMEOUT=30

# pending_case NAME CHALLENGE-STATUS
pending_case() {
	_name=$1
	it_si_set "{\"chall_status\": \"$2\", \"authz_status\": \"pending\"}"
	_seq=$(it_si_seq)
	it_si_issue -d "$_name"
	it_expect_rc 2 "authorization pending, challenge $2 with an error"
	it_expect_err_certo_line "challenge $2"
	_ans=$(it_si_first "e[\"n\"] > $_seq and e[\"kind\"] == \"challenge\" and isinstance(e[\"payload\"], dict)")
	[ "$_ans" -gt 0 ] || fail "challenge $2: certo never answered the challenge"
	_polls=$(it_si_count "e[\"n\"] > $_ans and e[\"kind\"] in (\"authz\", \"challenge\") and e[\"method\"] == \"POST\" and e[\"payload\"] == \"\"")
	it_log "challenge $2: exit $IT_RC after ${IT_ELAPSED}s, $_polls polls after the answer"
	[ "$_polls" -ge 1 ] || fail "challenge $2: certo did not look at the authorization after answering"
	[ "$_polls" -lt 10 ] ||
		fail "challenge $2: $_polls authorization/challenge polls after the answer (the error was there from the first one)"
	# The CA's problem: type, detail, and the subproblem.
	it_expect_msg_contains "incorrectResponse" "challenge $2: the problem type"
	it_expect_msg_contains "did not match (pending_error)" "challenge $2: the problem detail"
	it_expect_msg_contains "stand-in subproblem: got 'nope'" "challenge $2: the subproblem's detail"
	it_expect_msg_contains "$_name" "challenge $2: the identifier"
	it_expect_no_live "challenge $2"
	it_expect_no_tmp
	it_expect_nothing_outside "challenge $2"
}

it_case a && pending_case pe-a.certo.test pending
it_case b && pending_case pe-b.certo.test invalid
it_pass
