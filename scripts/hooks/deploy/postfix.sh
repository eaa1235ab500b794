#!/bin/sh
# postfix.sh: a certo deploy hook that reloads Postfix when the certificate
# set changed (deploy-lib.sh says how it knows). The installation is
# checked first (postfix check).
#
#   certo issue -d mail.example.com --standalone \
#       --deploy-hook /usr/local/share/certo/hooks/deploy/postfix.sh
#
# and in main.cf: smtpd_tls_chain_files = /var/lib/certo/live/mail.example.com/privkey.pem,
#                     /var/lib/certo/live/mail.example.com/fullchain.pem
#
# Environment:
#   CERTO_POSTFIX        the postfix command (default: postfix on PATH)
#   CERTO_POSTFIX_CONFIG_DIR  the configuration directory of the instance to
#                        reload (postfix -c DIR check, postfix -c DIR reload;
#                        default: postfix's own, normally /etc/postfix)
#   CERTO_DEPLOY_FORCE=1 reload even if the set did not change
set -u
. "$(dirname "$0")/deploy-lib.sh"
deploy_init postfix
deploy_changed || deploy_unchanged_exit

postfix=${CERTO_POSTFIX:-postfix}
set --
[ -z "${CERTO_POSTFIX_CONFIG_DIR:-}" ] || set -- -c "$CERTO_POSTFIX_CONFIG_DIR"
out=$("$postfix" "$@" check 2>&1) ||
	deploy_die "postfix check failed, not reloading: $out"
"$postfix" "$@" reload || deploy_die "postfix reload failed"
deploy_done
deploy_say "Postfix reloaded for ${CERTO_DOMAINS:-$DEPLOY_LIVE}"
