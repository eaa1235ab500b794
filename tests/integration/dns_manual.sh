#!/bin/sh
# dns_manual: --manual dns-01 for a wildcard and its apex. certo prints
# `_acme-challenge.NAME. 300 IN TXT "VALUE"` lines and polls the resolver;
# the test publishes the values in challtestsrv 3 s later. certo must
# succeed, and must not answer any challenge before the records are
# visible: Pebble starts no validation during those 3 s, and certo's own
# output shows the records visible before the first answered challenge.
# The wildcard comes first, so the live dir is _.x.certo.test.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
it_init dns_manual
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

dns_certo_bg -v issue -d '*.x.certo.test' -d x.certo.test --challenge dns-01 \
	--manual --dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 60 \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
dns_manual_records 30 >"$IT_TMP/records"
[ "$(wc -l <"$IT_TMP/records")" -eq 2 ] ||
	fail "expected 2 TXT lines on stdout, got: $(cat "$IT_TMP/records" | tr '\n' ' ')"
[ "$(cut -d' ' -f1 "$IT_TMP/records" | sort -u)" = _acme-challenge.x.certo.test ] ||
	fail "the record names are not all _acme-challenge.x.certo.test: $(cat "$IT_TMP/records" | tr '\n' ' ')"
[ "$(cut -d' ' -f2 "$IT_TMP/records" | sort -u | wc -l)" -eq 2 ] ||
	fail "the two TXT values are not distinct"

sleep 3
[ "$(dns_validations x.certo.test)" -eq 0 ] ||
	fail "Pebble started a validation before the records existed"
kill -0 "$DNS_PID" 2>/dev/null || fail "certo exited while waiting for the records"
it_log "publishing the records now"
while read -r name value; do
	dns_set_txt "$name" "$value"
done <"$IT_TMP/records"

dns_certo_wait 40
it_expect_rc 0 "manual dns-01"
it_check_issued _.x.certo.test x.certo.test '*.x.certo.test'
vis=$(grep -n 'dns-01: all records visible' "$IT_OUT" | head -n 1 | cut -d: -f1)
ans=$(grep -n 'challenge answered' "$IT_OUT" | head -n 1 | cut -d: -f1)
[ -n "$vis" ] && [ -n "$ans" ] && [ "$vis" -lt "$ans" ] ||
	fail "stdout does not show the records visible (line ${vis:-none}) before a challenge was answered (line ${ans:-none})"
it_pass
