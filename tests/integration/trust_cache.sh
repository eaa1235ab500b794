#!/bin/sh
# trust_cache: the root that verified the CA with the system bundle is
# remembered in <state>/trust/ and trusted alone only while that bundle is
# unchanged (common/trustpin.c). The system bundle is a file of the test's
# ($CERTO_SYSTEM_BUNDLE: the machine's bundle plus Pebble's TLS CA).
#  1. first run: verified with the whole bundle, root remembered (= CA1);
#  2. unchanged bundle: the remembered root is used, the bundle not read;
#  3. bundle touched, same bytes: still used (same SHA-256);
#  4. CA1 removed from the bundle: refused (TLS error, exit 3), although
#     the remembered root is CA1;
#  5. the same bytes as in 1 again: used again;
#  6. Pebble restarted with another TLS CA (CA2) not in the bundle:
#     the remembered root does not verify it, nor does the whole bundle:
#     refused (exit 3);
#  7. CA2 added to the bundle: verified with the whole bundle, CA2
#     remembered;
#  8. the entry says CA1 for this very bundle (the CA changed roots
#     within the store): one fallback to the whole bundle, CA2 again;
#  9. --ca-bundle: the state directory's entry is neither used nor written;
# 10. $CERTO_PRIVSEP=off (no network process): learnt as in 7.
. "$(dirname "$0")/lib.sh"
it_init trust_cache
it_start_pebble

SYS=/etc/ssl/certs/ca-certificates.crt
BUNDLE="$IT_TMP/system-bundle.pem"
CA1="$IT_TMP/ca1.pem"
cp "$PEBBLE_CA_BUNDLE" "$CA1"
ENTRY="$IT_STATE/trust/localhost_$IT_BASEPORT.pem"
STRACE_LOG="$IT_TMP/strace.log"
n=0

# make_bundle FILE...: the test's system bundle is the machine's bundle
# (when there is one) followed by FILEs.
make_bundle() {
	if ! { if [ -r "$SYS" ]; then cat "$SYS"; fi; cat "$@"; } >"$BUNDLE.new"; then
		fail "cannot write $BUNDLE.new"
	fi
	mv "$BUNDLE.new" "$BUNDLE" || fail "cannot write $BUNDLE"
}

# run_issue [ARGS]: certo issue of a new name, trusting the system bundle
# (no --ca-bundle), with debug logs.
run_issue() {
	n=$((n + 1))
	CERTO_SYSTEM_BUNDLE="$BUNDLE" it_certo -vv issue --server "$PEBBLE_DIR_URL" \
		--state-dir "$IT_STATE" --standalone --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 --agree-tos --email test@example.com \
		-d "t$n.certo.test" "$@"
}

# fp FILE: the SHA-256 fingerprint of the (first) certificate in FILE.
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null; }
entry_is() { # entry_is CAFILE WHAT
	[ -f "$ENTRY" ] || fail "$2: no $ENTRY"
	[ "$(fp "$ENTRY")" = "$(fp "$1")" ] ||
		fail "$2: $ENTRY does not hold $(basename "$1")"
}
expect_log() { # expect_log TEXT WHAT
	grep -qF -- "$1" "$IT_ERR" || fail "$2: no '$1' in the debug log"
}
expect_no_log() {
	! grep -qF -- "$1" "$IT_ERR" || fail "$2: unexpected '$1' in the log"
}

# 1. First run: the whole bundle, then CA1 remembered.
make_bundle "$CA1"
run_issue
it_expect_rc 0 "1. first run"
expect_log "remembered the root that verified it in $ENTRY" "1. first run"
entry_is "$CA1" "1. first run"
grep -qxF "# bundle $BUNDLE" "$ENTRY" || fail "1. the entry does not name $BUNDLE"
grep -q '^# sha256 [0-9a-f]\{64\}$' "$ENTRY" || fail "1. no sha256 line in $ENTRY"
it_expect_mode "$ENTRY" 644
it_expect_mode "$IT_STATE/trust" 700

# 2. Unchanged: the remembered root alone; the bundle is not opened.
if command -v strace >/dev/null 2>&1; then
	# LeakSanitizer cannot run under ptrace.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		CERTO_SYSTEM_BUNDLE="$BUNDLE" strace -f -qq -e trace=open,openat \
		-o "$STRACE_LOG" "$CERTO" -vv issue --server "$PEBBLE_DIR_URL" \
		--state-dir "$IT_STATE" --standalone --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 --agree-tos --email test@example.com \
		-d s.certo.test >"$IT_OUT" 2>"$IT_ERR" </dev/null ||
		fail "2. issue under strace failed: $(tail -n 3 "$IT_ERR")"
	grep -qF "$ENTRY" "$STRACE_LOG" || fail "2. the entry was not read (strace)"
	! grep -qF "\"$BUNDLE\"" "$STRACE_LOG" ||
		fail "2. the system bundle was opened although unchanged"
fi
run_issue
it_expect_rc 0 "2. unchanged bundle"
expect_log "using the root remembered in $ENTRY" "2. unchanged bundle"
expect_no_log "remembered the root that verified" "2. unchanged bundle"

# 3. Touched, same bytes: same SHA-256, used; the entry gets the new stat.
stat_before=$(grep '^# stat ' "$ENTRY")
touch -d '2001-02-03 04:05:06' "$BUNDLE"
run_issue
it_expect_rc 0 "3. touched bundle"
expect_log "using the root remembered in $ENTRY" "3. touched bundle"
[ "$(grep '^# stat ' "$ENTRY")" != "$stat_before" ] ||
	fail "3. the entry still has the old stat line"
cp "$BUNDLE" "$IT_TMP/bundle-with-ca1.pem"

# 4. CA1 removed from the system bundle: never trusted from the entry.
make_bundle /dev/null
run_issue
it_expect_rc 3 "4. CA1 removed from the bundle"
expect_log "changed since its root was remembered" "4. CA1 removed"
it_expect_err_contains "TLS error" "4. CA1 removed"
expect_no_log "using the root remembered" "4. CA1 removed"

# 5. The bytes of 1 again: CA1 is in them, the entry is good again.
cp "$IT_TMP/bundle-with-ca1.pem" "$BUNDLE"
run_issue
it_expect_rc 0 "5. bundle of 1 again"
expect_log "using the root remembered in $ENTRY" "5. bundle of 1 again"

# 6. Another TLS CA (CA2) at the same host:port, not in the bundle.
pebble_stop "$IT_PEBBLE_DIR" || fail "cannot stop Pebble"
it_start_pebble
rm -rf "$IT_STATE/accounts" # the new Pebble knows no account
CA2="$IT_TMP/ca2.pem"
cp "$PEBBLE_CA_BUNDLE" "$CA2"
[ "$(fp "$CA1")" != "$(fp "$CA2")" ] || fail "6. Pebble kept its TLS CA"
run_issue
it_expect_rc 3 "6. CA2 not in the bundle"
expect_log "the remembered root did not verify it" "6. CA2 not in the bundle"
it_expect_err_contains "TLS error" "6. CA2 not in the bundle"

# 7. CA2 in the bundle: the whole bundle verifies it, CA2 remembered.
make_bundle "$CA1" "$CA2"
run_issue
it_expect_rc 0 "7. CA2 in the bundle"
expect_log "remembered the root that verified it in $ENTRY" "7. CA2 in the bundle"
entry_is "$CA2" "7. CA2 in the bundle"

# 8. The entry names CA1 for this very bundle (the CA moved to another
#    root of the store): one fallback to the whole bundle, then CA2.
{ grep '^#' "$ENTRY"; cat "$CA1"; } >"$IT_TMP/entry" && cp "$IT_TMP/entry" "$ENTRY"
entry_is "$CA1" "8. crafted entry"
run_issue
it_expect_rc 0 "8. root changed within the store"
expect_log "using the root remembered in $ENTRY" "8. root changed"
expect_log "the remembered root did not verify it" "8. root changed"
expect_log "remembered the root that verified it in $ENTRY" "8. root changed"
entry_is "$CA2" "8. root changed"

# 9. --ca-bundle keeps its meaning: the entry is not used nor written.
sum_before=$(cksum <"$ENTRY")
run_issue --ca-bundle "$CA2"
it_expect_rc 0 "9. --ca-bundle"
expect_no_log "remembered" "9. --ca-bundle"
[ "$(cksum <"$ENTRY")" = "$sum_before" ] || fail "9. --ca-bundle changed $ENTRY"

# 10. One process ($CERTO_PRIVSEP=off): the root is found where the
#     transfer ran, here in the key process itself, and learnt the same.
rm -f "$ENTRY"
export CERTO_PRIVSEP=off
run_issue
unset CERTO_PRIVSEP
it_expect_rc 0 "10. one process"
expect_log "remembered the root that verified it in $ENTRY" "10. one process"
entry_is "$CA2" "10. one process"
it_expect_no_tmp
it_pass
