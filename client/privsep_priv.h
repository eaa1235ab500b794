/*
 * The channels of privsep.c, shared by privsep_ops.c (the key process's
 * requests) and netproc*.c (the network process).  Not for other files.
 */
#ifndef CERTO_PRIVSEP_PRIV_H
#define CERTO_PRIVSEP_PRIV_H

#include <stdint.h>

#include "privsep.h"
#include "privsep_msg.h"

struct addrinfo;
struct curl_slist;

/* On the death pipe, before the code and message of a failed start
 * (a trapped call writes its number, which is smaller). */
#define PRIVSEP_DEATH_START 0xfffffffeu

/* Every message the key process accepts is at most this long. */
#define PRIVSEP_REPLY_MAX (2u * 1024 * 1024)

/* One channel of the key process to the network process. */
struct privsep_chan {
	int fd;               /* -1: not open */
	char *trust;          /* the trust file last sent on it, or NULL */
};

/* Open a channel (a thread of the network process serves it). */
int privsep_chan_open(struct privsep_chan *chan);
/* Close it; the serving thread ends.  Safe on a closed one. */
void privsep_chan_close(struct privsep_chan *chan);

/* Called for each PS_DNS_PROGRESS message while waiting for a reply. */
typedef int (*privsep_progress_fn)(void *arg, struct privsep_msg *msg);

/*
 * Send req on chan and wait for its PS_REPLY into reply (initialised
 * here; free it either way), passing progress messages to fn.  Signals
 * arriving meanwhile are passed on to the network process (it ends a
 * transfer or wait early and answers CERTO_EINTR).  The reply's rc and
 * message are read: a failure in the network process is returned with
 * its message, made printable (certo_fail); a dead network process is
 * CERTO_EPRIVSEP with the message of privsep_stop().  On 0, the
 * request's own fields follow in reply.
 */
int privsep_call(struct privsep_chan *chan, const struct privsep_msg *req,
    struct privsep_msg *reply, privsep_progress_fn fn, void *arg);

/* A reply whose fields could not be read: "out of memory" when that
 * was why, else the malformed-message error. */
int privsep_malformed(const struct privsep_msg *reply);

/* The network process: reply rc (and certo_errmsg()) on fd, then the
 * fields of extra when not NULL.  Returns 0 or CERTO_EPRIVSEP. */
int netproc_reply(int fd, int rc, const struct privsep_msg *extra);

/* netproc_solve.c: PS_DNS_WAIT, and the PS_SA_* requests on the
 * channel's solver sa.  Return what netproc_reply() returned. */
int netproc_dns_wait(int fd, struct privsep_msg *req);
int netproc_sa(int fd, struct solver *sa, struct privsep_msg *req);

/* http.c's transport through the network process (privsep_ops.c). */
extern const struct http_transport privsep_http_transport;

/* kv.h's transport through the network process (privsep_kv.c). */
extern const struct kv_transport privsep_kv_transport;
/*
 * A store reply crosses as typed fields (a node: u64 enum kv_type, then
 * i64, bytes, or u64 count and the nodes), at most PRIVSEP_KV_ENCODED_MAX
 * bytes of them (a RESP reply of KV_REPLY_MAX bytes encodes to less),
 * in slices of PRIVSEP_KV_SLICE; arrays nest at most
 * PRIVSEP_KV_DEPTH_MAX deep.  A request is at most PRIVSEP_KV_REQUEST_MAX
 * (netproc.c's REQUEST_MAX).
 */
#define PRIVSEP_KV_ENCODED_MAX (20u * 1024 * 1024)
#define PRIVSEP_KV_SLICE (1024u * 1024)
#define PRIVSEP_KV_DEPTH_MAX 16
#define PRIVSEP_KV_REQUEST_MAX (2u * 1024 * 1024 - 4096)
struct kv_reply;
/* A reply into its typed fields (netproc_kv.c): 0, CERTO_ENOMEM, or
 * CERTO_ETOOBIG past m's cap. */
int netproc_kv_encode(struct privsep_msg *m, const struct kv_reply *r);
/* The reply in m's fields, all of them, rebuilt into *out (free with
 * kv_reply_free) within kv.h's caps and PRIVSEP_KV_DEPTH_MAX
 * (privsep_kv.c): 0, CERTO_EPRIVSEP (malformed, over a cap, or
 * trailing fields), CERTO_ENOMEM; *out NULL on failure. */
int privsep_kv_rebuild(struct privsep_msg *m, struct kv_reply **out);
/* netproc_kv.c: PS_KV_* on a channel whose store connections are *st
 * (made at the first request; netproc_kv_free() frees them).  Returns
 * what netproc_reply() returned, or CERTO_ENOMEM / CERTO_EPRIVSEP
 * unanswered as the other handlers do. */
struct netproc_kv;
int netproc_kv(int fd, struct netproc_kv **st, struct privsep_msg *req);
void netproc_kv_free(struct netproc_kv *st);

/* netproc_sandbox.c: leave root, then seccomp and Landlock. */
int netproc_sandbox_drop(const struct privsep_opts *opts);
int netproc_sandbox_enter(int death);
/* netproc_net.c: what name resolution needs, read before the sandbox. */
int netproc_net_init(void);
/* The sandbox is on: the snapshots taken by netproc_net_init() stand in
 * for the files c-ares opens. */
void netproc_net_sandboxed(void);
/* CURLOPT_RESOLVE entries for url's host (NULL: none needed), or
 * CERTO_E* with the lookup's message. */
int netproc_net_resolve(const char *url, struct curl_slist **out);
/* getaddrinfo() for the network process's own lookups. */
int netproc_net_getaddrinfo(const char *host, const char *port,
    const struct addrinfo *hints, struct addrinfo **res);
/* The trust bundle of the calling thread's channel, for
 * gnutls_certificate_set_x509_trust_file() (netproc_net.c). */
void netproc_net_set_trust(const char *pem, size_t len);
/* The CURLOPT_CAINFO that stands for it. */
#define NETPROC_TRUST_MARK "certo-netproc-trust:"

#endif
