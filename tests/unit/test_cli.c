/*
 * The command line (client/cli.c, cli_options.c, cli_doc.c): what each
 * option row writes, every validator's refusal (message and exit code),
 * commas in -d, suggestions for unknown options, the hidden --manuale
 * alias, and the generated help, man page and completion.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_table.h"
#include "directory.h"
#include "errors.h"

/* The argv of the last parse: cli keeps pointers into it. */
static char **args;

static void
args_free(void)
{
	tu_strv_free(args);
	args = NULL;
}

/* cli_parse() of "certo" followed by v (NULL-ended, taken over). */
static int
parse_v(struct certo_cli *cli, char **v)
{
	args_free();
	args = v;
	certo_errclear();
	return cli_parse((int)tu_strv_len(args), args, cli);
}
#define PARSE(cli, ...) parse_v((cli), tu_strv("certo", __VA_ARGS__, NULL))

/* The parse fails with exit code 1 and a one-line message holding want. */
#define REFUSED(want, ...) refused(want, tu_strv("certo", __VA_ARGS__, NULL))
static void
refused(const char *want, char **v)
{
	struct certo_cli cli;
	int rc = parse_v(&cli, v);
	const char *msg = certo_errmsg();

	if (rc == 0 || msg == NULL || strstr(msg, want) == NULL) {
		print_error("argv:");
		for (size_t i = 0; args[i] != NULL; i++)
			print_error(" '%s'", args[i]);
		print_error("\nrc %d, message: %s\nwanted: %s\n", rc,
		    msg ? msg : "(none)", want);
	}
	assert_int_not_equal(rc, 0);
	assert_int_equal(certo_exitcode(rc), CERTO_EXIT_USAGE);
	assert_non_null(msg);
	assert_non_null(strstr(msg, want));
	assert_null(strchr(msg, '\n'));
	cli_free(&cli);
}

/* Defaults when nothing is given. */
static void
test_defaults(void **state)
{
	struct certo_cli cli;

	(void)state;
	assert_int_equal(PARSE(&cli, "list"), 0);
	assert_int_equal(cli.verb, VERB_LIST);
	assert_int_equal(cli.verbosity, 1);
	assert_int_equal(cli.http_port, 80);
	assert_int_equal(cli.tls_port, 443);
	assert_int_equal(cli.jobs, 4);
	assert_int_equal(cli.reason, -1);
	assert_int_equal(cli.dns_timeout_s, -1);
	assert_int_equal(cli.hook_timeout_s, -1);
	assert_int_equal(cli.http_timeout_s, -1);
	assert_int_equal(cli.dns_interval_s, 2);
	assert_int_equal(cli.ca_timeout_s, 0);
	assert_int_equal(cli.nchallenges, 1);
	assert_int_equal(cli.challenges[0], CHALL_HTTP01);
	assert_int_equal(cli.key_type, KEY_EC256);
	assert_int_equal(cli.account_key_type, KEY_EC256);
	assert_string_equal(cli.server, directory_url_for("letsencrypt"));
	assert_null(cli.state_dir);
	cli_free(&cli);
}

/* issue: every row of an issue command line writes its field. */
static void
test_issue_fields(void **state)
{
	struct certo_cli cli;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(PARSE(&cli, "-v", "--json", "--state-dir", "/s",
	    "--server", "letsencrypt-staging", "--ca-bundle", "/b", "issue",
	    "-d", "A.Example", "--standalone", "--http-port", "8080",
	    "--http-addr", "127.0.0.1", "--tls-port", "8443", "--tls-addr",
	    "::1", "-c", "tls-alpn-01,http-01", "--dns-timeout", "5",
	    "--dns-interval", "3", "--dns-wait-extra", "0", "--http-timeout",
	    "7", "--hook-timeout", "9", "--ca-timeout", "11",
	    "--dns-resolver", "127.0.0.1:53", "-m", "a@b.example",
	    "--agree-tos", "--account-key-type", "ed25519", "--eab-kid", "k",
	    "--eab-hmac-key", "h", "-k", "rsa-2048", "--key", "/k",
	    "--must-staple", "--not-before", "+1h", "--not-after", "+7d",
	    "--profile", "tlsserver", "--preferred-chain", "X1", "--force",
	    "--deploy-hook", "/bin/true --now"), 0);
	assert_int_equal(cli.verb, VERB_ISSUE);
	assert_int_equal(cli.verbosity, 2);
	assert_true(cli.json);
	assert_string_equal(cli.state_dir, "/s");
	assert_string_equal(cli.server,
	    directory_url_for("letsencrypt-staging"));
	assert_string_equal(cli.ca_bundle, "/b");
	assert_int_equal(cli.nnames, 1);
	assert_string_equal(cli.names[0], "a.example");
	assert_true(cli.standalone);
	assert_int_equal(cli.http_port, 8080);
	assert_string_equal(cli.http_addr, "127.0.0.1");
	assert_int_equal(cli.tls_port, 8443);
	assert_string_equal(cli.tls_addr, "::1");
	assert_int_equal(cli.nchallenges, 2);
	assert_int_equal(cli.challenges[0], CHALL_TLSALPN01);
	assert_int_equal(cli.challenges[1], CHALL_HTTP01);
	assert_int_equal(cli.dns_timeout_s, 5);
	assert_int_equal(cli.dns_interval_s, 3);
	assert_int_equal(cli.dns_wait_extra_s, 0);
	assert_int_equal(cli.http_timeout_s, 7);
	assert_int_equal(cli.hook_timeout_s, 9);
	assert_int_equal(cli.ca_timeout_s, 11);
	assert_int_equal(cli.ndns_resolvers, 1);
	assert_string_equal(cli.dns_resolvers[0], "127.0.0.1:53");
	assert_int_equal(cli.nemails, 1);
	assert_string_equal(cli.emails[0], "a@b.example");
	assert_true(cli.agree_tos);
	assert_int_equal(cli.account_key_type, KEY_ED25519);
	assert_string_equal(cli.eab_kid, "k");
	assert_string_equal(cli.eab_hmac_key, "h");
	assert_int_equal(cli.key_type, KEY_RSA2048);
	assert_string_equal(cli.key_file, "/k");
	assert_true(cli.must_staple);
	assert_true(cli.not_before >= now + 3600 && cli.not_before < now + 3700);
	assert_true(cli.not_after >= now + 7 * 86400 &&
	    cli.not_after < now + 7 * 86400 + 100);
	assert_string_equal(cli.profile, "tlsserver");
	assert_string_equal(cli.preferred_chain, "X1");
	assert_true(cli.force);
	assert_string_equal(cli.deploy_hook, "/bin/true --now");
	cli_free(&cli);
}

/* renew, revoke, account, ratelimit, delete: their rows. */
static void
test_other_verbs(void **state)
{
	struct certo_cli cli;

	(void)state;
	assert_int_equal(PARSE(&cli, "-q", "renew", "--dry-run",
	    "--dry-run-server", "https://ca.test/dir", "-n", "a.example", "-n",
	    "b.example", "-j", "8", "--loop", "--deploy-hook", "/bin/true"), 0);
	assert_int_equal(cli.verbosity, 0);
	assert_true(cli.dry_run && cli.loop);
	assert_string_equal(cli.dry_run_server, "https://ca.test/dir");
	assert_int_equal(cli.nonly, 2);
	assert_string_equal(cli.only[1], "b.example");
	assert_int_equal(cli.jobs, 8);
	assert_string_equal(cli.deploy_hook, "/bin/true");
	cli_free(&cli);

	assert_int_equal(PARSE(&cli, "revoke", "--cert", "c.pem", "--cert-key",
	    "k.pem", "--reason", "keyCompromise"), 0);
	assert_string_equal(cli.cert_file, "c.pem");
	assert_string_equal(cli.cert_key_file, "k.pem");
	assert_int_equal(cli.reason, 1);
	cli_free(&cli);
	assert_int_equal(PARSE(&cli, "revoke", "--cert", "c", "--reason",
	    "aACompromise"), 0);
	assert_int_equal(cli.reason, 10);
	cli_free(&cli);

	assert_int_equal(PARSE(&cli, "account", "import", "--manuale-account",
	    "m.json"), 0);
	assert_int_equal(cli.verb, VERB_ACCOUNT);
	assert_string_equal(cli.arg, "import");
	assert_string_equal(cli.manuale_file, "m.json");
	cli_free(&cli);

	assert_int_equal(PARSE(&cli, "ratelimit", "--clear"), 0);
	assert_true(cli.clear);
	cli_free(&cli);

	assert_int_equal(PARSE(&cli, "delete", "a.example"), 0);
	assert_int_equal(cli.verb, VERB_DELETE);
	assert_string_equal(cli.arg, "a.example");
	cli_free(&cli);

	/* --help and --version end the checks early. */
	assert_int_equal(PARSE(&cli, "issue", "--help"), 0);
	assert_true(cli.help);
	cli_free(&cli);
	assert_int_equal(PARSE(&cli, "-V"), 0);
	assert_true(cli.version);
	cli_free(&cli);
}

/* -d with commas: pieces trimmed, normalised, empty pieces refused. */
static void
test_domain_commas(void **state)
{
	struct certo_cli cli;

	(void)state;
	assert_int_equal(PARSE(&cli, "issue", "--standalone", "-d",
	    " a.example , B.example,\tc.example ", "-d", "2001:DB8::1",
	    "-d", "b\xc3\xbc" "cher.example"), 0);
	assert_int_equal(cli.nnames, 5);
	assert_string_equal(cli.names[0], "a.example");
	assert_string_equal(cli.names[1], "b.example");
	assert_string_equal(cli.names[2], "c.example");
	assert_string_equal(cli.names[3], "2001:db8::1");
	assert_string_equal(cli.names[4], "xn--bcher-kva.example");
	cli_free(&cli);

	REFUSED("empty name in -d 'a.example,,b.example'", "issue",
	    "--standalone", "-d", "a.example,,b.example");
	REFUSED("empty name in -d", "issue", "--standalone", "-d", "a.example,");
	REFUSED("empty name in -d", "issue", "--standalone", "-d", ", ");
	REFUSED("duplicate name 'a.example'", "issue", "--standalone", "-d",
	    "a.example, A.example");
	REFUSED("bad..name", "issue", "--standalone", "-d", "a.example,bad..name");
}

/* The validators of numbers: message and exit code 1. */
static void
test_validators_numbers(void **state)
{
	(void)state;
	/* seconds / seconds1 */
	REFUSED("invalid number of seconds 'x' for --dns-timeout (0 to 86400)",
	    "issue", "--standalone", "-d", "a.example", "--dns-timeout", "x");
	REFUSED("invalid number of seconds '86401' for --ca-timeout",
	    "issue", "--standalone", "-d", "a.example", "--ca-timeout", "86401");
	REFUSED("invalid number of seconds '-1' for --dns-wait-extra (0 to "
	    "3600)", "issue", "--standalone", "-d", "a.example",
	    "--dns-wait-extra", "-1");
	REFUSED("invalid number of seconds '' for --dns-interval", "issue",
	    "--standalone", "-d", "a.example", "--dns-interval", "");
	REFUSED("--dns-timeout must be at least 1 second", "issue",
	    "--standalone", "-d", "a.example", "--dns-timeout", "0");
	REFUSED("--dns-interval must be at least 1 second", "issue",
	    "--standalone", "-d", "a.example", "--dns-interval", "0");
	REFUSED("--ca-timeout must be at least 1 second", "issue",
	    "--standalone", "-d", "a.example", "--ca-timeout", "0");
	REFUSED("--hook-timeout must be at least 1 second", "renew",
	    "--hook-timeout", "0");
	REFUSED("--http-timeout must be at least 1 second", "issue",
	    "--standalone", "-d", "a.example", "--http-timeout", "0");
	/* port */
	REFUSED("invalid port '0' for --http-port", "issue", "--standalone",
	    "-d", "a.example", "--http-port", "0");
	REFUSED("invalid port '65536' for --tls-port", "issue", "--standalone",
	    "-d", "a.example", "--tls-port", "65536");
	REFUSED("invalid port '80x' for --http-port", "issue", "--standalone",
	    "-d", "a.example", "--http-port", "80x");
	/* jobs */
	REFUSED("invalid --jobs '0' (1 to 64)", "renew", "-j", "0");
	REFUSED("invalid --jobs '65' (1 to 64)", "renew", "--jobs", "65");
	/* resolver count */
	REFUSED("at most 16 --dns-resolver servers", "issue", "--standalone",
	    "-d", "a.example", "--dns-resolver", "1", "--dns-resolver", "2",
	    "--dns-resolver", "3", "--dns-resolver", "4", "--dns-resolver", "5",
	    "--dns-resolver", "6", "--dns-resolver", "7", "--dns-resolver", "8",
	    "--dns-resolver", "9", "--dns-resolver", "10", "--dns-resolver",
	    "11", "--dns-resolver", "12", "--dns-resolver", "13",
	    "--dns-resolver", "14", "--dns-resolver", "15", "--dns-resolver",
	    "16", "--dns-resolver", "17");
}

/* The validators of strings and lists: message and exit code 1. */
static void
test_validators_values(void **state)
{
	(void)state;
	/* email */
	REFUSED("invalid e-mail address 'me'", "account", "register", "-m",
	    "me");
	REFUSED("invalid e-mail address 'a, b@c.example'", "account",
	    "register", "-m", "a, b@c.example");
	/* key types */
	REFUSED("unknown key type 'ed25519' for --key-type (ec-256, ec-384, "
	    "rsa-2048, rsa-3072, rsa-4096)", "issue", "--standalone", "-d",
	    "a.example", "-k", "ed25519");
	REFUSED("unknown key type 'dsa' for --account-key-type (ec-256, ec-384, "
	    "rsa-2048, rsa-3072, rsa-4096, ed25519)", "account", "register",
	    "--account-key-type", "dsa");
	/* times */
	REFUSED("invalid time 'tomorrow' for --not-before (use +30m", "issue",
	    "--standalone", "-d", "a.example", "--not-before", "tomorrow");
	REFUSED("invalid time '+5y' for --not-after", "issue", "--standalone",
	    "-d", "a.example", "--not-after", "+5y");
	REFUSED("--not-after 2001-01-01T00:00:00Z is not in the future",
	    "issue", "--standalone", "-d", "a.example", "--not-after",
	    "2001-01-01T00:00:00Z");
	REFUSED("--not-after must be later than --not-before", "issue",
	    "--standalone", "-d", "a.example", "--not-before", "+2d",
	    "--not-after", "+1d");
	/* profile, url, server, reason */
	REFUSED("invalid profile name for --profile", "issue", "--standalone",
	    "-d", "a.example", "--profile", "a b");
	REFUSED("invalid profile name for --profile", "issue", "--standalone",
	    "-d", "a.example", "--profile", "");
	REFUSED("--dry-run-server needs a directory URL", "renew", "--dry-run",
	    "--dry-run-server", "ca.test");
	REFUSED("unknown CA 'letsencrypt-stagign' for --server: give a "
	    "directory URL (https://...) or one of: letsencrypt, "
	    "letsencrypt-staging", "--server", "letsencrypt-stagign", "list");
	REFUSED("unknown --reason 'stolen' (unspecified, keyCompromise",
	    "revoke", "--cert", "c", "--reason", "stolen");
	REFUSED("unknown --reason 'x'", "revoke", "--cert", "c", "--reason",
	    "x");
	/* challenge lists */
	REFUSED("unknown challenge type 'http-02' for --challenge (use "
	    "http-01, tls-alpn-01, dns-01)", "issue", "--standalone", "-d",
	    "a.example", "-c", "http-02");
	REFUSED("challenge type http-01 given twice in --challenge", "issue",
	    "--standalone", "-d", "a.example", "-c", "http-01,tls-alpn-01,"
	    "http-01");
	REFUSED("--challenge needs at least one type", "issue",
	    "--standalone", "-d", "a.example", "-c", ",,");
	/* names */
	REFUSED("bad..name", "issue", "--standalone", "-d", "bad..name");
	REFUSED("duplicate name 'a.example'", "issue", "--standalone", "-d",
	    "a.example", "-d", "A.EXAMPLE.");
}

/* Checks across options and verbs. */
static void
test_combinations(void **state)
{
	(void)state;
	REFUSED("no verb given (see certo --help)", "-v");
	REFUSED("unknown verb 'frobnicate' (see certo --help)", "frobnicate");
	REFUSED("unexpected argument 'extra'", "list", "extra");
	REFUSED("unexpected argument 'b'", "delete", "a", "b");
	REFUSED("delete needs NAME", "delete");
	REFUSED("account needs register|info|update|deactivate|rollover|import",
	    "account");
	REFUSED("unknown account command 'frob' (register, info, update, "
	    "deactivate, rollover, import)", "account", "frob");
	REFUSED("account import needs --manuale-account FILE", "account",
	    "import");
	REFUSED("option --domain does not apply to renew", "renew", "-d",
	    "a.example");
	REFUSED("option --clear does not apply to certo without a verb",
	    "--clear");
	REFUSED("option --manuale-account does not apply to issue", "issue",
	    "--standalone", "-d", "a.example", "--manuale-account", "f");
	REFUSED("refusing plain http:// CA URL 'http://ca.test/dir' without "
	    "--allow-insecure-http", "--server", "http://ca.test/dir", "list");
	REFUSED("--dry-run-server goes with --dry-run", "renew",
	    "--dry-run-server", "https://ca.test/dir");
	REFUSED("refusing plain http:// --dry-run-server without "
	    "--allow-insecure-http", "renew", "--dry-run", "--dry-run-server",
	    "http://ca.test/dir");
	REFUSED("--eab-kid and --eab-hmac-key go together", "account",
	    "register", "--eab-kid", "k");
	REFUSED("revoke needs --cert FILE", "revoke");
	REFUSED("issue needs at least one name (-d NAME)", "issue",
	    "--standalone");
	REFUSED("authorize needs at least one name", "authorize",
	    "--standalone");
	REFUSED("with --csr the names come from the CSR; drop -d", "issue",
	    "--standalone", "--csr", "x.csr", "-d", "a.example");
	REFUSED("a way to answer challenges is needed", "authorize", "-d",
	    "a.example");
	REFUSED("exclude each other", "issue", "-d", "a.example",
	    "--standalone", "--responder", "/run/r.sock");
	REFUSED("--webroot and --manual/--dns-hook/--http-hook exclude each "
	    "other", "issue", "-d", "a.example", "--webroot", "/tmp",
	    "--standalone");
	REFUSED("exclude each other", "issue", "-d", "a.example", "-w", "/tmp",
	    "--manual");
	REFUSED("exclude each other", "issue", "-d", "a.example", "-w", "/tmp",
	    "--responder", "/run/r.sock");
	REFUSED("--webroot answers http-01 only, not tls-alpn-01", "issue",
	    "-d", "a.example", "-w", "/tmp", "-c", "http-01,tls-alpn-01");
	REFUSED("dns-01 needs --manual or --dns-hook PROGRAM", "issue", "-d",
	    "a.example", "--webroot", "/tmp", "-c", "dns-01");
	REFUSED("--manual and hooks exclude each other", "issue", "-d",
	    "a.example", "--manual", "--dns-hook", "/bin/true", "-c", "dns-01");
	REFUSED("wildcard name '*.a.example' needs --challenge dns-01",
	    "issue", "--standalone", "-d", "*.a.example");
	REFUSED("IP address 192.0.2.1 cannot be validated with dns-01",
	    "issue", "--manual", "-c", "dns-01", "-d", "192.0.2.1");
	REFUSED("dns-01 needs --manual or --dns-hook PROGRAM", "issue",
	    "--standalone", "-c", "dns-01", "-d", "a.example");
	REFUSED("--dns-hook /nonexistent/hook: No such file", "issue", "-d",
	    "a.example", "-c", "dns-01", "--dns-hook", "/nonexistent/hook");
}

/* Unknown options: the nearest shown one, or the ambiguous ones. */
static void
test_suggestions(void **state)
{
	struct certo_cli cli;
	char **first;

	(void)state;
	REFUSED("unknown option '--stand-alone' (did you mean --standalone?)",
	    "issue", "--stand-alone", "-d", "a.example");
	REFUSED("unknown option '-standalone' (did you mean --standalone?)",
	    "issue", "-standalone");
	REFUSED("(did you mean --state-dir?)", "--stat-dir", "/s", "list");
	REFUSED("(did you mean --manual?)", "issue", "--manuel");
	REFUSED("unknown option '--dns' (ambiguous: --dns-hook, --dns-timeout, "
	    "--dns-interval, --dns-resolver, ...)", "issue",
	    "--dns");
	/* The hidden alias is accepted but never offered. */
	REFUSED("unknown option '--manua' (ambiguous: --manual, "
	    "--manuale-account)", "issue", "--manua");
	REFUSED("unknown option '--frobnicate-everything' (see certo --help)",
	    "issue", "--frobnicate-everything");
	assert_null(strstr(certo_errmsg(), "did you mean"));
	REFUSED("option '--state-dir' needs an argument", "list",
	    "--state-dir");
	REFUSED("unknown option '-X' (see certo --help)", "-X", "list");

	/* A parse that stopped inside "-Xv" leaves nothing to the next. */
	first = tu_strv("certo", "-Xv", "list", NULL);
	assert_int_not_equal(cli_parse(3, first, &cli), 0);
	cli_free(&cli);
	assert_int_equal(PARSE(&cli, "list"), 0);
	assert_int_equal(cli.verbosity, 1);
	cli_free(&cli);
	tu_strv_free(first);
}

static int
parse_manuale(void *cli)
{
	return PARSE((struct certo_cli *)cli, "account", "import", "--manuale",
	    "old.json");
}

static int
parse_manuale_quiet(void *cli)
{
	return PARSE((struct certo_cli *)cli, "-q", "account", "import",
	    "--manuale", "old.json");
}

/* --manuale still works, says once that it is deprecated. */
static void
test_manuale_alias(void **state)
{
	struct certo_cli cli;
	char *err;
	int rc;

	(void)state;
	err = tu_stderr_of(parse_manuale, &cli, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(cli.manuale_file, "old.json");
	assert_string_equal(err, "certo: warning: --manuale is deprecated: use "
	    "--manuale-account FILE\n");
	free(err);
	cli_free(&cli);
	err = tu_stderr_of(parse_manuale_quiet, &cli, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");
	free(err);
	cli_free(&cli);
}

/* Times: durations and RFC 3339 UTC. */
static void
test_parse_time(void **state)
{
	time_t t = 0;

	(void)state;
	assert_int_equal(cli_parse_time("+30m", "x", 1000, &t), 0);
	assert_int_equal(t, 1000 + 1800);
	assert_int_equal(cli_parse_time("+2h", "x", 0, &t), 0);
	assert_int_equal(t, 7200);
	assert_int_equal(cli_parse_time("+1d", "x", 0, &t), 0);
	assert_int_equal(t, 86400);
	assert_int_equal(cli_parse_time("+10s", "x", 0, &t), 0);
	assert_int_equal(t, 10);
	assert_int_equal(cli_parse_time("2026-01-02T03:04:05Z", "x", 0, &t), 0);
	assert_int_equal(t, 1767323045);
	assert_int_equal(cli_parse_time("2026-01-02T03:04:05+00:00", "x", 0,
	    &t), 0);
	assert_int_equal(t, 1767323045);
	certo_errclear();
	assert_int_equal(cli_parse_time("2026-01-02T03:04:05+01:00", "not-after",
	    0, &t), CERTO_EUSAGE);
	assert_non_null(strstr(certo_errmsg(), "for --not-after"));
	assert_int_equal(cli_parse_time("+", "x", 0, &t), CERTO_EUSAGE);
	assert_int_equal(cli_parse_time("+1dd", "x", 0, &t), CERTO_EUSAGE);
	assert_int_equal(cli_parse_time("+-1d", "x", 0, &t), CERTO_EUSAGE);
	certo_errclear();
}

/* Names: IP literals canonical, DNS names A-labels. */
static void
test_names(void **state)
{
	char *out;

	(void)state;
	assert_true(cli_is_ip("192.0.2.1"));
	assert_true(cli_is_ip("::1"));
	assert_false(cli_is_ip("a.example"));
	assert_false(cli_is_ip("192.0.2.300"));
	assert_int_equal(cli_normalize_name("2001:0DB8:0::1", &out), 0);
	assert_string_equal(out, "2001:db8::1");
	free(out);
	assert_int_equal(cli_normalize_name("192.0.2.1", &out), 0);
	assert_string_equal(out, "192.0.2.1");
	free(out);
	assert_int_equal(cli_normalize_name("WWW.Example.COM", &out), 0);
	assert_string_equal(out, "www.example.com");
	free(out);
	certo_errclear();
	assert_int_not_equal(cli_normalize_name("-x.example", &out), 0);
	assert_null(out);
	certo_errclear();
}

/* Text printed to a memory stream by fn. */
static char *
printed(void (*fn)(FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fn(f);
	fclose(f);
	return text;
}

static void
help_account(FILE *f)
{
	cli_help(f, VERB_ACCOUNT);
}

/* Help, man page and completion: every shown row, no hidden one. */
static void
test_docs(void **state)
{
	char *help = printed(help_account), *man = printed(cli_man),
	    *comp = printed(cli_completion), want[128];

	(void)state;
	assert_non_null(strstr(help, "usage: certo [global options] account "
	    "register|info|update|deactivate|rollover|import [options]"));
	assert_non_null(strstr(help, "--manuale-account FILE"));
	assert_null(strstr(help, "--manuale FILE"));
	assert_null(strstr(man, "\\-\\-manuale\\fR"));
	assert_null(strstr(comp, "--manuale "));
	assert_null(strstr(comp, "--manuale|"));
	assert_non_null(strstr(comp, "--manuale-account register info update "
	    "deactivate rollover import\""));
	for (size_t i = 0; i < CLI_NOPTIONS; i++) {
		const struct opttab_row *row = &cli_options[i].row;
		if (row->help == NULL)
			continue;
		snprintf(want, sizeof(want), "--%s", row->name);
		assert_non_null(strstr(comp, want));
	}
	free(help);
	free(man);
	free(comp);
}

static int
teardown(void **state)
{
	(void)state;
	args_free();
	certo_errclear();
	return 0;
}

/*
 * CERTO_<OPTION> for the options the command line does not give: the
 * command line wins, flags take 1/0, a bad flag value is refused by
 * name, options of other verbs and --responder are not read.
 */
static void
test_env_options(void **state)
{
	struct certo_cli cli;

	(void)state;
	setenv("CERTO_SERVER", "https://env.example/dir", 1);
	setenv("CERTO_DOMAIN", "a.example,b.example", 1);
	setenv("CERTO_STANDALONE", "1", 1);
	setenv("CERTO_JSON", "no", 1);
	setenv("CERTO_PROMETHEUS", "1", 1);       /* list's, not issue's */
	setenv("CERTO_RESPONDER", "/not/a/socket", 1);
	assert_int_equal(PARSE(&cli, "issue"), 0);
	assert_string_equal(cli.server, "https://env.example/dir");
	assert_int_equal((int)cli.nnames, 2);
	assert_string_equal(cli.names[1], "b.example");
	assert_true(cli.standalone);
	assert_false(cli.json);
	assert_null(cli.responder);
	cli_free(&cli);
	assert_int_equal(PARSE(&cli, "--server", "https://cli.example/dir",
	    "issue", "-d", "c.example"), 0);
	assert_string_equal(cli.server, "https://cli.example/dir");
	assert_int_equal((int)cli.nnames, 1);
	cli_free(&cli);
	setenv("CERTO_JSON", "maybe", 1);
	REFUSED("CERTO_JSON='maybe'", "issue");
	unsetenv("CERTO_JSON");
	unsetenv("CERTO_STANDALONE");
	setenv("CERTO_WEBROOT", "/tmp", 1);
	REFUSED("exclude each other", "issue", "--standalone");
	unsetenv("CERTO_WEBROOT");
	unsetenv("CERTO_SERVER");
	unsetenv("CERTO_DOMAIN");
	unsetenv("CERTO_PROMETHEUS");
	unsetenv("CERTO_RESPONDER");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_defaults, teardown),
		cmocka_unit_test_teardown(test_issue_fields, teardown),
		cmocka_unit_test_teardown(test_other_verbs, teardown),
		cmocka_unit_test_teardown(test_domain_commas, teardown),
		cmocka_unit_test_teardown(test_validators_numbers, teardown),
		cmocka_unit_test_teardown(test_validators_values, teardown),
		cmocka_unit_test_teardown(test_combinations, teardown),
		cmocka_unit_test_teardown(test_suggestions, teardown),
		cmocka_unit_test_teardown(test_manuale_alias, teardown),
		cmocka_unit_test_teardown(test_parse_time, teardown),
		cmocka_unit_test_teardown(test_names, teardown),
		cmocka_unit_test_teardown(test_docs, teardown),
		cmocka_unit_test_teardown(test_env_options, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
