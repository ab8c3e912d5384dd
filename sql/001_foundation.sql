-- 001: secrets, events and series, sponsors, staff tokens, the audit log.
--
-- Functions named rc_* are what the daemon calls: each is one statement,
-- one transaction, one round trip. They raise SQLSTATE 'RCnnn' (nnn the
-- HTTP status) with the error code as message and a sentence for a person
-- as detail; the daemon passes both through.

CREATE TABLE secrets (
	name		text PRIMARY KEY,
	value		bytea NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE series (
	id		bigserial PRIMARY KEY,
	title		text NOT NULL,
	description	text NOT NULL DEFAULT '',
	chapter		text NOT NULL,
	track_owner	text NOT NULL,
	timezone	text NOT NULL,
	created_by	text,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
	id			bigserial PRIMARY KEY,
	kind			text NOT NULL
	    CHECK (kind IN ('meetup', 'nighttalk', 'community_day')),
	title			text NOT NULL,
	description		text NOT NULL DEFAULT '',
	chapter			text NOT NULL,
	format			text
	    CHECK (format IN ('workshop', 'hands_on', 'panel')),
	venue			text,
	online_url		text,
	starts_at		timestamptz NOT NULL,
	ends_at			timestamptz NOT NULL,
	timezone		text NOT NULL DEFAULT 'Asia/Shanghai',
	capacity		integer CHECK (capacity >= 0),
	waitlist		boolean NOT NULL DEFAULT true,
	registration_opens_at	timestamptz,
	registration_closes_at	timestamptz,
	members_only		boolean NOT NULL DEFAULT false,
	status			text NOT NULL DEFAULT 'draft'
	    CHECK (status IN ('draft', 'published', 'cancelled', 'finished')),
	series_id		bigint REFERENCES series,
	episode			integer,
	confirmed		integer NOT NULL DEFAULT 0 CHECK (confirmed >= 0),
	created_by		text,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	CHECK (ends_at > starts_at)
);
CREATE INDEX events_public ON events (starts_at)
    WHERE status = 'published' AND NOT members_only;
CREATE INDEX events_series ON events (series_id) WHERE series_id IS NOT NULL;

CREATE TABLE sponsors (
	id		bigserial PRIMARY KEY,
	event_id	bigint NOT NULL REFERENCES events,
	name		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sponsors_event ON sponsors (event_id);

-- One row per staff token ever issued. events NULL means every event.
CREATE TABLE tokens (
	jti		text PRIMARY KEY,
	role		text NOT NULL
	    CHECK (role IN ('door', 'sponsor', 'organizer', 'admin')),
	name		text NOT NULL,
	events		bigint[],
	sponsor_id	bigint REFERENCES sponsors,
	issued_by	text NOT NULL,
	issued_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	revoked_at	timestamptz,
	revoked_by	text
);

CREATE TABLE audit_log (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,
	action		text NOT NULL,
	event_id	bigint,
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_event ON audit_log (event_id, at);

-- IANA zone names, read once: pg_timezone_names scans the zone files on
-- every query (tens of milliseconds). A name missing here is looked up
-- there, so a newer tzdata still works.
CREATE TABLE timezones (name text PRIMARY KEY);
INSERT INTO timezones SELECT DISTINCT name FROM pg_timezone_names;

CREATE FUNCTION rc_tz_ok(tz text)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM timezones WHERE name = tz)
	    OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz)
$$;

-- Raise an error the daemon turns into an HTTP reply.
CREATE FUNCTION rc_fail(status integer, code text, msg text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'RC' || status::text, MESSAGE = code,
	    DETAIL = msg;
END $$;

-- The JSON clients see for an event; staff also see the counts.
CREATE FUNCTION rc_event_json(e events, staff boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', e.id, 'kind', e.kind, 'title', e.title,
	    'description', e.description, 'chapter', e.chapter,
	    'format', e.format, 'venue', e.venue, 'online_url', e.online_url,
	    'starts_at', e.starts_at, 'ends_at', e.ends_at,
	    'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	        'YYYY-MM-DD"T"HH24:MI:SS'),
	    'ends_at_local', to_char(e.ends_at AT TIME ZONE e.timezone,
	        'YYYY-MM-DD"T"HH24:MI:SS'),
	    'timezone', e.timezone, 'capacity', e.capacity,
	    'seats_left', CASE WHEN e.capacity IS NULL THEN NULL
	        ELSE greatest(e.capacity - e.confirmed, 0) END,
	    'waitlist', e.waitlist,
	    'registration_opens_at', e.registration_opens_at,
	    'registration_closes_at', e.registration_closes_at,
	    'members_only', e.members_only, 'status', e.status,
	    'series_id', e.series_id, 'episode', e.episode,
	    'sponsors', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'id', s.id, 'name', s.name) ORDER BY s.id), '[]')
	        FROM sponsors s WHERE s.event_id = e.id))
	    || CASE WHEN staff THEN jsonb_build_object(
	        'confirmed', e.confirmed, 'created_at', e.created_at,
	        'updated_at', e.updated_at)
	    ELSE '{}'::jsonb END
$$;

-- Published, public, not yet over; optionally one kind or chapter.
CREATE FUNCTION rc_event_list(p_kind text, p_chapter text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('events', coalesce(jsonb_agg(
	    rc_event_json(e) ORDER BY e.starts_at, e.id), '[]'))
	FROM events e
	WHERE e.status = 'published' AND NOT e.members_only
	  AND e.ends_at > now()
	  AND (p_kind IS NULL OR e.kind = p_kind)
	  AND (p_chapter IS NULL OR e.chapter = p_chapter)
$$;

-- One event; drafts only for staff in scope. NULL when not visible.
CREATE FUNCTION rc_event_get(p_id bigint, p_staff boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_event_json(e, p_staff) FROM events e
	WHERE e.id = p_id AND (p_staff OR e.status <> 'draft')
$$;

-- The rules an event must keep after any create or edit.
CREATE FUNCTION rc_event_check(e events)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	local timestamp;
BEGIN
	IF NOT rc_tz_ok(e.timezone) THEN
		PERFORM rc_fail(400, 'invalid_field', 'timezone: "' ||
		    e.timezone || '" is not an IANA time zone such as Asia/Shanghai.');
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
	IF e.kind IN ('meetup', 'community_day')
	    AND coalesce(btrim(e.venue), '') = '' THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'venue: an in-person event needs a venue.');
	END IF;
	IF e.kind = 'nighttalk' THEN
		IF e.online_url IS NULL THEN
			PERFORM rc_fail(400, 'invalid_field',
			    'online_url: a NightTalk needs its stream address.');
		END IF;
		local := e.starts_at AT TIME ZONE e.timezone;
		IF extract(isodow FROM local) <> 4 OR local::time <> '20:00'
		    OR e.ends_at - e.starts_at <> interval '1 hour' THEN
			PERFORM rc_fail(400, 'invalid_field',
			    'starts_at: a NightTalk runs Thursdays 20:00-21:00 ' ||
			    'in its time zone.');
		END IF;
	END IF;
	IF e.registration_opens_at IS NOT NULL
	    AND e.registration_closes_at IS NOT NULL
	    AND e.registration_closes_at <= e.registration_opens_at THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'registration_closes_at: must be after registration_opens_at.');
	END IF;
	IF e.capacity IS NOT NULL AND e.capacity < e.confirmed THEN
		PERFORM rc_fail(409, 'capacity_below_confirmed',
		    'capacity: ' || e.confirmed || ' registrations are already ' ||
		    'confirmed.');
	END IF;
END $$;

-- A new event, as a draft. A scoped organizer's token gains it.
CREATE FUNCTION rc_event_create(p jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	k text := p->>'kind';
BEGIN
	IF (p->>'ends_at')::timestamptz <= (p->>'starts_at')::timestamptz THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'ends_at: must be after starts_at.');
	END IF;
	INSERT INTO events (kind, title, description, chapter, format, venue,
	    online_url, starts_at, ends_at, timezone, capacity, waitlist,
	    registration_opens_at, registration_closes_at, members_only,
	    created_by)
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
	    p_actor)
	RETURNING * INTO e;
	PERFORM rc_event_check(e);
	UPDATE tokens SET events = array_append(events, e.id)
	WHERE jti = p_actor AND events IS NOT NULL;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'event.create', e.id, jsonb_build_object('kind', k));
	RETURN rc_event_json(e, true);
END $$;

-- Edit fields, or move status: draft -> published | cancelled,
-- published -> cancelled | finished.
CREATE FUNCTION rc_event_update(p_id bigint, p jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	old_status text;
	new_status text := p->>'status';
BEGIN
	SELECT * INTO e FROM events WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such event.');
	END IF;
	old_status := e.status;
	IF p ? 'kind' AND p->>'kind' <> e.kind THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'kind: an event''s kind cannot change.');
	END IF;
	IF e.status IN ('cancelled', 'finished') THEN
		PERFORM rc_fail(409, 'event_closed',
		    'This event is ' || e.status || ' and can no longer change.');
	END IF;
	IF new_status IS NOT NULL AND new_status <> old_status AND NOT (
	    (old_status = 'draft' AND new_status IN ('published', 'cancelled'))
	    OR (old_status = 'published'
	        AND new_status IN ('cancelled', 'finished'))) THEN
		PERFORM rc_fail(409, 'invalid_transition', 'status: an event ' ||
		    'cannot go from ' || old_status || ' to ' || new_status || '.');
	END IF;
	IF coalesce((p->>'ends_at')::timestamptz, e.ends_at) <=
	    coalesce((p->>'starts_at')::timestamptz, e.starts_at) THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'ends_at: must be after starts_at.');
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
	    status = coalesce(new_status, status),
	    updated_at = now()
	WHERE id = p_id
	RETURNING * INTO e;
	PERFORM rc_event_check(e);
	-- Re-read: triggers (the waitlist filling new seats) may have run.
	SELECT * INTO e FROM events WHERE id = p_id;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, CASE WHEN e.status <> old_status
	        THEN 'event.' || e.status ELSE 'event.update' END, e.id,
	    jsonb_build_object('fields', (SELECT jsonb_agg(k)
	        FROM jsonb_object_keys(p) k)));
	RETURN rc_event_json(e, true);
END $$;

-- A NightTalk series: episodes on consecutive Thursdays from the first
-- Thursday on or after starts_on, 20:00-21:00 in the series' time zone.
CREATE FUNCTION rc_series_create(p jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	tz text := coalesce(p->>'timezone', 'Asia/Shanghai');
	n integer := (p->>'episodes')::integer;
	first date;
	sid bigint;
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
	first := (p->>'starts_on')::date;
	first := first + ((11 - extract(isodow FROM first)::integer) % 7);
	INSERT INTO series (title, description, chapter, track_owner, timezone,
	    created_by)
	VALUES (p->>'title', coalesce(p->>'description', ''), p->>'chapter',
	    p->>'track_owner', tz, p_actor)
	RETURNING id INTO sid;
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
	    'timezone', tz, 'events', out);
END $$;

-- Record a new staff token. A sponsor token is bound to its sponsor's
-- event; p_scope (the issuer's events, NULL for all) bounds what an
-- organizer may hand out.
CREATE FUNCTION rc_token_issue(p_jti text, p_role text, p_name text,
    p_events bigint[], p_sponsor bigint, p_expires timestamptz,
    p_issued_by text, p_scope bigint[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	sponsor_event bigint;
	missing bigint;
BEGIN
	IF p_sponsor IS NOT NULL THEN
		IF p_role <> 'sponsor' THEN
			PERFORM rc_fail(400, 'invalid_field',
			    'sponsor: only sponsor tokens belong to a sponsor.');
		END IF;
		SELECT event_id INTO sponsor_event FROM sponsors
		WHERE id = p_sponsor;
		IF NOT FOUND THEN
			PERFORM rc_fail(404, 'not_found', 'No such sponsor.');
		END IF;
		IF p_scope IS NOT NULL AND NOT sponsor_event = ANY (p_scope) THEN
			PERFORM rc_fail(403, 'out_of_scope',
			    'That sponsor belongs to an event outside your scope.');
		END IF;
		p_events := ARRAY[sponsor_event];
	END IF;
	SELECT x INTO missing FROM unnest(p_events) x
	WHERE NOT EXISTS (SELECT 1 FROM events WHERE id = x) LIMIT 1;
	IF FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No event ' || missing || '.');
	END IF;
	INSERT INTO tokens (jti, role, name, events, sponsor_id, issued_by,
	    expires_at)
	VALUES (p_jti, p_role, p_name, p_events, p_sponsor, p_issued_by,
	    p_expires);
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_issued_by, 'token.issue', p_events[1], jsonb_build_object(
	    'jti', p_jti, 'role', p_role, 'name', p_name,
	    'events', to_jsonb(p_events), 'sponsor', p_sponsor,
	    'expires_at', p_expires));
	RETURN jsonb_build_object('jti', p_jti, 'role', p_role,
	    'name', p_name, 'events', to_jsonb(p_events),
	    'sponsor_id', p_sponsor, 'expires_at', p_expires,
	    'expires_epoch', extract(epoch FROM p_expires)::bigint);
END $$;

-- Revoke a token. An organizer may revoke what it issued, or door and
-- sponsor tokens wholly inside its scope.
CREATE FUNCTION rc_token_revoke(p_jti text, p_actor text, p_actor_role text,
    p_scope bigint[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	t tokens;
BEGIN
	SELECT * INTO t FROM tokens WHERE jti = p_jti FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such token.');
	END IF;
	IF p_actor_role <> 'admin' AND NOT (t.issued_by = p_actor
	    OR (t.role IN ('door', 'sponsor') AND (p_scope IS NULL
	        OR (t.events IS NOT NULL AND t.events <@ p_scope)))) THEN
		PERFORM rc_fail(403, 'out_of_scope',
		    'You may not revoke that token.');
	END IF;
	UPDATE tokens SET revoked_at = coalesce(revoked_at, now()),
	    revoked_by = coalesce(revoked_by, p_actor)
	WHERE jti = p_jti RETURNING * INTO t;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'token.revoke', t.events[1],
	    jsonb_build_object('jti', p_jti, 'role', t.role));
	RETURN jsonb_build_object('jti', t.jti, 'revoked_at', t.revoked_at);
END $$;
