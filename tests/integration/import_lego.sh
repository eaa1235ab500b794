#!/bin/sh
# import_lego: a real lego (Debian's) issues from Pebble into its .lego
# directory, then certo takes it over (issue 12 item 3):
#  - without --server naming Pebble, lego's accounts/localhost_PORT is named
#    as unknown and its certificate not imported (exit 1, nothing stored);
#  - without a way to answer challenges: exit 1, lego keeps no renewal
#    settings, nothing stored;
#  - import --lego DIR --server PEBBLE --standalone --http-port N: exit 0,
#    the account URL is lego's registration uri, the set is lego's
#    certificate and key, the world-readable account key is named;
#    DIR unchanged (checksum listing); list shows it; a second import
#    changes nothing;
#  - a --no-bundle .crt (leaf only): chain.pem is the .issuer.crt;
#  - renew --force: a new certificate from the same account (no new
#    account at Pebble).
. "$(dirname "$0")/lib.sh"
it_init import_lego
command -v lego >/dev/null 2>&1 || it_skip "lego not installed"
it_start_pebble

LG="$IT_TMP/dotlego"
LEGO_CA_CERTIFICATES="$PEBBLE_CA_BUNDLE" timeout -k 5 60 lego --path "$LG" \
	--server "$PEBBLE_DIR_URL" --accept-tos --email lg@example.com \
	--domains lg.certo.test --domains www.lg.certo.test \
	--http --http.port "127.0.0.1:$IT_HTTP_PORT" run >"$IT_TMP/lego.out" 2>&1 ||
	{ tail -n 30 "$IT_TMP/lego.out" >&2; fail "lego run failed"; }
CRT="$LG/certificates/lg.certo.test.crt"
[ -f "$CRT" ] || fail "lego made no certificate"
LG_URI=$(it_json_get "$(echo "$LG"/accounts/*/*/account.json)" 'd["registration"]["uri"]')
LG_SERIAL=$(it_cert_serial "$CRT")
listing() {
	(cd "$1" && find . -printf '%p %y %m %l\n' | sort &&
		find . -type f -exec sha256sum {} + | sort)
}
listing "$LG" >"$IT_TMP/before"
newacct() {
	grep -c "POST /sign-me-up" "$IT_PEBBLE_DIR/pebble.log" || true
}
ACCTS=$(newacct)
imp() {
	it_certo import --state-dir "$IT_STATE" --ca-bundle "$PEBBLE_CA_BUNDLE" --lego "$LG" "$@"
}

# -- which CA? lego's account directory names a host only
imp --standalone --http-port "$IT_HTTP_PORT"
it_expect_rc 1 "import without --server"
it_expect_err_contains "give --server URL" "the unknown CA is named"
[ ! -e "$IT_STATE/live/lg.certo.test" ] || fail "a set was stored without its CA"
# -- how does renew answer challenges?
imp --server "$PEBBLE_DIR_URL"
it_expect_rc 1 "import without a way to answer challenges"
it_expect_err_contains "lego keeps no renewal settings" "says what is missing"
[ ! -e "$IT_STATE/live/lg.certo.test" ] || fail "a set was stored without renewal settings"

imp --server "$PEBBLE_DIR_URL" --standalone --http-port "$IT_HTTP_PORT"
it_expect_rc 0 "import --lego"
it_expect_err_contains "can be read by others" "the world-readable account key is named"
L="$IT_STATE/live/lg.certo.test"
[ "$(it_cert_serial "$L/cert.pem")" = "$LG_SERIAL" ] || fail "live set is not lego's certificate"
it_expect_key_matches "$L/privkey.pem" "$L/cert.pem"
cmp -s "$L/privkey.pem" "$LG/certificates/lg.certo.test.key" &&
	fail "privkey.pem is a byte copy (expected certo's PKCS#8)"
[ "$(openssl pkey -in "$L/privkey.pem" -pubout)" = "$(openssl pkey -in "$LG/certificates/lg.certo.test.key" -pubout)" ] ||
	fail "privkey.pem is not lego's key"
[ "$(it_json_get "$IT_ACCOUNT_DIR/account.json" 'd["url"]')" = "$LG_URI" ] ||
	fail "certo's account URL is not lego's ($LG_URI)"
it_expect_mode "$IT_ACCOUNT_DIR/account.key" 600
listing "$LG" >"$IT_TMP/after"
cmp -s "$IT_TMP/before" "$IT_TMP/after" || fail "import changed $LG"

it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list"
it_expect_out_contains "lg.certo.test" "list shows the import"
imp --server "$PEBBLE_DIR_URL" --standalone --http-port "$IT_HTTP_PORT"
it_expect_rc 0 "second import"
it_expect_out_contains "0 certificates imported, 1 already there" "second import changes nothing"

# lego --no-bundle: the .crt holds the leaf alone, .issuer.crt the rest.
LG2="$IT_TMP/dotlego2"
cp -a "$LG" "$LG2"
openssl x509 -in "$CRT" -out "$LG2/certificates/lg.certo.test.crt" || fail "openssl x509"
it_certo import --state-dir "$IT_TMP/state2" --ca-bundle "$PEBBLE_CA_BUNDLE" --lego "$LG2" \
	--server "$PEBBLE_DIR_URL" --standalone --http-port "$IT_HTTP_PORT"
it_expect_rc 0 "import of a --no-bundle certificate"
cmp -s "$IT_TMP/state2/live/lg.certo.test/chain.pem" "$LG/certificates/lg.certo.test.issuer.crt" ||
	[ "$(openssl x509 -in "$IT_TMP/state2/live/lg.certo.test/chain.pem" -noout -fingerprint)" = \
		"$(openssl x509 -in "$LG/certificates/lg.certo.test.issuer.crt" -noout -fingerprint)" ] ||
	fail "chain.pem is not lego's issuer certificate"

it_certo renew --force --state-dir "$IT_STATE"
it_expect_rc 0 "renew --force"
[ "$(it_cert_serial "$L/cert.pem")" != "$LG_SERIAL" ] || fail "renew did not replace the certificate"
it_expect_verifies "$L/cert.pem" "$L/chain.pem"
it_expect_sans "$L/cert.pem" lg.certo.test www.lg.certo.test
[ "$(newacct)" = "$ACCTS" ] || fail "renew registered a new account at Pebble"
listing "$LG" >"$IT_TMP/after"
cmp -s "$IT_TMP/before" "$IT_TMP/after" || fail "renew changed $LG"
it_pass
