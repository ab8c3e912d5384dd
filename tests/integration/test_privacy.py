"""Privacy and hardening: erasure and shredding leave no personal data
anywhere in the database, retention expires leads and old mail errors, a
cancelled event admits no one, resend writes alike whether or not the
address is registered, and simultaneous re-uploads of offline scans both
report duplicates (SPEC §4, §6; docs/operations.md)."""
import datetime as dt
import glob
import random
import shutil
import subprocess
import threading

import pytest

from support import _apply, expect, jwt_claims, meetup, uniq, wait_until


def distinctive():
    """Strings found nowhere else in the database, one per field."""
    tag = uniq("").strip("-")
    digits = "".join(random.choice("0123456789") for _ in range(8))
    return {"name": "Qzname " + tag, "company": "Qzcorp " + tag,
            "email": "qz.%s@example.com" % tag,
            "phone": "+86 139 %s %s" % (digits[:4], digits[4:]),
            "job_title": "Qztitle " + tag}


def registration(strings, **over):
    return _apply(dict(strings, identity="professional",
                       consent={"sponsors": True,
                                "fields": ["email", "phone", "job_title"]}),
                  over)


def pg_dump_data(conninfo):
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    pg_dump = bins[-1] if bins else shutil.which("pg_dump")
    assert pg_dump, "pg_dump not found (apt-get install postgresql-client)"
    r = subprocess.run([pg_dump, "--data-only", "-d", conninfo],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "pg_dump failed:\n" + r.stderr
    return r.stdout


def assert_nowhere(pg, strings, after):
    """None of the strings is left in any table: name the tables if so."""
    dump = pg_dump_data(pg.conninfo)
    left = {}
    table = None
    for line in dump.splitlines():
        if line.startswith("COPY "):
            table = line.split()[1]
        for field, s in strings.items():
            if s in line:
                left.setdefault(field, set()).add(table)
    assert not left, ("after %s, personal data is still in the database "
                      "(field: tables): %r" % (after, left))


class Booth:
    """An event with a sponsor, a door and an organizer."""


@pytest.fixture
def booth(api, create_event, issue, admin_token):
    b = Booth()
    b.ev = create_event(meetup(capacity=50), status="published")["id"]
    b.sponsor = expect(api("POST", "/api/v1/events/%d/sponsors" % b.ev,
                           {"name": "Lead Co"}, token=admin_token), 201)["id"]
    b.door = issue("door", events=[b.ev])["token"]
    b.sp_token = issue("sponsor", sponsor=b.sponsor)["token"]
    b.org = issue("organizer", events=[b.ev])["token"]
    return b


def everything_about(api, pg, b, strings):
    """Register, check in (with a nonce), become a lead with a note naming
    the person, be in both exports, and have a mail refusal quote the
    address in the outbox. Returns (registration, nonce)."""
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % b.ev,
                     registration(strings)), 201)
    nonce = uniq("n")
    got = expect(api("POST", "/api/v1/checkins",
                     {"token": reg["ticket"]["token"], "nonce": nonce,
                      "gate": "east"}, token=b.door), 200)
    assert got["result"] == "admitted" and \
        got["attendee"]["name"] == strings["name"], got
    lead = expect(api("POST", "/api/v1/leads",
                      {"token": reg["ticket"]["token"],
                       "note": "call %s at %s" % (strings["name"],
                                                  strings["phone"])},
                      token=b.sp_token), 200)
    assert lead["result"] == "captured", lead
    for path, tok in (("/api/v1/events/%d/attendance.csv" % b.ev, b.org),
                      ("/api/v1/sponsors/%d/leads.csv" % b.sponsor,
                       b.sp_token)):
        r = api("GET", path, token=tok)
        assert r.status == 200 and strings["email"] in r.raw.decode(), r
    # What a relay's refusal looks like once the sender recorded it.
    pg.psql("UPDATE outbox SET last_error = '550 5.1.1 <%s>: mailbox "
            "unavailable' WHERE registration_id = %d"
            % (strings["email"], reg["id"]))
    return reg, nonce


def test_erasure_leaves_no_personal_data_and_a_replayed_scan_no_name(
        api, pg, booth):
    strings = distinctive()
    reg, nonce = everything_about(api, pg, booth, strings)
    secret = reg["manage_url"].rsplit("/", 1)[1]
    expect(api("POST", "/api/v1/registrations/%s/erase" % secret), 200)
    replay = expect(api("POST", "/api/v1/checkins",
                        {"token": reg["ticket"]["token"], "nonce": nonce,
                         "gate": "east"}, token=booth.door), 200)
    assert replay["result"] == "admitted", replay
    assert strings["name"] not in str(replay) and \
        strings["company"] not in str(replay), \
        "a replayed scan shows the erased attendee: %r" % replay
    assert_nowhere(pg, strings, "self-erasure")


def test_shred_leaves_no_personal_data_in_the_database(api, pg, booth,
                                                       admin_token):
    strings = distinctive()
    everything_about(api, pg, booth, strings)
    expect(api("PATCH", "/api/v1/events/%d" % booth.ev,
               {"status": "finished"}, token=admin_token), 200)
    got = expect(api("POST", "/api/v1/events/%d/shred" % booth.ev,
                     token=admin_token), 200)
    assert got["shredded"] == 1, got
    assert_nowhere(pg, strings, "shredding the event")


def test_retention_expires_old_leads_and_old_outbox_errors(api, pg, booth):
    strings = distinctive()
    reg, _ = everything_about(api, pg, booth, strings)
    lead_rows = "SELECT count(*) FROM leads WHERE registration_id = %d" % \
        reg["id"]
    errors = ("SELECT count(*) FROM outbox WHERE registration_id = %d AND "
              "last_error IS NOT NULL" % reg["id"])
    # A fresh sent row with an error text of its retries stays a week.
    pg.psql("UPDATE outbox SET state = 'sent', secret_sealed = NULL, "
            "finished_at = now() - interval '6 days' WHERE registration_id "
            "= %d" % reg["id"])
    pg.scalar("SELECT rc_retention(90)")
    assert pg.scalar(lead_rows) == "1", "a lead of a coming event expired"
    assert pg.scalar(errors) != "0", "an error text under a week went"
    # Eight days after it was sent, and 100 days after the event.
    pg.psql("UPDATE outbox SET finished_at = now() - interval '8 days' "
            "WHERE registration_id = %d" % reg["id"])
    pg.psql("UPDATE events SET starts_at = now() - interval '101 days', "
            "ends_at = now() - interval '100 days', status = 'finished' "
            "WHERE id = %d" % booth.ev)
    pg.scalar("SELECT rc_retention(120)")
    assert pg.scalar(lead_rows) == "1", \
        "a lead within lead_retention_days (120) expired"
    assert pg.scalar(errors) == "0", \
        "an outbox error text (it quotes the address) outlived a week"
    got = pg.scalar("SELECT rc_retention(90)")
    assert pg.scalar(lead_rows) == "0", \
        "a lead of an event that ended 100 days ago outlived 90 days: %s" \
        % got
    r = api("GET", "/api/v1/sponsors/%d/leads.csv" % booth.sponsor,
            token=booth.sp_token)
    assert strings["name"] not in r.raw.decode(), r


def test_daemon_runs_retention_at_start(new_cluster, start_daemon,
                                        rollcalld_bin):
    c = new_cluster()
    ev = c.scalar("INSERT INTO events (kind, title, chapter, starts_at, "
                  "ends_at, status) VALUES ('meetup', 'Old', 'shanghai', "
                  "now() - interval '41 days', now() - interval '40 days', "
                  "'finished') RETURNING id")
    sp = c.scalar("INSERT INTO sponsors (event_id, name) VALUES (%s, 'S') "
                  "RETURNING id" % ev)
    reg = c.scalar("INSERT INTO registrations (event_id, status, name, "
                   "email, company, job_title, identity, secret_hash) VALUES "
                   "(%s, 'confirmed', 'N', 'n@example.com', 'C', 'J', "
                   "'professional', '\\x01') RETURNING id" % ev)
    c.psql("INSERT INTO leads (sponsor_id, registration_id, note, "
           "captured_by) VALUES (%s, %s, 'old note', 'x')" % (sp, reg))
    d = start_daemon(c.conninfo, ["--lead-retention-days", "30"])
    wait_until(lambda: c.scalar("SELECT count(*) FROM leads") == "0", 30,
               "the daemon's first retention run to expire a lead of an "
               "event that ended 40 days ago (lead_retention_days 30)")
    assert d.alive()


def test_cancelled_event_admits_no_one_and_makes_no_lead(
        api, pg, booth, admin_token):
    regs = [expect(api("POST", "/api/v1/events/%d/registrations" % booth.ev,
                       registration(distinctive())), 201) for _ in range(2)]
    expect(api("PATCH", "/api/v1/events/%d" % booth.ev,
               {"status": "cancelled"}, token=admin_token), 200)
    door = expect(api("POST", "/api/v1/checkins",
                      {"token": regs[0]["ticket"]["token"]},
                      token=booth.door), 200)
    assert door["result"] == "cancelled", \
        "a ticket of a cancelled event must not admit: %r" % door
    lead = expect(api("POST", "/api/v1/leads",
                      {"token": regs[0]["ticket"]["token"]},
                      token=booth.sp_token), 200)
    assert lead["result"] == "cancelled" and lead.get("lead") is None, \
        "a ticket of a cancelled event must make no lead: %r" % lead
    up = expect(api("POST", "/api/v1/checkins/batch", {
        "device": uniq("d"), "scans": [{
            "token": regs[1]["ticket"]["token"], "nonce": uniq(),
            "scanned_at": dt.datetime.now(dt.timezone.utc).isoformat()}]},
        token=booth.door), 200)
    assert up["results"][0]["result"] == "cancelled" and \
        up["admitted"] == 0, up
    bundle = expect(api("GET", "/api/v1/events/%d/offline-bundle" % booth.ev,
                        token=booth.door), 200)
    assert {jwt_claims(r["ticket"]["token"])["jti"] for r in regs} <= \
        set(bundle["revoked"]), \
        "an offline scanner would admit a cancelled event's tickets: %r" \
        % bundle["revoked"]
    assert pg.scalar("SELECT count(*) FROM registrations WHERE event_id = "
                     "%d AND checked_in_at IS NOT NULL" % booth.ev) == "0"
    assert pg.scalar("SELECT count(*) FROM leads l JOIN sponsors s ON "
                     "s.id = l.sponsor_id WHERE s.event_id = %d"
                     % booth.ev) == "0"


def test_resend_writes_the_same_way_registered_or_not(api, pg, booth):
    """A commit that wrote waits for the WAL flush; one that did not
    returns at once. Both paths must write (assign a transaction id and
    advance the WAL), or the answer's timing tells who is registered."""
    email = distinctive()["email"]
    expect(api("POST", "/api/v1/events/%d/registrations" % booth.ev,
               registration(distinctive(), email=email)), 201)
    path = "/api/v1/events/%d/resend" % booth.ev

    def writes(address):
        x0, l0 = pg.psql("SELECT pg_current_xact_id(), "
                         "pg_current_wal_insert_lsn()")[0]
        r = api("POST", path, {"email": address})
        assert r.status == 202, r
        x1, l1 = pg.psql("SELECT pg_current_xact_id(), "
                         "pg_current_wal_insert_lsn()")[0]
        wal = int(pg.scalar("SELECT '%s'::pg_lsn - '%s'::pg_lsn"
                            % (l1, l0)))
        return int(x1) - int(x0) >= 2, wal > 0

    for what, address in (("a registered address", email),
                          ("an unregistered address",
                           uniq("nobody") + "@example.com"),
                          ("a registered address asked again within 10 "
                           "minutes", email)):
        wrote, wal = writes(address)
        assert wrote and wal, ("resend for %s wrote nothing (xid assigned: "
                               "%s, WAL advanced: %s): its commit skips "
                               "the WAL flush the other path waits for"
                               % (what, wrote, wal))


def test_two_simultaneous_reuploads_both_report_duplicates(
        api, pg, booth):
    """The same journal uploaded twice at once (a scanner retrying while
    its first upload is still in flight). The test holds the checkins
    table until both uploads are inside the database, so they overlap."""
    now = dt.datetime.now(dt.timezone.utc)
    scans = [{"token": "NOT-A-TICKET-%d" % i, "nonce": uniq("o"),
              "scanned_at": (now - dt.timedelta(seconds=i)).isoformat()}
             for i in range(5)]
    body = {"device": uniq("laptop"), "scans": scans}
    locker = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                               "-d", pg.conninfo], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True)
    replies = [None, None]
    try:
        locker.stdin.write("BEGIN; LOCK TABLE checkins IN EXCLUSIVE MODE;\n"
                           "SELECT 'locked';\n")
        locker.stdin.flush()
        wait_until(lambda: pg.scalar(
            "SELECT count(*) FROM pg_locks WHERE relation = "
            "'checkins'::regclass AND mode = 'ExclusiveLock' AND granted")
            == "1", 30, "the test's lock on checkins")

        def upload(i):
            replies[i] = api("POST", "/api/v1/checkins/batch", body,
                             token=booth.door, timeout=60)
        threads = [threading.Thread(target=upload, args=(i,))
                   for i in range(2)]
        for t in threads:
            t.start()
        wait_until(lambda: pg.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
            "'Lock' AND query LIKE '%rc_checkin_upload%'") == "2", 30,
            "both uploads to wait inside the database")
    finally:
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        locker.wait(timeout=30)
    for t in threads:
        t.join(60)
    got = [expect(r, 200) for r in replies]
    dup = sorted(g["duplicates"] for g in got)
    assert dup == [0, len(scans)], \
        "one upload records the scans, the other reports each as a " \
        "duplicate: %r" % got
    assert pg.scalar("SELECT count(*) FROM checkins WHERE nonce IN (%s)"
                     % ", ".join("'%s'" % s["nonce"] for s in scans)) == \
        str(len(scans))
