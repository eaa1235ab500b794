#!/bin/sh
# nsupdate.sh: a certo dns-01 hook that adds and removes the TXT record with
# an RFC 2136 dynamic update signed with TSIG (nsupdate, Debian package
# bind9-dnsutils). See docs/hooks.md for the hook contract.
#
#   certo issue --challenge dns-01 --dns-hook /path/to/nsupdate.sh ...
#
# certo runs:  nsupdate.sh add|del dns-01 IDENTIFIER RECORD-NAME VALUE
#
# Environment:
#   CERTO_NSUPDATE_SERVER  primary server to update (default 127.0.0.1)
#   CERTO_NSUPDATE_PORT    its port (default 53)
#   CERTO_NSUPDATE_KEY     TSIG key: a key file (nsupdate -k, preferred),
#                          or "[alg:]name:secret" (nsupdate -y: the secret is
#                          visible in ps, use it only for tests); unset: no
#                          TSIG
#   CERTO_NSUPDATE_ZONE    zone to update (default: nsupdate finds it from
#                          the SOA, asking CERTO_NSUPDATE_SERVER)
#   CERTO_NSUPDATE_TTL     TTL of the record (default 60)
#   CERTO_NSUPDATE_TIMEOUT seconds before nsupdate gives up (default 10)
#   CERTO_NSUPDATE_FOLLOW  1 (default): when RECORD-NAME is a CNAME on the
#                          server (delegation of _acme-challenge to a zone
#                          made for updates), update the end of the chain
#                          instead; needs dig. 0: update RECORD-NAME as is.
#
# Exit 0 when the server accepted the update; non-zero with a message on
# stderr otherwise (certo shows it and exits 7).
set -u

prog=nsupdate.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# -eq 5 ] || die "usage: $prog add|del dns-01 IDENTIFIER RECORD-NAME VALUE"
action=$1
type=$2
record=$4
value=$5

case "$action" in
add | del) ;;
*) die "unknown action '$action' (expected add or del)" ;;
esac
[ "$type" = dns-01 ] || die "only dns-01 is handled, not '$type'"

# The values go into nsupdate's command language: allow only what a DNS
# name and a base64url value can hold, so nothing can add a command.
case "$record" in
'' | *[!A-Za-z0-9._-]*) die "refusing record name '$record'" ;;
esac
case "$value" in
'' | *[!A-Za-z0-9_-]*) die "refusing TXT value '$value'" ;;
esac
record=${record%.}.

server=${CERTO_NSUPDATE_SERVER:-127.0.0.1}
port=${CERTO_NSUPDATE_PORT:-53}
ttl=${CERTO_NSUPDATE_TTL:-60}
timeout=${CERTO_NSUPDATE_TIMEOUT:-10}
zone=${CERTO_NSUPDATE_ZONE:-}
for v in "$server" "$zone"; do
	case "$v" in
	*[!A-Za-z0-9.:_-]*) die "refusing '$v' in CERTO_NSUPDATE_SERVER/ZONE" ;;
	esac
done
for v in "$port" "$ttl" "$timeout"; do
	case "$v" in
	'' | *[!0-9]*) die "not a number: '$v'" ;;
	esac
done

command -v nsupdate >/dev/null 2>&1 ||
	die "nsupdate not found (Debian package bind9-dnsutils)"

set --
key=${CERTO_NSUPDATE_KEY:-}
if [ -n "$key" ]; then
	if [ -f "$key" ]; then
		set -- -k "$key"
	else
		set -- -y "$key"
	fi
fi

# Follow a CNAME delegation (at most 8 hops), asking the server itself.
if [ "${CERTO_NSUPDATE_FOLLOW:-1}" = 1 ] && command -v dig >/dev/null 2>&1; then
	hops=0
	while [ "$hops" -lt 8 ]; do
		target=$(dig +short +norec +time=2 +tries=2 -p "$port" "@$server" \
			"$record" CNAME 2>/dev/null | head -n 1)
		case "$target" in
		'' | *[!A-Za-z0-9._-]*) break ;;
		esac
		record=${target%.}.
		hops=$((hops + 1))
	done
fi

if [ "$action" = add ]; then
	cmd="update add $record $ttl IN TXT \"$value\""
else
	# Only this value: the apex and its wildcard share the name.
	cmd="update delete $record IN TXT \"$value\""
fi

out=$(
	{
		echo "server $server $port"
		[ -n "$zone" ] && echo "zone ${zone%.}."
		echo "$cmd"
		echo "send"
	} | nsupdate -t "$timeout" "$@" 2>&1
)
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "$prog: $action $record TXT on $server:$port failed (nsupdate exit $rc)" >&2
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/  /' >&2
	exit 1
fi
exit 0
