"""The committee's console pages and the editor's approval buttons
(docs/approval.md): the proposals queue (events and sponsorships: approve,
reject with a comment), the editor showing a role's buttons and the
committee's comment, sponsors waiting for approval on the sponsors and
devices pages, and the leader applications pages (list, notes, decide)."""
import re

import pytest

import support
from support import expect
from approval_support import World, application, fresh_addr, q
from test_console import account_add, signed_in


@pytest.fixture(scope="module")
def w(rollcalld_bin, tmp_path_factory):
    world = World(rollcalld_bin, tmp_path_factory.mktemp("console")).start()
    yield world
    world.stop()


@pytest.fixture(scope="module")
def committee(w, rollcalld_bin):
    """A committee member's browser (an account of role committee)."""
    email = support.uniq("com") + "@example.com"
    link = account_add(rollcalld_bin, w.pg.conninfo, email,
                       events=[w.event(token=w.admin)["id"]], name="Chair")
    w.pg.psql("UPDATE accounts SET role = 'committee', events = NULL WHERE "
              "lower(email) = lower(%s)" % q(email))
    return signed_in(w.d.port, link)


@pytest.fixture(scope="module")
def leader(w, rollcalld_bin):
    """A leader's browser: an account whose person leads the chapter."""
    email = support.uniq("ugl") + "@example.com"
    link = account_add(rollcalld_bin, w.pg.conninfo, email,
                       events=[w.event(token=w.admin,
                                       chapter=w.other_slug)["id"]],
                       name="Leader")
    w.pg.psql("WITH p AS (INSERT INTO persons (email, name) VALUES (%s, "
              "'Leader') RETURNING id) INSERT INTO chapter_leaders "
              "(chapter_id, person_id, role, added_by) SELECT %d, id, "
              "'lead', 'test' FROM p" % (q(email), w.chapter))
    return signed_in(w.d.port, link)


def actions(html):
    return set(re.findall(r'data-action="([a-z]+)"', html))


def test_the_editor_shows_a_leaders_buttons_and_the_committees(
        w, leader, committee):
    ev = w.event()
    edit = "/console/events/%d/edit" % ev["id"]
    status = "/console/events/%d/status" % ev["id"]
    r = leader.get(edit)
    assert r.status == 200 and actions(r.text) == {"submit", "cancel"}, \
        actions(r.text)
    assert "data-needs-approval" in r.text
    # Publishing by hand anyway: refused on the editor, with the reason.
    r = leader.post(status, {"status": "published"})
    assert r.status == 409 and "approval" in r.text and \
        'class="error-summary"' in r.text, r.text[:600]
    assert w.status(ev["id"]) == "draft"
    leader.get(edit)
    r = leader.post(status, {"status": "proposed"})
    assert r.status == 303 and r.getheader("Location").endswith(
        "done=proposed"), r.text[:300]
    r = leader.get(edit)
    assert "data-awaiting" in r.text and actions(r.text) == {
        "withdraw", "cancel"}, actions(r.text)
    # The committee may publish it at once, and is pointed to the queue.
    r = committee.get(edit)
    assert r.status == 200 and "publish" in actions(r.text) and \
        'href="/console/proposals"' in r.text
    # A draft with nothing to show yet cannot be submitted: the reason is
    # on the page.
    bare = expect(w.api("POST", "/api/v1/events", {
        "kind": "meetup", "title": "Bare", "chapter": w.slug,
        "format": "panel"}, token=w.leader), 201)
    leader.get("/console/events/%d/edit" % bare["id"])
    r = leader.post("/console/events/%d/status" % bare["id"],
                    {"status": "proposed"})
    assert r.status == 400 and "starts_at" in r.text, r.text[:600]


def test_the_editor_saves_a_draft_without_date_venue_or_capacity(w, leader):
    leader.get("/console/events/new?kind=meetup")
    r = leader.post("/console/events/new", {
        "kind": "meetup", "title": "Date to be found", "chapter": w.slug,
        "format": "panel", "venue": "", "starts_local": "", "ends_local": "",
        "timezone": "Asia/Shanghai", "capacity": "", "description": ""})
    assert r.status == 303, r.text[:600]
    eid = int(re.search(r"/console/events/(\d+)/edit",
                        r.getheader("Location")).group(1))
    row = w.pg.scalar("SELECT status || '|' || coalesce(starts_at::text, "
                      "'-') || '|' || coalesce(venue, '-') FROM events "
                      "WHERE id = %d" % eid)
    assert row == "draft|-|-", row
    r = leader.get("/console")
    assert "Date to be found" in r.text, "a dateless draft left the overview"
    # Its date comes later, in one day (a 3-day meetup is refused).
    leader.get("/console/events/%d/edit" % eid)
    r = leader.post("/console/events/%d/edit" % eid, {
        "kind": "meetup", "title": "Date to be found", "chapter": w.slug,
        "format": "panel", "venue": "", "timezone": "Asia/Shanghai",
        "starts_local": "2027-05-06T19:00", "ends_local": "2027-05-08T21:00",
        "capacity": "", "description": ""})
    assert r.status == 400 and 'id="ends_local-error"' in r.text


def test_the_queue_rejects_with_a_comment_and_approves(w, leader, committee):
    ev = w.event(status="proposed", title="Queue " + support.uniq("q"))
    r = committee.get("/console/proposals")
    assert r.status == 200 and 'data-proposal-event="%d"' % ev["id"] in \
        r.text and ev["title"] in r.text
    assert 'href="/console/proposals"' in r.text, "no nav link to the queue"
    form = "/console/proposals/events/%d" % ev["id"]
    r = committee.post(form, {"decision": "reject", "comment": ""})
    assert r.status == 400 and "comment" in r.text, r.text[:400]
    assert w.status(ev["id"]) == "proposed"
    assert committee.post(form, {"decision": "reject", "comment": "x"},
                          csrf=False).status == 403
    r = committee.post(form, {"decision": "reject",
                              "comment": "Add the hands-on part."})
    assert r.status == 303 and r.getheader("Location").endswith(
        "done=rejected")
    assert w.status(ev["id"]) == "draft"
    # The leader sees why, on the editor.
    edit = "/console/events/%d/edit" % ev["id"]
    r = leader.get(edit)
    assert "data-rejected" in r.text and "Add the hands-on part." in r.text
    r = leader.post("/console/events/%d/status" % ev["id"],
                    {"status": "proposed"})
    assert r.status == 303
    # Deciding twice: the second is told it was decided.
    committee.get("/console/proposals")
    r = committee.post(form, {"decision": "approve"})
    assert r.status == 303 and r.getheader("Location").endswith(
        "done=approved")
    committee.get("/console/proposals")
    r = committee.post(form, {"decision": "approve"})
    assert r.status == 409 and 'class="error-summary"' in r.text
    r = leader.get(edit)
    assert "data-approved" in r.text and "publish" in actions(r.text)
    r = leader.post("/console/events/%d/status" % ev["id"],
                    {"status": "published"})
    assert r.status == 303 and w.status(ev["id"]) == "published"
    # Leaders have no queue.
    assert leader.get("/console/proposals").status == 403
    assert leader.post(form, {"decision": "approve"}).status == 403


def test_a_sponsor_waits_for_the_committee_on_the_console(
        w, leader, committee):
    ev = w.event(status="published")
    page = "/console/events/%d/sponsors" % ev["id"]
    leader.get(page)
    name = "Booth " + support.uniq("b")
    r = leader.post(page, {"name": name, "benefits": "Booth, 2 tickets"})
    assert r.status == 303, r.text[:300]
    sp, sid = w.pg.psql("SELECT id, sponsorship_id FROM sponsors WHERE "
                        "name = %s" % q(name))[0]
    r = leader.get(page)
    assert 'data-sponsorship="proposed"' in r.text and \
        "Booth, 2 tickets" in r.text
    # No booth device for it: not offered, and refused when asked.
    dev = "/console/events/%d/devices" % ev["id"]
    r = leader.get(dev)
    assert 'value="%s"' % sp not in r.text
    r = leader.post(dev, {"kind": "booth", "sponsor": sp, "name": "b1"})
    assert r.status == 409, r.text[:300]
    r = committee.get("/console/proposals")
    assert 'data-proposal-sponsorship="%s"' % sid in r.text and name in r.text
    r = committee.post("/console/proposals/sponsorships/%s" % sid,
                       {"decision": "approve", "comment": ""})
    assert r.status == 303, r.text[:300]
    r = leader.get(page)
    assert 'data-sponsorship="approved"' in r.text
    r = leader.get(dev)
    assert 'value="%s"' % sp in r.text
    r = leader.post(dev, {"kind": "booth", "sponsor": sp, "name": "b1"})
    assert r.status == 200 and "<svg" in r.text, r.text[:300]


def test_the_applications_pages_list_note_and_decide(w, leader, committee):
    body = application(chapter=w.slug, name="Console Applicant")
    sent = expect(w.api("POST", "/api/v1/applications", body,
                        headers={"X-Forwarded-For": fresh_addr()}), 201)
    r = committee.get("/console/applications?status=submitted")
    assert r.status == 200 and 'data-application="%d"' % sent["id"] in \
        r.text and "Console Applicant" in r.text
    assert committee.get("/console/applications?status=lost").status == 400
    view = "/console/applications/%d" % sent["id"]
    r = committee.get(view)
    assert r.status == 200 and body["email"] in r.text and \
        "four meetups in my first year" in r.text
    r = committee.post(view + "/notes", {"body": "Good interview, 45 min."})
    assert r.status == 303 and r.getheader("Location").endswith("done=noted")
    assert committee.post(view + "/notes", {"body": "x"},
                          csrf=False).status == 403
    r = committee.get(view)
    assert "Good interview, 45 min." in r.text and "Chair" in r.text
    r = committee.post(view + "/notes", {"body": ""})
    assert r.status == 400
    r = committee.get(view)
    r = committee.post(view + "/decision", {"decision": "reject",
                                            "comment": ""})
    assert r.status == 400 and 'class="error-summary"' in r.text
    r = committee.post(view + "/decision", {"decision": "approve",
                                            "role": "co_lead"})
    assert r.status == 303 and r.getheader("Location").endswith(
        "done=approved")
    r = committee.get(view)
    assert 'data-status="approved"' in r.text and "co_lead" in r.text
    # The committee's only: a leader and a stranger get nothing.
    for path in ("/console/applications", view):
        assert leader.get(path).status == 403
    anon = support.http_call(w.d.port, "GET", view)
    assert anon.status in (303, 401), anon
    assert "Console Applicant" not in anon.raw.decode()
