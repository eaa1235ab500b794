#!/bin/sh
# manuale_account: manuale account files whose "uri" is an ACME v1
# registration (issue 16), and stored account URLs the CA refuses later:
#  - a real Pebble account whose uri was rewritten to a v1 one (Let's
#    Encrypt's acme-v01 host, and a /acme/reg/ path on Pebble's host):
#    import finds the account by its key (onlyReturnExisting), stores the
#    original URL, says "OLD -> NEW" in one line, and issue uses it;
#  - a key the CA does not know: exit 10, one line, nothing written, and
#    no account created (a second import still finds none);
#  - later runs: an account.json holding a v1 URL, a URL the CA says does
#    not exist, or one outside its account path (a malformed kid): issue
#    finds the account by its key, rewrites account.json and issues; an
#    unknown key there: exit 10, no account.
. "$(dirname "$0")/lib.sh"
it_init manuale_account
it_start_pebble

# manuale FILE URI KEYFILE: a manuale account.json.
manuale() {
	"$IT_PY" - "$1" "$2" "$3" <<-'EOF' || fail "cannot write $1"
	import json, sys
	json.dump({"uri": sys.argv[2], "key": open(sys.argv[3]).read()}, open(sys.argv[1], "w"))
	EOF
	chmod 600 "$1"
}
acct_dir() { echo "$1/accounts/localhost_$IT_BASEPORT"; }
acct_url() { it_json_get "$(acct_dir "$1")/account.json" 'd["url"]'; }
# set_url STATE URL: account.json of STATE holds URL (the rest kept).
set_url() {
	"$IT_PY" - "$(acct_dir "$1")/account.json" "$2" <<-'EOF' || fail "cannot rewrite account.json"
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["url"] = sys.argv[2]
	json.dump(d, open(sys.argv[1], "w"))
	EOF
}
# import_into STATE FILE: certo account import into STATE.
import_into() {
	it_certo account import --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$1" --manuale-account "$2"
}
# issue_in STATE NAME: certo issue into STATE.
issue_in() {
	it_certo issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$1" --standalone --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 -d "$2"
}

# A real account, registered in state A.
SA="$IT_TMP/stateA"
it_certo account register --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$SA" --agree-tos -m a@example.com
it_expect_rc 0 "account register in state A"
URL=$(acct_url "$SA")
KEY="$(acct_dir "$SA")/account.key"
case "$URL" in "https://localhost:$IT_BASEPORT/"*) ;; *) fail "unexpected account URL $URL" ;; esac

# -- v1 URIs in the imported file: resolved by key.
n=0
for v1 in https://acme-v01.api.letsencrypt.org/acme/reg/1 \
	"https://localhost:$IT_BASEPORT/acme/reg/7"; do
	n=$((n + 1))
	S="$IT_TMP/v1state$n"
	manuale "$IT_TMP/v1-$n.json" "$v1" "$KEY"
	import_into "$S" "$IT_TMP/v1-$n.json"
	it_expect_rc 0 "import of a manuale file with the v1 URI $v1"
	[ "$(grep -c -- ' -> ' "$IT_OUT")" -eq 1 ] || fail "import of $v1: not one 'OLD -> NEW' line"
	grep -qF "account: $v1 -> $URL" "$IT_OUT" || fail "import of $v1 does not say '$v1 -> $URL'"
	[ "$(acct_url "$S")" = "$URL" ] || fail "import of $v1 stored $(acct_url "$S"), not $URL"
	it_expect_mode "$(acct_dir "$S")/account.key" 600
	issue_in "$S" "v1-$n.certo.test"
	it_expect_rc 0 "issue with the account imported from $v1"
	it_account_line "$IT_OUT" | grep -qF "using existing $URL" ||
		fail "issue after importing $v1 did not use $URL: $(it_account_line "$IT_OUT")"
	[ "$(acct_url "$S")" = "$URL" ] || fail "the account URL changed after issue"
	openssl verify -CAfile "$IT_ROOT" -untrusted "$IT_INTERMEDIATE" \
		"$S/live/v1-$n.certo.test/cert.pem" >/dev/null 2>&1 || fail "certificate after $v1 import does not verify"
done

# -- a key the CA does not know: exit 10, nothing written, no account.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$IT_TMP/new.key" 2>/dev/null ||
	fail "openssl genpkey"
SU="$IT_TMP/stateU"
manuale "$IT_TMP/unknown.json" https://acme-v01.api.letsencrypt.org/acme/reg/2 "$IT_TMP/new.key"
for try in 1 2; do
	import_into "$SU" "$IT_TMP/unknown.json"
	it_expect_rc 10 "import of a key the CA does not know (try $try)"
	it_expect_err_one_line "import of an unknown key"
	it_expect_err_contains "knows no account" "import of an unknown key"
	[ -z "$(find "$SU/accounts" -type f 2>/dev/null)" ] ||
		fail "import of an unknown key wrote $(find "$SU/accounts" -type f)"
done

# -- later runs: a v1 URL in account.json is replaced before any use.
S1="$IT_TMP/v1state1"
set_url "$S1" https://acme-v01.api.letsencrypt.org/acme/reg/1
issue_in "$S1" later-v1.certo.test
it_expect_rc 0 "issue with a v1 URL in account.json"
grep -qF "account: https://acme-v01.api.letsencrypt.org/acme/reg/1 -> $URL" "$IT_OUT" ||
	fail "issue with a v1 URL in account.json did not say what changed"
[ "$(acct_url "$S1")" = "$URL" ] || fail "account.json was not rewritten to $URL"

# -- later runs: a URL the CA does not know (accountDoesNotExist).
BOGUS="https://localhost:$IT_BASEPORT/my-account/987654321"
set_url "$S1" "$BOGUS"
issue_in "$S1" later-gone.certo.test
it_expect_rc 0 "issue with an account URL the CA does not know"
grep -qF "account: $BOGUS -> $URL" "$IT_OUT" || fail "issue did not say '$BOGUS -> $URL'"
[ "$(acct_url "$S1")" = "$URL" ] || fail "account.json was not rewritten to $URL"
[ -s "$S1/live/later-gone.certo.test/cert.pem" ] || fail "no certificate after the URL was found again"

# -- later runs: a URL outside the CA's account path (Pebble: malformed,
# "Key ID (kid) in JWS header missing expected URL prefix").
ODD="https://localhost:$IT_BASEPORT/acct/5"
set_url "$S1" "$ODD"
issue_in "$S1" later-kid.certo.test
it_expect_rc 0 "issue with an account URL of the wrong form"
grep -qF "account: $ODD -> $URL" "$IT_OUT" || fail "issue did not say '$ODD -> $URL'"
[ "$(acct_url "$S1")" = "$URL" ] || fail "account.json was not rewritten to $URL"

# -- later runs: the stored key is unknown to the CA (and its URL too):
# exit 10, no account.
cp "$IT_TMP/new.key" "$(acct_dir "$S1")/account.key" && chmod 600 "$(acct_dir "$S1")/account.key" ||
	fail "cannot replace account.key"
set_url "$S1" "$BOGUS"
issue_in "$S1" later-unknown.certo.test
it_expect_rc 10 "issue with an account key the CA does not know"
it_expect_err_one_line "issue with an unknown account key"
it_expect_err_contains "knows no account" "issue with an unknown account key"
[ "$(acct_url "$S1")" = "$BOGUS" ] || fail "account.json changed after an unknown key"
[ ! -e "$S1/live/later-unknown.certo.test" ] || fail "a certificate was stored with an unknown key"
import_into "$SU" "$IT_TMP/unknown.json"
it_expect_rc 10 "the unknown key is still unknown (no account was created)"
it_pass
