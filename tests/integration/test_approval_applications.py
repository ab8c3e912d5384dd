"""Leader applications (UGL申请, COMMUNITY.md section 2, docs/approval.md):
the public form and API with the handbook's fields, rate-limited and
CSRF-checked; only the committee reads them, records interview notes and
decides; approval makes the applicant a leader of the chapter (a new
trial chapter when they proposed one) and invites them when they have no
account; erasing the person removes their applications."""
import re

import pytest

import support
from support import expect, expect_field_error, fresh_rate_window
from approval_support import World, application, fresh_addr, q
from test_console import Browser, account_add, signed_in


@pytest.fixture(scope="module")
def w(rollcalld_bin, tmp_path_factory):
    world = World(rollcalld_bin, tmp_path_factory.mktemp("apply")).start()
    yield world
    world.stop()


def apply(w, body, addr=None):
    return w.api("POST", "/api/v1/applications", body,
                 headers={"X-Forwarded-For": addr or fresh_addr()})


def count(w, table="leader_applications"):
    return int(w.pg.scalar("SELECT count(*) FROM %s" % table))


def test_approval_makes_the_applicant_a_leader_of_the_chapter(
        w, rollcalld_bin):
    ev = w.event()          # an event of the chapter applied for
    seed = w.event(token=w.admin, chapter=w.other_slug)
    email = support.uniq("ugl") + "@example.com"
    b = signed_in(w.d.port, account_add(rollcalld_bin, w.pg.conninfo, email,
                                        events=[seed["id"]]))
    edit = "/console/events/%d/edit" % ev["id"]
    assert b.get(edit).status == 403, "not yet a leader of the chapter"
    sent = expect(apply(w, application(email=email, chapter=w.slug)), 201)
    assert set(sent) == {"id", "status", "created_at"} and \
        sent["status"] == "submitted", "the answer echoes personal data"
    path = "/api/v1/applications/%d" % sent["id"]
    # Only the committee (and admin) read applications.
    expect(w.api("GET", "/api/v1/applications"), 401)
    for tok in (w.leader, w.token("organizer")):
        expect(w.api("GET", "/api/v1/applications", token=tok), 403)
        expect(w.api("GET", path, token=tok), 403)
    listed = expect(w.api("GET", "/api/v1/applications?status=submitted",
                          token=w.committee), 200)["applications"]
    mine = [a for a in listed if a["id"] == sent["id"]]
    assert mine and mine[0]["email"] == email and \
        mine[0]["chapter"]["slug"] == w.slug, listed
    # Interview notes, kept in order with their author.
    for text in ("Interviewed: strong on Lambda.", "Knows the city well."):
        expect(w.api("POST", path + "/notes", {"body": text},
                     token=w.committee), 201)
    expect(w.api("POST", path + "/notes", {"body": "x"}, token=w.leader), 403)
    got = expect(w.api("GET", path, token=w.committee), 200)
    assert [n["body"] for n in got["notes"]] == [
        "Interviewed: strong on Lambda.", "Knows the city well."], got
    got = expect(w.api("POST", path + "/decision", {
        "decision": "approve", "comment": "Welcome."},
        token=w.committee), 200)
    assert got["status"] == "approved" and got["role"] in ("lead", "co_lead") \
        and got["invited"] is False, got
    # The account now holds the leader role on the chapter's events.
    assert b.get(edit).status == 200, "approval did not grant the role"
    assert w.pg.scalar(
        "SELECT l.role FROM chapter_leaders l JOIN persons p ON p.id = "
        "l.person_id WHERE lower(p.email) = lower(%s) AND l.chapter_id = %d"
        % (q(email), w.chapter)) == got["role"]
    acts = w.pg.psql("SELECT action, detail::text FROM audit_log WHERE "
                     "detail->>'application' = '%d' ORDER BY id"
                     % sent["id"])
    assert [a for a, _ in acts] == ["application.submit", "application.note",
                                    "application.note",
                                    "application.approved"], acts
    assert all(email not in d and "Lambda" not in d for _, d in acts), \
        "the audit log holds an applicant's personal data"


def test_a_new_city_becomes_a_trial_chapter_and_the_applicant_is_invited(w):
    city = "Suzhou " + support.uniq("c")
    email = support.uniq("new") + "@example.com"
    sent = expect(apply(w, application(email=email, new_chapter={
        "kind": "city", "name": city})), 201)
    path = "/api/v1/applications/%d/decision" % sent["id"]
    # A slug already taken: refused, nothing made.
    chapters = count(w, "chapters")
    expect(w.api("POST", path, {"decision": "approve", "slug": w.slug},
                 token=w.committee), 409, "chapter_exists")
    expect_field_error(w.api("POST", path, {"decision": "approve",
                                            "slug": "Not A Slug"},
                             token=w.committee), "slug")
    assert count(w, "chapters") == chapters
    assert w.pg.scalar("SELECT status FROM leader_applications WHERE id = %d"
                       % sent["id"]) == "submitted"
    slug = support.uniq("suzhou").lower()
    got = expect(w.api("POST", path, {"decision": "approve", "slug": slug},
                       token=w.committee), 200)
    assert got["invited"] is True and got["role"] == "lead" and \
        got["chapter"]["slug"] == slug and \
        got["chapter"]["status"] == "trial", got
    row = w.pg.scalar("SELECT kind || '|' || city || '|' || status FROM "
                      "chapters WHERE slug = %s" % q(slug))
    assert row == "city|%s|trial" % city, row
    # An account of role leader, its invitation in the outbox, and the
    # chapter's role through chapter_leaders.
    acct = w.pg.scalar("SELECT id || '|' || role FROM accounts WHERE "
                       "lower(email) = lower(%s)" % q(email))
    aid, role = acct.split("|")
    assert role == "leader", acct
    assert w.pg.scalar("SELECT count(*) FROM outbox WHERE kind = "
                       "'account_invite' AND account_id = %s" % aid) == "1"
    roles = w.pg.scalar("SELECT roles::text || chapters::text FROM "
                        "rc_account_roles(%s)" % aid)
    assert roles == "{leader}{%s}" % got["chapter"]["id"], roles
    # A second leader of the new chapter is its co-lead.
    other = expect(apply(w, application(chapter=slug)), 201)
    got = expect(w.api("POST", "/api/v1/applications/%d/decision"
                       % other["id"], {"decision": "approve"},
                       token=w.admin), 200)
    assert got["role"] == "co_lead", got


def test_rejection_needs_a_comment_and_a_decision_is_final(w):
    sent = expect(apply(w, application(chapter=w.slug)), 201)
    path = "/api/v1/applications/%d/decision" % sent["id"]
    expect_field_error(w.api("POST", path, {"decision": "reject"},
                             token=w.committee), "comment")
    expect_field_error(w.api("POST", path, {"decision": "approve",
                                            "role": "boss"},
                             token=w.committee), "role")
    got = expect(w.api("POST", path, {"decision": "reject",
                                      "comment": "Not this year."},
                       token=w.committee), 200)
    assert got["status"] == "rejected" and got["comment"] == \
        "Not this year.", got
    expect(w.api("POST", path, {"decision": "approve"}, token=w.committee),
           409, "already_decided")
    assert w.pg.scalar("SELECT count(*) FROM chapter_leaders WHERE "
                       "person_id = (SELECT person_id FROM "
                       "leader_applications WHERE id = %d)"
                       % sent["id"]) == "0"
    expect(w.api("POST", "/api/v1/applications/999999/decision",
                 {"decision": "reject", "comment": "x"}, token=w.committee),
           404)


BAD = [
    ("no name", {"name": support.DROP}, "name"),
    ("two-line name", {"name": "A\nB"}, "name"),
    ("bad e-mail", {"email": "not-an-address"}, "email"),
    ("bad phone", {"phone": "call me"}, "phone"),
    ("no background", {"background": support.DROP}, "background"),
    ("blank motivation", {"motivation": "   "}, "motivation"),
    ("essay too long", {"experience": "x" * 5001}, "experience"),
    ("no chapter at all", {}, "chapter"),
    ("both chapter and a new one", {"new_chapter": {"kind": "city",
                                                    "name": "X"}}, "chapter"),
    ("unknown chapter", {"chapter": "no-such-chapter"}, "chapter"),
    ("new chapter of no kind", {"chapter": support.DROP, "new_chapter": {
        "kind": "galaxy", "name": "X"}}, "new_chapter"),
    ("new chapter without a name", {"chapter": support.DROP,
                                    "new_chapter": {"kind": "topic"}},
     "new_chapter"),
    ("unknown field", {"salary": 5}, "salary"),
    ("bad lang", {"lang": "fr"}, "lang"),
]


@pytest.mark.parametrize("over,field", [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])
def test_bad_applications_are_refused_and_change_nothing(w, over, field):
    body = application(chapter=w.slug)
    if field == "chapter" and not over:
        body.pop("chapter")
    body.update(over)
    body = {k: v for k, v in body.items() if v is not support.DROP}
    before = count(w), count(w, "persons"), count(w, "audit_log")
    expect_field_error(apply(w, body), field)
    assert (count(w), count(w, "persons"), count(w, "audit_log")) == before


def test_one_open_application_per_address_and_a_rate_limit(w):
    body = application(chapter=w.slug)
    expect(apply(w, body), 201)
    again = dict(body, email=body["email"].upper())
    expect(apply(w, again), 409, "already_applied")
    # Five a minute from one address, whatever they hold; then 429.
    addr = fresh_addr()
    fresh_rate_window()
    for _ in range(5):
        expect(apply(w, {"name": "x"}, addr), 400)
    r = apply(w, application(chapter=w.slug), addr)
    expect(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1, r.headers
    expect(apply(w, application(chapter=w.slug)), 201)   # another address


def test_erasing_the_person_removes_applications_and_notes(w):
    sent = expect(apply(w, application(chapter=w.slug)), 201)
    expect(w.api("POST", "/api/v1/applications/%d/notes" % sent["id"],
                 {"body": "Call back on Monday."}, token=w.committee), 201)
    pid = w.pg.scalar("SELECT person_id FROM leader_applications WHERE "
                      "id = %d" % sent["id"])
    w.pg.psql("DELETE FROM persons WHERE id = %s" % pid)
    assert w.pg.scalar("SELECT count(*) FROM leader_applications WHERE "
                       "id = %d" % sent["id"]) == "0"
    assert w.pg.scalar("SELECT count(*) FROM application_notes WHERE "
                       "application_id = %d" % sent["id"]) == "0"
    expect(w.api("GET", "/api/v1/applications/%d" % sent["id"],
                 token=w.committee), 404)
    # An erasure that keeps the persons row calls rc_application_erase.
    kept = expect(apply(w, application(chapter=w.slug)), 201)
    pid = w.pg.scalar("SELECT person_id FROM leader_applications WHERE "
                      "id = %d" % kept["id"])
    assert w.pg.scalar("SELECT rc_application_erase(%s)" % pid) == "1"
    assert w.pg.scalar("SELECT count(*) FROM leader_applications WHERE "
                       "person_id = %s" % pid) == "0"


def form_of(body):
    """An application as the /apply form posts it."""
    f = {k: v for k, v in body.items() if k not in ("chapter",
                                                    "new_chapter")}
    if "chapter" in body:
        f["chapter"] = body["chapter"]
    else:
        f.update({"chapter": "new", "new_kind": body["new_chapter"]["kind"],
                  "new_name": body["new_chapter"]["name"]})
    return f


def test_the_apply_page_sends_with_csrf_and_keeps_the_form_on_errors(w):
    addr = {"X-Forwarded-For": fresh_addr()}
    b = Browser(w.d.port)
    r = b.get("/apply", headers=addr)
    assert r.status == 200 and b.csrf and 'value="%s"' % w.slug in r.text, \
        r.text[:500]
    assert "Content-Security-Policy" in r.headers
    body = application(chapter=w.slug, name="Page Applicant")
    before = count(w)
    assert b.post("/apply", form_of(body), csrf=False,
                  headers=addr).status == 403
    bad = dict(form_of(body), motivation="")
    r = b.post("/apply", bad, headers=addr)
    assert r.status == 400 and 'id="motivation-error"' in r.text and \
        'value="Page Applicant"' in r.text, r.text[:800]
    assert count(w) == before
    r = b.post("/apply", form_of(body), headers=addr)
    assert r.status == 303 and r.getheader("Location") == "/apply?done=sent"
    assert count(w) == before + 1
    r = b.get("/apply?done=sent", headers=addr)
    assert 'role="status"' in r.text
    # The database's refusal (the same address again) is on the form too.
    r = b.post("/apply", form_of(body), headers=addr)
    assert r.status == 409 and 'id="email-error"' in r.text, r.text[:800]
    # A new topic chapter from the form; the page in Chinese.
    topic = application(new_chapter={"kind": "topic", "name": "Serverless"})
    r = b.get("/apply?lang=zh-CN", headers=addr)
    lang = re.search(r'name="lang" value="([^"]+)"', r.text).group(1)
    r = b.post("/apply", dict(form_of(topic), lang=lang), headers=addr)
    assert r.status == 303, r.text[:500]
    got = w.pg.scalar("SELECT new_kind || '|' || new_name || '|' || lang "
                      "FROM leader_applications WHERE email = %s"
                      % q(topic["email"]))
    assert got == "topic|Serverless|zh-CN", got
    r = b.get("/apply", headers=addr)
    assert "申请成为分会负责人" in r.text and re.search(
        r'<html lang="zh-CN"', r.text)
