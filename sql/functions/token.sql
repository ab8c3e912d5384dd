-- Staff tokens: issuing and revoking (the signature is the server's).

-- Record a new staff token. A sponsor token is bound to its sponsor's
-- event; p_scope (the issuer's events, NULL for all) bounds what an
-- organizer may hand out, and the issuing token's expiry bounds the new
-- token's (p_expires is lowered to it): a token never outlives the one
-- that issued it. The command line ('command-line', no row) has no cap.
-- A leader or track owner token names its chapters (p_chapters, slugs of
-- live chapters), kept as their ids; no other token has chapters.
CREATE OR REPLACE FUNCTION rc_token_issue(p_jti text, p_role text, p_name text,
    p_events bigint[], p_sponsor bigint, p_expires timestamptz,
    p_issued_by text, p_scope bigint[], p_chapters text[] DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	sponsor_event bigint;
	missing bigint;
	missing_slug text;
	issuer_expires timestamptz;
	chs bigint[];
	slugs text[];
BEGIN
	IF p_chapters IS NOT NULL AND p_role NOT IN ('leader', 'track_owner')
	THEN
		PERFORM rc_fail(400, 'invalid_field', 'chapters: only leader and ' ||
		    'track_owner tokens belong to chapters.');
	END IF;
	IF p_role IN ('leader', 'track_owner') THEN
		IF coalesce(cardinality(p_chapters), 0) = 0 THEN
			PERFORM rc_fail(400, 'invalid_field', 'chapters: a ' || p_role ||
			    ' token needs the slugs of its chapters.');
		END IF;
		SELECT x INTO missing_slug FROM unnest(p_chapters) x
		WHERE NOT EXISTS (SELECT 1 FROM chapters WHERE slug = x
		    AND status <> 'retired') LIMIT 1;
		IF FOUND THEN
			PERFORM rc_fail(400, 'invalid_field', 'chapters: no live ' ||
			    'chapter "' || missing_slug || '".');
		END IF;
		SELECT array_agg(id ORDER BY id), array_agg(slug ORDER BY slug)
		INTO chs, slugs FROM chapters WHERE slug = ANY (p_chapters);
	END IF;
	SELECT expires_at INTO issuer_expires FROM tokens
	WHERE jti = p_issued_by;
	IF FOUND AND p_expires > issuer_expires THEN
		p_expires := issuer_expires;
	END IF;
	IF p_sponsor IS NOT NULL THEN
		IF p_role <> 'sponsor' THEN
			PERFORM rc_fail(400, 'invalid_field',
			    'sponsor: only sponsor tokens belong to a sponsor.');
		END IF;
		SELECT event_id INTO sponsor_event FROM sponsors
		WHERE id = p_sponsor;
		IF NOT FOUND THEN
			PERFORM rc_fail(404, 'not_found', 'No such sponsor.');
		END IF;
		PERFORM rc_sponsor_must_be_approved(p_sponsor);
		IF p_scope IS NOT NULL AND NOT sponsor_event = ANY (p_scope) THEN
			PERFORM rc_fail(403, 'out_of_scope',
			    'That sponsor belongs to an event outside your scope.');
		END IF;
		p_events := ARRAY[sponsor_event];
	END IF;
	SELECT x INTO missing FROM unnest(p_events) x
	WHERE NOT EXISTS (SELECT 1 FROM events WHERE id = x) LIMIT 1;
	IF FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No event ' || missing || '.');
	END IF;
	INSERT INTO tokens (jti, role, name, events, sponsor_id, issued_by,
	    expires_at, chapters)
	VALUES (p_jti, p_role, p_name, p_events, p_sponsor, p_issued_by,
	    p_expires, chs);
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_issued_by, 'token.issue', p_events[1], jsonb_build_object(
	    'jti', p_jti, 'role', p_role, 'name', p_name,
	    'events', to_jsonb(p_events), 'sponsor', p_sponsor,
	    'chapters', to_jsonb(slugs), 'expires_at', p_expires));
	RETURN jsonb_build_object('jti', p_jti, 'role', p_role,
	    'name', p_name, 'events', to_jsonb(p_events),
	    'sponsor_id', p_sponsor, 'chapters', to_jsonb(slugs),
	    'expires_at', p_expires,
	    'expires_epoch', extract(epoch FROM p_expires)::bigint);
END $$;

-- Revoke a token. An organizer may revoke what it issued, or door and
-- sponsor tokens wholly inside its scope; the committee also the leader
-- and track owner tokens it may issue.
CREATE OR REPLACE FUNCTION rc_token_revoke(p_jti text, p_actor text,
    p_actor_role text, p_scope bigint[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	t tokens;
BEGIN
	SELECT * INTO t FROM tokens WHERE jti = p_jti FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such token.');
	END IF;
	IF p_actor_role <> 'admin' AND NOT (t.issued_by = p_actor
	    OR (t.role IN ('door', 'sponsor') AND (p_scope IS NULL
	        OR (t.events IS NOT NULL AND t.events <@ p_scope)))
	    OR (p_actor_role = 'committee'
	        AND t.role IN ('leader', 'track_owner'))) THEN
		PERFORM rc_fail(403, 'out_of_scope',
		    'You may not revoke that token.');
	END IF;
	UPDATE tokens SET revoked_at = coalesce(revoked_at, now()),
	    revoked_by = coalesce(revoked_by, p_actor)
	WHERE jti = p_jti RETURNING * INTO t;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'token.revoke', t.events[1],
	    jsonb_build_object('jti', p_jti, 'role', t.role));
	RETURN jsonb_build_object('jti', t.jti, 'revoked_at', t.revoked_at);
END $$;

-- The one rule for a staff token still in force: its row, not revoked,
-- not expired, with the role its signed claims name (the signature and
-- expiry were checked by the server; this re-reads what can change).
-- Who may call what is the route table's business (server/router.c);
-- every token check, in C (SQL_TOKEN_LOOKUP) or in a statement that
-- re-reads the token itself (rc_door_check), goes through here.
CREATE OR REPLACE FUNCTION rc_token_live(p_jti text, p_role text)
RETURNS SETOF tokens LANGUAGE sql STABLE AS $$
	SELECT * FROM tokens
	WHERE jti = p_jti AND role = p_role AND revoked_at IS NULL
	    AND expires_at > now()
$$;
