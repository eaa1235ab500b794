#!/bin/sh
# hook_wildcard: for -d wc.certo.test -d '*.wc.certo.test' the dns hook
# gets IDENT wc.certo.test for one call and *.wc.certo.test for the other
# (docs/hooks.md), both with RECORD-NAME _acme-challenge.wc.certo.test;
# del repeats each add's arguments. The progress lines name each
# authorization once: "wc.certo.test" and "*.wc.certo.test".
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
it_init hook_wildcard
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

HOOK="$IT_TMP/recording-hook"
cat >"$HOOK" <<HOOK
#!/bin/sh
echo "\$1 \$2 \$3 \$4 \$5" >>"$IT_TMP/hook-calls"
exec "$DNS_HOOK" "\$@"
HOOK
chmod +x "$HOOK"

it_certo issue -d wc.certo.test -d '*.wc.certo.test' --challenge dns-01 \
	--dns-hook "$HOOK" --dns-resolver "127.0.0.1:$DNS_PORT" \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
it_expect_rc 0 "apex and wildcard through the recording hook"
it_check_issued wc.certo.test wc.certo.test '*.wc.certo.test'

calls="$IT_TMP/hook-calls"
[ "$(wc -l <"$calls")" -eq 4 ] || fail "expected 4 hook calls, got: $(cat "$calls")"
for a in add del; do
	idents=$(awk -v a="$a" '$1 == a && $2 == "dns-01" { print $3 }' "$calls" | LC_ALL=C sort | tr '\n' ' ')
	[ "$idents" = "*.wc.certo.test wc.certo.test " ] ||
		fail "$a calls got IDENTs [$idents], expected *.wc.certo.test and wc.certo.test: $(cat "$calls")"
	names=$(awk -v a="$a" '$1 == a { print $4 }' "$calls" | sort -u | tr '\n' ' ')
	[ "$names" = "_acme-challenge.wc.certo.test " ] ||
		fail "$a calls got record names [$names]"
done
# del removes exactly what add added, value for value.
[ "$(awk '$1 == "add" { print $3, $5 }' "$calls" | sort)" = "$(awk '$1 == "del" { print $3, $5 }' "$calls" | sort)" ] ||
	fail "del calls do not match the add calls: $(cat "$calls")"

# Progress: one "challenge answered" line per authorization, wildcard named as such.
[ "$(grep -c 'authorization: \*\.wc\.certo\.test dns-01 challenge answered' "$IT_OUT")" -eq 1 ] ||
	fail "no single 'challenge answered' line for *.wc.certo.test"
[ "$(grep -c 'authorization: wc\.certo\.test dns-01 challenge answered' "$IT_OUT")" -eq 1 ] ||
	fail "no single 'challenge answered' line for wc.certo.test"
it_pass
