# shellcheck shell=sh
# deploy-lib.sh: what certo's example deploy hooks (nginx.sh, apache.sh,
# haproxy.sh, postfix.sh in this directory) share. Sourced, never run;
# keep it next to them.
#
# certo runs a deploy hook after it stored a new certificate set, and again
# on every later renew while the previous run of the hook failed
# (docs/hooks.md). These hooks reload their server only when the set in
# $CERTO_LIVE_DIR differs from the one they last reloaded it for: each
# keeps the SHA-256 of fullchain.pem and privkey.pem in
# $CERTO_LIVE_DIR/.deployed-<server> once the reload succeeded. A new set
# (a new live directory) has no such file. So running a hook by hand, from
# cron or twice in a row reloads nothing; CERTO_DEPLOY_FORCE=1 reloads
# anyway.
#
# Environment from certo: CERTO_LIVE_DIR (certbot's RENEWED_LINEAGE is
# read too) and CERTO_DOMAINS.

# deploy_say MESSAGE: one line on stdout, named after the hook.
deploy_say() {
	echo "$DEPLOY_PROG: $*"
}

# deploy_die MESSAGE: one line on stderr (certo quotes it), exit 1.
deploy_die() {
	echo "$DEPLOY_PROG: $*" >&2
	exit 1
}

# deploy_init SERVER: check the environment; DEPLOY_LIVE, DEPLOY_STAMP
# and DEPLOY_SUM (the set's SHA-256) set.
deploy_init() {
	DEPLOY_PROG="$1.sh"
	DEPLOY_LIVE=${CERTO_LIVE_DIR:-${RENEWED_LINEAGE:-}}
	[ -n "$DEPLOY_LIVE" ] ||
		deploy_die "CERTO_LIVE_DIR is not set: run me as certo's --deploy-hook (or set it to a live directory)"
	[ -f "$DEPLOY_LIVE/fullchain.pem" ] ||
		deploy_die "$DEPLOY_LIVE/fullchain.pem does not exist"
	DEPLOY_STAMP="$DEPLOY_LIVE/.deployed-$1"
	# privkey.pem is absent for a --csr without --key: the chain alone.
	if [ -f "$DEPLOY_LIVE/privkey.pem" ]; then
		DEPLOY_SUM=$(cat "$DEPLOY_LIVE/fullchain.pem" "$DEPLOY_LIVE/privkey.pem" | sha256sum)
	else
		DEPLOY_SUM=$(sha256sum <"$DEPLOY_LIVE/fullchain.pem")
	fi
	DEPLOY_SUM=${DEPLOY_SUM%% *}
	[ -n "$DEPLOY_SUM" ] || deploy_die "cannot read the set in $DEPLOY_LIVE"
}

# deploy_changed: true unless the server was reloaded for this very set.
deploy_changed() {
	[ "${CERTO_DEPLOY_FORCE:-0}" = 1 ] && return 0
	[ -f "$DEPLOY_STAMP" ] || return 0
	[ "$(cat "$DEPLOY_STAMP" 2>/dev/null)" != "$DEPLOY_SUM" ]
}

# deploy_unchanged_exit: say that nothing changed, exit 0.
deploy_unchanged_exit() {
	deploy_say "the set in $DEPLOY_LIVE is the one last deployed: not reloading"
	exit 0
}

# deploy_done: remember that the server runs with this set.
deploy_done() {
	if ! printf '%s\n' "$DEPLOY_SUM" >"$DEPLOY_STAMP.tmp.$$" ||
		! mv -f "$DEPLOY_STAMP.tmp.$$" "$DEPLOY_STAMP"; then
		rm -f "$DEPLOY_STAMP.tmp.$$"
		deploy_die "reloaded, but cannot write $DEPLOY_STAMP"
	fi
}

# deploy_systemd: true when systemd runs this machine.
deploy_systemd() {
	[ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}
