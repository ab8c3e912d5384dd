"""The ground the community parts build on (migration 020): events land
in chapters, chapter roles scope tokens to their chapters' events."""
from support import expect, meetup, uniq


def test_an_event_named_by_free_text_lands_in_one_chapter(create_event, pg):
    name = uniq("City")
    a = create_event(meetup(chapter=name))
    b = create_event(meetup(chapter=name))
    rows = pg.scalar("SELECT count(DISTINCT chapter_id) || ':' || "
                     "count(chapter_id) FROM events WHERE id IN (%d, %d)"
                     % (a["id"], b["id"]))
    assert rows == "1:2", ("two events of chapter %r should share one "
                           "chapter row, got distinct:linked = %s"
                           % (name, rows))
    slug = pg.scalar("SELECT c.slug FROM chapters c JOIN events e ON "
                     "e.chapter_id = c.id WHERE e.id = %d" % a["id"])
    assert slug == name.lower(), "slug %r for chapter %r" % (slug, name)


def test_a_leader_token_covers_only_its_chapters_events(
        create_event, pg, rollcalld_bin, api):
    import support
    mine = create_event(meetup(chapter=uniq("Mine")))
    other = create_event(meetup(chapter=uniq("Other")))
    tok = support.cli_token(rollcalld_bin, pg.conninfo, "leader",
                            uniq("ugl"))
    jti = support.jwt_claims(tok)["jti"]
    pg.psql("UPDATE tokens SET chapters = ARRAY[(SELECT chapter_id FROM "
            "events WHERE id = %d)] WHERE jti = '%s'" % (mine["id"], jti))
    r = api("GET", "/api/v1/events/%d/registrations" % mine["id"], token=tok)
    expect(r, 200)
    r = api("GET", "/api/v1/events/%d/registrations" % other["id"],
            token=tok)
    expect(r, 403, "out_of_scope")
