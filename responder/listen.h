/*
 * Listening TCP sockets for the responders, with exact error reports,
 * and their peers' addresses as text.
 */
#ifndef CERTO_LISTEN_H
#define CERTO_LISTEN_H

#include <stddef.h>

struct sockaddr;

/*
 * Bind and listen on addr:port (addr NULL: all addresses, IPv6
 * dual-stack when available).  what names the service in messages
 * ("HTTP-01"), portopt the option that changes the port ("--http-port").
 * *fd gets a non-blocking-capable CLOEXEC socket, *bound the port (useful
 * with port 0).  CERTO_EADDRINUSE when taken, CERTO_EBIND otherwise,
 * CERTO_EUSAGE for a bad address.
 */
int listen_tcp(const char *addr, unsigned short port, const char *what,
    const char *portopt, int *fd, unsigned short *bound);
/*
 * The IP address of an accepted peer sa (IPv4 or IPv6) as text in out;
 * out is left as it is for NULL or another family.
 */
void listen_peer_str(const struct sockaddr *sa, char *out, size_t outlen);

#endif
