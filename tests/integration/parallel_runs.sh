#!/bin/sh
# parallel_runs: four `certo issue` runs started at once on one fresh state
# directory (docs/design.md, "Runs sharing a state directory"): two for the
# same name, two for other names; DNS-01 through the challtestsrv hook, so
# no run needs a port of its own. Expected:
#   - all four exit 0; the account is created once (one account_created
#     event), the others wait for its lock and reuse it;
#   - one of the two same-name runs issues, the other waits for the
#     certificate's lock and then finds the live set: "nothing to do", no
#     second certificate (no archive/);
#   - exactly one live set per name, each verifies and matches its key;
#     no temp file, staging directory or saved order is left, nothing in
#     TMPDIR.
# Then the documented result of a lock held too long: with the live lock
# taken by flock(1) and CERTO_LOCK_WAIT=1, `issue --force` says
# "waiting for another certo run on certificate NAME" and exits 4 with
# "another certo run is still working on certificate NAME".
. "$(dirname "$0")/lib.sh"
it_init parallel_runs
"$CERTO" issue --help 2>&1 | grep -q -- '--dns-hook' ||
	it_skip "this certo has no --dns-hook option"
command -v flock >/dev/null 2>&1 || it_skip "flock(1) not installed (util-linux)"
it_start_pebble
HOOK="$IT_SRCROOT/scripts/hooks/challtestsrv.sh"
[ -x "$HOOK" ] || fail "scripts/hooks/challtestsrv.sh is missing or not executable"
DNS_PORT=$((IT_BASEPORT + 2))
export CHALLTESTSRV_MGMT_URL
PR_TMP="$IT_TMP/tmpdir"
mkdir -p "$PR_TMP" || fail "mkdir $PR_TMP"
TMPDIR=$PR_TMP
export TMPDIR

# pr_start I NAME...: run I in the background (--json), its own hook state.
pr_start() {
	_i=$1
	shift
	_d=""
	for _n in "$@"; do
		_d="$_d -d $_n"
	done
	# shellcheck disable=SC2086 # _d is a word list without spaces
	CHALLTESTSRV_HOOK_STATE="$IT_TMP/hook.$_i" "$CERTO" --json issue \
		--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$IT_STATE" --agree-tos -m t@example.com \
		--challenge dns-01 --dns-hook "$HOOK" \
		--dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 30 $_d \
		>"$IT_TMP/out.$_i" 2>"$IT_TMP/err.$_i" </dev/null &
	eval "PR_PID_$_i=\$!"
	IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
}

pr_start 1 p1.certo.test
pr_start 2 p1.certo.test
pr_start 3 p2.certo.test
pr_start 4 p3.certo.test p3b.certo.test

# Wait for all four (bounded: 60 s in all).
deadline=$(($(date +%s) + 60))
for i in 1 2 3 4; do
	pid=""
	eval "pid=\$PR_PID_$i"
	while kill -0 "$pid" 2>/dev/null &&
		[ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
		[ "$(date +%s)" -lt "$deadline" ] || fail "run $i did not finish within 60 s"
		sleep 0.1
	done
	wait "$pid"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$IT_TMP/err.$i" >&2
		fail "run $i exited $rc, expected 0"
	fi
done

# One account, created once.
created=$(cat "$IT_TMP"/out.* | grep -c '"event":"account_created"')
[ "$created" -eq 1 ] || fail "account_created in $created runs, expected exactly 1"
[ "$(find "$IT_STATE/accounts" -name account.key | wc -l)" -eq 1 ] ||
	fail "expected one account.key: $(find "$IT_STATE/accounts" -type f | tr '\n' ' ')"

# The same name twice: one issued, the other found its set.
saved=$(cat "$IT_TMP/out.1" "$IT_TMP/out.2" | grep -c '"event":"certificate_saved"')
skipped=$(cat "$IT_TMP/out.1" "$IT_TMP/out.2" | grep -c '"event":"issue_skipped"')
[ "$saved" -eq 1 ] && [ "$skipped" -eq 1 ] ||
	fail "the two p1.certo.test runs: $saved certificates saved and $skipped skipped, expected 1 and 1"
[ ! -e "$IT_STATE/archive/p1.certo.test" ] ||
	fail "p1.certo.test was issued twice (archive/p1.certo.test exists)"
it_log "waits logged: $(cat "$IT_TMP"/out.* | grep -c '"event":"lock_wait"')"

# Exactly one live set per name, each verifies.
[ "$(ls "$IT_STATE/live" | tr '\n' ' ')" = "p1.certo.test p2.certo.test p3.certo.test " ] ||
	fail "live/ holds [$(ls -A "$IT_STATE/live" | tr '\n' ' ')], expected p1 p2 p3"
it_check_issued p1.certo.test p1.certo.test
it_check_issued p2.certo.test p2.certo.test
it_check_issued p3.certo.test p3.certo.test p3b.certo.test
left=$(find "$IT_STATE" \( -name '*.tmp.*' -o -name '.*.new.*' -o -name '.*.del.*' \) | head -n 3)
[ -z "$left" ] || fail "left behind: $left"
[ -z "$(ls -A "$IT_STATE/orders" 2>/dev/null)" ] ||
	fail "orders/ is not empty: $(ls -A "$IT_STATE/orders")"
[ -z "$(ls -A "$PR_TMP")" ] || fail "left in TMPDIR: $(ls -A "$PR_TMP")"

# A lock held for longer than CERTO_LOCK_WAIT: exit 4, clear message.
hash=$(printf 'p2.certo.test\0' | sha256sum | cut -d' ' -f1)
lockf="$IT_STATE/locks/live-$hash.lock"
[ -f "$lockf" ] || fail "no lock file $lockf for live/p2.certo.test"
# A process that holds the lock: the subshell becomes sleep, fd 9 stays.
(
	exec 9>>"$lockf"
	flock 9 && exec sleep 30
) &
holder=$!
IT_HELPER_PIDS="$IT_HELPER_PIDS $holder"
n=50
while flock -n "$lockf" true 2>/dev/null; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "could not take $lockf with flock(1)"
	sleep 0.1
done
CERTO_LOCK_WAIT=1 CHALLTESTSRV_HOOK_STATE="$IT_TMP/hook.5"
export CERTO_LOCK_WAIT CHALLTESTSRV_HOOK_STATE
it_certo issue \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com --force \
	--challenge dns-01 --dns-hook "$HOOK" \
	--dns-resolver "127.0.0.1:$DNS_PORT" -d p2.certo.test
unset CERTO_LOCK_WAIT
it_expect_rc 4 "issue while another process holds the certificate's lock"
it_expect_out_contains "waiting for another certo run on certificate p2.certo.test"
it_expect_err_one_line "lock held"
it_expect_err_contains "another certo run is still working on certificate p2.certo.test"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
it_check_issued p2.certo.test p2.certo.test
it_pass
