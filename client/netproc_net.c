/*
 * Name resolution and trust in the network process, whose sandbox lets
 * it open no file: /etc/hosts and the system's name servers are read
 * before it (netproc_net_init), names are then looked up here (the
 * hosts file, then DNS through c-ares) and handed to libcurl as
 * CURLOPT_RESOLVE entries, and the trust bundle the key process sent is
 * given to GnuTLS from memory.
 */
/* certo's fopen() below must be named fopen, not fopen64: libcurl's
 * flags ask for 64-bit offsets, which x86-64 has anyway. */
#undef _FILE_OFFSET_BITS
#include "privsep.h"

#include <ares.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns_query.h"
#include "errors.h"
#include "file.h"
#include "log.h"
#include "privsep_priv.h"
#include "sig.h"
#include "solver_http01.h"

#define HOSTS_MAX (1024 * 1024)
#define LOOKUP_TIMEOUT_MS 10000
#define MAX_ADDRS 8

/* /etc/hosts as it was at start. */
static char *hosts;

/* The bundle of the channel this thread serves (netproc.c). */
static __thread const char *trust_pem;
static __thread size_t trust_len;

void
netproc_net_set_trust(const char *pem, size_t len)
{
	trust_pem = pem;
	trust_len = len;
}

/*
 * libcurl (GnuTLS flavour) loads CURLOPT_CAINFO with this function,
 * and libcurl 7.88 has no CURLOPT_CAINFO_BLOB for GnuTLS: certo's own
 * definition takes precedence over GnuTLS's (the executable comes first
 * in symbol lookup) and gives the channel's bundle from memory for the
 * network process's CAINFO mark; any other file goes to GnuTLS.
 */
int
gnutls_certificate_set_x509_trust_file(gnutls_certificate_credentials_t
    cred, const char *cafile, gnutls_x509_crt_fmt_t type)
{
	static int (*real)(gnutls_certificate_credentials_t, const char *,
	    gnutls_x509_crt_fmt_t);
	gnutls_datum_t d;

	if (cafile != NULL && strncmp(cafile, NETPROC_TRUST_MARK,
	    strlen(NETPROC_TRUST_MARK)) == 0) {
		if (trust_pem == NULL)
			return GNUTLS_E_FILE_ERROR;
		d.data = (unsigned char *)(uintptr_t)trust_pem;
		d.size = (unsigned)trust_len;
		return gnutls_certificate_set_x509_trust_mem(cred, &d, type);
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT,
		    "gnutls_certificate_set_x509_trust_file");
	return real != NULL ? real(cred, cafile, type) : GNUTLS_E_FILE_ERROR;
}

/*
 * The files c-ares reads at every ares_init_options() (1.18 reads
 * /etc/resolv.conf even when given servers, and /dev/urandom for its
 * query IDs), as they were before the sandbox.  certo's fopen() serves
 * these from memory once the network process is sandboxed; every other
 * name goes to the C library's (and traps there).
 */
static const char *const snap_names[] = {
	"/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf",
	"/etc/svc.conf",
};
static struct {
	char *data;
	size_t len;
	bool have;
} snaps[sizeof(snap_names) / sizeof(snap_names[0])];
static bool sandboxed;
static FILE *(*real_fopen)(const char *, const char *);

/* /dev/urandom as a stream: getrandom(2). */
static ssize_t
urandom_read(void *cookie, char *buf, size_t n)
{
	(void)cookie;
	return getrandom(buf, n, 0);
}

/* The C library's fopen, with the snapshots above in the sandbox. */
FILE *
fopen(const char *path, const char *mode)
{
	cookie_io_functions_t io = { urandom_read, NULL, NULL, NULL };

	if (sandboxed && path != NULL && mode != NULL && mode[0] == 'r' &&
	    strchr(mode, '+') == NULL) {
		for (size_t i = 0; i < sizeof(snaps) / sizeof(snaps[0]); i++)
			if (strcmp(path, snap_names[i]) == 0) {
				if (!snaps[i].have || snaps[i].len == 0) {
					errno = ENOENT;
					return NULL;
				}
				return fmemopen(snaps[i].data, snaps[i].len, "r");
			}
		if (strcmp(path, "/dev/urandom") == 0)
			return fopencookie(NULL, "r", io);
	}
	if (real_fopen == NULL)
		*(void **)&real_fopen = dlsym(RTLD_NEXT, "fopen");
	if (real_fopen == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	return real_fopen(path, mode);
}

/* The same for callers built with 64-bit offsets. */
FILE *
fopen64(const char *path, const char *mode)
{
	return fopen(path, mode);
}

/* Read the snapshots (before the sandbox). */
static void
snap_read(void)
{
	bool missing;

	if (real_fopen == NULL)
		*(void **)&real_fopen = dlsym(RTLD_NEXT, "fopen");
	for (size_t i = 0; i < sizeof(snaps) / sizeof(snaps[0]); i++) {
		snaps[i].have = file_read(snap_names[i], HOSTS_MAX, false,
		    &snaps[i].data, &snaps[i].len, &missing) == 0;
		certo_errclear();
	}
}

/* From now on the snapshots stand in for the files. */
void
netproc_net_sandboxed(void)
{
	sandboxed = true;
}

/* One address into a new addrinfo (freeaddrinfo() frees it: glibc
 * keeps the address in the same block). */
static struct addrinfo *
ai_new(int family, const void *addr, unsigned short port, int socktype)
{
	struct addrinfo *ai = calloc(1, sizeof(*ai) +
	    sizeof(struct sockaddr_in6));
	struct sockaddr_in *s4;
	struct sockaddr_in6 *s6;

	if (ai == NULL)
		return NULL;
	ai->ai_family = family;
	ai->ai_socktype = socktype ? socktype : SOCK_STREAM;
	ai->ai_protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
	ai->ai_addr = (struct sockaddr *)(ai + 1);
	if (family == AF_INET) {
		s4 = (struct sockaddr_in *)(void *)ai->ai_addr;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, addr, 4);
		ai->ai_addrlen = sizeof(*s4);
	} else {
		s6 = (struct sockaddr_in6 *)(void *)ai->ai_addr;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr, 16);
		ai->ai_addrlen = sizeof(*s6);
	}
	return ai;
}

/* Append an address (text) to the list at *tail; 0 or CERTO_ENOMEM. */
static int
ai_add(struct addrinfo ***tail, const char *text, unsigned short port,
    const struct addrinfo *hints)
{
	unsigned char a[16];
	int fam = inet_pton(AF_INET, text, a) == 1 ? AF_INET :
	    inet_pton(AF_INET6, text, a) == 1 ? AF_INET6 : 0;
	struct addrinfo *ai;

	if (fam == 0 || (hints->ai_family != AF_UNSPEC &&
	    hints->ai_family != fam))
		return 0;
	if ((ai = ai_new(fam, a, port, hints->ai_socktype)) == NULL)
		return CERTO_ENOMEM;
	**tail = ai;
	*tail = &ai->ai_next;
	return 0;
}

/* The addresses of host in the hosts file read at start. */
static int
from_hosts(const char *host, unsigned short port,
    const struct addrinfo *hints, struct addrinfo ***tail)
{
	const char *p = hosts, *end;
	char line[512], *save, *tok, *addr;
	int rc;

	while (p != NULL && *p != '\0') {
		end = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(end ? end - p :
		    (long)strlen(p)), p);
		p = end ? end + 1 : NULL;
		line[strcspn(line, "#")] = '\0';
		if ((addr = strtok_r(line, " \t", &save)) == NULL)
			continue;
		while ((tok = strtok_r(NULL, " \t", &save)) != NULL)
			if (strcasecmp(tok, host) == 0 &&
			    (rc = ai_add(tail, addr, port, hints)) != 0)
				return rc;
	}
	return 0;
}

/* c-ares's answer, copied. */
struct lookup {
	int status;
	struct addrinfo *res;
	struct addrinfo **tail;
	unsigned short port;
	const struct addrinfo *hints;
};

static void
on_lookup(void *arg, int status, int timeouts, struct ares_addrinfo *r)
{
	struct lookup *lk = arg;
	char text[INET6_ADDRSTRLEN];

	(void)timeouts;
	lk->status = status;
	for (struct ares_addrinfo_node *n = r ? r->nodes : NULL; n != NULL;
	    n = n->ai_next) {
		const void *a = n->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)(void *)
		    n->ai_addr)->sin_addr : (const void *)&((struct
		    sockaddr_in6 *)(void *)n->ai_addr)->sin6_addr;
		if (inet_ntop(n->ai_family, a, text, sizeof(text)) != NULL &&
		    ai_add(&lk->tail, text, lk->port, lk->hints) != 0)
			lk->status = ARES_ENOMEM;
	}
	ares_freeaddrinfo(r);
}

/* host through DNS (the system's servers, read at start). */
static int
from_dns(const char *host, struct lookup *lk)
{
	struct ares_addrinfo_hints h = { 0 };
	ares_channel chan = NULL;
	int64_t deadline = sig_now_ms() + LOOKUP_TIMEOUT_MS;
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];

	if (dns_channel_open(NULL, false, &chan) != 0)
		return EAI_FAIL;
	certo_errclear();
	h.ai_family = lk->hints->ai_family;
	lk->status = -1;
	ares_getaddrinfo(chan, host, NULL, &h, on_lookup, lk);
	while (lk->status == -1 && sig_now_ms() < deadline && !sig_pending()) {
		int bits = ares_getsock(chan, socks, ARES_GETSOCK_MAXNUM), np = 0;

		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			/* c-ares's macros shift a signed 1 by up to 31. */
			bool rd = ((unsigned)bits >> i) & 1u;
			bool wr = ((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) &
			    1u;

			if (!rd && !wr)
				continue;
			pfd[np].fd = socks[i];
			pfd[np].events = (short)((rd ? POLLIN : 0) |
			    (wr ? POLLOUT : 0));
			pfd[np++].revents = 0;
		}
		poll(pfd, (nfds_t)np, 100);
		for (int i = 0; i < np; i++)
			ares_process_fd(chan, pfd[i].revents & POLLIN ?
			    pfd[i].fd : ARES_SOCKET_BAD, pfd[i].revents &
			    POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
		if (np == 0)
			ares_process_fd(chan, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
	ares_destroy(chan); /* calls on_lookup with ARES_EDESTRUCTION */
	return lk->res != NULL ? 0 : lk->status == ARES_ENOTFOUND ||
	    lk->status == ARES_ENODATA ? EAI_NONAME : EAI_AGAIN;
}

int
netproc_net_getaddrinfo(const char *host, const char *port,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct lookup lk = { 0 };
	unsigned short pn = (unsigned short)atoi(port ? port : "0");
	int rc;

	*res = NULL;
	lk.tail = &lk.res;
	lk.port = pn;
	lk.hints = hints;
	if (ai_add(&lk.tail, host, pn, hints) != 0 ||
	    (lk.res == NULL && from_hosts(host, pn, hints, &lk.tail) != 0))
		goto nomem;
	if (lk.res == NULL && strcasecmp(host, "localhost") == 0 &&
	    (ai_add(&lk.tail, "::1", pn, hints) != 0 ||
	    ai_add(&lk.tail, "127.0.0.1", pn, hints) != 0))
		goto nomem;
	if (lk.res == NULL && (rc = from_dns(host, &lk)) != 0) {
		freeaddrinfo(lk.res);
		return rc;
	}
	*res = lk.res;
	return lk.res != NULL ? 0 : EAI_NONAME;
nomem:
	freeaddrinfo(lk.res);
	return EAI_MEMORY;
}

int
netproc_net_resolve(const char *url, struct curl_slist **out)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, shown[256];
	struct addrinfo hints = { 0 }, *res = NULL;
	unsigned char a[16];
	struct certo_buf line;
	size_t n = 0;
	int rc = 0, g;

	*out = NULL;
	buf_init(&line, 4096);
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK)
		goto out; /* libcurl says why the URL is bad */
	if (host[0] == '[' || inet_pton(AF_INET, host, a) == 1)
		goto out; /* an address: nothing to look up */
	hints.ai_socktype = SOCK_STREAM;
	if ((g = netproc_net_getaddrinfo(host, port, &hints, &res)) ==
	    EAI_MEMORY) {
		rc = certo_fail(CERTO_ENOMEM, "out of memory");
		goto out;
	}
	if (g != 0) {
		rc = certo_fail(CERTO_ENET, "%s: cannot resolve host %s: %s",
		    log_str(shown, sizeof(shown), url), host, gai_strerror(g));
		goto out;
	}
	rc = buf_printf(&line, "%s:%s:", host, port);
	for (struct addrinfo *ai = res; ai != NULL && rc == 0 &&
	    n < MAX_ADDRS; ai = ai->ai_next, n++) {
		char text[INET6_ADDRSTRLEN];
		const void *p = ai->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)(void *)
		    ai->ai_addr)->sin_addr : (const void *)&((struct
		    sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
		inet_ntop(ai->ai_family, p, text, sizeof(text));
		rc = buf_printf(&line, ai->ai_family == AF_INET6 ? "%s[%s]" :
		    "%s%s", n > 0 ? "," : "", text);
	}
	if (rc == 0 && (*out = curl_slist_append(NULL, line.data)) == NULL)
		rc = CERTO_ENOMEM;
out:
	freeaddrinfo(res);
	buf_free(&line);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

int
netproc_net_init(void)
{
	size_t len;
	bool missing;
	int rc;

	if (file_read("/etc/hosts", HOSTS_MAX, false, &hosts, &len,
	    &missing) != 0)
		certo_errclear(); /* no hosts file: DNS only */
	snap_read();
	if ((rc = dns_query_preset()) != 0)
		return rc;
	solver_http01_resolver = netproc_net_getaddrinfo;
	return 0;
}
