"""Slow clients: a request must arrive whole within HTTP_TIMEOUT however it
trickles in; one address may hold only so many connections; bodies that
trickle in keep memory bounded; a client that resets does not stay
counted as a request in flight."""
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time

from support import REPO, HTTP_TIMEOUT, SAN_ENV, expect, wait_until


def header_limit(name):
    text = (REPO / "server" / "server.h").read_text()
    m = re.search(r"#define %s\s+(\d+)" % name, text)
    assert m, "server.h has no %s" % name
    return int(m.group(1))


def closed(s):
    """True when the server closed (or reset) the connection."""
    try:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return False
        return s.recv(65536) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_drippers_are_cut_off_by_the_total_deadline(server, api):
    """evhttp's timeout measures silence only; a client sending a byte a
    second must still be cut off about HTTP_TIMEOUT after connecting."""
    port = server.port
    drippers = {
        "header dripper": (b"GET /healthz HTTP/1.1\r\nHost: t\r\n",
                           lambda i: b"X-Drip-%d: x\r\n" % i),
        "body dripper": (b"POST /api/v1/events HTTP/1.1\r\nHost: t\r\n"
                         b"Content-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n",
                         lambda i: b" "),
    }
    socks, cut = {}, {}
    start = time.monotonic()
    for name, (first, _) in drippers.items():
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(first)
        socks[name] = s
    limit = 2 * HTTP_TIMEOUT
    i = 0
    try:
        while len(cut) < len(socks) and time.monotonic() - start < limit + 2:
            time.sleep(1)       # the drip itself: one line/byte a second
            i += 1
            for name, s in socks.items():
                if name in cut:
                    continue
                if closed(s):
                    cut[name] = time.monotonic() - start
                    continue
                try:
                    s.sendall(drippers[name][1](i))
                except (BrokenPipeError, ConnectionResetError):
                    cut[name] = time.monotonic() - start
    finally:
        for s in socks.values():
            s.close()
    missing = sorted(set(socks) - set(cut))
    assert not missing, (
        "still connected after %d s though a request must arrive whole "
        "within HTTP_TIMEOUT (%d s): %s" % (limit, HTTP_TIMEOUT, missing))
    early = {k: round(v, 1) for k, v in cut.items() if v < HTTP_TIMEOUT / 2}
    assert not early, "cut off suspiciously early: %r" % early
    expect(api("GET", "/healthz"), 200)


def test_one_address_may_hold_only_so_many_connections(pg, start_daemon):
    cap = header_limit("HTTP_MAXCONNS_PER_ADDR")
    d = start_daemon(pg.conninfo)
    held = []
    try:
        for _ in range(cap):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            held.append(s)
        extra = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        held.append(extra)
        t0 = time.monotonic()
        wait_until(lambda: closed(extra), HTTP_TIMEOUT / 2,
                   "connection %d from one address to be closed "
                   "(HTTP_MAXCONNS_PER_ADDR = %d)" % (cap + 1, cap))
        assert time.monotonic() - t0 < HTTP_TIMEOUT / 2
        # The ones within the cap are served.
        held[0].sendall(b"Host: t\r\nConnection: close\r\n\r\n")
        held[0].settimeout(10)
        assert held[0].recv(65536).startswith(b"HTTP/1.1 200"), \
            "a connection within the cap was not served"
    finally:
        for s in held:
            s.close()
    # Once they are gone the address may connect again.
    wait_until(lambda: d.api("GET", "/healthz", timeout=5).status == 200, 10,
               "a new connection to be served after the others closed")


def test_a_trusted_proxy_is_not_capped(pg, start_daemon):
    cap = header_limit("HTTP_MAXCONNS_PER_ADDR")
    d = start_daemon(pg.conninfo, ["--trusted-proxies", "127.0.0.1"])
    held = []
    try:
        for _ in range(cap + 5):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            held.append(s)
        last = held[-1]
        last.sendall(b"Host: t\r\nX-Forwarded-For: 192.0.2.7\r\n"
                     b"Connection: close\r\n\r\n")
        last.settimeout(10)
        got = last.recv(65536)
        assert got.startswith(b"HTTP/1.1 200"), (
            "connection %d from a trusted proxy (nginx) was refused: %r" %
            (cap + 5, got[:100]))
    finally:
        for s in held:
            s.close()


def vm(pid, key):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no %s in /proc/%d/status" % (key, pid))


def unread(port):
    """Bytes waiting in the receive queues of the daemon's sockets."""
    total = 0
    for line in open("/proc/net/tcp").readlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == port:
            total += int(f[4].split(":")[1], 16)
    return total


def test_dripping_bodies_keep_memory_bounded(pg, start_daemon):
    """Many clients each starting a body of nearly 1 MiB (what evhttp once
    buffered per connection) must not grow the daemon by that much. ASan
    would keep every freed buffer resident (its quarantine), so this
    daemon runs without one: what is measured is what is held."""
    d = start_daemon(pg.conninfo, env={
        "ASAN_OPTIONS": SAN_ENV["ASAN_OPTIONS"] + ":quarantine_size_mb=0"})
    n, declared = 100, 1000 * 1000
    base = vm(d.proc.pid, "VmHWM")
    chunk = b"x" * 65536
    socks, sent, answered = [], {}, set()
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: t\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % declared)
            s.setblocking(False)
            socks.append(s)
            sent[s] = 0
        deadline = time.monotonic() + HTTP_TIMEOUT / 2
        while time.monotonic() < deadline:
            busy = [s for s in socks if s not in answered and
                    sent[s] < declared - len(chunk)]
            if not busy:
                break
            r, w, _ = select.select(busy, busy, [], 0.2)
            for s in r:
                answered.add(s)         # the server said something: stop
            for s in w:
                if s in answered:
                    continue
                try:
                    sent[s] += s.send(chunk)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    answered.add(s)
        # What was sent has reached the daemon, not just the kernel.
        wait_until(lambda: unread(d.port) == 0, 30,
                   "the daemon to read what the clients sent")
        grown = vm(d.proc.pid, "VmHWM") - base
    finally:
        for s in socks:
            s.close()
    bound = 48 * 1024 * 1024
    assert grown < bound, (
        "%d clients starting bodies of %d bytes grew the daemon's peak RSS "
        "by %d MiB (bound %d MiB): bodies are buffered without a limit "
        "that fits many connections" % (n, declared, grown >> 20,
                                        bound >> 20))
    wait_until(lambda: d.api("GET", "/healthz", timeout=5).status == 200, 10,
               "the daemon to answer after the bodies")


def inflight(d):
    for line in d.api("GET", "/metrics").raw.decode().splitlines():
        if line.startswith("rollcall_http_inflight "):
            return int(float(line.split()[1]))
    raise AssertionError("/metrics has no rollcall_http_inflight")


def test_clients_that_reset_are_not_counted_in_flight(
        pg, start_daemon, admin_token, create_event):
    d = start_daemon(pg.conninfo, ["--pool", "1"])
    ev = create_event()
    path = "/api/v1/events/%d" % ev["id"]
    locker = subprocess.Popen(
        ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d",
         pg.conninfo], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    socks = []
    try:
        locker.stdin.write("BEGIN;\nSELECT id FROM events WHERE id = %d "
                           "FOR UPDATE;\n" % ev["id"])
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == str(ev["id"])
        body = b'{"title":"Held"}'
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(b"PATCH %s HTTP/1.1\r\nHost: t\r\nAuthorization: "
                      b"Bearer %s\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (
                          path.encode(), admin_token.encode(), len(body),
                          body))
            socks.append(s)
        wait_until(lambda: inflight(d) >= 31, 10,
                   "the 30 PATCHes to be in flight")
        for s in socks:             # reset, not a clean close
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
        socks = []
    finally:
        for s in socks:
            s.close()
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        locker.wait(30)
    wait_until(lambda: inflight(d) == 1, 30,
               "rollcall_http_inflight to fall back to 1 (this /metrics "
               "request) once the reset clients' requests were answered")
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    try:
        rc = d.proc.wait(10)
    except subprocess.TimeoutExpired:
        raise AssertionError("SIGTERM on an idle daemon took over 10 s "
                             "(DRAIN_SECS is 15); log:\n" + d.tail())
    took = time.monotonic() - t0
    assert rc == 0, d.tail()
    assert "still running" not in d.log_text(), (
        "the daemon waited for requests whose clients had reset; log:\n" +
        d.tail())
    assert took < 5, "SIGTERM took %.1f s on an idle daemon" % took
