#!/bin/sh
# nonce_reject: Pebble rejects half of all valid nonces with badNonce;
# certo must retry each request with the fresh nonce and still issue.
. "$(dirname "$0")/lib.sh"
it_init nonce_reject
PEBBLE_WFE_NONCEREJECT=50
export PEBBLE_WFE_NONCEREJECT
it_start_pebble
# Make sure the knob reached Pebble, or this test proves nothing.
grep -q 'reject 50% of good nonces' "$IT_PEBBLE_DIR/pebble.log" ||
	fail "Pebble did not log 'Configured to reject 50% of good nonces'"

IT_GLOBAL_OPTS=-v
it_issue -d n.certo.test
it_expect_rc 0 "issue with 50% badNonce"
# -v logs protocol detail to stderr, never a private key.
if grep -q 'PRIVATE KEY' "$IT_ERR"; then
	fail "-v output contains a PEM private key"
fi
# Informational: -v's wording is not part of the contract.
it_log "badNonce mentioned $(grep -ci badnonce "$IT_ERR") times in the -v output"
it_check_issued n.certo.test n.certo.test
it_pass
