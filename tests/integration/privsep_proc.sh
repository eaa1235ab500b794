#!/bin/sh
# privsep_proc: the processes of a run, seen from /proc while certo waits
# in its --dns-hook (which records them, then goes on to publish): at
# least two certo processes; every one holding a TCP or UDP socket runs
# under a seccomp filter (Seccomp: 2) and, as the tests run as root, with
# a non-zero uid; the process holding the state directory (a descriptor
# or its cwd under it) holds no TCP or UDP socket; the hook itself runs
# without seccomp. The run then completes.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
. "$IT_DIR/privsep_lib.sh"
it_init privsep_proc
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

SNAP="$IT_TMP/proc"
HOOK="$IT_TMP/recording-hook"
ps_make_hook "$HOOK" "$SNAP"

it_certo issue -d ps.certo.test -d '*.ps.certo.test' --challenge dns-01 \
	--dns-hook "$HOOK" --dns-resolver "127.0.0.1:$DNS_PORT" \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
it_expect_rc 0 "dns-01 through the recording hook"
it_check_issued ps.certo.test ps.certo.test '*.ps.certo.test'
[ -s "$SNAP" ] || fail "the hook recorded no certo process"
it_log "processes (pid uid seccomp inet-sockets holds-state):"
sed 's/^/    /' "$SNAP"

n=$(wc -l <"$SNAP")
[ "$n" -ge 2 ] || fail "$n certo process(es) during the run, expected at least 2"
# Every process with a TCP/UDP socket: seccomp filter, not root.
net=$(awk '$4 > 0' "$SNAP" | wc -l)
[ "$net" -ge 1 ] || fail "no certo process held a TCP/UDP socket (keep-alive to the CA expected)"
bad=$(awk '$4 > 0 && $3 != 2 { print $1 }' "$SNAP")
[ -z "$bad" ] || fail "certo process(es) $bad hold a TCP/UDP socket without a seccomp filter"
if [ "$(id -u)" = 0 ]; then
	bad=$(awk '$4 > 0 && $2 == 0 { print $1 }' "$SNAP")
	[ -z "$bad" ] || fail "certo process(es) $bad hold a TCP/UDP socket as root"
fi
# The state directory's holder has no network socket.
holders=$(awk '$5 == 1' "$SNAP" | wc -l)
[ "$holders" -ge 1 ] || fail "no certo process holds the state directory (its locks)"
bad=$(awk '$5 == 1 && $4 > 0 { print $1 }' "$SNAP")
[ -z "$bad" ] || fail "certo process(es) $bad hold the state directory and a TCP/UDP socket"
# Hooks are the user's programs: not under the filter.
grep -q '^Seccomp: 0' "$SNAP.hook-seccomp" ||
	fail "the hook ran under a seccomp filter: $(cat "$SNAP.hook-seccomp")"
it_pass
