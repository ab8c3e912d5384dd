"""The console's sponsors page (add, rename, each booth's scan count and
no attendee's data) and the registrations page's reprint-badge button,
the badge PDF under the session."""
import re

import support
from support import expect, meetup
from test_console import account_add, signed_in


def person(name, sponsors=True):
    return {"name": name, "email": support.uniq("sp") + "@example.com",
            "company": "Acme", "job_title": "Engineer",
            "identity": "professional",
            "consent": {"sponsors": sponsors, "fields": ["email"]}}


def test_sponsors_add_rename_and_scan_counts_without_personal_data(
        rollcalld_bin, pg, server, api, create_event, issue):
    ev = create_event(meetup(), status="published")
    b = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, support.uniq("sp") + "@example.com",
        events=[ev["id"]]))
    page = "/console/events/%d/sponsors" % ev["id"]
    assert b.get(page).status == 200
    r = b.post(page, {"name": "CloudCo"})
    assert r.status == 303 and r.getheader("Location").endswith(
        "done=added"), r.text[:300]
    sp = int(pg.scalar("SELECT id FROM sponsors WHERE event_id = %d"
                       % ev["id"]))
    b.get(page)
    r = b.post(page + "/rename", {"sponsor": str(sp), "name": "CloudCo Ltd"})
    assert r.status == 303 and r.getheader("Location").endswith(
        "done=renamed")
    assert pg.scalar("SELECT name FROM sponsors WHERE id = %d" % sp) == \
        "CloudCo Ltd"
    tok = issue("sponsor", sponsor=sp)["token"]
    regs = [expect(api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                       person(n)), 201) for n in ("Hua Secret", "Ming Secret")]
    for reg in regs:
        expect(api("POST", "/api/v1/leads",
                   {"token": reg["ticket"]["token"]}, token=tok), 200)
    text = b.get(page).text
    m = re.search(r'data-sponsor="%d">.*?data-count="scans">(\d+)<' % sp,
                  text, re.S)
    assert m and m.group(1) == "2", "the booth's count: %s" % text[:800]
    assert "Secret" not in text and "@example.com" not in text, \
        "the sponsors page shows an attendee's data"
    acts = pg.scalar("SELECT string_agg(action, ',' ORDER BY id) FROM "
                     "audit_log WHERE event_id = %d AND action LIKE "
                     "'sponsor.%%'" % ev["id"])
    assert acts == "sponsor.create,sponsor.rename", acts
    # Bad names and another event's sponsor are refused.
    b.get(page)
    assert b.post(page, {"name": ""}).status == 400
    other = create_event(meetup())
    osp = int(pg.scalar("INSERT INTO sponsors (event_id, name) VALUES (%d, "
                        "'Theirs') RETURNING id" % other["id"]))
    b.get(page)
    assert b.post(page + "/rename", {"sponsor": str(osp),
                                     "name": "Mine"}).status == 404
    assert b.post(page, {"name": "X"}, csrf=False).status == 403
    assert b.get("/console/events/%d/sponsors" % other["id"]).status == 403


def test_reprint_badge_from_registrations_under_the_session(
        rollcalld_bin, pg, server, api, create_event):
    ev = create_event(meetup(), status="published")
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                     person("Badge Person")), 201)
    b = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, support.uniq("bp") + "@example.com",
        events=[ev["id"]]))
    text = b.get("/console/events/%d/registrations" % ev["id"]).text
    link = "/console/events/%d/badges/%d.pdf" % (ev["id"], reg["id"])
    assert 'href="%s"' % link in text, "no reprint link on the page"
    r = b.get(link)
    assert r.status == 200 and r.getheader("Content-Type").startswith(
        "application/pdf"), (r.status, r.text[:200])
    other = create_event(meetup())
    assert b.get("/console/events/%d/badges/1.pdf" % other["id"]).status \
        == 403
    anon = support.http_call(server.port, "GET", link)
    assert anon.status in (303, 401), anon
