#!/bin/sh
# certo's main job, end to end, on one machine: install dependencies,
# build, start a throwaway Pebble CA (+ pebble-challtestsrv as its DNS)
# on loopback high ports, issue a real certificate through certo's
# built-in HTTP-01 responder, show it, and stop what was started.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${CERTO_DEMO_BUILD:-$ROOT/build-demo}
BASE=${CERTO_DEMO_PORT:-14000}
HTTP_PORT=$((BASE + 80))
TLS_PORT=$((BASE + 81))

scripts/deps.sh
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCERTO_TESTS=OFF \
	>/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
CERTO="$BUILD/client/certo"

WORK=$(mktemp -d /tmp/certo-demo.XXXXXX)
. "$ROOT/scripts/pebble-env.sh"
cleanup() { pebble_stop "$WORK" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
echo "== starting Pebble on https://localhost:$BASE/dir (work dir $WORK)"
pebble_start "$WORK" "$BASE" "$HTTP_PORT" "$TLS_PORT"

echo "== certo issue (built-in HTTP-01 responder on 127.0.0.1:$HTTP_PORT)"
"$CERTO" issue -d demo.certo.test -d www.demo.certo.test --standalone \
	--http-port "$HTTP_PORT" --http-addr 127.0.0.1 \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$WORK/state" --email demo@example.com --agree-tos

LIVE="$WORK/state/live/demo.certo.test"
echo "== the certificate"
openssl x509 -in "$LIVE/cert.pem" -noout -subject -ext subjectAltName -dates
pebble_fetch_roots "$WORK"
echo "== verifying the chain against Pebble's root"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$LIVE/chain.pem" \
	"$LIVE/cert.pem"
ls -l "$LIVE"
