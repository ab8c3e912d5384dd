#!/usr/bin/env python3
"""Helpers for tests/bench/bench.sh (standard library only).

  helper.py freeport                      print a free loopback TCP port
  helper.py wait BASE POOL SECS           poll BASE/healthz until 200 with
                                          POOL connections up, or fail
  helper.py seed BASE TOKEN               create and publish the public list
  helper.py get BASE PATH                 print the body of a GET (exit 1
                                          unless 200)
  helper.py statuses BASE ROUTE           print "status count" lines of
                                          /metrics for one route (once no
                                          other request is in flight)
  helper.py idle BASE PID N HOLD          open N keep-alive connections, one
                                          GET /healthz on each, keep them
                                          idle; report VmRSS of PID
  helper.py regevents BASE TOKEN          create and publish the events the
                                          registration bench uses; print
                                          "pgbench http rush" event ids
  helper.py register BASE EVENT EMAIL     one registration; print "status
                                          result" (exit 1 unless 201)
  helper.py ticketevents BASE TOKEN N     create and publish N meetups with
                                          room for 100,000 each (the
                                          check-in bench); print their ids
  helper.py door BASE TOKEN EVENT         a door token for EVENT; print
                                          "jti token"
  helper.py ticketreg BASE EVENT EMAIL    one registration through HTTP;
                                          print "secret token" (exit 1
                                          unless 201 confirmed with a
                                          ticket)
  helper.py scan BASE DOOR TOKEN          one check-in; print "status
                                          result"
  helper.py invalidation A B TOKEN N      N rounds: B caches an event, its
                                          title changes through A, B is
                                          polled until it shows it; then an
                                          event filled through A until B
                                          shows 0 seats left; print "max_ms
                                          median_ms fill_ms" (exit 1 on a
                                          failure or a wait over 5 s)
  helper.py cachehits BASE                print "hits misses" of the read
                                          cache (/metrics)
"""
import datetime
import json
import os
import re
import resource
import selectors
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def request(base, method, path, body=None, token=None, timeout=10):
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def cmd_freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_wait(base, pool, secs):
    deadline = time.monotonic() + float(secs)
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            st, body = request(base, "GET", "/healthz", timeout=2)
            if st == 200:
                up = json.loads(body).get("pool", {}).get("up", 0)
                if up >= int(pool):
                    return 0
                last = "pool %d/%s up" % (up, pool)
            else:
                last = "HTTP %d" % st
        except (OSError, ValueError) as e:
            last = str(e)
        time.sleep(0.1)
    print("helper: %s/healthz not ready after %ss: %s" % (base, secs, last),
          file=sys.stderr)
    return 1


def at(days, hhmm, tz_offset_h=8):
    """An ISO 8601 instant `days` from today at local hh:mm (UTC+8)."""
    tz = datetime.timezone(datetime.timedelta(hours=tz_offset_h))
    d = datetime.date.today() + datetime.timedelta(days=days)
    h, m = hhmm.split(":")
    return datetime.datetime(d.year, d.month, d.day, int(h), int(m),
                             tzinfo=tz).isoformat()


# Ten published, public, upcoming events: meetups of every format in
# several chapters, and community days. Plus two that must stay off the
# public list (a draft, a members-only meetup).
DESC = ("Talks by practitioners, then questions from the floor. Bring a "
        "laptop if you want to follow the hands-on parts; coffee and snacks "
        "are provided. Doors open thirty minutes before the start.")
PUBLIC = [
    ("meetup", "Shanghai Meetup: Observability in Practice", "Shanghai",
     "panel", "Innovation Hub, 88 Keyuan Road, Pudong, Shanghai", 3, 80),
    ("meetup", "Beijing Meetup: Kubernetes Operators Workshop", "Beijing",
     "workshop", "Zhongguancun Startup Street, Building 3, Beijing", 5, 40),
    ("meetup", "Shenzhen Meetup: Serverless Hands-on", "Shenzhen",
     "hands_on", "Nanshan Software Park, Tower B, Shenzhen", 8, 60),
    ("meetup", "Hangzhou Meetup: Data Lakes Panel", "Hangzhou",
     "panel", "West Lake Tech Center, 1 Wensan Road, Hangzhou", 12, 120),
    ("meetup", "Chengdu Meetup: Rust for Services", "Chengdu",
     "workshop", "Tianfu Software Park, Zone C, Chengdu", 15, 50),
    ("meetup", "Guangzhou Meetup: Edge Computing Lab", "Guangzhou",
     "hands_on", "Pazhou Innovation Center, Guangzhou", 19, 45),
    ("meetup", "Wuhan Meetup: Security in CI Pipelines", "Wuhan",
     "panel", "Optics Valley Library, Hall 2, Wuhan", 22, 100),
    ("community_day", "Community Day Beijing", "Beijing", None,
     "China National Convention Center, Hall 3, Beijing", 30, 300),
    ("community_day", "Community Day Shanghai", "Shanghai", None,
     "Shanghai Expo Center, Hall 5, Shanghai", 45, 500),
    ("community_day", "Community Day Shenzhen", "Shenzhen", None,
     "Shenzhen Convention Center, Hall 1, Shenzhen", 60, 400),
]


# Events name a chapter by its slug, and it must exist (docs/chapters.md):
# every chapter the benches use, made by ensure_chapters.
CHAPTERS = sorted({e[2] for e in PUBLIC} | {"Xi'an", "Shanghai", "Bench"})


def chapter_slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def ensure_chapters(base, token):
    """Create CHAPTERS (a chapter already there is fine)."""
    for name in CHAPTERS:
        st, body = request(base, "POST", "/api/v1/chapters", {
            "slug": chapter_slug(name), "name": name, "kind": "city",
            "city": name, "status": "active"}, token)
        if st not in (201, 409):
            raise SystemExit("helper: chapter %s: HTTP %d %s" %
                             (name, st, body[:300]))


def event_body(kind, title, chapter, fmt, venue, days, cap):
    start = "09:00" if kind == "community_day" else "14:00"
    end = "18:00"
    b = {
        "kind": kind, "title": title, "description": DESC,
        "chapter": chapter_slug(chapter), "venue": venue,
        "starts_at": at(days, start), "ends_at": at(days, end),
        "timezone": "Asia/Shanghai", "capacity": cap, "waitlist": True,
        "registration_opens_at": at(-1, "10:00"),
        "registration_closes_at": at(days - 1, "23:00"),
    }
    if fmt:
        b["format"] = fmt
    return b


def cmd_seed(base, token):
    ensure_chapters(base, token)
    def must(st, body, what, want):
        if st != want:
            raise SystemExit("helper: seed: %s: HTTP %d %s" %
                             (what, st, body[:300]))
        return json.loads(body)

    for e in PUBLIC:
        st, body = request(base, "POST", "/api/v1/events", event_body(*e),
                           token)
        ev = must(st, body, "create " + e[1], 201)
        st, body = request(base, "PATCH", "/api/v1/events/%d" % ev["id"],
                           {"status": "published"}, token)
        must(st, body, "publish " + e[1], 200)
    # Off the public list: a draft and a members-only meetup.
    st, body = request(base, "POST", "/api/v1/events", event_body(
        "meetup", "Draft: Xi'an Meetup", "Xi'an", "panel",
        "Software New Town, Xi'an", 40, 80), token)
    must(st, body, "create draft", 201)
    b = event_body("meetup", "Members: Architecture Review", "Shanghai",
                   "workshop", "Innovation Hub, Shanghai", 9, 20)
    b["members_only"] = True
    st, body = request(base, "POST", "/api/v1/events", b, token)
    ev = must(st, body, "create members-only", 201)
    st, body = request(base, "PATCH", "/api/v1/events/%d" % ev["id"],
                       {"status": "published"}, token)
    must(st, body, "publish members-only", 200)
    st, body = request(base, "GET", "/api/v1/events")
    n = len(must(st, body, "list", 200)["events"])
    if n != len(PUBLIC):
        raise SystemExit("helper: seed: the public list has %d events, "
                         "expected %d" % (n, len(PUBLIC)))
    print(n)
    return 0


def cmd_get(base, path):
    st, body = request(base, "GET", path)
    sys.stdout.buffer.write(body)
    return 0 if st == 200 else 1


def cmd_statuses(base, route):
    # wrk stops with requests still in flight (their statements running):
    # wait up to 10 s until only this /metrics request is, so the counts
    # cover every request the run sent.
    deadline = time.monotonic() + 10
    while True:
        st, body = request(base, "GET", "/metrics")
        if st != 200:
            print("helper: /metrics: HTTP %d" % st, file=sys.stderr)
            return 1
        m = re.search(rb"^rollcall_http_inflight (\d+)$", body, re.M)
        if m is None or int(m.group(1)) <= 1 or \
                time.monotonic() > deadline:
            break
        time.sleep(0.05)
    pat = re.compile(r'^rollcall_http_requests_total\{route="%s",'
                     r'status="([^"]+)"\} (\d+)$' % re.escape(route))
    for line in body.decode().splitlines():
        m = pat.match(line)
        if m:
            print(m.group(1), m.group(2))
    for line in body.decode().splitlines():
        if line.startswith("rollcall_db_errors_total "):
            print("db_errors", line.split()[1])
    return 0


def vmrss_kb(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("helper: no VmRSS for pid %s" % pid)


def read_reply(sock, buf):
    """Read one HTTP/1.1 reply from a blocking socket; return status."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for h in lines[1:]:
        k, _, v = h.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
        if k.strip().lower() == "connection" and "close" in v.lower():
            raise ConnectionError("server asked to close")
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        rest += chunk
    return status


def cmd_idle(base, pid, n, hold):
    n = int(n)
    hold = float(hold)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(want, hard) if hard != resource.RLIM_INFINITY
                            else want, hard))
    u = urllib.parse.urlsplit(base)
    addr = (u.hostname, u.port)
    before = vmrss_kb(pid)
    t0 = time.monotonic()
    socks = []
    for i in range(n):
        s = socket.create_connection(addr, timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    req = ("GET /healthz HTTP/1.1\r\nHost: %s:%d\r\n"
           "Connection: keep-alive\r\n\r\n" % addr).encode()
    for s in socks:
        s.sendall(req)
    ok = bad = 0
    for s in socks:
        try:
            if read_reply(s, b"") == 200:
                ok += 1
            else:
                bad += 1
        except (OSError, ConnectionError, ValueError):
            bad += 1
    t_open = time.monotonic() - t0
    time.sleep(hold)
    # Still open? A closed peer makes a non-blocking recv return b"".
    alive = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) != b"":
                alive += 1   # unexpected bytes, but open
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    after = vmrss_kb(pid)
    print("before_kb=%d after_kb=%d ok=%d bad=%d alive=%d open_secs=%.2f"
          % (before, after, ok, bad, alive, t_open))
    for s in socks:
        s.close()
    return 0


# The body a browser sends to POST /api/v1/events/{id}/registrations; the
# pgbench script and tests/bench/register.lua build the same shape.
def reg_body(email):
    return {"name": "Bench Attendee", "email": email,
            "company": "Bench Co", "job_title": "Engineer",
            "identity": "professional",
            "consent": {"sponsors": True, "fields": ["email", "job_title"]}}


def cmd_regevents(base, token):
    """Three published events: two with room for everyone (pgbench's and
    the HTTP run's, so neither sees the other's e-mails), and the 300-seat
    community day of the opening rush (waitlist on)."""
    ensure_chapters(base, token)
    ids = []
    for kind, title, cap in (
            ("meetup", "Bench: registrations through pgbench", 1000000),
            ("meetup", "Bench: registrations through HTTP", 1000000),
            ("community_day", "Community Day Opening Rush", 300)):
        b = event_body(kind, title, "Shanghai",
                       "panel" if kind == "meetup" else None,
                       "Shanghai Expo Center, Hall 2, Shanghai", 20, cap)
        st, body = request(base, "POST", "/api/v1/events", b, token)
        if st != 201:
            raise SystemExit("helper: regevents: create %s: HTTP %d %s" %
                             (title, st, body[:300]))
        eid = json.loads(body)["id"]
        st, body = request(base, "PATCH", "/api/v1/events/%d" % eid,
                           {"status": "published"}, token)
        if st != 200:
            raise SystemExit("helper: regevents: publish %s: HTTP %d %s" %
                             (title, st, body[:300]))
        ids.append(str(eid))
    print(" ".join(ids))
    return 0


def cmd_register(base, event, email):
    st, body = request(base, "POST", "/api/v1/events/%s/registrations" %
                       event, reg_body(email))
    try:
        o = json.loads(body)
    except ValueError:
        o = {}
    print(st, o.get("status") or o.get("error") or "-")
    return 0 if st == 201 else 1


def cmd_ticketevents(base, token, n):
    ensure_chapters(base, token)
    ids = []
    for i in range(int(n)):
        b = event_body("meetup", "Bench: check-in %d" % (i + 1), "Shanghai",
                       "panel", "Innovation Hub, 88 Keyuan Road, Shanghai",
                       20, 100000)
        st, body = request(base, "POST", "/api/v1/events", b, token)
        if st != 201:
            raise SystemExit("helper: ticketevents: create: HTTP %d %s" %
                             (st, body[:300]))
        eid = json.loads(body)["id"]
        st, body = request(base, "PATCH", "/api/v1/events/%d" % eid,
                           {"status": "published"}, token)
        if st != 200:
            raise SystemExit("helper: ticketevents: publish: HTTP %d %s" %
                             (st, body[:300]))
        ids.append(str(eid))
    print(" ".join(ids))
    return 0


def cmd_door(base, token, event):
    st, body = request(base, "POST", "/api/v1/tokens",
                       {"role": "door", "name": "bench door %s" % event,
                        "events": [int(event)]}, token)
    if st != 201:
        raise SystemExit("helper: door: HTTP %d %s" % (st, body[:300]))
    o = json.loads(body)
    print(o["jti"], o["token"])
    return 0


def cmd_ticketreg(base, event, email):
    """The manage secret comes from manage_url; ticket.png_url should
    carry the same secret (reported on stderr when it does not)."""
    st, body = request(base, "POST", "/api/v1/events/%s/registrations" %
                       event, reg_body(email))
    try:
        o = json.loads(body)
    except ValueError:
        o = {}
    if st != 201 or o.get("status") != "confirmed" or \
            not isinstance(o.get("ticket"), dict):
        print("helper: ticketreg: HTTP %d %s" % (st, body[:300]),
              file=sys.stderr)
        return 1
    secret = o.get("manage_url", "").rsplit("/", 1)[-1]
    png = o["ticket"].get("png_url", "")
    if "/registrations/%s/ticket.png" % secret not in png:
        print("helper: ticketreg: ticket.png_url %r does not carry the "
              "manage secret of manage_url" % png, file=sys.stderr)
    print(secret, o["ticket"]["token"])
    return 0


def cmd_scan(base, door, tok):
    st, body = request(base, "POST", "/api/v1/checkins", {"token": tok,
                       "gate": "bench"}, door)
    try:
        o = json.loads(body)
    except ValueError:
        o = {}
    print(st, o.get("result") or o.get("error") or "-")
    return 0 if st == 200 else 1


def poll_until(base, path, pred, limit=5.0):
    """GET path until pred(json) holds; milliseconds it took, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        st, body = request(base, "GET", path)
        if st == 200 and pred(json.loads(body)):
            return (time.monotonic() - t0) * 1000
        time.sleep(0.002)
    return None


def cmd_invalidation(a, b, token, n):
    ensure_chapters(a, token)
    st, body = request(a, "POST", "/api/v1/events", event_body(
        "meetup", "Invalidation", "Bench", "panel", "Hall 1", 30, 5), token)
    if st != 201:
        print("helper: create: HTTP %d %r" % (st, body[:200]), file=sys.stderr)
        return 1
    ev = json.loads(body)["id"]
    path = "/api/v1/events/%d" % ev
    request(a, "PATCH", path, {"status": "published"}, token)
    took = []
    for i in range(int(n)):
        title = "Invalidation round %d %d" % (i, time.monotonic_ns())
        request(b, "GET", path)
        request(b, "GET", path)         # the second from B's cache
        st, _ = request(a, "PATCH", path, {"title": title}, token)
        if st != 200:
            print("helper: PATCH: HTTP %d" % st, file=sys.stderr)
            return 1
        ms = poll_until(b, path, lambda j: j.get("title") == title)
        if ms is None:
            print("helper: B never showed round %d's title" % i,
                  file=sys.stderr)
            return 1
        took.append(ms)
    request(b, "GET", path)
    for i in range(5):
        st, _ = request(a, "POST", path + "/registrations", reg_body(
            "fill-%d-%d@example.com" % (i, time.monotonic_ns())))
        if st != 201:
            print("helper: register: HTTP %d" % st, file=sys.stderr)
            return 1
    fill = poll_until(b, path, lambda j: j.get("seats_left") == 0)
    # Off the public list again: the bench's later lines read that list.
    request(a, "PATCH", path, {"status": "cancelled"}, token)
    if fill is None:
        print("helper: B never showed the event full", file=sys.stderr)
        return 1
    took.sort()
    print("%.1f %.1f %.1f" % (took[-1], took[len(took) // 2], fill))
    return 0


def cmd_cachehits(base):
    st, body = request(base, "GET", "/metrics")
    text = body.decode()
    got = [re.search(r'^rollcall_cache_requests_total\{result="%s"\} (\d+)$'
                     % k, text, re.M) for k in ("hit", "miss")]
    print(" ".join(m.group(1) if m else "0" for m in got))
    return 0 if st == 200 else 1


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    fn = {"freeport": cmd_freeport, "wait": cmd_wait, "seed": cmd_seed,
          "get": cmd_get, "statuses": cmd_statuses, "idle": cmd_idle,
          "regevents": cmd_regevents, "register": cmd_register,
          "ticketevents": cmd_ticketevents,
          "door": cmd_door, "ticketreg": cmd_ticketreg,
          "scan": cmd_scan, "invalidation": cmd_invalidation,
          "cachehits": cmd_cachehits}.get(cmd)
    if fn is None:
        print(__doc__, file=sys.stderr)
        return 2
    return fn(*args) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
