-- 003: ticket keys, tickets, check-in, revocation, offline reconciliation,
-- NightTalk join links.
--
-- A ticket is a JWT (ES256) naming the event, the registration and a jti;
-- the registration row remembers which jti is current. Admission is one
-- conditional UPDATE ... WHERE checked_in_at IS NULL on the registration's
-- row: of any number of simultaneous scans, through any number of server
-- processes, exactly one finds it NULL.

-- Signing keys. The newest unretired key signs; every key verifies.
CREATE TABLE ticket_keys (
	kid		text PRIMARY KEY,
	private_pem	text NOT NULL,
	public_pem	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	retired_at	timestamptz
);
-- At most one signing key at a time, whoever creates it first.
CREATE UNIQUE INDEX ticket_keys_one_signing ON ticket_keys ((true))
    WHERE retired_at IS NULL;

ALTER TABLE registrations
	ADD COLUMN ticket_jti text UNIQUE,
	-- The signing key when the ticket was issued (for the record: a
	-- server signs with its current key, and every key verifies).
	ADD COLUMN ticket_kid text REFERENCES ticket_keys,
	ADD COLUMN ticket_iat bigint,
	ADD COLUMN checkin_gate text,
	ADD COLUMN join_hash bytea UNIQUE,
	ADD COLUMN joined_at timestamptz;

CREATE TABLE revoked_tickets (
	jti		text PRIMARY KEY,
	event_id	bigint NOT NULL REFERENCES events,
	registration_id	bigint NOT NULL REFERENCES registrations,
	reason		text NOT NULL CHECK (reason IN ('cancelled', 'reissued')),
	revoked_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tickets_event ON revoked_tickets (event_id);

-- Every scan, invalid ones included.
CREATE TABLE checkins (
	id		bigserial PRIMARY KEY,
	event_id	bigint,
	registration_id	bigint,
	jti		text,
	verdict		text NOT NULL CHECK (verdict IN ('admitted',
	    'already_checked_in', 'invalid', 'cancelled', 'not_confirmed',
	    'wrong_event', 'conflict')),
	gate		text,
	door_jti	text NOT NULL,
	nonce		text,
	device		text,
	source		text NOT NULL DEFAULT 'online'
	    CHECK (source IN ('online', 'offline')),
	scanned_at	timestamptz NOT NULL DEFAULT now(),
	recorded_at	timestamptz NOT NULL DEFAULT now(),
	result		jsonb NOT NULL
);
CREATE UNIQUE INDEX checkins_nonce ON checkins (door_jti, nonce)
    WHERE nonce IS NOT NULL;
CREATE INDEX checkins_event ON checkins (event_id, scanned_at);

-- A fresh ticket id. It identifies a ticket for revocation and
-- reconciliation; the signature, not the id, makes a ticket unforgeable.
-- A hexadecimal serial keeps it short (8 characters up to 4 billion
-- tickets), and every byte of the ticket costs QR modules.
CREATE SEQUENCE ticket_jti_seq START 65536;
CREATE FUNCTION rc_new_jti()
RETURNS text LANGUAGE sql VOLATILE AS $$
	SELECT to_hex(nextval('ticket_jti_seq'))
$$;

-- Give a confirmed registration its ticket (kept if it has one).
CREATE FUNCTION rc_ticket_assign()
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
CREATE TRIGGER registrations_ticket_insert BEFORE INSERT ON registrations
    FOR EACH ROW EXECUTE FUNCTION rc_ticket_assign();
CREATE TRIGGER registrations_ticket_update BEFORE UPDATE OF status
    ON registrations FOR EACH ROW EXECUTE FUNCTION rc_ticket_assign();

-- The claims a server signs for a registration's ticket, or NULL.
CREATE FUNCTION rc_ticket_claims(r registrations)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.status = 'confirmed' AND r.ticket_jti IS NOT NULL
	    THEN jsonb_build_object('kid', r.ticket_kid, 'ev', r.event_id,
	        'reg', r.id, 'jti', r.ticket_jti, 'iat', r.ticket_iat) END
$$;

-- Re-issue: a new jti; the old one is refused from now on.
CREATE FUNCTION rc_ticket_reissue(p_hash bytea)
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
CREATE FUNCTION rc_ticket_get(p_hash bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(rc_ticket_claims(r), '{}'::jsonb)
	FROM registrations r WHERE r.secret_hash = p_hash
$$;

-- What the attendee sees now carries the ticket's claims.
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
	    'waitlist_position', rc_waitlist_position(r),
	    'ticket_claims', rc_ticket_claims(r),
	    'event', (SELECT jsonb_build_object('id', e.id, 'title', e.title,
	        'kind', e.kind, 'starts_at', e.starts_at, 'ends_at', e.ends_at,
	        'timezone', e.timezone, 'venue', e.venue, 'status', e.status,
	        'sponsors', (SELECT coalesce(jsonb_agg(s.name ORDER BY s.id),
	            '[]') FROM sponsors s WHERE s.event_id = e.id))
	        FROM events e WHERE e.id = r.event_id))
$$;

-- Register, as in 002, now also storing the join link's hash and
-- answering with the ticket's claims when confirmed.
CREATE OR REPLACE FUNCTION rc_register3(p_event bigint, p jsonb,
    p_hash bytea, p_join bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	out jsonb;
	r registrations;
BEGIN
	out := rc_register(p_event, p, p_hash);
	UPDATE registrations SET join_hash = p_join
	WHERE id = (out->>'id')::bigint RETURNING * INTO r;
	RETURN out || jsonb_build_object('ticket_claims', rc_ticket_claims(r),
	    'kind', (SELECT kind FROM events WHERE id = p_event));
END $$;

-- One scan at a door. p_claims is what the server verified from the
-- ticket (NULL when it was not a valid ticket at all); p_scope the door
-- token's events; p_event the event the door says it is checking.
CREATE FUNCTION rc_checkin(p_door text, p_scope bigint[], p_event bigint,
    p_claims jsonb, p_gate text, p_nonce text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	v text;
	ev bigint := (p_claims->>'ev')::bigint;
	reg bigint := (p_claims->>'reg')::bigint;
	jti text := p_claims->>'jti';
	res jsonb;
	n integer;
BEGIN
	IF p_nonce IS NOT NULL THEN
		SELECT result INTO res FROM checkins
		WHERE door_jti = p_door AND nonce = p_nonce;
		IF FOUND THEN
			RETURN res;
		END IF;
	END IF;
	IF p_claims IS NULL THEN
		v := 'invalid';
	ELSIF (p_event IS NOT NULL AND ev <> p_event)
	    OR (p_scope IS NOT NULL AND NOT ev = ANY (p_scope)) THEN
		v := 'wrong_event';
	ELSE
		-- The admission: one statement, exactly one winner.
		UPDATE registrations SET checked_in_at = now(),
		    checkin_gate = p_gate
		WHERE id = reg AND event_id = ev AND ticket_jti = jti
		  AND status = 'confirmed' AND checked_in_at IS NULL
		RETURNING * INTO r;
		IF FOUND THEN
			v := 'admitted';
		ELSE
			SELECT * INTO r FROM registrations
			WHERE id = reg AND event_id = ev;
			IF NOT FOUND THEN
				v := 'invalid';
			ELSIF r.status = 'waitlisted' THEN
				v := 'not_confirmed';
			ELSIF r.status = 'cancelled' THEN
				v := 'cancelled';
			ELSIF r.ticket_jti IS DISTINCT FROM jti THEN
				v := 'invalid';		-- a re-issued ticket's old code
			ELSE
				v := 'already_checked_in';
			END IF;
		END IF;
	END IF;
	res := jsonb_build_object('result', v, 'event_id', ev,
	    'attendee', CASE WHEN v IN ('admitted', 'already_checked_in',
	        'cancelled', 'not_confirmed')
	        THEN jsonb_build_object('name', r.name, 'company', r.company) END,
	    'first_checked_in_at', CASE WHEN v IN ('admitted',
	        'already_checked_in') THEN r.checked_in_at END,
	    'gate', CASE WHEN v IN ('admitted', 'already_checked_in')
	        THEN r.checkin_gate END);
	INSERT INTO checkins (event_id, registration_id, jti, verdict, gate,
	    door_jti, nonce, result)
	VALUES (ev, CASE WHEN r.id IS NOT NULL THEN r.id END, jti, v, p_gate,
	    p_door, p_nonce, res)
	ON CONFLICT (door_jti, nonce) WHERE nonce IS NOT NULL DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n = 0 THEN
		-- A retry with the same nonce raced us and was recorded first.
		SELECT result INTO res FROM checkins
		WHERE door_jti = p_door AND nonce = p_nonce;
	END IF;
	RETURN res;
END $$;

-- Offline scans, earliest first. p_scans: [{claims|null, scanned_at,
-- gate, nonce}]. The earliest admission of a ticket wins; later ones are
-- conflicts. A scan already uploaded (same door token and nonce) changes
-- nothing and is reported as a duplicate.
CREATE FUNCTION rc_checkin_batch(p_door text, p_scope bigint[],
    p_device text, p_scans jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	s jsonb;
	r registrations;
	v text;
	at timestamptz;
	ev bigint;
	reg bigint;
	jti text;
	results jsonb := '[]';
	admitted integer := 0;
	duplicates integer := 0;
	conflicts integer := 0;
	invalid integer := 0;
	res jsonb;
	displaced timestamptz;
BEGIN
	FOR s IN SELECT x FROM jsonb_array_elements(p_scans) x
	    ORDER BY (x->>'scanned_at')::timestamptz, x->>'nonce' LOOP
		IF EXISTS (SELECT 1 FROM checkins WHERE door_jti = p_door
		    AND nonce = s->>'nonce') THEN
			duplicates := duplicates + 1;
			results := results || jsonb_build_array(jsonb_build_object(
			    'nonce', s->>'nonce', 'result', 'duplicate'));
			CONTINUE;
		END IF;
		at := (s->>'scanned_at')::timestamptz;
		ev := (s->'claims'->>'ev')::bigint;
		reg := (s->'claims'->>'reg')::bigint;
		jti := s->'claims'->>'jti';
		r := NULL;
		displaced := NULL;
		IF s->'claims' IS NULL OR jsonb_typeof(s->'claims') = 'null' THEN
			v := 'invalid';
		ELSIF p_scope IS NOT NULL AND NOT ev = ANY (p_scope) THEN
			v := 'wrong_event';
		ELSE
			SELECT * INTO r FROM registrations
			WHERE id = reg AND event_id = ev FOR UPDATE;
			IF NOT FOUND THEN
				v := 'invalid';
			ELSIF r.status = 'waitlisted' THEN
				v := 'not_confirmed';
			ELSIF r.status = 'cancelled' THEN
				v := 'cancelled';
			ELSIF r.ticket_jti IS DISTINCT FROM jti THEN
				v := 'invalid';
			ELSIF r.checked_in_at IS NULL OR r.checked_in_at > at THEN
				displaced := r.checked_in_at;
				UPDATE registrations SET checked_in_at = at,
				    checkin_gate = s->>'gate'
				WHERE id = r.id RETURNING * INTO r;
				v := 'admitted';
			ELSE
				v := 'conflict';
			END IF;
		END IF;
		res := jsonb_build_object('nonce', s->>'nonce', 'result', v,
		    'registration_id', r.id,
		    'first_checked_in_at', r.checked_in_at,
		    'gate', r.checkin_gate,
		    'displaced_checked_in_at', displaced);
		INSERT INTO checkins (event_id, registration_id, jti, verdict, gate,
		    door_jti, nonce, device, source, scanned_at, result)
		VALUES (ev, r.id, jti, v, s->>'gate', p_door, s->>'nonce',
		    p_device, 'offline', at, res);
		results := results || jsonb_build_array(res);
		IF v = 'admitted' THEN
			admitted := admitted + 1;
			IF displaced IS NOT NULL THEN
				conflicts := conflicts + 1;
			END IF;
		ELSIF v = 'conflict' THEN
			conflicts := conflicts + 1;
		ELSE
			invalid := invalid + 1;
		END IF;
	END LOOP;
	RETURN jsonb_build_object('admitted', admitted,
	    'duplicates', duplicates, 'conflicts', conflicts,
	    'refused', invalid, 'results', results);
END $$;

-- What a door needs to decide alone.
CREATE FUNCTION rc_offline_bundle(p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM events WHERE id = p_event)
	    THEN NULL ELSE jsonb_build_object(
	    'event_id', p_event,
	    'public_keys', (SELECT jsonb_agg(public_pem ORDER BY created_at)
	        FROM ticket_keys),
	    'keys', (SELECT jsonb_agg(jsonb_build_object('kid', kid,
	        'public_key', public_pem) ORDER BY created_at) FROM ticket_keys),
	    'issuer', 'rc',
	    'revoked', coalesce((SELECT jsonb_agg(jti ORDER BY jti)
	        FROM revoked_tickets WHERE event_id = p_event), '[]'),
	    'generated_at', now()) END
$$;

-- A NightTalk join link: records the first join and hands back the stream
-- address, from 30 minutes before the start until the end.
CREATE FUNCTION rc_join(p_hash bytea)
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
