# shellcheck shell=sh
# shellcheck disable=SC2034 # DNS_* and IT_* are read by the sourcing tests and lib.sh
# dns_lib.sh: helpers of the dns_* integration tests (sourced after lib.sh).

# dns_init: the DNS knobs of this test's Pebble: $DNS_PORT (challtestsrv's
# DNS port), $DNS_HOOK (scripts/hooks/challtestsrv.sh) with its state file
# inside $IT_TMP.
dns_init() {
	DNS_PORT=$((IT_BASEPORT + 2))
	DNS_HOOK="$IT_SRCROOT/scripts/hooks/challtestsrv.sh"
	CHALLTESTSRV_HOOK_STATE="$IT_TMP/challtestsrv-hook.state"
	export CHALLTESTSRV_HOOK_STATE
}

# dns_certo_bg ARGS...: start "$CERTO" ARGS in the background (stdout and
# stderr to $IT_OUT, $IT_ERR; killed by the cleanup trap); sets DNS_PID.
dns_certo_bg() {
	IT_LAST_CMD=""
	for _d_a in "$@"; do
		IT_LAST_CMD="$IT_LAST_CMD '$_d_a'"
	done
	IT_LAST_CMD=" certo$IT_LAST_CMD"
	DNS_T0=$(date +%s%3N)
	"$CERTO" "$@" >"$IT_OUT" 2>"$IT_ERR" </dev/null &
	DNS_PID=$!
	IT_HELPER_PIDS="$IT_HELPER_PIDS $DNS_PID"
}

# dns_certo_wait SECONDS: wait for the background certo; sets IT_RC and
# IT_ELAPSED; fails if it runs longer.
dns_certo_wait() {
	_d_n=$(($1 * 10))
	while kill -0 "$DNS_PID" 2>/dev/null && [ "$_d_n" -gt 0 ]; do
		# A zombie counts as finished.
		case "$(cut -d' ' -f3 "/proc/$DNS_PID/stat" 2>/dev/null)" in
		Z | X) break ;;
		esac
		sleep 0.1
		_d_n=$((_d_n - 1))
	done
	if [ "$_d_n" -eq 0 ]; then
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		IT_RC=timeout
		fail "certo did not finish within $1 s"
	fi
	wait "$DNS_PID"
	IT_RC=$?
	IT_ELAPSED=$(awk -v a="$DNS_T0" -v b="$(date +%s%3N)" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
}

# dns_manual_records SECONDS: wait until certo printed its
# `_acme-challenge.NAME. 300 IN TXT "VALUE"` lines (and went on to wait:
# the "waiting until" line), then print "NAME VALUE" per record.
dns_manual_records() {
	_d_n=$(($1 * 10))
	while ! grep -q 'dns-01: waiting until' "$IT_OUT" 2>/dev/null; do
		_d_n=$((_d_n - 1))
		[ "$_d_n" -gt 0 ] || fail "certo printed no 'dns-01: waiting until' line within $1 s"
		kill -0 "$DNS_PID" 2>/dev/null || fail "certo exited before printing the records"
		sleep 0.1
	done
	sed -n 's/^\(_acme-challenge\.[A-Za-z0-9._-]*\)\. 300 IN TXT "\([A-Za-z0-9_-]*\)"$/\1 \2/p' "$IT_OUT"
}

# dns_set_txt NAME VALUE: publish a TXT value in challtestsrv.
dns_set_txt() {
	_d_c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
		-d "{\"host\":\"$1.\",\"value\":\"$2\"}" "$CHALLTESTSRV_MGMT_URL/set-txt")
	[ "$_d_c" = 200 ] || fail "challtestsrv /set-txt answered $_d_c"
}

# dns_validations IDENT: how many validation tasks Pebble started for IDENT
# (Pebble logs each as "Pulled a task from the Tasks queue" with the name).
dns_validations() {
	grep -c "Pulled a task from the Tasks queue.*Value:\"$1\"" "$IT_PEBBLE_DIR/pebble.log"
}

# dns_need_cli: skip unless this certo has the dns-01 options.
dns_need_cli() {
	"$CERTO" issue --help 2>&1 | grep -q -- '--dns-hook' ||
		it_skip "this certo has no --dns-hook option yet"
}
