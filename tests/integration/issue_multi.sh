#!/bin/sh
# issue_multi: three names in one certificate; the live directory is named
# after the first one and the SANs are exactly the three.
. "$(dirname "$0")/lib.sh"
it_init issue_multi
it_start_pebble

it_issue -d x.certo.test -d y.certo.test -d z.certo.test
it_expect_rc 0 "issue x, y, z"
it_check_issued x.certo.test x.certo.test y.certo.test z.certo.test
[ ! -e "$IT_STATE/live/y.certo.test" ] && [ ! -e "$IT_STATE/live/z.certo.test" ] ||
	fail "live/ has a directory for a name other than the first"
it_pass
