"""Chapters (COMMUNITY.md section 2): the API, the chapter an event names,
leader rows and the roles they grant, leader and track owner tokens, and
a leader acting only inside its chapters."""
import pytest

import support
from community_support import make_chapter
from support import (cli_token, expect, expect_field_error, meetup, run_cli,
                     series, uniq)
from test_console import account_add, signed_in


def new_slug(prefix="ch"):
    return uniq(prefix).lower()


def chapter_body(**over):
    body = {"slug": new_slug(), "name": "Hangzhou", "name_zh": "杭州",
            "kind": "city", "city": "Hangzhou", "region": "East China",
            "timezone": "Asia/Shanghai", "status": "active"}
    body.update(over)
    return {k: v for k, v in body.items() if v is not support.DROP}


def chapters_state(pg):
    """What a refused chapter write must leave as it was."""
    return pg.scalar(
        "SELECT (SELECT count(*) FROM chapters) || '/' || "
        "(SELECT count(*) FROM chapter_leaders) || '/' || "
        "(SELECT count(*) FROM persons) || '/' || "
        "(SELECT count(*) FROM audit_log) || '/' || "
        "coalesce((SELECT max(updated_at)::text FROM chapters), '')")


@pytest.fixture(scope="module")
def committee(rollcalld_bin, pg):
    return cli_token(rollcalld_bin, pg.conninfo, "committee", "committee")


def test_create_list_get_and_edit_a_chapter(api, admin_token, pg):
    body = chapter_body()
    c = expect(api("POST", "/api/v1/chapters", body, token=admin_token), 201)
    for k, v in body.items():
        assert c[k] == v, "created chapter's %s is %r, not %r" % (k, c[k], v)
    assert c["leaders"] == [] and c["upcoming_events"] == 0, c
    audit = pg.psql("SELECT action, detail->>'slug' FROM audit_log WHERE "
                    "action LIKE 'chapter.%%' AND detail->>'slug' = '%s'"
                    % body["slug"])
    assert audit == [["chapter.create", body["slug"]]], audit

    listed = expect(api("GET", "/api/v1/chapters"), 200)["chapters"]
    mine = [x for x in listed if x["slug"] == body["slug"]]
    assert len(mine) == 1, "the new chapter is not listed once: %r" % listed
    for staff_only in ("id", "created_at", "updated_at"):
        assert staff_only not in mine[0], \
            "the public list shows %r: %r" % (staff_only, mine[0])

    got = expect(api("GET", "/api/v1/chapters/" + body["slug"]), 200)
    assert got["name_zh"] == "杭州" and got["events"] == [], got

    c = expect(api("PATCH", "/api/v1/chapters/" + body["slug"],
                   {"name": "Hangzhou UG", "region": None, "status": "trial"},
                   token=admin_token), 200)
    assert (c["name"], c["region"], c["status"], c["city"]) == \
        ("Hangzhou UG", None, "trial", "Hangzhou"), c
    assert pg.scalar("SELECT action FROM audit_log WHERE detail->>'slug' = "
                     "'%s' ORDER BY id DESC LIMIT 1" % body["slug"]) == \
        "chapter.trial"


@pytest.mark.parametrize("over,field", [
    ({"slug": "Shanghai"}, "slug"),
    ({"slug": "-shanghai"}, "slug"),
    ({"slug": "a" * 64}, "slug"),
    ({"slug": "sh anghai"}, "slug"),
    ({"slug": "上海"}, "slug"),
    ({"slug": support.DROP}, "slug"),
    ({"name": support.DROP}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"kind": support.DROP}, "kind"),
    ({"kind": "online"}, "kind"),
    ({"status": "closed"}, "status"),
    ({"status": "retired"}, "status"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "Asia/Nowhere"}, "timezone"),
    ({"city": 7}, "city"),
    ({"owner": "me"}, "owner"),
])
def test_a_bad_chapter_is_refused_and_changes_nothing(api, admin_token, pg,
                                                      over, field):
    before = chapters_state(pg)
    expect_field_error(api("POST", "/api/v1/chapters", chapter_body(**over),
                           token=admin_token), field)
    assert chapters_state(pg) == before, "a refused chapter changed rows"


def test_a_taken_slug_is_409_and_the_slug_never_changes(api, admin_token,
                                                       pg):
    body = chapter_body()
    expect(api("POST", "/api/v1/chapters", body, token=admin_token), 201)
    before = chapters_state(pg)
    expect(api("POST", "/api/v1/chapters", chapter_body(slug=body["slug"]),
               token=admin_token), 409, "chapter_exists")
    expect_field_error(api("PATCH", "/api/v1/chapters/" + body["slug"],
                           {"slug": new_slug()}, token=admin_token), "slug")
    for bad in ({"status": "gone"}, {"timezone": "Nowhere/Else"},
                {"name": None}, {"kind": "club"}, {"members": 3}):
        expect(api("PATCH", "/api/v1/chapters/" + body["slug"], bad,
                   token=admin_token), 400, "invalid_field")
    assert chapters_state(pg) == before
    expect(api("PATCH", "/api/v1/chapters/" + new_slug(), {"name": "X"},
               token=admin_token), 404, "not_found")
    expect(api("GET", "/api/v1/chapters/" + new_slug()), 404, "not_found")
    expect(api("GET", "/api/v1/chapters/Not_A_Slug"), 404, "not_found")
    expect(api("GET", "/api/v1/chapters?status=closed"), 400,
           "invalid_field")
    expect(api("GET", "/api/v1/chapters?kind=club"), 400, "invalid_field")


def test_only_admin_and_committee_write_chapters(api, issue, committee,
                                                 rollcalld_bin, pg):
    _, slug = make_chapter(pg)
    ev = expect(api("POST", "/api/v1/events", meetup(chapter=slug),
                    token=committee), 201)
    others = (None, issue("organizer", events=[ev["id"]])["token"],
              cli_token(rollcalld_bin, pg.conninfo, "leader", uniq("l"),
                        "--chapter", slug),
              cli_token(rollcalld_bin, pg.conninfo, "infra", uniq("i")))
    before = chapters_state(pg)
    for tok in others:
        status = 401 if tok is None else 403
        expect(api("POST", "/api/v1/chapters", chapter_body(), token=tok),
               status)
        expect(api("PATCH", "/api/v1/chapters/" + slug, {"name": "X"},
                   token=tok), status)
        expect(api("POST", "/api/v1/chapters/%s/leaders" % slug,
                   {"email": "x@example.com", "name": "X", "role": "lead"},
                   token=tok), status)
        expect(api("DELETE", "/api/v1/chapters/%s/leaders/1" % slug,
                   token=tok), status)
    assert chapters_state(pg) == before
    c = expect(api("POST", "/api/v1/chapters", chapter_body(),
                   token=committee), 201)
    assert c["status"] == "active"


def test_the_committee_adds_and_removes_leaders(api, committee, pg):
    _, slug = make_chapter(pg)
    path = "/api/v1/chapters/%s/leaders" % slug
    email = uniq("Lead") + "@Example.com"
    lead = expect(api("POST", path, {"email": email, "name": "Wang Fang",
                                     "role": "lead"}, token=committee), 201)
    assert lead["role"] == "lead" and lead["email"] == email, lead
    co = expect(api("POST", path, {"email": email.lower(), "name": "W",
                                   "role": "co_lead"}, token=committee), 201)
    assert co["person_id"] == lead["person_id"], \
        "one person per e-mail, whatever its case: %r %r" % (lead, co)
    before = chapters_state(pg)
    expect(api("POST", path, {"email": email, "name": "Wang Fang",
                              "role": "lead"}, token=committee),
           409, "already_leader")
    for bad, field in (({"email": "not-an-address", "name": "X",
                         "role": "lead"}, "email"),
                       ({"email": "a@example.com", "name": "X",
                         "role": "boss"}, "role"),
                       ({"email": "a@example.com", "role": "lead"}, "name")):
        expect_field_error(api("POST", path, bad, token=committee), field)
    expect(api("POST", "/api/v1/chapters/%s/leaders" % new_slug(),
               {"email": "a@example.com", "name": "X", "role": "lead"},
               token=committee), 404)
    assert chapters_state(pg) == before

    public = expect(api("GET", "/api/v1/chapters/" + slug), 200)
    assert sorted((x["name"], x["role"]) for x in public["leaders"]) == \
        [("Wang Fang", "co_lead"), ("Wang Fang", "lead")], public
    assert email not in str(public) and email.lower() not in str(public), \
        "the public chapter shows a leader's e-mail: %r" % public
    staff = expect(api("GET", "/api/v1/chapters/" + slug, token=committee),
                   200)
    assert {x["email"] for x in staff["leaders"]} == {email}, staff

    pid = lead["person_id"]
    gone = expect(api("DELETE", "%s/%d?role=co_lead" % (path, pid),
                      token=committee), 200)
    assert gone["removed"] == ["co_lead"], gone
    expect(api("DELETE", "%s/%d?role=chief" % (path, pid), token=committee),
           400, "invalid_field")
    gone = expect(api("DELETE", "%s/%d" % (path, pid), token=committee), 200)
    assert gone["removed"] == ["lead"], gone
    expect(api("DELETE", "%s/%d" % (path, pid), token=committee), 404)
    expect(api("DELETE", "%s/abc" % path, token=committee), 404)
    assert expect(api("GET", "/api/v1/chapters/" + slug), 200)["leaders"] \
        == []
    actions = [r[0] for r in pg.psql(
        "SELECT action FROM audit_log WHERE detail->>'slug' = '%s' "
        "ORDER BY id" % slug)]
    assert actions == ["chapter.leader_add", "chapter.leader_add",
                       "chapter.leader_remove", "chapter.leader_remove"], \
        actions


def test_events_name_a_live_chapter_by_slug(api, admin_token, pg,
                                            create_event, committee):
    cid, slug = make_chapter(pg)
    ev = create_event(meetup(chapter=slug), status="published")
    assert ev["chapter"] == slug and ev["chapter_name"] == slug, ev
    before = pg.counts()
    for bad in (uniq("free text"), slug.upper(), "", None):
        r = api("POST", "/api/v1/events", meetup(chapter=bad),
                token=admin_token)
        expect_field_error(r, "chapter")
    expect_field_error(api("POST", "/api/v1/series",
                           series(chapter=uniq("nowhere")),
                           token=admin_token), "chapter")
    expect_field_error(api("PATCH", "/api/v1/events/%d" % ev["id"],
                           {"chapter": "no-such-chapter-here"},
                           token=admin_token), "chapter")
    assert pg.counts() == before, "a refused event changed the database"
    # A name, as a person types it, finds the slug for the message.
    r = api("POST", "/api/v1/events", meetup(chapter="Shanghai"),
            token=admin_token)
    assert '"shanghai"' in expect_field_error(r, "chapter")["message"], r

    # Retired: no new events, no moves into it, no new leaders; what it
    # has stays editable, and the public list shows it only when asked.
    expect(api("PATCH", "/api/v1/chapters/" + slug, {"status": "retired"},
               token=committee), 200)
    other = create_event(meetup())
    before = pg.counts()
    expect_field_error(api("POST", "/api/v1/events", meetup(chapter=slug),
                           token=admin_token), "chapter")
    expect_field_error(api("PATCH", "/api/v1/events/%d" % other["id"],
                           {"chapter": slug}, token=admin_token), "chapter")
    assert pg.counts() == before
    assert pg.scalar("SELECT chapter || chapter_id FROM events WHERE id = %d"
                     % other["id"]) == "shanghai" + pg.scalar(
        "SELECT id FROM chapters WHERE slug = 'shanghai'")
    expect(api("POST", "/api/v1/chapters/%s/leaders" % slug,
               {"email": "late@example.com", "name": "Late", "role": "lead"},
               token=committee), 409, "chapter_retired")
    j = expect(api("PATCH", "/api/v1/events/%d" % ev["id"],
                   {"title": "Still on"}, token=admin_token), 200)
    assert j["chapter"] == slug and j["title"] == "Still on", j
    slugs = lambda q: [c["slug"] for c in expect(
        api("GET", "/api/v1/chapters" + q), 200)["chapters"]]
    assert slug not in slugs("") and slug in slugs("?status=retired") and \
        slug in slugs("?status=all"), "a retired chapter's listing"
    expect(api("PATCH", "/api/v1/chapters/" + slug, {"status": "active"},
               token=committee), 200)
    create_event(meetup(chapter=slug))


def test_a_chapter_lists_only_its_upcoming_public_events(api, pg,
                                                        create_event):
    _, slug = make_chapter(pg)
    shown = create_event(meetup(chapter=slug, title="Shown " + uniq()),
                         status="published")
    hidden = [create_event(meetup(chapter=slug)),
              create_event(meetup(chapter=slug, members_only=True),
                           status="published"),
              create_event(meetup(chapter=slug), status="cancelled"),
              create_event(meetup(chapter=slug), status="finished"),
              create_event(meetup(chapter=slug), status="published")]
    pg.psql("UPDATE events SET starts_at = now() - interval '3 days', "
            "ends_at = now() - interval '2 days' WHERE id = %d"
            % hidden[-1]["id"])
    c = expect(api("GET", "/api/v1/chapters/" + slug), 200)
    assert [e["id"] for e in c["events"]] == [shown["id"]], \
        "expected only %d, got %r (hidden %r)" % (
            shown["id"], [e["id"] for e in c["events"]],
            [h["id"] for h in hidden])
    assert c["upcoming_events"] == 1, c
    listed = [x for x in expect(api("GET", "/api/v1/chapters"), 200)[
        "chapters"] if x["slug"] == slug]
    assert listed[0]["upcoming_events"] == 1, listed


def test_the_token_command_names_chapters(rollcalld_bin, pg):
    _, a = make_chapter(pg)
    _, b = make_chapter(pg)
    tok = cli_token(rollcalld_bin, pg.conninfo, "leader", uniq("ugl"),
                    "--chapter", a, "--chapter", b)
    jti = support.jwt_claims(tok)["jti"]
    got = pg.scalar("SELECT array_to_string(ARRAY(SELECT c.slug FROM "
                    "chapters c WHERE c.id = ANY (t.chapters) ORDER BY "
                    "c.slug), ',') FROM tokens t WHERE jti = '%s'" % jti)
    assert got == ",".join(sorted([a, b])), got
    cli_token(rollcalld_bin, pg.conninfo, "track_owner", uniq("to"),
              "--chapter", a)
    for role in ("committee", "infra"):
        t = cli_token(rollcalld_bin, pg.conninfo, role, uniq(role))
        assert support.jwt_claims(t)["role"] == role
    base = [rollcalld_bin, "token", "--name", "x", "--db", pg.conninfo]
    tokens = pg.scalar("SELECT count(*) FROM tokens")
    for extra, code, words in (
            (["--role", "leader"], 2, "needs --chapter"),
            (["--role", "track_owner"], 2, "needs --chapter"),
            (["--role", "leader", "--chapter", "Not A Slug"], 2, "slug"),
            (["--role", "door", "--event", "1", "--chapter", a], 2,
             "only leader and track_owner"),
            (["--role", "leader", "--chapter", new_slug()], 1, "no live")):
        r = run_cli(base + extra)
        assert r.returncode == code and words in r.stderr, \
            "token %s: exit %d, %r" % (" ".join(extra), r.returncode,
                                       r.stderr)
    assert pg.scalar("SELECT count(*) FROM tokens") == tokens


def test_tokens_of_the_new_roles_over_http(api, admin_token, committee, pg,
                                           issue):
    _, slug = make_chapter(pg)
    ev = expect(api("POST", "/api/v1/events", meetup(chapter=slug),
                    token=admin_token), 201)
    t = issue("leader", chapters=[slug, slug])
    assert t["chapters"] == [slug] and t["events"] is None, t
    t2 = expect(api("POST", "/api/v1/tokens", {"role": "track_owner",
                                               "name": "to",
                                               "chapters": [slug]},
                    token=committee), 201)
    assert t2["chapters"] == [slug], t2
    expect(api("POST", "/api/v1/tokens", {"role": "door", "name": "d",
                                          "events": [ev["id"]]},
               token=committee), 201)
    for role in ("committee", "infra"):
        assert issue(role)["role"] == role
    org = issue("organizer", events=[ev["id"]])
    before = pg.scalar("SELECT count(*) FROM tokens")
    for role in ("admin", "committee", "infra", "organizer"):
        expect(api("POST", "/api/v1/tokens", {"role": role, "name": "x"},
                   token=committee), 403, "forbidden")
    for tok in (org["token"], t["token"]):
        expect(api("POST", "/api/v1/tokens", {"role": "leader", "name": "x",
                                              "chapters": [slug]},
                   token=tok), 403, "forbidden")
    for body in ({"role": "leader", "name": "x"},
                 {"role": "leader", "name": "x", "chapters": []},
                 {"role": "leader", "name": "x", "chapters": [new_slug()]},
                 {"role": "leader", "name": "x", "chapters": ["Bad Slug"]},
                 {"role": "committee", "name": "x", "chapters": [slug]},
                 {"role": "door", "name": "x", "events": [ev["id"]],
                  "chapters": [slug]}):
        expect_field_error(api("POST", "/api/v1/tokens", body,
                               token=admin_token), "chapters")
    assert pg.scalar("SELECT count(*) FROM tokens") == before
    # The committee may revoke the leader tokens it may issue.
    expect(api("DELETE", "/api/v1/tokens/" + t["jti"], token=committee), 200)
    expect(api("GET", "/api/v1/events", token=t["token"]), 401)


def test_a_leader_acts_only_inside_its_chapters(api, admin_token, pg,
                                                rollcalld_bin, create_event):
    _, a = make_chapter(pg)
    _, b = make_chapter(pg, kind="topic")
    tok = cli_token(rollcalld_bin, pg.conninfo, "leader", uniq("ugl"),
                    "--chapter", a)
    theirs = create_event(meetup(chapter=b), status="published")
    mine = expect(api("POST", "/api/v1/events", meetup(chapter=a),
                      token=tok), 201)
    path = "/api/v1/events/%d" % mine["id"]
    j = expect(api("PATCH", path, {"title": "Edited by the UGL",
                                   "status": "published"}, token=tok), 200)
    assert j["title"] == "Edited by the UGL", j
    expect(api("GET", path + "/attendance.csv", token=tok), 200)
    expect(api("GET", path + "/registrations", token=tok), 200)
    got = expect(api("GET", path, token=tok), 200)
    assert "counts" in got, "a leader's own event lacks the staff view"

    before = pg.counts()
    expect(api("POST", "/api/v1/events", meetup(chapter=b), token=tok),
           403, "out_of_scope")
    expect(api("POST", "/api/v1/series", series(chapter=b), token=tok),
           403, "out_of_scope")
    expect(api("PATCH", path, {"chapter": b}, token=tok), 403,
           "out_of_scope")
    other = "/api/v1/events/%d" % theirs["id"]
    expect(api("PATCH", other, {"title": "Taken over"}, token=tok), 403,
           "out_of_scope")
    expect(api("GET", other + "/attendance.csv", token=tok), 403,
           "out_of_scope")
    expect(api("GET", other + "/registrations", token=tok), 403,
           "out_of_scope")
    assert pg.counts() == before, "a leader's refused writes changed rows"
    assert pg.scalar("SELECT chapter FROM events WHERE id = %d"
                     % mine["id"]) == a
    # Its series, in its chapter, are its own too.
    s = expect(api("POST", "/api/v1/series", series(chapter=a), token=tok),
               201)
    expect(api("PATCH", "/api/v1/events/%d" % s["events"][0]["id"],
               {"title": "Episode one"}, token=tok), 200)


def test_a_leader_row_makes_an_account_a_leader_on_its_next_request(
        api, rollcalld_bin, pg, server, create_event):
    _, slug = make_chapter(pg)
    ev = create_event(meetup(chapter=slug))
    seed = create_event(meetup())
    email = uniq("Ugl") + "@example.com"
    b = signed_in(server.port, account_add(rollcalld_bin, pg.conninfo, email,
                                           events=[seed["id"]]))
    regs = "/console/events/%d/registrations" % ev["id"]
    assert b.get(regs).status == 403, "not a leader yet"
    assert ('data-event="%d"' % ev["id"]) not in b.get("/console").text

    committee = cli_token(rollcalld_bin, pg.conninfo, "committee", "c")
    lead = expect(api("POST", "/api/v1/chapters/%s/leaders" % slug,
                      {"email": email.upper(), "name": "Ugl",
                       "role": "co_lead"}, token=committee), 201)
    assert b.get(regs).status == 200, \
        "the leader row did not make the account a leader of %s" % slug
    assert ('data-event="%d"' % ev["id"]) in b.get("/console").text, \
        "the console overview lacks the chapter's event"
    expect(api("DELETE", "/api/v1/chapters/%s/leaders/%d"
               % (slug, lead["person_id"]), token=committee), 200)
    assert b.get(regs).status == 403, "removing the row left the role"
    assert b.get("/console/events/%d/registrations" % seed["id"]).status \
        == 200, "the account's own events stayed"


def test_no_event_joins_a_chapter_once_it_is_retired(
        pg, server, admin_token, committee):
    """An event being created in a chapter while the committee retires it:
    the retirement waits for the event to commit (the chapter's row is
    share-locked by the event's trigger), so the event is the chapter's
    last, never one that joins after. A test-only trigger holds the
    event's transaction open for a moment, so the two always overlap."""
    import threading
    _, slug = make_chapter(pg)
    title = uniq("Slow")
    pg.psql("CREATE FUNCTION test_slow_event() RETURNS trigger LANGUAGE "
            "plpgsql AS $$ BEGIN IF NEW.title LIKE 'Slow-%' THEN PERFORM "
            "pg_sleep(1.5); END IF; RETURN NULL; END $$; CREATE TRIGGER "
            "test_slow_event AFTER INSERT ON events FOR EACH ROW EXECUTE "
            "FUNCTION test_slow_event()")
    try:
        out = {}
        t = threading.Thread(target=lambda: out.update(ev=server.api(
            "POST", "/api/v1/events", meetup(chapter=slug, title=title),
            token=admin_token)))
        t.start()
        support.wait_until(lambda: pg.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
            "'%rc_event_create%' AND wait_event = 'PgSleep'") == "1",
            10, "the event's creation to be inside its transaction")
        r = expect(server.api("PATCH", "/api/v1/chapters/" + slug,
                              {"status": "retired"}, token=committee), 200)
        t.join(30)
    finally:
        pg.psql("DROP TRIGGER test_slow_event ON events; "
                "DROP FUNCTION test_slow_event()")
    assert r["status"] == "retired"
    expect(out["ev"], 201)
    order = pg.scalar(
        "SELECT (SELECT id FROM audit_log WHERE action = 'event.create' AND "
        "event_id = %d) < (SELECT id FROM audit_log WHERE action = "
        "'chapter.retired' AND detail->>'slug' = '%s')"
        % (out["ev"].json["id"], slug))
    assert order == "t", ("the chapter was retired before the event that "
                          "was being created in it committed")
    expect_field_error(server.api("POST", "/api/v1/events",
                                  meetup(chapter=slug), token=admin_token),
                       "chapter")
