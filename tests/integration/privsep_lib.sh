# privsep_lib.sh: for the privilege-separation tests (sourced after lib.sh
# and dns_lib.sh). ps_make_hook writes a --dns-hook that, at its first
# "add", records every certo process from /proc, then runs the real hook
# ($DNS_HOOK).

# ps_make_hook HOOK SNAP [SLEEP] [PORT]: the hook at HOOK records into SNAP
# one line per process running $CERTO's binary: pid uid seccomp
# inet-sockets holds-state port-connections (TCP sockets connected to
# PORT; 0 without PORT), after SLEEP seconds (default 0); and the hook's
# own "Seccomp:" line into SNAP.hook-seccomp.
ps_make_hook() {
	_exe=$(readlink -f "$CERTO")
	_port_hex=none
	[ -n "${4:-}" ] && _port_hex=$(printf '%04X' "$4")
	cat >"$1" <<HOOK
#!/bin/sh
if [ "\$1" = add ] && [ ! -e "$2" ]; then
	sleep ${3:-0}
	grep '^Seccomp:' /proc/self/status | tr -s '\t ' ' ' >"$2.hook-seccomp"
	for d in /proc/[0-9]*; do
		[ "\$(readlink "\$d/exe" 2>/dev/null)" = "$_exe" ] || continue
		pid=\${d#/proc/}
		uid=\$(awk '/^Uid:/ { print \$3 }' "\$d/status")
		sec=\$(awk '/^Seccomp:/ { print \$2 }' "\$d/status")
		inodes=\$(cat "\$d/net/tcp" "\$d/net/tcp6" "\$d/net/udp" "\$d/net/udp6" 2>/dev/null |
			awk '\$10 ~ /^[0-9]+\$/ && \$10 != 0 { print \$10 }')
		pinodes=\$(cat "\$d/net/tcp" "\$d/net/tcp6" 2>/dev/null |
			awk '{ n = split(\$3, a, ":") } n == 2 && a[2] == "$_port_hex" && \$10 != 0 { print \$10 }')
		inet=0 state=0 port=0
		for fd in "\$d"/fd/*; do
			l=\$(readlink "\$fd" 2>/dev/null) || continue
			case "\$l" in
			socket:\[*\])
				i=\${l#socket:[}
				i=\${i%]}
				for n in \$inodes; do
					[ "\$n" = "\$i" ] && inet=\$((inet + 1))
				done
				for n in \$pinodes; do
					[ "\$n" = "\$i" ] && port=\$((port + 1))
				done ;;
			"$IT_STATE"/*) state=1 ;;
			esac
		done
		case "\$(readlink "\$d/cwd")" in
		"$IT_STATE" | "$IT_STATE"/*) state=1 ;;
		esac
		echo "\$pid \$uid \$sec \$inet \$state \$port" >>"$2.tmp"
	done
	mv "$2.tmp" "$2"
fi
exec "$DNS_HOOK" "\$@"
HOOK
	chmod +x "$1"
}
