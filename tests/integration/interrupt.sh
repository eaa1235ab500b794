#!/bin/sh
# interrupt: Ctrl-C while certo waits for a DNS-01 record. certo must exit
# 130, run the hook's "del" for what it added (challenge state removed on
# every exit path), and leave no files under live/ and no temp files.
. "$(dirname "$0")/lib.sh"
it_init interrupt
it_start_pebble

HOOKLOG="$IT_TMP/hook.log"
HOOK="$IT_TMP/hook.sh"
cat >"$HOOK" <<HOOKEOF
#!/bin/sh
# Records its calls, publishes nothing: certo keeps waiting. "del" takes
# a second, so a second Ctrl-C can arrive while it runs.
echo "\$*" >>"$HOOKLOG"
if [ "\$1" = del ]; then
	sleep 1
	echo "del-done" >>"$HOOKLOG"
fi
HOOKEOF
chmod +x "$HOOK"

timeout -k 5 60 "$CERTO" issue --server "$PEBBLE_DIR_URL" \
	--ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_STATE" --agree-tos \
	-d int.certo.test --challenge dns-01 --dns-hook "$HOOK" \
	--dns-resolver "127.0.0.1:$((IT_BASEPORT + 2))" --dns-timeout 50 \
	>"$IT_OUT" 2>"$IT_ERR" </dev/null &
pid=$!
n=100
while ! grep -q '^add ' "$HOOKLOG" 2>/dev/null; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the hook's add never ran: $(cat "$IT_ERR")"
	sleep 0.1
done
sleep 0.5
kill -INT "$pid"
# While "del" runs, Ctrl-C again to the whole process group (timeout(1)
# made its own group), as a terminal would: the removal must survive.
n=100
while ! grep -q '^del ' "$HOOKLOG" 2>/dev/null; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the hook's del never started after SIGINT"
	sleep 0.05
done
kill -INT "-$pid" || fail "could not signal the process group"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || fail "expected exit 130 after SIGINT, got $rc: $(cat "$IT_ERR")"
grep -q '^del dns-01 int.certo.test _acme-challenge.int.certo.test ' "$HOOKLOG" ||
	fail "the hook's del did not run after SIGINT: $(cat "$HOOKLOG")"
grep -q '^del-done$' "$HOOKLOG" ||
	fail "the del hook was killed by the second Ctrl-C: $(cat "$IT_ERR")"
[ "$(grep -c '^add ' "$HOOKLOG")" -eq "$(grep -c '^del ' "$HOOKLOG")" ] ||
	fail "adds and dels do not match: $(cat "$HOOKLOG")"
grep -q 'interrupted' "$IT_ERR" || fail "stderr does not say interrupted: $(cat "$IT_ERR")"
it_expect_no_live
it_expect_no_tmp
# The order was saved for resume; its key is private.
ls "$IT_STATE"/orders/*/privkey.pem >/dev/null 2>&1 ||
	fail "no saved order to resume after the interruption"
for k in "$IT_STATE"/orders/*/privkey.pem; do
	it_expect_mode "$k" 600
done
it_pass
