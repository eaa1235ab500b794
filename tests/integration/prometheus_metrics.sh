#!/bin/sh
# prometheus_metrics: certo list --prometheus (issue 12 item 4), read with
# the real parser of python3-prometheus-client
# (text_string_to_metric_families):
#  1. two certificates from Pebble: one certo_certificate_not_after_seconds
#     and one certo_certificate_renewal_seconds sample each, labels name
#     (first name) and ca (directory URL); the values equal openssl's
#     notAfter, and notAfter - lifetime/3 (the lifetime rule, no ARI);
#     no renew metrics before the first renew;
#  2. after a renew pass with nothing due: its time (within the run), exit
#     code 2, success 1, not_due 2;
#  3. after a renew --force pass with the CA stopped: exit code 1, success
#     0, failed 2;
#  4. the documented atomic write (a temp file, then mv) gives a file the
#     parser reads.
. "$(dirname "$0")/lib.sh"
it_init prometheus_metrics

# A python3 with Debian's prometheus_client (not a pyenv's without it).
PY=""
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import prometheus_client.parser' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || it_skip "python3-prometheus-client not installed (scripts/deps.sh)"
it_start_pebble

# parse FILE: "metric labels value" lines, labels as name=value joined by
# ',' in sorted order, values as integers.
parse() {
	"$PY" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    if fam.type != "gauge":
        sys.exit("%s is a %s, not a gauge" % (fam.name, fam.type))
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print(s.name, labels or "-", int(s.value))
' "$1" || fail "the parser refused the output: $(head -c 300 "$1")"
}

# unix WHAT CERT: the certificate's notBefore/notAfter (-startdate/-enddate).
unix() {
	date -u -d "$(openssl x509 -in "$2" -noout "-$1" | sed 's/^[a-zA-Z]*=//')" +%s
}

# expect_sample METRIC LABELS VALUE: the parsed output has that sample.
expect_sample() {
	grep -qxF "$1 $2 $3" "$IT_TMP/parsed" ||
		fail "no sample '$1 $2 $3' in: $(grep "^$1 " "$IT_TMP/parsed" | tr '\n' ';')"
}

it_issue -d a.prom.test -d www.a.prom.test
it_expect_rc 0 "issue a.prom.test"
it_issue -d b.prom.test
it_expect_rc 0 "issue b.prom.test"

# -- 1. the certificates
it_certo list --prometheus --state-dir "$IT_STATE"
it_expect_rc 0 "list --prometheus"
parse "$IT_OUT" >"$IT_TMP/parsed"
for n in a.prom.test b.prom.test; do
	cert="$IT_STATE/live/$n/cert.pem"
	na=$(unix enddate "$cert")
	nb=$(unix startdate "$cert")
	labels="ca=$PEBBLE_DIR_URL,name=$n"
	expect_sample certo_certificate_not_after_seconds "$labels" "$na"
	expect_sample certo_certificate_renewal_seconds "$labels" $((na - (na - nb) / 3))
done
[ "$(grep -c '^certo_certificate_not_after_seconds ' "$IT_TMP/parsed")" -eq 2 ] ||
	fail "expected 2 notAfter samples: $(cat "$IT_TMP/parsed")"
expect_sample certo_certificates_unreadable - 0
grep -q '^certo_renew_' "$IT_TMP/parsed" && fail "renew metrics before any renew"

# -- 2. a renew pass with nothing due
t0=$(date +%s)
it_certo renew --state-dir "$IT_STATE"
it_expect_rc 2 "renew with nothing due"
t1=$(date +%s)
it_certo list --prometheus --state-dir "$IT_STATE"
parse "$IT_OUT" >"$IT_TMP/parsed"
t=$(awk '$1 == "certo_renew_last_run_timestamp_seconds" { print $3 }' "$IT_TMP/parsed")
[ -n "$t" ] && [ "$t" -ge "$t0" ] && [ "$t" -le "$t1" ] ||
	fail "certo_renew_last_run_timestamp_seconds is '$t', not within [$t0, $t1]"
expect_sample certo_renew_last_run_exit_code - 2
expect_sample certo_renew_last_run_success - 1
expect_sample certo_renew_last_run_certificates result=not_due 2
expect_sample certo_renew_last_run_certificates result=renewed 0

# -- 3. a renew pass that fails (the CA stopped)
pebble_stop "$IT_PEBBLE_DIR" || fail "cannot stop Pebble"
it_certo renew --force --state-dir "$IT_STATE"
it_expect_rc 1 "renew --force with the CA stopped"
it_certo list --prometheus --state-dir "$IT_STATE"
parse "$IT_OUT" >"$IT_TMP/parsed"
expect_sample certo_renew_last_run_exit_code - 1
expect_sample certo_renew_last_run_success - 0
expect_sample certo_renew_last_run_certificates result=failed 2

# -- 4. the atomic write the README documents for ExecStopPost
mkdir "$IT_TMP/textfile"
prom="$IT_TMP/textfile/certo.prom"
"$CERTO" list --prometheus --state-dir "$IT_STATE" >"$prom.tmp" && mv "$prom.tmp" "$prom" ||
	fail "the documented textfile command failed"
parse "$prom" >"$IT_TMP/parsed"
expect_sample certo_renew_last_run_success - 0
[ ! -e "$prom.tmp" ] || fail "$prom.tmp left behind"
it_pass
