"""NightTalk series for members (COMMUNITY.md section 7): one sign-up
registers a member for every episode still to come, once; the join links
count attendance per episode; the series report gives every staff role
in scope the counts and only the chapter's leaders and track owners (and
the committee and admins) the people; the completion threshold."""
import concurrent.futures
import re
import urllib.parse

import pytest

import community_support as cs
import support
from series_support import (Browser, chapter_token, csrf_of, join,
                            move_past, open_now, published_series, signup,
                            states)
from support import expect, expect_field_error, series as series_body, uniq


def regs_of(pg, email, series_id):
    """The live registrations of an address for a series' episodes."""
    return [(int(r[0]), r[1], r[2]) for r in pg.psql(
        "SELECT r.event_id, r.status, coalesce(r.person_id::text, '') "
        "FROM registrations r JOIN events e ON e.id = r.event_id "
        "WHERE e.series_id = %d AND lower(r.email) = lower('%s') "
        "AND r.status <> 'cancelled' ORDER BY r.event_id"
        % (series_id, email))]


def email_of(pg, pid):
    return pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)


def test_signup_registers_every_episode_to_come_once(api, admin_token, pg):
    s = published_series(api, admin_token, episodes=5)
    ids = [e["id"] for e in s["events"]]
    move_past(pg, ids[0])                       # already over
    pid, secret = cs.make_member(pg)
    mail = email_of(pg, pid)
    # Registered for episode 3 on its own before (NightTalks are for
    # members: through the member's own link).
    expect(api("POST", "/api/v1/member/%s/registrations" % secret, {
        "event": ids[2], "company": "Acme", "job_title": "Dev"}), 201)

    a = expect(signup(api, secret, s["id"]), 201)
    assert states(a) == {ids[1]: "confirmed", ids[2]: "already",
                         ids[3]: "confirmed", ids[4]: "confirmed"}, \
        "the past episode is left out, the one registered before kept: %r" \
        % a
    assert a["registered"] == 3, a
    for e in a["episodes"]:
        if e["state"] == "confirmed":
            assert re.search(r"/manage/[A-Za-z0-9_-]{43}$", e["manage_url"]) \
                and re.search(r"/j/[A-Za-z0-9_-]{43}$", e["join_url"]), e
        assert "online_url" not in e, "the stream's address leaked: %r" % e
    got = regs_of(pg, mail, s["id"])
    assert [g[0] for g in got] == ids[1:], got
    assert all(g[1] == "confirmed" for g in got), got
    assert {g[2] for g in got if g[0] != ids[2]} == {str(pid)}, \
        "the new registrations should name the member: %r" % got

    before = pg.counts()
    b = expect(signup(api, secret, s["id"]), 200)
    assert set(states(b).values()) == {"already"} and b["registered"] == 0, b
    assert pg.counts()["registrations"] == before["registrations"], \
        "a second sign-up must register nothing"
    assert len(regs_of(pg, mail, s["id"])) == 4


def test_full_episode_waitlists_and_withdraw_frees_the_seats(
        api, admin_token, pg):
    s = published_series(api, admin_token, episodes=4, capacity=1)
    ids = [e["id"] for e in s["events"]]
    first, first_secret = cs.make_member(pg)
    other, other_secret = cs.make_member(pg)
    expect(signup(api, first_secret, s["id"]), 201)
    a = expect(signup(api, other_secret, s["id"]), 201)
    assert set(states(a).values()) == {"waitlisted"}, a
    assert all("join_url" not in e and e["manage_url"]
               for e in a["episodes"]), \
        "a waitlisted episode has no join link yet: %r" % a

    move_past(pg, ids[0])
    w = expect(api("DELETE", "/api/v1/member/%s/series/%d"
                   % (first_secret, s["id"])), 200)
    assert w["cancelled"] == 3 and sorted(e["event_id"] for e in
                                          w["episodes"]) == ids[1:], w
    kept = regs_of(pg, email_of(pg, first), s["id"])
    assert kept == [(ids[0], "confirmed", str(first))], \
        "the past episode's registration stays: %r" % kept
    promoted = regs_of(pg, email_of(pg, other), s["id"])
    assert [r[1] for r in promoted] == ["waitlisted", "confirmed",
                                        "confirmed", "confirmed"], \
        "the freed seats go to the waitlist: %r" % promoted
    again = expect(api("DELETE", "/api/v1/member/%s/series/%d"
                       % (first_secret, s["id"])), 200)
    assert again["cancelled"] == 0, again


def test_signups_at_once_from_two_daemons_register_each_episode_once(
        api, admin_token, pg, start_daemon):
    s = published_series(api, admin_token, episodes=6)
    pid, secret = cs.make_member(pg)
    daemons = [start_daemon(pg.conninfo), start_daemon(pg.conninfo)]

    def go(i):
        return signup(daemons[i % 2].api, secret, s["id"]).status

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(go, range(10)))
    assert sorted(codes) == [200] * 9 + [201], \
        "one sign-up registers, the other nine find it done: %r" % codes
    got = regs_of(pg, email_of(pg, pid), s["id"])
    assert len(got) == 6 and len({g[0] for g in got}) == 6, \
        "each episode once, whatever the races: %r" % got


def test_signup_bad_input_changes_nothing(api, admin_token, pg):
    s = published_series(api, admin_token, episodes=4)
    pid, secret = cs.make_member(pg, identity=None)
    draft = expect(api("POST", "/api/v1/series", series_body(
        chapter=cs.make_chapter(pg, kind="topic")[1]), token=admin_token), 201)
    before = pg.counts()
    expect_field_error(signup(api, secret, s["id"]), "identity")
    expect_field_error(signup(api, secret, s["id"], {"identity": "ceo"}),
                       "identity")
    expect_field_error(signup(api, secret, s["id"], {"colour": "red"}),
                       "colour")
    expect_field_error(signup(api, secret, s["id"], {"company": "x" * 201}),
                       "company")
    expect(signup(api, cs.new_secret(), s["id"]), 404, "not_found")
    expect(signup(api, "short", s["id"]), 404, "not_found")
    expect(signup(api, secret, 987654321), 404, "not_found")
    r = api("POST", "/api/v1/member/%s/series/%d" % (secret, s["id"]),
            raw=b"{not json", headers={"Content-Type": "application/json"})
    expect(r, 400)
    expect(signup(api, secret, draft["id"], {"identity": "partner"}), 409,
           "no_open_episodes")
    assert pg.counts() == before, "refused sign-ups must change nothing"
    # The profile's gap filled by the body.
    a = expect(signup(api, secret, s["id"], {"identity": "partner",
                                             "company": "Acme"}), 201)
    assert a["registered"] == 4, a
    assert pg.scalar("SELECT string_agg(DISTINCT identity || '/' || company,"
                     " ',') FROM registrations WHERE person_id = %d" % pid) \
        == "partner/Acme"


def test_completion_threshold_on_create_and_patch(api, admin_token, issue,
                                                  create_event, pg):
    s = expect(api("POST", "/api/v1/series", series_body(
        chapter=cs.make_chapter(pg, kind="topic")[1], episodes=5, completion_threshold=3),
        token=admin_token), 201)
    assert s["completion_threshold"] == 3, s
    before = pg.counts()
    for n, t in ((4, 5), (4, 0), (4, "3")):
        expect_field_error(api("POST", "/api/v1/series", series_body(
            chapter=cs.make_chapter(pg, kind="topic")[1], episodes=n, completion_threshold=t),
            token=admin_token), "completion_threshold")
    assert pg.counts() == before, "a refused series must leave nothing"
    p = "/api/v1/series/%d" % s["id"]
    got = expect(api("PATCH", p, {"completion_threshold": 5},
                     token=admin_token), 200)
    assert (got["completion_threshold"], got["completion_needed"]) == (5, 5)
    got = expect(api("PATCH", p, {"completion_threshold": None},
                     token=admin_token), 200)
    assert (got["completion_threshold"], got["completion_needed"]) == \
        (None, 5), "null means every episode: %r" % got
    for bad in ({"completion_threshold": 6}, {"completion_threshold": 0},
                {"completion_threshold": "2"}, {}, {"title": "x"}):
        expect_field_error(api("PATCH", p, bad, token=admin_token),
                           next(iter(bad), "completion_threshold"))
    other = create_event()
    org = issue("organizer", events=[other["id"]])["token"]
    expect(api("PATCH", p, {"completion_threshold": 2}, token=org), 403,
           "out_of_scope")
    expect(api("PATCH", "/api/v1/series/987654321",
               {"completion_threshold": 2}, token=admin_token), 404)
    assert expect(api("GET", "/api/v1/series/%d/report" % s["id"],
                      token=admin_token), 200)["series"][
        "completion_needed"] == 5


@pytest.fixture
def attended(api, admin_token, pg, rollcalld_bin):
    """A topic chapter's 4-episode series, threshold 2: five members sign
    up; A joins episodes 1-3, B 1 and 2, C 1, D none, E signs up and
    cancels episode 4 (so registered 3). Counts known to the test."""
    cid, slug = cs.make_chapter(pg, kind="topic")
    s = published_series(api, admin_token, episodes=4, chapter=slug,
                         completion_threshold=2)
    ids = [e["id"] for e in s["events"]]
    people = {}
    for who in "ABCDE":
        pid, secret = cs.make_member(pg, name="Member " + who,
                                     email=uniq(who.lower()) +
                                     "@example.com")
        a = expect(signup(api, secret, s["id"]), 201)
        people[who] = {"pid": pid, "secret": secret, "links": {
            e["event_id"]: e["join_url"] for e in a["episodes"]}}
    for k, joiners in enumerate(["ABC", "AB", "A"]):
        open_now(pg, ids[k])
        for who in joiners:
            join(api, people[who]["links"][ids[k]])
        join(api, people["A"]["links"][ids[k]])     # twice counts once
        move_past(pg, ids[k])
    pg.psql("UPDATE registrations SET status = 'cancelled', cancelled_at = "
            "now() WHERE event_id = %d AND person_id = %d"
            % (ids[3], people["E"]["pid"]))
    return {"series": s, "ids": ids, "people": people, "chapter": cid,
            "slug": slug}


def test_report_counts_joins_per_episode(api, admin_token, attended, pg):
    s, ids = attended["series"], attended["ids"]
    rep = expect(api("GET", "/api/v1/series/%d/report" % s["id"],
                     token=admin_token), 200)
    per = {e["event_id"]: (e["registered"], e["joined"])
           for e in rep["episodes"]}
    assert per == {ids[0]: (5, 3), ids[1]: (5, 2), ids[2]: (5, 1),
                   ids[3]: (4, 0)}, per
    assert [d["people"] for d in rep["distribution"]] == [2, 1, 1, 1, 0], \
        "people by episodes joined (0..4): %r" % rep["distribution"]
    assert (rep["people"], rep["completed"],
            rep["series"]["completion_needed"]) == (5, 2, 2), rep
    assert "attendees" not in rep, "no people unless asked: %r" % rep
    rep = expect(api("GET", "/api/v1/series/%d/report?people=1" % s["id"],
                     token=admin_token), 200)
    got = [(a["name"], a["joined"], a["completed"])
           for a in rep["attendees"]]
    assert got[:3] == [("Member A", 3, True), ("Member B", 2, True),
                       ("Member C", 1, False)], got
    assert sorted(got[3:]) == [("Member D", 0, False),
                               ("Member E", 0, False)], got
    done = pg.psql("SELECT name, joined FROM rc_series_completed(%d)"
                   % s["id"])
    assert done == [["Member A", "3"], ["Member B", "2"]], \
        "rc_series_completed (the certificates' list): %r" % done


def test_report_people_only_for_the_chapters_leaders(
        api, attended, pg, rollcalld_bin, issue):
    s, slug = attended["series"], attended["slug"]
    path = "/api/v1/series/%d/report" % s["id"]
    owner = chapter_token(rollcalld_bin, pg, "track_owner",
                          [attended["chapter"]])
    lead = chapter_token(rollcalld_bin, pg, "leader", [attended["chapter"]])
    for tok in (owner, lead):
        rep = expect(api("GET", path + "?people=1", token=tok), 200)
        assert len(rep["attendees"]) == 5 and rep["people_allowed"], rep
    committee = support.cli_token(
        rollcalld_bin, pg.conninfo, "committee", uniq("com"))
    assert len(expect(api("GET", path + "?people=1", token=committee),
                      200)["attendees"]) == 5
    # An organizer of the episodes sees the counts, not the people.
    org = issue("organizer", events=[e["id"] for e in s["events"]])["token"]
    rep = expect(api("GET", path, token=org), 200)
    assert rep["people"] == 5 and not rep["people_allowed"] and \
        "attendees" not in rep, rep
    expect(api("GET", path + "?people=1", token=org), 403, "forbidden")
    # A track owner of another chapter: out of scope altogether.
    other_cid, _ = cs.make_chapter(pg, kind="topic")
    stranger = chapter_token(rollcalld_bin, pg, "track_owner", [other_cid])
    expect(api("GET", path, token=stranger), 403, "out_of_scope")
    expect(api("GET", path + "?people=1", token=stranger), 403)
    expect(api("GET", path), 401)
    expect_field_error(api("GET", path + "?people=yes", token=owner),
                       "people")
    expect(api("GET", "/api/v1/series/987654321/report", token=owner), 404)


def test_a_join_counts_after_the_rest_is_cancelled(
        api, admin_token, attended, pg):
    s, ids, people = attended["series"], attended["ids"], attended["people"]
    # C cancels the rest; the episode C joined still counts.
    expect(api("DELETE", "/api/v1/member/%s/series/%d"
               % (people["C"]["secret"], s["id"])), 200)
    rep = expect(api("GET", "/api/v1/series/%d/report?people=1" % s["id"],
                     token=admin_token), 200)
    c = [a for a in rep["attendees"] if a["name"] == "Member C"]
    assert c and c[0]["joined"] == 1, rep["attendees"]
    assert {e["event_id"]: e["joined"] for e in rep["episodes"]}[ids[0]] \
        == 3


def test_member_series_page_registers_and_cancels(server, api, admin_token,
                                                  pg):
    s = published_series(api, admin_token, episodes=4,
                         title="Rust <Nights>")
    pid, secret = cs.make_member(pg, identity=None)
    b = Browser(server, lang="zh-CN")
    page = b.get("/member/%s/series/%d" % (secret, s["id"]))
    assert page.status == 200, page
    text = page.raw.decode()
    assert "Rust &lt;Nights&gt;" in text and "<Nights>" not in text
    assert "报名全部期次" in text and 'name="identity"' in text, \
        "the button, and the identity the profile lacks: %r" % text[:2000]
    assert page.headers.get("Referrer-Policy") == "no-referrer"
    tok = csrf_of(page)
    path = "/member/%s/series/%d" % (secret, s["id"])
    before = pg.counts()
    r = b.post(path, {"action": "register", "identity": "professional"})
    assert r.status == 403 and pg.counts() == before, r
    r = b.post(path, {"csrf": tok, "action": "register",
                      "identity": "professional"})
    assert r.status == 200, r
    text = r.raw.decode()
    assert text.count("/manage/") == 4 and text.count("/j/") == 4, \
        "the page shows each new registration's links once: %r" % text
    assert len(regs_of(pg, email_of(pg, pid), s["id"])) == 4
    page = b.get(path)
    assert "报名全部期次" not in page.raw.decode()
    r = b.post(path, {"csrf": tok, "action": "cancel"})
    assert r.status == 200 and regs_of(pg, email_of(pg, pid), s["id"]) \
        == [], r
    r = b.post(path, {"csrf": tok, "action": "explode"})
    assert r.status == 400, r
    r = b.get("/member/%s/series/%d" % (cs.new_secret(), s["id"]))
    assert r.status == 404 and r.headers["Content-Type"].startswith(
        "text/html"), r
