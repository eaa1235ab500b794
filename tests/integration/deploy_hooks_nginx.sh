#!/bin/sh
# deploy_hooks_nginx: the example deploy hook scripts/hooks/deploy/nginx.sh
# against a real nginx (Debian nginx-light) that also serves the webroot
# certo answers http-01 through. The hook reloads nginx (SIGHUP, seen in
# nginx's error log) when the live set changed, and not otherwise: after
# issue it reloads; run again by hand for the same set it does not (a TLS
# server added to the configuration meanwhile stays down); after renew
# --force it reloads and nginx serves the renewed certificate. A
# configuration nginx -t refuses is not reloaded: the hook fails, renew
# exits 1 and leaves .deploy-pending; once the configuration is fixed, the
# next renew (nothing due: exit 2) runs the hook again, which reloads.
# apache.sh and postfix.sh run with stand-in commands: test, then reload,
# and not again for the same set.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/deploy_lib.sh"
. "$IT_DIR/webroot_lib.sh"
it_init deploy_hooks_nginx
wr_need_nginx
PEBBLE_AUTHZREUSE=0 it_start_pebble

WWW="$IT_TMP/www"
mkdir -p "$WWW"
chmod 755 "$WWW"
wr_start_nginx "$IT_HTTP_PORT" "$WWW"
NG="$WR_NGINX_DIR"
LIVE="$IT_STATE/live/127.0.0.1"
HOOK="$IT_SRCROOT/scripts/hooks/deploy/nginx.sh"
TLS_PORT=$((IT_BASEPORT + 6))
DL_WHAT=nginx DL_PORT=$TLS_PORT
export CERTO_NGINX="$WR_NGINX"
export CERTO_NGINX_OPTS="-p $NG -e $NG/error.log -c $NG/nginx.conf"

reloads() {
	grep -c "SIGHUP" "$NG/error.log"
}

# 1. issue: a new set, the hook reloads nginx once.
it_certo_ca issue -d 127.0.0.1 --webroot "$WWW" --http-port "$IT_HTTP_PORT" \
	--deploy-hook "$HOOK" --agree-tos -m t@example.com
it_expect_rc 0 "issue with the nginx deploy hook"
[ "$(reloads)" -eq 1 ] || fail "nginx was reloaded $(reloads) times after issue, expected 1"
[ -f "$LIVE/.deployed-nginx" ] || fail "the hook did not record the set it deployed"
[ ! -e "$LIVE/.deploy-pending" ] || fail ".deploy-pending left after a hook that succeeded"

# 2. A TLS server using the live set is added; the hook run by hand for
# the same set does not reload, so it stays down.
cat >"$NG/conf.d/tls.conf" <<EOF
server {
	listen 127.0.0.1:$TLS_PORT ssl;
	ssl_certificate $LIVE/fullchain.pem;
	ssl_certificate_key $LIVE/privkey.pem;
	return 200 "tls\n";
}
EOF
out=$(CERTO_LIVE_DIR="$LIVE" CERTO_DOMAINS=127.0.0.1 "$HOOK" 2>&1) ||
	fail "the hook failed for an unchanged set: $out"
case "$out" in
*"not reloading"*) ;;
*) fail "the hook did not say it skipped the reload: $out" ;;
esac
[ "$(reloads)" -eq 1 ] || fail "the hook reloaded nginx for an unchanged set"
! it_port_busy "$TLS_PORT" || fail "nginx listens on $TLS_PORT: it was reloaded"

# 3. renew --force: a new set, the hook reloads, nginx serves it.
S1=$(it_cert_serial "$LIVE/cert.pem")
it_certo_ca renew --force
it_expect_rc 0 "renew --force"
S2=$(it_cert_serial "$LIVE/cert.pem")
[ "$S2" != "$S1" ] || fail "renew did not replace the certificate"
[ "$(reloads)" -eq 2 ] || fail "nginx was reloaded $(reloads) times after renew, expected 2"
dl_wait_serial "$S2"

# 4. A configuration nginx -t refuses: no reload, the hook fails, renew
# exits 1 and the set stays marked pending; fixed, the next renew (nothing
# due) runs the hook again and nginx serves the new set.
echo "this is not nginx syntax" >"$NG/conf.d/broken.conf"
it_certo_ca renew --force
it_expect_rc 1 "renew whose deploy hook fails"
it_expect_err_contains "nginx -t refused the configuration" "the hook's reason"
S3=$(it_cert_serial "$LIVE/cert.pem")
[ "$S3" != "$S2" ] || fail "renew did not replace the certificate"
[ "$(reloads)" -eq 2 ] || fail "nginx was reloaded although nginx -t refused its configuration"
[ -f "$LIVE/.deploy-pending" ] || fail "no .deploy-pending after the hook failed"
[ "$(dl_served_serial)" = "$S2" ] || fail "nginx does not serve the previous certificate any more"
rm "$NG/conf.d/broken.conf"
it_certo_ca renew
it_expect_rc 2 "renew with nothing due (exit 2), retrying the deploy hook"
it_expect_out_contains "running the deploy hook that failed earlier" "the retry"
[ "$(it_cert_serial "$LIVE/cert.pem")" = "$S3" ] || fail "renew renewed although nothing was due"
[ "$(reloads)" -eq 3 ] || fail "nginx was reloaded $(reloads) times after the retry, expected 3"
[ ! -e "$LIVE/.deploy-pending" ] || fail ".deploy-pending left after the retry succeeded"
dl_wait_serial "$S3"

# 5. apache.sh and postfix.sh with stand-in commands that log their
# arguments: test, then reload, once per set (the real servers are in
# deploy_hooks_apache.sh and deploy_hooks_postfix.sh).
STUB="$IT_TMP/stub"
printf '#!/bin/sh\necho "$*" >>"%s"\n' "$IT_TMP/stub.calls" >"$STUB"
chmod +x "$STUB"
for hook in apache postfix; do
	if [ "$hook" = apache ] && [ -d /run/systemd/system ]; then
		continue # under systemd it would call systemctl reload apache2
	fi
	: >"$IT_TMP/stub.calls"
	for run in 1 2; do
		CERTO_APACHECTL="$STUB" CERTO_POSTFIX="$STUB" CERTO_LIVE_DIR="$LIVE" \
			"$IT_SRCROOT/scripts/hooks/deploy/$hook.sh" >"$IT_TMP/hook.out" 2>&1 ||
			fail "$hook.sh failed (run $run): $(cat "$IT_TMP/hook.out")"
	done
	want="-t -k graceful "
	[ "$hook" = postfix ] && want="check reload "
	[ "$(tr '\n' ' ' <"$IT_TMP/stub.calls")" = "$want" ] ||
		fail "$hook.sh ran [$(tr '\n' ' ' <"$IT_TMP/stub.calls")], expected [$want] (one reload for two runs on one set)"
done
it_pass
