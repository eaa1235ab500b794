#!/usr/bin/env python3
"""habits_standin.py: Pebble behind a proxy that can hand out a bad certificate.

Used by tests/integration/habits_certs.sh. HTTPS on 127.0.0.1:PORT (Pebble's
own TLS certificate and key, so certo trusts it with the same --ca-bundle);
every request is forwarded to Pebble unchanged, with the Host header certo
sent, so Pebble builds every URL it returns (and the JWS "url" it expects)
for the proxy, and the whole ACME conversation runs through here.

One change: while the file given with --replace-cert exists, the body of a
certificate download (POST to /certZ/...) is replaced by that file's
content (a PEM chain the test made, e.g. a certificate whose notAfter
precedes its notBefore). Status and headers stay Pebble's.

Stops on SIGTERM/SIGINT. Network: loopback only.
"""

import argparse
import http.client
import http.server
import os
import signal
import socketserver
import ssl
import sys
import threading

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailers", "transfer-encoding", "upgrade", "content-length",
}


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_handler(args):
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("habits_standin: " + (fmt % a) + "\n")

        def forward(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else None
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP_BY_HOP}
            headers["Connection"] = "close"
            ctx = ssl.create_default_context(cafile=args.ca_bundle)
            c = http.client.HTTPSConnection("127.0.0.1", args.pebble_port,
                                            timeout=30, context=ctx)
            try:
                c.request(self.command, self.path, body=body, headers=headers)
                r = c.getresponse()
                rbody = r.read()
                rheaders = r.getheaders()
                status, reason = r.status, r.reason
            except (OSError, http.client.HTTPException) as e:
                msg = ("stand-in: Pebble: %s" % e).encode()
                self.send_response(502)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            finally:
                c.close()
            if (self.command == "POST" and self.path.startswith("/certZ/")
                    and status == 200 and os.path.exists(args.replace_cert)):
                with open(args.replace_cert, "rb") as f:
                    rbody = f.read()
                sys.stderr.write("habits_standin: replaced %s\n" % self.path)
            self.send_response(status, reason)
            for k, v in rheaders:
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(rbody)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(rbody)

        do_GET = forward
        do_POST = forward
        do_HEAD = forward

    return Proxy


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pebble-port", type=int, required=True)
    p.add_argument("--ca-bundle", required=True,
                   help="CA of Pebble's HTTPS certificate")
    p.add_argument("--tls-cert", required=True)
    p.add_argument("--tls-key", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--replace-cert", required=True,
                   help="while this file exists, serve it as the chain")
    args = p.parse_args()

    srv = ThreadingServer(("127.0.0.1", args.port), make_handler(args))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda s, f: stop.set())
    signal.signal(signal.SIGINT, lambda s, f: stop.set())
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    print("habits_standin: https://localhost:%d/dir" % args.port, flush=True)
    stop.wait()
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
