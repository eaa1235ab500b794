#!/bin/sh
# http_manual: --manual with http-01. certo prints the URL and content to
# publish and waits; the test publishes it 2 s later with a plain static
# server; certo sees it (GET from this host), only then answers, and the
# certificate is issued. Uses an IP identifier, which needs no DNS here.
. "$(dirname "$0")/lib.sh"
it_init http_manual
it_start_pebble

timeout -k 5 60 "$CERTO" --json issue --server "$PEBBLE_DIR_URL" \
	--ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_STATE" --agree-tos \
	-d 127.0.0.1 --manual --http-port "$IT_HTTP_PORT" --dns-timeout 30 \
	>"$IT_OUT" 2>"$IT_ERR" </dev/null &
pid=$!
n=100
while ! grep -q '"event":"manual_publish"' "$IT_OUT" 2>/dev/null; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "certo printed nothing to publish: $(cat "$IT_ERR")"
	sleep 0.1
done
line=$(grep '"event":"manual_publish"' "$IT_OUT" | head -1)
url=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["record"])')
value=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')
case "$url" in
"http://127.0.0.1:$IT_HTTP_PORT/.well-known/acme-challenge/"*) ;;
*) fail "unexpected URL to publish: $url" ;;
esac
sleep 2
# Nothing may have been answered while the file was not there.
grep -q '"event":"challenge_answered"' "$IT_OUT" &&
	fail "certo answered the challenge before the file was published"
www="$IT_TMP/www"
mkdir -p "$www/.well-known/acme-challenge"
printf '%s' "$value" >"$www/.well-known/acme-challenge/${url##*/}"
python3 -m http.server --bind 127.0.0.1 --directory "$www" "$IT_HTTP_PORT" \
	>/dev/null 2>&1 &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
wait "$pid"
IT_RC=$?
it_expect_rc 0 "manual http-01 issuance"
grep -q '"event":"http_visible"' "$IT_OUT" || fail "no http_visible event"
grep -q '"event":"challenge_answered"' "$IT_OUT" || fail "no challenge_answered event"
c="$IT_STATE/live/127.0.0.1/cert.pem"
[ -f "$c" ] || fail "no certificate at $c"
openssl x509 -in "$c" -noout -ext subjectAltName | grep -q "IP Address:127.0.0.1" ||
	fail "the certificate is not for IP 127.0.0.1"
it_expect_verifies "$c" "$IT_INTERMEDIATE"
grep -q '"event":"manual_cleanup"' "$IT_OUT" || fail "no reminder to remove the file"
it_pass
