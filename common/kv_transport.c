/*
 * kv.h's transport: where the store commands of a process go instead of
 * hiredis (certo's key process sends them to its network process).
 */
#include "kv.h"
#include "kv_priv.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"

/* Most arguments of one command carried by a transport. */
#define KV_ARGS_MAX 4096

static const struct kv_transport *kv_tp;

/* The transport (kv.h). */
void kv_set_transport(const struct kv_transport *t)
{
	kv_tp = t;
}

/* The transport set (kv_priv.h). */
const struct kv_transport *kv_transport_get(void)
{
	return kv_tp;
}

/* kv_open through the transport (kv_priv.h). */
int kv_transport_open(struct kv *kv, const char *url)
{
	if ((kv->url_raw = strdup(url)) == NULL)
		return certo_fail(CERTO_ENOMEM, "store: out of memory");
	return kv->tp->open(url, kv->connect_ms, kv->command_ms, kv->wait_ms);
}

/* One command through the transport, with the kv's timeouts now
 * (kv_priv.h). */
int kv_transport_command(struct kv *kv, int argc, const char **argv,
    const size_t *argvlen, struct kv_reply **out)
{
	int connect_ms, command_ms, wait_ms;

	pthread_mutex_lock(&kv->lock);
	connect_ms = kv->connect_ms;
	command_ms = kv->command_ms;
	wait_ms = kv->wait_ms;
	pthread_mutex_unlock(&kv->lock);
	return kv->tp->command(kv->url_raw, connect_ms, command_ms, wait_ms,
	    argc, argv, argvlen, out);
}

/* A decimal header of the formatted command at *p ended by CRLF. */
static int kv_transport_split_num(const char **p, const char *end,
    unsigned long *v)
{
	char *e;

	*v = strtoul(*p, &e, 10);
	if (e == *p || end - e < 2 || e[0] != '\r' || e[1] != '\n')
		return -1;
	*p = e + 2;
	return 0;
}

/*
 * A command redisFormatCommand made (so well formed: "*N" then N times
 * "$LEN" and the bytes, each CRLF-ended) through the transport: its
 * arguments point into cmd (kv_priv.h).
 */
int kv_transport_formatted(struct kv *kv, const char *cmd, size_t len,
    struct kv_reply **out)
{
	const char *p = cmd, *end = cmd + len, **argv = NULL;
	size_t *argvlen = NULL;
	unsigned long argc = 0, n, i;
	int rc;

	if (p < end && *p == '*') {
		p++;
		if (kv_transport_split_num(&p, end, &argc) != 0 ||
		    argc > KV_ARGS_MAX)
			argc = 0;
	}
	if (argc == 0 || (argv = calloc(argc, sizeof(*argv))) == NULL ||
	    (argvlen = calloc(argc, sizeof(*argvlen))) == NULL) {
		free(argv);
		return certo_fail(argc == 0 ? CERTO_ESTORE : CERTO_ENOMEM,
		    "store command: cannot be sent");
	}
	for (i = 0; i < argc; i++) {
		if (p >= end || *p++ != '$' ||
		    kv_transport_split_num(&p, end, &n) != 0 ||
		    (size_t)(end - p) < n + 2)
			break;
		argv[i] = p;
		argvlen[i] = n;
		p += n + 2;
	}
	if (i < argc)
		rc = certo_fail(CERTO_ESTORE, "store command: cannot be "
		    "sent");
	else
		rc = kv_transport_command(kv, (int)argc, argv, argvlen, out);
	free(argv);
	free(argvlen);
	return rc;
}
