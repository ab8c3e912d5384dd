-- The organizer console's pages: what they show and the changes they make
-- on an attendee's behalf. Scope (p_scope: the account's events, NULL for
-- all) is checked by the router for pages on one event; the overview
-- filters by it here. Every change writes audit_log with the account.

-- "cnt" of one event for the console: seats, waitlist, door.
CREATE OR REPLACE FUNCTION rc_console_counts(e events)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', e.id, 'title', e.title,
	    'kind', e.kind, 'status', e.status, 'chapter', e.chapter,
	    'timezone', e.timezone,
	    'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	        'YYYY-MM-DD HH24:MI'),
	    'capacity', e.capacity, 'confirmed', e.confirmed,
	    'waitlisted', (SELECT count(*) FROM registrations r
	        WHERE r.event_id = e.id AND r.status = 'waitlisted'),
	    'checked_in', (SELECT count(*) FROM registrations r
	        WHERE r.event_id = e.id AND r.checked_in_at IS NOT NULL
	          AND r.status = 'confirmed'))
$$;

-- The overview: the account's upcoming events (drafts, dated or not, and
-- proposals too), soonest first.
CREATE OR REPLACE FUNCTION rc_console_overview(p_scope bigint[],
    p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('events', coalesce(jsonb_agg(
	    rc_console_counts(e) ORDER BY e.starts_at, e.id), '[]'))
	FROM (SELECT * FROM events
	    WHERE (p_scope IS NULL OR id = ANY (p_scope))
	      AND status IN ('draft', 'proposed', 'approved', 'published')
	      AND (ends_at IS NULL OR ends_at > now() - interval '1 day')
	    ORDER BY starts_at, id LIMIT p_limit) e
$$;

-- LIKE's wildcards in a person's search text, taken literally.
CREATE OR REPLACE FUNCTION rc_like_escape(p text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT replace(replace(replace(coalesce(p, ''), '\', '\\'), '%', '\%'),
	    '_', '\_')
$$;

-- The check-in desk: the event's confirmed attendees whose name (or
-- company) contains p_q, with who is in, by gate; p_undo seconds is how
-- long a check-in can be undone.
CREATE OR REPLACE FUNCTION rc_console_desk(p_event bigint, p_q text,
    p_limit integer, p_undo integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN e.id IS NULL THEN NULL ELSE jsonb_build_object(
	    'event', rc_console_counts(e),
	    'gates', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'gate', g.gate, 'n', g.n) ORDER BY g.gate), '[]')
	        FROM (SELECT coalesce(checkin_gate, '-') AS gate, count(*) AS n
	            FROM registrations WHERE event_id = e.id
	              AND status = 'confirmed' AND checked_in_at IS NOT NULL
	            GROUP BY 1) g),
	    'attendees', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'id', r.id, 'name', r.name, 'company', r.company,
	        'checked_in', r.checked_in_at IS NOT NULL,
	        'checked_in_at', to_char(r.checked_in_at AT TIME ZONE e.timezone,
	            'HH24:MI:SS'),
	        'gate', r.checkin_gate,
	        'can_undo', r.checked_in_at > now() - make_interval(secs => p_undo))
	        ORDER BY r.name, r.id), '[]')
	        FROM (SELECT * FROM registrations
	            WHERE event_id = e.id AND status = 'confirmed'
	              AND (coalesce(p_q, '') = ''
	                OR name ILIKE '%' || rc_like_escape(p_q) || '%'
	                OR company ILIKE '%' || rc_like_escape(p_q) || '%')
	            ORDER BY name, id LIMIT p_limit) r)) END
	FROM (SELECT NULL) x LEFT JOIN events e ON e.id = p_event
$$;

-- Tick to check in at the desk: the scanner's own statement (rc_checkin,
-- one conditional UPDATE, exactly one winner) on the registration's
-- ticket claims, recorded with the account as the door.
CREATE OR REPLACE FUNCTION rc_console_checkin(p_event bigint, p_reg bigint,
    p_gate text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	res jsonb;
BEGIN
	SELECT * INTO r FROM registrations WHERE id = p_reg AND event_id = p_event;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such registration.');
	END IF;
	IF r.status <> 'confirmed' THEN
		RETURN jsonb_build_object('result', CASE r.status
		    WHEN 'waitlisted' THEN 'not_confirmed' ELSE r.status END,
		    'registration_id', r.id);
	END IF;
	res := rc_checkin(p_actor, ARRAY[p_event], p_event,
	    rc_ticket_claims(r), p_gate, NULL);
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'checkin.desk', p_event, jsonb_build_object(
	    'registration', p_reg, 'result', res->>'result', 'gate', p_gate));
	RETURN res || jsonb_build_object('registration_id', r.id);
END $$;

-- Undo a desk check-in made within p_secs seconds.
CREATE OR REPLACE FUNCTION rc_console_checkin_undo(p_event bigint,
    p_reg bigint, p_secs integer, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
BEGIN
	UPDATE registrations SET checked_in_at = NULL, checkin_gate = NULL
	WHERE id = p_reg AND event_id = p_event
	    AND checked_in_at > now() - make_interval(secs => p_secs)
	RETURNING * INTO r;
	IF NOT FOUND THEN
		PERFORM rc_fail(409, 'undo_too_late',
		    'That check-in can no longer be undone.');
	END IF;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'checkin.undo', p_event,
	    jsonb_build_object('registration', p_reg));
	RETURN jsonb_build_object('result', 'undone', 'registration_id', r.id);
END $$;

-- Registrations of one event for the console: search, one status, the
-- waitlist in its order (by id, as rc_promote takes it).
CREATE OR REPLACE FUNCTION rc_console_registrations(p_event bigint,
    p_q text, p_status text, p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN e.id IS NULL THEN NULL ELSE jsonb_build_object(
	    'event', rc_console_counts(e),
	    'registrations', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'id', r.id, 'status', r.status, 'name', r.name,
	        'confirmed', r.status = 'confirmed',
	        'email', r.email, 'company', r.company,
	        'position', rc_waitlist_position(r),
	        'checked_in', r.checked_in_at IS NOT NULL,
	        'created_at', to_char(r.created_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD HH24:MI'))
	        ORDER BY r.id), '[]')
	        FROM (SELECT * FROM registrations
	            WHERE event_id = e.id
	              AND (coalesce(p_status, '') = '' OR status = p_status)
	              AND (coalesce(p_q, '') = ''
	                OR name ILIKE '%' || rc_like_escape(p_q) || '%'
	                OR email ILIKE '%' || rc_like_escape(p_q) || '%'
	                OR company ILIKE '%' || rc_like_escape(p_q) || '%')
	            ORDER BY id LIMIT p_limit) r)) END
	FROM (SELECT NULL) x LEFT JOIN events e ON e.id = p_event
$$;

-- Cancel on an attendee's behalf; a freed seat goes to the waitlist in
-- the same transaction (lock order: the event row, then registrations).
CREATE OR REPLACE FUNCTION rc_console_cancel(p_event bigint, p_reg bigint,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	was text;
BEGIN
	PERFORM 1 FROM events WHERE id = p_event FOR UPDATE;
	SELECT * INTO r FROM registrations
	WHERE id = p_reg AND event_id = p_event FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such registration.');
	END IF;
	was := r.status;
	IF was <> 'cancelled' THEN
		UPDATE registrations SET status = 'cancelled',
		    cancelled_at = now()
		WHERE id = r.id;
		IF was = 'confirmed' THEN
			UPDATE events SET confirmed = confirmed - 1
			WHERE id = p_event;
			PERFORM rc_promote(p_event);
		END IF;
	END IF;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'registration.cancel', p_event,
	    jsonb_build_object('registration', p_reg, 'was', was));
	RETURN jsonb_build_object('result', 'cancelled', 'registration_id', p_reg);
END $$;

-- Promote one waitlisted registration ahead of its turn, if a seat is free.
CREATE OR REPLACE FUNCTION rc_console_promote(p_event bigint, p_reg bigint,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	r registrations;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event FOR UPDATE;
	SELECT * INTO r FROM registrations
	WHERE id = p_reg AND event_id = p_event FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such registration.');
	END IF;
	IF r.status <> 'waitlisted' THEN
		PERFORM rc_fail(409, 'not_waitlisted',
		    'Only a waitlisted registration can be promoted.');
	END IF;
	IF e.capacity IS NOT NULL AND e.confirmed >= e.capacity THEN
		PERFORM rc_fail(409, 'sold_out',
		    'No seat is free: raise the capacity first.');
	END IF;
	UPDATE registrations SET status = 'confirmed', confirmed_at = now(),
	    promoted_at = now()
	WHERE id = r.id;
	UPDATE events SET confirmed = confirmed + 1 WHERE id = p_event;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'registration.promote', p_event,
	    jsonb_build_object('registration', p_reg));
	RETURN jsonb_build_object('result', 'promoted', 'registration_id', p_reg);
END $$;

-- The audit line of a walk-in the desk registered (rc_register made it).
CREATE OR REPLACE FUNCTION rc_console_walk_in(p_event bigint, p_reg bigint,
    p_actor text)
RETURNS jsonb LANGUAGE sql AS $$
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'registration.walk_in', p_event,
	    jsonb_build_object('registration', p_reg))
	RETURNING jsonb_build_object('registration_id', p_reg)
$$;

-- The console grows an organizer account's scope with the events it
-- creates, as rc_event_create does for a scoped token.
CREATE OR REPLACE FUNCTION rc_console_scope_add(p_actor text, p_ids bigint[])
RETURNS void LANGUAGE sql AS $$
	UPDATE accounts SET events = events || p_ids
	WHERE 'acct:' || id = p_actor AND events IS NOT NULL
$$;

-- A time the editor's form gave in the event's zone ("2026-12-10T14:00"),
-- as a timestamptz; NULL when blank.
CREATE OR REPLACE FUNCTION rc_console_local(p text, p_tz text)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF coalesce(p, '') = '' THEN
		RETURN NULL;
	END IF;
	IF NOT rc_tz_ok(p_tz) THEN
		PERFORM rc_fail(400, 'invalid_field', 'timezone: "' || p_tz ||
		    '" is not an IANA time zone such as Asia/Shanghai.');
	END IF;
	RETURN p::timestamp AT TIME ZONE p_tz;
END $$;

-- The event editor's save: a new draft (p_id NULL) or an edit, through
-- rc_event_create / rc_event_update (their rules, their audit), with the
-- form's local times converted in the event's zone; a community day's
-- agenda rows (times "HH:MM" on the event's first day) through
-- rc_agenda_set.
CREATE OR REPLACE FUNCTION rc_console_event_save(p_id bigint, p jsonb,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	tz text;
	body jsonb := p - 'starts_local' - 'ends_local' - 'sessions';
	res jsonb;
	day date;
	sessions jsonb := '[]';
	x jsonb;
BEGIN
	tz := coalesce(p->>'timezone',
	    (SELECT timezone FROM events WHERE id = p_id), 'Asia/Shanghai');
	IF p ? 'starts_local' THEN
		body := body || jsonb_build_object('starts_at',
		    rc_console_local(p->>'starts_local', tz));
	END IF;
	IF p ? 'ends_local' THEN
		body := body || jsonb_build_object('ends_at',
		    rc_console_local(p->>'ends_local', tz));
	END IF;
	IF p_id IS NULL THEN
		res := rc_event_create(body, p_actor);
		PERFORM rc_console_scope_add(p_actor, ARRAY[(res->>'id')::bigint]);
	ELSE
		res := rc_event_update(p_id, body, p_actor);
	END IF;
	IF p ? 'sessions' AND res->>'kind' = 'community_day' THEN
		day := ((res->>'starts_at')::timestamptz AT TIME ZONE tz)::date;
		FOR x IN SELECT * FROM jsonb_array_elements(p->'sessions') LOOP
			sessions := sessions || jsonb_build_array(
			    (x - 'starts_local' - 'ends_local') || jsonb_build_object(
			    'starts_at', rc_console_local(CASE WHEN
			        coalesce(x->>'starts_local', '') <> '' THEN
			        day || 'T' || (x->>'starts_local') END, tz),
			    'ends_at', rc_console_local(CASE WHEN
			        coalesce(x->>'ends_local', '') <> '' THEN
			        day || 'T' || (x->>'ends_local') END, tz)));
		END LOOP;
		PERFORM rc_agenda_set((res->>'id')::bigint,
		    jsonb_build_object('sessions', sessions), p_actor);
	END IF;
	RETURN res;
END $$;

-- A NightTalk series from the console: rc_series_create, and the
-- account's scope gains its episodes.
CREATE OR REPLACE FUNCTION rc_console_series_create(p jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	res jsonb := rc_series_create(p, p_actor);
BEGIN
	PERFORM rc_console_scope_add(p_actor, ARRAY(SELECT (x->>'id')::bigint
	    FROM jsonb_array_elements(res->'events') x));
	RETURN res;
END $$;

-- The sponsors page: the event's sponsors with how many badges each
-- booth has scanned (counts only: no attendee's data), and where each
-- one's sponsorship stands.
CREATE OR REPLACE FUNCTION rc_console_sponsors(p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('event', rc_console_counts(e),
	    'sponsors', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'id', s.id, 'name', s.name,
	        'status', coalesce(p.status, 'approved'),
	        'approved', coalesce(p.status, 'approved') = 'approved',
	        'benefits', p.benefits, 'comment', p.comment,
	        'scans', (SELECT count(*) FROM leads l WHERE l.sponsor_id = s.id),
	        'last_scan', (SELECT to_char(max(l.captured_at) AT TIME ZONE
	            e.timezone, 'YYYY-MM-DD HH24:MI') FROM leads l
	            WHERE l.sponsor_id = s.id))
	        ORDER BY s.id), '[]') FROM sponsors s
	        LEFT JOIN sponsorships p ON p.id = s.sponsorship_id
	        WHERE s.event_id = e.id))
	FROM events e WHERE e.id = p_event
$$;

-- Resend an attendee's ticket and links on their behalf (the console's
-- registrations page): new manage and join secrets, as POST .../resend
-- makes them, the old links refused from now on, one `resend` mail, and
-- the staff account in audit_log. No cooldown: staff see what they do.
CREATE OR REPLACE FUNCTION rc_console_resend(p_event bigint, p_reg bigint,
    p_hash bytea, p_join bytea, p_sealed bytea, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
BEGIN
	SELECT * INTO r FROM registrations
	WHERE id = p_reg AND event_id = p_event AND erased_at IS NULL
	FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such registration.');
	END IF;
	IF r.status = 'cancelled' THEN
		PERFORM rc_fail(409, 'cancelled',
		    'This registration is cancelled: nothing to resend.');
	END IF;
	UPDATE registrations SET secret_hash = p_hash,
	    join_hash = CASE WHEN join_hash IS NULL THEN NULL ELSE p_join END
	WHERE id = r.id RETURNING * INTO r;
	UPDATE outbox SET secret_sealed = p_sealed
	WHERE registration_id = r.id AND state = 'queued'
	  AND secret_sealed IS NOT NULL;
	PERFORM rc_mail_queue(r, 'resend', p_sealed);
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'registration.resend', p_event,
	    jsonb_build_object('registration_id', r.id));
	RETURN jsonb_build_object('result', 'resent');
END $$;
