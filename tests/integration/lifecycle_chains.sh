#!/bin/sh
# lifecycle_chains: --preferred-chain against Pebble with two alternate
# roots (PEBBLE_ALTERNATE_ROOTS=2: roots 0, 1, 2 from the management API's
# /roots/N; the certificate URL offers the default chain to root 0 and
# Link rel="alternate" chains to roots 1 and 2) and three intermediates per
# chain (PEBBLE_CHAIN_LENGTH=3).
#  - no flag: the default chain (top certificate issued by root 0);
#  - --preferred-chain "<CN of root N>": chain.pem's top certificate is
#    issued by that CN, and the chain verifies against root N (and not
#    against root 0);
#  - a name no chain has: the default chain (as certbot does).
. "$(dirname "$0")/lib.sh"
it_init lifecycle_chains
PEBBLE_ALTERNATE_ROOTS=2 PEBBLE_CHAIN_LENGTH=3 it_start_pebble

for n in 0 1 2; do
	curl -sf --max-time 10 --cacert "$PEBBLE_CA_BUNDLE" -o "$IT_TMP/root$n.pem" \
		"$PEBBLE_MGMT_URL/roots/$n" || fail "cannot fetch $PEBBLE_MGMT_URL/roots/$n"
	[ "$(it_cert_count "$IT_TMP/root$n.pem")" -eq 1 ] || fail "/roots/$n is not one PEM certificate"
	eval "ROOT${n}_CN=\$(it_cert_cn \"\$IT_TMP/root$n.pem\" subject)"
done
[ -n "$ROOT0_CN" ] && [ -n "$ROOT1_CN" ] && [ -n "$ROOT2_CN" ] ||
	fail "cannot read the roots' common names"
[ "$ROOT0_CN" != "$ROOT1_CN" ] && [ "$ROOT1_CN" != "$ROOT2_CN" ] && [ "$ROOT0_CN" != "$ROOT2_CN" ] ||
	fail "the roots' common names are not distinct: '$ROOT0_CN' '$ROOT1_CN' '$ROOT2_CN'"
it_log "roots: 0='$ROOT0_CN' 1='$ROOT1_CN' 2='$ROOT2_CN'"

# check_chain LIVENAME N: live/LIVENAME is a good issuance whose chain ends
# at root N: the top certificate of chain.pem is issued by root N's CN, the
# leaf verifies with chain.pem against root N only.
check_chain() {
	_live="$IT_STATE/live/$1"
	eval "_want=\$ROOT$2_CN"
	[ -s "$_live/cert.pem" ] && [ -s "$_live/chain.pem" ] || fail "$1: no cert.pem/chain.pem"
	[ "$(it_cert_count "$_live/cert.pem")" -eq 1 ] || fail "$1: cert.pem is not one certificate"
	it_expect_sans "$_live/cert.pem" "$1"
	it_expect_key_matches "$_live/privkey.pem" "$_live/cert.pem"
	[ "$(it_fingerprints "$_live/fullchain.pem")" = "$(it_fingerprints "$_live/cert.pem"; it_fingerprints "$_live/chain.pem")" ] ||
		fail "$1: fullchain.pem is not cert.pem followed by chain.pem"
	_n=$(it_pem_split "$_live/chain.pem" "$IT_TMP/split-$1")
	[ "$_n" -ge 1 ] || fail "$1: chain.pem holds no certificate"
	_top=$(printf '%s/%04d.pem' "$IT_TMP/split-$1" "$_n")
	_got=$(it_cert_cn "$_top" issuer)
	[ "$_got" = "$_want" ] ||
		fail "$1: chain.pem's top certificate is issued by '$_got', expected '$_want' (root $2)"
	_v=$(openssl verify -CAfile "$IT_TMP/root$2.pem" -untrusted "$_live/chain.pem" "$_live/cert.pem" 2>&1) ||
		fail "$1: openssl verify against root $2 ('$_want') failed: $(echo "$_v" | tr '\n' ' ')"
	for _o in 0 1 2; do
		[ "$_o" = "$2" ] && continue
		openssl verify -CAfile "$IT_TMP/root$_o.pem" -untrusted "$_live/chain.pem" \
			"$_live/cert.pem" >/dev/null 2>&1 &&
			fail "$1: the chain also verifies against root $_o: it is not the chain of root $2 alone"
	done
	it_expect_no_tmp
}

# -- default chain
it_issue -d default.certo.test
it_expect_rc 0 "issue without --preferred-chain"
check_chain default.certo.test 0

# -- each alternate root by its CN
it_issue -d alt1.certo.test --preferred-chain "$ROOT1_CN"
it_expect_rc 0 "issue --preferred-chain '$ROOT1_CN'"
check_chain alt1.certo.test 1

IT_GLOBAL_OPTS=--json it_issue -d alt2.certo.test --preferred-chain "$ROOT2_CN"
it_expect_rc 0 "issue --preferred-chain '$ROOT2_CN'"
check_chain alt2.certo.test 2

# -- the default root asked for by name: still root 0
it_issue -d pref0.certo.test --preferred-chain "$ROOT0_CN"
it_expect_rc 0 "issue --preferred-chain '$ROOT0_CN' (the default chain's root)"
check_chain pref0.certo.test 0

# -- no chain matches: the default chain, still exit 0
it_issue -d nomatch.certo.test --preferred-chain "No Such Root CA"
it_expect_rc 0 "issue --preferred-chain 'No Such Root CA'"
check_chain nomatch.certo.test 0

# The default was not disturbed by the alternates issued in between.
check_chain default.certo.test 0
it_pass
