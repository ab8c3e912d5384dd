-- 004: sponsors' leads by consent, exports, the audit trail, erasure.
--
-- A lead row holds no personal data: only which sponsor scanned which
-- registration, when, and the sponsor's own note and rating. What a
-- sponsor sees of the person is computed at read time from the
-- registration's *current* consent, so withdrawing consent (or erasing)
-- hides the person from every sponsor's leads and exports at once.

CREATE TABLE leads (
	id		bigserial PRIMARY KEY,
	sponsor_id	bigint NOT NULL REFERENCES sponsors,
	registration_id	bigint NOT NULL REFERENCES registrations,
	note		text,
	rating		integer CHECK (rating BETWEEN 1 AND 5),
	captured_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	captured_by	text NOT NULL,
	UNIQUE (sponsor_id, registration_id)
);

-- Scans of attendees who did not consent: a number, nothing else.
CREATE TABLE sponsor_scan_counts (
	sponsor_id	bigint PRIMARY KEY REFERENCES sponsors,
	no_consent	bigint NOT NULL DEFAULT 0
);

ALTER TABLE registrations ADD COLUMN erased_at timestamptz;
-- An erased registration has no e-mail at all (NULL also keeps it out of
-- the one-per-e-mail index, where several erased rows would collide).
ALTER TABLE registrations ALTER COLUMN email DROP NOT NULL;

-- What a sponsor may see of a registration now: name and company plus
-- the fields chosen, or NULL without consent.
CREATE FUNCTION rc_lead_fields(r registrations)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.consent_sponsors AND r.erased_at IS NULL
	    THEN jsonb_strip_nulls(jsonb_build_object('name', r.name,
	        'company', r.company,
	        'email', CASE WHEN 'email' = ANY (r.consent_fields)
	            THEN r.email END,
	        'phone', CASE WHEN 'phone' = ANY (r.consent_fields)
	            THEN r.phone END,
	        'job_title', CASE WHEN 'job_title' = ANY (r.consent_fields)
	            THEN r.job_title END)) END
$$;

-- A sponsor, on an event.
CREATE FUNCTION rc_sponsor_create(p_event bigint, p_name text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	s sponsors;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM events WHERE id = p_event) THEN
		RETURN NULL;
	END IF;
	INSERT INTO sponsors (event_id, name) VALUES (p_event, p_name)
	RETURNING * INTO s;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'sponsor.create', p_event,
	    jsonb_build_object('sponsor', s.id, 'name', p_name));
	RETURN jsonb_build_object('id', s.id, 'event_id', s.event_id,
	    'name', s.name, 'created_at', s.created_at);
END $$;

-- A sponsor scans a badge. p_claims are the verified ticket claims, or
-- NULL when the code was not a valid ticket.
CREATE FUNCTION rc_lead_capture(p_sponsor bigint, p_claims jsonb,
    p_note text, p_rating integer, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	s sponsors;
	r registrations;
	lid bigint;
	lnote text;
	lrating integer;
	lat timestamptz;
	fresh boolean;
BEGIN
	SELECT * INTO s FROM sponsors WHERE id = p_sponsor;
	IF NOT FOUND THEN
		PERFORM rc_fail(403, 'forbidden', 'This token has no sponsor.');
	END IF;
	IF p_claims IS NULL THEN
		RETURN jsonb_build_object('result', 'invalid');
	END IF;
	IF (p_claims->>'ev')::bigint <> s.event_id THEN
		RETURN jsonb_build_object('result', 'wrong_event');
	END IF;
	SELECT * INTO r FROM registrations
	WHERE id = (p_claims->>'reg')::bigint AND event_id = s.event_id;
	IF NOT FOUND OR r.ticket_jti IS DISTINCT FROM p_claims->>'jti' THEN
		RETURN jsonb_build_object('result', 'invalid');
	END IF;
	IF r.status <> 'confirmed' THEN
		RETURN jsonb_build_object('result', 'not_confirmed');
	END IF;
	IF rc_lead_fields(r) IS NULL THEN
		INSERT INTO sponsor_scan_counts AS c (sponsor_id, no_consent)
		VALUES (s.id, 1)
		ON CONFLICT (sponsor_id)
		DO UPDATE SET no_consent = c.no_consent + 1;
		RETURN jsonb_build_object('result', 'no_consent', 'lead', NULL);
	END IF;
	INSERT INTO leads AS x (sponsor_id, registration_id, note, rating,
	    captured_by)
	VALUES (s.id, r.id, p_note, p_rating, p_actor)
	ON CONFLICT (sponsor_id, registration_id) DO UPDATE
	SET note = coalesce(EXCLUDED.note, x.note),
	    rating = coalesce(EXCLUDED.rating, x.rating), updated_at = now()
	RETURNING id, note, rating, captured_at, (xmax = 0)
	INTO lid, lnote, lrating, lat, fresh;
	RETURN jsonb_build_object(
	    'result', CASE WHEN fresh THEN 'captured' ELSE 'already_captured' END,
	    'lead', rc_lead_fields(r) || jsonb_build_object('id', lid,
	        'note', lnote, 'rating', lrating, 'captured_at', lat));
END $$;

-- A sponsor's leads, computed from consent now. p_scope: the caller's
-- events (NULL for all); p_sponsor_of: the caller's own sponsor (NULL
-- unless a sponsor token). NULL when the sponsor is not theirs to read.
CREATE FUNCTION rc_leads(p_sponsor bigint, p_scope bigint[],
    p_sponsor_of bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('sponsor_id', s.id, 'name', s.name,
	    'event_id', s.event_id,
	    'no_consent_scans', coalesce((SELECT no_consent
	        FROM sponsor_scan_counts WHERE sponsor_id = s.id), 0),
	    'leads', coalesce((SELECT jsonb_agg(coalesce(rc_lead_fields(r),
	        jsonb_build_object('consent_withdrawn', true)) ||
	        jsonb_build_object('id', l.id, 'note', l.note, 'rating',
	            l.rating, 'captured_at', l.captured_at) ORDER BY l.id)
	        FROM leads l JOIN registrations r ON r.id = l.registration_id
	        WHERE l.sponsor_id = s.id), '[]'))
	FROM sponsors s
	WHERE s.id = p_sponsor
	  AND (p_sponsor_of IS NULL OR p_sponsor_of = s.id)
	  AND (p_scope IS NULL OR s.event_id = ANY (p_scope))
$$;

-- One CSV cell (RFC 4180), neutralised against formula injection: a
-- cell starting with = + - @ (or a tab or CR, which some spreadsheets
-- skip) gets a leading apostrophe.
CREATE FUNCTION rc_csv(v text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN v IS NULL THEN ''
	    ELSE '"' || replace(CASE WHEN v ~ '^[=+@\t\r-]' THEN '''' || v
	        ELSE v END, '"', '""') || '"' END
$$;

CREATE FUNCTION rc_csv_time(t timestamptz, tz text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(to_char(t AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI:SS'), '')
$$;

-- A sponsor's leads as CSV (audited).
CREATE FUNCTION rc_leads_csv(p_sponsor bigint, p_scope bigint[],
    p_sponsor_of bigint, p_actor text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	s sponsors;
	tz text;
	body text;
BEGIN
	SELECT * INTO s FROM sponsors WHERE id = p_sponsor
	  AND (p_sponsor_of IS NULL OR p_sponsor_of = id)
	  AND (p_scope IS NULL OR event_id = ANY (p_scope));
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT timezone INTO tz FROM events WHERE id = s.event_id;
	SELECT string_agg(concat_ws(',', rc_csv(f->>'name'),
	    rc_csv(f->>'company'), rc_csv(f->>'email'), rc_csv(f->>'phone'),
	    rc_csv(f->>'job_title'), rc_csv(l.note),
	    coalesce(l.rating::text, ''), rc_csv_time(l.captured_at, tz)),
	    E'\r\n' ORDER BY l.id) INTO body
	FROM leads l JOIN registrations r ON r.id = l.registration_id,
	    LATERAL (SELECT coalesce(rc_lead_fields(r), '{}'::jsonb) AS f) x
	WHERE l.sponsor_id = s.id;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'export.leads', s.event_id,
	    jsonb_build_object('sponsor', s.id));
	RETURN 'name,company,email,phone,job_title,note,rating,captured_at'
	    || E'\r\n' || coalesce(body || E'\r\n', '');
END $$;

-- The organizer's attendance export (audited): every registration with
-- its status, registration time, check-in time and gate.
CREATE FUNCTION rc_attendance_csv(p_event bigint, p_actor text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	e events;
	body text;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT string_agg(concat_ws(',', r.id::text, rc_csv(r.status),
	    rc_csv(r.name), rc_csv(r.email), rc_csv(r.company),
	    rc_csv(r.job_title), rc_csv(r.identity),
	    rc_csv_time(r.created_at, e.timezone),
	    rc_csv_time(r.checked_in_at, e.timezone), rc_csv(r.checkin_gate),
	    rc_csv_time(r.joined_at, e.timezone)), E'\r\n' ORDER BY r.id)
	INTO body FROM registrations r WHERE r.event_id = p_event;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'export.attendance', p_event, '{}');
	RETURN 'id,status,name,email,company,job_title,identity,registered_at,'
	    'checked_in_at,gate,joined_at' || E'\r\n' ||
	    coalesce(body || E'\r\n', '');
END $$;

-- Blank one registration's personal data; counts stay. Cancels it first
-- (promoting the waitlist and revoking the ticket) when it is live.
CREATE FUNCTION rc_erase_one(p_id bigint, p_actor text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
BEGIN
	SELECT * INTO r FROM registrations WHERE id = p_id;
	IF r.erased_at IS NOT NULL THEN
		RETURN;
	END IF;
	IF r.status <> 'cancelled' THEN
		PERFORM rc_registration_cancel(r.secret_hash);
	END IF;
	UPDATE registrations SET name = '', email = NULL, company = '',
	    job_title = '', phone = NULL, consent_sponsors = false,
	    consent_fields = '{}', consent_at = now(), erased_at = now(),
	    join_hash = NULL
	WHERE id = p_id;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'registration.erase', r.event_id,
	    jsonb_build_object('registration', p_id));
END $$;

-- An attendee erases their own data from the manage link.
CREATE FUNCTION rc_registration_erase(p_hash bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
BEGIN
	SELECT * INTO r FROM registrations WHERE secret_hash = p_hash;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	PERFORM 1 FROM events WHERE id = r.event_id FOR UPDATE;
	PERFORM rc_erase_one(r.id, 'attendee');
	RETURN jsonb_build_object('id', r.id, 'status', 'cancelled',
	    'erased', true);
END $$;

-- An organizer shreds an ended event's personal data, keeping counts.
CREATE FUNCTION rc_event_shred(p_event bigint, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	n integer := 0;
	rid bigint;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF e.status NOT IN ('finished', 'cancelled') AND e.ends_at > now() THEN
		PERFORM rc_fail(409, 'event_not_over', 'Personal data can be '
		    'shredded once the event has ended.');
	END IF;
	-- Counts stay as they were: no cancellations, no promotions.
	FOR rid IN SELECT id FROM registrations
	    WHERE event_id = p_event AND erased_at IS NULL LOOP
		UPDATE registrations SET name = '', email = NULL, company = '',
		    job_title = '', phone = NULL, consent_sponsors = false,
		    consent_fields = '{}', consent_at = now(), erased_at = now(),
		    join_hash = NULL
		WHERE id = rid;
		n := n + 1;
	END LOOP;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'event.shred', p_event,
	    jsonb_build_object('registrations', n));
	RETURN jsonb_build_object('event_id', p_event, 'shredded', n,
	    'counts', rc_event_counts(p_event));
END $$;

-- The audit trail for admins, newest first.
CREATE FUNCTION rc_audit(p_event bigint, p_limit integer, p_offset integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('limit', p_limit, 'offset', p_offset,
	    'entries', coalesce(jsonb_agg(jsonb_build_object('id', a.id,
	        'at', a.at, 'actor', a.actor, 'actor_name', t.name,
	        'action', a.action, 'event_id', a.event_id,
	        'detail', a.detail) ORDER BY a.id DESC), '[]'))
	FROM (SELECT * FROM audit_log
	    WHERE p_event IS NULL OR event_id = p_event
	    ORDER BY id DESC LIMIT p_limit OFFSET p_offset) a
	LEFT JOIN tokens t ON t.jti = a.actor
$$;

-- Erased registrations show as erased to their own manage link.
CREATE OR REPLACE FUNCTION rc_registration_get(p_hash bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.erased_at IS NOT NULL
	    THEN jsonb_build_object('id', r.id, 'event_id', r.event_id,
	        'status', r.status, 'erased', true)
	    ELSE rc_registration_json(r) END
	FROM registrations r WHERE r.secret_hash = p_hash
$$;
