#!/bin/sh
# hook_fds: hooks inherit nothing of certo but stdin, stdout and stderr:
# not the CA connection, not the responder's listening sockets, not lock
# or key files. A --dns-hook (wrapping scripts/hooks/challtestsrv.sh) and
# a --deploy-hook (after a --standalone issuance, while certo's own http-01
# server is still bound) list /proc/self/fd: only 0, 1 and 2.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/dns_lib.sh"
it_init hook_fds
dns_need_cli
PEBBLE_AUTHZREUSE=0 it_start_pebble
dns_init

LIST="$IT_TMP/fds.py"
cat >"$LIST" <<PY
#!$IT_PY
# Lists this process's descriptors (without the one listdir opened),
# then runs the real hook, if any.
import os, sys
fds = []
for e in os.listdir("/proc/self/fd"):
    try:
        fds.append("%s=%s" % (e, os.readlink("/proc/self/fd/" + e)))
    except OSError:
        pass
label = sys.argv[1] if len(sys.argv) > 1 else "none"
with open("$IT_TMP/fds.txt", "a") as f:
    f.write(label + " " + " ".join(sorted(fds, key=lambda s: int(s.split("=")[0]))) + "\n")
if len(sys.argv) > 2:
    os.execv("$DNS_HOOK", ["$DNS_HOOK"] + sys.argv[1:])
PY
chmod +x "$LIST"

it_certo issue -d fd.certo.test --challenge dns-01 --dns-hook "$LIST" \
	--dns-resolver "127.0.0.1:$DNS_PORT" \
	--server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_STATE" --agree-tos -m t@example.com
it_expect_rc 0 "dns-01 through the listing hook"
it_check_issued fd.certo.test fd.certo.test

it_issue -d fd2.certo.test --deploy-hook "'$LIST' deploy"
it_expect_rc 0 "standalone issuance with a deploy hook"

for call in add del deploy; do
	line=$(grep "^$call " "$IT_TMP/fds.txt" | head -n 1)
	[ -n "$line" ] || fail "no $call call recorded: $(cat "$IT_TMP/fds.txt")"
	nums=$(echo "$line" | tr ' ' '\n' | sed -n 's/^\([0-9]*\)=.*/\1/p' | tr '\n' ' ')
	[ "$nums" = "0 1 2 " ] || fail "the $call hook inherited descriptors: $line"
done
it_pass
