#!/bin/sh
# dns_knot: DNS-01 propagation check (client/dns01_propagation.c) with
# discovery against a real authoritative server: Knot DNS on loopback,
# authoritative for certo.test and certo-dele.test, updated by
# scripts/hooks/nsupdate.sh with TSIG. The check runs through the unit test
# binary's driver mode ($CERTO_UNIT_DNS01 wait ...), with the knot server as
# the "recursive" resolver: discovery asks it CNAME/SOA/NS/A, finds
# ns1.certo.test = 127.0.0.1, and asks that address on knot's port.
#
# Checks: before the hook runs, the wait times out (exit 6) and names the
# record and the server; after `nsupdate.sh add` (apex and wildcard values)
# it succeeds within a round; after `del` of one value only that one is
# gone; a CNAME delegation into another zone is followed (by the hook and by
# discovery); explicit --resolver mode; an unreachable resolver.
# shellcheck disable=SC2034 # read by lib.sh
IT_NO_CERTO=1
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/knot-env.sh"
it_init dns_knot

[ -n "${CERTO_UNIT_DNS01:-}" ] && [ -x "$CERTO_UNIT_DNS01" ] ||
	fail "CERTO_UNIT_DNS01 (the unit_dns01 binary) is not set or not executable"
knot_installed || it_skip "knot not installed (Debian package knot)"
nsupdate_installed || it_skip "nsupdate not installed (Debian package bind9-dnsutils)"

KP=$((IT_BASEPORT + 20))
CLOSED=$((IT_BASEPORT + 21))
it_port_busy "$KP" && fail "port $KP is already in use"
knot_start "$IT_TMP/knot" "$KP" || fail "could not start knotd"
IT_HELPER_PIDS="$IT_HELPER_PIDS $KNOT_PID"

HOOK="$IT_SRCROOT/scripts/hooks/nsupdate.sh"
export CERTO_NSUPDATE_SERVER=127.0.0.1 CERTO_NSUPDATE_PORT="$KP" \
	CERTO_NSUPDATE_KEY="$KNOT_TSIG_FILE"
REC=_acme-challenge.x.certo.test
V1=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')
V2=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')

# dwait ARGS...: run the driver; sets RC, OUT, ERR files, ELAPSED (ms).
dwait() {
	_t0=$(date +%s%3N)
	timeout -k 5 30 "$CERTO_UNIT_DNS01" wait "$@" >"$IT_TMP/w.out" 2>"$IT_TMP/w.err"
	RC=$?
	ELAPSED=$(($(date +%s%3N) - _t0))
	it_log "wait $* -> exit $RC in ${ELAPSED} ms"
}
show() {
	sed 's/^/  /' "$IT_TMP/w.out" "$IT_TMP/w.err" >&2
}
expect_rc() {
	[ "$RC" = "$1" ] || { show; fail "$2: expected exit $1, got $RC"; }
}
err_has() {
	grep -qF -- "$1" "$IT_TMP/w.err" || { show; fail "$2: stderr lacks '$1'"; }
}
hook() {
	"$HOOK" "$@" 2>"$IT_TMP/hook.err" ||
		fail "nsupdate.sh $*: exit $? ($(cat "$IT_TMP/hook.err"))"
}

# 1. Before the hook: timeout, exit 6, the record and the server named.
dwait --recursive "127.0.0.1:$KP" --timeout 1500 --interval 250 "$REC" "$V1"
expect_rc 6 "before the hook"
err_has "$REC" "before the hook"
err_has "ns1.certo.test (127.0.0.1:$KP)" "before the hook"
err_has "(value missing)" "before the hook"
[ "$(wc -l <"$IT_TMP/w.err")" -eq 1 ] || { show; fail "the timeout message is not one line"; }
grep -q "^progress: $REC ns1.certo.test 127.0.0.1:$KP missing" "$IT_TMP/w.out" ||
	{ show; fail "no progress line for the missing record"; }

# 2. Apex and wildcard: two values on one name, both required.
hook add dns-01 x.certo.test "$REC" "$V1"
dwait --recursive "127.0.0.1:$KP" --timeout 1000 --interval 250 "$REC" "$V1" "$V2"
expect_rc 6 "one of two values"
hook add dns-01 '*.x.certo.test' "$REC" "$V2"
dwait --recursive "127.0.0.1:$KP" --timeout 5000 --interval 250 "$REC" "$V1" "$V2"
expect_rc 0 "after add"
grep -q '^visible$' "$IT_TMP/w.out" || { show; fail "no 'visible' line"; }
[ "$ELAPSED" -lt 1500 ] || fail "took ${ELAPSED} ms with the record already there"

# 3. del removes only its value.
hook del dns-01 x.certo.test "$REC" "$V1"
dwait --recursive "127.0.0.1:$KP" --timeout 1000 --interval 250 "$REC" "$V1"
expect_rc 6 "after del of V1"
dwait --recursive "127.0.0.1:$KP" --timeout 3000 "$REC" "$V2"
expect_rc 0 "V2 after del of V1"
hook del dns-01 '*.x.certo.test' "$REC" "$V2"
dwait --recursive "127.0.0.1:$KP" --timeout 1000 --interval 250 "$REC" "$V2"
expect_rc 6 "after del of V2"
if command -v dig >/dev/null 2>&1; then
	[ -z "$(dig +short -p "$KP" @127.0.0.1 "$REC" TXT)" ] ||
		fail "dig still sees TXT at $REC after del"
fi

# 4. The record appears while we wait (the hook runs 0.5 s later).
(sleep 0.5 && "$HOOK" add dns-01 y.certo.test _acme-challenge.y.certo.test "$V1") &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
dwait --recursive "127.0.0.1:$KP" --timeout 8000 --interval 2000 \
	_acme-challenge.y.certo.test "$V1"
expect_rc 0 "record added during the wait"
[ "$(grep -c '^progress:' "$IT_TMP/w.out")" -ge 2 ] || { show; fail "expected several rounds"; }
# Rounds at 0, 0.25, 0.75, 1.75 s: seen by 1.75 s, not after the 2 s interval.
[ "$ELAPSED" -lt 2500 ] || fail "seen only after ${ELAPSED} ms (rounds should ramp up)"

# 5. CNAME delegation into certo-dele.test: the hook follows it, and so
# does discovery (the zone cut is certo-dele.test, not certo.test).
hook add dns-01 c.certo.test _acme-challenge.c.certo.test "$V2"
dig +short -p "$KP" @127.0.0.1 c.acme.certo-dele.test TXT 2>/dev/null | grep -qF -- "$V2" ||
	fail "the hook did not write the CNAME target c.acme.certo-dele.test"
dwait --recursive "127.0.0.1:$KP" --timeout 3000 _acme-challenge.c.certo.test "$V2"
expect_rc 0 "CNAME delegation"

# 6. Explicit resolver: no discovery, asks knot directly.
dwait --resolver "127.0.0.1:$KP" --timeout 3000 _acme-challenge.y.certo.test "$V1"
expect_rc 0 "explicit resolver"
grep -q "^progress: _acme-challenge.y.certo.test 127.0.0.1 127.0.0.1:$KP visible" "$IT_TMP/w.out" ||
	{ show; fail "explicit resolver: no progress line naming 127.0.0.1:$KP"; }

# 7. Nothing listens: reported, then exit 6 at the timeout.
dwait --recursive "127.0.0.1:$CLOSED" --timeout 1000 "$REC" "$V1"
expect_rc 6 "unreachable resolver"
err_has "name servers not found" "unreachable resolver"
dwait --resolver "127.0.0.1:$CLOSED" --timeout 1000 "$REC" "$V1"
expect_rc 6 "unreachable explicit resolver"
err_has "127.0.0.1:$CLOSED" "unreachable explicit resolver"

# 8. The hook refuses what could inject nsupdate commands.
if "$HOOK" add dns-01 x.certo.test "$REC" 'a"
send' 2>/dev/null; then
	fail "nsupdate.sh accepted a value with a newline"
fi
it_pass
