#!/bin/sh
# habits_certs: what certo says and stores about the certificate (issue 14,
# defects 3, 4, 10):
#  - --csr without --key: the summary names no privkey.pem (none is
#    written), the rest is stored;
#  - a --key that is not the CSR's key is refused before anything is
#    ordered (exit 1; no newOrder in Pebble's log);
#  - --not-after in the past is refused (exit 1, no order);
#  - a certificate whose notAfter precedes its notBefore is not stored:
#    Pebble cannot be made to issue one, so habits_standin.py sits in
#    front of it and replaces the downloaded chain with one the test made
#    (openssl ca -startdate 2030 -enddate 2029, for certo's --key and the
#    ordered name): exit 2, nothing under live/. The same path without the
#    replacement issues normally, so the refusal is the dates' doing.
. "$(dirname "$0")/lib.sh"
it_init habits_certs
"$IT_PY" -c 'import ssl, http.server' 2>/dev/null ||
	it_skip "python3 with ssl is needed for habits_standin.py"
it_start_pebble

orders() {
	grep -c "POST /order-plz" "$IT_PEBBLE_DIR/pebble.log" || true
}
mkkey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ||
		fail "openssl genpkey failed"
	chmod 600 "$1"
}
mkcsr() { # mkcsr KEY OUT NAME...
	_k=$1
	_o=$2
	shift 2
	_san=$(for _n in "$@"; do printf 'DNS:%s,' "$_n"; done)
	openssl req -new -key "$_k" -subj "/CN=$1" -addext "subjectAltName=${_san%,}" \
		-out "$_o" 2>/dev/null || fail "openssl req failed"
}

# -- --csr without --key
mkkey "$IT_TMP/k1.pem"
mkcsr "$IT_TMP/k1.pem" "$IT_TMP/r1.csr" csr1.certo.test
it_issue --csr "$IT_TMP/r1.csr"
it_expect_rc 0 "issue --csr without --key"
[ ! -e "$IT_STATE/live/csr1.certo.test/privkey.pem" ] || fail "privkey.pem written without a key"
[ -s "$IT_STATE/live/csr1.certo.test/fullchain.pem" ] || fail "no fullchain.pem"
grep -q "privkey.pem" "$IT_OUT" && fail "the summary names a privkey.pem that was not written: $(grep privkey "$IT_OUT")"
it_expect_out_contains "private key: none stored" "--csr without --key"
it_expect_out_contains "$IT_STATE/live/csr1.certo.test/fullchain.pem" "--csr without --key"

# -- --key that is not the CSR's key
mkkey "$IT_TMP/other.pem"
mkcsr "$IT_TMP/k1.pem" "$IT_TMP/r2.csr" csr2.certo.test
before=$(orders)
it_issue --csr "$IT_TMP/r2.csr" --key "$IT_TMP/other.pem"
it_expect_rc 1 "--key not matching --csr"
it_expect_err_one_line "--key not matching --csr"
it_expect_err_contains "not the key of the CSR" "--key not matching --csr"
[ "$(orders)" = "$before" ] || fail "a --key not matching --csr was noticed only after ordering"
[ ! -e "$IT_STATE/live/csr2.certo.test" ] || fail "live/csr2.certo.test exists"
# ... and the matching one goes through.
it_issue --csr "$IT_TMP/r2.csr" --key "$IT_TMP/k1.pem"
it_expect_rc 0 "--key matching --csr"
it_expect_key_matches "$IT_STATE/live/csr2.certo.test/privkey.pem" "$IT_STATE/live/csr2.certo.test/cert.pem"
it_expect_out_contains "$IT_STATE/live/csr2.certo.test/privkey.pem" "--csr with --key"

# -- --not-after in the past
before=$(orders)
it_issue -d past.certo.test --not-after 2020-01-01T00:00:00Z
it_expect_rc 1 "--not-after in the past"
it_expect_err_one_line "--not-after in the past"
it_expect_err_contains "not in the future" "--not-after in the past"
it_issue -d past.certo.test --not-after +0s
it_expect_rc 1 "--not-after +0s"
[ "$(orders)" = "$before" ] || fail "a past --not-after reached the CA"
[ ! -e "$IT_STATE/live/past.certo.test" ] || fail "live/past.certo.test exists"

# -- a certificate that is never valid
SI_PORT=$((IT_BASEPORT + 20))
it_port_busy "$SI_PORT" && fail "port $SI_PORT is already in use"
REPL="$IT_TMP/replace.pem"
"$IT_PY" "$IT_DIR/habits_standin.py" --pebble-port "$IT_BASEPORT" \
	--ca-bundle "$PEBBLE_CA_BUNDLE" --tls-cert "$IT_PEBBLE_DIR/tls/cert.pem" \
	--tls-key "$IT_PEBBLE_DIR/tls/key.pem" --port "$SI_PORT" \
	--replace-cert "$REPL" >"$IT_TMP/standin.out" 2>"$IT_TMP/standin.err" </dev/null &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
SI_URL="https://localhost:$SI_PORT/dir"
n=100
until curl -sf --max-time 2 --cacert "$PEBBLE_CA_BUNDLE" -o /dev/null "$SI_URL"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "habits_standin.py did not answer within 10 s: $(tail -n 5 "$IT_TMP/standin.err" | tr '\n' ' ')"
	sleep 0.1
done
si_issue() {
	it_certo issue --server "$SI_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$IT_STATE" --standalone --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 --agree-tos "$@"
}
mkkey "$IT_TMP/k3.pem"
si_issue -d ok.certo.test --key "$IT_TMP/k3.pem"
it_expect_rc 0 "issue through the stand-in, chain not replaced"
it_expect_key_matches "$IT_STATE/live/ok.certo.test/privkey.pem" "$IT_STATE/live/ok.certo.test/cert.pem"

# The replacement: leaf for k3 and inv.certo.test, notBefore 2030 > notAfter 2029.
CA="$IT_TMP/badca"
mkdir -p "$CA" && : >"$CA/index.txt" && echo 01 >"$CA/serial"
cat >"$CA/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $CA/index.txt
new_certs_dir = $CA
serial = $CA/serial
default_md = sha256
policy = p
copy_extensions = copy
[p]
commonName = supplied
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$CA/ca.key" -out "$CA/ca.pem" -days 2 -subj "/CN=habits test CA" 2>/dev/null ||
	fail "openssl: test CA"
mkcsr "$IT_TMP/k3.pem" "$IT_TMP/inv.csr" inv.certo.test
openssl ca -batch -config "$CA/ca.cnf" -cert "$CA/ca.pem" -keyfile "$CA/ca.key" \
	-in "$IT_TMP/inv.csr" -out "$IT_TMP/inv.pem" -notext \
	-startdate 20300101000000Z -enddate 20290101000000Z >"$CA/log" 2>&1 ||
	fail "openssl ca failed: $(tail -n 3 "$CA/log")"
nb=$(date -u -d "$(openssl x509 -in "$IT_TMP/inv.pem" -noout -startdate | sed 's/^notBefore=//')" +%s)
na=$(date -u -d "$(openssl x509 -in "$IT_TMP/inv.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)
[ "$na" -lt "$nb" ] || fail "the test certificate is not inverted ($nb .. $na)"
cat "$IT_TMP/inv.pem" "$CA/ca.pem" >"$REPL"
si_issue -d inv.certo.test --key "$IT_TMP/k3.pem"
it_expect_rc 2 "a certificate whose notAfter precedes its notBefore"
it_expect_err_one_line "inverted validity"
it_expect_err_contains "never valid" "inverted validity"
grep -q "replaced /certZ/" "$IT_TMP/standin.err" || fail "the stand-in did not replace the chain: the check above proves nothing"
[ ! -e "$IT_STATE/live/inv.certo.test" ] || fail "the never-valid certificate was stored under live/"
it_expect_no_tmp
it_pass
