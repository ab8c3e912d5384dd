-- Erasure (by the attendee) and shredding (an ended event): personal data
-- blanked, counts kept.
--
-- Where personal data lives (docs/operations.md keeps the full list):
-- the registration itself; the sponsor's note on a lead; the outbox's
-- error texts (a mail server's refusal quotes the address) and sealed
-- manage secrets. checkins.result holds the verdict only (the door reads
-- name and company from the registration), consent_history and
-- audit_log hold ids and choices, never a name or an address. One
-- function wipes all of them, for erasure and shredding alike, with the
-- registration's link to a member (person_id) and its sealed manage
-- secret (manage_sealed). A member's own erasure (rc_member_erase,
-- member.sql) erases each of their registrations here, then deletes the
-- person and their join requests.

-- Wipe the personal data of these registrations wherever it is.
CREATE OR REPLACE FUNCTION rc_personal_data_wipe(p_ids bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	-- The consent they gave stays on record (it holds no name).
	PERFORM rc_consent_history_start(p_ids);
	UPDATE registrations SET name = '', email = NULL, company = '',
	    job_title = '', phone = NULL, consent_sponsors = false,
	    consent_fields = '{}', consent_at = now(),
	    erased_at = coalesce(erased_at, now()), join_hash = NULL,
	    person_id = NULL, manage_sealed = NULL, remind = false,
	    remind_sealed = NULL
	WHERE id = ANY (p_ids);
	UPDATE leads SET note = NULL, updated_at = now()
	WHERE registration_id = ANY (p_ids) AND note IS NOT NULL;
	UPDATE outbox SET last_error = CASE WHEN last_error IS NULL THEN NULL
	        ELSE 'personal data erased' END,
	    secret_sealed = NULL, detail = '{}'
	WHERE registration_id = ANY (p_ids) AND (last_error IS NOT NULL
	    OR secret_sealed IS NOT NULL OR detail <> '{}');
	-- Verdicts recorded by a server from before verdicts held no names.
	UPDATE checkins SET result = result - 'attendee'
	WHERE registration_id = ANY (p_ids) AND result ? 'attendee';
END $$;

-- Blank one registration's personal data; counts stay. Cancels it first
-- (promoting the waitlist and revoking the ticket) when it is live.
CREATE OR REPLACE FUNCTION rc_erase_one(p_id bigint, p_actor text)
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
	PERFORM rc_personal_data_wipe(ARRAY[p_id]);
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'registration.erase', r.event_id,
	    jsonb_build_object('registration', p_id));
END $$;

-- An attendee erases their own data from the manage link.
CREATE OR REPLACE FUNCTION rc_registration_erase(p_hash bytea)
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
CREATE OR REPLACE FUNCTION rc_event_shred(p_event bigint, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	n integer;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF e.status NOT IN ('finished', 'cancelled') AND e.ends_at > now() THEN
		PERFORM rc_fail(409, 'event_not_over', 'Personal data can be '
		    'shredded once the event has ended.');
	END IF;
	-- Counts stay as they were: no cancellations, no promotions. Rows
	-- erased before are wiped again: what an older server left beside
	-- them goes too.
	SELECT count(*) FILTER (WHERE erased_at IS NULL) INTO n
	FROM registrations WHERE event_id = p_event;
	PERFORM rc_personal_data_wipe(ARRAY(SELECT id FROM registrations
	    WHERE event_id = p_event));
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'event.shred', p_event,
	    jsonb_build_object('registrations', n));
	RETURN jsonb_build_object('event_id', p_event, 'shredded', n,
	    'counts', rc_event_counts(p_event));
END $$;
