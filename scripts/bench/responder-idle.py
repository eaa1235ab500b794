#!/usr/bin/env python3
"""responder-idle.py: hold idle TCP connections to a server and read its memory.

Helper of scripts/bench/responder.sh.

usage: responder-idle.py PID PORT N HOLD_S

Opens N TCP connections to 127.0.0.1:PORT (source addresses rotate over
127.0.0.2..127.0.0.201), sends nothing, waits one second for the server to
accept them all, then prints one line

    sample t=<s> rss_kib=<VmRSS> hwm_kib=<VmHWM> fds=<open fds of PID> alive=<n>

(alive: connections the server has not closed yet). With HOLD_S > 1 it keeps
holding until HOLD_S seconds after the last connect and prints a second
sample, which shows whether the server drops idle connections on a timer.
Exit status 1 when a connection could not be opened.
"""
import os
import socket
import sys
import time


def status(pid):
    vals = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            vals[key] = val.strip()
    kib = lambda k: int(vals.get(k, "0 kB").split()[0])
    return kib("VmRSS"), kib("VmHWM"), len(os.listdir(f"/proc/{pid}/fd"))


def alive(socks):
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                n += 1      # data (an alert or an error page): still open
        except BlockingIOError:
            n += 1          # nothing to read: open and idle
        except OSError:
            pass            # reset
    return n


def main():
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    pid, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    socks = []
    t0 = time.monotonic()
    try:
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            s.bind((f"127.0.0.{2 + i % 200}", 0))
            s.connect(("127.0.0.1", port))
            socks.append(s)
    except OSError as e:
        print(f"error connection {len(socks) + 1} of {n}: {e}")
        return 1
    opened = time.monotonic()
    print(f"opened n={n} seconds={opened - t0:.2f}")
    for at in (1.0, hold) if hold > 1 else (1.0,):
        wait = opened + at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        rss, hwm, fds = status(pid)
        print(f"sample t={at:g} rss_kib={rss} hwm_kib={hwm} fds={fds} alive={alive(socks)}",
              flush=True)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
