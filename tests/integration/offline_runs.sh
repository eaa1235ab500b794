#!/bin/sh
# offline_runs: the verbs that need nothing from the CA ask it nothing
# (issue 15): every connect(2) of certo is traced with strace.
#  1. certo list makes no network connection at all;
#  2. certo renew with nothing due, at a CA without renewalInfo (Pebble
#     2.4), makes none either: the directory comes from the copy the
#     issuance kept (<state>/directories/, a day at most), and the
#     lifetime rule decides;
#  3. with the CA stopped, both still answer: list exits 0 and shows the
#     certificate, renew exits 2 (nothing due);
#  4. the check can fail: a verb that needs the CA (account info) is seen
#     connecting.
. "$(dirname "$0")/lib.sh"
it_init offline_runs
command -v strace >/dev/null 2>&1 || it_skip "strace not installed (scripts/deps.sh)"
it_start_pebble

TRACE="$IT_TMP/connect.trace"

# traced ARGS...: certo ARGS under strace, every connect() of every thread
# in $TRACE (LeakSanitizer cannot run under ptrace: leaks are checked by
# the untraced runs).
traced() {
	IT_LAST_CMD=" strace certo $*"
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" timeout -k 5 40 \
		strace -f -qq -e trace=connect -o "$TRACE" "$CERTO" "$@" \
		>"$IT_OUT" 2>"$IT_ERR" </dev/null
	IT_RC=$?
}

# inet_connects: how many connect() calls in $TRACE went to IPv4/IPv6.
inet_connects() {
	grep -cE 'connect\([0-9]+, \{sa_family=AF_INET6?,' "$TRACE"
}

it_issue -d off.certo.test
it_expect_rc 0 "issue off.certo.test"
[ -n "$(find "$IT_STATE/directories" -name '*.json' 2>/dev/null)" ] ||
	fail "the issuance kept no copy of the directory in $IT_STATE/directories"

# -- 1. list
traced list --state-dir "$IT_STATE"
it_expect_rc 0 "list"
it_expect_out_contains "off.certo.test" "list"
[ "$(inet_connects)" -eq 0 ] ||
	fail "certo list connected: $(grep connect "$TRACE" | head -n 3 | tr '\n' ' ')"

# -- 2. renew, nothing due, no renewalInfo
traced renew --state-dir "$IT_STATE"
it_expect_rc 2 "renew with nothing due"
it_expect_out_contains "not due" "renew with nothing due"
[ "$(inet_connects)" -eq 0 ] ||
	fail "certo renew with nothing due connected: $(grep connect "$TRACE" | head -n 3 | tr '\n' ' ')"

# -- 3. the CA gone
pebble_stop "$IT_PEBBLE_DIR" || fail "cannot stop Pebble"
it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list with the CA stopped"
it_expect_out_contains "off.certo.test" "list with the CA stopped"
it_certo renew --state-dir "$IT_STATE"
it_expect_rc 2 "renew with nothing due and the CA stopped"
it_expect_out_contains "not due" "renew with the CA stopped"

# -- 4. a verb that needs the CA is seen connecting (the CA is down now)
traced account info --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE"
[ "$IT_RC" -ne 0 ] || fail "account info succeeded with the CA stopped"
[ "$(inet_connects)" -gt 0 ] ||
	fail "account info with the CA stopped made no connect() the trace saw: the check cannot fail"
it_pass
