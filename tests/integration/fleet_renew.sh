#!/bin/sh
# fleet_renew: three state directories ("hosts") share one store (a real
# redis-server on loopback).  h1 issues 12 certificates with --store, all
# due; then `certo renew` starts on the three hosts at once.  Pebble must
# issue exactly 12 new certificates (each due one renewed once, by one
# host), every host must end with the same new set for every name (h2
# and h3 never issued anything: they materialise the sets, and their
# deploy hook runs for each), the keys match, the chains verify.
. "$(dirname "$0")/lib.sh"
it_init fleet_renew
. "$IT_DIR/fleet_lib.sh"
fleet_setup

N=12
HOOK="echo \"\$FLEET_HOST \$CERTO_DOMAINS\" >>$IT_TMP/deployed.log"
i=1
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
	eval "old_$i=\"\$(fleet_fp h1 f$i.certo.test)\""
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
	# h2 and h3 ran the deploy hook for the set they brought in.
	for h in h2 h3; do
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
