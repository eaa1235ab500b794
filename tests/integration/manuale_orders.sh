#!/bin/sh
# manuale_orders: the manuale workflow (issue 16 items 2 and 3):
#  - certo orders (and --json) before anything, after a partial authorize
#    (its http hook fails: the order stays pending), --refresh (the CA's
#    pending authorizations), the README's shell line for the directory
#    name, names in another order mapping to the same directory;
#  - issue after a partial authorize: no way to answer challenges given
#    -> exit 11, one line naming certo authorize; with --standalone ->
#    the saved order is resumed and finished, the order dir is gone;
#  - authorize then issue without a solver: the ready order is finalized,
#    with the key type issue asks for (authorize saved a default key), and
#    certo.json keeps authorize's way for renew;
#  - a failed authorize (nobody answers: invalid) is listed invalid,
#    --prune removes invalid and expired ones and nothing else, and the
#    next issue discards an invalid order for a new one.
. "$(dirname "$0")/lib.sh"
it_init manuale_orders
it_start_pebble

ca() {
	it_certo_ca "$@"
}
orders() { ca orders "$@"; }
# odir NAME...: the orders/ directory name, computed as the README says.
odir() {
	printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' '\0' | sha256sum | cut -d' ' -f1
}
# ojson EXPR: EXPR over the last `orders --json` document (d).
ojson() { it_json_get "$IT_OUT" "$1"; }

# -- nothing saved yet: offline listing, an empty JSON array.
orders
it_expect_rc 0 "orders on an empty state dir"
it_expect_out_contains "no saved orders" "orders on an empty state dir"
IT_GLOBAL_OPTS=--json orders
it_expect_rc 0 "orders --json on an empty state dir"
[ "$(ojson 'len(d)')" = 0 ] || fail "orders --json on an empty state dir is not []"

# -- a partial authorize: the http hook fails, the order stays pending.
cat >"$IT_TMP/failhook" <<-'EOF'
#!/bin/sh
[ "$1" = del ] && exit 0
echo "no web server here" >&2
exit 1
EOF
chmod 755 "$IT_TMP/failhook"
ca authorize --http-hook "$IT_TMP/failhook" --http-port "$IT_HTTP_PORT" \
	--agree-tos -m t@example.com -d b.mo.certo.test -d a.mo.certo.test
it_expect_rc 7 "authorize whose hook fails"
D=$(odir a.mo.certo.test b.mo.certo.test)
[ -s "$IT_STATE/orders/$D/order.json" ] ||
	fail "no saved order in orders/$D (the README's hash): $(ls "$IT_STATE/orders" 2>/dev/null | tr '\n' ' ')"
[ "$(ls "$IT_STATE/orders" | wc -l)" -eq 1 ] || fail "more than one saved order"
orders
it_expect_rc 0 "orders after a partial authorize"
it_expect_out_contains "orders/$D: b.mo.certo.test, a.mo.certo.test" "orders lists the names"
it_expect_out_contains "status:   pending" "orders: status pending"
it_expect_out_contains "CA:       $PEBBLE_DIR_URL" "orders: the CA"
it_expect_out_contains "expires:" "orders: the expiry"
# Offline: no connect(2) to any network address without --refresh.
if command -v strace >/dev/null 2>&1; then
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" timeout -k 5 40 strace -f -qq \
		-e trace=connect -o "$IT_TMP/trace" "$CERTO" orders --state-dir "$IT_STATE" \
		>/dev/null 2>&1 </dev/null || fail "orders under strace failed"
	! grep -qE 'connect\([0-9]+, \{sa_family=AF_INET6?,' "$IT_TMP/trace" ||
		fail "orders without --refresh connected: $(grep AF_INET "$IT_TMP/trace" | head -n 2)"
fi

# --refresh: the CA says both authorizations are pending.
IT_GLOBAL_OPTS=--json orders --refresh
it_expect_rc 0 "orders --refresh --json"
[ "$(ojson 'd[0]["dir"]')" = "$D" ] || fail "orders --json: dir is not $D"
[ "$(ojson 'd[0]["status"]')" = pending ] || fail "orders --refresh: status $(ojson 'd[0]["status"]')"
[ "$(ojson 'sorted(d[0]["pending"])')" = '["a.mo.certo.test", "b.mo.certo.test"]' ] ||
	fail "orders --refresh: pending authorizations $(ojson 'd[0]["pending"]')"
[ "$(ojson 'd[0]["expired"]')" = false ] || fail "orders --refresh: a fresh order is expired"
[ "$(it_json_get "$IT_STATE/orders/$D/order.json" 'd["status"]')" = pending ] ||
	fail "--refresh did not remember the status in order.json"

# -- issue with no way to answer challenges: finish authorize first.
ca issue -d a.mo.certo.test -d b.mo.certo.test
it_expect_rc 11 "issue of a pending order without a solver"
it_expect_err_one_line "issue of a pending order without a solver"
it_expect_err_contains "certo authorize -d a.mo.certo.test -d b.mo.certo.test" "the error names the fix"
[ -s "$IT_STATE/orders/$D/order.json" ] || fail "the pending order was dropped"
it_expect_no_live "issue of a pending order without a solver"
URL=$(it_json_get "$IT_STATE/orders/$D/order.json" 'd["url"]')

# ... and with a way given (names in another order): the same order is
# resumed, finished and stored; its directory is gone.
it_issue -d b.mo.certo.test -d a.mo.certo.test
it_expect_rc 0 "issue --standalone after a partial authorize"
it_expect_out_contains "resuming $URL" "issue resumed the order authorize left"
it_check_issued b.mo.certo.test a.mo.certo.test b.mo.certo.test
[ ! -e "$IT_STATE/orders/$D" ] || fail "orders/$D is still there after issue"

# -- authorize, then issue without a solver: the ready order is finalized.
ca authorize --standalone --http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 -d r.mo.certo.test
it_expect_rc 0 "authorize r.mo.certo.test"
R=$(odir r.mo.certo.test)
orders
it_expect_out_contains "status:   ready" "orders after authorize"
it_expect_out_contains "pending:  none" "orders after authorize: nothing pending"
ca issue -d r.mo.certo.test --key-type ec-384
it_expect_rc 0 "issue without a solver after authorize"
it_expect_out_contains "resuming" "issue after authorize resumed its order"
it_check_issued r.mo.certo.test r.mo.certo.test
openssl x509 -in "$IT_STATE/live/r.mo.certo.test/cert.pem" -noout -text | grep -q "P-384\|secp384r1" ||
	fail "issue --key-type ec-384 after authorize did not get a P-384 key"
# certo.json keeps authorize's way, so renew can renew it.
[ "$(it_json_get "$IT_STATE/live/r.mo.certo.test/certo.json" 'd.get("standalone")')" = true ] ||
	fail "certo.json after authorize + issue does not keep --standalone"
it_certo renew --state-dir "$IT_STATE" --force --name r.mo.certo.test
it_expect_rc 0 "renew of a certificate issued after authorize"
[ ! -e "$IT_STATE/orders/$R" ] || fail "orders/$R is still there after issue"

# -- a failed authorize: nobody answers on 127.0.0.2 -> invalid.
bad=bad.mo.certo.test
_code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	-d "{\"host\":\"$bad\",\"addresses\":[\"127.0.0.2\"]}" "$CHALLTESTSRV_MGMT_URL/add-a") ||
	fail "challtestsrv /add-a failed"
[ "$_code" = 200 ] || fail "challtestsrv /add-a answered $_code"
ca authorize --standalone --http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 -d "$bad"
it_expect_rc 2 "authorize that nobody answers"
B=$(odir "$bad")
orders
it_expect_out_contains "orders/$B: $bad" "orders after a failed authorize"
grep -A3 "orders/$B" "$IT_OUT" | grep -q "status:   invalid" || fail "the failed order is not listed invalid"
IT_GLOBAL_OPTS=--json orders --refresh
it_expect_rc 0 "orders --refresh after a failed authorize"
[ "$(ojson '[o["status"] for o in d if o["dir"] == "'"$B"'"][0]')" = invalid ] ||
	fail "the CA does not say invalid for the failed order"

# A pending order of another partial authorize, made expired by hand.
ca authorize --http-hook "$IT_TMP/failhook" --http-port "$IT_HTTP_PORT" -d x.mo.certo.test
it_expect_rc 7 "authorize x.mo.certo.test whose hook fails"
X=$(odir x.mo.certo.test)
"$IT_PY" - "$IT_STATE/orders/$X/order.json" <<-'EOF' || fail "cannot edit order.json"
import json, sys
d = json.load(open(sys.argv[1]))
d["expires"] = "2001-02-03T04:05:06Z"
json.dump(d, open(sys.argv[1], "w"))
EOF
# And one that stays: pending, not expired.
ca authorize --http-hook "$IT_TMP/failhook" --http-port "$IT_HTTP_PORT" -d keep.mo.certo.test
it_expect_rc 7 "authorize keep.mo.certo.test whose hook fails"
K=$(odir keep.mo.certo.test)
orders
grep -A4 "orders/$X" "$IT_OUT" | grep -q "(expired)" || fail "the expired order is not shown expired"

# --prune: the invalid and the expired order go, the pending one stays.
orders --prune
it_expect_rc 0 "orders --prune"
it_expect_out_contains "orders/$B: pruned (invalid)" "--prune names the invalid order"
it_expect_out_contains "orders/$X: pruned (expired)" "--prune names the expired order"
[ ! -e "$IT_STATE/orders/$B" ] && [ ! -e "$IT_STATE/orders/$X" ] || fail "--prune left an order it named"
[ -s "$IT_STATE/orders/$K/order.json" ] || fail "--prune removed the pending order"
[ -z "$(find "$IT_STATE/orders" -name '.*')" ] || fail "--prune left temporary names in orders/"
orders
it_expect_out_contains "orders/$K: keep.mo.certo.test" "orders after --prune"
[ "$(grep -c '^orders/' "$IT_OUT")" -eq 1 ] || fail "orders after --prune lists $(grep -c '^orders/' "$IT_OUT") orders"

# An invalid order is discarded by the next issue, which makes a new one.
ca authorize --standalone --http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 -d "$bad"
it_expect_rc 2 "authorize that nobody answers, again"
[ "$(it_json_get "$IT_STATE/orders/$B/order.json" 'd["status"]')" = invalid ] ||
	fail "the failed authorize did not leave an invalid order"
OLD=$(it_json_get "$IT_STATE/orders/$B/order.json" 'd["url"]')
_code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d "{\"host\":\"$bad\"}" \
	"$CHALLTESTSRV_MGMT_URL/clear-a") || fail "challtestsrv /clear-a failed"
[ "$_code" = 200 ] || fail "challtestsrv /clear-a answered $_code"
it_issue -d "$bad"
it_expect_rc 0 "issue after a failed authorize"
it_expect_out_contains "$OLD is invalid; starting a new one" "the invalid order is discarded"
it_check_issued "$bad" "$bad"
[ ! -e "$IT_STATE/orders/$B" ] || fail "orders/$B is still there after issue"
it_pass
