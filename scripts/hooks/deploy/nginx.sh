#!/bin/sh
# nginx.sh: a certo deploy hook that reloads nginx when the certificate set
# changed (deploy-lib.sh says how it knows). The configuration is tested
# first (nginx -t): a configuration nginx would refuse is not reloaded.
#
#   certo issue -d example.com --webroot /var/www/html \
#       --deploy-hook /usr/local/share/certo/hooks/deploy/nginx.sh
#
# and in nginx: ssl_certificate     /var/lib/certo/live/example.com/fullchain.pem;
#               ssl_certificate_key /var/lib/certo/live/example.com/privkey.pem;
#
# Environment:
#   CERTO_NGINX       the nginx binary (default: nginx on PATH)
#   CERTO_NGINX_OPTS  options for both nginx calls, e.g. "-c /etc/nginx/nginx.conf"
#                     (set: reload with nginx -s reload even under systemd)
#   CERTO_DEPLOY_FORCE=1  reload even if the set did not change
# Reloads with systemctl reload nginx under systemd, else nginx -s reload.
set -u
. "$(dirname "$0")/deploy-lib.sh"
deploy_init nginx
deploy_changed || deploy_unchanged_exit

nginx=${CERTO_NGINX:-nginx}
# shellcheck disable=SC2086 # CERTO_NGINX_OPTS is a word list
out=$("$nginx" ${CERTO_NGINX_OPTS:-} -t -q 2>&1) ||
	deploy_die "nginx -t refused the configuration, not reloading: $out"
if [ -z "${CERTO_NGINX_OPTS:-}" ] && deploy_systemd; then
	systemctl reload nginx || deploy_die "systemctl reload nginx failed"
else
	# shellcheck disable=SC2086
	"$nginx" ${CERTO_NGINX_OPTS:-} -s reload || deploy_die "nginx -s reload failed"
fi
deploy_done
deploy_say "nginx reloaded for ${CERTO_DOMAINS:-$DEPLOY_LIVE}"
