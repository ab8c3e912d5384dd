"""HTTP itself: status lines name the status they carry, and a method the
server does not know gets the API's JSON error, not libevent's HTML."""
import http.client
import json

import pytest

from support import assert_error_shape, expect, raw_exchange, uniq


def status_line(reply):
    return reply.split(b"\r\n", 1)[0].decode(errors="replace")


def test_202_goes_out_as_accepted(server, create_event):
    ev = create_event(status="published")
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        c.request("POST", "/api/v1/events/%d/resend" % ev["id"],
                  json.dumps({"email": uniq("n") + "@example.com"}),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
    finally:
        c.close()
    assert r.status == 202, "resend should answer 202, got %d" % r.status
    assert r.reason == "Accepted", (
        "the status line of a 202 says %r; clients and proxies log the "
        "reason phrase, it must be 'Accepted'" % r.reason)


@pytest.mark.parametrize("status,path", [
    (404, "/api/v1/nothing-here"), (405, "/api/v1/events/1/registrations"),
    (401, "/api/v1/audit")])
def test_status_lines_match_their_status(server, status, path):
    method = "DELETE" if status == 405 else "GET"
    reply = raw_exchange(server.port, b"%s %s HTTP/1.1\r\nHost: t\r\n"
                         b"Connection: close\r\n\r\n" % (method.encode(),
                                                         path.encode()))
    line = status_line(reply)
    want = {401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed"}[status]
    assert line == "HTTP/1.1 %d %s" % (status, want), \
        "%s %s: status line %r" % (method, path, line)


@pytest.mark.parametrize("method", ["BREW", "PROPFIND", "MKCOL"])
def test_unknown_method_gets_json_501(server, api, method):
    body = b'{"x":1}'
    reply = raw_exchange(server.port, b"%s /api/v1/events HTTP/1.1\r\n"
                         b"Host: t\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" %
                         (method.encode(), len(body), body))
    assert reply, "%s: the server closed without an answer" % method
    head, _, payload = reply.partition(b"\r\n\r\n")
    line = status_line(reply)
    assert line == "HTTP/1.1 501 Not Implemented", \
        "%s should get 501 Not Implemented, got %r" % (method, reply[:300])
    assert b"content-type: application/json" in head.lower(), (
        "%s got a non-JSON 501 (libevent's HTML page?): %r" %
        (method, reply[:400]))
    j = json.loads(payload)
    assert j.get("error") == "not_implemented" and j.get("message"), j
    # The unread body did not poison anything: the server still answers.
    expect(api("GET", "/healthz"), 200)


def test_known_but_unrouted_method_is_still_json_405(api):
    r = api("PUT", "/api/v1/events")
    expect(r, 405, "method_not_allowed")
    assert_error_shape(r)
