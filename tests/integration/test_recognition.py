"""Recognition (COMMUNITY.md section 6, issue 18): contributions and their
review, MVA by TUG's rule, the append-only points ledger, benefits and
redemptions under concurrency, titles, public profiles, erasure."""
import subprocess
import threading

import pytest

import support
from community_support import make_chapter, make_member
from support import cli_token, expect, meetup, uniq


# ------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def tokens(rollcalld_bin, pg, create_event):
    """Tokens of each recognition role; the leader's covers one chapter."""
    chapter_id, slug = make_chapter(pg)
    other_id, other = make_chapter(pg)
    t = {r: cli_token(rollcalld_bin, pg.conninfo, r, uniq(r))
         for r in ("committee", "infra", "organizer")}
    t["leader"] = cli_token(rollcalld_bin, pg.conninfo, "leader",
                            uniq("leader"), "--chapter", slug)
    t["door"] = cli_token(rollcalld_bin, pg.conninfo, "door", uniq("door"),
                          "--event", str(create_event()["id"]))
    t["infra2"] = cli_token(rollcalld_bin, pg.conninfo, "infra", uniq("inf"))
    t["chapter"], t["other_chapter"] = slug, other
    return t


def email():
    return uniq("c").lower() + "@example.com"


def record(api, token, who, date, kind="talk", status=201, **more):
    body = {"email": who, "name": "Person " + who.split("@")[0],
            "kind": kind, "title": "A %s on %s" % (kind, date),
            "date": date}
    body.update(more)
    return expect(api("POST", "/api/v1/contributions", body, token=token),
                  status)


def review(api, token, cid, quality, status=200, error=None):
    return expect(api("POST", "/api/v1/contributions/%d/review" % cid,
                      {"quality": quality}, token=token), status, error)


def titles(api, token, year, history=False):
    j = expect(api("GET", "/api/v1/titles?year=%d%s" % (
        year, "&history=true" if history else ""), token=token), 200)
    return j["titles"]


def mva_holders(api, token, year):
    return {t["email"] for t in titles(api, token, year)
            if t["title"] == "mva"}


def balance(pg, person):
    return int(pg.scalar("SELECT coalesce(sum(delta), 0) FROM points_ledger "
                         "WHERE person_id = %d" % person))


def person_of(pg, addr):
    return int(pg.scalar("SELECT id FROM persons WHERE lower(email) = "
                         "lower('%s')" % addr))


# ---------------------------------------------------------------- MVA

def test_three_approved_contributions_in_a_year_make_an_mva(
        api, admin_token, tokens):
    ann, bob = email(), email()
    a = [record(api, admin_token, ann, "2024-0%d-10" % m)["id"]
         for m in (2, 5, 9)]
    for cid in a[:2]:
        review(api, tokens["infra"], cid, True)
    assert ann not in mva_holders(api, admin_token, 2024), \
        "two approved contributions already made an MVA"
    review(api, tokens["committee"], a[2], True)
    assert ann in mva_holders(api, admin_token, 2024), \
        "three approved contributions dated in 2024 made no MVA of 2024"
    row = [t for t in titles(api, admin_token, 2024) if t["email"] == ann][0]
    assert row["granted_by"] == "rule" and row["name"].startswith("Person"), \
        "the MVA row: %r" % row
    assert ann not in mva_holders(api, admin_token, 2025), \
        "an MVA of 2024 shows up in 2025"

    # Bob: two approved, one declined, one approved but dated 2023.
    b = [record(api, admin_token, bob, d)["id"]
         for d in ("2024-03-01", "2024-04-01", "2024-06-01", "2023-12-31")]
    review(api, tokens["infra"], b[0], True)
    review(api, tokens["infra"], b[1], True)
    review(api, tokens["infra"], b[2], False)
    review(api, tokens["infra"], b[3], True)
    assert bob not in mva_holders(api, admin_token, 2024), \
        "a declined contribution, or one dated in 2023, counted for 2024"
    assert bob not in mva_holders(api, admin_token, 2023), \
        "one approved contribution made an MVA of 2023"


def test_a_later_decline_revokes_the_mva_and_keeps_its_history(
        api, admin_token, tokens, pg):
    ann = email()
    ids = [record(api, admin_token, ann, "2022-0%d-01" % m)["id"]
           for m in (1, 2, 3)]
    for cid in ids:
        review(api, tokens["infra"], cid, True)
    assert ann in mva_holders(api, admin_token, 2022)
    pid = person_of(pg, ann)
    assert balance(pg, pid) == 150, "3 talks approved, balance %d, not " \
        "150" % balance(pg, pid)
    review(api, tokens["infra2"], ids[0], False)
    assert ann not in mva_holders(api, admin_token, 2022), \
        "the MVA stayed after its third contribution was declined"
    hist = [t for t in titles(api, admin_token, 2022, history=True)
            if t["email"] == ann]
    assert len(hist) == 1 and hist[0]["revoked_at"], \
        "the revoked MVA should keep its row with revoked_at: %r" % hist
    assert balance(pg, pid) == 100, "the declined talk's points were not " \
        "taken back by a new entry: balance %d" % balance(pg, pid)
    reasons = pg.scalar("SELECT string_agg(reason, ',' ORDER BY id) FROM "
                        "points_ledger WHERE person_id = %d" % pid)
    assert reasons == "contribution,contribution,contribution," \
        "contribution_reversed", "ledger entries: %s" % reasons
    # Approved again: the title comes back, the points once more only.
    review(api, tokens["infra"], ids[0], True)
    review(api, tokens["infra"], ids[0], True)
    assert ann in mva_holders(api, admin_token, 2022)
    assert balance(pg, pid) == 150, "re-approving credited twice: %d" % \
        balance(pg, pid)


# ----------------------------------------------------- who records, who reviews

def test_a_leader_records_in_its_chapters_and_never_reviews(
        api, admin_token, tokens):
    who = email()
    mine = record(api, tokens["leader"], who, "2025-04-01",
                  chapter=tokens["chapter"])
    assert mine["chapter"] == tokens["chapter"] and mine["status"] == \
        "pending", "the leader's record: %r" % mine
    expect(api("POST", "/api/v1/contributions", {
        "email": who, "name": "X", "kind": "article", "title": "Elsewhere",
        "date": "2025-04-02", "chapter": tokens["other_chapter"]},
        token=tokens["leader"]), 403, "out_of_scope")
    r = api("POST", "/api/v1/contributions", {
        "email": who, "name": "X", "kind": "article", "title": "Nowhere",
        "date": "2025-04-02"}, token=tokens["leader"])
    support.expect_field_error(r, "chapter")
    # A leader does not review, not even others' records.
    review(api, tokens["leader"], mine["id"], True, 403, "forbidden")
    other = record(api, admin_token, email(), "2025-04-03",
                   chapter=tokens["chapter"])
    review(api, tokens["leader"], other["id"], True, 403, "forbidden")
    # Whoever recorded it never reviews it, whatever its role.
    review(api, admin_token, other["id"], True, 403, "own_record")
    own = record(api, tokens["infra"], email(), "2025-04-04")
    review(api, tokens["infra"], own["id"], True, 403, "own_record")
    review(api, tokens["infra2"], own["id"], True)
    got = review(api, tokens["infra"], mine["id"], True)
    assert got["status"] == "approved" and got["points"] == 50
    # Organizers and doors are not part of recognition.
    for role in ("organizer", "door"):
        expect(api("GET", "/api/v1/contributions", token=tokens[role]), 403,
               "forbidden")
    listed = expect(api("GET", "/api/v1/contributions?chapter=%s" %
                        tokens["other_chapter"], token=tokens["leader"]), 200)
    assert listed["contributions"] == [], \
        "a leader sees another chapter's contributions"
    listed = expect(api("GET", "/api/v1/contributions?status=approved&year="
                        "2025", token=tokens["leader"]), 200)
    assert [c["id"] for c in listed["contributions"]] == [mine["id"]], \
        "the leader's list: %r" % listed


def test_contribution_input_is_checked(api, admin_token):
    base = {"email": email(), "name": "N", "kind": "talk", "title": "T",
            "date": "2025-01-01"}
    for field, value in (("kind", "poem"), ("date", "2025-13-01"),
                         ("date", "1999-12-31"), ("email", "nope"),
                         ("url", "ftp://x"), ("event", 0),
                         ("chapter", "no-such-chapter")):
        r = api("POST", "/api/v1/contributions", dict(base, **{field: value}),
                token=admin_token)
        support.expect_field_error(r, field)
    r = api("POST", "/api/v1/contributions", dict(base, extra=1),
            token=admin_token)
    support.expect_field_error(r, "extra")
    no_title = dict(base)
    del no_title["title"]
    support.expect_field_error(api("POST", "/api/v1/contributions", no_title,
                                   token=admin_token), "title")
    j = expect(api("POST", "/api/v1/contributions", dict(
        no_title, url="https://example.com/post"), token=admin_token), 201)
    assert j["title"] == "https://example.com/post", "a link alone is the " \
        "title: %r" % j
    for bad, field in (({}, "quality"), ({"quality": "yes"}, "quality"),
                       ({"quality": True, "x": 1}, "x")):
        support.expect_field_error(api("POST", "/api/v1/contributions/%d/"
                                       "review" % j["id"], bad,
                                       token=admin_token), field)
    expect(api("POST", "/api/v1/contributions/999999999/review",
               {"quality": True}, token=admin_token), 404)


def test_points_per_kind_are_configurable(api, admin_token, tokens):
    before = expect(api("GET", "/api/v1/contributions/points",
                        token=tokens["leader"]), 200)["points"]
    assert before["answer"] == 5 and set(before) == {
        "talk", "article", "review", "answer", "organizing", "volunteering",
        "other"}, "default points: %r" % before
    expect(api("PATCH", "/api/v1/contributions/points", {"answer": 8},
               token=tokens["leader"]), 403, "forbidden")
    support.expect_field_error(api("PATCH", "/api/v1/contributions/points",
                                   {"answer": -1}, token=admin_token),
                               "answer")
    support.expect_field_error(api("PATCH", "/api/v1/contributions/points",
                                   {"poem": 1}, token=admin_token), "poem")
    try:
        after = expect(api("PATCH", "/api/v1/contributions/points",
                           {"answer": 8}, token=tokens["committee"]), 200)
        assert after["points"]["answer"] == 8
        c = record(api, admin_token, email(), "2025-02-02", kind="answer")
        assert c["points"] == 8, "an answer recorded after the change " \
            "is worth %r" % c["points"]
    finally:
        api("PATCH", "/api/v1/contributions/points", {"answer": 5},
            token=admin_token)


def test_a_finished_events_speakers_are_proposed_once(
        api, admin_token, create_event, pg, tokens):
    ev = create_event(meetup(chapter=tokens["chapter"]), status="published")
    s, e = ev["starts_at"], ev["ends_at"]
    expect(api("POST", "/api/v1/events/%d/agenda" % ev["id"], {"sessions": [
        {"title": "Opening", "speaker": "Ann Li, Bob Wang", "kind": "talk",
         "starts_at": s, "ends_at": e},
        {"title": "Tea", "speaker": "Caterer", "kind": "break"},
        {"title": "Panel", "speaker": "Chen 陈、Dai", "kind": "panel"},
        {"title": "No speaker"}]}, token=admin_token), 200)
    expect(api("PATCH", "/api/v1/events/%d" % ev["id"],
               {"status": "finished"}, token=admin_token), 200)
    got = expect(api("GET", "/api/v1/contributions?status=proposed&chapter="
                     "%s" % tokens["chapter"], token=tokens["leader"]), 200)
    mine = [c for c in got["contributions"] if c["event_id"] == ev["id"]]
    assert sorted(c["speaker"] for c in mine) == \
        ["Ann Li", "Bob Wang", "Chen 陈", "Dai"], \
        "proposed speakers: %r" % [c["speaker"] for c in mine]
    assert all(c["kind"] == "talk" and c["person"] is None for c in mine)
    again = pg.scalar("SELECT rc_contributions_propose(%d)" % ev["id"])
    assert again == "0", "proposing again added %s" % again
    ann = [c for c in mine if c["speaker"] == "Ann Li"][0]
    bob = [c for c in mine if c["speaker"] == "Bob Wang"][0]
    review(api, tokens["infra"], ann["id"], True, 409, "not_recorded")
    addr = email()
    ok = expect(api("POST", "/api/v1/contributions/%d/confirm" % ann["id"],
                    {"email": addr}, token=tokens["leader"]), 200)
    assert ok["status"] == "pending" and ok["person"]["email"] == addr and \
        ok["person"]["name"] == "Ann Li", "confirmed: %r" % ok
    expect(api("POST", "/api/v1/contributions/%d/confirm" % ann["id"],
               {"email": addr}, token=tokens["leader"]), 409, "not_proposed")
    d = expect(api("POST", "/api/v1/contributions/%d/dismiss" % bob["id"],
                   token=tokens["leader"]), 200)
    assert d["status"] == "dismissed"
    review(api, tokens["infra"], ann["id"], True)


# ------------------------------------------------------------- the ledger

def test_ledger_rows_cannot_be_changed_and_corrections_are_entries(
        api, admin_token, tokens, pg):
    pid, _ = make_member(pg)
    addr = pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)
    j = expect(api("POST", "/api/v1/points/corrections", {
        "email": addr, "delta": 30, "reason": "welcome gift"},
        token=tokens["committee"]), 201)
    assert j["balance"] == 30 and j["entry"]["reason"] == "correction"
    expect(api("POST", "/api/v1/points/corrections", {
        "email": addr, "delta": -31, "reason": "typo"},
        token=admin_token), 409, "insufficient_points")
    expect(api("POST", "/api/v1/points/corrections", {
        "email": addr, "delta": 5, "reason": "x"},
        token=tokens["infra"]), 403, "forbidden")
    for sql in ("UPDATE points_ledger SET delta = 999 WHERE person_id = %d"
                % pid,
                "DELETE FROM points_ledger WHERE person_id = %d" % pid,
                "TRUNCATE points_ledger"):
        r = subprocess.run(["psql", pg.conninfo, "-X", "-q", "-v",
                            "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True)
        assert r.returncode != 0 and "ledger_append_only" in r.stderr, \
            "%s was not refused: %s" % (sql, r.stderr or r.stdout)
    assert balance(pg, pid) == 30


def test_redemptions_never_take_a_balance_below_zero_on_two_daemons(
        api, admin_token, pg, start_daemon):
    pid, secret = make_member(pg)
    addr = pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)
    expect(api("POST", "/api/v1/points/corrections", {
        "email": addr, "delta": 50, "reason": "seed"}, token=admin_token),
        201)
    # Five benefits, so the requests do not all queue on one stock row:
    # only the member's own lock keeps them from spending twice.
    bs = [expect(api("POST", "/api/v1/benefits", {
        "kind": "gift", "name": "Sticker " + uniq(), "price": 10,
        "stock": 100}, token=admin_token), 201) for _ in range(5)]
    daemons = [start_daemon(pg.conninfo), start_daemon(pg.conninfo)]
    results = []
    gate = threading.Barrier(20)

    def one(i):
        gate.wait()
        r = daemons[i % 2].api("POST", "/api/v1/member/%s/redemptions" %
                               secret, {"benefit": bs[i % 5]["id"]})
        results.append((r.status, (r.json or {}).get("error")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ok = [r for r in results if r[0] == 201]
    refused = [r for r in results if r == (409, "insufficient_points")]
    assert len(ok) == 5 and len(refused) == 15, \
        "20 requests for a 10-point benefit with 50 points: %r" % results
    assert balance(pg, pid) == 0, "balance %d after spending 50 of 50" % \
        balance(pg, pid)
    lowest = pg.scalar("SELECT min(s) FROM (SELECT sum(delta) OVER (ORDER "
                       "BY id) AS s FROM points_ledger WHERE person_id = %d)"
                       " x" % pid)
    assert int(lowest) >= 0, "the running balance went to %s" % lowest
    stock = pg.scalar("SELECT sum(stock) FROM benefits WHERE id IN (%s)" %
                      ",".join(str(b["id"]) for b in bs))
    assert stock == "495", "stock %s after 5 of 500" % stock


def test_stock_never_goes_below_zero_under_concurrent_members(
        api, admin_token, pg, start_daemon):
    b = expect(api("POST", "/api/v1/benefits", {
        "kind": "training", "name": "Workshop seat " + uniq(), "price": 1,
        "stock": 3}, token=admin_token), 201)
    members = []
    for _ in range(20):
        pid, secret = make_member(pg)
        addr = pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)
        expect(api("POST", "/api/v1/points/corrections", {
            "email": addr, "delta": 5, "reason": "seed"},
            token=admin_token), 201)
        members.append((pid, secret))
    daemons = [start_daemon(pg.conninfo), start_daemon(pg.conninfo)]
    results = []
    gate = threading.Barrier(20)

    def one(i):
        gate.wait()
        r = daemons[i % 2].api("POST", "/api/v1/member/%s/redemptions" %
                               members[i][1], {"benefit": b["id"]})
        results.append((r.status, (r.json or {}).get("error")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [(201, None)] * 3 + \
        [(409, "out_of_stock")] * 17, "20 members, 3 in stock: %r" % results
    assert pg.scalar("SELECT stock FROM benefits WHERE id = %d" %
                     b["id"]) == "0"
    spent = pg.scalar("SELECT count(*) FROM points_ledger WHERE reason = "
                      "'redemption' AND person_id IN (%s)" % ",".join(
                          str(p) for p, _ in members))
    assert spent == "3", "%s members were charged for 3 seats" % spent


def test_redemptions_are_approved_rejected_with_refund_and_fulfilled(
        api, admin_token, tokens, pg):
    pid, secret = make_member(pg)
    addr = pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)
    expect(api("POST", "/api/v1/points/corrections", {
        "email": addr, "delta": 40, "reason": "seed"}, token=admin_token), 201)
    b = expect(api("POST", "/api/v1/benefits", {
        "kind": "support", "name": "Office hour " + uniq(), "name_zh":
        "技术支持一小时", "price": 20, "stock": 2}, token=tokens["committee"]),
        201)
    assert any(x["id"] == b["id"] for x in expect(api(
        "GET", "/api/v1/benefits"), 200)["benefits"]), "not in the catalogue"
    path = "/api/v1/member/%s/redemptions" % secret
    r1 = expect(api("POST", path, {"benefit": b["id"]}), 201)
    r2 = expect(api("POST", path, {"benefit": b["id"]}), 201)
    assert r2["balance"] == 0
    expect(api("POST", path, {"benefit": b["id"]}), 409)
    expect(api("POST", "/api/v1/redemptions/%d/fulfill" % r1["id"],
               token=admin_token), 409, "invalid_transition")
    expect(api("POST", "/api/v1/redemptions/%d/approve" % r1["id"],
               token=tokens["leader"]), 403, "forbidden")
    expect(api("POST", "/api/v1/redemptions/%d/approve" % r1["id"],
               token=admin_token), 200)
    done = expect(api("POST", "/api/v1/redemptions/%d/fulfill" % r1["id"],
                      token=admin_token), 200)
    assert done["status"] == "fulfilled"
    no = expect(api("POST", "/api/v1/redemptions/%d/reject" % r2["id"],
                    {"comment": "out of slots"}, token=admin_token), 200)
    assert no["status"] == "rejected" and balance(pg, pid) == 20, \
        "a rejected request gives its points back: %r, balance %d" % (
            no, balance(pg, pid))
    assert pg.scalar("SELECT stock FROM benefits WHERE id = %d" %
                     b["id"]) == "1", "the stock came not back"
    expect(api("POST", "/api/v1/redemptions/%d/reject" % r2["id"],
               token=admin_token), 409, "invalid_transition")
    mine = expect(api("GET", "/api/v1/member/%s/recognition" % secret), 200)
    assert mine["points"]["balance"] == 20 and \
        [x["status"] for x in mine["redemptions"]] == ["rejected",
                                                       "fulfilled"], mine
    assert [e["reason"] for e in mine["points"]["ledger"]] == [
        "refund", "redemption", "redemption", "correction"], mine
    listed = expect(api("GET", "/api/v1/redemptions?status=rejected",
                        token=tokens["committee"]), 200)["redemptions"]
    assert any(x["id"] == r2["id"] and x["person"]["email"] == addr
               for x in listed)
    expect(api("GET", "/api/v1/member/%s/recognition" %
               ("A" * 43)), 404)
    off = expect(api("PATCH", "/api/v1/benefits/%d" % b["id"],
                     {"active": False}, token=admin_token), 200)
    assert off["active"] is False
    expect(api("POST", path, {"benefit": b["id"]}), 404)


# --------------------------------------------------------- titles, profiles

def test_titles_ambassador_by_the_committee_and_the_listing(
        api, admin_token, tokens):
    addr = email()
    body = {"email": addr, "name": "Amy Ambassador", "title": "ambassador",
            "year": 2025}
    expect(api("POST", "/api/v1/titles", body, token=tokens["leader"]), 403,
           "forbidden")
    support.expect_field_error(api("POST", "/api/v1/titles", dict(
        body, title="mva"), token=tokens["committee"]), "title")
    got = expect(api("POST", "/api/v1/titles", body,
                     token=tokens["committee"]), 201)
    expect(api("POST", "/api/v1/titles", body, token=tokens["committee"]),
           409, "title_held")
    rows = [t for t in titles(api, tokens["leader"], 2025)
            if t["email"] == addr]
    assert rows and {k: rows[0][k] for k in ("name", "email", "title",
                                             "year")} == {
        "name": "Amy Ambassador", "email": addr, "title": "ambassador",
        "year": 2025}, "the listing: %r" % rows
    expect(api("GET", "/api/v1/titles?year=2025", token=tokens["door"]), 403)
    support.expect_field_error(api("GET", "/api/v1/titles?year=1800",
                                   token=admin_token), "year")
    expect(api("POST", "/api/v1/titles/%d/revoke" % got["id"],
               token=tokens["committee"]), 200)
    assert addr not in {t["email"] for t in titles(api, admin_token, 2025)}
    expect(api("POST", "/api/v1/titles", body, token=tokens["committee"]),
           201)


def test_a_public_profile_only_when_the_person_chose_it(
        api, admin_token, tokens, pg, server):
    pid, secret = make_member(pg, name="Lin Listed")
    addr = pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)
    expect(api("POST", "/api/v1/titles", {"email": addr, "title":
               "ambassador", "year": 2024}, token=tokens["committee"]), 201)
    r = api("GET", "/people/%d" % pid)
    assert r.status == 404 and b"Lin Listed" not in r.raw, \
        "an unlisted person's profile: %r" % r
    j = expect(api("POST", "/api/v1/member/%s/profile" % secret,
                   {"listed": True}), 200)
    assert j["listed"] is True
    r = api("GET", "/people/%d?lang=en" % pid)
    assert r.status == 200, r
    text = r.raw.decode()
    assert "Lin Listed" in text and "Ambassador 2024" in text, text[-800:]
    assert addr not in text, "the profile shows the e-mail address"
    support.expect_field_error(api("POST", "/api/v1/member/%s/profile" %
                                   secret, {"listed": "yes"}), "listed")
    expect(api("POST", "/api/v1/member/%s/profile" % secret,
               {"listed": False}), 200)
    for path in ("/people/%d" % pid, "/people/999999999", "/people/x"):
        r = api("GET", path)
        assert r.status == 404 and b"Lin Listed" not in r.raw, \
            "%s after unlisting: %r" % (path, r)


def test_erasure_removes_every_recognition_row(api, admin_token, tokens, pg):
    pid, secret = make_member(pg, name="Erin Erased")
    addr = pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)
    ids = [record(api, admin_token, addr, "2021-0%d-01" % m)["id"]
           for m in (1, 2, 3)]
    for cid in ids:
        api("POST", "/api/v1/contributions/%d/review" % cid,
            {"quality": True, "comment": "well done Erin"},
            token=tokens["infra"])
    b = expect(api("POST", "/api/v1/benefits", {
        "kind": "gift", "name": "Cap " + uniq(), "price": 10},
        token=admin_token), 201)
    expect(api("POST", "/api/v1/member/%s/redemptions" % secret,
               {"benefit": b["id"]}), 201)
    expect(api("POST", "/api/v1/titles", {"email": addr, "title":
               "ambassador", "year": 2021}, token=tokens["committee"]), 201)
    export = pg.scalar("SELECT rc_recognition_export(%d)::text" % pid)
    assert "well done Erin" in export and '"mva"' in export, export
    tables = ("contributions", "points_ledger", "redemptions", "titles")
    before = [int(pg.scalar("SELECT count(*) FROM %s WHERE person_id = %d"
                            % (t, pid))) for t in tables]
    assert all(before), "nothing to erase in some table: %r" % before
    pg.psql("DELETE FROM persons WHERE id = %d" % pid)
    after = {t: pg.scalar("SELECT count(*) FROM %s WHERE person_id = %d" %
                          (t, pid)) for t in tables}
    assert set(after.values()) == {"0"}, "left after erasure: %r" % after
    left = pg.scalar("SELECT count(*) FROM contribution_reviews WHERE "
                     "contribution_id IN (%s)" % ",".join(map(str, ids)))
    assert left == "0", "%s reviews outlived their contributions" % left
    dump = subprocess.run(["pg_dump", "--data-only", pg.conninfo],
                          capture_output=True, text=True, check=True).stdout
    for s in (addr, "Erin Erased", "well done Erin"):
        assert s not in dump, "%r is still in pg_dump after erasure" % s
    expect(api("GET", "/api/v1/member/%s/recognition" % secret), 404)
