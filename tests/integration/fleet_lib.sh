# shellcheck shell=sh
# fleet_lib.sh: what the fleet_* tests share (source after lib.sh and
# it_init): a real redis-server on loopback (BASE+4), one certo-responder
# on the http-01 port that every "host" reaches through its control
# socket, a sealing key file, three state directories ("hosts") sharing
# the store, certificates issued due (4-day life, 1 day left: certo's
# lifetime rule makes them due, as scripts/bench/renew.sh does), and the
# count of certificates Pebble issued ("Issued certificate" in its log).

FLEET_REDIS_PORT=$((IT_BASEPORT + 4))
FLEET_STORE="redis://127.0.0.1:$FLEET_REDIS_PORT/0"
FLEET_KEY="$IT_TMP/store.key"
FLEET_SOCK="$IT_TMP/responder.sock"
FLEET_REDIS_PID=""

# The server is cluster_lib.sh's (no password, no persistence).
. "$IT_DIR/cluster_lib.sh"

# fleet_redis_cli ARGS...: redis-cli against the test's server.
fleet_redis_cli() {
	cl_redis "$@"
}

# fleet_start_redis: redis-server in $IT_TMP/redis, answering PING.
fleet_start_redis() {
	cl_start_redis "$FLEET_REDIS_PORT" ""
	FLEET_REDIS_PID=$CL_REDIS_PID
}

# fleet_stop_redis: stop the server this test started.
fleet_stop_redis() {
	cl_stop_redis
}

# fleet_start_responder: certo-responder on the http-01 port, control
# socket $FLEET_SOCK (every host publishes through it).
fleet_start_responder() {
	[ -n "${CERTO_RESPONDER:-}" ] && [ -x "$CERTO_RESPONDER" ] ||
		fail "CERTO_RESPONDER is not set to the certo-responder binary"
	"$CERTO_RESPONDER" --socket "$FLEET_SOCK" --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 --tls-port "$IT_TLS_PORT" --tls-addr 127.0.0.1 \
		--stay-root 2>"$IT_TMP/responder.log" &
	IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
	_fl_n=50
	while [ ! -S "$FLEET_SOCK" ]; do
		_fl_n=$((_fl_n - 1))
		[ "$_fl_n" -gt 0 ] || fail "certo-responder did not create $FLEET_SOCK"
		sleep 0.1
	done
}

# fleet_setup: Pebble, redis, the responder, the key file, hosts h1..h3.
fleet_setup() {
	it_start_pebble
	fleet_start_redis
	fleet_start_responder
	head -c 32 /dev/urandom >"$FLEET_KEY" && chmod 600 "$FLEET_KEY" ||
		fail "cannot make the key file"
	for _fl_h in h1 h2 h3; do
		mkdir -p "$IT_TMP/$_fl_h" || fail "mkdir $_fl_h"
	done
}

# fleet_issued: how many certificates Pebble has issued so far.
fleet_issued() {
	grep -c "Issued certificate" "$IT_PEBBLE_DIR/pebble.log"
}

# fleet_issue_due HOST NAME [ARGS...]: issue NAME on HOST with --store,
# due at once (notBefore 3 days ago, notAfter in 1 day).
fleet_issue_due() {
	_fl_h=$1
	_fl_name=$2
	shift 2
	it_certo --store "$FLEET_STORE" issue --store-key "$FLEET_KEY" --server "$PEBBLE_DIR_URL" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_TMP/$_fl_h" \
		--agree-tos --email test@example.com --responder "$FLEET_SOCK" \
		-d "$_fl_name" \
		--not-before "$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)" \
		--not-after "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" "$@"
	it_expect_rc 0 "issue $_fl_name on $_fl_h"
}

# fleet_renew_bg HOST [ARGS...]: certo renew on HOST in the background
# (output in $IT_TMP/HOST.out / .err, pid in $IT_TMP/HOST.pid); the host
# name is in FLEET_HOST for the hooks.
fleet_renew_bg() {
	_fl_h=$1
	shift
	FLEET_HOST=$_fl_h CERTO_STORE="$FLEET_STORE" \
		"$CERTO" renew --store-key "$FLEET_KEY" --state-dir "$IT_TMP/$_fl_h" "$@" \
		>"$IT_TMP/$_fl_h.out" 2>"$IT_TMP/$_fl_h.err" </dev/null &
	echo $! >"$IT_TMP/$_fl_h.pid"
	IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
}

# fleet_wait HOST SECONDS: wait for HOST's renew; its exit code in
# FLEET_RC.  Fails when it runs longer.
fleet_wait() {
	_fl_pid=$(cat "$IT_TMP/$1.pid")
	_fl_n=$(($2 * 10))
	while it_pid_alive "$_fl_pid" && [ "$_fl_n" -gt 0 ]; do
		sleep 0.1
		_fl_n=$((_fl_n - 1))
	done
	it_pid_alive "$_fl_pid" && fail "renew on $1 still runs after $2 s: $(tail -5 "$IT_TMP/$1.err")"
	wait "$_fl_pid"
	FLEET_RC=$?
}

# fleet_fp HOST NAME: SHA-256 fingerprint of HOST's live cert for NAME.
fleet_fp() {
	openssl x509 -in "$IT_TMP/$1/live/$2/cert.pem" -noout -fingerprint -sha256 2>/dev/null
}

# fleet_expect_same_new NAME OLD_FP HOST...: every HOST has one set for
# NAME, not OLD_FP, the same on all, its key matching, years of validity.
fleet_expect_same_new() {
	_fl_name=$1
	_fl_old=$2
	shift 2
	_fl_first=""
	for _fl_h in "$@"; do
		_fl_live="$IT_TMP/$_fl_h/live/$_fl_name"
		[ -f "$_fl_live/cert.pem" ] || fail "$_fl_h has no live set for $_fl_name"
		_fl_fp=$(fleet_fp "$_fl_h" "$_fl_name")
		[ "$_fl_fp" != "$_fl_old" ] || fail "$_fl_h still has the old certificate of $_fl_name"
		[ -z "$_fl_first" ] && _fl_first=$_fl_fp
		[ "$_fl_fp" = "$_fl_first" ] ||
			fail "$_fl_h's certificate of $_fl_name differs from the first host's"
		it_expect_key_matches "$_fl_live/privkey.pem" "$_fl_live/cert.pem"
		openssl x509 -in "$_fl_live/cert.pem" -noout -checkend $((30 * 86400)) >/dev/null ||
			fail "$_fl_h's certificate of $_fl_name is not a fresh one"
		openssl verify -CAfile "$IT_ROOT" -untrusted "$IT_INTERMEDIATE" \
			"$_fl_live/cert.pem" >/dev/null 2>&1 ||
			fail "$_fl_h's certificate of $_fl_name does not verify"
	done
}
