"""NightTalk series: 4-8 weekly Thursday 20:00-21:00 episodes in the
series' time zone, members-only by default."""
import datetime as dt

import pytest

from community_support import make_chapter
from support import (DROP, day, expect, expect_field_error, series)


def first_thursday(d):
    return d + dt.timedelta(days=(3 - d.weekday()) % 7)


def public_ids(api, query=""):
    return [e["id"] for e in
            expect(api("GET", "/api/v1/events" + query), 200)["events"]]


@pytest.mark.parametrize("episodes", [4, 5, 6, 7, 8])
def test_series_makes_weekly_thursday_evening_episodes(api, admin_token, pg,
                                                       episodes):
    # A different weekday for each case: the first episode is the first
    # Thursday on or after starts_on.
    starts_on = day(20 + episodes)
    body = series(episodes=episodes, starts_on=str(starts_on),
                  chapter=make_chapter(pg, kind="topic")[1])
    s = expect(api("POST", "/api/v1/series", body, token=admin_token), 201)
    assert isinstance(s.get("id"), int) and s.get("timezone") == \
        "Asia/Shanghai", s
    evs = s.get("events")
    assert isinstance(evs, list) and len(evs) == episodes, \
        "asked for %d episodes, got %r" % (episodes, evs)
    first = first_thursday(starts_on)
    for k, e in enumerate(evs):
        when = first + dt.timedelta(weeks=k)
        local = dt.datetime.strptime(e["starts_at_local"], "%Y-%m-%dT%H:%M:%S")
        assert local.weekday() == 3, "episode %d is not on a Thursday: %r" % (
            k + 1, e)
        assert (e["starts_at_local"], e["ends_at_local"]) == (
            "%sT20:00:00" % when, "%sT21:00:00" % when), \
            "episode %d should run %s 20:00-21:00 local: %r" % (k + 1, when, e)
        # Asia/Shanghai is UTC+8 all year.
        assert e["starts_at"].startswith("%sT12:00:00" % when), e
        assert (e["kind"], e["status"], e["members_only"], e["episode"],
                e["series_id"], e["timezone"]) == (
            "nighttalk", "draft", True, k + 1, s["id"], "Asia/Shanghai"), e
        assert e["online_url"] == body["online_url"], e
    assert pg.scalar("SELECT count(*) FROM events WHERE series_id = %d AND "
                     "kind = 'nighttalk'" % s["id"]) == str(episodes)
    assert pg.scalar("SELECT count(*) FROM series WHERE id = %d" %
                     s["id"]) == "1"


def test_series_stays_at_20_local_across_a_dst_change(api, admin_token):
    # US daylight saving starts on 14 March 2027: 20:00 local moves from
    # 01:00Z to 00:00Z.
    s = expect(api("POST", "/api/v1/series",
                   series(timezone="America/New_York", starts_on="2027-02-22",
                          episodes=4), token=admin_token), 201)
    got = [(e["starts_at_local"], e["starts_at"][:19]) for e in s["events"]]
    assert got == [
        ("2027-02-25T20:00:00", "2027-02-26T01:00:00"),
        ("2027-03-04T20:00:00", "2027-03-05T01:00:00"),
        ("2027-03-11T20:00:00", "2027-03-12T01:00:00"),
        ("2027-03-18T20:00:00", "2027-03-19T00:00:00"),
    ], got


def test_episode_titles_are_used(api, admin_token):
    s = expect(api("POST", "/api/v1/series",
                   series(title="Rust Nights", episode_titles=["Ownership",
                                                                "Async"]),
                   token=admin_token), 201)
    assert [e["title"] for e in s["events"]] == \
        ["Ownership", "Async", "Rust Nights #3", "Rust Nights #4"], s


def test_series_episodes_are_members_only_and_never_listed(api, admin_token,
                                                           pg):
    ch = make_chapter(pg, kind="topic")[1]
    s = expect(api("POST", "/api/v1/series", series(chapter=ch),
                   token=admin_token), 201)
    eps = [e["id"] for e in s["events"]]
    for eid in eps:
        j = expect(api("PATCH", "/api/v1/events/%d" % eid,
                       {"status": "published"}, token=admin_token), 200)
        assert j["status"] == "published" and j["members_only"] is True, j
    assert public_ids(api, "?chapter=" + ch) == [], \
        "members-only NightTalks must not be listed publicly"
    listed = set(public_ids(api)) | set(public_ids(api, "?kind=nighttalk"))
    assert not listed & set(eps), \
        "members-only episodes %r are in the public list" % (listed & set(eps))


def test_public_series_episodes_are_listed_once_published(api, admin_token,
                                                          pg):
    ch = make_chapter(pg, kind="topic")[1]
    s = expect(api("POST", "/api/v1/series",
                   series(chapter=ch, members_only=False), token=admin_token),
               201)
    first = s["events"][0]["id"]
    assert public_ids(api, "?chapter=" + ch) == [], "drafts are not listed"
    expect(api("PATCH", "/api/v1/events/%d" % first, {"status": "published"},
               token=admin_token), 200)
    assert public_ids(api, "?kind=nighttalk&chapter=" + ch) == [first]


@pytest.mark.parametrize("over,field", [
    ({"episodes": 3}, "episodes"),
    ({"episodes": 9}, "episodes"),
    ({"episodes": 0}, "episodes"),
    ({"episodes": "4"}, "episodes"),
    ({"episodes": DROP}, "episodes"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"online_url": DROP}, "online_url"),
    ({"online_url": "ftp://example.com/x"}, "online_url"),
    ({"starts_on": "2027-02-30"}, "starts_on"),
    ({"starts_on": "2027-02-25T20:00:00+08:00"}, "starts_on"),
    ({"track_owner": DROP}, "track_owner"),
    ({"episode_titles": ["a"] * 9}, "episode_titles"),
    ({"format": "panel"}, "format"),
], ids=lambda v: str(v) if not isinstance(v, dict) else
    "-".join("%s=%s" % (k, "DROP" if x is DROP else x) for k, x in v.items()))
def test_invalid_series_is_refused_and_writes_nothing(api, admin_token, pg,
                                                      over, field):
    before = pg.counts()
    expect_field_error(api("POST", "/api/v1/series", series(**over),
                           token=admin_token), field)
    assert pg.counts() == before, "a refused series changed the database"


@pytest.mark.parametrize("change,field", [
    ({"starts_at": None}, "starts_at"),
    ({"timezone": "Europe/Berlin"}, "starts_at"),
    ({"online_url": None}, "online_url"),
], ids=["move-to-friday", "other-time-zone", "drop-stream"])
def test_episode_edit_must_keep_nighttalk_rules(api, admin_token, pg, change,
                                                field):
    s = expect(api("POST", "/api/v1/series", series(), token=admin_token),
               201)
    ep = s["events"][0]
    if "starts_at" in change:       # the next day, same hour: a Friday
        d = dt.date.fromisoformat(ep["starts_at_local"][:10])
        change = {"starts_at": "%sT20:00:00+08:00" % (d + dt.timedelta(1)),
                  "ends_at": "%sT21:00:00+08:00" % (d + dt.timedelta(1))}
    q = ("SELECT starts_at, ends_at, timezone, online_url FROM events "
         "WHERE id = %d" % ep["id"])
    before = pg.psql(q)
    expect_field_error(api("PATCH", "/api/v1/events/%d" % ep["id"], change,
                           token=admin_token), field)
    assert pg.psql(q) == before


def test_episode_titles_are_never_blank(api, admin_token, pg):
    """An event's title must not be blank (POST and PATCH refuse one); a
    series must not make such events either: refuse, or fall back."""
    before = pg.counts()
    r = api("POST", "/api/v1/series", series(episode_titles=["", "   "]),
            token=admin_token)
    if r.status == 400:
        expect_field_error(r, "episode_titles")
        assert pg.counts() == before
        return
    s = expect(r, 201)
    blank = [e["id"] for e in s["events"] if not e["title"].strip()]
    assert not blank, "episodes %r were created with a blank title: %r" % (
        blank, [e["title"] for e in s["events"]])


def test_episode_titles_respect_the_200_byte_limit(api, admin_token, pg):
    """A 200-byte series title is valid, but "<title> #N" must not give
    episodes titles longer than any event may have."""
    before = pg.counts()
    r = api("POST", "/api/v1/series", series(title="x" * 200),
            token=admin_token)
    if r.status == 400:
        expect_field_error(r, "title")
        assert pg.counts() == before
        return
    s = expect(r, 201)
    long_ = [(e["id"], len(e["title"].encode())) for e in s["events"]
             if len(e["title"].encode()) > 200]
    assert not long_, "episodes with titles over 200 bytes: %r" % long_
