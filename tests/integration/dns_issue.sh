#!/bin/sh
# dns_issue: dns-01 through a hook (scripts/hooks/challtestsrv.sh) for an
# apex and its wildcard: one record name, two TXT values, both checked on
# the --dns-resolver (challtestsrv) before the CA is asked. Checks the
# whole result (chain, SANs exactly the two names, live dir named after
# the first name), that both values were published before any validation,
# and that the hook removed them afterwards.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
it_init dns_issue
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

it_certo -v issue -d x.certo.test -d '*.x.certo.test' --challenge dns-01 \
	--dns-hook "$DNS_HOOK" --dns-resolver "127.0.0.1:$DNS_PORT" \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
it_expect_rc 0 "apex + wildcard via the challtestsrv hook"
it_check_issued x.certo.test x.certo.test '*.x.certo.test'
[ "$(dns_validations x.certo.test)" -ge 2 ] ||
	fail "Pebble validated x.certo.test $(dns_validations x.certo.test) times, expected 2 (apex and wildcard)"

# Both values were checked together before anything was answered: the
# "all records visible" line comes before the first answered challenge.
vis=$(grep -n 'dns-01: all records visible' "$IT_OUT" | head -n 1 | cut -d: -f1)
ans=$(grep -n 'challenge answered' "$IT_OUT" | head -n 1 | cut -d: -f1)
[ -n "$vis" ] || fail "no 'dns-01: all records visible' line on stdout"
[ -n "$ans" ] || fail "no 'challenge answered' line on stdout"
[ "$vis" -lt "$ans" ] || fail "a challenge was answered (line $ans) before the records were visible (line $vis)"

# The hook's del ran for both values: nothing left at challtestsrv.
if command -v dig >/dev/null 2>&1; then
	left=$(dig +short +time=2 -p "$DNS_PORT" @127.0.0.1 _acme-challenge.x.certo.test TXT)
	[ -z "$left" ] || fail "TXT values left after the run: $left"
fi
[ ! -s "$CHALLTESTSRV_HOOK_STATE" ] ||
	fail "the hook's state still lists values: $(cat "$CHALLTESTSRV_HOOK_STATE")"
it_pass
