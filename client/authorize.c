/*
 * certo authorize (prove control of names now, for a later issue) and
 * certo deactivate-authz (RFC 8555 section 7.5.2).
 */
#include "verbs.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "cli.h"
#include "errors.h"
#include "issue.h"
#include "log.h"
#include "params.h"
#include "request.h"
#include "session.h"
#include "store.h"

int
authorize_run(const struct certo_cli *cli)
{
	struct issue_params params;
	int rc;

	if ((rc = params_from_cli(cli, &params)) == 0)
		rc = issue_one(&params, true);
	params_free(&params);
	return rc;
}

/* The authorization deactivate-authz means: a URL, or a saved name's. */
static int
authz_url(const struct session *sess, const char *arg, char **url)
{
	int rc;

	*url = NULL;
	if (strncmp(arg, "https://", 8) == 0 || strncmp(arg, "http://", 7) == 0)
		*url = strdup(arg);
	else if ((rc = store_authz_load(sess->state, sess->ca_id, arg,
	    url)) != 0)
		return rc;
	return *url == NULL ? CERTO_ENOMEM : 0;
}

int
deactivate_authz_run(const struct certo_cli *cli)
{
	struct session sess;
	struct certo_authz authz;
	struct http_resp resp;
	struct json_object *fields;
	char *url = NULL, shown[512];
	int rc;

	memset(&authz, 0, sizeof(authz));
	/* Find the authorization first: a bad name needs no account. */
	if ((rc = params_open_session(cli, &sess)) != 0 ||
	    (rc = authz_url(&sess, cli->arg, &url)) != 0 ||
	    (rc = params_connect_session(&sess, cli,
	    SESSION_ACCOUNT_USE)) != 0)
		goto out;
	/* RFC 8555 7.5.2: POST {"status": "deactivated"}. */
	if ((rc = request_post(&sess.req, url, "{\"status\":\"deactivated\"}",
	    DOC_AUTHZ, &resp, NULL)) == 0 &&
	    (rc = doc_take(&resp, DOC_AUTHZ, &authz)) == 0) {
		log_str(shown, sizeof(shown), url);
		if ((fields = json_object_new_object()) != NULL)
			json_object_object_add(fields, "url",
			    json_object_new_string(shown));
		log_event("authorization_deactivated", fields, "authorization %s: "
		    "%s", shown, authz_status_name(authz.status));
	}
	http_resp_free(&resp);
out:
	authz_free(&authz);
	session_close(&sess);
	free(url);
	return rc;
}
