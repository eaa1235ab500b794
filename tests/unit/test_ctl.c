/*
 * The control protocol (responder/ctl.h): the line parser on valid and
 * malformed lines, then the server and the one-shot client over a real
 * unix socket: round trips, pipelining, abuse, socket paths.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "errors.h"
#include "tokens.h"

#define TOK "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define THUMB "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define TP "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
#define KA TOK "." THUMB

static int
parse(const char *line, struct ctl_request *req, const char **err)
{
	return ctl_parse_line(line, strlen(line), req, err);
}

/* A string literal must be refused with exactly this reason. */
#define R(lit, reason) refused(lit, sizeof(lit) - 1, reason)

/* line must be refused with exactly this reason. */
static void
refused(const char *line, size_t len, const char *reason)
{
	struct ctl_request req;
	const char *err = NULL;

	if (ctl_parse_line(line, len, &req, &err) != CERTO_EUSAGE)
		fail_msg("accepted: '%.*s'", (int)len, line);
	assert_non_null(err);
	if (strcmp(err, reason) != 0)
		fail_msg("'%.*s': reason '%s', expected '%s'", (int)len, line, err,
		    reason);
}

static void
test_auth_http_dns(void **state)
{
	struct ctl_request req;
	const char *err = "x";

	(void)state;
	assert_int_equal(parse("auth http-01 www.example.org " TOK " " KA, &req,
	    &err), 0);
	assert_null(err);
	assert_int_equal(req.cmd, CTL_AUTH);
	assert_int_equal(req.type, CHALL_HTTP01);
	assert_string_equal(req.ident, "www.example.org");
	assert_string_equal(req.token, TOK);
	assert_string_equal(req.keyauth, KA);
}

static void
test_auth_alpn_ip(void **state)
{
	struct ctl_request req;
	const char *err;

	(void)state;
	assert_int_equal(parse("auth tls-alpn-01 192.0.2.7 " TOK " " KA, &req,
	    &err), 0);
	assert_int_equal(req.type, CHALL_TLSALPN01);
	assert_string_equal(req.ident, "192.0.2.7");
	assert_int_equal(parse("auth tls-alpn-01 2001:db8::1 " TOK " " KA, &req,
	    &err), 0);
	assert_string_equal(req.ident, "2001:db8::1");
	/* IPv6 literals are put in their canonical form. */
	assert_int_equal(parse("auth http-01 2001:DB8:0:0::1 " TOK " " KA, &req,
	    &err), 0);
	assert_string_equal(req.ident, "2001:db8::1");
}

static void
test_unauth(void **state)
{
	struct ctl_request req;
	const char *err;

	(void)state;
	assert_int_equal(parse("unauth http-01 example.org " TOK, &req, &err), 0);
	assert_int_equal(req.cmd, CTL_UNAUTH);
	assert_int_equal(req.type, CHALL_HTTP01);
	assert_string_equal(req.ident, "example.org");
	assert_string_equal(req.token, TOK);
	assert_string_equal(req.keyauth, "");
	assert_int_equal(parse("unauth tls-alpn-01 ::1 " TOK, &req, &err), 0);
	assert_int_equal(req.type, CHALL_TLSALPN01);
	assert_string_equal(req.ident, "::1");
}

static void
test_list(void **state)
{
	struct ctl_request req;
	const char *err;

	(void)state;
	assert_int_equal(parse("list", &req, &err), 0);
	assert_int_equal(req.cmd, CTL_LIST);
	R("list x", "too many fields");
	R("list ", "empty field");
}

static void
test_bad_command(void **state)
{
	(void)state;
	R("AUTH http-01 a.example " TOK " " KA, "unknown command");
	R("add http-01 a.example " TOK " " KA, "unknown command");
	R("", "empty line");
	R(" ", "empty field");
}

static void
test_field_count(void **state)
{
	(void)state;
	R("auth http-01 a.example " TOK, "missing fields");
	R("auth", "missing fields");
	R("unauth http-01 a.example", "missing fields");
	R("auth http-01 a.example " TOK " " KA " extra", "too many fields");
	R("unauth http-01 a.example " TOK " " KA, "too many fields");
	/* Double, leading and trailing spaces. */
	R("auth  http-01 a.example " TOK " " KA, "empty field");
	R(" list", "empty field");
	R("unauth http-01 a.example " TOK " ", "empty field");
	R("unauth\thttp-01\ta.example\t" TOK, "control byte");
}

static void
test_bad_type(void **state)
{
	(void)state;
	R("auth dns-01 a.example " TOK " " KA, "bad type");
	R("unauth HTTP-01 a.example " TOK, "bad type");
	R("unauth http-01x a.example " TOK, "bad type");
}

static void
test_bad_token(void **state)
{
	struct ctl_request req;
	const char *err;
	char line[CTL_MAX_LINE], tok[TOKENS_MAX_TOKEN + 2];

	(void)state;
	R("unauth http-01 a.example ../x", "bad token");
	R("unauth http-01 a.example a/b", "bad token");
	R("unauth http-01 a.example abc=", "bad token");
	R("auth http-01 a.example ../x ../x.abc", "bad token");
	/* An empty token is two spaces. */
	R("unauth http-01 a.example  x", "empty field");
	memset(tok, 'A', TOKENS_MAX_TOKEN + 1);
	tok[TOKENS_MAX_TOKEN + 1] = '\0';
	snprintf(line, sizeof(line), "unauth http-01 a.example %s", tok);
	refused(line, strlen(line), "bad token");
	tok[TOKENS_MAX_TOKEN] = '\0';
	snprintf(line, sizeof(line), "unauth http-01 a.example %s", tok);
	assert_int_equal(parse(line, &req, &err), 0);
	assert_int_equal(strlen(req.token), TOKENS_MAX_TOKEN);
}

static void
test_bad_keyauth(void **state)
{
	(void)state;
	/* Another challenge's token. */
	R("auth http-01 a.example " TOK " AAAA." THUMB,
	    "key authorization does not match token");
	R("auth http-01 a.example " TOK " " TOK "x." THUMB,
	    "key authorization does not match token");
	R("auth http-01 a.example " TOK " " TOK, "bad key authorization");
	R("auth http-01 a.example " TOK " " TOK ".", "bad key authorization");
	R("auth http-01 a.example " TOK " " TOK ".a.b", "bad key authorization");
	R("auth http-01 a.example " TOK " " TOK ".ab+c",
	    "bad key authorization");
}

static void
test_bad_ident(void **state)
{
	char line[CTL_MAX_LINE], name[300];

	(void)state;
	R("unauth http-01 A.example " TOK, "bad identifier");
	R("unauth http-01 a_b.example " TOK, "bad identifier");
	R("unauth http-01 *.example.org " TOK, "bad identifier");
	R("unauth http-01 localhost " TOK, "bad identifier");
	R("unauth http-01 ../etc " TOK, "bad identifier");
	R("unauth http-01 1.2.3.4.5 " TOK, "bad identifier");
	R("unauth http-01 ::g " TOK, "bad identifier");
	/* 254 bytes: one over DNS's limit (labels of 62 and dots). */
	memset(name, 'a', sizeof(name));
	for (size_t i = 62; i < 254; i += 63)
		name[i] = '.';
	name[254] = '\0';
	snprintf(line, sizeof(line), "unauth http-01 %s %s", name, TOK);
	refused(line, strlen(line), "bad identifier");
	/* One label of 64. */
	memset(name, 'b', 64);
	strcpy(name + 64, ".example");
	snprintf(line, sizeof(line), "unauth http-01 %s %s", name, TOK);
	refused(line, strlen(line), "bad identifier");
}

static void
test_bytes(void **state)
{
	static const char nul[] = "unauth http-01 a.ex\0ample " TOK;
	static const char del[] = "unauth http-01 a.example\x7f " TOK;
	static const char hi[] = "unauth http-01 \xc3\xa9.example " TOK;
	char line[CTL_MAX_LINE + 10];

	(void)state;
	refused(nul, sizeof(nul) - 1, "NUL byte");
	R("list\r", "control byte");
	R("list\n", "control byte");
	R("\x1b[2Jlist", "control byte");
	refused(del, sizeof(del) - 1, "control byte");
	refused(hi, sizeof(hi) - 1, "non-ASCII byte");
	/* Over-long lines are refused before anything else is looked at. */
	memset(line, 'A', sizeof(line));
	refused(line, CTL_MAX_LINE, "line too long");
	refused(line, sizeof(line), "line too long");
	memcpy(line, "list ", 5);
	refused(line, CTL_MAX_LINE - 1, "too many fields");
}

/* ------------------------------------------------- server and client */

struct srv {
	char *dir;
	char *path;
	struct token_table tokens;
	struct ctl_server *server;
};

static int
srv_setup(void **state)
{
	struct srv *fix = calloc(1, sizeof(*fix));

	assert_non_null(fix);
	fix->dir = tu_tmpdir();
	fix->path = tu_path(fix->dir, "ctl.sock");
	assert_int_equal(tokens_init(&fix->tokens, 4, 0), 0);
	assert_int_equal(ctl_server_start(fix->path, 0600, (gid_t)-1, &fix->tokens,
	    &fix->server), 0);
	*state = fix;
	return 0;
}

static int
srv_teardown(void **state)
{
	struct srv *fix = *state;
	struct stat st;

	ctl_server_stop(fix->server);
	/* Stopping removes the socket file. */
	assert_int_not_equal(lstat(fix->path, &st), 0);
	tokens_free(&fix->tokens);
	tu_rmtree(fix->dir);
	free(fix->dir);
	free(fix->path);
	free(fix);
	return 0;
}

static int
raw_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Read until n newlines or EOF (2 s at most); returns what came. */
static char *
raw_read(int fd, int lines)
{
	static char buf[8192];
	size_t off = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	while (off < sizeof(buf) - 1 && poll(&pfd, 1, 2000) == 1) {
		if ((r = read(fd, buf + off, sizeof(buf) - 1 - off)) <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[off + (size_t)i] == '\n')
				lines--;
		off += (size_t)r;
		if (lines <= 0)
			break;
	}
	buf[off] = '\0';
	return buf;
}

static void
test_server_roundtrip(void **state)
{
	struct srv *fix = *state;
	char reply[1024], ka[TOKENS_MAX_KEYAUTH + 1];
	struct stat st;

	assert_int_equal(lstat(fix->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ctl_client_request(fix->path, "auth http-01 a.example "
	    TOK " " KA, reply, sizeof(reply)), 0);
	assert_string_equal(reply, "OK");
	assert_int_equal(tokens_lookup_http(&fix->tokens, TOK, ka, sizeof(ka)),
	    (long)strlen(KA));
	assert_string_equal(ka, KA);
	assert_int_equal(ctl_client_request(fix->path, "auth tls-alpn-01 ::1 "
	    TOK " " KA, reply, sizeof(reply)), 0);
	assert_int_equal(ctl_client_request(fix->path, "list", reply,
	    sizeof(reply)), 0);
	assert_non_null(strstr(reply, "OK 2\n"));
	assert_non_null(strstr(reply, "http-01 a.example " TOK));
	assert_non_null(strstr(reply, "tls-alpn-01 ::1 " TOK));
	assert_null(strstr(reply, THUMB));
	assert_int_equal(ctl_client_request(fix->path, "unauth http-01 a.example "
	    TOK, reply, sizeof(reply)), 0);
	assert_int_equal(tokens_lookup_http(&fix->tokens, TOK, ka, sizeof(ka)),
	    -1);
	certo_errclear();
	assert_int_equal(ctl_client_request(fix->path, "unauth http-01 a.example "
	    TOK, reply, sizeof(reply)), CERTO_EPROTO);
	assert_string_equal(reply, "ERR not found");
	assert_non_null(strstr(certo_errmsg(), "not found"));
	certo_errclear();
	assert_int_equal(ctl_client_request(fix->path, "auth http-01 a.example "
	    "../x ../x.y", reply, sizeof(reply)), CERTO_EPROTO);
	assert_string_equal(reply, "ERR bad token");
	certo_errclear();
	/* A list answer that does not fit is an error, not a cut answer. */
	assert_int_equal(ctl_client_request(fix->path, "list", reply, 8),
	    CERTO_ETOOBIG);
	certo_errclear();
}

static void
test_server_table_full(void **state)
{
	struct srv *fix = *state;
	char reply[256], line[256];

	for (int i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "auth http-01 h%d.example t%d t%d.x",
		    i, i, i);
		assert_int_equal(ctl_client_request(fix->path, line, reply,
		    sizeof(reply)), i < 4 ? 0 : CERTO_EPROTO);
	}
	assert_string_equal(reply, "ERR table full");
	certo_errclear();
}

static void
test_server_abuse(void **state)
{
	struct srv *fix = *state;
	static const char two[] = "list\nbogus\nlist\n";
	char big[4096], *ans;
	int fd;

	fd = raw_connect(fix->path);
	assert_int_equal(write(fd, two, sizeof(two) - 1), sizeof(two) - 1);
	ans = raw_read(fd, 3);
	assert_string_equal(ans, "OK 0\nERR unknown command\nOK 0\n");
	/* A NUL inside a line is refused, the connection goes on. */
	assert_int_equal(write(fd, "li\0st\n", 6), 6);
	assert_string_equal(raw_read(fd, 1), "ERR NUL byte\n");
	/* An over-long line: one answer, then the server hangs up. */
	memset(big, 'x', sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), sizeof(big));
	assert_string_equal(raw_read(fd, 99), "ERR line too long\n");
	close(fd);
	/* The server still answers others. */
	fd = raw_connect(fix->path);
	assert_int_equal(write(fd, "list\n", 5), 5);
	assert_string_equal(raw_read(fd, 1), "OK 0\n");
	close(fd);
}

/* Beyond the client limit: "ERR busy" and a hang-up, others unharmed. */
static void
test_server_busy(void **state)
{
	struct srv *fix = *state;
	int fds[70], extra;
	char reply[64];

	for (size_t i = 0; i < 70; i++)
		fds[i] = raw_connect(fix->path);
	/* The first 64 are served; the rest were told and dropped. */
	assert_int_equal(write(fds[0], "list\n", 5), 5);
	assert_string_equal(raw_read(fds[0], 1), "OK 0\n");
	assert_string_equal(raw_read(fds[69], 1), "ERR busy\n");
	for (size_t i = 0; i < 70; i++)
		close(fds[i]);
	/*
	 * Closed ones are forgotten, once the server has seen the hang-ups
	 * (it may still count them for a moment: retry, bounded).
	 */
	for (int tries = 0;; tries++) {
		char *got;
		extra = raw_connect(fix->path);
		assert_int_equal(write(extra, "list\n", 5), 5);
		got = raw_read(extra, 1);
		close(extra);
		if (strcmp(got, "OK 0\n") == 0)
			break;
		assert_string_equal(got, "ERR busy\n");
		assert_true(tries < 200);
		usleep(10000);
	}
	assert_int_equal(ctl_client_request(fix->path, "list", reply,
	    sizeof(reply)), 0);
}

/* ------------------------------------- more cases, a second set */

static int
file_exists_here(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}


static void
test_good(void **state)
{
	struct ctl_request req;
	const char *err = "x";

	(void)state;
	assert_int_equal(parse("auth http-01 example.org " TOK " " TOK "." TP,
	    &req, &err), 0);
	assert_null(err);
	assert_int_equal(req.cmd, CTL_AUTH);
	assert_int_equal(req.type, CHALL_HTTP01);
	assert_string_equal(req.ident, "example.org");
	assert_string_equal(req.token, TOK);
	assert_string_equal(req.keyauth, TOK "." TP);
	assert_int_equal(parse("unauth tls-alpn-01 www.example.org " TOK, &req,
	    &err), 0);
	assert_int_equal(req.cmd, CTL_UNAUTH);
	assert_int_equal(req.type, CHALL_TLSALPN01);
	assert_string_equal(req.ident, "www.example.org");
	assert_string_equal(req.token, TOK);
	assert_int_equal(parse("list", &req, &err), 0);
	assert_int_equal(req.cmd, CTL_LIST);
	/* err may be NULL. */
	assert_int_equal(parse("list", &req, NULL), 0);
}

/* IP identifiers are kept in their canonical text form. */
static void
test_ip_idents(void **state)
{
	struct ctl_request req;

	(void)state;
	assert_int_equal(parse("unauth tls-alpn-01 2001:DB8:0::1 " TOK, &req,
	    NULL), 0);
	assert_string_equal(req.ident, "2001:db8::1");
	assert_int_equal(parse("unauth http-01 192.0.2.1 " TOK, &req, NULL), 0);
	assert_string_equal(req.ident, "192.0.2.1");
}

static void
test_bad_table(void **state)
{
	static const char *const bad[] = {
		"",
		"lst",
		"LIST",
		"list ",
		" list",
		"list extra",
		"auth",
		"auth http-01 example.org " TOK,
		"auth http-01 example.org " TOK " " TOK "." TP " extra",
		"auth  http-01 example.org " TOK " " TOK "." TP,
		"auth dns-01 example.org " TOK " " TOK "." TP,
		"auth HTTP-01 example.org " TOK " " TOK "." TP,
		"auth http-01 ../etc " TOK " " TOK "." TP,
		"auth http-01 Example.org " TOK " " TOK "." TP,
		"auth http-01 localhost " TOK " " TOK "." TP,
		"auth http-01 *.example.org " TOK " " TOK "." TP,
		"auth http-01 example.org ../../x ../../x." TP,
		"auth http-01 example.org " TOK "= " TOK "=." TP,
		"auth http-01 example.org " TOK " " TOK,
		"auth http-01 example.org " TOK " " TOK ".",
		"auth http-01 example.org " TOK " other." TP,
		"auth http-01 example.org " TOK " " TOK "." TP "/",
		"auth http-01 example.org " TOK " " TOK "." TP ".x",
		"unauth http-01 example.org",
		"unauth http-01 example.org " TOK " x",
		"unauth http-01 1.2.3.999 " TOK,
		"unauth http-01 ::g " TOK,
		"list\r",
		"list\t",
		"auth http-01 example.org " TOK " " TOK "." TP "\x7f",
		"auth http-01 ex\xc3\xa4mple.org " TOK " " TOK "." TP,
	};
	struct ctl_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;
		if (parse(bad[i], &req, &err) != CERTO_EUSAGE)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(err);
		assert_true(tu_printable(err));
	}
}

/* Embedded NULs and over-long lines; len is respected. */
static void
test_lengths(void **state)
{
	static const char nul[] = "list\0junk";
	struct ctl_request req;
	const char *err;
	char *line, *tok;
	size_t n;

	(void)state;
	assert_int_equal(ctl_parse_line(nul, sizeof(nul) - 1, &req, &err),
	    CERTO_EUSAGE);
	assert_int_equal(ctl_parse_line(nul, 4, &req, &err), 0);
	/* Token at the cap and just over it. */
	tok = tu_repeat('A', TOKENS_MAX_TOKEN);
	assert_int_equal(asprintf(&line, "unauth http-01 example.org %s", tok) >
	    0, 1);
	assert_int_equal(parse(line, &req, &err), 0);
	assert_int_equal(strlen(req.token), TOKENS_MAX_TOKEN);
	free(line);
	free(tok);
	tok = tu_repeat('A', TOKENS_MAX_TOKEN + 1);
	assert_int_equal(asprintf(&line, "unauth http-01 example.org %s", tok) >
	    0, 1);
	assert_int_equal(parse(line, &req, &err), CERTO_EUSAGE);
	free(line);
	free(tok);
	/* A line of CTL_MAX_LINE bytes or more. */
	n = CTL_MAX_LINE + 10;
	line = tu_repeat('a', n);
	memcpy(line, "list ", 5);
	assert_int_equal(ctl_parse_line(line, n, &req, &err), CERTO_EUSAGE);
	free(line);
}

/* ------------------------------------------------ server and client */

static char *tmp;             /* the group's scratch directory */

static int
group_setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	tu_rmtree(tmp);
	free(tmp);
	return 0;
}

static void
test_server_round_trip(void **state)
{
	struct token_table table;
	struct ctl_server *server, *server2;
	char *path = tu_path(tmp, "ctl.sock"), reply[4096],
	    out[TOKENS_MAX_KEYAUTH + 1];
	struct stat st;

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	assert_int_equal(ctl_server_start(path, 0660, (gid_t)-1, &table,
	    &server), 0);
	assert_non_null(server);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);

	assert_int_equal(ctl_client_request(path, "auth http-01 example.org "
	    TOK " " TOK "." TP, reply, sizeof(reply)), 0);
	assert_string_equal(reply, "OK");
	assert_int_equal(tokens_lookup_http(&table, TOK, out, sizeof(out)),
	    (long)strlen(TOK "." TP));
	assert_string_equal(out, TOK "." TP);

	assert_int_equal(ctl_client_request(path, "list", reply, sizeof(reply)),
	    0);
	assert_string_equal(reply, "OK 1\nhttp-01 example.org " TOK);

	/* Refused requests come back as CERTO_EPROTO with the reason. */
	assert_int_equal(ctl_client_request(path, "auth dns-01 example.org "
	    TOK " " TOK "." TP, reply, sizeof(reply)), CERTO_EPROTO);
	assert_int_equal(strncmp(reply, "ERR ", 4), 0);
	certo_errclear();
	assert_int_equal(ctl_client_request(path, "auth http-01 example.org "
	    "../x ../x." TP, reply, sizeof(reply)), CERTO_EPROTO);
	certo_errclear();

	assert_int_equal(ctl_client_request(path, "unauth http-01 example.org "
	    TOK, reply, sizeof(reply)), 0);
	assert_int_equal(tokens_lookup_http(&table, TOK, out, sizeof(out)), -1);
	assert_int_equal(ctl_client_request(path, "unauth http-01 example.org "
	    TOK, reply, sizeof(reply)), CERTO_EPROTO);
	certo_errclear();
	assert_int_equal(ctl_client_request(path, "list", reply, sizeof(reply)),
	    0);
	assert_string_equal(reply, "OK 0");

	/* A second server on a live socket is refused. */
	assert_int_equal(ctl_server_start(path, 0600, (gid_t)-1, &table, &server2),
	    CERTO_EADDRINUSE);
	assert_null(server2);
	certo_errclear();

	ctl_server_stop(server);
	assert_false(file_exists_here(path));
	/* Nobody listening now. */
	assert_int_equal(ctl_client_request(path, "list", reply, sizeof(reply)),
	    CERTO_ENET);
	certo_errclear();
	tokens_free(&table);
	free(path);
}

/* Several requests pipelined on one connection, answered in order. */
static void
test_server_pipelined(void **state)
{
	struct token_table table;
	struct ctl_server *server;
	struct sockaddr_un sa;
	char *path = tu_path(tmp, "pipe.sock"), buf[256];
	static const char req[] = "list\nbogus\nauth http-01 example.org "
	    TOK " " TOK "." TP "\nlist\n";
	size_t got = 0;
	int fd;

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	assert_int_equal(ctl_server_start(path, 0600, (gid_t)-1, &table,
	    &server), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req, sizeof(req) - 1),
	    (ssize_t)(sizeof(req) - 1));
	/* "OK 0\n" "ERR unknown command\n" "OK\n" "OK 1\n" + one line */
	while (got < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);
		assert_true(r > 0);
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "OK 1\n") != NULL &&
		    buf[got - 1] == '\n' && strstr(strstr(buf, "OK 1\n") + 5,
		    "\n") != NULL)
			break;
	}
	assert_string_equal(buf, "OK 0\nERR unknown command\nOK\nOK 1\n"
	    "http-01 example.org " TOK "\n");
	close(fd);
	ctl_server_stop(server);
	tokens_free(&table);
	free(path);
}

static void
test_server_paths(void **state)
{
	struct token_table table;
	struct ctl_server *server;
	char *file = tu_path(tmp, "regular"), *stale = tu_path(tmp, "stale.sock");
	char *longp, reply[64];
	struct sockaddr_un sa;
	int fd;

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	/* A regular file is never replaced. */
	tu_write(file, "keep", 4, 0600);
	assert_int_equal(ctl_server_start(file, 0600, (gid_t)-1, &table, &server),
	    CERTO_EBIND);
	assert_null(server);
	certo_errclear();
	assert_true(file_exists_here(file));
	/* A stale socket (nobody listening) is. */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, stale);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(ctl_server_start(stale, 0600, (gid_t)-1, &table,
	    &server), 0);
	assert_int_equal(ctl_client_request(stale, "list", reply,
	    sizeof(reply)), 0);
	ctl_server_stop(server);
	/* Longer than sun_path. */
	longp = tu_repeat('x', sizeof(sa.sun_path) + 10);
	longp[0] = '/';
	assert_int_equal(ctl_server_start(longp, 0600, (gid_t)-1, &table, &server),
	    CERTO_ECONFIG);
	certo_errclear();
	assert_int_not_equal(ctl_client_request(longp, "list", reply,
	    sizeof(reply)), 0);
	certo_errclear();
	/* Client-side refusals before connecting. */
	assert_int_equal(ctl_client_request(stale, "list\nlist", reply,
	    sizeof(reply)), CERTO_EUSAGE);
	certo_errclear();
	free(longp);
	free(file);
	free(stale);
	tokens_free(&table);
}

/*
 * The socket appears with its mode and group from the start (made in a
 * private directory and moved into place), nothing is left next to it,
 * and a directory too long for the private path in sun_path still works
 * (bound through /proc/self/fd).  A disowned socket survives stop.
 */
static void
test_server_placement(void **state)
{
	struct token_table table;
	struct ctl_server *server;
	struct stat st;
	char *dir, *path, *sub, reply[64];
	dev_t dev;
	ino_t ino;
	gid_t gid = getegid();
	size_t n;

	(void)state;
	/* As root, a group we are not in: the chown must really happen. */
	if (geteuid() == 0)
		gid = 65534;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	dir = tu_path(tmp, "place");
	assert_int_equal(mkdir(dir, 0700), 0);
	path = tu_path(dir, "ctl.sock");
	assert_int_equal(ctl_server_start(path, 0640, gid, &table, &server), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, gid);
	assert_int_equal(tu_count_entries(dir, ".certo-ctl"), 0);
	assert_int_equal(tu_count_entries(dir, ""), 1);
	assert_int_equal(ctl_client_request(path, "list", reply, sizeof(reply)),
	    0);
	/* Disowned: stop leaves the file to whoever took it over. */
	ctl_server_disown(server, &dev, &ino);
	assert_true(dev == st.st_dev && ino == st.st_ino);
	ctl_server_stop(server);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(unlink(path), 0);
	free(path);

	/* dir/<long>/s.sock fits in sun_path; dir/<long>/.certo-ctl.XXXXXX/s
	 * would not. */
	n = sizeof(((struct sockaddr_un *)0)->sun_path) - 1 - strlen(dir) -
	    strlen("/") - strlen("/s.sock");
	sub = tu_repeat('d', n);
	free(dir);
	dir = tu_path(tmp, "place");
	path = malloc(strlen(dir) + n + 16);
	assert_non_null(path);
	sprintf(path, "%s/%s", dir, sub);
	assert_int_equal(mkdir(path, 0700), 0);
	strcat(path, "/s.sock");
	assert_true(strlen(path) < sizeof(((struct sockaddr_un *)0)->sun_path));
	assert_int_equal(ctl_server_start(path, 0600, (gid_t)-1, &table,
	    &server), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(ctl_client_request(path, "list", reply, sizeof(reply)),
	    0);
	ctl_server_stop(server);
	assert_int_not_equal(lstat(path, &st), 0);
	free(sub);
	free(path);
	free(dir);
	tokens_free(&table);
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Out of descriptors, accept() fails with EMFILE while the client stays
 * in the backlog: the server must back off instead of spinning (measured
 * as this process's CPU time), and answer the client once descriptors
 * are free again.
 */
static void
test_server_emfile(void **state)
{
	struct token_table table;
	struct ctl_server *server;
	struct rlimit old, low;
	int fds[512], nfds = 0, fd, client;
	char *path;
	double cpu;

	(void)state;
	assert_int_equal(tokens_init(&table, 0, 0), 0);
	path = tu_path(tmp, "emfile.sock");
	assert_int_equal(ctl_server_start(path, 0600, (gid_t)-1, &table,
	    &server), 0);
	client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(client >= 0);
	/* Few descriptors, then all of them taken. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)client + 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (nfds < (int)(sizeof(fds) / sizeof(fds[0])) &&
	    (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fds[nfds++] = fd;
	assert_int_equal(errno, EMFILE);
	{
		struct sockaddr_un sa;

		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		strcpy(sa.sun_path, path);
		assert_int_equal(connect(client, (struct sockaddr *)&sa,
		    sizeof(sa)), 0);
	}
	assert_int_equal(write(client, "list\n", 5), 5);
	cpu = cpu_seconds();
	usleep(1500000);
	cpu = cpu_seconds() - cpu;
	/* A spinning accept loop burns about 1.5 s here. */
	if (cpu > 0.25)
		fail_msg("%.2f s of CPU in 1.5 s while accept() fails", cpu);
	while (nfds > 0)
		close(fds[--nfds]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_string_equal(raw_read(client, 1), "OK 0\n");
	close(client);
	ctl_server_stop(server);
	free(path);
	tokens_free(&table);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_http_dns),
		cmocka_unit_test(test_auth_alpn_ip),
		cmocka_unit_test(test_unauth),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_bad_command),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_bad_token),
		cmocka_unit_test(test_bad_keyauth),
		cmocka_unit_test(test_bad_ident),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test_setup_teardown(test_server_roundtrip, srv_setup,
		    srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_table_full, srv_setup,
		    srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_abuse, srv_setup,
		    srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_busy, srv_setup,
		    srv_teardown),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_ip_idents),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_server_round_trip),
		cmocka_unit_test(test_server_pipelined),
		cmocka_unit_test(test_server_paths),
		cmocka_unit_test(test_server_placement),
		cmocka_unit_test(test_server_emfile),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
