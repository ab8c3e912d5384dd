"""Badges (docs/api.md "Badges"): the PDF of one attendee or of a whole
event, drawn with cairo + pango, and the lead code on it: a QR apart from
the entry ticket that a sponsor booth accepts and a door refuses."""
import os
import re
import subprocess

import pytest

from support import _apply, expect, meetup, uniq

ZH_NAME = "张伟"


def person(**over):
    return _apply({"name": "Someone", "email": uniq("b") + "@example.com",
                   "company": "Acme", "job_title": "Engineer",
                   "identity": "professional"}, over)


class World:
    pass


@pytest.fixture(scope="module")
def w(api, admin_token, create_event, issue):
    w = World()
    w.ev = create_event(meetup(title="Rust Meetup Shanghai"),
                        status="published")["id"]
    w.other = create_event(meetup(), status="published")["id"]
    w.sp = expect(api("POST", "/api/v1/events/%d/sponsors" % w.ev,
                      {"name": "CloudCo"}, token=admin_token), 201)["id"]
    w.people = {}
    for key, name, consent in [
            ("ada", "Ada Lovelace", {"sponsors": True,
                                     "fields": ["email", "job_title"]}),
            ("zhang", ZH_NAME, {"sponsors": True, "fields": []}),
            ("bob", "Bob Private", {"sponsors": False})]:
        body = person(name=name, consent=consent,
                      company="示例科技" if key == "zhang" else "Acme")
        reg = expect(api("POST", "/api/v1/events/%d/registrations" % w.ev,
                         body), 201)
        reg["body"] = body
        w.people[key] = reg
    w.organizer = issue("organizer", events=[w.ev])["token"]
    w.organizer_other = issue("organizer", events=[w.other])["token"]
    w.door = issue("door", events=[w.ev])["token"]
    w.door2 = issue("door", events=[w.ev])["token"]
    w.sponsor = issue("sponsor", sponsor=w.sp)["token"]
    return w


def pdf_text(tmp_path, raw, name="b.pdf"):
    p = tmp_path / name
    p.write_bytes(raw)
    return p, subprocess.run(["pdftotext", str(p), "-"], check=True,
                             capture_output=True).stdout.decode()


def qr_codes(tmp_path, pdf, page=1):
    """The QR codes zbarimg reads on one page rendered at 200 dpi."""
    out = tmp_path / ("page%d" % page)
    subprocess.run(["pdftoppm", "-r", "200", "-f", str(page), "-l",
                    str(page), "-png", "-singlefile", str(pdf), str(out)],
                   check=True)
    r = subprocess.run(["zbarimg", "-q", "--raw", "-Sbinary",
                        str(out) + ".png"], capture_output=True)
    return [x for x in r.stdout.decode().splitlines() if x]


def badge(api, w, key, token):
    return api("GET", "/api/v1/events/%d/badges/%d.pdf" %
               (w.ev, w.people[key]["id"]), token=token)


def test_one_badge_shows_name_company_event_and_embeds_cjk_font(api, w,
                                                               tmp_path):
    r = badge(api, w, "zhang", w.organizer)
    expect(r, 200)
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.raw.startswith(b"%PDF-"), r.raw[:20]
    pdf, text = pdf_text(tmp_path, r.raw)
    for want in (ZH_NAME, "示例科技", "Rust Meetup Shanghai"):
        assert want in text, "%r missing from the badge text: %r" % (want,
                                                                    text)
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True,
                           capture_output=True).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert rows and any("CJK" in x for x in rows), fonts
    # columns: name type encoding emb sub uni ...: every font embedded
    assert all(x.split()[-5] == "yes" for x in rows), \
        "a font is not embedded:\n" + fonts


def test_lead_qr_on_the_badge_is_the_lead_code_without_personal_data(
        api, w, tmp_path):
    r = badge(api, w, "ada", w.organizer)
    expect(r, 200)
    pdf, text = pdf_text(tmp_path, r.raw)
    assert "Ada Lovelace" in text
    codes = qr_codes(tmp_path, pdf)
    assert len(codes) == 1, "one QR on the badge, got %r" % codes
    code = codes[0]
    p = w.people["ada"]
    assert code.startswith("RCL") and len(code) == 35, code
    assert code != p["ticket"]["token"], "the badge carries the entry ticket"
    # Only the prefix and hex digits: nothing of the person can be in it
    # (a name's letters may well occur in hex, so the shape is the test).
    assert re.fullmatch(r"RCL[0-9A-Fa-f]{32}", code), \
        "the lead code is not RCL and 32 hex digits: %r" % code
    for personal in ("Lovelace", p["body"]["email"]):
        assert personal.lower() not in code.lower(), code
    w.lead_code = code


def test_event_badges_one_page_per_confirmed_attendee(api, w, tmp_path):
    r = api("GET", "/api/v1/events/%d/badges.pdf" % w.ev, token=w.organizer)
    expect(r, 200)
    pdf, text = pdf_text(tmp_path, r.raw)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True,
                          capture_output=True).stdout.decode()
    pages = int([x for x in info.splitlines()
                 if x.startswith("Pages:")][0].split()[1])
    assert pages == 3, info
    assert "Ada Lovelace" in text and ZH_NAME in text and \
        "Bob Private" in text, text
    assert "Page size:      297.638 x 419.528 pts" in info or \
        "297.6" in info, "A6 by default:\n" + info


def test_badge_access(api, w):
    expect(badge(api, w, "ada", None), 401)
    expect(badge(api, w, "ada", w.organizer_other), 403)
    expect(badge(api, w, "ada", w.sponsor), 403)
    expect(api("GET", "/api/v1/events/%d/badges.pdf" % w.ev,
               token=w.door), 403)
    expect(api("GET", "/api/v1/events/%d/badges/999999.pdf" % w.ev,
               token=w.organizer), 404)
    expect(api("GET", "/api/v1/events/%d/badges/%d.png" %
               (w.ev, w.people["ada"]["id"]), token=w.organizer), 404)


def test_door_gets_the_badge_of_whom_it_just_admitted_only(api, w):
    expect(badge(api, w, "bob", w.door), 404)
    got = expect(api("POST", "/api/v1/checkins",
                     {"token": w.people["bob"]["ticket"]["token"],
                      "event_id": w.ev}, token=w.door), 200)
    assert got["result"] == "admitted", got
    assert got["registration_id"] == w.people["bob"]["id"], got
    r = badge(api, w, "bob", w.door)
    expect(r, 200)
    assert r.raw.startswith(b"%PDF-")
    # another door, and this door for someone it did not admit: no
    expect(badge(api, w, "bob", w.door2), 404)
    expect(badge(api, w, "ada", w.door), 404)


def test_door_refuses_the_lead_code_as_invalid(api, w):
    code = getattr(w, "lead_code", None) or pytest.skip("no lead code")
    got = expect(api("POST", "/api/v1/checkins",
                     {"token": code, "event_id": w.ev}, token=w.door), 200)
    assert got["result"] == "invalid", got


def test_booth_captures_the_lead_code_with_consented_fields(api, w, pg):
    code = getattr(w, "lead_code", None) or pytest.skip("no lead code")
    got = expect(api("POST", "/api/v1/leads", {"token": code},
                     token=w.sponsor), 200)
    assert got["result"] == "captured", got
    p = w.people["ada"]
    assert got["lead"]["name"] == "Ada Lovelace"
    assert got["lead"]["email"] == p["body"]["email"]
    assert got["lead"]["job_title"] == "Engineer"
    assert "phone" not in got["lead"], got
    # a lead code that is not anyone's, and one of a non-consenting person
    got = expect(api("POST", "/api/v1/leads", {"token": "RCL" + "0" * 32},
                     token=w.sponsor), 200)
    assert got["result"] == "invalid", got
    bob = pg.scalar("SELECT lead_code FROM registrations WHERE id = %d" %
                    w.people["bob"]["id"])
    got = expect(api("POST", "/api/v1/leads", {"token": bob},
                     token=w.sponsor), 200)
    assert got["result"] == "no_consent" and got["lead"] is None, got


def test_booth_refuses_the_entry_ticket_when_the_event_says_so(api, w):
    ticket = w.people["zhang"]["ticket"]["token"]
    got = expect(api("POST", "/api/v1/leads", {"token": ticket},
                     token=w.sponsor), 200)
    assert got["result"] == "captured", "by default tickets still work"
    ev = expect(api("PATCH", "/api/v1/events/%d" % w.ev,
                    {"booth_accepts_ticket": False}, token=w.organizer), 200)
    assert ev["booth_accepts_ticket"] is False, ev
    try:
        got = expect(api("POST", "/api/v1/leads", {"token": ticket},
                         token=w.sponsor), 200)
        assert got["result"] == "invalid" and "lead" not in got, got
        code = getattr(w, "lead_code", None)
        if code:
            got = expect(api("POST", "/api/v1/leads", {"token": code},
                             token=w.sponsor), 200)
            assert got["result"] == "already_captured", got
    finally:
        expect(api("PATCH", "/api/v1/events/%d" % w.ev,
                   {"booth_accepts_ticket": True}, token=w.organizer), 200)


# --------------------------------------------------------------------------
# rollcall-scan --print / --print-dir

def scanner(*args, env=None, stdin=None):
    import test_scanner as ts
    return ts.run_scan(ts.scan_path(), *args, stdin=stdin, env=env)


def new_attendees(api, w, n):
    out = []
    for i in range(n):
        reg = expect(api("POST", "/api/v1/events/%d/registrations" % w.ev,
                         person(name="Door Person %d" % i)), 201)
        out.append(reg)
    return out


def door_args(server, w, token, *more):
    return ("--door", "--stdin", "--json", "--server",
            "http://127.0.0.1:%d" % server.port, "--token", token,
            "--event", w.ev, *more)


def test_print_dir_writes_a_badge_pdf_per_admitted_scan(api, w, server,
                                                        issue, tmp_path):
    door = issue("door", events=[w.ev])["token"]
    regs = new_attendees(api, w, 2)
    out = tmp_path / "badges"
    out.mkdir()
    codes = [r["ticket"]["token"] for r in regs]
    # the second scan of the first ticket is already in: no second badge
    r = scanner(*door_args(server, w, door, "--print-dir", out),
                stdin="\n".join(codes + codes[:1]) + "\n")
    import test_scanner as ts
    lines = ts.json_lines(r)
    assert [x["result"] for x in lines] == ["admitted", "admitted",
                                            "already_checked_in"], ts.show(r)
    assert all(x.get("badge") == "written" for x in lines[:2]), ts.show(r)
    files = sorted(p.name for p in out.iterdir())
    want = sorted("badge-%d-%d.pdf" % (w.ev, x["id"]) for x in regs)
    assert files == want, (files, want)
    for i, reg in enumerate(regs):
        _, text = pdf_text(tmp_path, (out / ("badge-%d-%d.pdf" % (
            w.ev, reg["id"]))).read_bytes(), "s%d.pdf" % i)
        assert "Door Person %d" % i in text, text


def test_print_sends_the_badge_to_lp(api, w, server, issue, tmp_path):
    door = issue("door", events=[w.ev])["token"]
    reg = new_attendees(api, w, 1)[0]
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    calls = tmp_path / "lp-calls"
    lp = bin_ / "lp"
    # a fake lp: records its arguments and keeps a copy of the file
    lp.write_text("#!/bin/sh\necho \"$@\" >> %s\ncp \"$4\" %s/printed.pdf\n"
                  "echo 'request id is front-1 (1 file(s))'\n"
                  % (calls, tmp_path))
    lp.chmod(0o755)
    env = {"PATH": "%s:%s" % (bin_, os.environ["PATH"])}
    r = scanner(*door_args(server, w, door, "--print", "front-desk"),
                stdin=reg["ticket"]["token"] + "\n", env=env)
    import test_scanner as ts
    lines = ts.json_lines(r)
    assert [x["result"] for x in lines] == ["admitted"], ts.show(r)
    assert lines[0].get("badge") == "printed", ts.show(r)
    args = calls.read_text().split()
    assert args[:3] == ["-d", "front-desk", "--"], args
    _, text = pdf_text(tmp_path, (tmp_path / "printed.pdf").read_bytes(),
                       "p.pdf")
    assert "Door Person 0" in text, text
    assert not os.path.exists(args[3]), "the temporary badge file was kept"


def test_print_failure_keeps_the_admission(api, w, server, issue, tmp_path):
    door = issue("door", events=[w.ev])["token"]
    reg = new_attendees(api, w, 1)[0]
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "lp").write_text("#!/bin/sh\necho 'lp: no such printer' >&2\n"
                             "exit 1\n")
    (bin_ / "lp").chmod(0o755)
    r = scanner(*door_args(server, w, door, "--print", "nowhere"),
                stdin=reg["ticket"]["token"] + "\n",
                env={"PATH": "%s:%s" % (bin_, os.environ["PATH"])})
    import test_scanner as ts
    lines = ts.json_lines(r)
    assert lines[0]["result"] == "admitted", ts.show(r)
    assert "lp -d nowhere failed" in lines[0].get("badge_error", ""), \
        ts.show(r)
    assert "badge NOT printed" in r.stderr, ts.show(r)


# --------------------------------------------------------------------------
# The layout comes from templates/badge.json

def test_label_template_gives_label_pages_with_a_readable_qr(
        pg, start_daemon, admin_token, tmp_path):
    import support
    share = tmp_path / "share"
    (share / "templates").mkdir(parents=True)
    (share / "sql").symlink_to(support.REPO / "sql")
    for f in (support.REPO / "templates").iterdir():
        if f.name != "badge.json":
            (share / "templates" / f.name).symlink_to(f)
    (share / "templates" / "badge.json").write_text(
        '{"page": "90x54", "margin_mm": 4, "qr_mm": 30, "name_pt": 20,'
        ' "company_pt": 10, "event_pt": 8}')
    d = start_daemon(pg.conninfo, ["--share", str(share)])
    ev = expect(d.api("POST", "/api/v1/events", meetup(title="Label Day"),
                      token=admin_token), 201)["id"]
    expect(d.api("PATCH", "/api/v1/events/%d" % ev, {"status": "published"},
                 token=admin_token), 200)
    reg = expect(d.api("POST", "/api/v1/events/%d/registrations" % ev,
                       person(name="Grace Hopper")), 201)
    r = d.api("GET", "/api/v1/events/%d/badges/%d.pdf" % (ev, reg["id"]),
              token=admin_token)
    expect(r, 200)
    pdf, text = pdf_text(tmp_path, r.raw)
    assert "Grace Hopper" in text and "Label Day" in text, text
    info = subprocess.run(["pdfinfo", str(pdf)], check=True,
                          capture_output=True).stdout.decode()
    size = [x for x in info.splitlines() if x.startswith("Page size:")][0]
    w, h = float(size.split()[2]), float(size.split()[4])
    assert abs(w - 90 * 72 / 25.4) < 1 and abs(h - 54 * 72 / 25.4) < 1, size
    lead = pg.scalar("SELECT lead_code FROM registrations WHERE id = %d" %
                     reg["id"])
    assert qr_codes(tmp_path, pdf) == [lead]


def test_offline_door_refuses_the_lead_code_too(api, w, server, tmp_path):
    import test_scanner as ts
    code = getattr(w, "lead_code", None) or pytest.skip("no lead code")
    bundle = tmp_path / "bundle.json"
    r = api("GET", "/api/v1/events/%d/offline-bundle" % w.ev, token=w.door)
    expect(r, 200)
    bundle.write_bytes(r.raw)
    r = scanner("--door", "--stdin", "--json", "--offline", "--bundle",
                bundle, "--journal", tmp_path / "j", stdin=code + "\n")
    lines = ts.json_lines(r)
    assert [x["result"] for x in lines] == ["invalid"], ts.show(r)
