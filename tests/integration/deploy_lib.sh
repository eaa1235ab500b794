# shellcheck shell=sh
# deploy_lib.sh: what the deploy_hooks_* and pem_bundle_haproxy tests
# share (source after lib.sh): the certificate a TLS server on loopback
# presents, and waits for it and for the server's reloads.  The test sets
#   DL_WHAT      the server's name in messages ("Apache", "nginx", ...)
#   DL_PORT      its TLS port on 127.0.0.1
#   DL_SCLIENT   more openssl s_client options ("-starttls smtp"), or ""
# and, for dl_wait_reloads, defines reloads: how many reloads the server
# logged so far.

DL_WHAT=""
DL_PORT=""
DL_SCLIENT=""

# dl_served_serial: the serial of the certificate the server presents (its
# chain verified against Pebble's root, for the IP address 127.0.0.1).
dl_served_serial() {
	# shellcheck disable=SC2086 # DL_SCLIENT is a word list
	openssl s_client $DL_SCLIENT -connect "127.0.0.1:$DL_PORT" -CAfile "$IT_ROOT" \
		-verify_return_error -verify_ip 127.0.0.1 </dev/null 2>"$IT_TMP/s_client.err" |
		openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}

# dl_wait_serial SERIAL: the server presents it within 5 s.
dl_wait_serial() {
	_dl_n=50
	while [ "$(dl_served_serial)" != "$1" ]; do
		_dl_n=$((_dl_n - 1))
		[ "$_dl_n" -gt 0 ] || fail "$DL_WHAT serves [$(dl_served_serial)], not $1: $(tail -n 3 "$IT_TMP/s_client.err")"
		sleep 0.1
	done
}

# dl_wait_reloads N: the server logged N reloads within 5 s, not more (a
# reload command returns once the signal is sent).
dl_wait_reloads() {
	_dl_n=50
	while [ "$(reloads)" -lt "$1" ]; do
		_dl_n=$((_dl_n - 1))
		[ "$_dl_n" -gt 0 ] || fail "$DL_WHAT was reloaded $(reloads) times, expected $1"
		sleep 0.1
	done
	[ "$(reloads)" -eq "$1" ] || fail "$DL_WHAT was reloaded $(reloads) times, expected $1"
}
