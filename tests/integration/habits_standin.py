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
import sys

from standin_lib import (pebble_exchange, relay, serve_until_signal,
                         tls_server)


def make_handler(args):
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("habits_standin: " + (fmt % a) + "\n")

        def forward(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else None
            try:
                status, reason, rheaders, rbody = pebble_exchange(
                    args.pebble_port, args.ca_bundle, self.command, self.path,
                    dict(self.headers.items()), body)
            except (OSError, http.client.HTTPException) as e:
                relay(self, 502, None, [("Content-Type", "text/plain")],
                      ("stand-in: Pebble: %s" % e).encode())
                return
            if (self.command == "POST" and self.path.startswith("/certZ/")
                    and status == 200 and os.path.exists(args.replace_cert)):
                with open(args.replace_cert, "rb") as f:
                    rbody = f.read()
                sys.stderr.write("habits_standin: replaced %s\n" % self.path)
            relay(self, status, reason, rheaders, rbody)

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

    srv = tls_server(args.port, make_handler(args), args.tls_cert,
                     args.tls_key)
    return serve_until_signal(
        [srv], "habits_standin: https://localhost:%d/dir" % args.port)

if __name__ == "__main__":
    sys.exit(main())
