#!/bin/sh
# ca_unreachable: nothing listens at the --server URL: exit 3, quickly, with
# one stderr line naming the URL. Needs no Pebble.
. "$(dirname "$0")/lib.sh"
it_init ca_unreachable
port=$((IT_BASEPORT + 10))
url="https://127.0.0.1:$port/dir"
if it_port_busy "$port"; then
	fail "port $port is in use; the test needs a closed port"
fi
max=30

it_certo issue --server "$url" --state-dir "$IT_STATE" --standalone \
	--http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 --agree-tos \
	--email test@example.com -d u.certo.test
it_log "certo took ${IT_ELAPSED}s"
it_expect_rc 3 "unreachable CA"
awk -v t="$IT_ELAPSED" -v m="$max" 'BEGIN { exit !(t <= m) }' ||
	fail "certo took ${IT_ELAPSED}s to give up on a refused connection (limit ${max}s)"
it_expect_err_one_line "unreachable CA"
it_expect_err_contains "$url" "the CA URL"
it_expect_no_live
it_pass
