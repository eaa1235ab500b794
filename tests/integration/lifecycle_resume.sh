#!/bin/sh
# lifecycle_resume: certo killed with SIGKILL mid-order, then run again with
# the same names, resumes the SAME order (stdout "resuming <url>", JSON event
# "order_resumed" with that url, no new "order_created") and gets the
# certificate; afterwards orders/ is empty and no *.tmp* file is left.
#  (a) killed right after the order was created: dns-01 --manual waits for
#      the TXT record (Pebble has not been asked to validate anything); the
#      rerun publishes through scripts/hooks/challtestsrv.sh.
#  (b) killed right after the challenge was answered, while Pebble is still
#      validating (PEBBLE_VA_NOSLEEP off, PEBBLE_VA_SLEEPTIME=5: each of its
#      validations sleeps 0-4 s first); dns-01 through the hook, so the TXT
#      record outlives certo and the validation succeeds without it.
#  (c) the same with http-01 --standalone: certo's responder dies with it,
#      so Pebble's validation usually fails and the order becomes invalid;
#      the rerun must then discard it ("order_discarded") and issue with a
#      new order (or resume it, if the validation won the race).
# PEBBLE_AUTHZREUSE=0: no authorization is reused between the cases.
. "$(dirname "$0")/lib.sh"
it_init lifecycle_resume
"$CERTO" issue --help 2>&1 | grep -q -- '--dns-hook' ||
	it_skip "this certo has no --dns-hook option"
PEBBLE_VA_NOSLEEP= PEBBLE_VA_SLEEPTIME=5 PEBBLE_AUTHZREUSE=0 it_start_pebble

DNS_PORT=$((IT_BASEPORT + 2))
HOOK="$IT_SRCROOT/scripts/hooks/challtestsrv.sh"
CHALLTESTSRV_HOOK_STATE="$IT_TMP/challtestsrv-hook.state"
export CHALLTESTSRV_MGMT_URL CHALLTESTSRV_HOOK_STATE

base_args() {
	echo "--server $PEBBLE_DIR_URL --ca-bundle $PEBBLE_CA_BUNDLE --state-dir $IT_STATE --agree-tos -m t@example.com"
}

# saved_order_url: the url in the single orders/*/order.json.
saved_order_url() {
	_n=$(find "$IT_STATE/orders" -name order.json 2>/dev/null | wc -l)
	[ "$_n" -eq 1 ] || fail "expected one orders/*/order.json after the kill, found $_n"
	it_json_get "$(find "$IT_STATE/orders" -name order.json)" 'd["url"]'
}

# expect_clean: orders/ empty (or gone), no temp files.
expect_clean() {
	if [ -d "$IT_STATE/orders" ]; then
		_left=$(find "$IT_STATE/orders" -mindepth 1 | head -n 5)
		[ -z "$_left" ] || fail "$1: orders/ is not empty: $(echo "$_left" | tr '\n' ' ')"
	fi
	it_expect_no_tmp
}

# kill_after EVENT ARGS...: run certo --json ARGS in the background, SIGKILL
# it as soon as its JSON output has EVENT; prints nothing, sets KILLED_OUT
# (a copy of its output).
kill_after() {
	_ev=$1
	shift
	it_certo_bg --json "$@"
	it_wait_grep "$IT_OUT" "\"event\":\"$_ev\"" 40
	it_certo_bg_kill KILL
	[ "$IT_RC" -eq 137 ] || fail "certo was not killed by SIGKILL (exit $IT_RC) after $_ev"
	KILLED_OUT="$IT_TMP/killed.$_ev.out"
	cp "$IT_OUT" "$KILLED_OUT"
}

# expect_resumed URL: the last run's JSON says order_resumed URL and
# created no new order.
expect_resumed() {
	_r=$(it_json_lines_field "$IT_OUT" order_resumed url)
	[ "$_r" = "$1" ] || fail "rerun: no order_resumed event for $1 (got '${_r:-none}')"
	grep -q "resuming $1" "$IT_OUT" ||
		fail "rerun: the order_resumed message does not say 'resuming $1'"
	[ -z "$(it_json_lines_field "$IT_OUT" order_created url)" ] ||
		fail "rerun created a new order instead of resuming $1"
}

# ---------------------------------------------------------------- (a)
# shellcheck disable=SC2046 # base_args is a word list without spaces
kill_after order_created issue -d ra.certo.test --challenge dns-01 --manual \
	--dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 60 $(base_args)
url_a=$(it_json_lines_field "$KILLED_OUT" order_created url)
case "$url_a" in
https://localhost:"$IT_BASEPORT"/*) ;;
*) fail "(a) no order_created event with an order URL before the kill (got '$url_a')" ;;
esac
[ "$(saved_order_url)" = "$url_a" ] || fail "(a) orders/*/order.json does not hold $url_a"
[ ! -e "$IT_STATE/live/ra.certo.test" ] || fail "(a) live/ra.certo.test exists after the kill"

if [ -x "$HOOK" ]; then
	# shellcheck disable=SC2046
	it_certo --json issue -d ra.certo.test --challenge dns-01 --dns-hook "$HOOK" \
		--dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 60 $(base_args)
else
	# No hook: rerun in manual mode and publish the record it asks for.
	# shellcheck disable=SC2046
	it_certo_bg --json issue -d ra.certo.test --challenge dns-01 --manual \
		--dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 60 $(base_args)
	it_wait_grep "$IT_OUT" '"event":"manual_publish"' 30
	val=$(it_json_lines_field "$IT_OUT" manual_publish value)
	rec=$(it_json_lines_field "$IT_OUT" manual_publish record)
	c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
		-d "{\"host\":\"${rec%.}.\",\"value\":\"$val\"}" "$CHALLTESTSRV_MGMT_URL/set-txt")
	[ "$c" = 200 ] || fail "challtestsrv /set-txt answered $c"
	it_certo_bg_wait 60
fi
it_expect_rc 0 "(a) rerun after SIGKILL right after order creation"
expect_resumed "$url_a"
it_check_issued ra.certo.test ra.certo.test
expect_clean "(a)"

# ---------------------------------------------------------------- (b)
[ -x "$HOOK" ] || fail "scripts/hooks/challtestsrv.sh is missing or not executable"
# shellcheck disable=SC2046
kill_after challenge_answered issue -d rb.certo.test --challenge dns-01 \
	--dns-hook "$HOOK" --dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 60 $(base_args)
url_b=$(it_json_lines_field "$KILLED_OUT" order_created url)
[ -n "$url_b" ] || fail "(b) no order_created event before the kill"
[ "$(saved_order_url)" = "$url_b" ] || fail "(b) orders/*/order.json does not hold $url_b"
[ ! -e "$IT_STATE/live/rb.certo.test" ] || fail "(b) live/rb.certo.test exists after the kill"

# shellcheck disable=SC2046
it_certo --json issue -d rb.certo.test --challenge dns-01 --dns-hook "$HOOK" \
	--dns-resolver "127.0.0.1:$DNS_PORT" --dns-timeout 60 $(base_args)
it_expect_rc 0 "(b) rerun after SIGKILL while Pebble validated"
expect_resumed "$url_b"
it_check_issued rb.certo.test rb.certo.test
expect_clean "(b)"

# ---------------------------------------------------------------- (c)
# shellcheck disable=SC2046
kill_after challenge_answered issue -d rc.certo.test --standalone \
	--http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 $(base_args)
url_c=$(it_json_lines_field "$KILLED_OUT" order_created url)
[ -n "$url_c" ] || fail "(c) no order_created event before the kill"
[ "$(saved_order_url)" = "$url_c" ] || fail "(c) orders/*/order.json does not hold $url_c"
# Let Pebble finish (and most likely fail) the validation.
sleep 6
# shellcheck disable=SC2046
it_certo --json issue -d rc.certo.test --standalone \
	--http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 $(base_args)
it_expect_rc 0 "(c) rerun after SIGKILL with the http-01 responder gone"
if [ -n "$(it_json_lines_field "$IT_OUT" order_resumed url)" ] &&
	[ -z "$(it_json_lines_field "$IT_OUT" order_discarded url)" ]; then
	it_log "(c) the validation had finished before the kill: order resumed"
	expect_resumed "$url_c"
else
	[ "$(it_json_lines_field "$IT_OUT" order_discarded url)" = "$url_c" ] ||
		fail "(c) the rerun neither resumed nor reported discarding $url_c"
	new=$(it_json_lines_field "$IT_OUT" order_created url)
	[ -n "$new" ] && [ "$new" != "$url_c" ] ||
		fail "(c) after discarding $url_c the rerun created no new order"
fi
it_check_issued rc.certo.test rc.certo.test
expect_clean "(c)"
it_pass
