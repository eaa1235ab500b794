#!/bin/sh
# ca_madeup_ident: an authorization for a name that was never ordered must
# not reach a hook (issue 9, item 3: today it reaches the DNS hook).
# Through tests/integration/standin_ca.py (scenario ident): the CA's
# authorization names evil.example.net although certo ordered
# md.certo.test. certo issue --challenge dns-01 --dns-hook HOOK, where HOOK
# logs its arguments and then publishes through
# scripts/hooks/challtestsrv.sh. Expected: exit 2, the hook was never
# called with evil.example.net, certo's error line names the unexpected
# identifier, nothing under live/, no temp files, nothing written outside
# the state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_madeup_ident
"$CERTO" issue --help 2>&1 | grep -q -- '--dns-hook' ||
	it_skip "this certo has no --dns-hook option"
PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 it_start_pebble
it_start_standin ident --set ident=evil.example.net
it_outside_begin
CERTO_IT_RUN_TIMEOUT=30
name=md.certo.test

HOOK="$IT_WORK/hook.sh"
HOOK_LOG="$IT_WORK/hook.log"
CHALLTESTSRV_HOOK_STATE="$IT_WORK/challtestsrv-hook.state"
export CHALLTESTSRV_MGMT_URL CHALLTESTSRV_HOOK_STATE HOOK_LOG
: >"$HOOK_LOG"
cat >"$HOOK" <<EOF
#!/bin/sh
echo "\$*" >>"\$HOOK_LOG"
exec "$IT_SRCROOT/scripts/hooks/challtestsrv.sh" "\$@"
EOF
chmod 700 "$HOOK"

it_si_ca issue --challenge dns-01 --dns-hook "$HOOK" \
	--dns-resolver "127.0.0.1:$((IT_BASEPORT + 2))" --dns-timeout 20 \
	--agree-tos --email test@example.com -d "$name"
it_log "exit $IT_RC after ${IT_ELAPSED}s; hook calls: $(wc -l <"$HOOK_LOG")"
if grep -q 'evil\.example\.net' "$HOOK_LOG"; then
	fail "the DNS hook was called with the name the CA made up: $(grep -m 2 'evil' "$HOOK_LOG" | tr '\n' ' ')"
fi
it_expect_rc 2 "an authorization for a name that was never ordered"
it_expect_err_certo_line "made-up identifier"
it_expect_msg_contains "evil.example.net" "the message names the unexpected identifier"
it_expect_no_live "made-up identifier"
it_expect_no_tmp
it_expect_nothing_outside "made-up identifier"
it_pass
