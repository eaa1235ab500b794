#!/bin/sh
# ca_resume_processing: a saved order whose challenge is still
# "processing" when certo resumes it: certo must publish the key
# authorization again before it waits (issue 9, item 1: today the CA's
# validation gets a 404 and the authorization turns invalid).
# Through tests/integration/standin_ca.py (scenario resume_processing):
#  run 1: certo answers the http-01 challenge; the stand-in does NOT pass
#         the answer on to Pebble, says "processing" and keeps the signed
#         request; certo is killed with SIGKILL (its responder dies with it);
#  run 2: the challenge still looks "processing"; when certo answers it
#         again (forwarded) or has polled the authorization twice, the
#         stand-in sends the kept answer to Pebble, which validates against
#         certo's responder right then.
# Expected: run 2 resumes the same order (no new newOrder), Pebble's
# validation finds the key authorization (the stand-in released the
# answer, Pebble set the authorization valid), exit 0, a certificate that
# verifies, orders/ empty, nothing written outside the state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_resume_processing
PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 it_start_pebble
it_start_standin resume_processing --phase hold
it_outside_begin
CERTO_IT_RUN_TIMEOUT=30
name=rp.certo.test
NEWORDER='e["kind"] == "newOrder" and e["method"] == "POST" and e["status"] == 201'

# -- run 1: killed while the answer is held back
it_si_issue_killed "$name" "run 1"
[ "$(it_si_count 'e["kind"] == "challenge" and e["mutated"] == "answered by the stand-in"')" -eq 1 ] ||
	fail "run 1: the stand-in did not hold back exactly one challenge answer"
[ "$(it_si_count "$NEWORDER")" -eq 1 ] || fail "run 1 did not create exactly one order"
grep -q 'set VALID' "$IT_PEBBLE_DIR/pebble.log" &&
	fail "Pebble validated during run 1 although the stand-in held the answer back"

# -- run 2: resume; the challenge is still processing
it_si_set '{"phase": "release"}'
seq=$(it_si_seq)
it_si_issue -d "$name"
it_log "run 2: exit $IT_RC after ${IT_ELAPSED}s"
[ "$(it_si_count "e[\"n\"] > $seq and e[\"kind\"] == \"event\" and e.get(\"event\") == \"released\"")" -eq 1 ] ||
	fail "run 2: the stand-in never released the held answer to Pebble (certo neither answered again nor polled twice)"
it_expect_rc 0 "run 2, resuming the order whose challenge is processing"
[ "$(it_si_count "e[\"n\"] > $seq and $NEWORDER")" -eq 0 ] ||
	fail "run 2 created a new order instead of resuming the saved one"
grep -q 'set VALID by completed challenge' "$IT_PEBBLE_DIR/pebble.log" ||
	fail "Pebble did not validate the resumed challenge"
live="$IT_STATE/live/$name"
it_expect_sans "$live/cert.pem" "$name"
it_expect_verifies "$live/cert.pem" "$IT_INTERMEDIATE"
it_expect_verifies "$live/cert.pem" "$live/chain.pem"
it_expect_key_matches "$live/privkey.pem" "$live/cert.pem"
if [ -d "$IT_STATE/orders" ]; then
	left=$(find "$IT_STATE/orders" -mindepth 1 | head -n 5)
	[ -z "$left" ] || fail "orders/ is not empty: $(echo "$left" | tr '\n' ' ')"
fi
it_expect_private_modes
it_expect_no_tmp
it_expect_nothing_outside "resumed processing challenge"
it_pass
