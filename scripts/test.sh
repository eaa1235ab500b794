#!/bin/sh
# Run certo's whole test suite the way CI does: install dependencies,
# configure with -Werror and ASan+UBSan, build, run every ctest test
# (unit tests, integration tests against a local Pebble, the
# allocation-failure runs, a short libFuzzer run of each fuzz target,
# built with clang in build-test-fuzz, the Debian package (label package)
# and the container image built offline and run as a sidecar with podman
# (label container, docs/container.md; skipped where podman cannot run)).
# Usage: scripts/test.sh [extra ctest args]
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${CERTO_TEST_BUILD:-$ROOT/build-test}
FUZZ_BUILD=${CERTO_TEST_FUZZ_BUILD:-$ROOT/build-test-fuzz}

scripts/deps.sh

# The libFuzzer targets need clang: built in their own directory, run by
# ctest below (fuzz_smoke.*, CERTO_FUZZ_SMOKE_SECONDS each).
CC=clang cmake -S "$ROOT" -B "$FUZZ_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCERTO_FUZZ=ON -DCERTO_ASAN=ON -DCERTO_UBSAN=ON >/dev/null
cmake --build "$FUZZ_BUILD" -j"$(nproc)" \
	--target fuzz_acme fuzz_tls_hello fuzz_dns fuzz_ctl fuzz_trustpin

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug \
	-DCERTO_WERROR=ON -DCERTO_ASAN=ON -DCERTO_UBSAN=ON \
	-DCERTO_FUZZ_SMOKE_DIR="$FUZZ_BUILD/tests/fuzz" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

# Sanitizers: fail on any report; leaks count as failures.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
