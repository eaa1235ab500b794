#!/bin/sh
# pem_bundle_haproxy: --pem-bundle writes combined.pem (the private key,
# then the full chain; 0600) in the live set, and a real HAProxy (Debian
# haproxy) serves it: "bind ... ssl crt <live>/combined.pem", curl and
# openssl s_client verify the issued certificate against Pebble's root.
# certo.json remembers it: renew --force writes a new combined.pem, and
# the example deploy hook scripts/hooks/deploy/haproxy.sh reloads HAProxy
# (master-worker, SIGUSR2) so that it serves the new certificate; run
# again by hand for the same set it does not reload. Without --pem-bundle
# there is no combined.pem; --pem-bundle with --csr and no --key is a
# usage error.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/deploy_lib.sh"
it_init pem_bundle_haproxy
HAPROXY=${CERTO_IT_HAPROXY:-/usr/sbin/haproxy}
[ -x "$HAPROXY" ] || it_skip "haproxy not installed ($HAPROXY)"
PEBBLE_AUTHZREUSE=0 it_start_pebble

LIVE="$IT_STATE/live/127.0.0.1"
HOOK="$IT_SRCROOT/scripts/hooks/deploy/haproxy.sh"
TLS_PORT=$((IT_BASEPORT + 6))
DL_WHAT=HAProxy DL_PORT=$TLS_PORT

# 1. Issue with --pem-bundle.
it_issue -d 127.0.0.1 --pem-bundle
it_expect_rc 0 "issue --pem-bundle"
it_expect_mode "$LIVE/combined.pem" 600
cat "$LIVE/privkey.pem" "$LIVE/fullchain.pem" | cmp -s - "$LIVE/combined.pem" ||
	fail "combined.pem is not privkey.pem followed by fullchain.pem"
it_expect_verifies "$LIVE/cert.pem" "$LIVE/chain.pem"
[ "$(it_json_get "$LIVE/certo.json" "d.get('pem_bundle')")" = true ] ||
	fail "certo.json does not remember --pem-bundle: $(cat "$LIVE/certo.json")"
it_expect_no_tmp

# 2. HAProxy in master-worker mode serves combined.pem.
HA="$IT_TMP/haproxy"
mkdir -p "$HA"
cat >"$HA/haproxy.cfg" <<EOF
global
	pidfile $HA/haproxy.pid
defaults
	mode http
	timeout connect 5s
	timeout client 10s
	timeout server 10s
frontend tls
	bind 127.0.0.1:$TLS_PORT ssl crt $LIVE/combined.pem
	http-request return status 200 content-type text/plain string "served by haproxy"
EOF
"$HAPROXY" -W -db -f "$HA/haproxy.cfg" -p "$HA/haproxy.pid" >"$HA/log" 2>&1 &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
it_wait_port "$TLS_PORT" haproxy "" "$HA/log"

S1=$(it_cert_serial "$LIVE/cert.pem")
[ "$(dl_served_serial)" = "$S1" ] ||
	fail "HAProxy does not serve the issued certificate (serial $S1): $(cat "$IT_TMP/s_client.err")"
body=$(curl -sS --max-time 5 --cacert "$IT_ROOT" "https://127.0.0.1:$TLS_PORT/" 2>&1) ||
	fail "curl to HAProxy failed: $body"
[ "$body" = "served by haproxy" ] || fail "curl got: $body"

# 3. renew --force: a new combined.pem, and the deploy hook reloads
# HAProxy, which then serves the new certificate.
export CERTO_HAPROXY="$HAPROXY" CERTO_HAPROXY_CFG="$HA/haproxy.cfg" \
	CERTO_HAPROXY_PIDFILE="$HA/haproxy.pid"
it_certo_ca renew --force --deploy-hook "$HOOK"
it_expect_rc 0 "renew --force with --pem-bundle remembered"
S2=$(it_cert_serial "$LIVE/cert.pem")
[ "$S2" != "$S1" ] || fail "renew did not replace the certificate"
cat "$LIVE/privkey.pem" "$LIVE/fullchain.pem" | cmp -s - "$LIVE/combined.pem" ||
	fail "the renewed combined.pem is not privkey.pem followed by fullchain.pem"
it_expect_mode "$LIVE/combined.pem" 600
n=50
while [ "$(dl_served_serial)" != "$S2" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "HAProxy still serves $(dl_served_serial), not the renewed $S2 ($(tail -n 3 "$IT_ERR"))"
	sleep 0.1
done
[ -f "$LIVE/.deployed-haproxy" ] || fail "the hook did not record the set it deployed"

# 4. The hook again for the same set: nothing to reload.
master=$(head -n 1 "$HA/haproxy.pid")
workers=$(pgrep -P "$master" | LC_ALL=C sort | tr '\n' ' ')
out=$(CERTO_LIVE_DIR="$LIVE" CERTO_DOMAINS=127.0.0.1 "$HOOK" 2>&1) ||
	fail "the hook failed for an unchanged set: $out"
case "$out" in
*"not reloading"*) ;;
*) fail "the hook did not say it skipped the reload: $out" ;;
esac
sleep 0.5
[ "$(pgrep -P "$master" | LC_ALL=C sort | tr '\n' ' ')" = "$workers" ] ||
	fail "HAProxy's workers changed although the set did not"

# 5. Without --pem-bundle: no combined.pem. With --csr and no --key: refused.
it_issue -d nb.certo.test
it_expect_rc 0 "issue without --pem-bundle"
[ ! -e "$IT_STATE/live/nb.certo.test/combined.pem" ] || fail "combined.pem without --pem-bundle"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$IT_TMP/csr.key" -out "$IT_TMP/x.csr" -subj "/CN=csr.certo.test" \
	-addext "subjectAltName=DNS:csr.certo.test" >/dev/null 2>&1 || fail "openssl req"
it_issue --csr "$IT_TMP/x.csr" --pem-bundle
it_expect_rc 1 "--pem-bundle with --csr and no --key"
it_expect_err_contains "--pem-bundle needs the key" "the reason"
it_pass
