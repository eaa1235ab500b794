#!/bin/sh
# deploy_hooks_postfix: the example deploy hook scripts/hooks/deploy/postfix.sh
# against a real Postfix (Debian postfix, 3.4 or later) started from the
# test as its own instance: postfix -c DIR with main.cf and master.cf in
# the temp dir (queue and data directories there too, smtpd on a loopback
# test port offering STARTTLS with smtpd_tls_chain_files = the live set,
# no chroot, the log in maillog_file since there is no syslog). The hook
# (CERTO_POSTFIX_CONFIG_DIR=DIR) runs postfix -c DIR check, then postfix -c
# DIR reload ("reload -- version" from master in the log) only when the
# live set changed: after issue it reloads and smtpd serves the issued
# certificate (openssl s_client -starttls smtp, verified against Pebble's
# root); run again by hand for the same set it does not; after renew
# --force it reloads and the smtpd that served the old certificate is
# replaced by one serving the renewed one; a master.cf postfix check
# refuses is not reloaded (renew exits 1, .deploy-pending stays, smtpd
# keeps the previous certificate); fixed, the next renew (nothing due:
# exit 2) reloads. The master is stopped by this test's EXIT trap.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/deploy_lib.sh"
it_init deploy_hooks_postfix
POSTFIX=${CERTO_IT_POSTFIX:-/usr/sbin/postfix}
[ -x "$POSTFIX" ] || it_skip "postfix not installed ($POSTFIX; Debian postfix)"
[ -f /etc/postfix/master.cf.proto ] || it_skip "no /etc/postfix/master.cf.proto"
# Postfix's master starts as root (it gives its daemons to mail_owner).
[ "$(id -u)" = 0 ] || it_skip "a Postfix instance needs root"
if ! getent passwd postfix >/dev/null 2>&1 || ! getent group postdrop >/dev/null 2>&1; then
	it_skip "no postfix user or postdrop group (install Debian postfix)"
fi
PEBBLE_AUTHZREUSE=0 it_start_pebble

PF="$IT_TMP/postfix"
LIVE="$IT_STATE/live/127.0.0.1"
HOOK="$IT_SRCROOT/scripts/hooks/deploy/postfix.sh"
SMTP_PORT=$((IT_BASEPORT + 25))
DL_WHAT=Postfix DL_PORT=$SMTP_PORT DL_SCLIENT="-starttls smtp"
LOG="$PF/maillog"
! it_port_busy "$SMTP_PORT" || fail "port $SMTP_PORT is already in use"

# pf_stop: SIGTERM to this test's master (it stops its children), at
# most 5 s for it to go.
pf_stop() {
	_pid=$(tr -d ' ' 2>/dev/null <"$PF/queue/pid/master.pid")
	case "$_pid" in
	'' | *[!0-9]*) return 0 ;;
	esac
	kill "$_pid" 2>/dev/null || return 0
	_n=50
	while it_pid_alive "$_pid" && [ "$_n" -gt 0 ]; do
		_n=$((_n - 1))
		sleep 0.1
	done
}
# shellcheck disable=SC2154 # _pf_rc is set inside the trap
trap '_pf_rc=$?; pf_stop; (exit $_pf_rc); _it_cleanup' EXIT

# Postfix's daemons run as postfix and chdir to the queue directory.
chmod 711 "$IT_TMP"
mkdir -p "$PF/conf" "$PF/queue" "$PF/data" || fail "mkdir $PF"
chown postfix "$PF/data" || fail "chown postfix $PF/data"
cat >"$PF/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = $PF
maillog_file = $LOG
myhostname = mail.certo.test
mydomain = certo.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
smtpd_tls_security_level = may
smtpd_tls_chain_files = $LIVE/privkey.pem, $LIVE/fullchain.pem
EOF
# Debian's master.cf, without chroot, smtpd on the test port.
awk -v port="$SMTP_PORT" '
/^#/ || /^$/ || /^[ \t]/ { next }
$1 == "smtp" && $2 == "inet" { print "127.0.0.1:" port " inet n - n - 1 smtpd"; next }
{ $5 = "n"; print }' /etc/postfix/master.cf.proto >"$PF/conf/master.cf" ||
	fail "cannot write master.cf"
out=$("$POSTFIX" -c "$PF/conf" start 2>&1) ||
	fail "postfix -c $PF/conf start failed: $out $(tail -n 5 "$LOG" 2>/dev/null)"
it_wait_port "$SMTP_PORT" Postfix "" "$LOG"
export CERTO_POSTFIX="$POSTFIX" CERTO_POSTFIX_CONFIG_DIR="$PF/conf"

# reloads: the reloads Postfix's master logged.
reloads() {
	grep -c "postfix/master\[[0-9]*\]: reload -- version" "$LOG"
}

# 1. issue: a new set, the hook checks and reloads once; smtpd serves it.
it_issue -d 127.0.0.1 --deploy-hook "$HOOK"
it_expect_rc 0 "issue with the Postfix deploy hook"
it_expect_out_contains "postfix.sh ran" "certo's deploy line"
dl_wait_reloads 1
[ -f "$LIVE/.deployed-postfix" ] || fail "the hook did not record the set it deployed"
[ ! -e "$LIVE/.deploy-pending" ] || fail ".deploy-pending left after a hook that succeeded"
S1=$(it_cert_serial "$LIVE/cert.pem")
dl_wait_serial "$S1"

# 2. The hook run by hand for the same set: no reload.
out=$(CERTO_LIVE_DIR="$LIVE" CERTO_DOMAINS=127.0.0.1 "$HOOK" 2>&1) ||
	fail "the hook failed for an unchanged set: $out"
case "$out" in
*"not reloading"*) ;;
*) fail "the hook did not say it skipped the reload: $out" ;;
esac
sleep 0.3
[ "$(reloads)" -eq 1 ] || fail "the hook reloaded Postfix for an unchanged set"

# 3. renew --force: a new set, the hook reloads, and the idle smtpd that
# served S1 (it would live on for max_idle) gives way to one serving S2.
it_certo_ca renew --force
it_expect_rc 0 "renew --force"
S2=$(it_cert_serial "$LIVE/cert.pem")
[ "$S2" != "$S1" ] || fail "renew did not replace the certificate"
dl_wait_reloads 2
dl_wait_serial "$S2"

# 4. A master.cf postfix check refuses: no reload, the hook fails with
# Postfix's words, renew exits 1, the set stays marked pending and smtpd
# serves S2. Fixed, the next renew (nothing due) runs the hook again.
cp "$PF/conf/master.cf" "$PF/master.cf.good"
echo "broken inet n" >>"$PF/conf/master.cf"
it_certo_ca renew --force
it_expect_rc 1 "renew whose deploy hook fails"
it_expect_err_contains "postfix check failed, not reloading" "the hook's reason"
it_expect_err_contains "bad field count" "Postfix's words"
S3=$(it_cert_serial "$LIVE/cert.pem")
[ "$S3" != "$S2" ] || fail "renew did not replace the certificate"
sleep 0.3
[ "$(reloads)" -eq 2 ] || fail "Postfix was reloaded although postfix check failed"
[ -f "$LIVE/.deploy-pending" ] || fail "no .deploy-pending after the hook failed"
[ "$(dl_served_serial)" = "$S2" ] || fail "Postfix does not serve the previous certificate any more"
mv "$PF/master.cf.good" "$PF/conf/master.cf"
it_certo_ca renew
it_expect_rc 2 "renew with nothing due (exit 2), retrying the deploy hook"
it_expect_out_contains "running the deploy hook that failed earlier" "the retry"
[ "$(it_cert_serial "$LIVE/cert.pem")" = "$S3" ] || fail "renew renewed although nothing was due"
dl_wait_reloads 3
[ ! -e "$LIVE/.deploy-pending" ] || fail ".deploy-pending left after the retry succeeded"
dl_wait_serial "$S3"
it_pass
