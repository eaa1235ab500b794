/* certo revoke: revokeCert (RFC 8555 section 7.6). */
#include "verbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "certificate.h"
#include "cli.h"
#include "directory.h"
#include "errors.h"
#include "file.h"
#include "key.h"
#include "log.h"
#include "params.h"
#include "request.h"
#include "session.h"

int
revoke_run(const struct certo_cli *cli)
{
	struct session sess;
	struct certo_chain chain;
	struct certo_key *cert_key = NULL;
	struct http_resp resp;
	char *pem = NULL, *der = NULL, *payload = NULL;
	size_t len;
	int rc;

	memset(&chain, 0, sizeof(chain));
	memset(&sess, 0, sizeof(sess));
	if ((rc = file_read(cli->cert_file, 512 * 1024, false, &pem, &len,
	    NULL)) != 0)
		goto out;
	if (certificate_parse(pem, len, &chain) != 0 ||
	    certificate_leaf_der_b64(&chain, &der) != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", certo_errmsg() ? certo_errmsg() :
		    "unreadable");
		certo_errclear();
		rc = certo_fail(CERTO_EUSAGE, "%s: not a PEM certificate (%s)",
		    cli->cert_file, why);
		goto out;
	}
	if (cli->cert_key_file != NULL) {
		/* The certificate's own key proves the right to revoke. */
		if ((rc = key_load(cli->cert_key_file, &cert_key)) != 0 ||
		    (rc = certificate_check(&chain, cert_key, chain.sans,
		    chain.nsans)) != 0) {
			if (rc == CERTO_EPROTO) {
				certo_errclear();
				rc = certo_fail(CERTO_EUSAGE, "%s is not the key of %s",
				    cli->cert_key_file, cli->cert_file);
			}
			goto out;
		}
	}
	/* With the certificate's own key, no account is needed. */
	if ((rc = params_open_session(cli, &sess)) != 0 ||
	    (rc = params_connect_session(&sess, cli, cert_key == NULL ?
	    SESSION_ACCOUNT_USE : SESSION_ACCOUNT_NONE)) != 0 ||
	    (cert_key != NULL && (rc = request_set_account(&sess.req, cert_key,
	    NULL)) != 0))
		goto out;
	if ((cli->reason >= 0 ? asprintf(&payload, "{\"certificate\":\"%s\","
	    "\"reason\":%d}", der, cli->reason) : asprintf(&payload,
	    "{\"certificate\":\"%s\"}", der)) < 0) {
		payload = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = request_post(&sess.req, sess.dir.revoke_cert, payload,
	    DOC_NONE, &resp, NULL)) == 0)
		log_event("revoked", NULL, "revoke: %s revoked (signed with %s)",
		    cli->cert_file, cert_key ? "the certificate key" :
		    "the account key");
	http_resp_free(&resp);
out:
	session_close(&sess);
	certificate_free(&chain);
	key_free(cert_key);
	free(pem);
	free(der);
	free(payload);
	return rc;
}
