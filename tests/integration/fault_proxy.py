#!/usr/bin/env python3
"""fault_proxy.py: a TCP proxy on loopback that breaks some connections.

Sits between certo and Pebble's HTTPS port (TLS passes through untouched)
and decides, for each accepted connection in accept order, with a seeded
random generator:

  reset     forward the server's reply up to a random byte count, then
            close the client side with an RST (SO_LINGER 0)
  truncate  forward the server's reply up to a random byte count, then
            close the client side normally (FIN): a cut TLS handshake or
            a body shorter than its Content-Length
  delay     sleep --delay-seconds before connecting upstream and
            forwarding anything (a slow, but working, connection)
  pass      forward everything

The cut point of reset and truncate is drawn from 0..--cut-max bytes of
server-to-client data, so a fault may hit the TLS handshake, a reply, or
(on a long kept-alive connection) never be reached; the log says which.
Pebble builds its URLs from the Host header, so certo pointed at
https://localhost:LISTEN/dir sends all its ACME traffic through here.

Usage:
  fault_proxy.py --listen 14120 --target 14100 --reset 0.12 \\
      --truncate 0.12 --delay 0.12 --delay-seconds 2 --seed 7 \\
      --log proxy.log

--plan N:ACTION@CUT[,N:ACTION@CUT...] replaces the random draw: the
connections numbered N (from 1, in accept order) get ACTION (reset or
truncate at byte CUT, delay, pass) and all others pass; the benchmark
uses it to cut a conversation at every point in turn.  With --plan-also
the planned connections get their ACTION and all others the random draw
(the test uses it so that some faults happen however few connections a
run makes).

One line per connection goes to --log ("conn 3 truncate@2211: applied",
"conn 4 reset@9000: not reached (closed after 5120 bytes)", "conn 5
delay 2.0s", "conn 6 pass"), then a summary line on exit. Bounded: it
only binds and dials loopback addresses, exits after --lifetime seconds
(or on SIGTERM/SIGINT), accepts at most --max-conns connections, keeps at
most 64 open at once and closes a connection idle for --idle seconds.
"""

import argparse
import ipaddress
import random
import select
import signal
import socket
import struct
import sys
import threading
import time

MAX_ACTIVE = 64


def loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else sys.stdout
        self.lock = threading.Lock()
        self.counts = {}

    def line(self, text):
        with self.lock:
            self.f.write("%.3f %s\n" % (time.time(), text))

    def count(self, key):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1


def rst_close(sock):
    """Close with an RST instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def fin_close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class Conn(threading.Thread):
    def __init__(self, n, client, args, action, cut, log, stop, active):
        super().__init__(daemon=True)
        self.n, self.client, self.args = n, client, args
        self.action, self.cut, self.log = action, cut, log
        self.stop, self.active = stop, active

    def run(self):
        try:
            self.serve()
        except OSError as e:
            self.log.line("conn %d %s: error %s" % (self.n, self.action, e))
        finally:
            self.active.release()

    def serve(self):
        a, client = self.args, self.client
        if self.action == "delay":
            self.log.line("conn %d delay %.1fs" % (self.n, a.delay_seconds))
            end = time.monotonic() + a.delay_seconds
            while time.monotonic() < end and not self.stop.is_set():
                time.sleep(min(0.05, max(0.0, end - time.monotonic())))
        try:
            up = socket.create_connection((a.target_host, a.target), timeout=5)
        except OSError as e:
            self.log.line("conn %d: upstream connect failed: %s" % (self.n, e))
            rst_close(client)
            return
        up.settimeout(None)
        client.settimeout(None)
        sent = 0            # server-to-client bytes forwarded
        open_c, open_u = True, True
        last = time.monotonic()
        faulty = self.action in ("reset", "truncate")
        try:
            while (open_c or open_u) and not self.stop.is_set():
                socks = ([client] if open_c else []) + ([up] if open_u else [])
                r, _, _ = select.select(socks, [], [], 0.5)
                if not r:
                    if time.monotonic() - last > a.idle:
                        break
                    continue
                last = time.monotonic()
                if client in r:
                    data = client.recv(65536)
                    if data:
                        up.sendall(data)
                    else:
                        open_c = False
                        try:
                            up.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                if up in r:
                    data = up.recv(65536)
                    if not data:
                        open_u = False
                        try:
                            client.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    if faulty and sent + len(data) >= self.cut:
                        part = data[:self.cut - sent]
                        if part:
                            client.sendall(part)
                        sent += len(part)
                        self.log.line("conn %d %s@%d: applied"
                                      % (self.n, self.action, self.cut))
                        self.log.count(self.action + "_applied")
                        if self.action == "reset":
                            rst_close(client)
                        else:
                            fin_close(client)
                        client = None
                        return
                    client.sendall(data)
                    sent += len(data)
            if faulty:
                self.log.line("conn %d %s@%d: not reached (closed after %d "
                              "bytes)" % (self.n, self.action, self.cut, sent))
                self.log.count(self.action + "_not_reached")
            elif self.action == "pass":
                self.log.line("conn %d pass (%d bytes)" % (self.n, sent))
        finally:
            if client is not None:
                client.close()
            up.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--listen-host", default="127.0.0.1")
    p.add_argument("--target", type=int, required=True)
    p.add_argument("--target-host", default="127.0.0.1")
    p.add_argument("--reset", type=float, default=0.0)
    p.add_argument("--truncate", type=float, default=0.0)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--delay-seconds", type=float, default=2.0)
    p.add_argument("--cut-max", type=int, default=8192,
                   help="largest server-to-client byte count of a cut")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--plan-also", action="store_true",
                   help="random draw for connections --plan does not name")
    p.add_argument("--plan", default="",
                   help="N:ACTION@CUT,...: faults for chosen connections")
    p.add_argument("--log", default="")
    p.add_argument("--lifetime", type=float, default=600.0)
    p.add_argument("--max-conns", type=int, default=5000)
    p.add_argument("--idle", type=float, default=120.0)
    a = p.parse_args()
    for h in (a.listen_host, a.target_host):
        if not loopback(h):
            p.error("%s is not a loopback address" % h)
    if min(a.reset, a.truncate, a.delay) < 0 or \
            a.reset + a.truncate + a.delay > 1:
        p.error("probabilities must be >= 0 and sum to at most 1")
    if not 0 <= a.delay_seconds <= 60 or a.lifetime <= 0 or a.cut_max < 0:
        p.error("bad --delay-seconds, --lifetime or --cut-max")

    plan = {}
    for item in filter(None, a.plan.split(",")):
        try:
            num, rest = item.split(":", 1)
            act, _, cut = rest.partition("@")
            if act not in ("reset", "truncate", "delay", "pass"):
                raise ValueError(act)
            plan[int(num)] = (act, int(cut) if cut else 0)
        except ValueError:
            p.error("bad --plan item %r" % item)

    log = Log(a.log)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    rng = random.Random(a.seed)
    family = socket.AF_INET6 if ":" in a.listen_host else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.listen_host, a.listen))
    ls.listen(64)
    ls.settimeout(0.2)
    log.line("listening on %s:%d -> %s:%d reset=%.2f truncate=%.2f "
             "delay=%.2f (%.1fs) cut-max=%d seed=%d plan=%s"
             % (a.listen_host, a.listen, a.target_host, a.target, a.reset,
                a.truncate, a.delay, a.delay_seconds, a.cut_max, a.seed,
                a.plan or "-"))
    active = threading.BoundedSemaphore(MAX_ACTIVE)
    deadline = time.monotonic() + a.lifetime
    n = 0
    while not stop.is_set() and time.monotonic() < deadline and \
            n < a.max_conns:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        except OSError:
            if stop.is_set():
                break
            raise
        n += 1
        u = rng.random()
        cut = rng.randint(0, a.cut_max)
        if n in plan:
            action, cut = plan[n]
        elif a.plan and not a.plan_also:
            action, cut = ("pass", 0)
        elif u < a.reset:
            action = "reset"
        elif u < a.reset + a.truncate:
            action = "truncate"
        elif u < a.reset + a.truncate + a.delay:
            action = "delay"
        else:
            action = "pass"
        log.count(action)
        if not active.acquire(blocking=False):
            log.line("conn %d: too many open connections, closed" % n)
            c.close()
            continue
        Conn(n, c, a, action, cut, log, stop, active).start()
    stop.set()
    ls.close()
    time.sleep(0.6)     # let the threads see stop and close their sockets
    log.line("summary: connections %d %s" % (n, " ".join(
        "%s=%d" % kv for kv in sorted(log.counts.items()))))


if __name__ == "__main__":
    main()
