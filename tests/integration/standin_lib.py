"""standin_lib.py: what the loopback stand-ins in front of Pebble share
(ari_standin.py, habits_standin.py, standin_ca.py): a threading HTTP
server, one HTTPS exchange with Pebble, relaying an answer, base64url,
serving on TLS until SIGTERM/SIGINT.  Python 3 stdlib only; loopback only.
"""

import base64
import http.client
import http.server
import signal
import socketserver
import ssl
import threading

# Headers a proxy does not pass on (RFC 9110 7.6.1, and the length it
# recomputes).
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailers", "transfer-encoding", "upgrade", "content-length",
})


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def b64url_decode(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s.encode("ascii"))


def pebble_exchange(port, cafile, method, path, headers, body,
                    max_body=None, drop=HOP_BY_HOP, extra=None):
    """One request to Pebble's HTTPS port on 127.0.0.1 (a new connection,
    closed after) with headers less drop, plus extra: returns (status,
    reason, headers less drop, body of at most max_body bytes).  Raises
    OSError or http.client.HTTPException."""
    ctx = ssl.create_default_context(cafile=cafile)
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                    context=ctx)
    try:
        h = {k: v for k, v in headers.items() if k.lower() not in drop}
        h.update(extra or {})
        h["Connection"] = "close"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read() if max_body is None else r.read(max_body + 1)
        if max_body is not None:
            data = data[:max_body]
        hdrs = [(k, v) for k, v in r.getheaders() if k.lower() not in drop]
        return r.status, r.reason, hdrs, data
    finally:
        c.close()


def relay(handler, status, reason, headers, body):
    """Answer handler's request: status, headers, Content-Length, body
    (none for HEAD)."""
    handler.send_response(status, reason)
    for k, v in headers:
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def tls_server(port, handler_class, cert, key):
    """A ThreadingServer on 127.0.0.1:port speaking TLS with cert/key."""
    srv = ThreadingServer(("127.0.0.1", port), handler_class)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    return srv


def serve_until_signal(servers, banner, max_seconds=None):
    """Serve every server in its own thread, print banner, and stop them
    on SIGTERM/SIGINT (or after max_seconds)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print(banner, flush=True)
    stop.wait(max_seconds)
    for s in servers:
        s.shutdown()
    return 0
