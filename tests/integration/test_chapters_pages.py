"""Chapters on the public site (/chapters, /chapters/{slug}, zh-CN and
English) and in the console (/console/chapters for admin and committee,
the accounts page of every staff role, the editor's chapter field)."""
import html
import re

import support
from community_support import make_chapter
from support import expect, meetup, uniq
from test_console import Browser, account_add, signed_in


def page(server, path):
    b = Browser(server.port)
    r = b.get(path)
    return r.status, r.text


def chapter(api, token, **over):
    body = {"slug": uniq("pg").lower(), "name": "Shenzhen", "name_zh": "深圳",
            "kind": "city", "city": "Shenzhen", "status": "active"}
    body.update(over)
    return expect(api("POST", "/api/v1/chapters", body, token=token), 201)


def test_the_chapter_list_in_both_languages(api, admin_token, server):
    city = chapter(api, admin_token, name="Shenzhen " + uniq())
    topic = chapter(api, admin_token, kind="topic", city=None,
                    topic="Serverless", name="Serverless " + uniq(),
                    name_zh="无服务器")
    old = chapter(api, admin_token, name="Old " + uniq(), status="trial")
    expect(api("PATCH", "/api/v1/chapters/" + old["slug"],
               {"status": "retired"}, token=admin_token), 200)

    st, text = page(server, "/chapters?lang=en")
    assert st == 200
    for c in (city, topic):
        assert 'href="/chapters/%s"' % c["slug"] in text, c["slug"]
    assert old["slug"] not in text, "a retired chapter is listed by default"
    assert "City chapter" in text and "Topic chapter" in text
    assert html.escape(city["name"]) in text and "Serverless" in text

    st, text = page(server, "/chapters?kind=topic")
    assert st == 200 and topic["slug"] in text and city["slug"] not in text
    st, text = page(server, "/chapters?status=retired")
    assert st == 200 and old["slug"] in text and city["slug"] not in text
    assert "Retired" in text

    st, text = page(server, "/chapters?lang=zh-CN")
    assert st == 200 and 'lang="zh-CN"' in text
    assert "深圳" in text and "城市分会" in text and "技术分会" in text, \
        "the zh-CN list lacks the Chinese names and kinds"
    for bad in ("/chapters?kind=club", "/chapters?status=gone"):
        st, text = page(server, bad)
        assert st == 400 and "<html" in text, (bad, st)

    st, text = page(server, "/?lang=en")
    assert 'href="/chapters"' in text, "the home page does not link /chapters"


def test_a_chapter_page_shows_leaders_names_and_public_events_only(
        api, admin_token, server, create_event, pg):
    c = chapter(api, admin_token, name="Xi'an <UG>", name_zh="西安",
                region="Northwest")
    slug = c["slug"]
    email = uniq("lead") + "@example.com"
    expect(api("POST", "/api/v1/chapters/%s/leaders" % slug,
               {"email": email, "name": "Zhao Lei", "role": "lead"},
               token=admin_token), 201)
    shown = create_event(meetup(chapter=slug, title="Shown " + uniq()),
                         status="published")
    draft = create_event(meetup(chapter=slug, title="Draft " + uniq()))
    members = create_event(meetup(chapter=slug, members_only=True,
                                  title="Members " + uniq()),
                           status="published")

    st, text = page(server, "/chapters/%s?lang=en" % slug)
    assert st == 200, text[:300]
    assert "Xi&#39;an &lt;UG&gt;" in text, "the name is not escaped as text"
    assert "Zhao Lei" in text and "Lead" in text
    assert email not in text, "the public page shows a leader's e-mail"
    assert shown["title"] in text and 'href="/events/%d"' % shown["id"] in text
    for hidden in (draft, members):
        assert hidden["title"] not in text, \
            "the chapter page shows %r" % hidden["title"]
    assert "Northwest" in text and "City chapter" in text

    st, text = page(server, "/chapters/%s?lang=zh-CN" % slug)
    assert st == 200 and "<h1>西安</h1>" in text and "负责人" in text

    st, text = page(server, "/events/%d?lang=en" % shown["id"])
    assert 'href="/chapters/%s"' % slug in text, \
        "the event page does not link its chapter"
    st, text = page(server, "/chapters/" + uniq("none").lower())
    assert st == 404 and "<html" in text
    st, _ = page(server, "/chapters/Bad_Slug")
    assert st == 404


def console_account(rollcalld_bin, pg, server, role, events=()):
    email = uniq(role) + "@example.com"
    b = signed_in(server.port, account_add(rollcalld_bin, pg.conninfo, email,
                                           role=role, events=events))
    return b, email


def test_console_chapters_for_admin_and_committee_only(
        rollcalld_bin, pg, server, create_event):
    seed = create_event(meetup())
    org, _ = console_account(rollcalld_bin, pg, server, "organizer",
                             [seed["id"]])
    assert org.get("/console/chapters").status == 403
    assert 'href="/console/chapters"' not in org.get("/console").text
    b, _ = console_account(rollcalld_bin, pg, server, "committee")
    r = b.get("/console/chapters")
    assert r.status == 200 and 'data-chapter="shanghai"' in r.text
    assert 'href="/console/chapters"' in b.get("/console").text
    for p in ("/console/chapters", "/console/chapters/shanghai/leaders"):
        r = b.post(p, {"slug": "x", "name": "X", "kind": "city",
                       "email": "x@example.com", "role": "lead"}, csrf=False)
        assert r.status == 403, "POST %s without CSRF -> %d" % (p, r.status)


def test_console_creates_edits_and_staffs_a_chapter(rollcalld_bin, pg,
                                                    server):
    b, _ = console_account(rollcalld_bin, pg, server, "committee")
    b.get("/console/chapters")
    slug = uniq("con").lower()
    form = {"slug": slug, "name": "Wuhan", "name_zh": "武汉", "kind": "city",
            "city": "Wuhan", "region": "", "topic": "",
            "timezone": "Asia/Shanghai", "status": "trial"}
    before = pg.scalar("SELECT count(*) FROM chapters")
    r = b.post("/console/chapters", dict(form, slug="Bad Slug"))
    assert r.status == 400 and 'id="slug-error"' in r.text and \
        'value="Wuhan"' in r.text, "a bad slug's form: %d" % r.status
    r = b.post("/console/chapters", dict(form, slug="shanghai"))
    assert r.status == 400 and "already exists" in r.text, r.status
    assert pg.scalar("SELECT count(*) FROM chapters") == before

    r = b.post("/console/chapters", form)
    assert r.status == 303 and r.getheader("Location") == \
        "/console/chapters/%s?done=created" % slug, (r.status, r.text[:300])
    assert pg.scalar("SELECT name_zh || status FROM chapters WHERE slug = "
                     "'%s'" % slug) == "武汉trial"
    r = b.get("/console/chapters/%s?done=created" % slug)
    assert r.status == 200 and "Chapter created." in r.text

    email = uniq("ugl") + "@example.com"
    r = b.post("/console/chapters/%s/leaders" % slug,
               {"email": "nope", "name": "X", "role": "lead"})
    assert r.status == 400 and 'id="leader-error"' in r.text
    r = b.post("/console/chapters/%s/leaders" % slug,
               {"email": email, "name": "Chen Jing", "role": "co_lead"})
    assert r.status == 303, r.text[:300]
    r = b.get("/console/chapters/" + slug)
    assert email in r.text and "Co-lead" in r.text
    pid = re.search(r'data-person="(\d+)"', r.text).group(1)
    r = b.post("/console/chapters/%s/leaders/remove" % slug,
               {"person": pid, "role": "co_lead"})
    assert r.status == 303 and "leader_removed" in r.getheader("Location")
    assert pg.scalar("SELECT count(*) FROM chapter_leaders l JOIN chapters c "
                     "ON c.id = l.chapter_id WHERE c.slug = '%s'" % slug) == "0"

    edit = dict(form)
    del edit["slug"]
    r = b.post("/console/chapters/" + slug, dict(edit,
                                                 timezone="Mars/Olympus"))
    assert r.status == 400 and 'id="timezone-error"' in r.text
    r = b.post("/console/chapters/" + slug, dict(edit, status="retired",
                                                 region="Central China"))
    assert r.status == 303, r.text[:300]
    assert pg.scalar("SELECT status || '/' || region FROM chapters WHERE "
                     "slug = '%s'" % slug) == "retired/Central China"
    assert pg.scalar("SELECT count(*) FROM audit_log WHERE actor LIKE "
                     "'acct:%%' AND detail->>'slug' = '%s'" % slug) == "4"


def test_accounts_of_every_staff_role(rollcalld_bin, pg, server, api,
                                      admin_token):
    b, _ = console_account(rollcalld_bin, pg, server, "committee")
    r = b.get("/console/accounts")
    assert r.status == 200 and 'value="leader"' in r.text
    assert 'value="admin"' not in r.text, "the committee is offered admin"
    _, slug = make_chapter(pg)
    email = uniq("invited") + "@example.com"
    r = b.post("/console/accounts", {"email": email, "name": "Sun Li",
                                     "role": "leader", "chapter": slug,
                                     "lang": "zh-CN"})
    assert r.status == 303, r.text[:300]
    got = pg.scalar("SELECT a.role || '/' || l.role FROM accounts a JOIN "
                    "persons p ON lower(p.email) = lower(a.email) JOIN "
                    "chapter_leaders l ON l.person_id = p.id JOIN chapters c "
                    "ON c.id = l.chapter_id WHERE a.email = '%s' AND c.slug "
                    "= '%s'" % (email, slug))
    assert got == "leader/lead", got
    before = pg.scalar("SELECT count(*) FROM accounts")
    for role in ("admin", "committee", "infra"):
        r = b.post("/console/accounts", {"email": uniq("x") + "@example.com",
                                         "name": "X", "role": role})
        assert r.status == 403, "the committee granted %s" % role
    r = b.post("/console/accounts", {"email": uniq("x") + "@example.com",
                                     "name": "X", "role": "organizer",
                                     "chapter": slug, "events": "1"})
    assert r.status == 400, "a chapter for an organizer"
    assert pg.scalar("SELECT count(*) FROM accounts") == before
    assert b.post("/console/accounts/disable", {"email": email}).status == 403

    # An organizer who also leads a chapter shows both roles.
    seed = expect(api("POST", "/api/v1/events", meetup(),
                      token=admin_token), 201)
    org = uniq("both") + "@example.com"
    account_add(rollcalld_bin, pg.conninfo, org, events=[seed["id"]])
    expect(api("POST", "/api/v1/chapters/%s/leaders" % slug,
               {"email": org, "name": "Both", "role": "track_owner"},
               token=admin_token), 201)
    a, _ = console_account(rollcalld_bin, pg, server, "admin")
    r = a.get("/console/accounts")
    row = re.search(r'<tr data-account="\d+"><td>%s</td>.*?</tr>'
                    % re.escape(org), r.text, re.S).group(0)
    assert "organizer" in row and "track owner" in row and slug in row, row
    assert 'value="admin"' in r.text


def test_the_editor_offers_a_leader_only_its_chapters(
        rollcalld_bin, pg, server, api, admin_token):
    _, mine = make_chapter(pg)
    _, other = make_chapter(pg)
    b, email = console_account(rollcalld_bin, pg, server, "leader")
    expect(api("POST", "/api/v1/chapters/%s/leaders" % mine,
               {"email": email, "name": "L", "role": "lead"},
               token=admin_token), 201)
    r = b.get("/console/events/new?kind=meetup")
    assert r.status == 200
    options = re.findall(r'<option value="([a-z0-9-]+)"[^>]*>[^<]*\(\1\)',
                         r.text)
    assert options == [mine], "the editor offers %r, not [%r]" % (options,
                                                                 mine)
    assert re.search(r'<option value="%s" selected>' % mine, r.text), \
        "a leader's only chapter is not preselected"
    day = support.day(15)
    form = {"kind": "meetup", "title": "UGL meetup", "chapter": other,
            "format": "panel", "venue": "Hub",
            "starts_local": "%sT14:00" % day, "ends_local": "%sT16:00" % day,
            "timezone": "Asia/Shanghai", "waitlist": "on"}
    n = pg.scalar("SELECT count(*) FROM events")
    r = b.post("/console/events/new", form)
    # The form again with the refusal, under its status (403 out of scope).
    assert r.status == 403 and "is not one of your chapters" in r.text, \
        (r.status, r.text[:300])
    assert pg.scalar("SELECT count(*) FROM events") == n
    r = b.post("/console/events/new", dict(form, chapter=mine))
    assert r.status == 303, r.text[:300]
    eid = int(re.search(r"/console/events/(\d+)/edit",
                        r.getheader("Location")).group(1))
    assert pg.scalar("SELECT chapter FROM events WHERE id = %d" % eid) == mine
    assert b.get("/console/events/%d/edit" % eid).status == 200
