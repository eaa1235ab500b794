# shellcheck shell=sh
# webroot_lib.sh: a real nginx (Debian nginx-light, /usr/sbin/nginx) for
# the --webroot, --pem-bundle and deploy-hook tests, started from the
# test in its temp dir (own config, pid file, logs; never daemonised),
# stopped by lib.sh's cleanup trap (its pid is in IT_HELPER_PIDS).
# Source after lib.sh.
#
#   wr_need_nginx                  # skips (exit 77) without nginx
#   wr_start_nginx PORT ROOT [PORT404]  # serves ROOT on 127.0.0.1:PORT
#   $WR_ACCESS_LOG                 # its access log

WR_NGINX=${CERTO_IT_NGINX:-/usr/sbin/nginx}

wr_need_nginx() {
	[ -x "$WR_NGINX" ] || it_skip "nginx not installed ($WR_NGINX; Debian nginx-light)"
}

# wr_start_nginx PORT ROOT [PORT404]: nginx in the foreground (daemon
# off) with one worker on 127.0.0.1:PORT, document root ROOT (and a
# server answering 404 to everything on PORT404; more servers can go in
# $WR_NGINX_DIR/conf.d/*.conf). As root, its worker
# runs as nobody (nginx's default), so what certo writes must be
# readable by others, and the test's temp dir must be traversable.
wr_start_nginx() {
	WR_NGINX_DIR="$IT_TMP/nginx"
	WR_ACCESS_LOG="$WR_NGINX_DIR/access.log"
	mkdir -p "$WR_NGINX_DIR/tmp" "$WR_NGINX_DIR/conf.d" || fail "mkdir $WR_NGINX_DIR"
	chmod 711 "$IT_TMP"
	_wr_404=""
	[ -z "${3:-}" ] || _wr_404="server { listen 127.0.0.1:$3; return 404; }"
	cat >"$WR_NGINX_DIR/nginx.conf" <<-EOF
	worker_processes 1;
	daemon off;
	pid $WR_NGINX_DIR/nginx.pid;
	error_log $WR_NGINX_DIR/error.log info;
	events { worker_connections 64; }
	http {
		access_log $WR_ACCESS_LOG;
		client_body_temp_path $WR_NGINX_DIR/tmp/body;
		proxy_temp_path $WR_NGINX_DIR/tmp/proxy;
		fastcgi_temp_path $WR_NGINX_DIR/tmp/fastcgi;
		uwsgi_temp_path $WR_NGINX_DIR/tmp/uwsgi;
		scgi_temp_path $WR_NGINX_DIR/tmp/scgi;
		server {
			listen 127.0.0.1:$1;
			root $2;
			location / { }
		}
		$_wr_404
		include $WR_NGINX_DIR/conf.d/*.conf;
	}
	EOF
	"$WR_NGINX" -p "$WR_NGINX_DIR" -e "$WR_NGINX_DIR/error.log" \
		-c "$WR_NGINX_DIR/nginx.conf" >"$WR_NGINX_DIR/stdout" 2>&1 &
	WR_NGINX_PID=$!
	IT_HELPER_PIDS="$IT_HELPER_PIDS $WR_NGINX_PID"
	it_wait_port "$1" nginx "$WR_NGINX_PID" "$WR_NGINX_DIR/error.log" \
		"$WR_NGINX_DIR/stdout"
}
