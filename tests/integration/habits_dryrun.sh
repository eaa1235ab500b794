#!/bin/sh
# habits_dryrun: renew --dry-run and accounts (issue 14, defect 5).
#  - an account created with --agree-tos remembers it (account.json
#    "terms_agreed", "contact");
#  - renew --dry-run of a certificate from a CA without a known staging
#    directory (Pebble) is refused (exit 1, a renew_failed JSON event), and
#    nothing is ordered: a dry run never issues for real;
#  - renew --dry-run --dry-run-server URL renews against URL, creating the
#    account there with the remembered agreement and addresses, and stores
#    nothing. URL is this Pebble as https://127.0.0.1:PORT/dir: another CA
#    id for certo (accounts/127.0.0.1_PORT), so no account exists there;
#  - without a remembered agreement (an account.json from before), the dry
#    run stops with the terms-of-service error; renew accepts --agree-tos
#    and --email and then creates the account with them;
#  - --dry-run-server without --dry-run is a usage error.
# The mapping of known CAs to their staging directories (letsencrypt ->
# letsencrypt-staging...) needs the real CAs and is not tested here.
. "$(dirname "$0")/lib.sh"
it_init habits_dryrun
it_start_pebble

orders() {
	grep -c "POST /order-plz" "$IT_PEBBLE_DIR/pebble.log" || true
}
STG_URL="https://127.0.0.1:$IT_BASEPORT/dir"
STG_ACCT="$IT_STATE/accounts/127.0.0.1_$IT_BASEPORT"

it_issue -d d.certo.test
it_expect_rc 0 "issue"
it_check_issued d.certo.test d.certo.test
[ "$(it_json_get "$IT_ACCOUNT_DIR/account.json" 'd.get("terms_agreed")')" = true ] ||
	fail "account.json does not remember --agree-tos: $(cat "$IT_ACCOUNT_DIR/account.json")"
[ "$(it_json_get "$IT_ACCOUNT_DIR/account.json" 'd.get("contact")')" = '["test@example.com"]' ] ||
	fail "account.json does not remember the e-mail: $(cat "$IT_ACCOUNT_DIR/account.json")"

# -- no staging directory known: refused, nothing ordered
before=$(orders)
digest=$(it_tree_digest "$IT_STATE/live" "$IT_STATE/archive")
it_certo renew --state-dir "$IT_STATE" --dry-run
it_expect_rc 1 "renew --dry-run, no staging directory known"
it_expect_err_contains "no staging directory is known" "renew --dry-run"
it_expect_err_contains "--dry-run-server" "renew --dry-run"
it_expect_err_contains "renew d.certo.test" "renew --dry-run names the certificate"
[ "$(orders)" = "$before" ] || fail "renew --dry-run without a staging directory ordered a certificate"
it_certo --json renew --state-dir "$IT_STATE" --dry-run --force
it_expect_rc 1 "renew --json --dry-run --force, no staging directory known"
[ "$(it_json_lines_field "$IT_OUT" renew_failed name)" = d.certo.test ] ||
	fail "no renew_failed event for d.certo.test"
[ "$(it_json_lines_field "$IT_OUT" renew_failed code)" = EUSAGE ] ||
	fail "renew_failed code is not EUSAGE"
[ "$(orders)" = "$before" ] || fail "renew --dry-run --force without a staging directory ordered a certificate"
[ "$(it_tree_digest "$IT_STATE/live" "$IT_STATE/archive")" = "$digest" ] ||
	fail "a refused dry run changed live/ or archive/"

# -- --dry-run-server: the staging account is created from what was remembered
[ ! -e "$STG_ACCT" ] || fail "$STG_ACCT exists before the dry run"
it_certo --json renew --state-dir "$IT_STATE" --dry-run --dry-run-server "$STG_URL"
it_expect_rc 0 "renew --dry-run --dry-run-server"
[ -n "$(it_json_lines_field "$IT_OUT" account_created url)" ] ||
	fail "the dry run did not create the staging account"
case "$(it_json_lines_field "$IT_OUT" account_created url)" in
https://127.0.0.1:"$IT_BASEPORT"/*) ;;
*) fail "the staging account is not at $STG_URL's CA: $(it_json_lines_field "$IT_OUT" account_created url)" ;;
esac
[ -n "$(it_json_lines_field "$IT_OUT" certificate_checked not_after)" ] ||
	fail "the dry run issued no certificate"
[ "$(it_json_get "$STG_ACCT/account.json" 'd.get("terms_agreed")')" = true ] ||
	fail "the staging account.json does not record the agreement"
[ "$(it_json_get "$STG_ACCT/account.json" 'd.get("contact")')" = '["test@example.com"]' ] ||
	fail "the staging account did not get the remembered e-mail"
it_expect_mode "$STG_ACCT/account.key" 600
[ "$(it_tree_digest "$IT_STATE/live" "$IT_STATE/archive")" = "$digest" ] ||
	fail "the dry run changed live/ or archive/"
it_certo renew --state-dir "$IT_STATE" --dry-run --dry-run-server "$STG_URL"
it_expect_rc 0 "second dry run"
it_account_line "$IT_OUT" | grep -q "using existing" ||
	fail "the second dry run did not reuse the staging account"

# -- nothing remembered (an account.json written before): --agree-tos needed
S2="$IT_TMP/state2"
IT_STATE="$S2"
IT_ACCOUNT_DIR="$S2/accounts/localhost_$IT_BASEPORT"
it_issue -d e.certo.test
it_expect_rc 0 "issue in a second state dir"
url=$(it_json_get "$IT_ACCOUNT_DIR/account.json" 'd["url"]')
printf '{ "url": "%s" }\n' "$url" >"$IT_ACCOUNT_DIR/account.json"
it_certo renew --state-dir "$S2" --dry-run --dry-run-server "$STG_URL"
it_expect_rc 1 "dry run without a remembered agreement"
it_expect_err_contains "--agree-tos" "dry run without a remembered agreement"
[ -z "$(ls "$S2/accounts/127.0.0.1_$IT_BASEPORT" 2>/dev/null)" ] ||
	fail "a refused account creation left files: $(ls "$S2/accounts/127.0.0.1_$IT_BASEPORT")"
it_certo renew --state-dir "$S2" --dry-run --dry-run-server "$STG_URL" --agree-tos \
	-m other@example.com
it_expect_rc 0 "dry run with --agree-tos --email"
[ "$(it_json_get "$S2/accounts/127.0.0.1_$IT_BASEPORT/account.json" 'd.get("contact")')" = '["other@example.com"]' ] ||
	fail "renew --email was not used for the new account"

# -- renew takes --agree-tos without a dry run too; --dry-run-server alone is refused
it_certo renew --state-dir "$S2" --agree-tos
it_expect_rc 2 "renew --agree-tos, nothing due"
it_certo renew --state-dir "$S2" --dry-run-server "$STG_URL"
it_expect_rc 1 "--dry-run-server without --dry-run"
it_expect_err_contains "goes with --dry-run"
it_pass
