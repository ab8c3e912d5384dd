"""Scale-out on loopback: the shipped nginx site config in front of three
rollcalld on one PostgreSQL. A registration burst through nginx keeps
capacity exact while one instance is killed mid-burst; every 201 is a
committed row; nginx routes around the dead instance; a door check-in
agrees through nginx and through each surviving instance."""
import http.client
import os
import re
import shutil
import signal
import socket
import threading
import time

import pytest

from deploy_support import Nginx
from support import _apply, expect, fresh_rate_window, meetup, uniq

SEATS = 50
BURST = 300
SOURCES = ["127.0.0.%d" % i for i in range(2, 12)]   # 30 each: under 60/min
KILL_AFTER = 90


def person(i, **over):
    return _apply({"name": "Attendee %d" % i,
                   "email": "%s-%d@example.com" % (uniq("s"), i),
                   "company": "Example Co", "job_title": "Developer",
                   "identity": "professional"}, over)


@pytest.fixture
def cluster(pg, start_daemon):
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        pytest.skip("nginx is not installed (deploy/dev/deps.sh test)")
    # as in the shipped rollcall.conf: believe X-Forwarded-For from nginx
    # only, and the per-address rate limit on
    daemons = [start_daemon(pg.conninfo, ["--trusted-proxies", "127.0.0.1",
                                          "--rate-limit", "60", "-v"])
               for _ in range(3)]
    n = Nginx([d.port for d in daemons]).start()
    yield n, daemons
    n.stop()


def kill(d):
    """SIGKILL one instance; the fixture's SIGTERM check skips it."""
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.checked = True
    d.log.close()


def test_burst_through_nginx_survives_a_killed_instance(cluster, pg,
                                                        create_event, issue):
    n, daemons = cluster
    ev = create_event(meetup(capacity=SEATS), status="published")
    url = "/api/v1/events/%d/registrations" % ev["id"]

    # HTTP/2 is offered (ALPN) on the TLS port
    ctx = n.ssl_context()
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", n.https_port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.selected_alpn_protocol() == "h2", \
                "nginx should offer HTTP/2"

    results = [None] * BURST
    lock = threading.Lock()
    done = [0]
    killed = threading.Event()
    kill_time = [None]
    victim = daemons[0]

    after_kill = [0] * BURST    # this worker's nth request sent after it

    def worker(k):
        src = SOURCES[k]
        conn = n.connect(src)
        nth = 0
        for i in range(k, BURST, len(SOURCES)):
            body = person(i)
            if killed.is_set():
                nth += 1
                after_kill[i] = nth
            sent = time.monotonic()
            try:
                r = n.call("POST", url, body, conn=conn)
            except (http.client.HTTPException, OSError) as e:
                conn.close()
                conn = n.connect(src)
                r = e
            results[i] = (body, r, sent)
            with lock:
                done[0] += 1
                if done[0] == KILL_AFTER and not killed.is_set():
                    kill(victim)
                    kill_time[0] = time.monotonic()
                    killed.set()
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,))
               for k in range(len(SOURCES))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "the burst hung"
    assert killed.is_set(), "the instance was never killed"
    elapsed = time.monotonic() - t0

    created = [(b, r.json) for b, r, _ in results
               if not isinstance(r, Exception) and r.status == 201]
    failed = [(b, r, sent) for b, r, sent in results
              if isinstance(r, Exception) or r.status != 201]
    # Only requests in flight at the moment of the kill may fail, with
    # nginx's JSON 503; after it nginx must route around the dead one.
    for b, r, sent in failed:
        assert not isinstance(r, Exception), "nginx dropped a request: %r" % r
        assert r.status == 503 and r.json and \
            r.json["error"] == "unavailable", \
            "a failed registration should be nginx's JSON 503: %r" % r
    assert len(failed) <= len(SOURCES), \
        "%d registrations failed; only those in flight at the kill may" % \
        len(failed)
    # (a request nginx had already handed to a kept-alive connection of
    # the victim in the instant of the kill may still fail: a registration
    # is never sent twice, so it is answered 503 and counted above)
    # Decided by order, not by the clock: a worker's first request after
    # the kill may still meet the dead instance; every later one may not.
    late = [results[i][1] for i in range(BURST) if after_kill[i] > 1]
    assert len(late) > 30 and all(
        not isinstance(r, Exception) and r.status == 201 for r in late), \
        "after the kill every registration should succeed through nginx"

    # Every 201 is a committed row with the status it was told.
    rows = dict((int(i), s) for i, s in pg.psql(
        "SELECT id, status FROM registrations WHERE event_id = %d" %
        ev["id"]))
    for b, j in created:
        assert rows.get(j["id"]) == j["status"], \
            "registration %r answered 201 %s but the database has %r" % (
                b["email"], j["status"], rows.get(j["id"]))
    confirmed = sum(1 for s in rows.values() if s == "confirmed")
    assert confirmed == SEATS, "%d confirmed for %d seats" % (confirmed,
                                                              SEATS)
    assert sum(1 for _, j in created if j["status"] == "confirmed") <= SEATS
    assert pg.scalar("SELECT confirmed FROM events WHERE id = %d" %
                     ev["id"]) == str(SEATS)

    # A registration whose answer was lost is either committed (409 on a
    # retry) or not (201 now): nothing is half-done.
    for b, r, _ in failed:
        again = n.call("POST", url, b, source="127.0.0.30")
        assert again.status in (201, 409), again
        if again.status == 409:
            assert again.json["error"] == "already_registered", again
    total = int(pg.scalar("SELECT count(*) FROM registrations WHERE "
                          "event_id = %d" % ev["id"]))
    assert total == BURST, "%d rows for %d distinct people" % (total, BURST)

    # nginx keeps answering with one instance gone
    for _ in range(10):
        expect(n.call("GET", "/healthz"), 200)

    # The daemons saw each client's own address through X-Forwarded-For.
    logs = "".join(d.log_text() for d in daemons[1:])
    seen = set(re.findall(r"(127\.0\.0\.\d+) registrations", logs))
    assert set(SOURCES) <= seen, \
        "the instances should log the client addresses %r, saw %r" % (
            SOURCES, seen)
    assert elapsed < 60, "the burst took %.1f s" % elapsed
    print("burst: %d registrations in %.1f s, %d lost in flight at the kill"
          % (BURST, elapsed, len(failed)))

    # Door check-in agrees through nginx and each surviving instance.
    door = issue("door", events=[ev["id"]])
    tickets = [j["ticket"]["token"] for _, j in created
               if j["status"] == "confirmed"]
    assert len(tickets) >= 2
    body = {"token": tickets[0], "gate": "nginx"}
    first = expect(n.call("POST", "/api/v1/checkins", body,
                          token=door["token"]), 200)
    assert first["result"] == "admitted", first
    for d in daemons[1:]:
        again = expect(d.api("POST", "/api/v1/checkins", {"token": tickets[0]},
                             token=door["token"]), 200)
        assert again["result"] == "already_checked_in" and \
            again["gate"] == "nginx", again
    direct = expect(daemons[2].api("POST", "/api/v1/checkins",
                                   {"token": tickets[1], "gate": "side"},
                                   token=door["token"]), 200)
    assert direct["result"] == "admitted", direct
    via = expect(n.call("POST", "/api/v1/checkins", {"token": tickets[1]},
                        token=door["token"]), 200)
    assert via["result"] == "already_checked_in" and via["gate"] == "side"


def test_nginx_limits_speak_json_and_match_the_server(cluster, create_event):
    n, daemons = cluster
    ev = create_event(meetup(capacity=10), status="published")
    url = "/api/v1/events/%d/registrations" % ev["id"]
    # over 64 KiB: nginx refuses it itself, in the API's JSON
    big = b'{"name": "' + b"x" * (65 * 1024) + b'"}'
    r = n.call("POST", url, raw=big,
               headers={"Content-Type": "application/json"})
    expect(r, 413, "body_too_large")
    # under it: the server answers (here: invalid JSON fields)
    r = n.call("POST", url, raw=b'{"name": "' + b"x" * (60 * 1024) + b'"}',
               headers={"Content-Type": "application/json"})
    assert r.status == 400 and r.json["error"] != "body_too_large", r
    # 60 registrations a minute from one address, burst included; the
    # POSTs here go to an unknown event, so they change nothing
    fresh_rate_window()     # the server's limit counts wall-clock minutes
    conn = n.connect("127.0.0.40")
    statuses = []
    for _ in range(70):
        statuses.append(n.call("POST", "/api/v1/events/999999999/"
                               "registrations", {}, conn=conn).status)
    conn.close()
    assert 429 not in statuses[:55], statuses
    assert statuses[-1] == 429, "no 429 after 70 registrations: %r" % statuses
    r = n.call("POST", "/api/v1/events/999999999/registrations", {},
               source="127.0.0.40")
    expect(r, 429, "rate_limited")
    assert r.headers.get("Retry-After"), r
    # another address is not limited by the first one's burst
    r = n.call("POST", "/api/v1/events/999999999/registrations", {},
               source="127.0.0.41")
    assert r.status != 429, r
    # /metrics is for the operator on the host (here: 127.0.0.1 is allowed)
    assert n.call("GET", "/metrics").status == 200
    r = n.call("GET", "/metrics", source="127.0.0.42")
    expect(r, 403, "forbidden")
    # the stylesheet comes straight from the templates
    css = n.call("GET", "/static/style.css")
    assert css.status == 200 and css.raw == \
        (__import__("support").REPO / "templates" / "style.css").read_bytes()
