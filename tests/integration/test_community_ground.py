"""The ground the community parts build on (migrations 020 and 021):
events name a chapter by its slug, chapter roles scope tokens to their
chapters' events."""
from community_support import make_chapter
from support import expect, expect_field_error, meetup, uniq


def test_an_event_names_an_existing_chapter_by_its_slug(create_event, pg,
                                                        api, admin_token):
    cid, slug = make_chapter(pg, name=uniq("City"))
    a = create_event(meetup(chapter=slug))
    b = create_event(meetup(chapter=slug))
    rows = pg.scalar("SELECT count(DISTINCT chapter_id) || ':' || "
                     "count(chapter_id) || ':' || min(chapter_id) FROM events "
                     "WHERE id IN (%d, %d)" % (a["id"], b["id"]))
    assert rows == "1:2:%d" % cid, ("two events of chapter %r should both "
                                    "be linked to its row %d, got "
                                    "distinct:linked:id = %s"
                                    % (slug, cid, rows))
    assert a["chapter"] == slug, a
    # Free text is no longer a chapter: refused, and no chapter is made.
    before = pg.counts(), pg.scalar("SELECT count(*) FROM chapters")
    name = uniq("Nowhere")
    expect_field_error(api("POST", "/api/v1/events", meetup(chapter=name),
                           token=admin_token), "chapter")
    assert (pg.counts(), pg.scalar("SELECT count(*) FROM chapters")) == \
        before, "a refused event changed the database"


def test_a_leader_token_covers_only_its_chapters_events(
        create_event, pg, rollcalld_bin, api):
    import support
    _, mine_slug = make_chapter(pg)
    _, other_slug = make_chapter(pg)
    mine = create_event(meetup(chapter=mine_slug))
    other = create_event(meetup(chapter=other_slug))
    tok = support.cli_token(rollcalld_bin, pg.conninfo, "leader",
                            uniq("ugl"), "--chapter", mine_slug)
    r = api("GET", "/api/v1/events/%d/registrations" % mine["id"], token=tok)
    expect(r, 200)
    r = api("GET", "/api/v1/events/%d/registrations" % other["id"],
            token=tok)
    expect(r, 403, "out_of_scope")
