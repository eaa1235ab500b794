#!/bin/sh
# lifecycle_extra: bring-your-own CSR and key (and renew keeping them),
# authorize + deactivate-authz, an account key type the CA refuses
# (exit 2, no key left behind), the saved rate-limit deadline (certo does
# not ask the CA again), and renew --loop's signals (HUP re-reads, TERM
# exits 0).
. "$(dirname "$0")/lib.sh"
it_init lifecycle_extra
it_start_pebble

pub() { openssl pkey -in "$1" -pubout 2>/dev/null; }
certpub() { openssl x509 -in "$1" -pubkey -noout 2>/dev/null; }

# --csr with --key: names from the CSR, the user's key, kept on renew.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
	-keyout "$IT_TMP/k.pem" -subj /CN=csr1.certo.test \
	-addext "subjectAltName=DNS:csr1.certo.test,DNS:csr2.certo.test" \
	-out "$IT_TMP/r.csr" 2>/dev/null || fail "openssl req failed"
chmod 600 "$IT_TMP/k.pem"
it_issue --csr "$IT_TMP/r.csr" --key "$IT_TMP/k.pem"
it_expect_rc 0 "issue --csr --key"
it_check_issued csr1.certo.test csr1.certo.test csr2.certo.test
[ "$(pub "$IT_TMP/k.pem")" = "$(certpub "$IT_STATE/live/csr1.certo.test/cert.pem")" ] ||
	fail "the certificate is not for the CSR's key"
it_certo renew --state-dir "$IT_STATE" --force --name csr1.certo.test
it_expect_rc 0 "renew of a --csr certificate"
[ "$(pub "$IT_TMP/k.pem")" = "$(certpub "$IT_STATE/live/csr1.certo.test/cert.pem")" ] ||
	fail "renew replaced the user's key"

# --csr alone: the certificate is stored, no privkey.pem (the user has it).
it_issue --csr "$IT_TMP/r.csr" -d extra.certo.test
it_expect_rc 1 "--csr with -d"
it_expect_err_contains "names come from the CSR"
rm -rf "$IT_STATE/live/csr1.certo.test"
it_issue --csr "$IT_TMP/r.csr"
it_expect_rc 0 "issue --csr alone"
[ ! -e "$IT_STATE/live/csr1.certo.test/privkey.pem" ] || fail "privkey.pem written without a key"
[ -s "$IT_STATE/live/csr1.certo.test/fullchain.pem" ] || fail "no fullchain.pem"

# --key alone.
it_issue -d k1.certo.test --key "$IT_TMP/k.pem"
it_expect_rc 0 "issue --key"
[ "$(pub "$IT_TMP/k.pem")" = "$(certpub "$IT_STATE/live/k1.certo.test/cert.pem")" ] ||
	fail "--key was not used"

# authorize, then deactivate the saved authorization by name.
it_certo authorize --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --standalone --http-port "$IT_HTTP_PORT" \
	--http-addr 127.0.0.1 -d az.certo.test
it_expect_rc 0 "authorize"
it_expect_out_contains "az.certo.test valid"
ls "$IT_STATE"/authz/*/az.certo.test.json >/dev/null 2>&1 || fail "authorization not saved"
it_certo deactivate-authz --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" az.certo.test
it_expect_rc 0 "deactivate-authz"
it_expect_out_contains "deactivated"

# An account key type the CA refuses: exit 2, nothing left behind.
S2="$IT_TMP/state2"
it_certo issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$S2" --standalone --http-port "$IT_HTTP_PORT" \
	--http-addr 127.0.0.1 --agree-tos -d ed.certo.test --account-key-type ed25519
if [ "$IT_RC" -eq 0 ]; then
	it_log "note: this CA accepts Ed25519 account keys"
	head -1 "$S2"/accounts/*/account.key | grep -q "PRIVATE KEY" || fail "no account key"
else
	it_expect_rc 2 "Ed25519 account refused by the CA"
	it_expect_err_contains "badPublicKey"
	[ -z "$(ls "$S2"/accounts/*/account.key 2>/dev/null)" ] ||
		fail "the refused account key was left behind"
fi

# A saved rate-limit deadline: certo does not contact the CA before it.
ca_id=localhost_$IT_BASEPORT
mkdir -p "$IT_STATE/ratelimits"
echo "{\"until\": $(($(date +%s) + 3600))}" >"$IT_STATE/ratelimits/$ca_id.json"
orders_before=$(grep -c "POST /order-plz" "$IT_PEBBLE_DIR/pebble.log" || true)
[ "$orders_before" -gt 0 ] || fail "no newOrder (POST /order-plz) found in Pebble's log: the check below would prove nothing"
it_issue -d rl.certo.test
it_expect_rc 2 "rate-limited"
it_expect_err_contains "rate-limited"
orders_after=$(grep -c "POST /order-plz" "$IT_PEBBLE_DIR/pebble.log" || true)
[ "$orders_before" = "$orders_after" ] || fail "certo asked the CA despite the saved deadline"
rm "$IT_STATE/ratelimits/$ca_id.json"

# renew --loop: nothing due; HUP re-reads, TERM exits 0.
"$CERTO" --json renew --state-dir "$IT_STATE" --loop >"$IT_TMP/loop.out" 2>"$IT_TMP/loop.err" &
lpid=$!
n=100
while ! grep -q '"event":"renew_sleep"' "$IT_TMP/loop.out" 2>/dev/null; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "renew --loop never went to sleep: $(cat "$IT_TMP/loop.err")"
	sleep 0.1
done
kill -HUP "$lpid"
n=100
while [ "$(grep -c '"event":"renew_sleep"' "$IT_TMP/loop.out")" -lt 2 ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "SIGHUP did not start a new pass: $(cat "$IT_TMP/loop.out")"
	sleep 0.1
done
grep -q '"event":"renew_reload"' "$IT_TMP/loop.out" || fail "no renew_reload event"
kill -TERM "$lpid"
wait "$lpid"
lrc=$?
[ "$lrc" -eq 0 ] || fail "renew --loop exited $lrc on SIGTERM"
it_pass
