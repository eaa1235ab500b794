#!/bin/sh
# fleet_seal: private keys in the store are sealed, and the store being
# away never costs a live set.
#  - after `issue --store`: no PEM private key anywhere in Redis (every
#    key dumped), the set's and the account's keys and the set's
#    certo.json are certo-seal:1: blobs; a store key file readable by
#    others is refused;
#  - certo --store without --store-key (nor CERTO_STORE_KEY) refuses
#    (exit 1, names --store-key), nothing written;
#  - another key file: renew on a new host says the key was sealed with
#    another store key file, exits 1, brings nothing in;
#  - a sealed key moved to another set's record does not open;
#  - an order in flight (certo authorize on h1) is resumed by h2;
#  - certo delete on a host without the set removes it from the store;
#  - certo account rollover on one host reaches the others;
#  - a rate limit remembered in the store stops another host's order;
#  - Redis stopped in the middle of a renew (by the first renewal's
#    deploy hook): the second certificate fails naming the store (exit
#    1), its live set untouched, one certificate issued;
#  - Redis away from the start: renew and issue fail naming the store
#    (exit 8); Pebble issues nothing, the live sets are byte for byte
#    the same.
. "$(dirname "$0")/lib.sh"
it_init fleet_seal
. "$IT_DIR/fleet_lib.sh"
fleet_setup

for n in 1 2 3 4; do
	fleet_issue_due h1 "s$n.certo.test"
done

# No private key in clear in the store.
dump="$IT_TMP/dump.txt"
: >"$dump"
for k in $(fleet_redis_cli --scan --pattern '*'); do
	case "$(fleet_redis_cli type "$k")" in
	hash) fleet_redis_cli hgetall "$k" >>"$dump" ;;
	string) fleet_redis_cli get "$k" >>"$dump" ;;
	esac
done
[ -s "$dump" ] || fail "nothing in the store"
grep -q "PRIVATE KEY" "$dump" && fail "a PEM private key is in the store in clear"
grep -q "BEGIN CERTIFICATE" "$dump" || fail "the certificates are not in the store"
case "$(fleet_redis_cli hget certo:set:s1.certo.test key)" in
certo-seal:1:*) ;;
*) fail "the set's key in the store is not a sealed blob" ;;
esac
# certo.json (it names the hooks renew runs) is sealed too.
case "$(fleet_redis_cli hget certo:set:s1.certo.test config)" in
certo-seal:1:*) ;;
*) fail "the set's certo.json in the store is not a sealed blob" ;;
esac
grep -q '"names"' "$dump" && fail "a certo.json is in the store in clear"
acct=$(fleet_redis_cli --scan --pattern 'certo:account:*' | head -1)
[ -n "$acct" ] || fail "no account in the store"
case "$(fleet_redis_cli hget "$acct" key)" in
certo-seal:1:*) ;;
*) fail "the account key in the store is not a sealed blob" ;;
esac

# A key file others can read is refused.
cp "$FLEET_KEY" "$IT_TMP/open.key" && chmod 644 "$IT_TMP/open.key"
it_certo --store "$FLEET_STORE" renew --store-key "$IT_TMP/open.key" --state-dir "$IT_TMP/h2"
[ "$IT_RC" -ne 0 ] && [ "$IT_RC" -ne 2 ] || fail "a store key readable by others was accepted (exit $IT_RC)"
[ -d "$IT_TMP/h2/live" ] && fail "h2 got sets with a refused key file"

# No key file at all.
unset CERTO_STORE_KEY
it_certo --store "$FLEET_STORE" renew --state-dir "$IT_TMP/h2"
it_expect_rc 1 "renew --store without --store-key"
it_expect_err_contains "--store-key"
[ -d "$IT_TMP/h2/live" ] && fail "h2 got sets without a key file"

# Another key file.
head -c 32 /dev/urandom >"$IT_TMP/other.key" && chmod 600 "$IT_TMP/other.key"
it_certo --store "$FLEET_STORE" renew --store-key "$IT_TMP/other.key" --state-dir "$IT_TMP/h2"
it_expect_rc 1 "renew with another store key"
it_expect_err_contains "sealed with another store key file"
[ -n "$(ls "$IT_TMP/h2/live" 2>/dev/null)" ] && fail "h2 brought a set in with the wrong key"

# A sealed key moved to another record does not open.
fleet_redis_cli hset certo:set:s2.certo.test key \
	"$(fleet_redis_cli hget certo:set:s1.certo.test key)" >/dev/null
it_certo --store "$FLEET_STORE" renew --store-key "$FLEET_KEY" --state-dir "$IT_TMP/h3" \
	--name s1.certo.test
it_expect_rc 1 "renew with a moved sealed key"
it_expect_err_contains "altered, or moved from another record"
[ -f "$IT_TMP/h3/live/s1.certo.test/cert.pem" ] || fail "h3 did not bring in the intact set"
[ -e "$IT_TMP/h3/live/s2.certo.test" ] && fail "h3 brought in the set with the moved key"

# An order in flight is in the store: h1 authorizes (the order is saved,
# its key sealed), h2 issues the same name and resumes that very order.
common="--store-key $FLEET_KEY --server $PEBBLE_DIR_URL --ca-bundle $PEBBLE_CA_BUNDLE --agree-tos --email test@example.com --responder $FLEET_SOCK -d o1.certo.test"
# shellcheck disable=SC2086
it_certo --store "$FLEET_STORE" authorize --state-dir "$IT_TMP/h1" $common
it_expect_rc 0 "authorize o1 on h1"
url=$(sed -n 's/^order: \([^ ]*\) .*/\1/p' "$IT_OUT" | head -1)
[ -n "$url" ] || fail "authorize printed no order URL"
case "$(fleet_redis_cli hget "$(fleet_redis_cli --scan --pattern 'certo:order:*' | head -1)" key)" in
certo-seal:1:*) ;;
*) fail "the saved order's key is not sealed in the store" ;;
esac
# shellcheck disable=SC2086
it_certo --store "$FLEET_STORE" issue --state-dir "$IT_TMP/h2" $common
it_expect_rc 0 "issue o1 on h2"
it_expect_out_contains "resuming the order another host saved in the store"
grep -qF "order: resuming $url " "$IT_OUT" || fail "h2 did not resume h1's order $url"
[ -z "$(fleet_redis_cli --scan --pattern 'certo:order:*')" ] ||
	fail "the order stayed in the store after its certificate was stored"

# certo delete on a host that never had the set: gone from the store.
it_certo --store "$FLEET_STORE" delete --store-key "$FLEET_KEY" --state-dir "$IT_TMP/h3" o1.certo.test
it_expect_rc 0 "delete o1 on h3"
[ "$(fleet_redis_cli exists certo:set:o1.certo.test)" = 0 ] ||
	fail "delete left the set in the store"
[ -z "$(fleet_redis_cli hget certo:sets o1.certo.test)" ] ||
	fail "delete left the set in the store's index"
[ -e "$IT_TMP/h3/live/o1.certo.test" ] && fail "delete left h3's copy"

# certo account rollover on h1: h2 (which has the old key) takes the new
# one from the store at its next run, and the CA accepts it.
it_certo --store "$FLEET_STORE" account rollover --store-key "$FLEET_KEY" \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_TMP/h1"
it_expect_rc 0 "account rollover on h1"
# shellcheck disable=SC2086
it_certo --store "$FLEET_STORE" issue --state-dir "$IT_TMP/h2" \
	$(echo "$common" | sed 's/o1\.certo\.test/o2.certo.test/')
it_expect_rc 0 "issue on h2 after a rollover on h1"
it_expect_out_contains "key replaced (rolled over on another host)"
k1=$(openssl pkey -pubout -in "$IT_TMP"/h1/accounts/*/account.key)
k2=$(openssl pkey -pubout -in "$IT_TMP"/h2/accounts/*/account.key)
[ -n "$k1" ] && [ "$k1" = "$k2" ] || fail "h2's account key is not h1's new one"

# Rate-limit memory is the fleet's: a limit in the store stops h3 before
# it asks the CA for an order of those names.
ca=$(basename "$(ls -d "$IT_TMP"/h1/accounts/*)")
until=$(($(date +%s) + 3600))
fleet_redis_cli set "certo:ratelimit:$ca" \
	"{\"limits\":[{\"scope\":\"order\",\"until\":$until,\"why\":\"fleet test\",\"names\":[\"r1.certo.test\"]}]}" >/dev/null
orders=$(grep -c "POST /order-plz" "$IT_PEBBLE_DIR/pebble.log")
# shellcheck disable=SC2086
it_certo --store "$FLEET_STORE" issue --state-dir "$IT_TMP/h3" \
	$(echo "$common" | sed 's/o1\.certo\.test/r1.certo.test/')
it_expect_rc 2 "issue of a name the store remembers as rate-limited"
it_expect_err_contains "rate-limited"
[ "$(grep -c "POST /order-plz" "$IT_PEBBLE_DIR/pebble.log")" -eq "$orders" ] ||
	fail "h3 asked the CA for an order of a rate-limited name"
# Cleared on another host (certo ratelimit --clear): h3 forgets it too.
it_certo --store "$FLEET_STORE" ratelimit --clear --state-dir "$IT_TMP/h1" \
	--server "$PEBBLE_DIR_URL"
it_expect_rc 0 "ratelimit --clear on h1"
[ "$(fleet_redis_cli exists "certo:ratelimit:$ca")" = 0 ] ||
	fail "ratelimit --clear left the memory in the store"
it_certo --store "$FLEET_STORE" ratelimit --state-dir "$IT_TMP/h3" --server "$PEBBLE_DIR_URL"
it_expect_rc 0 "ratelimit on h3"
grep -q "r1.certo.test" "$IT_OUT" && fail "h3 still remembers the limit cleared on h1"

# The store stops during a renew (the first renewal's deploy hook stops
# it and waits until it no longer answers): the second certificate fails
# naming the store, its set untouched.
export CERTO_STORE_WAIT=1
issued=$(fleet_issued)
sum3=$(it_tree_digest "$IT_TMP/h1/live/s3.certo.test")
sum4=$(it_tree_digest "$IT_TMP/h1/live/s4.certo.test")
it_certo --store "$FLEET_STORE" renew --store-key "$FLEET_KEY" --state-dir "$IT_TMP/h1" \
	--name s3.certo.test --name s4.certo.test --jobs 1 \
	--deploy-hook "kill $FLEET_REDIS_PID; n=0; while [ \"\$(redis-cli -p $FLEET_REDIS_PORT ping 2>/dev/null)\" = PONG ] && [ \$n -lt 100 ]; do sleep 0.05; n=\$((n + 1)); done"
it_expect_rc 1 "renew with the store stopped in the middle"
it_expect_err_contains "127.0.0.1:$FLEET_REDIS_PORT"
[ "$(fleet_issued)" -eq $((issued + 1)) ] ||
	fail "Pebble issued $(($(fleet_issued) - issued)) certificates, expected 1 before the store stopped"
if [ "$(it_tree_digest "$IT_TMP/h1/live/s3.certo.test")" = "$sum3" ]; then
	untouched=$IT_TMP/h1/live/s3.certo.test
	[ "$(it_tree_digest "$IT_TMP/h1/live/s4.certo.test")" != "$sum4" ] ||
		fail "neither s3 nor s4 was renewed before the store stopped"
else
	untouched=$IT_TMP/h1/live/s4.certo.test
	[ "$(it_tree_digest "$untouched")" = "$sum4" ] ||
		fail "both s3 and s4 changed though the store stopped after the first"
fi
it_expect_key_matches "$untouched/privkey.pem" "$untouched/cert.pem"
wait "$FLEET_REDIS_PID" 2>/dev/null

# The store away from the start: nothing live changes, nothing issued.
sum_before=$(it_tree_digest "$IT_TMP/h1/live")
issued=$(fleet_issued)
it_certo --store "$FLEET_STORE" renew --store-key "$FLEET_KEY" --state-dir "$IT_TMP/h1"
it_expect_rc 8 "renew with the store down"
it_expect_err_contains "127.0.0.1:$FLEET_REDIS_PORT"
it_certo --store "$FLEET_STORE" issue --store-key "$FLEET_KEY" --server "$PEBBLE_DIR_URL" \
	--ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_TMP/h1" --agree-tos \
	--email test@example.com --responder "$FLEET_SOCK" -d s3.certo.test
it_expect_rc 8 "issue with the store down"
it_expect_err_contains "127.0.0.1:$FLEET_REDIS_PORT"
[ "$(it_tree_digest "$IT_TMP/h1/live")" = "$sum_before" ] ||
	fail "the live sets changed while the store was down"
[ "$(fleet_issued)" -eq "$issued" ] || fail "Pebble issued certificates while the store was down"
it_pass
