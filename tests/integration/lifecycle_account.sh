#!/bin/sh
# lifecycle_account: the account verbs against Pebble. register, info
# (status valid), update --email (the contact is replaced), rollover (a new
# key; account.key.old is the previous one; Pebble now binds the account to
# the new key, issuing works with it, and a JWS signed with the old key is
# refused with exit 2), deactivate (afterwards info and issue fail with
# exit 2 and Pebble's "deactivated" problem).
. "$(dirname "$0")/lib.sh"
it_init lifecycle_account
it_start_pebble

# jwk_x_of KEY: base64url of the X coordinate of a P-256 key (the last 64
# bytes of its SubjectPublicKeyInfo are X || Y).
jwk_x_of() {
	openssl pkey -in "$1" -pubout -outform DER 2>/dev/null >"$IT_TMP/spki.der" ||
		fail "cannot read the public key of $1"
	"$IT_PY" -c 'import base64,sys; d=open(sys.argv[1],"rb").read(); print(base64.urlsafe_b64encode(d[-64:-32]).decode().rstrip("="))' \
		"$IT_TMP/spki.der"
}
pubkey_of() {
	openssl pkey -in "$1" -pubout 2>/dev/null || echo "UNREADABLE $1"
}

# -- register
it_certo_ca account register --agree-tos -m old@example.com --account-key-type ec-256
it_expect_rc 0 "account register"
it_expect_account
acct_url=$(it_json_get "$IT_ACCOUNT_DIR/account.json" 'd["url"]')
case "$acct_url" in
"https://localhost:$IT_BASEPORT/"*) ;;
*) fail "account.json url is '$acct_url', not an account of this Pebble" ;;
esac
it_expect_out_contains "$acct_url" "account register prints the account URL"

# -- info: text and JSON
it_certo_ca account info
it_expect_rc 0 "account info"
it_expect_out_contains "$acct_url" "account info"
grep -q 'status: *valid' "$IT_OUT" || fail "account info does not show 'status: valid'"
it_expect_out_contains "mailto:old@example.com" "account info before update"

IT_GLOBAL_OPTS=--json it_certo_ca account info
it_expect_rc 0 "account info --json"
cp "$IT_OUT" "$IT_TMP/info1.json"
[ "$(it_json_get "$IT_TMP/info1.json" 'd["status"]')" = valid ] ||
	fail "account info --json: status is not valid"
[ "$(it_json_get "$IT_TMP/info1.json" 'd["url"]')" = "$acct_url" ] ||
	fail "account info --json: url is not $acct_url"
[ "$(it_json_get "$IT_TMP/info1.json" 'd["key"]["x"]')" = "$(jwk_x_of "$IT_ACCOUNT_DIR/account.key")" ] ||
	fail "the key Pebble holds for the account is not account.key"

# -- update --email: the contact list is replaced
it_certo_ca account update --email new@example.com
it_expect_rc 0 "account update --email new@example.com"
IT_GLOBAL_OPTS=--json it_certo_ca account info
it_expect_rc 0 "account info after update"
cp "$IT_OUT" "$IT_TMP/info2.json"
[ "$(it_json_get "$IT_TMP/info2.json" 'd.get("contact")')" = '["mailto:new@example.com"]' ] ||
	fail "after update, Pebble's contact is $(it_json_get "$IT_TMP/info2.json" 'd.get("contact")'), expected [\"mailto:new@example.com\"]"
it_certo_ca account info
it_expect_out_contains "mailto:new@example.com" "account info after update"
grep -q 'old@example.com' "$IT_OUT" && fail "account info still shows old@example.com after the update"

# -- rollover
cp -p "$IT_ACCOUNT_DIR/account.key" "$IT_TMP/key0.pem"
[ ! -e "$IT_ACCOUNT_DIR/account.key.old" ] || fail "account.key.old exists before any rollover"
it_certo_ca account rollover
it_expect_rc 0 "account rollover"
[ -f "$IT_ACCOUNT_DIR/account.key.old" ] || fail "no account.key.old after rollover"
it_expect_mode "$IT_ACCOUNT_DIR/account.key" 600
it_expect_mode "$IT_ACCOUNT_DIR/account.key.old" 600
[ "$(pubkey_of "$IT_ACCOUNT_DIR/account.key.old")" = "$(pubkey_of "$IT_TMP/key0.pem")" ] ||
	fail "account.key.old is not the key account.key held before the rollover"
[ "$(pubkey_of "$IT_ACCOUNT_DIR/account.key")" != "$(pubkey_of "$IT_TMP/key0.pem")" ] ||
	fail "account.key did not change on rollover"
[ "$(it_json_get "$IT_ACCOUNT_DIR/account.json" 'd["url"]')" = "$acct_url" ] ||
	fail "the account URL changed on rollover"
it_expect_private_modes

# Pebble now knows the account by the new key.
IT_GLOBAL_OPTS=--json it_certo_ca account info
it_expect_rc 0 "account info with the new key"
cp "$IT_OUT" "$IT_TMP/info3.json"
[ "$(it_json_get "$IT_TMP/info3.json" 'd["url"]')" = "$acct_url" ] ||
	fail "account info after rollover: url is not $acct_url"
[ "$(it_json_get "$IT_TMP/info3.json" 'd["key"]["x"]')" = "$(jwk_x_of "$IT_ACCOUNT_DIR/account.key")" ] ||
	fail "after rollover, the key Pebble holds for the account is not the new account.key"

# Issuing works with the new key, on the same account.
it_issue -d acct.certo.test
it_expect_rc 0 "issue after rollover"
it_check_issued acct.certo.test acct.certo.test
it_expect_out_contains "$acct_url" "issue after rollover uses the same account"
grep -q '^account: created' "$IT_OUT" && fail "issue after rollover created a new account"

# A JWS signed with the old key is refused.
cp -p "$IT_ACCOUNT_DIR/account.key" "$IT_TMP/key1.pem"
cp -p "$IT_ACCOUNT_DIR/account.key.old" "$IT_ACCOUNT_DIR/account.key"
it_certo_ca account info
it_expect_rc 2 "account info signed with the pre-rollover key"
it_expect_err_certo_line "account info with the old key"
cp -p "$IT_TMP/key1.pem" "$IT_ACCOUNT_DIR/account.key"
it_certo_ca account info
it_expect_rc 0 "account info with the new key put back"

# -- deactivate
it_certo_ca account deactivate
it_expect_rc 0 "account deactivate"
grep -qi 'deactivated' "$IT_OUT" || fail "account deactivate does not report the status deactivated"
it_certo_ca account info
it_expect_rc 2 "account info after deactivate"
it_expect_err_certo_line "account info after deactivate"
grep -qiE 'deactivated|unauthorized' "$IT_ERR" ||
	fail "account info after deactivate: stderr does not pass on Pebble's unauthorized/deactivated problem"
it_issue -d after.certo.test
it_expect_rc 2 "issue with a deactivated account"
grep -qiE 'deactivated|unauthorized' "$IT_ERR" ||
	fail "issue with a deactivated account: stderr does not pass on Pebble's unauthorized/deactivated problem"
[ ! -e "$IT_STATE/live/after.certo.test" ] || fail "live/after.certo.test exists after a refused issue"
it_pass
