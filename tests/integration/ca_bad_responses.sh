#!/bin/sh
# ca_bad_responses: oversized headers and URLs certo must not follow are
# the CA's fault: exit 2 with a message that says what was wrong (issue 9,
# item 12: today headers over the cap are reported as an oversized body,
# and CA-supplied http:// / file:// URLs exit 1, "usage").
# Through tests/integration/standin_ca.py:
#  (a) big_headers: the directory's response carries 80,000 bytes of extra
#      headers (certo's cap is 64 KiB): exit 2, the message says the
#      headers are too large and does not say "body";
#  (b) the same on the newOrder response;
#  (c) bad_url: the order's authorization URL is http://localhost:PORT/...
#      while the directory is https: exit 2 (not 1), the message names it;
#  (d) the authorization URL is file:///etc/passwd: the same;
#  (e) the finalize URL is file:///etc/<ESC>[0mpasswd: exit 2, the
#      message names it with ESC shown as \x1b, no raw ESC byte;
#  (f) the finalize URL is https on another server (127.0.0.2, same
#      port): the key process signs only for the directory's server (issue
#      13): exit 2, the message names the URL and says so.
# Each: nothing under live/, no temp files, nothing written outside the
# state dir.
. "$(dirname "$0")/lib.sh"
it_init ca_bad_responses
PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 it_start_pebble
it_start_standin pass
it_outside_begin
CERTO_IT_RUN_TIMEOUT=30

# expect_ca_fault WHAT: exit 2 and the usual hygiene
expect_ca_fault() {
	it_expect_no_ctl_bytes "$IT_ERR" "$1"
	it_expect_no_ctl_bytes "$IT_OUT" "$1"
	it_expect_rc 2 "$1"
	it_expect_err_certo_line "$1"
	it_expect_no_live "$1"
	it_expect_no_tmp
	it_expect_nothing_outside "$1"
}

# headers_case NAME KIND
headers_case() {
	it_si_set "{\"scenario\": \"big_headers\", \"where\": \"$2\", \"header_bytes\": 80000}"
	it_si_issue -d "$1"
	expect_ca_fault "80,000 bytes of headers on the $2 response"
	it_expect_msg_contains "header" "$2 headers: the message says headers"
	if it_err_msg | grep -qi 'body'; then
		fail "$2 headers: the message [$(it_err_msg)] talks about the body"
	fi
}

# url_case NAME WHERE URL SHOWN
url_case() {
	it_si_set "{\"scenario\": \"bad_url\", \"where\": \"$2\", \"bad_url\": \"$3\"}"
	it_si_issue -d "$1"
	expect_ca_fault "$2 URL $4 from the CA"
	it_expect_msg_contains "$4" "$2 URL: the message names the URL"
}

it_case a && headers_case bh-a.certo.test directory
it_case b && headers_case bh-b.certo.test newOrder
it_case c && url_case bu-c.certo.test authz "http://localhost:$SI_PORT/authZ/plain" \
	"http://localhost:$SI_PORT/authZ/plain"
it_case d && url_case bu-d.certo.test authz "file:///etc/passwd" "file:///etc/passwd"
it_case e && url_case bu-e.certo.test finalize 'file:///etc/\u001b[0mpasswd' \
	'file:///etc/\x1b[0mpasswd'
if it_case f; then
	url_case bu-f.certo.test finalize "https://127.0.0.2:$SI_PORT/finalize-order/x" \
		"https://127.0.0.2:$SI_PORT/finalize-order/x"
	it_expect_msg_contains "only for the server of its directory" \
		"finalize on another server: the message says why"
fi
it_pass
