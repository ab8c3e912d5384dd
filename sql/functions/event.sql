-- Events and NightTalk series: their JSON, the rules they keep, create,
-- edit, and the waitlist filling seats that raised capacity frees.

-- The JSON clients see for an event; staff also see the counts and the
-- stream's address (online_url): everyone else reaches a stream only
-- through their own registration's join link (/j/{secret}).
CREATE OR REPLACE FUNCTION rc_event_json(e events, staff boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', e.id, 'kind', e.kind, 'title', e.title,
	    'description', e.description, 'chapter', e.chapter,
	    'chapter_name', c.name, 'chapter_name_zh', c.name_zh,
	    'format', e.format, 'venue', e.venue,
	    'starts_at', e.starts_at, 'ends_at', e.ends_at,
	    'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	        'YYYY-MM-DD"T"HH24:MI:SS'),
	    'ends_at_local', to_char(e.ends_at AT TIME ZONE e.timezone,
	        'YYYY-MM-DD"T"HH24:MI:SS'),
	    'timezone', e.timezone, 'capacity', e.capacity,
	    'seats_left', CASE WHEN e.capacity IS NULL THEN NULL
	        ELSE greatest(e.seat_limit - e.confirmed, 0) END,
	    'reconfirm_hours', e.reconfirm_hours,
	    'release_hours', e.release_hours,
	    'waitlist', e.waitlist,
	    'registration_opens_at', e.registration_opens_at,
	    'registration_closes_at', e.registration_closes_at,
	    'members_only', e.members_only, 'status', e.status,
	    'booth_accepts_ticket', e.booth_accepts_ticket,
	    'series_id', e.series_id, 'episode', e.episode,
	    'sponsors', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'id', s.id, 'name', s.name) ORDER BY s.id), '[]')
	        FROM rc_event_sponsors(e.id) s))
	    || CASE WHEN staff THEN jsonb_build_object(
	        'online_url', e.online_url, 'confirmed', e.confirmed, 'overbook_percent', e.overbook_percent,
	        'seat_limit', e.seat_limit, 'created_at', e.created_at,
	        'updated_at', e.updated_at,
	        'proposal', rc_event_proposal_json(e.id),
	        'committee_live', rc_committee_live(),
	        'sponsorships', rc_event_sponsorships(e.id))
	    ELSE '{}'::jsonb END
	FROM (SELECT NULL) x LEFT JOIN chapters c ON c.id = e.chapter_id
$$;

-- Published, public, not yet over; optionally one kind or chapter (by
-- its slug, or by its name in either language, as a person types it).
CREATE OR REPLACE FUNCTION rc_event_list(p_kind text, p_chapter text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('events', coalesce(jsonb_agg(
	    rc_event_json(e) ORDER BY e.starts_at, e.id), '[]'))
	FROM events e
	WHERE e.status = 'published' AND NOT e.members_only
	  AND e.ends_at > now()
	  AND (p_kind IS NULL OR e.kind = p_kind)
	  AND (p_chapter IS NULL OR e.chapter = p_chapter
	    OR e.chapter_id IN (SELECT id FROM chapters
	        WHERE lower(name) = lower(p_chapter)
	           OR (name_zh <> '' AND name_zh = p_chapter)))
$$;

-- One event with its agenda; drafts (and proposals not yet published)
-- only for staff in scope, who also see the counts and the chapter's
-- turnout. NULL when not visible.
CREATE OR REPLACE FUNCTION rc_event_get(p_id bigint, p_staff boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_event_json(e, p_staff)
	    || jsonb_build_object('sessions', rc_agenda(e.id))
	    || CASE WHEN p_staff
	    THEN jsonb_build_object('counts', rc_event_counts(e.id),
	        'turnout', rc_chapter_turnout(e.chapter, e.id))
	    ELSE '{}'::jsonb END
	FROM events e
	WHERE e.id = p_id AND (p_staff OR e.status IN ('published', 'cancelled',
	    'finished'))
$$;

-- What an event needs before it is proposed or published (a draft may
-- lack it while the leader plans): a start, and a venue or an online URL.
CREATE OR REPLACE FUNCTION rc_event_ready(e events)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF e.starts_at IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field', 'starts_at: an event needs ' ||
		    'its start and end before it is proposed or published.');
	END IF;
	IF coalesce(btrim(e.venue), '') = '' AND e.online_url IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field', 'venue: an event needs a ' ||
		    'venue (or an online_url) before it is proposed or published.');
	END IF;
END $$;

-- The shape of each kind, in the event's own time zone: a meetup ends on
-- the day it starts, at most 12 hours later; a community day is one day
-- (it may end at midnight); NightTalks keep their Thursday hour.
CREATE OR REPLACE FUNCTION rc_event_shape(e events)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	sl timestamp := e.starts_at AT TIME ZONE e.timezone;
	el timestamp := e.ends_at AT TIME ZONE e.timezone;
	midnight timestamp := date_trunc('day', sl) + interval '1 day';
BEGIN
	IF e.kind = 'meetup' AND (el > midnight
	    OR e.ends_at - e.starts_at > interval '12 hours') THEN
		PERFORM rc_fail(400, 'invalid_field', 'ends_at: a meetup ends on ' ||
		    'the day it starts (in ' || e.timezone || '), at most 12 ' ||
		    'hours after starts_at; several days are a community day or ' ||
		    'several meetups.');
	END IF;
	IF e.kind = 'community_day' AND el > midnight THEN
		PERFORM rc_fail(400, 'invalid_field', 'ends_at: a community day ' ||
		    'starts and ends on one day (in ' || e.timezone || ').');
	END IF;
	IF e.kind = 'nighttalk' AND (extract(isodow FROM sl) <> 4
	    OR sl::time <> '20:00' OR el - sl <> interval '1 hour') THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'starts_at: a NightTalk runs Thursdays 20:00-21:00 ' ||
		    'in its time zone.');
	END IF;
END $$;

-- The rules an event must keep after any create or edit.
CREATE OR REPLACE FUNCTION rc_event_check(e events)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF NOT rc_tz_ok(e.timezone) THEN
		PERFORM rc_fail(400, 'invalid_field', 'timezone: "' ||
		    e.timezone || '" is not an IANA time zone such as Asia/Shanghai.');
	END IF;
	IF (e.starts_at IS NULL) <> (e.ends_at IS NULL) THEN
		PERFORM rc_fail(400, 'invalid_field', CASE WHEN e.starts_at IS NULL
		    THEN 'starts_at' ELSE 'ends_at' END || ': give starts_at and ' ||
		    'ends_at together (a draft may have neither yet).');
	END IF;
	IF e.ends_at <= e.starts_at THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'ends_at: must be after starts_at.');
	END IF;
	IF e.kind = 'meetup' AND e.format IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'format: a meetup is a workshop, hands_on or panel.');
	END IF;
	IF e.kind <> 'meetup' AND e.format IS NOT NULL THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'format: only meetups have a format.');
	END IF;
	IF e.kind = 'nighttalk' AND e.online_url IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'online_url: a NightTalk needs its stream address.');
	END IF;
	IF e.kind = 'nighttalk' AND e.starts_at IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'starts_at: a NightTalk runs Thursdays 20:00-21:00 ' ||
		    'in its time zone.');
	END IF;
	IF e.starts_at IS NOT NULL THEN
		PERFORM rc_event_shape(e);
	END IF;
	IF e.status IN ('proposed', 'approved', 'published') THEN
		PERFORM rc_event_ready(e);
	END IF;
	IF e.registration_opens_at IS NOT NULL
	    AND e.registration_closes_at IS NOT NULL
	    AND e.registration_closes_at <= e.registration_opens_at THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'registration_closes_at: must be after registration_opens_at.');
	END IF;
	IF e.reconfirm_hours > 0 AND e.release_hours > 0
	    AND e.release_hours >= e.reconfirm_hours THEN
		PERFORM rc_fail(400, 'invalid_field', 'release_hours: must be ' ||
		    'fewer than reconfirm_hours (' || e.reconfirm_hours || ').');
	END IF;
	IF e.capacity IS NOT NULL AND e.seat_limit < e.confirmed THEN
		PERFORM rc_fail(409, 'capacity_below_confirmed',
		    'capacity: ' || e.confirmed || ' registrations are already ' ||
		    'confirmed.');
	END IF;
END $$;

-- A new event, as a draft (it may lack a date, a venue and a capacity
-- while it is planned). A scoped organizer's token gains it.
CREATE OR REPLACE FUNCTION rc_event_create(p jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	k text := p->>'kind';
BEGIN
	IF (p->>'ends_at')::timestamptz <= (p->>'starts_at')::timestamptz THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'ends_at: must be after starts_at.');
	END IF;
	IF (p->>'starts_at' IS NULL) <> (p->>'ends_at' IS NULL) THEN
		PERFORM rc_fail(400, 'invalid_field', CASE WHEN p->>'starts_at'
		    IS NULL THEN 'starts_at' ELSE 'ends_at' END || ': give ' ||
		    'starts_at and ends_at together (a draft may have neither yet).');
	END IF;
	INSERT INTO events (kind, title, description, chapter, format, venue,
	    online_url, starts_at, ends_at, timezone, capacity, waitlist,
	    registration_opens_at, registration_closes_at, members_only,
	    booth_accepts_ticket, reconfirm_hours, release_hours,
	    overbook_percent, created_by)
	VALUES (k, p->>'title', coalesce(p->>'description', ''), p->>'chapter',
	    p->>'format', p->>'venue', p->>'online_url',
	    (p->>'starts_at')::timestamptz, (p->>'ends_at')::timestamptz,
	    coalesce(p->>'timezone', 'Asia/Shanghai'),
	    CASE WHEN p ? 'capacity' THEN (p->>'capacity')::integer
	        WHEN k = 'meetup' THEN 100
	        WHEN k = 'community_day' THEN 300 END,
	    coalesce((p->>'waitlist')::boolean, true),
	    (p->>'registration_opens_at')::timestamptz,
	    (p->>'registration_closes_at')::timestamptz,
	    coalesce((p->>'members_only')::boolean, k = 'nighttalk'),
	    coalesce((p->>'booth_accepts_ticket')::boolean, true),
	    (p->>'reconfirm_hours')::integer, (p->>'release_hours')::integer,
	    coalesce((p->>'overbook_percent')::integer, 0), p_actor)
	RETURNING * INTO e;
	PERFORM rc_chapter_in_scope(p_actor, e.chapter_id);
	PERFORM rc_event_check(e);
	UPDATE tokens SET events = array_append(events, e.id)
	WHERE jti = p_actor AND events IS NOT NULL;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'event.create', e.id, jsonb_build_object('kind', k));
	RETURN rc_event_json(e, true);
END $$;

-- Edit fields, or move status (docs/approval.md): draft, proposed or
-- approved -> published | cancelled; proposed or approved -> draft (the
-- proposal withdrawn); published -> cancelled | finished. Proposing and
-- approving have their own calls (rc_event_propose, rc_event_decide).
-- p_approval says how approval applies to the caller (server/config.c,
-- config_approval_for): 'direct' for admin and committee, else the
-- deployment's switch, 'auto' (needed once a committee member is live),
-- 'required' or 'off'. Publishing before approval when it is needed:
-- 409 approval_required.
CREATE OR REPLACE FUNCTION rc_event_update(p_id bigint, p jsonb, p_actor text,
    p_approval text DEFAULT 'auto')
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	old_status text;
	old_chapter bigint;
	new_status text := p->>'status';
	ns timestamptz;
	ne timestamptz;
	act text;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such event.');
	END IF;
	old_status := e.status;
	old_chapter := e.chapter_id;
	IF new_status = old_status THEN
		new_status := NULL;
	END IF;
	IF p ? 'kind' AND p->>'kind' <> e.kind THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'kind: an event''s kind cannot change.');
	END IF;
	IF e.status IN ('cancelled', 'finished') THEN
		PERFORM rc_fail(409, 'event_closed',
		    'This event is ' || e.status || ' and can no longer change.');
	END IF;
	IF new_status IN ('proposed', 'approved') THEN
		PERFORM rc_fail(409, 'invalid_transition', 'status: an event is ' ||
		    new_status || ' through POST /api/v1/events/' || p_id ||
		    CASE new_status WHEN 'proposed' THEN '/proposal (staff).'
		    ELSE '/decision (the committee).' END);
	END IF;
	IF new_status IS NOT NULL AND NOT (
	    (old_status IN ('draft', 'proposed', 'approved')
	        AND new_status IN ('published', 'cancelled'))
	    OR (old_status IN ('proposed', 'approved') AND new_status = 'draft')
	    OR (old_status = 'published'
	        AND new_status IN ('cancelled', 'finished'))) THEN
		PERFORM rc_fail(409, 'invalid_transition', 'status: an event ' ||
		    'cannot go from ' || old_status || ' to ' || new_status || '.');
	END IF;
	IF new_status = 'published' AND old_status IN ('draft', 'proposed')
	    AND rc_approval_needed(p_approval) THEN
		PERFORM rc_fail(409, 'approval_required', CASE old_status
		    WHEN 'draft' THEN 'status: this event needs the committee''s ' ||
		        'approval before it is published: submit it (POST ' ||
		        '/api/v1/events/' || p_id || '/proposal) and wait for ' ||
		        'the decision.'
		    ELSE 'status: this event is waiting for the committee''s ' ||
		        'decision; it can be published once approved.' END);
	END IF;
	ns := CASE WHEN p ? 'starts_at' THEN (p->>'starts_at')::timestamptz
	    ELSE e.starts_at END;
	ne := CASE WHEN p ? 'ends_at' THEN (p->>'ends_at')::timestamptz
	    ELSE e.ends_at END;
	IF (ns IS NULL) <> (ne IS NULL) THEN
		PERFORM rc_fail(400, 'invalid_field', CASE WHEN ns IS NULL
		    THEN 'starts_at' ELSE 'ends_at' END || ': give starts_at and ' ||
		    'ends_at together (a draft may have neither yet).');
	END IF;
	IF ne <= ns THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'ends_at: must be after starts_at.');
	END IF;
	IF ns IS NULL AND coalesce(new_status, old_status) NOT IN ('draft',
	    'cancelled') THEN
		PERFORM rc_fail(400, 'invalid_field', 'starts_at: an event needs ' ||
		    'its start and end before it is proposed or published.');
	END IF;
	UPDATE events SET
	    title = CASE WHEN p ? 'title' THEN p->>'title' ELSE title END,
	    description = CASE WHEN p ? 'description' THEN p->>'description'
	        ELSE description END,
	    chapter = CASE WHEN p ? 'chapter' THEN p->>'chapter' ELSE chapter END,
	    format = CASE WHEN p ? 'format' THEN p->>'format' ELSE format END,
	    venue = CASE WHEN p ? 'venue' THEN p->>'venue' ELSE venue END,
	    online_url = CASE WHEN p ? 'online_url' THEN p->>'online_url'
	        ELSE online_url END,
	    starts_at = CASE WHEN p ? 'starts_at'
	        THEN (p->>'starts_at')::timestamptz ELSE starts_at END,
	    ends_at = CASE WHEN p ? 'ends_at'
	        THEN (p->>'ends_at')::timestamptz ELSE ends_at END,
	    timezone = CASE WHEN p ? 'timezone' THEN p->>'timezone'
	        ELSE timezone END,
	    capacity = CASE WHEN p ? 'capacity' THEN (p->>'capacity')::integer
	        ELSE capacity END,
	    waitlist = CASE WHEN p ? 'waitlist' THEN (p->>'waitlist')::boolean
	        ELSE waitlist END,
	    registration_opens_at = CASE WHEN p ? 'registration_opens_at'
	        THEN (p->>'registration_opens_at')::timestamptz
	        ELSE registration_opens_at END,
	    registration_closes_at = CASE WHEN p ? 'registration_closes_at'
	        THEN (p->>'registration_closes_at')::timestamptz
	        ELSE registration_closes_at END,
	    members_only = CASE WHEN p ? 'members_only'
	        THEN (p->>'members_only')::boolean ELSE members_only END,
	    booth_accepts_ticket = CASE WHEN p ? 'booth_accepts_ticket'
	        THEN (p->>'booth_accepts_ticket')::boolean
	        ELSE booth_accepts_ticket END,
	    reconfirm_hours = CASE WHEN p ? 'reconfirm_hours'
	        THEN (p->>'reconfirm_hours')::integer ELSE reconfirm_hours END,
	    release_hours = CASE WHEN p ? 'release_hours'
	        THEN (p->>'release_hours')::integer ELSE release_hours END,
	    overbook_percent = CASE WHEN p ? 'overbook_percent'
	        THEN coalesce((p->>'overbook_percent')::integer, 0)
	        ELSE overbook_percent END,
	    status = coalesce(new_status, status),
	    ics_sequence = ics_sequence + 1,
	    updated_at = now()
	WHERE id = p_id
	RETURNING * INTO e;
	IF e.chapter_id <> old_chapter THEN
		PERFORM rc_chapter_in_scope(p_actor, e.chapter_id);
	END IF;
	PERFORM rc_event_check(e);
	-- An open proposal ends with the move: published (the committee's
	-- own, or no approval needed) counts as approved; else withdrawn.
	IF new_status IS NOT NULL THEN
		UPDATE event_proposals SET decided_at = now(), decided_by = p_actor,
		    decision = CASE WHEN new_status = 'published' THEN 'approved'
		        ELSE 'withdrawn' END
		WHERE event_id = p_id AND decision IS NULL;
	END IF;
	-- Re-read: triggers (the waitlist filling new seats) may have run.
	SELECT * INTO e FROM events WHERE id = p_id;
	act := CASE WHEN new_status IS NULL THEN 'event.update'
	    WHEN new_status = 'draft' THEN 'event.withdrawn'
	    ELSE 'event.' || new_status END;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, act, e.id, jsonb_build_object('fields',
	    (SELECT jsonb_agg(k) FROM jsonb_object_keys(p) k), 'from', old_status));
	RETURN rc_event_json(e, true);
END $$;

-- A NightTalk series: episodes on consecutive Thursdays from the first
-- Thursday on or after starts_on, 20:00-21:00 in the series' time zone.
CREATE OR REPLACE FUNCTION rc_series_create(p jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	tz text := coalesce(p->>'timezone', 'Asia/Shanghai');
	n integer := (p->>'episodes')::integer;
	first date;
	sid bigint;
	cid bigint;
	e events;
	st timestamptz;
	ids bigint[] := '{}';
	out jsonb := '[]';
	k integer;
BEGIN
	IF NOT rc_tz_ok(tz) THEN
		PERFORM rc_fail(400, 'invalid_field', 'timezone: "' || tz ||
		    '" is not an IANA time zone such as Asia/Shanghai.');
	END IF;
	-- Completion (certificates): at least this many episodes joined;
	-- NULL is every episode.
	IF (p->>'completion_threshold')::integer NOT BETWEEN 1 AND n THEN
		PERFORM rc_fail(400, 'invalid_field', 'completion_threshold: 1 '
		    'to ' || n || ' (the episodes), or null for every episode.');
	END IF;
	first := (p->>'starts_on')::date;
	first := first + ((11 - extract(isodow FROM first)::integer) % 7);
	INSERT INTO series (title, description, chapter, track_owner, timezone,
	    created_by, completion_threshold)
	VALUES (p->>'title', coalesce(p->>'description', ''), p->>'chapter',
	    p->>'track_owner', tz, p_actor,
	    (p->>'completion_threshold')::integer)
	RETURNING id, chapter_id INTO sid, cid;
	PERFORM rc_chapter_in_scope(p_actor, cid);
	FOR k IN 1..n LOOP
		st := ((first + (k - 1) * 7)::timestamp + time '20:00')
		    AT TIME ZONE tz;
		INSERT INTO events (kind, title, description, chapter,
		    online_url, starts_at, ends_at, timezone, capacity, waitlist,
		    members_only, series_id, episode, created_by)
		VALUES ('nighttalk',
		    coalesce(p->'episode_titles'->>(k - 1),
		        left(p->>'title', 195) || ' #' || k),
		    coalesce(p->>'description', ''), p->>'chapter',
		    p->>'online_url', st, st + interval '1 hour', tz,
		    (p->>'capacity')::integer,
		    coalesce((p->>'waitlist')::boolean, true),
		    coalesce((p->>'members_only')::boolean, true), sid, k, p_actor)
		RETURNING * INTO e;
		PERFORM rc_event_check(e);
		ids := ids || e.id;
		out := out || jsonb_build_array(rc_event_json(e, true));
	END LOOP;
	UPDATE tokens SET events = events || ids
	WHERE jti = p_actor AND events IS NOT NULL;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'series.create', jsonb_build_object('series', sid,
	    'events', to_jsonb(ids)));
	RETURN jsonb_build_object('id', sid, 'title', p->>'title',
	    'chapter', p->>'chapter', 'track_owner', p->>'track_owner',
	    'timezone', tz,
	    'completion_threshold', (p->>'completion_threshold')::integer,
	    'events', out);
END $$;

-- Counts per status, for organizers.
CREATE OR REPLACE FUNCTION rc_event_counts(p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'confirmed', count(*) FILTER (WHERE status = 'confirmed'),
	    'waitlisted', count(*) FILTER (WHERE status = 'waitlisted'),
	    'cancelled', count(*) FILTER (WHERE status = 'cancelled'))
	FROM registrations WHERE event_id = p_event
$$;

-- Raising capacity (or the overbooking) fills the new seats from the
-- waitlist.
CREATE OR REPLACE FUNCTION rc_event_fill_after_update()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.status = 'published'
	    AND (NEW.seat_limit IS DISTINCT FROM OLD.seat_limit)
	    AND (NEW.capacity IS NULL OR NEW.seat_limit > NEW.confirmed) THEN
		PERFORM rc_promote(NEW.id);
	END IF;
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER events_fill
    AFTER UPDATE OF capacity, overbook_percent ON events
    FOR EACH ROW EXECUTE FUNCTION rc_event_fill_after_update();

-- Whether the event was cancelled: its tickets admit no one at the door
-- and make no lead at a booth (verdict `cancelled`).
CREATE OR REPLACE FUNCTION rc_event_cancelled(p_event bigint)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM events WHERE id = p_event
	    AND status = 'cancelled')
$$;
