-- 008: a door scan in one statement, the door token checked inside it.
--
-- Every other route reads the staff token's row first and then runs its
-- statement: two round trips. At the door, where scans come in bursts,
-- the token check and the admission share one statement instead. The
-- server has already verified the token's signature and expiry; this
-- re-reads revocation, role and scope from the row, as every request must.
CREATE FUNCTION rc_checkin_door(p_door text, p_role text, p_event bigint,
    p_claims jsonb, p_gate text, p_nonce text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	t tokens;
BEGIN
	SELECT * INTO t FROM tokens
	WHERE jti = p_door AND revoked_at IS NULL AND expires_at > now();
	IF NOT FOUND OR t.role <> p_role THEN
		PERFORM rc_fail(401, 'invalid_token',
		    'This token has been revoked or has expired.');
	END IF;
	IF t.role NOT IN ('door', 'organizer', 'admin') THEN
		PERFORM rc_fail(403, 'forbidden',
		    'A ' || t.role || ' token may not do this.');
	END IF;
	IF t.role = 'admin' THEN
		t.events := NULL;
	END IF;
	IF p_event IS NOT NULL AND t.events IS NOT NULL
	    AND NOT p_event = ANY (t.events) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'This door token does not '
		    || 'cover event ' || p_event || '.');
	END IF;
	RETURN rc_checkin(p_door, t.events, p_event, p_claims, p_gate, p_nonce);
END $$;
