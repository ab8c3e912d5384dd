-- Check-in: one scan, offline uploads, door scans one at a time or grouped.
--
-- Admission is one conditional UPDATE ... WHERE checked_in_at IS NULL on
-- the registration's row: of any number of simultaneous scans, through any
-- number of server processes, exactly one finds it NULL. A door scan checks
-- its door token in the same statement (rc_door_check): the server has
-- verified signature and expiry; revocation, role and scope are re-read
-- from the row, as every request must. Scans that arrive together share
-- one transaction and one commit (rc_checkin_group).

-- A recorded verdict as the door sees it. checkins.result holds no
-- personal data: the name and company come from the registration as it
-- is now, so a replayed scan of an erased attendee shows none.
CREATE OR REPLACE FUNCTION rc_checkin_answer(p_res jsonb, p_reg bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT p_res || jsonb_build_object('attendee', (SELECT
	    jsonb_build_object('name', r.name, 'company', r.company)
	    FROM registrations r WHERE r.id = p_reg
	      AND p_res->>'result' IN ('admitted', 'already_checked_in',
	          'cancelled', 'not_confirmed')))
$$;

-- One scan at a door. p_claims is what the server verified from the
-- ticket (NULL when it was not a valid ticket at all); p_scope the door
-- token's events; p_event the event the door says it is checking.
CREATE OR REPLACE FUNCTION rc_checkin(p_door text, p_scope bigint[],
    p_event bigint, p_claims jsonb, p_gate text, p_nonce text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	v text;
	ev bigint := (p_claims->>'ev')::bigint;
	reg bigint := (p_claims->>'reg')::bigint;
	jti text := p_claims->>'jti';
	res jsonb;
	rid bigint;
	n integer;
BEGIN
	IF p_nonce IS NOT NULL THEN
		SELECT result, registration_id INTO res, rid FROM checkins
		WHERE door_jti = p_door AND nonce = p_nonce;
		IF FOUND THEN
			RETURN rc_checkin_answer(res, rid);
		END IF;
	END IF;
	IF p_claims IS NULL THEN
		v := 'invalid';
	ELSIF (p_event IS NOT NULL AND ev <> p_event)
	    OR (p_scope IS NOT NULL AND NOT ev = ANY (p_scope)) THEN
		v := 'wrong_event';
	ELSIF rc_event_cancelled(ev) THEN
		-- Its registrations stay as they were; no ticket admits.
		SELECT * INTO r FROM registrations
		WHERE id = reg AND event_id = ev AND ticket_jti = jti;
		v := CASE WHEN FOUND THEN 'cancelled' ELSE 'invalid' END;
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
	-- What is recorded: the verdict, never the person (rc_checkin_answer).
	res := jsonb_build_object('result', v, 'event_id', ev,
	    -- what a door needs to fetch the badge it may now print
	    'registration_id', CASE WHEN v = 'admitted' THEN r.id END,
	    'first_checked_in_at', CASE WHEN v IN ('admitted',
	        'already_checked_in') THEN r.checked_in_at END,
	    'gate', CASE WHEN v IN ('admitted', 'already_checked_in')
	        THEN r.checkin_gate END);
	IF v = 'cancelled' AND rc_event_cancelled(ev) THEN
		res := res || '{"message": "the event was cancelled"}';
	END IF;
	rid := r.id;
	INSERT INTO checkins (event_id, registration_id, jti, verdict, gate,
	    door_jti, nonce, result)
	VALUES (ev, rid, jti, v, p_gate, p_door, p_nonce, res)
	ON CONFLICT (door_jti, nonce) WHERE nonce IS NOT NULL DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n = 0 THEN
		-- A retry with the same nonce raced us and was recorded first.
		SELECT result, registration_id INTO res, rid FROM checkins
		WHERE door_jti = p_door AND nonce = p_nonce;
	END IF;
	RETURN rc_checkin_answer(res, rid);
END $$;

-- Offline scans, earliest first. p_scans: [{claims|null, scanned_at,
-- gate, nonce}]. The earliest admission of a ticket wins; later ones are
-- conflicts. A scan already uploaded (same door token and nonce) changes
-- nothing and is reported as a duplicate.
--
-- Two uploads of the same scans can run at once (a scanner retrying
-- while its first upload is still in flight, or two laptops syncing one
-- journal). A scan's row is claimed by INSERT ... ON CONFLICT DO NOTHING
-- before the scan changes anything: the second upload's insert waits for
-- the first's transaction and then finds the row, so it reports the scan
-- as a duplicate instead of failing the whole batch on the unique index.
-- The registration is locked (FOR UPDATE) while its verdict is decided,
-- so the verdict still holds when it is applied after the insert.
CREATE OR REPLACE FUNCTION rc_checkin_batch(p_door text, p_scope bigint[],
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
	n integer;
BEGIN
	FOR s IN SELECT x FROM jsonb_array_elements(p_scans) x
	    ORDER BY (x->>'scanned_at')::timestamptz, x->>'nonce' LOOP
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
			ELSIF rc_event_cancelled(ev) THEN
				v := 'cancelled';
			ELSIF r.checked_in_at IS NULL OR r.checked_in_at > at THEN
				displaced := r.checked_in_at;
				v := 'admitted';
			ELSE
				v := 'conflict';
			END IF;
		END IF;
		res := jsonb_build_object('nonce', s->>'nonce', 'result', v,
		    'registration_id', r.id,
		    'first_checked_in_at', CASE WHEN v = 'admitted' THEN at
		        ELSE r.checked_in_at END,
		    'gate', CASE WHEN v = 'admitted' THEN s->>'gate'
		        ELSE r.checkin_gate END,
		    'displaced_checked_in_at', displaced);
		INSERT INTO checkins (event_id, registration_id, jti, verdict, gate,
		    door_jti, nonce, device, source, scanned_at, result)
		VALUES (ev, r.id, jti, v, s->>'gate', p_door, s->>'nonce',
		    p_device, 'offline', at, res)
		ON CONFLICT (door_jti, nonce) WHERE nonce IS NOT NULL DO NOTHING;
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n = 0 THEN
			duplicates := duplicates + 1;
			results := results || jsonb_build_array(jsonb_build_object(
			    'nonce', s->>'nonce', 'result', 'duplicate'));
			CONTINUE;
		END IF;
		IF v = 'admitted' THEN
			UPDATE registrations SET checked_in_at = at,
			    checkin_gate = s->>'gate'
			WHERE id = r.id;
		END IF;
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

-- Whether p_door may scan (for p_event): status 0 and the events it
-- covers (NULL: all), or the HTTP status, code and sentence of the refusal.
CREATE OR REPLACE FUNCTION rc_door_check(p_door text, p_role text,
    p_event bigint,
    OUT status integer, OUT code text, OUT message text, OUT events bigint[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
	t tokens;
BEGIN
	status := 0;
	-- Which roles may scan was decided by the route (server/router.c)
	-- before the scan came here; this re-reads revocation and scope.
	SELECT * INTO t FROM rc_token_live(p_door, p_role);
	IF NOT FOUND THEN
		status := 401;
		code := 'invalid_token';
		message := 'This token has been revoked or has expired.';
	ELSE
		events := CASE WHEN t.role = 'admin' THEN NULL
		    ELSE t.events END;
		IF p_event IS NOT NULL AND events IS NOT NULL
		    AND NOT p_event = ANY (events) THEN
			status := 403;
			code := 'out_of_scope';
			message := 'This door token does not cover event '
			    || p_event || '.';
		END IF;
	END IF;
END $$;

-- One door scan: the door token checked, then rc_checkin.
CREATE OR REPLACE FUNCTION rc_checkin_door(p_door text, p_role text,
    p_event bigint, p_claims jsonb, p_gate text, p_nonce text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	d record;
BEGIN
	d := rc_door_check(p_door, p_role, p_event);
	IF d.status <> 0 THEN
		PERFORM rc_fail(d.status, d.code, d.message);
	END IF;
	RETURN rc_checkin(p_door, d.events, p_event, p_claims, p_gate, p_nonce);
END $$;

-- p_scans: [{door, role, event, claims, gate, nonce}, ...] as the server
-- verified them. One row per scan, by its position (1-based): status 200
-- and the verdict's JSON, or the refusal's status, code and sentence.
-- Scans are taken in registration order (arrival order within one
-- registration) so that two groups lock rows in the same order and cannot
-- deadlock; a retry of a scan in the same group answers as the first.
CREATE OR REPLACE FUNCTION rc_checkin_group(p_scans jsonb)
RETURNS TABLE (ord integer, status integer, code text, body text)
LANGUAGE plpgsql AS $$
DECLARE
	s jsonb;
	i integer;
	d record;
BEGIN
	FOR s, i IN
		SELECT x.value, x.n::integer
		FROM jsonb_array_elements(p_scans)
		    WITH ORDINALITY AS x(value, n)
		ORDER BY (x.value #>> '{claims,reg}')::bigint NULLS FIRST, x.n
	LOOP
		ord := i;
		d := rc_door_check(s->>'door', s->>'role',
		    (s->>'event')::bigint);
		IF d.status <> 0 THEN
			status := d.status;
			code := d.code;
			body := d.message;
		ELSE
			status := 200;
			code := NULL;
			body := rc_checkin(s->>'door', d.events,
			    (s->>'event')::bigint, nullif(s->'claims', 'null'),
			    s->>'gate', s->>'nonce')::text;
		END IF;
		RETURN NEXT;
	END LOOP;
END $$;

-- An offline upload takes its registrations' row locks in id order before
-- deciding in time order (rc_checkin_batch), the order rc_checkin_group
-- takes them in, so an upload and a group of door scans never wait on
-- each other in a circle. The verdicts are those of rc_checkin_batch.
CREATE OR REPLACE FUNCTION rc_checkin_upload(p_door text, p_scope bigint[],
    p_device text, p_scans jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM registrations
	WHERE id IN (SELECT (x.value #>> '{claims,reg}')::bigint
	    FROM jsonb_array_elements(p_scans) AS x(value))
	ORDER BY id FOR UPDATE;
	RETURN rc_checkin_batch(p_door, p_scope, p_device, p_scans);
END $$;
