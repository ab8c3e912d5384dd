-- Sponsors and their leads, by consent.
--
-- A lead row holds no personal data: only which sponsor scanned which
-- registration, when, and the sponsor's own note and rating. What a
-- sponsor sees of the person is computed at read time from the
-- registration's *current* consent, so withdrawing consent (or erasing)
-- hides the person from every sponsor's leads and exports at once.

-- What a sponsor may see of a registration now: name and company plus
-- the fields chosen, or NULL without consent.
CREATE OR REPLACE FUNCTION rc_lead_fields(r registrations)
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

-- A sponsor on one event: a sponsorship of that event alone, with the
-- benefits agreed (rc_sponsorship_create in approval.sql), proposed to
-- the committee, or approved at once when the caller needs no approval.
CREATE OR REPLACE FUNCTION rc_sponsor_create(p_event bigint, p_name text,
    p_benefits text, p_approval text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	sp jsonb;
	s sponsors;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM events WHERE id = p_event) THEN
		RETURN NULL;
	END IF;
	sp := rc_sponsorship_create(jsonb_build_object('name', p_name,
	    'benefits', coalesce(p_benefits, ''), 'events',
	    jsonb_build_array(p_event)), p_approval, p_actor);
	SELECT * INTO s FROM sponsors
	WHERE sponsorship_id = (sp->>'id')::bigint;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'sponsor.create', p_event,
	    jsonb_build_object('sponsor', s.id, 'name', p_name,
	        'sponsorship', s.sponsorship_id, 'status', sp->>'status'));
	RETURN jsonb_build_object('id', s.id, 'event_id', s.event_id,
	    'name', s.name, 'created_at', s.created_at,
	    'sponsorship_id', s.sponsorship_id, 'status', sp->>'status',
	    'benefits', sp->>'benefits');
END $$;

-- Rename one of an event's sponsors, audited; NULL when it has no such one.
CREATE OR REPLACE FUNCTION rc_sponsor_rename(p_event bigint, p_sponsor bigint,
    p_name text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	s sponsors;
	old text;
BEGIN
	SELECT name INTO old FROM sponsors
	WHERE id = p_sponsor AND event_id = p_event FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	UPDATE sponsors SET name = p_name WHERE id = p_sponsor RETURNING * INTO s;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'sponsor.rename', p_event, jsonb_build_object(
	    'sponsor', s.id, 'from', old, 'name', p_name));
	RETURN jsonb_build_object('id', s.id, 'event_id', s.event_id,
	    'name', s.name, 'created_at', s.created_at);
END $$;

-- A sponsor scans a badge. p_claims are the verified ticket claims,
-- {"lead": CODE} for a badge's lead code, or NULL when the code was
-- neither. An event may refuse entry tickets at its booths.
CREATE OR REPLACE FUNCTION rc_lead_capture(p_sponsor bigint, p_claims jsonb,
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
	ELSIF p_claims ? 'lead' THEN
		SELECT * INTO r FROM registrations
		WHERE lead_code = p_claims->>'lead';
		IF NOT FOUND THEN
			RETURN jsonb_build_object('result', 'invalid');
		ELSIF r.event_id <> s.event_id THEN
			RETURN jsonb_build_object('result', 'wrong_event');
		END IF;
	ELSE
		IF (p_claims->>'ev')::bigint <> s.event_id THEN
			RETURN jsonb_build_object('result', 'wrong_event');
		END IF;
		IF NOT (SELECT booth_accepts_ticket FROM events
		    WHERE id = s.event_id) THEN
			RETURN jsonb_build_object('result', 'invalid',
			    'message', 'Booths at this event scan the lead code '
			    'on the badge, not the entry ticket.');
		END IF;
		SELECT * INTO r FROM registrations
		WHERE id = (p_claims->>'reg')::bigint AND event_id = s.event_id;
		IF NOT FOUND OR r.ticket_jti IS DISTINCT FROM p_claims->>'jti' THEN
			RETURN jsonb_build_object('result', 'invalid');
		END IF;
	END IF;
	IF r.status = 'cancelled' OR rc_event_cancelled(s.event_id) THEN
		RETURN jsonb_build_object('result', 'cancelled', 'lead', NULL);
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
CREATE OR REPLACE FUNCTION rc_leads(p_sponsor bigint, p_scope bigint[],
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

-- A sponsor's leads as CSV (audited).
CREATE OR REPLACE FUNCTION rc_leads_csv(p_sponsor bigint, p_scope bigint[],
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

-- A sponsor's leads as rows for a spreadsheet (server/xlsx.c), with the
-- same access rule and audit entry as rc_leads_csv; consented fields only.
CREATE OR REPLACE FUNCTION rc_leads_rows(p_sponsor bigint, p_scope bigint[],
    p_sponsor_of bigint, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	s sponsors;
	tz text;
	body jsonb;
BEGIN
	SELECT * INTO s FROM sponsors WHERE id = p_sponsor
	  AND (p_sponsor_of IS NULL OR p_sponsor_of = id)
	  AND (p_scope IS NULL OR event_id = ANY (p_scope));
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT timezone INTO tz FROM events WHERE id = s.event_id;
	SELECT coalesce(jsonb_agg(jsonb_build_array(f->>'name',
	    f->>'company', f->>'email', f->>'phone', f->>'job_title', l.note,
	    l.rating, rc_sheet_time(l.captured_at, tz)) ORDER BY l.id), '[]')
	INTO body
	FROM leads l JOIN registrations r ON r.id = l.registration_id,
	    LATERAL (SELECT coalesce(rc_lead_fields(r), '{}'::jsonb) AS f) x
	WHERE l.sponsor_id = s.id;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'export.leads', s.event_id,
	    jsonb_build_object('sponsor', s.id));
	RETURN jsonb_build_object('sheet', 'Leads', 'timezone', tz,
	    'columns', jsonb_build_array(jsonb_build_object('name', 'name'),
	        jsonb_build_object('name', 'company'),
	        jsonb_build_object('name', 'email'),
	        jsonb_build_object('name', 'phone'),
	        jsonb_build_object('name', 'job_title'),
	        jsonb_build_object('name', 'note'),
	        jsonb_build_object('name', 'rating'),
	        jsonb_build_object('name', 'captured_at', 'type', 'datetime')),
	    'rows', body);
END $$;
