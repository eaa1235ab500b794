#!/bin/sh
# hook_bgchild: a --dns-hook that does its job (scripts/hooks/challtestsrv.sh)
# but leaves a background child that keeps the hook's stderr open. certo
# stops waiting when the hook itself exits (not when stderr closes): the
# issuance succeeds, nothing is reported as timed out, certo warns that
# it stopped what the hook left running, and no such child survives.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
it_init hook_bgchild
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

PIDS="$IT_TMP/child-pids"
HOOK="$IT_TMP/bg-hook"
cat >"$HOOK" <<HOOK
#!/bin/sh
# A child holding stderr (and stdout) open for a minute.
sleep 60 &
echo \$! >>"$PIDS"
exec "$DNS_HOOK" "\$@"
HOOK
chmod +x "$HOOK"

it_certo_bg issue -d bg.certo.test --challenge dns-01 --dns-hook "$HOOK" \
	--hook-timeout 15 --dns-resolver "127.0.0.1:$DNS_PORT" \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
it_certo_bg_wait 40
it_expect_rc 0 "hook leaving a background child"
it_check_issued bg.certo.test bg.certo.test
grep -qi "timed out" "$IT_ERR" && fail "a hook that exited was reported as timed out"
it_expect_err_contains "left processes running" "warning about the leftover child"
[ "$(wc -l <"$PIDS")" -eq 2 ] ||
	fail "expected 2 hook calls (add, del), got $(wc -l <"$PIDS")"

it_expect_pids_gone "$PIDS" "background children of the hook still running"
it_pass
