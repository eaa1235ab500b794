#!/bin/sh
# responder_install: `cmake --install` of this build into a temporary
# root (DESTDIR). The installed systemd units must run the binaries from
# where this install put them (certo-renew.service and
# certo-responder.service are generated with the configured prefix), the
# hooks meant for users must be under share/certo/hooks, and
# `systemd-analyze verify --root` must accept the units (it checks that
# ExecStart is executable and that the Documentation= man pages exist).
# A unit with a wrong ExecStart is verified too, to show the check bites.
#
# Environment (tests/integration/CMakeLists.txt):
#   CERTO_BUILD_DIR   the build directory to install (required)
#   CMAKE_COMMAND     cmake (default: cmake)
IT_NO_CERTO=1
. "$(dirname "$0")/lib.sh"
it_init responder_install

: "${CERTO_BUILD_DIR:?CERTO_BUILD_DIR must name the build directory}"
CMAKE=${CMAKE_COMMAND:-cmake}
ROOT=$IT_TMP/root

DESTDIR=$ROOT "$CMAKE" --install "$CERTO_BUILD_DIR" >"$IT_TMP/install.log" 2>&1 ||
	fail "cmake --install failed: $(tail -n 5 "$IT_TMP/install.log")"

unitdir=$(dirname "$(find "$ROOT" -name certo-responder.service | head -n 1)")
[ -n "$unitdir" ] && [ "$unitdir" != . ] || fail "no certo-responder.service installed"
for u in certo-responder.service certo-renew.service certo-renew.timer; do
	[ -f "$unitdir/$u" ] || fail "$u not installed next to certo-responder.service"
done
grep -qE '@[A-Z_]+@' "$unitdir"/*.service && fail "unsubstituted @VARIABLE@ in a unit"

# Every ExecStart names a file this install put there.
for u in certo-responder.service certo-renew.service; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unitdir/$u")
	case $exe in
	/*) ;;
	*) fail "$u: ExecStart '$exe' is not an absolute path" ;;
	esac
	[ -f "$ROOT$exe" ] && [ -x "$ROOT$exe" ] ||
		fail "$u runs $exe, which this install did not put there"
	it_log "ok: $u runs $exe (installed)"
done
hook=$(find "$ROOT" -path '*/share/certo/hooks/nsupdate.sh')
[ -n "$hook" ] && [ -x "$hook" ] || fail "share/certo/hooks/nsupdate.sh is not installed executable"
find "$ROOT" -name challtestsrv.sh | grep -q . && fail "the test hook challtestsrv.sh was installed"
it_log "ok: ${hook#"$ROOT"} installed"

command -v systemd-analyze >/dev/null 2>&1 || {
	it_log "systemd-analyze not installed: ExecStart paths checked, units not verified"
	it_pass
}
# The units' dependencies (sysinit.target...) come from the system's unit
# directory, copied into the root; man pages from the root.
sysunits=""
for d in /usr/lib/systemd/system /lib/systemd/system; do
	[ -f "$d/sysinit.target" ] && { sysunits=$d; break; }
done
[ -n "$sysunits" ] || it_skip "no systemd unit directory with sysinit.target"
mkdir -p "$ROOT/usr/lib/systemd/system"
cp -rn "$sysunits/." "$ROOT/usr/lib/systemd/system/" || fail "cannot copy $sysunits"
manpath=$(dirname "$(dirname "$(find "$ROOT" -name certo-responder.8 | head -n 1)")")
[ -d "$manpath" ] || fail "certo-responder.8 not installed"
verify() {
	MANPATH=$manpath SYSTEMD_LOG_COLOR=0 systemd-analyze verify --root="$ROOT" "$@" \
		>"$IT_TMP/verify.out" 2>&1
}
rel=${unitdir#"$ROOT"/}
verify "$rel/certo-responder.service" "$rel/certo-renew.service" "$rel/certo-renew.timer" ||
	fail "systemd-analyze verify: $(cat "$IT_TMP/verify.out")"
it_log "ok: systemd-analyze verify --root accepts the installed units"

# The check can fail: the same unit running a binary that is not there.
sed 's|^ExecStart=[^ ]*|ExecStart=/usr/sbin/certo-responder-missing|' \
	"$unitdir/certo-responder.service" >"$unitdir/certo-broken.service"
verify "$rel/certo-broken.service" &&
	fail "systemd-analyze verify accepted a unit whose ExecStart does not exist"
grep -q "not executable" "$IT_TMP/verify.out" ||
	fail "unexpected complaint about the broken unit: $(cat "$IT_TMP/verify.out")"
it_log "ok: and rejects one whose ExecStart is missing"
it_pass
