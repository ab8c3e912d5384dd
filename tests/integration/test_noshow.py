"""No-shows (issue 19, "Event day"): reconfirmation a set time before the
event, unconfirmed seats released to the waitlist, overbooking from the
chapter's measured turnout, and each person's no-show count, organizers
only.

The clock moves by SQL: events start a few hours from now, registrations'
confirmed_at is set back, and the job function rc_noshow_run is called
directly; one test watches two daemons' timers run it. The module has a
PostgreSQL cluster of its own (the outbox holds only its messages) and a
daemon whose timer only runs at start-up, sending to an SMTP sink.
"""
import datetime as dt
import re
import subprocess
import urllib.parse

import pytest

from support import (Daemon, PgCluster, _apply, cli_token, expect, meetup,
                     migrate, uniq, wait_until)
from community_support import make_chapter
from test_mail import FROM, Sink
from test_web import Browser, csrf_of


@pytest.fixture(scope="module")
def cluster(rollcalld_bin):
    c = PgCluster(prefix="rollcall-it-noshow-")
    try:
        c.start()
        migrate(rollcalld_bin, c.conninfo)
        yield c
    finally:
        c.destroy()


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def d(rollcalld_bin, cluster, sink, tmp_path_factory):
    """A daemon whose no-show timer runs once, at start (before any data)."""
    dm = Daemon(rollcalld_bin, cluster.conninfo,
                tmp_path_factory.mktemp("noshow") / "rollcalld.log",
                ["--smtp", "smtp://127.0.0.1:%d" % sink.port,
                 "--mail-from", "Rollcall <%s>" % FROM,
                 "--noshow-interval", "3600"])
    dm.start()
    yield dm
    dm.stop_and_check()


@pytest.fixture(scope="module")
def admin(rollcalld_bin, cluster):
    return cli_token(rollcalld_bin, cluster.conninfo, "admin", "noshow")


def iso(hours):
    return (dt.datetime.now(dt.timezone.utc) +
            dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_zone(hours):
    """A time zone where a 4-hour meetup starting in `hours` starts at
    10:00, so it lies within one local day (a meetup's shape) whatever
    the time of the run."""
    h = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=hours)).hour
    east = (10 - h) % 24
    if east > 14:
        east -= 24
    return "UTC" if east == 0 else "Etc/GMT%+d" % -east


def soon_event(d, admin, hours=30, **over):
    """A published meetup starting in `hours` (default: inside the 48 h
    reconfirmation window, before the 24 h release)."""
    body = _apply(meetup(starts_at=iso(hours), ends_at=iso(hours + 4),
                         timezone=day_zone(hours)), over)
    ev = expect(d.api("POST", "/api/v1/events", body, token=admin), 201)
    return expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                        {"status": "published"}, token=admin), 200)


def register(d, ev, **over):
    body = _apply({"name": "Zhang San", "email": uniq("n") + "@example.com",
                   "company": "Example Co", "job_title": "SRE",
                   "identity": "professional"}, over)
    reg = expect(d.api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                       body), 201)
    reg["email"] = body["email"]
    reg["secret"] = reg["manage_url"].rsplit("/", 1)[1]
    return reg


def confirmed_long_ago(cluster, ev):
    """Registered before the reconfirmation time: they will be asked."""
    cluster.psql("UPDATE registrations SET created_at = now() - interval "
                 "'5 days', confirmed_at = now() - interval '5 days' "
                 "WHERE event_id = %d AND status = 'confirmed'" % ev["id"])


def run_job(cluster):
    return cluster.scalar("SELECT rc_noshow_run(500)")


def kinds(cluster, reg_id):
    return [r[0] for r in cluster.psql(
        "SELECT kind FROM outbox WHERE registration_id = %d ORDER BY id"
        % reg_id)]


def status(cluster, reg_id):
    return cluster.scalar("SELECT status FROM registrations WHERE id = %d"
                          % reg_id)


def test_reconfirmation_is_queued_once_per_registration_under_concurrency(
        d, cluster, admin):
    ev = soon_event(d, admin)
    regs = [register(d, ev) for _ in range(6)]
    late = None
    confirmed_long_ago(cluster, ev)
    late = register(d, ev)          # confirmed after the reconfirm time
    procs = [subprocess.Popen(["psql", "-X", "-q", "-tA", "-d",
                               cluster.conninfo, "-c",
                               "SELECT rc_noshow_run(500)"],
                              stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    for p in procs:
        p.communicate(timeout=60)
        assert p.returncode == 0
    run_job(cluster)
    for r in regs:
        assert kinds(cluster, r["id"]).count("reconfirm") == 1, \
            "registration %d must be asked exactly once: %r" % (
                r["id"], kinds(cluster, r["id"]))
    assert "reconfirm" not in kinds(cluster, late["id"]), \
        "a registration confirmed after the reconfirmation time is not asked"
    asked = cluster.scalar("SELECT count(*) FROM registrations WHERE "
                           "event_id = %d AND reconfirm_asked_at IS NOT NULL"
                           % ev["id"])
    assert asked == "6"


def test_reconfirmation_off_and_outside_the_window_asks_nobody(
        d, cluster, admin):
    off = soon_event(d, admin, reconfirm_hours=None)
    zero = soon_event(d, admin, reconfirm_hours=0)
    far = soon_event(d, admin, hours=24 * 5)
    regs = [register(d, e) for e in (off, zero, far)]
    for e in (off, zero, far):
        confirmed_long_ago(cluster, e)
    run_job(cluster)
    for r in regs:
        assert "reconfirm" not in kinds(cluster, r["id"])
    expect(d.api("PATCH", "/api/v1/events/%d" % far["id"],
                 {"reconfirm_hours": 24, "release_hours": 24}, token=admin),
           400, "invalid_field")


def test_mail_link_shows_a_button_and_only_the_post_confirms(
        d, cluster, admin, sink):
    ev = soon_event(d, admin, title="Reconfirm me")
    en = register(d, ev)
    zh = register(d, ev, lang="zh-CN")
    confirmed_long_ago(cluster, ev)
    run_job(cluster)
    msg = [m for m in sink.wait_for(en["email"], 2)
           if m["Subject"].startswith("Still coming?")]
    assert msg, "no reconfirmation mail: %r" % [
        m["Subject"] for m in sink.to(en["email"])]
    text = msg[0].get_body(("plain",)).get_content()
    html = msg[0].get_body(("html",)).get_content()
    m = re.search(r"(https?://[^\s]+/manage/([A-Za-z0-9_-]{43}))#reconfirm",
                  text)
    assert m and m.group(2) == en["secret"], text
    assert "#reconfirm" in html
    zh_mail = wait_until(lambda: [x for x in sink.to(zh["email"])
                                  if x["Subject"].startswith("请确认是否参加")],
                         60, "the Chinese reconfirmation mail")
    assert "确认席位" in zh_mail[0].get_body(("plain",)).get_content()

    # A scanner's GET (the link itself) confirms nothing.
    b = Browser(d)
    page = b.get("/manage/%s" % en["secret"])
    assert page.status == 200 and b"/reconfirm" in page.raw, page
    assert cluster.scalar("SELECT reconfirmed_at IS NULL FROM registrations "
                          "WHERE id = %d" % en["id"]) == "t"
    r = b.post("/manage/%s/reconfirm" % en["secret"],
               {"csrf": csrf_of(page)})
    assert r.status == 303, r
    assert cluster.scalar("SELECT reconfirmed_at IS NOT NULL FROM "
                          "registrations WHERE id = %d" % en["id"]) == "t"
    again = b.get("/manage/%s" % en["secret"])
    assert b'action="/manage/%s/reconfirm"' % en["secret"].encode() \
        not in again.raw, "the button goes once confirmed"

    # The API does the same; the attendee's view carries no no-show count.
    got = expect(d.api("POST", "/api/v1/registrations/%s/reconfirm"
                       % zh["secret"], {}), 200)
    assert got["reconfirmed_at"] is not None
    assert "no_shows" not in got
    expect(d.api("POST", "/api/v1/registrations/%s/reconfirm" % ("A" * 43),
                 {}), 404)


def test_release_frees_unconfirmed_seats_in_waitlist_order_with_mails(
        d, cluster, admin):
    ev = soon_event(d, admin, capacity=3)
    keep, gone1, gone2 = [register(d, ev) for _ in range(3)]
    w1, w2, w3 = [register(d, ev) for _ in range(3)]
    assert [w["status"] for w in (w1, w2, w3)] == ["waitlisted"] * 3
    confirmed_long_ago(cluster, ev)
    run_job(cluster)
    expect(d.api("POST", "/api/v1/registrations/%s/reconfirm"
                 % keep["secret"], {}), 200)
    run_job(cluster)
    assert status(cluster, gone1["id"]) == "confirmed", \
        "nothing is released before the release time"
    # The release time comes: the event now starts in 20 hours.
    cluster.psql("UPDATE events SET starts_at = now() + interval '20 hours',"
                 " ends_at = now() + interval '24 hours' WHERE id = %d"
                 % ev["id"])
    out = run_job(cluster)
    assert '"released": 2' in out and '"promoted": 2' in out, out
    assert status(cluster, keep["id"]) == "confirmed"
    for g in (gone1, gone2):
        assert status(cluster, g["id"]) == "cancelled"
        assert "released" in kinds(cluster, g["id"])
        assert "cancelled" not in kinds(cluster, g["id"])
    assert [status(cluster, w["id"]) for w in (w1, w2, w3)] == \
        ["confirmed", "confirmed", "waitlisted"], "waitlist order"
    for w in (w1, w2):
        assert "promoted" in kinds(cluster, w["id"])
    assert cluster.scalar(
        "SELECT confirmed = (SELECT count(*) FROM registrations WHERE "
        "event_id = e.id AND status = 'confirmed') FROM events e WHERE "
        "id = %d" % ev["id"]) == "t", "the seat count stays exact"
    # Promoted late, they are never asked nor released; a second run
    # changes nothing.
    run_job(cluster)
    assert status(cluster, w1["id"]) == "confirmed"
    got = expect(d.api("POST", "/api/v1/registrations/%s/reconfirm"
                       % gone1["secret"], {}), 409, "released")
    assert "waiting list" in got["message"]
    assert cluster.scalar("SELECT count(*) FROM audit_log WHERE action = "
                          "'event.release' AND event_id = %d" % ev["id"]) \
        == "1"


def test_overbooking_admits_up_to_the_factor(d, cluster, admin):
    ev = soon_event(d, admin, hours=24 * 10, capacity=10,
                    overbook_percent=20)
    regs = [register(d, ev) for _ in range(13)]
    assert [r["status"] for r in regs].count("confirmed") == 12
    assert regs[12]["status"] == "waitlisted"
    pub = expect(d.api("GET", "/api/v1/events/%d" % ev["id"]), 200)
    assert pub["seats_left"] == 0 and "overbook_percent" not in pub
    staff = expect(d.api("GET", "/api/v1/events/%d" % ev["id"],
                         token=admin), 200)
    assert staff["seat_limit"] == 12 and staff["overbook_percent"] == 20
    expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                 {"overbook_percent": 30}, token=admin), 200)
    assert status(cluster, regs[12]["id"]) == "confirmed", \
        "more overbooking fills the new seats from the waitlist"
    expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                 {"overbook_percent": 0}, token=admin), 409,
           "capacity_below_confirmed")
    expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                 {"overbook_percent": 101}, token=admin), 400)


def finish(cluster, ev, days_ago=10):
    cluster.psql("UPDATE events SET starts_at = now() - interval '%d days', "
                 "ends_at = now() - interval '%d days' + interval '4 hours',"
                 " status = 'finished' WHERE id = %d"
                 % (days_ago, days_ago, ev["id"]))


def check_in(cluster, regs):
    cluster.psql("UPDATE registrations SET checked_in_at = now() - interval "
                 "'10 days' WHERE id IN (%s)" %
                 ",".join(str(r["id"]) for r in regs))


def test_overbooking_suggestion_matches_the_chapters_turnout(
        d, cluster, admin):
    chapter = make_chapter(cluster)[1]
    nxt = soon_event(d, admin, hours=24 * 10, chapter=chapter)
    got = expect(d.api("GET", "/api/v1/events/%d" % nxt["id"],
                       token=admin), 200)["turnout"]
    assert got["suggested_overbook_percent"] is None and got["events"] == 0
    past = []
    for _ in range(2):
        ev = soon_event(d, admin, hours=24 * 10, chapter=chapter)
        regs = [register(d, ev) for _ in range(5)]
        check_in(cluster, regs[:4])
        cancelled = register(d, ev)
        expect(d.api("DELETE", "/api/v1/registrations/%s"
                     % cancelled["secret"]), 200)
        finish(cluster, ev)
        past.append(ev)
    register(d, nxt)                # the coming event's own: not counted
    got = expect(d.api("GET", "/api/v1/events/%d" % nxt["id"],
                       token=admin), 200)["turnout"]
    assert got == {"chapter": chapter, "events": 2, "confirmed": 10,
                   "checked_in": 8, "turnout": 0.8,
                   "suggested_overbook_percent": 25}, got
    assert "turnout" not in expect(d.api("GET", "/api/v1/events/%d"
                                         % nxt["id"]), 200)


def test_noshow_counts_for_organizers_never_for_sponsors_or_attendees(
        d, cluster, admin):
    email = uniq("ghost") + "@example.com"
    for _ in range(2):
        ev = soon_event(d, admin, hours=24 * 10)
        register(d, ev, email=email)
        finish(cluster, ev)
    came = soon_event(d, admin, hours=24 * 10)
    check_in(cluster, [register(d, came, email=email)])
    finish(cluster, came)
    ev = soon_event(d, admin, hours=24 * 10)
    reg = register(d, ev, email=email.upper(),
                   consent={"sponsors": True, "fields": ["email"]})
    other = register(d, ev)
    org = expect(d.api("POST", "/api/v1/tokens",
                       {"role": "organizer", "name": uniq("org"),
                        "events": [ev["id"]]}, token=admin), 201)["token"]
    listed = expect(d.api("GET", "/api/v1/events/%d/registrations"
                          % ev["id"], token=org), 200)["registrations"]
    counts = {r["id"]: r["no_shows"] for r in listed}
    assert counts == {reg["id"]: 2, other["id"]: 0}, counts

    sp = expect(d.api("POST", "/api/v1/events/%d/sponsors" % ev["id"],
                      {"name": "CloudCo"}, token=admin), 201)["id"]
    stok = expect(d.api("POST", "/api/v1/tokens",
                        {"role": "sponsor", "name": uniq("sp"),
                         "sponsor": sp}, token=admin), 201)["token"]
    lead = expect(d.api("POST", "/api/v1/leads",
                        {"token": reg["ticket"]["token"]}, token=stok), 200)
    assert lead["result"] == "captured"
    for path in ("/api/v1/sponsors/%d/leads" % sp,
                 "/api/v1/sponsors/%d/leads.csv" % sp):
        body = d.api("GET", path, token=stok).raw.decode("utf-8-sig")
        assert email.lower() in body.lower(), body
        assert "no_show" not in body and "no-show" not in body, body
    mine = expect(d.api("GET", "/api/v1/registrations/%s" % reg["secret"]),
                  200)
    assert "no_shows" not in mine
    page = d.api("GET", "/manage/%s" % reg["secret"]).raw.decode()
    assert "no_show" not in page


def test_the_daemons_timers_run_the_job_once_per_registration(
        d, cluster, admin, start_daemon):
    ev = soon_event(d, admin)
    regs = [register(d, ev) for _ in range(5)]
    two = [start_daemon(cluster.conninfo, ["--noshow-interval", "1"])
           for _ in range(2)]

    def runs(dm):
        m = re.search(r"^rollcall_noshow_runs_total (\d+)$",
                      dm.api("GET", "/metrics").raw.decode(), re.M)
        return int(m.group(1))
    before = [runs(dm) for dm in two]
    confirmed_long_ago(cluster, ev)
    wait_until(lambda: cluster.scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'reconfirm' AND "
        "event_id = %d" % ev["id"]) == "5", 30,
        "the daemons' timers to ask all five attendees")
    # Both timers keep running over the same rows; nobody is asked twice.
    wait_until(lambda: all(runs(dm) >= b + 2 for dm, b in zip(two, before)),
               30, "two more runs of each daemon's timer")
    for r in regs:
        assert kinds(cluster, r["id"]).count("reconfirm") == 1
