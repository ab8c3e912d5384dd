"""Members (COMMUNITY.md sections 1 and 4, issue 17): joining by an
e-mailed link, the member page and API, "send me my member link", a
member's registrations linked on every path, members-only events, the
stream URL kept out of every public answer, export and erasure.

The module has a PostgreSQL cluster and a daemon of its own, delivering
to a local SMTP sink (test_mail.Sink), so each test reads the links the
way a person does: from the mail.
"""
import hashlib
import json
import re
import threading
import urllib.parse

import pytest

import support
from support import (Daemon, PgCluster, _apply, cli_token, expect, meetup,
                     migrate, series, uniq, wait_until)
from test_mail import Sink
from test_privacy import assert_nowhere

CONFIRM_RE = re.compile(r"/join/([A-Za-z0-9_-]{43})")
MEMBER_RE = re.compile(r"/member/([A-Za-z0-9_-]{43})")
FROM = "community@example.org"


@pytest.fixture(scope="module")
def cluster(rollcalld_bin):
    c = PgCluster(prefix="rollcall-it-members-")
    try:
        c.start()
        migrate(rollcalld_bin, c.conninfo)
        yield c
    finally:
        c.destroy()


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def d(rollcalld_bin, cluster, sink, tmp_path_factory):
    """The module's daemon, mailing to the sink."""
    dm = Daemon(rollcalld_bin, cluster.conninfo,
                tmp_path_factory.mktemp("members") / "rollcalld.log",
                ["--smtp", "smtp://127.0.0.1:%d" % sink.port,
                 "--mail-from", "Community <%s>" % FROM])
    dm.start()
    yield dm
    dm.stop_and_check()


@pytest.fixture(autouse=True)
def _daemon_survives(request):
    """Blame the test during which the module's daemon died."""
    yield
    if "d" in request.fixturenames:
        dm = request.getfixturevalue("d")
        bad = dm.sanitizer_lines()
        assert dm.alive() and not bad, \
            "rollcalld died or tripped a sanitizer; log tail:\n" + dm.tail(80)


@pytest.fixture(scope="module")
def admin(rollcalld_bin, cluster):
    return cli_token(rollcalld_bin, cluster.conninfo, "admin", "members")


def q(s):
    return "'" + str(s).replace("'", "''") + "'"


class Browser:
    """Cookies and form posts, enough for server-rendered pages."""

    def __init__(self, dm, lang=None):
        self.d, self.cookies, self.lang = dm, {}, lang

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
        return self._keep(self.d.api("POST", path, raw=raw,
                                     headers=self._headers(
            {"Content-Type": "application/x-www-form-urlencoded"})))

    def form_post(self, page_path, action, fields):
        """GET the page (for its CSRF field), then POST the form."""
        page = self.get(page_path)
        assert page.status == 200, page
        m = re.search(rb'name="csrf" value="([^"]+)"', page.raw)
        assert m, "no CSRF field on %s" % page_path
        return self.post(action, dict(fields, csrf=m.group(1).decode()))


def person(**over):
    return _apply({"email": uniq("m") + "@example.com", "name": "Chen Jing",
                   "identity": "professional", "company": "Example Co",
                   "job_title": "SRE", "city": "Shanghai"}, over)


def text_of(msg):
    """The plain and HTML bodies of a message, together."""
    out = []
    for p in msg.walk():
        if p.get_content_type() in ("text/plain", "text/html"):
            out.append(p.get_content())
    return "\n".join(out)


def mails(sink, addr, subject_word):
    return [m for m in sink.to(addr) if subject_word in m["subject"]]


def wait_mail(sink, addr, subject_word, n=1):
    return wait_until(lambda: len(mails(sink, addr, subject_word)) >= n and
                      mails(sink, addr, subject_word), 60,
                      "%d %r message(s) to %s" % (n, subject_word, addr))


def confirm_secret(sink, addr, n=1):
    """The confirmation link's secret of the n-th join message to addr."""
    msg = wait_mail(sink, addr, "joining", n)[n - 1]
    found = set(CONFIRM_RE.findall(text_of(msg)))
    assert len(found) == 1, "the confirmation mail should carry one " \
        "/join/ link: %r" % found
    return found.pop()


def member_secret_mailed(sink, addr, n=1):
    msg = wait_mail(sink, addr, "member link", n)[n - 1]
    found = set(MEMBER_RE.findall(text_of(msg)))
    assert len(found) == 1, "the member-link mail should carry one " \
        "/member/ link: %r" % found
    return found.pop()


def join_and_confirm(d, sink, **over):
    """A member made the way a person becomes one; returns (body, secret)."""
    body = person(**over)
    n = len(mails(sink, body["email"], "joining")) + 1
    r = expect(d.api("POST", "/api/v1/members", body), 202)
    assert r["result"] == "sent", r
    c = confirm_secret(sink, body["email"], n)
    got = expect(d.api("POST", "/api/v1/members/confirm/" + c), 200)
    secret = MEMBER_RE.search(got["member_url"]).group(1)
    return body, secret


def chapter(cluster, slug=None, kind="city", status="active"):
    slug = slug or uniq("ch").lower().replace("_", "-")
    cluster.psql("INSERT INTO chapters (slug, name, name_zh, kind, status) "
                 "VALUES (%s, %s, %s, %s, %s)" % (
                     q(slug), q("Chapter " + slug), q("分会" + slug),
                     q(kind), q(status)))
    return slug


def published(d, admin, body):
    ev = expect(d.api("POST", "/api/v1/events", body, token=admin), 201)
    return expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                        {"status": "published"}, token=admin), 200)


def nighttalks(d, admin, **over):
    """A published NightTalk series (members-only by default)."""
    s = expect(d.api("POST", "/api/v1/series", series(**over),
                     token=admin), 201)
    for e in s["events"]:
        expect(d.api("PATCH", "/api/v1/events/%d" % e["id"],
                     {"status": "published"}, token=admin), 200)
    return s["events"]


def count(cluster, sql):
    return int(cluster.scalar(sql))


def state(cluster):
    """What a refused request must leave as it was."""
    return cluster.psql(
        "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM "
        "members), (SELECT count(*) FROM join_requests), (SELECT count(*) "
        "FROM outbox), (SELECT count(*) FROM chapter_members), (SELECT "
        "count(*) FROM registrations), (SELECT md5(string_agg(p::text, '' "
        "ORDER BY id)) FROM persons p)")


# ------------------------------------------------------------------ joining

def test_join_mails_a_link_whose_page_confirms_only_by_post(d, sink,
                                                            cluster):
    city, topic = chapter(cluster), chapter(cluster, kind="topic")
    body = person(chapters=[city, topic])
    r = expect(d.api("POST", "/api/v1/members", body), 202)
    assert r["result"] == "sent"
    secret = confirm_secret(sink, body["email"])
    msg = wait_mail(sink, body["email"], "joining")[0]
    assert msg["to"].addresses[0].addr_spec == body["email"]
    # What the database keeps of the link: its SHA-256 only.
    assert count(cluster, "SELECT count(*) FROM join_requests WHERE hash = "
                 "decode('%s', 'hex')" % hashlib.sha256(
                     secret.encode()).hexdigest()) == 1
    assert count(cluster, "SELECT count(*) FROM join_requests WHERE "
                 "position(%s in hash::text) > 0" % q(secret)) == 0

    # A mail scanner fetching the link confirms nothing.
    b = Browser(d)
    page = b.get("/join/" + secret)
    assert page.status == 200, page
    html = page.raw.decode()
    assert 'action="/join/%s"' % secret in html and body["email"] in html
    assert 'method="post"' in html
    assert count(cluster, "SELECT count(*) FROM persons WHERE lower(email) "
                 "= lower(%s)" % q(body["email"])) == 0, \
        "GET of the confirmation link made a person"

    r = b.form_post("/join/" + secret, "/join/" + secret, {})
    assert r.status == 303, r
    loc = r.headers["Location"]
    m = re.match(r"^/member/([A-Za-z0-9_-]{43})\?welcome=1$", loc)
    assert m, "confirming should lead to the member page: %r" % loc
    member = m.group(1)
    # The same link is in the welcome mail.
    assert member_secret_mailed(sink, body["email"]) == member

    me = expect(d.api("GET", "/api/v1/member/" + member), 200)
    p = me["person"]
    assert (p["email"], p["name"], p["identity"], p["company"],
            p["job_title"], p["city"]) == (
        body["email"], body["name"], body["identity"], body["company"],
        body["job_title"], body["city"]), p
    joined = sorted(c["slug"] for c in me["chapters"] if c["member"])
    assert joined == sorted([city, topic]), me["chapters"]
    assert count(cluster, "SELECT count(*) FROM members m JOIN persons p ON "
                 "p.id = m.person_id WHERE p.email = %s AND m.key_hash = "
                 "decode('%s', 'hex')" % (q(body["email"]), hashlib.sha256(
                     member.encode()).hexdigest())) == 1

    en = Browser(d, lang="en").get(loc)
    assert en.status == 200 and "Your member page" in en.raw.decode()
    assert en.headers["Cache-Control"].startswith("no-store")
    assert en.headers["Referrer-Policy"] == "no-referrer"
    zh = Browser(d, lang="zh-CN").get("/member/" + member)
    assert zh.status == 200 and "我的会员页面" in zh.raw.decode() and \
        'lang="zh-CN"' in zh.raw.decode()


def test_rejoin_is_quiet_and_does_not_duplicate(d, sink, cluster):
    first, old = join_and_confirm(d, sink, name="First Name")
    stranger = person()
    a = d.api("POST", "/api/v1/members", stranger)
    again = dict(person(name="Someone Else"),
                 email=first["email"].upper())
    b = d.api("POST", "/api/v1/members", again)
    assert (a.status, a.json) == (b.status, b.json), \
        "the answer differs for a member's address: %r vs %r" % (a, b)
    c = confirm_secret(sink, first["email"].upper(), 1)
    got = expect(d.api("POST", "/api/v1/members/confirm/" + c), 200)
    assert got["new"] is False
    new = MEMBER_RE.search(got["member_url"]).group(1)
    assert count(cluster, "SELECT count(*) FROM persons WHERE lower(email) "
                 "= lower(%s)" % q(first["email"])) == 1
    assert count(cluster, "SELECT count(*) FROM members m JOIN persons p ON "
                 "p.id = m.person_id WHERE lower(p.email) = lower(%s)"
                 % q(first["email"])) == 1
    me = expect(d.api("GET", "/api/v1/member/" + new), 200)
    assert me["person"]["name"] == "First Name", \
        "a re-join overwrote the member's profile: %r" % me["person"]
    expect(d.api("GET", "/api/v1/member/" + old), 404)


def test_a_link_used_twice_or_expired_is_refused(d, sink, cluster):
    body = person()
    expect(d.api("POST", "/api/v1/members", body), 202)
    c = confirm_secret(sink, body["email"])
    expect(d.api("POST", "/api/v1/members/confirm/" + c), 200)
    before = state(cluster)
    expect(d.api("POST", "/api/v1/members/confirm/" + c), 404, "link_expired")
    page = Browser(d).get("/join/" + c)
    assert page.status == 404 and "/join" in page.raw.decode()
    r = Browser(d).form_post("/join", "/join/" + c, {})
    assert r.status == 404 and "has expired" in r.raw.decode()
    assert state(cluster) == before

    late = person()
    expect(d.api("POST", "/api/v1/members", late), 202)
    c = confirm_secret(sink, late["email"])
    cluster.psql("UPDATE join_requests SET expires_at = now() - interval "
                 "'1 second' WHERE hash = decode('%s', 'hex')"
                 % hashlib.sha256(c.encode()).hexdigest())
    expect(d.api("POST", "/api/v1/members/confirm/" + c), 404, "link_expired")
    assert count(cluster, "SELECT count(*) FROM persons WHERE email = %s"
                 % q(late["email"])) == 0
    expect(d.api("POST", "/api/v1/members/confirm/" + "x" * 43), 404)


def test_one_link_used_at_once_from_many_clients_confirms_once(d, sink,
                                                               cluster):
    body = person()
    expect(d.api("POST", "/api/v1/members", body), 202)
    # A second request of the same address, confirmed at the same time.
    expect(d.api("POST", "/api/v1/members", dict(body, name="Twin")), 202)
    c1 = confirm_secret(sink, body["email"], 1)
    c2 = confirm_secret(sink, body["email"], 2)
    got = []
    lock = threading.Lock()

    def use(c):
        r = d.api("POST", "/api/v1/members/confirm/" + c)
        with lock:
            got.append((c, r.status))
    ts = [threading.Thread(target=use, args=(c,)) for c in [c1] * 8 + [c2] * 2]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    ok = [c for c, st in got if st == 200]
    assert all(st in (200, 404) for _, st in got), got
    # The first confirmation spends every link of the address.
    assert len(ok) == 1, "expected exactly one confirmation: %r" % got
    assert count(cluster, "SELECT count(*) FROM persons WHERE email = %s"
                 % q(body["email"])) == 1
    assert count(cluster, "SELECT count(*) FROM join_requests WHERE email "
                 "= %s" % q(body["email"])) == 0


def test_send_me_my_link_replaces_it_and_says_nothing_of_strangers(
        d, sink, cluster):
    body, old = join_and_confirm(d, sink)
    # The welcome mail went moments ago; a new link is sent at most once
    # in 10 minutes: pretend those have passed.
    cluster.psql("UPDATE outbox SET created_at = now() - interval "
                 "'11 minutes' WHERE kind = 'member_link'")
    n = count(cluster, "SELECT count(*) FROM audit_log WHERE action = "
              "'member.link_asked'")
    a = d.api("POST", "/api/v1/members/link", {"email": body["email"]})
    b = d.api("POST", "/api/v1/members/link",
              {"email": uniq("nobody") + "@example.com"})
    assert (a.status, a.json) == (b.status, b.json) and a.status == 202, \
        (a, b)
    assert count(cluster, "SELECT count(*) FROM audit_log WHERE action = "
                 "'member.link_asked'") == n + 2, \
        "both requests should write alike"
    new = member_secret_mailed(sink, body["email"], 2)
    assert new != old
    expect(d.api("GET", "/api/v1/member/" + new), 200)
    expect(d.api("GET", "/api/v1/member/" + old), 404)

    # The page form: the same answer.
    r = Browser(d).form_post("/member", "/member", {"email": body["email"]})
    assert r.status == 200 and "If this address belongs to a member" in \
        r.raw.decode()


def test_asking_for_mail_is_limited_per_address(d, cluster):
    addr = uniq("many") + "@example.com"
    got = [d.api("POST", "/api/v1/members", person(email=addr))
           for _ in range(7)]
    # At most 3 a minute for one address: even if a minute boundary falls
    # between the seven, one of the two windows saw four or more.
    limited = [r for r in got if r.status == 429]
    assert limited and all(r.status in (202, 429) for r in got), got
    assert limited[0].headers["Retry-After"].isdigit()
    assert count(cluster, "SELECT count(*) FROM join_requests WHERE email = "
                 "%s" % q(addr)) == len(got) - len(limited)


def test_join_page_keeps_the_input_and_refuses_without_csrf(d, cluster):
    city = chapter(cluster)
    b = Browser(d)
    page = b.get("/join")
    assert page.status == 200 and "Chapter " + city in page.raw.decode()
    cid = cluster.scalar("SELECT id FROM chapters WHERE slug = %s" % q(city))
    before = state(cluster)
    r = b.form_post("/join", "/join", {
        "email": "not-an-address", "name": "Zhou Min",
        "identity": "partner", "ch_" + cid: "1"})
    html = r.raw.decode()
    assert r.status == 400 and 'aria-invalid="true"' in html and \
        'value="Zhou Min"' in html, html[:2000]
    assert re.search(r'name="ch_%s" value="1" checked' % cid, html), \
        "the ticked chapter was lost"
    r = b.post("/join", {"csrf": "forged", "email": uniq("c") +
                         "@example.com", "name": "X", "identity": "partner"})
    assert r.status == 403
    assert state(cluster) == before
    zh = Browser(d, lang="zh-CN").get("/join")
    assert zh.status == 200 and "加入社区" in zh.raw.decode()


@pytest.mark.parametrize("what,body,field", [
    ("no e-mail", {"email": None}, "email"),
    ("a bad e-mail", {"email": "no-at-sign"}, "email"),
    ("no name", {"name": None}, "name"),
    ("an empty name", {"name": "  "}, "name"),
    ("a long name", {"name": "x" * 201}, "name"),
    ("an unknown identity", {"identity": "wizard"}, "identity"),
    ("no identity", {"identity": None}, "identity"),
    ("an unknown chapter", {"chapters": ["no-such-chapter"]}, "chapters"),
    ("chapters not a list", {"chapters": "shanghai"}, "chapters"),
    ("a field we do not know", {"password": "x"}, "password"),
    ("a bad language", {"lang": "fr"}, "lang"),
])
def test_bad_join_is_400_and_changes_nothing(d, cluster, what, body, field):
    b = person()
    for k, v in body.items():
        if v is None:
            b.pop(k)
        else:
            b[k] = v
    before = state(cluster)
    r = d.api("POST", "/api/v1/members", b)
    assert r.status == 400 and r.json["error"] == "invalid_field" and \
        field in r.json["message"], "%s: %r" % (what, r)
    assert state(cluster) == before, "%s changed the database" % what


def test_bad_member_requests_are_4xx_and_change_nothing(d, sink, cluster):
    _, secret = join_and_confirm(d, sink)
    before = state(cluster)
    for body, field in (({"identity": "wizard"}, "identity"),
                        ({"chapters": ["nope-nope"]}, "chapters"),
                        ({"name": ""}, "name"),
                        ({"listed": "yes"}, "listed"),
                        ({"email": "x@example.com"}, "email")):
        r = d.api("PATCH", "/api/v1/member/" + secret, body)
        assert r.status == 400 and field in r.json["message"], (body, r)
    for body in ({}, {"event": 0}, {"event": "1"}, {"event": 1, "name": "X"}):
        r = d.api("POST", "/api/v1/member/%s/registrations" % secret, body)
        assert r.status == 400, (body, r)
    expect(d.api("POST", "/api/v1/member/%s/registrations" % secret,
                 {"event": 999999999}), 404)
    stranger = support.b64u(b"\x01" * 32)
    for method, path in (("GET", ""), ("PATCH", ""), ("GET", "/export"),
                         ("POST", "/erase"), ("POST", "/registrations")):
        r = d.api(method, "/api/v1/member/" + stranger + path,
                  {"event": 1} if path == "/registrations" else {})
        assert r.status == 404, (method, path, r)
        r = d.api(method, "/api/v1/member/short" + path, {})
        assert r.status in (404, 405), (method, path, r)
    assert Browser(d).get("/member/" + stranger).status == 404
    r = d.api("POST", "/api/v1/members/link", {"email": "nope"})
    assert r.status == 400
    assert state(cluster) == before


# ------------------------------------------------ the member page and API

def test_member_edits_profile_and_chapters_on_the_page(d, sink, cluster):
    a, b = chapter(cluster), chapter(cluster)
    _, secret = join_and_confirm(d, sink, chapters=[a])
    br = Browser(d)
    page = "/member/" + secret
    r = br.form_post(page, page + "/profile", {
        "name": "Renamed", "company": "", "job_title": "CTO", "city": "Xi'an",
        "identity": "decision_maker", "lang": "zh-CN", "listed": "1"})
    assert r.status == 303 and r.headers["Location"] == page + \
        "?done=profile", r
    ids = dict(cluster.psql("SELECT slug, id FROM chapters WHERE slug IN "
                            "(%s, %s)" % (q(a), q(b))))
    r = br.form_post(page, page + "/chapters", {"ch_" + ids[b]: "1"})
    assert r.status == 303, r
    me = expect(d.api("GET", "/api/v1/member/" + secret), 200)
    p = me["person"]
    assert (p["name"], p["company"], p["job_title"], p["city"],
            p["identity"], p["lang"], p["listed"]) == (
        "Renamed", None, "CTO", "Xi'an", "decision_maker", "zh-CN", True), p
    assert [c["slug"] for c in me["chapters"] if c["member"]] == [b]
    # A wrong field comes back next to it, the input kept, nothing saved.
    r = br.form_post(page, page + "/profile", {
        "name": "", "identity": "enthusiast", "lang": "en"})
    html = r.raw.decode()
    assert r.status == 400 and 'aria-invalid="true"' in html, html[:1500]
    assert expect(d.api("GET", "/api/v1/member/" + secret),
                  200)["person"]["name"] == "Renamed"
    # The API does the same.
    me = expect(d.api("PATCH", "/api/v1/member/" + secret,
                      {"chapters": [a, b], "listed": False}), 200)
    assert sorted(c["slug"] for c in me["chapters"] if c["member"]) == \
        sorted([a, b]) and me["person"]["listed"] is False


# ------------------------------------------------------ registrations

def reg_body(**over):
    return _apply({"name": "Chen Jing", "company": "Example Co",
                   "job_title": "SRE", "identity": "professional",
                   "consent": {"sponsors": False, "fields": []}}, over)


def person_of(cluster, reg_id):
    return cluster.scalar("SELECT coalesce(person_id::text, '-') FROM "
                          "registrations WHERE id = %d" % reg_id)


def test_registrations_link_to_the_member_on_every_path(
        d, sink, cluster, admin, rollcalld_bin):
    # A registration from before joining is linked once they join.
    ev = published(d, admin, meetup(capacity=20))
    body = person()
    early = expect(d.api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                         reg_body(email=body["email"])), 201)
    assert person_of(cluster, early["id"]) == "-"
    expect(d.api("POST", "/api/v1/members", body), 202)
    c = confirm_secret(sink, body["email"])
    secret = MEMBER_RE.search(expect(d.api(
        "POST", "/api/v1/members/confirm/" + c), 200)["member_url"]).group(1)
    pid = cluster.scalar("SELECT id FROM persons WHERE email = %s"
                         % q(body["email"]))
    assert person_of(cluster, early["id"]) == pid

    # The API, with the address in another case.
    ev2 = published(d, admin, meetup(capacity=20))
    api_reg = expect(d.api("POST", "/api/v1/events/%d/registrations"
                           % ev2["id"], reg_body(
                               email=body["email"].upper())), 201)
    assert person_of(cluster, api_reg["id"]) == pid
    # The web form.
    ev3 = published(d, admin, meetup(capacity=20))
    r = Browser(d).form_post("/events/%d" % ev3["id"], "/events/%d/register"
                             % ev3["id"], dict(reg_body(), consent="",
                                               email=body["email"]))
    assert r.status == 303, r
    web_id = int(cluster.scalar("SELECT id FROM registrations WHERE "
                                "event_id = %d" % ev3["id"]))
    assert person_of(cluster, web_id) == pid
    # The console's walk-in desk.
    from test_console import account_add, signed_in
    ev4 = published(d, admin, meetup(capacity=20))
    staff = signed_in(d.port, account_add(
        rollcalld_bin, cluster.conninfo, uniq("desk") + "@example.com",
        events=[ev4["id"]]))
    staff.get("/console/events/%d/registrations" % ev4["id"])
    r = staff.post("/console/events/%d/registrations/walk-in" % ev4["id"], {
        "name": "Chen Jing", "email": body["email"], "company": "Door",
        "job_title": "Dev", "identity": "partner"})
    assert r.status == 303, r.text[:300]
    walk_id = int(cluster.scalar("SELECT id FROM registrations WHERE "
                                 "event_id = %d" % ev4["id"]))
    assert person_of(cluster, walk_id) == pid
    # Someone else's registration is not theirs.
    other = expect(d.api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                         reg_body(email=uniq("o") + "@example.com")), 201)
    assert person_of(cluster, other["id"]) == "-"

    # The member page lists them all, each with a manage link that works
    # where the registration was made while they were a member.
    me = expect(d.api("GET", "/api/v1/member/" + secret), 200)
    ids = {r["id"]: r for r in me["upcoming"]}
    assert set(ids) == {early["id"], api_reg["id"], web_id, walk_id}, ids
    assert "manage_url" not in ids[early["id"]], \
        "a registration from before joining has no kept manage link"
    for rid in (api_reg["id"], web_id, walk_id):
        url = ids[rid]["manage_url"]
        got = expect(d.api("GET", "/api/v1/registrations/" +
                           url.rsplit("/", 1)[1]), 200)
        assert got["id"] == rid
    assert api_reg["manage_url"] == ids[api_reg["id"]]["manage_url"]
    assert "manage_sealed" not in json.dumps(me)
    page = Browser(d).get("/member/" + secret).raw.decode()
    assert ids[web_id]["manage_url"] in page, page

    # A resend gives the registration a new secret: the page follows it.
    expect(d.api("POST", "/api/v1/events/%d/resend" % ev2["id"],
                 {"email": body["email"]}), 202)
    me = expect(d.api("GET", "/api/v1/member/" + secret), 200)
    url = [r for r in me["upcoming"] if r["id"] == api_reg["id"]][0][
        "manage_url"]
    assert url != api_reg["manage_url"]
    expect(d.api("GET", "/api/v1/registrations/" + url.rsplit("/", 1)[1]),
           200)


# --------------------------------------------------- members-only events

STREAM = "https://live.example.com/members-%s" % uniq("s")


def test_members_only_events_refuse_the_public_and_take_members(
        d, sink, cluster, admin):
    eps = nighttalks(d, admin, online_url=STREAM)
    ev = eps[0]
    assert ev["members_only"] is True
    before = count(cluster, "SELECT count(*) FROM registrations")
    r = d.api("POST", "/api/v1/events/%d/registrations" % ev["id"],
              reg_body(email=uniq("p") + "@example.com"))
    assert r.status == 403 and r.json["error"] == "members_only", r
    assert r.json["join_url"].endswith("/join"), r.json
    # Not even with a member's address: the public form proves nothing.
    body, secret = join_and_confirm(d, sink)
    r = d.api("POST", "/api/v1/events/%d/registrations" % ev["id"],
              reg_body(email=body["email"]))
    assert r.status == 403 and r.json["error"] == "members_only", r
    b = Browser(d)
    page = b.get("/events/%d" % ev["id"]).raw.decode()
    assert 'href="/join"' in page and 'action="/events/%d/register"' % \
        ev["id"] not in page, "a members-only event shows the public form"
    r = b.post("/events/%d/register" % ev["id"], dict(
        reg_body(email=uniq("w") + "@example.com"), consent="",
        csrf=b.cookies["rc_csrf"]))
    assert r.status == 403 and 'href="/join"' in r.raw.decode(), r
    assert count(cluster, "SELECT count(*) FROM registrations") == before

    # A member registers from their link, by the API ...
    reg = expect(d.api("POST", "/api/v1/member/%s/registrations" % secret,
                       {"event": ev["id"]}), 201)
    assert reg["status"] == "confirmed" and "/j/" in reg["join_url"], reg
    row = cluster.psql("SELECT name, email, company, job_title, identity, "
                       "person_id IS NOT NULL FROM registrations WHERE id = "
                       "%d" % reg["id"])[0]
    assert row == [body["name"], body["email"], body["company"],
                   body["job_title"], body["identity"], "t"], row
    # ... or the button on the event page reached from their member page.
    mpage = b.get("/member/" + secret).raw.decode()
    path = "/member/%s/events/%d" % (secret, eps[1]["id"])
    assert path in mpage, "the member page does not offer the NightTalks"
    r = b.form_post(path, path + "/register", {})
    assert r.status == 303 and r.headers["Location"].startswith("/manage/"), r
    again = b.get(path).raw.decode()
    assert "You are registered" in again
    # The series sign-up calls the registration function directly, with
    # no public mark: it is not refused.
    pid = cluster.scalar("SELECT id FROM persons WHERE email = %s"
                         % q(body["email"]))
    got = cluster.psql(
        "SELECT status FROM rc_register_group(jsonb_build_array("
        "jsonb_build_object('event', %d, 'p', jsonb_build_object('name', "
        "'S', 'email', %s, 'company', 'C', 'job_title', 'J', 'identity', "
        "'professional'), 'hash', md5('a') || md5('b'), 'join', "
        "md5('c') || md5('d'))))" % (eps[2]["id"], q(body["email"])))
    assert got == [["201"]], got
    assert cluster.scalar("SELECT person_id FROM registrations WHERE "
                          "event_id = %d" % eps[2]["id"]) == pid


def test_the_stream_url_is_in_no_public_answer_page_calendar_or_mail(
        d, sink, cluster, admin):
    stream = "https://live.example.com/hidden-%s" % uniq("u")
    members = nighttalks(d, admin, online_url=stream)
    open_eps = nighttalks(d, admin, online_url=stream, members_only=False)
    hybrid = published(d, admin, meetup(online_url=stream))
    body, secret = join_and_confirm(d, sink)
    mreg = expect(d.api("POST", "/api/v1/member/%s/registrations" % secret,
                        {"event": members[0]["id"]}), 201)
    preg = expect(d.api("POST", "/api/v1/events/%d/registrations"
                        % open_eps[0]["id"],
                        reg_body(email=uniq("o") + "@example.com")), 201)
    ms = mreg["manage_url"].rsplit("/", 1)[1]
    ps = preg["manage_url"].rsplit("/", 1)[1]
    answers = {}
    for path in ["/api/v1/events", "/api/v1/events?kind=nighttalk", "/",
                 "/?kind=nighttalk", "/api/v1/member/" + secret,
                 "/api/v1/member/%s/export" % secret, "/member/" + secret,
                 "/member/%s/events/%d" % (secret, members[0]["id"])] + \
            ["/api/v1/events/%d" % e["id"] for e in
             (members[0], open_eps[0], hybrid)] + \
            ["/events/%d" % e["id"] for e in
             (members[0], open_eps[0], hybrid)] + \
            [p % s for s in (ms, ps) for p in (
                "/api/v1/registrations/%s", "/manage/%s",
                "/manage/%s/event.ics")]:
        r = d.api("GET", path)
        assert r.status == 200, (path, r)
        answers[path] = r.raw.decode()
    for path, text in answers.items():
        assert stream not in text, "the stream URL is in GET %s" % path
    assert "online_url" not in answers["/api/v1/events/%d" % hybrid["id"]]
    # The personal join link stands in for it.
    assert "/j/" in answers["/manage/%s/event.ics" % ms]
    # Mail: every message the two attendees got, and the outbox.
    for reg, addr in ((mreg, body["email"]), (preg, None)):
        addr = addr or cluster.scalar("SELECT email FROM registrations WHERE"
                                      " id = %d" % reg["id"])
        msgs = wait_until(lambda: sink.to(addr), 60, "mail to " + addr)
        for m in msgs:
            assert stream not in m.as_bytes().decode("ascii", "replace") \
                and stream not in text_of(m), "the stream URL is in a mail"
    assert count(cluster, "SELECT count(*) FROM outbox o WHERE "
                 "strpos(o::text, %s) > 0" % q(stream)) == 0
    # Staff still see it.
    staff = expect(d.api("GET", "/api/v1/events/%d" % members[0]["id"],
                         token=admin), 200)
    assert staff["online_url"] == stream


# ------------------------------------------------------ export, erasure

def test_export_holds_their_data_and_other_parts_sections(d, sink, cluster,
                                                          admin):
    city = chapter(cluster)
    body, secret = join_and_confirm(d, sink, chapters=[city])
    ev = published(d, admin, meetup(capacity=5))
    reg = expect(d.api("POST", "/api/v1/member/%s/registrations" % secret,
                       {"event": ev["id"], "phone": "+86 138 0000 1111",
                        "consent": {"sponsors": True, "fields": ["email"]}}),
                 201)
    r = d.api("GET", "/api/v1/member/%s/export" % secret)
    assert r.status == 200 and "attachment" in \
        r.headers["Content-Disposition"], r
    x = r.json
    assert x["person"]["email"] == body["email"] and \
        x["person"]["city"] == body["city"], x["person"]
    assert [c["slug"] for c in x["chapters"]] == [city]
    regs = {g["id"]: g for g in x["registrations"]}
    assert reg["id"] in regs and regs[reg["id"]]["phone"] == \
        "+86 138 0000 1111" and regs[reg["id"]]["event"]["id"] == ev["id"]
    assert regs[reg["id"]]["consent_history"][0]["fields"] == ["email"]
    assert "ticket_claims" not in json.dumps(x)
    # Another part adds its section by defining one function.
    cluster.psql("CREATE FUNCTION rc_member_export_zz_test(p bigint) "
                 "RETURNS jsonb LANGUAGE sql AS $$ SELECT jsonb_build_object("
                 "'person', p) $$")
    try:
        x = expect(d.api("GET", "/api/v1/member/%s/export" % secret), 200)
        assert x["zz_test"] == {"person": x["person"]["id"]}, x.keys()
    finally:
        cluster.psql("DROP FUNCTION rc_member_export_zz_test(bigint)")


def distinctive():
    tag = uniq("").strip("-").replace("-", "")
    return {"name": "Qmname " + tag, "email": "qm.%s@example.com" % tag,
            "company": "Qmcorp " + tag, "job_title": "Qmtitle " + tag,
            "city": "Qmcity " + tag, "phone": "+86 139 %s" % tag[-8:].
            translate(str.maketrans("abcdef", "123456"))}


def test_erasure_leaves_no_name_or_address_anywhere(d, sink, cluster,
                                                     admin):
    s = distinctive()
    city = chapter(cluster)
    body, secret = join_and_confirm(d, sink, chapters=[city], **{
        k: s[k] for k in ("name", "email", "company", "job_title", "city")})
    ev = published(d, admin, meetup(capacity=1))
    mine = expect(d.api("POST", "/api/v1/member/%s/registrations" % secret,
                        {"event": ev["id"], "phone": s["phone"]}), 201)
    waiting = expect(d.api("POST", "/api/v1/events/%d/registrations"
                           % ev["id"], reg_body(
                               email=uniq("w") + "@example.com")), 201)
    assert waiting["status"] == "waitlisted"
    ev2 = published(d, admin, meetup(capacity=5))
    expect(d.api("POST", "/api/v1/events/%d/registrations" % ev2["id"],
                 reg_body(email=s["email"].upper(), name=s["name"],
                          company=s["company"])), 201)
    # A join request of theirs still pending.
    expect(d.api("POST", "/api/v1/members", person(email=s["email"],
                                                   name=s["name"])), 202)
    wait_mail(sink, s["email"], "joining", 2)
    wait_mail(sink, s["email"], "member link")

    # The page asks for the box to be ticked first.
    b = Browser(d)
    page = "/member/" + secret
    r = b.form_post(page, page + "/erase", {})
    assert r.status == 303 and "confirm_erase" in r.headers["Location"]
    expect(d.api("GET", "/api/v1/member/" + secret), 200)
    r = b.form_post(page, page + "/erase", {"confirm": "1"})
    assert r.status == 200 and "deleted" in r.raw.decode(), r
    expect(d.api("GET", "/api/v1/member/" + secret), 404)
    # Their seat went to the waitlist, as an attendee's own erasure does.
    assert cluster.scalar("SELECT status FROM registrations WHERE id = %d"
                          % waiting["id"]) == "confirmed"
    assert cluster.scalar("SELECT status FROM registrations WHERE id = %d"
                          % mine["id"]) == "cancelled"
    assert_nowhere(cluster, s, "a member's erasure")
    assert count(cluster, "SELECT count(*) FROM persons WHERE lower(email) "
                 "= lower(%s)" % q(s["email"])) == 0


def test_erasure_through_the_api(d, sink, cluster, admin):
    s = distinctive()
    _, secret = join_and_confirm(d, sink, **{
        k: s[k] for k in ("name", "email", "company", "job_title", "city")})
    ev = published(d, admin, meetup(capacity=5))
    expect(d.api("POST", "/api/v1/member/%s/registrations" % secret,
                 {"event": ev["id"], "phone": s["phone"]}), 201)
    got = expect(d.api("POST", "/api/v1/member/%s/erase" % secret), 200)
    assert got == {"erased": True, "registrations": 1}, got
    expect(d.api("POST", "/api/v1/member/%s/erase" % secret), 404)
    assert count(cluster, "SELECT count(*) FROM registrations WHERE "
                 "event_id = %d AND erased_at IS NOT NULL" % ev["id"]) == 1
    assert_nowhere(cluster, s, "a member's erasure by the API")
