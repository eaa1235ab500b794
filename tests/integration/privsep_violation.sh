#!/bin/sh
# privsep_violation: a network process that tries to open the account key
# (certo-privsep-test: its network process opens $CERTO_TEST_NETPROC_OPEN
# at its first POST, as a compromised one would) is stopped by the
# seccomp filter: the run fails with "internal error: the network process
# attempted a forbidden system call (open)", exit 4, nothing half-written,
# and (strace) the open never reached the kernel: no descriptor of the key
# in the network process.
. "$(dirname "$0")/lib.sh"
it_init privsep_violation
it_start_pebble
VIOL="$(dirname "$CERTO")/certo-privsep-test"
[ -x "$VIOL" ] || it_skip "certo-privsep-test not built"
command -v strace >/dev/null 2>&1 || it_skip "strace not installed"

# An account (and its key) first, with the ordinary certo.
it_issue -d pv1.certo.test
it_expect_rc 0 "first issuance"
KEY="$IT_ACCOUNT_DIR/account.key"
[ -s "$KEY" ] || fail "no account key at $KEY"

TRACE="$IT_TMP/strace.log"
WRAP="$IT_TMP/certo-traced"
cat >"$WRAP" <<WRAP
#!/bin/sh
# LeakSanitizer cannot work under ptrace.
ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
exec strace -f -qq -o "$TRACE" -e trace=openat,open,read "$VIOL" "\$@"
WRAP
chmod +x "$WRAP"
CERTO="$WRAP"
CERTO_TEST_NETPROC_OPEN="$KEY"
export CERTO_TEST_NETPROC_OPEN
it_issue -d pv2.certo.test
unset CERTO_TEST_NETPROC_OPEN
it_expect_rc 4 "network process opening the account key"
it_expect_err_contains "internal error: the network process attempted a forbidden system call (open)"
grep -q 'privsep test: the network process read' "$IT_ERR" &&
	fail "the network process read the key"
[ ! -e "$IT_STATE/live/pv2.certo.test" ] || fail "live/pv2.certo.test exists"
left=$(find "$IT_STATE" -name '*.tmp.*' -o -name '.*.new.*' -o -name '.*.del.*' | head -n 3)
[ -z "$left" ] || fail "temporary names left: $left"

# The trace: the network process is the one the filter stopped.
np=$(awk '/si_code=SYS_SECCOMP/ { print $1; exit }' "$TRACE")
[ -n "$np" ] || fail "no seccomp SIGSYS in the trace"
grep -q "^$np .*SIGSYS.*si_syscall=__NR_open" "$TRACE" ||
	fail "the trapped call was not an open: $(grep "^$np .*SIGSYS" "$TRACE")"
grep -q "^$np .*account.key" "$TRACE" ||
	fail "the network process's attempt on the key is not in the trace"
# A trapped call is not executed (strace shows the call number as its
# result): the very next event of that process is the SIGSYS, and then
# it makes no other system call (no read of anything).
next=$(awk -v p="$np" '$1 == p && f { print; exit } $1 == p && /account\.key/ { f = 1 }' "$TRACE")
case "$next" in
*SIGSYS*si_code=SYS_SECCOMP*) ;;
*) fail "the network process's open of the key was not trapped (next: $next)" ;;
esac
after=$(awk -v p="$np" '$1 == p && f && !/SIGSYS|exited|killed/ { print; exit } $1 == p && /SIGSYS/ { f = 1 }' "$TRACE")
[ -z "$after" ] || fail "the network process went on after the trap: $after"
# Nor did any other process than the key process (the first pid) open it.
kp=$(awk 'NR == 1 { print $1 }' "$TRACE")
others=$(grep -E "account\.key.*= [0-9]+\$" "$TRACE" | awk -v k="$kp" -v p="$np" '$1 != k && $1 != p' | head -n 3)
[ -z "$others" ] || fail "opened by another process: $others"
it_pass
