#!/bin/sh
# Build the image certo:<version> from scripts/container/Containerfile
# with podman (docs/container.md).
#
# Offline hosts (no registry, CI here): when debian:bookworm-slim is not
# in local storage and cannot be pulled, this script makes it from
# Debian's packages: debootstrap --variant=minbase bookworm from the
# mirror in /etc/apt/sources.list(.d), trimmed the way Debian's slim
# images are (dpkg path-excludes for docs, man pages and locales), then
# podman import, tagged docker.io/library/debian:bookworm-slim, so the
# Containerfile is built unchanged.  When containers cannot reach the
# mirror through podman's network, the build uses --network host.
#
# Usage: scripts/container/build.sh [--base-only] [--tag NAME:TAG]
# Environment: CERTO_PODMAN_ROOT (podman.sh), CERTO_OFFLINE=1 (do not try
# to pull the base).  Prints the image name and size last.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/scripts/container/podman.sh"
VERSION=$(sed -n 's/^project(certo VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
TAG=certo:$VERSION
BASE=docker.io/library/debian:bookworm-slim
BASE_ONLY=0
while [ $# -gt 0 ]; do
	case $1 in
	--base-only) BASE_ONLY=1 ;;
	--tag) TAG=$2; shift ;;
	*) echo "usage: build.sh [--base-only] [--tag NAME:TAG]" >&2; exit 2 ;;
	esac
	shift
done
say() { echo "build.sh: $*" >&2; }

if ! podman_setup; then
	say "cannot run podman: $CERTO_PODMAN_WHY"
	exit 3
fi
say "podman runtime $CERTO_PODMAN_RUNTIME${CONTAINERS_CONF:+ ($CONTAINERS_CONF)}"

# The Debian mirror apt uses here: URIs of deb822 .sources, else the
# first "deb URL bookworm" line.
host_mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ { print $2 }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }' "$f"
	done
} 2>/dev/null
mirror_for() {
	host_mirror | grep "/$1/*\$" | head -n 1
}

# debian:bookworm-slim from debootstrap, the way Debian's slim images are
# made (debuerreotype's slimify: no docs but copyright, no man pages, no
# locales, no apt lists).
make_base() {
	mirror=$(mirror_for debian)
	security=$(mirror_for debian-security)
	[ -n "$mirror" ] || { say "no Debian mirror in /etc/apt/sources.list(.d)"; exit 3; }
	command -v debootstrap >/dev/null || { say "debootstrap not installed"; exit 3; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/certo-base.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	say "making $BASE offline: debootstrap --variant=minbase bookworm $mirror"
	if ! debootstrap --variant=minbase bookworm "$work/root" "$mirror" \
		>"$work/debootstrap.log" 2>&1; then
		tail -20 "$work/debootstrap.log" >&2
		say "debootstrap failed"
		exit 3
	fi
	r=$work/root
	cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
CFG
	cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
	echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
	find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
		"$r"/usr/share/groff/* "$r"/usr/share/lintian/overrides/* \
		"$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin \
		"$r"/var/cache/apt/archives/*.deb "$r"/var/log/*.log \
		"$r"/var/log/apt/* "$r"/etc/apt/sources.list
	{
		echo "Types: deb"
		echo "URIs: $mirror"
		echo "Suites: bookworm bookworm-updates"
		echo "Components: main"
		echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
		if [ -n "$security" ]; then
			echo
			echo "Types: deb"
			echo "URIs: $security"
			echo "Suites: bookworm-security"
			echo "Components: main"
			echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
		fi
	} >"$r/etc/apt/sources.list.d/debian.sources"
	# The container's resolver is podman's; the host's name stays out.
	: >"$r/etc/resolv.conf"
	: >"$r/etc/hostname"
	tar -C "$r" --numeric-owner -c . |
		$PODMAN import --change 'CMD ["bash"]' - "$BASE" >/dev/null
	rm -rf "$work"
	trap - EXIT
}

if $PODMAN image exists "$BASE"; then
	say "$BASE is in local storage"
elif [ "${CERTO_OFFLINE:-0}" != 1 ] &&
	timeout 60 $PODMAN pull -q "$BASE" >/dev/null 2>&1; then
	say "pulled $BASE"
else
	make_base
fi
[ "$BASE_ONLY" = 1 ] && exit 0

# Can a container reach the mirror through podman's own network?
NET=""
mirror=$(mirror_for debian)
mhost=$(echo "$mirror" | sed 's|^[a-z]*://||; s|[/:].*||')
mport=80
case $mirror in https://*) mport=443 ;; esac
if ! timeout 30 $PODMAN run --rm "$BASE" bash -c \
	"exec 3<>/dev/tcp/$mhost/$mport" >/dev/null 2>&1; then
	say "containers cannot reach $mhost:$mport: building with --network host"
	NET="--network host"
fi

# shellcheck disable=SC2086
$PODMAN build $NET --pull=never --format docker -f "$SRC/scripts/container/Containerfile" \
	-t "$TAG" "$SRC" >&2
size=$($PODMAN image inspect --format '{{.Size}}' "$TAG")
echo "$TAG $size"
