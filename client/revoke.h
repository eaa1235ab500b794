/* revokeCert (RFC 8555 section 7.6). */
#ifndef CERTO_REVOKE_H
#define CERTO_REVOKE_H

#include "cli.h"

/*
 * certo revoke --cert FILE [--reason R] [--cert-key FILE]: signed by the
 * account key (kid), or by the certificate's own key (jwk) with
 * --cert-key, which needs no account.
 */
int revoke_run(const struct certo_cli *cli);

#endif
