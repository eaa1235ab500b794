#!/bin/sh
# container.cleanup (fixture cleanup): remove this build's podman storage
# (images, containers, volumes) after the container tests, unless
# CERTO_IT_KEEP=1.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
: "${CERTO_PODMAN_ROOT:?}"
[ "${CERTO_IT_KEEP:-}" = 1 ] && { echo "kept $CERTO_PODMAN_ROOT"; exit 0; }
. "$SRC/scripts/container/podman.sh"
if podman_setup; then
	$PODMAN system reset --force >/dev/null 2>&1 || true
fi
rm -rf "$CERTO_PODMAN_ROOT" "${CERTO_PODMAN_RUNROOT:-}"
echo "PASS: container.cleanup"
