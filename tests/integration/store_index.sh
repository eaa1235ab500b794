#!/bin/sh
# store_index: the index of the stored sets (<state>/index, issue 15) is a
# cache that never wins over the live files:
#  1. certo list builds it; list and list --json print exactly the same
#     with it, without it (removed) and with a garbage index;
#  2. a set replaced behind certo's back (its files copied over in place,
#     with a certificate that is due) is read again: list shows the new
#     expiry (openssl's), and renew renews that set and only that one;
#  3. a set removed behind certo's back disappears from list and from the
#     index; an unchanged index is not rewritten (same inode).
. "$(dirname "$0")/lib.sh"
it_init store_index
it_start_pebble

LIVE="$IT_STATE/live"
INDEX="$IT_STATE/index"

# enddate CERT: notAfter as RFC 3339 UTC (as certo list prints it).
enddate() {
	date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" \
		+%Y-%m-%dT%H:%M:%SZ
}

# list_expires NAME: the "expires:" time certo list printed for NAME.
list_expires() {
	awk -v n="$1" '$0 == n { f = 1; next } f && /expires:/ { print $2; exit }' "$IT_OUT"
}

# -- a certificate that is due (4 days of life, 1 left), kept aside
it_issue -d x.index.test --not-before "$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)" \
	--not-after +1d
it_expect_rc 0 "issue the short-lived x.index.test"
mkdir "$IT_TMP/due-x" && cp -p "$LIVE/x.index.test/"*.pem "$IT_TMP/due-x/" ||
	fail "cannot keep the due set aside"
it_issue -d x.index.test --force
it_expect_rc 0 "issue x.index.test again (5 years)"
it_issue -d y.index.test
it_expect_rc 0 "issue y.index.test"

# -- 1. the same output with and without the index
it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list (builds the index)"
cp "$IT_OUT" "$IT_TMP/list.1"
[ -f "$INDEX" ] || fail "certo list wrote no $INDEX"
[ "$(grep -c 'index\.test' "$INDEX")" -eq 2 ] || fail "$INDEX does not hold the 2 sets"
ino=$(stat -c %i "$INDEX")
it_certo list --state-dir "$IT_STATE"
cmp -s "$IT_OUT" "$IT_TMP/list.1" || fail "list from the index differs from list from the files"
[ "$(stat -c %i "$INDEX")" = "$ino" ] || fail "an unchanged index was rewritten"
it_certo list --json --state-dir "$IT_STATE"
cp "$IT_OUT" "$IT_TMP/json.1"
rm "$INDEX"
it_certo list --json --state-dir "$IT_STATE"
cmp -s "$IT_OUT" "$IT_TMP/json.1" || fail "list --json differs without the index"
printf 'certo-index 1 0\nx.index.test\tgarbage\n' >"$INDEX"
it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list with a garbage index"
cmp -s "$IT_OUT" "$IT_TMP/list.1" || fail "list with a garbage index differs"
it_certo renew --state-dir "$IT_STATE"
it_expect_rc 2 "renew with nothing due"

# -- 2. x's files replaced in place behind certo's back by the due ones
for f in "$IT_TMP/due-x/"*.pem; do
	cat "$f" >"$LIVE/x.index.test/$(basename "$f")" || fail "cannot overwrite $f"
done
want=$(enddate "$LIVE/x.index.test/cert.pem")
it_certo list --state-dir "$IT_STATE"
[ "$(list_expires x.index.test)" = "$want" ] ||
	fail "list shows x.index.test expiring $(list_expires x.index.test), the file says $want"
y_before=$(it_fingerprints "$LIVE/y.index.test/cert.pem")
it_certo renew --state-dir "$IT_STATE"
it_expect_rc 0 "renew the set changed behind certo's back"
it_expect_out_contains "1 renewed, 0 failed, 1 not due" "renew"
[ "$(it_fingerprints "$LIVE/y.index.test/cert.pem")" = "$y_before" ] ||
	fail "renew replaced y.index.test, which was not due"
it_expect_verifies "$LIVE/x.index.test/cert.pem" "$LIVE/x.index.test/chain.pem"
want=$(enddate "$LIVE/x.index.test/cert.pem")
it_certo list --state-dir "$IT_STATE"
[ "$(list_expires x.index.test)" = "$want" ] ||
	fail "list after renew shows x.index.test expiring $(list_expires x.index.test), the file says $want"

# -- 3. y removed behind certo's back
rm -r "$LIVE/y.index.test"
it_certo list --state-dir "$IT_STATE"
it_expect_rc 0 "list after y was removed"
grep -q 'y\.index\.test' "$IT_OUT" && fail "list still shows the removed y.index.test"
grep -q '^y\.index\.test' "$INDEX" && fail "the index still holds the removed y.index.test"
it_expect_no_tmp
it_pass
