-- 009: door scans that arrive together are decided in one transaction.
--
-- At an opening rush every scan is a commit, and a commit waits for its
-- WAL to reach the disk. A server with a few connections would make the
-- door wait on one flush per scan; instead it hands the scans that queued
-- up meanwhile to rc_checkin_group, and they share one commit. Each scan
-- is still decided by rc_checkin (the same conditional UPDATE, exactly one
-- admission), and a bad door token refuses only its own scan.

-- Whether p_door may scan (for p_event): status 0 and the events it
-- covers (NULL: all), or the HTTP status, code and sentence of the refusal.
CREATE FUNCTION rc_door_check(p_door text, p_role text, p_event bigint,
    OUT status integer, OUT code text, OUT message text, OUT events bigint[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
	t tokens;
BEGIN
	status := 0;
	SELECT * INTO t FROM tokens
	WHERE jti = p_door AND revoked_at IS NULL AND expires_at > now();
	IF NOT FOUND OR t.role <> p_role THEN
		status := 401;
		code := 'invalid_token';
		message := 'This token has been revoked or has expired.';
	ELSIF t.role NOT IN ('door', 'organizer', 'admin') THEN
		status := 403;
		code := 'forbidden';
		message := 'A ' || t.role || ' token may not do this.';
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
CREATE FUNCTION rc_checkin_group(p_scans jsonb)
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
CREATE FUNCTION rc_checkin_upload(p_door text, p_scope bigint[],
    p_device text, p_scans jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM registrations
	WHERE id IN (SELECT (x.value #>> '{claims,reg}')::bigint
	    FROM jsonb_array_elements(p_scans) AS x(value))
	ORDER BY id FOR UPDATE;
	RETURN rc_checkin_batch(p_door, p_scope, p_device, p_scans);
END $$;
