#!/bin/sh
# ca_clear_answers: answers a user can act on (issue 9, item 12).
# Through tests/integration/standin_ca.py:
#  (a) scenario deactivated: after a first issuance (which made the
#      account), every POST signed with the account URL answers 401
#      urn:ietf:params:acme:error:unauthorized 'Account is not valid, has
#      status "deactivated"' (RFC 8555 7.3.6). Expected: exit 2 after a
#      few requests, the message says the account is deactivated and how
#      to get a new one (certo account register, or removing the account).
#  (b) issue --must-staple: Pebble 2.4 ignores the TLS Feature extension
#      of the CSR (checked here: certo's CSR has it, the certificate has
#      not), so the stand-in passes everything through. Expected: exit 0
#      (the certificate is usable) and a warning that the certificate lacks
#      must-staple / the TLS Feature extension.
# Each: no temp files, nothing written outside the state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_clear_answers
PEBBLE_WFE_NONCEREJECT=0 it_start_pebble
it_start_standin pass
it_outside_begin
CERTO_IT_RUN_TIMEOUT=30

if it_case a; then
	it_si_set '{"scenario": "pass"}'
	it_si_issue -d da-1.certo.test
	it_expect_rc 0 "first issuance (makes the account)"
	it_si_set '{"scenario": "deactivated"}'
	seq=$(it_si_seq)
	it_si_issue -d da-2.certo.test
	refused=$(it_si_count "e[\"n\"] > $seq and e.get(\"status\") == 401")
	it_log "deactivated account: exit $IT_RC after ${IT_ELAPSED}s, $refused requests answered 401"
	it_expect_rc 2 "the account is deactivated"
	it_expect_err_certo_line "the account is deactivated"
	[ "$refused" -ge 1 ] || fail "the deactivated account was never used"
	[ "$refused" -lt 5 ] || fail "certo sent $refused requests with the deactivated account"
	it_expect_msg_contains "deactivated" "deactivated account"
	it_expect_msg_contains "account" "deactivated account"
	it_err_msg | grep -qiE 'account register|regist|remov|delete' ||
		fail "the message [$(it_err_msg)] does not say how to get a new account (certo account register, or removing the old one)"
	[ ! -e "$IT_STATE/live/da-2.certo.test" ] || fail "live/da-2.certo.test exists"
	it_expect_no_tmp
	it_expect_nothing_outside "deactivated account"
fi

if it_case b; then
	it_si_set '{"scenario": "pass"}'
	seq=$(it_si_seq)
	it_si_issue -d ms.certo.test --must-staple
	it_expect_rc 0 "--must-staple, the CA ignores it"
	L="$IT_STATE/live/ms.certo.test"
	it_expect_verifies "$L/cert.pem" "$L/chain.pem"
	it_expect_key_matches "$L/privkey.pem" "$L/cert.pem"
	# certo asked: its CSR carries the TLS Feature extension
	# (id-pe-tlsfeature 1.3.6.1.5.5.7.1.24, DER 06 08 2b 06 01 05 05 07 01 18)
	"$IT_PY" - "$SI_LOG" "$seq" <<-'PYEOF' || fail "certo's CSR has no TLS Feature extension although --must-staple was given"
	import base64, json, sys
	seq = int(sys.argv[2])
	for line in open(sys.argv[1]):
	    e = json.loads(line)
	    if e["n"] > seq and e["kind"] == "finalize" and isinstance(e.get("payload"), dict):
	        csr = e["payload"]["csr"]
	        der = base64.urlsafe_b64decode(csr + "=" * (-len(csr) % 4))
	        sys.exit(0 if bytes.fromhex("06082b060105050701 18".replace(" ", "")) in der else 1)
	sys.exit(1)
	PYEOF
	# the CA did not honour it (else this case tests nothing)
	if openssl x509 -in "$L/cert.pem" -noout -text | grep -qiE 'TLS Feature|1\.3\.6\.1\.5\.5\.7\.1\.24'; then
		it_skip "this Pebble honours must-staple; the stand-in cannot strip it (it cannot sign)"
	fi
	grep -qiE 'must-staple|must staple|TLS Feature' "$IT_ERR" ||
		fail "no warning that the certificate lacks the TLS Feature (must-staple) extension"
	it_expect_no_ctl_bytes "$IT_ERR" "must-staple"
	it_expect_private_modes
	it_expect_no_tmp
	it_expect_nothing_outside "must-staple"
fi
it_pass
