#!/bin/sh
# lifecycle_revoke: certo revoke, checked through Pebble's management API
# (GET /cert-status-by-serial/<serial>).
#  - signed with the account key, --reason keyCompromise: Pebble says
#    Revoked with reason 1; revoking it again is refused (exit 2);
#  - signed with the certificate's own key (--cert-key) from a fresh state
#    dir with no account at all: Revoked, and no account is created;
#  - --cert-key with a key that is not the certificate's: exit 1 before
#    anything is sent (the certificate stays Valid).
. "$(dirname "$0")/lib.sh"
it_init lifecycle_revoke
it_start_pebble

expect_status() {
	_st=$(it_pebble_cert_status "$1")
	[ "$_st" = "$2" ] || fail "${3:+$3: }Pebble reports $(basename "$(dirname "$1")")/cert.pem (serial $(it_pebble_serial "$1")) as '$_st', expected '$2'"
}

# -- revoke with the account key
it_issue -d r1.certo.test
it_expect_rc 0 "issue r1.certo.test"
it_check_issued r1.certo.test r1.certo.test
C1="$IT_STATE/live/r1.certo.test/cert.pem"
expect_status "$C1" Valid "before revoking"
it_certo_ca revoke --cert "$C1" --reason keyCompromise
it_expect_rc 0 "revoke --cert --reason keyCompromise"
expect_status "$C1" Revoked "after revoke with the account key"
[ "$(it_json_get "$IT_TMP/cert-status.json" 'd.get("Reason")')" = 1 ] ||
	fail "Pebble's revocation reason is $(it_json_get "$IT_TMP/cert-status.json" 'd.get("Reason")'), expected 1 (keyCompromise)"

# Again: the CA refuses (alreadyRevoked).
it_certo_ca revoke --cert "$C1" --reason keyCompromise
it_expect_rc 2 "revoking an already revoked certificate"
it_expect_err_certo_line "revoking twice"

# -- revoke with the certificate key, no account
it_issue -d r2.certo.test
it_expect_rc 0 "issue r2.certo.test"
it_check_issued r2.certo.test r2.certo.test
C2="$IT_STATE/live/r2.certo.test/cert.pem"
K2="$IT_STATE/live/r2.certo.test/privkey.pem"
expect_status "$C2" Valid "r2 before revoking"

FRESH="$IT_TMP/fresh-state"
# A key that is not r2's: r1's certificate key, then the account key.
for wrong in "$IT_STATE/live/r1.certo.test/privkey.pem" "$IT_ACCOUNT_DIR/account.key"; do
	it_certo revoke --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$FRESH" --cert "$C2" --cert-key "$wrong"
	it_expect_rc 1 "revoke --cert-key $(basename "$wrong") (not the certificate's key)"
	it_expect_err_certo_line "revoke with the wrong key"
	expect_status "$C2" Valid "after a refused revoke with the wrong key"
done

it_certo revoke --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$FRESH" --cert "$C2" --cert-key "$K2"
it_expect_rc 0 "revoke --cert-key (fresh state dir, no account)"
expect_status "$C2" Revoked "after revoke with the certificate key"
if [ -d "$FRESH/accounts" ]; then
	_f=$(find "$FRESH/accounts" -type f | head -n 3)
	[ -z "$_f" ] || fail "revoke --cert-key created account files: $(echo "$_f" | tr '\n' ' ')"
fi

# The other certificates are untouched.
it_issue -d r3.certo.test
it_expect_rc 0 "issue r3.certo.test"
expect_status "$IT_STATE/live/r3.certo.test/cert.pem" Valid "an unrelated certificate"
it_pass
