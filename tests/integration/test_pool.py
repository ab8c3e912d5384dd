"""The database pool's wait queue is bounded: past it, 503 busy at once,
and the daemon recovers as soon as the database answers again."""
import subprocess
import threading

from support import expect, wait_until


def test_full_wait_queue_answers_503_busy_then_recovers(
        pg, start_daemon, admin_token, create_event):
    d = start_daemon(pg.conninfo, ["--pool", "1", "--queue", "1"])
    ev = create_event()
    locker = subprocess.Popen(
        ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d",
         pg.conninfo], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    answers = {}
    threads = []
    try:
        locker.stdin.write("BEGIN;\nSELECT id FROM events WHERE id = %d "
                           "FOR UPDATE;\n" % ev["id"])
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == str(ev["id"])

        def call(name, method, path, body=None):
            answers[name] = d.api(method, path, body, token=admin_token,
                                  timeout=30)

        # The one connection waits on the row lock ...
        threads.append(threading.Thread(target=call, args=(
            "patch", "PATCH", "/api/v1/events/%d" % ev["id"],
            {"title": "Held"})))
        threads[-1].start()
        wait_until(lambda: pg.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
            "'rollcalld' AND wait_event_type = 'Lock'") != "0", 10,
            "the PATCH to wait on the row lock")
        # ... the next query takes the one place in the queue ...
        threads.append(threading.Thread(target=call, args=(
            "queued", "GET", "/api/v1/events")))
        threads[-1].start()
        wait_until(lambda: "rollcall_db_pool_waiting 1" in
                   d.api("GET", "/metrics").raw.decode(), 10,
                   "a query to wait for the connection")
        # ... and one more is refused at once.
        r = d.api("GET", "/api/v1/events/%d" % ev["id"], token=admin_token)
        expect(r, 503, "busy")
    finally:
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        locker.wait(30)
    for t in threads:
        t.join(30)
    expect(answers["patch"], 200)
    expect(answers["queued"], 200)
    expect(d.api("GET", "/api/v1/events"), 200)
