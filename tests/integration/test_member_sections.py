"""The member page and export carry what the other community parts hold
about a member (sql/functions/member_parts.sql)."""
import datetime as dt

from community_support import make_member
from support import expect


def test_a_members_certificate_is_on_their_page_and_in_their_export(
        api, admin_token, pg):
    year = dt.date.today().year - 1
    pid, secret = make_member(pg, name="Lin Wen")
    email = pg.scalar("SELECT email FROM persons WHERE id = %d" % pid)
    pg.psql("INSERT INTO titles (person_id, title, year, granted_by) "
            "VALUES (%d, 'mva', %d, 'test')" % (pid, year))
    cert = expect(api("POST", "/api/v1/certificates", {
        "kind": "mva", "email": email, "name": "Lin Wen", "year": year},
        token=admin_token), 201)
    r = api("GET", "/member/%s?lang=en" % secret)
    assert r.status == 200, r.raw[:300]
    page = r.raw.decode()
    assert "/member/%s/certificates/%s.pdf" % (secret, cert["code"]) in \
        page, "the member page offers no download of their certificate"
    assert "/member/%s/points" % secret in page and \
        "/member/%s/topics" % secret in page, \
        "the member page links neither the points nor the topics page"
    out = expect(api("GET", "/api/v1/member/%s/export" % secret), 200)
    for part in ("certificates", "recognition", "volunteering",
                 "topic_votes", "leader_applications", "registrations"):
        assert part in out, "the member's export lacks its %r section " \
            "(has %r)" % (part, sorted(out))
    assert [c["code"] for c in out["certificates"]] == [cert["code"]]
    titles = [t["year"] for t in out["recognition"]["titles"]]
    assert titles == [year], "the export's titles: %r" % titles
