/*
 * certo.json (client/config.c): files written by earlier certo versions
 * load into the same issue parameters and serialise back to the same
 * document; broken files are refused with ECONFIG/EUSAGE naming what is
 * wrong.
 */
#include "testutil.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "log.h"
#include "params.h"

/* Load fixture name (copied to a scratch dir) into cfg; returns rc. */
static int
load_fixture(const char *name, struct cert_config *cfg)
{
	char *dir = tu_tmpdir();
	char *path = tu_copy_fixture(dir, name, 0600);
	int rc = config_load(path, cfg);

	tu_rmtree(dir);
	free(path);
	free(dir);
	return rc;
}

/* Load JSON text written to a scratch file; returns rc, the message. */
static int
load_text(const char *text, char *msg, size_t msglen)
{
	struct cert_config cfg;
	char *dir = tu_tmpdir();
	char *path = tu_path(dir, CONFIG_FILE);
	int rc;

	tu_write(path, text, strlen(text), 0600);
	certo_errclear();
	rc = config_load(path, &cfg);
	snprintf(msg, msglen, "%s", certo_errmsg() ? certo_errmsg() : "");
	certo_errclear();
	if (rc == 0)
		config_free(&cfg);
	tu_rmtree(dir);
	free(path);
	free(dir);
	return rc;
}

/* The serialisation of cfg's parameters equals the file it came from. */
static void
assert_round_trip(const struct cert_config *cfg)
{
	struct json_object *again;
	char *text = NULL;

	assert_int_equal(config_serialize(&cfg->params, &text), 0);
	again = json_tokener_parse(text);
	assert_non_null(again);
	if (!json_object_equal(again, cfg->root))
		fail_msg("serialised differently:\n%s", text);
	assert_true(config_same(&cfg->params, cfg));
	json_object_put(again);
	free(text);
}

/* The file certo wrote for `issue --standalone` (an integration run). */
static void
test_standalone(void **state)
{
	struct cert_config cfg;
	const struct issue_params *p = &cfg.params;

	(void)state;
	assert_int_equal(load_fixture("certo-json-v1-standalone.json", &cfg), 0);
	assert_int_equal(p->nnames, 1);
	assert_string_equal(p->names[0], "imp.certo.test");
	assert_string_equal(p->server, "https://localhost:25600/dir");
	assert_non_null(p->ca_bundle);
	assert_int_equal(p->mode, SOLVE_STANDALONE);
	assert_int_equal(p->nchallenges, 1);
	assert_int_equal(p->challenges[0], CHALL_HTTP01);
	assert_string_equal(p->http_addr, "127.0.0.1");
	assert_int_equal(p->http_port, 25650);
	assert_int_equal(p->tls_port, 443);
	assert_int_equal(p->key_type, KEY_EC256);
	assert_int_equal(p->dns_timeout_s, -1);
	assert_int_equal(p->hook_timeout_s, -1);
	assert_false(p->allow_http);
	assert_null(p->deploy_hook);
	assert_round_trip(&cfg);
	config_free(&cfg);
}

/* Every member a file can hold: hooks, resolvers, timeouts, options. */
static void
test_hooks(void **state)
{
	struct cert_config cfg;
	const struct issue_params *p = &cfg.params;

	(void)state;
	assert_int_equal(load_fixture("certo-json-v1-hooks.json", &cfg), 0);
	assert_int_equal(p->nnames, 3);
	assert_string_equal(p->names[1], "*.example.org");
	assert_string_equal(p->names[2], "192.0.2.7");
	assert_int_equal(p->mode, SOLVE_HOOKS);
	assert_string_equal(p->dns_hook, "/usr/local/bin/dns-hook");
	assert_string_equal(p->http_hook, "hooks/webroot.sh");
	assert_string_equal(p->deploy_hook, "systemctl reload nginx");
	assert_int_equal(p->nchallenges, 2);
	assert_int_equal(p->challenges[0], CHALL_DNS01);
	assert_int_equal(p->challenges[1], CHALL_HTTP01);
	assert_int_equal(p->key_type, KEY_RSA3072);
	assert_true(p->allow_http);
	assert_true(p->must_staple);
	assert_int_equal(p->http_port, 8080);
	assert_int_equal(p->dns_timeout_s, 300);
	assert_int_equal(p->hook_timeout_s, 60);
	assert_int_equal(p->http_timeout_s, 90);
	assert_int_equal(p->dns_interval_s, 5);
	assert_int_equal(p->dns_wait_extra_s, 10);
	assert_int_equal(p->ndns_resolvers, 2);
	assert_string_equal(p->dns_resolvers[1], "[2001:db8::53]:5353");
	assert_string_equal(p->profile, "shortlived");
	assert_string_equal(p->preferred_chain, "ISRG Root X2");
	/* Nothing of one run only comes from the file. */
	assert_null(p->state_dir);
	assert_false(p->force);
	assert_int_equal(p->nemails, 0);
	assert_round_trip(&cfg);
	config_free(&cfg);
}

/* The oldest, shortest form: everything else takes issue's defaults. */
static void
test_minimal(void **state)
{
	struct cert_config cfg;
	const struct issue_params *p = &cfg.params;
	struct json_object *again;
	char *text = NULL;

	(void)state;
	assert_int_equal(load_fixture("certo-json-v1-minimal.json", &cfg), 0);
	assert_int_equal(p->mode, SOLVE_MANUAL);
	assert_int_equal(p->nchallenges, 1);
	assert_int_equal(p->challenges[0], CHALL_HTTP01);
	assert_int_equal(p->http_port, 80);
	assert_int_equal(p->tls_port, 443);
	assert_int_equal(p->dns_interval_s, 2);
	assert_int_equal(p->key_type, KEY_EC256);
	/* Written back in full, it keeps what it said. */
	assert_int_equal(config_serialize(p, &text), 0);
	again = json_tokener_parse(text);
	assert_non_null(again);
	assert_true(json_object_get_boolean(json_object_object_get(again,
	    "manual")));
	assert_null(json_object_object_get(again, "standalone"));
	assert_string_equal(json_object_get_string(json_object_object_get(
	    again, "server")), "https://acme.example/dir");
	json_object_put(again);
	free(text);
	config_free(&cfg);
}

/* params as the command line makes them serialise as before. */
static void
test_serialize(void **state)
{
	struct issue_params p;
	struct json_object *obj, *v;
	char *text = NULL;

	(void)state;
	params_init(&p);
	assert_int_equal(params_add_name(&p, "B\xc3\xbc" "cher.example"), 0);
	assert_int_equal(params_add_name(&p, "2001:DB8::1"), 0);
	assert_int_equal(params_add_name(&p, "bücher.example"), CERTO_EUSAGE);
	certo_errclear();
	assert_int_equal(params_set_str(&p.server, "https://ca.example/d"), 0);
	assert_int_equal(params_set_mode(&p, true, false), 0);
	p.force = true;           /* of one run only: not stored */
	p.ca_timeout_s = 9;
	assert_int_equal(config_serialize(&p, &text), 0);
	obj = json_tokener_parse(text);
	assert_non_null(obj);
	v = json_object_object_get(obj, "names");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v,
	    0)), "xn--bcher-kva.example");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v,
	    1)), "2001:db8::1");
	assert_true(json_object_get_boolean(json_object_object_get(obj,
	    "standalone")));
	assert_null(json_object_object_get(obj, "force"));
	assert_null(json_object_object_get(obj, "ca_timeout"));
	assert_int_equal(json_object_get_int(json_object_object_get(obj,
	    "version")), 1);
	json_object_put(obj);
	free(text);
	params_free(&p);
}

/* --webroot and --pem-bundle: read back, round trip, and the store's view. */
static void
test_webroot(void **state)
{
	static const char text[] = "{\"version\":1,\"names\":[\"a.example\"],"
	    "\"server\":\"https://a.example/d\",\"key_type\":\"ec-256\","
	    "\"challenges\":[\"http-01\"],\"webroot\":\"/var/www/html\","
	    "\"http_port\":80,\"tls_port\":443,\"dns_interval\":2,"
	    "\"dns_wait_extra\":0,\"pem_bundle\":true}";
	struct cert_config cfg;
	char *dir = tu_tmpdir();
	char *path = tu_path(dir, CONFIG_FILE);

	(void)state;
	tu_write(path, text, strlen(text), 0600);
	assert_int_equal(config_load(path, &cfg), 0);
	assert_int_equal(cfg.params.mode, SOLVE_WEBROOT);
	assert_string_equal(cfg.params.webroot, "/var/www/html");
	assert_true(cfg.params.pem_bundle);
	assert_true(config_text_pem_bundle(text));
	assert_false(config_text_pem_bundle("{\"pem_bundle\":false}"));
	assert_false(config_text_pem_bundle("not json"));
	assert_round_trip(&cfg);
	config_free(&cfg);
	tu_rmtree(dir);
	free(path);
	free(dir);
}

/* Broken files: the code and what the message names. */
static void
test_refused(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *says;
	} v[] = {
		{ "not json", CERTO_ECONFIG, "" },
		{ "{\"server\":\"https://a.example/d\",\"standalone\":true}",
		  CERTO_ECONFIG, "no \"names\"" },
		{ "{\"names\":[\"a.example\"],\"standalone\":true}",
		  CERTO_ECONFIG, "no \"server\"" },
		{ "{\"names\":[\"a.example\"],\"server\":\"https://a.example/d\","
		  "\"standalone\":true,\"key_type\":\"ed25519\"}",
		  CERTO_ECONFIG, "key_type" },
		{ "{\"names\":[\"a.example\"],\"server\":\"https://a.example/d\","
		  "\"standalone\":true,\"http_port\":70000}",
		  CERTO_ECONFIG, "http_port" },
		{ "{\"names\":[\"a.example\"],\"server\":\"https://a.example/d\","
		  "\"standalone\":true,\"challenges\":[\"http-02\"]}",
		  CERTO_ECONFIG, "challenge type" },
		{ "{\"names\":[\"a.example\"],\"server\":\"https://a.example/d\","
		  "\"standalone\":true,\"manual\":true}",
		  CERTO_EUSAGE, "exclude each other" },
		{ "{\"names\":[\"a.example\"],\"server\":\"https://a.example/d\"}",
		  CERTO_EUSAGE, "a way to answer challenges" },
		{ "{\"names\":[\"a.example\"],\"server\":\"https://a.example/d\","
		  "\"standalone\":true,\"webroot\":\"/var/www\"}",
		  CERTO_EUSAGE, "--webroot and" },
		{ "{\"names\":[\"a.example\"],\"server\":\"https://a.example/d\","
		  "\"webroot\":\"/var/www\",\"challenges\":[\"tls-alpn-01\"]}",
		  CERTO_EUSAGE, "http-01 only" },
		{ "{\"names\":[\"a.example\"],\"server\":\"https://a.example/d\","
		  "\"webroot\":7}", CERTO_ECONFIG, "\"webroot\" is not a string" },
		{ "{\"names\":[\"*.a.example\"],\"server\":\"https://a.example/d\","
		  "\"standalone\":true}", CERTO_EUSAGE, "needs --challenge dns-01" },
		{ "{\"names\":[\"a.example\",\"A.example\"],\"server\":"
		  "\"https://a.example/d\",\"standalone\":true}",
		  CERTO_ECONFIG, "duplicate name" },
		{ "{\"names\":[\"a.example\"],\"server\":7,\"standalone\":true}",
		  CERTO_ECONFIG, "\"server\" is not a string" },
	};
	char msg[512];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int rc = load_text(v[i].text, msg, sizeof(msg));
		if (rc != v[i].rc)
			fail_msg("%s: got %s (%s), want %s", v[i].text,
			    certo_errname(rc), msg, certo_errname(v[i].rc));
		if (strstr(msg, v[i].says) == NULL)
			fail_msg("%s: message \"%s\" does not say \"%s\"", v[i].text,
			    msg, v[i].says);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standalone),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_serialize),
		cmocka_unit_test(test_webroot),
		cmocka_unit_test(test_refused),
	};

	log_set_level(LOG_QUIET);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
