-- Tickets and NightTalk join links.
--
-- A ticket is a JWT (ES256) naming the event, the registration and a jti;
-- the registration row remembers which jti is current.

-- A fresh ticket id from ticket_jti_seq (short hexadecimal: see
-- 003_tickets.sql).
CREATE OR REPLACE FUNCTION rc_new_jti()
RETURNS text LANGUAGE sql VOLATILE AS $$
	SELECT to_hex(nextval('ticket_jti_seq'))
$$;

-- Give a confirmed registration its ticket (kept if it has one).
CREATE OR REPLACE FUNCTION rc_ticket_assign()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.status = 'confirmed' AND NEW.ticket_jti IS NULL THEN
		NEW.ticket_jti := rc_new_jti();
		NEW.ticket_kid := (SELECT kid FROM ticket_keys
		    WHERE retired_at IS NULL);
		NEW.ticket_iat := floor(extract(epoch FROM now()))::bigint;
	END IF;
	IF NEW.status = 'cancelled' AND OLD.status IS DISTINCT FROM 'cancelled'
	    AND NEW.ticket_jti IS NOT NULL THEN
		INSERT INTO revoked_tickets (jti, event_id, registration_id, reason)
		VALUES (NEW.ticket_jti, NEW.event_id, NEW.id, 'cancelled')
		ON CONFLICT DO NOTHING;
	END IF;
	RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER registrations_ticket_insert
    BEFORE INSERT ON registrations
    FOR EACH ROW EXECUTE FUNCTION rc_ticket_assign();
CREATE OR REPLACE TRIGGER registrations_ticket_update
    BEFORE UPDATE OF status ON registrations
    FOR EACH ROW EXECUTE FUNCTION rc_ticket_assign();

-- The claims a server signs for a registration's ticket, or NULL.
CREATE OR REPLACE FUNCTION rc_ticket_claims(r registrations)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.status = 'confirmed' AND r.ticket_jti IS NOT NULL
	    THEN jsonb_build_object('kid', r.ticket_kid, 'ev', r.event_id,
	        'reg', r.id, 'jti', r.ticket_jti, 'iat', r.ticket_iat) END
$$;

-- Re-issue: a new jti; the old one is refused from now on.
CREATE OR REPLACE FUNCTION rc_ticket_reissue(p_hash bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
BEGIN
	SELECT * INTO r FROM registrations WHERE secret_hash = p_hash FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF r.status <> 'confirmed' THEN
		PERFORM rc_fail(409, 'not_confirmed',
		    'Only a confirmed registration has a ticket.');
	END IF;
	INSERT INTO revoked_tickets (jti, event_id, registration_id, reason)
	VALUES (r.ticket_jti, r.event_id, r.id, 'reissued');
	UPDATE registrations SET ticket_jti = rc_new_jti(),
	    ticket_kid = (SELECT kid FROM ticket_keys WHERE retired_at IS NULL),
	    ticket_iat = floor(extract(epoch FROM now()))::bigint
	WHERE id = r.id RETURNING * INTO r;
	RETURN rc_ticket_claims(r);
END $$;

-- The ticket claims for a manage secret: NULL when unknown, {} when the
-- registration has no ticket.
CREATE OR REPLACE FUNCTION rc_ticket_get(p_hash bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(rc_ticket_claims(r), '{}'::jsonb)
	FROM registrations r WHERE r.secret_hash = p_hash
$$;

-- What a door needs to decide alone.
CREATE OR REPLACE FUNCTION rc_offline_bundle(p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM events WHERE id = p_event)
	    THEN NULL ELSE jsonb_build_object(
	    'event_id', p_event,
	    'public_keys', (SELECT jsonb_agg(public_pem ORDER BY created_at)
	        FROM ticket_keys),
	    'keys', (SELECT jsonb_agg(jsonb_build_object('kid', kid,
	        'public_key', public_pem) ORDER BY created_at) FROM ticket_keys),
	    'issuer', 'rc',
	    -- A cancelled event's tickets are all refused, offline too.
	    'revoked', coalesce((SELECT jsonb_agg(j ORDER BY j) FROM (
	        SELECT jti AS j FROM revoked_tickets WHERE event_id = p_event
	        UNION SELECT ticket_jti FROM registrations
	        WHERE event_id = p_event AND ticket_jti IS NOT NULL
	          AND rc_event_cancelled(p_event)) x), '[]'),
	    'generated_at', now()) END
$$;

-- A NightTalk join link: records the first join and hands back the stream
-- address, from 30 minutes before the start until the end.
CREATE OR REPLACE FUNCTION rc_join(p_hash bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	e events;
BEGIN
	SELECT * INTO r FROM registrations WHERE join_hash = p_hash;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT * INTO e FROM events WHERE id = r.event_id;
	IF e.kind <> 'nighttalk' OR e.online_url IS NULL THEN
		RETURN NULL;
	END IF;
	IF r.status <> 'confirmed' THEN
		PERFORM rc_fail(409, 'not_confirmed',
		    'This registration is not confirmed.');
	END IF;
	IF e.status = 'cancelled' THEN
		PERFORM rc_fail(409, 'event_cancelled',
		    'This event has been cancelled.');
	END IF;
	IF now() < e.starts_at - interval '30 minutes' THEN
		PERFORM rc_fail(409, 'not_open_yet', 'The stream opens at ' ||
		    to_char((e.starts_at - interval '30 minutes') AT TIME ZONE
		    e.timezone, 'YYYY-MM-DD HH24:MI') || ' (' || e.timezone || ').');
	END IF;
	IF now() > e.ends_at THEN
		PERFORM rc_fail(409, 'event_over', 'This NightTalk has ended.');
	END IF;
	UPDATE registrations SET joined_at = coalesce(joined_at, now())
	WHERE id = r.id;
	RETURN jsonb_build_object('url', e.online_url);
END $$;
