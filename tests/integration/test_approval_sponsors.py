"""Sponsorships are proposals too (COMMUNITY.md section 3, docs/approval.md):
a sponsor supports one event or several with agreed benefits; only an
approved sponsorship shows the sponsor on the event's page and in the
registration's consent text, and gets booth devices; sponsors of before
are migrated as approved."""
import subprocess

import pytest

import support
from support import REPO, expect, expect_field_error, wait_until
from approval_support import World, q


@pytest.fixture(scope="module")
def w(rollcalld_bin, tmp_path_factory):
    world = World(rollcalld_bin, tmp_path_factory.mktemp("sponsors")).start()
    yield world
    world.stop()


def attendee(consent=True):
    return {"name": "Lin Consent", "email": support.uniq("a") +
            "@example.com", "company": "Acme", "job_title": "Dev",
            "identity": "professional",
            "consent": {"sponsors": consent, "fields": ["email"]}}


def public_names(w, event_id):
    r = w.api("GET", "/api/v1/events/%d" % event_id)
    return [s["name"] for s in expect(r, 200)["sponsors"]]


def page(w, event_id):
    r = support.http_call(w.d.port, "GET", "/events/%d" % event_id)
    assert r.status == 200, r
    return r.raw.decode()


def sponsor_token(w, sponsor_id):
    return w.api("POST", "/api/v1/tokens", {"role": "sponsor", "name": "booth",
                                            "sponsor": sponsor_id},
                 token=w.admin)


def test_a_sponsorship_of_two_events_shows_nowhere_until_approved(w):
    a = w.event(status="published")
    b = w.event(status="published")
    name = "CloudCo " + support.uniq("s")
    reg = expect(w.api("POST", "/api/v1/events/%d/registrations" % a["id"],
                       attendee()), 201)
    secret = reg["manage_url"].rsplit("/", 1)[1]
    sp = expect(w.api("POST", "/api/v1/sponsorships", {
        "name": name, "benefits": "A booth and the logo on the slides.",
        "events": [a["id"], b["id"]]}, token=w.leader), 201)
    assert sp["status"] == "proposed" and \
        sorted(e["event_id"] for e in sp["events"]) == \
        sorted([a["id"], b["id"]]), sp
    sponsor_a = [e["sponsor_id"] for e in sp["events"]
                 if e["event_id"] == a["id"]][0]
    # Not on the page, the list, the consent text, the attendee's view.
    for ev in (a, b):
        assert name not in public_names(w, ev["id"])
        assert name not in page(w, ev["id"]), "on the event page (consent)"
    mine = expect(w.api("GET", "/api/v1/registrations/%s" % secret), 200)
    assert name not in mine["event"]["sponsors"], mine["event"]
    # No booth device; staff see where it stands.
    expect(sponsor_token(w, sponsor_a), 409, "sponsorship_not_approved")
    staff = expect(w.api("GET", "/api/v1/events/%d" % a["id"],
                         token=w.leader), 200)
    assert [s["status"] for s in staff["sponsorships"]
            if s["name"] == name] == ["proposed"], staff["sponsorships"]
    queue = expect(w.api("GET", "/api/v1/proposals", token=w.committee), 200)
    assert sp["id"] in [s["id"] for s in queue["sponsorships"]]
    # Approved: everywhere at once, on both events.
    got = expect(w.api("POST", "/api/v1/sponsorships/%d/decision" % sp["id"],
                       {"decision": "approve", "comment": "Terms agreed."},
                       token=w.committee), 200)
    assert got["status"] == "approved", got
    for ev in (a, b):
        wait_until(lambda: name in public_names(w, ev["id"]), 5,
                   "the approved sponsor on event %d's JSON" % ev["id"])
        wait_until(lambda: name in page(w, ev["id"]), 5,
                   "the approved sponsor in event %d's consent text"
                   % ev["id"])
    mine = expect(w.api("GET", "/api/v1/registrations/%s" % secret), 200)
    assert name in mine["event"]["sponsors"], mine["event"]
    tok = expect(sponsor_token(w, sponsor_a), 201)["token"]
    lead = expect(w.api("POST", "/api/v1/leads",
                        {"token": reg["ticket"]["token"]}, token=tok), 200)
    assert lead["result"] == "captured", lead
    # Audited on each event: proposed by the leader, approved with the
    # committee's comment.
    for ev in (a, b):
        rows = w.audit(ev["id"], "sponsorship.%")
        assert [(x, actor) for x, actor, _ in rows] == [
            ("sponsorship.proposed", w.jti(w.leader)),
            ("sponsorship.approved", w.jti(w.committee))], rows
        assert rows[1][2]["comment"] == "Terms agreed.", rows


def test_a_rejected_sponsorship_gets_no_page_and_no_device(w):
    ev = w.event(status="published")
    name = "Rejected " + support.uniq("s")
    sp = expect(w.api("POST", "/api/v1/events/%d/sponsors" % ev["id"],
                      {"name": name, "benefits": "Logo"}, token=w.leader),
                201)
    assert sp["status"] == "proposed", sp
    path = "/api/v1/sponsorships/%d/decision" % sp["sponsorship_id"]
    expect_field_error(w.api("POST", path, {"decision": "reject"},
                             token=w.committee), "comment")
    for tok in (w.leader, None):
        r = w.api("POST", path, {"decision": "approve"}, token=tok)
        assert r.status in (401, 403), r
    got = expect(w.api("POST", path, {"decision": "reject",
                                      "comment": "A competitor's event."},
                       token=w.committee), 200)
    assert got["status"] == "rejected" and \
        got["comment"] == "A competitor's event.", got
    expect(w.api("POST", path, {"decision": "approve"}, token=w.committee),
           409, "not_proposed")
    assert name not in public_names(w, ev["id"])
    assert name not in page(w, ev["id"])
    expect(sponsor_token(w, sp["id"]), 409, "sponsorship_not_approved")
    expect(w.api("POST", "/api/v1/sponsorships/999999/decision",
                 {"decision": "approve"}, token=w.committee), 404)


def test_admin_and_committee_sponsors_need_no_approval(w):
    ev = w.event(status="published")
    for tok in (w.admin, w.committee):
        name = "Direct " + support.uniq("s")
        sp = expect(w.api("POST", "/api/v1/events/%d/sponsors" % ev["id"],
                          {"name": name}, token=tok), 201)
        assert sp["status"] == "approved", sp
        wait_until(lambda: name in public_names(w, ev["id"]), 5,
                   "a sponsor added by the committee on the page")
        expect(sponsor_token(w, sp["id"]), 201)


BAD = [
    ("no name", {"benefits": "x"}, "name"),
    ("blank name", {"name": "  "}, "name"),
    ("two-line name", {"name": "A\nB"}, "name"),
    ("no events", {"name": "X", "events": []}, "events"),
    ("events not ids", {"name": "X", "events": ["one"]}, "events"),
    ("benefits too long", {"name": "X", "benefits": "b" * 4001}, "benefits"),
    ("unknown field", {"name": "X", "amount": 5}, "amount"),
]


@pytest.mark.parametrize("body,field", [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])
def test_bad_sponsorships_are_refused_and_change_nothing(w, body, field):
    ev = w.event()
    body = dict(body)
    body.setdefault("events", [ev["id"]])
    before = w.pg.counts(), w.pg.scalar("SELECT count(*) FROM sponsorships")
    expect_field_error(w.api("POST", "/api/v1/sponsorships", body,
                             token=w.leader), field)
    assert (w.pg.counts(), w.pg.scalar(
        "SELECT count(*) FROM sponsorships")) == before


def test_sponsorship_events_must_be_in_scope_exist_and_be_open(w):
    mine = w.event()
    before = w.pg.scalar("SELECT count(*) FROM sponsorships")
    theirs = w.event(token=w.admin, chapter=w.other_slug)
    expect(w.api("POST", "/api/v1/sponsorships", {
        "name": "X", "events": [mine["id"], theirs["id"]]}, token=w.leader),
        403, "out_of_scope")
    expect(w.api("POST", "/api/v1/sponsorships", {
        "name": "X", "events": [999999]}, token=w.admin), 404)
    done = w.event(status="published")
    expect(w.api("PATCH", "/api/v1/events/%d" % done["id"],
                 {"status": "cancelled"}, token=w.leader), 200)
    expect(w.api("POST", "/api/v1/sponsorships", {
        "name": "X", "events": [mine["id"], done["id"]]}, token=w.leader),
        409, "event_closed")
    assert w.pg.scalar("SELECT count(*) FROM sponsorships") == before


def old_share(tmp_path, commit="80cda31"):
    """sql/ as it was before sponsorships (the commit the community parts
    started from), as a --share directory; skip without git history."""
    share = tmp_path / "old"
    share.mkdir()
    arch = subprocess.run(["git", "-C", str(REPO), "archive", commit, "sql"],
                          capture_output=True, timeout=60)
    if arch.returncode != 0:
        pytest.skip("no git history with commit %s" % commit)
    subprocess.run(["tar", "-x", "-C", str(share)], input=arch.stdout,
                   check=True, timeout=60)
    return share


def test_sponsors_of_before_are_migrated_as_approved(rollcalld_bin,
                                                     tmp_path):
    share = old_share(tmp_path)
    c = support.PgCluster(prefix="rollcall-it-old-")
    d = None
    try:
        c.start()
        r = support.run_cli([rollcalld_bin, "migrate", "--db", c.conninfo,
                             "--share", str(share)])
        assert r.returncode == 0, r.stderr
        eid = int(c.scalar(
            "INSERT INTO events (kind, title, chapter, format, venue, "
            "starts_at, ends_at, status) VALUES ('meetup', 'Old', 'Old "
            "City', 'panel', 'Hub', now() + interval '30 days', now() + "
            "interval '30 days 3 hours', 'published') RETURNING id"))
        sid = int(c.scalar("INSERT INTO sponsors (event_id, name) VALUES "
                           "(%d, 'Old Sponsor') RETURNING id" % eid))
        support.migrate(rollcalld_bin, c.conninfo)
        assert c.scalar(
            "SELECT p.status || '|' || p.name FROM sponsors s JOIN "
            "sponsorships p ON p.id = s.sponsorship_id WHERE s.id = %d"
            % sid) == "approved|Old Sponsor"
        d = support.Daemon(rollcalld_bin, c.conninfo,
                           tmp_path / "rollcalld.log").start()
        ev = expect(d.api("GET", "/api/v1/events/%d" % eid), 200)
        assert [s["name"] for s in ev["sponsors"]] == ["Old Sponsor"], ev
        admin = support.cli_token(rollcalld_bin, c.conninfo, "admin", "a")
        support.cli_token(rollcalld_bin, c.conninfo, "committee", "c")
        expect(d.api("POST", "/api/v1/tokens", {
            "role": "sponsor", "name": "booth", "sponsor": sid},
            token=admin), 201)
        # A new sponsorship after the migration gets a fresh id.
        new = expect(d.api("POST", "/api/v1/events/%d/sponsors" % eid,
                           {"name": "New"}, token=admin), 201)
        assert new["sponsorship_id"] > sid, new
        d.stop_and_check()
    finally:
        if d is not None and d.alive():
            d.proc.kill()
        c.destroy()
