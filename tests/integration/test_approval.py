"""The committee decides on events (COMMUNITY.md section 3, docs/approval.md):
drafts that may lack a venue, dates and capacity, each kind's shape, the
states draft -> proposed -> approved -> published -> finished with
cancelled and rejection, 409 approval_required, direct publishing by admin
and committee, the deployment's switch, and one winner when two committee
members decide at once on two daemons."""
import threading

import pytest

import support
from support import DROP, at, expect, expect_field_error, meetup
from approval_support import World


@pytest.fixture(scope="module")
def w(rollcalld_bin, tmp_path_factory):
    world = World(rollcalld_bin, tmp_path_factory.mktemp("approval")).start()
    yield world
    world.stop()


def test_a_draft_may_lack_venue_dates_and_capacity_but_not_to_go_further(w):
    ev = expect(w.api("POST", "/api/v1/events", {
        "kind": "meetup", "title": "Planning: serverless night",
        "chapter": w.slug, "format": "panel", "status": "draft",
        "capacity": None}, token=w.leader), 201)
    assert (ev["status"], ev["venue"], ev["starts_at"], ev["capacity"]) == \
        ("draft", None, None, None), ev
    path = "/api/v1/events/%d" % ev["id"]
    # What publishing needs is what proposing needs: a start, then a venue.
    for call in (("POST", path + "/proposal", {}),
                 ("PATCH", path, {"status": "published"})):
        expect_field_error(w.api(*call, token=w.admin), "starts_at")
    assert w.status(ev["id"]) == "draft"
    expect(w.api("PATCH", path, {"starts_at": at(30, 19),
                                 "ends_at": at(30, 21)}, token=w.leader), 200)
    expect_field_error(w.api("POST", path + "/proposal", {}, token=w.leader),
                       "venue")
    expect_field_error(w.api("PATCH", path, {"status": "published"},
                             token=w.admin), "venue")
    assert w.status(ev["id"]) == "draft", "a refused move changed the state"
    # An online URL stands for the venue.
    expect(w.api("PATCH", path, {"online_url": "https://live.example.com/s"},
                 token=w.leader), 200)
    got = expect(w.api("POST", path + "/proposal", {}, token=w.leader), 200)
    assert got["status"] == "proposed", got
    # Only one date of the two is refused, on create and on edit.
    expect_field_error(w.api("POST", "/api/v1/events", meetup(
        chapter=w.slug, starts_at=DROP), token=w.leader), "starts_at")
    d = w.event()
    expect_field_error(w.api("PATCH", "/api/v1/events/%d" % d["id"],
                             {"ends_at": None}, token=w.leader), "ends_at")


@pytest.mark.parametrize("over,ok", [
    ({"starts_at": at(30, 14), "ends_at": at(32, 18)}, False),  # 3 "half" days
    ({"starts_at": at(30, 8), "ends_at": at(30, 20)}, True),    # 12 hours
    ({"starts_at": at(30, 8), "ends_at": at(30, 21)}, False),   # 13 hours
    ({"starts_at": at(30, 18), "ends_at": at(31, 0)}, True),    # to midnight
    ({"starts_at": at(30, 20), "ends_at": at(31, 2)}, False),   # next day
    # 16:00-19:30 in Berlin is 23:00-02:30 in Shanghai: the event's own
    # time zone says which day it is.
    ({"starts_at": "2027-03-10T16:00:00+01:00",
      "ends_at": "2027-03-10T19:30:00+01:00",
      "timezone": "Europe/Berlin"}, True),
    ({"starts_at": "2027-03-10T16:00:00+01:00",
      "ends_at": "2027-03-10T19:30:00+01:00"}, False),
], ids=["three-day", "12h", "13h", "to-midnight", "past-midnight",
        "berlin-afternoon", "the-same-hours-in-shanghai"])
def test_a_meetup_lies_within_one_local_day_of_at_most_12_hours(w, over, ok):
    body = meetup(chapter=w.slug, **over)
    r = w.api("POST", "/api/v1/events", body, token=w.leader)
    if ok:
        expect(r, 201)
    else:
        j = expect_field_error(r, "ends_at")
        assert "meetup" in j["message"], j


def test_community_day_is_one_local_day_and_nighttalks_keep_their_hour(w):
    day = support.community_day(chapter=w.slug)
    expect(w.api("POST", "/api/v1/events", day, token=w.leader), 201)
    two = support.community_day(chapter=w.slug, ends_at=at(41, 18))
    j = expect_field_error(w.api("POST", "/api/v1/events", two,
                                 token=w.leader), "ends_at")
    assert "community day" in j["message"], j
    # An edit that stretches a draft over days is refused, nothing changed.
    ev = w.event()
    before = w.pg.scalar("SELECT ends_at FROM events WHERE id = %d"
                         % ev["id"])
    expect_field_error(w.api("PATCH", "/api/v1/events/%d" % ev["id"],
                             {"ends_at": at(33, 18)}, token=w.leader),
                       "ends_at")
    assert w.pg.scalar("SELECT ends_at FROM events WHERE id = %d"
                       % ev["id"]) == before
    s = expect(w.api("POST", "/api/v1/series", support.series(
        chapter=w.slug), token=w.admin), 201)
    ep = s["events"][0]["id"]
    expect_field_error(w.api("PATCH", "/api/v1/events/%d" % ep, {
        "starts_at": at(21, 20), "ends_at": at(21, 23)}, token=w.admin),
        "starts_at")


def test_a_leaders_publish_waits_for_the_committee(w):
    ev = w.event()
    path = "/api/v1/events/%d" % ev["id"]
    expect(w.api("PATCH", path, {"status": "published"}, token=w.leader),
           409, "approval_required")
    assert w.status(ev["id"]) == "draft"
    expect(w.api("GET", path), 404)
    expect(w.api("POST", path + "/proposal", {}, token=w.leader), 200)
    expect(w.api("GET", path), 404)    # a proposal is not public
    expect(w.api("POST", path + "/registrations", {
        "name": "Early", "email": support.uniq("e") + "@example.com",
        "company": "A", "job_title": "B", "identity": "professional"}), 404)
    expect(w.api("PATCH", path, {"status": "published"}, token=w.leader),
           409, "approval_required")
    got = expect(w.api("POST", path + "/decision", {
        "decision": "approve", "comment": "Good speakers."},
        token=w.committee), 200)
    assert got["status"] == "approved" and \
        got["proposal"]["comment"] == "Good speakers.", got
    expect(w.api("GET", path), 404)    # approved is not yet published
    got = expect(w.api("PATCH", path, {"status": "published"},
                       token=w.leader), 200)
    assert got["status"] == "published"
    assert expect(w.api("GET", path), 200)["status"] == "published"
    acts = [(a, actor, d.get("comment")) for a, actor, d in w.audit(ev["id"])]
    assert acts == [
        ("event.create", w.jti(w.leader), None),
        ("event.proposed", w.jti(w.leader), None),
        ("event.approved", w.jti(w.committee), "Good speakers."),
        ("event.published", w.jti(w.leader), None)], acts
    assert w.pg.scalar("SELECT count(*) FROM audit_log WHERE event_id = %d "
                       "AND at IS NOT NULL" % ev["id"]) == "4"


def test_rejection_sends_the_proposal_back_to_draft_with_the_comment(w):
    ev = w.event(status="proposed")
    path = "/api/v1/events/%d" % ev["id"]
    # No comment, no rejection; nothing changed.
    expect_field_error(w.api("POST", path + "/decision",
                             {"decision": "reject"}, token=w.committee),
                       "comment")
    expect_field_error(w.api("POST", path + "/decision",
                             {"decision": "maybe"}, token=w.committee),
                       "decision")
    assert w.status(ev["id"]) == "proposed"
    got = expect(w.api("POST", path + "/decision", {
        "decision": "reject", "comment": "Find a second speaker."},
        token=w.committee), 200)
    assert got["status"] == "draft", got
    # The leader sees it on the event, after the rejection and later.
    mine = expect(w.api("GET", path, token=w.leader), 200)
    assert mine["proposal"]["decision"] == "rejected" and \
        mine["proposal"]["comment"] == "Find a second speaker.", mine
    expect(w.api("PATCH", path, {"title": "With two speakers"},
                 token=w.leader), 200)
    assert expect(w.api("GET", path, token=w.leader), 200)["proposal"][
        "comment"] == "Find a second speaker."
    again = expect(w.api("POST", path + "/proposal", {}, token=w.leader), 200)
    assert again["status"] == "proposed" and \
        again["proposal"]["state"] == "open", again
    rej = [d for a, _, d in w.audit(ev["id"]) if a == "event.rejected"]
    assert rej == [{"proposal": rej[0]["proposal"],
                    "comment": "Find a second speaker."}], rej


def test_who_may_submit_and_decide_and_from_which_states(w):
    ev = w.event()
    path = "/api/v1/events/%d" % ev["id"]
    org = w.token("organizer")
    other = w.leader_token(w.other_chapter)
    # Deciding: committee and admin only; submitting: staff in scope.
    expect(w.api("POST", path + "/proposal", {}, token=other), 403,
           "out_of_scope")
    expect(w.api("POST", path + "/decision", {"decision": "approve"},
                 token=w.committee), 409, "not_proposed")
    expect(w.api("POST", path + "/proposal", {"note": "x"}, token=w.leader),
           400, "invalid_field")
    expect(w.api("POST", path + "/proposal", {}, token=w.leader), 200)
    expect(w.api("POST", path + "/proposal", {}, token=w.leader), 409,
           "invalid_transition")
    for tok in (w.leader, org):
        expect(w.api("POST", path + "/decision", {"decision": "approve"},
                     token=tok), 403, "forbidden")
    expect(w.api("POST", path + "/decision", {"decision": "approve"}), 401)
    # The states the API refuses to be set by hand.
    draft = "/api/v1/events/%d" % w.event()["id"]
    for p, st in ((draft, "proposed"), (draft, "approved"), (path, "approved")):
        expect(w.api("PATCH", p, {"status": st}, token=w.admin), 409,
               "invalid_transition")
    expect(w.api("PATCH", path, {"status": "finished"}, token=w.admin), 409,
           "invalid_transition")
    assert w.status(ev["id"]) == "proposed"
    expect(w.api("POST", path + "/decision", {"decision": "approve"},
                 token=w.admin), 200)
    assert w.status(ev["id"]) == "approved"
    expect(w.api("POST", "/api/v1/events/999999/decision",
                 {"decision": "approve"}, token=w.admin), 404)


def test_admin_and_committee_publish_directly(w):
    a = w.event(token=w.admin)
    expect(w.api("PATCH", "/api/v1/events/%d" % a["id"],
                 {"status": "published"}, token=w.admin), 200)
    c = w.event(token=w.committee)
    expect(w.api("PATCH", "/api/v1/events/%d" % c["id"],
                 {"status": "published"}, token=w.committee), 200)
    # A leader's proposal the committee publishes at once: approved by it.
    p = w.event(status="proposed")
    got = expect(w.api("PATCH", "/api/v1/events/%d" % p["id"],
                       {"status": "published"}, token=w.committee), 200)
    assert got["status"] == "published" and \
        got["proposal"]["decision"] == "approved", got
    assert w.pg.scalar("SELECT count(*) FROM event_proposals WHERE "
                       "event_id = %d AND decision IS NULL" % p["id"]) == "0"


@pytest.mark.parametrize("start", ["draft", "proposed", "approved",
                                   "published"])
def test_cancelled_from_any_state_before_finished(w, start):
    ev = w.event(status=start)
    path = "/api/v1/events/%d" % ev["id"]
    got = expect(w.api("PATCH", path, {"status": "cancelled"},
                       token=w.leader), 200)
    assert got["status"] == "cancelled"
    assert w.pg.scalar("SELECT count(*) FROM event_proposals WHERE event_id "
                       "= %d AND decision IS NULL" % ev["id"]) == "0", \
        "a cancelled event left its proposal open in the queue"
    expect(w.api("PATCH", path, {"status": "published"}, token=w.admin), 409,
           "event_closed")


def test_finished_is_final_and_withdrawing_goes_back_to_draft(w):
    ev = w.event(status="published")
    path = "/api/v1/events/%d" % ev["id"]
    expect(w.api("PATCH", path, {"status": "finished"}, token=w.leader), 200)
    expect(w.api("PATCH", path, {"status": "cancelled"}, token=w.leader), 409,
           "event_closed")
    p = w.event(status="proposed")
    got = expect(w.api("PATCH", "/api/v1/events/%d" % p["id"],
                       {"status": "draft"}, token=w.leader), 200)
    assert got["status"] == "draft" and \
        got["proposal"]["decision"] == "withdrawn", got
    assert [a for a, _, _ in w.audit(p["id"])][-1] == "event.withdrawn"
    q = w.event(status="proposed")
    expect(w.api("POST", "/api/v1/events/%d/decision" % q["id"],
                 {"decision": "approve"}, token=w.committee), 200)
    expect(w.api("PATCH", "/api/v1/events/%d" % q["id"], {"status": "draft"},
                 token=w.leader), 200)
    expect(w.api("PATCH", "/api/v1/events/%d" % q["id"],
                 {"status": "published"}, token=w.leader), 409,
           "approval_required")


def test_the_queue_lists_what_waits_for_the_committee(w):
    ev = w.event(status="proposed", title="Queue me")
    q = expect(w.api("GET", "/api/v1/proposals", token=w.committee), 200)
    mine = [e for e in q["events"] if e["id"] == ev["id"]]
    assert mine and mine[0]["proposal"]["state"] == "open", q["events"]
    expect(w.api("GET", "/api/v1/proposals", token=w.leader), 403)
    expect(w.api("POST", "/api/v1/events/%d/decision" % ev["id"],
                 {"decision": "approve"}, token=w.committee), 200)
    q = expect(w.api("GET", "/api/v1/proposals", token=w.committee), 200)
    assert ev["id"] not in [e["id"] for e in q["events"]]


def test_approval_off_lets_a_leader_publish_a_draft(w):
    off = w.daemon(approval="off")
    ev = w.event()
    got = expect(w.api("PATCH", "/api/v1/events/%d" % ev["id"],
                       {"status": "published"}, token=w.leader, d=off), 200)
    assert got["status"] == "published"
    # The same leader through the default daemon still waits.
    other = w.event()
    expect(w.api("PATCH", "/api/v1/events/%d" % other["id"],
                 {"status": "published"}, token=w.leader), 409,
           "approval_required")


def test_auto_needs_a_live_committee_and_required_needs_none(
        rollcalld_bin, new_cluster, start_daemon, tmp_path):
    from approval_support import write_config
    c = new_cluster()
    auto = start_daemon(c.conninfo, ["--config", write_config(
        tmp_path / "auto.conf")])
    req = start_daemon(c.conninfo, ["--config", write_config(
        tmp_path / "req.conf", "required")])
    admin = support.cli_token(rollcalld_bin, c.conninfo, "admin", "a")
    org = support.cli_token(rollcalld_bin, c.conninfo, "organizer", "o")

    def draft():
        return expect(auto.api("POST", "/api/v1/events", meetup(),
                               token=org), 201)["id"]

    def publish(d, eid):
        return d.api("PATCH", "/api/v1/events/%d" % eid,
                     {"status": "published"}, token=org)

    # No committee yet: auto publishes as before, required refuses.
    expect(publish(auto, draft()), 200)
    expect(publish(req, draft()), 409, "approval_required")
    # A live committee token turns auto on; revoked, off again.
    com = support.cli_token(rollcalld_bin, c.conninfo, "committee", "c")
    expect(publish(auto, draft()), 409, "approval_required")
    expect(auto.api("DELETE", "/api/v1/tokens/%s" %
                    support.jwt_claims(com)["jti"], token=admin), 200)
    expect(publish(auto, draft()), 200)
    # So does a committee account that is not disabled.
    c.psql("INSERT INTO accounts (email, name, role, created_by) VALUES "
           "('c@example.com', 'C', 'committee', 'test')")
    expect(publish(auto, draft()), 409, "approval_required")
    c.psql("UPDATE accounts SET disabled_at = now() WHERE email = "
           "'c@example.com'")
    expect(publish(auto, draft()), 200)


def test_two_committee_members_deciding_at_once_one_wins(w, start_daemon,
                                                          tmp_path):
    """Two daemons on one database; each proposal is decided by two
    committee members at the same moment, one through each daemon: one
    decision stands, the other is told 409, and the audit log holds
    exactly one decision."""
    from approval_support import write_config
    d2 = start_daemon(w.pg.conninfo, ["--config", write_config(
        tmp_path / "second.conf")])
    events = [w.event(status="proposed")["id"] for _ in range(12)]
    for eid in events:
        results = {}
        barrier = threading.Barrier(2)

        def decide(key, daemon, token, decision):
            barrier.wait()
            results[key] = daemon.api(
                "POST", "/api/v1/events/%d/decision" % eid,
                {"decision": decision, "comment": "by %s" % key},
                token=token)

        ts = [threading.Thread(target=decide, args=(
                  "a", w.d, w.committee, "approve")),
              threading.Thread(target=decide, args=(
                  "b", d2, w.committee2, "reject"))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        codes = sorted(r.status for r in results.values())
        assert codes == [200, 409], "event %d: %r" % (eid, results)
        loser = [r for r in results.values() if r.status == 409][0]
        assert loser.json["error"] == "not_proposed", loser
        winner = [k for k, r in results.items() if r.status == 200][0]
        want = "approved" if winner == "a" else "draft"
        assert w.status(eid) == want, (eid, winner, w.status(eid))
        decisions = [a for a, _, _ in w.audit(eid) if a in (
            "event.approved", "event.rejected")]
        assert len(decisions) == 1, (eid, decisions)
        assert w.pg.scalar("SELECT count(*) FROM event_proposals WHERE "
                           "event_id = %d AND decision IS NOT NULL"
                           % eid) == "1"


def test_a_misspelt_approval_switch_stops_the_server(rollcalld_bin, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("listen = 127.0.0.1:8080\napproval = sometimes\n")
    r = support.run_cli([rollcalld_bin, "check", "--config", str(conf)])
    assert r.returncode == 1 and "bad.conf:2" in r.stderr and \
        "auto, required or off" in r.stderr, (r.returncode, r.stderr)
