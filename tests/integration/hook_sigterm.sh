#!/bin/sh
# hook_sigterm: a --dns-hook whose add ignores SIGTERM and leaves a
# grandchild that ignores it too. With --hook-timeout 2, certo sends
# SIGTERM to the hook's process group after 2 s and SIGKILL 5 s later:
# it ends (exit 7, "timed out ... SIGKILL"), never asks the CA, runs the
# del, and no process of the hook is left.
# Then Ctrl-C (SIGINT to certo) while an add runs: the add's group is
# stopped, the del runs, certo exits 130, nothing of the hook is left.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
it_init hook_sigterm
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

PIDS="$IT_TMP/hook-pids"
HOOK="$IT_TMP/stubborn-hook"
cat >"$HOOK" <<HOOK
#!/bin/sh
echo "\$1" >>"$IT_TMP/hook-calls"
[ "\$1" = add ] || exit 0
trap '' TERM
echo \$\$ >>"$PIDS"
sleep 60 &
echo \$! >>"$PIDS"
echo "stubborn hook: not going anywhere" >&2
wait
HOOK
chmod +x "$HOOK"

it_certo_bg issue -d hs.certo.test --challenge dns-01 --dns-hook "$HOOK" \
	--hook-timeout 2 --dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 5 \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
# 2 s timeout + 5 s grace + the del: bounded well below this.
it_certo_bg_wait 25
it_expect_rc 7 "hook that ignores SIGTERM"
it_expect_err_contains "timed out after 2 s" "timeout message"
it_expect_err_contains "SIGKILL" "the group was killed"
it_expect_err_contains "stubborn hook: not going anywhere" "the hook's stderr is quoted"
[ "$(dns_validations hs.certo.test)" -eq 0 ] ||
	fail "Pebble validated hs.certo.test although the hook timed out"
[ "$(tr '\n' ' ' <"$IT_TMP/hook-calls")" = "add del " ] ||
	fail "hook calls were: $(tr '\n' ' ' <"$IT_TMP/hook-calls") (expected add, then del)"
[ "$(wc -l <"$PIDS")" -eq 2 ] || fail "the hook did not record its pids"

# Nothing of the hook is left (zombies count as gone).
it_expect_pids_gone "$PIDS" "hook processes still running after certo exited"
it_expect_no_live "after a hook timeout"

# Ctrl-C during an add.
PIDS="$IT_TMP/hook-pids-2"
CALLS="$IT_TMP/hook-calls-2"
HOOK="$IT_TMP/slow-hook"
cat >"$HOOK" <<HOOK
#!/bin/sh
echo "\$1" >>"$CALLS"
[ "\$1" = add ] || exit 0
echo \$\$ >>"$PIDS"
sleep 60 &
echo \$! >>"$PIDS"
wait
HOOK
chmod +x "$HOOK"
it_certo_bg issue -d hi.certo.test --challenge dns-01 --dns-hook "$HOOK" \
	--dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 5 \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
n=100
while [ "$(wc -l <"$PIDS" 2>/dev/null || echo 0)" -lt 2 ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the slow hook did not start"
	sleep 0.1
done
kill -INT "$IT_BG_PID"
it_certo_bg_wait 15
it_expect_rc 130 "Ctrl-C while the add hook runs"
[ "$(tr '\n' ' ' <"$CALLS")" = "add del " ] ||
	fail "hook calls were: $(tr '\n' ' ' <"$CALLS") (expected add, then del)"
it_expect_pids_gone "$PIDS" "hook processes still running after Ctrl-C"
it_pass
