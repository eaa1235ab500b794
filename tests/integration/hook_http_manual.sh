#!/bin/sh
# hook_http_manual: --manual with http-01 says what it waits for and why
# each fetch failed, one line per change: connection refused, a wrong body,
# HTTP 404; then the right body with a trailing newline is accepted and
# the certificate is issued. --http-timeout bounds the wait: with nothing
# served, exit 5 after it, naming the reason, the CA not asked.
. "$(dirname "$0")/lib.sh"
it_init hook_http_manual
PEBBLE_AUTHZREUSE=0 it_start_pebble

WWW="$IT_TMP/www"
DIR="$WWW/.well-known/acme-challenge"
mkdir -p "$DIR"
it_certo_bg --json issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com -d 127.0.0.1 \
	--manual --http-port "$IT_HTTP_PORT" --http-timeout 25
it_wait_grep "$IT_OUT" '"event":"manual_publish"' 15
line=$(grep '"event":"manual_publish"' "$IT_OUT" | head -n 1)
url=$(printf '%s' "$line" | "$IT_PY" -c 'import json,sys; print(json.load(sys.stdin)["record"])')
value=$(printf '%s' "$line" | "$IT_PY" -c 'import json,sys; print(json.load(sys.stdin)["value"])')
token=${url##*/}

# 1. Nothing listens yet.
it_wait_grep "$IT_OUT" '"event":"http_progress".*cannot connect to 127.0.0.1 port [0-9]+: Connection refused' 10
# 2. A server with the wrong content.
echo "not the key authorization" >"$DIR/$token"
"$IT_PY" -m http.server --bind 127.0.0.1 --directory "$WWW" "$IT_HTTP_PORT" \
	>"$IT_TMP/http.log" 2>&1 &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
it_wait_grep "$IT_OUT" '"event":"http_progress".*wrong content' 10
# 3. No file: 404.
rm -f "$DIR/$token"
it_wait_grep "$IT_OUT" '"event":"http_progress".*HTTP 404' 10
grep -q '"event":"challenge_answered"' "$IT_OUT" &&
	fail "certo answered the challenge before the file was right"
# 4. The right content, as echo writes it.
echo "$value" >"$DIR/$token"
it_certo_bg_wait 30
it_expect_rc 0 "manual http-01 with a trailing newline"
grep -q '"event":"http_visible"' "$IT_OUT" || fail "no http_visible event"
c="$IT_STATE/live/127.0.0.1/cert.pem"
[ -f "$c" ] || fail "no certificate at $c"
it_expect_verifies "$c" "$IT_INTERMEDIATE"

# --http-timeout: nothing at 127.0.0.2 (the server is bound to 127.0.0.1).
it_certo_ca issue -d 127.0.0.2 --manual --http-port "$IT_HTTP_PORT" --http-timeout 3
it_expect_rc 5 "nothing served within --http-timeout"
it_expect_err_contains "within 3 s" "timeout named"
it_expect_err_contains "cannot connect to 127.0.0.2 port $IT_HTTP_PORT: Connection refused" "reason named"
it_expect_err_contains "the CA was not asked"
it_expect_out_contains "http-01: waiting for http://127.0.0.2:$IT_HTTP_PORT/" "progress line"
it_pass
