"""Staff tokens and the authorization matrix: who may call what, forged and
revoked tokens, scopes, issuing and revoking, the audit log, the CLI."""
import os
import time

import pytest

from support import (b64u, community_day, expect, forge, jwt_claims,
                     jwt_header, meetup, run_cli, series, uniq)

ORGANIZER_ROUTES = [
    ("POST", "/api/v1/events", lambda ev: meetup()),
    ("PATCH", "/api/v1/events/{id}", lambda ev: {"title": "Changed"}),
    ("POST", "/api/v1/series", lambda ev: series()),
    ("POST", "/api/v1/tokens",
     lambda ev: {"role": "door", "name": "x", "events": [ev]}),
    ("DELETE", "/api/v1/tokens/{jti}", lambda ev: None),
]
ROUTE_IDS = ["%s %s" % (m, p) for m, p, _ in ORGANIZER_ROUTES]


@pytest.fixture(scope="module")
def target(create_event, issue):
    """An event and a door token (to aim DELETE at) that nobody may touch
    without the right token."""
    ev = create_event()
    door = issue("door", events=[ev["id"]])
    return {"event": ev["id"], "jti": door["jti"]}


def call(api, route, target, token=None, headers=None):
    method, path, body = route
    path = path.replace("{id}", str(target["event"])).replace(
        "{jti}", target["jti"])
    return api(method, path, body(target["event"]), token=token,
               headers=headers)


def unchanged(pg, target):
    return (pg.counts(),
            pg.psql("SELECT title, status FROM events WHERE id = %d" %
                    target["event"]),
            pg.scalar("SELECT revoked_at IS NULL FROM tokens WHERE jti = "
                      "'%s'" % target["jti"]))


# --- no token, bad tokens ---------------------------------------------------

@pytest.mark.parametrize("route", ORGANIZER_ROUTES, ids=ROUTE_IDS)
def test_organizer_route_without_token_is_401(api, pg, target, route):
    before = unchanged(pg, target)
    r = call(api, route, target)
    expect(r, 401, "missing_token")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), \
        "a 401 should say how to authenticate: %r" % r.headers
    assert unchanged(pg, target) == before


@pytest.fixture(scope="module")
def victim(issue):
    """An organizer token (every event) whose identity the forgeries use."""
    return issue("organizer")


def claims_for(victim, **over):
    now = int(time.time())
    c = {"iss": "rollcall", "sub": victim["name"], "role": "organizer",
         "jti": victim["jti"], "iat": now, "exp": now + 3600}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def test_forged_token_with_the_right_secret_is_accepted(api, secret, victim):
    """The control for the matrix below: the forging here is faithful."""
    tok = forge(claims_for(victim), secret)
    expect(api("POST", "/api/v1/events", meetup(), token=tok), 201)


def _bad_tokens(secret, victim, revoked, admin_token):
    good = forge(claims_for(victim), secret)
    h, p, s = good.split(".")
    now = int(time.time())
    return {
        "garbage": "not-a-jwt",
        "empty": "",
        "two parts": h + "." + p,
        "bad signature": forge(claims_for(victim), os.urandom(32)),
        "tampered payload": h + "." + b64u(
            b'{"iss":"rollcall","role":"admin","jti":"%s","exp":%d}' % (
                victim["jti"].encode(), now + 3600)) + "." + s,
        "truncated signature": good[:-4],
        "alg none": forge(claims_for(victim), secret, alg="none"),
        "alg none with a signature": forge(
            claims_for(victim), secret, alg="none",
            signature=bytes.fromhex("00" * 32)),
        "HS384 with the right secret": forge(claims_for(victim), secret,
                                             alg="HS384"),
        "HS512 with the right secret": forge(claims_for(victim), secret,
                                             alg="HS512"),
        "expired": forge(claims_for(victim, iat=now - 7200, exp=now - 60),
                         secret),
        "wrong iss": forge(claims_for(victim, iss="evil"), secret),
        "no iss": forge(claims_for(victim, iss=None), secret),
        "no exp": forge(claims_for(victim, exp=None), secret),
        "exp as text": forge(claims_for(victim, exp=str(now + 3600)), secret),
        "unknown jti": forge(claims_for(victim, jti=b64u(os.urandom(16))),
                             secret),
        "jti with odd bytes": forge(claims_for(victim, jti="../../x y"),
                                    secret),
        "role claim above its record": forge(
            claims_for(victim, role="admin"), secret),
        "unknown role": forge(claims_for(victim, role="root"), secret),
        "revoked": revoked,
        "oversize": "a" * 5000,
    }


BAD_TOKEN_KINDS = ["garbage", "empty", "two parts", "bad signature",
                   "tampered payload", "truncated signature", "alg none",
                   "alg none with a signature", "HS384 with the right secret",
                   "HS512 with the right secret", "expired", "wrong iss",
                   "no iss", "no exp", "exp as text", "unknown jti",
                   "jti with odd bytes", "role claim above its record",
                   "unknown role", "revoked", "oversize"]


@pytest.fixture(scope="module")
def bad_tokens(api, secret, victim, issue, admin_token):
    gone = issue("organizer")
    expect(api("DELETE", "/api/v1/tokens/" + gone["jti"],
               token=admin_token), 200)
    toks = _bad_tokens(secret, victim, gone["token"], admin_token)
    assert sorted(toks) == sorted(BAD_TOKEN_KINDS)
    return toks


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
def test_bad_token_is_401_everywhere(api, pg, target, bad_tokens, kind):
    tok = bad_tokens[kind]
    before = unchanged(pg, target)
    for route in ORGANIZER_ROUTES:
        r = call(api, route, target, token=tok)
        expect(r, 401)
        assert r.json["error"] in ("invalid_token", "missing_token"), r
    # Routes open to anyone refuse a bad token too, rather than ignore it.
    expect(api("GET", "/api/v1/events", token=tok), 401)
    expect(api("GET", "/api/v1/events/%d" % target["event"], token=tok), 401)
    assert unchanged(pg, target) == before


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer",
                                    "Token abc", "bearer", "Bearer  x.y.z"])
def test_authorization_header_that_is_not_a_bearer_token_is_401(
        api, pg, target, header):
    before = unchanged(pg, target)
    for route in ORGANIZER_ROUTES:
        expect(call(api, route, target, headers={"Authorization": header}),
               401)
    assert unchanged(pg, target) == before


def test_token_past_its_database_expiry_is_401(api, pg, issue):
    t = issue("organizer")
    expect(api("POST", "/api/v1/events", meetup(), token=t["token"]), 201)
    pg.psql("UPDATE tokens SET expires_at = now() - interval '1 second' "
            "WHERE jti = '%s'" % t["jti"])
    expect(api("POST", "/api/v1/events", meetup(), token=t["token"]), 401,
           "invalid_token")


# --- roles ------------------------------------------------------------------

@pytest.fixture(scope="module")
def door_and_sponsor(issue, target, add_sponsor):
    sp = add_sponsor(target["event"])
    return {"door": issue("door", events=[target["event"]])["token"],
            "sponsor": issue("sponsor", sponsor=sp)["token"]}


@pytest.mark.parametrize("role", ["door", "sponsor"])
@pytest.mark.parametrize("route", ORGANIZER_ROUTES, ids=ROUTE_IDS)
def test_door_and_sponsor_tokens_are_403_on_organizer_routes(
        api, pg, target, door_and_sponsor, role, route):
    tok = door_and_sponsor[role]
    before = unchanged(pg, target)
    expect(call(api, route, target, token=tok), 403, "forbidden")
    assert unchanged(pg, target) == before
    # The token itself is fine: public routes accept it.
    expect(api("GET", "/api/v1/events", token=tok), 200)


# --- scope ------------------------------------------------------------------

@pytest.fixture
def scoped(create_event, issue):
    a, b = create_event(), create_event()
    org = issue("organizer", events=[a["id"]])
    return {"a": a["id"], "b": b["id"], "org": org["token"],
            "org_jti": org["jti"]}


def test_scoped_organizer_edits_its_event_but_not_another(api, pg, scoped):
    expect(api("PATCH", "/api/v1/events/%d" % scoped["a"],
               {"title": "Mine"}, token=scoped["org"]), 200)
    before = pg.psql("SELECT title, updated_at FROM events WHERE id = %d" %
                     scoped["b"])
    for change in ({"title": "Not mine"}, {"status": "published"},
                   {"status": "cancelled"}):
        expect(api("PATCH", "/api/v1/events/%d" % scoped["b"], change,
                   token=scoped["org"]), 403, "out_of_scope")
    assert pg.psql("SELECT title, updated_at FROM events WHERE id = %d" %
                   scoped["b"]) == before


def test_scope_comes_from_the_database_not_the_token(api, secret, scoped):
    """A token re-signed without its "events" claim (which would mean every
    event) still has only its recorded scope."""
    c = jwt_claims(scoped["org"])
    assert c.get("events") == [scoped["a"]], c
    del c["events"]
    tok = forge(c, secret)
    expect(api("PATCH", "/api/v1/events/%d" % scoped["b"], {"title": "x"},
               token=tok), 403, "out_of_scope")


def test_scoped_organizer_issues_door_tokens_only_in_scope(api, pg, scoped):
    before = pg.counts()
    for events in ([scoped["b"]], [scoped["a"], scoped["b"]]):
        expect(api("POST", "/api/v1/tokens",
                   {"role": "door", "name": "gate", "events": events},
                   token=scoped["org"]), 403, "out_of_scope")
    assert pg.counts() == before
    j = expect(api("POST", "/api/v1/tokens",
                   {"role": "door", "name": "gate", "events": [scoped["a"]]},
                   token=scoped["org"]), 201)
    assert (j["role"], j["events"]) == ("door", [scoped["a"]]), j


def test_scoped_organizer_issues_sponsor_tokens_only_in_scope(
        api, pg, scoped, add_sponsor):
    mine, theirs = add_sponsor(scoped["a"]), add_sponsor(scoped["b"])
    before = pg.counts()
    expect(api("POST", "/api/v1/tokens",
               {"role": "sponsor", "name": "booth", "sponsor": theirs},
               token=scoped["org"]), 403, "out_of_scope")
    assert pg.counts() == before
    j = expect(api("POST", "/api/v1/tokens",
                   {"role": "sponsor", "name": "booth", "sponsor": mine},
                   token=scoped["org"]), 201)
    assert (j["role"], j["sponsor_id"], j["events"]) == \
        ("sponsor", mine, [scoped["a"]]), j


@pytest.mark.parametrize("role", ["organizer", "admin"])
def test_organizer_may_not_issue_organizer_or_admin_tokens(api, pg, scoped,
                                                           issue, role):
    everywhere = issue("organizer")["token"]
    before = pg.counts()
    for tok in (scoped["org"], everywhere):
        expect(api("POST", "/api/v1/tokens",
                   {"role": role, "name": "x", "events": [scoped["a"]]},
                   token=tok), 403, "forbidden")
    assert pg.counts() == before


def test_admin_issues_every_role_and_the_tokens_work(api, admin_token,
                                                     create_event,
                                                     add_sponsor):
    ev = create_event()
    sp = add_sponsor(ev["id"])
    made = {}
    for role, extra in (("door", {"events": [ev["id"]]}),
                        ("sponsor", {"sponsor": sp}),
                        ("organizer", {"events": [ev["id"]]}),
                        ("admin", {})):
        body = {"role": role, "name": uniq(role), "ttl": "2h", **extra}
        j = expect(api("POST", "/api/v1/tokens", body, token=admin_token),
                   201)
        assert j["role"] == role and j["name"] == body["name"], j
        assert "expires_epoch" not in j, j
        c, h = jwt_claims(j["token"]), jwt_header(j["token"])
        assert h.get("alg") == "HS256", h
        assert (c.get("iss"), c.get("role"), c.get("jti"), c.get("sub")) == \
            ("rollcall", role, j["jti"], body["name"]), c
        assert 7100 <= c["exp"] - c["iat"] <= 7300, \
            "ttl 2h should give a 2 h token: %r" % c
        made[role] = j["token"]
    expect(api("GET", "/api/v1/events/%d" % ev["id"],
               token=made["organizer"]), 200)
    expect(api("PATCH", "/api/v1/events/%d" % ev["id"], {"title": "By org"},
               token=made["organizer"]), 200)
    expect(api("POST", "/api/v1/events", meetup(), token=made["admin"]), 201)
    expect(api("POST", "/api/v1/tokens", {"role": "admin", "name": "a2"},
               token=made["admin"]), 201)
    for role in ("door", "sponsor"):
        expect(api("GET", "/api/v1/events", token=made[role]), 200)


def test_scoped_organizer_gains_the_events_it_creates(api, pg, scoped):
    ev = expect(api("POST", "/api/v1/events", community_day(),
                    token=scoped["org"]), 201)
    path = "/api/v1/events/%d" % ev["id"]
    expect(api("GET", path, token=scoped["org"]), 200)
    j = expect(api("PATCH", path, {"status": "published"},
                   token=scoped["org"]), 200)
    assert j["status"] == "published", j
    s = expect(api("POST", "/api/v1/series", series(), token=scoped["org"]),
               201)
    expect(api("PATCH", "/api/v1/events/%d" % s["events"][-1]["id"],
               {"title": "Episode edited"}, token=scoped["org"]), 200)
    expect(api("POST", "/api/v1/tokens",
               {"role": "door", "name": "gate", "events": [ev["id"]]},
               token=scoped["org"]), 201)
    # ...and still nothing else.
    expect(api("PATCH", "/api/v1/events/%d" % scoped["b"], {"title": "x"},
               token=scoped["org"]), 403, "out_of_scope")


def test_organizer_token_with_an_empty_event_list_gets_no_events(
        api, admin_token, pg, scoped):
    """"events": [] is not "events" left out: it must not widen to every
    event (either refuse it, or give a token that covers nothing)."""
    r = api("POST", "/api/v1/tokens",
            {"role": "organizer", "name": "nobody", "events": []},
            token=admin_token)
    if r.status == 400:
        return
    j = expect(r, 201)
    before = pg.psql("SELECT title FROM events WHERE id = %d" % scoped["b"])
    expect(api("PATCH", "/api/v1/events/%d" % scoped["b"],
               {"title": "Hijacked"}, token=j["token"]), 403, "out_of_scope")
    assert pg.psql("SELECT title FROM events WHERE id = %d" %
                   scoped["b"]) == before


def test_busy_scoped_organizer_is_not_locked_out_by_its_own_events(
        api, pg, scoped):
    """A scoped organizer gains every event it creates. With 256 events in
    its scope (seeded here; 32 eight-episode series through the API do the
    same), creating one more must not make its own token unusable."""
    pg.psql("UPDATE tokens SET events = ARRAY[%d]::bigint[] || "
            "array(SELECT generate_series(1000000, 1000254)::bigint) "
            "WHERE jti = '%s'" % (scoped["a"], scoped["org_jti"]))
    expect(api("PATCH", "/api/v1/events/%d" % scoped["a"],
               {"title": "Mine"}, token=scoped["org"]), 200)
    r = api("POST", "/api/v1/events", meetup(), token=scoped["org"])
    if r.status == 201:
        expect(api("PATCH", "/api/v1/events/%d" % r.json["id"],
                   {"title": "Still mine"}, token=scoped["org"]), 200)
    expect(api("PATCH", "/api/v1/events/%d" % scoped["a"],
               {"title": "Still mine"}, token=scoped["org"]), 200)


# --- revocation and the audit log --------------------------------------------

def audit_rows(pg, action, jti):
    return pg.psql("SELECT actor FROM audit_log WHERE action = '%s' AND "
                   "detail->>'jti' = '%s'" % (action, jti))


def test_issue_and_revoke_are_audited_and_revocation_is_immediate(
        api, admin_token, pg, create_event):
    ev = create_event()
    admin_jti = jwt_claims(admin_token)["jti"]
    door = expect(api("POST", "/api/v1/tokens",
                      {"role": "door", "name": "gate", "events": [ev["id"]]},
                      token=admin_token), 201)
    assert audit_rows(pg, "token.issue", door["jti"]) == [[admin_jti]], \
        "issuing a token must write one audit_log row naming the issuer"
    expect(api("GET", "/api/v1/events", token=door["token"]), 200)

    j = expect(api("DELETE", "/api/v1/tokens/" + door["jti"],
                   token=admin_token), 200)
    assert j.get("jti") == door["jti"] and j.get("revoked_at"), j
    assert pg.scalar("SELECT revoked_at IS NOT NULL FROM tokens WHERE jti = "
                     "'%s'" % door["jti"]) == "t"
    assert audit_rows(pg, "token.revoke", door["jti"]) == [[admin_jti]], \
        "revoking a token must write one audit_log row naming the revoker"
    expect(api("GET", "/api/v1/events", token=door["token"]), 401,
           "invalid_token")


def test_organizer_revokes_what_it_issued_but_not_other_tokens(
        api, admin_token, pg, scoped, issue):
    mine = expect(api("POST", "/api/v1/tokens",
                      {"role": "door", "name": "gate",
                       "events": [scoped["a"]]}, token=scoped["org"]), 201)
    assert audit_rows(pg, "token.issue", mine["jti"]) == \
        [[scoped["org_jti"]]]
    others = [issue("door", events=[scoped["b"]]), issue("admin"),
              issue("organizer", events=[scoped["a"]])]
    for t in others:
        expect(api("DELETE", "/api/v1/tokens/" + t["jti"],
                   token=scoped["org"]), 403, "out_of_scope")
        assert pg.scalar("SELECT revoked_at IS NULL FROM tokens WHERE jti = "
                         "'%s'" % t["jti"]) == "t"
        assert audit_rows(pg, "token.revoke", t["jti"]) == []
    expect(api("DELETE", "/api/v1/tokens/" + mine["jti"],
               token=scoped["org"]), 200)
    expect(api("GET", "/api/v1/events", token=mine["token"]), 401)


def test_revoking_an_unknown_token_is_404(api, admin_token, pg):
    before = pg.counts()
    expect(api("DELETE", "/api/v1/tokens/" + b64u(os.urandom(16)),
               token=admin_token), 404, "not_found")
    assert pg.counts() == before


def test_bad_token_requests_are_refused(api, admin_token, pg, create_event,
                                        add_sponsor):
    ev = create_event()
    sp = add_sponsor(ev["id"])
    before = pg.counts()
    for body, field in (
            ({"role": "door", "name": "g"}, "events"),
            ({"role": "door", "name": "g", "events": []}, "events"),
            ({"role": "sponsor", "name": "s"}, "sponsor"),
            ({"role": "door", "name": "g", "events": [ev["id"]],
              "sponsor": sp}, "sponsor"),
            ({"role": "root", "name": "g"}, "role"),
            ({"role": "admin", "name": ""}, "name"),
            ({"role": "admin", "name": "a", "ttl": "0s"}, "ttl"),
            ({"role": "admin", "name": "a", "ttl": "11y"}, "ttl"),
            ({"role": "admin", "name": "a", "ttl": "3651d"}, "ttl"),
            ({"role": "door", "name": "g", "events": [0]}, "events"),
            ({"role": "door", "name": "g", "events": ["1"]}, "events"),
            ({"role": "admin", "name": "a", "scope": "all"}, "scope")):
        r = api("POST", "/api/v1/tokens", body, token=admin_token)
        expect(r, 400, "invalid_field")
        assert field in r.json["message"], r
    expect(api("POST", "/api/v1/tokens",
               {"role": "door", "name": "g", "events": [987654321]},
               token=admin_token), 404)
    expect(api("POST", "/api/v1/tokens",
               {"role": "sponsor", "name": "s", "sponsor": 987654321},
               token=admin_token), 404)
    assert pg.counts() == before


# --- the command line ---------------------------------------------------------

CLI_BAD = [
    [],
    ["--name", "x"],
    ["--role", "admin"],
    ["--role", "superuser", "--name", "x"],
    ["--role", "admin", "--name", ""],
    ["--role", "admin", "--name", "x" * 201],
    ["--role", "door", "--name", "x"],
    ["--role", "sponsor", "--name", "x"],
    ["--role", "organizer", "--name", "x", "--event", "abc"],
    ["--role", "organizer", "--name", "x", "--event", "0"],
    ["--role", "organizer", "--name", "x", "--event", "-3"],
    ["--role", "sponsor", "--name", "x", "--sponsor", "x1"],
    ["--role", "admin", "--name", "x", "--ttl", "0"],
    ["--role", "admin", "--name", "x", "--ttl", "forever"],
    ["--role", "admin", "--name", "x", "--bogus"],
    ["--role", "admin", "--name", "x", "extra"],
]


@pytest.mark.parametrize("args", CLI_BAD, ids=[" ".join(a) or "no-args"
                                              for a in CLI_BAD])
def test_token_command_refuses_bad_arguments_with_status_2(rollcalld_bin, pg,
                                                            args):
    before = pg.counts()
    r = run_cli([rollcalld_bin, "token", *args, "--db", pg.conninfo])
    assert r.returncode == 2, ("rollcalld token %s should exit 2, got %d; "
                               "stdout %r stderr %r" % (
                                   " ".join(args), r.returncode, r.stdout,
                                   r.stderr))
    assert r.stdout == "", "no token may be printed: %r" % r.stdout
    assert r.stderr.strip(), "say what is wrong on stderr"
    assert pg.counts() == before


def test_token_command_issues_a_scoped_audited_token(rollcalld_bin, api, pg,
                                                     create_event):
    a, b = create_event(), create_event()
    r = run_cli([rollcalld_bin, "token", "--role", "organizer", "--name",
                 "cli-org", "--event", str(a["id"]), "--ttl", "12h", "--db",
                 pg.conninfo])
    assert r.returncode == 0, r.stderr
    tok = r.stdout.strip()
    c = jwt_claims(tok)
    assert (c["role"], c["sub"], c["events"]) == \
        ("organizer", "cli-org", [a["id"]]), c
    assert audit_rows(pg, "token.issue", c["jti"]) == [["command-line"]]
    expect(api("PATCH", "/api/v1/events/%d" % a["id"], {"title": "cli"},
               token=tok), 200)
    expect(api("PATCH", "/api/v1/events/%d" % b["id"], {"title": "cli"},
               token=tok), 403, "out_of_scope")


def test_a_token_never_outlives_the_token_that_issued_it(api, pg,
                                                         create_event, issue,
                                                         admin_token,
                                                         rollcalld_bin):
    import jwt as pyjwt          # python3-jwt: decode as a client would
    ev = create_event()
    org = issue("organizer", events=[ev["id"]], ttl="1h")
    org_exp = pyjwt.decode(org["token"],
                           options={"verify_signature": False})["exp"]
    j = expect(api("POST", "/api/v1/tokens",
                   {"role": "door", "name": "gate", "events": [ev["id"]],
                    "ttl": "7d"}, token=org["token"]), 201)
    door_exp = pyjwt.decode(j["token"],
                            options={"verify_signature": False})["exp"]
    assert door_exp <= org_exp, (
        "a door token asked for 7 days by an organizer token expiring in "
        "1 h expires %d s after it (exp %d > issuer's %d): it would keep "
        "working after its issuer is gone" % (door_exp - org_exp, door_exp,
                                              org_exp))
    row = pg.scalar("SELECT extract(epoch FROM expires_at)::bigint FROM "
                    "tokens WHERE jti = '%s'" % j["jti"])
    assert int(row) <= org_exp, "the database row outlives the issuer: %s" \
        % row
    # Within the issuer's lifetime the asked ttl stands.
    short = expect(api("POST", "/api/v1/tokens",
                       {"role": "door", "name": "gate", "events": [ev["id"]],
                        "ttl": "10m"}, token=org["token"]), 201)
    short_exp = pyjwt.decode(short["token"],
                             options={"verify_signature": False})["exp"]
    assert short_exp < org_exp - 1800, (short_exp, org_exp)
    # The command line has no issuer to outlive.
    tok = run_cli([rollcalld_bin, "token", "--role", "door", "--name", "cli",
                   "--event", str(ev["id"]), "--ttl", "7d", "--db",
                   pg.conninfo]).stdout.strip()
    assert pyjwt.decode(tok, options={"verify_signature": False})["exp"] > \
        org_exp + 5 * 86400
