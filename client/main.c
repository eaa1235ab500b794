/* certo: the command-line entry point. */
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <idn2.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <ares.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "errors.h"
#include "issue.h"
#include "log.h"
#include "sig.h"

static void
print_version(void)
{
	printf("certo %s\n", CERTO_VERSION);
	printf("  GnuTLS %s, libmicrohttpd %s, json-c %s, c-ares %s, "
	    "libidn2 %s\n", gnutls_check_version(NULL), MHD_get_version(),
	    json_c_version(), ares_version(NULL), idn2_check_version(NULL));
	printf("  %s\n", curl_version());
}

int
main(int argc, char **argv)
{
	struct certo_cli cli;
	int rc;

	log_set_progname("certo");
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
	sig_install();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    gnutls_global_init() < 0) {
		rc = certo_fail(CERTO_ECRYPTO, "library initialisation failed");
		goto out;
	}
	switch (cli.verb) {
	case VERB_ISSUE:
		rc = issue_run(&cli);
		break;
	default:
		break;
	}
	gnutls_global_deinit();
	curl_global_cleanup();
out:
	if (rc != 0)
		log_error("%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
	cli_free(&cli);
	return certo_exitcode(rc);
}
