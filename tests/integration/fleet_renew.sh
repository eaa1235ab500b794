#!/bin/sh
# fleet_renew: three state directories ("hosts") share one store (a real
# redis-server on loopback).  The three issue their first certificate at
# the same moment: one account is created (newAccount once), the same on
# every host.  h1 issues 9 more, all 12 due; then `certo renew` starts on
# the three hosts at once.  Pebble must
# issue exactly 12 new certificates (each due one renewed once, by one
# host), every host must end with the same new set for every name (h2
# and h3 never issued the others: they materialise the sets, and their
# deploy hook runs for them), the keys match, the chains verify.
. "$(dirname "$0")/lib.sh"
it_init fleet_renew
. "$IT_DIR/fleet_lib.sh"
fleet_setup

N=12
HOOK="echo \"\$FLEET_HOST \$CERTO_DOMAINS\" >>$IT_TMP/deployed.log"
# Three fresh hosts issue at the same moment: one account for the fleet
# (the account's store lock), the same on every host.
for h in 1 2 3; do
	CERTO_STORE="$FLEET_STORE" "$CERTO" issue --store-key "$FLEET_KEY" \
		--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$IT_TMP/h$h" --agree-tos --email test@example.com \
		--responder "$FLEET_SOCK" -d "f$h.certo.test" --deploy-hook "$HOOK" \
		--not-before "$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)" \
		--not-after "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" \
		>"$IT_TMP/first$h.out" 2>&1 </dev/null &
	echo $! >"$IT_TMP/first$h.pid"
	IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
done
for h in 1 2 3; do
	pid=$(cat "$IT_TMP/first$h.pid")
	n=400
	while it_pid_alive "$pid" && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	wait "$pid" || fail "the first issue on h$h failed: $(tail -3 "$IT_TMP/first$h.out")"
done
accounts=$(grep -c "POST /sign-me-up" "$IT_PEBBLE_DIR/pebble.log")
[ "$accounts" -eq 1 ] || fail "$accounts newAccount requests for three hosts at once, expected 1"
a1=$(cat "$IT_TMP"/h1/accounts/*/account.json)
for h in h2 h3; do
	[ "$(cat "$IT_TMP/$h"/accounts/*/account.json)" = "$a1" ] ||
		fail "$h uses another account than h1"
done
i=4
while [ "$i" -le "$N" ]; do
	fleet_issue_due h1 "f$i.certo.test" --deploy-hook "$HOOK"
	i=$((i + 1))
done
before=$(fleet_issued)
[ "$before" -eq "$N" ] || fail "Pebble issued $before certificates for $N names"
# h1's sets are in the store; the others have nothing yet.
[ "$(fleet_redis_cli hlen certo:sets)" -eq "$N" ] || fail "the store does not list $N sets"
i=1
while [ "$i" -le "$N" ]; do
	eval "old_$i=\"\$(fleet_redis_cli hget certo:set:f$i.certo.test cert |
		openssl x509 -noout -fingerprint -sha256)\""
	i=$((i + 1))
done
: >"$IT_TMP/deployed.log"

# Three renew runs at the same moment.
for h in h1 h2 h3; do
	fleet_renew_bg "$h"
done
for h in h1 h2 h3; do
	fleet_wait "$h" 50
	[ "$FLEET_RC" -eq 0 ] || fail "renew on $h exited $FLEET_RC: $(tail -5 "$IT_TMP/$h.err")"
done

after=$(fleet_issued)
[ $((after - before)) -eq "$N" ] ||
	fail "Pebble issued $((after - before)) certificates in the renew runs, expected exactly $N"
i=1
while [ "$i" -le "$N" ]; do
	eval "old=\"\$old_$i\""
	fleet_expect_same_new "f$i.certo.test" "$old" h1 h2 h3
	# Every host ran the deploy hook for the new set, whether it renewed
	# it or brought it in.
	for h in h1 h2 h3; do
		grep -qx "$h f$i.certo.test" "$IT_TMP/deployed.log" ||
			fail "the deploy hook did not run on $h for f$i.certo.test"
	done
	i=$((i + 1))
done
# Nothing pending, no lock left behind.
[ -z "$(fleet_redis_cli --scan --pattern 'certo:lock:*')" ] ||
	fail "store locks left: $(fleet_redis_cli --scan --pattern 'certo:lock:*' | tr '\n' ' ')"
[ -z "$(fleet_redis_cli --scan --pattern 'certo:order:*')" ] ||
	fail "saved orders left in the store"
find "$IT_TMP/h1/live" "$IT_TMP/h2/live" "$IT_TMP/h3/live" -name .deploy-pending | grep -q . &&
	fail "deploy-pending marks left: $(find "$IT_TMP" -name .deploy-pending | tr '\n' ' ')"

# A second pass everywhere: nothing due, nothing issued.
for h in h1 h2 h3; do
	fleet_renew_bg "$h"
	fleet_wait "$h" 30
	[ "$FLEET_RC" -eq 2 ] || fail "second renew on $h exited $FLEET_RC, expected 2 (nothing due)"
done
[ "$(fleet_issued)" -eq "$after" ] || fail "the second pass issued certificates"
it_pass
