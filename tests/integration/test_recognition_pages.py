"""Recognition's pages: the console's contributions (record, review, no
review button on one's own records), benefits and redemptions, the
leaderboard; the member's points page (zh-CN and English)."""
import re
import pytest

import support
from community_support import make_chapter, make_member
from support import expect, meetup, uniq
from test_console import Browser, account_add, signed_in


def section(html, kind, ident):
    """The <section class=KIND data-KIND=ID> of a page, or None."""
    m = re.search(r'<section class="%s" data-%s="%d">(.*?)</section>' % (
        kind, kind, ident), html, re.S)
    return m.group(1) if m else None


def newest(pg, table="contributions"):
    return int(pg.scalar("SELECT max(id) FROM %s" % table))


@pytest.fixture(scope="module")
def world(rollcalld_bin, pg, server, create_event):
    """A chapter, its leader's account, an infra account, an admin account
    and an organizer's, each signed in."""
    cid, slug = make_chapter(pg)
    ev = create_event(meetup(chapter=slug))
    w = {"chapter": slug, "chapter_id": cid, "event": ev}
    lead = uniq("lead").lower() + "@example.com"
    w["leader"] = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, lead, events=[ev["id"]],
        name="Lena Leader"))
    pg.psql("WITH p AS (INSERT INTO persons (email, name) VALUES ('%s', "
            "'Lena Leader') RETURNING id) INSERT INTO chapter_leaders "
            "(chapter_id, person_id, role, added_by) SELECT %d, id, 'lead', "
            "'test' FROM p" % (lead, cid))
    inf = uniq("infra").lower() + "@example.com"
    w["infra"] = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, inf, events=[ev["id"]],
        name="Ivan Infra"))
    pg.psql("UPDATE accounts SET role = 'infra', events = NULL WHERE email "
            "= '%s'" % inf)
    w["admin"] = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, uniq("adm").lower() + "@example.com",
        role="admin", name="Ada Admin"))
    w["organizer"] = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, uniq("org").lower() + "@example.com",
        events=[ev["id"]]))
    return w


def test_console_records_and_only_others_review(world, pg):
    leader, infra = world["leader"], world["infra"]
    r = leader.get("/console/contributions?lang=en")
    assert r.status == 200, r.text[:500]
    assert 'value="%s"' % world["chapter"] in r.text, \
        "the leader's chapter is not offered on the record form"
    addr = uniq("spk").lower() + "@example.com"
    r = leader.post("/console/contributions", {
        "email": addr, "name": "Sam Speaker", "kind": "talk",
        "title": "TiDB at scale", "date": "2025-06-01",
        "chapter": world["chapter"], "event": "", "url": ""})
    assert r.status == 303 and r.getheader("Location") == \
        "/console/contributions?done=recorded", (r.status, r.text[:400])
    cid = newest(pg)
    r = leader.get("/console/contributions?done=recorded&lang=en")
    assert "Recorded; it waits for review." in r.text
    mine = section(r.text, "contribution", cid)
    assert mine and "TiDB at scale" in mine and "recorded by you" in mine, \
        "the leader's own record on its page: %r" % mine
    assert "/console/contributions/review" not in r.text, \
        "a leader (who never reviews) sees a review form"
    r = leader.post("/console/contributions/review", {"id": str(cid),
                                                      "quality": "yes"})
    assert r.status == 403, "a leader reviewed: %d" % r.status

    # Infra sees a review form on the leader's record, none on its own.
    r = infra.post("/console/contributions", {
        "email": addr, "name": "Sam Speaker", "kind": "article",
        "title": "Infra's own note", "date": "2025-06-02"})
    assert r.status == 303, r.text[:400]
    own = newest(pg)
    page = infra.get("/console/contributions?lang=en").text
    theirs = section(page, "contribution", cid)
    assert theirs and 'action="/console/contributions/review"' in theirs \
        and "Approve" in theirs, "no review form on another's record"
    mine = section(page, "contribution", own)
    assert mine and "/console/contributions/review" not in mine, \
        "a reviewer sees a review button on its own record: %r" % mine
    r = infra.post("/console/contributions/review", {"id": str(own),
                                                     "quality": "yes"})
    assert r.status == 403 and "someone else reviews it" in r.text, \
        "reviewing its own record by a forged form: %d" % r.status
    r = infra.post("/console/contributions/review", {
        "id": str(cid), "quality": "yes", "comment": "clear and useful"})
    assert r.status == 303, r.text[:400]
    st = pg.scalar("SELECT status || ':' || review_comment FROM "
                   "contributions WHERE id = %d" % cid)
    assert st == "approved:clear and useful", st
    page = infra.get("/console/contributions?status=approved&lang=zh-CN")
    theirs = section(page.text, "contribution", cid)
    assert theirs and "已通过" in theirs and "不通过" in theirs and \
        ">通过<" not in theirs, "an approved record offers: %r" % theirs
    # A bad form is refused with the field named, nothing recorded.
    before = newest(pg)
    r = leader.post("/console/contributions", {
        "email": addr, "name": "X", "kind": "talk", "title": "T",
        "date": "2025-02-30", "chapter": world["chapter"]})
    assert r.status == 400 and "date" in r.text and newest(pg) == before
    r = leader.post("/console/contributions", {
        "email": addr, "name": "X", "kind": "talk", "title": "T",
        "date": "2025-02-03"})
    assert r.status == 400 and newest(pg) == before, \
        "a leader recorded outside its chapters"
    r = leader.post("/console/contributions", {
        "email": addr, "name": "X", "kind": "talk", "title": "T",
        "date": "2025-02-03", "chapter": world["chapter"]}, csrf=False)
    assert r.status == 403 and newest(pg) == before, "recorded without CSRF"
    r = world["organizer"].get("/console/contributions")
    assert r.status == 403, "an organizer opened the contributions page"


def test_console_confirms_and_dismisses_agenda_proposals(
        world, api, admin_token, pg):
    ev = world["event"]
    expect(api("POST", "/api/v1/events/%d/agenda" % ev["id"], {"sessions": [
        {"title": "Keynote", "speaker": "Kim Keynote", "kind": "keynote"},
        {"title": "Lightning", "speaker": "Lou Lightning"}]},
        token=admin_token), 200)
    for s in ("published", "finished"):
        expect(api("PATCH", "/api/v1/events/%d" % ev["id"], {"status": s},
                   token=admin_token), 200)
    ids = [int(x) for x in pg.scalar(
        "SELECT string_agg(id::text, ',' ORDER BY agenda_position) FROM "
        "contributions WHERE event_id = %d AND source = 'agenda'" %
        ev["id"]).split(",")]
    leader = world["leader"]
    page = leader.get("/console/contributions?lang=en").text
    for i, name in zip(ids, ("Kim Keynote", "Lou Lightning")):
        s = section(page, "proposal", i)
        assert s and name in s and "Confirm" in s, "proposal %d: %r" % (i, s)
    addr = uniq("kim").lower() + "@example.com"
    r = leader.post("/console/contributions/proposal", {
        "id": str(ids[0]), "action": "confirm", "email": addr,
        "name": "Kim Keynote"})
    assert r.status == 303, r.text[:400]
    r = leader.post("/console/contributions/proposal", {
        "id": str(ids[1]), "action": "dismiss"})
    assert r.status == 303, r.text[:400]
    got = pg.scalar("SELECT string_agg(status, ',' ORDER BY agenda_position)"
                    " FROM contributions WHERE id IN (%d, %d)" % tuple(ids))
    assert got == "pending,dismissed", got
    page = leader.get("/console/contributions?lang=en").text
    assert section(page, "proposal", ids[0]) is None
    s = section(page, "contribution", ids[0])
    assert s and "Kim Keynote" in s and "recorded by you" in s, s


def test_console_benefits_and_the_member_points_page(world, pg, server):
    admin = world["admin"]
    assert world["leader"].get("/console/benefits").status == 403
    name = "Tote bag " + uniq()
    r = admin.post("/console/benefits", {
        "kind": "gift", "name": name, "name_zh": "帆布袋", "description": "",
        "price": "30", "stock": "2", "event": ""})
    assert r.status == 303, r.text[:400]
    bid = newest(pg, "benefits")
    page = admin.get("/console/benefits?lang=en").text
    s = section(page, "benefit", bid)
    assert s and name in s and "<span data-stock>2</span>" in s, s
    r = admin.post("/console/benefits", {"id": str(bid), "price": "abc"})
    assert r.status == 400 and "price" in r.text

    pid, secret = make_member(pg, name="Mia Member")
    pg.psql("INSERT INTO points_ledger (person_id, delta, reason, note, "
            "actor) VALUES (%d, 45, 'correction', 'seed', 'test')" % pid)
    m = Browser(server.port)
    r = m.get("/member/%s/points?lang=zh-CN" % secret)
    assert r.status == 200, r.text[:400]
    assert "我的积分" in r.text and "<strong data-balance>45</strong>" in \
        r.text and "帆布袋" in r.text, "the zh-CN points page"
    r = m.post("/member/%s/points/redeem" % secret, {"benefit": str(bid)})
    assert r.status == 303 and r.getheader("Location").endswith(
        "?done=requested"), (r.status, r.getheader("Location"))
    r = m.get(r.getheader("Location") + "&lang=en")
    assert "<strong data-balance>15</strong>" in r.text and \
        "the points are set aside" in r.text
    r = m.post("/member/%s/points/redeem" % secret, {"benefit": str(bid)})
    assert r.getheader("Location").endswith("?error=insufficient_points")
    r = m.get(r.getheader("Location"))
    assert "You do not have enough points for that." in r.text
    assert m.post("/member/%s/points/redeem" % secret, {
        "benefit": str(bid)}, csrf=False).status == 403
    assert m.get("/member/%s/points" % ("B" * 43)).status == 404

    rid = newest(pg, "redemptions")
    page = admin.get("/console/benefits?lang=en").text
    s = section(page, "redemption", rid)
    assert s and "Mia Member" in s and 'value="approve"' in s and \
        'value="fulfill"' not in s, s
    for action in ("approve", "fulfill"):
        r = admin.post("/console/redemptions", {"id": str(rid),
                                                "action": action})
        assert r.status == 303, r.text[:300]
    assert pg.scalar("SELECT status FROM redemptions WHERE id = %d" %
                     rid) == "fulfilled"
    r = admin.post("/console/redemptions", {"id": str(rid),
                                            "action": "reject"})
    assert r.status == 409, "a fulfilled redemption was rejected"

    # The public profile, from the member's page.
    assert support.http_call(server.port, "GET", "/people/%d" %
                             pid).status == 404
    r = m.post("/member/%s/points/listed" % secret, {"listed": "1"})
    assert r.getheader("Location").endswith("?done=listed")
    r = support.http_call(server.port, "GET", "/people/%d?lang=en" % pid)
    assert r.status == 200 and b"Mia Member" in r.raw
    m.post("/member/%s/points/listed" % secret, {})
    assert support.http_call(server.port, "GET", "/people/%d" %
                             pid).status == 404


def test_console_leaderboard_per_chapter(world, api, admin_token, pg,
                                         rollcalld_bin):
    infra_tok = support.cli_token(rollcalld_bin, pg.conninfo, "infra",
                                  uniq("inf"))
    other_id, other = make_chapter(pg)
    for who, n, chapter in (("Top Talker", 2, world["chapter"]),
                            ("Second Writer", 1, world["chapter"]),
                            ("Elsewhere Person", 3, other)):
        addr = uniq("lb").lower() + "@example.com"
        for i in range(n):
            c = expect(api("POST", "/api/v1/contributions", {
                "email": addr, "name": who, "kind": "talk",
                "title": "t%d" % i, "date": "2019-0%d-01" % (i + 1),
                "chapter": chapter}, token=admin_token), 201)
            expect(api("POST", "/api/v1/contributions/%d/review" % c["id"],
                       {"quality": True}, token=infra_tok), 200)
    r = world["leader"].get("/console/leaderboard?year=2019&lang=en")
    assert r.status == 200, r.text[:400]
    t = r.text
    assert 'data-chapter="%s"' % world["chapter"] in t and \
        'data-chapter="%s"' % other not in t, \
        "a leader's leaderboard shows another chapter"
    assert t.index("Top Talker") < t.index("Second Writer") and \
        "<td>100</td>" in t, "the ranking: %s" % t[t.find("<table"):][:800]
    assert "Elsewhere Person" not in t
    r = world["leader"].get("/console/leaderboard?year=2019&chapter=%s" %
                            other)
    assert r.status == 403
    t = world["admin"].get("/console/leaderboard?year=2019&lang=zh-CN").text
    assert "Elsewhere Person" in t and "整个社区" in t, \
        "the committee's view has every chapter and the whole community"
    j = expect(api("GET", "/api/v1/leaderboard?year=2019&chapter=%s" %
                   other, token=admin_token), 200)
    assert [(x["name"], x["points"], x["rank"]) for x in
            j["chapters"][0]["rows"]] == [("Elsewhere Person", 150, 1)], j
    support.expect_field_error(api("GET", "/api/v1/leaderboard?year=abc",
                                   token=admin_token), "year")
    expect(api("GET", "/api/v1/leaderboard?chapter=no-such-one",
               token=admin_token), 404)
