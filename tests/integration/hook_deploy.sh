#!/bin/sh
# hook_deploy: the deploy hook is the user's own command line.
#  - a relative "./deploy.sh one two" given in one directory is stored in
#    certo.json with an absolute path; renew --force from / runs it again;
#  - it runs through /bin/sh -c with the dynamic data only in its
#    environment: CERTO_LIVE_DIR = RENEWED_LINEAGE, CERTO_DOMAINS =
#    RENEWED_DOMAINS (certbot's names), no positional arguments;
#  - a shell command line ('printf ... "$RENEWED_LINEAGE" >>"$OUT"') works;
#  - hook programs that do not exist or cannot be run are refused at once
#    (exit 1, naming the option), before anything is asked of the CA.
. "$(dirname "$0")/lib.sh"
it_init hook_deploy
it_start_pebble

WORK="$IT_TMP/work"
mkdir -p "$WORK"
cat >"$WORK/deploy.sh" <<DEPLOY
#!/bin/sh
{
	echo "args=\$*"
	echo "lineage=\$RENEWED_LINEAGE"
	echo "domains=\$RENEWED_DOMAINS"
	echo "live=\$CERTO_LIVE_DIR"
	echo "cdomains=\$CERTO_DOMAINS"
} >"$IT_TMP/deploy.\$\$"
DEPLOY
chmod +x "$WORK/deploy.sh"
L="$IT_STATE/live/dep.certo.test"
deploy_runs() {
	find "$IT_TMP" -maxdepth 1 -name 'deploy.*' | wc -l
}

cd "$WORK" || fail "cd $WORK"
it_issue -d dep.certo.test -d dep2.certo.test --deploy-hook "./deploy.sh one two"
it_expect_rc 0 "issue with a relative deploy hook"
it_check_issued dep.certo.test dep.certo.test dep2.certo.test
stored=$(it_json_get "$L/certo.json" 'd["deploy_hook"]')
[ "$stored" = "$WORK/deploy.sh one two" ] ||
	fail "certo.json holds deploy_hook \"$stored\", expected \"$WORK/deploy.sh one two\""
[ "$(deploy_runs)" -eq 1 ] || fail "the deploy hook ran $(deploy_runs) times, expected 1"
f=$(find "$IT_TMP" -maxdepth 1 -name 'deploy.*')
for want in "args=one two" "lineage=$L" "live=$L" \
	"domains=dep.certo.test dep2.certo.test" "cdomains=dep.certo.test dep2.certo.test"; do
	grep -qxF "$want" "$f" || fail "deploy hook run lacks '$want': $(tr '\n' ';' <"$f")"
done

cd / || fail "cd /"
it_certo renew --state-dir "$IT_STATE" --force
it_expect_rc 0 "renew --force from another directory"
[ "$(deploy_runs)" -eq 2 ] || fail "after renew the deploy hook ran $(deploy_runs) times, expected 2"

# A shell command line; data only in the environment.
OUT="$IT_TMP/line.out"
export OUT
# shellcheck disable=SC2016 # expanded by certo's /bin/sh -c, not here
it_issue -d line.certo.test --deploy-hook 'printf "%s|%s|%s\n" "$RENEWED_LINEAGE" "$RENEWED_DOMAINS" "$#" >>"$OUT"'
it_expect_rc 0 "issue with a shell command line as deploy hook"
[ "$(cat "$OUT")" = "$IT_STATE/live/line.certo.test|line.certo.test|0" ] ||
	fail "the command line wrote: $(cat "$OUT")"

# Refused at once: missing, not executable, not in PATH.
cd "$WORK" || fail "cd $WORK"
: >"$WORK/notexec.sh"
chmod 644 "$WORK/notexec.sh"
it_issue -d ref.certo.test --deploy-hook "./missing.sh --flag"
it_expect_rc 1 "missing deploy hook"
it_expect_err_contains "--deploy-hook ./missing.sh: No such file" "message"
it_certo_ca issue -d ref.certo.test --challenge dns-01 --dns-hook ./notexec.sh
it_expect_rc 1 "dns hook that cannot be executed"
it_expect_err_contains "--dns-hook ./notexec.sh: not executable" "message"
it_certo_ca issue -d ref.certo.test --http-hook certo-no-such-hook
it_expect_rc 1 "http hook not in PATH"
it_expect_err_contains "--http-hook certo-no-such-hook: no such program in PATH" "message"
[ ! -e "$IT_STATE/live/ref.certo.test" ] || fail "a refused run stored something"
cd / || fail "cd /"
it_pass
