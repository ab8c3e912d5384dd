"""Events: creation with kind defaults, validation, status transitions,
visibility of drafts, the public list and its filters."""
import urllib.parse

import pytest

from community_support import make_chapter
from support import (DROP, at, community_day, expect, expect_field_error,
                     meetup, uniq)


def ids(events):
    return [e["id"] for e in events]


def public_list(api, query=""):
    j = expect(api("GET", "/api/v1/events" + query), 200)
    assert isinstance(j, dict) and isinstance(j.get("events"), list), \
        "GET /api/v1/events%s should answer {\"events\": [...]}: %r" % (
            query, j)
    return j["events"]


# --- creation ---------------------------------------------------------------

def test_meetup_is_created_as_draft_with_capacity_100(api, admin_token, pg):
    body = meetup()
    ev = expect(api("POST", "/api/v1/events", body, token=admin_token), 201)
    assert isinstance(ev.get("id"), int), ev
    got = {k: ev.get(k) for k in ("kind", "status", "capacity", "seats_left",
                                  "members_only", "waitlist", "timezone",
                                  "format", "title")}
    assert got == {"kind": "meetup", "status": "draft", "capacity": 100,
                   "seats_left": 100, "members_only": False,
                   "waitlist": True, "timezone": "Asia/Shanghai",
                   "format": "workshop", "title": body["title"]}, ev
    # 14:00+08:00 in Asia/Shanghai is 14:00 local.
    assert ev["starts_at_local"] == body["starts_at"][:19], ev
    assert ev["ends_at_local"] == body["ends_at"][:19], ev
    # A 201 means the row is committed.
    row = pg.psql("SELECT status, capacity, members_only, timezone, kind "
                  "FROM events WHERE id = %d" % ev["id"])
    assert row == [["draft", "100", "f", "Asia/Shanghai", "meetup"]], row
    assert pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                     "'event.create' AND event_id = %d" % ev["id"]) == "1"


def test_community_day_is_created_as_draft_with_capacity_300(api,
                                                             admin_token):
    ev = expect(api("POST", "/api/v1/events", community_day(),
                    token=admin_token), 201)
    assert (ev["kind"], ev["status"], ev["capacity"], ev["members_only"],
            ev["format"]) == ("community_day", "draft", 300, False, None), ev


def test_explicit_capacity_and_unlimited_capacity_are_kept(api, admin_token):
    ev = expect(api("POST", "/api/v1/events", meetup(capacity=42),
                    token=admin_token), 201)
    assert (ev["capacity"], ev["seats_left"]) == (42, 42), ev
    ev = expect(api("POST", "/api/v1/events", community_day(capacity=None),
                    token=admin_token), 201)
    assert (ev["capacity"], ev["seats_left"]) == (None, None), \
        "capacity null means unlimited: %r" % ev


def test_local_times_follow_the_event_time_zone(api, admin_token):
    # 14:00 at +08:00 is 06:00 UTC, 07:00 in Berlin in winter.
    body = meetup(starts_at="2027-01-14T14:00:00+08:00",
                  ends_at="2027-01-14T18:00:00+08:00",
                  timezone="Europe/Berlin")
    ev = expect(api("POST", "/api/v1/events", body, token=admin_token), 201)
    assert ev["timezone"] == "Europe/Berlin", ev
    assert ev["starts_at_local"] == "2027-01-14T07:00:00", ev
    assert ev["ends_at_local"] == "2027-01-14T11:00:00", ev


def test_title_of_exactly_200_bytes_is_accepted(api, admin_token):
    title = "\u4e0a" * 66 + "ab"          # 66 * 3 + 2 = 200 bytes
    ev = expect(api("POST", "/api/v1/events", meetup(title=title),
                    token=admin_token), 201)
    assert ev["title"] == title


# --- validation -------------------------------------------------------------

SAME = at(30, 14)
INVALID = [
    ("meetup without format", meetup(format=DROP), "format"),
    ("meetup with null format", meetup(format=None), "format"),
    ("community day with a format", community_day(format="panel"), "format"),
    # A draft may lack its venue (docs/approval.md); a kind's shape holds.
    ("a three-day half-day meetup",
     meetup(starts_at=at(30, 14), ends_at=at(32, 18)), "ends_at"),
    ("meetup of 13 hours", meetup(starts_at=at(30, 8), ends_at=at(30, 21)),
     "ends_at"),
    ("community day over two days",
     community_day(starts_at=at(40, 9), ends_at=at(41, 18)), "ends_at"),
    ("ends_at without starts_at", meetup(starts_at=DROP), "starts_at"),
    ("ends before it starts", meetup(starts_at=at(30, 18), ends_at=at(30, 14)),
     "ends_at"),
    ("ends when it starts", meetup(starts_at=SAME, ends_at=SAME), "ends_at"),
    ("time zone that does not exist", meetup(timezone="Mars/Olympus"),
     "timezone"),
    ("time zone with a space", meetup(timezone="Asia/Shang hai"), "timezone"),
    ("registration closes before it opens",
     meetup(registration_opens_at=at(10, 9), registration_closes_at=at(5, 9)),
     "registration_closes_at"),
    ("missing title", meetup(title=DROP), "title"),
    ("blank title", meetup(title="   "), "title"),
    ("missing chapter", meetup(chapter=DROP), "chapter"),
    ("negative capacity", meetup(capacity=-1), "capacity"),
    ("online_url that is not http", meetup(online_url="javascript:alert(1)"),
     "online_url"),
]


@pytest.mark.parametrize("body,field", [c[1:] for c in INVALID],
                         ids=[c[0] for c in INVALID])
def test_invalid_event_is_refused_naming_the_field(api, admin_token, pg,
                                                   body, field):
    before = pg.counts()
    expect_field_error(api("POST", "/api/v1/events", body,
                           token=admin_token), field)
    assert pg.counts() == before, "a refused event changed the database"


def test_nighttalk_cannot_be_created_directly(api, admin_token, pg):
    before = pg.counts()
    body = meetup(kind="nighttalk", format=DROP, venue=DROP,
                  online_url="https://live.example.com/x")
    j = expect_field_error(api("POST", "/api/v1/events", body,
                               token=admin_token), "kind")
    assert "series" in j["message"], \
        "the refusal should point at POST /api/v1/series: %r" % j
    assert pg.counts() == before


# --- transitions ------------------------------------------------------------

def patch(api, token, ev_id, body):
    return api("PATCH", "/api/v1/events/%d" % ev_id, body, token=token)


def test_draft_is_published_then_finished(api, admin_token, pg,
                                          create_event):
    ev = create_event()
    j = expect(patch(api, admin_token, ev["id"], {"status": "published"}),
               200)
    assert j["status"] == "published", j
    assert pg.scalar("SELECT status FROM events WHERE id = %d" %
                     ev["id"]) == "published"
    assert pg.scalar("SELECT count(*) FROM audit_log WHERE event_id = %d AND "
                     "action = 'event.published'" % ev["id"]) == "1"
    j = expect(patch(api, admin_token, ev["id"], {"status": "finished"}), 200)
    assert j["status"] == "finished", j


@pytest.mark.parametrize("start", ["draft", "published"])
def test_event_can_be_cancelled(api, admin_token, create_event, start):
    ev = create_event(status=start)
    j = expect(patch(api, admin_token, ev["id"], {"status": "cancelled"}),
               200)
    assert j["status"] == "cancelled", j


@pytest.mark.parametrize("start,target", [
    ("draft", "finished"),
    ("published", "draft"),
])
def test_invalid_transition_is_refused(api, admin_token, pg, create_event,
                                       start, target):
    ev = create_event(status=start)
    expect(patch(api, admin_token, ev["id"], {"status": target}), 409,
           "invalid_transition")
    assert pg.scalar("SELECT status FROM events WHERE id = %d" %
                     ev["id"]) == start


@pytest.mark.parametrize("closed", ["cancelled", "finished"])
@pytest.mark.parametrize("change", [{"title": "Renamed"},
                                    {"status": "published"},
                                    {"capacity": 5}],
                         ids=["title", "status", "capacity"])
def test_closed_event_cannot_change(api, admin_token, pg, create_event,
                                    closed, change):
    ev = create_event(status=closed)
    expect(patch(api, admin_token, ev["id"], change), 409, "event_closed")
    row = pg.psql("SELECT status, title, capacity FROM events WHERE id = %d"
                  % ev["id"])
    assert row == [[closed, ev["title"], str(ev["capacity"])]], row


def test_draft_fields_can_be_edited(api, admin_token, pg, create_event):
    ev = create_event()
    j = expect(patch(api, admin_token, ev["id"],
                     {"title": "New title", "capacity": 7,
                      "format": "panel"}), 200)
    assert (j["title"], j["capacity"], j["format"], j["status"]) == \
        ("New title", 7, "panel", "draft"), j
    assert pg.psql("SELECT title, capacity, format FROM events WHERE id = %d"
                   % ev["id"]) == [["New title", "7", "panel"]]


@pytest.mark.parametrize("change,field", [
    ({"kind": "community_day"}, "kind"),
    ({"format": None}, "format"),
    ({"ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
], ids=["kind", "format-null", "ends-before-start", "timezone"])
def test_invalid_edit_changes_nothing(api, admin_token, pg, create_event,
                                      change, field):
    ev = create_event()
    q = ("SELECT kind, format, ends_at, timezone, updated_at FROM events "
         "WHERE id = %d" % ev["id"])
    before = pg.psql(q)
    expect_field_error(patch(api, admin_token, ev["id"], change), field)
    assert pg.psql(q) == before


def test_patch_of_missing_event_is_404(api, admin_token):
    expect(patch(api, admin_token, 987654321, {"title": "x"}), 404,
           "not_found")


# --- visibility -------------------------------------------------------------

def test_draft_is_hidden_from_public_but_visible_to_organizer(
        api, admin_token, create_event, issue):
    ev = create_event()
    other = create_event()
    path = "/api/v1/events/%d" % ev["id"]
    expect(api("GET", path), 404, "not_found")

    j = expect(api("GET", path, token=admin_token), 200)
    assert j["status"] == "draft" and "confirmed" in j, j
    in_scope = issue("organizer", events=[ev["id"]])["token"]
    j = expect(api("GET", path, token=in_scope), 200)
    assert j["id"] == ev["id"], j
    out_of_scope = issue("organizer", events=[other["id"]])["token"]
    expect(api("GET", path, token=out_of_scope), 404, "not_found")
    door = issue("door", events=[ev["id"]])["token"]
    expect(api("GET", path, token=door), 404, "not_found")

    expect(patch(api, admin_token, ev["id"], {"status": "published"}), 200)
    j = expect(api("GET", path), 200)
    assert j["status"] == "published", j
    for staff_only in ("confirmed", "counts", "created_at", "updated_at"):
        assert staff_only not in j, \
            "the public view shows the staff-only %r: %r" % (staff_only, j)


def test_public_list_shows_only_published_public_upcoming(
        api, admin_token, create_event, pg):
    ch = make_chapter(pg)[1]
    listed = create_event(meetup(chapter=ch, capacity=40), status="published")
    cd = create_event(community_day(chapter=ch, capacity=None),
                      status="published")
    hidden = {
        "draft": create_event(meetup(chapter=ch)),
        "members_only": create_event(meetup(chapter=ch, members_only=True),
                                     status="published"),
        "cancelled": create_event(meetup(chapter=ch), status="cancelled"),
        "finished": create_event(meetup(chapter=ch), status="finished"),
        "already over": create_event(
            meetup(chapter=ch, starts_at=at(-10, 14), ends_at=at(-10, 18)),
            status="published"),
    }
    evs = public_list(api, "?chapter=" + ch)
    assert ids(evs) == [listed["id"], cd["id"]], (
        "expected only the published, public, upcoming events %r in start "
        "order; got %r (hidden ones: %r)" % (
            [listed["id"], cd["id"]], ids(evs),
            {k: v["id"] for k, v in hidden.items()}))
    by_id = {e["id"]: e for e in evs}
    assert by_id[listed["id"]]["seats_left"] == 40, by_id[listed["id"]]
    assert by_id[cd["id"]]["seats_left"] is None, by_id[cd["id"]]
    for e in evs:
        assert "confirmed" not in e, "public list shows staff fields: %r" % e

    everything = ids(public_list(api))
    assert listed["id"] in everything and cd["id"] in everything
    for why, ev in hidden.items():
        assert ev["id"] not in everything, \
            "the %s event %d is in the public list" % (why, ev["id"])


def test_public_list_filters_by_kind_and_chapter(api, create_event, pg):
    ch_a, ch_b = make_chapter(pg)[1], make_chapter(pg)[1]
    m_a = create_event(meetup(chapter=ch_a), status="published")
    cd_a = create_event(community_day(chapter=ch_a), status="published")
    m_b = create_event(meetup(chapter=ch_b), status="published")

    assert set(ids(public_list(api, "?chapter=" + ch_a))) == \
        {m_a["id"], cd_a["id"]}
    assert ids(public_list(api, "?kind=meetup&chapter=" + ch_a)) == \
        [m_a["id"]]
    assert ids(public_list(api, "?kind=community_day&chapter=" + ch_b)) == []
    cds = public_list(api, "?kind=community_day")
    assert cd_a["id"] in ids(cds) and m_a["id"] not in ids(cds) and \
        m_b["id"] not in ids(cds)
    assert {e["kind"] for e in cds} == {"community_day"}, cds


def test_public_list_filters_by_a_chapters_chinese_name(api, create_event,
                                                       pg):
    cid, slug = make_chapter(pg)
    name_zh = "\u4e0a\u6d77-" + uniq("c")
    pg.psql("UPDATE chapters SET name_zh = '%s' WHERE id = %d"
            % (name_zh, cid))
    ev = create_event(meetup(chapter=slug), status="published")
    got = public_list(api, "?chapter=" + urllib.parse.quote(name_zh))
    assert ids(got) == [ev["id"]] and got[0]["chapter"] == slug and \
        got[0]["chapter_name_zh"] == name_zh, got


@pytest.mark.parametrize("query", ["?kind=bogus", "?kind=", "?kind=MEETUP",
                                   "?chapter=" + "x" * 201,
                                   "?chapter=a%0Ab"])
def test_public_list_refuses_bad_filters(api, query):
    expect(api("GET", "/api/v1/events" + query), 400, "invalid_field")
