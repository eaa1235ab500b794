#!/bin/sh
# lifecycle_badinput: bad input to the lifecycle verbs. Usage errors exit 1
# with one "certo: ..." line naming what is wrong, before anything is sent
# or written (the state dir stays empty):
#   revoke without --cert; revoke --reason bogus; account frobnicate;
#   account (no command); renew --jobs 0 / abc; issue --not-after garbage;
#   --eab-kid without --eab-hmac-key (and the reverse); deactivate-authz
#   without an argument or with a name that has no saved authorization
#   (with and without an account).
# account import --manuale: malformed files fail (not with 0, and not with
# exit 2, which means the CA refused) and import nothing; a good manuale
# file ({"uri": <account URL>, "key": <PEM account key>}) imports, and
# account info then works with the imported account.
. "$(dirname "$0")/lib.sh"
it_init lifecycle_badinput
it_start_pebble

# A sweep: every failed check is collected (soft) and all are reported at
# the end, so one misbehaviour does not hide the others.
SOFT="$IT_TMP/soft-failures"
: >"$SOFT"
soft() {
	echo "$*" >>"$SOFT"
	echo "[$IT_NAME] check failed: $*" >&2
	if [ -n "$IT_LAST_CMD" ]; then
		echo "  (certo$IT_LAST_CMD -> exit $IT_RC; stderr: $(head -n 2 "$IT_ERR" | tr '\n' ' '))" >&2
	fi
}

# usage_error WHAT WORD ARGS...: certo ARGS exits 1 with one "certo: " line
# that contains WORD, and the state dir holds no file.
usage_error() {
	_what=$1
	_word=$2
	shift 2
	it_certo "$@"
	if [ "$IT_RC" != 1 ]; then
		soft "$_what: expected exit 1, got $IT_RC"
		return
	fi
	head -n 1 "$IT_ERR" | grep -q '^certo: ' ||
		soft "$_what: stderr does not start with a 'certo: ' line"
	[ -z "$_word" ] || grep -qiF -- "$_word" "$IT_ERR" ||
		soft "$_what: the message does not mention '$_word'"
	if [ -d "$IT_STATE" ]; then
		_f=$(find "$IT_STATE" -type f | head -n 3)
		[ -z "$_f" ] || soft "$_what: files written to the state dir: $(echo "$_f" | tr '\n' ' ')"
	fi
}
S="--server $PEBBLE_DIR_URL --ca-bundle $PEBBLE_CA_BUNDLE --state-dir $IT_STATE"
ISSUE="issue --standalone --http-port $IT_HTTP_PORT --http-addr 127.0.0.1 --agree-tos -d bad.certo.test"

# shellcheck disable=SC2086 # $S and $ISSUE are word lists without spaces
{
	usage_error "revoke without --cert" "--cert" revoke $S
	usage_error "revoke --reason only" "--cert" revoke $S --reason keyCompromise
	usage_error "account frobnicate" "frobnicate" account frobnicate $S
	usage_error "account without a command" "" account $S
	usage_error "renew --jobs 0" "--jobs" renew $S --jobs 0
	usage_error "renew --jobs abc" "--jobs" renew $S --jobs abc
	usage_error "issue --not-after garbage" "--not-after" $ISSUE $S --not-after garbage
	usage_error "issue --eab-kid without --eab-hmac-key" "--eab-hmac-key" $ISSUE $S --eab-kid kid-1
	usage_error "account register --eab-kid without --eab-hmac-key" "--eab-hmac-key" \
		account register $S --agree-tos --eab-kid kid-1
	usage_error "account register --eab-hmac-key without --eab-kid" "--eab-kid" \
		account register $S --agree-tos --eab-hmac-key AAAA
	usage_error "deactivate-authz without an argument" "" deactivate-authz $S
	# No account and nothing saved for the name: say so, register nothing.
	usage_error "deactivate-authz of an unknown name (no account)" "nosuch.certo.test" \
		deactivate-authz $S nosuch.certo.test
}
# The message for --jobs abc is about a number of jobs, not seconds.
# shellcheck disable=SC2086
it_certo renew $S --jobs abc
! grep -qi 'seconds' "$IT_ERR" ||
	soft "renew --jobs abc: the message talks about seconds: $(head -n 1 "$IT_ERR")"

# With an account.
it_certo_ca account register --agree-tos -m bad@example.com
it_expect_rc 0 "account register"
it_expect_account
ACCT_URL=$(it_json_get "$IT_ACCOUNT_DIR/account.json" 'd["url"]')
it_certo_ca deactivate-authz nosuch.certo.test
[ "$IT_RC" = 1 ] || soft "deactivate-authz of an unknown name (with an account): exit $IT_RC, expected 1"
grep -qF nosuch.certo.test "$IT_ERR" ||
	soft "deactivate-authz of an unknown name (with an account): the message does not name it"
# shellcheck disable=SC2086
it_certo revoke $S --cert "$IT_ACCOUNT_DIR/account.json"
[ "$IT_RC" = 1 ] || [ "$IT_RC" = 4 ] ||
	soft "revoke --cert <not a certificate>: exit $IT_RC, expected a local error (1 or 4)"

# -- account import --manuale
MSTATE="$IT_TMP/import-state"
MACCT="$MSTATE/accounts/localhost_$IT_BASEPORT"
import() {
	it_certo account import --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$MSTATE" --manuale "$1"
}
expect_nothing_imported() {
	if [ -d "$MSTATE" ]; then
		_f=$(find "$MSTATE" -type f | head -n 3)
		[ -z "$_f" ] || fail "$1: files left in the state dir: $(echo "$_f" | tr '\n' ' ')"
	fi
}
mk() { # mk NAME CONTENT: a 0600 file in $IT_TMP
	(umask 077 && printf '%s' "$2" >"$IT_TMP/$1") || fail "cannot write $IT_TMP/$1"
	echo "$IT_TMP/$1"
}
PEM=$(cat "$IT_ACCOUNT_DIR/account.key")
GOOD=$("$IT_PY" -c 'import json,sys; print(json.dumps({"uri": sys.argv[1], "key": open(sys.argv[2]).read()}))' \
	"$ACCT_URL" "$IT_ACCOUNT_DIR/account.key")

for case in \
	"truncated JSON|{\"uri\": \"$ACCT_URL\", \"key\": " \
	"not JSON|this is not json" \
	"JSON array|[1, 2, 3]" \
	"no key|{\"uri\": \"$ACCT_URL\"}" \
	"no uri|$("$IT_PY" -c 'import json,sys; print(json.dumps({"key": sys.argv[1]}))' "$PEM")" \
	"key not PEM|{\"uri\": \"$ACCT_URL\", \"key\": \"not a PEM key\"}" \
	"uri not a string|{\"uri\": 5, \"key\": \"x\"}" \
	"empty file|"; do
	what=${case%%|*}
	f=$(mk "manuale-bad.json" "${case#*|}")
	import "$f"
	[ "$IT_RC" -ne 0 ] || fail "account import --manuale ($what): exit 0"
	[ "$IT_RC" -eq 1 ] || [ "$IT_RC" -eq 4 ] ||
		soft "account import --manuale ($what): exit $IT_RC, expected 1 (bad input) or 4 (local file): exit 2 means the CA refused"
	head -n 1 "$IT_ERR" | grep -q '^certo: ' ||
		soft "account import ($what): stderr does not start with a 'certo: ' line"
	expect_nothing_imported "account import ($what)"
done
import "$IT_TMP/no-such-file.json"
[ "$IT_RC" -eq 1 ] || [ "$IT_RC" -eq 4 ] || soft "account import --manuale <missing file>: exit $IT_RC"
expect_nothing_imported "account import of a missing file"

f=$(mk manuale-good.json "$GOOD")
import "$f"
it_expect_rc 0 "account import --manuale <good file>"
it_expect_out_contains "$ACCT_URL" "account import"
[ -s "$MACCT/account.key" ] && [ -s "$MACCT/account.json" ] ||
	fail "account import wrote no account.key/account.json in $MACCT"
it_expect_mode "$MACCT/account.key" 600
[ "$(it_json_get "$MACCT/account.json" 'd["url"]')" = "$ACCT_URL" ] ||
	fail "the imported account.json does not hold $ACCT_URL"
[ "$(openssl pkey -in "$MACCT/account.key" -pubout)" = "$(openssl pkey -in "$IT_ACCOUNT_DIR/account.key" -pubout)" ] ||
	fail "the imported account.key is not the key of the manuale file"
it_certo account info --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$MSTATE"
it_expect_rc 0 "account info with the imported account"
it_expect_out_contains "$ACCT_URL" "account info with the imported account"
grep -q 'status: *valid' "$IT_OUT" || fail "account info with the imported account: status is not valid"

if [ -s "$SOFT" ]; then
	IT_LAST_CMD=""
	fail "$(wc -l <"$SOFT") check(s) failed:
$(sed 's/^/  - /' "$SOFT")"
fi
it_pass
