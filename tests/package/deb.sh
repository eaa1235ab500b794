#!/bin/sh
# The Debian package (issue 12 item 2): a Release build configured for
# /usr makes certo_<version>_<arch>.deb with `--target package`; its
# contents, control fields (Depends from dpkg-shlibdeps) and maintainer
# scripts are checked with dpkg-deb, it is unpacked into a throw-away root
# (dpkg-deb -x) whose binaries must run, and lintian must report no error.
# Usage: deb.sh SOURCE_DIR WORK_DIR VERSION
# The build in WORK_DIR/build is kept between runs (incremental).
set -eu
SRC=$1
WORK=$2
VERSION=$3
NAME=package.deb
fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps dpkg-buildflags lintian fakeroot file; do
	command -v "$tool" >/dev/null || fail "$tool not installed (scripts/deps.sh)"
done

BUILD=$WORK/build
ROOT=$WORK/root
mkdir -p "$WORK"
rm -rf "$ROOT" "$BUILD"/certo_*.deb
# Debian's hardening flags, all of them (bindnow too).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCERTO_TESTS=OFF \
	-DCMAKE_INSTALL_PREFIX=/usr -DCERTO_SYSTEMD_UNITDIR=/lib/systemd/system \
	>"$WORK/configure.log" 2>&1 || { cat "$WORK/configure.log" >&2; fail "configure"; }
cmake --build "$BUILD" -j2 --target package >"$WORK/build.log" 2>&1 ||
	{ tail -40 "$WORK/build.log" >&2; fail "cmake --build --target package"; }

ARCH=$(dpkg --print-architecture)
DEB=$BUILD/certo_${VERSION}_${ARCH}.deb
[ -f "$DEB" ] || fail "no $DEB (built: $(ls "$BUILD"/*.deb 2>/dev/null))"
echo "built $DEB ($(wc -c <"$DEB") bytes)"

# Control fields.
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = certo ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$VERSION" ] || fail "Version is '$(field Version)'"
[ "$(field Architecture)" = "$ARCH" ] || fail "Architecture is '$(field Architecture)'"
DEPENDS=$(field Depends)
echo "Depends: $DEPENDS"
# What dpkg-shlibdeps finds for the libraries certo links, and adduser
# for the maintainer scripts; no sanitizer runtime.
for dep in adduser libc6 libgnutls30 libcurl3-gnutls libjson-c5 \
	libmicrohttpd12 libc-ares2 libidn2-0; do
	echo "$DEPENDS" | tr ',' '\n' | sed 's/^ *//' | grep -q "^$dep\( \|$\)" ||
		fail "Depends lacks $dep"
done
echo "$DEPENDS" | grep -q "libasan\|libubsan" && fail "Depends names a sanitizer runtime"
echo "$DEPENDS" | grep -q "(>= " || fail "Depends has no versions (not from dpkg-shlibdeps?)"

# Contents: paths and modes.
dpkg-deb -c "$DEB" >"$WORK/contents"
want() {
	grep -q "^$1 .* \./$2\$" "$WORK/contents" || fail "no $2 with mode $1 in the package"
}
want -rwxr-xr-x usr/bin/certo
want -rwxr-xr-x usr/sbin/certo-responder
want -rw-r--r-- usr/share/man/man1/certo.1.gz
want -rw-r--r-- usr/share/man/man8/certo-responder.8.gz
want -rw-r--r-- lib/systemd/system/certo-responder.service
want -rw-r--r-- lib/systemd/system/certo-renew.service
want -rw-r--r-- lib/systemd/system/certo-renew.timer
want -rw-r--r-- usr/share/bash-completion/completions/certo
want -rwxr-xr-x usr/share/certo/hooks/nsupdate.sh
want -rw-r--r-- usr/share/doc/certo/copyright
want -rw-r--r-- usr/share/doc/certo/changelog.gz
grep -q "usr/local\|challtestsrv" "$WORK/contents" && fail "test hook or /usr/local in the package"
grep -v " root/root " "$WORK/contents" && fail "files not owned by root/root"

# Maintainer scripts.
mkdir -p "$WORK/control"
rm -rf "$WORK/control"/*
dpkg-deb -e "$DEB" "$WORK/control"
for s in postinst postrm; do
	[ -x "$WORK/control/$s" ] || fail "no executable $s"
	sh -n "$WORK/control/$s" || fail "$s: syntax"
done
# One line per command (continuation lines joined).
sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$WORK/control/postinst" >"$WORK/postinst.joined"
grep -q "adduser .*--system.* certo-responder\$" "$WORK/postinst.joined" ||
	fail "postinst does not create the certo-responder user"
grep -q "adduser .*--system.* certo\$" "$WORK/postinst.joined" ||
	fail "postinst does not create the certo user"
grep -q "addgroup .*--system certo\$" "$WORK/postinst.joined" ||
	fail "postinst does not create the certo group"
grep -q "^purge)" "$WORK/control/postrm" || fail "postrm has no purge case"
[ -f "$WORK/control/md5sums" ] || fail "no md5sums"

# A throw-away root: the packaged binaries run.
dpkg-deb -x "$DEB" "$ROOT"
out=$("$ROOT/usr/bin/certo" --version) || fail "certo --version: exit $?"
echo "$out" | grep -q "$VERSION" || fail "certo --version: '$out'"
out=$("$ROOT/usr/sbin/certo-responder" --version) || fail "certo-responder --version: exit $?"
echo "$out" | grep -q "$VERSION" || fail "certo-responder --version: '$out'"
"$ROOT/usr/bin/certo" --help | grep -q "usage" || fail "certo --help"
"$ROOT/usr/sbin/certo-responder" --help | grep -q "usage: certo-responder" ||
	fail "certo-responder --help"
file -b "$ROOT/usr/bin/certo" | grep -q ", stripped" || fail "certo not stripped"
grep -q "^ExecStart=/usr/bin/certo renew" "$ROOT/lib/systemd/system/certo-renew.service" ||
	fail "certo-renew.service does not run /usr/bin/certo"
grep -q "^ExecStart=/usr/sbin/certo-responder " "$ROOT/lib/systemd/system/certo-responder.service" ||
	fail "certo-responder.service does not run /usr/sbin/certo-responder"
gzip -t "$ROOT/usr/share/man/man1/certo.1.gz" || fail "certo.1.gz"
bash -n "$ROOT/usr/share/bash-completion/completions/certo" || fail "completion syntax"

# lintian: no error (E:).  Warnings are printed and counted, not failed
# on: none at the time of writing (docs/container.md lists the info tags).
lintian --tag-display-limit 0 "$DEB" >"$WORK/lintian.log" 2>&1 || true
cat "$WORK/lintian.log"
if grep -q "^E: " "$WORK/lintian.log"; then
	fail "lintian reports errors"
fi
echo "lintian: $(grep -c "^W: " "$WORK/lintian.log") warnings"
echo "PASS: $NAME"
