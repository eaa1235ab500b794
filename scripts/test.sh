#!/bin/sh
# Run certo's whole test suite the way CI does: install dependencies,
# configure with -Werror and ASan+UBSan, build, run every ctest test
# (unit tests and integration tests against a local Pebble).
# Usage: scripts/test.sh [extra ctest args]
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${CERTO_TEST_BUILD:-$ROOT/build-test}

scripts/deps.sh

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug \
	-DCERTO_WERROR=ON -DCERTO_ASAN=ON -DCERTO_UBSAN=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

# Sanitizers: fail on any report; leaks count as failures.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
