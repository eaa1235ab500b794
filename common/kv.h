/*
 * The store: one Redis server shared by every host and responder of a
 * cluster (`--store URL`, `CERTO_STORE`), reached through hiredis.
 *
 * URLs: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] and
 * redis+unix:///PATH[?db=N]; USER and PASSWORD may use %XX escapes.  The
 * password is never printed: messages name the store by kv_url_shown()
 * (the password replaced by "***").
 *
 * A struct kv is one connection with connect and command timeouts, AUTH
 * and SELECT done at every (re)connection, and a mutex, so threads may
 * share it (commands are serialised).  A command that fails on the
 * network is resent on a new connection, with backoff, until
 * $CERTO_STORE_WAIT seconds (default 10) have passed since its first try;
 * then it fails with CERTO_ESTORE naming the store.  So a restarted Redis
 * is reconnected, and an unreachable one is an error after a bounded time.
 * Commands resent this way must be idempotent or safe to repeat (GET,
 * SET, DEL, SET NX, compare-and-delete scripts are).
 *
 * Every reply is capped: KV_REPLY_MAX bytes buffered, KV_ARRAY_MAX
 * elements per array.  Keys are named certo:<purpose>:... (docs/design.md).
 */
#ifndef CERTO_KV_H
#define CERTO_KV_H

#include <stdarg.h>
#include <stddef.h>

#define KV_REPLY_MAX (4u << 20)   /* bytes of one reply */
#define KV_ARRAY_MAX 100000       /* elements of one array reply */
#define KV_URL_MAX 1024           /* bytes of a store URL */
#define KV_CONNECT_MS 2000        /* connect timeout */
#define KV_COMMAND_MS 5000        /* one command's socket timeout */
#define KV_WAIT_DEFAULT_S 10      /* $CERTO_STORE_WAIT default */

struct kv;

/* A parsed store URL (kv_url_parse); the password is wiped by kv_url_wipe. */
struct kv_url {
	int is_unix;           /* redis+unix:// */
	char host[256];        /* TCP: name or address (IPv6 without []) */
	int port;              /* TCP: default 6379 */
	char path[108];        /* unix: socket path */
	int db;                /* SELECT db, default 0 */
	int has_auth;          /* credentials given */
	char user[128];        /* empty: AUTH PASSWORD; else AUTH USER PASSWORD */
	char password[512];
	char shown[KV_URL_MAX + 16]; /* the URL with the password as "***" */
};

enum kv_type { KV_NIL, KV_INT, KV_STR, KV_STATUS, KV_ARRAY };

/* A typed reply: a Redis error reply is never one (it is CERTO_ESTORE). */
struct kv_reply {
	enum kv_type type;
	long long integer;       /* KV_INT */
	char *str;               /* KV_STR, KV_STATUS: NUL-terminated */
	size_t len;              /* bytes of str */
	struct kv_reply *elem;   /* KV_ARRAY: nelem replies */
	size_t nelem;
};

/*
 * Parse a store URL strictly into out.  Returns 0, or CERTO_EUSAGE with a
 * one-line message naming the bad part (never the password).
 */
int kv_url_parse(const char *url, struct kv_url *out);
/* Overwrite the credentials of a parsed URL. */
void kv_url_wipe(struct kv_url *url);

/*
 * Parse url, connect, AUTH, SELECT (retried as described above).  Returns
 * 0 and *out (free with kv_close), CERTO_EUSAGE for a bad URL,
 * CERTO_ESTOREAUTH when the store refuses the credentials (or needs some),
 * CERTO_ESTORE when it stays unreachable, CERTO_EINTR on a signal.
 */
int kv_open(const char *url, struct kv **out);
/* Close the connection and free kv (NULL is fine). */
void kv_close(struct kv *kv);
/* The URL for messages, password replaced by "***". */
const char *kv_url_shown(const struct kv *kv);
/*
 * Change the connect timeout, the command (socket) timeout and the resend
 * budget of kv, in milliseconds (wait_ms 0: one try, no resend); a
 * responder answering the CA uses short ones.  Takes effect at once.
 */
void kv_set_timeouts(struct kv *kv, int connect_ms, int command_ms,
    int wait_ms);

/*
 * Send one command in hiredis format ("SET %s %b", key, val, len) and
 * wait for its reply.  Returns 0 and *out (free with kv_reply_free; out
 * may be NULL to drop the reply), CERTO_ESTORE for an error reply, an
 * over-cap reply or an unreachable store, CERTO_ESTOREAUTH, CERTO_EINTR.
 */
int kv_command(struct kv *kv, struct kv_reply **out, const char *fmt, ...);
/* kv_command with a va_list. */
int kv_commandv(struct kv *kv, struct kv_reply **out, const char *fmt,
    va_list ap);
/* kv_command with argc counted arguments (binary safe). */
int kv_command_argv(struct kv *kv, struct kv_reply **out, int argc,
    const char **argv, const size_t *argvlen);
/* Free a reply (NULL is fine). */
void kv_reply_free(struct kv_reply *reply);

/*
 * GET key: 1 and *val (malloc'd, NUL-terminated, *len bytes; len may be
 * NULL) when it exists, 0 and *val NULL when not, or a negative code.
 */
int kv_get(struct kv *kv, const char *key, char **val, size_t *len);
/* SET key val, with PX ttl_ms when ttl_ms > 0.  Returns 0 or a code. */
int kv_set(struct kv *kv, const char *key, const void *val, size_t len,
    long long ttl_ms);
/* DEL key (absent is fine).  Returns 0 or a code. */
int kv_del(struct kv *kv, const char *key);
/* PUBLISH channel msg.  Returns 0 or a code. */
int kv_publish(struct kv *kv, const char *channel, const void *msg,
    size_t len);

/*
 * Where a process's connections go instead of hiredis (the key process
 * of certo's privilege separation: client/privsep_kv.c).  Set once,
 * before the first kv_open; a kv opened then uses it for its life:
 * open() stands for kv_open's connect, AUTH and SELECT, command() for
 * every command (argc counted, binary-safe arguments), both with the
 * kv's url (as given to kv_open) and its current timeouts (ms), and
 * both returning what kv_open and kv_command_argv return (the same
 * codes and messages; *out built and checked against the caps by the
 * transport).  Subscribers are not carried (CERTO_ESTORE).
 */
struct kv_transport {
	int (*open)(const char *url, int connect_ms, int command_ms,
	    int wait_ms);
	int (*command)(const char *url, int connect_ms, int command_ms,
	    int wait_ms, int argc, const char **argv, const size_t *argvlen,
	    struct kv_reply **out);
};
/* Set the transport (NULL: hiredis here). */
void kv_set_transport(const struct kv_transport *t);

/*
 * Name resolution for the TCP connections made here (the network
 * process, where getaddrinfo may open no file): up to max numeric
 * addresses of host into addrs, tried in order.  Returns their count
 * (> 0), or 0 with why filled when the name does not resolve.
 */
typedef int (*kv_resolve_fn)(const char *host, char (*addrs)[64], int max,
    char *why, size_t whylen);
/* Set the resolver (NULL: hiredis's getaddrinfo). */
void kv_set_resolver(kv_resolve_fn fn);

/*
 * A subscriber: its own connection (kv_open) subscribed to channel.
 * Returns 0 and *out (kv_close frees it), or what kv_open returns.
 */
int kv_subscribe(const char *url, const char *channel, struct kv **out);
/*
 * Wait up to timeout_ms for one message on a subscriber.  Returns 1 and
 * the payload in buf (NUL-terminated, cut to buflen - 1; *len its full
 * length), 0 when none came, 2 after the connection was lost and made
 * again (messages may have been missed: drop caches), or a negative code
 * when the store cannot be reached now (call again later to retry).
 */
int kv_next_message(struct kv *kv, int timeout_ms, char *buf, size_t buflen,
    size_t *len);

#endif
