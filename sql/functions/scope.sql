-- Staff scope: which events a token or an account covers, and which
-- roles an account holds (its own and those its chapters give it).

-- The events a caller covers: NULL means every event. Admin and committee
-- cover everything; an organizer, door, sponsor or infra caller with no
-- list covers everything (as before chapters existed); anyone else covers
-- the events listed plus every event of the chapters it holds. A chapter
-- role never means "every event" by leaving its list out.
CREATE OR REPLACE FUNCTION rc_scope_events(p_roles text[], p_events bigint[],
    p_chapters bigint[])
RETURNS bigint[] LANGUAGE sql STABLE AS $$
	SELECT CASE
	    WHEN p_roles && ARRAY['admin', 'committee'] THEN NULL
	    WHEN p_events IS NULL AND p_roles && ARRAY['organizer', 'door',
	        'sponsor', 'infra'] THEN NULL
	    ELSE coalesce(p_events, '{}') || coalesce((SELECT array_agg(e.id
	        ORDER BY e.id) FROM events e
	        WHERE e.chapter_id = ANY (p_chapters)), '{}')
	END
$$;

-- An account's roles: its own, plus leader and track_owner where its
-- e-mail leads a chapter; and the chapters those roles cover.
CREATE OR REPLACE FUNCTION rc_account_roles(p_account bigint,
    OUT roles text[], OUT chapters bigint[])
LANGUAGE sql STABLE AS $$
	SELECT ARRAY(SELECT DISTINCT r FROM (
	        SELECT a.role AS r
	        UNION ALL
	        SELECT CASE WHEN l.role = 'track_owner' THEN 'track_owner'
	            ELSE 'leader' END
	        FROM persons p JOIN chapter_leaders l ON l.person_id = p.id
	        WHERE lower(p.email) = lower(a.email)) x ORDER BY r),
	    ARRAY(SELECT DISTINCT l.chapter_id
	        FROM persons p JOIN chapter_leaders l ON l.person_id = p.id
	        WHERE lower(p.email) = lower(a.email) ORDER BY 1)
	FROM accounts a WHERE a.id = p_account
$$;
