#!/bin/sh
# lifecycle_renew: renew, list, delete on two stored certificates
# (one.certo.test: ec-256, one name; two.certo.test: rsa-2048, two names).
#  - renew: nothing due -> exit 2, "not due" for each;
#  - renew --force --name one.certo.test --deploy-hook H: exit 0, only one
#    changes (new serial, the old set in archive/one.certo.test/<stamp>/),
#    two is untouched; H runs once with CERTO_LIVE_DIR and CERTO_DOMAINS;
#  - renew --force --deploy-hook H: both renewed, H runs once per
#    certificate (CERTO_DOMAINS of two is "two.certo.test two-b.certo.test");
#  - renew --dry-run --force --deploy-hook H: Pebble has no staging
#    directory, so --dry-run-server names Pebble itself: exit 0, live/ and
#    archive/ unchanged, H not run (nothing changed);
#  - list / list --json: both, with names, expiry (= the certificate's
#    notAfter) and key type;
#  - delete one.certo.test: live/ and archive/ of it gone, list no longer
#    shows it, two untouched; delete of an unknown name or a path -> exit 1.
. "$(dirname "$0")/lib.sh"
it_init lifecycle_renew
it_start_pebble

L1="$IT_STATE/live/one.certo.test"
L2="$IT_STATE/live/two.certo.test"
HOOKDIR="$IT_TMP/hook-runs"
mkdir -p "$HOOKDIR"
HOOK="$IT_TMP/deploy-hook.sh"
cat >"$HOOK" <<EOF
#!/bin/sh
# Each run leaves its environment in its own file.
env >"$HOOKDIR/run.\$\$.env"
EOF
chmod 755 "$HOOK"

rfc3339_of_enddate() {
	date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%Y-%m-%dT%H:%M:%SZ
}
hook_runs() {
	find "$HOOKDIR" -name 'run.*.env' | wc -l
}
# hook_env_of LIVEDIR VAR: VAR from the hook run whose CERTO_LIVE_DIR is
# LIVEDIR (empty if none).
hook_env_of() {
	for _f in "$HOOKDIR"/run.*.env; do
		[ -f "$_f" ] || continue
		if grep -qxF "CERTO_LIVE_DIR=$1" "$_f"; then
			sed -n "s/^$2=//p" "$_f"
			return 0
		fi
	done
}

it_issue -d one.certo.test
it_expect_rc 0 "issue one.certo.test"
it_check_issued one.certo.test one.certo.test
it_issue -d two.certo.test -d two-b.certo.test --key-type rsa-2048
it_expect_rc 0 "issue two.certo.test two-b.certo.test"
it_check_issued two.certo.test two.certo.test two-b.certo.test

# -- list
it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list"
for w in one.certo.test two.certo.test two-b.certo.test ec-256 rsa-2048 \
	"$(rfc3339_of_enddate "$L1/cert.pem")" "$(rfc3339_of_enddate "$L2/cert.pem")"; do
	it_expect_out_contains "$w" "list"
done
it_certo --json list --state-dir "$IT_STATE"
it_expect_rc 0 "list --json"
cp "$IT_OUT" "$IT_TMP/list.json"
[ "$(it_json_get "$IT_TMP/list.json" 'sorted(e["name"] for e in d)')" = '["one.certo.test", "two.certo.test"]' ] ||
	fail "list --json names: $(it_json_get "$IT_TMP/list.json" '[e.get("name") for e in d]')"
[ "$(it_json_get "$IT_TMP/list.json" '[e for e in d if e["name"] == "two.certo.test"][0]["names"]')" = '["two.certo.test", "two-b.certo.test"]' ] ||
	fail "list --json: two.certo.test's names are not [two.certo.test, two-b.certo.test]"
[ "$(it_json_get "$IT_TMP/list.json" '{e["name"]: e["key_type"] for e in d}')" = '{"one.certo.test": "ec-256", "two.certo.test": "rsa-2048"}' ] ||
	fail "list --json key types: $(it_json_get "$IT_TMP/list.json" '{e["name"]: e.get("key_type") for e in d}')"
[ "$(it_json_get "$IT_TMP/list.json" '[e for e in d if e["name"] == "one.certo.test"][0]["not_after"]')" = "$(rfc3339_of_enddate "$L1/cert.pem")" ] ||
	fail "list --json: one.certo.test's not_after is not the certificate's notAfter"

# -- nothing due
it_certo renew --state-dir "$IT_STATE"
it_expect_rc 2 "renew with nothing due"
for n in one.certo.test two.certo.test; do
	grep -F "$n" "$IT_OUT" | grep -q 'not due' ||
		fail "renew with nothing due: no 'not due' line for $n"
done
[ ! -d "$IT_STATE/archive" ] || [ -z "$(ls -A "$IT_STATE/archive")" ] ||
	fail "renew with nothing due archived something"

# -- force one
s1=$(it_cert_serial "$L1/cert.pem")
cp "$L1/cert.pem" "$IT_TMP/one-old.pem"
d2=$(it_tree_digest "$L2")
it_certo renew --state-dir "$IT_STATE" --force --name one.certo.test --deploy-hook "$HOOK"
it_expect_rc 0 "renew --force --name one.certo.test"
it_check_issued one.certo.test one.certo.test
[ "$(it_cert_serial "$L1/cert.pem")" != "$s1" ] || fail "one.certo.test has the same serial after renew --force"
[ "$(it_tree_digest "$L2")" = "$d2" ] || fail "two.certo.test changed although only one.certo.test was named"
[ "$(find "$IT_STATE/archive/one.certo.test" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)" -eq 1 ] ||
	fail "archive/one.certo.test does not hold exactly one old set: $(ls "$IT_STATE/archive/one.certo.test" 2>&1 | tr '\n' ' ')"
a1=$(find "$IT_STATE/archive/one.certo.test" -name cert.pem | head -n 1)
[ -n "$a1" ] && cmp -s "$a1" "$IT_TMP/one-old.pem" ||
	fail "archive/one.certo.test/*/cert.pem is not the certificate replaced"
[ -s "$(dirname "$a1")/privkey.pem" ] || fail "the archived set has no privkey.pem"
it_expect_mode "$(dirname "$a1")/privkey.pem" 600
[ ! -e "$IT_STATE/archive/two.certo.test" ] || fail "archive/two.certo.test exists though two was not renewed"
[ "$(hook_runs)" -eq 1 ] || fail "the deploy hook ran $(hook_runs) times for one renewed certificate"
[ "$(hook_env_of "$L1" CERTO_DOMAINS)" = one.certo.test ] ||
	fail "deploy hook: no run with CERTO_LIVE_DIR=$L1 and CERTO_DOMAINS=one.certo.test (got: $(cat "$HOOKDIR"/run.*.env | grep '^CERTO_' | tr '\n' ' '))"
rm -f "$HOOKDIR"/run.*.env
it_expect_no_tmp

# -- force both
s1=$(it_cert_serial "$L1/cert.pem")
s2=$(it_cert_serial "$L2/cert.pem")
it_certo renew --state-dir "$IT_STATE" --force --deploy-hook "$HOOK"
it_expect_rc 0 "renew --force (both)"
[ "$(it_cert_serial "$L1/cert.pem")" != "$s1" ] || fail "renew --force: one.certo.test not renewed"
[ "$(it_cert_serial "$L2/cert.pem")" != "$s2" ] || fail "renew --force: two.certo.test not renewed"
it_check_issued two.certo.test two.certo.test two-b.certo.test
[ "$(openssl x509 -in "$L2/cert.pem" -noout -text | grep -c 'rsaEncryption')" -ge 1 ] ||
	fail "two.certo.test's renewed certificate is not RSA (the key type was not kept)"
[ "$(hook_runs)" -eq 2 ] || fail "the deploy hook ran $(hook_runs) times for two renewed certificates"
[ "$(hook_env_of "$L1" CERTO_DOMAINS)" = one.certo.test ] ||
	fail "deploy hook: no run for $L1 with CERTO_DOMAINS=one.certo.test"
[ "$(hook_env_of "$L2" CERTO_DOMAINS)" = "two.certo.test two-b.certo.test" ] ||
	fail "deploy hook: the run for $L2 has CERTO_DOMAINS='$(hook_env_of "$L2" CERTO_DOMAINS)', expected 'two.certo.test two-b.certo.test'"
rm -f "$HOOKDIR"/run.*.env

# -- dry run
before=$(it_tree_digest "$IT_STATE/live" "$IT_STATE/archive")
it_certo renew --state-dir "$IT_STATE" --dry-run --dry-run-server "$PEBBLE_DIR_URL" \
	--force --deploy-hook "$HOOK"
it_expect_rc 0 "renew --dry-run --force"
after=$(it_tree_digest "$IT_STATE/live" "$IT_STATE/archive")
[ "$before" = "$after" ] || fail "renew --dry-run changed live/ or archive/: $(echo "$before" "$after" | sort | uniq -u | tr '\n' ' ')"
[ "$(hook_runs)" -eq 0 ] || fail "the deploy hook ran on a dry run (nothing was stored)"
it_expect_no_tmp

# -- delete
it_certo delete one.certo.test --state-dir "$IT_STATE"
it_expect_rc 0 "delete one.certo.test"
[ ! -e "$L1" ] || fail "live/one.certo.test still exists after delete"
[ ! -e "$IT_STATE/archive/one.certo.test" ] || fail "archive/one.certo.test still exists after delete"
[ -s "$L2/cert.pem" ] && [ -d "$IT_STATE/archive/two.certo.test" ] || fail "delete one.certo.test touched two.certo.test"
it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list after delete"
grep -q 'one\.certo\.test' "$IT_OUT" && fail "list still shows one.certo.test after delete"
it_expect_out_contains two.certo.test "list after delete"
it_certo --json list --state-dir "$IT_STATE"
cp "$IT_OUT" "$IT_TMP/list2.json"
[ "$(it_json_get "$IT_TMP/list2.json" '[e["name"] for e in d]')" = '["two.certo.test"]' ] ||
	fail "list --json after delete: $(it_json_get "$IT_TMP/list2.json" '[e.get("name") for e in d]')"

d2=$(it_tree_digest "$IT_STATE")
it_certo delete nosuch.certo.test --state-dir "$IT_STATE"
it_expect_rc 1 "delete of an unknown name"
it_expect_err_contains nosuch.certo.test "delete of an unknown name"
it_certo delete one.certo.test --state-dir "$IT_STATE"
it_expect_rc 1 "delete of an already deleted name"
it_certo delete ../live --state-dir "$IT_STATE"
it_expect_rc 1 "delete ../live"
it_certo delete "two.certo.test/../two.certo.test" --state-dir "$IT_STATE"
it_expect_rc 1 "delete of a name with a path in it"
[ "$(it_tree_digest "$IT_STATE")" = "$d2" ] || fail "a refused delete changed the state dir"
it_pass
