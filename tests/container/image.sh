#!/bin/sh
# container.image (the ctest fixture the other container tests need):
# build certo:<version> offline with scripts/container/build.sh into this
# build's own podman storage (CERTO_PODMAN_ROOT, emptied first: nothing is
# cached between runs), then check the image: non-root user, both
# programs and their man pages, the hooks, the volumes, the health check,
# no compiler or -dev package, and print its size.
# Exit 77 (skipped) only where podman cannot run containers at all.
set -eu
NAME=container.image
SRC=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$1
TAG=certo:$VERSION
fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }
: "${CERTO_PODMAN_ROOT:?CERTO_PODMAN_ROOT must name this build's podman directory}"
. "$SRC/scripts/container/podman.sh"

# A fresh storage for every run.
if podman_setup; then
	$PODMAN system reset --force >/dev/null 2>&1 || true
fi
rm -rf "$CERTO_PODMAN_ROOT" "${CERTO_PODMAN_RUNROOT:-}"
if ! podman_setup; then
	echo "SKIPPED: $NAME: podman cannot run here: $CERTO_PODMAN_WHY"
	exit 77
fi
if ! $PODMAN run --rm --help >/dev/null 2>&1; then
	echo "SKIPPED: $NAME: podman run is not usable"
	exit 77
fi

t0=$(date +%s)
out=$(CERTO_OFFLINE=${CERTO_OFFLINE:-1} sh "$SRC/scripts/container/build.sh" --tag "$TAG" 2>"$CERTO_PODMAN_ROOT/build.log") || {
	tail -40 "$CERTO_PODMAN_ROOT/build.log" >&2
	fail "scripts/container/build.sh failed"
}
t1=$(date +%s)
grep "^build.sh:" "$CERTO_PODMAN_ROOT/build.log" || true
size=$(echo "$out" | awk '{ print $2 }')
echo "image $TAG: $size bytes ($((size / 1000000)) MB), built in $((t1 - t0)) s"

inspect() { $PODMAN image inspect --format "$1" "$TAG"; }
[ "$(inspect '{{.Config.User}}')" = certo ] || fail "the image's user is '$(inspect '{{.Config.User}}')', not certo"
vols=$(inspect '{{range $k, $v := .Config.Volumes}}{{$k}} {{end}}')
case " $vols" in *" /var/lib/certo "*) ;; *) fail "no volume /var/lib/certo ($vols)" ;; esac
case " $vols" in *" /run/certo "*) ;; *) fail "no volume /run/certo ($vols)" ;; esac
hc=$(inspect '{{.Config.Healthcheck.Test}}')
case $hc in *healthcheck*) ;; *) fail "no HEALTHCHECK ($hc)" ;; esac
env=$(inspect '{{range .Config.Env}}{{.}} {{end}}')
for v in CERTO_STATE_DIR=/var/lib/certo CERTO_RESPONDER_SOCKET=/run/certo/responder.sock \
	CERTO_RESPONDER_HEALTH=; do
	case " $env" in *" $v"*) ;; *) fail "no $v in the image's environment" ;; esac
done

run() { $PODMAN run --rm --no-healthcheck "$TAG" "$@"; }
[ "$(run id -un)" = certo ] || fail "containers do not run as certo"
[ "$(run id -u)" != 0 ] || fail "containers run as root"
run certo --version | grep -q "$VERSION" || fail "certo --version"
run certo-responder --version | grep -q "$VERSION" || fail "certo-responder --version"
run test -f /usr/share/man/man1/certo.1.gz || fail "no certo(1) in the image"
run test -f /usr/share/man/man8/certo-responder.8.gz || fail "no certo-responder(8) in the image"
run test -x /usr/share/certo/hooks/nsupdate.sh || fail "no hooks in the image"
run sh -c 'ls -ld /var/lib/certo /run/certo' | grep -v "certo certo" && fail "volumes not owned by certo"
pkgs=$(run dpkg-query -W -f '${Package}\n')
bad=$(echo "$pkgs" | grep -E -- '-dev$|^gcc(-[0-9]+)?$|^cpp(-[0-9]+)?$|^g\+\+|^cmake$|^make$|^binutils|^build-essential$|^dpkg-dev$' || true)
[ -z "$bad" ] || fail "build packages in the final image: $(echo "$bad" | tr '\n' ' ')"
echo "$pkgs" | grep -qx certo || fail "the certo package is not installed in the image"

# The package's maintainer scripts, as apt ran them in the image: postinst
# made the system users and group; postrm purge removes the state.
run getent passwd certo-responder | grep -q ":/usr/sbin/nologin\$" ||
	fail "postinst made no certo-responder system user"
run getent group certo >/dev/null || fail "postinst made no certo group"
[ "$(run id -u certo-responder)" -lt 1000 ] || fail "certo-responder is not a system user"
# /var/lib/certo is a volume (a mount point) here: emptied, not removed.
$PODMAN run --rm --no-healthcheck --user root "$TAG" sh -c \
	'touch /var/lib/certo/x && mkdir /var/lib/certo/live &&
	 dpkg --purge certo >/dev/null && [ -z "$(ls -A /var/lib/certo)" ] &&
	 test ! -e /usr/bin/certo && test ! -e /usr/sbin/certo-responder' ||
	fail "dpkg --purge certo did not remove the package and empty /var/lib/certo"
echo "PASS: $NAME"
