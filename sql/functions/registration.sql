-- Registrations: exact capacity, the waitlist, consent.
--
-- Capacity lives in one place: events.confirmed, changed only by
-- conditional single-row updates inside the functions below. A registration
-- takes a seat with
--     UPDATE events SET confirmed = confirmed + 1
--     WHERE id = $1 AND (capacity IS NULL OR confirmed < seat_limit)
-- which PostgreSQL serialises on the event's row: of N concurrent callers
-- exactly seat_limit - confirmed succeed (seat_limit is the capacity plus
-- the event's overbooking, 017_noshow.sql), whichever server process they came
-- through. Every transition that frees or takes a seat (cancel, promote,
-- raising capacity) runs under the same row lock, in one transaction.

-- Position in the waitlist (1 = next), or NULL.
CREATE OR REPLACE FUNCTION rc_waitlist_position(r registrations)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*)
	    FROM registrations w WHERE w.event_id = r.event_id
	      AND w.status = 'waitlisted' AND w.id <= r.id) END
$$;

-- What the attendee sees of their own registration: the ticket's claims,
-- and what the pages need of the event (local times, kind).
CREATE OR REPLACE FUNCTION rc_registration_json(r registrations)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'event_id', r.event_id,
	    'status', r.status, 'name', r.name, 'email', r.email,
	    'company', r.company, 'job_title', r.job_title, 'phone', r.phone,
	    'identity', r.identity,
	    'consent', jsonb_build_object('sponsors', r.consent_sponsors,
	        'fields', to_jsonb(r.consent_fields), 'updated_at', r.consent_at),
	    'created_at', r.created_at, 'confirmed_at', r.confirmed_at,
	    'cancelled_at', r.cancelled_at, 'checked_in_at', r.checked_in_at,
	    'reconfirm_asked_at', r.reconfirm_asked_at,
	    'reconfirmed_at', r.reconfirmed_at, 'released_at', r.released_at,
	    'waitlist_position', rc_waitlist_position(r),
	    'ticket_claims', rc_ticket_claims(r),
	    'event', (SELECT jsonb_build_object('id', e.id, 'title', e.title,
	        'kind', e.kind, 'chapter', e.chapter,
	        'starts_at', e.starts_at, 'ends_at', e.ends_at,
	        'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD"T"HH24:MI:SS'),
	        'ends_at_local', to_char(e.ends_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD"T"HH24:MI:SS'),
	        'timezone', e.timezone, 'venue', e.venue, 'status', e.status,
	        'description', e.description, 'sequence', e.ics_sequence,
	        'release_local', CASE WHEN e.reconfirm_hours > 0
	            AND e.release_hours > 0 THEN to_char((e.starts_at -
	            make_interval(hours => e.release_hours)) AT TIME ZONE
	            e.timezone, 'YYYY-MM-DD HH24:MI') END,
	        'tz_offset', rc_tz_offset(e.starts_at, e.timezone),
	        'tz_standard', rc_tz_standard(e.starts_at, e.timezone),
	        'sponsors', (SELECT coalesce(jsonb_agg(s.name ORDER BY s.id),
	            '[]') FROM sponsors s WHERE s.event_id = e.id))
	        FROM events e WHERE e.id = r.event_id))
$$;

-- Promote the oldest waitlisted registrations into free seats. The caller
-- holds the event's row lock. Returns how many moved.
CREATE OR REPLACE FUNCTION rc_promote(p_event bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	free integer;
	moved integer;
BEGIN
	SELECT CASE WHEN capacity IS NULL THEN 2147483647
	    ELSE seat_limit - confirmed END INTO free
	FROM events WHERE id = p_event;
	IF free <= 0 THEN
		RETURN 0;
	END IF;
	WITH next AS (
		SELECT id FROM registrations
		WHERE event_id = p_event AND status = 'waitlisted'
		ORDER BY id LIMIT free FOR UPDATE)
	UPDATE registrations r SET status = 'confirmed', confirmed_at = now(),
	    promoted_at = now()
	FROM next WHERE r.id = next.id;
	GET DIAGNOSTICS moved = ROW_COUNT;
	IF moved > 0 THEN
		UPDATE events SET confirmed = confirmed + moved WHERE id = p_event;
	END IF;
	RETURN moved;
END $$;

-- Register, in one statement: p holds validated fields (and "lang"),
-- p_hash is SHA-256 of the manage secret (the secret itself never reaches
-- the database), p_join that of the NightTalk join secret, p_sealed the
-- manage secret sealed for the mail (NULL without a mail key). The row is
-- inserted once with its final values; rc_ticket_assign gives a confirmed
-- one its ticket on the way in. Queues the confirmation or waitlist
-- message and, when the event is more than a day ahead, the reminder.
-- Answers the row's id, status, waitlist position, ticket claims and the
-- event's kind.
CREATE OR REPLACE FUNCTION rc_register(p_event bigint, p jsonb,
    p_hash bytea, p_join bytea, p_sealed bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	r registrations;
	st text;
	share boolean := coalesce((p->'consent'->>'sponsors')::boolean, false);
	fields text[] := CASE WHEN share THEN ARRAY(SELECT jsonb_array_elements_text(
	    coalesce(p->'consent'->'fields', '[]'))) ELSE '{}' END;
	starts timestamptz;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event;
	IF NOT FOUND OR e.status = 'draft' THEN
		PERFORM rc_fail(404, 'not_found', 'No such event.');
	END IF;
	IF e.status = 'cancelled' THEN
		PERFORM rc_fail(409, 'event_cancelled',
		    'This event has been cancelled.');
	END IF;
	IF e.status = 'finished'
	    OR now() >= coalesce(e.registration_closes_at, e.ends_at) THEN
		PERFORM rc_fail(409, 'registration_closed',
		    'Registration for this event has closed.');
	END IF;
	IF e.registration_opens_at IS NOT NULL
	    AND now() < e.registration_opens_at THEN
		PERFORM rc_fail(409, 'registration_closed',
		    'Registration opens at ' || to_char(e.registration_opens_at
		    AT TIME ZONE e.timezone, 'YYYY-MM-DD HH24:MI') || ' (' ||
		    e.timezone || ').');
	END IF;
	-- The cheap refusal first; the unique index below is the real guard.
	IF EXISTS (SELECT 1 FROM registrations WHERE event_id = p_event
	    AND lower(email) = lower(p->>'email') AND status <> 'cancelled') THEN
		PERFORM rc_fail(409, 'already_registered',
		    'This e-mail address is already registered for this event.');
	END IF;
	-- The seat: this row lock decides, exactly, who is confirmed.
	UPDATE events SET confirmed = confirmed + 1
	WHERE id = p_event AND (capacity IS NULL OR confirmed < seat_limit);
	IF FOUND THEN
		st := 'confirmed';
	ELSIF e.waitlist THEN
		st := 'waitlisted';
	ELSE
		PERFORM rc_fail(409, 'sold_out', 'This event is full.');
	END IF;
	INSERT INTO registrations (event_id, status, name, email, company,
	    job_title, phone, identity, consent_sponsors, consent_fields,
	    secret_hash, join_hash, lang, confirmed_at)
	VALUES (p_event, st, p->>'name', p->>'email', p->>'company',
	    p->>'job_title', p->>'phone', p->>'identity', share, fields,
	    p_hash, p_join,
	    CASE WHEN p->>'lang' = 'zh-CN' THEN 'zh-CN' ELSE 'en' END,
	    CASE WHEN st = 'confirmed' THEN now() END)
	ON CONFLICT (event_id, lower(email)) WHERE status <> 'cancelled'
	DO NOTHING
	RETURNING * INTO r;
	IF NOT FOUND THEN
		-- Raising rolls back the seat taken above as well.
		PERFORM rc_fail(409, 'already_registered',
		    'This e-mail address is already registered for this event.');
	END IF;
	INSERT INTO consent_history (registration_id, sponsors, fields, source)
	VALUES (r.id, share, fields, 'registration');
	PERFORM rc_mail_queue(r, r.status, p_sealed);
	-- The start as it is now (e was read before the seat's row lock).
	SELECT starts_at INTO starts FROM events WHERE id = p_event;
	IF starts - interval '1 day' > now() THEN
		PERFORM rc_mail_queue(r, 'reminder', p_sealed, '{}',
		    starts - interval '1 day');
	END IF;
	RETURN jsonb_build_object('id', r.id, 'event_id', r.event_id,
	    'status', r.status, 'waitlist_position', rc_waitlist_position(r),
	    'ticket_claims', rc_ticket_claims(r), 'kind', e.kind);
END $$;

-- An attendee's own registration by secret hash; NULL when unknown. An
-- erased one shows as erased.
CREATE OR REPLACE FUNCTION rc_registration_get(p_hash bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.erased_at IS NOT NULL
	    THEN jsonb_build_object('id', r.id, 'event_id', r.event_id,
	        'status', r.status, 'erased', true)
	    ELSE rc_registration_json(r) END
	FROM registrations r WHERE r.secret_hash = p_hash
$$;

-- Change consent; every change is kept in consent_history and audited.
CREATE OR REPLACE FUNCTION rc_registration_consent(p_hash bytea, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	share boolean := coalesce((p->>'sponsors')::boolean, false);
	fields text[] := CASE WHEN share THEN ARRAY(SELECT jsonb_array_elements_text(
	    coalesce(p->'fields', '[]'))) ELSE '{}' END;
BEGIN
	UPDATE registrations SET consent_sponsors = share,
	    consent_fields = fields, consent_at = now()
	WHERE secret_hash = p_hash
	RETURNING * INTO r;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	INSERT INTO consent_history (registration_id, sponsors, fields, source)
	VALUES (r.id, share, fields, 'attendee');
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES ('attendee', 'consent.change', r.event_id, jsonb_build_object(
	    'registration', r.id, 'sponsors', share, 'fields', to_jsonb(fields)));
	RETURN rc_registration_json(r);
END $$;

-- Cancel. A confirmed seat goes to the oldest waitlisted registration in
-- the same transaction, under the event's row lock.
CREATE OR REPLACE FUNCTION rc_registration_cancel(p_hash bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	was text;
BEGIN
	SELECT * INTO r FROM registrations WHERE secret_hash = p_hash;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	-- Lock order everywhere: the event row, then registrations.
	PERFORM 1 FROM events WHERE id = r.event_id FOR UPDATE;
	SELECT * INTO r FROM registrations WHERE id = r.id FOR UPDATE;
	was := r.status;
	IF was = 'cancelled' THEN
		RETURN rc_registration_json(r);
	END IF;
	UPDATE registrations SET status = 'cancelled', cancelled_at = now()
	WHERE id = r.id RETURNING * INTO r;
	IF was = 'confirmed' THEN
		UPDATE events SET confirmed = confirmed - 1 WHERE id = r.event_id;
		PERFORM rc_promote(r.event_id);
	END IF;
	RETURN rc_registration_json(r);
END $$;

-- The organizer's list: oldest first, optionally one status, paged; each
-- with the person's no-shows across events (organizers only).
CREATE OR REPLACE FUNCTION rc_registration_list(p_event bigint, p_status text,
    p_limit integer, p_offset integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM events WHERE id = p_event)
	    THEN NULL ELSE jsonb_build_object(
	    'event_id', p_event,
	    'counts', rc_event_counts(p_event),
	    'limit', p_limit, 'offset', p_offset,
	    'registrations', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'id', r.id, 'status', r.status, 'name', r.name,
	        'email', r.email, 'company', r.company,
	        'job_title', r.job_title, 'phone', r.phone,
	        'identity', r.identity,
	        'consent', jsonb_build_object('sponsors', r.consent_sponsors,
	            'fields', to_jsonb(r.consent_fields)),
	        'created_at', r.created_at, 'confirmed_at', r.confirmed_at,
	        'cancelled_at', r.cancelled_at,
	        'checked_in_at', r.checked_in_at,
	        'reconfirm_asked_at', r.reconfirm_asked_at,
	        'reconfirmed_at', r.reconfirmed_at, 'released_at', r.released_at,
	        'no_shows', rc_noshow_count(r.email)) ORDER BY r.id)
	        FROM (SELECT * FROM registrations
	            WHERE event_id = p_event
	              AND (p_status IS NULL OR status = p_status)
	            ORDER BY id LIMIT p_limit OFFSET p_offset) r), '[]')) END
$$;
