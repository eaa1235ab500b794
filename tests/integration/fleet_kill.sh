#!/bin/sh
# fleet_kill: a host SIGKILLed while it holds a certificate's store lock.
# h1 issues 6 due certificates with --store and a deploy hook that, on
# the host started with FLEET_STALL=1, stops in the middle (the hook runs
# under the certificate's lock).  h1 renews the first one and stalls in
# its hook holding the lock (renewed by its helper thread: the key stays
# past several TTLs); h2 and h3 start renew; h1 is SIGKILLed.  Its lock
# expires after the short TTL (CERTO_STORE_LOCK_TTL_MS) without anyone
# deleting it, h2/h3 finish: exactly 6 new certificates in all, h2 and
# h3 end with the same new sets; a later renew on h1 brings them in.
. "$(dirname "$0")/lib.sh"
it_init fleet_kill
. "$IT_DIR/fleet_lib.sh"
fleet_setup

N=6
TTL=1500
cat >"$IT_TMP/hook.sh" <<EOF
#!/bin/sh
if [ "\${FLEET_STALL:-}" = 1 ] && [ ! -e "$IT_TMP/stalled" ]; then
	echo "\$CERTO_DOMAINS" >"$IT_TMP/stalled.name"
	echo \$\$ >"$IT_TMP/stalled"
	exec sleep 60
fi
echo "\$FLEET_HOST \$CERTO_DOMAINS" >>"$IT_TMP/deployed.log"
EOF
chmod 755 "$IT_TMP/hook.sh"
i=1
while [ "$i" -le "$N" ]; do
	fleet_issue_due h1 "k$i.certo.test" --deploy-hook "$IT_TMP/hook.sh"
	eval "old_$i=\"\$(fleet_fp h1 k$i.certo.test)\""
	i=$((i + 1))
done
before=$(fleet_issued)
[ "$before" -eq "$N" ] || fail "Pebble issued $before certificates for $N names"

export CERTO_STORE_LOCK_TTL_MS=$TTL
# h1 alone first: it renews one certificate and stalls in its hook.
FLEET_STALL=1 fleet_renew_bg h1 --jobs 1
n=300
while [ ! -s "$IT_TMP/stalled" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "h1 did not reach its deploy hook: $(tail -5 "$IT_TMP/h1.err")"
	sleep 0.1
done
name=$(cat "$IT_TMP/stalled.name")
lock="certo:lock:cert:$name"
token=$(fleet_redis_cli get "$lock")
[ -n "$token" ] || fail "h1 holds no store lock on $name while its hook runs"
# Held across several TTLs: the helper thread renews it.
sleep 2
[ "$(fleet_redis_cli get "$lock")" = "$token" ] ||
	fail "h1's lock on $name was not kept alive past its TTL"

for h in h2 h3; do
	fleet_renew_bg "$h"
done
sleep 0.5
kill -KILL "$(cat "$IT_TMP/h1.pid")"
kill -KILL "$(cat "$IT_TMP/stalled")" 2>/dev/null
wait "$(cat "$IT_TMP/h1.pid")" 2>/dev/null
# The dead holder's token goes within the TTL (expired, never deleted by
# anyone else; a waiting host may take the lock with its own token).
n=$((TTL / 100 + 30))
while [ "$(fleet_redis_cli get "$lock")" = "$token" ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the lock of the killed host did not expire"
	sleep 0.1
done
for h in h2 h3; do
	fleet_wait "$h" 50
	[ "$FLEET_RC" -eq 0 ] || fail "renew on $h exited $FLEET_RC: $(tail -5 "$IT_TMP/$h.err")"
done
after=$(fleet_issued)
[ $((after - before)) -eq "$N" ] ||
	fail "Pebble issued $((after - before)) certificates, expected exactly $N"

# h1 again (no stall): nothing due, it brings in what the others renewed.
fleet_renew_bg h1
fleet_wait h1 30
[ "$FLEET_RC" -eq 2 ] || fail "renew on h1 after the kill exited $FLEET_RC, expected 2: $(tail -5 "$IT_TMP/h1.err")"
[ "$(fleet_issued)" -eq "$after" ] || fail "h1's second renew issued certificates"
i=1
while [ "$i" -le "$N" ]; do
	eval "old=\"\$old_$i\""
	fleet_expect_same_new "k$i.certo.test" "$old" h1 h2 h3
	i=$((i + 1))
done
[ -z "$(fleet_redis_cli --scan --pattern 'certo:lock:*')" ] ||
	fail "store locks left: $(fleet_redis_cli --scan --pattern 'certo:lock:*' | tr '\n' ' ')"
it_pass
