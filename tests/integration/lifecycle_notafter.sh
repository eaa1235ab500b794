#!/bin/sh
# lifecycle_notafter: --not-after. Pebble 2.4 honours the notAfter of a
# newOrder (checked by hand: it issues the certificate with exactly that
# notAfter), so:
#  - --not-after +2d: the certificate's notAfter is now + 2 days, within a
#    minute;
#  - --not-after <RFC 3339 time> (now + 3 days, whole seconds): exactly that
#    time, within a minute;
#  - certo's own report (JSON "certificate_saved" not_after, `list`)
#    agrees with the certificate.
. "$(dirname "$0")/lib.sh"
it_init lifecycle_notafter
it_start_pebble

# cert_not_after CERT: notAfter as seconds since the epoch.
cert_not_after() {
	_na=$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')
	date -u -d "$_na" +%s || fail "cannot parse notAfter '$_na' of $1"
}

# expect_near WHAT GOT LOW HIGH: LOW - 60 <= GOT <= HIGH + 60.
expect_near() {
	[ "$2" -ge $(($3 - 60)) ] && [ "$2" -le $(($4 + 60)) ] ||
		fail "$1: notAfter is $(date -u -d "@$2" +%Y-%m-%dT%H:%M:%SZ), expected $(date -u -d "@$3" +%Y-%m-%dT%H:%M:%SZ) .. $(date -u -d "@$4" +%Y-%m-%dT%H:%M:%SZ) (± 1 min)"
}

# -- relative
t0=$(date +%s)
IT_GLOBAL_OPTS=--json it_issue -d na.certo.test --not-after +2d
t1=$(date +%s)
it_expect_rc 0 "issue --not-after +2d"
it_check_issued na.certo.test na.certo.test
na=$(cert_not_after "$IT_STATE/live/na.certo.test/cert.pem")
expect_near "--not-after +2d" "$na" $((t0 + 172800)) $((t1 + 172800))
rep=$(it_json_lines_field "$IT_OUT" certificate_saved not_after)
[ "$rep" = "$(date -u -d "@$na" +%Y-%m-%dT%H:%M:%SZ)" ] ||
	fail "the certificate_saved event says not_after '$rep', the certificate $(date -u -d "@$na" +%Y-%m-%dT%H:%M:%SZ)"

# -- absolute RFC 3339
want=$(($(date +%s) + 3 * 86400))
want_txt=$(date -u -d "@$want" +%Y-%m-%dT%H:%M:%SZ)
it_issue -d nb.certo.test --not-after "$want_txt"
it_expect_rc 0 "issue --not-after $want_txt"
it_check_issued nb.certo.test nb.certo.test
nb=$(cert_not_after "$IT_STATE/live/nb.certo.test/cert.pem")
expect_near "--not-after $want_txt" "$nb" "$want" "$want"

# -- list shows the short lifetimes
IT_GLOBAL_OPTS=--json it_certo_ca list
it_expect_rc 0 "list --json"
cp "$IT_OUT" "$IT_TMP/list.json"
got=$(it_json_get "$IT_TMP/list.json" '{e["name"]: e["not_after"] for e in d}["na.certo.test"]')
[ "$got" = "$(date -u -d "@$na" +%Y-%m-%dT%H:%M:%SZ)" ] ||
	fail "list --json shows not_after '$got' for na.certo.test, the certificate says $(date -u -d "@$na" +%Y-%m-%dT%H:%M:%SZ)"
it_pass
