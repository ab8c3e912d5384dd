"""Certificates (COMMUNITY.md section 6, docs/certificates.md): issued when
SQL finds the person eligible, a PDF in zh-CN or English with CJK fonts
embedded and a QR of PUBLIC_URL/verify/{code}, the public verify page
(valid, revoked at once on every daemon, unknown 404, guessing 429), the
member's own list and download, the console, and erasure."""
import re
import urllib.parse

import pytest

import support
from support import expect, expect_field_error, series, uniq
from certificates_support import (attended_volunteer, issue as issue_cert,
                                  fresh_rate_window, make_past, pdf_fonts,
                                  pdf_text, published,
                                  qr_codes, sign_up, write_pdf)
from community_support import make_member
from test_console import account_add, signed_in
from test_privacy import pg_dump_data

CODE = re.compile(r"^[A-Za-z0-9_-]{24}$")


class World:
    pass


@pytest.fixture(scope="module")
def w(api, admin_token, create_event, issue):
    w = World()
    w.ev = published(create_event, title="Go Meetup 上海")["id"]
    w.org = issue("organizer", events=[w.ev])["token"]
    w.other = published(create_event)["id"]
    w.org_other = issue("organizer", events=[w.other])["token"]
    return w


def path_of(url):
    return urllib.parse.urlsplit(url).path


def verify(d, code):
    return expect(d.api("GET", "/api/v1/verify/%s" % code), 200)


def page(d, code, lang="en"):
    r = d.api("GET", "/verify/%s" % code, headers={"Accept-Language": lang})
    return r, r.raw.decode()


def test_the_qr_opens_a_page_that_says_valid_then_revoked_on_every_daemon(
        api, w, server, pg, tmp_path, start_daemon):
    body, _ = attended_volunteer(api, w.org, w.ev, name="Ada Lovelace")
    c = issue_cert(api, w.org, "volunteer", body, event=w.ev)
    assert CODE.match(c["code"]), c["code"]
    public = "http://127.0.0.1:%d" % server.port
    assert c["verify_url"] == "%s/verify/%s" % (public, c["code"]), c
    assert c["pdf_url"] == "%s/api/v1/certificates/%s.pdf" % (public,
                                                               c["code"])
    r = api("GET", path_of(c["pdf_url"]), token=w.org)
    expect(r, 200)
    assert r.headers["Content-Type"] == "application/pdf"
    assert "no-store" in r.headers["Cache-Control"]
    pdf = write_pdf(tmp_path, r.raw)
    codes = qr_codes(tmp_path, pdf)
    assert codes == [c["verify_url"]], (
        "the QR zbarimg read from the page at 150 dpi: %r" % codes)
    second = start_daemon(pg.conninfo)
    for d in (server, second):
        resp, text = page(d, path_of(codes[0]).rsplit("/", 1)[1])
        assert resp.status == 200 and 'data-status="valid"' in text, text
        assert "Ada Lovelace" in text and "Go Meetup 上海" in text, text
        assert "no-store" in resp.headers["Cache-Control"]
        v = verify(d, c["code"])
        assert (v["status"], v["valid"], v["holder"]) == ("valid", True,
                                                         "Ada Lovelace"), v
    expect(api("POST", "/api/v1/certificates/%s/revoke" % c["code"],
               {"reason": "issued by mistake"}, token=w.org), 200)
    # At once, on both: nothing was cached.
    for d in (server, second):
        resp, text = page(d, c["code"])
        assert resp.status == 200 and 'data-status="revoked"' in text, (
            "the page still says %r after revocation" % re.findall(
                r'data-status="(\w+)"', text))
        v = verify(d, c["code"])
        assert (v["status"], v["valid"]) == ("revoked", False), v
    # The public answer holds nothing else about the person.
    v = verify(server, c["code"])
    assert body["email"] not in str(v) and "reason" not in v and \
        "mistake" not in str(v), v
    assert set(v) == {"code", "kind", "status", "valid", "holder",
                      "issued_at", "issued_on", "revoked_at", "event",
                      "series", "year", "issuer", "verify_url"}, sorted(v)
    audit = [row[0] for row in pg.psql(
        "SELECT action FROM audit_log WHERE detail->>'code' = '%s' "
        "ORDER BY id" % c["code"])]
    assert audit == ["certificate.issue", "export.certificate",
                             "certificate.revoke"], audit


def test_pdf_text_in_chinese_and_english_with_embedded_fonts(
        api, w, tmp_path):
    zh, _ = attended_volunteer(api, w.org, w.ev, name="张伟")
    en, _ = attended_volunteer(api, w.org, w.ev, name="Grace Hopper")
    czh = issue_cert(api, w.org, "volunteer", zh, event=w.ev, lang="zh-CN")
    cen = issue_cert(api, w.org, "volunteer", en, event=w.ev, lang="en")
    assert (czh["lang"], cen["lang"]) == ("zh-CN", "en")
    for c, name, words in [(czh, "张伟", ["志愿者证书", "兹证明",
                                          "Go Meetup 上海"]),
                           (cen, "Grace Hopper", ["Certificate of "
                                                  "Volunteering",
                                                  "This certifies that"])]:
        r = api("GET", path_of(c["pdf_url"]), token=w.org)
        expect(r, 200)
        pdf = write_pdf(tmp_path, r.raw, c["code"] + ".pdf")
        text = pdf_text(pdf)
        # pdftotext may split a word where glyphs sit apart (kerning in
        # the small print): compare without white space.
        flat = "".join(text.split())
        for s in [name, c["code"]] + words:
            assert "".join(s.split()) in flat, (
                "%r is not in the %s certificate's text:\n%s"
                % (s, c["lang"], text))
        fonts = pdf_fonts(pdf)
        assert fonts and all(e == "yes" for _, e in fonts), (
            "fonts not embedded: %r" % fonts)
        assert any("CJK" in n for n, _ in fonts), fonts


def test_unknown_codes_are_404_and_guessing_is_429(
        server, pg, start_daemon):
    r, text = page(server, "A" * 24)
    assert r.status == 404 and "No certificate has this code" in text, text
    expect(server.api("GET", "/api/v1/verify/%s" % ("B" * 24)), 404)
    expect(server.api("GET", "/api/v1/verify/short"), 404)
    # A daemon of its own: the limit counts per address, page and API.
    d = start_daemon(pg.conninfo)
    fresh_rate_window()
    seen = []
    for i in range(40):
        p = ("/verify/" if i % 2 else "/api/v1/verify/") + "C%023d" % i
        seen.append(d.api("GET", p).status)
    assert seen[:30] == [404] * 30 and set(seen[30:]) == {429}, seen
    r = d.api("GET", "/api/v1/verify/" + "D" * 24)
    expect(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    r = d.api("GET", "/verify/" + "D" * 24)
    assert r.status == 429 and b"Too many certificates" in r.raw


def test_volunteer_certificates_need_an_approved_attended_volunteer(
        api, w, pg):
    stranger = {"email": uniq("s") + "@example.com", "name": "Stranger"}
    e = issue_cert(api, w.org, "volunteer", stranger, event=w.ev,
                   status=409, error="not_eligible")
    assert "did not sign up" in e["message"], e
    body, row = sign_up(api, w.ev)
    e = issue_cert(api, w.org, "volunteer", body, event=w.ev, status=409,
                   error="not_eligible")
    assert "pending" in e["message"], e
    expect(api("POST", "/api/v1/volunteers/%d/decision" % row["id"],
               {"decision": "approve"}, token=w.org), 200)
    e = issue_cert(api, w.org, "volunteer", body, event=w.ev, status=409,
                   error="not_eligible")
    assert "attendance" in e["message"], e
    expect(api("POST", "/api/v1/volunteers/%d/attended" % row["id"], {},
               token=w.org), 200)
    e = issue_cert(api, w.org, "outstanding_volunteer", body, event=w.ev,
                   status=409, error="not_eligible")
    assert "outstanding" in e["message"], e
    c = issue_cert(api, w.org, "volunteer", body, event=w.ev)
    issue_cert(api, w.org, "volunteer", body, event=w.ev, status=409,
               error="already_issued")
    # Revoked, a new one may be issued.
    expect(api("POST", "/api/v1/certificates/%s/revoke" % c["code"], {},
               token=w.org), 200)
    c2 = issue_cert(api, w.org, "volunteer", body, event=w.ev)
    assert c2["code"] != c["code"]
    # A refusal leaves no person behind.
    assert pg.scalar("SELECT count(*) FROM persons WHERE email = '%s'"
                     % stranger["email"]) == "0"


def test_outstanding_certificate_after_the_flag(api, create_event, issue,
                                                pg):
    ev = published(create_event)["id"]
    org = issue("organizer", events=[ev])["token"]
    body, row = attended_volunteer(api, org, ev, name="Star Helper")
    make_past(pg, ev)
    expect(api("POST", "/api/v1/volunteers/%d/outstanding" % row["id"], {},
               token=org), 200)
    c = issue_cert(api, org, "outstanding_volunteer", body, event=ev)
    assert c["kind"] == "outstanding_volunteer" and c["holder"] == \
        "Star Helper", c


def test_speaker_certificates_follow_the_agenda_once_the_event_is_over(
        api, create_event, issue, pg, admin_token):
    ev = published(create_event)["id"]
    org = issue("organizer", events=[ev])["token"]
    ev_row = expect(api("GET", "/api/v1/events/%d" % ev, token=org), 200)
    expect(api("POST", "/api/v1/events/%d/agenda" % ev, {"sessions": [
        {"title": "Keynote", "speaker": "Ada Lovelace",
         "starts_at": ev_row["starts_at"], "ends_at": ev_row["ends_at"]},
        {"title": "Panel", "speaker": "Bob Chen, 张伟 & Carol",
         "starts_at": ev_row["starts_at"], "ends_at": ev_row["ends_at"]}]},
        token=org), 200)
    ada = {"email": uniq("ada") + "@example.com", "name": "Ada Lovelace"}
    e = issue_cert(api, org, "speaker", ada, event=ev, status=409,
                   error="not_eligible")
    assert "over" in e["message"], e
    make_past(pg, ev)
    issue_cert(api, org, "speaker", ada, event=ev)
    for name in ("张伟", "carol", "Bob Chen"):
        issue_cert(api, org, "speaker", {"email": uniq("sp") +
                                         "@example.com", "name": name},
                   event=ev)
    e = issue_cert(api, org, "speaker", {"email": uniq("x") + "@example.com",
                                         "name": "Mallory"}, event=ev,
                   status=409, error="not_eligible")
    assert "not a speaker" in e["message"], e


def _join(pg, reg_id):
    pg.psql("UPDATE registrations SET joined_at = now() WHERE id = %d"
            % reg_id)


def test_series_completion_counts_joined_episodes_against_the_threshold(
        api, admin_token, pg):
    s = expect(api("POST", "/api/v1/series", series(episodes=4),
                   token=admin_token), 201)
    eps = [e["id"] for e in s["events"]]
    for e in eps:
        expect(api("PATCH", "/api/v1/events/%d" % e, {"status": "published",
                   "members_only": False}, token=admin_token), 200)
    pg.psql("UPDATE series SET completion_threshold = 3 WHERE id = %d"
            % s["id"])
    email = uniq("nt") + "@example.com"
    regs = []
    for e in eps:
        regs.append(expect(api("POST", "/api/v1/events/%d/registrations" % e,
                               {"name": "Night Owl", "email": email,
                                "company": "Acme", "job_title": "Dev",
                                "identity": "professional"}), 201)["id"])
    who = {"email": email.upper(), "name": "Night Owl"}
    _join(pg, regs[0])
    _join(pg, regs[1])
    e = issue_cert(api, admin_token, "series_completion", who,
                   series=s["id"], status=409, error="not_eligible")
    assert "Joined 2 of the 3" in e["message"], e
    _join(pg, regs[2])
    c = issue_cert(api, admin_token, "series_completion", who,
                   series=s["id"])
    assert c["series"]["id"] == s["id"] and c["event"] is None, c
    # No threshold: every episode.
    pg.psql("UPDATE series SET completion_threshold = NULL WHERE id = %d"
            % s["id"])
    expect(api("POST", "/api/v1/certificates/%s/revoke" % c["code"], {},
               token=admin_token), 200)
    e = issue_cert(api, admin_token, "series_completion", who,
                   series=s["id"], status=409, error="not_eligible")
    assert "Joined 3 of the 4" in e["message"], e
    # A series is in an organizer's scope only with all its episodes.
    part = issue_org(api, admin_token, eps[:2])
    issue_cert(api, part, "series_completion", who, series=s["id"],
               status=403, error="out_of_scope")


def issue_org(api, admin_token, events):
    return expect(api("POST", "/api/v1/tokens", {"role": "organizer",
                      "name": uniq("o"), "events": events},
                      token=admin_token), 201)["token"]


def test_mva_certificates_are_the_committees_for_title_holders(
        api, admin_token, w, rollcalld_bin, pg):
    pid, _ = make_member(pg, name="Most Valuable")
    email = pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)
    who = {"email": email, "name": "Most Valuable"}
    issue_cert(api, w.org, "mva", who, year=2026, status=403,
               error="forbidden")
    committee = support.cli_token(rollcalld_bin, pg.conninfo, "committee",
                                  uniq("cmt"))
    e = issue_cert(api, committee, "mva", who, year=2026, status=409,
                   error="not_eligible")
    assert "MVA title of 2026" in e["message"], e
    pg.psql("INSERT INTO titles (person_id, title, year, granted_by) VALUES "
            "(%d, 'mva', 2026, 'test')" % pid)
    c = issue_cert(api, committee, "mva", who, year=2026)
    assert c["year"] == 2026 and c["issuer"] is None, c
    v = expect(api("GET", "/api/v1/verify/%s" % c["code"]), 200)
    assert v["issuer"]["chapter"] is None and v["year"] == 2026, v
    # An organizer neither lists nor revokes it.
    lst = expect(api("GET", "/api/v1/certificates?kind=mva", token=w.org),
                 200)
    assert all(x["code"] != c["code"] for x in lst["certificates"]), lst
    expect(api("POST", "/api/v1/certificates/%s/revoke" % c["code"], {},
               token=w.org), 403, "out_of_scope")


def test_scope_and_bad_input(api, w):
    body, _ = attended_volunteer(api, w.org, w.ev)
    issue_cert(api, w.org_other, "volunteer", body, event=w.ev, status=403,
               error="out_of_scope")
    c = issue_cert(api, w.org, "volunteer", body, event=w.ev)
    expect(api("POST", "/api/v1/certificates/%s/revoke" % c["code"], {},
               token=w.org_other), 403, "out_of_scope")
    expect(api("GET", "/api/v1/certificates/%s.pdf" % c["code"],
               token=w.org_other), 403, "out_of_scope")
    mine = expect(api("GET", "/api/v1/certificates?event=%d" % w.ev,
                      token=w.org), 200)
    assert any(x["code"] == c["code"] for x in mine["certificates"])
    theirs = expect(api("GET", "/api/v1/certificates", token=w.org_other),
                    200)
    assert all(x["code"] != c["code"] for x in theirs["certificates"])
    expect(api("POST", "/api/v1/certificates", {"kind": "volunteer"}), 401)
    good = {"kind": "volunteer", "email": body["email"], "name": "X",
            "event": w.ev}
    for field, bad in [("kind", {"kind": "winner"}),
                       ("email", {"email": "nope"}),
                       ("name", {"name": "a\nb"}),
                       ("year", {"year": 1999}),
                       ("colour", {"colour": 1})]:
        expect_field_error(api("POST", "/api/v1/certificates",
                               dict(good, **bad), token=w.org), field)
    expect_field_error(api("POST", "/api/v1/certificates",
                           dict(good, series=1), token=w.org), "event")
    expect(api("POST", "/api/v1/certificates", dict(good, event=999999999),
               token=w.org), 403, "out_of_scope")
    expect(api("GET", "/api/v1/certificates/%s.pdf" % ("Z" * 24),
               token=w.org), 404)
    expect(api("POST", "/api/v1/certificates/%s/revoke" % ("Z" * 24), {},
               token=w.org), 404)
    expect_field_error(api("GET", "/api/v1/certificates?kind=x",
                           token=w.org), "kind")


def test_a_member_lists_and_downloads_only_their_own(api, w, pg, tmp_path):
    pid, secret = make_member(pg, name="Member Volunteer")
    email = pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)
    body, _ = attended_volunteer(api, w.org, w.ev, email=email,
                                 name="Member Volunteer")
    c = issue_cert(api, w.org, "volunteer", body, event=w.ev)
    lst = expect(api("GET", "/api/v1/member/%s/certificates" % secret), 200)
    mine = [x for x in lst["certificates"] if x["code"] == c["code"]]
    assert mine and mine[0]["pdf_url"].endswith(
        "/member/%s/certificates/%s.pdf" % (secret, c["code"])), lst
    r = api("GET", path_of(mine[0]["pdf_url"]))
    expect(r, 200)
    assert "MemberVolunteer" in "".join(pdf_text(write_pdf(tmp_path,
                                                          r.raw)).split())
    _, other = make_member(pg)
    assert api("GET", "/member/%s/certificates/%s.pdf" % (
        other, c["code"])).status == 404
    assert api("GET", "/api/v1/member/%s/certificates" %
               support.b64u(b"x" * 32)).status == 404
    expect(api("POST", "/api/v1/certificates/%s/revoke" % c["code"], {},
               token=w.org), 200)
    assert api("GET", path_of(mine[0]["pdf_url"])).status == 404
    lst = expect(api("GET", "/api/v1/member/%s/certificates" % secret), 200)
    gone = [x for x in lst["certificates"] if x["code"] == c["code"]][0]
    assert gone["status"] == "revoked" and "pdf_url" not in gone, gone
    exp = pg.scalar("SELECT rc_certificates_export(%d)::text" % pid)
    assert c["code"] in exp and "Member Volunteer" in exp, exp
    vexp = pg.scalar("SELECT rc_volunteer_export(%d)::text" % pid)
    assert '"skills": ["operations"]' in vexp, vexp


def test_erasure_revokes_blanks_the_name_and_leaves_no_trace(
        api, w, pg, server):
    name = "Erase Me " + uniq("n")
    email = uniq("erase") + "@example.com"
    body, row = attended_volunteer(api, w.org, w.ev, name=name, email=email,
                                   note="note of " + name)
    c = issue_cert(api, w.org, "volunteer", body, event=w.ev)
    pid = int(pg.scalar("SELECT id FROM persons WHERE email = '%s'" % email))
    before = pg.scalar("SELECT count(*) FROM certificates")
    pg.psql("DELETE FROM persons WHERE id = %d" % pid)
    v = verify(server, c["code"])
    assert v["holder"] is None and v["status"] == "revoked", v
    r, text = page(server, c["code"])
    assert r.status == 200 and name not in text and \
        'data-status="revoked"' in text and \
        "name removed at the holder" in text, text
    assert pg.scalar("SELECT count(*) FROM certificates") == before, (
        "erasure removed a certificate's row: the counts change")
    assert pg.scalar("SELECT count(*) FROM volunteers WHERE id = %d"
                     % row["id"]) == "0"
    expect(api("GET", "/api/v1/certificates/%s.pdf" % c["code"],
               token=w.org), 404)
    dump = pg_dump_data(pg.conninfo)
    for s in (name, email):
        assert s not in dump, "%r is still in pg_dump: %s" % (
            s, [line[:200] for line in dump.splitlines() if s in line][:5])


def test_console_certificates_issue_list_revoke(
        rollcalld_bin, pg, server, api, w):
    body, _ = attended_volunteer(api, w.org, w.ev, name="Console Cert")
    email = uniq("cc") + "@example.com"
    link = account_add(rollcalld_bin, pg.conninfo, email, events=[w.ev])
    b = signed_in(server.port, link)
    p = b.get("/console/certificates")
    assert p.status == 200 and "Issue a certificate" in p.text, p.text[:500]
    assert 'href="/console/events/%d/volunteers"' % w.ev in p.text
    assert 'value="mva"' not in p.text, "an organizer is offered MVA"
    r = b.post("/console/certificates", {"kind": "volunteer", "email":
               body["email"], "name": "Console Cert", "event": w.ev,
               "lang": "en"})
    assert r.status == 303, (r.status, r.text[:500])
    loc = r.getheader("Location")
    code = re.search(r"code=([A-Za-z0-9_-]{24})", loc).group(1)
    p = b.get(loc)
    assert "Certificate issued" in p.text and code in p.text, p.text
    pdf = b.get("/console/certificates/%s.pdf" % code)
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF-")
    # A refusal: the page again, the sentence above the form, kept.
    r = b.post("/console/certificates", {"kind": "volunteer", "email":
               uniq("no") + "@example.com", "name": "Nobody", "event": w.ev})
    assert r.status == 409 and "did not sign up" in r.text, r.text[:800]
    assert 'value="Nobody"' in r.text
    r = b.post("/console/certificates/revoke", {"code": code,
               "reason": "test"})
    assert r.status == 303, r.text
    assert pg.scalar("SELECT revoked_by FROM certificates WHERE code = '%s'"
                     % code).startswith("acct:")
    r = b.post("/console/certificates/revoke", {"code": code}, csrf=False)
    assert r.status == 403
