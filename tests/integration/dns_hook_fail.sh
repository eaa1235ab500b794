#!/bin/sh
# dns_hook_fail: a --dns-hook that exits 1 with a message on stderr: certo
# exits 7, shows the hook's message on its stderr, and never asks the CA
# to validate. The hook gets its arguments as argv (no shell): a copy of
# them is checked (add dns-01 IDENT RECORD VALUE).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
it_init dns_hook_fail
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

HOOK="$IT_TMP/failing-hook"
cat >"$HOOK" <<HOOK
#!/bin/sh
printf '%s\n' "\$@" >>"$IT_TMP/hook-args"
echo "hook says: zone example is locked by the registrar" >&2
exit 1
HOOK
chmod +x "$HOOK"

it_certo issue -d hf.certo.test --challenge dns-01 --dns-hook "$HOOK" \
	--dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 5 \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
it_expect_rc 7 "failing hook"
it_expect_err_contains "hook says: zone example is locked by the registrar" "hook stderr"
[ "$(dns_validations hf.certo.test)" -eq 0 ] ||
	fail "Pebble validated hf.certo.test although the hook failed"
[ -s "$IT_TMP/hook-args" ] || fail "the hook did not run"
[ "$(sed -n 1,4p "$IT_TMP/hook-args" | tr '\n' ' ')" = "add dns-01 hf.certo.test _acme-challenge.hf.certo.test " ] ||
	fail "hook arguments were: $(tr '\n' ' ' <"$IT_TMP/hook-args")"
sed -n 5p "$IT_TMP/hook-args" | grep -Eq '^[A-Za-z0-9_-]{43}$' ||
	fail "the hook's 5th argument is not a 43-character base64url value"
it_expect_no_live "after a hook failure"
it_pass
