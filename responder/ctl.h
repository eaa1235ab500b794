/*
 * The certo-responder control protocol (docs/responder-protocol.md):
 * one line per request on a unix stream socket, answered with one line.
 *   auth <type> <ident> <token> <key-authorization>   -> OK | ERR <reason>
 *   unauth <type> <ident> <token>                      -> OK | ERR <reason>
 *   list                     -> "OK <n>" then n lines "<type> <ident> <token>"
 * <type> is http-01 or tls-alpn-01.  Lines end with \n, at most
 * CTL_MAX_LINE bytes; every field is validated.  The parser and the
 * server are ctl.c, the client ctl_client.c.
 */
#ifndef CERTO_CTL_H
#define CERTO_CTL_H

#include <stddef.h>
#include <sys/types.h>

#include "tokens.h"

#define CTL_MAX_LINE 1024
#define CTL_MAX_CLIENTS 64           /* more are answered "ERR busy" */

enum ctl_cmd { CTL_AUTH, CTL_UNAUTH, CTL_LIST };

struct ctl_request {
	enum ctl_cmd cmd;
	enum chall_type type;         /* CHALL_HTTP01 or CHALL_TLSALPN01 */
	char ident[TOKENS_MAX_IDENT + 1];
	char token[TOKENS_MAX_TOKEN + 1];
	char keyauth[TOKENS_MAX_KEYAUTH + 1];
};

/*
 * Parse one line (without its \n; len bytes, may contain anything).
 * Returns 0, or CERTO_EUSAGE with *err set to a static reason for the
 * ERR answer.
 */
int ctl_parse_line(const char *line, size_t len, struct ctl_request *req,
    const char **err);

struct ctl_server;

/*
 * Listen on the unix socket path (a stale socket file is replaced; a
 * live one, or any other file, is refused), with mode and, when gid is
 * not (gid_t)-1, group gid from the moment it appears at path (made in
 * a private directory next to it and moved into place), and serve
 * requests against tokens from its own thread.  Many clients at once; a
 * slow or abusive client never blocks others; out of descriptors, it
 * stops accepting for a second instead of spinning.
 */
int ctl_server_start(const char *path, mode_t mode, gid_t gid,
    struct token_table *tokens, struct ctl_server **out);
/*
 * ctl_server_start in two halves: the socket file, listening, and no
 * thread yet (certo-responder makes it as root, then drops and enters
 * its sandbox before any thread)...
 */
int ctl_server_listen(const char *path, mode_t mode, gid_t gid,
    struct token_table *tokens, struct ctl_server **out);
/* ...then the serving thread: 0 or CERTO_ENOMEM (srv still stopped by
 * the caller). */
int ctl_server_run(struct ctl_server *srv);
/*
 * The socket file's device and inode; from now on ctl_server_stop does
 * not remove it (whoever asked does, e.g. after a privilege drop).
 */
void ctl_server_disown(struct ctl_server *srv, dev_t *dev, ino_t *ino);
/* Stop, close every client, remove the socket file if it is still ours. */
void ctl_server_stop(struct ctl_server *srv);

/*
 * Client side: connect to path, send one request line (no \n), read
 * the one-line answer into reply.  Returns 0 if the answer is OK,
 * CERTO_EPROTO with a message quoting the ERR reason, CERTO_ENET if the
 * socket cannot be reached (message names path).
 */
int ctl_client_request(const char *path, const char *line, char *reply,
    size_t replylen);

#endif
