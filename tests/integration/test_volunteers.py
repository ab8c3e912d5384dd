"""Volunteers (COMMUNITY.md section 6, docs/certificates.md): sign-up per
event with skills from the API and the event's page, the leader's
decision, attendance (recorded, or a check-in of the volunteer's own
registration read by a join), outstanding volunteers after the event,
scope and rate limits."""
import re

import support
from community_support import make_chapter
from support import expect, expect_field_error, meetup, uniq
from certificates_support import (fresh_rate_window, make_past, published,
                                  sign_up)
from test_console import account_add, signed_in
from test_web import Browser, csrf_of


def vols(api, token, event_id):
    return expect(api("GET", "/api/v1/events/%d/volunteers" % event_id,
                      token=token), 200)


def one(listing, vid):
    got = [v for v in listing["volunteers"] if v["id"] == vid]
    assert got, "volunteer %d is not in the event's list: %r" % (
        vid, listing)
    return got[0]


def test_sign_up_then_approve_attend_and_flag_after_the_event(
        api, create_event, issue, pg):
    ev = published(create_event)["id"]
    org = issue("organizer", events=[ev])["token"]
    body, row = sign_up(api, ev, name="李雷", skills=["hosting", "design",
                                                      "hosting"],
                        note="I can host in Chinese and English")
    assert row["status"] == "pending" and row["event_id"] == ev, row
    assert row["skills"] == ["design", "hosting"], (
        "skills are kept once each, in order: %r" % row["skills"])
    # The same e-mail in another case is the same person: refused.
    r = api("POST", "/api/v1/events/%d/volunteers" % ev,
            dict(body, email=body["email"].upper()))
    expect(r, 409, "already_volunteered")
    v = one(vols(api, org, ev), row["id"])
    assert (v["name"], v["email"], v["note"]) == (
        "李雷", body["email"], "I can host in Chinese and English"), v
    assert not v["attended"] and v["status"] == "pending", v

    # Attendance and the flag need an approved volunteer.
    r = api("POST", "/api/v1/volunteers/%d/attended" % row["id"], {},
            token=org)
    expect(r, 409, "not_approved")
    v = expect(api("POST", "/api/v1/volunteers/%d/decision" % row["id"],
                   {"decision": "approve", "comment": "welcome"},
                   token=org), 200)
    assert v["status"] == "approved" and v["comment"] == "welcome", v
    v = expect(api("POST", "/api/v1/volunteers/%d/attended" % row["id"], {},
                   token=org), 200)
    assert v["attended"] and v["attended_source"] == "recorded", v
    # Outstanding only once the event is over.
    r = api("POST", "/api/v1/volunteers/%d/outstanding" % row["id"], {},
            token=org)
    expect(r, 409, "event_not_over")
    make_past(pg, ev)
    v = expect(api("POST", "/api/v1/volunteers/%d/outstanding" % row["id"],
                   {}, token=org), 200)
    assert v["outstanding"], v
    listing = vols(api, org, ev)
    assert listing["counts"] == {"pending": 0, "approved": 1, "attended": 1,
                                 "outstanding": 1, "declined": 0}, listing
    # Withdrawing attendance drops the flag with it.
    v = expect(api("POST", "/api/v1/volunteers/%d/attended" % row["id"],
                   {"attended": False}, token=org), 200)
    assert not v["attended"] and not v["outstanding"], v
    # Each decision is audited with the token, without the person's data.
    acts = "\n".join(row[0] for row in pg.psql(
        "SELECT action || ' ' || detail::text FROM audit_log "
        "WHERE event_id = %d AND action LIKE 'volunteer.%%' "
        "ORDER BY id" % ev))
    for a in ("volunteer.signup", "volunteer.decision",
              "volunteer.attended", "volunteer.outstanding"):
        assert a in acts, "no %s in the audit log:\n%s" % (a, acts)
    assert body["email"] not in acts and "李雷" not in acts, acts


def test_bad_sign_ups_are_refused_by_field_and_store_nothing(
        api, create_event, pg):
    ev = published(create_event)["id"]
    path = "/api/v1/events/%d/volunteers" % ev
    good = {"email": uniq("x") + "@example.com", "name": "Bob",
            "skills": ["design"]}
    for field, bad in [("skills", {"skills": []}),
                       ("skills", {"skills": ["cooking"]}),
                       ("skills", {"skills": "design"}),
                       ("email", {"email": "not-an-address"}),
                       ("name", {"name": ""}),
                       ("name", {"name": "two\nlines"}),
                       ("note", {"note": "x" * 1001}),
                       ("colour", {"colour": "blue"})]:
        expect_field_error(api("POST", path, dict(good, **bad)), field)
    r = api("POST", path, {k: v for k, v in good.items() if k != "email"})
    expect_field_error(r, "email")
    assert pg.scalar("SELECT count(*) FROM volunteers WHERE event_id = %d"
                     % ev) == "0"
    assert pg.scalar("SELECT count(*) FROM persons WHERE lower(email) = "
                     "lower('%s')" % good["email"]) == "0"


def test_sign_up_needs_a_published_event_that_is_not_over(
        api, create_event, pg):
    draft = create_event(meetup())["id"]
    r = api("POST", "/api/v1/events/%d/volunteers" % draft,
            {"email": "a@example.com", "name": "A", "skills": ["design"]})
    expect(r, 404)
    gone = create_event(meetup(), status="cancelled")["id"]
    r = api("POST", "/api/v1/events/%d/volunteers" % gone,
            {"email": "a@example.com", "name": "A", "skills": ["design"]})
    expect(r, 409, "event_cancelled")
    over = published(create_event)["id"]
    make_past(pg, over)
    r = api("POST", "/api/v1/events/%d/volunteers" % over,
            {"email": "a@example.com", "name": "A", "skills": ["design"]})
    expect(r, 409, "signup_closed")


def test_a_check_in_of_the_volunteers_registration_counts_without_a_copy(
        api, create_event, issue, pg):
    ev = published(create_event)["id"]
    org = issue("organizer", events=[ev])["token"]
    door = issue("door", events=[ev])["token"]
    email = uniq("Mixed.Case") + "@Example.com"
    _, row = sign_up(api, ev, email=email, name="Door Volunteer")
    expect(api("POST", "/api/v1/volunteers/%d/decision" % row["id"],
               {"decision": "approve"}, token=org), 200)
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % ev,
                     {"name": "Door Volunteer", "email": email.lower(),
                      "company": "Acme", "job_title": "Dev",
                      "identity": "professional"}), 201)
    assert not one(vols(api, org, ev), row["id"])["attended"], (
        "attended before any check-in")
    scan = expect(api("POST", "/api/v1/checkins",
                      {"token": reg["ticket"]["token"]}, token=door), 200)
    assert scan["result"] == "admitted", scan
    v = one(vols(api, org, ev), row["id"])
    assert v["attended"] and v["attended_source"] == "check_in", v
    assert pg.scalar("SELECT attended_at IS NULL FROM volunteers WHERE "
                     "id = %d" % row["id"]) == "t", (
        "the check-in was copied into volunteers.attended_at")


def test_only_staff_in_the_events_scope_see_and_decide(
        api, create_event, issue, rollcalld_bin, pg):
    _, slug = make_chapter(pg)
    mine = published(create_event, chapter=slug)["id"]
    other = published(create_event)["id"]
    _, a = sign_up(api, mine)
    _, b = sign_up(api, other)
    expect(api("GET", "/api/v1/events/%d/volunteers" % mine), 401)
    leader = support.cli_token(rollcalld_bin, pg.conninfo, "leader",
                               uniq("ugl"), "--chapter", slug)
    vols(api, leader, mine)
    expect(api("GET", "/api/v1/events/%d/volunteers" % other,
               token=leader), 403, "out_of_scope")
    expect(api("POST", "/api/v1/volunteers/%d/decision" % a["id"],
               {"decision": "approve"}, token=leader), 200)
    r = api("POST", "/api/v1/volunteers/%d/decision" % b["id"],
            {"decision": "approve"}, token=leader)
    expect(r, 403, "out_of_scope")
    assert pg.scalar("SELECT status FROM volunteers WHERE id = %d"
                     % b["id"]) == "pending"
    expect(api("POST", "/api/v1/volunteers/999999999/decision",
               {"decision": "approve"}, token=leader), 404)
    door = issue("door", events=[mine])["token"]
    expect(api("GET", "/api/v1/events/%d/volunteers" % mine, token=door),
           403, "forbidden")
    expect_field_error(api("POST", "/api/v1/volunteers/%d/decision"
                           % a["id"], {"decision": "maybe"}, token=leader),
                       "decision")


def test_the_event_page_links_to_the_form_which_signs_up(
        server, create_event, pg):
    ev = published(create_event, title="Volunteers wanted")["id"]
    b = Browser(server)
    page = b.get("/events/%d" % ev)
    assert ('href="/events/%d/volunteer"' % ev).encode() in page.raw, (
        "the event page has no link to the volunteer form")
    form = b.get("/events/%d/volunteer" % ev)
    assert form.status == 200 and b"Volunteers wanted" in form.raw
    tok = csrf_of(form)
    email = uniq("form") + "@example.com"
    # Without the CSRF token: refused, nothing stored.
    r = b.post("/events/%d/volunteer" % ev, {"name": "Form Person",
               "email": email, "skill_design": "1"})
    assert r.status == 403, r
    # No skill: the form again, the input kept, the error by the field.
    r = b.post("/events/%d/volunteer" % ev, {"csrf": tok, "name":
               "Form Person", "email": email, "note": "evenings only"})
    assert r.status == 400, r
    text = r.raw.decode()
    assert 'id="skills-error"' in text and 'value="%s"' % email in text \
        and "evenings only" in text, text[:3000]
    r = b.post("/events/%d/volunteer" % ev, {"csrf": tok, "name":
               "Form Person", "email": email, "skill_design": "1",
               "skill_hosting": "1", "note": "evenings only"})
    assert r.status == 303 and r.headers["Location"] == \
        "/events/%d/volunteer?done=1" % ev, r
    assert pg.scalar("SELECT skills::text || ' ' || note FROM volunteers v "
                     "JOIN persons p ON p.id = v.person_id WHERE "
                     "v.event_id = %d AND p.email = '%s'" % (ev, email)) == \
        "{design,hosting} evenings only"
    thanks = b.get("/events/%d/volunteer?done=1" % ev)
    assert b"Thank you for signing up" in thanks.raw
    # Again with the same address: the page says so.
    r = b.post("/events/%d/volunteer" % ev, {"csrf": tok, "name":
               "Form Person", "email": email, "skill_design": "1"})
    assert r.status == 409 and b"already signed up" in r.raw, r


def test_the_form_speaks_chinese_and_a_new_person_keeps_the_language(
        server, create_event, pg):
    ev = published(create_event)["id"]
    b = Browser(server, lang="zh-CN")
    form = b.get("/events/%d/volunteer" % ev)
    assert "报名志愿者".encode() in form.raw
    email = uniq("zh") + "@example.com"
    r = b.post("/events/%d/volunteer" % ev, {"csrf": csrf_of(form),
               "name": "韩梅梅", "email": email, "skill_organizing": "1"})
    assert r.status == 303, r
    assert pg.scalar("SELECT lang FROM persons WHERE email = '%s'"
                     % email) == "zh-CN"


def test_sign_ups_are_rate_limited_per_address(rollcalld_bin, pg,
                                               start_daemon, create_event):
    ev = published(create_event)["id"]
    d = start_daemon(pg.conninfo, ["--rate-limit", "2"])
    fresh_rate_window()
    codes = [d.api("POST", "/api/v1/events/%d/volunteers" % ev,
                   {"email": uniq("r") + "@example.com", "name": "R",
                    "skills": ["design"]}).status for _ in range(3)]
    assert codes == [201, 201, 429], codes


def test_console_volunteers_page_approves_records_and_flags(
        rollcalld_bin, pg, server, create_event, api):
    ev = published(create_event, title="Console volunteers")["id"]
    _, row = sign_up(api, ev, name="Console Person")
    email = uniq("cv") + "@example.com"
    link = account_add(rollcalld_bin, pg.conninfo, email, events=[ev])
    b = signed_in(server.port, link)
    page = b.get("/console/events/%d/volunteers" % ev)
    assert page.status == 200 and "Console Person" in page.text, page.text
    assert 'data-count="pending">1<' in page.text
    path = "/console/events/%d/volunteers" % ev
    r = b.post(path, {"volunteer": row["id"], "action": "approve"})
    assert r.status == 303 and r.getheader("Location") == path + \
        "?done=approve", r.status
    r = b.post(path, {"volunteer": row["id"], "action": "attended"})
    assert r.status == 303, r.text
    assert pg.scalar("SELECT status || ' ' || (attended_at IS NOT NULL) "
                     "FROM volunteers WHERE id = %d" % row["id"]) == \
        "approved true"
    r = b.post(path, {"volunteer": row["id"], "action": "outstanding"})
    assert r.status == 409, r.status
    make_past(pg, ev)
    r = b.post(path, {"volunteer": row["id"], "action": "outstanding"})
    assert r.status == 303, r.text
    page = b.get(path + "?done=outstanding")
    assert "Flagged as outstanding" in page.text
    assert re.search(r"Issue outstanding certificate", page.text)
    # Without the CSRF field: refused.
    r = b.post(path, {"volunteer": row["id"], "action": "decline"},
               csrf=False)
    assert r.status == 403
    # Another event's page is out of this account's scope.
    other = published(create_event)["id"]
    assert b.get("/console/events/%d/volunteers" % other).status == 403
