-- E-mail through the transactional outbox (the design: 006_mail.sql and
-- docs/mail.md): queueing, the triggers that queue, senders' claims.

-- Wake the senders when a transaction that queued mail commits.
CREATE OR REPLACE FUNCTION rc_outbox_notify()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('rollcall_outbox', '');
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION rc_outbox_notify();

-- Queue one message for a registration (skipped when it has no address).
CREATE OR REPLACE FUNCTION rc_mail_queue(r registrations, p_kind text,
    p_sealed bytea DEFAULT NULL, p_detail jsonb DEFAULT '{}',
    p_due timestamptz DEFAULT now())
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF r.email IS NULL OR r.erased_at IS NOT NULL THEN
		RETURN;
	END IF;
	INSERT INTO outbox (kind, registration_id, event_id, secret_sealed,
	    detail, due_at, next_attempt_at)
	VALUES (p_kind, r.id, r.event_id, p_sealed, p_detail, p_due, p_due);
END $$;

-- Drop a registration's queued messages (not one a sender holds now),
-- wiping their sealed secrets. p_kinds NULL means every kind.
CREATE OR REPLACE FUNCTION rc_mail_drop(p_reg bigint, p_kinds text[],
    p_why text)
RETURNS void LANGUAGE sql AS $$
	UPDATE outbox SET state = 'skipped', secret_sealed = NULL,
	    last_error = p_why, finished_at = now()
	WHERE registration_id = p_reg AND state = 'queued'
	  AND (p_kinds IS NULL OR kind = ANY (p_kinds))
	  AND (claimed_until IS NULL OR claimed_until < now())
$$;

-- Forget the reminders event p_event's registrations still wait for
-- (registrations.remind, 029): the wish and the sealed secret kept for
-- it. Queued (rc_reminders_queue), skipped or cancelled, the same.
CREATE OR REPLACE FUNCTION rc_reminders_forget(p_event bigint)
RETURNS void LANGUAGE sql AS $$
	UPDATE registrations SET remind = false, remind_sealed = NULL
	WHERE event_id = p_event AND remind
$$;

-- Status changes queue their messages, whichever function made them:
-- promotion (from a cancellation or more capacity) and cancellation.
CREATE OR REPLACE FUNCTION rc_mail_on_status()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	sealed bytea;
BEGIN
	IF OLD.status = 'waitlisted' AND NEW.status = 'confirmed' THEN
		-- The sealed manage secret kept for the reminder (on the
		-- registration until the job queues it, or in a reminder
		-- queued before): the promotion mail can carry the link too.
		sealed := NEW.remind_sealed;
		IF sealed IS NULL THEN
			SELECT secret_sealed INTO sealed FROM outbox
			WHERE registration_id = NEW.id AND kind = 'reminder'
			  AND state = 'queued'
			ORDER BY id DESC LIMIT 1;
		END IF;
		PERFORM rc_mail_queue(NEW, 'promoted', sealed);
	ELSIF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
		PERFORM rc_mail_drop(NEW.id, NULL, 'registration cancelled');
		PERFORM rc_mail_queue(NEW, CASE WHEN NEW.released_at IS NULL
		    THEN 'cancelled' ELSE 'released' END);
	END IF;
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER registrations_mail
    AFTER UPDATE OF status ON registrations FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION rc_mail_on_status();

-- A cancelled registration wants no reminder: its sealed secret goes at
-- once, whichever function cancelled it.
CREATE OR REPLACE FUNCTION rc_mail_no_reminder()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.remind := false;
	NEW.remind_sealed := NULL;
	RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER registrations_no_reminder
    BEFORE UPDATE OF status ON registrations FOR EACH ROW
    WHEN (NEW.status = 'cancelled' AND (OLD.remind OR
        OLD.remind_sealed IS NOT NULL))
    EXECUTE FUNCTION rc_mail_no_reminder();

-- Erasure (by the attendee or a shred) drops whatever was still queued.
CREATE OR REPLACE FUNCTION rc_mail_on_erase()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM rc_mail_drop(NEW.id, NULL, 'personal data erased');
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER registrations_mail_erase
    AFTER UPDATE OF email ON registrations FOR EACH ROW
    WHEN (OLD.email IS NOT NULL AND NEW.email IS NULL)
    EXECUTE FUNCTION rc_mail_on_erase();

-- An event cancelled, or its time or place changed: a message to every
-- live registration, and the reminders follow the new start. A change
-- whose message is still queued (and not being sent) is not queued
-- again: the message describes the event as it is when it goes out.
CREATE OR REPLACE FUNCTION rc_mail_on_event()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	changed jsonb := '[]';
BEGIN
	IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
		FOR r IN SELECT * FROM registrations WHERE event_id = NEW.id
		    AND status IN ('confirmed', 'waitlisted') ORDER BY id LOOP
			PERFORM rc_mail_drop(r.id, NULL, 'event cancelled');
			PERFORM rc_mail_queue(r, 'event_cancelled');
		END LOOP;
		PERFORM rc_reminders_forget(NEW.id);
		RETURN NULL;
	END IF;
	IF NEW.status <> 'published' THEN
		RETURN NULL;
	END IF;
	IF NEW.starts_at IS DISTINCT FROM OLD.starts_at THEN
		changed := changed || '["starts_at"]';
	END IF;
	IF NEW.ends_at IS DISTINCT FROM OLD.ends_at THEN
		changed := changed || '["ends_at"]';
	END IF;
	IF NEW.venue IS DISTINCT FROM OLD.venue THEN
		changed := changed || '["venue"]';
	END IF;
	IF jsonb_array_length(changed) = 0 THEN
		RETURN NULL;
	END IF;
	FOR r IN SELECT * FROM registrations WHERE event_id = NEW.id
	    AND status IN ('confirmed', 'waitlisted') ORDER BY id LOOP
		IF NOT EXISTS (SELECT 1 FROM outbox WHERE registration_id = r.id
		    AND kind = 'event_changed' AND state = 'queued'
		    AND (claimed_until IS NULL OR claimed_until < now())) THEN
			PERFORM rc_mail_queue(r, 'event_changed', NULL,
			    jsonb_build_object('changed', changed));
		END IF;
	END LOOP;
	IF NEW.starts_at IS DISTINCT FROM OLD.starts_at THEN
		-- Reminders not yet queued (rc_reminders_queue): none when
		-- the event moved to within a day, as for those queued
		-- below; the job again when it moved out past a day.
		IF NEW.starts_at - interval '1 day' <= now() THEN
			IF NEW.reminded_at IS NULL THEN
				UPDATE events SET reminded_at = now()
				WHERE id = NEW.id;
				PERFORM rc_reminders_forget(NEW.id);
			END IF;
		ELSIF NEW.reminded_at IS NOT NULL THEN
			UPDATE events SET reminded_at = NULL WHERE id = NEW.id;
		END IF;
		UPDATE outbox SET due_at = NEW.starts_at - interval '1 day',
		    next_attempt_at = NEW.starts_at - interval '1 day'
		WHERE event_id = NEW.id AND kind = 'reminder' AND state = 'queued'
		  AND (claimed_until IS NULL OR claimed_until < now());
		UPDATE outbox SET state = 'skipped', secret_sealed = NULL,
		    last_error = 'event moved to within a day', finished_at = now()
		WHERE event_id = NEW.id AND kind = 'reminder' AND state = 'queued'
		  AND due_at <= now()
		  AND (claimed_until IS NULL OR claimed_until < now());
	END IF;
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER events_mail AFTER UPDATE ON events FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.starts_at IS DISTINCT FROM NEW.starts_at
        OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
        OR OLD.venue IS DISTINCT FROM NEW.venue)
    EXECUTE FUNCTION rc_mail_on_event();

-- An attendee asks for their links again. The registration gets a new
-- manage secret (and so a new join link), its queued messages carry the
-- new one, and a 'resend' message is queued: all in one transaction.
-- Nothing is said about whether the address is registered; at most one
-- resend per registration per 10 minutes is honoured.
--
-- Nor does the time the answer takes say it. A transaction that writes
-- nothing commits without waiting for the disk; one that writes waits for
-- its WAL flush, milliseconds that a client can measure. So every request
-- writes: an audit row (no address in it, no word of what was found) on
-- every path, registered or not, honoured or not.
CREATE OR REPLACE FUNCTION rc_resend(p_event bigint, p_email text, p_hash bytea,
    p_join bytea, p_sealed bytea)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
BEGIN
	INSERT INTO audit_log (actor, action, event_id)
	VALUES ('attendee', 'registration.resend', p_event);
	SELECT * INTO r FROM registrations WHERE event_id = p_event
	    AND lower(email) = lower(p_email) AND status <> 'cancelled'
	    AND erased_at IS NULL
	FOR UPDATE;
	IF NOT FOUND OR EXISTS (SELECT 1 FROM outbox WHERE registration_id = r.id
	    AND kind = 'resend' AND created_at > now() - interval '10 minutes')
	THEN
		RETURN;
	END IF;
	UPDATE registrations SET secret_hash = p_hash,
	    join_hash = CASE WHEN join_hash IS NULL THEN NULL ELSE p_join END
	WHERE id = r.id RETURNING * INTO r;
	UPDATE outbox SET secret_sealed = p_sealed
	WHERE registration_id = r.id AND state = 'queued'
	  AND secret_sealed IS NOT NULL;
	PERFORM rc_mail_queue(r, 'resend', p_sealed);
END $$;

-- rc_outbox_claim's part for a message to a staff account (sql/019): the
-- account's address, name and language, or skipped once it is disabled.
CREATE OR REPLACE FUNCTION rc_outbox_claim_account(o outbox, p_lease integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	a accounts;
BEGIN
	SELECT * INTO a FROM accounts WHERE id = o.account_id;
	IF NOT FOUND OR a.disabled_at IS NOT NULL THEN
		UPDATE outbox SET state = 'skipped', secret_sealed = NULL,
		    last_error = 'account disabled', finished_at = now()
		WHERE id = o.id;
		RETURN '[]';
	END IF;
	UPDATE outbox SET claimed_until = now() + make_interval(secs => p_lease)
	WHERE id = o.id;
	RETURN jsonb_build_array(jsonb_build_object('id', o.id,
	    'kind', o.kind, 'attempts', o.attempts,
	    'created_at', extract(epoch FROM o.created_at)::bigint,
	    'sealed', encode(o.secret_sealed, 'hex'), 'detail', o.detail,
	    'lang', a.lang, 'account', jsonb_build_object('email', a.email,
	        'name', a.name, 'role', a.role)));
END $$;

-- A sender claims up to p_limit due messages for p_lease seconds. Rows
-- that no longer apply are skipped here (the registration erased or
-- cancelled, a reminder for an attendee not confirmed or an event no
-- longer ahead). Each message comes with what its recipient may see: the
-- registration as rc_registration_json shows it to its own manage link.
CREATE OR REPLACE FUNCTION rc_outbox_claim(p_limit integer, p_lease integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	o outbox;
	r registrations;
	e events;
	why text;
	out jsonb := '[]';
BEGIN
	FOR o IN SELECT * FROM outbox WHERE state = 'queued'
	    AND next_attempt_at <= now()
	    AND (claimed_until IS NULL OR claimed_until < now())
	    ORDER BY next_attempt_at, id LIMIT p_limit
	    FOR UPDATE SKIP LOCKED LOOP
		IF o.account_id IS NOT NULL THEN
			out := out || rc_outbox_claim_account(o, p_lease);
			CONTINUE;
		END IF;
		IF o.person_id IS NOT NULL OR o.join_request IS NOT NULL THEN
			out := out || rc_outbox_claim_member(o, p_lease);
			CONTINUE;
		END IF;
		SELECT * INTO r FROM registrations WHERE id = o.registration_id;
		SELECT * INTO e FROM events WHERE id = o.event_id;
		why := CASE
		    WHEN r.email IS NULL OR r.erased_at IS NOT NULL
		        THEN 'personal data erased'
		    WHEN r.status = 'cancelled' AND o.kind IN ('confirmed',
		        'waitlisted', 'promoted', 'reminder', 'resend', 'reconfirm')
		        THEN 'registration cancelled'
		    WHEN o.kind = 'reconfirm' AND (r.status <> 'confirmed'
		        OR r.reconfirmed_at IS NOT NULL OR e.starts_at <= now())
		        THEN 'no reconfirmation due'
		    WHEN o.kind = 'reminder' AND (r.status <> 'confirmed'
		        OR e.status <> 'published' OR e.starts_at <= now())
		        THEN 'no reminder due'
		    END;
		IF why IS NOT NULL THEN
			UPDATE outbox SET state = 'skipped', secret_sealed = NULL,
			    last_error = why, finished_at = now()
			WHERE id = o.id;
			CONTINUE;
		END IF;
		UPDATE outbox SET claimed_until = now() + make_interval(
		    secs => p_lease)
		WHERE id = o.id;
		out := out || jsonb_build_array(jsonb_build_object(
		    'id', o.id, 'kind', o.kind, 'attempts', o.attempts,
		    'created_at', extract(epoch FROM o.created_at)::bigint,
		    'sealed', encode(o.secret_sealed, 'hex'),
		    'detail', o.detail, 'lang', r.lang,
		    'reg', rc_registration_json(r)));
	END LOOP;
	RETURN out;
END $$;

-- The outcome of one attempt. A failure is retried after 5 s, 10 s,
-- 20 s ... (at most 30 min apart) until the message is three days old,
-- or given up at once when p_permanent; the reason is kept either way.
CREATE OR REPLACE FUNCTION rc_outbox_done(p_id bigint, p_ok boolean,
    p_error text, p_permanent boolean)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	o outbox;
BEGIN
	SELECT * INTO o FROM outbox WHERE id = p_id AND state = 'queued'
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF p_ok THEN
		UPDATE outbox SET state = 'sent', secret_sealed = NULL,
		    attempts = attempts + 1, claimed_until = NULL,
		    finished_at = now()
		WHERE id = p_id;
		RETURN 'sent';
	END IF;
	-- A refusal quotes the address: none is kept once it was erased.
	IF EXISTS (SELECT 1 FROM registrations WHERE id = o.registration_id
	    AND erased_at IS NOT NULL) THEN
		p_error := 'personal data erased';
	END IF;
	IF p_permanent OR now() - o.due_at > interval '3 days' THEN
		UPDATE outbox SET state = 'failed', secret_sealed = NULL,
		    attempts = attempts + 1, claimed_until = NULL,
		    last_error = left(p_error, 500), finished_at = now()
		WHERE id = p_id;
		RETURN 'failed';
	END IF;
	UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL,
	    last_error = left(p_error, 500),
	    next_attempt_at = now() + least(interval '5 seconds' *
	        power(2, least(o.attempts, 12)), interval '30 minutes')
	WHERE id = p_id;
	RETURN 'retry';
END $$;

-- A sender stopping hands back what it claimed and did not send.
CREATE OR REPLACE FUNCTION rc_outbox_release(p_ids bigint[])
RETURNS void LANGUAGE sql AS $$
	UPDATE outbox SET claimed_until = NULL
	WHERE id = ANY (p_ids) AND state = 'queued'
$$;

-- For /metrics and `rollcalld mail --status`. queued: due and unsent;
-- scheduled: due later (reminders queued before 029: the job queues them
-- due); retrying: queued after a failure.
CREATE OR REPLACE FUNCTION rc_outbox_stats()
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_outbox_queue() || rc_outbox_totals() || jsonb_build_object(
	    'recent_failures', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'id', f.id, 'kind', f.kind, 'attempts', f.attempts,
	        'state', f.state, 'error', f.last_error) ORDER BY f.id DESC),
	        '[]') FROM (SELECT * FROM outbox WHERE last_error IS NOT NULL
	            AND state IN ('queued', 'failed')
	            ORDER BY id DESC LIMIT 10) f))
$$;

-- The queue's part, which the sender reads for /metrics every few seconds
-- and after each batch it sends: the queued rows only (the partial
-- indexes' rows), not the whole history. Counting all of it each time
-- cost 70-90 ms at 260,000 rows, once per batch while a rush's mail went
-- out.
CREATE OR REPLACE FUNCTION rc_outbox_queue()
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'queued', count(*) FILTER (WHERE due_at <= now()),
	    'scheduled', count(*) FILTER (WHERE due_at > now()),
	    'retrying', count(*) FILTER (WHERE attempts > 0),
	    'oldest_unsent_seconds', coalesce(floor(extract(epoch FROM
	        now() - min(due_at) FILTER (WHERE due_at <= now()))), 0)::bigint)
	FROM outbox WHERE state = 'queued'
$$;

-- What the outbox has sent, failed and skipped in all: the whole table,
-- which the sender reads every few minutes (MAIL_TOTALS_SECS).
CREATE OR REPLACE FUNCTION rc_outbox_totals()
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'sent', count(*) FILTER (WHERE state = 'sent'),
	    'failed', count(*) FILTER (WHERE state = 'failed'),
	    'skipped', count(*) FILTER (WHERE state = 'skipped'))
	FROM outbox
$$;

-- The reminders of events starting within a day, queued once per event
-- (the job of every server, with the no-show job: rc_noshow_run): one
-- for each registration that wanted one and is confirmed now, with the
-- sealed manage secret it kept for it; then every registration of the
-- event lets go of that secret. An event another server is queueing is
-- skipped (SKIP LOCKED); the event's row lock also orders this against
-- a registration deciding meanwhile, which reads reminded_at under it.
-- At most p_limit events a run. Returns how many reminders it queued.
CREATE OR REPLACE FUNCTION rc_reminders_queue(p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	e events;
	n integer;
	queued integer := 0;
BEGIN
	FOR e IN SELECT * FROM events v WHERE v.status = 'published'
	    AND v.reminded_at IS NULL
	    AND v.starts_at - interval '1 day' <= now()
	    ORDER BY v.starts_at, v.id LIMIT p_limit
	    FOR UPDATE SKIP LOCKED LOOP
		IF e.starts_at > now() THEN
			INSERT INTO outbox (kind, registration_id, event_id,
			    secret_sealed, detail)
			SELECT 'reminder', r.id, r.event_id, r.remind_sealed, '{}'
			FROM registrations r
			WHERE r.event_id = e.id AND r.remind
			  AND r.status = 'confirmed' AND r.email IS NOT NULL
			  AND r.erased_at IS NULL
			ORDER BY r.id;
			GET DIAGNOSTICS n = ROW_COUNT;
			queued := queued + n;
		END IF;
		PERFORM rc_reminders_forget(e.id);
		UPDATE events SET reminded_at = now() WHERE id = e.id;
	END LOOP;
	RETURN queued;
END $$;
