#!/bin/sh
# ca_ready_forever: a CA that answers finalize, and every later poll of the
# order, with status "ready" forever (issue 9, item 2: today certo sends
# about 1,350 POSTs a minute without end). Through
# tests/integration/standin_ca.py (scenario ready_forever: finalize never
# reaches Pebble; the stand-in answers it with the order in state "ready").
# With --ca-timeout 10 (how long certo waits on the CA per stage): exit 3
# within the run timeout (25 s), the message says the order is still not
# done / timed out, fewer than 60 order requests (finalize + order polls)
# in all, nothing under live/, no temp files, nothing written outside the
# state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_ready_forever
PEBBLE_WFE_NONCEREJECT=0 it_start_pebble
it_start_standin ready_forever
it_outside_begin
CERTO_IT_RUN_TIMEOUT=25
name=rf.certo.test

it_si_issue -d "$name" --ca-timeout 10
fin=$(it_si_count 'e["kind"] == "finalize" and e["method"] == "POST"')
polls=$(it_si_count 'e["kind"] == "order" and e["method"] == "POST"')
it_log "exit $IT_RC after ${IT_ELAPSED}s: $fin finalize, $polls order requests"
it_expect_rc 3 "finalize and the order stay ready forever"
it_expect_err_certo_line "ready forever"
[ "$fin" -ge 1 ] || fail "certo never sent finalize"
[ $((fin + polls)) -lt 60 ] ||
	fail "certo sent $fin finalize and $polls order requests in ${IT_ELAPSED}s (expected fewer than 60 in all)"
it_err_msg | grep -qiE 'still not done|not done|timed out|time(d)? ?out' ||
	fail "certo's error line [$(it_err_msg)] does not say that the order is still not done / timed out"
it_expect_no_live "ready forever"
it_expect_no_tmp
it_expect_nothing_outside "ready forever"
it_pass
