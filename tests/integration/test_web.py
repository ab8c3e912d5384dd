"""Attendee web pages over plain HTTP (the browser suite lives in
tests/e2e): escaping, languages, the form with CSRF, errors next to the
field, the manage page, cancel, consent, erasure and the .ics file."""
import html
import re
import urllib.parse

import pytest

from support import _apply, expect, meetup, uniq


class Browser:
    """Cookies and form posts, enough for server-rendered pages."""

    def __init__(self, d, lang=None):
        self.d, self.cookies, self.lang = d, {}, lang

    def _headers(self, extra=None):
        h = {}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in
                                    self.cookies.items())
        if self.lang:
            h["Accept-Language"] = self.lang
        h.update(extra or {})
        return h

    def _keep(self, r):
        for v in r.headers.get_all("Set-Cookie") or []:
            k, _, rest = v.partition("=")
            self.cookies[k] = rest.split(";")[0]
        return r

    def get(self, path):
        return self._keep(self.d.api("GET", path, headers=self._headers()))

    def post(self, path, fields):
        raw = urllib.parse.urlencode(fields).encode()
        return self._keep(self.d.api("POST", path, raw=raw, headers=self._headers(
            {"Content-Type": "application/x-www-form-urlencoded"})))


def csrf_of(r):
    m = re.search(rb'name="csrf" value="([^"]+)"', r.raw)
    assert m, "no CSRF field in the form: %r" % r.raw[:300]
    return m.group(1).decode()


def form(csrf, **over):
    return _apply({"csrf": csrf, "name": "Wang Fang",
                   "email": uniq("w") + "@example.com", "company": "Acme",
                   "job_title": "Engineer", "identity": "professional"}, over)


@pytest.fixture
def ev(create_event, api, admin_token):
    e = create_event(meetup(title="Rust <Meetup> & \"friends\"",
                            capacity=5), status="published")
    expect(api("POST", "/api/v1/events/%d/sponsors" % e["id"],
               {"name": "CloudCo"}, token=admin_token), 201)
    return e


def test_pages_escape_what_people_typed_and_send_no_script(server, ev):
    b = Browser(server)
    for path in ("/", "/events/%d" % ev["id"]):
        r = b.get(path)
        assert r.status == 200, r
        text = r.raw.decode()
        assert "Rust &lt;Meetup&gt; &amp; &quot;friends&quot;" in text, \
            "the title must be HTML-escaped on %s" % path
        assert "<Meetup>" not in text and "<script" not in text.lower()
        csp = r.headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp and "script-src" not in csp and \
            "'unsafe-inline'" not in csp, csp
    css = b.get("/static/style.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith(
        "text/css")


def test_language_follows_accept_language_and_the_switch(server, ev):
    zh = Browser(server, lang="zh-CN,zh;q=0.9,en;q=0.5").get("/")
    assert 'lang="zh-CN"' in zh.raw.decode() and "近期活动" in zh.raw.decode()
    en = Browser(server, lang="en-US").get("/")
    assert 'lang="en"' in en.raw.decode() and "Upcoming events" in \
        en.raw.decode()
    b = Browser(server, lang="zh-CN")
    r = b.get("/?lang=en")
    assert 'lang="en"' in r.raw.decode()
    assert 'lang="en"' in b.get("/").raw.decode(), \
        "the language switch should stick (cookie)"


def test_consent_section_is_separate_unticked_and_names_sponsors(server, ev):
    page = Browser(server).get("/events/%d" % ev["id"]).raw.decode()
    consent = page[page.index('class="field consent"'):]
    consent = consent[:consent.index("</fieldset>")]
    assert "CloudCo" in consent, "the consent section must name the sponsors"
    assert "checked" not in consent, "consent must be unticked by default"
    for f in ("share_email", "share_phone", "share_job_title"):
        assert f in consent


def test_form_post_without_csrf_is_refused_and_writes_nothing(server, ev, pg):
    b = Browser(server)
    b.get("/events/%d" % ev["id"])
    n = pg.scalar("SELECT count(*) FROM registrations WHERE event_id = %d"
                  % ev["id"])
    for token in ("", "x" * 43, "forged"):
        r = b.post("/events/%d/register" % ev["id"], form(token))
        assert r.status == 403 and "text/html" in r.headers["Content-Type"]
    stranger = Browser(server)     # no cookie at all
    r = stranger.post("/events/%d/register" % ev["id"], form("a" * 43))
    assert r.status == 403
    assert pg.scalar("SELECT count(*) FROM registrations WHERE event_id = %d"
                     % ev["id"]) == n


def test_form_error_is_shown_next_to_the_field_and_input_kept(server, ev, pg):
    b = Browser(server)
    tok = csrf_of(b.get("/events/%d" % ev["id"]))
    r = b.post("/events/%d/register" % ev["id"],
               form(tok, name="张三 <b>", email="not-an-email",
                    consent_sponsors="1", share_phone="1"))
    assert r.status == 400, r
    text = r.raw.decode()
    assert 'id="email-error"' in text and 'aria-describedby="email-error"' \
        in text, "the error must sit next to the e-mail field"
    assert 'value="张三 &lt;b&gt;"' in text, "the input must be kept, escaped"
    assert re.search(r'value="professional" checked', text)
    assert re.search(r'name="consent_sponsors" value="1" checked', text)
    assert pg.scalar("SELECT count(*) FROM registrations WHERE event_id = %d"
                     % ev["id"]) == "0"


def test_register_then_manage_cancel_consent_and_erase(server, ev, pg):
    b = Browser(server, lang="en")
    tok = csrf_of(b.get("/events/%d" % ev["id"]))
    email = uniq("li") + "@example.com"
    r = b.post("/events/%d/register" % ev["id"],
               form(tok, name="Li Lei", email=email, consent_sponsors="1",
                    share_email="1"))
    assert r.status == 303, r
    loc = r.headers["Location"]
    assert loc.startswith("/manage/"), loc
    secret = loc.split("/")[2].split("?")[0]
    page = b.get(loc)
    text = page.raw.decode()
    assert page.status == 200 and "<svg" in text and "Li Lei" not in \
        text.split("<main>")[0]
    assert page.headers.get("Referrer-Policy") == "no-referrer"
    assert page.headers.get("Cache-Control") == "no-store"
    assert "event.ics" in text and "ticket.png" in text
    row = pg.psql("SELECT status, consent_sponsors, array_to_string("
                  "consent_fields, ',') FROM registrations WHERE email = "
                  "'%s'" % email)
    assert row == [["confirmed", "t", "email"]], row

    ics = b.get("/manage/%s/event.ics" % secret)
    assert ics.status == 200 and ics.headers["Content-Type"].startswith(
        "text/calendar")
    body = ics.raw.decode()
    # The event's local time with its zone (test_calendar.py reads it back).
    start = ev["starts_at_local"].replace("-", "").replace(":", "")[:15]
    assert "DTSTART;TZID=%s:%s" % (ev["timezone"], start) in body, \
        (start, body)
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))

    tok = csrf_of(page)
    r = b.post("/manage/%s/consent" % secret, {"csrf": tok})
    assert r.status == 303
    assert pg.psql("SELECT consent_sponsors FROM registrations WHERE email "
                   "= '%s'" % email) == [["f"]]
    r = b.post("/manage/%s/cancel" % secret, {"csrf": tok})
    assert r.status == 303
    assert "cancelled" in b.get("/manage/" + secret).raw.decode()
    r = b.post("/manage/%s/erase" % secret, {"csrf": tok})
    assert r.status == 303
    assert pg.scalar("SELECT count(*) FROM registrations WHERE email = '%s'"
                     % email) == "0"
    assert "deleted" in b.get("/manage/" + secret).raw.decode()


def test_unknown_pages_are_html_errors(server):
    b = Browser(server)
    for path in ("/events/999999999", "/manage/" + "A" * 43, "/manage/x"):
        r = b.get(path)
        assert r.status == 404 and r.headers["Content-Type"].startswith(
            "text/html"), r
        assert "<h1>" in r.raw.decode()


def test_list_filter_keeps_its_choice(server, ev):
    text = Browser(server).get("/?kind=meetup").raw.decode()
    assert 'value="meetup" selected' in text and \
        'value="nighttalk" selected' not in text
    assert Browser(server).get("/?kind=bogus").status == 400


def test_agenda_with_speakers_is_on_the_event_page(server, ev, api,
                                                   admin_token):
    start = ev["starts_at"]
    body = {"sessions": [
        {"title": "Opening <keynote>", "speaker": "Li Wei", "kind": "keynote",
         "starts_at": start, "ends_at": ev["ends_at"]},
        {"title": "Hands-on lab", "kind": "hands_on", "room": "B2"}]}
    path = "/api/v1/events/%d/agenda" % ev["id"]
    got = expect(api("POST", path, body, token=admin_token), 200)
    assert [s["title"] for s in got["sessions"]] == ["Opening <keynote>",
                                                     "Hands-on lab"]
    pub = expect(api("GET", "/api/v1/events/%d" % ev["id"]), 200)
    assert pub["sessions"][0]["speaker"] == "Li Wei"
    page = Browser(server).get("/events/%d" % ev["id"]).raw.decode()
    assert "Opening &lt;keynote&gt;" in page and "Li Wei" in page and \
        "(B2)" in page
    bad = [{"sessions": [{"speaker": "no title"}]},
           {"sessions": [{"title": "x", "kind": "party"}]},
           {"sessions": [{"title": "late", "starts_at": "2099-01-01T10:00:00Z"}]},
           {"sessions": "none"}]
    for b in bad:
        r = api("POST", path, b, token=admin_token)
        assert r.status == 400 and "sessions" in r.json["message"], r
    expect(api("GET", "/api/v1/events/%d" % ev["id"]), 200)
    assert len(expect(api("GET", "/api/v1/events/%d" % ev["id"]),
                      200)["sessions"]) == 2, "a refused agenda changed it"
    expect(api("POST", path, body), 401)


def test_form_errors_and_error_pages_speak_the_page_language(server, ev):
    b = Browser(server, lang="zh-CN")
    tok = csrf_of(b.get("/events/%d" % ev["id"]))
    r = b.post("/events/%d/register" % ev["id"],
               form(tok, email="not-an-email"))
    assert r.status == 400 and "请填写电子邮箱" in r.raw.decode(), \
        "a zh-CN page should explain the field in Chinese"
    r = b.get("/events/999999999")
    assert r.status == 404 and "找不到此页面" in r.raw.decode()
