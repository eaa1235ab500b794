#!/bin/sh
# habits_renew_json: what renew says about each certificate (issue 14,
# defects 11 and 12).
#  - renew --json --force with three stored certificates, two made to fail
#    differently (j1: its http-01 responder listens where Pebble does not
#    look, validation fails, exit code 2; j2: its http-01 port is taken, a
#    local error, 4): one renew_failed
#    event per failure with name, code, exit and message, the third is
#    renewed, and renew_done counts 1 renewed, 2 failed, 0 not due, exit 1;
#  - renew -n NAME with a name that is not stored (a typo): exit 1, the
#    name in the message (and a renew_failed event with --json), nothing
#    renewed or ordered;
#  - renew -n with the Unicode form of a stored A-label renews it
#    (bücher.certo.test -> live/xn--bcher-kva.certo.test); the A-label
#    itself works too.
. "$(dirname "$0")/lib.sh"
it_init habits_renew_json
# Every order needs a fresh challenge (j1 must really be validated).
PEBBLE_AUTHZREUSE=0
export PEBBLE_AUTHZREUSE
it_start_pebble
LC_ALL=C.UTF-8
export LC_ALL

orders() {
	grep -c "POST /order-plz" "$IT_PEBBLE_DIR/pebble.log" || true
}
IDN=xn--bcher-kva.certo.test
for n in j1.certo.test j2.certo.test 'bücher.certo.test'; do
	it_issue -d "$n"
	it_expect_rc 0 "issue $n"
done
it_check_issued "$IDN" "$IDN"

# j1: answers on a port Pebble does not dial; j2: its http-01 port is taken.
ELSEWHERE=$((IT_BASEPORT + 31))
BUSY=$((IT_BASEPORT + 30))
it_listen "$BUSY"
"$IT_PY" - "$IT_STATE/live" "$ELSEWHERE" "$BUSY" <<'EOF' || fail "cannot edit certo.json"
import json, sys
live, elsewhere, busy = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for name, key, value in (("j1.certo.test", "http_port", elsewhere),
                         ("j2.certo.test", "http_port", busy)):
    p = "%s/%s/certo.json" % (live, name)
    d = json.load(open(p))
    d[key] = value
    json.dump(d, open(p, "w"))
EOF
s_idn=$(it_cert_serial "$IT_STATE/live/$IDN/cert.pem")
it_certo --json renew --state-dir "$IT_STATE" --force
it_expect_rc 1 "renew --json --force with two failing certificates"
cp "$IT_OUT" "$IT_TMP/renew.json"
"$IT_PY" - "$IT_TMP/renew.json" <<'EOF' || fail "renew --json events are wrong (see above); stdout: $(cat "$IT_TMP/renew.json")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
failed = {e["name"]: e for e in ev if e["event"] == "renew_failed"}
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("renew --json: " + what)
        ok = False
check(sorted(failed) == ["j1.certo.test", "j2.certo.test"],
      "renew_failed names %s, expected j1 and j2" % sorted(failed))
j1, j2 = failed.get("j1.certo.test", {}), failed.get("j2.certo.test", {})
check(j1.get("code") == "EINVALID" and j1.get("exit") == 2,
      "j1: code %s exit %s, expected EINVALID (2)" % (j1.get("code"), j1.get("exit")))
check(j2.get("code") in ("EADDRINUSE", "EBIND") and j2.get("exit") == 4,
      "j2: code %s exit %s, expected a local error (4)" % (j2.get("code"), j2.get("exit")))
check("j1.certo.test" in j1.get("message", ""), "j1's message does not say why: %r" % j1.get("message"))
check(bool(j2.get("message")), "j2 has no message")
done = [e for e in ev if e["event"] == "renew_done"]
check(len(done) == 1, "%d renew_done events" % len(done))
if done:
    d = done[0]
    check((d.get("renewed"), d.get("failed"), d.get("not_due"), d.get("exit")) == (1, 2, 0, 1),
          "renew_done says renewed %s failed %s not_due %s exit %s" %
          (d.get("renewed"), d.get("failed"), d.get("not_due"), d.get("exit")))
    check(ev[-1] is d, "renew_done is not the last event")
sys.exit(0 if ok else 1)
EOF
[ "$(it_cert_serial "$IT_STATE/live/$IDN/cert.pem")" != "$s_idn" ] ||
	fail "the certificate that could be renewed was not"
it_expect_err_contains "renew j1.certo.test:" "stderr names j1"
it_expect_err_contains "renew j2.certo.test:" "stderr names j2"

# -- a name that is not stored
before=$(orders)
digest=$(it_tree_digest "$IT_STATE/live" "$IT_STATE/archive")
it_certo renew --state-dir "$IT_STATE" --force -n j1.certo.tset
it_expect_rc 1 "renew -n with a typo"
it_expect_err_contains "no stored certificate is named 'j1.certo.tset'" "renew -n typo"
it_certo --json renew --state-dir "$IT_STATE" --force -n j3.certo.test -n "$IDN"
it_expect_rc 1 "renew --json -n unknown -n known"
[ "$(it_json_lines_field "$IT_OUT" renew_failed name)" = j3.certo.test ] ||
	fail "renew --json -n j3.certo.test: no renew_failed event naming it"
[ "$(it_json_lines_field "$IT_OUT" renew_failed code)" = EUSAGE ] ||
	fail "renew --json -n j3.certo.test: code is not EUSAGE"
[ "$(it_json_lines_field "$IT_OUT" renew_done failed)" = 1 ] ||
	fail "renew --json -n j3.certo.test: renew_done does not count 1 failure"
[ "$(orders)" = "$before" ] || fail "renew -n with an unknown name ordered a certificate"
[ "$(it_tree_digest "$IT_STATE/live" "$IT_STATE/archive")" = "$digest" ] ||
	fail "renew -n with an unknown name changed live/ or archive/"
it_certo renew --state-dir "$IT_STATE" -n 'büchr.certo.test'
it_expect_rc 1 "renew -n with a Unicode typo"
it_expect_err_contains "looked for xn--" "renew -n Unicode typo names the A-label"

# -- the Unicode form of a stored A-label, and the A-label
s_idn=$(it_cert_serial "$IT_STATE/live/$IDN/cert.pem")
it_certo renew --state-dir "$IT_STATE" --force -n 'bücher.certo.test'
it_expect_rc 0 "renew --force -n bücher.certo.test"
[ "$(it_cert_serial "$IT_STATE/live/$IDN/cert.pem")" != "$s_idn" ] ||
	fail "renew -n bücher.certo.test did not renew live/$IDN"
it_certo renew --state-dir "$IT_STATE" -n "$IDN" -n 'BÜCHER.certo.test.'
it_expect_rc 2 "renew -n A-label (not due)"
grep -q "not due" "$IT_OUT" || fail "renew -n $IDN said nothing about it"
it_pass
