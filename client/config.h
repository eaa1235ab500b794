/*
 * How a certificate was issued (<state>/live/<name>/certo.json), so that
 * renew needs no flags: the issue parameters (params.h) that are not of
 * one run only: names, CA, key type, challenge settings, hooks.
 */
#ifndef CERTO_CONFIG_H
#define CERTO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "params.h"

#define CONFIG_FILE "certo.json"
#define CONFIG_MAX (64 * 1024)

struct json_object;

/* A loaded configuration: the parameters, and the document they came from. */
struct cert_config {
	struct json_object *root;
	struct issue_params params;    /* checked like a command line */
};

/* Serialise the stored parameters of p (malloc'd JSON text in *out). */
int config_serialize(const struct issue_params *p, char **out);
/*
 * Load a configuration from path into cfg (checked as issue would check
 * a command line: params_check()).  Free with config_free().  Returns 0,
 * CERTO_ECONFIG / CERTO_EUSAGE naming the file and the member, or
 * file_read()'s error.
 */
int config_load(const char *path, struct cert_config *cfg);
void config_free(struct cert_config *cfg);
/* Does the certo.json text ask for combined.pem (--pem-bundle)? */
bool config_text_pem_bundle(const char *text);
/*
 * Would p be stored as cfg (every member certo.json keeps: names in
 * order, CA, key type, --key/--csr paths, challenges, hooks...)?
 */
bool config_same(const struct issue_params *p, const struct cert_config *cfg);

#endif
