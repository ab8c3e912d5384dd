-- Chapters (COMMUNITY.md section 2): the public list and pages, the
-- committee's writes (create, edit, leaders), and the rule that every
-- event and series names an existing chapter by its slug.
--
-- Who may write is the route table's business (server/router.c: admin
-- and committee); whether a leader may put an event in a chapter is
-- scope (rc_chapter_in_scope, sql/functions/scope.sql).

-- A chapter's slug made from free text: lower case, runs of anything but
-- Latin letters and digits as '-', at most 63 characters; text with none
-- of those gets 'chapter-' and a hash (as migration 020 did).
CREATE OR REPLACE FUNCTION rc_chapter_slugify(p_text text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(nullif(trim(BOTH '-' FROM substr(regexp_replace(
	    lower(p_text), '[^a-z0-9]+', '-', 'g'), 1, 63)), ''),
	    'chapter-' || substr(md5(p_text), 1, 8))
$$;

-- The chapter with this slug, or NULL.
CREATE OR REPLACE FUNCTION rc_chapter_for(p_text text)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM chapters WHERE slug = p_text
$$;

-- Keep chapter_id in step with the chapter an event or series names, and
-- refuse a name that is no chapter's slug, or a retired chapter's: new
-- events go only to live chapters. The chapter's row is share-locked
-- here and locked FOR UPDATE by rc_chapter_update, so a committee
-- retiring it at the same moment either waits for this event to commit
-- or is seen retired by it. An event that stays in its chapter is not
-- checked again (a retired chapter's events can still be edited and
-- cancelled). Setting chapter_id directly moves the slug with it.
CREATE OR REPLACE FUNCTION rc_chapter_link()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	c chapters;
	hint text;
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.chapter IS NOT DISTINCT FROM OLD.chapter
	THEN
		IF NEW.chapter_id IS DISTINCT FROM OLD.chapter_id THEN
			SELECT slug INTO NEW.chapter FROM chapters
			WHERE id = NEW.chapter_id;
		END IF;
		RETURN NEW;
	END IF;
	SELECT * INTO c FROM chapters WHERE slug = NEW.chapter FOR SHARE;
	IF NOT FOUND THEN
		SELECT slug INTO hint FROM chapters
		WHERE slug = lower(NEW.chapter) OR lower(name) = lower(NEW.chapter)
		    OR (name_zh <> '' AND name_zh = NEW.chapter)
		ORDER BY status = 'retired', id LIMIT 1;
		PERFORM rc_fail(400, 'invalid_field', 'chapter: no such chapter "' ||
		    coalesce(NEW.chapter, '') || '"' || CASE WHEN hint IS NULL
		    THEN ' (a chapter is named by its slug: GET /api/v1/chapters ' ||
		        'lists them).'
		    ELSE ' (its slug is "' || hint || '").' END);
	END IF;
	IF c.status = 'retired' THEN
		PERFORM rc_fail(400, 'invalid_field', 'chapter: "' || c.slug ||
		    '" is retired and takes no new events.');
	END IF;
	NEW.chapter_id := c.id;
	RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER events_chapter
    BEFORE INSERT OR UPDATE OF chapter, chapter_id
    ON events FOR EACH ROW EXECUTE FUNCTION rc_chapter_link();
CREATE OR REPLACE TRIGGER series_chapter
    BEFORE INSERT OR UPDATE OF chapter, chapter_id
    ON series FOR EACH ROW EXECUTE FUNCTION rc_chapter_link();

-- Events carry their chapter's names (rc_event_json): a renamed chapter
-- changes what every daemon's read cache holds (sql/functions/cache.sql).
CREATE OR REPLACE FUNCTION rc_chapter_renamed()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
	    WHERE n.name IS DISTINCT FROM o.name
	       OR n.name_zh IS DISTINCT FROM o.name_zh) THEN
		PERFORM pg_notify('rc_public', '*');
	END IF;
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER chapters_public_update AFTER UPDATE ON chapters
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rc_chapter_renamed();

-- Which of a chapter's events the public sees: published, not
-- members-only, not yet over (as GET /api/v1/events lists them).
CREATE OR REPLACE FUNCTION rc_chapter_public_event(e events)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT e.status = 'published' AND NOT e.members_only
	    AND e.ends_at > now()
$$;

-- A chapter as JSON. Everyone sees its names, kind, place, status, its
-- leaders' names and roles, how many members it has and how many public
-- events are coming; staff (p_staff) also see the leaders' person ids and
-- e-mail addresses, who added them, and the row's times.
CREATE OR REPLACE FUNCTION rc_chapter_json(c chapters,
    p_staff boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('slug', c.slug, 'name', c.name,
	    'name_zh', c.name_zh, 'kind', c.kind, 'city', c.city,
	    'topic', c.topic, 'region', c.region, 'timezone', c.timezone,
	    'status', c.status,
	    'leaders', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'name', p.name, 'role', l.role)
	        || CASE WHEN p_staff THEN jsonb_build_object('person_id', p.id,
	            'email', p.email, 'since', l.since, 'added_by', l.added_by)
	        ELSE '{}'::jsonb END
	        ORDER BY array_position(ARRAY['lead', 'co_lead', 'track_owner'],
	            l.role), l.since, p.id), '[]')
	        FROM chapter_leaders l JOIN persons p ON p.id = l.person_id
	        WHERE l.chapter_id = c.id),
	    'members', (SELECT count(*) FROM chapter_members m
	        WHERE m.chapter_id = c.id),
	    'upcoming_events', (SELECT count(*) FROM events e
	        WHERE e.chapter_id = c.id AND rc_chapter_public_event(e)))
	    || CASE WHEN p_staff THEN jsonb_build_object('id', c.id,
	        'created_at', c.created_at, 'updated_at', c.updated_at)
	    ELSE '{}'::jsonb END
$$;

-- The chapters, by kind and name: trial and active ones, or those of one
-- status (p_status 'all': every one); optionally one kind.
CREATE OR REPLACE FUNCTION rc_chapter_list(p_status text, p_kind text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('chapters', coalesce(jsonb_agg(
	    rc_chapter_json(c) ORDER BY c.kind, c.name, c.slug), '[]'))
	FROM chapters c
	WHERE CASE WHEN p_status IS NULL THEN c.status <> 'retired'
	        WHEN p_status = 'all' THEN true
	        ELSE c.status = p_status END
	  AND (p_kind IS NULL OR c.kind = p_kind)
$$;

-- One chapter with its upcoming public events (never a members-only or
-- unpublished one), or NULL.
CREATE OR REPLACE FUNCTION rc_chapter_get(p_slug text, p_staff boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_chapter_json(c, p_staff) || jsonb_build_object('events',
	    (SELECT coalesce(jsonb_agg(rc_event_json(e)
	        ORDER BY e.starts_at, e.id), '[]')
	    FROM events e WHERE e.chapter_id = c.id
	        AND rc_chapter_public_event(e)))
	FROM chapters c WHERE c.slug = p_slug
$$;

-- The rules a chapter keeps after any create or edit (the server checked
-- the fields' shapes; this checks what needs the database).
CREATE OR REPLACE FUNCTION rc_chapter_check(c chapters)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF btrim(c.name) = '' THEN
		PERFORM rc_fail(400, 'invalid_field', 'name: must not be blank.');
	END IF;
	IF NOT rc_tz_ok(c.timezone) THEN
		PERFORM rc_fail(400, 'invalid_field', 'timezone: "' ||
		    c.timezone || '" is not an IANA time zone such as ' ||
		    'Asia/Shanghai.');
	END IF;
END $$;

-- A new chapter (trial unless said otherwise), audited.
CREATE OR REPLACE FUNCTION rc_chapter_create(p jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c chapters;
BEGIN
	IF p->>'status' = 'retired' THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'status: a new chapter is trial or active.');
	END IF;
	INSERT INTO chapters (slug, name, name_zh, kind, city, topic, region,
	    timezone, status)
	VALUES (p->>'slug', p->>'name', coalesce(p->>'name_zh', ''),
	    p->>'kind', p->>'city', p->>'topic', p->>'region',
	    coalesce(p->>'timezone', 'Asia/Shanghai'),
	    coalesce(p->>'status', 'trial'))
	ON CONFLICT (slug) DO NOTHING
	RETURNING * INTO c;
	IF NOT FOUND THEN
		PERFORM rc_fail(409, 'chapter_exists', 'slug: a chapter "' ||
		    (p->>'slug') || '" already exists.');
	END IF;
	PERFORM rc_chapter_check(c);
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'chapter.create', jsonb_build_object('chapter', c.id,
	    'slug', c.slug, 'kind', c.kind, 'status', c.status));
	RETURN rc_chapter_json(c, true);
END $$;

-- Edit a chapter's fields or status. The slug never changes: it is in
-- the chapter's addresses and in every event's `chapter`. Retiring keeps
-- the chapter's events as they are; it only refuses new ones.
CREATE OR REPLACE FUNCTION rc_chapter_update(p_slug text, p jsonb,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	old chapters;
	c chapters;
BEGIN
	SELECT * INTO old FROM chapters WHERE slug = p_slug FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such chapter.');
	END IF;
	IF p ? 'slug' AND p->>'slug' IS DISTINCT FROM old.slug THEN
		PERFORM rc_fail(400, 'invalid_field', 'slug: a chapter''s slug ' ||
		    'cannot change (its pages and its events name it).');
	END IF;
	UPDATE chapters SET
	    name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
	    name_zh = CASE WHEN p ? 'name_zh' THEN coalesce(p->>'name_zh', '')
	        ELSE name_zh END,
	    kind = CASE WHEN p ? 'kind' THEN p->>'kind' ELSE kind END,
	    city = CASE WHEN p ? 'city' THEN p->>'city' ELSE city END,
	    topic = CASE WHEN p ? 'topic' THEN p->>'topic' ELSE topic END,
	    region = CASE WHEN p ? 'region' THEN p->>'region' ELSE region END,
	    timezone = CASE WHEN p ? 'timezone' THEN p->>'timezone'
	        ELSE timezone END,
	    status = CASE WHEN p ? 'status' THEN p->>'status' ELSE status END,
	    updated_at = now()
	WHERE id = old.id
	RETURNING * INTO c;
	PERFORM rc_chapter_check(c);
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, CASE WHEN c.status <> old.status
	        THEN 'chapter.' || c.status ELSE 'chapter.update' END,
	    jsonb_build_object('chapter', c.id, 'slug', c.slug,
	        'fields', (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]')
	            FROM jsonb_object_keys(p) k),
	        'status_from', old.status, 'status_to', c.status));
	RETURN rc_chapter_json(c, true);
END $$;

-- A leader row: the person with this e-mail (made when new) leads the
-- chapter as lead, co_lead or track_owner. That row is the grant: an
-- account with the e-mail holds the role on its next request
-- (rc_account_roles). A retired chapter takes no new leaders.
CREATE OR REPLACE FUNCTION rc_chapter_leader_add(p_slug text, p jsonb,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c chapters;
	l chapter_leaders;
	pid bigint;
	who persons;
BEGIN
	SELECT * INTO c FROM chapters WHERE slug = p_slug FOR SHARE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such chapter.');
	END IF;
	IF c.status = 'retired' THEN
		PERFORM rc_fail(409, 'chapter_retired', 'The chapter "' || c.slug ||
		    '" is retired and takes no new leaders.');
	END IF;
	pid := rc_person_upsert(p->>'email', p->>'name');
	SELECT * INTO who FROM persons WHERE id = pid;
	INSERT INTO chapter_leaders (chapter_id, person_id, role, added_by)
	VALUES (c.id, who.id, p->>'role', p_actor)
	ON CONFLICT DO NOTHING
	RETURNING * INTO l;
	IF NOT FOUND THEN
		PERFORM rc_fail(409, 'already_leader', 'role: that person is ' ||
		    'already ' || (p->>'role') || ' of "' || c.slug || '".');
	END IF;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'chapter.leader_add', jsonb_build_object(
	    'chapter', c.id, 'slug', c.slug, 'person', who.id, 'role', l.role));
	RETURN jsonb_build_object('chapter', c.slug, 'person_id', who.id,
	    'name', who.name, 'email', who.email, 'role', l.role,
	    'since', l.since, 'added_by', l.added_by);
END $$;

-- Remove a person's leader rows of a chapter (one role, or all of them):
-- the roles they gave end at once, on the person's next request.
CREATE OR REPLACE FUNCTION rc_chapter_leader_remove(p_slug text,
    p_person bigint, p_role text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c chapters;
	gone text[];
BEGIN
	SELECT * INTO c FROM chapters WHERE slug = p_slug;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such chapter.');
	END IF;
	WITH d AS (DELETE FROM chapter_leaders
	    WHERE chapter_id = c.id AND person_id = p_person
	      AND (p_role IS NULL OR role = p_role)
	    RETURNING role)
	SELECT array_agg(role ORDER BY role) INTO gone FROM d;
	IF gone IS NULL THEN
		PERFORM rc_fail(404, 'not_found', 'No such leader of "' ||
		    c.slug || '".');
	END IF;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'chapter.leader_remove', jsonb_build_object(
	    'chapter', c.id, 'slug', c.slug, 'person', p_person,
	    'roles', to_jsonb(gone)));
	RETURN jsonb_build_object('chapter', c.slug, 'person_id', p_person,
	    'removed', to_jsonb(gone));
END $$;

-- The console's chapter list (admin, committee): every chapter, retired
-- ones last, with the staff view of each.
CREATE OR REPLACE FUNCTION rc_console_chapters()
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('chapters', coalesce(jsonb_agg(
	    rc_chapter_json(c, true) ORDER BY c.status = 'retired', c.kind,
	        c.name, c.slug), '[]'))
	FROM chapters c
$$;

-- The console's page of one chapter: the staff view, and its events that
-- are not over yet, drafts too (titles and states only), or NULL.
CREATE OR REPLACE FUNCTION rc_console_chapter(p_slug text, p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_chapter_json(c, true) || jsonb_build_object('events',
	    (SELECT coalesce(jsonb_agg(jsonb_build_object('id', e.id,
	        'title', e.title, 'kind', e.kind, 'status', e.status,
	        'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD HH24:MI')) ORDER BY e.starts_at, e.id), '[]')
	    FROM (SELECT * FROM events WHERE chapter_id = c.id
	        AND status NOT IN ('cancelled', 'finished')
	        AND ends_at > now() ORDER BY starts_at, id LIMIT p_limit) e))
	FROM chapters c WHERE c.slug = p_slug
$$;

-- The chapters the event editor offers its user (p_actor, a token's jti
-- or 'acct:N'): the live chapters it may put events in, and the event's
-- own chapter (p_current) whatever its state, so an edit keeps it.
CREATE OR REPLACE FUNCTION rc_chapter_options(p_actor text, p_current text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('slug', c.slug,
	    'name', c.name, 'name_zh', c.name_zh, 'status', c.status)
	    ORDER BY c.name, c.slug), '[]')
	FROM chapters c, (SELECT rc_actor_chapters(p_actor) AS allowed) a
	WHERE c.slug = p_current OR (c.status <> 'retired'
	    AND (a.allowed IS NULL OR c.id = ANY (a.allowed)))
$$;
