#!/bin/sh
# pdns_hook: scripts/hooks/pdns-api.sh against a real PowerDNS Authoritative
# Server (Debian pdns-server + pdns-backend-sqlite3) run in the foreground
# on loopback with its HTTP API (issue 12 item 6):
#  - add / add of a second value / repeated add / del of one value / repeated
#    del / del of the last value, each checked with dig against pdns itself
#    (the RRset is gone at the end) and the API's zone;
#  - the zone is found by walking up the name (x.sub.certo.test -> certo.test);
#    a CNAME of _acme-challenge into another zone is followed;
#  - a wrong API key and a name in no zone: non-zero exit with the reason;
#  - certo's dns-01 propagation check against pdns (discovery: SOA, NS
#    ns1.certo.test, its address, then TXT at that address): exit 6 before
#    the add, 0 after;
#  - certo issue --challenge dns-01 --dns-hook pdns-api.sh for a name and its
#    wildcard, Pebble resolving through pdns (not challtestsrv): issued,
#    verifies, and no TXT left afterwards.
. "$(dirname "$0")/lib.sh"
it_init pdns_hook
for t in pdns_server sqlite3 jq dig; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t not installed"
done
SCHEMA=/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
[ -f "$SCHEMA" ] || it_skip "pdns-backend-sqlite3 not installed"
[ -n "${CERTO_UNIT_DNS01:-}" ] && [ -x "$CERTO_UNIT_DNS01" ] ||
	fail "CERTO_UNIT_DNS01 (the unit_dns01 binary) is not set or not executable"
it_start_pebble

DP=$((IT_BASEPORT + 4))
WP=$((IT_BASEPORT + 5))
for p in "$DP" "$WP"; do
	it_port_busy "$p" && fail "port $p is already in use"
done
PD="$IT_TMP/pdns"
mkdir -p "$PD"
sqlite3 "$PD/pdns.sqlite3" <"$SCHEMA" || fail "cannot make the sqlite database"
APIKEY=$(openssl rand -hex 16)
cat >"$PD/pdns.conf" <<EOF
launch=gsqlite3
gsqlite3-database=$PD/pdns.sqlite3
api=yes
api-key=$APIKEY
webserver=yes
webserver-address=127.0.0.1
webserver-port=$WP
webserver-allow-from=127.0.0.0/8
local-address=127.0.0.1
local-port=$DP
guardian=no
daemon=no
disable-syslog=yes
socket-dir=$PD
write-pid=no
cache-ttl=0
negquery-cache-ttl=0
query-cache-ttl=0
EOF
pdns_server --config-dir="$PD" >"$PD/pdns.log" 2>&1 </dev/null &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
export PDNS_API_URL="http://127.0.0.1:$WP" PDNS_API_KEY="$APIKEY"
api() {
	curl -sS --max-time 5 -H "X-API-Key: $APIKEY" "$@"
}
n=0
until api -o /dev/null "$PDNS_API_URL/api/v1/servers/localhost" 2>/dev/null; do
	n=$((n + 1))
	[ "$n" -lt 100 ] || { tail -n 20 "$PD/pdns.log" >&2; fail "pdns_server's API does not answer"; }
	sleep 0.1
done
api -X POST -H 'Content-Type: application/json' -o "$IT_TMP/zone.json" \
	"$PDNS_API_URL/api/v1/servers/localhost/zones" --data-binary '{
  "name": "certo.test.", "kind": "Native", "nameservers": ["ns1.certo.test."],
  "rrsets": [
    {"name": "ns1.certo.test.", "type": "A", "ttl": 60, "changetype": "REPLACE",
     "records": [{"content": "127.0.0.1", "disabled": false}]},
    {"name": "pd.certo.test.", "type": "A", "ttl": 60, "changetype": "REPLACE",
     "records": [{"content": "127.0.0.1", "disabled": false}]}]}' ||
	fail "cannot create the zone certo.test"
grep -q '"certo.test."' "$IT_TMP/zone.json" || fail "zone not created: $(cat "$IT_TMP/zone.json")"

HOOK="$IT_SRCROOT/scripts/hooks/pdns-api.sh"
REC=_acme-challenge.x.sub.certo.test
V1=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')
V2=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')
hook() {
	"$HOOK" "$@" 2>"$IT_TMP/hook.err" ||
		fail "pdns-api.sh $*: exit $? ($(cat "$IT_TMP/hook.err"))"
}
txt() {
	dig +short +norec -p "$DP" @127.0.0.1 "$1" TXT | tr -d '"' | sort
}
expect_txt() {
	_want=$(printf '%s\n' "$@" | grep -v '^$' | sort)
	_got=$(txt "$REC")
	[ "$_got" = "$_want" ] || fail "TXT $REC is [$(echo $_got)], expected [$(echo $_want)]"
}

# -- the hook alone
hook add dns-01 x.sub.certo.test "$REC" "$V1"
expect_txt "$V1"
hook add dns-01 '*.x.sub.certo.test' "$REC" "$V2"
expect_txt "$V1" "$V2"
hook add dns-01 x.sub.certo.test "$REC" "$V1"
expect_txt "$V1" "$V2"
hook del dns-01 x.sub.certo.test "$REC" "$V1"
expect_txt "$V2"
hook del dns-01 x.sub.certo.test "$REC" "$V1"
expect_txt "$V2"
hook del dns-01 '*.x.sub.certo.test' "$REC" "$V2"
expect_txt ""
api "$PDNS_API_URL/api/v1/servers/localhost/zones/certo.test." |
	jq -e --arg n "$REC." '[.rrsets[] | select(.name == $n)] | length == 0' >/dev/null ||
	fail "the API still holds an RRset at $REC after the last del"
if PDNS_API_KEY=wrong "$HOOK" add dns-01 x.certo.test _acme-challenge.x.certo.test "$V1" 2>"$IT_TMP/hook.err"; then
	fail "the hook succeeded with a wrong API key"
fi
grep -q "HTTP 401" "$IT_TMP/hook.err" || fail "wrong key: no HTTP 401 in '$(cat "$IT_TMP/hook.err")'"
if "$HOOK" add dns-01 x.other.test _acme-challenge.x.other.test "$V1" 2>"$IT_TMP/hook.err"; then
	fail "the hook succeeded for a name in no zone"
fi
grep -q "no zone on" "$IT_TMP/hook.err" || fail "no zone: '$(cat "$IT_TMP/hook.err")'"
if "$HOOK" add dns-01 x.certo.test "$REC" 'a"b' 2>/dev/null; then
	fail "the hook accepted a value with a quote"
fi

# -- a CNAME of _acme-challenge into a zone made for challenges is followed
api -X POST -H 'Content-Type: application/json' -o /dev/null \
	"$PDNS_API_URL/api/v1/servers/localhost/zones" --data-binary \
	'{"name": "acme-dele.test.", "kind": "Native", "nameservers": ["ns1.certo.test."]}' ||
	fail "cannot create the zone acme-dele.test"
api -X PATCH -H 'Content-Type: application/json' -o /dev/null \
	"$PDNS_API_URL/api/v1/servers/localhost/zones/certo.test." --data-binary \
	'{"rrsets": [{"name": "_acme-challenge.c.certo.test.", "type": "CNAME", "ttl": 60,
	  "changetype": "REPLACE", "records": [{"content": "c.acme-dele.test.", "disabled": false}]}]}' ||
	fail "cannot add the CNAME"
hook add dns-01 c.certo.test _acme-challenge.c.certo.test "$V1"
[ "$(txt c.acme-dele.test)" = "$V1" ] || fail "the hook did not write the CNAME target c.acme-dele.test"
hook del dns-01 c.certo.test _acme-challenge.c.certo.test "$V1"
[ -z "$(txt c.acme-dele.test)" ] || fail "del left TXT at the CNAME target"

# -- certo's propagation check, discovering pdns as the zone's server
dwait() {
	timeout -k 5 30 "$CERTO_UNIT_DNS01" wait --recursive "127.0.0.1:$DP" \
		--timeout "$1" --interval 250 "$REC" "$V1" >"$IT_TMP/w.out" 2>"$IT_TMP/w.err"
	RC=$?
}
dwait 1000
[ "$RC" = 6 ] || fail "propagation before the add: exit $RC, expected 6 ($(cat "$IT_TMP/w.err"))"
grep -qF "ns1.certo.test (127.0.0.1:$DP)" "$IT_TMP/w.err" || fail "the timeout does not name pdns: $(cat "$IT_TMP/w.err")"
hook add dns-01 x.sub.certo.test "$REC" "$V1"
dwait 5000
[ "$RC" = 0 ] || fail "propagation after the add: exit $RC ($(cat "$IT_TMP/w.err"))"
hook del dns-01 x.sub.certo.test "$REC" "$V1"

# -- a whole issuance: Pebble resolves through pdns instead of challtestsrv
PEB_PID=$(sed -n 2p "$IT_PEBBLE_DIR/pids")
kill "$PEB_PID" 2>/dev/null
n=0
while kill -0 "$PEB_PID" 2>/dev/null && [ "$n" -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
PEBBLE_VA_NOSLEEP=1 pebble -config "$IT_PEBBLE_DIR/pebble-config.json" \
	-dnsserver "127.0.0.1:$DP" -strict=false >"$IT_TMP/pebble-pdns.log" 2>&1 </dev/null &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
n=0
until curl -s -o /dev/null --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_DIR_URL"; do
	n=$((n + 1))
	[ "$n" -lt 100 ] || fail "Pebble did not come back with -dnsserver pdns"
	sleep 0.1
done
pebble_fetch_roots "$IT_PEBBLE_DIR" || fail "could not fetch the new Pebble's roots"
it_certo issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos --email test@example.com \
	-d pd.certo.test -d '*.pd.certo.test' --challenge dns-01 \
	--dns-hook "$HOOK" --dns-resolver "127.0.0.1:$DP" --dns-timeout 20
it_expect_rc 0 "issue through pdns-api.sh"
L="$IT_STATE/live/pd.certo.test"
it_expect_verifies "$L/cert.pem" "$L/chain.pem"
it_expect_sans "$L/cert.pem" pd.certo.test '*.pd.certo.test'
# challtestsrv holds no TXT for these names: Pebble found them in pdns.
grep -q "DNS resolver for ACME challenges: 127.0.0.1:$DP" "$IT_TMP/pebble-pdns.log" ||
	fail "Pebble does not say it resolves through pdns"
[ -z "$(txt _acme-challenge.pd.certo.test)" ] || fail "TXT left at _acme-challenge.pd.certo.test after issue"
it_pass
