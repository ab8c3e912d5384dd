"""The ticket keys as a JWK Set (/.well-known/jwks.json): a ticket verifies
with PyJWT using the JWK its kid names, and a rotation lists both keys."""
import json
import subprocess

import jwt as pyjwt

from support import expect, jwt_claims, jwt_header, meetup, uniq


def _register(api, event_id):
    return expect(api("POST", "/api/v1/events/%d/registrations" % event_id,
                      {"name": "张伟", "email": uniq("k") + "@example.com",
                       "company": "Example Co", "job_title": "SRE",
                       "identity": "professional"}), 201)


def _jwks(api):
    r = api("GET", "/.well-known/jwks.json")
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("application/jwk-set+json")
    assert "max-age=300" in r.headers.get("Cache-Control", "") and \
        "public" in r.headers["Cache-Control"], r.headers
    return json.loads(r.raw)


def _verify(jwks, token):
    kid = jwt_header(token)["kid"]
    match = [k for k in jwks["keys"] if k["kid"] == kid]
    assert len(match) == 1, "no JWK for kid %r in %r" % (kid, jwks)
    k = match[0]
    assert (k["kty"], k["crv"], k["alg"], k["use"]) == \
        ("EC", "P-256", "ES256", "sig"), k
    key = pyjwt.PyJWK(k).key
    return pyjwt.decode(token, key, algorithms=["ES256"],
                        options={"verify_aud": False})


def test_ticket_verifies_with_the_published_jwk(api, create_event):
    ev = create_event(meetup(), status="published")
    tok = _register(api, ev["id"])["ticket"]["token"]
    got = _verify(_jwks(api), tok)
    assert got == jwt_claims(tok)
    assert got["e"] == ev["id"]
    # A token no key of ours signed does not verify with the set.
    bad = tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB")
    try:
        _verify(_jwks(api), bad)
        raise AssertionError("a tampered ticket verified")
    except pyjwt.InvalidSignatureError:
        pass


def test_rotation_lists_both_keys(rollcalld_bin, new_cluster, start_daemon):
    pg = new_cluster()
    d = start_daemon(pg.conninfo)
    before = _jwks(d.api)
    assert len(before["keys"]) == 1, before
    out = subprocess.run([rollcalld_bin, "rotate-key", "--db", pg.conninfo],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # A server started after the rotation (others re-read within a minute).
    d2 = start_daemon(pg.conninfo)
    after = _jwks(d2.api)
    kids = {k["kid"] for k in after["keys"]}
    assert len(kids) == 2 and before["keys"][0]["kid"] in kids, after
    # Tickets signed before and after the rotation both verify.
    tok = subprocess.run([rollcalld_bin, "token", "--role", "admin",
                          "--name", "jwks", "--db", pg.conninfo],
                         capture_output=True, text=True, timeout=60)
    assert tok.returncode == 0, tok.stderr
    adm = tok.stdout.strip()
    ev = expect(d2.api("POST", "/api/v1/events", meetup(), token=adm), 201)
    expect(d2.api("PATCH", "/api/v1/events/%d" % ev["id"],
                  {"status": "published"}, token=adm), 200)
    new = _register(d2.api, ev["id"])["ticket"]["token"]
    assert jwt_header(new)["kid"] != before["keys"][0]["kid"]
    _verify(after, new)
