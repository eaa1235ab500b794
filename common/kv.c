/*
 * The store connection (kv.h): hiredis in blocking mode with our own
 * write/read loop, so that every reply is capped before it is buffered
 * whole, resends on a new connection with backoff within
 * $CERTO_STORE_WAIT, and the pub/sub reading of the responder.
 */
#include "kv.h"
#include "kv_priv.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "errors.h"
#include "log.h"
#include "sig.h"


/* Most addresses of a name tried (kv_set_resolver). */
#define KV_ADDRS_MAX 4

static kv_resolve_fn kv_resolver;

/* The resolver (kv.h). */
void kv_set_resolver(kv_resolve_fn fn)
{
	kv_resolver = fn;
}

/* The reader's functions with a cap on array sizes (kv_reader_fns). */
static redisReplyObjectFunctions kv_fns;
static __typeof__(kv_fns.createArray) kv_orig_array;
static pthread_once_t kv_fns_once = PTHREAD_ONCE_INIT;
static redisReplyObjectFunctions *kv_fns_src;

/* Arrays over KV_ARRAY_MAX elements make the reader fail (no allocation). */
#if HIREDIS_MAJOR >= 1
static void *kv_create_array(const redisReadTask *task, size_t elements)
{
	if (elements > KV_ARRAY_MAX)
		return NULL;
	return kv_orig_array(task, elements);
}
#else
static void *kv_create_array(const redisReadTask *task, int elements)
{
	if (elements < 0 || elements > KV_ARRAY_MAX)
		return NULL;
	return kv_orig_array(task, elements);
}
#endif

static void kv_fns_init(void)
{
	kv_fns = *kv_fns_src;
	kv_orig_array = kv_fns.createArray;
	kv_fns.createArray = kv_create_array;
}

static void kv_reader_fns(redisContext *ctx)
{
	kv_fns_src = ctx->reader->fn;
	pthread_once(&kv_fns_once, kv_fns_init);
	ctx->reader->fn = &kv_fns;
}

static int kv_wait_budget_ms(void)
{
	const char *env = getenv("CERTO_STORE_WAIT");
	char *end;
	long v;

	if (env == NULL || *env == '\0')
		return KV_WAIT_DEFAULT_S * 1000;
	errno = 0;
	v = strtol(env, &end, 10);
	if (errno || *end || v < 0 || v > 600)
		return KV_WAIT_DEFAULT_S * 1000;
	return (int)v * 1000;
}

static void kv_drop(struct kv *kv)
{
	if (kv->ctx)
		redisFree(kv->ctx);
	kv->ctx = NULL;
}

/* Convert a hiredis reply into ours (depth bounded by hiredis's 9 levels). */
static int kv_convert(const redisReply *r, struct kv_reply *o)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	switch (r->type) {
	case REDIS_REPLY_NIL:
		o->type = KV_NIL;
		return 0;
	case REDIS_REPLY_INTEGER:
		o->type = KV_INT;
		o->integer = r->integer;
		return 0;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
		o->type = r->type == REDIS_REPLY_STRING ? KV_STR : KV_STATUS;
		o->str = malloc((size_t)r->len + 1);
		if (o->str == NULL)
			return CERTO_ENOMEM;
		memcpy(o->str, r->str, (size_t)r->len);
		o->str[r->len] = '\0';
		o->len = (size_t)r->len;
		return 0;
	case REDIS_REPLY_ARRAY:
		o->type = KV_ARRAY;
		if (r->elements == 0)
			return 0;
		o->elem = calloc(r->elements, sizeof(*o->elem));
		if (o->elem == NULL)
			return CERTO_ENOMEM;
		o->nelem = r->elements;
		for (i = 0; i < r->elements; i++)
			if (kv_convert(r->element[i], &o->elem[i]))
				return CERTO_ENOMEM;
		return 0;
	default:
		return CERTO_ESTORE;
	}
}

static void kv_reply_clear(struct kv_reply *r)
{
	size_t i;

	free(r->str);
	for (i = 0; i < r->nelem; i++)
		kv_reply_clear(&r->elem[i]);
	free(r->elem);
}

/* Free a reply (kv.h). */
void kv_reply_free(struct kv_reply *reply)
{
	if (reply == NULL)
		return;
	kv_reply_clear(reply);
	free(reply);
}

/*
 * Read one reply, never buffering more than KV_REPLY_MAX.  Returns 0 and
 * *out, 1 on a transport failure (worth a new connection; kv->ctx->errstr
 * says why), or CERTO_ESTORE for a reply over the caps (final).
 */
static int kv_read_reply(struct kv *kv, redisReply **out)
{
	redisContext *c = kv->ctx;
	void *reply = NULL;

	for (;;) {
		if (redisGetReplyFromReader(c, &reply) != REDIS_OK) {
			if (c->err == REDIS_ERR_OOM ||
			    c->err == REDIS_ERR_PROTOCOL) {
				kv_drop(kv);
				return certo_fail(CERTO_ESTORE, "store %s: reply "
				    "refused (over %d elements, or malformed)",
				    kv->url.shown, KV_ARRAY_MAX);
			}
			return 1;
		}
		if (reply) {
			*out = reply;
			return 0;
		}
		if (c->reader->len - c->reader->pos > KV_REPLY_MAX) {
			kv_drop(kv);
			return certo_fail(CERTO_ESTORE, "store %s: reply over "
			    "%u bytes", kv->url.shown, KV_REPLY_MAX);
		}
		if (redisBufferRead(c) != REDIS_OK)
			return 1;
	}
}

/* Send a formatted command and read its reply: 0, 1 (transport), code. */
static int kv_exchange(struct kv *kv, const char *cmd, size_t len,
    redisReply **out)
{
	int done = 0;

	if (redisAppendFormattedCommand(kv->ctx, cmd, len) != REDIS_OK)
		return 1;
	while (!done)
		if (redisBufferWrite(kv->ctx, &done) != REDIS_OK)
			return 1;
	return kv_read_reply(kv, out);
}

/* An error reply as our code: credentials, or anything else. */
static int kv_error_reply(struct kv *kv, const redisReply *r,
    const char *what)
{
	char msg[200];
	int auth = strncmp(r->str, "NOAUTH", 6) == 0 ||
	    strncmp(r->str, "WRONGPASS", 9) == 0 ||
	    strncasecmp(r->str, "ERR invalid password", 20) == 0 ||
	    strncasecmp(r->str, "ERR AUTH", 8) == 0 ||
	    strncasecmp(r->str, "ERR Client sent AUTH", 20) == 0;

	log_sanitize(msg, sizeof(msg), r->str, (size_t)r->len);
	if (auth)
		return certo_fail(CERTO_ESTOREAUTH, "store %s refused the "
		    "credentials: %s", kv->url.shown, msg);
	return certo_fail(CERTO_ESTORE, "store %s: %s: %s", kv->url.shown,
	    what, msg);
}

/*
 * Exchange one command of the connection's own (cmd of len bytes as
 * redisFormatCommand made it, len < 0 when it failed; freed here, wiped
 * first when it holds credentials): 0 with *out (NULL: the reply
 * dropped), 1 (transport), or a code; an error reply is one, as what.
 */
static int kv_exchange_own(struct kv *kv, char *cmd, int len,
    const char *what, int wipe, redisReply **out)
{
	redisReply *r = NULL;
	int rc;

	if (len < 0)
		return CERTO_ENOMEM;
	rc = kv_exchange(kv, cmd, (size_t)len, &r);
	if (wipe)
		memset(cmd, 0, (size_t)len);
	free(cmd);
	if (rc)
		return rc;
	if (r->type == REDIS_REPLY_ERROR) {
		rc = kv_error_reply(kv, r, what);
		freeReplyObject(r);
		return rc;
	}
	if (out != NULL)
		*out = r;
	else
		freeReplyObject(r);
	return 0;
}

/* AUTH and SELECT on a fresh connection: 0, 1 (transport), or a code. */
static int kv_handshake(struct kv *kv)
{
	char *cmd = NULL;
	int len, rc;

	if (kv->url.has_auth) {
		if (kv->url.user[0])
			len = redisFormatCommand(&cmd, "AUTH %s %s",
			    kv->url.user, kv->url.password);
		else
			len = redisFormatCommand(&cmd, "AUTH %s",
			    kv->url.password);
		if ((rc = kv_exchange_own(kv, cmd, len, "AUTH", 1, NULL)) != 0)
			return rc;
		cmd = NULL;
	}
	len = redisFormatCommand(&cmd, "SELECT %d", kv->url.db);
	return kv_exchange_own(kv, cmd, len, "SELECT", 0, NULL);
}

/*
 * kv->ctx for a TCP URL, through the resolver when one is set (each of
 * its addresses in turn): 0 (ctx NULL: no memory; ctx->err: failed),
 * or 1 when the name does not resolve (why says so).
 */
static int kv_connect_tcp(struct kv *kv, struct timeval ct, char *why,
    size_t whylen)
{
	char addrs[KV_ADDRS_MAX][64];
	int n;

	if (kv_resolver == NULL) {
		kv->ctx = redisConnectWithTimeout(kv->url.host, kv->url.port,
		    ct);
		return 0;
	}
	if ((n = kv_resolver(kv->url.host, addrs, KV_ADDRS_MAX, why,
	    whylen)) <= 0)
		return 1;
	for (int i = 0; i < n && i < KV_ADDRS_MAX; i++) {
		kv_drop(kv);
		kv->ctx = redisConnectWithTimeout(addrs[i], kv->url.port, ct);
		if (kv->ctx == NULL || kv->ctx->err == 0)
			break;
	}
	return 0;
}

/* Connect, set timeouts, AUTH, SELECT: 0, 1 (transport), or a code. */
static int kv_connect(struct kv *kv, char *why, size_t whylen)
{
	struct timeval ct = { kv->connect_ms / 1000,
	    (kv->connect_ms % 1000) * 1000 };
	struct timeval st = { kv->command_ms / 1000,
	    (kv->command_ms % 1000) * 1000 };
	int rc;

	kv_drop(kv);
	if (kv->url.is_unix)
		kv->ctx = redisConnectUnixWithTimeout(kv->url.path, ct);
	else if (kv_connect_tcp(kv, ct, why, whylen) != 0)
		return 1;
	if (kv->ctx == NULL)
		return CERTO_ENOMEM;
	if (kv->ctx->err == 0 && redisSetTimeout(kv->ctx, st) != REDIS_OK)
		kv->ctx->err = REDIS_ERR_IO;
	if (kv->ctx->err) {
		log_str(why, whylen, kv->ctx->errstr);
		kv_drop(kv);
		return 1;
	}
	kv_reader_fns(kv->ctx);
	rc = kv_handshake(kv);
	if (rc == 1)
		log_str(why, whylen, kv->ctx && kv->ctx->errstr[0] ?
		    kv->ctx->errstr : "connection closed");
	if (rc)
		kv_drop(kv);
	return rc;
}

/*
 * Run a formatted command, reconnecting and resending within the budget.
 * Called with kv->lock held.
 */
static int kv_run(struct kv *kv, const char *cmd, size_t len,
    struct kv_reply **out)
{
	int64_t deadline = sig_now_ms() + kv->wait_ms;
	long backoff = 50;
	char why[160] = "connection lost";
	redisReply *r = NULL;
	int rc, reused, stale_retried = 0;

	for (;;) {
		reused = kv->ctx != NULL;
		rc = reused ? 0 : kv_connect(kv, why, sizeof(why));
		if (rc == 0) {
			rc = kv_exchange(kv, cmd, len, &r);
			if (rc == 1) {
				log_str(why, sizeof(why), kv->ctx &&
				    kv->ctx->errstr[0] ? kv->ctx->errstr :
				    "connection closed");
				kv_drop(kv);
			}
		}
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		/* A connection the server closed since: one new one at once. */
		if (reused && !stale_retried) {
			stale_retried = 1;
			continue;
		}
		if (sig_pending())
			return certo_fail(CERTO_EINTR, "interrupted while "
			    "reaching store %s", kv->url.shown);
		if (sig_now_ms() + backoff > deadline)
			return certo_fail(CERTO_ESTORE, "store %s unreachable: "
			    "%s (retried for %d s)", kv->url.shown, why,
			    kv->wait_ms / 1000);
		log_debug("store %s: %s; retrying in %ld ms", kv->url.shown,
		    why, backoff);
		if (sig_sleep_ms(backoff))
			return certo_fail(CERTO_EINTR, "interrupted while "
			    "reaching store %s", kv->url.shown);
		backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
	}
	if (r->type == REDIS_REPLY_ERROR)
		rc = kv_error_reply(kv, r, "command refused");
	else if (out) {
		*out = calloc(1, sizeof(**out));
		rc = *out ? kv_convert(r, *out) : CERTO_ENOMEM;
		if (rc) {
			kv_reply_free(*out);
			*out = NULL;
			rc = certo_fail(CERTO_ENOMEM, "store reply: out of memory");
		}
	}
	freeReplyObject(r);
	return rc;
}

/* Open a store connection (kv.h). */
int kv_open(const char *url, struct kv **out)
{
	struct kv *kv;
	char why[160] = "";
	int64_t deadline;
	long backoff = 50;
	int rc;

	*out = NULL;
	kv = calloc(1, sizeof(*kv));
	if (kv == NULL)
		return certo_fail(CERTO_ENOMEM, "store: out of memory");
	rc = kv_url_parse(url, &kv->url);
	if (rc) {
		free(kv);
		return rc;
	}
	pthread_mutex_init(&kv->lock, NULL);
	kv->wait_ms = kv_wait_budget_ms();
	kv->connect_ms = KV_CONNECT_MS;
	kv->command_ms = KV_COMMAND_MS;
	if ((kv->tp = kv_transport_get()) != NULL) {
		if ((rc = kv_transport_open(kv, url)) == 0)
			*out = kv;
		else
			kv_close(kv);
		return rc;
	}
	deadline = sig_now_ms() + kv->wait_ms;
	while ((rc = kv_connect(kv, why, sizeof(why))) == 1) {
		if (sig_pending()) {
			rc = certo_fail(CERTO_EINTR, "interrupted while "
			    "reaching store %s", kv->url.shown);
			break;
		}
		if (sig_now_ms() + backoff > deadline) {
			rc = certo_fail(CERTO_ESTORE, "store %s unreachable: "
			    "%s (retried for %d s)", kv->url.shown, why,
			    kv->wait_ms / 1000);
			break;
		}
		log_debug("store %s: %s; retrying in %ld ms", kv->url.shown,
		    why, backoff);
		if (sig_sleep_ms(backoff))
			continue;
		backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
	}
	if (rc) {
		kv_close(kv);
		return rc;
	}
	*out = kv;
	return 0;
}

/* Close and free (kv.h). */
void kv_close(struct kv *kv)
{
	if (kv == NULL)
		return;
	kv_drop(kv);
	kv_url_wipe(&kv->url);
	if (kv->url_raw != NULL) {
		memset(kv->url_raw, 0, strlen(kv->url_raw));
		free(kv->url_raw);
	}
	pthread_mutex_destroy(&kv->lock);
	free(kv);
}

/* The URL for messages (kv.h). */
const char *kv_url_shown(const struct kv *kv)
{
	return kv->url.shown;
}

/* Timeouts and resend budget (kv.h). */
void kv_set_timeouts(struct kv *kv, int connect_ms, int command_ms,
    int wait_ms)
{
	pthread_mutex_lock(&kv->lock);
	kv->connect_ms = connect_ms > 0 ? connect_ms : KV_CONNECT_MS;
	kv->command_ms = command_ms > 0 ? command_ms : KV_COMMAND_MS;
	kv->wait_ms = wait_ms >= 0 ? wait_ms : 0;
	if (kv->ctx) {
		struct timeval st = { kv->command_ms / 1000,
		    (kv->command_ms % 1000) * 1000 };

		redisSetTimeout(kv->ctx, st);
	}
	pthread_mutex_unlock(&kv->lock);
}

/*
 * Run one command hiredis formatted (cmd of len bytes, len < 0 when the
 * formatting failed) under the connection's mutex (through the
 * transport: without it, each thread has its own); frees cmd.
 */
static int
kv_run_formatted(struct kv *kv, char *cmd, int len, struct kv_reply **out)
{
	int rc;

	if (len < 0)
		return certo_fail(CERTO_ENOMEM, "store command: out of memory");
	if (kv->tp != NULL) {
		rc = kv_transport_formatted(kv, cmd, (size_t)len, out);
		free(cmd);
		return rc;
	}
	pthread_mutex_lock(&kv->lock);
	rc = kv_run(kv, cmd, (size_t)len, out);
	pthread_mutex_unlock(&kv->lock);
	free(cmd);
	return rc;
}

/* A command in hiredis format, va_list (kv.h). */
int kv_commandv(struct kv *kv, struct kv_reply **out, const char *fmt,
    va_list ap)
{
	char *cmd = NULL;
	int len;

	if (out)
		*out = NULL;
	len = redisvFormatCommand(&cmd, fmt, ap);
	return kv_run_formatted(kv, cmd, len, out);
}

/* A command in hiredis format (kv.h). */
int kv_command(struct kv *kv, struct kv_reply **out, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = kv_commandv(kv, out, fmt, ap);
	va_end(ap);
	return rc;
}

/* A command of counted arguments (kv.h). */
int kv_command_argv(struct kv *kv, struct kv_reply **out, int argc,
    const char **argv, const size_t *argvlen)
{
	char *cmd = NULL;
	int len;

	if (out)
		*out = NULL;
	if (kv->tp != NULL)
		return kv_transport_command(kv, argc, argv, argvlen, out);
	len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
	return kv_run_formatted(kv, cmd, len, out);
}

/* GET (kv.h). */
int kv_get(struct kv *kv, const char *key, char **val, size_t *len)
{
	struct kv_reply *r = NULL;
	int rc;

	*val = NULL;
	if (len)
		*len = 0;
	rc = kv_command(kv, &r, "GET %s", key);
	if (rc)
		return rc;
	if (r->type == KV_STR) {
		*val = r->str;
		if (len)
			*len = r->len;
		r->str = NULL;
		rc = 1;
	} else if (r->type != KV_NIL) {
		rc = certo_fail(CERTO_ESTORE, "store %s: GET answered a "
		    "value that is not a string", kv->url.shown);
	}
	kv_reply_free(r);
	return rc;
}

/* SET with an optional PX (kv.h). */
int kv_set(struct kv *kv, const char *key, const void *val, size_t len,
    long long ttl_ms)
{
	if (ttl_ms > 0)
		return kv_command(kv, NULL, "SET %s %b PX %lld", key, val, len,
		    ttl_ms);
	return kv_command(kv, NULL, "SET %s %b", key, val, len);
}

/* DEL (kv.h). */
int kv_del(struct kv *kv, const char *key)
{
	return kv_command(kv, NULL, "DEL %s", key);
}

/* PUBLISH (kv.h). */
int kv_publish(struct kv *kv, const char *channel, const void *msg,
    size_t len)
{
	return kv_command(kv, NULL, "PUBLISH %s %b", channel, msg, len);
}

/* SUBSCRIBE on the current connection: 0, 1 (transport), or a code. */
static int kv_subscribe_now(struct kv *kv)
{
	redisReply *r = NULL;
	char *cmd = NULL;
	int len, rc;

	len = redisFormatCommand(&cmd, "SUBSCRIBE %s", kv->channel);
	if ((rc = kv_exchange_own(kv, cmd, len, "SUBSCRIBE", 0, &r)) != 0)
		return rc;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		rc = certo_fail(CERTO_ESTORE, "store %s: odd SUBSCRIBE reply",
		    kv->url.shown);
	freeReplyObject(r);
	return rc;
}

/* A subscriber connection (kv.h). */
int kv_subscribe(const char *url, const char *channel, struct kv **out)
{
	struct kv *kv = NULL;
	int rc;

	*out = NULL;
	if (strlen(channel) >= sizeof(kv->channel))
		return certo_fail(CERTO_EUSAGE, "store channel name too long");
	rc = kv_open(url, &kv);
	if (rc)
		return rc;
	if (kv->tp != NULL) {
		kv_close(kv);
		return certo_fail(CERTO_ESTORE, "store subscriptions are not "
		    "carried by the transport");
	}
	snprintf(kv->channel, sizeof(kv->channel), "%s", channel);
	rc = kv_subscribe_now(kv);
	if (rc == 1)
		rc = certo_fail(CERTO_ESTORE, "store %s: connection lost "
		    "while subscribing", kv->url.shown);
	if (rc) {
		kv_close(kv);
		return rc;
	}
	*out = kv;
	return 0;
}

/* One try to connect and subscribe again: 2, or a negative code. */
static int kv_resubscribe(struct kv *kv)
{
	char why[160] = "connection lost";
	int rc = kv_connect(kv, why, sizeof(why));

	if (rc == 0)
		rc = kv_subscribe_now(kv);
	if (rc == 0)
		return 2;
	kv_drop(kv);
	if (rc == 1)
		rc = certo_fail(CERTO_ESTORE, "store %s unreachable: %s",
		    kv->url.shown, why);
	return rc;
}

/* A message's payload into buf: 1, or 0 for other pushes. */
static int kv_message_payload(const redisReply *r, char *buf, size_t buflen,
    size_t *len)
{
	const redisReply *p;
	size_t n;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "message") != 0 ||
	    r->element[2]->type != REDIS_REPLY_STRING)
		return 0;
	p = r->element[2];
	n = (size_t)p->len < buflen - 1 ? (size_t)p->len : buflen - 1;
	memcpy(buf, p->str, n);
	buf[n] = '\0';
	if (len)
		*len = (size_t)p->len;
	return 1;
}

/* Wait for one message on a subscriber (kv.h). */
int kv_next_message(struct kv *kv, int timeout_ms, char *buf, size_t buflen,
    size_t *len)
{
	int64_t deadline = sig_now_ms() + timeout_ms;
	redisReply *r = NULL;
	int rc;

	if (kv->ctx == NULL)
		return kv_resubscribe(kv);
	for (;;) {
		struct pollfd pfd = { .fd = kv->ctx->fd, .events = POLLIN };
		void *reply = NULL;
		int64_t left;

		if (redisGetReplyFromReader(kv->ctx, &reply) != REDIS_OK)
			break;
		if (reply) {
			r = reply;
			rc = kv_message_payload(r, buf, buflen, len);
			freeReplyObject(r);
			if (rc)
				return 1;
			continue;
		}
		if (kv->ctx->reader->len - kv->ctx->reader->pos > KV_REPLY_MAX)
			break;
		left = deadline - sig_now_ms();
		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			return 0;
		if (rc <= 0)
			continue;
		if (redisBufferRead(kv->ctx) != REDIS_OK)
			break;
	}
	kv_drop(kv);
	return kv_resubscribe(kv);
}
