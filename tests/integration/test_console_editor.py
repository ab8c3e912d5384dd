"""The console's event editor: a draft of every kind with the kind's
defaults, edit, publish, cancel, finish, duplicate; the API's rules and
audit, errors on the form by their field, CSRF and scope."""
import datetime
import re

import support
from support import expect, meetup
from test_console import account_add, signed_in


def local(days, hour):
    d = datetime.date.today() + datetime.timedelta(days=days)
    return "%sT%02d:00" % (d.isoformat(), hour)


def organizer(rollcalld_bin, pg, server,
        create_event):
    """An organizer of one other event: its scope grows with what it makes."""
    seed = create_event(meetup())
    email = support.uniq("ed") + "@example.com"
    return signed_in(server.port, account_add(rollcalld_bin, pg.conninfo,
                                              email, events=[seed["id"]]))


def created_id(r):
    assert r.status == 303, "the editor refused: %d %s" % (
        r.status, re.sub(r"\s+", " ", r.text)[:600])
    m = re.match(r"^/console/events/(\d+)/edit\?done=saved$",
                 r.getheader("Location"))
    assert m, r.getheader("Location")
    return int(m.group(1))


def meetup_form(**over):
    f = {"kind": "meetup", "title": "Console Meetup", "chapter": "shanghai",
         "format": "panel", "venue": "Hub", "starts_local": local(20, 14),
         "ends_local": local(20, 18), "timezone": "Asia/Shanghai",
         "capacity": "", "waitlist": "on", "description": "Talks."}
    f.update(over)
    return f


def test_editor_new_forms_carry_each_kinds_defaults(rollcalld_bin, pg,
                                                     server, create_event):
    b = organizer(rollcalld_bin, pg, server, create_event)
    r = b.get("/console/events/new")
    assert r.status == 200
    for k in ("meetup", "community_day", "nighttalk"):
        assert "/console/events/new?kind=" + k in r.text
    m = b.get("/console/events/new?kind=meetup").text
    assert 'value="workshop" selected' in m and 'value="100"' in m
    c = b.get("/console/events/new?kind=community_day").text
    assert 'value="300"' in c and 'value="Opening keynote"' in c, \
        "a community day's form lacks its default agenda"
    n = b.get("/console/events/new?kind=nighttalk").text
    assert 'name="episodes"' in n and 'value="4"' in n and \
        'name="track_owner"' in n


def test_editor_creates_a_meetup_draft_audited_and_in_scope(
        rollcalld_bin, pg, server, create_event):
    b = organizer(rollcalld_bin, pg, server, create_event)
    r = b.post("/console/events/new", meetup_form(capacity="40"))
    eid = created_id(r)
    expect(support.http_call(server.port, "GET",
                                  "/api/v1/events/%d" % eid, token=None),
                404)
    row = pg.scalar("SELECT kind || '|' || status || '|' || format || '|' "
                    "|| capacity || '|' || to_char(starts_at AT TIME ZONE "
                    "'Asia/Shanghai', 'HH24:MI') FROM events WHERE id = %d"
                    % eid)
    assert row == "meetup|draft|panel|40|14:00", row
    assert pg.scalar("SELECT actor FROM audit_log WHERE action = "
                     "'event.create' AND event_id = %d" % eid).startswith(
                         "acct:")
    # The account's scope grew: the new event's pages are its own.
    assert b.get("/console/events/%d/edit" % eid).status == 200
    assert b.get("/console/events/%d/registrations" % eid).status == 200


def test_editor_errors_are_shown_by_their_field(rollcalld_bin, pg, server,
        create_event):
    b = organizer(rollcalld_bin, pg, server, create_event)
    r = b.post("/console/events/new", meetup_form(
        starts_local=local(20, 18), ends_local=local(20, 14)))
    assert r.status == 400, r.status
    assert 'id="ends_local-error"' in r.text and "must be after" in r.text, \
        "the database's refusal is not by the ends field"
    assert 'value="Console Meetup"' in r.text, "the typed form was lost"
    # A draft may lack its venue, not its shape: a three-day meetup.
    r = b.post("/console/events/new", meetup_form(ends_local=local(22, 18)))
    assert r.status == 400 and 'id="ends_local-error"' in r.text
    r = b.post("/console/events/new", meetup_form(capacity="lots"))
    assert r.status == 400 and 'id="capacity-error"' in r.text
    r = b.post("/console/events/new", meetup_form(title=""))
    assert r.status == 400 and 'id="title-error"' in r.text


def test_editor_community_day_with_agenda(rollcalld_bin, pg, server,
        create_event):
    b = organizer(rollcalld_bin, pg, server, create_event)
    f = meetup_form(kind="community_day", title="Console Day",
                    starts_local=local(25, 9), ends_local=local(25, 18))
    del f["format"]
    f.update({"s1_title": "Keynote", "s1_speaker": "Li Wei",
              "s1_kind": "keynote", "s1_room": "Hall", "s1_start": "09:30",
              "s1_end": "10:15", "s2_title": "Lunch", "s2_kind": "break",
              "s2_start": "12:00", "s2_end": "13:00", "s3_title": ""})
    eid = created_id(b.post("/console/events/new", f))
    got = pg.scalar("SELECT string_agg(title || '/' || coalesce(speaker, '-')"
                    " || '/' || to_char(starts_at AT TIME ZONE "
                    "'Asia/Shanghai', 'HH24:MI'), ',' ORDER BY position) "
                    "FROM sessions WHERE event_id = %d" % eid)
    assert got == "Keynote/Li Wei/09:30,Lunch/-/12:00", got
    page = b.get("/console/events/%d/edit" % eid).text
    assert 'value="Li Wei"' in page
    # A session outside the day is the agenda's error, on the form.
    f["s1_start"], f["s1_end"] = "20:00", "21:00"
    f["csrf"] = b.csrf
    r = b._send("POST", "/console/events/%d/edit" % eid, form=f)
    assert r.status == 400 and "within the event" in r.text, r.text[:300]


def test_editor_nighttalk_series_of_thursdays(rollcalld_bin, pg, server,
        create_event):
    b = organizer(rollcalld_bin, pg, server, create_event)
    r = b.post("/console/events/new", {
        "kind": "nighttalk", "title": "Console Nights", "chapter": "rust",
        "track_owner": "Mei", "starts_on": support.day(7), "episodes": "5",
        "online_url": "https://live.example.com/n", "members_only": "on",
        "timezone": "Asia/Shanghai"})
    assert r.status == 303 and r.getheader("Location") == \
        "/console?done=series", r.text[:400]
    got = pg.scalar("SELECT count(*) || '|' || bool_and(extract(isodow FROM "
                    "starts_at AT TIME ZONE 'Asia/Shanghai') = 4) FROM events "
                    "WHERE title LIKE 'Console Nights #%'")
    assert got == "5|true", got
    r = b.post("/console/events/new", {
        "kind": "nighttalk", "title": "Too long", "chapter": "rust",
        "track_owner": "Mei", "starts_on": support.day(7), "episodes": "9",
        "online_url": "https://live.example.com/n"})
    assert r.status == 400 and 'id="episodes-error"' in r.text
    assert b.get("/console").text.count("<h2>Console Nights #") == 5


def test_editor_edit_publish_finish_and_cancel(rollcalld_bin, pg, server,
        create_event):
    b = organizer(rollcalld_bin, pg, server, create_event)
    eid = created_id(b.post("/console/events/new", meetup_form()))
    page = b.get("/console/events/%d/edit" % eid).text
    assert "Publish" in page and local(20, 14) in page
    f = meetup_form(title="Renamed Meetup", capacity="12")
    f["csrf"] = b.csrf
    r = b._send("POST", "/console/events/%d/edit" % eid, form=f)
    assert r.status == 303, r.text[:400]
    assert pg.scalar("SELECT title || '|' || capacity FROM events WHERE id "
                     "= %d" % eid) == "Renamed Meetup|12"
    b.get("/console/events/%d/edit" % eid)
    r = b.post("/console/events/%d/status" % eid, {"status": "published"})
    assert r.status == 303 and r.getheader("Location").endswith(
        "done=published")
    assert "Renamed Meetup" in support.http_call(server.port, "GET",
                                                 "/").raw.decode()
    b.get("/console/events/%d/edit" % eid)
    r = b.post("/console/events/%d/status" % eid, {"status": "finished"})
    assert r.status == 303
    actions = pg.scalar("SELECT string_agg(action, ',' ORDER BY id) FROM "
                        "audit_log WHERE event_id = %d" % eid)
    assert actions == "event.create,event.update,event.published," \
        "event.finished", actions
    # Finished: no more changes, refused as the API refuses.
    b.get("/console/events/%d/edit" % eid)
    r = b.post("/console/events/%d/status" % eid, {"status": "cancelled"})
    assert r.status == 409
    other = created_id(b.post("/console/events/new", meetup_form()))
    b.get("/console/events/%d/edit" % other)
    r = b.post("/console/events/%d/status" % other, {"status": "cancelled"})
    assert r.status == 303
    assert pg.scalar("SELECT status FROM events WHERE id = %d" % other) == \
        "cancelled"


def test_editor_duplicate_copies_fields_not_dates(rollcalld_bin, pg,
                                                  server, create_event):
    b = organizer(rollcalld_bin, pg, server, create_event)
    eid = created_id(b.post("/console/events/new",
                            meetup_form(title="Dup Source", venue="Loft 9")))
    r = b.get("/console/events/new?from=%d" % eid)
    assert r.status == 200
    assert 'value="Dup Source"' in r.text and 'value="Loft 9"' in r.text
    assert local(20, 14) not in r.text, "the duplicate kept the dates"


def test_editor_csrf_and_scope(rollcalld_bin, pg, server,
        create_event):
    ev = create_event(meetup(), status="published")
    b = organizer(rollcalld_bin, pg, server, create_event)
    for p in ("/console/events/new", "/console/events/%d/edit" % ev["id"],
              "/console/events/%d/status" % ev["id"]):
        r = b.post(p, meetup_form(status="cancelled"), csrf=False)
        assert r.status == 403, "POST %s without CSRF -> %d" % (p, r.status)
    assert b.get("/console/events/%d/edit" % ev["id"]).status == 403
    assert b.get("/console/events/new?from=%d" % ev["id"]).status == 404
    r = b.post("/console/events/%d/status" % ev["id"],
               {"status": "cancelled"})
    assert r.status == 403
