#!/bin/sh
# dns_timeout: --manual dns-01 where the record never appears, with
# --dns-timeout 5: certo gives up with exit 6 after about 5 s, its error
# names the record and the resolver that never showed it, and the CA was
# never asked to validate (Pebble logs no validation for the name, so the
# authorization is still pending).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
it_init dns_timeout
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

it_certo -v issue -d never.certo.test --challenge dns-01 --manual \
	--dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 5 \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
it_expect_rc 6 "record never published"
it_expect_err_contains "_acme-challenge.never.certo.test" "timeout message"
it_expect_err_contains "127.0.0.1:$DNS_PORT" "timeout message"
awk -v e="$IT_ELAPSED" 'BEGIN { exit !(e >= 4.5 && e < 15) }' ||
	fail "gave up after $IT_ELAPSED s, expected about 5 s"
[ "$(dns_validations never.certo.test)" -eq 0 ] ||
	fail "Pebble validated never.certo.test although the record never appeared"
it_expect_no_live "after a DNS timeout"
it_pass
