/* The http-01 self-check fetch (see solver_http01.h). */
#include "solver_http01.h"

#include <errno.h>
#include <json-c/json.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "doc.h"
#include "errors.h"
#include "log.h"
#include "privsep.h"

#define PROBE_TIMEOUT_MS 3000

/* errno of one non-blocking TCP connect to ai, PROBE_TIMEOUT_MS at most. */
static int
tcp_connect_errno(const struct addrinfo *ai)
{
	struct pollfd pfd;
	socklen_t sl;
	int err = 0, fd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		err = 0;
	else if (errno != EINPROGRESS)
		err = errno;
	else {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		sl = sizeof(err);
		if (poll(&pfd, 1, PROBE_TIMEOUT_MS) != 1)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
			err = errno;
	}
	close(fd);
	return err;
}

/* How the probe resolves names (the network process sets its own). */
int (*solver_http01_resolver)(const char *host, const char *port,
    const struct addrinfo *hints, struct addrinfo **res) = getaddrinfo;

/* Probe host:port (see solver_http01.h). */
void
solver_http01_probe(const char *host, unsigned short port, char *out,
    size_t len)
{
	struct addrinfo hints, *res = NULL;
	char ps[8], shown[256];
	int err = 0, g;

	out[0] = '\0';
	/* Sockets are the network process's (privsep.h). */
	if (privsep_active()) {
		privsep_tcp_probe(host, port, out, len);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%u", port != 0 ? port : 80);
	log_str(shown, sizeof(shown), host);
	if ((g = solver_http01_resolver(host, ps, &hints, &res)) != 0) {
		snprintf(out, len, "%s does not resolve here (%s)", shown,
		    gai_strerror(g));
		return;
	}
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
		if ((err = tcp_connect_errno(ai)) == 0)
			break;
	freeaddrinfo(res);
	if (err != 0)
		snprintf(out, len, "cannot connect to %s port %s: %s", shown,
		    ps, strerror(err));
}

/* Why the fetch of url failed with rc, without the URL (callers name it). */
static void
fetch_error(int rc, const char *url, const char *host, unsigned short port,
    char *why, size_t whylen)
{
	char shown[160];
	const char *msg = certo_errmsg();
	size_t ul = strlen(url);

	if (msg == NULL)
		msg = certo_strerror(rc);
	/* http.c starts with the URL: "URL: Failed to connect..." */
	if (strncmp(msg, url, ul) == 0 && msg[ul] == ':' && msg[ul + 1] == ' ')
		msg += ul + 2;
	log_str(shown, sizeof(shown), msg);
	why[0] = '\0';
	if (rc == CERTO_ENET)
		solver_http01_probe(host, port, why, whylen);
	if (why[0] == '\0')
		snprintf(why, whylen, "%s", shown);
}

/* Fetch a challenge URL once (see solver_http01.h). */
int
solver_http01_fetch(struct certo_http *client, const char *url,
    const char *host, unsigned short port, const char *keyauth, char *why,
    size_t whylen)
{
	struct http_resp resp;
	struct doc_keyauth ka;
	int rc;

	why[0] = '\0';
	/* The body is compared where it arrives (doc.h): the network
	 * process under privilege separation. */
	doc_init();
	rc = http_request(client, "GET", url, NULL, NULL,
	    SOLVER_HTTP01_MAX_BODY, DOC_KEYAUTH, keyauth, &resp);
	if (rc == CERTO_EINTR || rc == CERTO_ENOMEM) {
		http_resp_free(&resp);
		return rc;
	}
	if (rc != 0) {
		fetch_error(rc, url, host, port, why, whylen);
		/* The cause is in why now: the caller's message carries it. */
		certo_errclear();
		rc = SOLVER_HTTP01_UNREACHABLE;
	} else if (resp.status != 200) {
		snprintf(why, whylen, "the server answers HTTP %ld, not 200 "
		    "with the key authorization", resp.status);
		rc = SOLVER_HTTP01_WRONG;
	} else if ((rc = doc_take(&resp, DOC_KEYAUTH, &ka)) != 0) {
		snprintf(why, whylen, "%s", certo_errmsg() ? certo_errmsg() :
		    certo_strerror(rc));
		certo_errclear();
		rc = rc == CERTO_ENOMEM ? rc : SOLVER_HTTP01_WRONG;
	} else if (!ka.match) {
		snprintf(why, whylen, "wrong content (%zu bytes): \"%s%s\"",
		    ka.len, ka.shown, ka.len > DOC_KEYAUTH_SHOWN ? "..." : "");
		rc = SOLVER_HTTP01_WRONG;
	} else
		rc = SOLVER_HTTP01_SERVED;
	http_resp_free(&resp);
	return rc;
}

/* One progress line when the reason for waiting changes (solver_http01.h). */
void
solver_http01_progress(pthread_mutex_t *lock, char *last, size_t lastlen,
    const char *url, const char *why, long secs_left)
{
	struct json_object *fields;
	char line[1024];

	snprintf(line, sizeof(line), "http-01: waiting for %s: %s", url, why);
	pthread_mutex_lock(lock);
	if (strcmp(line, last) == 0) {
		pthread_mutex_unlock(lock);
		return;
	}
	snprintf(last, lastlen, "%s", line);
	pthread_mutex_unlock(lock);
	fields = json_object_new_object();
	json_object_object_add(fields, "url", json_object_new_string(url));
	json_object_object_add(fields, "reason", json_object_new_string(why));
	json_object_object_add(fields, "seconds_left",
	    json_object_new_int64(secs_left));
	log_event("http_progress", fields, "%s (%ld s left)", line, secs_left);
}
