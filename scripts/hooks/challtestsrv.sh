#!/bin/sh
# challtestsrv.sh: a certo hook for tests and demos that publishes challenge
# responses in pebble-challtestsrv (Pebble's mock DNS server) through its
# management API. See docs/hooks.md for the hook contract.
#
#   . scripts/pebble-env.sh; pebble_start ...        # sets CHALLTESTSRV_MGMT_URL
#   certo issue --challenge dns-01 --dns-hook scripts/hooks/challtestsrv.sh \
#       --dns-resolver 127.0.0.1:<challtestsrv DNS port> ...
#
# certo runs:  challtestsrv.sh add|del dns-01  IDENTIFIER RECORD-NAME VALUE
#              challtestsrv.sh add|del http-01 IDENTIFIER TOKEN KEY-AUTHORIZATION
#
# dns-01: add is POST /set-txt (challtestsrv appends the value to the name);
# del must remove only its own value (an apex and its wildcard share one
# name), but /clear-txt removes every value of the name, so this hook keeps
# the values it added in a state file and, on del, clears the name and adds
# the others back.
# http-01: POST /add-http01 and /del-http01, used only when challtestsrv
# runs its http-01 server; scripts/pebble-env.sh turns it off (certo's own
# responder takes the port), and then the hook says so and exits 0.
#
# Environment:
#   CHALLTESTSRV_MGMT_URL   e.g. http://127.0.0.1:8055 (required)
#   CHALLTESTSRV_HOOK_STATE state file (default: $TMPDIR/certo-challtestsrv-
#                           <url>.txt)
#
# Exit 0 when done; 1 with a message on stderr otherwise.
set -u

prog=challtestsrv.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# -eq 5 ] ||
	die "usage: $prog add|del dns-01|http-01 IDENTIFIER NAME-OR-TOKEN VALUE"
action=$1
type=$2
arg4=$4
arg5=$5
url=${CHALLTESTSRV_MGMT_URL:-}
[ -n "$url" ] || die "CHALLTESTSRV_MGMT_URL is not set (see scripts/pebble-env.sh)"
case "$action" in
add | del) ;;
*) die "unknown action '$action' (expected add or del)" ;;
esac
command -v curl >/dev/null 2>&1 || die "curl not found"

# post PATH JSON: POST to the management API; prints the HTTP status.
post() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
		-H 'Content-Type: application/json' -d "$2" "$url$1"
}

# post_ok PATH JSON: POST, fail unless the answer is 200.
post_ok() {
	_code=$(post "$1" "$2") || die "POST $url$1 failed (curl exit $?)"
	[ "$_code" = 200 ] || die "POST $url$1 answered HTTP $_code"
}

# The strings go into JSON: allow only DNS-name and base64url characters.
case "$arg4" in
'' | *[!A-Za-z0-9._-]*) die "refusing '$arg4'" ;;
esac
case "$arg5" in
'' | *[!A-Za-z0-9._-]*) die "refusing '$arg5'" ;;
esac

case "$type" in
dns-01)
	host=${arg4%.}.
	value=$arg5
	state=${CHALLTESTSRV_HOOK_STATE:-${TMPDIR:-/tmp}/certo-challtestsrv-$(printf '%s' "$url" | tr -c 'A-Za-z0-9' '_').txt}
	touch "$state" || die "cannot write $state"
	# Serialise read-modify-write of the state file when flock exists.
	if command -v flock >/dev/null 2>&1; then
		exec 9>>"$state.lock"
		flock -w 10 9 || die "cannot lock $state.lock"
	fi
	if [ "$action" = add ]; then
		post_ok /set-txt "{\"host\":\"$host\",\"value\":\"$value\"}"
		echo "$host $value" >>"$state" || die "cannot write $state"
		exit 0
	fi
	# del: drop this value, keep the others of the same name.
	grep -vxF -- "$host $value" "$state" >"$state.new" || true
	mv "$state.new" "$state" || die "cannot write $state"
	post_ok /clear-txt "{\"host\":\"$host\"}"
	grep -F -- "$host " "$state" | while read -r _h _v; do
		[ "$_h" = "$host" ] || continue
		post_ok /set-txt "{\"host\":\"$host\",\"value\":\"$_v\"}"
	done || exit 1
	exit 0
	;;
http-01)
	token=$arg4
	keyauth=$arg5
	if [ "$action" = add ]; then
		code=$(post /add-http01 "{\"token\":\"$token\",\"content\":\"$keyauth\"}") ||
			die "POST $url/add-http01 failed"
	else
		code=$(post /del-http01 "{\"token\":\"$token\"}") ||
			die "POST $url/del-http01 failed"
	fi
	case "$code" in
	200) exit 0 ;;
	404)
		echo "$prog: note: challtestsrv's http-01 server is off (scripts/pebble-env.sh" \
			"starts it with -http01 \"\"); nothing done for http-01" >&2
		exit 0
		;;
	*) die "POST $url/$action-http01 answered HTTP $code" ;;
	esac
	;;
*)
	die "unknown challenge type '$type' (expected dns-01 or http-01)"
	;;
esac
