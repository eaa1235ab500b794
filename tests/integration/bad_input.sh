#!/bin/sh
# bad_input: usage and local errors. Each case must exit with the documented
# code, say what is wrong on stderr ("certo: ..."), and leave nothing under
# live/. Pebble runs so that only the intended error can stop certo.
. "$(dirname "$0")/lib.sh"
it_init bad_input
it_start_pebble

# case_usage WHAT TEXT ARGS...: certo ARGS exits 1, stderr names TEXT.
case_usage() {
	_what=$1
	_text=$2
	shift 2
	it_certo "$@"
	it_expect_rc 1 "$_what"
	it_expect_err_certo_line "$_what"
	[ -z "$_text" ] || it_expect_err_contains "$_text" "$_what"
	it_expect_no_live "$_what"
	it_log "ok: $_what"
}

# issue_usage WHAT TEXT ARGS...: same, with the standard issue flags first.
issue_usage() {
	_what=$1
	_text=$2
	shift 2
	case_usage "$_what" "$_text" issue --server "$PEBBLE_DIR_URL" \
		--ca-bundle "$PEBBLE_CA_BUNDLE" --state-dir "$IT_STATE" --standalone \
		--http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 --agree-tos \
		--email test@example.com "$@"
}

# The basics the contract promises.
it_certo --version
it_expect_rc 0 "--version"
[ -s "$IT_OUT" ] || fail "--version printed nothing on stdout"
it_certo --help
it_expect_rc 0 "--help"
grep -q issue "$IT_OUT" || fail "--help does not mention the issue command"
it_certo issue --help
it_expect_rc 0 "issue --help"
grep -q -- --http-port "$IT_OUT" || fail "issue --help does not mention --http-port"

# Unknown options and commands.
issue_usage "unknown issue option" bogus-flag --bogus-flag -d a.certo.test
case_usage "unknown global option" bogus-global --bogus-global issue -d a.certo.test
case_usage "unknown command" frobnicate frobnicate
issue_usage "no -d" ""

# Invalid names.
label64=$(printf '%064d' 0 | tr 0 a)
issue_usage "empty label" 'bad..name' -d 'bad..name'
issue_usage "leading hyphen" '-x.test' -d '-x.test'
issue_usage "64-character label" "$label64" -d "$label64.certo.test"
issue_usage "empty name" "" -d ''
issue_usage "duplicate name" dup.certo.test -d dup.certo.test -d other.certo.test -d dup.certo.test

# Invalid option values.
issue_usage "port out of range" 70000 -d a.certo.test --http-port 70000
issue_usage "unknown key type" bogus-type -d a.certo.test --key-type bogus-type

# A state dir that cannot be created (a path under a regular file; this
# works as root too, unlike chmod).
: >"$IT_TMP/plainfile"
it_certo issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$IT_TMP/plainfile/state" --standalone \
	--http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 --agree-tos \
	--email test@example.com -d a.certo.test
it_expect_rc 4 "state dir under a regular file"
it_expect_err_certo_line "state dir under a regular file"
it_expect_err_contains "$IT_TMP/plainfile" "state dir under a regular file"
[ -f "$IT_TMP/plainfile" ] && [ ! -s "$IT_TMP/plainfile" ] ||
	fail "state dir under a regular file: the file was changed"
it_log "ok: unwritable state dir"

# The same through $CERTO_STATE_DIR, the default state dir: proves the
# variable is honoured.
CERTO_STATE_DIR="$IT_TMP/plainfile/envstate"
export CERTO_STATE_DIR
it_certo issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--standalone --http-port "$IT_HTTP_PORT" --http-addr 127.0.0.1 \
	--agree-tos --email test@example.com -d a.certo.test
unset CERTO_STATE_DIR
it_expect_rc 4 "CERTO_STATE_DIR under a regular file"
it_expect_err_contains "$IT_TMP/plainfile" "CERTO_STATE_DIR under a regular file"
it_log "ok: unwritable CERTO_STATE_DIR"

# The http-01 port is taken by another process.
it_listen "$IT_HTTP_PORT"
it_issue -d a.certo.test
it_expect_rc 4 "http port in use"
it_expect_err_certo_line "http port in use"
it_expect_err_contains "$IT_HTTP_PORT" "http port in use"
it_expect_err_contains "--http-port" "http port in use"
it_expect_no_live "http port in use"
it_log "ok: http port in use"

it_expect_no_tmp
it_pass
