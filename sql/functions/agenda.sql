-- An event's agenda: sessions with their speakers.

-- The agenda as clients see it, times also in the event's zone.
CREATE OR REPLACE FUNCTION rc_agenda(p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('title', s.title,
	    'speaker', s.speaker, 'kind', s.kind, 'room', s.room,
	    'starts_at', s.starts_at, 'ends_at', s.ends_at,
	    'starts_local', to_char(s.starts_at AT TIME ZONE e.timezone,
	        'HH24:MI'),
	    'ends_local', to_char(s.ends_at AT TIME ZONE e.timezone, 'HH24:MI'))
	    ORDER BY s.position), '[]')
	FROM sessions s JOIN events e ON e.id = s.event_id
	WHERE s.event_id = p_event
$$;

-- Replace an event's agenda (validated fields), audited.
CREATE OR REPLACE FUNCTION rc_agenda_set(p_event bigint, p jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF e.status IN ('cancelled', 'finished') THEN
		PERFORM rc_fail(409, 'event_closed',
		    'This event is ' || e.status || ' and can no longer change.');
	END IF;
	DELETE FROM sessions WHERE event_id = p_event;
	INSERT INTO sessions (event_id, position, title, speaker, kind, room,
	    starts_at, ends_at)
	SELECT p_event, n, x->>'title', x->>'speaker', x->>'kind', x->>'room',
	    (x->>'starts_at')::timestamptz, (x->>'ends_at')::timestamptz
	FROM jsonb_array_elements(p->'sessions') WITH ORDINALITY AS t(x, n);
	IF EXISTS (SELECT 1 FROM sessions WHERE event_id = p_event
	    AND (starts_at NOT BETWEEN e.starts_at AND e.ends_at
	        OR ends_at NOT BETWEEN e.starts_at AND e.ends_at)) THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'sessions: every session must lie within the event.');
	END IF;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'event.agenda', p_event, jsonb_build_object(
	    'sessions', jsonb_array_length(p->'sessions')));
	RETURN jsonb_build_object('event_id', p_event,
	    'sessions', rc_agenda(p_event));
END $$;
