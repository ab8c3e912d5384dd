"""The calendar file (/manage/{secret}/event.ics), read back with ical.js
(tests/e2e/ics_check.mjs): SEQUENCE grows with every change of the event,
times carry the event's TZID with a VTIMEZONE, DESCRIPTION, URL and an
alarm; a NightTalk's LOCATION is the attendee's own join link, never the
stream."""
import datetime as dt
import json
import os
import subprocess

from community_support import make_member
from support import expect, meetup, series, uniq

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "..", "e2e", "ics_check.mjs")


def parse_ics(raw):
    out = subprocess.run(["node", CHECK], input=raw, capture_output=True,
                         timeout=60)
    assert out.returncode == 0, "ical.js could not read the .ics: %s\n%s" % (
        out.stderr.decode(), raw.decode())
    return json.loads(out.stdout)


def register(api, event_id):
    return expect(api("POST", "/api/v1/events/%d/registrations" % event_id,
                      {"name": "张伟", "email": uniq("c") + "@example.com",
                       "company": "Example Co", "job_title": "SRE",
                       "identity": "professional"}), 201)


def ics_of(api, reg):
    secret = reg["manage_url"].rsplit("/", 1)[1]
    r = api("GET", "/manage/%s/event.ics" % secret)
    assert r.status == 200 and \
        r.headers["Content-Type"].startswith("text/calendar"), r
    return r.raw


def ms(ts):
    return int(dt.datetime.fromisoformat(ts).timestamp() * 1000)


def test_meetup_ics_has_zone_sequence_description_url_and_alarm(
        api, create_event, admin_token, server):
    ev = create_event(meetup(description="Bring a laptop; we pair, too."),
                      status="published")
    reg = register(api, ev["id"])
    c = parse_ics(ics_of(api, reg))
    assert c["tzid"] == "Asia/Shanghai" and \
        c["vtimezones"] == ["Asia/Shanghai"], c
    assert c["start_ms"] == ms(ev["starts_at"]) and \
        c["end_ms"] == ms(ev["ends_at"]), (c, ev)
    assert c["description"] == "Bring a laptop; we pair, too.", c
    assert c["url"].endswith("/events/%d" % ev["id"]) and \
        c["url"].startswith("http"), c
    assert c["alarms"] == ["-PT1H"], c
    assert c["location"] == ev["venue"] and c["lines_ok"], c
    first = c["sequence"]
    expect(api("PATCH", "/api/v1/events/%d" % ev["id"],
               {"title": "Moved an hour"}, token=admin_token), 200)
    c2 = parse_ics(ics_of(api, reg))
    assert c2["sequence"] > first and c2["summary"] == "Moved an hour", \
        "SEQUENCE must grow after a PATCH: %r then %r" % (first, c2)
    expect(api("PATCH", "/api/v1/events/%d" % ev["id"],
               {"description": "again"}, token=admin_token), 200)
    assert parse_ics(ics_of(api, reg))["sequence"] > c2["sequence"]


def test_zone_with_dst_gets_its_offset_at_the_start(api, create_event):
    # July 10, 18:00 in New York next year is EDT (-0400).
    y = dt.date.today().year + 1
    start = "%d-07-10T18:00:00-04:00" % y
    ev = create_event(meetup(timezone="America/New_York", starts_at=start,
                             ends_at="%d-07-10T21:00:00-04:00" % y),
                      status="published")
    raw = ics_of(api, register(api, ev["id"]))
    c = parse_ics(raw)
    assert c["tzid"] == "America/New_York", c
    assert c["start_ms"] == ms(start), (c, raw)
    assert b"TZOFFSETTO:-0400" in raw and b"BEGIN:DAYLIGHT" in raw, raw


def test_nighttalk_location_is_the_join_link_never_the_stream(
        api, admin_token, pg):
    s = expect(api("POST", "/api/v1/series", series(), token=admin_token),
               201)
    ep = s["events"][0]
    expect(api("PATCH", "/api/v1/events/%d" % ep["id"],
               {"status": "published"}, token=admin_token), 200)
    # NightTalks are members-only: a member registers from their link.
    _, member = make_member(pg)
    reg = expect(api("POST", "/api/v1/member/%s/registrations" % member,
                     {"event": ep["id"], "company": "Example Co",
                      "job_title": "SRE"}), 201)
    raw = ics_of(api, reg)
    c = parse_ics(raw)
    assert c["location"] == reg["join_url"] and "/j/" in c["location"], \
        (c, reg["join_url"])
    assert b"live.example.com" not in raw.replace(b"\r\n ", b""), raw
    assert c["tzid"] == "Asia/Shanghai", c
