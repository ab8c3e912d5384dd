"""rollcall-scan, the door scanner, against the real daemon: tickets the
server issued, photographed badly (turned, small, blurred, noisy, JPEG,
in perspective, two in one picture) and all admitted; keyboard-wedge
input; an unreachable server with and without a bundle; offline
decisions (duplicate, revoked, foreign, forged); a torn journal; sync and
its reconciliation; camera frames; sponsor leads; the one retry carrying
the same nonce.

The scanner runs as a subprocess (ROLLCALL_SCAN, by default the ASan
build) and every run fails the test on sanitizer output."""
import datetime as dt
import http.server
import json
import os
import pty
import select
import socketserver
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

import support
from support import expect, free_port, meetup, uniq

sys.path.insert(0, str(support.REPO / "tests" / "scanner"))
import degrade  # noqa: E402  (tests/scanner/degrade.py)

from PIL import Image  # noqa: E402

SCAN_TIMEOUT = 120


def scan_path():
    return os.environ.get("ROLLCALL_SCAN") or str(
        support.REPO / "build" / "asan" / "rollcall-scan")


@pytest.fixture(scope="session")
def scan_bin():
    path = scan_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("no scanner to test at %s: run `make "
                    "build/asan/rollcall-scan` or set ROLLCALL_SCAN" % path,
                    pytrace=False)
    return path


def scan_env(extra=None):
    env = dict(os.environ)
    env.update(support.SAN_ENV)
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    env["TZ"] = "UTC"
    env.pop("NO_COLOR", None)
    env.pop("ROLLCALL_TOKEN", None)
    env.update(extra or {})
    return env


def check_sanitizer(args, stderr):
    for m in support.SANITIZER_MARKERS:
        assert m not in stderr, ("rollcall-scan %s printed sanitizer "
                                 "output:\n%s" % (" ".join(args[1:]),
                                                  stderr[-4000:]))


def run_scan(bin_, *args, stdin=None, env=None, timeout=SCAN_TIMEOUT):
    """Run the scanner; return CompletedProcess (text) after checking
    stderr for sanitizer reports."""
    argv = [bin_, *map(str, args)]
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                       timeout=timeout, env=scan_env(env))
    check_sanitizer(argv, r.stderr)
    return r


def json_lines(r):
    out = []
    for line in r.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            raise AssertionError("--json printed a line that is not JSON: "
                                 "%r\nstdout:\n%s\nstderr:\n%s"
                                 % (line, r.stdout, r.stderr))
    return out


def show(r):
    return "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout,
                                                   r.stderr)


# --------------------------------------------------------------------------
# Tickets from the running server


def person(**over):
    p = {"name": "Wang Fang", "email": uniq("w") + "@example.com",
         "company": "Example Co", "job_title": "SRE",
         "identity": "professional", "phone": "+86 139 0000 0000"}
    p.update(over)
    return p


def register(api, event_id, **over):
    return expect(api("POST", "/api/v1/events/%d/registrations" % event_id,
                      person(**over)), 201)


def secret_of(reg):
    return reg["manage_url"].rsplit("/", 1)[1]


def ticket_png(api, reg, path):
    r = api("GET", "/api/v1/registrations/%s/ticket.png" % secret_of(reg))
    assert r.status == 200 and r.raw[:4] == b"\x89PNG", r
    Path(path).write_bytes(r.raw)
    return Image.open(path)


def reg_of(token):
    return support.jwt_claims(token)["r"]


@pytest.fixture(scope="module")
def ev(create_event):
    return create_event(meetup(capacity=1000), status="published")


@pytest.fixture(scope="module")
def door(issue, ev):
    return issue("door", events=[ev["id"]])


def conn(server, door, ev, *extra):
    return ["--server", "http://127.0.0.1:%d" % server.port,
            "--token", door["token"], "--event", ev["id"], *extra]


def fetch_bundle(api, door, ev, path):
    b = expect(api("GET", "/api/v1/events/%d/offline-bundle" % ev["id"],
                   token=door["token"]), 200)
    Path(path).write_text(json.dumps(b))
    return b


def admitted_rows(pg, reg_id):
    return int(pg.scalar("SELECT count(*) FROM checkins WHERE "
                         "registration_id = %d AND verdict = 'admitted'"
                         % reg_id))


# --------------------------------------------------------------------------
# Pictures


def test_degraded_photos_are_all_decoded_and_admitted_then_already_in(
        scan_bin, server, api, ev, door, pg, tmp_path):
    files, expected = [], {}
    for name, (make, count, suffix) in degrade.PICTURES.items():
        a = register(api, ev["id"], name="Photo " + name)
        img_a = ticket_png(api, a, tmp_path / ("%s-a.png" % name))
        tickets = [a["ticket"]["token"]]
        img_b = img_a
        if count == 2:
            b = register(api, ev["id"], name="Second " + name)
            img_b = ticket_png(api, b, tmp_path / ("%s-b.png" % name))
            tickets.append(b["ticket"]["token"])
        path = tmp_path / (name + suffix)
        degrade.save(make(img_a, img_b), path)
        files.append(str(path))
        expected[str(path)] = {reg_of(t) for t in tickets}
    assert Image.open(files[0]).size == (1280, 720)

    r = run_scan(scan_bin, "--door", "--gate", "photo-gate", "--json",
                 "--image", *files, *conn(server, door, ev))
    got = json_lines(r)
    assert r.returncode == 0, "every photo should be admitted:\n" + show(r)
    by_file = {}
    for g in got:
        assert g["result"] == "admitted" and g["source"] == "online", g
        assert g["attendee"]["company"] == "Example Co", g
        by_file.setdefault(g["input"], []).append(g)
    for f, regs in expected.items():
        assert len(by_file.get(f, [])) == len(regs), \
            "%s: expected %d admission(s), got %r\n%s" % (
                Path(f).name, len(regs), by_file.get(f), show(r))
    for regs in expected.values():
        for reg in regs:
            assert admitted_rows(pg, reg) == 1
            assert pg.scalar("SELECT checkin_gate FROM registrations WHERE "
                             "id = %d" % reg) == "photo-gate"

    again = run_scan(scan_bin, "--json", "--image", *files,
                     *conn(server, door, ev))
    assert again.returncode == 1, show(again)
    results = json_lines(again)
    assert len(results) == len(got) and \
        {x["result"] for x in results} == {"already_checked_in"}, \
        show(again)
    assert all(x["gate"] == "photo-gate" for x in results)


def test_human_lines_admit_then_already_in_with_time_and_gate(
        scan_bin, server, api, ev, door, pg, tmp_path):
    reg = register(api, ev["id"], name="Li Na", company="Acme Ltd")
    ticket_png(api, reg, tmp_path / "t.png")
    r = run_scan(scan_bin, "--gate", "east", "--image", tmp_path / "t.png",
                 *conn(server, door, ev))
    assert r.returncode == 0, show(r)
    assert r.stdout.splitlines() == ["ADMIT  Li Na, Acme Ltd"], show(r)
    assert "\033" not in r.stdout and "\a" not in r.stdout, \
        "no colour or bell when stdout is not a terminal"
    first = pg.scalar("SELECT to_char(checked_in_at AT TIME ZONE 'UTC', "
                      "'HH24:MI') FROM registrations WHERE id = %d"
                      % reg["id"])
    r = run_scan(scan_bin, "--gate", "west", "--image", tmp_path / "t.png",
                 *conn(server, door, ev))
    assert r.returncode == 1, show(r)
    assert r.stdout.splitlines() == [
        "ALREADY IN  since %s at gate east  Li Na, Acme Ltd" % first], show(r)


def test_colour_and_bell_on_a_terminal(scan_bin, server, api, ev, door,
                                       tmp_path):
    reg = register(api, ev["id"])
    ticket_png(api, reg, tmp_path / "t.png")
    out = []
    for _ in range(2):
        master, slave = pty.openpty()
        argv = [scan_bin, "--image", str(tmp_path / "t.png"),
                *map(str, conn(server, door, ev))]
        p = subprocess.Popen(argv, stdout=slave, stderr=subprocess.PIPE,
                             env=scan_env())
        os.close(slave)
        data = b""
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        os.close(master)
        err = p.stderr.read().decode(errors="replace")
        p.wait(timeout=60)
        check_sanitizer(argv, err)
        out.append(data.decode(errors="replace"))
    assert "\033[1;32mADMIT\033[0m" in out[0] and "\a" not in out[0], out
    assert "\033[1;33mALREADY IN\033[0m" in out[1] and "\a" in out[1], out


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data)))


def test_pictures_without_a_code_and_broken_files(scan_bin, server, ev,
                                                 door, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (640, 480), 200).save(blank)
    text = tmp_path / "notes.png"
    text.write_text("not a picture at all")
    good = tmp_path / "half.png"
    reg_png = tmp_path / "full.png"
    Image.new("L", (300, 300), 255).save(reg_png)
    good.write_bytes(reg_png.read_bytes()[:60])
    huge = tmp_path / "huge.png"
    # A small, well-formed PNG claiming 100000 x 100000 pixels.
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0)) +
        png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) +
        png_chunk(b"IEND", b""))
    badjpeg = tmp_path / "bad.jpg"
    badjpeg.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 200)
    missing = tmp_path / "missing.png"
    r = run_scan(scan_bin, "--json", "--image", blank, text, good, huge,
                 badjpeg, missing, *conn(server, door, ev))
    assert r.returncode == 4, show(r)
    got = json_lines(r)
    assert [g["result"] for g in got] == ["no_code"] * 6, show(r)
    assert "over the 8000x8000 limit" in got[3]["message"], got[3]
    assert "not a PNG or JPEG" in got[1]["message"], got[1]
    r = run_scan(scan_bin, "--image", blank, *conn(server, door, ev))
    assert r.stdout.startswith("NO CODE  %s: no QR code found" % blank), \
        show(r)


# --------------------------------------------------------------------------
# Keyboard wedge


def test_stdin_codes_garbage_overlong_and_crlf(scan_bin, server, api, ev,
                                              door, pg, create_event):
    a = register(api, ev["id"])["ticket"]["token"]
    b = register(api, ev["id"])["ticket"]["token"]
    other_ev = create_event(meetup(), status="published")
    foreign = register(api, other_ev["id"])["ticket"]["token"]
    before = int(pg.scalar("SELECT count(*) FROM checkins WHERE verdict = "
                           "'invalid'"))
    feed = ("%s\r\n\r\n\nhello world\n%s\n%s\n  %s  " %
            (a, "X" * 5000, foreign, b))
    r = run_scan(scan_bin, "--stdin", "--json", *conn(server, door, ev),
                 stdin=feed)
    got = json_lines(r)
    assert [g["result"] for g in got] == [
        "admitted", "invalid", "invalid", "wrong_event", "admitted"], \
        show(r)
    assert got[1]["source"] == "online", "garbage goes to the server's log"
    assert got[2]["source"] == "local" and "over 4096" in got[2]["message"]
    assert r.returncode == 1, show(r)
    assert int(pg.scalar("SELECT count(*) FROM checkins WHERE verdict = "
                         "'invalid'")) == before + 1
    assert admitted_rows(pg, reg_of(a)) == 1 and \
        admitted_rows(pg, reg_of(b)) == 1


def test_stdin_scanner_refused_token_is_exit_5(scan_bin, server, api, ev,
                                               door):
    a = register(api, ev["id"])["ticket"]["token"]
    r = run_scan(scan_bin, "--stdin", "--server",
                 "http://127.0.0.1:%d" % server.port, "--event", ev["id"],
                 stdin=a + "\n", env={"ROLLCALL_TOKEN": "not.a.token"})
    assert r.returncode == 5, show(r)
    assert r.stdout.startswith("ERROR"), show(r)


# --------------------------------------------------------------------------
# Without the server


def test_unreachable_server_exit_3_and_a_clear_message(scan_bin, api, ev,
                                                       door):
    tok = register(api, ev["id"])["ticket"]["token"]
    port = free_port()
    t0 = time.monotonic()
    r = run_scan(scan_bin, "--stdin", "--server",
                 "http://127.0.0.1:%d" % port, "--token", door["token"],
                 "--event", ev["id"], stdin=tok + "\n")
    assert r.returncode == 3, show(r)
    line = r.stdout.strip()
    assert line.startswith("NO SERVER") and \
        "cannot reach the server at http://127.0.0.1:%d" % port in line \
        and "NOT checked" in line and "--bundle" in line, show(r)
    assert time.monotonic() - t0 < 30


def test_silent_server_times_out_and_retries_once_with_the_same_nonce(
        scan_bin, tmp_path):
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(
                self.headers["Content-Length"])))
            seen.append(body)
            if len(seen) == 1:
                time.sleep(2.5)         # past --timeout 1: lost answer
                return
            out = json.dumps({"result": "admitted", "attendee": {
                "name": "Retry Person", "company": "Net Co"},
                "first_checked_in_at": "2026-01-01T10:00:00+00:00",
                "gate": None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    with fake_server(Handler) as port:
        r = run_scan(scan_bin, "--stdin", "--timeout", "1", "--server",
                     "http://127.0.0.1:%d" % port, "--token", "t",
                     "--event", "5", stdin="some.ticket.code\n")
    assert r.stdout.strip() == "ADMIT  Retry Person, Net Co", show(r)
    assert len(seen) == 2 and seen[0] == seen[1], seen
    assert len(seen[0]["nonce"]) >= 16 and seen[0]["event_id"] == 5


def test_unreachable_with_a_bundle_falls_back_offline_and_syncs(
        scan_bin, server, api, ev, door, pg, tmp_path):
    bundle = tmp_path / "bundle.json"
    fetch_bundle(api, door, ev, bundle)
    journal = tmp_path / "door.journal"
    a = register(api, ev["id"])["ticket"]["token"]
    port = free_port()
    r = run_scan(scan_bin, "--stdin", "--gate", "side", "--server",
                 "http://127.0.0.1:%d" % port, "--token", door["token"],
                 "--event", ev["id"], "--bundle", bundle, "--journal",
                 journal, stdin="%s\n%s\n" % (a, a))
    assert r.returncode == 1, show(r)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("ADMIT") and lines[0].endswith("(offline)")
    assert lines[1].startswith("ALREADY IN") and "gate side" in lines[1]
    assert "deciding offline" in r.stderr, show(r)
    assert r.stderr.count("cannot reach") == 1, \
        "say it once, not per scan:\n" + r.stderr
    assert admitted_rows(pg, reg_of(a)) == 0
    s = run_scan(scan_bin, "sync", "--server",
                 "http://127.0.0.1:%d" % server.port, "--token",
                 door["token"], "--journal", journal, "--json")
    assert s.returncode == 0, show(s)
    j = json.loads(s.stdout)
    assert (j["uploaded"], j["admitted"], j["duplicates"]) == (1, 1, 0), j
    assert admitted_rows(pg, reg_of(a)) == 1
    assert pg.scalar("SELECT checkin_gate FROM registrations WHERE id = %d"
                     % reg_of(a)) == "side"


# --------------------------------------------------------------------------
# Offline


def test_offline_duplicate_revoked_foreign_forged_and_restart(
        scan_bin, api, ev, door, create_event, tmp_path):
    good = register(api, ev["id"])["ticket"]["token"]
    cancelled = register(api, ev["id"])
    expect(api("DELETE", "/api/v1/registrations/" + secret_of(cancelled)),
           200)
    other_ev = create_event(meetup(), status="published")
    foreign = register(api, other_ev["id"])["ticket"]["token"]
    h, p, s = good.split(".")
    forged = h + "." + p + "." + s[:-4] + ("AAAA" if s[-4:] != "AAAA"
                                          else "BBBB")
    bundle = tmp_path / "bundle.json"
    b = fetch_bundle(api, door, ev, bundle)         # after the cancellation
    assert support.jwt_claims(cancelled["ticket"]["token"])["jti"] in \
        b["revoked"]
    journal = tmp_path / "offline.journal"
    feed = "\n".join([good, good, cancelled["ticket"]["token"], foreign,
                      forged]) + "\n"
    r = run_scan(scan_bin, "--offline", "--bundle", bundle, "--journal",
                 journal, "--gate", "G1", "--json", "--stdin", stdin=feed)
    got = json_lines(r)
    assert [g["result"] for g in got] == [
        "admitted", "already_checked_in", "cancelled", "wrong_event",
        "invalid"], show(r)
    assert all(g["source"] == "offline" for g in got)
    assert got[1]["gate"] == "G1" and \
        got[1]["first_checked_in_at"] == got[0]["first_checked_in_at"]
    assert r.returncode == 1
    lines = journal.read_text().splitlines()
    assert len(lines) == 5, "every scan is journaled:\n" + \
        journal.read_text()
    assert [json.loads(x)["result"] for x in lines] == \
        [g["result"] for g in got]
    assert oct(journal.stat().st_mode & 0o777) == "0o600"
    # A restart rebuilds the state: the ticket stays in.
    r = run_scan(scan_bin, "--offline", "--bundle", bundle, "--journal",
                 journal, "--stdin", stdin=good + "\n")
    assert r.stdout.startswith("ALREADY IN  since ") and \
        "at gate G1" in r.stdout and r.stdout.rstrip().endswith(
            "(offline)"), show(r)
    assert "1 ticket already in" in r.stderr, show(r)
    # The bundle of another event is refused for this event.
    r = run_scan(scan_bin, "--offline", "--bundle", bundle, "--journal",
                 journal, "--event", other_ev["id"], "--stdin", stdin="")
    assert r.returncode == 2 and "is for event" in r.stderr, show(r)


def test_torn_journal_line_is_dropped_and_truncated(scan_bin, api, ev, door,
                                                    tmp_path):
    bundle = tmp_path / "bundle.json"
    fetch_bundle(api, door, ev, bundle)
    a = register(api, ev["id"])["ticket"]["token"]
    b = register(api, ev["id"])["ticket"]["token"]
    journal = tmp_path / "torn.journal"
    r = run_scan(scan_bin, "--offline", "--bundle", bundle, "--journal",
                 journal, "--stdin", stdin=a + "\n")
    assert r.returncode == 0, show(r)
    good = journal.read_bytes()
    # A crash mid-write: half of a line admitting b, no newline.
    line = json.dumps({"at": "2026-01-01T00:00:00Z", "result": "admitted",
                       "token": b, "jti": support.jwt_claims(b)["jti"],
                       "source": "offline", "nonce": "x"})
    journal.write_bytes(good + line[:len(line) // 2].encode())
    r = run_scan(scan_bin, "--offline", "--bundle", bundle, "--journal",
                 journal, "--stdin", "--json", stdin="%s\n%s\n" % (a, b))
    assert "torn last line" in r.stderr, show(r)
    assert [g["result"] for g in json_lines(r)] == [
        "already_checked_in", "admitted"], \
        "the torn line was never shown, so b is not in:\n" + show(r)
    text = journal.read_bytes()
    assert text.startswith(good) and text.endswith(b"\n") and \
        len(text.splitlines()) == 3, text
    # A complete last line that is not JSON is torn too.
    journal.write_bytes(text + b'{"at": "2026-01-01T00:00:00Z", "res\n')
    r = run_scan(scan_bin, "--offline", "--bundle", bundle, "--journal",
                 journal, "--stdin", stdin="")
    assert r.returncode == 0 and "torn last line" in r.stderr, show(r)
    assert journal.read_bytes() == text


def test_one_journal_one_scanner(scan_bin, api, ev, door, tmp_path):
    bundle = tmp_path / "bundle.json"
    fetch_bundle(api, door, ev, bundle)
    journal = tmp_path / "shared.journal"
    argv = [scan_bin, "--offline", "--bundle", str(bundle), "--journal",
            str(journal), "--stdin"]
    first = subprocess.Popen(argv, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=scan_env())
    try:
        # Its first words come once the journal is open and locked.
        assert b"bundle for event" in first.stderr.readline()
        r = run_scan(scan_bin, "--offline", "--bundle", bundle,
                     "--journal", journal, "--stdin", stdin="")
        assert r.returncode == 2 and \
            "another rollcall-scan is using it" in r.stderr, show(r)
    finally:
        out, err = first.communicate("", timeout=60)
    check_sanitizer(argv, err.decode())
    assert first.returncode == 0, err


def test_sync_reconciles_conflicts_and_twice_is_harmless(
        scan_bin, server, api, ev, door, pg, tmp_path):
    bundle = tmp_path / "bundle.json"
    fetch_bundle(api, door, ev, bundle)
    a = register(api, ev["id"])["ticket"]["token"]
    b = register(api, ev["id"])["ticket"]["token"]
    c = register(api, ev["id"])["ticket"]["token"]
    # c is admitted online at the main gate first; this device, offline,
    # does not know and admits it later: a conflict on upload.
    expect(api("POST", "/api/v1/checkins", {"token": c, "gate": "main"},
               token=door["token"]), 200)
    journal = tmp_path / "sync.journal"
    r = run_scan(scan_bin, "--offline", "--bundle", bundle, "--journal",
                 journal, "--gate", "back", "--stdin",
                 stdin="%s\n%s\n%s\nnot-a-ticket\n%s\n" % (a, b, c, a))
    assert r.returncode == 1, show(r)
    args = ["sync", "--server", "http://127.0.0.1:%d" % server.port,
            "--token", door["token"], "--journal", journal,
            "--device", "tablet-1"]
    s1 = run_scan(scan_bin, *args)
    assert s1.returncode == 1, "a conflict is reported:\n" + show(s1)
    assert ("3 offline admissions uploaded: 2 admitted, 0 duplicates "
            "(already uploaded), 1 conflict, 0 refused") in s1.stdout, \
        show(s1)
    assert "CONFLICT  registration %d: first admitted at" % reg_of(c) in \
        s1.stdout and "at gate main" in s1.stdout, show(s1)
    s2 = run_scan(scan_bin, *args, "--json")
    assert s2.returncode == 0, show(s2)
    j = json.loads(s2.stdout)
    assert (j["uploaded"], j["admitted"], j["duplicates"],
            j["conflicts"]) == (3, 0, 3, 0), j
    for t in (a, b, c):
        assert admitted_rows(pg, reg_of(t)) == 1, \
            "one admission per ticket in the database"
    assert pg.scalar("SELECT checkin_gate FROM registrations WHERE id = %d"
                     % reg_of(c)) == "main", "the earliest scan wins"
    assert pg.scalar("SELECT count(DISTINCT device) FROM checkins WHERE "
                     "device = 'tablet-1'") == "1"


# --------------------------------------------------------------------------
# Camera frames


def test_camera_frames_count_each_showing_once(scan_bin, server, api, ev,
                                               door, tmp_path):
    a = register(api, ev["id"], name="Cam A")
    b = register(api, ev["id"], name="Cam B")
    img_a = ticket_png(api, a, tmp_path / "a.png")
    img_b = ticket_png(api, b, tmp_path / "b.png")
    size = (640, 480)
    blank = bytes([200]) * (size[0] * size[1])
    fa = degrade.raw_frame(degrade.grey(img_a).resize((380, 380)), size)
    fa2 = degrade.raw_frame(degrade.grey(img_a).rotate(
        5, expand=True, fillcolor=255).resize((400, 400)), size)
    fb = degrade.raw_frame(degrade.grey(img_b).resize((380, 380)), size)
    # 10 frames a second: a held up for 0.4 s (moving a little), gone,
    # b, then a again after 4 s out of sight.
    frames = [blank, fa, fa2, fa, fa2, blank, fb, fb, blank] + \
        [blank] * 40 + [fa]
    path = tmp_path / "frames.y800"
    path.write_bytes(b"".join(frames))
    r = run_scan(scan_bin, "--frames", path, "--frame-size", "640x480",
                 "--json", *conn(server, door, ev))
    got = json_lines(r)
    assert [(g["result"], g["attendee"]["name"]) for g in got] == [
        ("admitted", "Cam A"), ("admitted", "Cam B"),
        ("already_checked_in", "Cam A")], show(r)
    path.write_bytes(b"".join(frames[:3]) + b"\x00" * 100)
    r = run_scan(scan_bin, "--frames", path, "--frame-size", "640x480",
                 *conn(server, door, ev))
    assert "partial frame" in r.stderr and r.returncode == 5, show(r)


def test_missing_camera_is_a_clear_error(scan_bin, server, door, ev):
    r = run_scan(scan_bin, "--camera", "/dev/video-none",
                 *conn(server, door, ev))
    assert r.returncode == 5 and "cannot open the camera" in r.stderr, \
        show(r)


# --------------------------------------------------------------------------
# Sponsor leads


class fake_server:
    """A one-handler HTTP server on a free loopback port, in a thread."""

    def __init__(self, handler):
        self.httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0),
                                                     handler)
        self.httpd.daemon_threads = True

    def __enter__(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self.httpd.server_address[1]

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_lead_mode_shows_consented_fields_or_nothing(scan_bin):
    answers = {
        "t1": (201, {"result": "captured", "lead": {
            "name": "Zhao Lei", "company": "Cloud\x1b[32mCo",
            "email": "zl@example.com", "job_title": "CTO"}}),
        "t2": (200, {"result": "no_consent", "lead": None}),
        "t3": (200, {"result": "already_captured", "lead": {
            "name": "Zhao Lei", "company": "CloudCo"}}),
        "t4": (200, {"result": "invalid"}),
    }
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"       # keep-alive

        def do_POST(self):
            body = json.loads(self.rfile.read(int(
                self.headers["Content-Length"])))
            seen.append((self.path, self.headers["Authorization"], body,
                         self.client_address))
            status, ans = answers[body["token"]]
            out = json.dumps(ans).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    with fake_server(Handler) as port:
        r = run_scan(scan_bin, "--lead", "--stdin", "--server",
                     "http://127.0.0.1:%d/" % port,
                     stdin="t1\nt2\nt3\nt4\n",
                     env={"ROLLCALL_TOKEN": "sponsor-token"})
    assert r.stdout.splitlines() == [
        "LEAD  Zhao Lei, Cloud?[32mCo  e-mail zl@example.com, job title CTO",
        "NO CONSENT  no consent: nothing shared",
        "ALREADY CAPTURED  Zhao Lei, CloudCo",
        "INVALID  not a valid ticket"], show(r)
    assert r.returncode == 1, show(r)
    assert [s[0] for s in seen] == ["/api/v1/leads"] * 4
    assert seen[0][1] == "Bearer sponsor-token"
    assert seen[0][2] == {"token": "t1"}
    assert len({s[3] for s in seen}) == 1, \
        "one kept-alive connection for every scan: %r" % seen


def test_lead_mode_against_the_server(scan_bin, server, api, ev, issue,
                                      add_sponsor):
    probe = api("POST", "/api/v1/leads", {"token": "x"})
    if probe.status == 404:
        pytest.skip("this server has no POST /api/v1/leads yet")
    sponsor = add_sponsor(ev["id"], "LeadCo " + uniq())
    tok = issue("sponsor", sponsor=sponsor)["token"]
    yes = register(api, ev["id"], name="Opted In", company="In Co",
                   consent={"sponsors": True, "fields": ["email"]})
    no = register(api, ev["id"], name="Opted Out", company="Out Co")
    r = run_scan(scan_bin, "--lead", "--stdin", "--json", "--server",
                 "http://127.0.0.1:%d" % server.port, "--token", tok,
                 stdin="%s\n%s\n" % (yes["ticket"]["token"],
                                     no["ticket"]["token"]))
    got = json_lines(r)
    assert [g["result"] for g in got] == ["captured", "no_consent"], show(r)
    assert got[0]["lead"]["name"] == "Opted In" and \
        got[0]["lead"].get("email", "").endswith("@example.com")
    assert "Opted Out" not in r.stdout
    assert r.returncode == 0, show(r)


# --------------------------------------------------------------------------
# The command line


def test_usage_errors_exit_2(scan_bin, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"event_id": 1, "event_id": 2}')
    cases = [
        ([], "say where codes come from"),
        (["--stdin"], "--server"),
        (["--stdin", "--offline"], "--offline needs --bundle"),
        (["--stdin", "--server", "ftp://x", "--token", "t"], "http://"),
        (["--stdin", "--image", "a.png"], "choose one input"),
        (["--door", "--lead", "--stdin"], "not both"),
        (["--stdin", "--event", "0"], "--event"),
        (["--stdin", "--offline", "--bundle", bad, "--journal",
          tmp_path / "j"], "bundle"),
        (["--stdin", "--gate", "x" * 65], "--gate"),
        (["sync", "--journal", tmp_path / "j"], "sync needs"),
        (["--bogus"], ""),
    ]
    for args, words in cases:
        r = run_scan(scan_bin, *args, stdin="")
        assert r.returncode == 2 and words in r.stderr, \
            "%r: %s" % (args, show(r))
    h = run_scan(scan_bin, "--help")
    assert h.returncode == 0 and "Exit status" in h.stdout
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "5 "):
        assert "\n  " + code in h.stdout, "exit code %s in --help" % code
