/*
 * The standalone solver: in-process HTTP-01 (responder/http01.c) and
 * TLS-ALPN-01 (responder/tlsalpn01.c) servers over one token table, and
 * their self-checks: fetch our own URL, or do an acme-tls/1 handshake
 * with our own server and check the validation certificate.
 */
#include "solver.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "domain.h"
#include "errors.h"
#include "http.h"
#include "http01.h"
#include "log.h"
#include "sha256.h"
#include "solver_http01.h"
#include "tlsalpn01.h"
#include "tokens.h"

#define ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"
#define ACME_TLS_ALPN "acme-tls/1"
#define TLS_TIMEOUT_MS 5000

/* The solver's context. */
struct standalone {
	struct token_table tokens;
	struct http01_server *http;
	struct tlsalpn01_server *tls;
	char *http_host;              /* how to reach our own servers */
	char *tls_host;               /* (numeric, no brackets) */
	unsigned short http_port;
	unsigned short tls_port;
};

static int
publish(void *ctx, enum chall_type type, const char *ident,
    const char *token, const char *keyauth)
{
	struct standalone *stand = ctx;
	int rc;

	if ((rc = tokens_add(&stand->tokens, type, ident, token,
	    keyauth)) != 0)
		return certo_fail(rc, "cannot publish the %s challenge for "
		    "%s%s", challenge_type_name(type), ident,
		    rc == CERTO_ENOMEM ? ": out of memory" : "");
	return 0;
}

/* GET our own http-01 URL for token: it must serve keyauth. */
static int
selfcheck_http_fetch(struct standalone *stand, const char *ident,
    const char *token, const char *keyauth)
{
	struct certo_http client;
	struct http_opts hopts = { 0 };
	char *url = NULL, why[400];
	bool v6;
	int rc;

	/* A handle per check: renew runs several orders at once. */
	hopts.allow_http = true;
	hopts.connect_timeout_ms = 2000;
	hopts.total_timeout_ms = 5000;
	if ((rc = http_init(&client, &hopts)) != 0)
		return rc;
	v6 = ident_classify(stand->http_host, false, NULL, NULL) == IDENT_IPV6;
	if (asprintf(&url, "http://%s%s%s:%u/.well-known/acme-challenge/%s",
	    v6 ? "[" : "", stand->http_host, v6 ? "]" : "", stand->http_port,
	    token) < 0) {
		http_free(&client);
		return CERTO_ENOMEM;
	}
	rc = solver_http01_fetch(&client, url, stand->http_host,
	    stand->http_port, keyauth, why, sizeof(why));
	if (rc == SOLVER_HTTP01_UNREACHABLE)
		rc = certo_fail(CERTO_ESELFCHECK, "self-check of the http-01 "
		    "challenge for %s failed: cannot fetch %s from our own "
		    "server: %s; the CA was not asked", ident, url, why);
	else if (rc == SOLVER_HTTP01_WRONG)
		rc = certo_fail(CERTO_ESELFCHECK, "self-check of the http-01 "
		    "challenge for %s failed: %s: %s; the CA was not asked",
		    ident, url, why);
	http_free(&client);
	free(url);
	return rc;
}

/* Connect to host:port (a numeric address) with a timeout; *fdp. */
static int
connect_to(const char *host, unsigned short port, int *fdp)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { TLS_TIMEOUT_MS / 1000, 0 };
	unsigned char ip[16];
	socklen_t sl;
	int fd;

	memset(&ss, 0, sizeof(ss));
	switch (ident_classify(host, false, ip, NULL)) {
	case IDENT_IPV4:
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ip, 4);
		sl = sizeof(*sin);
		break;
	case IDENT_IPV6:
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, ip, 16);
		sl = sizeof(*sin6);
		break;
	default:
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
 * Check a validation certificate: the critical acmeIdentifier extension
 * holding want (the DER OCTET STRING of SHA-256(keyauth)), one SAN equal
 * to ident (RFC 8737 3).  NULL when it is right, else why not.
 */
static const char *
check_alpn_cert(const gnutls_datum_t *der, const char *ident,
    const unsigned char want[2 + SHA256_LEN])
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char ext[64];
	size_t extlen = sizeof(ext);
	unsigned critical = 0;
	const char *why = NULL;

	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0)
		why = "unparseable certificate";
	else if (gnutls_x509_crt_get_extension_by_oid(crt, ACME_IDENTIFIER_OID,
	    0, ext, &extlen, &critical) < 0)
		why = "no acmeIdentifier extension";
	else if (!critical)
		why = "acmeIdentifier extension not critical";
	else if (extlen != 2 + SHA256_LEN || memcmp(ext, want, extlen) != 0)
		why = "acmeIdentifier does not match the key authorization";
	else if (!gnutls_x509_crt_check_hostname2(crt, ident,
	    GNUTLS_VERIFY_DO_NOT_ALLOW_WILDCARDS))
		why = "certificate is not for this identifier";
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return why;
}

/* The SNI for ident: IP identifiers use their reverse-DNS name (RFC
 * 8738 6). */
static void
alpn_sni(const char *ident, char *sni, size_t len)
{
	unsigned char ip[16];
	size_t off = 0;

	switch (ident_classify(ident, false, ip, NULL)) {
	case IDENT_IPV4:
		snprintf(sni, len, "%u.%u.%u.%u.in-addr.arpa", ip[3], ip[2],
		    ip[1], ip[0]);
		break;
	case IDENT_IPV6:
		for (int i = 15; i >= 0; i--)
			off += (size_t)snprintf(sni + off, len - off, "%x.%x.",
			    ip[i] & 15, ip[i] >> 4);
		snprintf(sni + off, len - off, "ip6.arpa");
		break;
	default:
		snprintf(sni, len, "%s", ident);
		break;
	}
}

/* An acme-tls/1 session on fd for sni; NULL when it is set up, else why
 * not. */
static const char *
alpn_session(gnutls_session_t *sess, gnutls_certificate_credentials_t *cred,
    const char *sni, int fd)
{
	gnutls_datum_t alpn = {
		(unsigned char *)(uintptr_t)ACME_TLS_ALPN,
		sizeof(ACME_TLS_ALPN) - 1
	};

	if (gnutls_certificate_allocate_credentials(cred) < 0 ||
	    gnutls_init(sess, GNUTLS_CLIENT) < 0 ||
	    gnutls_set_default_priority(*sess) < 0 ||
	    gnutls_credentials_set(*sess, GNUTLS_CRD_CERTIFICATE, *cred) < 0 ||
	    gnutls_server_name_set(*sess, GNUTLS_NAME_DNS, sni,
	    strlen(sni)) < 0 ||
	    gnutls_alpn_set_protocols(*sess, &alpn, 1, 0) < 0)
		return "TLS setup failed";
	gnutls_transport_set_int(*sess, fd);
	gnutls_handshake_set_timeout(*sess, TLS_TIMEOUT_MS);
	return NULL;
}

/* Handshake with our own TLS-ALPN-01 server as the CA would; the
 * validation certificate must be right for ident and keyauth. */
static int
selfcheck_tls_handshake(struct standalone *stand, const char *ident,
    const char *keyauth)
{
	gnutls_session_t sess = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t got = { NULL, 0 };
	const gnutls_datum_t *certs;
	unsigned ncerts = 0;
	unsigned char want[2 + SHA256_LEN];
	const char *why = NULL;
	char sni[80];
	int fd = -1, ret;

	/* The extension's value: an OCTET STRING of the digest. */
	want[0] = 0x04;
	want[1] = SHA256_LEN;
	if ((ret = sha256(keyauth, strlen(keyauth), want + 2)) != 0)
		return ret;
	alpn_sni(ident, sni, sizeof(sni));
	if (connect_to(stand->tls_host, stand->tls_port, &fd) != 0) {
		why = "cannot connect to our own TLS-ALPN-01 server";
		goto out;
	}
	if ((why = alpn_session(&sess, &cred, sni, fd)) != NULL)
		goto out;
	do {
		ret = gnutls_handshake(sess);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0) {
		why = gnutls_strerror(ret);
		goto out;
	}
	if (gnutls_alpn_get_selected_protocol(sess, &got) < 0 ||
	    got.size != sizeof(ACME_TLS_ALPN) - 1 ||
	    memcmp(got.data, ACME_TLS_ALPN, got.size) != 0) {
		why = "acme-tls/1 was not negotiated";
		goto out;
	}
	if ((certs = gnutls_certificate_get_peers(sess, &ncerts)) == NULL ||
	    ncerts != 1) {
		why = "expected exactly one certificate";
		goto out;
	}
	why = check_alpn_cert(&certs[0], ident, want);
	gnutls_bye(sess, GNUTLS_SHUT_WR);
out:
	if (sess)
		gnutls_deinit(sess);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (fd >= 0)
		close(fd);
	if (why != NULL)
		return certo_fail(CERTO_ESELFCHECK, "self-check of the "
		    "tls-alpn-01 challenge for %s failed: %s; the CA was not "
		    "asked", ident, why);
	return 0;
}

static int
selfcheck(void *ctx, const struct solver_item *items, size_t n)
{
	struct standalone *stand = ctx;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = items[i].type == CHALL_TLSALPN01 ?
		    selfcheck_tls_handshake(stand, items[i].ident,
		    items[i].keyauth) :
		    selfcheck_http_fetch(stand, items[i].ident, items[i].token,
		    items[i].keyauth);
	return rc;
}

static void
withdraw(void *ctx, enum chall_type type, const char *ident,
    const char *token)
{
	struct standalone *stand = ctx;

	tokens_remove(&stand->tokens, type, ident, token);
}

static void
stop(void *ctx)
{
	struct standalone *stand = ctx;

	if (stand == NULL)
		return;
	http01_stop(stand->http);
	tlsalpn01_stop(stand->tls);
	tokens_free(&stand->tokens);
	free(stand->http_host);
	free(stand->tls_host);
	free(stand);
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
reach(const char *addr)
{
	return strdup(addr == NULL || strcmp(addr, "0.0.0.0") == 0 ?
	    "127.0.0.1" : strcmp(addr, "::") == 0 ? "::1" : addr);
}

/* Start the server for one challenge type (once per type). */
static int
start_server(struct standalone *stand,
    const struct solver_standalone_opts *opts, enum chall_type type)
{
	struct http01_opts http_opts = { 0 };
	struct tlsalpn01_opts tls_opts = { 0 };
	int rc;

	if (type == CHALL_HTTP01 && stand->http == NULL) {
		http_opts.addr = opts->http_addr;
		http_opts.port = opts->http_port;
		if ((rc = http01_start(&http_opts, &stand->tokens,
		    &stand->http)) != 0)
			return rc;
		stand->http_port = http01_port(stand->http);
		if ((stand->http_host = reach(opts->http_addr)) == NULL)
			return CERTO_ENOMEM;
	} else if (type == CHALL_TLSALPN01 && stand->tls == NULL) {
		tls_opts.addr = opts->tls_addr;
		tls_opts.port = opts->tls_port;
		if ((rc = tlsalpn01_start(&tls_opts, &stand->tokens,
		    &stand->tls)) != 0)
			return rc;
		stand->tls_port = tlsalpn01_port(stand->tls);
		if ((stand->tls_host = reach(opts->tls_addr)) == NULL)
			return CERTO_ENOMEM;
	} else if (type != CHALL_HTTP01 && type != CHALL_TLSALPN01)
		return certo_fail(CERTO_EUSAGE, "--standalone cannot answer %s "
		    "challenges", challenge_type_name(type));
	return 0;
}

/* Start the standalone solver (see solver.h). */
int
solver_standalone_start(const struct solver_standalone_opts *opts,
    struct solver *out)
{
	struct standalone *stand;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if ((stand = calloc(1, sizeof(*stand))) == NULL)
		return CERTO_ENOMEM;
	if ((rc = tokens_init(&stand->tokens, 0, 0)) != 0) {
		free(stand);
		return rc;
	}
	for (size_t i = 0; i < opts->ntypes; i++) {
		if ((rc = start_server(stand, opts, opts->types[i])) != 0) {
			stop(stand);
			memset(out, 0, sizeof(*out));
			return rc;
		}
		out->types[out->ntypes++] = opts->types[i];
	}
	out->ops = &standalone_ops;
	out->ctx = stand;
	return 0;
}
