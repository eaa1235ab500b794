#!/bin/sh
# hook_http: --http-hook writing the key authorization with echo (a
# trailing newline) into a webroot that python's http.server serves on the
# port Pebble dials. RFC 8555 section 8.3 lets the CA ignore trailing
# whitespace and Pebble does: certo's self-check compares the same way,
# says the file is served, and the certificate is issued.
# Then a hook whose file nobody serves: certo says it could not check the
# URL and why (it never claims "serves the key authorization"), and lets
# the CA decide (which fails: exit 2).
. "$(dirname "$0")/lib.sh"
it_init hook_http
PEBBLE_AUTHZREUSE=0 it_start_pebble

WWW="$IT_TMP/www"
mkdir -p "$WWW/.well-known/acme-challenge"
HOOK="$IT_TMP/webroot-hook"
cat >"$HOOK" <<HOOK
#!/bin/sh
[ "\$2" = http-01 ] || exit 1
f="$WWW/.well-known/acme-challenge/\$4"
case "\$1" in
add) echo "\$5" >"\$f" ;;
del) rm -f "\$f" ;;
esac
HOOK
chmod +x "$HOOK"
"$IT_PY" -m http.server --bind 127.0.0.1 --directory "$WWW" "$IT_HTTP_PORT" \
	>"$IT_TMP/http.log" 2>&1 &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
it_wait_port "$IT_HTTP_PORT" http.server

it_certo_ca issue -d 127.0.0.1 --http-hook "$HOOK" --http-port "$IT_HTTP_PORT" \
	--http-timeout 20 --agree-tos -m t@example.com
it_expect_rc 0 "http-01 through a webroot hook that writes a trailing newline"
it_expect_out_contains "/.well-known/acme-challenge/" "self-check line"
it_expect_out_contains "serves the key authorization" "self-check success line"
grep -qi "cannot check" "$IT_ERR" && fail "the self-check could not reach the local server"
c="$IT_STATE/live/127.0.0.1/cert.pem"
[ -f "$c" ] || fail "no certificate at $c"
it_expect_verifies "$c" "$IT_INTERMEDIATE"
[ -z "$(ls -A "$WWW/.well-known/acme-challenge")" ] || fail "the hook's del did not run"

# 127.0.0.2: nothing listens there (the server is bound to 127.0.0.1).
it_certo_ca issue -d 127.0.0.2 --http-hook "$HOOK" --http-port "$IT_HTTP_PORT" \
	--http-timeout 20
grep -q "serves the key authorization" "$IT_OUT" &&
	fail "certo claimed the URL serves the key authorization although it could not connect"
it_expect_err_contains "cannot check http-01 for http://127.0.0.2:$IT_HTTP_PORT/" "warning naming the URL"
it_expect_err_contains "cannot connect to 127.0.0.2 port $IT_HTTP_PORT: Connection refused" "the reason"
it_expect_rc 2 "the CA could not fetch it either"
it_pass
