/* Revocation. */
#include "revoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "certificate.h"
#include "directory.h"
#include "errors.h"
#include "file.h"
#include "key.h"
#include "log.h"
#include "request.h"
#include "session.h"

int
revoke_run(const struct certo_cli *cli)
{
	struct session sess;
	struct session_opts so;
	struct session_needs needs = { 0 };
	struct account_opts ao;
	struct certo_chain chain;
	struct certo_key *ck = NULL;
	struct http_resp r;
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
		certo_errclear();
		rc = certo_fail(CERTO_EUSAGE, "%s: not a PEM certificate",
		    cli->cert_file);
		goto out;
	}
	if (cli->cert_key_file != NULL) {
		/* The certificate's own key proves the right to revoke. */
		if ((rc = key_load(cli->cert_key_file, &ck)) != 0 ||
		    (rc = certificate_check(&chain, ck, chain.sans,
		    chain.nsans)) != 0) {
			if (rc == CERTO_EPROTO) {
				certo_errclear();
				rc = certo_fail(CERTO_EUSAGE, "%s is not the key of %s",
				    cli->cert_key_file, cli->cert_file);
			}
			goto out;
		}
	}
	session_opts_cli(cli, &so);
	session_account_cli(cli, &ao);
	/* With the certificate's own key, no account is needed. */
	needs.account = ck == NULL ? SESSION_ACCOUNT_USE :
	    SESSION_ACCOUNT_NONE;
	needs.account_opts = &ao;
	if ((rc = session_open(&so, &sess)) != 0 ||
	    (rc = session_connect(&sess, &needs)) != 0 ||
	    (ck != NULL && (rc = request_set_account(&sess.req, ck, NULL)) != 0))
		goto out;
	if ((cli->reason >= 0 ? asprintf(&payload, "{\"certificate\":\"%s\","
	    "\"reason\":%d}", der, cli->reason) : asprintf(&payload,
	    "{\"certificate\":\"%s\"}", der)) < 0) {
		payload = NULL;
		rc = CERTO_ENOMEM;
		goto out;
	}
	if ((rc = request_post(&sess.req, sess.dir.revoke_cert, payload,
	    REQUEST_MAX_BODY, &r, NULL)) == 0)
		log_event("revoked", NULL, "revoke: %s revoked (signed with %s)",
		    cli->cert_file, ck ? "the certificate key" :
		    "the account key");
	http_resp_free(&r);
out:
	session_close(&sess);
	certificate_free(&chain);
	key_free(ck);
	free(pem);
	free(der);
	free(payload);
	return rc;
}
