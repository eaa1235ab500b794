# shellcheck shell=sh
# cluster_lib.sh: helpers of the cluster_* tests (and of
# scripts/bench/cluster_tokens.sh): a real redis-server, certo-responder
# --store replicas and a real HAProxy in front of them, all on loopback in
# $IT_TMP, every PID added to IT_HELPER_PIDS (stopped by lib.sh's trap).
# Source it after lib.sh and it_init.
#
#   cl_start_redis PORT PASSWORD [aof]   redis-server (aof: appendonly,
#                                        fsync always: survives a restart;
#                                        PASSWORD "": none, as fleet_lib.sh)
#   cl_redis ARGS...                     redis-cli against it
#   cl_start_replica N HTTP TLS          certo-responder --store, socket
#                                        $IT_TMP/rN.sock; pid in CL_PID_N
#   cl_start_haproxy HTTP TLS "H1:T1 H2:T2 ..."  round robin, HTTP and TCP
#   cl_chall_keys                        the certo:chall:* keys, one a line

CL_REDIS_PORT=""
CL_REDIS_PW=""
CL_REDIS_PID=""
CL_STORE=""

# cl_wait_port PORT WHAT: wait up to 10 s for a listener on 127.0.0.1:PORT.
cl_wait_port() {
	_cl_n=100
	while ! it_port_busy "$1"; do
		_cl_n=$((_cl_n - 1))
		[ "$_cl_n" -gt 0 ] || fail "$2 did not listen on port $1 within 10 s"
		sleep 0.1
	done
}

cl_redis() {
	redis-cli -h 127.0.0.1 -p "$CL_REDIS_PORT" --no-auth-warning \
		${CL_REDIS_PW:+-a "$CL_REDIS_PW"} "$@"
}

cl_start_redis() {
	command -v redis-server >/dev/null 2>&1 || it_skip "redis-server not installed"
	command -v redis-cli >/dev/null 2>&1 || it_skip "redis-cli not installed"
	CL_REDIS_PORT=$1
	CL_REDIS_PW=$2
	CL_REDIS_AOF=${3:-}
	CL_STORE="redis://:$CL_REDIS_PW@127.0.0.1:$CL_REDIS_PORT/3"
	mkdir -p "$IT_TMP/redis"
	cl_redis_run
}

# cl_redis_run: (re)start the server configured by cl_start_redis.
cl_redis_run() {
	if [ "$CL_REDIS_AOF" = aof ]; then
		_cl_aof="--appendonly yes --appendfsync always"
	else
		_cl_aof="--appendonly no"
	fi
	it_port_busy "$CL_REDIS_PORT" && fail "port $CL_REDIS_PORT is already in use"
	# shellcheck disable=SC2086 # _cl_aof is a word list
	redis-server --port "$CL_REDIS_PORT" --bind 127.0.0.1 \
		${CL_REDIS_PW:+--requirepass "$CL_REDIS_PW"} --save '' $_cl_aof \
		--dir "$IT_TMP/redis" --daemonize no \
		>>"$IT_TMP/redis.log" 2>&1 </dev/null &
	CL_REDIS_PID=$!
	IT_HELPER_PIDS="$IT_HELPER_PIDS $CL_REDIS_PID"
	_cl_n=100
	while [ "$(cl_redis ping 2>/dev/null)" != PONG ]; do
		_cl_n=$((_cl_n - 1))
		[ "$_cl_n" -gt 0 ] || fail "redis-server did not answer within 10 s: $(tail -n 5 "$IT_TMP/redis.log")"
		sleep 0.1
	done
}

# cl_stop_redis: stop the server (SIGTERM, reaped).
cl_stop_redis() {
	kill "$CL_REDIS_PID" 2>/dev/null
	wait "$CL_REDIS_PID" 2>/dev/null
	_cl_n=50
	while it_port_busy "$CL_REDIS_PORT"; do
		_cl_n=$((_cl_n - 1))
		[ "$_cl_n" -gt 0 ] || fail "redis-server did not stop"
		sleep 0.1
	done
}

cl_start_replica() {
	[ -n "${CERTO_RESPONDER:-}" ] && [ -x "$CERTO_RESPONDER" ] ||
		fail "CERTO_RESPONDER is not set to the certo-responder binary"
	CERTO_STORE="$CL_STORE" "$CERTO_RESPONDER" --socket "$IT_TMP/r$1.sock" \
		--http-port "$2" --http-addr 127.0.0.1 --tls-port "$3" \
		--tls-addr 127.0.0.1 --stay-root -v \
		>>"$IT_TMP/r$1.log" 2>&1 </dev/null &
	eval "CL_PID_$1=\$!"
	IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
	cl_wait_port "$2" "replica $1"
	cl_wait_port "$3" "replica $1"
}

cl_start_haproxy() {
	command -v haproxy >/dev/null 2>&1 || it_skip "haproxy not installed"
	_cl_cfg="$IT_TMP/haproxy.cfg"
	cat >"$_cl_cfg" <<EOF
global
	maxconn 512
defaults
	timeout connect 1s
	timeout client 10s
	timeout server 10s
	retries 3
	option redispatch
frontend http01
	mode http
	bind 127.0.0.1:$1
	default_backend replicas_http
frontend tlsalpn01
	mode tcp
	bind 127.0.0.1:$2
	default_backend replicas_tls
backend replicas_http
	mode http
	balance roundrobin
EOF
	_cl_i=0
	for _cl_pair in $3; do
		_cl_i=$((_cl_i + 1))
		echo "	server r$_cl_i 127.0.0.1:${_cl_pair%:*} check inter 200ms fall 1 rise 1" >>"$_cl_cfg"
	done
	printf 'backend replicas_tls\n\tmode tcp\n\tbalance roundrobin\n' >>"$_cl_cfg"
	_cl_i=0
	for _cl_pair in $3; do
		_cl_i=$((_cl_i + 1))
		echo "	server r$_cl_i 127.0.0.1:${_cl_pair#*:} check inter 200ms fall 1 rise 1" >>"$_cl_cfg"
	done
	haproxy -db -f "$_cl_cfg" >>"$IT_TMP/haproxy.log" 2>&1 </dev/null &
	IT_HELPER_PIDS="$IT_HELPER_PIDS $!"
	cl_wait_port "$1" haproxy
	cl_wait_port "$2" haproxy
}

cl_chall_keys() {
	cl_redis -n 3 --scan --pattern 'certo:chall:*'
}

# cl_expect_no_chall WHAT: the store holds no challenge.
cl_expect_no_chall() {
	_cl_left=$(cl_chall_keys) || fail "$1: redis-cli --scan failed"
	[ -z "$_cl_left" ] || fail "$1: challenges left in the store: $(echo "$_cl_left" | tr '\n' ' ')"
}
