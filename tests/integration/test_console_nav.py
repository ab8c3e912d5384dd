"""The console's navigation offers the community pages to the roles that
may open them: an organizer is not sent to a 403."""
from support import uniq
from test_console import account_add, signed_in


def links(page):
    return {p for p in ("/console/reports", "/console/contributions",
                        "/console/proposals", "/console/chapters",
                        "/console/accounts", "/console/topics",
                        "/console/certificates")
            if 'href="%s"' % p in page}


def test_an_organizer_sees_only_the_pages_it_may_open(
        rollcalld_bin, pg, server, create_event):
    ev = create_event()
    org = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, uniq("o") + "@example.com",
        events=[ev["id"]]))
    r = org.get("/console")
    assert r.status == 200, r.text[:300]
    assert links(r.text) == {"/console/topics", "/console/certificates"}, \
        "an organizer's navigation: %r" % sorted(links(r.text))
    for p in ("/console/reports", "/console/contributions"):
        assert org.get(p).status == 403, "an organizer may open %s" % p
    adm = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, uniq("a") + "@example.com", role="admin"))
    r = adm.get("/console")
    assert len(links(r.text)) == 7, \
        "an admin's navigation lacks %r" % sorted(
            {"/console/reports", "/console/contributions",
             "/console/proposals", "/console/chapters", "/console/accounts",
             "/console/topics", "/console/certificates"} - links(r.text))


def test_an_infra_account_lands_on_the_contributions_to_review(
        rollcalld_bin, pg, server):
    b = signed_in(server.port, account_add(
        rollcalld_bin, pg.conninfo, uniq("i") + "@example.com", role="infra"))
    r = b.get("/console")
    assert r.status == 303 and \
        r.getheader("Location") == "/console/contributions", \
        "an infra account's console home: %d %s" % (
            r.status, r.getheader("Location"))
    assert b.get("/console/contributions").status == 200
