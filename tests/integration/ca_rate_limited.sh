#!/bin/sh
# ca_rate_limited: the saved rate-limit deadline is scoped to what the CA
# limited, visible and clearable (issue 9, item 9: today one rateLimited
# answer blocks every name and every verb for that CA for up to 30 days).
# Through tests/integration/standin_ca.py (scenario rate_limited): newOrder
# for rl-a.certo.test answers 429 urn:ietf:params:acme:error:rateLimited
# with Retry-After: 86400; every other request passes through to Pebble.
#  1. issue A: exit 2, the message says rate limit;
#  2. issue A again: exit 2 without asking the CA (no newOrder for A);
#  3. issue B (rl-b.certo.test) through the same CA: exit 0, verifies;
#  4. revoke B: exit 0 (revoke is never blocked), Pebble says Revoked;
#  5. list and list --json show the saved deadline (now + 1 day);
#  6. certo ratelimit lists it; certo ratelimit --clear removes it (list
#     no longer shows it);
#  7. the stand-in stops limiting A: issue A asks the CA again, exit 0.
# No temp files, nothing written outside the state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_rate_limited
PEBBLE_WFE_NONCEREJECT=0 it_start_pebble
A=rl-a.certo.test
B=rl-b.certo.test
it_start_standin rate_limited --set "limit_names=[\"$A\"]" --set retry_after=86400
it_outside_begin
CERTO_IT_RUN_TIMEOUT=30
# newOrder requests for one name that reached the stand-in
neworders() {
	it_si_count "e[\"kind\"] == \"newOrder\" and e[\"method\"] == \"POST\" and isinstance(e[\"payload\"], dict) and \"$1\" in [i.get(\"value\") for i in e[\"payload\"].get(\"identifiers\", [])]"
}

# -- 1. A is rate-limited
t0=$(date +%s)
it_si_issue -d "$A"
t1=$(date +%s)
it_expect_rc 2 "issue A, newOrder answered 429 rateLimited"
it_expect_err_certo_line "issue A, rate-limited"
it_expect_msg_contains "rate" "issue A: the message says rate limit"
[ "$(neworders "$A")" -eq 1 ] || fail "issue A: expected 1 newOrder for A, saw $(neworders "$A")"
it_expect_no_live "issue A, rate-limited"
# the deadline certo should remember: now + 86400 (between t0 and t1)
lo=$((t0 + 86400 - 5))
hi=$((t1 + 86400 + 5))

# -- 2. A again: refused locally until the deadline
it_si_issue -d "$A"
it_expect_rc 2 "issue A again before the deadline"
it_expect_msg_contains "rate" "issue A again: the message says rate limit"
[ "$(neworders "$A")" -eq 1 ] ||
	fail "issue A again: certo asked the CA again before the saved deadline"

# -- 3. B is not limited
it_si_issue -d "$B"
it_expect_rc 0 "issue B (not rate-limited) through the same CA"
LB="$IT_STATE/live/$B"
it_expect_sans "$LB/cert.pem" "$B"
it_expect_verifies "$LB/cert.pem" "$LB/chain.pem"
it_expect_key_matches "$LB/privkey.pem" "$LB/cert.pem"

# -- 4. revoke is never blocked
it_si_ca revoke --cert "$LB/cert.pem"
it_expect_rc 0 "revoke B while A's rate limit is remembered"
[ "$(it_pebble_cert_status "$LB/cert.pem")" = Revoked ] ||
	fail "revoke B: Pebble says $(it_pebble_cert_status "$LB/cert.pem"), expected Revoked"

# -- 5. list shows the deadline
# has_deadline FILE: FILE (text or JSON) mentions a time in [lo, hi]
has_deadline() {
	"$IT_PY" - "$1" "$lo" "$hi" <<-'PYEOF'
	import datetime, json, re, sys
	text = open(sys.argv[1]).read()
	lo, hi = int(sys.argv[2]), int(sys.argv[3])
	def ok(t):
	    return lo <= t <= hi
	found = False
	for m in re.finditer(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?", text):
	    s = m.group(0).replace(" ", "T")
	    fmt = "%Y-%m-%dT%H:%M:%S" if m.group(1) else "%Y-%m-%dT%H:%M"
	    t = datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()
	    # (minutes only: the minute that holds the deadline)
	    if ok(int(t)) or (not m.group(1) and lo - 60 < t <= hi):
	        found = True
	for m in re.finditer(r"\b\d{10}\b", text):
	    if ok(int(m.group(0))):
	        found = True
	sys.exit(0 if found else 1)
	PYEOF
}
it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list"
grep -qi 'rate' "$IT_OUT" || fail "list does not mention the saved rate limit"
has_deadline "$IT_OUT" ||
	fail "list does not show the rate-limit deadline (a time between $(date -u -d "@$lo" +%FT%TZ) and $(date -u -d "@$hi" +%FT%TZ))"
it_certo --json list --state-dir "$IT_STATE"
it_expect_rc 0 "list --json"
cp "$IT_OUT" "$IT_WORK/list.json"
"$IT_PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$IT_WORK/list.json" ||
	fail "list --json is not one JSON document"
has_deadline "$IT_WORK/list.json" ||
	fail "list --json does not hold the rate-limit deadline (RFC 3339 or epoch seconds between $lo and $hi)"

# -- 6. certo ratelimit lists and clears it
it_si_ca ratelimit
it_expect_rc 0 "certo ratelimit"
has_deadline "$IT_OUT" || fail "certo ratelimit does not show the deadline"
it_si_ca ratelimit --clear
it_expect_rc 0 "certo ratelimit --clear"
it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list after ratelimit --clear"
if has_deadline "$IT_OUT"; then
	fail "list still shows the rate-limit deadline after ratelimit --clear"
fi

# -- 7. A is asked again
it_si_set '{"limit_names": []}'
it_si_issue -d "$A"
it_expect_rc 0 "issue A after ratelimit --clear, the CA no longer limiting"
[ "$(neworders "$A")" -eq 2 ] || fail "issue A after --clear: expected a second newOrder for A, saw $(neworders "$A") in all"
LA="$IT_STATE/live/$A"
it_expect_sans "$LA/cert.pem" "$A"
it_expect_verifies "$LA/cert.pem" "$LA/chain.pem"
it_expect_key_matches "$LA/privkey.pem" "$LA/cert.pem"
it_expect_private_modes
it_expect_no_tmp
it_expect_nothing_outside "rate limits"
it_pass
