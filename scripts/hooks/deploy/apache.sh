#!/bin/sh
# apache.sh: a certo deploy hook that reloads Apache httpd gracefully when
# the certificate set changed (deploy-lib.sh says how it knows). The
# configuration is tested first (apachectl -t).
#
#   certo issue -d example.com --webroot /var/www/html \
#       --deploy-hook /usr/local/share/certo/hooks/deploy/apache.sh
#
# and in Apache: SSLCertificateFile    /var/lib/certo/live/example.com/fullchain.pem
#                SSLCertificateKeyFile /var/lib/certo/live/example.com/privkey.pem
#
# Environment:
#   CERTO_APACHECTL   apachectl to use (default: apache2ctl (Debian), else apachectl);
#                     the server binary itself (/usr/sbin/apache2, httpd) works too
#   CERTO_APACHE_OPTS options for both calls, e.g. "-f /srv/apache/apache2.conf"
#                     (set: reload with apachectl -k graceful even under systemd)
#   CERTO_APACHE_UNIT systemd unit (default: apache2 (Debian), else httpd)
#   CERTO_DEPLOY_FORCE=1  reload even if the set did not change
# Reloads with systemctl reload UNIT under systemd, else apachectl -k graceful.
set -u
. "$(dirname "$0")/deploy-lib.sh"
deploy_init apache
deploy_changed || deploy_unchanged_exit

ctl=${CERTO_APACHECTL:-}
if [ -z "$ctl" ]; then
	if command -v apache2ctl >/dev/null 2>&1; then ctl=apache2ctl; else ctl=apachectl; fi
fi
unit=${CERTO_APACHE_UNIT:-}
if [ -z "$unit" ]; then
	if [ -d /etc/apache2 ]; then unit=apache2; else unit=httpd; fi
fi
# shellcheck disable=SC2086 # CERTO_APACHE_OPTS is a word list
out=$("$ctl" ${CERTO_APACHE_OPTS:-} -t 2>&1) ||
	deploy_die "$ctl -t refused the configuration, not reloading: $out"
if [ -z "${CERTO_APACHE_OPTS:-}" ] && deploy_systemd; then
	systemctl reload "$unit" || deploy_die "systemctl reload $unit failed"
else
	# shellcheck disable=SC2086
	"$ctl" ${CERTO_APACHE_OPTS:-} -k graceful || deploy_die "$ctl -k graceful failed"
fi
deploy_done
deploy_say "Apache reloaded for ${CERTO_DOMAINS:-$DEPLOY_LIVE}"
