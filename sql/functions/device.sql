-- Devices: provisioning codes, their one claim, the event's device tokens.

-- A new one-time code for a door (p_sponsor NULL) or a sponsor's booth of
-- the event, valid p_secs seconds; audited.
CREATE OR REPLACE FUNCTION rc_device_code_new(p_event bigint, p_sponsor bigint,
    p_name text, p_hash bytea, p_secs integer, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	d device_codes;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM events WHERE id = p_event) THEN
		RETURN NULL;
	END IF;
	IF p_sponsor IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sponsors
	    WHERE id = p_sponsor AND event_id = p_event) THEN
		PERFORM rc_fail(404, 'not_found', 'sponsor: no such sponsor of '
		    'this event.');
	END IF;
	PERFORM rc_sponsor_must_be_approved(p_sponsor);
	INSERT INTO device_codes (hash, event_id, role, sponsor_id, name,
	    created_by, expires_at)
	VALUES (p_hash, p_event, CASE WHEN p_sponsor IS NULL THEN 'door'
	        ELSE 'sponsor' END, p_sponsor, p_name, p_actor,
	    now() + make_interval(secs => p_secs))
	RETURNING * INTO d;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'device.code', p_event, jsonb_build_object(
	    'role', d.role, 'sponsor', p_sponsor, 'name', p_name,
	    'expires_at', d.expires_at));
	RETURN jsonb_build_object('role', d.role, 'name', d.name,
	    'expires_at', d.expires_at, 'expires_local', to_char(d.expires_at
	    AT TIME ZONE (SELECT timezone FROM events WHERE id = p_event),
	    'HH24:MI'));
END $$;

-- Claim a code, once, before it expires: the device token's row, issued
-- by rc_token_issue as the account that made the code (its rules, its
-- audit), expiring p_ttl seconds from now.
CREATE OR REPLACE FUNCTION rc_device_claim(p_hash bytea, p_jti text,
    p_ttl integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	d device_codes;
BEGIN
	UPDATE device_codes SET claimed_at = now(), jti = p_jti
	WHERE hash = p_hash AND claimed_at IS NULL AND expires_at > now()
	RETURNING * INTO d;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'invalid_code', 'That code is unknown, '
		    'already used or expired: issue a new one from the console.');
	END IF;
	IF EXISTS (SELECT 1 FROM accounts WHERE 'acct:' || id = d.created_by
	    AND disabled_at IS NOT NULL) THEN
		PERFORM rc_fail(403, 'issuer_disabled', 'The account that made '
		    'this code has been disabled.');
	END IF;
	RETURN rc_token_issue(p_jti, d.role, d.name, ARRAY[d.event_id],
	    d.sponsor_id, now() + make_interval(secs => p_ttl), d.created_by,
	    ARRAY[d.event_id]);
END $$;

-- The devices page: the event's live door and sponsor tokens, each with
-- its last use (its newest check-in or lead), and its sponsors whose
-- sponsorship is approved (the others get no booth).
CREATE OR REPLACE FUNCTION rc_console_devices(p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('event', rc_console_counts(e),
	    'sponsors', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'id', s.id, 'name', s.name) ORDER BY s.id), '[]')
	        FROM rc_event_sponsors(e.id) s),
	    'devices', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'jti', t.jti, 'role', t.role, 'name', t.name,
	        'door', t.role = 'door',
	        'sponsor', (SELECT name FROM sponsors WHERE id = t.sponsor_id),
	        'expires', to_char(t.expires_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD HH24:MI'),
	        'last_used', to_char(greatest(
	            (SELECT max(c.recorded_at) FROM checkins c
	                WHERE c.door_jti = t.jti),
	            (SELECT max(l.updated_at) FROM leads l
	                WHERE l.captured_by = t.jti)) AT TIME ZONE e.timezone,
	            'YYYY-MM-DD HH24:MI'))
	        ORDER BY t.issued_at, t.jti), '[]')
	        FROM tokens t
	        WHERE t.role IN ('door', 'sponsor') AND e.id = ANY (t.events)
	          AND t.revoked_at IS NULL AND t.expires_at > now()))
	FROM events e WHERE e.id = p_event
$$;

-- Revoke one of an event's devices from its devices page: only a door or
-- booth token of exactly this event, whatever else the account may
-- revoke elsewhere (rc_token_revoke then checks who may, and audits).
CREATE OR REPLACE FUNCTION rc_device_revoke(p_event bigint, p_jti text,
    p_actor text, p_actor_role text, p_scope bigint[])
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM tokens WHERE jti = p_jti
	    AND role IN ('door', 'sponsor') AND events = ARRAY[p_event]) THEN
		PERFORM rc_fail(404, 'not_found', 'No such device of this event.');
	END IF;
	RETURN rc_token_revoke(p_jti, p_actor, p_actor_role, p_scope);
END $$;
