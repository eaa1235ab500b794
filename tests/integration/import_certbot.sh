#!/bin/sh
# import_certbot: a real certbot (Debian's) issues from Pebble into its own
# config dir, then certo takes it over (issue 12 item 3):
#  - certo import --certbot DIR: exit 0; the account is certbot's (URL =
#    regr.json "uri"); the set is in live/, its certo.json has certbot's
#    server, standalone port and deploy hook; pre_hook is named as not
#    mapped; DIR is byte for byte unchanged (checksum listing);
#  - certo list shows it; a second import changes nothing ("certo has it");
#  - certo renew --force: a new certificate from the same account (Pebble
#    registers no new account), certbot's deploy hook ran with
#    RENEWED_LINEAGE = certo's live dir; DIR still unchanged; import again:
#    nothing replaced (certo's is newer);
#  - a lineage whose key is not its certificate's, or whose live link
#    leaves DIR: refused (exit 1), the other one imported;
#  - webroot with its map becomes certo.json's webroot; an account no
#    certificate uses (another CA) is imported too, a broken one named;
#  - a lineage whose authenticator certo cannot map (apache) in a copy of
#    DIR: exit 1 naming it, the other lineage imported all the same, no set
#    for the bad one; with --standalone on the command line it is taken.
. "$(dirname "$0")/lib.sh"
it_init import_certbot
command -v certbot >/dev/null 2>&1 || it_skip "certbot not installed"
it_start_pebble

CB="$IT_TMP/letsencrypt"
MARK="$IT_TMP/deployed"
# certbot talks to Pebble over HTTPS with Pebble's test CA.
cbot() {
	REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" timeout -k 5 60 certbot \
		--config-dir "$CB" --work-dir "$IT_TMP/cbwork" \
		--logs-dir "$IT_TMP/cblogs" --non-interactive "$@" \
		>"$IT_TMP/certbot.out" 2>&1 ||
		{ tail -n 30 "$IT_TMP/certbot.out" >&2; fail "certbot $1 failed"; }
}
# listing DIR: every entry's path, type, mode, link target and checksum.
listing() {
	(cd "$1" && find . -printf '%p %y %m %l\n' | sort &&
		find . -type f -exec sha256sum {} + | sort)
}
newacct() {
	grep -c "POST /sign-me-up" "$IT_PEBBLE_DIR/pebble.log" || true
}
certo_imp() {
	it_certo import --state-dir "$IT_STATE" --ca-bundle "$PEBBLE_CA_BUNDLE" "$@"
}

cbot certonly --server "$PEBBLE_DIR_URL" --standalone \
	--http-01-port "$IT_HTTP_PORT" --agree-tos -m cb@example.com \
	-d cb.certo.test -d www.cb.certo.test --key-type ecdsa \
	--pre-hook true --deploy-hook "echo \"\$RENEWED_LINEAGE\" >>$MARK"
[ -f "$CB/live/cb.certo.test/fullchain.pem" ] || fail "certbot made no live set"
rm -f "$MARK"
CB_URI=$(it_json_get "$(echo "$CB"/accounts/*/dir/*/regr.json)" 'd["uri"]')
CB_SERIAL=$(it_cert_serial "$CB/live/cb.certo.test/cert.pem")
listing "$CB" >"$IT_TMP/before"
ACCTS=$(newacct)

# -- import
certo_imp --certbot "$CB"
it_expect_rc 0 "import --certbot"
it_expect_err_contains "pre_hook = true: not mapped" "import names pre_hook"
it_expect_out_contains "1 certificate imported" "import summary"
L="$IT_STATE/live/cb.certo.test"
[ "$(it_cert_serial "$L/cert.pem")" = "$CB_SERIAL" ] || fail "live/cb.certo.test is not certbot's certificate"
it_expect_key_matches "$L/privkey.pem" "$L/cert.pem"
it_expect_mode "$L/privkey.pem" 600
[ "$(it_json_get "$IT_ACCOUNT_DIR/account.json" 'd["url"]')" = "$CB_URI" ] ||
	fail "certo's account URL is not certbot's ($CB_URI)"
it_expect_mode "$IT_ACCOUNT_DIR/account.key" 600
[ "$(it_json_get "$L/certo.json" 'd["server"]')" = "$PEBBLE_DIR_URL" ] || fail "certo.json server"
[ "$(it_json_get "$L/certo.json" 'd["http_port"]')" = "$IT_HTTP_PORT" ] || fail "certo.json http_port"
[ "$(it_json_get "$L/certo.json" 'd.get("standalone")')" = "true" ] || fail "certo.json not standalone"
it_json_get "$L/certo.json" 'd["deploy_hook"]' | grep -q "RENEWED_LINEAGE" || fail "certo.json lacks certbot's deploy hook"
[ "$(it_json_get "$L/certo.json" 'd["names"][0]')" = "cb.certo.test" ] || fail "first name"
listing "$CB" >"$IT_TMP/after"
cmp -s "$IT_TMP/before" "$IT_TMP/after" || fail "import changed $CB: $(diff "$IT_TMP/before" "$IT_TMP/after" | head -5)"

it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list"
it_expect_out_contains "cb.certo.test" "list shows the import"

certo_imp --certbot "$CB"
it_expect_rc 0 "second import"
it_expect_out_contains "0 certificates imported, 1 already there" "second import changes nothing"
[ "$(it_cert_serial "$L/cert.pem")" = "$CB_SERIAL" ] || fail "second import replaced the set"

# -- renew with certbot's account and settings
it_certo renew --force --state-dir "$IT_STATE"
it_expect_rc 0 "renew --force"
NEW_SERIAL=$(it_cert_serial "$L/cert.pem")
[ "$NEW_SERIAL" != "$CB_SERIAL" ] || fail "renew did not replace the certificate"
it_expect_verifies "$L/cert.pem" "$L/chain.pem"
it_expect_sans "$L/cert.pem" cb.certo.test www.cb.certo.test
[ "$(newacct)" = "$ACCTS" ] || fail "renew registered a new account at Pebble"
[ "$(it_json_get "$IT_ACCOUNT_DIR/account.json" 'd["url"]')" = "$CB_URI" ] || fail "account changed"
[ "$(cat "$MARK" 2>/dev/null)" = "$L" ] || fail "certbot's deploy hook did not run with RENEWED_LINEAGE=$L"
listing "$CB" >"$IT_TMP/after"
cmp -s "$IT_TMP/before" "$IT_TMP/after" || fail "renew changed $CB"
certo_imp --certbot "$CB"
it_expect_rc 0 "import after renew"
[ "$(it_cert_serial "$L/cert.pem")" = "$NEW_SERIAL" ] || fail "import replaced certo's newer certificate"

# -- an authenticator certo cannot map: that lineage alone is refused
CB2="$IT_TMP/letsencrypt2"
cp -a "$CB" "$CB2"
sed -e 's/^authenticator = .*/authenticator = apache/' \
	"$CB2/renewal/cb.certo.test.conf" >"$CB2/renewal/other.conf"
cp -a "$CB2/live/cb.certo.test" "$CB2/live/other"
S2="$IT_TMP/state2"
it_certo import --state-dir "$S2" --ca-bundle "$PEBBLE_CA_BUNDLE" --certbot "$CB2"
it_expect_rc 1 "import with an apache lineage"
it_expect_err_contains "certbot other: not imported: authenticator apache" "names the apache lineage"
[ -f "$S2/live/cb.certo.test/cert.pem" ] || fail "the good lineage was not imported"
[ "$(ls "$S2/live" | grep -c .)" = 1 ] || fail "live/ holds more than one set: $(ls "$S2/live")"
it_certo import --state-dir "$S2" --ca-bundle "$PEBBLE_CA_BUNDLE" --certbot "$CB2" \
	--standalone --http-port "$IT_HTTP_PORT"
it_expect_rc 0 "import with --standalone for the apache lineage"
it_expect_out_contains "authenticator apache: replaced" "override said"

# -- a lineage whose key is not its certificate's: refused whole
CB5="$IT_TMP/letsencrypt5"
cp -a "$CB" "$CB5"
cp "$CB5/renewal/cb.certo.test.conf" "$CB5/renewal/mis.conf"
mkdir -p "$CB5/live/mis"
ln -s ../../archive/cb.certo.test/fullchain1.pem "$CB5/live/mis/fullchain.pem"
(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$CB5/live/mis/privkey.pem" 2>/dev/null) || fail "openssl genpkey"
S5="$IT_TMP/state5"
it_certo import --state-dir "$S5" --ca-bundle "$PEBBLE_CA_BUNDLE" --certbot "$CB5"
it_expect_rc 1 "import with a mismatched key"
it_expect_err_contains "certbot mis: not imported: certificate: the issued certificate is not for our key" "the mismatched lineage is named"
[ "$(it_cert_serial "$S5/live/cb.certo.test/cert.pem")" = "$CB_SERIAL" ] ||
	fail "the good lineage was not imported, or replaced"
it_expect_key_matches "$S5/live/cb.certo.test/privkey.pem" "$S5/live/cb.certo.test/cert.pem"
# A live link pointing out of DIR is not followed.
ln -sf /etc/passwd "$CB5/live/mis/privkey.pem"
it_certo import --state-dir "$S5" --ca-bundle "$PEBBLE_CA_BUNDLE" --certbot "$CB5"
it_expect_rc 1 "import with a link out of DIR"
it_expect_err_contains "points outside" "the link out of DIR is named"

# -- webroot with its map, and settings certo has no meaning for
CB3="$IT_TMP/letsencrypt3"
WWW="$IT_TMP/www"
mkdir -p "$WWW"
cp -a "$CB" "$CB3"
sed -i -e "s|^authenticator = .*|authenticator = webroot\nwebroot_path = $WWW,\ninstaller = nginx\nreuse_key = True\ndns_cloudflare_credentials = /root/cf.ini\n[[webroot_map]]\ncb.certo.test = $WWW\nwww.cb.certo.test = $WWW|" \
	"$CB3/renewal/cb.certo.test.conf"
# An account no certificate uses (another CA), and a broken one.
STG="$CB3/accounts/acme-staging-v02.api.letsencrypt.org/directory"
mkdir -p "$STG" "$CB3/accounts/localhost:$IT_BASEPORT/dir/0badc0de"
cp -a "$(dirname "$(echo "$CB3"/accounts/localhost*/dir/*/regr.json | cut -d' ' -f1)")" "$STG/5eed"
echo '{}' >"$CB3/accounts/localhost:$IT_BASEPORT/dir/0badc0de/regr.json"
S3="$IT_TMP/state3"
it_certo import --state-dir "$S3" --ca-bundle "$PEBBLE_CA_BUNDLE" --certbot "$CB3"
it_expect_rc 0 "import of a webroot lineage"
[ -f "$S3/accounts/acme-staging-v02.api.letsencrypt.org/account.json" ] ||
	fail "the account no certificate uses was not imported"
it_expect_err_contains "dir/0badc0de: account not imported" "the broken account is named"
[ "$(it_json_get "$S3/live/cb.certo.test/certo.json" 'd.get("webroot")')" = "$WWW" ] ||
	fail "certo.json has no webroot $WWW"
for s in "installer = nginx" "reuse_key = True" "dns_cloudflare_credentials = /root/cf.ini"; do
	it_expect_err_contains "$s" "import names '$s'"
done
it_certo list --state-dir "$S3"
it_expect_rc 0 "list of the webroot import"
# Names mapped to two webroots: certo serves one; that lineage is refused.
sed -i -e "s|^www.cb.certo.test = .*|www.cb.certo.test = /srv/other|" "$CB3/renewal/cb.certo.test.conf"
it_certo import --state-dir "$IT_TMP/state4" --ca-bundle "$PEBBLE_CA_BUNDLE" --certbot "$CB3"
it_expect_rc 1 "two webroots"
it_expect_err_contains "names map to different webroots" "two webroots named"
[ ! -e "$IT_TMP/state4/live/cb.certo.test" ] || fail "a set was stored for the two-webroot lineage"
it_pass
