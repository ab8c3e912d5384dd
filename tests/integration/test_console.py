"""The organizer console's foundation: accounts from the command line, the
one-time link, sign-in, sessions (expiry, sign-out, revocation across two
daemons), rate limiting, CSRF and scope on the console's pages."""
import hashlib
import http.client
import re
import threading
import urllib.parse

import pytest

import support
from support import expect, meetup, run_cli

LINK = re.compile(r"^(https?://[^/]+)(/console/password/[A-Za-z0-9_-]{43})$")
PASSWORD = "correct horse battery"


class Browser:
    """Cookies and the CSRF field, as a browser keeps them."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}
        self.csrf = None

    def _send(self, method, path, form=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in
                                    self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            raw = r.read()
        finally:
            c.close()
        for v in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = v.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in v:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        text = raw.decode("utf-8", "replace")
        m = re.search(r'name="csrf" value="([^"]+)"', text)
        if m:
            self.csrf = m.group(1)
        r.text = text
        r.body = raw
        return r

    def get(self, path, **kw):
        return self._send("GET", path, **kw)

    def post(self, path, form=None, csrf=True, **kw):
        form = dict(form or {})
        if csrf:
            form["csrf"] = self.csrf
        return self._send("POST", path, form=form, **kw)


def account_add(binary, conninfo, email, role="organizer", events=(),
                name="Ann Organizer"):
    args = [binary, "account", "add", "--email", email, "--name", name,
            "--role", role, "--db", conninfo]
    for e in events:
        args += ["--event", str(e)]
    r = run_cli(args)
    assert r.returncode == 0, "account add failed (%d):\n%s" % (
        r.returncode, r.stderr)
    last = r.stdout.strip().splitlines()[-1]
    m = LINK.match(last)
    assert m, "the last line of `account add` is not the link: %r" % last
    return m.group(2)


def signed_in(port, link, password=PASSWORD):
    """A browser that followed the one-time link and set its password."""
    b = Browser(port)
    r = b.get(link)
    assert r.status == 200, "GET %s -> %d %s" % (link, r.status, r.text[:300])
    r = b.post(link, {"password": password, "repeat": password})
    assert r.status == 303 and r.getheader("Location") == "/console", \
        "setting the password: %d %s" % (r.status, r.text[:300])
    assert "rc_session" in b.cookies, "no session cookie after the link"
    return b


def login(port, email, password=PASSWORD):
    b = Browser(port)
    b.get("/console/login")
    r = b.post("/console/login", {"email": email, "password": password})
    return b, r


def test_account_add_link_sets_password_once_and_signs_in(
        rollcalld_bin, pg, server):
    email = support.uniq("ann") + "@example.com"
    link = account_add(rollcalld_bin, pg.conninfo, email, role="admin")
    b = Browser(server.port)
    r = b.get(link)
    assert r.status == 200 and email in r.text
    csp = r.getheader("Content-Security-Policy")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    assert r.getheader("Referrer-Policy") == "no-referrer"
    r = b.post(link, {"password": "short", "repeat": "short"})
    assert r.status == 400, "a 5-character password was accepted"
    r = b.post(link, {"password": PASSWORD, "repeat": PASSWORD})
    assert r.status == 303, r.text[:300]
    cookie = [v for v in r.headers.get_all("Set-Cookie")
              if v.startswith("rc_session=")][0]
    for want in ("HttpOnly", "SameSite=Lax", "Path=/console"):
        assert want in cookie, "session cookie lacks %s: %s" % (want, cookie)
    assert "Secure" not in cookie, "Secure on a plain-http public URL"
    assert b.get("/console").status == 200
    # The link is spent: a second use, even with a valid form, is refused.
    b2 = Browser(server.port)
    assert b2.get(link).status == 404
    # What the database keeps: an argon2id hash, the session's SHA-256.
    h = pg.scalar("SELECT password_hash FROM accounts WHERE email = '%s'"
                  % email)
    assert h.startswith("$argon2id$"), h
    sid = b.cookies["rc_session"]
    assert pg.scalar("SELECT count(*) FROM console_sessions WHERE id_hash "
                     "= decode('%s', 'hex')" %
                     hashlib.sha256(sid.encode()).hexdigest()) == "1"
    assert pg.scalar("SELECT count(*) FROM console_sessions WHERE id_hash "
                     "= convert_to('%s', 'UTF8')" % sid) == "0"


def test_sign_in_one_answer_for_wrong_password_and_unknown_address(
        rollcalld_bin, pg, server):
    email = support.uniq("bo") + "@example.com"
    signed_in(server.port, account_add(rollcalld_bin, pg.conninfo, email,
                                       role="admin"))
    _, wrong = login(server.port, email, "not the password")
    _, unknown = login(server.port, "nobody-" + email, PASSWORD)
    assert wrong.status == unknown.status == 401
    strip = lambda t: re.sub(r'value="[^"]*"', "", t)
    assert strip(wrong.text) == strip(unknown.text), \
        "the answers differ between a wrong password and an unknown address"
    b, ok = login(server.port, email.upper())
    assert ok.status == 303 and ok.getheader("Location") == "/console"
    assert b.get("/console").status == 200


def test_console_posts_without_csrf_are_refused(rollcalld_bin, pg, server,
                                                create_event):
    ev = create_event(meetup(), status="published")
    email = support.uniq("cs") + "@example.com"
    b = signed_in(server.port, account_add(rollcalld_bin, pg.conninfo,
                                           email, events=[ev["id"]]))
    posts = ["/console/login", "/console/logout", "/console/logout-all",
             "/console/events/%d/checkin" % ev["id"],
             "/console/events/%d/checkin/undo" % ev["id"],
             "/console/events/%d/registrations/cancel" % ev["id"],
             "/console/events/%d/registrations/promote" % ev["id"],
             "/console/events/%d/registrations/walk-in" % ev["id"]]
    for p in posts:
        r = b.post(p, {"registration": "1", "email": email,
                       "password": PASSWORD}, csrf=False)
        assert r.status == 403, "POST %s without CSRF -> %d" % (p, r.status)
    # Another site's form, CSRF token and all, is refused by its Origin.
    b.get("/console")
    r = b.post("/console/logout", headers={"Origin": "https://evil.example"})
    assert r.status == 403
    assert b.get("/console").status == 200, "the session did not survive"


def test_session_idle_and_absolute_expiry(rollcalld_bin, pg, server):
    email = support.uniq("ex") + "@example.com"
    b = signed_in(server.port, account_add(rollcalld_bin, pg.conninfo, email,
                                           role="admin"))
    where = ("account_id = (SELECT id FROM accounts WHERE email = '%s')"
             % email)
    pg.psql("UPDATE console_sessions SET last_seen_at = now() - "
            "interval '11 hours 59 minutes' WHERE " + where)
    assert b.get("/console").status == 200, "refused before 12 h idle"
    pg.psql("UPDATE console_sessions SET last_seen_at = now() - "
            "interval '12 hours 1 minute' WHERE " + where)
    r = b.get("/console")
    assert r.status == 303 and r.getheader("Location") == "/console/login"
    assert "rc_session" not in b.cookies, "the dead cookie was not cleared"
    b, _ = login(server.port, email)
    pg.psql("UPDATE console_sessions SET created_at = now() - "
            "interval '7 days 1 minute' WHERE " + where)
    assert b.get("/console").status == 303, "a session older than 7 days"
    r = b.get("/console/overview.json")
    assert r.status == 401


def test_sign_out_everywhere_and_revocation_across_two_daemons(
        rollcalld_bin, pg, server, start_daemon):
    other = start_daemon(pg.conninfo)
    email = support.uniq("rv") + "@example.com"
    a = signed_in(server.port, account_add(rollcalld_bin, pg.conninfo,
                                           email, role="admin"))
    # The same session works on the second daemon: it lives in PostgreSQL.
    b = Browser(other.port)
    b.cookies = dict(a.cookies)
    assert b.get("/console").status == 200
    c, r = login(other.port, email)
    assert r.status == 303
    # Sign out everywhere on A: B's copy and the third session stop.
    a.get("/console")
    assert a.post("/console/logout-all").status == 303
    assert b.get("/console").status == 303
    assert c.get("/console").status == 303
    # Disabling the account ends a fresh session at its next request.
    d, _ = login(server.port, email)
    e, _ = login(other.port, email)
    assert d.get("/console").status == 200
    r = run_cli([rollcalld_bin, "account", "disable", "--email", email,
                 "--db", pg.conninfo])
    assert r.returncode == 0, r.stderr
    assert d.get("/console").status == 303
    assert e.get("/console").status == 303
    _, r = login(other.port, email)
    assert r.status == 401, "a disabled account signed in"
    assert pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                     "'account.disable' AND detail->>'email' = '%s'"
                     % email) == "1"


def test_sign_in_rate_limited_per_account(rollcalld_bin, pg, start_daemon):
    d = start_daemon(pg.conninfo)
    email = support.uniq("rl") + "@example.com"
    account = account_add(rollcalld_bin, pg.conninfo, email, role="admin")
    # The limit counts wall-clock minutes: the whole burst in one of them
    # (a CI run's eleventh attempt fell in the next minute and got 303).
    support.fresh_rate_window()
    signed_in(d.port, account)
    statuses = [login(d.port, email, "guess %d" % i)[1].status
                for i in range(10)]
    assert statuses == [401] * 10, statuses
    _, r = login(d.port, email)
    assert r.status == 429, "the 11th attempt in a minute got %d" % r.status
    assert "Too many attempts" in r.text
    # Another account from the same address is still let in.
    other = support.uniq("rl2") + "@example.com"
    signed_in(d.port, account_add(rollcalld_bin, pg.conninfo, other,
                                  role="admin"))
    assert login(d.port, other)[1].status == 303


def test_organizer_sees_only_its_events(rollcalld_bin, pg, server,
                                        create_event):
    mine = create_event(meetup(title="Mine"), status="published")
    theirs = create_event(meetup(title="Theirs"), status="published")
    email = support.uniq("sc") + "@example.com"
    b = signed_in(server.port, account_add(rollcalld_bin, pg.conninfo,
                                           email, events=[mine["id"]]))
    r = b.get("/console/overview.json")
    assert r.status == 200
    ids = [e["id"] for e in __import__("json").loads(r.text)["events"]]
    assert ids == [mine["id"]], ids
    for page in ("checkin", "checkin.json", "registrations",
                 "attendance.csv", "attendance.xlsx"):
        assert b.get("/console/events/%d/%s" % (mine["id"], page)).status \
            == 200, page
        r = b.get("/console/events/%d/%s" % (theirs["id"], page))
        assert r.status in (403, 404), "%s of another's event -> %d" % (
            page, r.status)
    b.get("/console")
    r = b.post("/console/events/%d/checkin" % theirs["id"],
               {"registration": "1"})
    assert r.status == 403
    assert b.get("/console/audit").status == 403, "an organizer read the audit"
    # The session is no bearer token: the JSON API does not take it.
    r = b.get("/api/v1/events/%d/registrations" % mine["id"])
    assert r.status == 401


def test_desk_tick_admits_once_undo_and_audit(rollcalld_bin, pg, server,
                                              api, create_event):
    ev = create_event(meetup(), status="published")
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % ev["id"], {
        "name": "Wang Fang", "email": support.uniq("w") + "@example.com",
        "company": "Acme", "job_title": "Dev", "identity": "professional",
        "consent": {"sponsors": False, "fields": []}}), 201)
    email = support.uniq("dk") + "@example.com"
    link = account_add(rollcalld_bin, pg.conninfo, email, events=[ev["id"]])
    one = signed_in(server.port, link)
    two, _ = login(server.port, email)
    two.get("/console/events/%d/checkin" % ev["id"])
    results = []

    def tick(b):
        r = b.post("/console/events/%d/checkin" % ev["id"],
                   {"registration": str(reg["id"]), "gate": "A"},
                   headers={"Accept": "application/json"})
        results.append(__import__("json").loads(r.text)["result"])

    one.get("/console/events/%d/checkin" % ev["id"])
    ts = [threading.Thread(target=tick, args=(b,)) for b in (one, two)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(results) == ["admitted", "already_checked_in"], results
    acct = pg.scalar("SELECT id FROM accounts WHERE email = '%s'" % email)
    assert pg.scalar("SELECT count(*) FROM audit_log WHERE actor = 'acct:%s'"
                     " AND action = 'checkin.desk'" % acct) == "2"
    assert pg.scalar("SELECT count(*) FROM checkins WHERE registration_id = "
                     "%d AND verdict = 'admitted'" % reg["id"]) == "1"
    r = one.post("/console/events/%d/checkin/undo" % ev["id"],
                 {"registration": str(reg["id"])})
    assert r.status == 303 and "v=undone" in r.getheader("Location")
    assert pg.scalar("SELECT checked_in_at IS NULL FROM registrations "
                     "WHERE id = %d" % reg["id"]) == "t"
    # A check-in older than a minute stays.
    one.get("/console/events/%d/checkin" % ev["id"])
    one.post("/console/events/%d/checkin" % ev["id"],
             {"registration": str(reg["id"])})
    pg.psql("UPDATE registrations SET checked_in_at = now() - "
            "interval '61 seconds' WHERE id = %d" % reg["id"])
    one.get("/console/events/%d/checkin" % ev["id"])
    r = one.post("/console/events/%d/checkin/undo" % ev["id"],
                 {"registration": str(reg["id"])})
    assert r.status == 409


def test_registrations_cancel_promote_walk_in_audited(
        rollcalld_bin, pg, server, api, create_event):
    ev = create_event(meetup(capacity=1), status="published")
    regs = []
    for n in ("First", "Second", "Third"):
        regs.append(expect(api("POST", "/api/v1/events/%d/registrations"
                               % ev["id"], {
            "name": n, "email": support.uniq(n) + "@example.com",
            "company": "Acme", "job_title": "Dev", "identity": "enthusiast",
            "consent": {"sponsors": False, "fields": []}}), 201))
    assert [r["status"] for r in regs] == ["confirmed", "waitlisted",
                                           "waitlisted"]
    email = support.uniq("rg") + "@example.com"
    b = signed_in(server.port, account_add(rollcalld_bin, pg.conninfo,
                                           email, events=[ev["id"]]))
    page = b.get("/console/events/%d/registrations?status=waitlisted"
                 % ev["id"])
    assert page.text.index("Second") < page.text.index("Third")
    assert "First" not in page.text
    r = b.post("/console/events/%d/registrations/promote" % ev["id"],
               {"registration": str(regs[2]["id"])})
    assert r.status == 409, "promoted into a full event"
    b.get("/console/events/%d/registrations" % ev["id"])
    r = b.post("/console/events/%d/registrations/cancel" % ev["id"],
               {"registration": str(regs[0]["id"])})
    assert r.status == 303 and "done=cancelled" in r.getheader("Location")
    # The freed seat went to the head of the waitlist.
    assert pg.scalar("SELECT status FROM registrations WHERE id = %d"
                     % regs[1]["id"]) == "confirmed"
    b.get("/console/events/%d/registrations" % ev["id"])
    r = b.post("/console/events/%d/registrations/walk-in" % ev["id"], {
        "name": "Walk In", "email": support.uniq("wi") + "@example.com",
        "company": "Door", "job_title": "Dev", "identity": "partner"})
    assert r.status == 303, r.text[:300]
    acct = pg.scalar("SELECT id FROM accounts WHERE email = '%s'" % email)
    actions = [row[0] for row in pg.psql(
        "SELECT action FROM audit_log WHERE actor = 'acct:%s' ORDER BY id"
        % acct)]
    assert "registration.cancel" in actions and \
        "registration.walk_in" in actions, actions


def test_resend_ticket_on_an_attendees_behalf(rollcalld_bin, pg, server, api,
                                             create_event):
    """Resend from the registrations page: a resend mail is queued, the old
    manage link stops working, and the account is in the audit log."""
    ev = create_event(meetup(), status="published")
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % ev["id"], {
        "name": "Lost Phone", "email": support.uniq("rs") + "@example.com",
        "company": "Acme", "job_title": "Dev", "identity": "enthusiast",
        "consent": {"sponsors": False, "fields": []}}), 201)
    old = reg["manage_url"].rsplit("/", 1)[1]
    expect(api("GET", "/api/v1/registrations/" + old), 200)
    email = support.uniq("rs") + "@example.com"
    b = signed_in(server.port, account_add(rollcalld_bin, pg.conninfo,
                                           email, events=[ev["id"]]))
    page = b.get("/console/events/%d/registrations" % ev["id"]).text
    assert "/registrations/resend" in page, "no resend button on the page"
    r = b.post("/console/events/%d/registrations/resend" % ev["id"],
               {"registration": str(reg["id"])})
    assert r.status == 303 and "done=resent" in r.getheader("Location"), \
        (r.status, r.text[:300])
    assert pg.scalar("SELECT count(*) FROM outbox WHERE registration_id = %d "
                     "AND kind = 'resend'" % reg["id"]) == "1", \
        "no resend mail queued"
    expect(api("GET", "/api/v1/registrations/" + old), 404)
    acct = pg.scalar("SELECT id FROM accounts WHERE email = '%s'" % email)
    assert pg.scalar("SELECT count(*) FROM audit_log WHERE actor = "
                     "'acct:%s' AND action = 'registration.resend'" % acct) \
        == "1", "the resend is not audited with the account"
    # Without its CSRF field the form is refused.
    assert b.post("/console/events/%d/registrations/resend" % ev["id"],
                  {"registration": str(reg["id"])}, csrf=False).status == 403


def test_console_exports_xlsx_audited_with_the_account(rollcalld_bin, pg,
                                                       server, api,
                                                       create_event):
    """The attendance XLSX from the console: a real workbook (openpyxl
    reads it), the download audited with the account."""
    import io
    import openpyxl
    ev = create_event(meetup(), status="published")
    expect(api("POST", "/api/v1/events/%d/registrations" % ev["id"], {
        "name": "张伟", "email": support.uniq("xl") + "@example.com",
        "company": "示例", "job_title": "Dev", "identity": "enthusiast",
        "consent": {"sponsors": False, "fields": []}}), 201)
    email = support.uniq("xl") + "@example.com"
    b = signed_in(server.port, account_add(rollcalld_bin, pg.conninfo,
                                           email, events=[ev["id"]]))
    assert "attendance.xlsx" in b.get("/console").text, \
        "no XLSX link on the overview"
    r = b.get("/console/events/%d/attendance.xlsx" % ev["id"])
    assert r.status == 200, (r.status, r.text[:200])
    wb = openpyxl.load_workbook(io.BytesIO(r.body))
    cells = [c.value for row in wb.active.iter_rows() for c in row]
    assert "张伟" in cells, "the Chinese name is not in the workbook"
    acct = pg.scalar("SELECT id FROM accounts WHERE email = '%s'" % email)
    assert int(pg.scalar("SELECT count(*) FROM audit_log WHERE actor = "
                         "'acct:%s' AND event_id = %d AND action LIKE "
                         "'export%%'" % (acct, ev["id"]))) >= 1, \
        "the XLSX download is not audited with the account"


def test_the_audit_page_filters_by_event(rollcalld_bin, pg, server,
                                         create_event):
    """Admins read the audit log, narrowed to one event with ?event=."""
    a = create_event(meetup(title="Audited A"), status="published")
    b_ev = create_event(meetup(title="Audited B"), status="published")
    b = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, support.uniq("au") + "@example.com",
        role="admin"))
    page = b.get("/console/audit?event=%d" % a["id"])
    assert page.status == 200, page.status
    cells = re.findall(r"<tr><td>[^<]*</td><td[^>]*>.*?</td><td>[^<]*</td>"
                       r"<td>(\d*)</td></tr>", page.text)
    assert cells and set(cells) == {str(a["id"])}, \
        "the audit page for event %d shows events %r" % (a["id"], set(cells))
    assert b.get("/console/audit?event=x").status == 400
