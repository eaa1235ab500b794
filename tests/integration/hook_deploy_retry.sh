#!/bin/sh
# hook_deploy_retry: a deploy hook that fails does not undo the renewal
# (the new set is live) and is not forgotten.
#  - issue: exit 7, the hook's stderr and "live all the same" in the
#    message, the set stored and valid, live/NAME/.deploy-pending left;
#  - renew with nothing due runs the hook again: still failing, exit 1
#    with the hook's message, the certificate untouched;
#  - once the hook works, the next renew runs it (exit 2: nothing was
#    due), the mark is gone, and a further renew does not run it again.
. "$(dirname "$0")/lib.sh"
it_init hook_deploy_retry
it_start_pebble

FLAG="$IT_TMP/nginx-fixed"
RUNS="$IT_TMP/runs"
HOOK="$IT_TMP/reload.sh"
cat >"$HOOK" <<RELOAD
#!/bin/sh
echo "run" >>"$RUNS"
[ -f "$FLAG" ] || { echo "nginx: configuration test failed" >&2; exit 3; }
RELOAD
chmod +x "$HOOK"
L="$IT_STATE/live/dr.certo.test"

it_issue -d dr.certo.test --deploy-hook "$HOOK"
it_expect_rc 7 "issue with a failing deploy hook"
it_expect_err_contains "nginx: configuration test failed" "hook stderr"
it_expect_err_contains "failed (exit 3)" "hook status"
it_expect_err_contains "is live all the same" "the set is said to be live"
[ -f "$L/.deploy-pending" ] || fail "no .deploy-pending mark in $L"
it_expect_verifies "$L/cert.pem" "$L/chain.pem"
it_expect_key_matches "$L/privkey.pem" "$L/cert.pem"
serial=$(it_cert_serial "$L/cert.pem")

it_certo renew --state-dir "$IT_STATE"
it_expect_rc 1 "renew: the deploy hook still fails"
it_expect_err_contains "nginx: configuration test failed" "renew shows the hook's message"
it_expect_out_contains "1 deploy hook failed" "renew summary"
[ "$(wc -l <"$RUNS")" -eq 2 ] || fail "the hook ran $(wc -l <"$RUNS") times, expected 2"
[ -f "$L/.deploy-pending" ] || fail "the mark went away although the hook failed"
[ "$(it_cert_serial "$L/cert.pem")" = "$serial" ] || fail "renew replaced a certificate that was not due"

touch "$FLAG"
it_certo renew --state-dir "$IT_STATE"
it_expect_rc 2 "renew: hook fixed, nothing due"
[ "$(wc -l <"$RUNS")" -eq 3 ] || fail "the hook ran $(wc -l <"$RUNS") times, expected 3"
[ ! -e "$L/.deploy-pending" ] || fail "the mark is still there after the hook succeeded"
it_check_issued dr.certo.test dr.certo.test

it_certo renew --state-dir "$IT_STATE"
it_expect_rc 2 "renew: nothing due, nothing pending"
[ "$(wc -l <"$RUNS")" -eq 3 ] || fail "the hook ran again although nothing was pending"
it_pass
