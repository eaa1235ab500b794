#!/bin/sh
# responder_proxy: certo-responder in front of a real nginx (HTTP and TLS
# on loopback ports).
#  - --http-proxy: a HEAD is answered with the backend's Content-Length
#    (25 for a 25-byte file, not 0), once, without a body; GET relays the
#    body; a HEAD of a missing page keeps nginx's length too.
#  - --http-proxy and --tls-proxy naming a host that does not resolve at
#    start (web.certo.invalid, in a private mount namespace with its own
#    /etc/hosts): the daemon starts and serves (it used to exit 3),
#    requests fail meanwhile (502, closed TLS), and once the name appears
#    in /etc/hosts both proxies reach nginx without a restart.
#  - a malformed proxy address is a usage error (exit 1).
. "$(dirname "$0")/lib.sh"
it_init responder_proxy

: "${CERTO_RESPONDER:?CERTO_RESPONDER must name the certo-responder binary}"
for t in nginx python3 curl openssl; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || it_skip "$t not installed"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

NGX_HTTP=$((IT_BASEPORT + 1))
NGX_TLS=$((IT_BASEPORT + 2))
R_HTTP=$((IT_BASEPORT + 3))
R2_HTTP=$((IT_BASEPORT + 5))
R2_TLS=$((IT_BASEPORT + 6))
ROOT=""
[ "$(id -u)" = 0 ] && ROOT=--stay-root

# nginx's workers may run as another user: let them read the files.
chmod 755 "$IT_TMP"
mkdir -p "$IT_TMP/www" "$IT_TMP/ngx"
printf '0123456789abcdefghijklmno' >"$IT_TMP/www/f25.txt"   # 25 bytes
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=web.certo.test" -days 1 -keyout "$IT_TMP/ngx/key.pem" \
	-out "$IT_TMP/ngx/cert.pem" 2>/dev/null || fail "openssl req failed"
cat >"$IT_TMP/ngx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $IT_TMP/ngx/nginx.pid;
error_log $IT_TMP/ngx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	default_type text/plain;
	client_body_temp_path $IT_TMP/ngx/tmp;
	proxy_temp_path $IT_TMP/ngx/tmp;
	fastcgi_temp_path $IT_TMP/ngx/tmp;
	uwsgi_temp_path $IT_TMP/ngx/tmp;
	scgi_temp_path $IT_TMP/ngx/tmp;
	server { listen 127.0.0.1:$NGX_HTTP; root $IT_TMP/www; }
	server {
		listen 127.0.0.1:$NGX_TLS ssl;
		ssl_certificate $IT_TMP/ngx/cert.pem;
		ssl_certificate_key $IT_TMP/ngx/key.pem;
		root $IT_TMP/www;
	}
}
EOF
"$NGINX" -c "$IT_TMP/ngx/nginx.conf" -e "$IT_TMP/ngx/error.log" </dev/null >/dev/null 2>&1 &
IT_HELPER_PIDS="$IT_HELPER_PIDS $!"

# wait_http URL: until something answers (5 s).
wait_up() {
	n=0
	until curl -sk -o /dev/null --max-time 1 "$1"; do
		n=$((n + 1))
		[ $n -lt 50 ] || fail "$1 did not come up"
		sleep 0.1
	done
}
wait_up "http://127.0.0.1:$NGX_HTTP/f25.txt"
wait_up "https://127.0.0.1:$NGX_TLS/f25.txt"

# head PORT PATH: the raw answer head of a HEAD request (and anything
# after it: there must be nothing), Connection: close.
head_raw() {
	"$IT_PY" - "$1" "$2" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"HEAD %s HTTP/1.1\r\nHost: web.certo.test\r\nConnection: close\r\n\r\n"
          % sys.argv[2].encode())
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode("latin-1"))
EOF
}
# lengths FILE: the Content-Length values, one per line.
lengths() { tr -d '\r' <"$1" | awk -F': *' 'tolower($1) == "content-length" { print $2 }'; }
status() { head -n 1 "$1" | awk '{ print $2 }'; }

# ------------------------------------------------- HEAD through --http-proxy

"$CERTO_RESPONDER" $ROOT --socket "$IT_TMP/p.sock" --http-port "$R_HTTP" \
	--http-addr 127.0.0.1 --tls-port 0 --http-proxy "127.0.0.1:$NGX_HTTP" \
	</dev/null 2>"$IT_TMP/p.log" &
PPID_=$!
IT_HELPER_PIDS="$IT_HELPER_PIDS $PPID_"
it_wait_grep "$IT_TMP/p.log" ready 10

head_raw "$NGX_HTTP" /f25.txt >"$IT_TMP/direct"
[ "$(lengths "$IT_TMP/direct")" = 25 ] || fail "nginx itself: $(cat "$IT_TMP/direct")"
head_raw "$R_HTTP" /f25.txt >"$IT_TMP/proxied"
[ "$(status "$IT_TMP/proxied")" = 200 ] || fail "proxied HEAD: $(head -n 1 "$IT_TMP/proxied")"
[ "$(lengths "$IT_TMP/proxied")" = 25 ] ||
	fail "proxied HEAD: Content-Length '$(lengths "$IT_TMP/proxied" | tr '\n' ' ')', expected exactly one, 25"
tr -d '\r' <"$IT_TMP/proxied" | awk 'p { exit 1 } /^$/ { p = 1 }' ||
	fail "proxied HEAD answer has a body"
grep -qi '^Server: nginx' "$IT_TMP/proxied" || fail "proxied HEAD lacks nginx's headers"
got=$(curl -s --max-time 5 -o "$IT_TMP/body" -w '%{http_code} %{size_download}' \
	"http://127.0.0.1:$R_HTTP/f25.txt")
[ "$got" = "200 25" ] && cmp -s "$IT_TMP/body" "$IT_TMP/www/f25.txt" ||
	fail "proxied GET: '$got'"
head_raw "$NGX_HTTP" /missing >"$IT_TMP/direct404"
head_raw "$R_HTTP" /missing >"$IT_TMP/proxied404"
[ "$(status "$IT_TMP/proxied404")" = 404 ] &&
	[ "$(lengths "$IT_TMP/proxied404")" = "$(lengths "$IT_TMP/direct404")" ] ||
	fail "proxied HEAD of a 404: '$(lengths "$IT_TMP/proxied404")', nginx says '$(lengths "$IT_TMP/direct404")'"
kill "$PPID_"
wait "$PPID_" 2>/dev/null
it_log "ok: HEAD via --http-proxy: 200, one Content-Length: 25, no body; GET 25 bytes; 404 length $(lengths "$IT_TMP/direct404") as nginx's"

# ------------------------------------------------------- malformed proxy

"$CERTO_RESPONDER" $ROOT --socket "$IT_TMP/x.sock" --http-port 0 \
	--tls-port "$R2_TLS" --tls-addr 127.0.0.1 --tls-proxy "a:b:8443" \
	</dev/null 2>"$IT_TMP/x.log"
rc=$?
[ $rc = 1 ] || fail "--tls-proxy a:b:8443: exit $rc, expected 1 ($(cat "$IT_TMP/x.log"))"
grep -q -- "--tls-proxy" "$IT_TMP/x.log" || fail "the error does not name --tls-proxy"
[ ! -e "$IT_TMP/x.sock" ] || fail "a failed start left its socket"
it_log "ok: a malformed --tls-proxy is a usage error (exit 1)"

# ---------------------------------------- a backend that resolves later

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	it_log "no private mount namespace (unshare -m): lazy resolution not tested"
	it_pass
fi
NAME=web.certo.invalid
cp /etc/hosts "$IT_TMP/hosts"
grep -q "$NAME" "$IT_TMP/hosts" && fail "$NAME is in /etc/hosts"
printf 'hosts: files\n' >"$IT_TMP/nsswitch.conf"
# The daemon sees $IT_TMP/hosts as /etc/hosts, and no DNS at all.
unshare -m sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf &&
	shift 2 && exec "$@"' sh "$IT_TMP/hosts" "$IT_TMP/nsswitch.conf" \
	"$CERTO_RESPONDER" $ROOT --socket "$IT_TMP/late.sock" --http-port "$R2_HTTP" \
	--http-addr 127.0.0.1 --tls-port "$R2_TLS" --tls-addr 127.0.0.1 \
	--http-proxy "$NAME:$NGX_HTTP" --tls-proxy "$NAME:$NGX_TLS" --idle-timeout 3 \
	</dev/null 2>"$IT_TMP/late.log" &
LPID=$!
IT_HELPER_PIDS="$IT_HELPER_PIDS $LPID"
it_wait_grep "$IT_TMP/late.log" ready 10
it_wait_grep "$IT_TMP/late.log" "backend '$NAME:$NGX_TLS' does not resolve" 10
kill -0 "$LPID" 2>/dev/null || fail "the daemon exited: $(cat "$IT_TMP/late.log")"

got=$(curl -s --max-time 15 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$R2_HTTP/f25.txt")
[ "$got" = 502 ] || fail "GET while $NAME does not resolve: '$got', expected 502"
got=$(curl -sk --max-time 15 -o /dev/null -w '%{http_code}' --resolve "web.certo.test:$R2_TLS:127.0.0.1" \
	"https://web.certo.test:$R2_TLS/f25.txt")
[ "$got" = 000 ] || fail "TLS while $NAME does not resolve: '$got', expected no answer"
kill -0 "$LPID" 2>/dev/null || fail "the daemon exited: $(cat "$IT_TMP/late.log")"
it_log "ok: started although $NAME does not resolve; 502 and a closed TLS connection meanwhile"

# The name appears (same inode: the bind mount follows).
echo "127.0.0.1 $NAME" >>"$IT_TMP/hosts"
got=$(curl -s --max-time 15 -o "$IT_TMP/body" -w '%{http_code}' "http://127.0.0.1:$R2_HTTP/f25.txt")
[ "$got" = 200 ] && cmp -s "$IT_TMP/body" "$IT_TMP/www/f25.txt" ||
	fail "GET once $NAME resolves: '$got'"
got=$(curl -sk --max-time 15 -o "$IT_TMP/body" -w '%{http_code}' --resolve "web.certo.test:$R2_TLS:127.0.0.1" \
	"https://web.certo.test:$R2_TLS/f25.txt")
[ "$got" = 200 ] && cmp -s "$IT_TMP/body" "$IT_TMP/www/f25.txt" ||
	fail "HTTPS through --tls-proxy once $NAME resolves: '$got'"
subj=$(echo | openssl s_client -connect "127.0.0.1:$R2_TLS" -servername web.certo.test \
	2>/dev/null | openssl x509 -noout -subject 2>/dev/null)
echo "$subj" | grep -q "web.certo.test" || fail "the TLS peer is not nginx: '$subj'"
grep -q "resolves again" "$IT_TMP/late.log" || fail "no log line when the backend resolved"
kill -TERM "$LPID"
wait "$LPID"
rc=$?
[ $rc = 0 ] || fail "SIGTERM: exit $rc"
it_log "ok: once $NAME is in /etc/hosts, --http-proxy and --tls-proxy reach nginx without a restart"

it_pass
