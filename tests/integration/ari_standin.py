#!/usr/bin/env python3
"""ari_standin.py: an ACME directory with ARI and profiles in front of Pebble.

Pebble 2.4 has neither ACME Renewal Information (renewalInfo) nor certificate
profiles. This stand-in, used by tests/integration/lifecycle_ari.sh, adds
both, on loopback only:

  plain HTTP on 127.0.0.1:HTTP_PORT (certo needs --allow-insecure-http)
    GET  /dir                   Pebble's directory, plus
                                "renewalInfo": "http://127.0.0.1:HTTP_PORT/renewalInfo"
                                and meta.profiles {"classic": ..., "shortlived": ...}
                                (--no-profiles leaves profiles out)
    GET  /renewalInfo/CERTID    {"suggestedWindow": {"start", "end"}} with the
                                current window (Retry-After: 21600)
    POST /control/window        body {"start": RFC3339, "end": RFC3339}: new window
    POST /control/fail          body {"fail": true|false}: renewalInfo answers
                                500 (a broken ARI endpoint) or works again
    GET  /control/ping          200 "ok" (readiness)

  HTTPS on 127.0.0.1:HTTPS_PORT (Pebble's own TLS certificate and key, so
  certo trusts it with the same --ca-bundle)
    anything else               forwarded to Pebble unchanged, with the Host
                                header certo sent. Pebble builds every URL it
                                returns (and the JWS "url" it expects) from
                                that Host, so the whole ACME conversation runs
                                through here and the stand-in sees each JWS
                                payload (newOrder's "replaces" and "profile").

The directory's resource URLs point at https://localhost:HTTPS_PORT/...;
only the directory itself and renewalInfo are plain http.

Every request is appended to --log as one JSON object per line:
  {"kind": "renewalInfo", "certid": "..."}
  {"kind": "acme", "method": "POST", "path": "/order-plz", "url": <JWS url>,
   "payload": <decoded JWS payload or null>, "status": 201}
  {"kind": "directory"} / {"kind": "control", ...}

Stops on SIGTERM/SIGINT. Network: loopback only.
"""

import argparse
import http.client
import http.server
import json
import sys
import threading
import urllib.parse

from standin_lib import (ThreadingServer, b64url_decode, pebble_exchange,
                         relay, serve_until_signal, tls_server)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.window = {"start": args.window_start, "end": args.window_end}
        self.fail = args.fail_renewalinfo
        self.log_file = open(args.log, "a", encoding="utf-8") if args.log else None

    def log(self, obj):
        if self.log_file is None:
            return
        with self.lock:
            self.log_file.write(json.dumps(obj, sort_keys=True) + "\n")
            self.log_file.flush()





def make_plain_handler(state):
    a = state.args

    class Plain(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("ari_standin http: " + (fmt % args) + "\n")

        def reply(self, code, body, ctype="application/json", extra=None):
            data = body if isinstance(body, bytes) else body.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def problem(self, code, detail):
            self.reply(code, json.dumps({
                "type": "urn:ietf:params:acme:error:malformed",
                "detail": detail, "status": code}),
                ctype="application/problem+json")

        def directory(self):
            # Fetch Pebble's directory as if asked at the HTTPS side, so all
            # its URLs point there.
            status, _, _, body = pebble_exchange(
                a.pebble_port, a.ca_bundle, "GET", "/dir",
                {"Host": "localhost:%d" % a.https_port}, None)
            if status != 200:
                self.problem(502, "Pebble answered /dir with %d" % status)
                return
            d = json.loads(body)
            d["renewalInfo"] = "http://127.0.0.1:%d/renewalInfo" % a.http_port
            meta = d.setdefault("meta", {})
            if not a.no_profiles:
                meta["profiles"] = {
                    "classic": "the usual certificate (stand-in)",
                    "shortlived": "a short-lived certificate (stand-in)",
                }
            state.log({"kind": "directory"})
            self.reply(200, json.dumps(d, indent=2))

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/dir":
                self.directory()
            elif path.startswith("/renewalInfo/"):
                certid = path[len("/renewalInfo/"):]
                with state.lock:
                    w = dict(state.window)
                state.log({"kind": "renewalInfo", "certid": certid,
                           "window": w})
                if not certid or "/" in certid:
                    self.problem(400, "bad certID")
                    return
                with state.lock:
                    failing = state.fail
                if failing:
                    self.problem(500, "renewalInfo is failing on purpose")
                    return
                self.reply(200, json.dumps({"suggestedWindow": w}),
                           extra={"Retry-After": "21600"})
            elif path == "/control/ping":
                self.reply(200, "ok", ctype="text/plain")
            else:
                self.problem(404, "no such resource: " + path)

        do_HEAD = do_GET

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else b""
            if path == "/control/window":
                try:
                    w = json.loads(body)
                    new = {"start": str(w["start"]), "end": str(w["end"])}
                except (ValueError, KeyError, TypeError) as e:
                    self.problem(400, "bad window: %s" % e)
                    return
                with state.lock:
                    state.window = new
                state.log({"kind": "control", "window": new})
                self.reply(200, json.dumps(new))
            elif path == "/control/fail":
                try:
                    f = bool(json.loads(body)["fail"])
                except (ValueError, KeyError, TypeError) as e:
                    self.problem(400, "bad body: %s" % e)
                    return
                with state.lock:
                    state.fail = f
                state.log({"kind": "control", "fail": f})
                self.reply(200, json.dumps({"fail": f}))
            else:
                self.problem(404, "POST to %s: ACME requests go to the "
                             "https side" % path)

    return Plain


def make_proxy_handler(state):
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("ari_standin https: " + (fmt % args) + "\n")

        def forward(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else None
            entry = {"kind": "acme", "method": self.command,
                     "path": self.path, "url": None, "payload": None}
            if body:
                try:
                    jws = json.loads(body)
                    prot = json.loads(b64url_decode(jws.get("protected", "")))
                    entry["url"] = prot.get("url")
                    raw = jws.get("payload", "")
                    entry["payload"] = json.loads(b64url_decode(raw)) if raw else ""
                except (ValueError, TypeError, AttributeError):
                    entry["payload"] = None
            try:
                status, reason, rheaders, rbody = pebble_exchange(
                    state.args.pebble_port, state.args.ca_bundle,
                    self.command, self.path, dict(self.headers.items()), body)
            except (OSError, http.client.HTTPException) as e:
                entry["status"] = 502
                state.log(entry)
                relay(self, 502, None,
                      [("Content-Type", "application/problem+json")],
                      json.dumps({"type": "urn:ietf:params:acme:error:"
                                  "serverInternal", "detail":
                                  "stand-in: Pebble: %s" % e}).encode())
                return
            entry["status"] = status
            state.log(entry)
            relay(self, status, reason, rheaders, rbody)

        do_GET = forward
        do_POST = forward
        do_HEAD = forward

    return Proxy


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pebble-port", type=int, required=True,
                   help="Pebble's ACME port on 127.0.0.1")
    p.add_argument("--ca-bundle", required=True,
                   help="CA of Pebble's HTTPS certificate")
    p.add_argument("--tls-cert", required=True,
                   help="certificate for the HTTPS side (localhost)")
    p.add_argument("--tls-key", required=True)
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--https-port", type=int, required=True)
    p.add_argument("--window-start", default="2000-01-01T00:00:00Z")
    p.add_argument("--window-end", default="2000-01-02T00:00:00Z")
    p.add_argument("--no-profiles", action="store_true")
    p.add_argument("--fail-renewalinfo", action="store_true",
                   help="answer every renewalInfo request with 500")
    p.add_argument("--log", help="append one JSON line per request here")
    args = p.parse_args()

    state = State(args)
    plain = ThreadingServer(("127.0.0.1", args.http_port),
                            make_plain_handler(state))
    tls = tls_server(args.https_port, make_proxy_handler(state),
                     args.tls_cert, args.tls_key)
    return serve_until_signal(
        [plain, tls], "ari_standin: http://127.0.0.1:%d/dir (ACME via "
        "https://localhost:%d)" % (args.http_port, args.https_port))

if __name__ == "__main__":
    sys.exit(main())
