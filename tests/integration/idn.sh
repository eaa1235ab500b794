#!/bin/sh
# idn: a Unicode name given on the command line (UTF-8) is converted to its
# A-label (IDNA2008, libidn2): bücher.certo.test -> xn--bcher-kva.certo.test.
# A second name is issued under LC_ALL=C, the locale cron jobs often get:
# argv is still UTF-8 there.
. "$(dirname "$0")/lib.sh"
it_init idn
it_start_pebble

# find_live ALABEL ULABEL: the live directory's name. The contract says
# live/<first-name>; the A-label (a plain ASCII path) is expected, the
# U-label is tolerated and noted.
find_live() {
	if [ -d "$IT_STATE/live/$1" ]; then
		live=$1
	elif [ -d "$IT_STATE/live/$2" ]; then
		live=$2
		it_log "note: live directory uses the U-label '$2'"
	else
		fail "no live/$1 (live/ has: $(ls "$IT_STATE/live" 2>/dev/null | tr '\n' ' '))"
	fi
}

LC_ALL=C.UTF-8
export LC_ALL
it_issue -d 'bücher.certo.test'
it_expect_rc 0 "issue bücher.certo.test (LC_ALL=C.UTF-8)"
find_live xn--bcher-kva.certo.test 'bücher.certo.test'
it_check_issued "$live" xn--bcher-kva.certo.test

LC_ALL=C
export LC_ALL
it_issue -d 'münchen.certo.test'
it_expect_rc 0 "issue münchen.certo.test (LC_ALL=C)"
find_live xn--mnchen-3ya.certo.test 'münchen.certo.test'
it_check_issued "$live" xn--mnchen-3ya.certo.test
it_pass
