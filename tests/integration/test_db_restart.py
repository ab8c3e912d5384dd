"""PostgreSQL restarts under a running daemon: 503 while it is down, then
recovery without restarting the daemon (SPEC §7). Its own cluster and
daemon, so nothing else is disturbed."""
import subprocess
import time

from support import cli_token, expect, meetup, wait_until


def test_daemon_answers_503_while_postgres_is_down_and_recovers(
        rollcalld_bin, new_cluster, start_daemon):
    pg = new_cluster()
    d = start_daemon(pg.conninfo)
    admin = cli_token(rollcalld_bin, pg.conninfo, "admin", "restart")
    ev = expect(d.api("POST", "/api/v1/events", meetup(), token=admin), 201)
    expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                 {"status": "published"}, token=admin), 200)

    pg.stop()

    def down():
        r = d.api("GET", "/api/v1/events", timeout=15)
        return r if r.status == 503 else None
    r = wait_until(down, 15, "GET /api/v1/events to answer 503 with "
                             "PostgreSQL stopped")
    expect(r, 503, "database_unavailable")
    expect(d.api("GET", "/healthz", timeout=15), 503)
    # Not 401: a token cannot be checked, which is not the token's fault.
    expect(d.api("POST", "/api/v1/events", meetup(), token=admin, timeout=15),
           503)
    expect(d.api("GET", "/api/v1/events/%d" % ev["id"], timeout=15), 503)
    assert d.alive(), "the daemon died with PostgreSQL:\n" + d.tail()

    pg.start()

    def up():
        r = d.api("GET", "/api/v1/events", timeout=15)
        return r if r.status == 200 else None
    r = wait_until(up, 30, "GET /api/v1/events to answer 200 again after "
                           "PostgreSQL came back", interval=0.2)
    assert ev["id"] in [e["id"] for e in r.json["events"]], r
    j = expect(d.api("GET", "/healthz"), 200)
    assert j["database"] == "ok", j
    # Writes work again too (statements are prepared on new connections).
    expect(d.api("POST", "/api/v1/events", meetup(), token=admin), 201)
    m = d.api("GET", "/metrics").raw.decode()
    errs = [l for l in m.splitlines()
            if l.startswith("rollcall_db_errors_total ")]
    assert errs and float(errs[0].split()[1]) > 0, \
        "the outage should show in rollcall_db_errors_total: %r" % errs
    assert d.alive()


def test_statement_stuck_on_a_lock_answers_503_not_a_hang(api, admin_token,
                                                          pg, create_event):
    """A statement that cannot finish in 5 s (DB_STMT_TIMEOUT_MS) is
    cancelled and answered 503; the pooled connection stays usable."""
    ev = create_event()
    locker = subprocess.Popen(
        ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d",
         pg.conninfo], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        locker.stdin.write("BEGIN;\nSELECT id FROM events WHERE id = %d "
                           "FOR UPDATE;\n" % ev["id"])
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == str(ev["id"])
        t0 = time.monotonic()
        r = api("PATCH", "/api/v1/events/%d" % ev["id"], {"title": "Late"},
                token=admin_token, timeout=30)
        took = time.monotonic() - t0
    finally:
        locker.stdin.write("ROLLBACK;\n")
        locker.stdin.close()
        locker.wait(30)
    expect(r, 503, "database_unavailable")
    assert 4 <= took <= 15, "answered after %.1f s, expected about 5" % took
    assert pg.scalar("SELECT title FROM events WHERE id = %d" %
                     ev["id"]) == ev["title"]
    j = expect(api("PATCH", "/api/v1/events/%d" % ev["id"],
                   {"title": "On time"}, token=admin_token), 200)
    assert j["title"] == "On time", j


def test_lost_connection_log_names_only_its_own_error(
        rollcalld_bin, new_cluster, start_daemon):
    """libpq keeps a failed statement's error in the connection's message
    buffer; a connection lost afterwards must log why it was lost, not the
    earlier refusal (whose text can carry what a client sent)."""
    pg = new_cluster()
    d = start_daemon(pg.conninfo, ["--pool", "1"])
    admin = cli_token(rollcalld_bin, pg.conninfo, "admin", "lost")
    ev = expect(d.api("POST", "/api/v1/events", meetup(), token=admin), 201)
    expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                 {"status": "published"}, token=admin), 200)
    email = "kept.private.%d@example.com" % ev["id"]
    person = {"name": "Zhao Min", "email": email, "company": "Example Co",
              "job_title": "Engineer", "identity": "professional"}
    path = "/api/v1/events/%d/registrations" % ev["id"]
    expect(d.api("POST", path, person), 201)
    expect(d.api("POST", path, person), 409, "already_registered")

    before = d.log_text().count("database connection lost")
    pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'rollcalld'")
    wait_until(lambda: d.log_text().count("database connection lost") >
               before, 15, "the daemon to log the lost connection")
    text = d.log_text()
    lost = text[text.rindex("database connection lost"):]
    lost = "\n".join(lost.splitlines()[:4])    # the line and what follows
    for leaked in ("already_registered", "already registered", email,
                   "DETAIL", "rc_register"):
        assert leaked not in lost, (
            "the lost-connection log line repeats an earlier statement's "
            "error (%r): %r" % (leaked, lost))
    # And the daemon recovers on its own.
    wait_until(lambda: d.api("GET", "/healthz").status == 200, 30,
               "GET /healthz 200 after the reconnect")
