"""Tickets and check-in (SPEC §4): signed QR codes any JWT library
verifies, exactly-once admission across daemons, every refusal verdict,
nonce retries, revocation, the offline bundle and batch reconciliation,
NightTalk join links."""
import datetime as dt
import http.client
import json
import re
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import jwt as pyjwt
import pytest

from community_support import make_member
from support import (_apply, b64u, cli_token, expect, forge, jwt_claims,
                     jwt_header, meetup, run_cli, series, uniq)


def person(**over):
    return _apply({"name": "Zhang San", "email": uniq("z") + "@example.com",
                   "company": "Example Co", "job_title": "SRE",
                   "identity": "professional", "phone": "+86 138 0000 0000"},
                  over)


def register(api, event_id, **over):
    return expect(api("POST", "/api/v1/events/%d/registrations" % event_id,
                      person(**over)), 201)


def secret_of(reg):
    return reg["manage_url"].rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def ev(create_event):
    return create_event(meetup(capacity=1000), status="published")


@pytest.fixture(scope="module")
def door(issue, ev):
    return issue("door", events=[ev["id"]])


@pytest.fixture(scope="module")
def bundle(api, door, ev):
    return expect(api("GET", "/api/v1/events/%d/offline-bundle" % ev["id"],
                      token=door["token"]), 200)


def scan(api, door, token, **extra):
    body = {"token": token}
    body.update(extra)
    return expect(api("POST", "/api/v1/checkins", body,
                      token=door["token"]), 200)


def test_ticket_verifies_with_an_independent_jwt_library(api, ev, bundle):
    reg = register(api, ev["id"], name="Ticket Holder")
    tok = reg["ticket"]["token"]
    assert jwt_header(tok)["alg"] == "ES256" and jwt_header(tok).get("kid")
    claims = None
    for pem in bundle["public_keys"]:
        try:
            claims = pyjwt.decode(tok, pem, algorithms=["ES256"],
                                  options={"verify_aud": False})
            break
        except pyjwt.InvalidSignatureError:
            continue
    assert claims is not None, "no bundle key verifies the ticket %r" % tok
    assert claims["iss"] and claims["jti"] and claims["iat"]
    assert int(claims["e"]) == ev["id"] and int(claims["r"]) == reg["id"]
    payload = json.dumps(jwt_claims(tok))
    for personal in ("Ticket Holder", "Example Co", "@example.com", "138"):
        assert personal not in payload, \
            "personal data %r in the ticket: %s" % (personal, payload)


def test_ticket_fits_qr_version_10_at_level_m(api, ev):
    tok = register(api, ev["id"])["ticket"]["token"]
    # Version 10 at M holds 213 bytes in byte mode.
    assert len(tok) <= 213, "ticket is %d bytes: over QR v10-M" % len(tok)


def test_ticket_png_reads_back_to_the_exact_token(api, ev, tmp_path):
    reg = register(api, ev["id"])
    for kind in ("png", "svg"):
        assert reg["ticket"]["%s_url" % kind].endswith(
            "/api/v1/registrations/%s/ticket.%s" % (secret_of(reg), kind)), \
            "the ticket's %s_url must carry the manage secret: %r" % (
                kind, reg["ticket"])
    r = api("GET", "/api/v1/registrations/%s/ticket.png" % secret_of(reg))
    assert r.status == 200 and r.raw[:8] == b"\x89PNG\r\n\x1a\n", r
    assert r.headers.get("Content-Type") == "image/png"
    assert "private" in r.headers.get("Cache-Control", "")
    png = tmp_path / "ticket.png"
    png.write_bytes(r.raw)
    out = subprocess.run(["zbarimg", "--raw", "-q", "-Sbinary", str(png)],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == reg["ticket"]["token"], \
        "zbarimg read %r from ticket.png, not the ticket" % out.stdout

    r = api("GET", "/api/v1/registrations/%s/ticket.svg" % secret_of(reg))
    assert r.status == 200 and "svg" in r.headers.get("Content-Type", "")
    root = ET.fromstring(r.raw)
    assert root.tag.endswith("svg") and root.get("viewBox"), r.raw[:200]


def test_ticket_pngs_drawn_on_worker_threads_each_reach_their_request(
        api, ev, server):
    """PNGs are drawn off the event loop (server/worker.c) and handed back:
    many at once, of different tickets, each reply is its own ticket's
    image, while the loop keeps answering."""
    regs = [register(api, ev["id"]) for _ in range(6)]
    first = {}
    for reg in regs:
        r = api("GET", "/api/v1/registrations/%s/ticket.png" % secret_of(reg))
        assert r.status == 200, r
        first[secret_of(reg)] = r.raw
    out = []
    lock = threading.Lock()

    def fetch(sec):
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            for _ in range(5):
                c.request("GET", "/api/v1/registrations/%s/ticket.png" % sec)
                r = c.getresponse()
                body = r.read()
                with lock:
                    out.append((sec, r.status, body))
        finally:
            c.close()

    threads = [threading.Thread(target=fetch, args=(sec,))
               for sec in list(first) * 4]
    for t in threads:
        t.start()
    css = api("GET", "/static/style.css")
    for t in threads:
        t.join()
    assert css.status == 200, "the stylesheet while PNGs are drawn: %r" % css
    assert len(out) == len(threads) * 5
    wrong = [(sec[:6], st) for sec, st, body in out
             if st != 200 or body != first[sec]]
    assert not wrong, "replies not their own ticket's PNG: %r" % wrong[:5]
    assert len(set(first.values())) == len(first), \
        "six tickets should make six different images"


def test_waitlisted_registration_has_no_ticket_until_promoted(
        api, create_event):
    small = create_event(meetup(capacity=1), status="published")
    first = register(api, small["id"])
    second = register(api, small["id"])
    assert "ticket" in first and "ticket" not in second, second
    r = api("GET", "/api/v1/registrations/%s/ticket.png" % secret_of(second))
    expect(r, 409, "not_confirmed")
    expect(api("DELETE", "/api/v1/registrations/" + secret_of(first)), 200)
    now = expect(api("GET", "/api/v1/registrations/" + secret_of(second)),
                 200)
    assert now["status"] == "confirmed" and now["ticket"]["token"], \
        "a promoted registration should get its ticket: %r" % now


def test_admission_then_already_checked_in_with_first_time_and_gate(
        api, ev, door, pg):
    reg = register(api, ev["id"], name="Door Person", company="Acme")
    tok = reg["ticket"]["token"]
    first = scan(api, door, tok, gate="east")
    assert first["result"] == "admitted", first
    assert first["attendee"] == {"name": "Door Person", "company": "Acme"}, \
        "the door must see name and company only: %r" % first
    again = scan(api, door, tok, gate="west")
    assert again["result"] == "already_checked_in", again
    assert again["gate"] == "east" and again["first_checked_in_at"] == \
        first["first_checked_in_at"], again
    rows = pg.psql("SELECT verdict, gate FROM checkins WHERE "
                   "registration_id = %d ORDER BY id" % reg["id"])
    assert rows == [["admitted", "east"], ["already_checked_in", "west"]]
    assert pg.scalar("SELECT checked_in_at IS NOT NULL FROM registrations "
                     "WHERE id = %d" % reg["id"]) == "t"


def test_fifty_simultaneous_scans_over_two_daemons_admit_once(
        server, start_daemon, pg, api, ev, door):
    other = start_daemon(pg.conninfo)
    tok = register(api, ev["id"])["ticket"]["token"]
    results = [None] * 50
    barrier = threading.Barrier(50)

    def one(i):
        port = (server.port, other.port)[i % 2]
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            barrier.wait()
            c.request("POST", "/api/v1/checkins",
                      json.dumps({"token": tok, "gate": "g%d" % (i % 4)}),
                      {"Authorization": "Bearer " + door["token"]})
            r = c.getresponse()
            results[i] = json.loads(r.read())["result"]
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("admitted") == 1 and \
        results.count("already_checked_in") == 49, \
        "50 simultaneous scans gave %r" % sorted(set(
            (x, results.count(x)) for x in results))


def _refusals(api, ev, bundle, pg, create_event):
    good = register(api, ev["id"])["ticket"]["token"]
    head, payload, sig = good.split(".")
    claims = jwt_claims(good)
    kid = jwt_header(good)["kid"]
    pub = bundle["public_keys"][-1].encode()
    priv = pg.scalar("SELECT replace(private_pem, E'\\n', '|') FROM "
                     "ticket_keys WHERE kid = '%s'" % kid).replace("|", "\n")
    other_ev = create_event(meetup(), status="published")
    other = register(api, other_ev["id"])["ticket"]["token"]
    cancelled = register(api, ev["id"])
    expect(api("DELETE", "/api/v1/registrations/" + secret_of(cancelled)),
           200)
    reissued = register(api, ev["id"])
    fresh = expect(api("POST", "/api/v1/registrations/%s/ticket"
                       % secret_of(reissued), {}), 201)
    assert fresh["token"] != reissued["ticket"]["token"]
    small = create_event(meetup(capacity=1), status="published")
    register(api, small["id"])
    waiting = register(api, small["id"])
    waiting_tok = pyjwt.encode({"iss": claims["iss"], "e": small["id"],
                                "r": waiting["id"], "jti": "ffffffff",
                                "iat": claims["iat"]}, priv,
                               algorithm="ES256", headers={"kid": kid})
    flipped = sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")
    return {
        "forged_signature": (head + "." + payload + "." + flipped, "invalid"),
        "alg_none": (forge(claims, b"", alg="none", header={"kid": kid}),
                     "invalid"),
        "hs256_with_public_key": (forge(claims, pub, alg="HS256",
                                        header={"kid": kid}), "invalid"),
        "unknown_kid": (pyjwt.encode(claims, priv, algorithm="ES256",
                                     headers={"kid": "nope"}), "invalid"),
        "truncated": (good[:-20], "invalid"),
        "oversize": (good + "A" * 5000, "invalid"),
        "garbage": ("hello world", "invalid"),
        "other_event": (other, "wrong_event"),
        "cancelled": (cancelled["ticket"]["token"], "cancelled"),
        "waitlisted": (waiting_tok, "not_confirmed"),
        "reissued_old_code": (reissued["ticket"]["token"], "invalid"),
    }


def test_every_refusal_gets_its_verdict_and_is_recorded(
        api, ev, door, bundle, pg, create_event, issue):
    cases = _refusals(api, ev, bundle, pg, create_event)
    small_door = None
    for name, (tok, verdict) in cases.items():
        d = door
        if name == "waitlisted":
            small_door = small_door or issue(
                "door", events=[jwt_claims(tok)["e"]])
            d = small_door
        before = int(pg.scalar("SELECT count(*) FROM checkins"))
        got = scan(api, d, tok)
        assert got["result"] == verdict, \
            "%s: expected %s, got %r" % (name, verdict, got)
        assert int(pg.scalar("SELECT count(*) FROM checkins")) == before + 1, \
            "%s: the scan was not recorded in checkins" % name
    admitted = pg.scalar("SELECT count(*) FROM checkins WHERE verdict = "
                         "'admitted' AND door_jti = '%s'" % door["jti"])
    # (elsewhere an attendee may check in and cancel or erase later)
    bad = pg.scalar("SELECT count(*) FROM registrations WHERE "
                    "checked_in_at IS NOT NULL AND status <> 'confirmed' "
                    "AND event_id IN (%d, %d)" % (
                        ev["id"], jwt_claims(cases["waitlisted"][0])["e"]))
    assert bad == "0", "a refused ticket was admitted"
    assert int(admitted) >= 0


def test_door_token_scope_and_role(api, ev, issue, create_event):
    tok = register(api, ev["id"])["ticket"]["token"]
    elsewhere = issue("door", events=[create_event()["id"]])
    got = expect(api("POST", "/api/v1/checkins", {"token": tok},
                     token=elsewhere["token"]), 200)
    assert got["result"] == "wrong_event"
    expect(api("POST", "/api/v1/checkins", {"token": tok}), 401)
    expect(api("GET", "/api/v1/events/%d/offline-bundle" % ev["id"],
               token=elsewhere["token"]), 403)


def test_nonce_retry_returns_the_same_verdict_without_readmitting(
        api, ev, door, pg):
    reg = register(api, ev["id"])
    tok = reg["ticket"]["token"]
    first = scan(api, door, tok, nonce="n-" + uniq())
    nonce = "retry-" + uniq()
    a = scan(api, door, tok, nonce=nonce)
    b = scan(api, door, tok, nonce=nonce)
    assert first["result"] == "admitted"
    assert a == b and a["result"] == "already_checked_in", (a, b)
    n = pg.scalar("SELECT count(*) FROM checkins WHERE nonce = '%s'" % nonce)
    assert n == "1", "a retried nonce must be recorded once, found %s" % n


def test_offline_bundle_lists_keys_and_revoked_codes(api, ev, door):
    reg = register(api, ev["id"])
    expect(api("DELETE", "/api/v1/registrations/" + secret_of(reg)), 200)
    b = expect(api("GET", "/api/v1/events/%d/offline-bundle" % ev["id"],
                   token=door["token"]), 200)
    assert b["event_id"] == ev["id"] and b["generated_at"]
    assert all("BEGIN PUBLIC KEY" in k for k in b["public_keys"])
    assert jwt_claims(reg["ticket"]["token"])["jti"] in b["revoked"]
    assert "PRIVATE" not in json.dumps(b)


def test_batch_upload_earliest_wins_conflicts_reported_and_idempotent(
        api, ev, door, pg):
    a = register(api, ev["id"])["ticket"]["token"]
    b = register(api, ev["id"])["ticket"]["token"]
    t0 = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def at(minutes):
        return (t0 - dt.timedelta(minutes=minutes)).isoformat()

    scans = [
        {"token": a, "scanned_at": at(10), "gate": "north", "nonce": "s1"},
        {"token": a, "scanned_at": at(5), "gate": "south", "nonce": "s2"},
        {"token": b, "scanned_at": at(3), "gate": "north", "nonce": "s3"},
        {"token": "junk", "scanned_at": at(2), "nonce": "s4"},
    ]
    body = {"device": "phone-" + uniq(), "scans": scans}
    got = expect(api("POST", "/api/v1/checkins/batch", body,
                     token=door["token"]), 200)
    assert (got["admitted"], got["conflicts"], got["duplicates"]) == \
        (2, 1, 0), got
    by = {x["nonce"]: x for x in got["results"]}
    assert by["s1"]["result"] == "admitted" and \
        by["s2"]["result"] == "conflict" and by["s4"]["result"] == "invalid"
    assert by["s2"]["gate"] == "north", "the conflict names the first gate"
    # An online scan now is already_checked_in at the offline time.
    online = scan(api, door, a)
    assert online["result"] == "already_checked_in" and \
        online["gate"] == "north"
    again = expect(api("POST", "/api/v1/checkins/batch", body,
                       token=door["token"]), 200)
    assert (again["admitted"], again["duplicates"]) == (0, 4), again
    expect(api("POST", "/api/v1/checkins/batch",
               {"device": "x", "scans": [{"token": a}]},
               token=door["token"]), 400)


def test_offline_scan_earlier_than_online_admission_wins(api, ev, door):
    tok = register(api, ev["id"])["ticket"]["token"]
    online = scan(api, door, tok, gate="online-gate")
    earlier = (dt.datetime.now(dt.timezone.utc) -
               dt.timedelta(hours=1)).isoformat()
    got = expect(api("POST", "/api/v1/checkins/batch", {
        "device": "d-" + uniq(), "scans": [
            {"token": tok, "scanned_at": earlier, "gate": "paper",
             "nonce": uniq()}]}, token=door["token"]), 200)
    assert got["admitted"] == 1 and got["conflicts"] == 1, got
    assert got["results"][0]["displaced_checked_in_at"] is not None
    assert online["result"] == "admitted"


def test_nighttalk_join_link_records_attendance_and_redirects(
        api, admin_token, pg):
    s = expect(api("POST", "/api/v1/series", series(), token=admin_token),
               201)
    ep = s["events"][0]
    expect(api("PATCH", "/api/v1/events/%d" % ep["id"],
               {"status": "published"}, token=admin_token), 200)
    # NightTalks are members-only: a member registers from their link.
    _, member = make_member(pg)
    reg = expect(api("POST", "/api/v1/member/%s/registrations" % member,
                     {"event": ep["id"], "company": "Example Co",
                      "job_title": "SRE"}), 201)
    join = reg["join_url"].rsplit("/", 1)[1]
    r = api("GET", "/j/" + join)
    # A join link is opened in a browser: the refusal is a page.
    assert r.status == 409 and "text/html" in r.headers["Content-Type"] \
        and "not open yet" in r.raw.decode(), r
    # Move the episode to start in ten minutes (bypassing the Thursday rule).
    pg.psql("UPDATE events SET starts_at = now() + interval '10 minutes', "
            "ends_at = now() + interval '70 minutes' WHERE id = %d"
            % ep["id"])
    r = api("GET", "/j/" + join)
    assert r.status == 302 and \
        r.headers.get("Location") == "https://live.example.com/rust", r
    assert pg.scalar("SELECT joined_at IS NOT NULL FROM registrations "
                     "WHERE id = %d" % reg["id"]) == "t"
    assert api("GET", "/j/" + "A" * 43).status == 404


def test_key_rotation_keeps_old_tickets_valid(
        api, ev, door, pg, rollcalld_bin, server):
    old = register(api, ev["id"])["ticket"]["token"]
    old_kid = jwt_header(old)["kid"]
    # A code with a made-up kid just before the rotation makes this server
    # re-read the keys; that must not keep the real new key out after it.
    old_priv = pg.scalar("SELECT replace(private_pem, E'\\n', '|') FROM "
                         "ticket_keys WHERE kid = '%s'" % old_kid)
    made_up = pyjwt.encode(jwt_claims(old), old_priv.replace("|", "\n"),
                           algorithm="ES256", headers={"kid": "made-up"})
    assert scan(api, door, made_up)["result"] == "invalid"
    out = subprocess.run([rollcalld_bin, "rotate-key", "--db", pg.conninfo],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    new_kid = pg.scalar("SELECT kid FROM ticket_keys WHERE retired_at IS "
                        "NULL")
    assert new_kid != old_kid
    # A ticket signed with the new key (as a server that already knows it
    # would) is admitted by this server, which learns the key on the spot.
    priv = pg.scalar("SELECT replace(private_pem, E'\\n', '|') FROM "
                     "ticket_keys WHERE kid = '%s'" % new_kid).replace("|",
                                                                      "\n")
    reg = register(api, ev["id"])
    claims = jwt_claims(reg["ticket"]["token"])
    fresh = pyjwt.encode(claims, priv, algorithm="ES256",
                         headers={"kid": new_kid})
    assert scan(api, door, fresh)["result"] == "admitted", \
        "a ticket signed with the new key was refused right after a " \
        "ticket with an unknown kid"
    assert scan(api, door, old)["result"] == "admitted", \
        "a ticket signed before the rotation must stay valid"
    b = expect(api("GET", "/api/v1/events/%d/offline-bundle" % ev["id"],
                   token=door["token"]), 200)
    assert len(b["public_keys"]) >= 2 and \
        {k["kid"] for k in b["keys"]} >= {old_kid, new_kid}


def test_tickets_survive_a_restart(api, ev, door, pg, start_daemon):
    tok = register(api, ev["id"])["ticket"]["token"]
    d = start_daemon(pg.conninfo)
    got = expect(d.api("POST", "/api/v1/checkins", {"token": tok},
                       token=door["token"]), 200)
    assert got["result"] == "admitted", \
        "another server process must accept this server's ticket: %r" % got


def test_checkin_rereads_the_door_token_every_scan(api, ev, issue, create_event,
                                                   admin_token):
    tok = register(api, ev["id"])["ticket"]["token"]
    d = issue("door", events=[ev["id"]])
    expect(api("DELETE", "/api/v1/tokens/" + d["jti"], token=admin_token),
           200)
    r = api("POST", "/api/v1/checkins", {"token": tok}, token=d["token"])
    expect(r, 401, "invalid_token")
    other = issue("door", events=[create_event()["id"]])
    expect(api("POST", "/api/v1/checkins", {"token": tok,
                                            "event_id": ev["id"]},
               token=other["token"]), 403, "out_of_scope")
    sponsor_ev = create_event(status="published")
    sp = expect(api("POST", "/api/v1/events/%d/sponsors" % sponsor_ev["id"],
                    {"name": "S"}, token=admin_token), 201)
    s = issue("sponsor", sponsor=sp["id"])
    expect(api("POST", "/api/v1/checkins", {"token": tok}, token=s["token"]),
           403)


def _metric(d, name):
    text = d.api("GET", "/metrics").raw.decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    assert m, "/metrics has no %s" % name
    return int(m.group(1))


def test_a_rush_of_scans_shares_statements_and_each_gets_its_own_answer(
        start_daemon, pg, api, ev, door, issue, admin_token):
    """Scans that arrive together are decided in one statement (one commit)
    per group, over two servers at once: still exactly one admission per
    ticket, a refused door token refuses only its own scans, a retried
    nonce answers as the first, and no group fails into a deadlock."""
    a, b = start_daemon(pg.conninfo), start_daemon(pg.conninfo)
    revoked = issue("door", events=[ev["id"]])
    expect(api("DELETE", "/api/v1/tokens/" + revoked["jti"],
               token=admin_token), 200)
    tickets = [register(api, ev["id"])["ticket"]["token"] for _ in range(30)]
    retry_nonce = "rush-" + uniq()
    # Each ticket three times (in opposite orders on the two servers, so
    # that groups there lock the same rows in different arrival orders),
    # a revoked door, a garbage code, one nonce sent five times.
    jobs = []
    for i, tok in enumerate(tickets):
        jobs.append((a, door, {"token": tok, "gate": "A"}))
        jobs.append((b, door, {"token": tickets[-1 - i], "gate": "B"}))
        jobs.append((a if i % 2 else b, door, {"token": tok, "gate": "C"}))
        if i % 3 == 0:
            jobs.append((a, revoked, {"token": tok}))
    jobs += [(b, door, {"token": "not.a.ticket"})] * 4
    jobs += [(a, door, {"token": tickets[0], "nonce": retry_nonce})] * 5
    before = {d: (_metric(d, "rollcall_checkin_groups_total"),
                  _metric(d, "rollcall_checkin_grouped_scans_total"))
              for d in (a, b)}
    results = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def one(i):
        d, who, body = jobs[i]
        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
        try:
            barrier.wait()
            c.request("POST", "/api/v1/checkins", json.dumps(body),
                      {"Authorization": "Bearer " + who["token"],
                       "Content-Type": "application/json"})
            r = c.getresponse()
            results[i] = (r.status, json.loads(r.read()))
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(i,))
               for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert None not in results, "some scans got no answer"

    admitted = {}
    for (d, who, body), (status, got) in zip(jobs, results):
        if who is revoked:
            assert (status, got.get("error")) == (401, "invalid_token"), \
                "a revoked door token's scan answered %d %r" % (status, got)
            continue
        assert status == 200, "scan %r answered %d %r" % (body, status, got)
        if body["token"] == "not.a.ticket":
            assert got["result"] == "invalid", got
            continue
        assert got["result"] in ("admitted", "already_checked_in"), got
        if got["result"] == "admitted" and "nonce" not in body:
            admitted[body["token"]] = admitted.get(body["token"], 0) + 1
    retries = [got for (_, _, body), (_, got) in zip(jobs, results)
               if body.get("nonce") == retry_nonce]
    if retries[0]["result"] == "admitted":
        admitted[tickets[0]] = admitted.get(tickets[0], 0) + 1
    assert all(r == retries[0] for r in retries), \
        "one nonce sent five times answered differently: %r" % retries
    assert sorted(admitted.values()) == [1] * len(tickets), \
        "admissions per ticket: %r (each of %d tickets must be admitted " \
        "exactly once)" % (sorted(admitted.values()), len(tickets))
    assert pg.scalar("SELECT count(*) FROM checkins WHERE nonce = '%s'"
                     % retry_nonce) == "1"
    assert pg.scalar("SELECT count(*) FROM checkins WHERE door_jti = '%s'"
                     % revoked["jti"]) == "0", \
        "a revoked door token's scans were recorded"
    for d in (a, b):
        sent = sum(1 for j in jobs if j[0] is d)
        groups = _metric(d, "rollcall_checkin_groups_total") - before[d][0]
        scans = _metric(d, "rollcall_checkin_grouped_scans_total") - \
            before[d][1]
        assert scans == sent, \
            "server on port %d carried %d scans in groups, sent %d" % (
                d.port, scans, sent)
        assert groups < sent, \
            "server on port %d used %d statements for %d simultaneous " \
            "scans: none were grouped" % (d.port, groups, sent)


def test_a_group_that_fails_decides_each_scan_alone(api, ev, door, pg,
                                                    server):
    """When the grouped statement fails as a whole (a deadlock, say), every
    scan in it is decided again on its own and the door still gets its
    verdict, not an error."""
    tok = register(api, ev["id"])["ticket"]["token"]
    original = bytes.fromhex(pg.scalar(
        "SELECT encode(convert_to(pg_get_functiondef("
        "'rc_checkin_group(jsonb)'::regprocedure), 'UTF8'), 'hex')")).decode()
    pg.psql("CREATE OR REPLACE FUNCTION rc_checkin_group(p_scans jsonb) "
            "RETURNS TABLE (ord integer, status integer, code text, "
            "body text) LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'deadlock for the test' USING ERRCODE = '40P01'; END $$")
    try:
        first = scan(api, door, tok, gate="North")
        again = scan(api, door, tok, gate="South")
        garbage = scan(api, door, "not.a.ticket")
    finally:
        pg.psql(original)
    assert (first["result"], again["result"], garbage["result"]) == \
        ("admitted", "already_checked_in", "invalid"), (first, again, garbage)
    assert again["gate"] == "North", again
    assert "deciding each alone" in server.log_text(), \
        "the daemon did not log the failed group"
    after = scan(api, door, register(api, ev["id"])["ticket"]["token"])
    assert after["result"] == "admitted", after


def reloads(d):
    for line in d.api("GET", "/metrics").raw.decode().splitlines():
        if line.startswith("rollcall_keyring_reloads_total "):
            return int(float(line.split()[1]))
    raise AssertionError("/metrics has no rollcall_keyring_reloads_total")


def test_unknown_kids_reload_the_keys_only_for_live_doors_and_rarely(
        rollcalld_bin, new_cluster, start_daemon):
    pg = new_cluster()
    d = start_daemon(pg.conninfo)
    admin = cli_token(rollcalld_bin, pg.conninfo, "admin", "kids")
    ev = expect(d.api("POST", "/api/v1/events", meetup(capacity=1000),
                      token=admin), 201)
    expect(d.api("PATCH", "/api/v1/events/%d" % ev["id"],
                 {"status": "published"}, token=admin), 200)

    def door():
        return expect(d.api("POST", "/api/v1/tokens", {
            "role": "door", "name": "gate", "events": [ev["id"]]},
            token=admin), 201)
    live, revoked = door(), door()
    expect(d.api("DELETE", "/api/v1/tokens/" + revoked["jti"], token=admin),
           200)
    tok = register(d.api, ev["id"])["ticket"]["token"]
    kid = jwt_header(tok)["kid"]
    priv = pg.scalar("SELECT replace(private_pem, E'\\n', '|') FROM "
                     "ticket_keys WHERE kid = '%s'" % kid).replace("|", "\n")

    def made_up(i):
        return pyjwt.encode(jwt_claims(tok), priv, algorithm="ES256",
                            headers={"kid": "made-up-%d" % i})

    # A revoked door token: refused, and never a reason to read the keys.
    before = reloads(d)
    for i in range(300):
        expect(d.api("POST", "/api/v1/checkins", {"token": made_up(i)},
                     token=revoked["token"]), 401, "invalid_token")
    got = reloads(d) - before
    assert got <= 2, ("300 check-ins with a revoked door token and made-up "
                      "kids re-read the ticket keys %d times; a token not in "
                      "force must not cause reloads" % got)

    # A live door sending many different made-up kids at once: reloads are
    # throttled for all kids together (KEYRING_RELOAD_SECS = 1).
    before, t0 = reloads(d), time.monotonic()
    out = []

    def one(i):
        out.append(d.api("POST", "/api/v1/checkins", {"token": made_up(i)},
                         token=live["token"]).status)
    threads = [threading.Thread(target=one, args=(1000 + i,))
               for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    took = time.monotonic() - t0
    got = reloads(d) - before
    assert out == [200] * 60, out
    assert got <= int(took) + 2, (
        "60 scans with different made-up kids over %.1f s re-read the keys "
        "%d times; expected at most about one a second" % (took, got))

    # A real key, rotated in right after a made-up kid, is still taken.
    made = made_up(5000)
    expect(d.api("POST", "/api/v1/checkins", {"token": made},
                 token=live["token"]), 200)
    out = run_cli([rollcalld_bin, "rotate-key", "--db", pg.conninfo])
    assert out.returncode == 0, out.stderr
    new_kid = pg.scalar("SELECT kid FROM ticket_keys WHERE retired_at IS "
                        "NULL")
    new_priv = pg.scalar("SELECT replace(private_pem, E'\\n', '|') FROM "
                         "ticket_keys WHERE kid = '%s'" % new_kid).replace(
                             "|", "\n")
    reg = register(d.api, ev["id"])
    fresh = pyjwt.encode(jwt_claims(reg["ticket"]["token"]), new_priv,
                         algorithm="ES256", headers={"kid": new_kid})
    t0 = time.monotonic()
    j = expect(d.api("POST", "/api/v1/checkins", {"token": fresh},
                     token=live["token"]), 200)
    took = time.monotonic() - t0
    assert j["result"] == "admitted", (
        "a ticket signed with a freshly rotated key was refused: %r" % j)
    assert took < 5, "the fresh key took %.1f s to be accepted" % took
