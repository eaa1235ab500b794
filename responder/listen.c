/* Listening TCP sockets. */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"

/* Bind a listening socket ourselves, to report the exact errno. */
int
listen_tcp(const char *addr, unsigned short port, const char *what,
    const char *portopt, int *fdp, unsigned short *bound)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char portstr[8];
	int fd = -1, one = 1, zero = 0, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = addr ? AF_UNSPEC : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((e = getaddrinfo(addr, portstr, &hints, &ai)) != 0)
		return certo_fail(CERTO_EUSAGE, "invalid listen address '%s': "
		    "%s", addr ? addr : "::", gai_strerror(e));
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol)) < 0 && addr == NULL) {
		/* No IPv6: fall back to IPv4 any. */
		freeaddrinfo(ai);
		hints.ai_family = AF_INET;
		if (getaddrinfo(NULL, portstr, &hints, &ai) != 0)
			return certo_fail(CERTO_EBIND, "cannot resolve any address");
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		e = errno;
		freeaddrinfo(ai);
		return certo_fail(CERTO_EBIND, "socket: %s", strerror(e));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6 && addr == NULL)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 128) != 0) {
		e = errno;
		freeaddrinfo(ai);
		close(fd);
		if (e == EADDRINUSE)
			return certo_fail(CERTO_EADDRINUSE, "%s port %u on %s is "
			    "already in use; pick another with %s or run "
			    "certo-responder there", what, port, addr ? addr : "*",
			    portopt);
		return certo_fail(CERTO_EBIND, "cannot listen on %s port %u: %s%s",
		    addr ? addr : "*", port, strerror(e), e == EACCES ?
		    " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : "");
	}
	freeaddrinfo(ai);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*bound = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	*fdp = fd;
	return 0;
}


/* The address of sa as inet_ntop() writes it; see listen.h. */
void
listen_peer_str(const struct sockaddr *sa, char *out, size_t outlen)
{
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, out, (socklen_t)outlen);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, out, (socklen_t)outlen);
}
