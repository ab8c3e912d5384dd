-- No-shows: reconfirmation, releasing unconfirmed seats to the waitlist,
-- turnout per chapter, and each person's no-show count (docs/api.md,
-- "No-shows").
--
-- rc_noshow_run is the periodic job every server runs (server/noshow.c).
-- Several servers share one database, so each step is a conditional
-- update of rows it locked with SKIP LOCKED: a registration is asked once
-- (reconfirm_asked_at IS NULL is re-checked under its row lock), and an
-- event's seats are released by one server at a time (its row lock, the
-- lock order of every seat change: the event, then registrations).

-- True when the event is over: finished, or published and ended.
CREATE OR REPLACE FUNCTION rc_event_over(e events)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT e.status = 'finished' OR (e.status = 'published'
	    AND e.ends_at < now())
$$;

-- A person's no-shows: confirmed, never checked in (or joined online),
-- for events that are over. By address, across events.
CREATE OR REPLACE FUNCTION rc_noshow_count(p_email text)
RETURNS integer LANGUAGE sql STABLE AS $$
	SELECT count(*)::integer FROM registrations g
	JOIN events e ON e.id = g.event_id
	WHERE lower(g.email) = lower(p_email) AND g.status = 'confirmed'
	  AND g.checked_in_at IS NULL AND g.joined_at IS NULL
	  AND rc_event_over(e)
$$;

-- A chapter's measured turnout over its events that are over (but
-- p_except): attended / confirmed, and the overbooking that turnout
-- suggests, 100 * (1 / turnout - 1) rounded down and at most 100, so
-- that the expected attendance stays within capacity. NULL percent when
-- nothing was measured.
CREATE OR REPLACE FUNCTION rc_chapter_turnout(p_chapter text,
    p_except bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	WITH m AS (
		SELECT count(DISTINCT e.id) AS events,
		    count(g.id) AS confirmed,
		    count(g.id) FILTER (WHERE g.checked_in_at IS NOT NULL
		        OR g.joined_at IS NOT NULL) AS attended
		FROM events e JOIN registrations g ON g.event_id = e.id
		    AND g.status = 'confirmed'
		WHERE e.chapter = p_chapter AND e.id <> p_except
		  AND rc_event_over(e))
	SELECT jsonb_build_object('chapter', p_chapter, 'events', m.events,
	    'confirmed', m.confirmed, 'checked_in', m.attended,
	    'turnout', CASE WHEN m.confirmed > 0
	        THEN round(m.attended::numeric / m.confirmed, 4) END,
	    'suggested_overbook_percent', CASE
	        WHEN m.confirmed = 0 THEN NULL
	        WHEN m.attended = 0 THEN 100
	        ELSE least(100, floor(100.0 * m.confirmed / m.attended
	            - 100 + 1e-9))::integer END)
	FROM m
$$;

-- The attendee confirms they are coming (their manage secret's hash).
-- NULL when unknown; 409 when the registration holds no seat (released,
-- cancelled, waitlisted). Confirming twice keeps the first time.
CREATE OR REPLACE FUNCTION rc_reconfirm(p_hash bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
BEGIN
	UPDATE registrations SET reconfirmed_at = coalesce(reconfirmed_at,
	    now())
	WHERE secret_hash = p_hash AND status = 'confirmed'
	  AND erased_at IS NULL
	RETURNING * INTO r;
	IF FOUND THEN
		RETURN rc_registration_json(r);
	END IF;
	SELECT * INTO r FROM registrations WHERE secret_hash = p_hash;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF r.released_at IS NOT NULL THEN
		PERFORM rc_fail(409, 'released', 'This seat was released to ' ||
		    'the waiting list because it was not confirmed in time.');
	END IF;
	PERFORM rc_fail(409, 'not_confirmed',
	    'Only a confirmed registration can be reconfirmed.');
	RETURN NULL;
END $$;

-- The periodic job: ask up to p_limit confirmed attendees whose event's
-- reconfirmation time has come (those confirmed before it; not after
-- the release time), queueing the 'reconfirm' message with the manage
-- link when a queued message holds it; then, for each event past its
-- release time, cancel the seats asked and not confirmed (nor checked
-- in), queueing 'released', and promote the waitlist into them in its
-- order (rc_promote; the trigger queues 'promoted'); last, the reminders
-- of events a day away (rc_reminders_queue, mail.sql). Answers the
-- counts.
CREATE OR REPLACE FUNCTION rc_noshow_run(p_limit integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	e events;
	sealed bytea;
	n integer;
	moved integer;
	asked integer := 0;
	released integer := 0;
	promoted integer := 0;
BEGIN
	FOR r IN WITH due AS (
		SELECT g.id FROM registrations g JOIN events x
		    ON x.id = g.event_id
		WHERE x.status = 'published' AND x.reconfirm_hours > 0
		  AND now() >= x.starts_at - make_interval(
		      hours => x.reconfirm_hours)
		  AND now() < x.starts_at - make_interval(
		      hours => coalesce(x.release_hours, 0))
		  AND g.status = 'confirmed' AND g.reconfirm_asked_at IS NULL
		  AND g.reconfirmed_at IS NULL AND g.checked_in_at IS NULL
		  AND g.erased_at IS NULL
		  AND g.confirmed_at <= x.starts_at - make_interval(
		      hours => x.reconfirm_hours)
		ORDER BY g.id LIMIT p_limit
		FOR UPDATE OF g SKIP LOCKED)
	    UPDATE registrations u SET reconfirm_asked_at = now() FROM due
	    WHERE u.id = due.id AND u.reconfirm_asked_at IS NULL
	    RETURNING u.* LOOP
		-- The sealed secret kept for the reminder, on the
		-- registration or in a queued message, carries the link.
		sealed := r.remind_sealed;
		IF sealed IS NULL THEN
			SELECT secret_sealed INTO sealed FROM outbox
			WHERE registration_id = r.id AND state = 'queued'
			  AND secret_sealed IS NOT NULL
			ORDER BY id DESC LIMIT 1;
		END IF;
		PERFORM rc_mail_queue(r, 'reconfirm', sealed);
		asked := asked + 1;
	END LOOP;
	FOR e IN SELECT * FROM events v WHERE v.status = 'published'
	    AND v.reconfirm_hours > 0 AND v.release_hours > 0
	    AND v.capacity IS NOT NULL
	    AND now() >= v.starts_at - make_interval(hours => v.release_hours)
	    AND now() < v.starts_at
	    AND EXISTS (SELECT 1 FROM registrations g WHERE g.event_id = v.id
	        AND g.status = 'confirmed' AND g.reconfirm_asked_at IS NOT NULL
	        AND g.reconfirmed_at IS NULL AND g.checked_in_at IS NULL)
	    ORDER BY v.id FOR UPDATE SKIP LOCKED LOOP
		UPDATE registrations SET status = 'cancelled',
		    cancelled_at = now(), released_at = now()
		WHERE event_id = e.id AND status = 'confirmed'
		  AND reconfirm_asked_at IS NOT NULL AND reconfirmed_at IS NULL
		  AND checked_in_at IS NULL;
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n > 0 THEN
			UPDATE events SET confirmed = confirmed - n
			WHERE id = e.id;
			moved := rc_promote(e.id);
			released := released + n;
			promoted := promoted + moved;
			INSERT INTO audit_log (actor, action, event_id, detail)
			VALUES ('noshow', 'event.release', e.id,
			    jsonb_build_object('released', n, 'promoted', moved));
		END IF;
	END LOOP;
	RETURN jsonb_build_object('asked', asked, 'released', released,
	    'promoted', promoted, 'reminded', rc_reminders_queue(p_limit));
END $$;
