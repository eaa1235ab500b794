/*
 * How a certificate was issued (<state>/live/<name>/certo.json), so that
 * renew needs no flags: names, CA, challenge settings, key type, hooks.
 */
#ifndef CERTO_CONFIG_H
#define CERTO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

#define CONFIG_FILE "certo.json"
#define CONFIG_MAX (64 * 1024)

struct json_object;

/* A loaded configuration: cli's strings point into root. */
struct cert_config {
	struct json_object *root;
	struct certo_cli cli;
};

/* Serialise the issue options of cli (malloc'd JSON text). */
int config_serialize(const struct certo_cli *cli, char **out);
/*
 * Load a configuration from path; the result is a certo_cli for
 * VERB_ISSUE checked like a command line.  Free with config_free().
 */
int config_load(const char *path, struct cert_config *c);
void config_free(struct cert_config *c);
/*
 * Would cli be stored as c (every option certo.json keeps: names in
 * order, CA, key type, --key/--csr paths, challenges, hooks...)?
 */
bool config_same(const struct certo_cli *cli, const struct cert_config *c);

#endif
