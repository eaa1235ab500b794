#!/bin/sh
# deploy_hooks_apache: the example deploy hook scripts/hooks/deploy/apache.sh
# against a real Apache httpd (Debian apache2, /usr/sbin/apache2) started
# from the test with its own configuration in the temp dir (mpm_event,
# mod_ssl; never daemonised, its pid in lib.sh's cleanup list). The hook
# runs apache2 -f CONF -t, then apache2 -f CONF -k graceful (SIGUSR1, "AH00493
# SIGUSR1 received.  Doing graceful restart" in Apache's error log) only
# when the live set changed: after issue it reloads; run again by hand for
# the same set it does not (a TLS virtual host added meanwhile stays
# down); after renew --force it reloads and Apache serves the renewed
# certificate (openssl s_client, verified against Pebble's root); a
# configuration apache2 -t refuses is not reloaded: the hook fails, renew
# exits 1, .deploy-pending stays and Apache keeps serving the previous
# certificate; fixed, the next renew (nothing due: exit 2) reloads.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/deploy_lib.sh"
it_init deploy_hooks_apache
APACHE=${CERTO_IT_APACHE:-/usr/sbin/apache2}
MODS=${CERTO_IT_APACHE_MODULES:-/usr/lib/apache2/modules}
[ -x "$APACHE" ] || it_skip "apache2 not installed ($APACHE; Debian apache2)"
[ -f "$MODS/mod_ssl.so" ] || it_skip "no mod_ssl.so in $MODS"
PEBBLE_AUTHZREUSE=0 it_start_pebble

AP="$IT_TMP/apache"
LIVE="$IT_STATE/live/127.0.0.1"
HOOK="$IT_SRCROOT/scripts/hooks/deploy/apache.sh"
HTTP_PORT=$((IT_BASEPORT + 5))
TLS_PORT=$((IT_BASEPORT + 6))
DL_WHAT=Apache DL_PORT=$TLS_PORT
for p in "$HTTP_PORT" "$TLS_PORT"; do
	! it_port_busy "$p" || fail "port $p is already in use"
done
# Apache refuses to run its children as root: www-data (Debian), else nobody.
user=www-data
getent passwd "$user" >/dev/null 2>&1 || user=nobody
group=$(id -gn "$user") || fail "no group for $user"

mkdir -p "$AP/run" "$AP/conf.d" "$AP/htdocs" || fail "mkdir $AP"
cat >"$AP/apache2.conf" <<EOF
ServerRoot $AP
ServerName 127.0.0.1
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule socache_shmcb_module $MODS/mod_socache_shmcb.so
LoadModule ssl_module $MODS/mod_ssl.so
User $user
Group $group
DefaultRuntimeDir $AP/run
PidFile $AP/run/apache2.pid
ErrorLog $AP/error.log
LogLevel notice
StartServers 1
SSLSessionCache shmcb:$AP/run/ssl_scache(512000)
Listen 127.0.0.1:$HTTP_PORT
DocumentRoot $AP/htdocs
<Directory />
	Require all denied
</Directory>
IncludeOptional $AP/conf.d/*.conf
EOF
"$APACHE" -f "$AP/apache2.conf" -DFOREGROUND >"$AP/stdout" 2>&1 &
AP_PID=$!
IT_HELPER_PIDS="$IT_HELPER_PIDS $AP_PID"
it_wait_port "$HTTP_PORT" apache2 "$AP_PID" "$AP/error.log" "$AP/stdout"
export CERTO_APACHECTL="$APACHE" CERTO_APACHE_OPTS="-f $AP/apache2.conf"

# reloads: the graceful restarts in Apache's error log.
reloads() {
	grep -c "AH00493: SIGUSR1 received" "$AP/error.log"
}

# 1. issue: a new set, the hook tests the configuration and reloads once.
it_issue -d 127.0.0.1 --deploy-hook "$HOOK"
it_expect_rc 0 "issue with the Apache deploy hook"
it_expect_out_contains "apache.sh ran" "certo's deploy line"
dl_wait_reloads 1
[ -f "$LIVE/.deployed-apache" ] || fail "the hook did not record the set it deployed"
[ ! -e "$LIVE/.deploy-pending" ] || fail ".deploy-pending left after a hook that succeeded"

# 2. A TLS virtual host using the live set is added; the hook run by hand
# for the same set does not reload, so it stays down.
cat >"$AP/conf.d/tls.conf" <<EOF
Listen 127.0.0.1:$TLS_PORT
<VirtualHost 127.0.0.1:$TLS_PORT>
	SSLEngine on
	SSLCertificateFile $LIVE/fullchain.pem
	SSLCertificateKeyFile $LIVE/privkey.pem
</VirtualHost>
EOF
out=$(CERTO_LIVE_DIR="$LIVE" CERTO_DOMAINS=127.0.0.1 "$HOOK" 2>&1) ||
	fail "the hook failed for an unchanged set: $out"
case "$out" in
*"not reloading"*) ;;
*) fail "the hook did not say it skipped the reload: $out" ;;
esac
sleep 0.3
[ "$(reloads)" -eq 1 ] || fail "the hook reloaded Apache for an unchanged set"
! it_port_busy "$TLS_PORT" || fail "Apache listens on $TLS_PORT: it was reloaded"

# 3. renew --force: a new set, the hook reloads, Apache serves it.
S1=$(it_cert_serial "$LIVE/cert.pem")
it_certo_ca renew --force
it_expect_rc 0 "renew --force"
S2=$(it_cert_serial "$LIVE/cert.pem")
[ "$S2" != "$S1" ] || fail "renew did not replace the certificate"
dl_wait_reloads 2
dl_wait_serial "$S2"
it_pid_alive "$AP_PID" || fail "Apache's parent process is gone after the graceful restart"

# 4. A configuration apache2 -t refuses: no reload, the hook fails, renew
# exits 1 and the set stays marked pending; Apache keeps serving the
# previous set. Fixed, the next renew (nothing due) runs the hook again.
echo "ThisIsNotAnApacheDirective on" >"$AP/conf.d/broken.conf"
it_certo_ca renew --force
it_expect_rc 1 "renew whose deploy hook fails"
it_expect_err_contains "refused the configuration, not reloading" "the hook's reason"
it_expect_err_contains "ThisIsNotAnApacheDirective" "Apache's words"
S3=$(it_cert_serial "$LIVE/cert.pem")
[ "$S3" != "$S2" ] || fail "renew did not replace the certificate"
sleep 0.3
[ "$(reloads)" -eq 2 ] || fail "Apache was reloaded although apache2 -t refused its configuration"
[ -f "$LIVE/.deploy-pending" ] || fail "no .deploy-pending after the hook failed"
[ "$(dl_served_serial)" = "$S2" ] || fail "Apache does not serve the previous certificate any more"
rm "$AP/conf.d/broken.conf"
it_certo_ca renew
it_expect_rc 2 "renew with nothing due (exit 2), retrying the deploy hook"
it_expect_out_contains "running the deploy hook that failed earlier" "the retry"
[ "$(it_cert_serial "$LIVE/cert.pem")" = "$S3" ] || fail "renew renewed although nothing was due"
dl_wait_reloads 3
[ ! -e "$LIVE/.deploy-pending" ] || fail ".deploy-pending left after the retry succeeded"
dl_wait_serial "$S3"
it_pass
