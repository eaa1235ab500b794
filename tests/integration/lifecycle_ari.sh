#!/bin/sh
# lifecycle_ari: ACME Renewal Information (RFC 9773) and profiles, which
# Pebble 2.4 lacks, through tests/integration/ari_standin.py: a plain-http
# directory on BASE+60 (Pebble's, plus renewalInfo and meta.profiles
# classic/shortlived) and an HTTPS pass-through to Pebble on BASE+61 that
# logs every JWS payload, so the test sees newOrder's "replaces"/"profile".
#  - a plain http:// directory needs --allow-insecure-http (else exit 1);
#  - issue --profile classic: exit 0, newOrder carries "profile":"classic";
#  - window in the future: renew -> exit 2 ("not due"), the stand-in got
#    GET renewalInfo/<certID> with certID = base64url(AKI keyIdentifier) "."
#    base64url(serial) computed with openssl; list shows the window;
#  - renewalInfo failing (HTTP 500): renew falls back to the lifetime rule
#    (exit 2, not due) and says why;
#  - window in the past: renew -> exit 0, a new certificate, and its
#    newOrder carries "replaces": "<certID of the old one>" (and the same
#    profile);
#  - --profile nosuch -> exit 1 naming it, no newOrder sent; against plain
#    Pebble (no profiles) --profile classic -> exit 1.
. "$(dirname "$0")/lib.sh"
it_init lifecycle_ari
"$IT_PY" -c 'import ssl, http.server' 2>/dev/null ||
	it_skip "python3 with ssl is needed for ari_standin.py"
it_start_pebble

SI_HTTP=$((IT_BASEPORT + 60))
SI_HTTPS=$((IT_BASEPORT + 61))
for p in "$SI_HTTP" "$SI_HTTPS"; do
	it_port_busy "$p" && fail "port $p is already in use (another test or process?)"
done
SI_LOG="$IT_TMP/standin.log"
: >"$SI_LOG"
rfc3339() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}
now=$(date +%s)
W1_START=$(rfc3339 $((now + 30 * 86400)))
W1_END=$(rfc3339 $((now + 32 * 86400)))
"$IT_PY" "$IT_DIR/ari_standin.py" --pebble-port "$IT_BASEPORT" \
	--ca-bundle "$PEBBLE_CA_BUNDLE" --tls-cert "$IT_PEBBLE_DIR/tls/cert.pem" \
	--tls-key "$IT_PEBBLE_DIR/tls/key.pem" --http-port "$SI_HTTP" \
	--https-port "$SI_HTTPS" --window-start "$W1_START" --window-end "$W1_END" \
	--log "$SI_LOG" >"$IT_TMP/standin.out" 2>"$IT_TMP/standin.err" </dev/null &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
SI_URL="http://127.0.0.1:$SI_HTTP"
n=100
until curl -sf --max-time 2 -o /dev/null "$SI_URL/control/ping"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "ari_standin.py did not answer within 10 s: $(tail -n 5 "$IT_TMP/standin.err" | tr '\n' ' ')"
	sleep 0.1
done
curl -sf --max-time 10 -o "$IT_TMP/dir.json" "$SI_URL/dir" || fail "cannot fetch $SI_URL/dir"
[ "$(it_json_get "$IT_TMP/dir.json" 'd["renewalInfo"]')" = "$SI_URL/renewalInfo" ] ||
	fail "the stand-in's directory has no renewalInfo"

set_window() {
	_c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
		-d "{\"start\":\"$1\",\"end\":\"$2\"}" "$SI_URL/control/window")
	[ "$_c" = 200 ] || fail "stand-in /control/window answered $_c"
}
set_fail() {
	_c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
		-d "{\"fail\":$1}" "$SI_URL/control/fail")
	[ "$_c" = 200 ] || fail "stand-in /control/fail answered $_c"
}
# si_last KIND EXPR: EXPR (Python, e = a log entry) for the last entry of
# KIND (renewalInfo, or "neworder": accepted POSTs to the directory's
# newOrder); NONE if there is none.
si_last() {
	"$IT_PY" - "$SI_LOG" "$1" "$2" "$(it_json_get "$IT_TMP/dir.json" 'd["newOrder"]')" <<-'PYEOF'
	import json, sys
	log, kind, expr, neworder = sys.argv[1:5]
	last = None
	for line in open(log):
	    e = json.loads(line)
	    if kind == "neworder":
	        # (a badNonce answer is retried: only the accepted one counts)
	        if e.get("kind") == "acme" and e.get("method") == "POST" and \
	                e.get("url") == neworder and e.get("status") == 201:
	            last = e
	    elif e.get("kind") == kind:
	        last = e
	if last is None:
	    print("NONE")
	else:
	    v = eval(expr, {"e": last})
	    print(v if isinstance(v, str) else json.dumps(v))
	PYEOF
}
# si_count [all]: how many newOrder requests Pebble accepted (201) through
# the stand-in; with "all", every newOrder POST (badNonce retries too).
si_count() {
	"$IT_PY" - "$SI_LOG" "$(it_json_get "$IT_TMP/dir.json" 'd["newOrder"]')" "${1:-}" <<-'PYEOF'
	import json, sys
	n = 0
	for line in open(sys.argv[1]):
	    e = json.loads(line)
	    if e.get("kind") == "acme" and e.get("method") == "POST" and \
	            e.get("url") == sys.argv[2] and (sys.argv[3] == "all" or e.get("status") == 201):
	        n += 1
	print(n)
	PYEOF
}

# it_ari ARGS...: certo against the stand-in.
it_ari() {
	_v=$1
	shift
	# shellcheck disable=SC2086
	it_certo ${IT_GLOBAL_OPTS:-} "$_v" --server "$SI_URL/dir" --allow-insecure-http \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_STATE" "$@"
}
L="$IT_STATE/live/ari.certo.test"

# -- http:// needs --allow-insecure-http
it_certo issue --server "$SI_URL/dir" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --standalone --http-port "$IT_HTTP_PORT" \
	--http-addr 127.0.0.1 --agree-tos -d ari.certo.test
it_expect_rc 1 "a plain http:// directory without --allow-insecure-http"
it_expect_err_contains "--allow-insecure-http"
[ "$(si_count all)" -eq 0 ] || fail "certo sent a newOrder although it refused the http:// directory"

# -- issue with a profile
it_ari issue --standalone --http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 \
	--agree-tos -m ari@example.com -d ari.certo.test --profile classic
it_expect_rc 0 "issue --profile classic via the stand-in"
it_expect_sans "$L/cert.pem" ari.certo.test
it_expect_verifies "$L/cert.pem" "$L/chain.pem"
it_expect_key_matches "$L/privkey.pem" "$L/cert.pem"
it_expect_no_tmp
[ "$(si_count)" -eq 1 ] || fail "expected 1 newOrder through the stand-in, saw $(si_count)"
[ "$(si_last neworder 'e["payload"].get("profile")')" = classic ] ||
	fail "newOrder payload has profile $(si_last neworder 'e["payload"].get("profile")'), expected classic"
[ "$(si_last neworder '"replaces" in e["payload"]')" = false ] ||
	fail "the first newOrder carries 'replaces' although nothing is replaced"
CERTID=$(it_ari_certid "$L/cert.pem")
it_log "certID (openssl): $CERTID"
serial0=$(it_cert_serial "$L/cert.pem")

# -- window in the future: not due
it_certo renew --state-dir "$IT_STATE"
it_expect_rc 2 "renew with the ARI window 30 days ahead"
it_expect_out_contains "not due" "renew with a future window"
[ "$(it_cert_serial "$L/cert.pem")" = "$serial0" ] || fail "renew with a future window replaced the certificate"
got=$(si_last renewalInfo 'e["certid"]')
[ "$got" = "$CERTID" ] ||
	fail "the stand-in got renewalInfo for certID '$got', expected '$CERTID' (base64url(AKI).base64url(serial))"

it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list"
it_expect_out_contains "$W1_START" "list shows the ARI window start"
it_expect_out_contains "$W1_END" "list shows the ARI window end"
it_certo --json list --state-dir "$IT_STATE"
cp "$IT_OUT" "$IT_TMP/list.json"
ra=$(it_json_get "$IT_TMP/list.json" 'd[0].get("renew_after", "")')
ra_s=$(date -u -d "$ra" +%s 2>/dev/null) || fail "list --json: renew_after '$ra' is not a time"
[ "$ra_s" -ge $((now + 30 * 86400 - 5)) ] && [ "$ra_s" -le $((now + 32 * 86400 + 5)) ] ||
	fail "list --json: renew_after $ra is not inside the ARI window $W1_START .. $W1_END"

# -- renewalInfo broken: the lifetime rule (5 years from Pebble: not due)
set_fail true
it_certo renew --state-dir "$IT_STATE"
it_expect_rc 2 "renew with renewalInfo answering 500"
it_expect_out_contains "not due" "renew with a broken renewalInfo"
grep -qi 'renewalInfo' "$IT_OUT" "$IT_ERR" ||
	fail "renew with a broken renewalInfo does not say that renewalInfo failed"
[ "$(it_cert_serial "$L/cert.pem")" = "$serial0" ] || fail "renew with a broken renewalInfo replaced the certificate"
set_fail false

# -- window in the past: due, and the new order replaces the old certificate
set_window "$(rfc3339 $((now - 2 * 86400)))" "$(rfc3339 $((now - 86400)))"
it_certo renew --state-dir "$IT_STATE"
it_expect_rc 0 "renew with the ARI window in the past"
[ "$(it_cert_serial "$L/cert.pem")" != "$serial0" ] || fail "renew (window in the past) did not replace the certificate"
it_expect_sans "$L/cert.pem" ari.certo.test
it_expect_verifies "$L/cert.pem" "$L/chain.pem"
it_expect_key_matches "$L/privkey.pem" "$L/cert.pem"
[ "$(si_count)" -eq 2 ] || fail "expected 2 newOrders through the stand-in, saw $(si_count)"
[ "$(si_last neworder 'e["payload"].get("replaces")')" = "$CERTID" ] ||
	fail "the renewal's newOrder has replaces '$(si_last neworder 'e["payload"].get("replaces")')', expected '$CERTID'"
[ "$(si_last neworder 'e["payload"].get("profile")')" = classic ] ||
	fail "the renewal's newOrder did not keep profile classic"
find "$IT_STATE/archive/ari.certo.test" -name cert.pem -exec openssl x509 -noout -serial -in {} \; |
	grep -q "=$serial0\$" || fail "the replaced certificate is not in archive/ari.certo.test"
it_expect_no_tmp

# -- profiles: another advertised one works, an unknown one is refused
n_before=$(si_count all)
it_ari issue --standalone --http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 \
	--agree-tos -d nosuch.certo.test --profile nosuch
it_expect_rc 1 "--profile nosuch"
it_expect_err_contains "nosuch" "--profile nosuch"
[ "$(si_count all)" -eq "$n_before" ] || fail "certo sent a newOrder for a profile the CA does not offer"
[ ! -e "$IT_STATE/live/nosuch.certo.test" ] || fail "live/nosuch.certo.test exists"

it_ari issue --standalone --http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 \
	--agree-tos -d short.certo.test --profile shortlived
it_expect_rc 0 "--profile shortlived"
[ "$(si_last neworder 'e["payload"].get("profile")')" = shortlived ] ||
	fail "newOrder for --profile shortlived has profile $(si_last neworder 'e["payload"].get("profile")')"

# -- plain Pebble advertises no profiles
IT_STATE="$IT_TMP/state-plain"
it_issue -d plain.certo.test --profile classic
it_expect_rc 1 "--profile classic against Pebble (no profiles)"
it_expect_err_contains "profile" "--profile against Pebble"
it_expect_no_live "--profile against Pebble"
it_pass
