#!/bin/sh
# challenge_fail: Pebble cannot reach the responder (the name resolves to
# 127.0.0.2, certo listens on 127.0.0.1 only), so the authorization becomes
# invalid: exit 2, Pebble's problem detail on stderr, nothing under live/.
. "$(dirname "$0")/lib.sh"
it_init challenge_fail
it_start_pebble
name=bad.certo.test

_code=$(curl -s -o "$IT_TMP/add-a.out" -w '%{http_code}' -X POST \
	-d "{\"host\":\"$name\",\"addresses\":[\"127.0.0.2\"]}" \
	"$CHALLTESTSRV_MGMT_URL/add-a") || fail "challtestsrv /add-a request failed"
[ "$_code" = 200 ] || fail "challtestsrv /add-a answered HTTP $_code"
# Nothing may answer on 127.0.0.2:<http port> before certo starts.
curl -s -o /dev/null --max-time 3 "http://127.0.0.2:$IT_HTTP_PORT/"
[ $? -eq 7 ] || fail "something answers on 127.0.0.2:$IT_HTTP_PORT; the test needs a refused connection"

it_issue -d "$name"
it_expect_rc 2 "unreachable responder"
it_expect_err_certo_line "unreachable responder"
# Pebble 2.4 says (type urn:ietf:params:acme:error:connection):
#   Get "http://bad.certo.test:PORT/.well-known/acme-challenge/TOKEN":
#   dial tcp 127.0.0.2:PORT: connect: connection refused
it_expect_err_contains "connection refused" "Pebble's problem detail"
it_expect_err_contains "$name" "the failed name"
it_expect_no_live
it_expect_no_tmp
it_pass
