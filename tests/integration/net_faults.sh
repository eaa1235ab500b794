#!/bin/sh
# net_faults: certo talks to Pebble through fault_proxy.py, which resets,
# truncates or delays 12% + 12% + 12% of the connections (seeded; and
# connections 2, 5 and 9 always, since a run that reuses its cached
# directory and pinned root makes few connections). Of 20
# issuances at least 19 must succeed, none may hang (each run is bounded
# by CERTO_IT_RUN_TIMEOUT), every live set must verify against Pebble's
# root with its key, and the proxy must really have broken connections.
. "$(dirname "$0")/lib.sh"
it_init net_faults
it_start_pebble

RUNS=${NET_FAULTS_RUNS:-20}
NEED=$((RUNS - 1))
proxy_port=$((IT_BASEPORT + 20))
it_port_busy "$proxy_port" && fail "port $proxy_port is already in use"
"$IT_PY" "$IT_DIR/fault_proxy.py" --listen "$proxy_port" --target "$IT_BASEPORT" \
	--reset 0.12 --truncate 0.12 --delay 0.12 --delay-seconds 1 \
	--cut-max 3000 --seed "${NET_FAULTS_SEED:-20261}" --lifetime 300 \
	--plan-also --plan "2:reset@0,5:reset@0,9:truncate@200" \
	--log "$IT_TMP/proxy.log" </dev/null >/dev/null 2>&1 &
proxy_pid=$!
IT_HELPER_PIDS="$IT_HELPER_PIDS $proxy_pid"
it_wait_port "$proxy_port" fault_proxy.py "$proxy_pid" "$IT_TMP/proxy.log"

# Pebble names its resources after the Host header: all of certo's ACME
# requests go through the proxy.
url="https://localhost:$proxy_port/dir"
ok=0
retries=0
i=1
: >"$IT_TMP/failures"
while [ "$i" -le "$RUNS" ]; do
	it_certo issue --server "$url" --ca-bundle "$PEBBLE_CA_BUNDLE" \
		--state-dir "$IT_STATE" --standalone --http-port "$IT_HTTP_PORT" \
		--http-addr 127.0.0.1 --agree-tos --email test@example.com \
		-d "f$i.certo.test"
	retries=$((retries + $(grep -c 'retry [0-9]* of' "$IT_OUT")))
	if [ "$IT_RC" -eq 0 ]; then
		ok=$((ok + 1))
	else
		{
			echo "run $i: exit $IT_RC after ${IT_ELAPSED}s:"
			sed 's/^/    /' "$IT_ERR"
		} >>"$IT_TMP/failures"
	fi
	i=$((i + 1))
done
it_log "$ok of $RUNS issuances succeeded through the fault proxy"
kill "$proxy_pid" 2>/dev/null
wait "$proxy_pid" 2>/dev/null
applied=$(grep -c ': applied' "$IT_TMP/proxy.log")
delayed=$(grep -c ' delay ' "$IT_TMP/proxy.log")
it_log "proxy: $(grep -m1 summary "$IT_TMP/proxy.log" | sed 's/^[0-9.]* //')"
it_log "faults applied $applied, delayed connections $delayed, certo retries $retries"
[ -s "$IT_TMP/failures" ] && sed 's/^/  /' "$IT_TMP/failures"
# The proxy must have broken enough connections for this to mean anything.
[ "$applied" -ge 3 ] || fail "the proxy applied only $applied faults (see $IT_TMP/proxy.log)"
[ "$ok" -ge "$NEED" ] ||
	fail "only $ok of $RUNS issuances succeeded (need $NEED): $(head -n 3 "$IT_TMP/failures" | tr '\n' ' ')"

# Every live set (successful runs) verifies with its own key and names.
sets=0
for d in "$IT_STATE"/live/*/; do
	[ -d "$d" ] || continue
	name=$(basename "$d")
	it_expect_verifies "$d/cert.pem" "$d/chain.pem"
	it_expect_verifies "$d/cert.pem" "$IT_INTERMEDIATE"
	it_expect_key_matches "$d/privkey.pem" "$d/cert.pem"
	it_expect_sans "$d/cert.pem" "$name"
	sets=$((sets + 1))
done
[ "$sets" -eq "$ok" ] || fail "$sets live sets for $ok successful runs"
it_expect_no_tmp
it_pass
