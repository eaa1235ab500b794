#!/bin/sh
# container.sidecar: the image as a user deploys it (docs/container.md,
# pattern 1).  A certo-responder container (host network, as the image's
# non-root user, ports from this test's range, --tls-proxy to an "app" on
# loopback) and client containers sharing its socket volume (/run/certo)
# and the state volume (/var/lib/certo):
#  - the health check turns healthy (podman healthcheck run);
#  - certo issue in a client container gets a certificate from the host's
#    Pebble through the responder; the live set is in the shared volume
#    and verifies against Pebble's root; other TLS goes to the app;
#  - certo renew --loop in its own container renews the certificate that
#    is due and runs its deploy hook;
#  - podman stop ends both containers with exit code 0 (SIGTERM handled
#    well within the 10 s before podman would kill them).
# Needs the image of container.image (ctest fixture) in CERTO_PODMAN_ROOT.
. "$(dirname "$0")/../integration/lib.sh"
IT_NO_CERTO=1
it_init container_sidecar
VERSION=${CERTO_VERSION:?CERTO_VERSION must be the project version}
TAG=certo:$VERSION
: "${CERTO_PODMAN_ROOT:?CERTO_PODMAN_ROOT must name this build's podman directory}"
. "$IT_SRCROOT/scripts/container/podman.sh"
podman_setup || it_skip "podman cannot run here: $CERTO_PODMAN_WHY"
$PODMAN image exists "$TAG" || fail "no image $TAG (the container.image test builds it)"

ID=$$
RESP=certo-resp-$ID
LOOP=certo-loop-$ID
VRUN=certo-run-$ID
VSTATE=certo-state-$ID
HEALTH=$((IT_BASEPORT + 4))
APP=$((IT_BASEPORT + 5))
ct_cleanup() {
	$PODMAN rm -f -t 0 "$RESP" "$LOOP" >/dev/null 2>&1
	$PODMAN volume rm -f "$VRUN" "$VSTATE" >/dev/null 2>&1
}
trap 'ct_rc=$?; ct_cleanup; (exit $ct_rc); _it_cleanup' EXIT
ct_logs() {
	for c in "$RESP" "$LOOP"; do
		echo "--- podman logs $c:" >&2
		$PODMAN logs "$c" 2>&1 | tail -n 30 | sed 's/^/  /' >&2
	done
}

it_start_pebble
$PODMAN volume create "$VRUN" >/dev/null || fail "volume create $VRUN"
$PODMAN volume create "$VSTATE" >/dev/null || fail "volume create $VSTATE"
IT_STATE=$($PODMAN volume inspect --format '{{.Mountpoint}}' "$VSTATE")
[ -d "$IT_STATE" ] || fail "no mountpoint for $VSTATE"
IT_ACCOUNT_DIR="$IT_STATE/accounts/localhost_$IT_BASEPORT"

# The "app" behind the responder: a TLS server with its own certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$IT_TMP/app.key" -out "$IT_TMP/app.pem" -days 1 \
	-subj /CN=app.certo.test >/dev/null 2>&1 || fail "app certificate"
openssl s_server -quiet -accept "127.0.0.1:$APP" -cert "$IT_TMP/app.pem" \
	-key "$IT_TMP/app.key" -www >"$IT_TMP/app.log" 2>&1 </dev/null &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"

# The responder: the image's default command, configured by environment.
# No health timer (podman's needs systemd): the test runs the check itself.
$PODMAN run -d --name "$RESP" --network host -v "$VRUN:/run/certo" \
	--health-interval disable \
	-e CERTO_RESPONDER_HTTP_PORT="$IT_HTTP_PORT" \
	-e CERTO_RESPONDER_HTTP_ADDR=127.0.0.1 \
	-e CERTO_RESPONDER_TLS_PORT="$IT_TLS_PORT" \
	-e CERTO_RESPONDER_TLS_ADDR=127.0.0.1 \
	-e CERTO_RESPONDER_TLS_PROXY="127.0.0.1:$APP" \
	-e CERTO_RESPONDER_HEALTH="127.0.0.1:$HEALTH" \
	"$TAG" >/dev/null 2>>"$IT_TMP/podman.err" || fail "podman run $RESP: $(tail -1 "$IT_TMP/podman.err")"

# Healthy once it listens (bounded: 40 tries, 0.5 s apart).
n=40
until $PODMAN healthcheck run "$RESP" >/dev/null 2>&1; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || { ct_logs; fail "the responder's health check never passed"; }
	sleep 0.5
done
st=$($PODMAN inspect --format '{{.State.Health.Status}}' "$RESP")
[ "$st" = healthy ] || { ct_logs; fail "health status is '$st', not healthy"; }
uid=$($PODMAN exec "$RESP" sh -c 'stat -c %u /proc/1')
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "the responder runs as uid '$uid'"
it_log "responder healthy, uid $uid"

# Other TLS connections reach the app (--tls-proxy).
subj=$(openssl s_client -connect "127.0.0.1:$IT_TLS_PORT" -servername app.certo.test \
	</dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null)
case $subj in *app.certo.test*) ;; *) ct_logs; fail "TLS to the responder did not reach the app ('$subj')" ;; esac

# certo in a client container: the same volumes, Pebble's TLS CA mounted.
client() {
	IT_LAST_CMD=" (container) certo $*"
	timeout -k 5 60 $PODMAN run --rm --no-healthcheck --network host \
		-v "$VRUN:/run/certo" -v "$VSTATE:/var/lib/certo" \
		-v "$IT_PEBBLE_DIR/tls:/pebble:ro" "$TAG" certo "$@" \
		>"$IT_OUT" 2>"$IT_ERR" </dev/null
	IT_RC=$?
}
NB=$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)
NA=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
client issue --server "$PEBBLE_DIR_URL" --ca-bundle /pebble/ca.pem \
	--responder /run/certo/responder.sock --agree-tos --email test@example.com \
	-d side.certo.test --not-before "$NB" --not-after "$NA" \
	--deploy-hook 'echo "$CERTO_DOMAINS" >>/var/lib/certo/deployed.log'
it_expect_rc 0 "certo issue --responder in a client container"
it_check_issued side.certo.test side.certo.test
serial1=$(it_cert_serial "$IT_STATE/live/side.certo.test/cert.pem")
[ "$(wc -l <"$IT_STATE/deployed.log")" -eq 1 ] || fail "the deploy hook did not run once on issue"
it_log "issued through the responder container, serial $serial1"

# renew --loop in its own container: the certificate is due (a third of
# its lifetime left), so the first pass renews it and runs the hook.
$PODMAN run -d --name "$LOOP" --no-healthcheck --network host \
	-v "$VRUN:/run/certo" -v "$VSTATE:/var/lib/certo" \
	-v "$IT_PEBBLE_DIR/tls:/pebble:ro" "$TAG" \
	certo --json renew --loop --ca-bundle /pebble/ca.pem >/dev/null ||
	fail "podman run $LOOP"
n=120
until $PODMAN logs "$LOOP" 2>/dev/null | grep -q '"event":"renew_sleep"'; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || { ct_logs; fail "renew --loop never finished its first pass"; }
	sleep 0.5
done
serial2=$(it_cert_serial "$IT_STATE/live/side.certo.test/cert.pem")
[ "$serial2" != "$serial1" ] || { ct_logs; fail "renew --loop did not renew the due certificate"; }
it_check_issued side.certo.test side.certo.test
[ "$(wc -l <"$IT_STATE/deployed.log")" -eq 2 ] ||
	{ ct_logs; fail "the deploy hook did not run after the renewal ($(wc -l <"$IT_STATE/deployed.log") runs)"; }
grep -q '^side.certo.test$' "$IT_STATE/deployed.log" || fail "deploy hook saw no CERTO_DOMAINS"
it_log "renew --loop renewed it (serial $serial2) and ran the deploy hook"

# podman stop: SIGTERM, 10 s before SIGKILL; both must exit 0.
$PODMAN stop -t 10 "$LOOP" "$RESP" >/dev/null 2>>"$IT_TMP/podman.err" || fail "podman stop"
for c in "$LOOP" "$RESP"; do
	rc=$($PODMAN inspect --format '{{.State.ExitCode}}' "$c")
	[ "$rc" = 0 ] || { ct_logs; fail "$c exited $rc after podman stop (0 expected)"; }
done
[ ! -e "$($PODMAN volume inspect --format '{{.Mountpoint}}' "$VRUN")/responder.sock" ] ||
	fail "the responder left its socket behind"
it_pass
