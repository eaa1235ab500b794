#!/bin/sh
# Fuzz every parser that sees network input with libFuzzer (clang,
# ASan+UBSan): CA documents (directory, order, authz, challenge, problem,
# renewalInfo, certificate chains, JWS), TLS ClientHellos, DNS answers and
# control lines.  CI (scripts/test.sh) runs each target for 15 s only
# (ctest fuzz_smoke.*); run this for longer after parser changes.
# FUZZ_SECONDS per target (default 60); crashes are saved in
# build-fuzz/crashes/.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B="$ROOT/build-fuzz"
SECONDS_EACH=${FUZZ_SECONDS:-60}
command -v clang >/dev/null 2>&1 || {
	echo "fuzz.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2
	exit 1
}
scripts/deps.sh
CC=clang cmake -S "$ROOT" -B "$B" -DCERTO_FUZZ=ON -DCERTO_ASAN=ON \
	-DCERTO_UBSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$B" -j"$(nproc)" --target fuzz_acme fuzz_tls_hello fuzz_dns fuzz_ctl \
	fuzz_trustpin
mkdir -p "$B/crashes"
for t in acme tls_hello dns ctl trustpin; do
	mkdir -p "$B/corpus/$t"
	echo "== fuzz_$t for $SECONDS_EACH s"
	"$B/tests/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len=4096 \
		-artifact_prefix="$B/crashes/$t-" "$B/corpus/$t" \
		"$ROOT/tests/fixtures" 2>&1 | tail -3
done
