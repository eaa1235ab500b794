#!/bin/sh
# Install certo's build and test dependencies from Debian 12 packages.
# Idempotent: packages already present are not fetched again.
# Usage: scripts/deps.sh [--bench]   (--bench adds the benchmark peers)
set -eu

PKGS="build-essential cmake pkg-config git ca-certificates openssl \
 libgnutls28-dev gnutls-bin libmicrohttpd-dev libjson-c-dev \
 libcurl4-gnutls-dev libc-ares-dev libidn2-dev libcmocka-dev nginx-light systemd \
 pebble lego curl procps time strace util-linux \
 knot bind9-dnsutils python3 python3-cryptography \
 clang libclang-rt-14-dev \
 redis-server libhiredis-dev haproxy libseccomp-dev \
 certbot python3-prometheus-client pdns-server pdns-backend-sqlite3 sqlite3 \
 dpkg-dev fakeroot lintian file podman runc debootstrap uidmap fuse-overlayfs \
 python3-yaml jq apache2 postfix"
if [ "${1:-}" = "--bench" ]; then
	PKGS="$PKGS uacme certbot nginx wrk hyperfine"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps.sh: need root (or sudo) to install:$missing" >&2
		exit 1
	}
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# postfix asks how to configure the system's mail: "No configuration" (no
# /etc/postfix/main.cf, nothing started; the tests run their own instance).
case " $missing " in
*" postfix "*)
	echo "postfix postfix/main_mailer_type select No configuration" |
		$SUDO debconf-set-selections
	;;
esac
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
