/*
 * The order driver: the only code that knows the order of the stages
 * (directory, account, order, authorizations, challenges, finalize,
 * download, store).  Stages never call each other.
 */
#ifndef CERTO_ISSUE_H
#define CERTO_ISSUE_H

#include "cli.h"

/* Run `certo issue`; returns 0 or a CERTO_E* code (message recorded). */
int issue_run(const struct certo_cli *cli);

#endif
