#!/bin/sh
# webroot_nginx: --webroot DIR with a real nginx (Debian nginx-light) on the
# port Pebble's validator dials, serving DIR. certo writes
# DIR/.well-known/acme-challenge/TOKEN, checks it through nginx, Pebble
# validates through nginx (its access log shows both GETs, 200), and
# nothing is left in DIR afterwards; a .well-known that was there before
# is kept. certo runs with umask 077: the file must still be 0644 and the
# directories 0755 for nginx's worker (nobody, when the test runs as root).
# certo.json remembers the webroot and renew --force uses it. Two names
# that do not resolve on this host: certo warns it cannot check them, the
# CA fetches both files through nginx. Failure
# paths leave nothing in DIR: a DIR nginx does not serve (self-check,
# exit 5, CA not asked), SIGTERM while waiting, a validation the CA
# fails (exit 2), and a .well-known or
# acme-challenge that is a symbolic link to a directory outside DIR
# (refused before anything is written there). --webroot with another way
# of answering is a usage error.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/webroot_lib.sh"
it_init webroot_nginx
wr_need_nginx
PEBBLE_AUTHZREUSE=0 it_start_pebble

WWW="$IT_TMP/www"
mkdir -p "$WWW"
chmod 755 "$WWW"
echo "hello" >"$WWW/index.html"
# BASE+5: a server of nginx that answers 404 to everything.
PORT404=$((IT_BASEPORT + 5))
wr_start_nginx "$IT_HTTP_PORT" "$WWW" "$PORT404"
LIVE="$IT_STATE/live/127.0.0.1"

# DIR holds exactly what it held before: index.html, plus PATH... given.
expect_www_clean() {
	_got=$(cd "$WWW" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')
	_want=$(for _p in ./index.html "$@"; do echo "$_p"; done | LC_ALL=C sort | tr '\n' ' ')
	[ "$_got" = "$_want" ] || fail "$WWW holds [$_got], expected [$_want]"
}

# The tokens certo fetched (its "serves the key authorization" lines).
tokens_of_run() {
	sed -n 's|.*/.well-known/acme-challenge/\([A-Za-z0-9_-]*\) serves the key authorization.*|\1|p' "$IT_OUT"
}

# Each token was fetched from nginx twice with 200: by certo's self-check
# (User-Agent certo/...) and by Pebble's validator.
expect_fetched_by_both() {
	[ -n "$1" ] || fail "no self-check line naming a token"
	for _t in $1; do
		_l=$(grep -F "GET /.well-known/acme-challenge/$_t HTTP/1.1\" 200 " "$WR_ACCESS_LOG")
		echo "$_l" | grep -q '"certo/' ||
			fail "nginx's access log shows no 200 GET of $_t by certo: $(tail -n 5 "$WR_ACCESS_LOG")"
		echo "$_l" | grep -v '"certo/' | grep -q . ||
			fail "nginx's access log shows no 200 GET of $_t by Pebble: $(tail -n 5 "$WR_ACCESS_LOG")"
	done
}

# 1. Issue through nginx; certo makes .well-known and removes it again.
umask 077
it_certo_ca issue -d 127.0.0.1 --webroot "$WWW" --http-port "$IT_HTTP_PORT" \
	--agree-tos -m t@example.com
umask 022
it_expect_rc 0 "issue with --webroot"
it_expect_verifies "$LIVE/cert.pem" "$IT_INTERMEDIATE"
it_expect_verifies "$LIVE/cert.pem" "$LIVE/chain.pem"
it_expect_key_matches "$LIVE/privkey.pem" "$LIVE/cert.pem"
[ "$(it_cert_sans "$LIVE/cert.pem")" = "IP Address:127.0.0.1" ] ||
	fail "SANs are [$(it_cert_sans "$LIVE/cert.pem")], expected [IP Address:127.0.0.1]"
TOKENS=$(tokens_of_run)
expect_fetched_by_both "$TOKENS"
expect_www_clean
REAL_WWW=$(realpath "$WWW")
[ "$(it_json_get "$LIVE/certo.json" "d['webroot']")" = "$REAL_WWW" ] ||
	fail "certo.json does not remember the webroot: $(cat "$LIVE/certo.json")"

# 2. The modes nginx's worker needs, with certo's umask 077: watch DIR
# while a run waits on a self-check that cannot pass (a port where
# nginx answers 404).
umask 077
it_certo_bg issue -d 127.0.0.1 --webroot "$WWW" --http-port "$PORT404" \
	--http-timeout 20 --force --server "$PEBBLE_DIR_URL" \
	--ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_STATE"
umask 022
it_wait_grep "$IT_OUT" "http-01: waiting for.*HTTP 404" 15
F=$(find "$WWW/.well-known/acme-challenge" -type f | head -n 1)
[ -n "$F" ] || fail "no challenge file in $WWW while certo waits"
it_expect_mode "$WWW/.well-known" 755
it_expect_mode "$WWW/.well-known/acme-challenge" 755
it_expect_mode "$F" 644
# 3. SIGTERM while it waits: the file and the directories go.
it_certo_bg_kill TERM
it_expect_rc 130 "SIGTERM while waiting"
expect_www_clean

# 4. renew --force uses the remembered webroot; a .well-known that was
# there (with a file of the site's own) is kept.
mkdir -p "$WWW/.well-known"
echo "Contact: mailto:security@example.com" >"$WWW/.well-known/security.txt"
SERIAL1=$(it_cert_serial "$LIVE/cert.pem")
it_certo_ca renew --force
it_expect_rc 0 "renew --force with the remembered webroot"
[ "$(it_cert_serial "$LIVE/cert.pem")" != "$SERIAL1" ] || fail "renew did not replace the certificate"
it_expect_verifies "$LIVE/cert.pem" "$IT_INTERMEDIATE"
it_expect_verifies "$LIVE/cert.pem" "$LIVE/chain.pem"
expect_fetched_by_both "$(tokens_of_run)"
expect_www_clean ./.well-known ./.well-known/security.txt

# 4b. Two names at once (two files side by side). They do not resolve on
# this host (Pebble resolves them to 127.0.0.1 through challtestsrv), so
# certo says it cannot check them and lets the CA fetch them through nginx.
before=$(grep -c "LetsEncrypt-Pebble-VA" "$WR_ACCESS_LOG")
it_certo_ca issue -d a.certo.test -d b.certo.test --webroot "$WWW" \
	--http-port "$IT_HTTP_PORT"
it_expect_rc 0 "issue for two names through nginx"
it_expect_err_contains "cannot check http-01 for http://a.certo.test:$IT_HTTP_PORT/" "the warning"
it_expect_verifies "$IT_STATE/live/a.certo.test/cert.pem" "$IT_INTERMEDIATE"
it_expect_sans "$IT_STATE/live/a.certo.test/cert.pem" a.certo.test b.certo.test
[ "$(grep -c "LetsEncrypt-Pebble-VA" "$WR_ACCESS_LOG")" -ge $((before + 2)) ] ||
	fail "Pebble did not fetch both files through nginx"
expect_www_clean ./.well-known ./.well-known/security.txt

# 5. A DIR that nginx does not serve: the self-check sees 404 and gives
# up (exit 5) without asking the CA; DIR is left as it was.
OTHER="$IT_TMP/other"
mkdir -p "$OTHER"
it_certo_ca issue -d 127.0.0.1 --webroot "$OTHER" --http-port "$IT_HTTP_PORT" \
	--http-timeout 2 --force
it_expect_rc 5 "webroot that the server does not serve"
it_expect_err_contains "HTTP 404" "the reason"
it_expect_err_contains "the CA was not asked" "the CA was not asked"
[ -z "$(ls -A "$OTHER")" ] || fail "left in $OTHER: $(find "$OTHER" | tr '\n' ' ')"

# 5b. The CA's validation fails (the name resolves to 127.0.0.2 for
# Pebble, where nothing listens): exit 2 with Pebble's problem, and the
# file and directories certo made are gone again.
rm -r "$WWW/.well-known"
code=$(curl -s -o "$IT_TMP/add-a.out" -w '%{http_code}' -X POST \
	-d '{"host":"bad.certo.test","addresses":["127.0.0.2"]}' \
	"$CHALLTESTSRV_MGMT_URL/add-a") || fail "challtestsrv /add-a request failed"
[ "$code" = 200 ] || fail "challtestsrv /add-a answered HTTP $code"
it_certo_ca issue -d bad.certo.test --webroot "$WWW" --http-port "$IT_HTTP_PORT"
it_expect_rc 2 "validation failed at the CA"
it_expect_err_contains "connection refused" "Pebble's problem detail"
expect_www_clean

# 6. Symbolic links out of DIR are refused; nothing is written outside.
OUT="$IT_TMP/outside"
mkdir -p "$OUT/acme-challenge"
ln -s "$OUT" "$WWW/.well-known"
it_certo_ca issue -d 127.0.0.1 --webroot "$WWW" --http-port "$IT_HTTP_PORT" --force
it_expect_rc 1 ".well-known is a symbolic link"
it_expect_err_contains ".well-known is a symbolic link" "the reason"
rm "$WWW/.well-known"
mkdir "$WWW/.well-known"
ln -s "$OUT/acme-challenge" "$WWW/.well-known/acme-challenge"
it_certo_ca issue -d 127.0.0.1 --webroot "$WWW" --http-port "$IT_HTTP_PORT" --force
it_expect_rc 1 "acme-challenge is a symbolic link"
it_expect_err_contains "acme-challenge is a symbolic link" "the reason"
[ -z "$(ls -A "$OUT/acme-challenge")" ] || fail "written outside DIR: $(ls -A "$OUT/acme-challenge")"
rm -r "$WWW/.well-known"

# 7. Usage errors, before anything is asked of the CA.
it_certo_ca issue -d 127.0.0.1 --webroot "$WWW" --standalone
it_expect_rc 1 "--webroot with --standalone"
it_expect_err_contains "exclude each other" "the reason"
it_certo_ca issue -d 127.0.0.1 --webroot "$WWW" --manual
it_expect_rc 1 "--webroot with --manual"
it_certo_ca issue -d 127.0.0.1 --webroot "$IT_TMP/nonexistent"
it_expect_rc 1 "--webroot naming no directory"
it_expect_err_contains "No such file or directory" "the reason"
it_certo_ca issue -d 127.0.0.1 --webroot "$WWW" --challenge tls-alpn-01
it_expect_rc 1 "--webroot with tls-alpn-01"
it_expect_err_contains "http-01 only" "the reason"
expect_www_clean
it_pass
