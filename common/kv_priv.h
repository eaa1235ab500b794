/*
 * kv.c's connection, shared with kv_transport.c (the transport of
 * kv.h's struct kv_transport) only.
 */
#ifndef CERTO_KV_PRIV_H
#define CERTO_KV_PRIV_H

#include <pthread.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "kv.h"

struct kv {
	struct kv_url url;
	redisContext *ctx;
	pthread_mutex_t lock;
	char channel[256];     /* subscribers: the channel */
	int wait_ms;           /* retry budget of one command */
	int connect_ms;
	int command_ms;
	const struct kv_transport *tp; /* set: no hiredis here (kv.h) */
	char *url_raw;         /* with tp: the URL as given, wiped at close */
};

/* The transport set by kv_set_transport(), or NULL. */
const struct kv_transport *kv_transport_get(void);
/* kv_open's connect through kv->tp (kv's URL parsed, timeouts set):
 * keeps a copy of url for the commands; 0 or what kv_open returns. */
int kv_transport_open(struct kv *kv, const char *url);
/* One command through kv->tp: counted arguments, or as hiredis
 * formatted it (cmd of len bytes).  Return what kv_command does. */
int kv_transport_command(struct kv *kv, int argc, const char **argv,
    const size_t *argvlen, struct kv_reply **out);
int kv_transport_formatted(struct kv *kv, const char *cmd, size_t len,
    struct kv_reply **out);

#endif
