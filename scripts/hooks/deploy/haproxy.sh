#!/bin/sh
# haproxy.sh: a certo deploy hook that reloads HAProxy when the certificate
# set changed (deploy-lib.sh says how it knows). HAProxy wants the key and
# the chain in one file: issue with --pem-bundle (remembered for renew),
# and certo writes combined.pem in the live set. The configuration is
# checked first (haproxy -c).
#
#   certo issue -d example.com --webroot /var/www/html --pem-bundle \
#       --deploy-hook /usr/local/share/certo/hooks/deploy/haproxy.sh
#
# and in haproxy.cfg: bind :443 ssl crt /var/lib/certo/live/example.com/combined.pem
#
# Environment:
#   CERTO_HAPROXY          the haproxy binary (default: haproxy on PATH)
#   CERTO_HAPROXY_CFG      its configuration (default /etc/haproxy/haproxy.cfg)
#   CERTO_HAPROXY_PIDFILE  the pid file of an HAProxy in master-worker mode
#                          (-W -p FILE): reload with SIGUSR2 to the master
#                          instead of systemctl reload haproxy
#   CERTO_DEPLOY_FORCE=1   reload even if the set did not change
set -u
. "$(dirname "$0")/deploy-lib.sh"
deploy_init haproxy
[ -f "$DEPLOY_LIVE/combined.pem" ] ||
	deploy_die "no combined.pem in $DEPLOY_LIVE: issue with --pem-bundle"
deploy_changed || deploy_unchanged_exit

haproxy=${CERTO_HAPROXY:-haproxy}
cfg=${CERTO_HAPROXY_CFG:-/etc/haproxy/haproxy.cfg}
out=$("$haproxy" -c -q -f "$cfg" 2>&1) ||
	deploy_die "haproxy -c refused $cfg, not reloading: $out"
if [ -n "${CERTO_HAPROXY_PIDFILE:-}" ]; then
	pid=$(head -n 1 "$CERTO_HAPROXY_PIDFILE" 2>/dev/null)
	case "$pid" in
	'' | *[!0-9]*) deploy_die "no pid in $CERTO_HAPROXY_PIDFILE" ;;
	esac
	kill -USR2 "$pid" || deploy_die "cannot signal HAProxy's master (pid $pid)"
elif deploy_systemd; then
	systemctl reload haproxy || deploy_die "systemctl reload haproxy failed"
else
	deploy_die "without systemd, set CERTO_HAPROXY_PIDFILE (HAProxy in master-worker mode, -W -p FILE)"
fi
deploy_done
deploy_say "HAProxy reloaded for ${CERTO_DOMAINS:-$DEPLOY_LIVE}"
