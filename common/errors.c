/* The error table's names, messages, exit codes; first-error-wins message. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char errbuf[1024];
static _Thread_local int errcode;

#define XX(name, code, msg) { "" #name, msg, code },
static const struct {
	const char *name;
	const char *msg;
	int exitcode;
} table[] = { CERTO_ERROR_MAP(XX) };
#undef XX

static int
index_of(int err)
{
	if (err <= CERTO_E__FIRST || err >= CERTO_E__LAST)
		return -1;
	return err - CERTO_E__FIRST - 1;
}

/* Symbolic name ("ENOMEM") of a code. */
const char *
certo_errname(int err)
{
	int i = index_of(err);

	if (err == CERTO_OK)
		return "OK";
	return i < 0 ? "UNKNOWN" : table[i].name;
}

/* Generic message of a code. */
const char *
certo_strerror(int err)
{
	int i = index_of(err);

	if (err == CERTO_OK)
		return "success";
	return i < 0 ? "unknown error" : table[i].msg;
}

/* Exit code (CERTO_EXIT_*) for a code. */
int
certo_exitcode(int err)
{
	int i = index_of(err);

	if (err == CERTO_OK)
		return CERTO_EXIT_OK;
	return i < 0 ? CERTO_EXIT_LOCAL : table[i].exitcode;
}

/*
 * Record the message of a failure unless one is recorded already (the
 * first, innermost message wins).
 */
int
certo_fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (errcode != 0)
		return err;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	errcode = err;
	return err;
}

/* The recorded message, or NULL. */
const char *
certo_errmsg(void)
{
	return errcode != 0 ? errbuf : NULL;
}

/* The code passed with the recorded message, or 0. */
int
certo_errcode(void)
{
	return errcode;
}

/* Forget the recorded message (after a handled failure). */
void
certo_errclear(void)
{
	errcode = 0;
	errbuf[0] = '\0';
}
