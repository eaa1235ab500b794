# Sourced by the benchmarks: unless CERTO is set, (re)build a Release
# certo in build-bench/ and point CERTO at it, so a benchmark never
# measures a stale binary. Incremental: cheap when nothing changed.
if [ -z "${CERTO:-}" ]; then
	cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release \
		-DCERTO_TESTS=OFF >/dev/null &&
		cmake --build "$ROOT/build-bench" -j"$(nproc)" --target certo \
			>/dev/null || {
		echo "benchmark: building certo failed" >&2
		exit 1
	}
	CERTO=$ROOT/build-bench/client/certo
fi
