"""Reports (COMMUNITY.md section 5, docs/reports.md): a small community
with known numbers, built in a PostgreSQL cluster of this module's own so
that no other test's members or events move a share, and every share and
flag of the four reports checked exactly; the goals and who may change
them; who sees which chapters; the CSV beside the JSON; the console page.

"Today" is frozen with ?as_of=2025-12-05: a Friday in the fourth quarter
with 27 days left (fewer than the goal's 30, so a chapter with nothing in
the quarter is at risk). Every event of the community is finished, or
over by any clock this test runs on.
"""
import csv
import io
import re

import pytest

import support
from support import PgCluster, cli_token, expect, migrate
from test_console import Browser, account_add, signed_in

AS_OF = "2025-12-05"
Q = "as_of=%s" % AS_OF
IDS = ("enthusiast", "professional", "decision_maker", "partner", "unknown")

# slug, name, name_zh, kind, status, timezone, created_at
CHAPTERS = [
    ("sh", "Shanghai", "上海", "city", "active", "Asia/Shanghai",
     "2024-01-10 10:00+08"),
    ("bj", "Beijing", "北京", "city", "trial", "Asia/Shanghai",
     "2025-05-10 10:00+08"),
    # A topic chapter keeping UTC: its quarters are UTC quarters.
    ("ai", "AI Builders", "", "topic", "active", "UTC",
     "2024-03-01 10:00+08"),
    ("old", "Old Town", "", "city", "retired", "Asia/Shanghai",
     "2020-01-01 10:00+08"),
]

# identity (None: not given), joined_at, chapters
MEMBERS = [
    ("professional", "2024-02-01 10:00+08", ["sh"]),
    ("professional", "2024-05-01 10:00+08", ["sh"]),
    ("professional", "2024-08-01 10:00+08", []),
    ("enthusiast", "2024-09-01 10:00+08", ["sh"]),
    ("decision_maker", "2024-10-01 10:00+08", ["bj"]),
    (None, "2024-11-01 10:00+08", []),
    # 2025 in Shanghai's time (the goals' time zone), 2024 in UTC:
    ("professional", "2024-12-31 17:00+00", ["sh"]),
    ("enthusiast", "2025-02-10 10:00+08", ["sh"]),
    ("enthusiast", "2025-03-10 10:00+08", ["bj"]),
    ("partner", "2025-03-20 10:00+08", ["sh"]),
    # the second quarter in Shanghai, the first in UTC:
    ("professional", "2025-03-31 16:30+00", []),
    ("enthusiast", "2025-05-05 10:00+08", []),
    ("partner", "2025-06-15 10:00+08", []),
    ("professional", "2025-07-20 10:00+08", ["sh"]),
    ("decision_maker", "2025-09-09 10:00+08", ["bj"]),
    ("enthusiast", "2025-11-20 10:00+08", []),
    # after "today": not a member yet
    ("professional", "2025-12-20 10:00+08", ["sh"]),
]

# key: chapter, kind, title, starts_at, status, event time zone
EVENTS = {
    "E1": ("sh", "meetup", "Go profiling", "2025-02-15 14:00+08",
           "finished", "Asia/Shanghai"),
    "E2": ("sh", "meetup", "=Rust in prod", "2025-05-20 14:00+08",
           "finished", "Asia/Shanghai"),
    "E3": ("sh", "community_day", "Community Day", "2025-08-10 09:00+08",
           "finished", "Asia/Shanghai"),
    "E4": ("sh", "meetup", "Draft meetup", "2025-12-20 14:00+08",
           "draft", "Asia/Shanghai"),
    "E5": ("sh", "meetup", "Cancelled meetup", "2025-11-10 14:00+08",
           "cancelled", "Asia/Shanghai"),
    "E6": ("bj", "meetup", "Beijing kick-off", "2025-12-18 14:00+08",
           "published", "Asia/Shanghai"),
    "N1": ("ai", "nighttalk", "NightTalk: agents", "2025-03-06 20:00+08",
           "finished", "Asia/Shanghai"),
    # 1 July in Shanghai (the event's own day), 30 June in UTC (the
    # chapter's quarter: the second)
    "MA": ("ai", "meetup", "AI hands-on", "2025-07-01 05:00+08",
           "finished", "Asia/Shanghai"),
    "N4": ("ai", "nighttalk", "NightTalk: evals", "2025-10-02 20:00+08",
           "finished", "Asia/Shanghai"),
}

# key: [(identity, status, came)]; came: "door", "online" or None
P, EN, DM, PA = "professional", "enthusiast", "decision_maker", "partner"
C, W, X = "confirmed", "waitlisted", "cancelled"
REGS = {
    "E1": [(P, C, "door")] * 4 + [(P, C, None), (EN, C, "door"),
           (EN, C, None), (DM, C, "door"), (PA, W, None), (P, X, None)],
    "E2": [(P, C, "door")] * 2 + [(PA, C, "door")] * 2,
    "E3": [(EN, C, "door"), (EN, C, None), (EN, C, None), (P, C, None),
           (P, C, None)],
    "E4": [(P, C, None)],
    "E5": [(P, C, None), (EN, C, None)],
    "E6": [(P, C, None), (EN, C, None)],
    "N1": [(P, C, "online")] * 2 + [(P, C, None)] * 2 +
          [(EN, C, "online"), (EN, C, None)],
    "MA": [(P, C, "door")] * 2,
    "N4": [(P, C, "online")] * 3 + [(P, C, None)],
}

# chapter, role, since (the lead since before the year; a co-lead from
# mid-July, so the third quarter is not theirs to owe)
LEADERS = [("sh", "lead", "2024-01-10 10:00+08"),
           ("sh", "co_lead", "2025-07-15 10:00+08")]


def q(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def build(pg):
    """The community above, in plain SQL (without the chapters every
    migrated test cluster starts with: they would be rows of their own)."""
    sql = ["DELETE FROM chapters WHERE slug IN ('shanghai', 'beijing', "
           "'rust');"]
    for slug, name, zh, kind, status, tz, created in CHAPTERS:
        sql.append("INSERT INTO chapters (slug, name, name_zh, kind, city, "
                   "topic, status, timezone, created_at) VALUES (%s, %s, %s,"
                   " %s, %s, %s, %s, %s, %s);" % (
                       q(slug), q(name), q(zh), q(kind),
                       q(name) if kind == "city" else "NULL",
                       q(name) if kind == "topic" else "NULL", q(status),
                       q(tz), q(created)))
    for i, (ident, joined, chs) in enumerate(MEMBERS):
        sql.append("INSERT INTO persons (email, name, identity) VALUES "
                   "('member%d@example.com', 'Member %d', %s);" %
                   (i, i, q(ident)))
        sql.append("INSERT INTO members (person_id, joined_at) SELECT id, "
                   "%s FROM persons WHERE email = 'member%d@example.com';"
                   % (q(joined), i))
        for ch in chs:
            sql.append("INSERT INTO chapter_members (chapter_id, person_id)"
                       " SELECT c.id, p.id FROM chapters c, persons p WHERE "
                       "c.slug = %s AND p.email = 'member%d@example.com';"
                       % (q(ch), i))
    for i, (ch, role, since) in enumerate(LEADERS):
        sql.append("INSERT INTO persons (email, name) VALUES "
                   "('leader%d@example.com', 'Leader %d');" % (i, i))
        sql.append("INSERT INTO chapter_leaders (chapter_id, person_id, "
                   "role, since, added_by) SELECT c.id, p.id, %s, %s, "
                   "'test' FROM chapters c, persons p WHERE c.slug = %s AND "
                   "p.email = 'leader%d@example.com';"
                   % (q(role), q(since), q(ch), i))
    n = 0
    for key, (ch, kind, title, starts, status, tz) in EVENTS.items():
        sql.append(
            "INSERT INTO events (kind, title, chapter, format, venue, "
            "online_url, starts_at, ends_at, timezone, status, capacity) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::timestamptz + "
            "interval '1 hour', %s, %s, 100);" % (
                q(kind), q(title), q(ch),
                q("workshop") if kind == "meetup" else "NULL",
                "NULL" if kind == "nighttalk" else q("Hall 1"),
                q("https://live.example.com/x") if kind == "nighttalk"
                else "NULL", q(starts), q(starts), q(tz), q(status)))
        for ident, st, came in REGS[key]:
            n += 1
            sql.append(
                "INSERT INTO registrations (event_id, status, name, email, "
                "company, job_title, identity, secret_hash, checked_in_at, "
                "joined_at) SELECT id, %s, 'Guest %d', 'guest%d@example.com',"
                " 'Acme', 'Dev', %s, sha256('reg%d'::bytea), %s, %s FROM "
                "events WHERE title = %s;" % (
                    q(st), n, n, q(ident), n,
                    "starts_at" if came == "door" else "NULL",
                    "starts_at" if came == "online" else "NULL", q(title)))
    pg.psql("\n".join(sql))


@pytest.fixture(scope="module")
def world(rollcalld_bin, tmp_path_factory):
    """A cluster and a daemon of this module's own, the community in it,
    and tokens: admin, committee, a leader of sh, a leader of nothing,
    an organizer and a door."""
    c = PgCluster(prefix="rollcall-it-reports-")
    d = None
    try:
        c.start()
        migrate(rollcalld_bin, c.conninfo)
        d = support.Daemon(rollcalld_bin, c.conninfo,
                           tmp_path_factory.mktemp("reports") / "d.log")
        d.start()
        build(c)
        w = {"pg": c, "d": d, "bin": rollcalld_bin}
        for role in ("admin", "committee", "organizer"):
            w[role] = cli_token(rollcalld_bin, c.conninfo, role,
                                "reports-" + role)
        for name, chs in (("leader", "ARRAY(SELECT id FROM chapters WHERE "
                           "slug = 'sh')"), ("nobody", "'{}'::bigint[]")):
            tok = cli_token(rollcalld_bin, c.conninfo, "leader",
                            "reports-" + name, "--chapter", "sh")
            c.psql("UPDATE tokens SET chapters = %s WHERE jti = '%s'" % (
                chs, support.jwt_claims(tok)["jti"]))
            w[name] = tok
        e1 = c.scalar("SELECT id FROM events WHERE title = 'Go profiling'")
        w["door"] = expect(d.api("POST", "/api/v1/tokens", {
            "role": "door", "name": "door", "events": [int(e1)]},
            token=w["admin"]), 201)["token"]
        yield w
    finally:
        if d is not None:
            d.stop_and_check()
        c.destroy()


def get(w, path, who="admin"):
    return expect(w["d"].api("GET", path, token=w[who]), 200)


def mix_of(m):
    """{identity: (n, share)} of a mix, with its total."""
    return {i["identity"]: (i["n"], i["share"]) for i in m["identities"]}


def expected_mix(identities):
    """What a mix of these identities must say: counts and shares to
    four places."""
    total = len(identities)
    want = {}
    for k in IDS:
        n = sum(1 for i in identities if (i or "unknown") == k)
        want[k] = (n, round(n / total, 4) if total else None)
    return total, want


def check_mix(m, identities, what):
    total, want = expected_mix(identities)
    assert m["total"] == total, "%s: total %r, want %d" % (
        what, m["total"], total)
    got = mix_of(m)
    assert got == want, "%s: %r, want %r" % (what, got, want)


def attendee_ids(keys, came_only):
    return [i for k in keys for (i, st, came) in REGS[k]
            if st == "confirmed" and (came or not came_only)]


def test_identity_mix_of_members_new_members_and_attendees(world):
    r = get(world, "/api/v1/reports/identity?" + Q)
    assert (r["from"], r["to"], r["as_of"]) == (
        "2025-01-01", "2025-12-31", AS_OF), \
        "the period defaults to the calendar year of as_of: %r" % r
    # 16 members by 5 December (the 17th joins later): 6 professional
    m = r["members"]
    assert m["total"] == 16 and not m["suppressed"], m
    assert mix_of(m) == {"enthusiast": (5, 0.3125),
                         "professional": (6, 0.375),
                         "decision_maker": (2, 0.125),
                         "partner": (2, 0.125), "unknown": (1, 0.0625)}, m
    assert m["goal"] == {"identity": "professional", "target_percent": 80,
                         "target": 0.8, "share": 0.375, "met": False}, m
    # 10 joined in 2025 in Shanghai's calendar; 3 professional: exactly
    # the goal of 30%, which counts as met
    n = r["new_members"]
    assert n["total"] == 10, "new members in 2025 (Asia/Shanghai): %r" % n
    assert mix_of(n) == {"enthusiast": (4, 0.4), "professional": (3, 0.3),
                         "decision_maker": (1, 0.1), "partner": (2, 0.2),
                         "unknown": (0, 0.0)}, n
    assert n["goal"]["met"] is True and n["goal"]["target_percent"] == 30, n
    # each chapter's members: sh 7, bj 3 (too few: only the total), ai 0
    by = {c["chapter"]: c["mix"] for c in r["members_by_chapter"]}
    assert set(by) == {"sh", "bj", "ai"}, \
        "retired chapters have no row: %r" % list(by)
    assert by["sh"]["total"] == 7 and by["sh"]["goal"]["share"] == 0.5714 \
        and by["sh"]["goal"]["met"] is False, by["sh"]
    check_mix(by["sh"], [P, P, EN, P, EN, PA, P], "sh's members")
    assert by["bj"]["total"] == 3 and by["bj"]["suppressed"] is True, by["bj"]
    assert all(i["n"] is None and i["share"] is None
               for i in by["bj"]["identities"]), \
        "a mix of 3 members must withhold its counts: %r" % by["bj"]
    assert by["bj"]["goal"]["met"] is None and \
        by["bj"]["goal"]["share"] is None, by["bj"]
    assert by["ai"]["total"] == 0 and not by["ai"]["suppressed"] and \
        by["ai"]["goal"]["met"] is None, by["ai"]
    # attendees: counted events only (not the draft, not the cancelled)
    att = r["attendees"]
    titles = [e["title"] for e in att["events"]]
    assert titles == ["Go profiling", "NightTalk: agents", "=Rust in prod",
                      "AI hands-on", "Community Day", "NightTalk: evals",
                      "Beijing kick-off"], titles
    keys = {EVENTS[k][2]: k for k in EVENTS}
    for e in att["events"]:
        k = keys[e["title"]]
        check_mix(e["confirmed"], attendee_ids([k], False),
                  "%s confirmed" % k)
        check_mix(e["checked_in"], attendee_ids([k], True),
                  "%s checked in" % k)
    e1 = att["events"][0]
    assert e1["confirmed"]["total"] == 8 and \
        mix_of(e1["confirmed"])["professional"] == (5, 0.625), e1
    assert e1["checked_in"]["total"] == 6 and \
        mix_of(e1["checked_in"])["professional"] == (4, 0.6667), e1
    chapters = {"sh": ["E1", "E2", "E3"], "bj": ["E6"],
                "ai": ["N1", "MA", "N4"]}
    assert [c["chapter"] for c in att["chapters"]] == ["ai", "bj", "sh"]
    for c in att["chapters"]:
        check_mix(c["confirmed"], attendee_ids(chapters[c["chapter"]],
                                               False), c["chapter"])
        check_mix(c["checked_in"], attendee_ids(chapters[c["chapter"]],
                                                True), c["chapter"])
    kinds = {"meetup": ["E1", "E2", "E6", "MA"], "community_day": ["E3"],
             "nighttalk": ["N1", "N4"]}
    assert [k["kind"] for k in att["kinds"]] == ["meetup", "community_day",
                                                 "nighttalk"]
    for k in att["kinds"]:
        check_mix(k["confirmed"], attendee_ids(kinds[k["kind"]], False),
                  k["kind"])
        check_mix(k["checked_in"], attendee_ids(kinds[k["kind"]], True),
                  k["kind"])
    meet = {k["kind"]: k for k in att["kinds"]}["meetup"]
    assert mix_of(meet["confirmed"])["professional"] == (10, 0.625) and \
        mix_of(meet["checked_in"])["professional"] == (8, 0.6667), meet


def test_a_period_narrows_new_members_and_events(world):
    r = get(world, "/api/v1/reports/identity?from=2025-04-01&to=2025-06-30&"
            + Q)
    assert r["new_members"]["total"] == 3, \
        "three joined in the second quarter (Shanghai): %r" % r["new_members"]
    assert r["new_members"]["suppressed"] is True, \
        "three new members are too few to show their mix"
    assert [e["title"] for e in r["attendees"]["events"]] == \
        ["=Rust in prod"], r["attendees"]["events"]
    assert r["members"]["total"] == 16, "members are all members by as_of"


def quarters(row):
    return [(x["events"], x["state"]) for x in row["quarters"]]


def test_chapter_health_flags_every_quarter(world):
    r = get(world, "/api/v1/reports/chapter-health?year=2025&" + Q)
    by = {c["chapter"]: c for c in r["chapters"]}
    assert list(by) == ["ai", "bj", "sh"], \
        "every chapter but the retired one, by slug: %r" % list(by)
    # sh: one event a quarter until the fourth, which has only a draft
    # and a cancelled meetup, 27 days left: at risk
    assert quarters(by["sh"]) == [(1, "ok"), (1, "ok"), (1, "ok"),
                                  (0, "at_risk")], by["sh"]
    assert by["sh"]["quarters"][3]["days_left"] == 27
    assert by["sh"]["year"] == {"year": 2025, "events": 3, "held": 3,
                                "target": 4, "required_so_far": 4,
                                "on_track": False, "met": None}, by["sh"]
    # bj began on 10 May: Q1 and Q2 are not due, Q3 passed without an
    # event, Q4's event is scheduled (not yet held)
    assert quarters(by["bj"]) == [(0, "not_due"), (0, "not_due"),
                                  (0, "missed"), (1, "ok")], by["bj"]
    assert by["bj"]["quarters"][3]["held"] == 0
    assert by["bj"]["since"] == "2025-05-10"
    assert by["bj"]["year"]["target"] == 2 and \
        by["bj"]["year"]["required_so_far"] == 2 and \
        by["bj"]["year"]["on_track"] is False, by["bj"]
    # ai keeps UTC: the hands-on of 1 July 05:00 in Shanghai is 30 June
    # there, the second quarter; the third is missed
    assert quarters(by["ai"]) == [(1, "ok"), (1, "ok"), (0, "missed"),
                                  (1, "ok")], by["ai"]
    assert by["ai"]["year"]["on_track"] is False
    assert r["summary"] == {"chapters": 3, "missed": 2, "at_risk": 1,
                            "off_track": 3}, r["summary"]
    # sh's leaders: the lead owes the whole year; the co-lead from
    # 15 July owes only Q4 and has the August day to count
    lead = {l["role"]: l for l in by["sh"]["leaders"]}
    assert set(lead) == {"lead", "co_lead"}
    assert quarters(lead["lead"]) == quarters(by["sh"])
    assert quarters(lead["co_lead"]) == [(0, "not_due"), (0, "not_due"),
                                         (1, "ok"), (0, "at_risk")]
    assert lead["co_lead"]["since"] == "2025-07-15"
    assert lead["co_lead"]["year"]["target"] == 1 and \
        lead["co_lead"]["year"]["on_track"] is True, lead["co_lead"]
    for l in by["sh"]["leaders"]:
        assert set(l) == {"role", "since", "quarters", "year"}, \
            "a leader's row names no person: %r" % l


def test_chapter_health_at_other_days(world):
    # 2 December: 30 days left, not fewer than 30: open, not at risk
    r = get(world, "/api/v1/reports/chapter-health?year=2025&"
            "as_of=2025-12-02")
    sh = {c["chapter"]: c for c in r["chapters"]}["sh"]
    assert sh["quarters"][3]["state"] == "open" and \
        sh["quarters"][3]["days_left"] == 30, sh["quarters"][3]
    # 3 December: 29 days left: at risk
    r = get(world, "/api/v1/reports/chapter-health?year=2025&"
            "as_of=2025-12-03")
    sh = {c["chapter"]: c for c in r["chapters"]}["sh"]
    assert sh["quarters"][3]["state"] == "at_risk"
    # a year that is over: missed, and met says whether the target was
    r = get(world, "/api/v1/reports/chapter-health?year=2025&"
            "as_of=2026-01-02")
    by = {c["chapter"]: c for c in r["chapters"]}
    assert by["sh"]["quarters"][3]["state"] == "missed"
    assert by["sh"]["year"]["met"] is False and \
        by["sh"]["year"]["held"] == 3, by["sh"]["year"]
    # in the middle of August: Q3 has its event, Q4 is still ahead
    r = get(world, "/api/v1/reports/chapter-health?year=2025&"
            "as_of=2025-08-15")
    by = {c["chapter"]: c for c in r["chapters"]}
    assert quarters(by["sh"]) == [(1, "ok"), (1, "ok"), (1, "ok"),
                                  (0, "future")], by["sh"]
    assert by["sh"]["year"]["required_so_far"] == 3 and \
        by["sh"]["year"]["on_track"] is True, by["sh"]["year"]
    assert quarters(by["ai"])[2] == (0, "open")


def test_attendance_no_shows_and_join_rates(world):
    r = get(world, "/api/v1/reports/attendance?" + Q)
    t = r["total"]
    assert (t["events"], t["registered"], t["confirmed"], t["waitlisted"],
            t["cancelled"], t["checked_in"], t["joined"], t["no_shows"]) == \
        (7, 33, 31, 1, 1, 19, 6, 12), t
    assert t["no_show_rate"] == 0.3871 and t["join_rate"] == 0.6, t
    kinds = {k["kind"]: k for k in r["kinds"]}
    assert (kinds["meetup"]["confirmed"], kinds["meetup"]["checked_in"],
            kinds["meetup"]["no_shows"], kinds["meetup"]["no_show_rate"],
            kinds["meetup"]["join_rate"]) == (16, 12, 4, 0.25, None), kinds
    assert (kinds["community_day"]["no_shows"],
            kinds["community_day"]["no_show_rate"]) == (4, 0.8), kinds
    assert (kinds["nighttalk"]["confirmed"], kinds["nighttalk"]["joined"],
            kinds["nighttalk"]["join_rate"],
            kinds["nighttalk"]["no_show_rate"]) == (10, 6, 0.6, 0.4), kinds
    ch = {c["chapter"]: c for c in r["chapters"]}
    assert (ch["sh"]["registered"], ch["sh"]["confirmed"],
            ch["sh"]["checked_in"], ch["sh"]["no_shows"],
            ch["sh"]["no_show_rate"]) == (19, 17, 11, 6, 0.3529), ch["sh"]
    assert (ch["bj"]["no_shows"], ch["bj"]["no_show_rate"]) == (2, 1.0)
    assert (ch["ai"]["joined"], ch["ai"]["join_rate"],
            ch["ai"]["no_show_rate"]) == (6, 0.6, 0.3333), ch["ai"]
    ev = {e["title"]: e for e in r["events"]}
    assert set(ev) == {EVENTS[k][2] for k in EVENTS
                       if EVENTS[k][4] != "draft" and
                       EVENTS[k][4] != "cancelled"}
    e1 = ev["Go profiling"]
    assert (e1["registered"], e1["confirmed"], e1["waitlisted"],
            e1["cancelled"], e1["checked_in"], e1["no_shows"],
            e1["no_show_rate"], e1["over"]) == \
        (10, 8, 1, 1, 6, 2, 0.25, True), e1
    assert (ev["NightTalk: evals"]["join_rate"],
            ev["NightTalk: agents"]["join_rate"]) == (0.75, 0.5)
    assert ev["Go profiling"]["join_rate"] is None


def test_growth_per_quarter(world):
    r = get(world, "/api/v1/reports/growth?" + Q)
    rows = [(x["quarter"], x["new_members"], x["new_chapters"], x["events"],
             x["attendees_offline"], x["attendees_online"])
            for x in r["quarters"]]
    assert rows == [("2025-Q1", 4, 0, 2, 6, 3),
                    ("2025-Q2", 3, 1, 1, 4, 0),
                    ("2025-Q3", 2, 0, 2, 3, 0),
                    ("2025-Q4", 1, 0, 2, 0, 3)], rows
    # a period of two years, quarter by quarter
    r = get(world, "/api/v1/reports/growth?from=2024-01-01&to=2025-06-30&"
            + Q)
    assert [x["quarter"] for x in r["quarters"]] == [
        "2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]
    assert [x["new_members"] for x in r["quarters"]] == [1, 1, 2, 2, 4, 3]
    assert [x["new_chapters"] for x in r["quarters"]] == [2, 0, 0, 0, 0, 1]


def test_csv_holds_the_same_numbers_and_neutralises_formulas(world):
    def rows(path):
        resp = world["d"].api("GET", path, token=world["admin"])
        assert resp.status == 200, resp
        assert resp.headers["Content-Type"].startswith("text/csv"), resp
        assert "attachment" in resp.headers["Content-Disposition"]
        text = resp.raw.decode("utf-8")
        assert text.startswith("\ufeff"), "CSV without the BOM Excel needs"
        return list(csv.DictReader(io.StringIO(text[1:])))
    ident = rows("/api/v1/reports/identity?format=csv&" + Q)
    m = [x for x in ident if x["section"] == "members"][0]
    assert (m["total"], m["professional_n"], m["professional_share"],
            m["goal_percent"], m["met"]) == ("16", "6", "0.3750", "80",
                                             "false"), m
    bj = [x for x in ident if x["section"] == "chapter_members" and
          x["group"] == "bj"][0]
    assert bj["suppressed"] == "true" and bj["professional_n"] == "" and \
        bj["professional_share"] == "", bj
    rust = [x for x in ident if x["name"].endswith("Rust in prod")]
    assert rust and all(x["name"] == "'=Rust in prod" for x in rust), \
        "an event title starting with = must be neutralised: %r" % rust
    health = rows("/api/v1/reports/chapter-health?year=2025&format=csv&" + Q)
    sh = [x for x in health if x["chapter"] == "sh" and not x["leader_role"]]
    assert len(sh) == 1 and (sh[0]["q4_events"], sh[0]["q4_state"],
                             sh[0]["year_events"], sh[0]["on_track"]) == \
        ("0", "at_risk", "3", "false"), sh
    co = [x for x in health if x["leader_role"] == "co_lead"]
    assert len(co) == 1 and co[0]["q3_state"] == "ok" and \
        co[0]["leader_since"] == "2025-07-15", co
    att = rows("/api/v1/reports/attendance?format=csv&" + Q)
    total = [x for x in att if x["level"] == "total"][0]
    assert (total["registered"], total["confirmed"], total["no_shows"],
            total["no_show_rate"], total["join_rate"]) == \
        ("33", "31", "12", "0.3871", "0.6000"), total
    growth = rows("/api/v1/reports/growth?format=csv&" + Q)
    assert [(x["quarter"], x["new_members"], x["attendees_online"])
            for x in growth] == [("2025-Q1", "4", "3"), ("2025-Q2", "3", "0"),
                                 ("2025-Q3", "2", "0"), ("2025-Q4", "1", "3")]


def test_reports_name_no_person(world):
    """No name, e-mail or person id of a member, leader or attendee in
    any report, JSON or CSV."""
    for path in ("identity", "chapter-health", "attendance", "growth"):
        for fmt in ("json", "csv"):
            resp = world["d"].api("GET", "/api/v1/reports/%s?format=%s&%s"
                                  % (path, fmt, Q), token=world["admin"])
            text = resp.raw.decode("utf-8")
            assert resp.status == 200, resp
            for bad in ("@example.com", "Member ", "Leader ", "Guest ",
                        "person"):
                assert bad not in text, "%s (%s) shows %r" % (path, fmt, bad)


def test_who_sees_which_chapters(world):
    d = world["d"]
    for who in ("door", "organizer"):
        for path in ("identity", "chapter-health", "attendance", "growth",
                     "goals"):
            expect(d.api("GET", "/api/v1/reports/" + path,
                         token=world[who]), 403, "forbidden")
    expect(d.api("GET", "/api/v1/reports/identity"), 401, "missing_token")
    # the committee sees every chapter, as the admin does
    c = get(world, "/api/v1/reports/chapter-health?year=2025&" + Q,
            "committee")
    assert [x["chapter"] for x in c["chapters"]] == ["ai", "bj", "sh"]
    # a leader of sh: its members, its events, its chapter
    r = get(world, "/api/v1/reports/identity?" + Q, "leader")
    assert r["members"]["total"] == 7, r["members"]
    check_mix(r["members"], [P, P, EN, P, EN, PA, P], "the leader's members")
    assert r["new_members"]["total"] == 4 and \
        r["new_members"]["suppressed"] is True, r["new_members"]
    assert [c["chapter"] for c in r["members_by_chapter"]] == ["sh"]
    assert {e["chapter"] for e in r["attendees"]["events"]} == {"sh"}
    h = get(world, "/api/v1/reports/chapter-health?year=2025&" + Q, "leader")
    assert [x["chapter"] for x in h["chapters"]] == ["sh"]
    a = get(world, "/api/v1/reports/attendance?" + Q, "leader")
    assert a["total"]["registered"] == 19 and \
        [c["chapter"] for c in a["chapters"]] == ["sh"], a["total"]
    g = get(world, "/api/v1/reports/growth?" + Q, "leader")
    assert [x["new_members"] for x in g["quarters"]] == [3, 0, 1, 0]
    assert [x["events"] for x in g["quarters"]] == [1, 1, 1, 0]
    # a leader of no chapter sees nothing, not everything
    n = get(world, "/api/v1/reports/identity?" + Q, "nobody")
    assert n["members"]["total"] == 0 and n["members_by_chapter"] == [] \
        and n["attendees"]["events"] == [], n
    n = get(world, "/api/v1/reports/chapter-health?" + Q, "nobody")
    assert n["chapters"] == []


def test_bad_queries_are_refused(world):
    d, tok = world["d"], world["admin"]
    for path, field in (("identity?from=2025-13-01", "from"),
                        ("identity?to=tomorrow", "to"),
                        ("identity?from=2025-06-01&to=2025-05-01", "to"),
                        ("attendance?as_of=2025-02-30", "as_of"),
                        ("chapter-health?year=1999", "year"),
                        ("chapter-health?year=20x5", "year"),
                        ("growth?format=xml", "format"),
                        ("growth?from=2000-01-01&to=2025-01-01", "to")):
        r = d.api("GET", "/api/v1/reports/" + path, token=tok)
        support.expect_field_error(r, field)


def test_goals_read_changed_by_committee_only_and_audited(world):
    d, pg = world["d"], world["pg"]
    g = get(world, "/api/v1/reports/goals", "leader")
    assert (g["members_professional_percent"],
            g["new_members_professional_percent"], g["events_per_year"],
            g["events_per_quarter"], g["at_risk_days"], g["timezone"]) == \
        (80, 30, 4, 1, 30, "Asia/Shanghai"), g
    for who in ("leader", "organizer", "door"):
        expect(d.api("PATCH", "/api/v1/reports/goals", {"at_risk_days": 20},
                     token=world[who]), 403, "forbidden")
    for body, field in (({"at_risk_days": 0}, "at_risk_days"),
                        ({"members_professional_percent": 101},
                         "members_professional_percent"),
                        ({"events_per_year": "4"}, "events_per_year"),
                        ({"timezone": "Mars/Olympus"}, "timezone"),
                        ({"colour": "red"}, "colour"), ({}, "body")):
        support.expect_field_error(d.api("PATCH", "/api/v1/reports/goals",
                                         body, token=world["committee"]),
                                   field)
    before = int(pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                           "'report.goals'"))
    assert before == 0, "a refused change was audited"
    try:
        g = expect(d.api("PATCH", "/api/v1/reports/goals",
                         {"at_risk_days": 20,
                          "members_professional_percent": 35},
                         token=world["committee"]), 200)
        assert g["at_risk_days"] == 20 and \
            g["members_professional_percent"] == 35 and \
            g["events_per_year"] == 4, g
        row = pg.psql("SELECT actor, detail->'before'->>'at_risk_days', "
                      "detail->'after'->>'at_risk_days' FROM audit_log "
                      "WHERE action = 'report.goals'")
        jti = support.jwt_claims(world["committee"])["jti"]
        assert row == [[jti, "30", "20"]], row
        # 27 days left is no longer fewer than the 20 of the goal
        h = get(world, "/api/v1/reports/chapter-health?year=2025&" + Q)
        sh = {c["chapter"]: c for c in h["chapters"]}["sh"]
        assert sh["quarters"][3]["state"] == "open"
        assert h["summary"]["at_risk"] == 0
        # 37.5% of members now meets 35%
        i = get(world, "/api/v1/reports/identity?" + Q)
        assert i["members"]["goal"]["met"] is True and \
            i["members"]["goal"]["target"] == 0.35, i["members"]["goal"]
    finally:
        expect(d.api("PATCH", "/api/v1/reports/goals",
                     {"at_risk_days": 30, "members_professional_percent": 80},
                     token=world["admin"]), 200)


def test_console_page_draws_charts_with_tables_in_both_languages(world):
    d, pg = world["d"], world["pg"]
    link = account_add(world["bin"], pg.conninfo, "rp-admin@example.org",
                       role="admin", name="Report Admin")
    b = signed_in(d.port, link)
    r = b.get("/console/reports?year=2025&" + Q + "&lang=en")
    assert r.status == 200, r.text[:500]
    assert r.getheader("Content-Security-Policy").startswith(
        "default-src 'none'"), "the page keeps the console's CSP"
    svgs = re.findall(r"<svg[^>]*>", r.text)
    assert len(svgs) == 6, "six charts, got %d" % len(svgs)
    for s in svgs:
        assert 'role="img"' in s and "aria-labelledby" in s, s
    assert r.text.count("<title id=") == 6 and \
        r.text.count("<desc id=") == 6, "each chart has a title and desc"
    assert "<script" not in r.text.replace(
        '<script src="/static/console.js" defer></script>', ""), \
        "no inline script on the page"
    assert 'class="rp-goal"' in r.text, "no goal line on the identity bars"
    assert "Professional developers among members: <strong>37.5%</strong>" \
        " (Goal 80%) — <strong class=\"rp-not-met\">not met</strong>" \
        in r.text
    assert 'data-chapter="sh"' in r.text and \
        'data-state="at_risk"' in r.text
    assert "Member " not in r.text and "@example.com" not in r.text
    # the CSV download under the session
    c = b.get("/console/reports?csv=growth&" + Q)
    assert c.status == 200 and c.getheader("Content-Type").startswith(
        "text/csv"), c.status
    assert c.body.decode("utf-8").splitlines()[1].startswith('"2025-Q1"')
    z = b.get("/console/reports?year=2025&" + Q + "&lang=zh-CN")
    assert z.status == 200 and "会员中的专业开发者" in z.text and \
        "上海" in z.text and "有风险" in z.text, z.text[:300]
    # a leader's account sees its chapter only; an organizer's gets 403
    pg.psql("INSERT INTO persons (email, name) VALUES "
            "('rp-lead@example.org', 'Lead')")
    pg.psql("INSERT INTO chapter_leaders (chapter_id, person_id, role, "
            "added_by) SELECT c.id, p.id, 'lead', 'test' FROM chapters c, "
            "persons p WHERE c.slug = 'bj' AND p.email = "
            "'rp-lead@example.org'")
    e6 = pg.scalar("SELECT id FROM events WHERE title = 'Beijing kick-off'")
    lb = signed_in(d.port, account_add(world["bin"], pg.conninfo,
                                       "rp-lead@example.org", events=[e6],
                                       name="Lead"))
    lr = lb.get("/console/reports?year=2025&" + Q + "&lang=en")
    assert lr.status == 200, lr.text[:300]
    assert 'data-chapter="bj"' in lr.text and \
        'data-chapter="sh"' not in lr.text
    assert 'action="/console/reports/goals"' not in lr.text, \
        "a leader is offered the goals form"
    ob = signed_in(d.port, account_add(world["bin"], pg.conninfo,
                                       "rp-org@example.org", events=[e6],
                                       name="Org"))
    assert ob.get("/console/reports").status == 403


def test_console_goals_form_needs_csrf_and_saves(world):
    d, pg = world["d"], world["pg"]
    b = signed_in(d.port, account_add(world["bin"], pg.conninfo,
                                      "rp-goals@example.org", role="admin",
                                      name="Goals Admin"))
    b.get("/console/reports")
    r = b.post("/console/reports/goals", {"at_risk_days": "10"}, csrf=False)
    assert r.status == 403, r.status
    try:
        r = b.post("/console/reports/goals", {
            "members_professional_percent": "", "at_risk_days": "10",
            "timezone": ""})
        assert r.status == 303 and r.getheader("Location") == \
            "/console/reports?done=goals", (r.status, r.text[:300])
        g = get(world, "/api/v1/reports/goals")
        assert g["at_risk_days"] == 10 and \
            g["members_professional_percent"] == 80, g
        r = b.post("/console/reports/goals", {"at_risk_days": "ten"})
        assert r.status == 400 and "at_risk_days" in r.text
    finally:
        expect(d.api("PATCH", "/api/v1/reports/goals", {"at_risk_days": 30},
                     token=world["admin"]), 200)
