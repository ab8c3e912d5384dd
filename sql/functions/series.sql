-- NightTalk series (COMMUNITY.md section 7): a member's sign-up for a
-- whole series, attendance per episode from the join links, the series
-- report, and the topics members vote on for a chapter's next series.
--
-- A sign-up is one ordinary registration per episode, made by
-- rc_register_group (registration.sql) in one transaction under the
-- episodes' row locks, so capacity, the waitlist and "one registration
-- per address" are exactly those of any registration. Attendance is
-- registrations.joined_at, which rc_join (ticket.sql) sets the first time
-- the personal join link is opened.
--
-- Who may call what is the route table's (server/router.c); these
-- functions take the caller's scope as data: p_scope the events it
-- covers (NULL: every event), p_chapters the chapters it leads or owns
-- the track of (NULL: every chapter; '{}': none).

-- How many episodes a series counts: those not cancelled.
CREATE OR REPLACE FUNCTION rc_series_episodes(p_series bigint)
RETURNS integer LANGUAGE sql STABLE AS $$
	SELECT count(*)::integer FROM events
	WHERE series_id = p_series AND status <> 'cancelled'
$$;

-- Episodes joined to complete the series: its threshold, else all of its
-- episodes; never more than it has (an episode may have been cancelled
-- after the threshold was set).
CREATE OR REPLACE FUNCTION rc_series_needed(s series)
RETURNS integer LANGUAGE sql STABLE AS $$
	SELECT least(coalesce(s.completion_threshold, n), n)
	FROM rc_series_episodes(s.id) n
$$;

-- What anyone is shown of a series itself (no stream address).
CREATE OR REPLACE FUNCTION rc_series_json(s series)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', s.id, 'title', s.title,
	    'description', s.description, 'chapter', s.chapter,
	    'track_owner', s.track_owner, 'timezone', s.timezone,
	    'episodes', rc_series_episodes(s.id),
	    'completion_threshold', s.completion_threshold,
	    'completion_needed', rc_series_needed(s))
$$;

-- An episode as the member pages and answers show it.
CREATE OR REPLACE FUNCTION rc_series_episode_json(e events)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('event_id', e.id, 'episode', e.episode,
	    'title', e.title, 'status', e.status, 'starts_at', e.starts_at,
	    'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	        'YYYY-MM-DD"T"HH24:MI:SS'),
	    'ends_at_local', to_char(e.ends_at AT TIME ZONE e.timezone,
	        'YYYY-MM-DD"T"HH24:MI:SS'),
	    'when_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	        'YYYY-MM-DD HH24:MI') || '–' || to_char(e.ends_at AT TIME ZONE
	        e.timezone, 'HH24:MI'),
	    'timezone', e.timezone,
	    'open', e.status = 'published' AND e.starts_at > now())
$$;

-- Each person's attendance of a series: one row per person (the member a
-- registration names, else the person of its address, else the address,
-- else the erased registration alone) over the episodes not cancelled,
-- counting those with a live registration and those joined (a joined
-- registration cancelled later still attended).
CREATE OR REPLACE FUNCTION rc_series_attendance(p_series bigint)
RETURNS TABLE (person_id bigint, email text, name text,
    registered integer, joined integer)
LANGUAGE sql STABLE AS $$
	WITH r AS (
		SELECT g.id, g.event_id, g.status, g.joined_at, g.email, g.name,
		    coalesce(g.person_id, p.id) AS pid
		FROM registrations g
		JOIN events e ON e.id = g.event_id
		LEFT JOIN persons p ON g.person_id IS NULL
		    AND lower(p.email) = lower(g.email)
		WHERE e.series_id = p_series AND e.status <> 'cancelled'
		  AND (g.status <> 'cancelled' OR g.joined_at IS NOT NULL)),
	k AS (
		SELECT r.*, coalesce('p' || r.pid, 'e' || lower(r.email),
		    'r' || r.id) AS who
		FROM r)
	SELECT max(k.pid),
	    coalesce(max(p.email), (array_agg(k.email ORDER BY k.id DESC))[1]),
	    coalesce(nullif(max(p.name), ''),
	        (array_agg(k.name ORDER BY k.id DESC))[1]),
	    count(DISTINCT k.event_id) FILTER (WHERE k.status <> 'cancelled')
	        ::integer,
	    count(DISTINCT k.event_id) FILTER (WHERE k.joined_at IS NOT NULL)
	        ::integer
	FROM k LEFT JOIN persons p ON p.id = k.pid
	GROUP BY k.who
$$;

-- Who completed a series: joined at least its threshold of its episodes
-- (COMMUNITY.md section 6, the certificates' NightTalk completion).
-- Erased registrations have no address and are left out.
CREATE OR REPLACE FUNCTION rc_series_completed(p_series bigint)
RETURNS TABLE (person_id bigint, email text, name text, joined integer)
LANGUAGE sql STABLE AS $$
	SELECT a.person_id, a.email, a.name, a.joined
	FROM series s, rc_series_needed(s) n, rc_series_attendance(s.id) a
	WHERE s.id = p_series AND n > 0 AND a.joined >= n
	  AND a.email IS NOT NULL
	ORDER BY a.joined DESC, lower(a.name), a.email
$$;

-- The series report: per episode registered and joined, how many people
-- joined 0, 1, 2, ... episodes, how many completed; p_people 'yes' adds
-- who attended how many (403 unless the series' chapter is among
-- p_chapters, NULL being every chapter), 'auto' adds it when allowed,
-- 'no' never. NULL for an unknown series; 403 out of p_scope.
CREATE OR REPLACE FUNCTION rc_series_report(p_series bigint,
    p_scope bigint[], p_chapters bigint[], p_people text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	s series;
	n integer;
	need integer;
	allowed boolean;
	out jsonb;
BEGIN
	SELECT * INTO s FROM series WHERE id = p_series;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF p_scope IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events
	    WHERE series_id = p_series AND id = ANY (p_scope)) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'Series ' || p_series ||
		    ' is not in your scope.');
	END IF;
	allowed := p_chapters IS NULL
	    OR coalesce(s.chapter_id = ANY (p_chapters), false);
	IF p_people = 'yes' AND NOT allowed THEN
		PERFORM rc_fail(403, 'forbidden', 'Only the leaders and track '
		    'owners of this series'' chapter, the committee and admins '
		    'see who attended; the counts are open to you.');
	END IF;
	n := rc_series_episodes(s.id);
	need := rc_series_needed(s);
	WITH a AS (SELECT * FROM rc_series_attendance(s.id))
	SELECT jsonb_build_object(
	    'series', rc_series_json(s),
	    'episodes', (SELECT coalesce(jsonb_agg((rc_series_episode_json(e)
	        - 'open') || jsonb_build_object('registered', c.registered,
	        'confirmed', c.confirmed, 'waitlisted', c.waitlisted,
	        'joined', c.joined) ORDER BY e.starts_at, e.id), '[]')
	        FROM events e CROSS JOIN LATERAL (SELECT
	            count(*) FILTER (WHERE g.status IN ('confirmed',
	                'waitlisted')) AS registered,
	            count(*) FILTER (WHERE g.status = 'confirmed') AS confirmed,
	            count(*) FILTER (WHERE g.status = 'waitlisted')
	                AS waitlisted,
	            count(*) FILTER (WHERE g.joined_at IS NOT NULL) AS joined
	            FROM registrations g WHERE g.event_id = e.id) c
	        WHERE e.series_id = s.id),
	    'people', (SELECT count(*) FROM a),
	    'distribution', (SELECT jsonb_agg(jsonb_build_object(
	        'joined', k, 'people', (SELECT count(*) FROM a
	            WHERE a.joined = k)) ORDER BY k)
	        FROM generate_series(0, n) k),
	    'completed', (SELECT count(*) FROM a
	        WHERE need > 0 AND a.joined >= need),
	    'people_allowed', allowed)
	    || CASE WHEN p_people IN ('yes', 'auto') AND allowed
	    THEN jsonb_build_object('attendees', (SELECT coalesce(jsonb_agg(
	        jsonb_build_object('name', a.name, 'email', a.email,
	            'registered', a.registered, 'joined', a.joined,
	            'completed', need > 0 AND a.joined >= need)
	        ORDER BY a.joined DESC, lower(a.name), a.email), '[]')
	        FROM a WHERE a.email IS NOT NULL))
	    ELSE '{}'::jsonb END
	INTO out;
	RETURN out;
END $$;

-- Change a series (staff in scope): its completion threshold, 1 to its
-- episodes, or null for every episode. NULL for an unknown series.
CREATE OR REPLACE FUNCTION rc_series_update(p_series bigint, p jsonb,
    p_scope bigint[], p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	s series;
	n integer;
	t integer;
BEGIN
	SELECT * INTO s FROM series WHERE id = p_series FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF p_scope IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events
	    WHERE series_id = p_series AND id = ANY (p_scope)) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'Series ' || p_series ||
		    ' is not in your scope.');
	END IF;
	IF p ? 'completion_threshold' THEN
		t := (p->>'completion_threshold')::integer;
		n := rc_series_episodes(s.id);
		IF t IS NOT NULL AND (t < 1 OR t > n) THEN
			PERFORM rc_fail(400, 'invalid_field',
			    'completion_threshold: 1 to ' || n || ' (the '
			    'series'' episodes), or null for every episode.');
		END IF;
		UPDATE series SET completion_threshold = t WHERE id = s.id
		RETURNING * INTO s;
	END IF;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'series.update', jsonb_build_object('series', s.id,
	    'completion_threshold', s.completion_threshold));
	RETURN rc_series_json(s);
END $$;

-- A member's view of a series: each episode (drafts left out) with their
-- own registration's status and whether they joined it; whether anything
-- is left to register for or to cancel; which profile fields a sign-up
-- would lack. NULL when the member or the series is unknown.
CREATE OR REPLACE FUNCTION rc_series_member(p_key bytea, p_series bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	WITH me AS (
		SELECT p.* FROM members m JOIN persons p ON p.id = m.person_id
		WHERE m.key_hash = p_key),
	ep AS (
		SELECT e, g.status AS mine, g.joined_at IS NOT NULL AS joined
		FROM events e CROSS JOIN me
		LEFT JOIN LATERAL (SELECT x.status, x.joined_at
		    FROM registrations x WHERE x.event_id = e.id
		      AND (x.person_id = me.id
		        OR lower(x.email) = lower(me.email))
		    ORDER BY x.status = 'cancelled', x.id DESC
		    LIMIT 1) g ON true
		WHERE e.series_id = p_series AND e.status <> 'draft')
	SELECT jsonb_build_object(
	    'member', jsonb_build_object('name', me.name, 'email', me.email),
	    'series', rc_series_json(s),
	    'episodes', (SELECT coalesce(jsonb_agg(rc_series_episode_json(
	        ep.e) || jsonb_build_object('mine', CASE WHEN ep.mine <>
	        'cancelled' THEN ep.mine END, 'joined', ep.joined)
	        ORDER BY (ep.e).starts_at, (ep.e).id), '[]') FROM ep),
	    'can_register', EXISTS (SELECT 1 FROM ep
	        WHERE (ep.e).status = 'published' AND (ep.e).starts_at > now()
	          AND (ep.mine IS NULL OR ep.mine = 'cancelled')),
	    'can_cancel', EXISTS (SELECT 1 FROM ep
	        WHERE (ep.e).starts_at > now() AND ep.mine IN ('confirmed',
	            'waitlisted')),
	    'needs', jsonb_build_object('identity', me.identity IS NULL,
	        'company', coalesce(me.company, '') = '',
	        'job_title', coalesce(me.job_title, '') = ''))
	FROM me, series s WHERE s.id = p_series
$$;

-- Register a member for every episode of a series not yet started, at
-- once: p_secrets holds one {hash, join, sealed} (hex) per episode there
-- may be, made by the daemon (the secrets themselves never come here).
-- The registration fields come from the member's persons row; p_extra
-- (name, company, job_title, identity, lang) fills what the row lacks.
-- One registration per episode through rc_register_group: one
-- transaction, the episodes' rows locked in id order, so a second
-- sign-up (from any server, at the same moment) finds the first's
-- registrations and keeps them. Each episode's state: confirmed,
-- waitlisted, already (registered before; its status beside), or the
-- refusal's code (sold_out, registration_closed, ...). "slot" names the
-- secret a new registration took. NULL for an unknown member.
CREATE OR REPLACE FUNCTION rc_series_signup(p_key bytea, p_series bigint,
    p_secrets jsonb, p_extra jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint := rc_member_by_key(p_key);
	per persons;
	s series;
	p jsonb;
	items jsonb := '[]';
	eps bigint[] := '{}';
	made bigint[] := '{}';
	got jsonb := '[]';
	k integer := 0;
	e record;
	g record;
	b jsonb;
BEGIN
	IF pid IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT * INTO s FROM series WHERE id = p_series;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such series.');
	END IF;
	SELECT * INTO per FROM persons WHERE id = pid;
	p := jsonb_build_object(
	    'name', coalesce(nullif(per.name, ''), p_extra->>'name',
	        split_part(per.email, '@', 1)),
	    'email', per.email,
	    'company', coalesce(nullif(per.company, ''), p_extra->>'company',
	        ''),
	    'job_title', coalesce(nullif(per.job_title, ''),
	        p_extra->>'job_title', ''),
	    'identity', coalesce(per.identity, p_extra->>'identity'),
	    'lang', coalesce(p_extra->>'lang', per.lang),
	    'consent', jsonb_build_object('sponsors', false, 'fields', '[]'));
	IF p->>'identity' IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field', 'identity: your member '
		    'profile has none yet; send one of enthusiast, '
		    'professional, decision_maker, partner.');
	END IF;
	FOR e IN SELECT v.id FROM events v
	    WHERE v.series_id = p_series AND v.status = 'published'
	      AND v.starts_at > now()
	    ORDER BY v.starts_at, v.id LOOP
		IF k >= jsonb_array_length(p_secrets) THEN
			RAISE EXCEPTION 'series % has more open episodes than '
			    'the % secrets sent', p_series, k;
		END IF;
		items := items || jsonb_build_array(jsonb_build_object(
		    'event', e.id, 'p', p, 'hash', p_secrets->k->>'hash',
		    'join', p_secrets->k->>'join',
		    'sealed', p_secrets->k->>'sealed'));
		eps := eps || e.id;
		k := k + 1;
	END LOOP;
	IF k = 0 THEN
		PERFORM rc_fail(409, 'no_open_episodes', 'No episode of this '
		    'series is open for registration now.');
	END IF;
	FOR g IN SELECT x.ord, x.status, x.body
	    FROM rc_register_group(items) x ORDER BY x.ord LOOP
		b := g.body::jsonb;
		IF g.status = 201 THEN
			made := made || (b->>'id')::bigint;
			got := got || jsonb_build_array(jsonb_build_object(
			    'event_id', eps[g.ord], 'state', b->>'status',
			    'status', b->>'status',
			    'waitlist_position', b->'waitlist_position',
			    'slot', g.ord - 1));
		ELSIF b->>'error' = 'already_registered' THEN
			got := got || jsonb_build_array(jsonb_build_object(
			    'event_id', eps[g.ord], 'state', 'already',
			    'status', (SELECT r.status FROM registrations r
			        WHERE r.event_id = eps[g.ord]
			          AND lower(r.email) = lower(per.email)
			          AND r.status <> 'cancelled' LIMIT 1)));
		ELSE
			got := got || jsonb_build_array(jsonb_build_object(
			    'event_id', eps[g.ord], 'state', b->>'error',
			    'message', b->>'message'));
		END IF;
	END LOOP;
	-- The member's registrations name them (their history builds up).
	UPDATE registrations SET person_id = pid
	WHERE id = ANY (made) AND person_id IS NULL;
	RETURN jsonb_build_object('series', rc_series_json(s),
	    'registered', cardinality(made),
	    'episodes', (SELECT jsonb_agg(rc_series_episode_json(v) || x
	        ORDER BY v.starts_at, v.id)
	        FROM jsonb_array_elements(got) x
	        JOIN events v ON v.id = (x->>'event_id')::bigint),
	    'view', rc_series_member(p_key, p_series));
END $$;

-- Cancel a member's registrations for the episodes of a series not yet
-- started; each freed seat goes to the waitlist at once, under the
-- episode's row lock (as rc_registration_cancel does). Cancelled again
-- is harmless. NULL for an unknown member.
CREATE OR REPLACE FUNCTION rc_series_withdraw(p_key bytea, p_series bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint := rc_member_by_key(p_key);
	mail text;
	s series;
	r registrations;
	got jsonb := '[]';
BEGIN
	IF pid IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT * INTO s FROM series WHERE id = p_series;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such series.');
	END IF;
	SELECT email INTO mail FROM persons WHERE id = pid;
	-- Lock order everywhere: the events' rows (in id order), then
	-- registrations.
	PERFORM 1 FROM events WHERE series_id = p_series AND starts_at > now()
	ORDER BY id FOR UPDATE;
	FOR r IN SELECT g.* FROM registrations g
	    JOIN events e ON e.id = g.event_id
	    WHERE e.series_id = p_series AND e.starts_at > now()
	      AND g.status <> 'cancelled'
	      AND (g.person_id = pid OR lower(g.email) = lower(mail))
	    ORDER BY g.event_id FOR UPDATE OF g LOOP
		UPDATE registrations SET status = 'cancelled',
		    cancelled_at = now()
		WHERE id = r.id;
		IF r.status = 'confirmed' THEN
			UPDATE events SET confirmed = confirmed - 1
			WHERE id = r.event_id;
			PERFORM rc_promote(r.event_id);
		END IF;
		got := got || jsonb_build_array(jsonb_build_object(
		    'event_id', r.event_id, 'state', 'cancelled',
		    'was', r.status));
	END LOOP;
	RETURN jsonb_build_object('series', rc_series_json(s),
	    'cancelled', jsonb_array_length(got),
	    'episodes', (SELECT coalesce(jsonb_agg(rc_series_episode_json(v)
	        || x ORDER BY v.starts_at, v.id), '[]')
	        FROM jsonb_array_elements(got) x
	        JOIN events v ON v.id = (x->>'event_id')::bigint),
	    'view', rc_series_member(p_key, p_series));
END $$;

-- Series in a caller's scope, the latest first (the console's list).
CREATE OR REPLACE FUNCTION rc_series_in_scope(p_scope bigint[],
    p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(x.j ORDER BY x.first DESC NULLS LAST,
	    x.id DESC), '[]')
	FROM (SELECT s.id, f.first, rc_series_json(s) || jsonb_build_object(
	        'starts_on', to_char(f.first AT TIME ZONE s.timezone,
	            'YYYY-MM-DD')) AS j
	    FROM series s CROSS JOIN LATERAL (SELECT min(e.starts_at) AS first
	        FROM events e WHERE e.series_id = s.id) f
	    WHERE p_scope IS NULL OR s.id IN (SELECT v.series_id FROM events v
	        WHERE v.id = ANY (p_scope))
	    ORDER BY f.first DESC NULLS LAST, s.id DESC
	    LIMIT p_limit) x
$$;

-- The console's series report page: the report, with who attended when
-- the caller may see it.
CREATE OR REPLACE FUNCTION rc_console_series(p_series bigint,
    p_scope bigint[], p_chapters bigint[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_series_report(p_series, p_scope, p_chapters, 'auto')
$$;

-- Topics and votes ------------------------------------------------------

-- A topic as everyone sees it; its rank is its place in its chapter by
-- votes, ties to the earlier proposal.
CREATE OR REPLACE FUNCTION rc_topic_json(t topics)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', t.id, 'chapter', c.slug,
	    'title', t.title, 'description', t.description,
	    'status', t.status, 'created_at', t.created_at,
	    'votes', (SELECT count(*) FROM topic_votes v
	        WHERE v.topic_id = t.id))
	FROM chapters c WHERE c.id = t.chapter_id
$$;

-- A chapter's topics, ranked (p_open: only the open ones); p_person's
-- own votes marked "mine".
CREATE OR REPLACE FUNCTION rc_topic_ranking(p_chapter bigint,
    p_person bigint, p_open boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(x.j || jsonb_build_object('rank', x.rank)
	    ORDER BY x.rank), '[]')
	FROM (SELECT jsonb_build_object('id', t.id, 'title', t.title,
	        'description', t.description, 'status', t.status,
	        'created_at', t.created_at, 'votes', v.n,
	        'mine', p_person IS NOT NULL AND EXISTS (SELECT 1
	            FROM topic_votes m WHERE m.topic_id = t.id
	              AND m.person_id = p_person)) AS j,
	        row_number() OVER (ORDER BY v.n DESC, t.created_at, t.id)
	            AS rank
	    FROM topics t CROSS JOIN LATERAL (SELECT count(*) AS n
	        FROM topic_votes w WHERE w.topic_id = t.id) v
	    WHERE t.chapter_id = p_chapter
	      AND (NOT p_open OR t.status = 'open')) x
$$;

-- A chapter with its ranked topics.
CREATE OR REPLACE FUNCTION rc_topic_chapter_json(c chapters,
    p_person bigint, p_open boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('slug', c.slug, 'name', c.name,
	    'name_zh', c.name_zh, 'kind', c.kind, 'status', c.status,
	    'topics', rc_topic_ranking(c.id, p_person, p_open))
$$;

-- The public ranking: one chapter by slug (NULL when there is none), or
-- every topic chapter that is not retired.
CREATE OR REPLACE FUNCTION rc_topic_list(p_chapter text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_chapter IS NOT NULL THEN
	    (SELECT jsonb_build_object('chapter', rc_topic_chapter_json(c,
	        NULL, false)) FROM chapters c WHERE c.slug = p_chapter)
	ELSE jsonb_build_object('chapters', (SELECT coalesce(jsonb_agg(
	        rc_topic_chapter_json(c, NULL, false) ORDER BY c.slug), '[]')
	    FROM chapters c WHERE c.kind = 'topic' AND c.status <> 'retired'))
	END
$$;

-- Propose a topic {chapter: slug, title, description?} for a topic
-- chapter among p_chapters (NULL: any).
CREATE OR REPLACE FUNCTION rc_topic_propose(p jsonb, p_chapters bigint[],
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c chapters;
	t topics;
BEGIN
	SELECT * INTO c FROM chapters WHERE slug = p->>'chapter';
	IF NOT FOUND THEN
		PERFORM rc_fail(400, 'invalid_field', 'chapter: no chapter has '
		    'the slug "' || (p->>'chapter') || '".');
	END IF;
	IF p_chapters IS NOT NULL AND NOT c.id = ANY (p_chapters) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'Chapter ' || c.slug ||
		    ' is not one of yours: propose topics for your own '
		    'chapters.');
	END IF;
	IF c.kind <> 'topic' THEN
		PERFORM rc_fail(400, 'invalid_field', 'chapter: ' || c.slug ||
		    ' is a city chapter; topics are voted on in topic '
		    'chapters.');
	END IF;
	IF c.status = 'retired' THEN
		PERFORM rc_fail(409, 'chapter_retired', 'Chapter ' || c.slug ||
		    ' is retired.');
	END IF;
	BEGIN
		INSERT INTO topics (chapter_id, title, description, proposed_by)
		VALUES (c.id, p->>'title', coalesce(p->>'description', ''),
		    p_actor)
		RETURNING * INTO t;
	EXCEPTION WHEN unique_violation THEN
		PERFORM rc_fail(409, 'topic_exists', 'Chapter ' || c.slug ||
		    ' already has an open topic of that title.');
	END;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'topic.propose', jsonb_build_object('topic', t.id,
	    'chapter', c.slug));
	RETURN rc_topic_json(t);
END $$;

-- Open, close or choose a topic of a chapter among p_chapters (NULL:
-- any). NULL for an unknown topic.
CREATE OR REPLACE FUNCTION rc_topic_status(p_topic bigint, p_status text,
    p_chapters bigint[], p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	t topics;
	was text;
BEGIN
	SELECT * INTO t FROM topics WHERE id = p_topic FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF p_chapters IS NOT NULL AND NOT t.chapter_id = ANY (p_chapters) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'Topic ' || p_topic ||
		    ' belongs to a chapter that is not one of yours.');
	END IF;
	was := t.status;
	IF was <> p_status THEN
		BEGIN
			UPDATE topics SET status = p_status, updated_at = now()
			WHERE id = p_topic RETURNING * INTO t;
		EXCEPTION WHEN unique_violation THEN
			PERFORM rc_fail(409, 'topic_exists', 'The chapter '
			    'already has an open topic of that title.');
		END;
		INSERT INTO audit_log (actor, action, detail)
		VALUES (p_actor, 'topic.status', jsonb_build_object('topic',
		    t.id, 'from', was, 'to', p_status));
	END IF;
	RETURN rc_topic_json(t);
END $$;

-- A member's vote: once per topic, whatever the number of requests or
-- servers (the primary key decides; a repeat stores nothing and says
-- "already"). The topic's row is share-locked, so a vote and a closing
-- of the same topic are ordered: a vote never lands on a closed topic.
-- NULL for an unknown member.
CREATE OR REPLACE FUNCTION rc_vote(p_key bytea, p_topic bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint := rc_member_by_key(p_key);
	st text;
	n integer;
BEGIN
	IF pid IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT status INTO st FROM topics WHERE id = p_topic FOR SHARE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such topic.');
	END IF;
	IF st <> 'open' THEN
		PERFORM rc_fail(409, 'topic_closed', 'Voting on this topic has '
		    'closed.');
	END IF;
	INSERT INTO topic_votes (topic_id, person_id) VALUES (p_topic, pid)
	ON CONFLICT DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN jsonb_build_object('topic', p_topic, 'voted', true,
	    'already', n = 0, 'votes', (SELECT count(*) FROM topic_votes
	        WHERE topic_id = p_topic));
END $$;

-- Withdraw a member's vote (none is harmless); a closed topic keeps its
-- votes. NULL for an unknown member.
CREATE OR REPLACE FUNCTION rc_unvote(p_key bytea, p_topic bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint := rc_member_by_key(p_key);
	st text;
	n integer;
BEGIN
	IF pid IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT status INTO st FROM topics WHERE id = p_topic FOR SHARE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such topic.');
	END IF;
	IF st <> 'open' THEN
		PERFORM rc_fail(409, 'topic_closed', 'Voting on this topic has '
		    'closed; its votes are kept.');
	END IF;
	DELETE FROM topic_votes WHERE topic_id = p_topic AND person_id = pid;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN jsonb_build_object('topic', p_topic, 'voted', false,
	    'removed', n > 0, 'votes', (SELECT count(*) FROM topic_votes
	        WHERE topic_id = p_topic));
END $$;

-- The member's topics page: the open topics of every topic chapter that
-- is not retired and has any, the member's own chapters first, their
-- votes marked. NULL for an unknown member.
CREATE OR REPLACE FUNCTION rc_member_topics(p_key bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'member', jsonb_build_object('name', p.name),
	    'chapters', (SELECT coalesce(jsonb_agg(rc_topic_chapter_json(c,
	        p.id, true) || jsonb_build_object('joined', j.joined)
	        ORDER BY j.joined DESC, c.slug), '[]')
	        FROM chapters c CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1
	            FROM chapter_members cm WHERE cm.chapter_id = c.id
	              AND cm.person_id = p.id) AS joined) j
	        WHERE c.kind = 'topic' AND c.status <> 'retired'
	          AND EXISTS (SELECT 1 FROM topics t WHERE t.chapter_id = c.id
	              AND t.status = 'open')))
	FROM members m JOIN persons p ON p.id = m.person_id
	WHERE m.key_hash = p_key
$$;

-- The console's topics page: every topic chapter that is not retired,
-- those the caller manages (p_chapters; NULL: all) first and marked;
-- the series in the caller's scope, for their reports.
CREATE OR REPLACE FUNCTION rc_console_topics(p_chapters bigint[],
    p_scope bigint[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'chapters', (SELECT coalesce(jsonb_agg(rc_topic_chapter_json(c,
	        NULL, false) || jsonb_build_object('manage', m.manage)
	        ORDER BY m.manage DESC, c.slug), '[]')
	        FROM chapters c CROSS JOIN LATERAL (SELECT p_chapters IS NULL
	            OR c.id = ANY (p_chapters) AS manage) m
	        WHERE c.kind = 'topic' AND c.status <> 'retired'),
	    'can_propose', EXISTS (SELECT 1 FROM chapters c
	        WHERE c.kind = 'topic' AND c.status <> 'retired'
	          AND (p_chapters IS NULL OR c.id = ANY (p_chapters))),
	    'series', rc_series_in_scope(p_scope, 100))
$$;
