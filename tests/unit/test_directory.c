/* The directory resource (client/directory.h), RFC 8555 section 7.1.1. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "directory.h"
#include "errors.h"
#include "file.h"
#include "json.h"
#include "request.h"
#include "sha256.h"

static int
parse(const char *s, struct certo_directory *dir)
{
	int rc = directory_parse(s, strlen(s), dir);

	certo_errclear();
	return rc;
}

static void
assert_empty(const struct certo_directory *dir)
{
	assert_null(dir->new_nonce);
	assert_null(dir->new_account);
	assert_null(dir->new_order);
	assert_null(dir->new_authz);
	assert_null(dir->revoke_cert);
	assert_null(dir->key_change);
	assert_null(dir->renewal_info);
	assert_null(dir->terms_of_service);
	assert_null(dir->website);
}

static void
test_rfc_example(void **state)
{
	struct certo_directory dir = { 0 };
	size_t len;
	char *text = tu_fixture("rfc8555-directory.json", &len);

	(void)state;
	assert_int_equal(directory_parse(text, len, &dir), 0);
	assert_string_equal(dir.new_nonce, "https://example.com/acme/new-nonce");
	assert_string_equal(dir.new_account,
	    "https://example.com/acme/new-account");
	assert_string_equal(dir.new_order, "https://example.com/acme/new-order");
	assert_string_equal(dir.new_authz, "https://example.com/acme/new-authz");
	assert_string_equal(dir.revoke_cert,
	    "https://example.com/acme/revoke-cert");
	assert_string_equal(dir.key_change,
	    "https://example.com/acme/key-change");
	assert_null(dir.renewal_info);
	assert_string_equal(dir.terms_of_service,
	    "https://example.com/acme/terms/2017-5-30");
	assert_string_equal(dir.website, "https://www.example.com/");
	assert_false(dir.eab_required);
	/* Parsing again into the same struct replaces everything. */
	free(text);
	text = tu_fixture("rfc9773-directory.json", &len);
	assert_int_equal(directory_parse(text, len, &dir), 0);
	assert_string_equal(dir.renewal_info,
	    "https://example.com/acme/renewal-info");
	assert_string_equal(dir.terms_of_service,
	    "https://example.com/acme/terms/2021-10-05");
	directory_free(&dir);
	assert_empty(&dir);
	directory_free(&dir);
	directory_free(NULL);
	free(text);
}

/* Optional members may be absent; externalAccountRequired is read. */
static void
test_optional(void **state)
{
	struct certo_directory dir = { 0 };
	char *s;

	(void)state;
	s = tu_json_edit("rfc8555-directory.json", "meta", NULL);
	assert_int_equal(parse(s, &dir), 0);
	assert_null(dir.terms_of_service);
	assert_null(dir.website);
	assert_false(dir.eab_required);
	free(s);
	s = tu_json_edit("rfc8555-directory.json", "newAuthz", NULL);
	assert_int_equal(parse(s, &dir), 0);
	assert_null(dir.new_authz);
	free(s);
	s = tu_json_edit("rfc8555-directory.json",
	    "meta.externalAccountRequired", "true");
	assert_int_equal(parse(s, &dir), 0);
	assert_true(dir.eab_required);
	free(s);
	/* Unknown members are ignored. */
	s = tu_json_edit("rfc8555-directory.json", "x-extension",
	    "\"https://community.letsencrypt.org/\"");
	assert_int_equal(parse(s, &dir), 0);
	free(s);
	s = tu_json_edit("rfc8555-directory.json", "meta.profiles",
	    "{\"classic\":\"x\",\"tlsserver\":\"y\"}");
	assert_int_equal(parse(s, &dir), 0);
	free(s);
	directory_free(&dir);
}

static void
test_missing_required(void **state)
{
	static const char *const req[] = { "newNonce", "newAccount", "newOrder",
		"revokeCert", "keyChange" };

	(void)state;
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		struct certo_directory dir = { 0 };
		char *s = tu_json_edit("rfc8555-directory.json", req[i], NULL);
		int rc = directory_parse(s, strlen(s), &dir);
		if (rc != CERTO_EPROTO)
			fail_msg("without %s: %s", req[i], certo_errname(rc));
		/* The message names the missing member. */
		assert_non_null(certo_errmsg());
		assert_non_null(strstr(certo_errmsg(), req[i]));
		certo_errclear();
		assert_empty(&dir);
		/* null is as good as missing. */
		free(s);
		s = tu_json_edit("rfc8555-directory.json", req[i], "null");
		assert_int_equal(parse(s, &dir), CERTO_EPROTO);
		assert_empty(&dir);
		free(s);
	}
}

static void
test_wrong_types(void **state)
{
	static const struct {
		const char *path;
		const char *value;
	} v[] = {
		{ "newNonce", "42" },
		{ "newAccount", "[\"https://example.com/acme/new-account\"]" },
		{ "newOrder", "{}" },
		{ "newAuthz", "true" },
		{ "revokeCert", "1.5" },
		{ "keyChange", "false" },
		{ "meta", "\"meta\"" },
		{ "meta", "[]" },
		{ "meta.termsOfService", "[\"https://example.com/tos\"]" },
		{ "meta.website", "1" },
		{ "meta.externalAccountRequired", "\"false\"" },
		{ "meta.externalAccountRequired", "0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certo_directory dir = { 0 };
		char *s = tu_json_edit("rfc8555-directory.json", v[i].path,
		    v[i].value);
		int rc = parse(s, &dir);
		if (rc != CERTO_EPROTO)
			fail_msg("%s = %s: %s", v[i].path, v[i].value,
			    certo_errname(rc));
		assert_empty(&dir);
		free(s);
	}
}

static void
test_huge(void **state)
{
	struct certo_directory dir = { 0 };
	char *big = tu_repeat('a', 100000), *val, *s;
	int rc;

	(void)state;
	assert_int_equal(asprintf(&val, "\"https://example.com/%s\"", big) > 0,
	    1);
	s = tu_json_edit("rfc8555-directory.json", "newNonce", val);
	rc = parse(s, &dir);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_empty(&dir);
	free(s);
	s = tu_json_edit("rfc8555-directory.json", "meta.termsOfService", val);
	rc = parse(s, &dir);
	assert_true(rc == CERTO_ETOOBIG || rc == CERTO_EPROTO);
	assert_empty(&dir);
	free(s);
	free(val);
	free(big);
	/* A document over the JSON size cap. */
	big = tu_repeat(' ', CERTO_JSON_MAX_SIZE + 1);
	memcpy(big, "{}", 2);
	assert_int_equal(directory_parse(big, strlen(big), &dir), CERTO_ETOOBIG);
	certo_errclear();
	free(big);
}

static void
test_not_json(void **state)
{
	static const char *const bad[] = { "", "<html>Bad Gateway</html>",
		"[]", "{\"newNonce\":", "null" };
	struct certo_directory dir = { 0 };
	char *text, *s, *deep, *p;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &dir), CERTO_EPROTO);
	/* Trailing garbage after the RFC document. */
	text = tu_fixture("rfc8555-directory.json", &len);
	assert_int_equal(asprintf(&s, "%s}", text) > 0, 1);
	assert_int_equal(parse(s, &dir), CERTO_EPROTO);
	assert_empty(&dir);
	free(s);
	assert_int_equal(asprintf(&s, "%s\n{\"x\":1}", text) > 0, 1);
	assert_int_equal(parse(s, &dir), CERTO_EPROTO);
	free(s);
	/* Truncated. */
	assert_int_equal(directory_parse(text, len / 2, &dir), CERTO_EPROTO);
	certo_errclear();
	assert_empty(&dir);
	/* Nested deeper than CERTO_JSON_MAX_DEPTH in an ignored member. */
	deep = malloc(2 * CERTO_JSON_MAX_DEPTH + 64);
	assert_non_null(deep);
	p = deep;
	for (int i = 0; i < CERTO_JSON_MAX_DEPTH + 1; i++)
		*p++ = '[';
	for (int i = 0; i < CERTO_JSON_MAX_DEPTH + 1; i++)
		*p++ = ']';
	*p = '\0';
	s = tu_json_edit("rfc8555-directory.json", "meta.caaIdentities", deep);
	assert_int_equal(parse(s, &dir), CERTO_EPROTO);
	assert_empty(&dir);
	free(s);
	free(deep);
	free(text);
}

static void
test_known_cas(void **state)
{
	const char *const *names = directory_names();
	size_t n = 0;

	(void)state;
	assert_non_null(names);
	for (; names[n] != NULL; n++) {
		const char *u = directory_url_for(names[n]);
		assert_non_null(u);
		assert_int_equal(strncmp(u, "https://", 8), 0);
	}
	assert_true(n >= 2);
	assert_string_equal(directory_url_for("letsencrypt"),
	    "https://acme-v02.api.letsencrypt.org/directory");
	assert_non_null(directory_url_for("letsencrypt-staging"));
	assert_null(directory_url_for("nosuchca"));
	assert_null(directory_url_for(""));
}

/*
 * A one-thread HTTP/1.1 server on 127.0.0.1 for the cache tests: GET
 * /dir answers the RFC 8555 example directory, anything else 404.  It
 * counts the requests per answer and stops when told (polls every
 * 50 ms, at most 30 s in all).
 */
struct mini_server {
	int fd;
	int port;
	volatile int stop;
	int dir_hits;
	int other_hits;
	char *body;
	pthread_t thread;
};

static void
serve_one(struct mini_server *srv, int conn)
{
	char req[4096], head[256];
	size_t got = 0;
	ssize_t n;
	const char *answer = "";
	int status = 404;

	while (got < sizeof(req) - 1 &&
	    (n = read(conn, req + got, sizeof(req) - 1 - got)) > 0) {
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[got] = '\0';
	if (strncmp(req, "GET /dir ", 9) == 0) {
		srv->dir_hits++;
		status = 200;
		answer = srv->body;
	} else {
		srv->other_hits++;
	}
	snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n", status, strlen(answer));
	if (write(conn, head, strlen(head)) < 0 ||
	    write(conn, answer, strlen(answer)) < 0)
		fprintf(stderr, "mini server: write failed\n");
	close(conn);
}

static void *
serve(void *arg)
{
	struct mini_server *srv = arg;
	struct pollfd pfd = { .fd = srv->fd, .events = POLLIN };

	for (int i = 0; i < 600 && !srv->stop; i++) {
		int conn;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((conn = accept(srv->fd, NULL, NULL)) >= 0)
			serve_one(srv, conn);
	}
	return NULL;
}

static void
server_start(struct mini_server *srv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	memset(srv, 0, sizeof(*srv));
	srv->body = tu_fixture("rfc8555-directory.json", NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(srv->fd >= 0);
	assert_int_equal(bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(srv->fd, 8), 0);
	assert_int_equal(getsockname(srv->fd, (struct sockaddr *)&sa, &len), 0);
	srv->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&srv->thread, NULL, serve, srv), 0);
}

static void
server_stop(struct mini_server *srv)
{
	srv->stop = 1;
	pthread_join(srv->thread, NULL);
	close(srv->fd);
	free(srv->body);
}

/* A request handle for http:// URLs keeping its caches in state. */
static void
req_open(struct certo_req *req, const char *state)
{
	struct http_opts opts = { 0 };

	opts.allow_http = true;
	opts.cache_dir = state;
	opts.total_timeout_ms = 5000;
	assert_int_equal(request_init(req, &opts), 0);
}

/* Where directory.c keeps the copy of url. */
static char *
copy_path(const char *state, const char *url)
{
	char hex[SHA256_HEX_LEN + 1], *p;

	assert_int_equal(sha256_hex(url, strlen(url), hex), 0);
	assert_true(asprintf(&p, "%s/directories/%s.json", state, hex) > 0);
	return p;
}

static void
set_age(const char *path, long age_s)
{
	struct timeval tv[2];

	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - age_s;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	assert_int_equal(utimes(path, tv), 0);
}

/* The first fetch asks the CA and keeps the answer; the next uses it. */
static void
test_cache_kept_and_used(void **state)
{
	struct mini_server srv;
	struct certo_directory dir = { 0 };
	struct certo_req req;
	char *tmp = tu_tmpdir(), *url, *path, *text;
	size_t len;

	(void)state;
	server_start(&srv);
	assert_true(asprintf(&url, "http://127.0.0.1:%d/dir", srv.port) > 0);
	path = copy_path(tmp, url);
	req_open(&req, tmp);
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_false(dir.cached);
	assert_int_equal(srv.dir_hits, 1);
	assert_int_equal(cache_read(path, 0, &text, &len, NULL), 0);
	/* The copy is written from the typed fields, not the CA's bytes:
	 * it reads back as the same directory, without what certo ignores. */
	assert_null(strstr(text, "caaIdentities"));
	{
		struct certo_directory back = { 0 };
		assert_int_equal(directory_parse(text, len, &back), 0);
		assert_string_equal(back.new_nonce, dir.new_nonce);
		assert_string_equal(back.new_account, dir.new_account);
		assert_string_equal(back.new_order, dir.new_order);
		assert_string_equal(back.new_authz, dir.new_authz);
		assert_string_equal(back.revoke_cert, dir.revoke_cert);
		assert_string_equal(back.key_change, dir.key_change);
		assert_string_equal(back.terms_of_service,
		    dir.terms_of_service);
		assert_string_equal(back.website, dir.website);
		directory_free(&back);
	}
	free(text);
	directory_free(&dir);
	request_free(&req);
	/* A later run: no request, the same directory, newNonce set. */
	req_open(&req, tmp);
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_true(dir.cached);
	assert_int_equal(srv.dir_hits, 1);
	assert_int_equal(req.requests, 0);
	assert_string_equal(dir.new_order, "https://example.com/acme/new-order");
	assert_string_equal(req.new_nonce_url,
	    "https://example.com/acme/new-nonce");
	assert_null(certo_errmsg());
	directory_free(&dir);
	request_free(&req);
	/* Without a state directory nothing is kept or used. */
	req_open(&req, NULL);
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_false(dir.cached);
	assert_int_equal(srv.dir_hits, 2);
	directory_free(&dir);
	request_free(&req);
	server_stop(&srv);
	tu_rmtree(tmp);
	free(path);
	free(url);
	free(tmp);
}

/* Copies older than a day, from the future or unreadable: asked again. */
static void
test_cache_stale(void **state)
{
	static const long ages[] = { DIRECTORY_CACHE_TTL + 60, -3600 };
	struct mini_server srv;
	struct certo_directory dir = { 0 };
	struct certo_req req;
	struct stat st;
	char *tmp = tu_tmpdir(), *url, *path;
	int hits = 0;

	(void)state;
	server_start(&srv);
	assert_true(asprintf(&url, "http://127.0.0.1:%d/dir", srv.port) > 0);
	path = copy_path(tmp, url);
	req_open(&req, tmp);
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_int_equal(srv.dir_hits, ++hits);
	request_free(&req);
	for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
		set_age(path, ages[i]);
		req_open(&req, tmp);
		assert_int_equal(directory_fetch(&req, url, &dir), 0);
		assert_false(dir.cached);
		assert_int_equal(srv.dir_hits, ++hits);
		request_free(&req);
		/* Refreshed: fresh again. */
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_mtime <= time(NULL) &&
		    st.st_mtime >= time(NULL) - 60);
	}
	/* Just inside the day: used. */
	set_age(path, DIRECTORY_CACHE_TTL - 60);
	req_open(&req, tmp);
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_true(dir.cached);
	assert_int_equal(srv.dir_hits, hits);
	request_free(&req);
	/* A copy that does not parse is replaced; no message stays. */
	tu_write(path, "{\"newNonce\": 7}", 15, 0644);
	req_open(&req, tmp);
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_false(dir.cached);
	assert_int_equal(srv.dir_hits, ++hits);
	assert_null(certo_errmsg());
	request_free(&req);
	directory_free(&dir);
	server_stop(&srv);
	tu_rmtree(tmp);
	free(path);
	free(url);
	free(tmp);
}

/*
 * directory_forget removes the copy; so does any failing request to the
 * CA's host after the copy was used (the next run asks again), but not
 * one to another host.
 */
static void
test_cache_forget(void **state)
{
	struct mini_server srv;
	struct certo_directory dir = { 0 };
	struct certo_req req;
	struct http_resp resp;
	char *tmp = tu_tmpdir(), *url, *missing, *other, *path;

	(void)state;
	server_start(&srv);
	assert_true(asprintf(&url, "http://127.0.0.1:%d/dir", srv.port) > 0);
	assert_true(asprintf(&missing, "http://127.0.0.1:%d/missing",
	    srv.port) > 0);
	assert_true(asprintf(&other, "http://localhost:%d/missing",
	    srv.port) > 0);
	path = copy_path(tmp, url);
	req_open(&req, tmp);
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_true(file_exists(path));
	directory_forget(&req, url);
	assert_false(file_exists(path));
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_false(dir.cached);
	request_free(&req);
	/* A failure before the copy was used leaves it. */
	req_open(&req, tmp);
	assert_int_equal(request_get(&req, missing, DOC_NONE, &resp), CERTO_EHTTP);
	http_resp_free(&resp);
	certo_errclear();
	assert_true(file_exists(path));
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_true(dir.cached);
	/* Another host failing: kept. */
	assert_int_equal(request_get(&req, other, DOC_NONE, &resp), CERTO_EHTTP);
	http_resp_free(&resp);
	certo_errclear();
	assert_true(file_exists(path));
	/* The CA's host answering 404: removed. */
	assert_int_equal(request_get(&req, missing, DOC_NONE, &resp), CERTO_EHTTP);
	http_resp_free(&resp);
	certo_errclear();
	assert_false(file_exists(path));
	request_free(&req);
	req_open(&req, tmp);
	assert_int_equal(directory_fetch(&req, url, &dir), 0);
	assert_false(dir.cached);
	assert_int_equal(srv.dir_hits, 3);
	assert_int_equal(srv.other_hits, 3);
	request_free(&req);
	directory_free(&dir);
	server_stop(&srv);
	tu_rmtree(tmp);
	free(path);
	free(other);
	free(missing);
	free(url);
	free(tmp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_optional),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_known_cas),
		cmocka_unit_test(test_cache_kept_and_used),
		cmocka_unit_test(test_cache_stale),
		cmocka_unit_test(test_cache_forget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
