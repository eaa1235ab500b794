#!/bin/sh
# habits_issue_skip: `certo issue` run again for the same names (a script
# at every boot) does not burn the CA's rate limits (issue 14):
#  - a live set with the same names, key type, CA and options that is not
#    due: exit 0, "nothing to do" (JSON event issue_skipped), no new order
#    at Pebble, the live set and archive untouched;
#  - --force re-issues (new serial, the old set archived);
#  - changed options (--key-type) or names re-issue;
#  - a set that is due (renew's rule: a third of its lifetime left; made
#    due here with --not-before 3 days ago and --not-after in a day) is
#    re-issued by a plain issue; --not-before/--not-after always issue.
. "$(dirname "$0")/lib.sh"
it_init habits_issue_skip
it_start_pebble

L="$IT_STATE/live/s.certo.test"
orders() {
	grep -c "POST /order-plz" "$IT_PEBBLE_DIR/pebble.log" || true
}
archived() {
	find "$IT_STATE/archive/$1" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l
}

it_issue -d s.certo.test
it_expect_rc 0 "first issue"
it_check_issued s.certo.test s.certo.test
serial=$(it_cert_serial "$L/cert.pem")

# -- the same again: nothing to do
before=$(orders)
digest=$(it_tree_digest "$IT_STATE/live" "$IT_STATE/archive")
it_issue -d s.certo.test
it_expect_rc 0 "second issue, same names and options"
it_expect_out_contains "nothing to do" "second issue"
it_expect_out_contains "--force" "second issue names --force"
[ "$(orders)" = "$before" ] || fail "the second issue sent a new order to Pebble"
[ "$(it_tree_digest "$IT_STATE/live" "$IT_STATE/archive")" = "$digest" ] ||
	fail "the second issue changed live/ or archive/"
[ ! -s "$IT_ERR" ] || fail "the skip printed on stderr: $(cat "$IT_ERR")"
IT_GLOBAL_OPTS=--json it_issue -d s.certo.test
it_expect_rc 0 "issue --json, same names"
[ "$(it_json_lines_field "$IT_OUT" issue_skipped name)" = s.certo.test ] ||
	fail "issue --json: no issue_skipped event naming s.certo.test"
[ -n "$(it_json_lines_field "$IT_OUT" issue_skipped renew_after)" ] ||
	fail "issue_skipped has no renew_after"
[ "$(orders)" = "$before" ] || fail "issue --json sent a new order to Pebble"

# -- --force re-issues
sleep 1 # archive names have a one-second granularity
it_issue -d s.certo.test --force
it_expect_rc 0 "issue --force"
it_check_issued s.certo.test s.certo.test
[ "$(it_cert_serial "$L/cert.pem")" != "$serial" ] || fail "issue --force kept the old certificate"
[ "$(archived s.certo.test)" -eq 1 ] || fail "issue --force did not archive the old set"
serial=$(it_cert_serial "$L/cert.pem")

# -- changed options: another key type
sleep 1
it_issue -d s.certo.test --key-type rsa-2048
it_expect_rc 0 "issue with another --key-type"
it_check_issued s.certo.test s.certo.test
[ "$(it_cert_serial "$L/cert.pem")" != "$serial" ] || fail "another --key-type did not re-issue"
openssl x509 -in "$L/cert.pem" -noout -text | grep -q rsaEncryption ||
	fail "the re-issued certificate is not RSA"
serial=$(it_cert_serial "$L/cert.pem")
before=$(orders)
it_issue -d s.certo.test --key-type rsa-2048
it_expect_rc 0 "issue again with the new --key-type"
it_expect_out_contains "nothing to do" "same --key-type again"
[ "$(orders)" = "$before" ] || fail "the same --key-type again sent a new order"

# -- changed names
sleep 1
it_issue -d s.certo.test -d s2.certo.test --key-type rsa-2048
it_expect_rc 0 "issue with one more name"
it_check_issued s.certo.test s.certo.test s2.certo.test

# -- a due set is re-issued by a plain issue
now=$(date +%s)
nb=$(date -u -d "@$((now - 3 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
na=$(date -u -d "@$((now + 86400))" +%Y-%m-%dT%H:%M:%SZ)
it_issue -d due.certo.test --not-before "$nb" --not-after "$na"
it_expect_rc 0 "issue with a short, mostly used lifetime"
it_check_issued due.certo.test due.certo.test
dserial=$(it_cert_serial "$IT_STATE/live/due.certo.test/cert.pem")
# (--not-before/--not-after always ask the CA)
it_issue -d due.certo.test --not-before "$nb" --not-after "$na"
it_expect_rc 0 "issue again with --not-before/--not-after"
[ "$(it_cert_serial "$IT_STATE/live/due.certo.test/cert.pem")" != "$dserial" ] ||
	fail "--not-before/--not-after did not re-issue"
dserial=$(it_cert_serial "$IT_STATE/live/due.certo.test/cert.pem")
sleep 1
it_issue -d due.certo.test
it_expect_rc 0 "plain issue of a due set"
it_check_issued due.certo.test due.certo.test
[ "$(it_cert_serial "$IT_STATE/live/due.certo.test/cert.pem")" != "$dserial" ] ||
	fail "a due set was not re-issued"
grep -q "nothing to do" "$IT_OUT" && fail "a due set was reported as nothing to do"
# ... and the fresh one (full lifetime) is then left alone.
before=$(orders)
it_issue -d due.certo.test
it_expect_rc 0 "plain issue after the renewal"
it_expect_out_contains "nothing to do" "plain issue after the renewal"
[ "$(orders)" = "$before" ] || fail "the renewed set was issued once more"
it_pass
