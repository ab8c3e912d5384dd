"""Topic voting (由开发者对自己感兴趣的技术话题进行投票, COMMUNITY.md
section 7): track owners propose topics for their topic chapters, members
vote once per topic (even 20 votes at once through two daemons), the
public ranking orders by votes and then by the earliest proposal, closed
topics refuse votes; the member's page and the console's."""
import concurrent.futures
import re
import threading

import pytest

import community_support as cs
import support
from series_support import Browser, chapter_token, csrf_of
from support import expect, expect_field_error, uniq


def topic_count(pg):
    return int(pg.scalar("SELECT count(*) FROM topics"))


def vote_count(pg, topic=None):
    return int(pg.scalar("SELECT count(*) FROM topic_votes" + (
        " WHERE topic_id = %d" % topic if topic else "")))


def vote(api, secret, topic):
    return api("POST", "/api/v1/member/%s/votes" % secret, {"topic": topic})


@pytest.fixture
def chapters(pg, rollcalld_bin):
    """Two topic chapters and a city one; a track owner of the first."""
    a = cs.make_chapter(pg, kind="topic")
    b = cs.make_chapter(pg, kind="topic")
    city = cs.make_chapter(pg, kind="city")
    owner = chapter_token(rollcalld_bin, pg, "track_owner", [a[0]])
    return {"a": a, "b": b, "city": city, "owner": owner}


def propose(api, token, slug, title, **more):
    body = {"chapter": slug, "title": title}
    body.update(more)
    return api("POST", "/api/v1/topics", body, token=token)


def test_a_track_owner_proposes_only_for_its_own_topic_chapters(
        api, pg, chapters, rollcalld_bin, issue, admin_token):
    a, b, city, owner = (chapters["a"][1], chapters["b"][1],
                         chapters["city"][1], chapters["owner"])
    t = expect(propose(api, owner, a, "eBPF in production",
                       description="Tracing without restarts."), 201)
    assert (t["chapter"], t["title"], t["status"], t["votes"]) == (
        a, "eBPF in production", "open", 0), t
    before = topic_count(pg)
    expect(propose(api, owner, b, "Not mine"), 403, "out_of_scope")
    expect_field_error(propose(api, admin_token, city, "A city topic"),
                       "chapter")
    expect_field_error(propose(api, owner, "no-such-chapter", "X"),
                       "chapter")
    expect(propose(api, owner, a, "EBPF IN PRODUCTION"), 409, "topic_exists")
    expect_field_error(propose(api, owner, a, ""), "title")
    expect_field_error(propose(api, owner, a, "x" * 201), "title")
    expect_field_error(propose(api, owner, a, "Fine", votes=9), "votes")
    expect_field_error(propose(api, owner, a, "Fine", description="d" * 2001),
                       "description")
    org = issue("organizer")["token"]
    expect(propose(api, org, a, "Organizers do not"), 403, "forbidden")
    expect(api("POST", "/api/v1/topics", {"chapter": a, "title": "Anon"}),
           401)
    assert topic_count(pg) == before, "refused proposals must add nothing"
    lead = chapter_token(rollcalld_bin, pg, "leader", [chapters["a"][0]])
    expect(propose(api, lead, a, "Proposed by the chapter's leader"), 201)
    committee = support.cli_token(rollcalld_bin, pg.conninfo, "committee",
                                  uniq("com"))
    expect(propose(api, committee, b, "Proposed by the committee"), 201)
    assert pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                     "'topic.propose' AND detail->>'topic' = '%d'"
                     % t["id"]) == "1"


def test_ranking_by_votes_ties_to_the_earliest(api, pg, chapters):
    slug, owner = chapters["a"][1], chapters["owner"]
    ids = [expect(propose(api, owner, slug, title), 201)["id"]
           for title in ("First", "Second", "Third", "Fourth")]
    members = [cs.make_member(pg)[1] for _ in range(3)]
    for secret, topics in zip(members, ([ids[2], ids[0]], [ids[2], ids[1]],
                                        [ids[3]])):
        for t in topics:
            expect(vote(api, secret, t), 201)
    r = expect(api("GET", "/api/v1/topics?chapter=" + slug), 200)
    got = [(t["title"], t["votes"], t["rank"])
           for t in r["chapter"]["topics"]]
    assert got == [("Third", 2, 1), ("First", 1, 2), ("Second", 1, 3),
                   ("Fourth", 1, 4)], \
        "most votes first, ties to the earliest proposal: %r" % got
    assert all("mine" in t and not t["mine"]
               for t in r["chapter"]["topics"]), r
    every = expect(api("GET", "/api/v1/topics"), 200)["chapters"]
    assert slug in [c["slug"] for c in every], every
    assert chapters["city"][1] not in [c["slug"] for c in every]
    expect(api("GET", "/api/v1/topics?chapter=no-such-chapter"), 404)
    expect_field_error(api("GET", "/api/v1/topics?chapter=Not%20A%20Slug"),
                       "chapter")


def test_one_vote_per_member_under_20_simultaneous_votes_on_two_daemons(
        api, pg, chapters, start_daemon):
    t = expect(propose(api, chapters["owner"], chapters["a"][1],
                       "Vector search"), 201)["id"]
    pid, secret = cs.make_member(pg)
    daemons = [start_daemon(pg.conninfo), start_daemon(pg.conninfo)]
    start = threading.Barrier(20)

    def go(i):
        start.wait()
        r = vote(daemons[i % 2].api, secret, t)
        return r.status, (r.json or {}).get("already")

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        got = list(pool.map(go, range(20)))
    assert sorted(got, key=str) == sorted([(201, False)] + [(200, True)] * 19,
                                          key=str), \
        "one vote counted, 19 told it was already there: %r" % got
    assert vote_count(pg, t) == 1, "the vote was stored %d times" % \
        vote_count(pg, t)
    r = expect(api("GET", "/api/v1/topics?chapter=" + chapters["a"][1]), 200)
    assert [x["votes"] for x in r["chapter"]["topics"] if x["id"] == t] == [1]


def test_closed_and_chosen_topics_refuse_votes_and_keep_theirs(
        api, pg, chapters, rollcalld_bin):
    owner, slug = chapters["owner"], chapters["a"][1]
    t = expect(propose(api, owner, slug, "WebAssembly"), 201)["id"]
    _, early = cs.make_member(pg)
    _, late = cs.make_member(pg)
    expect(vote(api, early, t), 201)
    p = "/api/v1/topics/%d" % t
    assert expect(api("PATCH", p, {"status": "closed"}, token=owner),
                  200)["status"] == "closed"
    before = vote_count(pg, t)
    expect(vote(api, late, t), 409, "topic_closed")
    expect(api("DELETE", "/api/v1/member/%s/votes/%d" % (early, t)), 409,
           "topic_closed")
    assert vote_count(pg, t) == before == 1, "a closed topic keeps its votes"
    expect(api("PATCH", p, {"status": "open"}, token=owner), 200)
    expect(vote(api, late, t), 201)
    expect(api("PATCH", p, {"status": "chosen"}, token=owner), 200)
    _, third = cs.make_member(pg)
    expect(vote(api, third, t), 409, "topic_closed")
    assert vote_count(pg, t) == 2
    # Only the chapter's own may decide; bad input changes nothing.
    stranger = chapter_token(rollcalld_bin, pg, "track_owner",
                             [chapters["b"][0]])
    expect(api("PATCH", p, {"status": "open"}, token=stranger), 403,
           "out_of_scope")
    for bad in ({"status": "deleted"}, {}, {"status": "open", "x": 1},
                {"status": None}):
        expect(api("PATCH", p, bad, token=owner), 400, "invalid_field")
    expect(api("PATCH", "/api/v1/topics/987654321", {"status": "open"},
               token=owner), 404)
    assert pg.scalar("SELECT status FROM topics WHERE id = %d" % t) == \
        "chosen"
    assert pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                     "'topic.status' AND detail->>'topic' = '%d'" % t) == "3"


def test_withdrawing_a_vote_and_bad_votes(api, pg, chapters):
    t = expect(propose(api, chapters["owner"], chapters["a"][1],
                       "Rust in the kernel"), 201)["id"]
    pid, secret = cs.make_member(pg)
    assert expect(vote(api, secret, t), 201)["votes"] == 1
    again = expect(vote(api, secret, t), 200)
    assert again["already"] is True and again["votes"] == 1, again
    w = expect(api("DELETE", "/api/v1/member/%s/votes/%d" % (secret, t)), 200)
    assert (w["removed"], w["votes"]) == (True, 0), w
    w = expect(api("DELETE", "/api/v1/member/%s/votes/%d" % (secret, t)), 200)
    assert w["removed"] is False, w
    before = vote_count(pg)
    for body in ({"topic": str(t)}, {}, {"topic": 0}, {"topic": -1},
                 {"topic": t, "weight": 5}, {"topic": 1.5}):
        expect(api("POST", "/api/v1/member/%s/votes" % secret, body), 400,
               "invalid_field")
    expect(vote(api, secret, 987654321), 404, "not_found")
    expect(vote(api, cs.new_secret(), t), 404, "not_found")
    expect(api("DELETE", "/api/v1/member/%s/votes/%d" % (cs.new_secret(),
                                                         t)), 404)
    expect(api("DELETE", "/api/v1/member/%s/votes/abc" % secret), 404)
    assert vote_count(pg) == before, "refused votes must store nothing"


def test_member_topics_page_votes_from_a_form(server, api, pg, chapters,
                                             admin_token):
    slug = chapters["a"][1]
    t = expect(propose(api, chapters["owner"], slug, "Kafka <internals>"),
               201)["id"]
    # A chapter the member is not in, first by its slug.
    first = cs.make_chapter(pg, slug="0-" + uniq("first").lower(),
                            kind="topic")[1]
    expect(propose(api, admin_token, first, "Elsewhere"), 201)
    pid, secret = cs.make_member(pg)
    pg.psql("INSERT INTO chapter_members (chapter_id, person_id) VALUES "
            "(%d, %d)" % (chapters["a"][0], pid))
    b = Browser(server, lang="en")
    path = "/member/%s/topics" % secret
    page = b.get(path)
    assert page.status == 200, page
    text = page.raw.decode()
    assert "Kafka &lt;internals&gt;" in text and "<internals>" not in text
    shown = re.findall(r'<h2 id="sr-ch-([a-z0-9-]+)"', text)
    assert shown[0] == slug and first in shown, \
        "the member's own chapter comes first, then the others: %r" % shown
    assert page.headers.get("Referrer-Policy") == "no-referrer"
    tok = csrf_of(page)
    r = b.post(path, {"topic": str(t), "action": "vote"})
    assert r.status == 403 and vote_count(pg, t) == 0, r
    r = b.post(path, {"csrf": tok, "topic": str(t), "action": "vote"})
    assert r.status == 303 and r.headers["Location"].endswith(
        "?done=voted"), r
    assert vote_count(pg, t) == 1
    r = b.post(path, {"csrf": tok, "topic": str(t), "action": "vote"})
    assert r.headers["Location"].endswith("?done=already"), r
    page = b.get(path + "?done=voted")
    assert "Thank you, your vote is counted." in page.raw.decode()
    assert "Take my vote back" in page.raw.decode()
    r = b.post(path, {"csrf": tok, "topic": str(t), "action": "unvote"})
    assert r.status == 303 and vote_count(pg, t) == 0, r
    for bad in ({"csrf": tok, "topic": "x", "action": "vote"},
                {"csrf": tok, "topic": str(t), "action": "twice"}):
        r = b.post(path, bad)
        assert r.status == 400 and r.headers["Content-Type"].startswith(
            "text/html"), r
    assert vote_count(pg, t) == 0
    assert b.get("/member/%s/topics" % cs.new_secret()).status == 404


def test_console_topics_page_ranks_and_lets_the_track_owner_decide(
        server, api, pg, chapters, rollcalld_bin, create_event):
    from test_console import account_add, signed_in
    a_id, a = chapters["a"]
    b_id, b = chapters["b"]
    mine = expect(propose(api, chapters["owner"], a, "Mine to decide"),
                  201)["id"]
    theirs = expect(propose(api, chapter_token(rollcalld_bin, pg,
                                               "track_owner", [b_id]), b,
                            "Not mine to decide"), 201)["id"]
    email = uniq("owner") + "@example.com"
    # An account is a track owner where its e-mail owns a chapter's track.
    link = account_add(rollcalld_bin, pg.conninfo, email, role="organizer",
                       events=[create_event()["id"]])
    pid = int(pg.scalar("INSERT INTO persons (email, name) VALUES ('%s', "
                        "'Owner') RETURNING id" % email))
    pg.psql("INSERT INTO chapter_leaders (chapter_id, person_id, role, "
            "added_by) VALUES (%d, %d, 'track_owner', 'test')" % (a_id, pid))
    br = signed_in(server.port, link)
    r = br.get("/console/topics")
    assert r.status == 200, r.text[:500]
    assert "Mine to decide" in r.text and "Not mine to decide" in r.text
    assert 'name="topic" value="%d"' % mine in r.text and \
        'name="topic" value="%d"' % theirs not in r.text, \
        "forms only for the owner's own chapter"
    r = br.post("/console/topics/status", {"topic": str(mine),
                                           "status": "closed"})
    assert r.status == 303 and r.getheader("Location") == \
        "/console/topics?done=status", r.text[:300]
    assert pg.scalar("SELECT status FROM topics WHERE id = %d" % mine) == \
        "closed"
    r = br.post("/console/topics/status", {"topic": str(theirs),
                                           "status": "closed"})
    assert r.status == 403, r.text[:300]
    r = br.post("/console/topics", {"chapter": a, "title": "",
                                    "description": "typed"})
    assert r.status == 400 and "title" in r.text and 'value="typed"' in \
        r.text, r.text[:800]
    r = br.post("/console/topics", {"chapter": b, "title": "Elsewhere"})
    assert r.status == 400 and "is not one of yours" in r.text, r.text[:800]
    r = br.post("/console/topics", {"chapter": a, "title": "From the console"})
    assert r.status == 303, r.text[:300]
    assert pg.scalar("SELECT count(*) FROM topics WHERE title = 'From the "
                     "console' AND chapter_id = %d" % a_id) == "1"
    r = br.post("/console/topics", {"chapter": a, "title": "No CSRF"},
                csrf=False)
    assert r.status == 403
    r = br.get("/console/topics?lang=zh-CN")
    assert "NightTalk 话题与系列" in r.text
