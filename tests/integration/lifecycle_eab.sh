#!/bin/sh
# lifecycle_eab: external account binding against a Pebble that requires it
# (PEBBLE_EAB_KID/PEBBLE_EAB_HMAC, see scripts/pebble-env.sh). Without
# --eab-kid certo stops with exit 1 and says to pass --eab-kid; a wrong HMAC
# key or an unknown kid is refused by Pebble (exit 2) and leaves no
# account; the right pair registers (account register) and issues (issue
# in a fresh state dir, which registers on the way).
. "$(dirname "$0")/lib.sh"
it_init lifecycle_eab
it_need_pebble

b64url_random() {
	head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}
EAB_HMAC=$(b64url_random)
WRONG_HMAC=$(b64url_random)
[ -n "$EAB_HMAC" ] && [ "$EAB_HMAC" != "$WRONG_HMAC" ] || fail "cannot make HMAC keys"
PEBBLE_EAB_KID=kid-1 PEBBLE_EAB_HMAC=$EAB_HMAC it_start_pebble
curl -sf --max-time 10 --cacert "$PEBBLE_CA_BUNDLE" -o "$IT_TMP/dir.json" "$PEBBLE_DIR_URL" ||
	fail "cannot fetch Pebble's directory"
[ "$(it_json_get "$IT_TMP/dir.json" 'd["meta"].get("externalAccountRequired")')" = true ] ||
	fail "Pebble's directory does not say externalAccountRequired: true (EAB not configured?)"

no_account() {
	[ ! -e "$IT_ACCOUNT_DIR/account.json" ] ||
		fail "$1: account.json exists although no account was registered"
}

# -- no EAB at all: a usage/configuration error naming the option
it_certo_ca account register --agree-tos -m eab@example.com
it_expect_rc 1 "account register without --eab-kid"
it_expect_err_contains "--eab-kid" "account register without EAB"
no_account "account register without EAB"

it_issue -d eab.certo.test
it_expect_rc 1 "issue without --eab-kid"
it_expect_err_contains "--eab-kid" "issue without EAB"
no_account "issue without EAB"
it_expect_no_live "issue without EAB"

# -- wrong HMAC key: Pebble refuses the binding
it_certo_ca account register --agree-tos --eab-kid kid-1 --eab-hmac-key "$WRONG_HMAC"
it_expect_rc 2 "account register with a wrong --eab-hmac-key"
it_expect_err_certo_line "wrong HMAC key"
no_account "wrong HMAC key"

# -- unknown kid with the right key
it_certo_ca account register --agree-tos --eab-kid kid-2 --eab-hmac-key "$EAB_HMAC"
it_expect_rc 2 "account register with an unknown --eab-kid"
no_account "unknown kid"

# -- the right pair
it_certo_ca account register --agree-tos -m eab@example.com --eab-kid kid-1 --eab-hmac-key "$EAB_HMAC"
it_expect_rc 0 "account register with the right EAB"
it_expect_account
it_certo_ca account info
it_expect_rc 0 "account info of the EAB account"
grep -q 'status: *valid' "$IT_OUT" || fail "the EAB account is not valid"

# The stored account issues without the EAB options.
it_issue -d eab.certo.test
it_expect_rc 0 "issue with the registered EAB account"
it_check_issued eab.certo.test eab.certo.test

# -- issue in a fresh state dir registers with EAB on the way
IT_STATE="$IT_TMP/state2"
IT_ACCOUNT_DIR="$IT_STATE/accounts/localhost_$IT_BASEPORT"
it_issue -d eab2.certo.test --eab-kid kid-1 --eab-hmac-key "$EAB_HMAC"
it_expect_rc 0 "issue --eab-kid --eab-hmac-key in a fresh state dir"
it_check_issued eab2.certo.test eab2.certo.test

# ... and a wrong key there fails the same way as register.
IT_STATE="$IT_TMP/state3"
IT_ACCOUNT_DIR="$IT_STATE/accounts/localhost_$IT_BASEPORT"
it_issue -d eab3.certo.test --eab-kid kid-1 --eab-hmac-key "$WRONG_HMAC"
it_expect_rc 2 "issue with a wrong --eab-hmac-key"
no_account "issue with a wrong HMAC key"
it_expect_no_live "issue with a wrong HMAC key"
it_pass
