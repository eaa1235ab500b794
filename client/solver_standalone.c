/* The standalone solver: in-process HTTP-01 and TLS-ALPN-01 responders. */
#include "solver.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"
#include "http.h"
#include "http01.h"
#include "log.h"
#include "tlsalpn01.h"
#include "tokens.h"

#define ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"

struct standalone {
	struct token_table tokens;
	struct http01_server *http;
	struct tlsalpn01_server *tls;
	char *http_host;              /* how to reach our own servers */
	char *tls_host;
	unsigned short http_port;
	unsigned short tls_port;
};

static enum token_type
token_type(enum chall_type t)
{
	return t == CHALL_TLSALPN01 ? TOKEN_TLSALPN01 : TOKEN_HTTP01;
}

static int
publish(void *ctx, enum chall_type t, const char *ident, const char *token,
    const char *keyauth)
{
	struct standalone *s = ctx;
	int rc;

	if ((rc = tokens_add(&s->tokens, token_type(t), ident, token,
	    keyauth)) != 0)
		return certo_fail(rc, "cannot publish the %s challenge for %s%s",
		    challenge_type_name(t), ident,
		    rc == CERTO_ENOMEM ? ": out of memory" : "");
	return 0;
}

static int
check_http(struct standalone *s, const char *ident, const char *token,
    const char *keyauth)
{
	struct http_resp r;
	struct certo_http client;
	struct http_opts hto = { 0 };
	char *url = NULL, shown[128];
	int rc;

	/* A handle per check: renew runs several orders at once. */
	hto.allow_http = true;
	hto.connect_timeout_ms = 2000;
	hto.total_timeout_ms = 5000;
	if ((rc = http_init(&client, &hto)) != 0)
		return rc;
	if (asprintf(&url, "http://%s:%u/.well-known/acme-challenge/%s",
	    s->http_host, s->http_port, token) < 0) {
		http_free(&client);
		return CERTO_ENOMEM;
	}
	memset(&r, 0, sizeof(r));
	rc = http_request(&client, "GET", url, NULL, NULL, 4096, &r);
	if (rc != 0 && rc != CERTO_ENOMEM) {
		certo_errclear();
		rc = certo_fail(CERTO_ESELFCHECK, "self-check of the http-01 "
		    "challenge for %s failed: cannot fetch %s from our own "
		    "server; the CA was not asked", ident, url);
	} else if (rc == 0 && (r.status != 200 ||
	    r.body.len != strlen(keyauth) ||
	    memcmp(r.body.data, keyauth, r.body.len) != 0)) {
		rc = certo_fail(CERTO_ESELFCHECK, "self-check of the http-01 "
		    "challenge for %s failed: %s answered HTTP %ld with \"%s\" "
		    "instead of the key authorization; the CA was not asked",
		    ident, url, r.status, log_sanitize(shown, sizeof(shown),
		    r.body.data ? r.body.data : "", r.body.len));
	}
	http_resp_free(&r);
	http_free(&client);
	free(url);
	return rc;
}

/* Connect to host:port (numeric) with a timeout. */
static int
connect_to(const char *host, unsigned short port, int *fdp)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct timeval tv = { 5, 0 };
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr)) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr)) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		return CERTO_EUSAGE;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return CERTO_EIO;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return CERTO_ENET;
	}
	*fdp = fd;
	return 0;
}

/*
 * Check a validation certificate: one SAN equal to ident, the critical
 * acmeIdentifier extension holding SHA-256(keyauth) (RFC 8737 3).
 */
static const char *
check_alpn_cert(const gnutls_datum_t *der, const char *ident,
    const char *keyauth)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char want[34], ext[64];
	size_t extlen = sizeof(ext);
	unsigned critical = 0;
	const char *why = NULL;

	want[0] = 0x04;
	want[1] = 32;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth, strlen(keyauth), want + 2);
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0)
		why = "unparseable certificate";
	else if (gnutls_x509_crt_get_extension_by_oid(crt, ACME_IDENTIFIER_OID,
	    0, ext, &extlen, &critical) < 0)
		why = "no acmeIdentifier extension";
	else if (!critical)
		why = "acmeIdentifier extension not critical";
	else if (extlen != sizeof(want) || memcmp(ext, want, extlen) != 0)
		why = "acmeIdentifier does not match the key authorization";
	else if (!gnutls_x509_crt_check_hostname2(crt, ident,
	    GNUTLS_VERIFY_DO_NOT_ALLOW_WILDCARDS))
		why = "certificate is not for this identifier";
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return why;
}

static int
check_tls(struct standalone *s, const char *ident, const char *keyauth)
{
	gnutls_session_t sess = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t alpn = { (unsigned char *)(uintptr_t)"acme-tls/1", 10 };
	gnutls_datum_t got = { NULL, 0 };
	const gnutls_datum_t *certs;
	unsigned ncerts = 0;
	const char *why = NULL;
	char sni[80];
	unsigned char ip[16];
	int fd = -1, ret;

	/* IP identifiers use the reverse-DNS name as SNI (RFC 8738 6). */
	if (inet_pton(AF_INET, ident, ip) == 1) {
		snprintf(sni, sizeof(sni), "%u.%u.%u.%u.in-addr.arpa", ip[3], ip[2],
		    ip[1], ip[0]);
	} else if (inet_pton(AF_INET6, ident, ip) == 1) {
		size_t o = 0;
		for (int i = 15; i >= 0; i--)
			o += (size_t)snprintf(sni + o, sizeof(sni) - o, "%x.%x.",
			    ip[i] & 15, ip[i] >> 4);
		snprintf(sni + o, sizeof(sni) - o, "ip6.arpa");
	} else {
		snprintf(sni, sizeof(sni), "%s", ident);
	}
	if (connect_to(s->tls_host, s->tls_port, &fd) != 0) {
		why = "cannot connect to our own TLS-ALPN-01 server";
		goto out;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_init(&sess, GNUTLS_CLIENT) < 0 ||
	    gnutls_set_default_priority(sess) < 0 ||
	    gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
	    gnutls_server_name_set(sess, GNUTLS_NAME_DNS, sni,
	    strlen(sni)) < 0 ||
	    gnutls_alpn_set_protocols(sess, &alpn, 1, 0) < 0) {
		why = "TLS setup failed";
		goto out;
	}
	gnutls_transport_set_int(sess, fd);
	gnutls_handshake_set_timeout(sess, 5000);
	do {
		ret = gnutls_handshake(sess);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0) {
		why = gnutls_strerror(ret);
		goto out;
	}
	if (gnutls_alpn_get_selected_protocol(sess, &got) < 0 ||
	    got.size != 10 || memcmp(got.data, "acme-tls/1", 10) != 0) {
		why = "acme-tls/1 was not negotiated";
		goto out;
	}
	if ((certs = gnutls_certificate_get_peers(sess, &ncerts)) == NULL ||
	    ncerts != 1) {
		why = "expected exactly one certificate";
		goto out;
	}
	why = check_alpn_cert(&certs[0], ident, keyauth);
	gnutls_bye(sess, GNUTLS_SHUT_WR);
out:
	if (sess)
		gnutls_deinit(sess);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (fd >= 0)
		close(fd);
	if (why != NULL)
		return certo_fail(CERTO_ESELFCHECK, "self-check of the tls-alpn-01 "
		    "challenge for %s failed: %s; the CA was not asked", ident,
		    why);
	return 0;
}

static int
selfcheck(void *ctx, const struct solver_item *items, size_t n)
{
	struct standalone *s = ctx;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = items[i].type == CHALL_TLSALPN01 ?
		    check_tls(s, items[i].ident, items[i].keyauth) :
		    check_http(s, items[i].ident, items[i].token,
		    items[i].keyauth);
	return rc;
}

static void
withdraw(void *ctx, enum chall_type t, const char *ident, const char *token)
{
	struct standalone *s = ctx;

	tokens_remove(&s->tokens, token_type(t), ident, token);
}

static void
stop(void *ctx)
{
	struct standalone *s = ctx;

	if (s == NULL)
		return;
	http01_stop(s->http);
	tlsalpn01_stop(s->tls);
	tokens_free(&s->tokens);
	free(s->http_host);
	free(s->tls_host);
	free(s);
}

static const struct solver_ops standalone_ops = {
	.name = "standalone",
	.publish = publish,
	.selfcheck = selfcheck,
	.withdraw = withdraw,
	.stop = stop,
};

/* Where to reach a server bound to addr: loopback for wildcards. */
static char *
reach(const char *addr, bool url)
{
	const char *h = addr == NULL || strcmp(addr, "0.0.0.0") == 0 ?
	    "127.0.0.1" : strcmp(addr, "::") == 0 ? "::1" : addr;
	char *out;

	if (url && strchr(h, ':') != NULL) {
		if (asprintf(&out, "[%s]", h) < 0)
			return NULL;
		return out;
	}
	return strdup(h);
}

int
solver_standalone_start(const struct solver_standalone_opts *o,
    struct solver *out)
{
	struct standalone *s;
	struct http01_opts ho = { 0 };
	struct tlsalpn01_opts to = { 0 };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CERTO_ENOMEM;
	if ((rc = tokens_init(&s->tokens, 0, 0)) != 0) {
		free(s);
		return rc;
	}
	for (size_t i = 0; i < o->ntypes; i++) {
		if (o->types[i] == CHALL_HTTP01 && s->http == NULL) {
			ho.addr = o->http_addr;
			ho.port = o->http_port;
			if ((rc = http01_start(&ho, &s->tokens, &s->http)) != 0)
				goto fail;
			s->http_port = http01_port(s->http);
			if ((s->http_host = reach(o->http_addr, true)) == NULL) {
				rc = CERTO_ENOMEM;
				goto fail;
			}
		} else if (o->types[i] == CHALL_TLSALPN01 && s->tls == NULL) {
			to.addr = o->tls_addr;
			to.port = o->tls_port;
			if ((rc = tlsalpn01_start(&to, &s->tokens, &s->tls)) != 0)
				goto fail;
			s->tls_port = tlsalpn01_port(s->tls);
			if ((s->tls_host = reach(o->tls_addr, false)) == NULL) {
				rc = CERTO_ENOMEM;
				goto fail;
			}
		} else if (o->types[i] != CHALL_HTTP01 &&
		    o->types[i] != CHALL_TLSALPN01) {
			rc = certo_fail(CERTO_EUSAGE, "--standalone cannot answer %s "
			    "challenges", challenge_type_name(o->types[i]));
			goto fail;
		}
		out->types[out->ntypes++] = o->types[i];
	}
	out->ops = &standalone_ops;
	out->ctx = s;
	return 0;
fail:
	stop(s);
	memset(out, 0, sizeof(*out));
	return rc;
}
