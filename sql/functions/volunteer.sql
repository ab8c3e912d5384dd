-- Volunteers (COMMUNITY.md section 6): sign-up per event with skills,
-- the leader's decision, attendance, outstanding volunteers. Tables in
-- sql/027_certificates.sql; server/volunteer.c calls these.
--
-- Who may call is the route table's (router.c). Scope comes in as
-- p_scope, the caller's events (NULL: every event), exactly as the
-- router's own check of an event route: a volunteer outside it is 403.

-- When the volunteer's own registration for the event was checked in at
-- the door or the desk (or joined online), or NULL: the person's
-- registrations by person_id or by their e-mail, read when asked.
CREATE OR REPLACE FUNCTION rc_volunteer_checked_in(v volunteers)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
	SELECT min(coalesce(r.checked_in_at, r.joined_at))
	FROM registrations r, persons p
	WHERE p.id = v.person_id AND r.event_id = v.event_id
	  AND (r.person_id = p.id OR lower(r.email) = lower(p.email))
	  AND (r.checked_in_at IS NOT NULL OR r.joined_at IS NOT NULL)
$$;

-- Whether a volunteer attended: recorded by staff, or checked in.
CREATE OR REPLACE FUNCTION rc_volunteer_attended_p(v volunteers)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT v.attended_at IS NOT NULL
	    OR rc_volunteer_checked_in(v) IS NOT NULL
$$;

-- One volunteer as staff see it.
CREATE OR REPLACE FUNCTION rc_volunteer_json(v volunteers)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', v.id, 'event_id', v.event_id,
	    'name', v.name, 'email', p.email, 'skills', to_jsonb(v.skills),
	    'note', v.note, 'status', v.status, 'comment', v.comment,
	    'decided_at', v.decided_at, 'created_at', v.created_at,
	    'attended', v.attended_at IS NOT NULL OR ci IS NOT NULL,
	    'attended_at', coalesce(v.attended_at, ci),
	    'attended_source', CASE WHEN v.attended_at IS NOT NULL
	        THEN 'recorded' WHEN ci IS NOT NULL THEN 'check_in' END,
	    'outstanding', v.outstanding_at IS NOT NULL,
	    'outstanding_at', v.outstanding_at,
	    'certificates', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'kind', c.kind, 'code', c.code) ORDER BY c.id)
	        FROM certificates c WHERE c.person_id = v.person_id
	          AND c.event_id = v.event_id AND c.revoked_at IS NULL
	          AND c.kind IN ('volunteer', 'outstanding_volunteer')),
	        '[]'))
	FROM persons p, rc_volunteer_checked_in(v) ci
	WHERE p.id = v.person_id
$$;

-- Sign up to volunteer at a published event that is not over. The
-- person is found by e-mail or made (rc_person_upsert); a new person
-- takes p_lang. 409 when they already signed up for this event.
CREATE OR REPLACE FUNCTION rc_volunteer_signup(p_event bigint, p_email text,
    p_name text, p_skills text[], p_note text, p_lang text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	pid bigint;
	v volunteers;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event;
	IF NOT FOUND OR e.status = 'draft' THEN
		PERFORM rc_fail(404, 'not_found', 'No such event.');
	ELSIF e.status = 'cancelled' THEN
		PERFORM rc_fail(409, 'event_cancelled',
		    'This event was cancelled.');
	ELSIF e.status = 'finished' OR e.ends_at <= now() THEN
		PERFORM rc_fail(409, 'signup_closed',
		    'This event is over; volunteers sign up before it ends.');
	END IF;
	pid := rc_person_upsert(p_email, p_name);
	-- A person made by this very statement speaks the sign-up's language.
	UPDATE persons SET lang = p_lang
	WHERE id = pid AND created_at = now() AND p_lang IS NOT NULL;
	INSERT INTO volunteers (event_id, person_id, name, skills, note)
	VALUES (p_event, pid, p_name,
	    ARRAY(SELECT DISTINCT s FROM unnest(p_skills) s ORDER BY s),
	    nullif(p_note, ''))
	ON CONFLICT (event_id, person_id) DO NOTHING
	RETURNING * INTO v;
	IF NOT FOUND THEN
		PERFORM rc_fail(409, 'already_volunteered', 'This e-mail '
		    'address has already signed up to volunteer at this event.');
	END IF;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES ('volunteer', 'volunteer.signup', p_event,
	    jsonb_build_object('volunteer', v.id));
	RETURN jsonb_build_object('id', v.id, 'event_id', v.event_id,
	    'status', v.status, 'skills', to_jsonb(v.skills),
	    'created_at', v.created_at);
END $$;

-- An event's volunteers for staff in its scope (the router checked it),
-- with the counts; NULL (404) when there is no such event.
CREATE OR REPLACE FUNCTION rc_volunteer_list(p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'event', jsonb_build_object('id', e.id, 'title', e.title,
	        'status', e.status, 'starts_at', e.starts_at,
	        'ends_at', e.ends_at, 'timezone', e.timezone,
	        'starts_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD HH24:MI'),
	        'over', e.status = 'finished' OR e.ends_at <= now()),
	    'counts', jsonb_build_object(
	        'pending', count(v.id) FILTER (WHERE v.status = 'pending'),
	        'approved', count(v.id) FILTER (WHERE v.status = 'approved'),
	        'declined', count(v.id) FILTER (WHERE v.status = 'declined'),
	        'attended', count(v.id) FILTER (WHERE v.status = 'approved'
	            AND rc_volunteer_attended_p(v)),
	        'outstanding', count(v.id) FILTER (
	            WHERE v.outstanding_at IS NOT NULL)),
	    'volunteers', coalesce(jsonb_agg(rc_volunteer_json(v)
	        ORDER BY v.id) FILTER (WHERE v.id IS NOT NULL), '[]'))
	FROM events e LEFT JOIN volunteers v ON v.event_id = e.id
	WHERE e.id = p_event
	GROUP BY e.id
$$;

-- The volunteer p_id, locked, checked against the caller's scope and,
-- when p_event is given (a console page of that event), its event.
CREATE OR REPLACE FUNCTION rc_volunteer_for_update(p_id bigint,
    p_event bigint, p_scope bigint[])
RETURNS volunteers LANGUAGE plpgsql AS $$
DECLARE
	v volunteers;
BEGIN
	SELECT * INTO v FROM volunteers WHERE id = p_id FOR UPDATE;
	IF NOT FOUND OR (p_event IS NOT NULL AND v.event_id <> p_event) THEN
		PERFORM rc_fail(404, 'not_found', 'No such volunteer.');
	END IF;
	IF p_scope IS NOT NULL AND NOT v.event_id = ANY (p_scope) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'This volunteer''s event '
		    || v.event_id || ' is not in your scope.');
	END IF;
	RETURN v;
END $$;

-- The leader's decision: approve or decline (again later is allowed: a
-- change of mind). Declining drops an outstanding flag. Audited.
CREATE OR REPLACE FUNCTION rc_volunteer_decide(p_id bigint, p_decision text,
    p_comment text, p_event bigint, p_scope bigint[], p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	v volunteers := rc_volunteer_for_update(p_id, p_event, p_scope);
BEGIN
	IF p_decision NOT IN ('approve', 'decline') THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'decision: approve or decline.');
	END IF;
	UPDATE volunteers SET status = CASE p_decision WHEN 'approve'
	        THEN 'approved' ELSE 'declined' END,
	    comment = nullif(p_comment, ''), decided_at = now(),
	    decided_by = p_actor,
	    outstanding_at = CASE p_decision WHEN 'approve'
	        THEN outstanding_at END,
	    outstanding_by = CASE p_decision WHEN 'approve'
	        THEN outstanding_by END
	WHERE id = v.id RETURNING * INTO v;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'volunteer.decision', v.event_id,
	    jsonb_build_object('volunteer', v.id, 'decision', p_decision));
	RETURN rc_volunteer_json(v);
END $$;

-- Record (or withdraw) an approved volunteer's attendance by hand: the
-- desk saw them, or they helped without a registration. A check-in of
-- their registration counts without this. Audited.
CREATE OR REPLACE FUNCTION rc_volunteer_attended(p_id bigint,
    p_attended boolean, p_event bigint, p_scope bigint[], p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	v volunteers := rc_volunteer_for_update(p_id, p_event, p_scope);
BEGIN
	IF v.status <> 'approved' THEN
		PERFORM rc_fail(409, 'not_approved', 'Only an approved '
		    'volunteer''s attendance is recorded.');
	END IF;
	UPDATE volunteers SET
	    attended_at = CASE WHEN p_attended
	        THEN coalesce(attended_at, now()) END,
	    attended_by = CASE WHEN p_attended
	        THEN coalesce(attended_by, p_actor) END
	WHERE id = v.id RETURNING * INTO v;
	-- Outstanding needs attendance: withdrawn, it goes too.
	IF NOT rc_volunteer_attended_p(v) AND v.outstanding_at IS NOT NULL THEN
		UPDATE volunteers SET outstanding_at = NULL,
		    outstanding_by = NULL
		WHERE id = v.id RETURNING * INTO v;
	END IF;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'volunteer.attended', v.event_id,
	    jsonb_build_object('volunteer', v.id, 'attended', p_attended));
	RETURN rc_volunteer_json(v);
END $$;

-- Flag (or unflag) an outstanding volunteer: after the event, approved
-- and attended. Audited.
CREATE OR REPLACE FUNCTION rc_volunteer_outstanding(p_id bigint,
    p_flag boolean, p_event bigint, p_scope bigint[], p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	v volunteers := rc_volunteer_for_update(p_id, p_event, p_scope);
	e events;
BEGIN
	SELECT * INTO e FROM events WHERE id = v.event_id;
	IF p_flag THEN
		IF v.status <> 'approved' THEN
			PERFORM rc_fail(409, 'not_approved', 'Only an '
			    'approved volunteer can be outstanding.');
		ELSIF NOT rc_volunteer_attended_p(v) THEN
			PERFORM rc_fail(409, 'not_attended', 'This volunteer''s '
			    'attendance is not recorded.');
		ELSIF NOT (e.status = 'finished' OR e.ends_at <= now()) THEN
			PERFORM rc_fail(409, 'event_not_over', 'Outstanding '
			    'volunteers are flagged after the event.');
		END IF;
	END IF;
	UPDATE volunteers SET
	    outstanding_at = CASE WHEN p_flag
	        THEN coalesce(outstanding_at, now()) END,
	    outstanding_by = CASE WHEN p_flag
	        THEN coalesce(outstanding_by, p_actor) END
	WHERE id = v.id RETURNING * INTO v;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'volunteer.outstanding', v.event_id,
	    jsonb_build_object('volunteer', v.id, 'outstanding', p_flag));
	RETURN rc_volunteer_json(v);
END $$;

-- A person's volunteering, for their own data export (the members part
-- calls this): every sign-up with its event, skills, note and outcome.
CREATE OR REPLACE FUNCTION rc_volunteer_export(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object(
	    'event', jsonb_build_object('id', e.id, 'title', e.title,
	        'starts_at', e.starts_at),
	    'name', v.name, 'skills', to_jsonb(v.skills), 'note', v.note,
	    'status', v.status, 'signed_up_at', v.created_at,
	    'decided_at', v.decided_at,
	    'attended', rc_volunteer_attended_p(v),
	    'outstanding', v.outstanding_at IS NOT NULL) ORDER BY v.id), '[]')
	FROM volunteers v JOIN events e ON e.id = v.event_id
	WHERE v.person_id = p_person
$$;
