#!/usr/bin/env python3
"""standin_ca.py: a scripted, misbehaving ACME CA in front of Pebble.

Used by the tests/integration/ca_*.sh tests (issue 9: every way a CA can
misbehave ends in a certificate or a bounded, clear error). It listens on
HTTPS on 127.0.0.1:PORT with Pebble's own TLS certificate (so certo trusts
it with the same --ca-bundle) and forwards every ACME request to Pebble
with the Host header "localhost:PORT": Pebble builds every URL it returns,
and the JWS "url" it expects, from that Host, so the whole conversation
runs through here. The directory is https://localhost:PORT/dir.

A scenario (--scenario, or POST /control/set at run time) changes Pebble's
answers, or answers instead of Pebble, to play one misbehaviour:

  pass            forward everything unchanged
  pending_error   once a challenge was answered, its authorization stays
                  "authz_status" (default pending) and the challenge is
                  "chall_status" (pending; or invalid) with an "error"
                  (incorrectResponse, a detail and one subproblem naming
                  the identifier); orders holding it stay "pending"
  resume_invalid  phase "hold": answered challenges look "processing",
                  their authorizations and orders "pending" (the test kills
                  certo meanwhile); phase "invalid": those same
                  authorizations are "authz_status" (pending) with the
                  challenge "invalid" + error, their orders "pending";
                  anything newer passes through
  resume_processing
                  phase "hold": a challenge answer is NOT forwarded; the
                  stand-in says "processing" and keeps the signed request;
                  phase "release": the challenge still looks "processing"
                  until the client answers it again (forwarded) or polls
                  the authorization (or the challenge) "release_after" (2)
                  times; then the kept request is sent to Pebble, which
                  validates now
  ready_forever   finalize is never forwarded: it and every order poll
                  answer "ready" (no certificate)
  ident           every authorization names identifier "ident" (type
                  "ident_type", default dns) instead of the ordered one
  escape_problem  newOrder is refused (403 rejectedIdentifier) with ESC and
                  BEL bytes in the detail and in a subproblem identifier
  rate_limited    newOrder for any name in "limit_names" answers 429
                  rateLimited with Retry-After: "retry_after" (86400)
  big_headers     the response to requests of kind "where" (directory)
                  carries "header_bytes" (80000) bytes of extra headers
  bad_url         orders carry "bad_url" as their first authorization URL
                  ("where": authz) or as their finalize URL (finalize)
  deactivated     every POST signed with an account URL (kid) answers 401
                  unauthorized "Account is not valid, has status
                  \\"deactivated\\""

Control (same port): GET /control/ping -> "ok"; POST /control/set with a
JSON object (keys: scenario, phase, and the parameters above) merges it
into the running settings; GET /control/state -> the settings.

Every request is appended to --log as one JSON object per line:
  {"n": 7, "kind": "authz", "method": "POST", "path": "/authZ/..",
   "url": <JWS url>, "kid": true, "payload": ""|<object>|null,
   "status": 200, "forwarded": true, "mutated": "why"|null, "phase": ..}
kind is one of directory nonce newAccount account newOrder order authz
challenge finalize certificate revoke keyChange control other; payload
"" is a POST-as-GET. Events of the stand-in itself have "kind": "event".

Python 3 standard library only; loopback only; exits on SIGTERM/SIGINT or
after --max-seconds.
"""

import argparse
import copy
import http.client
import http.server
import json
import sys
import threading
import time
import urllib.parse

import standin_lib
from standin_lib import b64url_decode

# certo's Host is replaced by the stand-in's own (State.host()).
HOP_BY_HOP = standin_lib.HOP_BY_HOP | {"host"}
MAX_BODY = 1 << 20
ACME = "urn:ietf:params:acme:error:"

KINDS = [
    ("/dir", "directory"), ("/nonce-plz", "nonce"),
    ("/sign-me-up", "newAccount"), ("/my-account/", "account"),
    ("/order-plz", "newOrder"), ("/my-order/", "order"),
    ("/authZ/", "authz"), ("/chalZ/", "challenge"),
    ("/finalize-order/", "finalize"), ("/certZ/", "certificate"),
    ("/revoke-cert", "revoke"), ("/rollover-account-key", "keyChange"),
    ("/control/", "control"),
]

DEFAULTS = {
    "scenario": "pass",
    "phase": "",
    "authz_status": "pending",
    "chall_status": "pending",
    "release_after": 2,
    "ident": "evil.example.net",
    "ident_type": "dns",
    "limit_names": [],
    "retry_after": 86400,
    "where": "",
    "header_bytes": 80000,
    "bad_url": "file:///etc/passwd",
}


def kind_of(path):
    for prefix, kind in KINDS:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return kind
    return "other"



def problem(ptype, detail, status, subs=None):
    p = {"type": ACME + ptype, "detail": detail, "status": status}
    if subs:
        p["subproblems"] = subs
    return p


class Reply:
    """A response: status, headers (list of pairs), body bytes."""

    def __init__(self, status, headers, body, reason=None):
        self.status = status
        self.headers = list(headers)
        self.body = body
        self.reason = reason

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def set_header(self, name, value):
        self.headers = [(k, v) for k, v in self.headers
                        if k.lower() != name.lower()]
        if value is not None:
            self.headers.append((name, value))

    def json(self):
        ct = (self.header("Content-Type") or "").lower()
        if "json" not in ct:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, obj):
        self.body = json.dumps(obj, indent=2).encode("utf-8")


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.cfg = dict(DEFAULTS)
        self.cfg["scenario"] = args.scenario
        self.cfg["phase"] = args.phase
        for kv in args.set or []:
            k, _, v = kv.partition("=")
            try:
                self.cfg[k] = json.loads(v)
            except ValueError:
                self.cfg[k] = v
        self.seq = 0
        self.log_file = open(args.log, "a", encoding="utf-8") if args.log else None
        self.orders = {}        # order path -> last order object
        self.finalize = {}      # finalize path -> order path
        self.authz = {}         # authz path -> last authz object
        self.chall_authz = {}   # challenge path -> authz path
        self.poisoned = set()   # challenge paths shown with an error
        self.held = set()       # challenge paths shown "processing"
        self.kept = {}          # challenge path -> (headers, body) not sent
        self.released = set()
        self.polls = {}         # authz path -> POST-as-GETs in this phase

    def log(self, obj):
        if self.log_file is None:
            return
        with self.lock:
            self.seq += 1
            obj["n"] = self.seq
            obj["t"] = round(time.time(), 3)
            self.log_file.write(json.dumps(obj, sort_keys=True) + "\n")
            self.log_file.flush()

    def get(self, key):
        with self.lock:
            return copy.deepcopy(self.cfg.get(key))

    def host(self):
        return "localhost:%d" % self.args.port

    def path_of(self, url):
        """The path of one of our URLs, else None."""
        if not isinstance(url, str):
            return None
        u = urllib.parse.urlsplit(url)
        if u.scheme != "https" or u.netloc != self.host():
            return None
        return u.path

    def upstream(self, method, path, headers, body):
        status, reason, hdrs, data = standin_lib.pebble_exchange(
            self.args.pebble_port, self.args.ca_bundle, method, path,
            dict(headers), body, max_body=MAX_BODY, drop=HOP_BY_HOP,
            extra={"Host": self.host()})
        return Reply(status, hdrs, data, reason)

    def nonce(self):
        """A fresh Replay-Nonce from Pebble, for answers made here."""
        try:
            r = self.upstream("HEAD", "/nonce-plz", {}, None)
            return r.header("Replay-Nonce")
        except (OSError, http.client.HTTPException):
            return None

    def own_reply(self, status, obj, ctype="application/json", extra=None):
        hdrs = [("Content-Type", ctype), ("Cache-Control", "no-store")]
        n = self.nonce()
        if n:
            hdrs.append(("Replay-Nonce", n))
        hdrs.extend(extra or [])
        body = json.dumps(obj, indent=2).encode("utf-8")
        return Reply(status, hdrs, body)

    def own_problem(self, status, prob, extra=None):
        return self.own_reply(status, prob, "application/problem+json", extra)

    # ------------------------------------------------------------ bookkeeping

    def remember(self, kind, path, req, reply):
        """Learn the URLs in an answer (before any mutation)."""
        obj = reply.json()
        if not isinstance(obj, dict):
            return
        with self.lock:
            if kind in ("newOrder", "order", "finalize"):
                opath = path
                if kind == "newOrder":
                    opath = self.path_of(reply.header("Location")) or path
                elif kind == "finalize":
                    opath = self.finalize.get(path, path)
                self.orders[opath] = obj
                fpath = self.path_of(obj.get("finalize"))
                if fpath:
                    self.finalize[fpath] = opath
            elif kind == "authz":
                self.authz[path] = obj
                for ch in obj.get("challenges") or []:
                    cp = self.path_of(ch.get("url")) if isinstance(ch, dict) else None
                    if cp:
                        self.chall_authz[cp] = path

    def order_touched(self, obj, marks):
        """True if an order holds an authorization with a marked challenge."""
        with self.lock:
            apaths = {self.chall_authz.get(c) for c in marks}
        for u in obj.get("authorizations") or []:
            if self.path_of(u) in apaths:
                return True
        return False


def error_for(state, ident):
    return problem("incorrectResponse",
                   "stand-in: the key authorization served for %s did not "
                   "match (pending_error)" % ident, 403,
                   [problem("incorrectResponse",
                            "stand-in subproblem: got 'nope' at "
                            "/.well-known/acme-challenge", 403) |
                    {"identifier": {"type": "dns", "value": ident}}])


# ---------------------------------------------------------------- scenarios
# Each scenario may answer a request itself (before) or change Pebble's
# answer (after). before(state, req) -> Reply or None;
# after(state, req, reply) -> description of the change or None.

class Req:
    def __init__(self, method, path, kind, headers, body):
        self.method = method
        self.path = path
        self.kind = kind
        self.headers = headers
        self.body = body
        self.url = None
        self.kid = False
        self.payload = None
        if body:
            try:
                jws = json.loads(body)
                prot = json.loads(b64url_decode(jws.get("protected", "")))
                self.url = prot.get("url")
                self.kid = "kid" in prot
                raw = jws.get("payload", "")
                self.payload = json.loads(b64url_decode(raw)) if raw else ""
            except (ValueError, TypeError, AttributeError):
                self.payload = None

    def is_answer(self):
        return self.method == "POST" and self.kind == "challenge" and \
            isinstance(self.payload, dict)

    def is_poll(self):
        return self.method == "POST" and self.payload == ""


def mark_challenges(state, obj, marks, status, error):
    """Set status (and error) of the marked challenges in an authz object."""
    hit = False
    for ch in obj.get("challenges") or []:
        if isinstance(ch, dict) and state.path_of(ch.get("url")) in marks:
            ch["status"] = status
            ch.pop("validated", None)
            if error is not None:
                ch["error"] = error
            else:
                ch.pop("error", None)
            hit = True
    return hit


def ident_of(obj):
    i = obj.get("identifier") if isinstance(obj, dict) else None
    return i.get("value", "?") if isinstance(i, dict) else "?"


def poison_after(state, req, reply, marks, authz_status, chall_status, error):
    """Shared by pending_error and resume_invalid."""
    obj = reply.json()
    if not isinstance(obj, dict):
        return None
    if req.kind == "authz":
        err = error(ident_of(obj)) if error else None
        if mark_challenges(state, obj, marks, chall_status, err):
            obj["status"] = authz_status
            reply.set_json(obj)
            return "authz %s, challenge %s%s" % (
                authz_status, chall_status, " + error" if err else "")
    elif req.kind == "challenge" and req.path in marks:
        with state.lock:
            a = state.authz.get(state.chall_authz.get(req.path), {})
        obj["status"] = chall_status
        obj.pop("validated", None)
        if error:
            obj["error"] = error(ident_of(a))
        else:
            obj.pop("error", None)
        reply.set_json(obj)
        return "challenge %s" % chall_status
    elif req.kind in ("order", "newOrder", "finalize") and \
            obj.get("status") in ("ready", "processing", "valid") and \
            state.order_touched(obj, marks):
        obj["status"] = "pending"
        obj.pop("certificate", None)
        reply.set_json(obj)
        return "order pending"
    return None


def pending_error_after(state, req, reply):
    if req.is_answer() and 200 <= reply.status < 300:
        with state.lock:
            state.poisoned.add(req.path)
        obj = reply.json()
        if isinstance(obj, dict):
            obj["status"] = "processing"
            obj.pop("error", None)
            reply.set_json(obj)
        return "answer noted; challenge processing"
    with state.lock:
        marks = set(state.poisoned)
    return poison_after(state, req, reply, marks, state.get("authz_status"),
                        state.get("chall_status"),
                        lambda ident: error_for(state, ident))


def resume_invalid_after(state, req, reply):
    phase = state.get("phase") or "hold"
    with state.lock:
        marks = set(state.held)
    if phase == "hold":
        if req.is_answer() and 200 <= reply.status < 300:
            with state.lock:
                state.held.add(req.path)
            obj = reply.json()
            if isinstance(obj, dict):
                obj["status"] = "processing"
                reply.set_json(obj)
            return "answer noted (hold)"
        return poison_after(state, req, reply, marks, "pending", "processing",
                            None)
    return poison_after(state, req, reply, marks, state.get("authz_status"),
                        "invalid", lambda ident: error_for(state, ident))


def resume_processing_before(state, req):
    phase = state.get("phase") or "hold"
    if req.is_answer():
        if phase == "hold":
            with state.lock:
                state.kept[req.path] = (dict(req.headers), req.body)
                state.held.add(req.path)
                a = state.authz.get(state.chall_authz.get(req.path), {})
            ch = None
            for c in a.get("challenges") or []:
                if isinstance(c, dict) and state.path_of(c.get("url")) == req.path:
                    ch = dict(c)
            if ch is None:
                return state.own_problem(500, problem(
                    "serverInternal", "stand-in: unknown challenge", 500))
            ch["status"] = "processing"
            up = "https://%s%s" % (state.host(), state.chall_authz[req.path])
            return state.own_reply(200, ch, extra=[
                ("Link", '<%s>;rel="up"' % up)])
        with state.lock:
            if req.path in state.held:
                # The client answered again: this request goes to Pebble.
                state.held.discard(req.path)
                state.released.add(req.path)
                state.kept.pop(req.path, None)
                state.log({"kind": "event", "event": "released",
                           "how": "client", "path": req.path})
        return None
    if phase == "release" and req.is_poll() and req.kind in ("authz",
                                                             "challenge"):
        # A poll of the authorization, or of the held challenge itself.
        with state.lock:
            apath = req.path if req.kind == "authz" else \
                state.chall_authz.get(req.path) if req.path in state.held \
                else None
            n = state.polls.get(apath, 0) + 1
            state.polls[apath] = n
            todo = [(c, state.kept[c]) for c in list(state.held)
                    if apath is not None and
                    state.chall_authz.get(c) == apath and c in state.kept]
        if n >= int(state.get("release_after")):
            for cpath, (hdrs, body) in todo:
                r = state.upstream("POST", cpath, hdrs, body)
                with state.lock:
                    state.held.discard(cpath)
                    state.kept.pop(cpath, None)
                    state.released.add(cpath)
                state.log({"kind": "event", "event": "released",
                           "how": "replay", "path": cpath,
                           "status": r.status})
    return None


def resume_processing_after(state, req, reply):
    obj = reply.json()
    with state.lock:
        marks = set(state.held)
    if req.kind == "authz" and isinstance(obj, dict) and \
            mark_challenges(state, obj, marks, "processing", None):
        obj["status"] = "pending"
        reply.set_json(obj)
        return "challenge processing"
    if req.kind == "challenge" and req.path in marks and \
            isinstance(obj, dict):
        obj["status"] = "processing"
        reply.set_json(obj)
        return "challenge processing"
    return None


def ready_forever_before(state, req):
    if req.kind != "finalize" or req.method != "POST":
        return None
    with state.lock:
        opath = state.finalize.get(req.path)
        obj = copy.deepcopy(state.orders.get(opath))
    if obj is None:
        return state.own_problem(404, problem(
            "malformed", "stand-in: no such order", 404))
    obj["status"] = "ready"
    obj.pop("certificate", None)
    return state.own_reply(200, obj, extra=[
        ("Location", "https://%s%s" % (state.host(), opath))])


def ready_forever_after(state, req, reply):
    obj = reply.json()
    if req.kind == "order" and isinstance(obj, dict) and \
            obj.get("status") in ("ready", "processing", "valid"):
        obj["status"] = "ready"
        obj.pop("certificate", None)
        reply.set_json(obj)
        return "order ready"
    return None


def ident_after(state, req, reply):
    obj = reply.json()
    if req.kind == "authz" and isinstance(obj, dict) and \
            isinstance(obj.get("identifier"), dict):
        obj["identifier"] = {"type": state.get("ident_type"),
                             "value": state.get("ident")}
        reply.set_json(obj)
        return "identifier replaced"
    return None


def escape_problem_before(state, req):
    if req.kind != "newOrder" or req.method != "POST":
        return None
    return state.own_problem(403, problem(
        "rejectedIdentifier",
        "stand-in: policy forbids \x1b[2J\x1b[31mthis\x07 name", 403,
        [problem("rejectedIdentifier", "stand-in: bell\x07 and "
                 "escape\x1b]0;title\x07", 403) |
         {"identifier": {"type": "dns",
                         "value": "esc\x1b[1m.bel\x07.certo.test"}}]))


def rate_limited_before(state, req):
    if req.kind != "newOrder" or req.method != "POST" or \
            not isinstance(req.payload, dict):
        return None
    names = [i.get("value") for i in req.payload.get("identifiers") or []
             if isinstance(i, dict)]
    limited = [n for n in names if n in (state.get("limit_names") or [])]
    if not limited:
        return None
    ra = state.get("retry_after")
    return state.own_problem(429, problem(
        "rateLimited", "stand-in: too many certificates already issued "
        "for: %s: see https://letsencrypt.org/docs/rate-limits/" %
        ", ".join(limited), 429), extra=[("Retry-After", str(ra))])


def big_headers_after(state, req, reply):
    if req.kind != (state.get("where") or "directory"):
        return None
    total = int(state.get("header_bytes"))
    i = 0
    while total > 0:
        v = "x" * min(1000, total)
        reply.headers.append(("X-Standin-Padding-%d" % i, v))
        total -= len(v) + 25
        i += 1
    return "%d padding headers" % i


def bad_url_after(state, req, reply):
    obj = reply.json()
    if req.kind not in ("newOrder", "order") or not isinstance(obj, dict):
        return None
    where = state.get("where") or "authz"
    bad = state.get("bad_url")
    if where == "authz" and obj.get("authorizations"):
        obj["authorizations"][0] = bad
    elif where == "finalize":
        obj["finalize"] = bad
    else:
        return None
    reply.set_json(obj)
    return "%s URL %s" % (where, bad)


def deactivated_before(state, req):
    if req.method != "POST" or not req.kid:
        return None
    return state.own_problem(401, problem(
        "unauthorized", 'Account is not valid, has status "deactivated"', 401))


SCENARIOS = {
    "pass": (None, None),
    "pending_error": (None, pending_error_after),
    "resume_invalid": (None, resume_invalid_after),
    "resume_processing": (resume_processing_before, resume_processing_after),
    "ready_forever": (ready_forever_before, ready_forever_after),
    "ident": (None, ident_after),
    "escape_problem": (escape_problem_before, None),
    "rate_limited": (rate_limited_before, None),
    "big_headers": (None, big_headers_after),
    "bad_url": (None, bad_url_after),
    "deactivated": (deactivated_before, None),
}


# ---------------------------------------------------------------- server



def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 60

        def log_message(self, fmt, *args):
            sys.stderr.write("standin_ca: " + (fmt % args) + "\n")

        def send(self, reply):
            standin_lib.relay(self, reply.status, reply.reason,
                              reply.headers, reply.body)

        def control(self, path, body):
            if path == "/control/ping":
                return Reply(200, [("Content-Type", "text/plain")], b"ok")
            if path == "/control/state":
                with state.lock:
                    s = dict(state.cfg)
                return Reply(200, [("Content-Type", "application/json")],
                             json.dumps(s).encode())
            if path == "/control/set" and self.command == "POST":
                try:
                    new = json.loads(body or b"{}")
                    if not isinstance(new, dict):
                        raise ValueError("not an object")
                    if "scenario" in new and new["scenario"] not in SCENARIOS:
                        raise ValueError("unknown scenario")
                except ValueError as e:
                    return Reply(400, [("Content-Type", "text/plain")],
                                 ("bad settings: %s" % e).encode())
                with state.lock:
                    state.cfg.update(new)
                    state.polls.clear()
                state.log({"kind": "event", "event": "set", "settings": new})
                return Reply(200, [("Content-Type", "application/json")],
                             json.dumps(new).encode())
            return Reply(404, [("Content-Type", "text/plain")], b"no such control")

        def handle_one(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                self.send_error(413)
                return
            body = self.rfile.read(n) if n > 0 else None
            path = urllib.parse.urlsplit(self.path).path
            kind = kind_of(path)
            if kind == "control":
                self.send(self.control(path, body))
                return
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP_BY_HOP}
            req = Req(self.command, path, kind, headers, body)
            scenario = state.get("scenario")
            before, after = SCENARIOS.get(scenario, (None, None))
            entry = {"kind": kind, "method": self.command, "path": path,
                     "url": req.url, "kid": req.kid, "payload": req.payload,
                     "scenario": scenario, "phase": state.get("phase"),
                     "forwarded": False, "mutated": None}
            reply = None
            try:
                if before is not None:
                    reply = before(state, req)
                    if reply is not None:
                        entry["mutated"] = "answered by the stand-in"
                if reply is None:
                    reply = state.upstream(self.command, self.path, headers,
                                           body)
                    entry["forwarded"] = True
                    state.remember(kind, path, req, reply)
                    if after is not None:
                        entry["mutated"] = after(state, req, reply)
            except (OSError, http.client.HTTPException) as e:
                reply = state.own_problem(502, problem(
                    "serverInternal", "stand-in: Pebble: %s" % e, 502))
                entry["mutated"] = "upstream error"
            entry["status"] = reply.status
            state.log(entry)
            self.send(reply)

        do_GET = handle_one
        do_POST = handle_one
        do_HEAD = handle_one

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pebble-port", type=int, required=True,
                   help="Pebble's ACME port on 127.0.0.1")
    p.add_argument("--ca-bundle", required=True,
                   help="CA of Pebble's HTTPS certificate")
    p.add_argument("--tls-cert", required=True,
                   help="certificate for localhost (Pebble's own)")
    p.add_argument("--tls-key", required=True)
    p.add_argument("--port", type=int, required=True,
                   help="HTTPS port of the stand-in on 127.0.0.1")
    p.add_argument("--scenario", default="pass", choices=sorted(SCENARIOS))
    p.add_argument("--phase", default="")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a scenario parameter (JSON values allowed)")
    p.add_argument("--log", help="append one JSON line per request here")
    p.add_argument("--max-seconds", type=float, default=900,
                   help="exit after this long even if nobody stops us")
    args = p.parse_args()

    state = State(args)
    srv = standin_lib.tls_server(args.port, make_handler(state),
                                 args.tls_cert, args.tls_key)
    return standin_lib.serve_until_signal(
        [srv], "standin_ca: https://localhost:%d/dir (scenario %s) -> Pebble "
        "on 127.0.0.1:%d" % (args.port, args.scenario, args.pebble_port),
        args.max_seconds)

if __name__ == "__main__":
    sys.exit(main())
