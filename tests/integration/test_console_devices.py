"""Devices from the console: a door or booth set-up QR (SVG, and a PNG to
save) holding the server's URL and a one-time code; rollcall-scan --setup
reads the picture, claims the code and writes the token (mode 0600); that
token admits a ticket; a claimed or expired code is refused; the event's
device tokens are listed with their last use, and revoked."""
import base64
import html
import json
import os
import re
import stat

import support
from support import expect, meetup
from test_console import account_add, signed_in
from test_scanner import run_scan, scan_bin  # noqa: F401 (fixture)


def person(name):
    return {"name": name, "email": support.uniq("dv") + "@example.com",
            "company": "Acme", "job_title": "Engineer",
            "identity": "professional",
            "consent": {"sponsors": True, "fields": ["email"]}}


def issue_qr(b, ev, tmp_path, label, **form):
    """Post the devices form; save the page's PNG; check the SVG is there."""
    page = "/console/events/%d/devices" % ev
    b.get(page)
    r = b.post(page, form)
    assert r.status == 200, (r.status, r.text[:400])
    assert "<svg" in r.text, "no QR SVG on the page"
    m = re.search(r'href="data:image/png;base64,([^"]+)"', r.text)
    assert m, "no PNG of the QR on the page"
    png = tmp_path / ("%s.png" % label)
    png.write_bytes(base64.b64decode(html.unescape(m.group(1))))
    return png


def test_device_qr_setup_claims_once_and_admits(rollcalld_bin, pg, server,
                                                api, create_event, scan_bin,
                                                tmp_path):
    ev = create_event(meetup(), status="published")
    b = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, support.uniq("dv") + "@example.com",
        events=[ev["id"]]))
    png = issue_qr(b, ev["id"], tmp_path, "door", name="Door A",
                   kind="door")
    assert pg.scalar("SELECT count(*) FROM device_codes WHERE event_id = %d "
                     "AND length(hash) = 32" % ev["id"]) == "1"
    tok = tmp_path / "door.token"
    r = run_scan(scan_bin, "--setup", png, "--token-file", tok)
    assert r.returncode == 0, r.stderr
    assert "door" in r.stdout and "Door A" in r.stdout
    assert stat.S_IMODE(os.stat(tok).st_mode) == 0o600
    # The token admits a ticket, read from the file (no token typed).
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                     person("Door Guest")), 201)
    r = run_scan(scan_bin, "--door", "--stdin", "--json", "--server",
                 "http://127.0.0.1:%d" % server.port, "--token-file", tok,
                 "--event", ev["id"], stdin=reg["ticket"]["token"] + "\n")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert json.loads(r.stdout.splitlines()[0])["result"] == "admitted"
    # Claimed once: the same picture is refused.
    r = run_scan(scan_bin, "--setup", png, "--token-file",
                 tmp_path / "again.token")
    assert r.returncode == 5 and "already used or expired" in r.stderr, \
        r.stderr
    assert not (tmp_path / "again.token").exists()
    # Listed with its last use; revoked from the page, it stops working.
    page = b.get("/console/events/%d/devices" % ev["id"]).text
    m = re.search(r'data-jti="([^"]+)"><td>Door A</td>.*?data-last-used>'
                  r'([^<]*)<', page, re.S)
    assert m and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", m.group(2)), \
        "the door's last use is not listed: %s" % page[:1200]
    r = b.post("/console/events/%d/devices/revoke" % ev["id"],
               {"jti": m.group(1)})
    assert r.status == 303, r.text[:300]
    assert "Door A" not in b.get("/console/events/%d/devices"
                                 % ev["id"]).text
    reg2 = expect(api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                      person("Late Guest")), 201)
    r = run_scan(scan_bin, "--door", "--stdin", "--json", "--server",
                 "http://127.0.0.1:%d" % server.port, "--token-file", tok,
                 "--event", ev["id"], stdin=reg2["ticket"]["token"] + "\n")
    assert r.returncode != 0, "a revoked device token still admits"
    acts = pg.scalar("SELECT string_agg(action, ',' ORDER BY id) FROM "
                     "audit_log WHERE event_id = %d AND action IN "
                     "('device.code', 'token.issue', 'token.revoke')"
                     % ev["id"])
    assert acts == "device.code,token.issue,token.revoke", acts


def test_device_code_expires_and_booth_gets_a_sponsor_token(
        rollcalld_bin, pg, server, api, create_event, scan_bin, tmp_path):
    ev = create_event(meetup(), status="published")
    sp = int(pg.scalar("INSERT INTO sponsors (event_id, name) VALUES (%d, "
                       "'BoothCo') RETURNING id" % ev["id"]))
    b = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, support.uniq("dv") + "@example.com",
        events=[ev["id"]]))
    old = issue_qr(b, ev["id"], tmp_path, "old", name="Old door",
                   kind="door")
    pg.psql("UPDATE device_codes SET expires_at = now() - interval '1 s' "
            "WHERE event_id = %d" % ev["id"])
    r = run_scan(scan_bin, "--setup", old, "--token-file",
                 tmp_path / "old.token")
    assert r.returncode == 5 and "expired" in r.stderr, r.stderr
    png = issue_qr(b, ev["id"], tmp_path, "booth", name="Booth 1",
                   kind="booth", sponsor=str(sp))
    tok = tmp_path / "booth.token"
    r = run_scan(scan_bin, "--setup", png, "--token-file", tok)
    assert r.returncode == 0 and "sponsor" in r.stdout, r.stderr
    reg = expect(api("POST", "/api/v1/events/%d/registrations" % ev["id"],
                     person("Booth Visitor")), 201)
    expect(api("POST", "/api/v1/leads", {"token": reg["ticket"]["token"]},
               token=tok.read_text().strip()), 200)
    page = b.get("/console/events/%d/devices" % ev["id"]).text
    assert "BoothCo" in page and "Booth 1" in page
    # The claim endpoint refuses junk and unknown codes.
    expect(api("POST", "/api/v1/devices/claim", {"code": "x"}), 400)
    expect(api("POST", "/api/v1/devices/claim", {"code": "A" * 43}), 404,
           "invalid_code")
    # CSRF and scope on the devices page.
    assert b.post("/console/events/%d/devices" % ev["id"],
                  {"name": "X", "kind": "door"}, csrf=False).status == 403
    other = create_event(meetup())
    assert b.get("/console/events/%d/devices" % other["id"]).status == 403


def test_the_devices_page_revokes_only_this_events_devices(
        rollcalld_bin, pg, server, api, create_event, issue):
    """The revoke button takes a door or booth token of this event only:
    not another event's device, not a staff token, whatever else the
    account may revoke through the API."""
    ev = create_event(meetup(), status="published")
    other = create_event(meetup(), status="published")
    b = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, support.uniq("dv") + "@example.com",
        events=[ev["id"], other["id"]]))
    theirs = issue("door", events=[other["id"]])
    staff = issue("organizer", events=[ev["id"]])
    for t in (theirs, staff):
        jti = t["jti"]
        b.get("/console/events/%d/devices" % ev["id"])
        r = b.post("/console/events/%d/devices/revoke" % ev["id"],
                   {"jti": jti})
        assert r.status == 404, \
            "the devices page of event %d revoked %s (%d)" % (
                ev["id"], jti, r.status)
        assert pg.scalar("SELECT revoked_at IS NULL FROM tokens WHERE "
                         "jti = '%s'" % jti) == "t", "%s was revoked" % jti
