"""The console's password reset by e-mail and its invitations (sql/019):
outbox rows for an account, sent through an SMTP sink of the test's own.
The tests use a PostgreSQL cluster of their own, so its outbox holds only
their messages.
"""
import re

import pytest

import support
from support import PgCluster, migrate, uniq, wait_until
from test_console import PASSWORD, Browser, account_add, login, signed_in
from test_mail import Sink, mail_daemon

LINK_RE = re.compile(r"https?://[^/\s]+(/console/password/[A-Za-z0-9_-]{43})")
SAME = "If an account has this address, a link is on its way."


@pytest.fixture(scope="module")
def cluster(rollcalld_bin):
    c = PgCluster(prefix="rollcall-it-acctmail-")
    try:
        c.start()
        migrate(rollcalld_bin, c.conninfo)
        yield c
    finally:
        c.destroy()


@pytest.fixture
def sink():
    s = Sink()
    s.start()
    yield s
    s.stop()


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content()


def link_in(msg):
    m = LINK_RE.search(text_of(msg))
    assert m, "no set-password link in:\n%s" % text_of(msg)
    return m.group(1)


def ask_reset(port, email):
    b = Browser(port)
    assert b.get("/console/reset").status == 200
    return b.post("/console/reset", {"email": email})


def set_password(port, link, password):
    b = Browser(port)
    r = b.get(link)
    if r.status != 200:
        return r
    return b.post(link, {"password": password, "repeat": password})


def test_reset_answers_alike_and_mails_only_a_known_address(
        rollcalld_bin, cluster, sink, start_daemon):
    d = mail_daemon(start_daemon, cluster, sink)
    known = uniq("rs") + "@example.com"
    unknown = uniq("nobody") + "@example.com"
    signed_in(d.port, account_add(rollcalld_bin, cluster.conninfo, known,
                                  role="admin"))
    r1 = ask_reset(d.port, known)
    r2 = ask_reset(d.port, unknown)
    assert r1.status == r2.status == 200, (r1.status, r2.status)
    assert SAME in r1.text and SAME in r2.text
    strip = lambda t: re.sub(r'value="[^"]*"', "", t)
    assert strip(r1.text) == strip(r2.text), "the answers differ"
    msg = sink.wait_for(known)[0]
    assert "Reset" in msg["Subject"], msg["Subject"]
    link = link_in(msg)
    # The unknown address got nothing; the outbox has only the known one.
    assert cluster.scalar("SELECT count(*) FROM outbox WHERE kind = "
                          "'account_reset'") == "1"
    assert sink.to(unknown) == []
    # The link sets a new password and signs in; the old one is dead.
    r = set_password(d.port, link, "a brand new passphrase")
    assert r.status == 303 and r.getheader("Location") == "/console", \
        (r.status, r.text[:300])
    b, r = login(d.port, known, PASSWORD)
    assert r.status == 401, "the old password still signs in"
    b, r = login(d.port, known, "a brand new passphrase")
    assert r.status == 303, r.text[:300]
    assert b.get("/console").status == 200
    # Once only.
    assert set_password(d.port, link, "yet another passphrase").status == 404
    # The sealed secret is wiped once sent.
    wait_until(lambda: cluster.scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'account_reset' AND "
        "(state <> 'sent' OR secret_sealed IS NOT NULL)") == "0", 30,
        "the reset row marked sent and wiped")


def test_reset_rate_limited_per_address(rollcalld_bin, cluster, sink,
                                        start_daemon):
    d = mail_daemon(start_daemon, cluster, sink)
    email = uniq("rl") + "@example.com"
    support.fresh_rate_window()     # the five in one wall-clock minute
    codes = [ask_reset(d.port, email).status for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:], codes


def test_admin_invites_from_the_console_and_the_link_sets_a_password(
        rollcalld_bin, cluster, sink, start_daemon):
    d = mail_daemon(start_daemon, cluster, sink)
    admin = uniq("ad") + "@example.com"
    b = signed_in(d.port, account_add(rollcalld_bin, cluster.conninfo, admin,
                                      role="admin"))
    r = b.get("/console/accounts")
    assert r.status == 200 and admin in r.text
    invitee = uniq("inv") + "@example.com"
    r = b.post("/console/accounts", {"email": invitee, "name": "Wang Fang",
                                     "role": "admin", "events": "",
                                     "lang": "zh-CN"})
    assert r.status == 303, (r.status, r.text[:300])
    r = b.get(r.getheader("Location"))
    assert invitee in r.text
    msg = sink.wait_for(invitee)[0]
    assert "Rollcall" in msg["Subject"]
    assert "24" in text_of(msg)
    link = link_in(msg)
    r = set_password(d.port, link, "invited passphrase here")
    assert r.status == 303, (r.status, r.text[:300])
    b2, r = login(d.port, invitee, "invited passphrase here")
    assert r.status == 303
    acct = "acct:" + cluster.scalar(
        "SELECT id FROM accounts WHERE email = '%s'" % admin)
    assert cluster.scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'account.add' AND "
        "actor = '%s' AND detail->>'email' = '%s'" % (acct, invitee)) == "1"
    # The admin disables the invitee: its session stops at once.
    b.get("/console/accounts")
    r = b.post("/console/accounts/disable", {"email": invitee})
    assert r.status == 303, (r.status, r.text[:300])
    assert b2.get("/console").status in (302, 303)
    assert cluster.scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'account.disable' "
        "AND actor = '%s'" % acct) == "1"


def test_accounts_page_is_for_admins_and_posts_need_csrf(
        rollcalld_bin, cluster, sink, start_daemon):
    d = mail_daemon(start_daemon, cluster, sink)
    ev = support.expect(d.api("POST", "/api/v1/events", support.meetup(),
                              token=support.cli_token(
                                  rollcalld_bin, cluster.conninfo, "admin",
                                  "acct-tests")), 201)
    org = uniq("org") + "@example.com"
    b = signed_in(d.port, account_add(rollcalld_bin, cluster.conninfo, org,
                                      events=[ev["id"]]))
    assert b.get("/console/accounts").status == 403
    r = b.post("/console/accounts", {"email": uniq("x") + "@example.com",
                                     "name": "X", "role": "admin"})
    assert r.status == 403
    admin = uniq("ad") + "@example.com"
    a = signed_in(d.port, account_add(rollcalld_bin, cluster.conninfo, admin,
                                      role="admin"))
    for p in ("/console/accounts", "/console/accounts/disable"):
        r = a.post(p, {"email": org, "name": "X", "role": "admin"},
                   csrf=False)
        assert r.status == 403, "POST %s without CSRF -> %d" % (p, r.status)
    anon = Browser(d.port)
    anon.get("/console/reset")
    r = anon.post("/console/reset", {"email": org}, csrf=False)
    assert r.status == 403
    assert cluster.scalar("SELECT count(*) FROM accounts WHERE email = '%s' "
                          "AND disabled_at IS NULL" % org) == "1"
