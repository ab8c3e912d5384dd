"""Helpers for the volunteers and certificates tests (docs/certificates.md):
events in the past, a volunteer walked to "attended", a certificate's PDF
read back with poppler (pdftotext, pdffonts, pdftoppm) and zbarimg."""
import subprocess

# fresh_rate_window is shared (support.py); the tests import it here too.
from support import expect, fresh_rate_window, meetup, uniq  # noqa: F401


def published(create_event, **over):
    """A published meetup (in the future, so sign-ups are open)."""
    return create_event(meetup(**over), status="published")


def make_past(pg, event_id):
    """Move an event into the past: it started 3 h ago, ended 1 h ago."""
    pg.psql("UPDATE events SET starts_at = now() - interval '3 hours', "
            "ends_at = now() - interval '1 hour' WHERE id = %d" % event_id)


def person(name=None, **over):
    body = {"email": uniq("v") + "@example.com", "name": name or "Ada Lovelace",
            "skills": ["operations"]}
    body.update(over)
    return body


def sign_up(api, event_id, **over):
    """A volunteer sign-up through the API; returns (body sent, row)."""
    body = person(**over)
    row = expect(api("POST", "/api/v1/events/%d/volunteers" % event_id,
                     body), 201)
    return body, row


def attended_volunteer(api, token, event_id, **over):
    """Signed up, approved and attendance recorded by hand."""
    body, row = sign_up(api, event_id, **over)
    expect(api("POST", "/api/v1/volunteers/%d/decision" % row["id"],
               {"decision": "approve"}, token=token), 200)
    expect(api("POST", "/api/v1/volunteers/%d/attended" % row["id"], {},
               token=token), 200)
    return body, row


def issue(api, token, kind, body, status=201, error=None, **subject):
    """POST /api/v1/certificates for the person in body."""
    req = {"kind": kind, "email": body["email"], "name": body["name"]}
    req.update(subject)
    return expect(api("POST", "/api/v1/certificates", req, token=token),
                  status, error)


def write_pdf(tmp_path, raw, name="cert.pdf"):
    assert raw.startswith(b"%PDF-"), "not a PDF: %r" % raw[:40]
    p = tmp_path / name
    p.write_bytes(raw)
    return p


def pdf_text(pdf):
    return subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                          capture_output=True).stdout.decode()


def pdf_fonts(pdf):
    """pdffonts' rows as (name, embedded) pairs."""
    out = subprocess.run(["pdffonts", str(pdf)], check=True,
                         capture_output=True).stdout.decode().splitlines()
    rows = []
    for line in out[2:]:
        cols = line.split()
        # name type... encoding emb sub uni object ID: emb is 5th from end
        rows.append((cols[0], cols[-5]))
    return rows


def qr_codes(tmp_path, pdf, dpi=150):
    """The QR codes zbarimg reads on page 1 rendered at dpi (pdftoppm)."""
    out = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1",
                    "-png", "-singlefile", str(pdf), str(out)], check=True)
    r = subprocess.run(["zbarimg", "-q", "--raw", "-Sbinary",
                        str(out) + ".png"], capture_output=True)
    return [x for x in r.stdout.decode().splitlines() if x]
