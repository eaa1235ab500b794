#!/bin/sh
# alloc_fail: fail the Nth allocation of certo's own code, for every N of a
# full issuance (certo-allocfail, see allocfail.c and CMakeLists.txt).
# This shard takes the N's with N mod CERTO_ALLOC_SHARDS = CERTO_ALLOC_SHARD.
#
# A count run on a fresh state directory gives T, the number of
# allocations of one issuance.  Then for each N of this shard in 1..T+M
# (M: margin, the count varies a little with polling and threads):
#   1. certo issue with CERTO_FAIL_ALLOC=N on a fresh state directory:
#      no signal, no sanitizer report (ASan: no leak either); either it
#      exits 4 with one "certo: ...out of memory" line as the last line of
#      stderr, or (the failed allocation was optional, such as pinning
#      the CA's root) it issues; no temporary files or staging directories
#      are left;
#   2. a plain certo issue on the same state directory then succeeds and
#      the live key matches the live certificate.
# The shard goes on after a failed N and reports every failed N at the end
# (at most CERTO_ALLOC_MAX_FAILURES, default 5).  Environment:
# CERTO_ALLOC_STRIDE=K runs only every Kth N of the shard (default 1: every
# N); CERTO_ALLOC_MAX=N stops at N; CERTO_ALLOC_VERBOSE=1 logs each N's exit
# code and message.  To see where the Nth allocation is made, run
# certo-allocfail by hand with CERTO_FAIL_ALLOC=N CERTO_ALLOC_TRACE=1.
. "$(dirname "$0")/../integration/lib.sh"
SHARD=${CERTO_ALLOC_SHARD:-0}
SHARDS=${CERTO_ALLOC_SHARDS:-1}
STRIDE=${CERTO_ALLOC_STRIDE:-1}
MARGIN=${CERTO_ALLOC_MARGIN:-40}
it_init "alloc_fail_$SHARD"
it_start_pebble

# Sanitizer reports get their own exit code, distinct from certo's; leak
# detection is on unless the caller turns it off.
ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}:exitcode=86"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=86"
export ASAN_OPTIONS UBSAN_OPTIONS
NAME=alloc.certo.test
STATES="$IT_TMP/states"
mkdir -p "$STATES" || fail "mkdir $STATES"

# sanitizer_report FILE: true if FILE holds an ASan/LSan/UBSan report.
sanitizer_report() {
	grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|AddressSanitizer|LeakSanitizer' "$1"
}

# use_state DIR: the state directory of the next runs.
use_state() {
	IT_STATE=$1
	IT_ACCOUNT_DIR="$IT_STATE/accounts/localhost_$IT_BASEPORT"
}

# The count run.
use_state "$STATES/count"
CERTO_ALLOC_COUNT="$IT_TMP/count" it_issue -d "$NAME"
it_expect_rc 0 "count run"
sanitizer_report "$IT_ERR" && fail "sanitizer report in the count run"
it_check_issued "$NAME" "$NAME"
# Both keys load in python3-cryptography (RFC 5915 fixed-length EC keys).
"$IT_PY" -c '
import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
for f in sys.argv[1:]:
    load_pem_private_key(open(f, "rb").read(), None)
' "$IT_STATE/live/$NAME/privkey.pem" "$IT_ACCOUNT_DIR/account.key" ||
	fail "python3-cryptography cannot load privkey.pem or account.key"
T=$(cat "$IT_TMP/count") || fail "no allocation count written"
[ "$T" -gt 100 ] || fail "implausible allocation count $T (is certo-allocfail wrapped?)"
it_log "one issuance makes $T allocations; shard $SHARD/$SHARDS, stride $STRIDE"
LAST=$((T + MARGIN))
[ -n "${CERTO_ALLOC_MAX:-}" ] && [ "$CERTO_ALLOC_MAX" -lt "$LAST" ] && LAST=$CERTO_ALLOC_MAX

# one_n N: the failed run and the plain run after it (in a subshell: a
# failed check exits it with 1 and its report; the shard goes on).
one_n() {
	use_state "$STATES/$1"
	rm -f "$IT_TMP/count" "$IT_TMP/rc"
	CERTO_FAIL_ALLOC=$1 CERTO_ALLOC_COUNT="$IT_TMP/count" it_issue -d "$NAME"
	echo "$IT_RC" >"$IT_TMP/rc"
	what="N=$1/$T"
	[ "${CERTO_ALLOC_VERBOSE:-}" = 1 ] &&
		it_log "$what: exit $IT_RC: $(tail -n 1 "$IT_ERR")"
	[ "$IT_RC" -ge 128 ] && fail "$what: killed by signal $((IT_RC - 128))"
	[ "$IT_RC" -eq 86 ] || sanitizer_report "$IT_ERR" &&
		fail "$what: sanitizer report (exit $IT_RC)"
	case "$IT_RC" in
	0 | 4) ;;
	*) fail "$what: exit code $IT_RC, expected 4 (out of memory) or 0" ;;
	esac
	[ -s "$IT_TMP/count" ] || fail "$what: no allocation count written"
	got=$(cat "$IT_TMP/count")
	if [ "$got" -lt "$1" ]; then
		echo "notreached" >"$IT_TMP/rc"
		it_expect_rc 0 "$what (no allocation failed: only $got made)"
	elif [ "$IT_RC" -ne 0 ]; then
		it_expect_err_certo_line "$what"
		n=$(grep -c '^certo: ' "$IT_ERR")
		[ "$n" -eq 1 ] || fail "$what: $n 'certo: ' lines on stderr, expected 1"
		tail -n 1 "$IT_ERR" | grep -q '^certo: .*out of memory' ||
			fail "$what: the last stderr line is not a 'certo: ...out of memory' error"
	fi
	[ -d "$IT_STATE" ] && it_expect_no_tmp
	if [ -d "$IT_STATE/live" ]; then
		left=$(find "$IT_STATE/live" -maxdepth 1 -name '.*' ! -name . | head -n 3)
		[ -z "$left" ] || fail "$what: staging left in live/: $left"
	fi
	if [ "$got" -ge "$1" ]; then
		# The next plain run works, from whatever the failed run left
		# (it issues, or finds the certificate issued).
		failed_err=$(tail -n 1 "$IT_ERR")
		it_issue -d "$NAME"
		[ "$IT_RC" -eq 0 ] ||
			fail "$what: the plain run after the failed one ($failed_err) exited $IT_RC"
		sanitizer_report "$IT_ERR" && fail "$what: sanitizer report in the plain run"
	fi
	[ -s "$IT_STATE/live/$NAME/cert.pem" ] || fail "$what: no live/$NAME/cert.pem"
	it_expect_key_matches "$IT_STATE/live/$NAME/privkey.pem" "$IT_STATE/live/$NAME/cert.pem"
	exit 0
}

N=$((SHARD == 0 ? SHARDS : SHARD))
runs=0
notreached=0
codes=""
failed=""
while [ "$N" -le "$LAST" ]; do
	if ! (one_n "$N"); then
		failed="$failed $N"
		# Enough to work on; do not bury the first reports.
		[ "$(echo "$failed" | wc -w)" -ge "${CERTO_ALLOC_MAX_FAILURES:-5}" ] && break
	fi
	rc=$(cat "$IT_TMP/rc" 2>/dev/null)
	case "$rc" in
	notreached) notreached=$((notreached + 1)) ;;
	?*) codes="$codes $rc" ;;
	esac
	rm -rf "$STATES/$N"
	runs=$((runs + 1))
	N=$((N + SHARDS * STRIDE))
done
[ "$runs" -gt 0 ] || fail "no N to run in this shard"
hist=$(for c in $codes; do echo "$c"; done | sort -n | uniq -c | awk '{ printf " exit %s: %s", $2, $1 }')
it_log "$runs runs ($notreached beyond the run's count);$hist"
IT_LAST_CMD=""
[ -z "$failed" ] || fail "failed for N =$failed (reports above)"
it_pass
