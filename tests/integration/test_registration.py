"""Registration (SPEC §3, §6): exact capacity across server processes, the
waitlist and its promotion, duplicates, windows, manage secrets, consent
and its history, the organizer's list, and the per-client rate limit."""
import hashlib
import http.client
import json
import subprocess
import threading

import pytest

from support import (DROP, _apply, at, expect, expect_field_error,
                     fresh_rate_window, meetup, migrate, uniq, wait_until)


def person(**over):
    return _apply({
        "name": "Li Lei", "email": uniq("li") + "@example.com",
        "company": "Example Co", "job_title": "Engineer",
        "identity": "professional",
    }, over)


def secret_of(reg):
    return reg["manage_url"].rsplit("/", 1)[1]


def register(api, event_id, **over):
    return api("POST", "/api/v1/events/%d/registrations" % event_id,
               person(**over))


def reg_count(pg, event_id):
    return int(pg.scalar("SELECT count(*) FROM registrations WHERE "
                         "event_id = %d" % event_id))


def concurrent_register(ports, event_id, n):
    """n registrations released at once, spread over the given ports."""
    out = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        body = json.dumps(person(name="P%d" % i,
                                 email="p%d-%s@example.com" % (i, event_id)))
        c = http.client.HTTPConnection("127.0.0.1", ports[i % len(ports)],
                                       timeout=60)
        try:
            barrier.wait()
            c.request("POST", "/api/v1/events/%d/registrations" % event_id,
                      body, {"Content-Type": "application/json"})
            r = c.getresponse()
            out[i] = (r.status, json.loads(r.read()))
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_capacity_is_exact_across_two_daemons_and_cancellations_promote(
        server, start_daemon, pg, create_event, api):
    other = start_daemon(pg.conninfo)
    ev = create_event(meetup(capacity=40), status="published")
    out = concurrent_register([server.port, other.port], ev["id"], 400)
    statuses = [s for s, _ in out]
    assert statuses.count(201) == 400, \
        "every registration should be answered 201; got %r" % sorted(
            set((s, j.get("error")) for s, j in out if s != 201))
    confirmed = [j for _, j in out if j["status"] == "confirmed"]
    waitlisted = [j for _, j in out if j["status"] == "waitlisted"]
    assert (len(confirmed), len(waitlisted)) == (40, 360), \
        "400 registrations for 40 seats through two daemons gave %d " \
        "confirmed and %d waitlisted" % (len(confirmed), len(waitlisted))
    db = dict(pg.psql("SELECT status, count(*) FROM registrations WHERE "
                      "event_id = %d GROUP BY status" % ev["id"]))
    assert db == {"confirmed": "40", "waitlisted": "360"}, \
        "the database disagrees with the answers: %r" % db
    assert pg.scalar("SELECT confirmed FROM events WHERE id = %d"
                     % ev["id"]) == "40"

    oldest = [r[0] for r in pg.psql(
        "SELECT id FROM registrations WHERE event_id = %d AND status = "
        "'waitlisted' ORDER BY id LIMIT 10" % ev["id"])]
    for reg in confirmed[:10]:
        expect(api("DELETE", "/api/v1/registrations/" + secret_of(reg)), 200)
    promoted = [r[0] for r in pg.psql(
        "SELECT id FROM registrations WHERE event_id = %d AND promoted_at "
        "IS NOT NULL ORDER BY id" % ev["id"])]
    assert promoted == oldest, \
        "10 cancellations should promote the 10 oldest waitlisted " \
        "(%r), promoted %r" % (oldest, promoted)
    db = dict(pg.psql("SELECT status, count(*) FROM registrations WHERE "
                      "event_id = %d GROUP BY status" % ev["id"]))
    assert db == {"confirmed": "40", "waitlisted": "350",
                  "cancelled": "10"}, "after 10 cancellations: %r" % db


def test_sold_out_without_waitlist_is_refused_and_writes_nothing(
        api, create_event, pg):
    ev = create_event(meetup(capacity=1, waitlist=False), status="published")
    expect(register(api, ev["id"]), 201)
    before = reg_count(pg, ev["id"])
    expect(register(api, ev["id"]), 409, "sold_out")
    assert reg_count(pg, ev["id"]) == before


def test_duplicate_email_in_another_case_reveals_nothing(
        api, create_event, pg):
    ev = create_event(status="published")
    email = uniq("Wang.Fang") + "@Example.COM"
    first = expect(register(api, ev["id"], email=email, name="Wang Fang"),
                   201)
    before = reg_count(pg, ev["id"])
    r = register(api, ev["id"], email=email.lower(), name="Someone Else")
    j = expect(r, 409, "already_registered")
    assert set(j) == {"error", "message"}, \
        "the refusal must reveal nothing about the first registration: %r" % r
    assert "Wang" not in r.raw.decode() and str(first["id"]) not in \
        r.raw.decode(), "the refusal leaks the first registration: %r" % r
    assert reg_count(pg, ev["id"]) == before


def test_cancelled_registration_frees_the_email(api, create_event):
    ev = create_event(status="published")
    email = uniq("x") + "@example.com"
    reg = expect(register(api, ev["id"], email=email), 201)
    expect(api("DELETE", "/api/v1/registrations/" + secret_of(reg)), 200)
    expect(register(api, ev["id"], email=email), 201)


@pytest.mark.parametrize("window,code", [
    ({"registration_opens_at": at(10, 9)}, "registration_closed"),
    ({"registration_opens_at": at(-10, 9),
      "registration_closes_at": at(-1, 9)}, "registration_closed"),
])
def test_registration_outside_its_window_is_refused(
        api, create_event, pg, window, code):
    ev = create_event(meetup(**window), status="published")
    expect(register(api, ev["id"]), 409, code)
    assert reg_count(pg, ev["id"]) == 0


def test_cancelled_and_draft_events_refuse_registration(
        api, create_event, pg):
    cancelled = create_event(status="cancelled")
    expect(register(api, cancelled["id"]), 409, "event_cancelled")
    draft = create_event()
    expect(register(api, draft["id"]), 404, "not_found")
    expect(register(api, 999999999), 404, "not_found")
    assert reg_count(pg, cancelled["id"]) + reg_count(pg, draft["id"]) == 0


INVALID = [
    ("name", {"name": DROP}),
    ("name", {"name": "   "}),
    ("name", {"name": "x" * 201}),
    ("name", {"name": 42}),
    ("name", {"name": "bell\u0007"}),
    ("email", {"email": DROP}),
    ("email", {"email": "not-an-email"}),
    ("email", {"email": "a b@example.com"}),
    ("email", {"email": "a@localhost"}),
    ("email", {"email": "x" * 250 + "@example.com"}),
    ("company", {"company": DROP}),
    ("job_title", {"job_title": ""}),
    ("phone", {"phone": "call me maybe"}),
    ("phone", {"phone": 13800138000}),
    ("identity", {"identity": "ceo"}),
    ("identity", {"identity": DROP}),
    ("consent", {"consent": True}),
    ("consent", {"consent": {"sponsors": "yes"}}),
    ("consent", {"consent": {"sponsors": True, "fields": ["address"]}}),
    ("consent", {"consent": {"sponsors": True, "fields": ["email", "email"]}}),
    ("consent", {"consent": {"sponsors": True, "fields": "email"}}),
    ("consent", {"consent": {"sponsors": True, "extra": 1}}),
    ("ticket", {"ticket": "free please"}),
]


@pytest.mark.parametrize("field,over", INVALID,
                         ids=["%s-%d" % (f, i) for i, (f, _) in
                              enumerate(INVALID)])
def test_invalid_registration_names_the_field_and_writes_nothing(
        api, create_event, pg, field, over):
    ev = _shared_event(create_event)
    before = reg_count(pg, ev)
    expect_field_error(register(api, ev, **over), field)
    assert reg_count(pg, ev) == before, "a refused registration wrote a row"


@pytest.mark.parametrize("raw", [b"{", b"[]", b"\"x\"", b"{\"name\": \"\xff\"}",
                                 b"{\"name\": \"a\", \"name\": \"b\"}"])
def test_malformed_registration_body_is_400(api, create_event, pg, raw):
    ev = _shared_event(create_event)
    before = reg_count(pg, ev)
    expect(api("POST", "/api/v1/events/%d/registrations" % ev, raw=raw), 400)
    assert reg_count(pg, ev) == before


_event_cache = {}


def _shared_event(create_event):
    if "id" not in _event_cache:
        _event_cache["id"] = create_event(status="published")["id"]
    return _event_cache["id"]


def test_consent_defaults_off_and_changes_are_recorded(api, create_event, pg):
    ev = create_event(status="published")
    reg = expect(register(api, ev["id"]), 201)
    secret = secret_of(reg)
    mine = expect(api("GET", "/api/v1/registrations/" + secret), 200)
    assert mine["consent"]["sponsors"] is False and \
        mine["consent"]["fields"] == [], \
        "consent must default to off: %r" % mine["consent"]

    # Fields without sharing mean nothing and are not kept.
    reg2 = expect(register(api, ev["id"], consent={"fields": ["email"]}), 201)
    r2 = expect(api("GET", "/api/v1/registrations/" + secret_of(reg2)), 200)
    assert r2["consent"] == {**r2["consent"], "sponsors": False, "fields": []}

    got = expect(api("PATCH", "/api/v1/registrations/" + secret,
                     {"consent": {"sponsors": True,
                                  "fields": ["email", "job_title"]}}), 200)
    assert got["consent"]["sponsors"] is True and \
        sorted(got["consent"]["fields"]) == ["email", "job_title"]
    expect(api("PATCH", "/api/v1/registrations/" + secret,
               {"consent": {"sponsors": False}}), 200)
    history = pg.psql("SELECT sponsors, array_to_string(fields, ','), source "
                      "FROM consent_history WHERE registration_id = %d "
                      "ORDER BY id" % reg["id"])
    assert history == [["f", "", "registration"],
                       ["t", "email,job_title", "attendee"],
                       ["f", "", "attendee"]], \
        "consent history should keep every change: %r" % history
    audited = pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                        "'consent.change' AND detail->>'registration' = '%d'"
                        % reg["id"])
    assert audited == "2"


def test_the_consent_given_at_registration_stays_on_record_after_erasure(
        api, create_event, pg):
    # Registering keeps the consent on the registration itself; it must
    # still reach the history, as given and when, once erasure blanks it.
    ev = create_event(status="published")
    reg = expect(register(api, ev["id"], consent={"sponsors": True,
                                                  "fields": ["email"]}), 201)
    created = pg.scalar("SELECT created_at FROM registrations WHERE id = %d"
                        % reg["id"])
    expect(api("POST", "/api/v1/registrations/%s/erase"
               % secret_of(reg)), 200)
    history = pg.psql("SELECT sponsors, array_to_string(fields, ','), "
                      "source, at FROM consent_history WHERE "
                      "registration_id = %d ORDER BY id" % reg["id"])
    assert history == [["t", "email", "registration", created]], \
        "erasure lost the consent given at registration (want one row " \
        "t/email/registration at %s): %r" % (created, history)


def test_patch_changes_only_consent(api, create_event):
    ev = create_event(status="published")
    secret = secret_of(expect(register(api, ev["id"]), 201))
    expect_field_error(api("PATCH", "/api/v1/registrations/" + secret,
                           {"name": "Mallory"}), "name")


def test_manage_secret_is_long_random_and_stored_only_hashed(
        api, create_event, pg):
    ev = create_event(status="published")
    reg = expect(register(api, ev["id"]), 201)
    secret = secret_of(reg)
    assert len(secret) >= 22 and all(
        c.isalnum() or c in "-_" for c in secret), \
        "manage secret %r is not >= 128 bits of URL-safe text" % secret
    stored = pg.scalar("SELECT encode(secret_hash, 'hex') FROM registrations "
                       "WHERE id = %d" % reg["id"])
    assert stored == hashlib.sha256(secret.encode()).hexdigest(), \
        "the database should keep SHA-256 of the secret, found %r" % stored
    dump = pg.scalar("SELECT count(*) FROM registrations r WHERE "
                     "r::text LIKE '%%%s%%'" % secret)
    assert dump == "0", "the manage secret is stored in the clear"


def test_registration_answer_and_manage_views(api, create_event):
    ev = create_event(meetup(capacity=1), status="published")
    a = expect(register(api, ev["id"], name="Han Meimei"), 201)
    b = expect(register(api, ev["id"]), 201)
    assert a["status"] == "confirmed" and b["status"] == "waitlisted"
    assert b["waitlist_position"] == 1
    for r in (a, b):
        assert r["manage_url"].startswith("http") and isinstance(r["id"], int)
    r = api("GET", "/api/v1/registrations/" + secret_of(a))
    mine = expect(r, 200)
    assert mine["name"] == "Han Meimei" and mine["event"]["id"] == ev["id"]
    assert r.headers.get("Cache-Control") == "no-store"
    assert r.headers.get("Referrer-Policy") == "no-referrer"
    # Cancelling the confirmed one promotes the waitlisted one.
    gone = expect(api("DELETE", "/api/v1/registrations/" + secret_of(a)), 200)
    assert gone["status"] == "cancelled"
    again = expect(api("DELETE", "/api/v1/registrations/" + secret_of(a)), 200)
    assert again["status"] == "cancelled", "cancel should be idempotent"
    now = expect(api("GET", "/api/v1/registrations/" + secret_of(b)), 200)
    assert now["status"] == "confirmed", \
        "the waitlisted registration should have been promoted: %r" % now


@pytest.mark.parametrize("secret", [
    "A" * 43, "short", "A" * 44, "A" * 42 + "!", "%00" + "A" * 40])
def test_unknown_or_malformed_secret_is_404(api, secret):
    for method in ("GET", "DELETE"):
        expect(api(method, "/api/v1/registrations/" + secret), 404)
    expect(api("PATCH", "/api/v1/registrations/" + secret,
               {"consent": {"sponsors": True}}), 404)


def test_raising_capacity_promotes_the_waitlist(api, admin_token, create_event,
                                                pg):
    ev = create_event(meetup(capacity=1), status="published")
    regs = [expect(register(api, ev["id"]), 201) for _ in range(4)]
    assert [r["status"] for r in regs] == ["confirmed"] + ["waitlisted"] * 3
    got = expect(api("PATCH", "/api/v1/events/%d" % ev["id"],
                     {"capacity": 3}, token=admin_token), 200)
    assert got["seats_left"] == 0 and got["confirmed"] == 3, got
    expect(api("PATCH", "/api/v1/events/%d" % ev["id"], {"capacity": 2},
               token=admin_token), 409, "capacity_below_confirmed")


def test_the_waitlist_count_follows_every_way_off_the_waitlist(
        api, admin_token, create_event, pg):
    """events.waitlisted (028) is what a new registration's waitlist
    position is read from: every way off the waitlist must take one off,
    or later registrants are told the wrong place."""
    ev = create_event(meetup(capacity=1), status="published")

    def check(step):
        kept, real = pg.scalar(
            "SELECT waitlisted || ' ' || (SELECT count(*) FROM registrations "
            "WHERE event_id = %d AND status = 'waitlisted') FROM events "
            "WHERE id = %d" % (ev["id"], ev["id"])).split()
        assert kept == real, ("after %s the event's row says %s waitlisted, "
                              "the registrations %s" % (step, kept, real))
        return int(real)

    a = expect(register(api, ev["id"]), 201)
    w = [expect(register(api, ev["id"]), 201) for _ in range(5)]
    assert [r["waitlist_position"] for r in w] == [1, 2, 3, 4, 5], \
        [r.get("waitlist_position") for r in w]
    assert check("five registrations onto the waitlist") == 5
    expect(api("DELETE", "/api/v1/registrations/" + secret_of(w[1])), 200)
    assert check("a waitlisted attendee cancelling") == 4
    expect(api("DELETE", "/api/v1/registrations/" + secret_of(a)), 200)
    assert check("a cancellation promoting the first waitlisted") == 3
    expect(api("POST", "/api/v1/registrations/%s/erase" % secret_of(w[3]),
               {}), 200)
    assert check("a waitlisted attendee erasing their data") == 2
    pg.psql("SELECT rc_console_cancel(%d, %d, 'test')" % (ev["id"], w[4]["id"]))
    assert check("the console cancelling a waitlisted registration") == 1
    late = expect(register(api, ev["id"]), 201)
    assert late["waitlist_position"] == 2, \
        "one left ahead, so the next is second: %r" % late
    expect(api("PATCH", "/api/v1/events/%d" % ev["id"], {"capacity": 3},
               token=admin_token), 200)
    assert check("raising the capacity") == 0


def test_migrate_corrects_a_waitlist_count_that_drifted(
        rollcalld_bin, api, create_event, pg):
    """An upgrade runs the old function bodies beside the new column for a
    moment; `rollcalld migrate` recounts under each event's row lock."""
    ev = create_event(meetup(capacity=1), status="published")
    for _ in range(3):
        expect(register(api, ev["id"]), 201)
    pg.psql("UPDATE events SET waitlisted = 7 WHERE id = %d" % ev["id"])
    migrate(rollcalld_bin, pg.conninfo, chapters=False)
    assert pg.scalar("SELECT waitlisted FROM events WHERE id = %d"
                     % ev["id"]) == "2", \
        "rollcalld migrate left the drifted count (7, two are waitlisted)"
    nxt = expect(register(api, ev["id"]), 201)
    assert nxt["waitlist_position"] == 3, nxt


def test_organizer_list_pages_and_filters(api, admin_token, create_event,
                                          issue):
    ev = create_event(meetup(capacity=3), status="published")
    for i in range(5):
        expect(register(api, ev["id"], name="R%d" % i), 201)
    path = "/api/v1/events/%d/registrations" % ev["id"]
    full = expect(api("GET", path, token=admin_token), 200)
    assert full["counts"] == {"confirmed": 3, "waitlisted": 2,
                              "cancelled": 0}
    assert [r["name"] for r in full["registrations"]] == \
        ["R%d" % i for i in range(5)]
    page = expect(api("GET", path + "?limit=2&offset=2", token=admin_token),
                  200)
    assert [r["name"] for r in page["registrations"]] == ["R2", "R3"]
    wl = expect(api("GET", path + "?status=waitlisted", token=admin_token),
                200)
    assert [r["name"] for r in wl["registrations"]] == ["R3", "R4"]
    for q in ("?status=gone", "?limit=0", "?limit=501", "?offset=-1",
              "?limit=abc"):
        expect(api("GET", path + q, token=admin_token), 400)
    detail = expect(api("GET", "/api/v1/events/%d" % ev["id"],
                        token=admin_token), 200)
    assert detail["counts"]["waitlisted"] == 2
    public = expect(api("GET", "/api/v1/events/%d" % ev["id"]), 200)
    assert "counts" not in public and "confirmed" not in public

    org = issue("organizer", events=[ev["id"]])["token"]
    expect(api("GET", path, token=org), 200)
    other = issue("organizer", events=[create_event()["id"]])["token"]
    expect(api("GET", path, token=other), 403, "out_of_scope")
    door = issue("door", events=[ev["id"]])["token"]
    expect(api("GET", path, token=door), 403)
    expect(api("GET", path), 401)


def test_rate_limit_answers_429_with_retry_after(start_daemon, pg,
                                                 create_event):
    d = start_daemon(pg.conninfo, ["--rate-limit", "3"])
    ev = create_event(status="published")
    fresh_rate_window()
    for _ in range(3):
        expect(d.api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                     person()), 201)
    r = d.api("POST", "/api/v1/events/%d/registrations" % ev["id"], person())
    expect(r, 429, "rate_limited")
    retry = int(r.headers.get("Retry-After", "0"))
    assert 1 <= retry <= 60, "Retry-After should be 1-60 s: %r" % r.headers


def metric(d, name):
    for line in d.api("GET", "/metrics").raw.decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise AssertionError("/metrics has no %s" % name)


def test_grouped_registrations_stay_exact_across_two_daemons(
        server, start_daemon, pg, create_event):
    """Registrations that arrive together are decided in one statement
    (rc_register_group): two events in the same groups, a sold-out one
    without a waitlist, twins of one address landing in one group or in
    two daemons' groups at once. Every seat is taken exactly once, every
    address registered once, and the counter agrees with the rows."""
    other = start_daemon(pg.conninfo)
    daemons = [server, other]
    wl = create_event(meetup(capacity=30), status="published")
    so = create_event(meetup(capacity=25, waitlist=False), status="published")
    before = sum(metric(d, "rollcall_registration_grouped_total")
                 for d in daemons)
    groups_before = sum(metric(d, "rollcall_registration_groups_total")
                        for d in daemons)
    n = 320
    plan = []                       # (event, email) per request
    for i in range(n):
        if i % 2:
            plan.append((so["id"], "so%d-%s@example.com" % (i, so["id"])))
        else:
            # every address twice on the waitlisted event: i and i + 2
            k = i // 4
            plan.append((wl["id"], "twin%d-%s@example.com" % (k, wl["id"])))
    out = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        ev, email = plan[i]
        body = json.dumps(person(name="P%d" % i, email=email))
        k = i // 4
        # a third of the twins through one daemon, the rest through both
        d = daemons[k % 2 if ev == wl["id"] and k % 3 == 0 else (i // 2) % 2]
        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
        try:
            barrier.wait()
            c.request("POST", "/api/v1/events/%d/registrations" % ev, body,
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            out[i] = (r.status, json.loads(r.read()))
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    wl_out = [out[i] for i in range(n) if plan[i][0] == wl["id"]]
    so_out = [out[i] for i in range(n) if plan[i][0] == so["id"]]
    got = sorted(set((s, j.get("error", j.get("status"))) for s, j in wl_out))
    assert got == [(201, "confirmed"), (201, "waitlisted"),
                   (409, "already_registered")], \
        "the waitlisted event's replies were %r" % got
    assert sum(1 for s, j in wl_out if s == 201) == n // 4, \
        "each of %d addresses (sent twice) should be registered once" % (n // 4)
    assert sum(1 for s, j in wl_out
               if s == 201 and j["status"] == "confirmed") == 30, \
        "30 seats: exactly 30 confirmed replies"
    assert sorted(set((s, j.get("error", j.get("status")))
                      for s, j in so_out)) == [(201, "confirmed"),
                                               (409, "sold_out")]
    assert sum(1 for s, _ in so_out if s == 201) == 25, \
        "25 seats and no waitlist: exactly 25 registered"
    for ev, seats in ((wl["id"], 30), (so["id"], 25)):
        row = pg.psql("SELECT (SELECT confirmed FROM events WHERE id = %d), "
                      "count(*) FILTER (WHERE status = 'confirmed'), "
                      "count(DISTINCT lower(email)) = count(*) "
                      "FROM registrations WHERE event_id = %d" % (ev, ev))[0]
        assert row == [str(seats), str(seats), "t"], \
            "event %d: counter, confirmed rows, one row per address: %r" % (
                ev, row)
    # the mechanism did run: every request went through a group, and
    # groups carried more than one registration each on average
    carried = sum(metric(d, "rollcall_registration_grouped_total")
                  for d in daemons) - before
    groups = sum(metric(d, "rollcall_registration_groups_total")
                 for d in daemons) - groups_before
    assert carried == n, "%d of %d registrations went through a group" % (
        carried, n)
    assert groups < carried, \
        "%d registrations arriving together took %d statements" % (
            carried, groups)


def test_an_event_held_in_the_database_holds_up_only_its_own_registrations(
        pg, start_daemon, create_event):
    """A group never goes to the database while another of the server's
    groups has one of its events: those registrations wait in the server,
    in arrival order, and go together once that group is back. Others'
    registrations go meanwhile. Here event A's row is held by another
    session: the first registration for A waits on the lock, the next five
    wait in the server (more than the groups that may be out at once, so
    sending each as its own group would leave none for B), B's is answered
    at once, and when A's row is free A's six are confirmed in the order
    they came, the five in one statement."""
    d = start_daemon(pg.conninfo)
    a = create_event(meetup(capacity=10), status="published")
    b = create_event(meetup(capacity=10), status="published")
    groups_before = metric(d, "rollcall_registration_groups_total")
    locker = subprocess.Popen(
        ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d",
         pg.conninfo], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    answers = {}
    threads = []

    def call(k, ev):
        answers[k] = d.api("POST", "/api/v1/events/%d/registrations" % ev,
                           person(email="held%d-%d@example.com" % (k, ev)),
                           timeout=60)

    def send(k):
        threads.append(threading.Thread(target=call, args=(k, a["id"])))
        threads[-1].start()

    try:
        locker.stdin.write("BEGIN;\nSELECT id FROM events WHERE id = %d "
                           "FOR UPDATE;\n" % a["id"])
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == str(a["id"])
        send(0)
        wait_until(lambda: pg.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
            "'rollcalld' AND wait_event_type = 'Lock'") == "1", 10,
            "the first registration for A to wait on A's row")
        for k in range(1, 6):
            send(k)
            wait_until(lambda: metric(d, "rollcall_registration_waiting")
                       == k, 10, "registration %d for A to wait in the "
                       "server, its event busy" % k)
        r = d.api("POST", "/api/v1/events/%d/registrations" % b["id"],
                  person(), timeout=10)
        expect(r, 201)
        assert r.json["status"] == "confirmed", r.json
        assert not answers, \
            "A's row is held, yet A's registrations were answered: %r" % (
                answers,)
    finally:
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        locker.wait(30)
    for t in threads:
        t.join(60)
    ids = []
    for k in range(6):
        expect(answers[k], 201)
        assert answers[k].json["status"] == "confirmed", answers[k].json
        ids.append(answers[k].json["id"])
    assert ids == sorted(ids), \
        "A's registrations were decided out of their order: ids %r" % ids
    assert metric(d, "rollcall_registration_groups_total") - groups_before \
        == 3, "A's first, B's, then A's five waiting together: 3 statements"
    assert metric(d, "rollcall_registration_waiting") == 0
