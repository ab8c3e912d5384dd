"""Sponsors, leads by consent, exports, the audit log and erasure
(SPEC §1, §6): the part of Rollcall that must be exact about personal
data."""
import csv
import datetime as dt
import io
import zipfile

import openpyxl

import pytest

from support import _apply, expect, meetup, uniq


def person(**over):
    return _apply({"name": "Someone", "email": uniq("p") + "@example.com",
                   "company": "Acme", "job_title": "Engineer",
                   "identity": "professional",
                   "phone": "+86 138 0013 8000"}, over)


class World:
    """One event with two sponsors, attendees with different consent, and
    a token for every role."""


@pytest.fixture(scope="module")
def w(api, admin_token, create_event, issue):
    w = World()
    w.admin = admin_token
    w.ev = create_event(meetup(capacity=100), status="published")["id"]
    w.other_ev = create_event(meetup(), status="published")["id"]
    path = "/api/v1/events/%d/sponsors" % w.ev
    w.sp_a = expect(api("POST", path, {"name": "CloudCo"},
                        token=admin_token), 201)["id"]
    w.sp_b = expect(api("POST", path, {"name": "DataBase Inc."},
                        token=admin_token), 201)["id"]
    w.people = {}
    for key, consent in [
            ("alice", {"sponsors": True, "fields": ["email", "job_title"]}),
            ("bob", {"sponsors": False}),
            ("carol", {"sponsors": True, "fields": ["phone"]})]:
        body = person(name=key.title(), email=uniq(key) + "@example.com",
                      consent=consent)
        reg = expect(api("POST", "/api/v1/events/%d/registrations" % w.ev,
                         body), 201)
        reg["body"] = body
        reg["secret"] = reg["manage_url"].rsplit("/", 1)[1]
        w.people[key] = reg
    w.emails = [p["body"]["email"] for p in w.people.values()]
    w.tok = {
        "none": None,
        "attendee": w.people["alice"]["secret"],
        "door": issue("door", events=[w.ev])["token"],
        "sponsor_a": issue("sponsor", sponsor=w.sp_a)["token"],
        "sponsor_b": issue("sponsor", sponsor=w.sp_b)["token"],
        "organizer_other": issue("organizer", events=[w.other_ev])["token"],
        "organizer": issue("organizer", events=[w.ev])["token"],
        "admin": admin_token,
    }
    return w


def ticket(w, key):
    return w.people[key]["ticket"]["token"]


def read_csv(resp):
    assert resp.raw[:3] == b"\xef\xbb\xbf", \
        "the CSV must start with a UTF-8 byte-order mark: %r" % resp.raw[:20]
    assert resp.headers.get("Content-Type", "").startswith("text/csv")
    return list(csv.reader(io.StringIO(resp.raw[3:].decode("utf-8"),
                                       newline="")))


def test_consenting_attendee_becomes_a_lead_with_chosen_fields_only(api, w,
                                                                    pg):
    got = expect(api("POST", "/api/v1/leads",
                     {"token": ticket(w, "alice"), "note": "wants a demo",
                      "rating": 4}, token=w.tok["sponsor_a"]), 200)
    assert got["result"] == "captured", got
    lead = got["lead"]
    alice = w.people["alice"]["body"]
    assert lead["name"] == "Alice" and lead["company"] == "Acme"
    assert lead["email"] == alice["email"] and lead["job_title"] == "Engineer"
    assert "phone" not in lead, "phone was not shared: %r" % lead
    again = expect(api("POST", "/api/v1/leads",
                       {"token": ticket(w, "alice"), "rating": 5},
                       token=w.tok["sponsor_a"]), 200)
    assert again["result"] == "already_captured"
    assert again["lead"]["note"] == "wants a demo" and \
        again["lead"]["rating"] == 5
    carol = expect(api("POST", "/api/v1/leads", {"token": ticket(w, "carol")},
                       token=w.tok["sponsor_a"]), 200)["lead"]
    assert set(carol) >= {"name", "company", "phone"} and \
        "email" not in carol and "job_title" not in carol, carol


def test_no_consent_stores_nothing_personal(api, w, pg):
    before = pg.scalar("SELECT count(*) FROM leads")
    got = expect(api("POST", "/api/v1/leads", {"token": ticket(w, "bob")},
                     token=w.tok["sponsor_b"]), 200)
    assert got["result"] == "no_consent" and got.get("lead") is None, got
    assert "Bob" not in str(got) and w.people["bob"]["body"]["email"] \
        not in str(got)
    assert pg.scalar("SELECT count(*) FROM leads") == before, \
        "a scan without consent wrote a lead row"
    assert pg.scalar("SELECT no_consent FROM sponsor_scan_counts WHERE "
                     "sponsor_id = %d" % w.sp_b) == "1"
    # The lead table itself never holds personal data.
    cols = {r[0] for r in pg.psql(
        "SELECT column_name FROM information_schema.columns WHERE "
        "table_name = 'leads'")}
    assert not cols & {"name", "email", "phone", "company", "job_title"}, cols


def test_invalid_and_foreign_tickets_are_not_leads(api, w, create_event):
    other = create_event(meetup(), status="published")
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % other["id"],
                     person(consent={"sponsors": True})), 201)
    got = expect(api("POST", "/api/v1/leads",
                     {"token": reg["ticket"]["token"]},
                     token=w.tok["sponsor_a"]), 200)
    assert got["result"] == "wrong_event"
    got = expect(api("POST", "/api/v1/leads", {"token": "garbage"},
                     token=w.tok["sponsor_a"]), 200)
    assert got["result"] == "invalid"
    expect(api("POST", "/api/v1/leads", {"token": "x", "rating": 9},
               token=w.tok["sponsor_a"]), 400, "invalid_field")


def test_withdrawal_hides_the_lead_at_once_in_json_and_csv(api, w):
    dave = person(name="Dave", consent={"sponsors": True,
                                        "fields": ["email"]})
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % w.ev, dave),
                 201)
    expect(api("POST", "/api/v1/leads", {"token": reg["ticket"]["token"]},
               token=w.tok["sponsor_a"]), 200)
    leads = expect(api("GET", "/api/v1/sponsors/%d/leads" % w.sp_a,
                       token=w.tok["sponsor_a"]), 200)
    assert dave["email"] in str(leads)
    secret = reg["manage_url"].rsplit("/", 1)[1]
    expect(api("PATCH", "/api/v1/registrations/" + secret,
               {"consent": {"sponsors": False}}), 200)
    leads = api("GET", "/api/v1/sponsors/%d/leads" % w.sp_a,
                token=w.tok["sponsor_a"])
    assert dave["email"] not in leads.raw.decode() and \
        "Dave" not in leads.raw.decode(), \
        "withdrawn consent must hide the attendee: %r" % leads
    assert any(l.get("consent_withdrawn") for l in leads.json["leads"])
    rows = read_csv(api("GET", "/api/v1/sponsors/%d/leads.csv" % w.sp_a,
                        token=w.tok["sponsor_a"]))
    assert not any(dave["email"] in c or "Dave" == c
                   for row in rows for c in row), rows


def test_csv_round_trips_chinese_quotes_newlines_and_neutralises_formulas(
        api, w):
    tricky = person(name='张三, "Zhang"\nSan', company='=HYPERLINK("x")',
                    job_title="+1 engineer", consent={
                        "sponsors": True, "fields": ["email", "job_title"]})
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % w.ev,
                     tricky), 201)
    expect(api("POST", "/api/v1/leads", {"token": reg["ticket"]["token"],
                                         "note": "@cmd|'/c calc'!A1"},
               token=w.tok["sponsor_b"]), 200)
    rows = read_csv(api("GET", "/api/v1/sponsors/%d/leads.csv" % w.sp_b,
                        token=w.tok["sponsor_b"]))
    assert rows[0][:3] == ["name", "company", "email"]
    row = [r for r in rows if r and r[0] == tricky["name"]]
    assert row, "the Chinese name with comma, quotes and newline did not " \
        "round-trip: %r" % rows
    name, company, email, phone, job, note = row[0][:6]
    assert company == "'" + tricky["company"], company
    assert job == "'+1 engineer" and note.startswith("'@"), (job, note)
    assert email == tricky["email"] and phone == ""

    att = read_csv(api("GET", "/api/v1/events/%d/attendance.csv" % w.ev,
                       token=w.tok["organizer"]))
    header = att[0]
    assert header[:3] == ["id", "status", "name"] and "gate" in header
    mine = [r for r in att[1:] if r[0] == str(reg["id"])]
    assert mine and mine[0][2] == tricky["name"] and \
        mine[0][4] == "'" + tricky["company"], mine


def test_attendance_export_has_checkin_time_and_gate(api, w):
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % w.ev,
                     person(name="Gate Person")), 201)
    expect(api("POST", "/api/v1/checkins", {"token": reg["ticket"]["token"],
                                            "gate": "east"},
               token=w.tok["door"]), 200)
    rows = read_csv(api("GET", "/api/v1/events/%d/attendance.csv" % w.ev,
                        token=w.tok["organizer"]))
    h = rows[0]
    row = [r for r in rows[1:] if r[0] == str(reg["id"])][0]
    rec = dict(zip(h, row))
    assert rec["status"] == "confirmed" and rec["gate"] == "east" and \
        rec["checked_in_at"] and rec["registered_at"], rec


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_xlsx(resp):
    """The first sheet of an XLSX reply, read by openpyxl: (sheet, rows)."""
    assert resp.status == 200, resp
    assert resp.headers.get("Content-Type") == XLSX, resp.headers
    assert resp.headers.get("Content-Disposition", "").startswith(
        "attachment; filename="), resp.headers
    assert zipfile.is_zipfile(io.BytesIO(resp.raw)), resp.raw[:20]
    wb = openpyxl.load_workbook(io.BytesIO(resp.raw))
    ws = wb.worksheets[0]
    return ws, [list(r) for r in ws.iter_rows(values_only=True)]


def test_attendance_xlsx_has_typed_dates_frozen_header_and_chinese(api, w,
                                                                   pg):
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % w.ev,
                     person(name="张伟", company="=HYPERLINK(\"x\")")), 201)
    expect(api("POST", "/api/v1/checkins", {"token": reg["ticket"]["token"],
                                            "gate": "东门"},
               token=w.tok["door"]), 200)
    n = int(pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                      "'export.attendance' AND event_id = %d" % w.ev))
    ws, rows = read_xlsx(api("GET", "/api/v1/events/%d/attendance.xlsx"
                             % w.ev, token=w.tok["organizer"]))
    assert ws.freeze_panes == "A2", \
        "the header row must be frozen: freeze_panes is %r" % ws.freeze_panes
    h = rows[0]
    assert h[:3] == ["id", "status", "name"] and "checked_in_at" in h, h
    at = [i for i, r in enumerate(rows) if r[0] == reg["id"]]
    assert len(at) == 1, "registration %d is not in %r" % (reg["id"], rows)
    rec = dict(zip(h, rows[at[0]]))
    assert rec["name"] == "张伟" and rec["gate"] == "东门", rec
    # Text stays text: a formula-looking company is a string, not a formula.
    assert rec["company"] == "=HYPERLINK(\"x\")", rec
    assert ws.cell(row=at[0] + 1,
                   column=h.index("company") + 1).data_type == "s"
    assert isinstance(rec["checked_in_at"], dt.datetime), \
        "checked_in_at must be an Excel date, not %r" % (rec["checked_in_at"],)
    assert isinstance(rec["registered_at"], dt.datetime), rec
    assert rec["joined_at"] is None, rec
    # The local time of the event (Asia/Shanghai), as in the CSV.
    local = pg.scalar("SELECT to_char(checked_in_at AT TIME ZONE "
                      "'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') FROM "
                      "registrations WHERE id = %d" % reg["id"])
    assert rec["checked_in_at"].strftime("%Y-%m-%d %H:%M:%S") == local, \
        (rec["checked_in_at"], local)
    # The same audit entry as the CSV.
    assert int(pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                         "'export.attendance' AND event_id = %d"
                         % w.ev)) == n + 1


def test_leads_xlsx_has_consented_fields_only(api, w, pg):
    expect(api("POST", "/api/v1/leads", {"token": ticket(w, "alice"),
                                         "note": "聊了 Rust", "rating": 4},
               token=w.tok["sponsor_a"]), 200)
    n = int(pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                      "'export.leads'"))
    ws, rows = read_xlsx(api("GET", "/api/v1/sponsors/%d/leads.xlsx"
                             % w.sp_a, token=w.tok["sponsor_a"]))
    assert ws.freeze_panes == "A2"
    h = rows[0]
    assert h == ["name", "company", "email", "phone", "job_title", "note",
                 "rating", "captured_at"], h
    alice = [dict(zip(h, r)) for r in rows[1:] if r[0] == "Alice"]
    assert alice, rows
    a = alice[0]
    assert a["email"] == w.people["alice"]["body"]["email"] and \
        a["phone"] is None, "alice shared email and job title only: %r" % a
    assert a["note"] == "聊了 Rust" and a["rating"] == 4, a
    assert isinstance(a["captured_at"], dt.datetime), a
    assert int(pg.scalar("SELECT count(*) FROM audit_log WHERE action = "
                         "'export.leads'")) == n + 1
    # Another sponsor's leads are not this sponsor's to read, as in CSV.
    expect(api("GET", "/api/v1/sponsors/%d/leads.csv" % w.sp_b,
               token=w.tok["sponsor_a"]), 403, "out_of_scope")
    expect(api("GET", "/api/v1/sponsors/%d/leads.xlsx" % w.sp_b,
               token=w.tok["sponsor_a"]), 403, "out_of_scope")


def test_exports_tokens_consent_and_erasure_are_audited(api, w, pg, issue):
    n = int(pg.scalar("SELECT count(*) FROM audit_log"))
    expect(api("GET", "/api/v1/events/%d/attendance.csv" % w.ev,
               token=w.tok["organizer"]), 200)
    expect(api("GET", "/api/v1/sponsors/%d/leads.csv" % w.sp_a,
               token=w.tok["sponsor_a"]), 200)
    t = issue("door", events=[w.ev])
    expect(api("DELETE", "/api/v1/tokens/" + t["jti"], token=w.admin), 200)
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % w.ev,
                     person()), 201)
    secret = reg["manage_url"].rsplit("/", 1)[1]
    expect(api("PATCH", "/api/v1/registrations/" + secret,
               {"consent": {"sponsors": True}}), 200)
    expect(api("POST", "/api/v1/registrations/%s/erase" % secret), 200)
    actions = [r[0] for r in pg.psql(
        "SELECT action FROM audit_log WHERE id > (SELECT max(id) - 20 FROM "
        "audit_log) ORDER BY id")]
    for a in ("export.attendance", "export.leads", "token.issue",
              "token.revoke", "consent.change", "registration.erase"):
        assert a in actions, "%s is not in the audit log: %r" % (a, actions)
    assert int(pg.scalar("SELECT count(*) FROM audit_log")) >= n + 6
    log = expect(api("GET", "/api/v1/audit?event=%d&limit=50" % w.ev,
                     token=w.admin), 200)
    assert any(e["action"] == "export.attendance" for e in log["entries"])
    expect(api("GET", "/api/v1/audit", token=w.tok["organizer"]), 403)


def test_attendee_erasure_blanks_data_revokes_ticket_keeps_counts(
        api, w, pg):
    body = person(name="Erin", consent={"sponsors": True,
                                        "fields": ["email"]})
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % w.ev, body),
                 201)
    secret = reg["manage_url"].rsplit("/", 1)[1]
    expect(api("POST", "/api/v1/leads", {"token": reg["ticket"]["token"]},
               token=w.tok["sponsor_a"]), 200)
    total = pg.scalar("SELECT count(*) FROM registrations WHERE event_id = %d"
                      % w.ev)
    got = expect(api("POST", "/api/v1/registrations/%s/erase" % secret), 200)
    assert got["erased"] is True
    row = pg.psql("SELECT name, email, company, job_title, coalesce(phone, "
                  "''), status FROM registrations WHERE id = %d" % reg["id"])
    assert row == [["", "", "", "", "", "cancelled"]], row
    assert pg.scalar("SELECT count(*) FROM registrations WHERE event_id = %d"
                     % w.ev) == total, "erasure must keep the counts"
    mine = expect(api("GET", "/api/v1/registrations/" + secret), 200)
    assert mine.get("erased") is True and "email" not in mine
    verdict = expect(api("POST", "/api/v1/checkins",
                         {"token": reg["ticket"]["token"]},
                         token=w.tok["door"]), 200)
    assert verdict["result"] == "cancelled" and \
        verdict["attendee"]["name"] == "", verdict
    for path in ("/api/v1/sponsors/%d/leads" % w.sp_a,
                 "/api/v1/sponsors/%d/leads.csv" % w.sp_a):
        r = api("GET", path, token=w.tok["sponsor_a"])
        assert body["email"] not in r.raw.decode() and "Erin" not in \
            r.raw.decode(), "erased data still in %s" % path
    r = api("GET", "/api/v1/events/%d/attendance.csv" % w.ev,
            token=w.tok["organizer"])
    assert body["email"] not in r.raw.decode()


def test_organizer_shreds_an_ended_event(api, admin_token, create_event, pg):
    ev = create_event(meetup(), status="published")
    for i in range(3):
        expect(api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                   person(name="S%d" % i)), 201)
    path = "/api/v1/events/%d/shred" % ev["id"]
    expect(api("POST", path, token=admin_token), 409, "event_not_over")
    expect(api("PATCH", "/api/v1/events/%d" % ev["id"],
               {"status": "finished"}, token=admin_token), 200)
    got = expect(api("POST", path, token=admin_token), 200)
    assert got["shredded"] == 3 and got["counts"]["confirmed"] == 3, got
    assert pg.scalar("SELECT count(*) FROM registrations WHERE event_id = %d "
                     "AND (name <> '' OR email <> '')" % ev["id"]) == "0"


ROLES = ["none", "attendee", "door", "sponsor_a", "sponsor_b",
         "organizer_other", "organizer", "admin"]


def matrix(w):
    """(method, path, body, expected status per role)."""
    ev, a, b = w.ev, w.sp_a, w.sp_b
    t = ticket(w, "carol")
    staff_only = {"none": 401, "attendee": 401, "door": 403, "sponsor_a": 403,
                  "sponsor_b": 403, "organizer_other": 403}
    return [
        ("GET", "/api/v1/events/%d/registrations" % ev, None,
         dict(staff_only, organizer=200, admin=200)),
        ("GET", "/api/v1/events/%d/attendance.csv" % ev, None,
         dict(staff_only, organizer=200, admin=200)),
        ("GET", "/api/v1/sponsors/%d/leads" % a, None,
         dict(staff_only, sponsor_a=200, organizer_other=404, organizer=200,
              admin=200)),
        ("GET", "/api/v1/sponsors/%d/leads.csv" % a, None,
         dict(staff_only, sponsor_a=200, organizer_other=404, organizer=200,
              admin=200)),
        ("GET", "/api/v1/events/%d/attendance.xlsx" % ev, None,
         dict(staff_only, organizer=200, admin=200)),
        ("GET", "/api/v1/sponsors/%d/leads.xlsx" % a, None,
         dict(staff_only, sponsor_a=200, organizer_other=404, organizer=200,
              admin=200)),
        ("GET", "/api/v1/sponsors/%d/leads.xlsx" % b, None,
         dict(staff_only, sponsor_b=200, organizer_other=404, organizer=200,
              admin=200)),
        ("GET", "/api/v1/sponsors/%d/leads" % b, None,
         dict(staff_only, sponsor_b=200, organizer_other=404, organizer=200,
              admin=200)),
        ("POST", "/api/v1/leads", {"token": t},
         dict(staff_only, sponsor_a=200, sponsor_b=200, organizer=403,
              admin=403)),
        ("POST", "/api/v1/checkins", {"token": t, "nonce": uniq()},
         dict(staff_only, door=200, organizer_other=200, organizer=200,
              admin=200)),
        ("GET", "/api/v1/events/%d/offline-bundle" % ev, None,
         dict(staff_only, door=200, organizer=200, admin=200)),
        ("POST", "/api/v1/events/%d/sponsors" % ev, {"name": "Matrix Co"},
         dict(staff_only, organizer=201, admin=201)),
        ("PATCH", "/api/v1/events/%d" % ev, {"description": "updated"},
         dict(staff_only, organizer=200, admin=200)),
        ("POST", "/api/v1/events/%d/shred" % ev, None,
         dict(staff_only, organizer=409, admin=409)),
        ("POST", "/api/v1/tokens", {"role": "door", "name": "m",
                                    "events": [ev]},
         dict(staff_only, organizer=201, admin=201)),
        ("GET", "/api/v1/audit", None,
         dict(staff_only, organizer=403, admin=200)),
    ]


def test_authorization_matrix_and_no_leaks(api, w):
    failures = []
    for method, path, body, want in matrix(w):
        for role in ROLES:
            r = api(method, path, body, token=w.tok[role])
            text = r.raw.decode("utf-8", "replace")
            if r.status != want[role]:
                failures.append("%-16s %s %s: expected %d, got %d %s" % (
                    role, method, path, want[role], r.status, text[:120]))
            if r.status >= 400:
                leaked = [e for e in w.emails if e in text]
                if leaked:
                    failures.append("%s %s %s: a refusal leaks %r" % (
                        role, method, path, leaked))
            if role.startswith("sponsor") and r.status == 200:
                # A sponsor sees consented fields only: never bob's e-mail,
                # never carol's (she shared her phone, not her e-mail).
                for key in ("bob", "carol"):
                    e = w.people[key]["body"]["email"]
                    if e in text:
                        failures.append("%s %s %s: shows %s's e-mail" % (
                            role, method, path, key))
    assert not failures, "authorization matrix:\n" + "\n".join(failures)


def test_attendee_paths_need_the_exact_secret(api, w):
    secret = w.people["alice"]["secret"]
    expect(api("GET", "/api/v1/registrations/" + secret), 200)
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for method, suffix in (("GET", ""), ("GET", "/ticket.png"),
                           ("POST", "/erase"), ("DELETE", "")):
        r = api(method, "/api/v1/registrations/" + wrong + suffix)
        expect(r, 404)
        assert not any(e in r.raw.decode("utf-8", "replace")
                       for e in w.emails)
