#!/bin/sh
# ca_resume_invalid: a saved order whose challenge turned "invalid" while
# certo was away must not be resumed forever (issue 9, item 1).
# Through tests/integration/standin_ca.py (scenario resume_invalid):
#  run 1: certo answers the challenge, the stand-in keeps the authorization
#         "pending" (challenge "processing"), certo is killed with SIGKILL:
#         orders/<hash>/ holds the order;
#  run 2: the stand-in now shows that saved order's challenge "invalid"
#         with an error, its authorization
#         (a) "pending" (as smallstep-based CAs leave it)
#         (b) "invalid"
#         and the order "pending". certo must not wait on the old order: it
#         starts a NEW order (a second newOrder POST reaches the stand-in),
#         which passes through to Pebble untouched, and gets the
#         certificate (exit 0, verified against Pebble's root) within 30 s;
#         orders/ is empty afterwards, nothing written outside the state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_resume_invalid
PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 it_start_pebble
it_start_standin resume_invalid --phase hold
it_outside_begin
CERTO_IT_RUN_TIMEOUT=30

NEWORDER='e["kind"] == "newOrder" and e["method"] == "POST" and e["status"] == 201'

# resume_case NAME AUTHZ-STATUS
resume_case() {
	_name=$1
	_what="saved order, challenge invalid, authorization $2"
	it_si_set "{\"phase\": \"hold\", \"authz_status\": \"$2\"}"
	_n0=$(it_si_count "$NEWORDER")
	it_si_issue_killed "$_name" "$_what"
	[ "$(it_si_count "$NEWORDER")" -eq $((_n0 + 1)) ] ||
		fail "$_what: run 1 did not create exactly one order"

	it_si_set '{"phase": "invalid"}'
	_seq=$(it_si_seq)
	it_si_issue -d "$_name"
	it_expect_rc 0 "$_what: the rerun"
	it_log "$_what: rerun exit $IT_RC after ${IT_ELAPSED}s"
	_new=$(it_si_count "e[\"n\"] > $_seq and $NEWORDER")
	[ "$_new" -eq 1 ] ||
		fail "$_what: the rerun sent $_new accepted newOrder requests, expected 1 (a new order instead of the invalid one)"
	_live="$IT_STATE/live/$_name"
	it_expect_sans "$_live/cert.pem" "$_name"
	it_expect_verifies "$_live/cert.pem" "$IT_INTERMEDIATE"
	it_expect_verifies "$_live/cert.pem" "$_live/chain.pem"
	it_expect_key_matches "$_live/privkey.pem" "$_live/cert.pem"
	if [ -d "$IT_STATE/orders" ]; then
		_left=$(find "$IT_STATE/orders" -mindepth 1 | head -n 5)
		[ -z "$_left" ] || fail "$_what: orders/ is not empty: $(echo "$_left" | tr '\n' ' ')"
	fi
	it_expect_private_modes
	it_expect_no_tmp
	it_expect_nothing_outside "$_what"
}

it_case a && resume_case ri-a.certo.test pending
it_case b && resume_case ri-b.certo.test invalid
it_pass
