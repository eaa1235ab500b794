/*
 * doc.h: the CA's bodies read where they arrive, and their typed fields
 * across the privsep channel.  RFC 8555 / RFC 9773 example documents go
 * through doc_read() and doc_put()/doc_get() and come out as the parser
 * made them; fields a compromised network process could forge (URLs,
 * tokens, enums, counts, the kind, the code) are refused by doc_get().
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "errors.h"
#include "http.h"
#include "json.h"
#include "privsep_msg.h"

/* A 2xx (or status) response with body as doc_read() gets it. */
static void
resp_with(struct http_resp *resp, long status, const char *ctype,
    const char *body)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = status;
	resp->content_type = ctype ? strdup(ctype) : NULL;
	buf_init(&resp->body, 1024 * 1024);
	assert_int_equal(buf_add(&resp->body, body, strlen(body)), 0);
}

/* Read body as kind, send it, and read it back as the key process. */
static struct certo_doc *
roundtrip(const char *body, unsigned kind, long status)
{
	struct http_resp resp;
	struct privsep_msg m;
	struct certo_doc *back = NULL;

	doc_init();
	resp_with(&resp, status, status >= 400 ? "application/problem+json" :
	    "application/json", body);
	assert_int_equal(doc_read(&resp, kind, NULL), 0);
	/* The bytes are gone: only the document is left. */
	assert_null(resp.body.data);
	assert_non_null(resp.doc);
	privsep_msg_init(&m, 1);
	assert_int_equal(doc_put(&m, resp.doc), 0);
	m.pos = 0;
	assert_int_equal(doc_get(&m, kind, &back), 0);
	assert_int_equal(m.pos, m.buf.len);
	privsep_msg_free(&m);
	http_resp_free(&resp);
	return back;
}

static char *
fixture(const char *name)
{
	size_t len;
	char *s = tu_fixture(name, &len);

	assert_non_null(s);
	return s;
}

static void
test_directory(void **state)
{
	char *json = fixture("rfc8555-directory.json");
	struct certo_doc *d = roundtrip(json, DOC_DIRECTORY, 200);
	struct certo_directory want = { 0 };

	(void)state;
	assert_int_equal(directory_parse(json, strlen(json), &want), 0);
	assert_int_equal(d->kind, DOC_DIRECTORY);
	assert_int_equal(d->rc, 0);
	assert_string_equal(d->u.dir.new_nonce, want.new_nonce);
	assert_string_equal(d->u.dir.new_order, want.new_order);
	assert_string_equal(d->u.dir.key_change, want.key_change);
	assert_string_equal(d->u.dir.terms_of_service, want.terms_of_service);
	assert_int_equal(d->u.dir.eab_required, want.eab_required);
	directory_free(&want);
	doc_free(d);
	free(json);
}

static void
test_order_authz_challenge(void **state)
{
	char *order = fixture("rfc8555-order.json");
	char *authz = fixture("rfc8555-authz.json");
	char *chall = fixture("rfc8555-challenge-http01.json");
	struct certo_order want = { 0 };
	struct certo_authz wanta = { 0 };
	struct certo_doc *d;

	(void)state;
	assert_int_equal(order_parse(order, strlen(order), &want), 0);
	d = roundtrip(order, DOC_ORDER, 201);
	assert_int_equal(d->u.order.status, want.status);
	assert_int_equal(d->u.order.nidents, want.nidents);
	assert_string_equal(d->u.order.idents[0].value,
	    want.idents[0].value);
	assert_int_equal(d->u.order.nauthz, want.nauthz);
	assert_string_equal(d->u.order.authz_urls[1], want.authz_urls[1]);
	assert_string_equal(d->u.order.finalize, want.finalize);
	doc_free(d);
	order_free(&want);

	assert_int_equal(authz_parse(authz, strlen(authz), &wanta), 0);
	d = roundtrip(authz, DOC_AUTHZ, 200);
	assert_string_equal(d->u.authz.ident.value, wanta.ident.value);
	assert_int_equal(d->u.authz.status, wanta.status);
	assert_int_equal(d->u.authz.nchalls, wanta.nchalls);
	assert_string_equal(d->u.authz.challs[0].token, wanta.challs[0].token);
	assert_string_equal(d->u.authz.challs[0].url, wanta.challs[0].url);
	doc_free(d);
	authz_free(&wanta);

	d = roundtrip(chall, DOC_CHALLENGE, 200);
	assert_int_equal(d->u.chall.type, CHALL_HTTP01);
	assert_non_null(d->u.chall.token);
	doc_free(d);
	free(order);
	free(authz);
	free(chall);
}

static void
test_problem_account_ari(void **state)
{
	char *prob = fixture("rfc8555-problem-subproblems.json");
	char *acct = fixture("rfc8555-account.json");
	static const char ari[] = "{\"suggestedWindow\":{\"start\":"
	    "\"2025-01-02T04:00:00Z\",\"end\":\"2025-01-03T04:00:00Z\"},"
	    "\"explanationURL\":\"https://acme.example.com/docs/ari\"}";
	struct certo_doc *d;

	(void)state;
	/* An error answer is read as its problem, whatever was asked. */
	d = roundtrip(prob, DOC_ORDER, 403);
	assert_int_equal(d->kind, DOC_PROBLEM);
	assert_string_equal(d->u.prob.type,
	    "urn:ietf:params:acme:error:malformed");
	assert_int_equal(d->u.prob.nsubs, 2);
	assert_string_equal(d->u.prob.subs[1].ident_value, "example.net");
	doc_free(d);

	d = roundtrip(acct, DOC_ACCOUNT, 200);
	assert_string_equal(d->u.acct.status, "valid");
	assert_int_equal(d->u.acct.ncontacts, 2);
	doc_free(d);
	/* The key the CA holds crosses as JWK members; others are left. */
	d = roundtrip("{\"status\":\"valid\",\"orders\":"
	    "\"https://ca.test/orders/1\",\"termsOfServiceAgreed\":true,"
	    "\"key\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAEC\","
	    "\"y\":\"a/b\",\"d\":\"secret\"}}", DOC_ACCOUNT, 200);
	assert_string_equal(d->u.acct.jwk[0], "EC");
	assert_string_equal(d->u.acct.jwk[2], "AAEC");
	assert_null(d->u.acct.jwk[3]); /* not base64url */
	assert_string_equal(d->u.acct.orders, "https://ca.test/orders/1");
	assert_true(d->u.acct.tos_agreed);
	doc_free(d);

	d = roundtrip(ari, DOC_RENEWALINFO, 200);
	assert_int_equal(d->u.ari.end - d->u.ari.start, 86400);
	assert_string_equal(d->u.ari.explanation,
	    "https://acme.example.com/docs/ari");
	doc_free(d);
	free(prob);
	free(acct);
}

/* The http-01 self-check: compared where it arrived, only the verdict
 * and a printable start of the body cross. */
static void
test_keyauth(void **state)
{
	static const char ka[] = "tok.thumb";
	struct http_resp resp;
	struct privsep_msg m;
	struct certo_doc *back = NULL;
	const char *bodies[] = { "tok.thumb", "tok.thumb\r\n \t", "tok.thum",
		"tok.thumb.", "\x1b[31mtok.thumb" };
	const bool want[] = { true, true, false, false, false };

	(void)state;
	doc_init();
	for (size_t i = 0; i < 5; i++) {
		resp_with(&resp, 200, "text/plain", bodies[i]);
		assert_int_equal(doc_read(&resp, DOC_KEYAUTH, ka), 0);
		assert_null(resp.body.data);
		privsep_msg_init(&m, 1);
		assert_int_equal(doc_put(&m, resp.doc), 0);
		m.pos = 0;
		assert_int_equal(doc_get(&m, DOC_KEYAUTH, &back), 0);
		assert_int_equal(back->u.keyauth.match, want[i]);
		assert_int_equal(back->u.keyauth.len, strlen(bodies[i]));
		/* Printable: the ESC arrives as \x1b. */
		assert_null(strchr(back->u.keyauth.shown, 0x1b));
		doc_free(back);
		privsep_msg_free(&m);
		http_resp_free(&resp);
	}
}

/* A body that does not parse: its code and message cross, no fields. */
static void
test_parse_failure_crosses(void **state)
{
	struct certo_doc *d;
	struct http_resp resp;

	(void)state;
	d = roundtrip("{\"status\":\"pending\",\"identifiers\":[],"
	    "\"authorizations\":[],\"finalize\":\"file:///etc/passwd\"}",
	    DOC_ORDER, 200);
	assert_int_equal(d->kind, DOC_ORDER);
	assert_int_equal(d->rc, CERTO_EPROTO);
	assert_non_null(strstr(d->msg, "finalize"));
	/* doc_take hands the failure on, with its message. */
	memset(&resp, 0, sizeof(resp));
	resp.doc = d;
	{
		struct certo_order o = { 0 };
		assert_int_equal(doc_take(&resp, DOC_ORDER, &o), CERTO_EPROTO);
		assert_non_null(strstr(certo_errmsg(), "finalize"));
		certo_errclear();
	}
	doc_free(d);
}

/* A message of kind whose doc was built by hand (a forged one). */
static int
get_forged(const struct certo_doc *forged, unsigned asked)
{
	struct privsep_msg m;
	struct certo_doc *back = NULL;
	int rc;

	privsep_msg_init(&m, 1);
	assert_int_equal(doc_put(&m, forged), 0);
	m.pos = 0;
	rc = doc_get(&m, asked, &back);
	assert_null(back);
	privsep_msg_free(&m);
	certo_errclear();
	return rc;
}

static void
test_forged_fields_refused(void **state)
{
	static char u1[] = "https://ca.test/authz/1", fin[] =
	    "https://ca.test/finalize/1", file[] = "file:///etc/passwd",
	    dns[] = "dns", email[] = "email", name[] = "a.test",
	    cu[] = "https://ca.test/chall/1",
	    tok[] = "../../etc/passwd-aaaaaaaaaaaaaaaa", x[] = "x";
	char *authz[] = { u1 };
	char *bad_url[] = { file };
	struct certo_identifier id = { dns, name };
	struct certo_challenge ch = { CHALL_HTTP01, CHALL_PENDING, cu, tok,
		NULL };
	struct certo_doc d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.kind = DOC_ORDER;
	d.u.order.status = ORDER_PENDING;
	d.u.order.idents = &id;
	d.u.order.nidents = 1;
	d.u.order.authz_urls = authz;
	d.u.order.nauthz = 1;
	d.u.order.finalize = fin;
	/* The well-formed one passes... */
	{
		struct privsep_msg m;
		struct certo_doc *back = NULL;
		privsep_msg_init(&m, 1);
		assert_int_equal(doc_put(&m, &d), 0);
		m.pos = 0;
		assert_int_equal(doc_get(&m, DOC_ORDER, &back), 0);
		doc_free(back);
		privsep_msg_free(&m);
	}
	/* ...asked for as something else, it does not. */
	assert_int_equal(get_forged(&d, DOC_AUTHZ), CERTO_EPRIVSEP);
	/* A URL that is not http(s). */
	d.u.order.authz_urls = bad_url;
	assert_int_equal(get_forged(&d, DOC_ORDER), CERTO_EPRIVSEP);
	d.u.order.authz_urls = authz;
	d.u.order.finalize = file;
	assert_int_equal(get_forged(&d, DOC_ORDER), CERTO_EPRIVSEP);
	d.u.order.finalize = fin;
	/* An enum out of range. */
	d.u.order.status = (enum order_status)7;
	assert_int_equal(get_forged(&d, DOC_ORDER), CERTO_EPRIVSEP);
	d.u.order.status = ORDER_PENDING;
	/* An identifier type certo does not know. */
	id.type = email;
	assert_int_equal(get_forged(&d, DOC_ORDER), CERTO_EPRIVSEP);
	id.type = dns;
	/* Too many identifiers. */
	d.u.order.nidents = ORDER_MAX_IDENTIFIERS + 1;
	{
		struct certo_identifier *many = calloc(ORDER_MAX_IDENTIFIERS + 1,
		    sizeof(*many));
		assert_non_null(many);
		for (size_t i = 0; i <= ORDER_MAX_IDENTIFIERS; i++)
			many[i] = id;
		d.u.order.idents = many;
		assert_int_equal(get_forged(&d, DOC_ORDER), CERTO_EPRIVSEP);
		free(many);
	}
	/* A token that would become a path. */
	memset(&d, 0, sizeof(d));
	d.kind = DOC_CHALLENGE;
	d.u.chall = ch;
	assert_int_equal(get_forged(&d, DOC_CHALLENGE), CERTO_EPRIVSEP);
	/* A JWK member that is not base64url; an unknown status. */
	{
		static char st[] = "valid", bad[] = "a/b", odd[] = "pending";
		memset(&d, 0, sizeof(d));
		d.kind = DOC_ACCOUNT;
		d.u.acct.status = st;
		d.u.acct.jwk[2] = bad;
		assert_int_equal(get_forged(&d, DOC_ACCOUNT), CERTO_EPRIVSEP);
		d.u.acct.jwk[2] = NULL;
		d.u.acct.status = odd;
		assert_int_equal(get_forged(&d, DOC_ACCOUNT), CERTO_EPRIVSEP);
	}
	/* A failure code that is not one of certo's. */
	memset(&d, 0, sizeof(d));
	d.kind = DOC_ORDER;
	d.rc = 12345;
	d.msg = x;
	assert_int_equal(get_forged(&d, DOC_ORDER), CERTO_EPRIVSEP);
}

/* A message cut short is refused, never half-used. */
static void
test_truncated(void **state)
{
	char *json = fixture("rfc8555-order.json");
	struct http_resp resp;
	struct privsep_msg m;
	struct certo_doc *back = NULL;

	(void)state;
	doc_init();
	resp_with(&resp, 200, "application/json", json);
	assert_int_equal(doc_read(&resp, DOC_ORDER, NULL), 0);
	privsep_msg_init(&m, 1);
	assert_int_equal(doc_put(&m, resp.doc), 0);
	for (size_t cut = 0; cut < m.buf.len; cut += 7) {
		struct privsep_msg t;
		privsep_msg_init(&t, 1);
		assert_int_equal(buf_add(&t.buf, m.buf.data, cut), 0);
		assert_int_equal(doc_get(&t, DOC_ORDER, &back),
		    CERTO_EPRIVSEP);
		assert_null(back);
		certo_errclear();
		privsep_msg_free(&t);
	}
	privsep_msg_free(&m);
	http_resp_free(&resp);
	free(json);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_order_authz_challenge),
		cmocka_unit_test(test_problem_account_ari),
		cmocka_unit_test(test_keyauth),
		cmocka_unit_test(test_parse_failure_crosses),
		cmocka_unit_test(test_forged_fields_refused),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
