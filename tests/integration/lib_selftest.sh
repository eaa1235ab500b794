#!/bin/sh
# lib_selftest: proves that lib.sh's checks can fail. lego (not certo)
# gets a real certificate from Pebble; it is laid out as certo's state dir,
# must pass it_check_issued, and each broken variant must fail it.
# Skipped when lego is not installed.
IT_NO_CERTO=1
. "$(dirname "$0")/lib.sh"
it_init lib_selftest
command -v lego >/dev/null 2>&1 || it_skip "lego not installed"
it_start_pebble

LEGO_CA_CERTIFICATES=$PEBBLE_CA_BUNDLE
export LEGO_CA_CERTIFICATES
lego --server "$PEBBLE_DIR_URL" --accept-tos --email t@example.com \
	-d s1.certo.test -d s2.certo.test --http --http.port "127.0.0.1:$IT_HTTP_PORT" \
	--path "$IT_TMP/lego" run >"$IT_TMP/lego.log" 2>&1 ||
	fail "lego could not get a certificate: $(tail -n 3 "$IT_TMP/lego.log")"
src="$IT_TMP/lego/certificates"

# make_state: a fresh, correct certo-style state dir from lego's files.
make_state() {
	rm -rf "$IT_STATE"
	mkdir -p "$IT_STATE/live/s1.certo.test" "$IT_ACCOUNT_DIR"
	chmod 700 "$IT_STATE" "$IT_STATE/live" "$IT_STATE/live/s1.certo.test" \
		"$IT_STATE/accounts" "$IT_ACCOUNT_DIR"
	l="$IT_STATE/live/s1.certo.test"
	cp "$src/s1.certo.test.crt" "$l/fullchain.pem"
	awk '/BEGIN CERT/ { n++ } n == 1' "$src/s1.certo.test.crt" >"$l/cert.pem"
	cp "$src/s1.certo.test.issuer.crt" "$l/chain.pem"
	(umask 077 && cp "$src/s1.certo.test.key" "$l/privkey.pem")
	(umask 077 && echo '{"version": 1, "names": ["s1.certo.test", "s2.certo.test"]}' >"$l/certo.json")
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$IT_ACCOUNT_DIR/account.key" 2>/dev/null)
	echo "{\"url\": \"https://localhost:$IT_BASEPORT/my-account/1\"}" >"$IT_ACCOUNT_DIR/account.json"
}

# must_fail WHAT SHELL-CODE [SAN...]: after SHELL-CODE breaks the state
# dir, the full check (expecting SAN..., default s1 and s2) must fail.
must_fail() {
	_what=$1
	_code=$2
	shift 2
	[ $# -gt 0 ] || set -- s1.certo.test s2.certo.test
	make_state
	eval "$_code"
	if (it_check_issued s1.certo.test "$@") >"$IT_TMP/neg.log" 2>&1; then
		fail "the checks accepted a broken result: $_what"
	fi
	it_log "ok, rejected ($_what): $(grep -m 1 '^FAIL' "$IT_TMP/neg.log")"
}

make_state
(it_check_issued s1.certo.test s1.certo.test s2.certo.test) >"$IT_TMP/pos.log" 2>&1 ||
	fail "the checks rejected lego's correct result: $(cat "$IT_TMP/pos.log")"
it_log "ok: correct layout accepted"
[ "$(it_cert_sans "$l/cert.pem" | tr '\n' ' ')" = "DNS:s1.certo.test DNS:s2.certo.test " ] ||
	fail "it_cert_sans parsed [$(it_cert_sans "$l/cert.pem" | tr '\n' ' ')]"

must_fail "SAN missing" ':' s1.certo.test
must_fail "SAN extra" ':' s1.certo.test s2.certo.test s3.certo.test
must_fail "wrong private key" 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$l/privkey.pem" 2>/dev/null; chmod 600 "$l/privkey.pem"'
must_fail "privkey mode 0644" 'chmod 644 "$l/privkey.pem"'
must_fail "no certo.json" 'rm "$l/certo.json"'
must_fail "certo.json names differ" 'echo "{\"names\": [\"s1.certo.test\"]}" >"$l/certo.json"'
must_fail "account.key mode 0640" 'chmod 640 "$IT_ACCOUNT_DIR/account.key"'
must_fail "live dir mode 0755" 'chmod 755 "$l"'
must_fail "state dir mode 0711" 'chmod 711 "$IT_STATE"'
must_fail "temp file left" ': >"$IT_STATE/accounts/account.json.tmp.1234"'
must_fail "extra file in live dir" ': >"$l/cert.pem.bak"; chmod 600 "$l/cert.pem.bak"'
must_fail "cert.pem is the full chain" 'cp "$l/fullchain.pem" "$l/cert.pem"'
must_fail "chain.pem is the root" 'cp "$IT_ROOT" "$l/chain.pem"; cat "$l/cert.pem" "$IT_ROOT" >"$l/fullchain.pem"'
must_fail "fullchain in the wrong order" 'cat "$l/chain.pem" "$l/cert.pem" >"$l/fullchain.pem"'
must_fail "fullchain misses the chain" 'cp "$l/cert.pem" "$l/fullchain.pem"'
must_fail "cert from another CA" 'cp "$IT_PEBBLE_DIR/tls/cert.pem" "$l/cert.pem"; cp "$IT_PEBBLE_DIR/tls/key.pem" "$l/privkey.pem"; chmod 600 "$l/privkey.pem"; cat "$l/cert.pem" "$l/chain.pem" >"$l/fullchain.pem"'
must_fail "no account.json URL" 'echo "{}" >"$IT_ACCOUNT_DIR/account.json"'
must_fail "group-writable cert" 'chmod 664 "$l/cert.pem"'
it_pass
