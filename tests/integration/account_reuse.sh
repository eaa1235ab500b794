#!/bin/sh
# account_reuse: a second issuance with the same state dir reuses the
# account (key and URL files untouched, "existing" on the account line),
# archives the previous files under archive/<name>/<UTC timestamp>/, and
# installs a new certificate with a new serial.
# PEBBLE_AUTHZREUSE=100 makes the second order reuse the valid
# authorization, so certo must also handle an order that needs no challenge.
. "$(dirname "$0")/lib.sh"
it_init account_reuse
PEBBLE_AUTHZREUSE=100
export PEBBLE_AUTHZREUSE
it_start_pebble
name=r.certo.test
live="$IT_STATE/live/$name"

# First run: creates the account.
it_issue -d "$name"
it_expect_rc 0 "first issuance"
it_check_issued "$name" "$name"
line1=$(it_account_line "$IT_OUT") || fail "first run: no 'account:' line on stdout"
case "$line1" in
*existing*) fail "first run: account line says existing: '$line1'" ;;
esac
url1=$(echo "$line1" | grep -o 'https://[^ ]*') || fail "first run: no URL on the account line '$line1'"
grep -qF "$url1" "$IT_ACCOUNT_DIR/account.json" ||
	fail "account.json does not hold the account URL $url1"
key_sum=$(sha256sum <"$IT_ACCOUNT_DIR/account.key")
json_sum=$(sha256sum <"$IT_ACCOUNT_DIR/account.json")
cp "$live/cert.pem" "$IT_TMP/first-cert.pem"
serial1=$(it_cert_serial "$live/cert.pem")
[ ! -e "$IT_STATE/archive/$name" ] || [ -z "$(find "$IT_STATE/archive/$name" -type f)" ] ||
	fail "first issuance already archived files: $(find "$IT_STATE/archive/$name" -type f | tr '\n' ' ')"
# The archive's timestamp has a one-second granularity at least.
sleep 1

# Second run: same account, new certificate (--force: the first set is
# valid and not due, so a plain issue would do nothing).
it_issue -d "$name" --force
it_expect_rc 0 "second issuance"
it_check_issued "$name" "$name"
line2=$(it_account_line "$IT_OUT") || fail "second run: no 'account:' line on stdout"
echo "$line2" | grep -qw existing ||
	fail "second run: account line does not say 'existing': '$line2'"
echo "$line2" | grep -qF "$url1" ||
	fail "second run: account line '$line2' does not name the account $url1"
[ "$(sha256sum <"$IT_ACCOUNT_DIR/account.key")" = "$key_sum" ] ||
	fail "account.key changed on the second run"
[ "$(sha256sum <"$IT_ACCOUNT_DIR/account.json")" = "$json_sum" ] ||
	fail "account.json changed on the second run"
[ "$(ls "$IT_STATE/accounts" | wc -l)" -eq 1 ] ||
	fail "more than one account directory: $(ls "$IT_STATE/accounts" | tr '\n' ' ')"

serial2=$(it_cert_serial "$live/cert.pem")
[ -n "$serial1" ] && [ -n "$serial2" ] || fail "could not read the serials"
[ "$serial1" != "$serial2" ] || fail "the new certificate has the old serial $serial1"

# The previous files are in archive/<name>/<UTC timestamp>/.
[ -d "$IT_STATE/archive/$name" ] || fail "no directory archive/$name after the second issuance"
archived=$(find "$IT_STATE/archive/$name" -mindepth 2 -maxdepth 2 -name cert.pem)
[ -n "$archived" ] || fail "no archive/$name/<timestamp>/cert.pem (archive has: $(cd "$IT_STATE/archive" && find . | tr '\n' ' '))"
[ "$(echo "$archived" | wc -l)" -eq 1 ] || fail "more than one archived cert.pem: $(echo "$archived" | tr '\n' ' ')"
snap=$(dirname "$archived")
stamp=$(basename "$snap")
year=$(date -u +%Y)
case "$stamp" in
"$year"*) ;;
*) fail "archive subdirectory '$stamp' does not look like a UTC timestamp starting with $year" ;;
esac
[ "$(it_fingerprints "$archived")" = "$(it_fingerprints "$IT_TMP/first-cert.pem")" ] ||
	fail "$archived is not the first certificate"
if [ -f "$snap/privkey.pem" ]; then
	it_expect_mode "$snap/privkey.pem" 600
	it_expect_key_matches "$snap/privkey.pem" "$archived"
fi
it_expect_private_modes
it_expect_no_tmp
it_pass
