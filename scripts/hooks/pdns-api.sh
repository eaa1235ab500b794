#!/bin/sh
# pdns-api.sh: a certo dns-01 hook that adds and removes the TXT record
# through the PowerDNS Authoritative Server's HTTP API (also the model of
# several hosted DNS APIs). See docs/hooks.md for the hook contract.
#
#   PDNS_API_URL=http://127.0.0.1:8081 PDNS_API_KEY=... \
#   certo issue --challenge dns-01 --dns-hook /path/to/pdns-api.sh ...
#
# certo runs:  pdns-api.sh add|del dns-01 IDENTIFIER RECORD-NAME VALUE
#
# Environment:
#   PDNS_API_URL    the API's base URL, without /api/v1 (default
#                   http://127.0.0.1:8081; pdns.conf webserver-address/port)
#   PDNS_API_KEY    the API key (pdns.conf api-key); required. Handed to
#                   curl on its standard input, never on a command line.
#   PDNS_SERVER_ID  the server id in the API's URLs (default localhost)
#   PDNS_ZONE       the zone (default: found by walking up RECORD-NAME,
#                   label by label, until the API knows the zone); a CNAME
#                   at RECORD-NAME is followed into its target's zone
#   PDNS_TTL        TTL of the TXT RRset (default 60)
#   PDNS_TIMEOUT    seconds for each API request (default 10)
#
# The TXT RRset is read first and written back whole (PATCH with
# changetype REPLACE): add puts VALUE beside the values already there (the
# apex and its wildcard share one name), del takes only VALUE away and
# deletes the RRset (changetype DELETE) when none is left. Both are
# idempotent. Needs curl and jq.
#
# Exit 0 when PowerDNS accepted the change; non-zero with a message on
# stderr otherwise (certo shows it and exits 7).
set -u

prog=pdns-api.sh
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
# Names and values go into URLs and JSON: only what a DNS name and a
# base64url value can hold.
case "$record" in
'' | *[!A-Za-z0-9._-]* | .*) die "refusing record name '$record'" ;;
esac
case "$value" in
'' | *[!A-Za-z0-9_-]*) die "refusing TXT value '$value'" ;;
esac
name=${record%.}.

url=${PDNS_API_URL:-http://127.0.0.1:8081}
url=${url%/}
key=${PDNS_API_KEY:-}
sid=${PDNS_SERVER_ID:-localhost}
zone=${PDNS_ZONE:-}
ttl=${PDNS_TTL:-60}
timeout=${PDNS_TIMEOUT:-10}
[ -n "$key" ] || die "PDNS_API_KEY is not set"
case "$key" in
*[!A-Za-z0-9._~+/=-]*) die "PDNS_API_KEY holds characters an API key does not" ;;
esac
case "$url" in
http://* | https://*) ;;
*) die "PDNS_API_URL must be an http:// or https:// URL" ;;
esac
case "$url$sid$zone" in
*[!A-Za-z0-9.:/_\[\]-]*) die "refusing PDNS_API_URL, PDNS_SERVER_ID or PDNS_ZONE" ;;
esac
for v in "$ttl" "$timeout"; do
	case "$v" in
	'' | *[!0-9]*) die "not a number: '$v'" ;;
	esac
done
command -v curl >/dev/null 2>&1 || die "curl not found"
command -v jq >/dev/null 2>&1 || die "jq not found (Debian package jq)"

tmp=$(mktemp "${TMPDIR:-/tmp}/pdns-api.XXXXXX") || die "mktemp failed"
trap 'rm -f "$tmp"' EXIT

# api METHOD PATH [BODY]: the HTTP status on stdout, the body in $tmp.
api() {
	printf 'header = "X-API-Key: %s"\n' "$key" |
		curl -sS --max-time "$timeout" --max-filesize 8388608 -K - \
			-X "$1" -H 'Content-Type: application/json' \
			${3:+--data-binary "$3"} -o "$tmp" -w '%{http_code}' \
			"$url/api/v1/servers/$sid$2" 2>"$tmp.err"
	_rc=$?
	if [ "$_rc" -ne 0 ]; then
		echo "$prog: $1 $url/api/v1/servers/$sid$2: curl exit $_rc: $(head -c 300 "$tmp.err")" >&2
		rm -f "$tmp.err"
		exit 1
	fi
	rm -f "$tmp.err"
}
# why: the API's error message of the last answer, one line.
why() {
	jq -r '.error // empty' "$tmp" 2>/dev/null | head -c 300 ||
		head -c 300 "$tmp" | tr -d '\r\n'
}

# find_zone NAME: the longest suffix of NAME the API knows, in $zone.
find_zone() {
	cand=$1
	while :; do
		code=$(api GET "/zones/$cand?rrsets=false")
		case "$code" in
		200)
			zone=$cand
			return 0
			;;
		404 | 422) ;;
		*) die "GET zone $cand: HTTP $code: $(why)" ;;
		esac
		case "$cand" in
		*.*.*) cand=${cand#*.} ;;
		*) die "no zone on $url holds $1" ;;
		esac
	done
}

# The zone (PDNS_ZONE, else found), then its RRsets. A CNAME at the name
# (_acme-challenge delegated to a zone made for challenges) is followed,
# at most 8 times, into the zone that holds its target.
fixed_zone=$zone
hops=0
while :; do
	if [ -n "$fixed_zone" ] && [ "$hops" = 0 ]; then
		zone=$fixed_zone
	else
		find_zone "$name"
	fi
	zone=${zone%.}.
	code=$(api GET "/zones/$zone")
	[ "$code" = 200 ] || die "GET zone $zone: HTTP $code: $(why)"
	target=$(jq -r --arg n "$name" '.rrsets[]? | select(.name == $n and .type == "CNAME")
		| .records[0].content // empty' "$tmp") ||
		die "cannot read the zone $zone from the API"
	[ -n "$target" ] && [ "$hops" -lt 8 ] || break
	case "$target" in
	*[!A-Za-z0-9._-]* | .*) die "refusing CNAME target '$target' of $name" ;;
	esac
	name=${target%.}.
	hops=$((hops + 1))
done

# The values of the name's TXT RRset now (without their quotes).
have=$(jq -r --arg n "$name" '.rrsets[]? | select(.name == $n and .type == "TXT")
	| .records[] | .content | ltrimstr("\"") | rtrimstr("\"")' "$tmp") ||
	die "cannot read the zone $zone from the API"
# The TTL stays what it was when the RRset exists.
old_ttl=$(jq -r --arg n "$name" '.rrsets[]? | select(.name == $n and .type == "TXT") | .ttl' "$tmp")
[ -n "$old_ttl" ] && ttl=$old_ttl

present=0
printf '%s\n' "$have" | grep -qxF -- "$value" && present=1
if [ "$action" = add ]; then
	[ "$present" = 1 ] && exit 0
	want=$(printf '%s\n%s\n' "$have" "$value" | grep -v '^$')
else
	[ "$present" = 1 ] || exit 0
	want=$(printf '%s\n' "$have" | grep -vxF -- "$value" | grep -v '^$')
fi

if [ -z "$want" ]; then
	body=$(jq -cn --arg n "$name" \
		'{rrsets: [{name: $n, type: "TXT", changetype: "DELETE"}]}')
else
	body=$(printf '%s\n' "$want" | jq -cR '{content: ("\"" + . + "\""), disabled: false}' |
		jq -cs --arg n "$name" --argjson ttl "$ttl" \
			'{rrsets: [{name: $n, type: "TXT", ttl: $ttl, changetype: "REPLACE", records: .}]}')
fi
code=$(api PATCH "/zones/$zone" "$body")
case "$code" in
200 | 204) exit 0 ;;
*) die "$action $name TXT in zone $zone: HTTP $code: $(why)" ;;
esac
