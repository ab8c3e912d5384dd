-- Badges: what a badge PDF shows (server/badge.c draws it).

-- The badges to print, for one registration (p_reg) or every confirmed
-- one of the event (p_reg NULL), as {event: {id, title, chapter, date},
-- badges: [{registration_id, name, company, lead_code}]}. p_door is a door
-- token's jti: a door gets only the badge of a registration it admitted
-- within the last p_window seconds. NULL (404) when there is nothing the
-- caller may print; more than p_max badges is refused. Audited.
CREATE OR REPLACE FUNCTION rc_badges(p_event bigint, p_reg bigint,
    p_door text, p_window integer, p_max integer, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	b jsonb;
	n integer;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF p_door IS NOT NULL AND (p_reg IS NULL OR NOT EXISTS (SELECT 1
	    FROM checkins c WHERE c.registration_id = p_reg
	      AND c.door_jti = p_door AND c.verdict = 'admitted'
	      AND c.event_id = p_event
	      AND c.recorded_at > now() - make_interval(secs => p_window))) THEN
		RETURN NULL;
	END IF;
	SELECT count(*), jsonb_agg(jsonb_build_object('registration_id', r.id,
	    'name', r.name, 'company', r.company, 'lead_code', r.lead_code)
	    ORDER BY r.name, r.id)
	INTO n, b
	FROM registrations r
	WHERE r.event_id = p_event AND r.status = 'confirmed'
	  AND r.erased_at IS NULL AND (p_reg IS NULL OR r.id = p_reg);
	IF n = 0 THEN
		RETURN NULL;
	ELSIF n > p_max THEN
		PERFORM rc_fail(413, 'too_many', 'More than ' || p_max
		    || ' badges in one PDF.');
	END IF;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'export.badges', p_event,
	    jsonb_build_object('registration', p_reg, 'badges', n));
	RETURN jsonb_build_object('event', jsonb_build_object('id', e.id,
	    'title', e.title, 'chapter', e.chapter,
	    'date', to_char(e.starts_at AT TIME ZONE e.timezone, 'YYYY-MM-DD')),
	    'badges', b);
END $$;
