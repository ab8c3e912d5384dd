"""SIGTERM drains: the request in flight is answered, new connections are
refused, and the daemon exits 0."""
import signal
import socket
import subprocess
import threading

from support import expect, wait_until


def test_sigterm_answers_the_request_in_flight_then_exits_0(
        pg, start_daemon, admin_token, create_event):
    d = start_daemon(pg.conninfo)
    ev = create_event()

    # Hold the event's row lock so that the PATCH below stays in flight.
    locker = subprocess.Popen(
        ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d",
         pg.conninfo], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    answer = {}
    try:
        locker.stdin.write("BEGIN;\nSELECT id FROM events WHERE id = %d "
                           "FOR UPDATE;\n" % ev["id"])
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == str(ev["id"]), \
            "psql did not take the row lock: " + locker.stderr.read()

        def patch():
            try:
                answer["r"] = d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                                    {"status": "published"},
                                    token=admin_token, timeout=30)
            except Exception as e:
                answer["error"] = e
        t = threading.Thread(target=patch)
        t.start()
        wait_until(lambda: pg.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
            "'rollcalld' AND wait_event_type = 'Lock'") != "0", 10,
            "the PATCH to wait on the row lock")

        d.proc.send_signal(signal.SIGTERM)

        def refused():
            try:
                socket.create_connection(("127.0.0.1", d.port),
                                         timeout=1).close()
                return False
            except ConnectionRefusedError:
                return True
        wait_until(refused, 5, "new connections to be refused after SIGTERM")
        assert d.alive(), ("the daemon exited with a request in flight; "
                           "log:\n" + d.tail())
        assert t.is_alive(), "the in-flight PATCH returned early: %r" % answer
    finally:
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        locker.wait(30)
    t.join(30)
    assert "error" not in answer, \
        "the in-flight request got no answer: %r" % answer.get("error")
    j = expect(answer["r"], 200)
    assert j["status"] == "published", j
    try:
        rc = d.proc.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError("the daemon did not exit after draining; log:\n"
                             + d.tail())
    assert rc == 0, "exit status %r after SIGTERM; log:\n%s" % (rc, d.tail())
    assert pg.scalar("SELECT status FROM events WHERE id = %d" %
                     ev["id"]) == "published"


def test_sigterm_when_idle_exits_0_at_once(pg, start_daemon):
    d = start_daemon(pg.conninfo)
    expect(d.api("GET", "/healthz"), 200)
    d.proc.send_signal(signal.SIGTERM)
    rc = d.proc.wait(10)
    assert rc == 0, "exit status %r after SIGTERM; log:\n%s" % (rc, d.tail())
