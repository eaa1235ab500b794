#!/bin/sh
# habits_cli: command-line habits people bring from certbot/lego (issue 14).
#  - -d a,b (certbot's commas): one certificate for both names, against
#    Pebble; an empty piece ("a,,b") is a usage error;
#  - an unknown --server NAME lists the known CA names (exit 1);
#  - an unknown option suggests the nearest known one (--stand-alone,
#    -standalone), an ambiguous abbreviation lists the candidates;
#  - the bash completion offers for --key-type only what issue accepts
#    (no ed25519), and ed25519 for --account-key-type; an offered type
#    really issues at Pebble;
#  - a control socket certo may not open (--responder, EACCES) is a local
#    problem, exit 4, not a network one (exit 3). As root the run drops to
#    nobody with setpriv, since root ignores file permissions.
. "$(dirname "$0")/lib.sh"
it_init habits_cli
it_start_pebble

orders() {
	grep -c "POST /order-plz" "$IT_PEBBLE_DIR/pebble.log" || true
}

# -- -d with commas
it_issue -d "c1.certo.test, c2.certo.test"
it_expect_rc 0 "-d 'c1.certo.test, c2.certo.test'"
it_check_issued c1.certo.test c1.certo.test c2.certo.test
it_issue -d "c3.certo.test,,c4.certo.test"
it_expect_rc 1 "-d with an empty piece"
it_expect_err_one_line "-d with an empty piece"
it_expect_err_contains "empty name" "-d with an empty piece"
it_issue -d "c5.certo.test,c5.certo.test"
it_expect_rc 1 "-d with a repeated name"
it_expect_err_contains "duplicate name" "-d with a repeated name"

# -- unknown --server name
it_certo --server letsencrypt-stagign --state-dir "$IT_STATE" list
it_expect_rc 1 "unknown --server name"
it_expect_err_one_line "unknown --server name"
for n in letsencrypt letsencrypt-staging zerossl buypass google sectigo; do
	it_expect_err_contains "$n" "unknown --server name lists $n"
done
it_expect_err_contains "letsencrypt-stagign" "unknown --server name names the culprit"

# -- nearest option
before=$(orders)
it_certo issue --stand-alone -d x.certo.test
it_expect_rc 1 "--stand-alone"
it_expect_err_one_line "--stand-alone"
it_expect_err_contains "did you mean --standalone?" "--stand-alone"
it_certo issue -standalone -d x.certo.test
it_expect_rc 1 "-standalone"
it_expect_err_contains "'-standalone'" "-standalone"
it_expect_err_contains "did you mean --standalone?" "-standalone"
it_certo --stat-dir "$IT_STATE" list
it_expect_rc 1 "--stat-dir"
it_expect_err_contains "did you mean --state-dir?" "--stat-dir"
it_certo issue --dns -d x.certo.test
it_expect_rc 1 "--dns (ambiguous)"
it_expect_err_contains "ambiguous" "--dns"
it_expect_err_contains "--dns-hook" "--dns"
it_certo issue --frobnicate-everything -d x.certo.test
it_expect_rc 1 "--frobnicate-everything"
it_expect_err_contains "see certo --help" "an option nothing is near"
grep -q "did you mean" "$IT_ERR" && fail "--frobnicate-everything: a suggestion for a word nothing is near"
[ "$(orders)" = "$before" ] || fail "a usage error sent an order to the CA"

# -- completion: --key-type offers what issue takes, nothing else
COMPL="$IT_SRCROOT/scripts/completion/certo.bash"
command -v bash >/dev/null 2>&1 || it_skip "bash is needed for the completion check"
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@" ""); COMP_CWORD=$#; _certo; echo "${COMPREPLY[*]}"' \
		sh "$COMPL" "$@"
}
kt=$(complete_words certo issue --key-type)
akt=$(complete_words certo account register --account-key-type)
[ -n "$kt" ] || fail "completion offers nothing for --key-type"
case " $kt " in *" ed25519 "*) fail "completion offers ed25519 for --key-type: $kt" ;; esac
case " $akt " in *" ed25519 "*) ;; *) fail "completion does not offer ed25519 for --account-key-type: $akt" ;; esac
for w in $kt; do
	it_certo issue --state-dir "$IT_STATE" -d kt.certo.test --key-type "$w"
	it_expect_rc 1 "issue --key-type $w (no challenge mode)"
	grep -q "unknown key type" "$IT_ERR" && fail "completion offers --key-type $w, which issue refuses"
	it_expect_err_contains "a way to answer challenges" "issue --key-type $w"
done
it_certo issue --state-dir "$IT_STATE" -d kt.certo.test --key-type ed25519 --standalone
it_expect_rc 1 "issue --key-type ed25519"
it_expect_err_contains "unknown key type" "issue --key-type ed25519"
it_issue -d kt.certo.test --key-type ec-384
it_expect_rc 0 "issue --key-type ec-384 (offered by the completion)"
it_check_issued kt.certo.test kt.certo.test
openssl x509 -in "$IT_STATE/live/kt.certo.test/cert.pem" -noout -text | grep -q "P-384\|secp384r1" ||
	fail "--key-type ec-384 did not give a P-384 certificate"

# -- control socket without permission: exit 4
SOCKDIR="$IT_TMP/sock"
mkdir -p "$SOCKDIR" && chmod 755 "$SOCKDIR"
"$IT_PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
	"$SOCKDIR/ctl.sock" || fail "could not make a unix socket"
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null 2>&1 || it_skip "root without setpriv: cannot test EACCES"
	chmod 600 "$SOCKDIR/ctl.sock"
	chmod 711 "$IT_TMP"
	NSTATE="$IT_TMP/nobody-state"
	mkdir -p "$NSTATE" && chown 65534:65534 "$NSTATE" && chmod 700 "$NSTATE"
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
	chmod 000 "$SOCKDIR/ctl.sock"
	NSTATE="$IT_TMP/nstate"
	AS=""
fi
IT_LAST_CMD=" $AS certo issue --responder $SOCKDIR/ctl.sock"
# shellcheck disable=SC2086 # AS is a word list
timeout -k 5 40 $AS "$CERTO" issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$NSTATE" --responder "$SOCKDIR/ctl.sock" -d sock.certo.test \
	--agree-tos >"$IT_OUT" 2>"$IT_ERR" </dev/null
IT_RC=$?
it_expect_rc 4 "--responder socket without permission"
it_expect_err_one_line "--responder socket without permission"
it_expect_err_contains "permission" "--responder socket without permission"
it_expect_err_contains "$SOCKDIR/ctl.sock" "--responder socket without permission"
it_pass
