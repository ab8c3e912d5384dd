"""E-mail (issue 9): the transactional outbox and its sender.

A local SMTP sink (aiosmtpd, in this process) receives what a daemon of
the test's own sends through --smtp. The mail tests use a PostgreSQL
cluster of their own, so the outbox holds only their messages.
"""
import email
import email.policy
import os
import re
import stat
import subprocess
import threading

import pytest
from aiosmtpd.controller import Controller

import support
from community_support import make_member
from support import (PgCluster, _apply, cli_token, expect, free_port, meetup,
                     migrate, run_cli, series, uniq, wait_until)

FROM = "events@example.org"
CHINESE_TITLE = "Go 语言聚会：生产环境性能分析"
MANAGE_RE = re.compile(r"/manage/([A-Za-z0-9_-]{43})")


class Sink:
    """An SMTP server that keeps every message; stop() and start() make
    an outage on the same port."""

    def __init__(self):
        self.port = free_port()
        self.lock = threading.Lock()
        self.received = []          # (rcpt_tos, bytes)
        self.ctl = None

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((list(envelope.rcpt_tos),
                                  bytes(envelope.content)))
        return "250 OK: queued"

    def start(self):
        self.ctl = Controller(self, hostname="127.0.0.1", port=self.port)
        self.ctl.start()

    def stop(self):
        if self.ctl is not None:
            self.ctl.stop()
            self.ctl = None

    def to(self, addr):
        """Messages for one address, parsed."""
        with self.lock:
            raw = [b for rcpts, b in self.received if addr in rcpts]
        return [email.message_from_bytes(b, policy=email.policy.default)
                for b in raw]

    def wait_for(self, addr, n=1, timeout=60):
        return wait_until(lambda: len(self.to(addr)) >= n and
                          self.to(addr), timeout,
                          "%d message(s) to %s in the SMTP sink" % (n, addr))


@pytest.fixture(scope="module")
def cluster(rollcalld_bin):
    c = PgCluster(prefix="rollcall-it-mail-")
    try:
        c.start()
        migrate(rollcalld_bin, c.conninfo)
        yield c
    finally:
        c.destroy()


@pytest.fixture(scope="module")
def admin(rollcalld_bin, cluster):
    return cli_token(rollcalld_bin, cluster.conninfo, "admin", "mail-tests")


@pytest.fixture
def sink():
    s = Sink()
    s.start()
    yield s
    s.stop()


def mail_daemon(start_daemon, cluster, sink, *extra):
    return start_daemon(cluster.conninfo, [
        "--smtp", "smtp://127.0.0.1:%d" % sink.port,
        "--mail-from", "Rollcall <%s>" % FROM, *extra])


def new_event(d, admin, **over):
    ev = expect(d.api("POST", "/api/v1/events", meetup(**over),
                      token=admin), 201)
    return expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                        {"status": "published"}, token=admin), 200)


def person(**over):
    return _apply({"name": "Zhang San", "email": uniq("m") + "@example.com",
                   "company": "Example Co", "job_title": "SRE",
                   "identity": "professional"}, over)


def register(d, ev, headers=None, **over):
    body = person(**over)
    reg = expect(d.api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                       body, headers=headers), 201)
    reg["email"] = body["email"]
    return reg


def secret_of(url):
    return url.rsplit("/", 1)[1]


def parts(msg):
    return {p.get_content_type(): p for p in msg.walk()
            if not p.is_multipart()}


def outbox(cluster, reg_id):
    """(kind, state, attempts, sealed?) of one registration's rows."""
    return cluster.psql(
        "SELECT kind, state, attempts, secret_sealed IS NOT NULL, "
        "coalesce(last_error, '') FROM outbox WHERE registration_id = %d "
        "ORDER BY id" % reg_id)


def metric(d, name):
    text = d.api("GET", "/metrics").raw.decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def zbar(tmp_path, png):
    path = tmp_path / "ticket.png"
    path.write_bytes(png)
    out = subprocess.run(["zbarimg", "--raw", "-q", "-Sbinary", str(path)],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, "zbarimg read nothing from the mailed QR"
    return out.stdout.decode().strip()


def test_confirmation_carries_ticket_calendar_and_link(
        start_daemon, cluster, admin, sink, tmp_path):
    d = mail_daemon(start_daemon, cluster, sink)
    ev = new_event(d, admin, title=CHINESE_TITLE, capacity=10)
    reg = register(d, ev, name="张三", headers={"Accept-Language": "zh-CN"})
    other = register(d, ev, name="Li Si")
    msg = sink.wait_for(reg["email"])[0]

    assert msg["subject"] == "报名成功：" + CHINESE_TITLE, \
        "subject decodes to %r" % msg["subject"]
    assert re.search(rb"^Subject: =\?utf-8\?", msg.as_bytes(), re.M | re.I), \
        "the Chinese subject is not RFC 2047 encoded"
    to = msg["to"].addresses[0]
    assert (to.display_name, to.addr_spec) == ("张三", reg["email"])
    assert msg["from"].addresses[0].addr_spec == FROM

    p = parts(msg)
    for t in ("text/plain", "text/html", "image/png", "text/calendar"):
        assert t in p, "no %s part in the confirmation: %s" % (t, list(p))
    text, html = p["text/plain"].get_content(), p["text/html"].get_content()
    cid = p["image/png"]["Content-ID"].strip("<>")
    assert "cid:" + cid in html, "the HTML does not show the inline QR"
    assert p["image/png"].get_content_disposition() == "inline"
    assert "您已报名成功" in text and CHINESE_TITLE in html

    # The inline QR is a ticket the door admits.
    tok = zbar(tmp_path, p["image/png"].get_content())
    assert support.jwt_claims(tok)["r"] == reg["id"]
    door = expect(d.api("POST", "/api/v1/tokens", {
        "role": "door", "name": uniq("door"), "events": [ev["id"]]},
        token=admin), 201)
    v = expect(d.api("POST", "/api/v1/checkins", {"token": tok},
                     token=door["token"]), 200)
    assert v["result"] == "admitted", v

    # The calendar file parses.
    ics = p["text/calendar"]
    assert ics.get_filename() == "event.ics"
    cal = ics.get_content()
    assert cal.startswith("BEGIN:VCALENDAR") and "END:VCALENDAR" in cal
    assert re.search(r"^DTSTART;TZID=Asia/Shanghai:\d{8}T\d{6}\r?$", cal,
                     re.M) and "BEGIN:VTIMEZONE" in cal, cal

    # The manage link is this attendee's, and it works.
    links = set(MANAGE_RE.findall(text)) | set(MANAGE_RE.findall(html))
    assert links == {secret_of(reg["manage_url"])}, links
    got = expect(d.api("GET", "/api/v1/registrations/" + links.pop()), 200)
    assert got["id"] == reg["id"]

    # Privacy: nothing of the other attendee; the secret wiped once sent.
    raw = msg.as_bytes().decode("ascii", "replace")
    assert other["email"] not in raw and "Li Si" not in text + html
    wait_until(lambda: outbox(cluster, reg["id"])[0][1] == "sent", 30,
               "the outbox row marked sent")
    rows = outbox(cluster, reg["id"])
    # The reminder is the job's, a day before (test_the_reminder_...).
    assert [r[:2] for r in rows] == [["confirmed", "sent"]], rows
    assert rows[0][3] == "f", "the sealed secret outlived the sending"
    other_msg = sink.wait_for(other["email"])[0]
    assert other_msg["subject"].startswith("Registered: "), \
        "an English attendee got %r" % other_msg["subject"]
    log = d.log_text()
    for s in (reg["email"], secret_of(reg["manage_url"]), "张三"):
        assert s not in log, "the log carries %r" % s


def test_outage_loses_nothing_and_sends_each_message_once(
        start_daemon, cluster, admin, sink, rollcalld_bin):
    d = mail_daemon(start_daemon, cluster, sink)
    ev = new_event(d, admin, capacity=2, title="Outage meetup")
    sink.stop()
    a, b = register(d, ev), register(d, ev)
    c = register(d, ev)
    assert c["status"] == "waitlisted"
    expect(d.api("DELETE", "/api/v1/registrations/" +
                 secret_of(a["manage_url"])), 200)
    # a's confirmation, superseded before it could go, is dropped: a
    # hears of the cancellation only.
    expected = {a["email"]: 1, b["email"]: 1, c["email"]: 2}
    ids = [a["id"], b["id"], c["id"]]

    # The sender tries, fails, keeps the reason; nothing is lost.
    def tried():
        rows = [r for i in ids for r in outbox(cluster, i)
                if r[0] != "reminder" and r[1] != "skipped"
                and not (i == a["id"] and r[0] == "confirmed")]
        return len(rows) == 4 and all(r[1] == "queued" and int(r[2]) >= 1
                                      and r[4] for r in rows) and rows
    rows = wait_until(tried, 60, "failed attempts recorded in the outbox")
    assert "smtp" in rows[0][4], rows
    wait_until(lambda: (metric(d, 'rollcall_mail_outbox{state="queued"}')
                        or 0) >= 4, 30, "/metrics counting the queue")
    assert metric(d, "rollcall_mail_attempt_failures_total") >= 1
    assert metric(d, "rollcall_mail_oldest_unsent_seconds") is not None
    st = run_cli([rollcalld_bin, "mail", "--status", "--db",
                  cluster.conninfo])
    assert st.returncode == 0, st.stderr
    assert int(re.search(r"^queued (\d+)$", st.stdout, re.M).group(1)) >= 4
    assert re.search(r"^failed 0$", st.stdout, re.M), st.stdout

    # A restart in the middle of the outage loses nothing either.
    d.stop_and_check()
    d2 = mail_daemon(start_daemon, cluster, sink)
    sink.start()
    for addr, n in expected.items():
        sink.wait_for(addr, n)
    wait_until(lambda: all(r[1] in ("sent", "skipped") for i in ids
                           for r in outbox(cluster, i)
                           if r[0] != "reminder"), 30, "every row marked sent")
    assert [r[1] for r in outbox(cluster, a["id"])] == \
        ["skipped", "sent"], outbox(cluster, a["id"])
    got = {}
    for addr in expected:
        msgs = sink.to(addr)
        got[addr] = sorted(m["subject"].split(":")[0] for m in msgs)
        ids_seen = [m["Message-ID"] for m in msgs]
        assert len(set(ids_seen)) == len(ids_seen), \
            "a message arrived twice: %r" % ids_seen
    assert got == {
        a["email"]: ["Registration cancelled"],
        b["email"]: ["Registered"],
        c["email"]: ["A seat opened up, you are in", "On the waiting list"],
    }, got
    promoted = [m for m in sink.to(c["email"])
                if m["subject"].startswith("A seat")][0]
    assert "image/png" in parts(promoted), "the promotion has no ticket"
    wait_until(lambda: metric(d2, 'rollcall_mail_outbox{state="queued"}')
               == 0, 30, "/metrics showing the queue drained")


def test_resend_answers_alike_and_issues_new_links(
        start_daemon, cluster, admin, sink):
    d = mail_daemon(start_daemon, cluster, sink)
    ev = new_event(d, admin, title="Resend meetup")
    reg = register(d, ev)
    sink.wait_for(reg["email"])
    path = "/api/v1/events/%d/resend" % ev["id"]
    known = d.api("POST", path, {"email": reg["email"].upper()})
    unknown = d.api("POST", path, {"email": uniq("nobody") + "@example.com"})
    assert (known.status, known.raw) == (unknown.status, unknown.raw), \
        "the resend answer tells registered from unknown: %r / %r" % (
            known, unknown)
    assert known.status == 202
    expect(d.api("POST", path, {"email": "not an address"}), 400)

    msg = [m for m in sink.wait_for(reg["email"], 2)
           if m["subject"].startswith("Your links")][0]
    text = parts(msg)["text/plain"].get_content()
    assert "no longer work" in text
    new = MANAGE_RE.findall(text)[0]
    assert new != secret_of(reg["manage_url"])
    expect(d.api("GET", "/api/v1/registrations/" + new), 200)
    expect(d.api("GET", "/api/v1/registrations/" +
                 secret_of(reg["manage_url"])), 404)
    assert "image/png" in parts(msg)

    support.fresh_rate_window()     # the twelve in one wall-clock minute
    codes = [d.api("POST", path, {"email": reg["email"]}).status
             for _ in range(12)]
    assert 429 in codes, "resend is not rate-limited: %r" % codes


def test_event_changes_and_cancellation_reach_everyone(
        start_daemon, cluster, admin, sink):
    d = mail_daemon(start_daemon, cluster, sink)
    ev = new_event(d, admin, title="Moving meetup", capacity=1)
    a = register(d, ev)
    b = register(d, ev, headers={"Accept-Language": "zh-CN"})
    assert b["status"] == "waitlisted"
    path = "/api/v1/events/%d" % ev["id"]
    expect(d.api("PATCH", path, {"venue": "New Hall, 1 Park Road"},
                 token=admin), 200)
    ma = [m for m in sink.wait_for(a["email"], 2)
          if m["subject"].startswith("Changed: ")][0]
    assert "New Hall, 1 Park Road" in parts(ma)["text/plain"].get_content()
    assert "text/calendar" in parts(ma)
    mb = sink.wait_for(b["email"], 2)
    assert any(m["subject"] == "活动有变更：Moving meetup" for m in mb), \
        [m["subject"] for m in mb]
    expect(d.api("PATCH", path, {"status": "cancelled"}, token=admin), 200)
    sink.wait_for(a["email"], 3)
    assert any(m["subject"] == "活动已取消：Moving meetup"
               for m in sink.wait_for(b["email"], 3))
    # The cancelled event's reminders will not come, their secrets wiped.
    for r in (a, b):
        rem = [x for x in outbox(cluster, r["id"]) if x[0] == "reminder"]
        kept = cluster.psql("SELECT remind, remind_sealed IS NOT NULL FROM "
                            "registrations WHERE id = %d" % r["id"])
        assert rem == [] and kept == [["f", "f"]], (rem, kept)
    assert cluster.scalar("SELECT rc_reminders_queue(100)") == "0"


def a_day_passes(cluster, ev_id, hours=20):
    """The event starts in `hours` hours, as if time had passed: no
    trigger sees it move (session_replication_role, as a superuser)."""
    cluster.psql("SET session_replication_role = replica; UPDATE events "
                 "SET starts_at = now() + interval '%d hours', "
                 "ends_at = now() + interval '%d hours' WHERE id = %d"
                 % (hours, hours + 2, ev_id))


def test_the_reminder_is_queued_a_day_before_with_the_manage_link(
        start_daemon, cluster, admin, sink):
    d = mail_daemon(start_daemon, cluster, sink)
    ev = new_event(d, admin, title="Reminded meetup", capacity=2)
    a = register(d, ev)
    b = register(d, ev)
    c = register(d, ev)
    assert c["status"] == "waitlisted"
    expect(d.api("DELETE", "/api/v1/registrations/" +
                 secret_of(b["manage_url"])), 200)     # c promoted
    gone = register(d, ev)
    expect(d.api("DELETE", "/api/v1/registrations/" +
                 secret_of(gone["manage_url"])), 200)
    ids = (a["id"], b["id"], c["id"], gone["id"])
    # Registering writes no reminder: only a wish, and the secret for it.
    assert all(x[0] != "reminder" for i in ids for x in outbox(cluster, i))
    assert cluster.scalar("SELECT rc_reminders_queue(100)") == "0", \
        "a reminder was queued more than a day before the event"
    a_day_passes(cluster, ev["id"])
    assert cluster.scalar("SELECT rc_reminders_queue(100)") == "2", \
        "the job should queue the reminders of the two confirmed"
    assert cluster.scalar("SELECT rc_reminders_queue(100)") == "0", \
        "a second run queued the reminders again"
    rem = {i: [x for x in outbox(cluster, i) if x[0] == "reminder"]
           for i in ids}
    assert len(rem[a["id"]]) == 1 and len(rem[c["id"]]) == 1 and \
        rem[b["id"]] == [] and rem[gone["id"]] == [], rem
    assert cluster.scalar("SELECT count(*) FROM registrations WHERE "
                          "event_id = %d AND (remind OR remind_sealed IS "
                          "NOT NULL)" % ev["id"]) == "0", \
        "a registration kept its sealed secret after the job"
    for r in (a, c):
        m = wait_until(lambda: [x for x in sink.to(r["email"])
                                if x["subject"].startswith("Tomorrow: ")],
                       60, "the reminder to %s" % r["email"])
        text = parts(m[0])["text/plain"].get_content()
        assert MANAGE_RE.search(text), \
            "the reminder carries no manage link:\n%s" % text
    # Registering now, within the day, wants none.
    late = register(d, ev)
    assert cluster.scalar("SELECT remind FROM registrations WHERE id = %d"
                          % late["id"]) == "f"


def test_an_event_moved_to_within_a_day_sends_no_reminder(
        start_daemon, cluster, admin, sink):
    d = mail_daemon(start_daemon, cluster, sink)
    ev = new_event(d, admin, title="Moved-up meetup")
    a = register(d, ev)
    soon = cluster.scalar("SELECT to_char((now() + interval '5 hours') AT "
                          "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
    later = cluster.scalar("SELECT to_char((now() + interval '7 hours') AT "
                           "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
    expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                 {"starts_at": soon, "ends_at": later}, token=admin), 200)
    assert cluster.scalar("SELECT rc_reminders_queue(100)") == "0", \
        "an event moved to within a day still got its reminders"
    assert [x for x in outbox(cluster, a["id"]) if x[0] == "reminder"] == []
    assert cluster.scalar("SELECT remind_sealed IS NULL FROM registrations "
                          "WHERE id = %d" % a["id"]) == "t"


def test_without_a_relay_the_outbox_just_fills(
        start_daemon, cluster, admin, tmp_path):
    d = start_daemon(cluster.conninfo)
    ev = new_event(d, admin, title="Quiet meetup")
    reg = register(d, ev)
    assert outbox(cluster, reg["id"])[0][:3] == ["confirmed", "queued", "0"]
    wait_until(lambda: metric(d, 'rollcall_mail_outbox{state="queued"}'),
               30, "/metrics counting the queue")
    assert metric(d, "rollcall_mail_delivery_enabled") == 0


def test_sendmail_interface(start_daemon, cluster, admin, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    fake = tmp_path / "sendmail"
    # Write, then rename: the test must never read a half-written file.
    fake.write_text("#!/bin/sh\n# $1=-i $2=-f $3=FROM $4=-- $5=TO\n"
                    "cat > \"%s/.tmp.$$\" && mv \"%s/.tmp.$$\" "
                    "\"%s/$5.$$\"\n" % (spool, spool, spool))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    d = start_daemon(cluster.conninfo, ["--sendmail", str(fake),
                                        "--mail-from", FROM])
    ev = new_event(d, admin, title="Sendmail meetup")
    reg = register(d, ev)
    files = wait_until(lambda: [f for f in os.listdir(spool)
                                if f.startswith(reg["email"])], 60,
                       "a message handed to sendmail")
    msg = email.message_from_bytes((spool / files[0]).read_bytes(),
                                   policy=email.policy.default)
    assert msg["subject"] == "Registered: Sendmail meetup"
    assert "image/png" in parts(msg)


def test_nighttalk_confirmation_gives_the_join_link_not_a_door_ticket(
        start_daemon, cluster, admin, sink):
    """An online event has no door: its confirmation carries the personal
    join link and the start in UTC, and no QR to show at a door."""
    d = mail_daemon(start_daemon, cluster, sink)
    s = expect(d.api("POST", "/api/v1/series", series(), token=admin), 201)
    ep = s["events"][0]
    expect(d.api("PATCH", "/api/v1/events/%d" % ep["id"],
                 {"status": "published"}, token=admin), 200)
    # NightTalks are members-only: a member registers from their link.
    email = uniq("nt") + "@example.com"
    _, member = make_member(cluster, email=email)
    reg = expect(d.api("POST", "/api/v1/member/%s/registrations" % member,
                       {"event": ep["id"], "company": "Example Co",
                        "job_title": "SRE"}), 201)
    reg["email"] = email
    msg = sink.wait_for(reg["email"])[0]
    p = parts(msg)
    text, html = p["text/plain"].get_content(), p["text/html"].get_content()
    assert "image/png" not in p, \
        "a NightTalk confirmation carries a door QR: %s" % list(p)
    for body, what in ((text, "text"), (html, "HTML")):
        assert re.search(r"/j/[A-Za-z0-9_-]{43}", body), \
            "no personal join link in the %s part:\n%s" % (what, body)
        assert "door" not in body.lower(), \
            "the %s part speaks of a door:\n%s" % (what, body)
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", body), \
            "the %s part does not give the start in UTC:\n%s" % (what, body)
    assert "live.example.com" not in msg.as_bytes().decode("ascii", "replace"),\
        "the stream URL is in the mail"
