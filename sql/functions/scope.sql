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

-- The chapters an actor (a token's jti, or 'acct:N' for a console
-- account) may put events in: NULL for any chapter. Admin, committee and
-- organizers (event-scoped, from before chapters) may use any; a leader
-- or track owner only its own; anyone else none. An actor with no row
-- (the command line) is not bounded here.
CREATE OR REPLACE FUNCTION rc_actor_chapters(p_actor text)
RETURNS bigint[] LANGUAGE plpgsql STABLE AS $$
DECLARE
	roles text[];
	chs bigint[];
BEGIN
	IF p_actor ~ '^acct:[0-9]{1,18}$' THEN
		SELECT x.roles, x.chapters INTO roles, chs
		FROM rc_account_roles(substr(p_actor, 6)::bigint) x;
	ELSE
		SELECT ARRAY[t.role], t.chapters INTO roles, chs
		FROM tokens t WHERE t.jti = p_actor;
	END IF;
	IF roles IS NULL OR roles && ARRAY['admin', 'committee', 'organizer']
	THEN
		RETURN NULL;
	END IF;
	RETURN coalesce(chs, '{}');
END $$;

-- Refuse (403 out_of_scope) to put an event or series in a chapter the
-- actor does not lead.
CREATE OR REPLACE FUNCTION rc_chapter_in_scope(p_actor text,
    p_chapter bigint)
RETURNS void LANGUAGE plpgsql STABLE AS $$
DECLARE
	allowed bigint[] := rc_actor_chapters(p_actor);
BEGIN
	IF allowed IS NOT NULL AND NOT p_chapter = ANY (allowed) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'chapter: "' ||
		    (SELECT slug FROM chapters WHERE id = p_chapter) ||
		    '" is not one of your chapters.');
	END IF;
END $$;
