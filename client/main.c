/* certo: the command-line entry point. */
#include <ares.h>
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <idn2.h>
#include <json-c/json.h>
#include <malloc.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "errors.h"
#include "log.h"
#include "privsep.h"
#include "ratelimit.h"
#include "sig.h"
#include "store_remote.h"
#include "verbs.h"

/* The verbs: each one's entry point (verbs.h). */
static const struct {
	enum cli_verb verb;
	int (*run)(const struct certo_cli *cli);
	bool exit_code;         /* returns the exit code itself (renew) */
} verbs[] = {
	{ VERB_ISSUE, issue_run, false },
	{ VERB_AUTHORIZE, authorize_run, false },
	{ VERB_DEACTIVATE, deactivate_authz_run, false },
	{ VERB_RENEW, renew_run, true },
	{ VERB_REVOKE, revoke_run, false },
	{ VERB_ACCOUNT, account_run, false },
	{ VERB_LIST, list_run, false },
	{ VERB_DELETE, delete_run, false },
	{ VERB_RATELIMIT, ratelimit_run, false },
	{ VERB_IMPORT, import_run, false },
	{ VERB_ORDERS, orders_run, false },
};

static void
print_version(void)
{
	printf("certo %s\n", CERTO_VERSION);
	printf("  GnuTLS %s, libmicrohttpd %s, json-c %s, c-ares %s, "
	    "libidn2 %s\n", gnutls_check_version(NULL), MHD_get_version(),
	    json_c_version(), ares_version(NULL), idn2_check_version(NULL));
	printf("  %s\n", curl_version());
}

/* Verbs that never reach the network run as one process. */
static bool
verb_uses_network(enum cli_verb verb)
{
	return verb != VERB_LIST && verb != VERB_DELETE &&
	    verb != VERB_RATELIMIT;
}

/* $CERTO_PRIVSEP=off: one process (to compare, and to debug). */
static bool
privsep_disabled(void)
{
	const char *env = getenv("CERTO_PRIVSEP");

	return env != NULL && strcmp(env, "off") == 0;
}

int
main(int argc, char **argv)
{
	struct certo_cli cli;
	struct privsep_opts psopts = { 0 };
	int rc, code = -1, ret_ps;

	log_set_progname("certo");
#ifdef M_ARENA_MAX
	/*
	 * One malloc arena: the renew pool's threads mostly wait on the
	 * network, and per-thread arenas cost more memory than contention
	 * costs time (benchmarked: 17.0 -> 15.4 MiB, same wall time).
	 */
	mallopt(M_ARENA_MAX, 1);
#endif
	if ((rc = cli_parse(argc, argv, &cli)) != 0)
		goto out;
	if (cli.help) {
		cli_help(stdout, cli.verb);
		goto out;
	}
	if (cli.version) {
		print_version();
		goto out;
	}
	log_set_level((enum log_level)cli.verbosity);
	log_set_json(cli.json && cli.verb != VERB_LIST &&
	    cli.verb != VERB_ORDERS);
	sig_install();
	/*
	 * Every verb that may reach the network runs privilege-separated:
	 * the network process is forked now, before any thread starts
	 * (privsep.h), and before the libraries are set up: each process
	 * sets up its own, at the same time.  $CERTO_PRIVSEP=off keeps one
	 * process.
	 */
	psopts.user = cli.net_user;
	/* delete and ratelimit reach the network only through --store
	 * (whose connections are the network process's); list never. */
	if ((verb_uses_network(cli.verb) || (cli.store != NULL &&
	    *cli.store != '\0' && cli.verb != VERB_LIST)) &&
	    !privsep_disabled() &&
	    (rc = privsep_start(&psopts)) != 0)
		goto out;
	/* Library set-up once, before any thread starts. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    gnutls_global_init() < 0 || ares_library_init(ARES_LIB_INIT_ALL) !=
	    ARES_SUCCESS) {
		rc = certo_fail(CERTO_ECRYPTO, "library initialisation failed");
		privsep_stop(rc);
		goto out;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		int ret;

		if (verbs[i].verb != cli.verb)
			continue;
		/*
		 * --store: the shared store, opened once (store_remote.h);
		 * list reads only this host's copies and needs none.
		 */
		if ((rc = store_remote_open(cli.verb == VERB_LIST ? NULL :
		    cli.store, cli.store_key, cli.verb != VERB_RATELIMIT)) != 0)
			break;
		ret = verbs[i].run(&cli);
		/* renew has its own exit codes: 0 renewed, 2 nothing due, 1. */
		if (verbs[i].exit_code)
			code = ret;
		else
			rc = ret;
		break;
	}
	/* A network process that broke the sandbox fails the run. */
	if ((ret_ps = privsep_stop(code >= 0 ? 0 : rc)) != 0 && code >= 0) {
		code = -1;
		rc = ret_ps;
	} else if (code < 0)
		rc = ret_ps;
	store_remote_close();
	ares_library_cleanup();
	gnutls_global_deinit();
	curl_global_cleanup();
out:
	if (rc != 0) {
		const char *msg = certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc);
		if (log_get_json()) {
			struct json_object *f = json_object_new_object();
			json_object_object_add(f, "code",
			    json_object_new_string(certo_errname(rc)));
			log_event("error", f, "%s", msg);
		}
		log_error("%s", msg);
	}
	cli_free(&cli);
	return code >= 0 ? code : certo_exitcode(rc);
}
