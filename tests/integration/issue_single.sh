#!/bin/sh
# issue_single: one name, http-01 via the standalone responder. Checks the
# whole result: exit 0, chain, split of fullchain, SANs, key, modes, no
# temp files, account files.
. "$(dirname "$0")/lib.sh"
it_init issue_single
it_start_pebble

it_issue -d a.certo.test
it_expect_rc 0 "issue a.certo.test"
it_check_issued a.certo.test a.certo.test
it_account_line "$IT_OUT" | grep -q 'https://localhost:' ||
	fail "stdout has no 'account: ... https://localhost:...' line"
it_pass
