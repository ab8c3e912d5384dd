"""Limits on clients: slow or idle connections time out, oversize headers
are refused."""
import select
import socket
import time

import pytest

from support import HTTP_TIMEOUT, expect, raw_exchange


def status_of(reply):
    parts = reply.split(b" ", 2)
    assert len(parts) >= 2 and parts[0].startswith(b"HTTP/1."), \
        "not an HTTP response: %r" % reply[:200]
    return int(parts[1])


def test_slow_and_idle_clients_are_disconnected(server, api):
    port = server.port
    clients = {
        "idle after connecting": b"",
        "request line only": b"GET /healthz HTTP/1.1\r\n",
        "headers never finished": b"GET /healthz HTTP/1.1\r\nHost: t\r\n",
        "body never finished": b"POST /api/v1/events HTTP/1.1\r\nHost: t\r\n"
                               b"Content-Length: 100\r\n\r\n{\"kind\":",
    }
    socks = {}
    start = time.monotonic()
    for name, data in clients.items():
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setblocking(False)
        if data:
            s.sendall(data)
        socks[s] = name
    # Kept alive after a complete exchange, then silent.
    ka = socket.create_connection(("127.0.0.1", port), timeout=5)
    ka.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    first = ka.recv(65536)
    assert first.startswith(b"HTTP/1.1 200"), first
    ka.setblocking(False)
    socks[ka] = "idle keep-alive connection"

    # The server keeps serving everybody else meanwhile.
    expect(api("GET", "/healthz"), 200)

    closed = {}
    deadline = start + HTTP_TIMEOUT + 25
    try:
        while len(closed) < len(socks) and time.monotonic() < deadline:
            open_ = [s for s in socks if socks[s] not in closed]
            ready, _, _ = select.select(open_, [], [],
                                        max(0.0, deadline - time.monotonic()))
            for s in ready:
                try:
                    d = s.recv(65536)
                except ConnectionResetError:
                    d = b""
                except BlockingIOError:
                    continue
                if not d:
                    closed[socks[s]] = time.monotonic() - start
    finally:
        for s in socks:
            s.close()
    still_open = sorted(set(socks.values()) - set(closed))
    assert not still_open, (
        "the server should drop slow or idle clients after %d s; still open "
        "after %d s: %r" % (HTTP_TIMEOUT, HTTP_TIMEOUT + 25, still_open))
    early = {k: round(v, 1) for k, v in closed.items()
             if v < HTTP_TIMEOUT / 2}
    assert not early, "clients dropped suspiciously early: %r" % early
    expect(api("GET", "/healthz"), 200)


def _request(extra_headers):
    return (b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + extra_headers +
            b"Connection: close\r\n\r\n")


@pytest.mark.parametrize("headers", [
    b"X-Big: " + b"a" * (17 * 1024) + b"\r\n",
    b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 500) for i in range(40)),
    b"Cookie: " + b"c" * (64 * 1024) + b"\r\n",
], ids=["one-17KiB-header", "40-headers-of-500-bytes", "64KiB-cookie"])
def test_headers_over_16_kib_are_refused(server, api, headers):
    reply = raw_exchange(server.port, _request(headers))
    assert reply, "oversize headers: the server closed without an answer"
    st = status_of(reply)
    assert 400 <= st < 500, "oversize headers should get a 4xx: %r" % \
        reply[:300]
    expect(api("GET", "/healthz"), 200)


def test_headers_well_under_the_limit_are_fine(server):
    reply = raw_exchange(server.port,
                         _request(b"X-Medium: " + b"m" * 8000 + b"\r\n"))
    assert status_of(reply) == 200, reply[:300]


def test_request_line_over_16_kib_is_refused(server):
    reply = raw_exchange(server.port,
                         b"GET /api/v1/events/" + b"1" * (17 * 1024) +
                         b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert reply, "the server closed without an answer"
    assert 400 <= status_of(reply) < 500, reply[:300]
