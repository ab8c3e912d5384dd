-- Reports (COMMUNITY.md section 5, docs/reports.md): the identity mix,
-- chapter health, attendance and growth, as JSON (and the same numbers
-- as CSV), beside the community's goals (report_goals, sql/024).
--
-- Aggregates only: no report names, mails or ids a person. A mix of
-- members smaller than rc_report_min_group() shows its total and
-- nothing else, since a share of one or two members tells who they
-- are (attendee mixes are not withheld: whoever may read a report may
-- already read the registrations of the same events).
--
-- p_chapters is the caller's scope: NULL for every chapter (admin,
-- committee), else the chapters of a leader or track owner (server/
-- report.c passes r->auth.chapters). Dates are local: an event's in its
-- own time zone, a chapter's quarters in the chapter's, the members'
-- joining and the period in the goals' time zone. p_as_of stands for
-- "today" (tests and looking back); NULL is today.

-- Members fewer than this in one mix are a total only.
CREATE OR REPLACE FUNCTION rc_report_min_group()
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
	SELECT 5
$$;

-- The events a report counts: held or going ahead, not drafts, not
-- proposals waiting for the committee, not cancelled.
CREATE OR REPLACE FUNCTION rc_report_counted(p_status text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT p_status IN ('approved', 'published', 'finished')
$$;

-- The goals as the API shows them (who changed them is in audit_log).
CREATE OR REPLACE FUNCTION rc_report_goals_json(g report_goals)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'members_professional_percent', g.members_professional,
	    'new_members_professional_percent', g.new_members_professional,
	    'events_per_year', g.events_per_year,
	    'events_per_quarter', g.events_per_quarter,
	    'at_risk_days', g.at_risk_days,
	    'timezone', g.timezone,
	    'updated_at', g.updated_at)
$$;

-- GET /api/v1/reports/goals
CREATE OR REPLACE FUNCTION rc_report_goals()
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_report_goals_json(g) FROM report_goals g
$$;

-- PATCH /api/v1/reports/goals: the fields sent change (server/report.c
-- checked their types and ranges), audited with before and after.
CREATE OR REPLACE FUNCTION rc_report_goals_set(p jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	g report_goals;
	before jsonb;
BEGIN
	SELECT * INTO g FROM report_goals FOR UPDATE;
	before := rc_report_goals_json(g);
	IF p ? 'timezone' AND NOT rc_tz_ok(p->>'timezone') THEN
		PERFORM rc_fail(400, 'invalid_field', 'timezone: "' ||
		    (p->>'timezone') || '" is not an IANA time zone such as ' ||
		    'Asia/Shanghai.');
	END IF;
	UPDATE report_goals SET
	    members_professional = coalesce(
	        (p->>'members_professional_percent')::integer,
	        members_professional),
	    new_members_professional = coalesce(
	        (p->>'new_members_professional_percent')::integer,
	        new_members_professional),
	    events_per_year = coalesce((p->>'events_per_year')::integer,
	        events_per_year),
	    events_per_quarter = coalesce((p->>'events_per_quarter')::integer,
	        events_per_quarter),
	    at_risk_days = coalesce((p->>'at_risk_days')::integer,
	        at_risk_days),
	    timezone = coalesce(p->>'timezone', timezone),
	    updated_at = now(), updated_by = p_actor
	RETURNING * INTO g;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'report.goals', jsonb_build_object('before', before,
	    'after', rc_report_goals_json(g)));
	RETURN rc_report_goals_json(g);
END $$;

-- A share n / total to four places; NULL when there is nothing to share.
CREATE OR REPLACE FUNCTION rc_report_share(n bigint, total bigint)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN total > 0 THEN round(n::numeric / total, 4) END
$$;

-- The identity mix of a group: its identities (NULL is unknown) in,
-- {total, suppressed, identities: [{identity, n, share}], goal?} out.
-- p_min: a smaller group shows only its total (0: never withheld).
-- p_goal: the percent of professional developers aimed at (NULL: no
-- goal); met compares exactly (n * 100 >= goal * total), NULL when
-- nothing was measured or the mix is withheld.
CREATE OR REPLACE FUNCTION rc_report_mix(p_ids text[], p_min integer,
    p_goal integer)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	WITH k(identity, ord) AS (VALUES ('enthusiast', 1), ('professional', 2),
	    ('decision_maker', 3), ('partner', 4), ('unknown', 5)),
	t AS (SELECT coalesce(cardinality(p_ids), 0) AS total),
	c AS (SELECT k.identity, k.ord, (SELECT count(*) FROM unnest(p_ids) i
	        WHERE coalesce(i, 'unknown') = k.identity) AS n
	    FROM k),
	w AS (SELECT t.total, t.total > 0 AND t.total < p_min AS hidden
	    FROM t)
	SELECT jsonb_build_object('total', w.total, 'suppressed', w.hidden,
	    'identities', (SELECT jsonb_agg(jsonb_build_object('identity',
	        c.identity, 'n', CASE WHEN NOT w.hidden THEN c.n END,
	        'share', CASE WHEN NOT w.hidden
	            THEN rc_report_share(c.n, w.total) END) ORDER BY c.ord)
	        FROM c))
	    || CASE WHEN p_goal IS NULL THEN '{}'::jsonb
	    ELSE jsonb_build_object('goal', (SELECT jsonb_build_object(
	        'identity', 'professional', 'target_percent', p_goal,
	        'target', round(p_goal / 100.0, 4),
	        'share', CASE WHEN NOT w.hidden
	            THEN rc_report_share(c.n, w.total) END,
	        'met', CASE WHEN NOT w.hidden AND w.total > 0
	            THEN c.n * 100 >= p_goal::bigint * w.total END)
	        FROM c WHERE c.identity = 'professional')) END
	FROM w
$$;

-- The period a report covers and its "today": from and to default to
-- the calendar year of as_of (in the goals' time zone); to before from
-- is refused.
CREATE OR REPLACE FUNCTION rc_report_period(p_from date, p_to date,
    p_as_of date, OUT today date, OUT f date, OUT t date, OUT tz text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	SELECT g.timezone INTO tz FROM report_goals g;
	today := coalesce(p_as_of, (now() AT TIME ZONE tz)::date);
	f := coalesce(p_from, date_trunc('year', today)::date);
	t := coalesce(p_to, (date_trunc('year', today) +
	    interval '1 year - 1 day')::date);
	IF t < f THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'to: must not be before from.');
	END IF;
END $$;

-- The day a chapter began to owe events: the day it was made, or the
-- day of its first counted event when that is earlier (chapters that
-- migration 020 made from old free text have events older than their
-- row). In the chapter's time zone.
CREATE OR REPLACE FUNCTION rc_report_chapter_since(c chapters)
RETURNS date LANGUAGE sql STABLE AS $$
	SELECT least((c.created_at AT TIME ZONE c.timezone)::date,
	    (SELECT min((e.starts_at AT TIME ZONE c.timezone)::date)
	     FROM events e WHERE e.chapter_id = c.id
	       AND rc_report_counted(e.status)))
$$;

-- The scope as a set: chapter ids the caller covers.
CREATE OR REPLACE FUNCTION rc_report_in_scope(p_chapter bigint,
    p_chapters bigint[])
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT p_chapters IS NULL OR p_chapter = ANY (p_chapters)
$$;

-- GET /api/v1/reports/identity: the identity mix of the members, of the
-- members who joined in the period, of each chapter's members, and of
-- the attendees (confirmed; checked in at the door or joined online) of
-- the period's events, per event, per chapter and per kind. A leader's
-- members are those of its chapters.
CREATE OR REPLACE FUNCTION rc_report_identity(p_chapters bigint[],
    p_from date, p_to date, p_as_of date)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	g report_goals;
	pd record;
	lo timestamptz;
	hi timestamptz;
	upto timestamptz;
	res jsonb;
BEGIN
	SELECT * INTO g FROM report_goals;
	SELECT * INTO pd FROM rc_report_period(p_from, p_to, p_as_of);
	lo := pd.f::timestamp AT TIME ZONE pd.tz;
	hi := (pd.t + 1)::timestamp AT TIME ZONE pd.tz;
	upto := (pd.today + 1)::timestamp AT TIME ZONE pd.tz;
	WITH m AS (
		SELECT p.identity, mb.joined_at FROM members mb
		JOIN persons p ON p.id = mb.person_id
		WHERE mb.joined_at < upto AND (p_chapters IS NULL OR
		    mb.person_id IN (SELECT x.person_id FROM chapter_members x
		        WHERE x.chapter_id = ANY (p_chapters)))),
	cm AS (
		SELECT c.id, c.slug, c.name, c.name_zh,
		    array_agg(p.identity) FILTER (WHERE p.id IS NOT NULL) AS ids
		FROM chapters c
		LEFT JOIN chapter_members x ON x.chapter_id = c.id
		LEFT JOIN members mb ON mb.person_id = x.person_id
		    AND mb.joined_at < upto
		LEFT JOIN persons p ON p.id = mb.person_id
		WHERE c.status <> 'retired'
		  AND rc_report_in_scope(c.id, p_chapters)
		GROUP BY c.id),
	ev AS (
		SELECT e.id, e.title, e.kind, e.chapter_id, e.status,
		    (e.starts_at AT TIME ZONE e.timezone)::date AS starts_on,
		    e.starts_at
		FROM events e
		WHERE rc_report_counted(e.status)
		  AND rc_report_in_scope(e.chapter_id, p_chapters)
		  AND (e.starts_at AT TIME ZONE e.timezone)::date
		      BETWEEN pd.f AND pd.t),
	a AS (
		SELECT ev.id AS event_id, ev.kind, ev.chapter_id, g2.identity,
		    g2.checked_in_at IS NOT NULL OR g2.joined_at IS NOT NULL
		        AS came
		FROM ev JOIN registrations g2 ON g2.event_id = ev.id
		WHERE g2.status = 'confirmed'),
	-- Each group's identities, gathered once (confirmed; checked in).
	by_event AS (
		SELECT event_id AS k, array_agg(identity) AS conf,
		    array_agg(identity) FILTER (WHERE came) AS came
		FROM a GROUP BY event_id),
	by_chapter AS (
		SELECT chapter_id AS k, array_agg(identity) AS conf,
		    array_agg(identity) FILTER (WHERE came) AS came
		FROM a GROUP BY chapter_id),
	by_kind AS (
		SELECT kind AS k, array_agg(identity) AS conf,
		    array_agg(identity) FILTER (WHERE came) AS came
		FROM a GROUP BY kind)
	SELECT jsonb_build_object(
	    'report', 'identity',
	    'as_of', pd.today, 'from', pd.f, 'to', pd.t, 'timezone', pd.tz,
	    'min_group', rc_report_min_group(),
	    'goals', rc_report_goals_json(g),
	    'members', rc_report_mix((SELECT array_agg(identity) FROM m),
	        rc_report_min_group(), g.members_professional),
	    'new_members', rc_report_mix((SELECT array_agg(identity) FROM m
	        WHERE joined_at >= lo AND joined_at < hi),
	        rc_report_min_group(), g.new_members_professional),
	    'members_by_chapter', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'chapter', cm.slug, 'name', cm.name, 'name_zh', cm.name_zh,
	        'mix', rc_report_mix(cm.ids, rc_report_min_group(),
	            g.members_professional)) ORDER BY cm.slug) FROM cm), '[]'),
	    'attendees', jsonb_build_object(
	        'events', coalesce((SELECT jsonb_agg(jsonb_build_object(
	            'id', ev.id, 'title', ev.title, 'kind', ev.kind,
	            'chapter', c.slug, 'starts_on', ev.starts_on,
	            'confirmed', rc_report_mix(x.conf, 0, NULL),
	            'checked_in', rc_report_mix(x.came, 0, NULL))
	            ORDER BY ev.starts_at, ev.id)
	            FROM ev JOIN chapters c ON c.id = ev.chapter_id
	            LEFT JOIN by_event x ON x.k = ev.id), '[]'),
	        'chapters', coalesce((SELECT jsonb_agg(jsonb_build_object(
	            'chapter', c.slug, 'name', c.name, 'name_zh', c.name_zh,
	            'confirmed', rc_report_mix(x.conf, 0, NULL),
	            'checked_in', rc_report_mix(x.came, 0, NULL))
	            ORDER BY c.slug) FROM chapters c
	            LEFT JOIN by_chapter x ON x.k = c.id
	            WHERE c.id IN (SELECT chapter_id FROM ev)), '[]'),
	        'kinds', coalesce((SELECT jsonb_agg(jsonb_build_object(
	            'kind', k.kind,
	            'confirmed', rc_report_mix(x.conf, 0, NULL),
	            'checked_in', rc_report_mix(x.came, 0, NULL))
	            ORDER BY k.ord)
	            FROM (VALUES ('meetup', 1), ('community_day', 2),
	                ('nighttalk', 3)) k(kind, ord)
	            LEFT JOIN by_kind x ON x.k = k.kind
	            WHERE k.kind IN (SELECT kind FROM ev)), '[]')))
	INTO res;
	RETURN res;
END $$;

-- One quarter's verdict against the rule (每季度一次): n events held or
-- scheduled in a quarter [qs, qe) that is owed from p_since on, seen on
-- p_today. A quarter that began before p_since is not owed.
CREATE OR REPLACE FUNCTION rc_report_quarter_state(qs date, qe date,
    n bigint, p_since date, p_today date, g report_goals)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
	    WHEN n >= g.events_per_quarter THEN 'ok'
	    WHEN p_since IS NOT NULL AND qs < p_since THEN 'not_due'
	    WHEN qe <= p_today THEN 'missed'
	    WHEN qs <= p_today THEN CASE WHEN qe - p_today < g.at_risk_days
	        THEN 'at_risk' ELSE 'open' END
	    ELSE 'future' END
$$;

-- A year of one chapter (or of one leader in it) against the rule: the
-- four quarters and the year's total. p_on: the local start dates of
-- the year's counted events; p_since: the first day owed (NULL: all).
-- The year's target and what is required by p_today are the goal's
-- events_per_year for the quarters owed (rounded up); on_track: the
-- events held or scheduled reach what is required so far; met (once
-- the year is over): they reached the target.
CREATE OR REPLACE FUNCTION rc_report_year(p_year integer, p_on date[],
    p_since date, p_today date, g report_goals)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	WITH q AS (
		SELECT n AS quarter, make_date(p_year, 3 * n - 2, 1) AS qs,
		    (make_date(p_year, 3 * n - 2, 1) + interval '3 months')::date
		        AS qe
		FROM generate_series(1, 4) n),
	c AS (
		SELECT q.*, (SELECT count(*) FROM unnest(p_on) d
		        WHERE d >= q.qs AND d < q.qe) AS n,
		    (SELECT count(*) FROM unnest(p_on) d
		        WHERE d >= q.qs AND d < q.qe AND d <= p_today) AS held,
		    p_since IS NULL OR q.qs >= p_since AS owed
		FROM q),
	y AS (
		SELECT sum(n) AS events, sum(held) AS held,
		    count(*) FILTER (WHERE owed) AS owed,
		    count(*) FILTER (WHERE owed AND qs <= p_today) AS begun
		FROM c)
	SELECT jsonb_build_object(
	    'quarters', (SELECT jsonb_agg(jsonb_build_object(
	        'quarter', c.quarter, 'starts_on', c.qs,
	        'events', c.n, 'held', c.held,
	        'state', rc_report_quarter_state(c.qs, c.qe, c.n, p_since,
	            p_today, g),
	        'days_left', CASE WHEN c.qs <= p_today AND p_today < c.qe
	            THEN c.qe - p_today END) ORDER BY c.quarter) FROM c),
	    'year', jsonb_build_object('year', p_year,
	        'events', y.events, 'held', y.held,
	        'target', ceil(g.events_per_year * y.owed / 4.0)::integer,
	        'required_so_far',
	            ceil(g.events_per_year * y.begun / 4.0)::integer,
	        'on_track', y.events >= ceil(g.events_per_year * y.begun / 4.0),
	        'met', CASE WHEN make_date(p_year + 1, 1, 1) <= p_today
	            THEN y.events >= ceil(g.events_per_year * y.owed / 4.0)
	            END))
	FROM y
$$;

-- GET /api/v1/reports/chapter-health: every chapter that is not
-- retired, its events per quarter and in the year (counted ones, by
-- their start in the chapter's time zone) against "at least four a year,
-- one each quarter", and the same for each of its leaders from the day
-- they began to lead it (by role and since: no person is named).
-- Flags: missed (a quarter over with too few), at_risk (the current
-- quarter with too few and fewer than at_risk_days left), on_track.
CREATE OR REPLACE FUNCTION rc_report_health(p_chapters bigint[],
    p_year integer, p_as_of date)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	g report_goals;
	pd record;
	yr integer;
	res jsonb;
BEGIN
	SELECT * INTO g FROM report_goals;
	SELECT * INTO pd FROM rc_report_period(NULL, NULL, p_as_of);
	yr := coalesce(p_year, extract(year FROM pd.today)::integer);
	WITH c AS (
		SELECT c.*, coalesce(p_as_of,
		        (now() AT TIME ZONE c.timezone)::date) AS today,
		    rc_report_chapter_since(c) AS since,
		    ARRAY(SELECT (e.starts_at AT TIME ZONE c.timezone)::date
		        FROM events e WHERE e.chapter_id = c.id
		          AND rc_report_counted(e.status)
		          AND extract(year FROM e.starts_at AT TIME ZONE
		              c.timezone) = yr) AS dates
		FROM chapters c
		WHERE c.status <> 'retired'
		  AND rc_report_in_scope(c.id, p_chapters)),
	r AS (
		SELECT c.*, rc_report_year(yr, c.dates, c.since, c.today, g)
		    AS y FROM c)
	SELECT jsonb_build_object(
	    'report', 'chapter-health', 'year', yr, 'as_of', pd.today,
	    'goals', rc_report_goals_json(g),
	    'summary', jsonb_build_object(
	        'chapters', (SELECT count(*) FROM r),
	        'missed', (SELECT count(*) FROM r WHERE r.y->'quarters' @>
	            '[{"state": "missed"}]'),
	        'at_risk', (SELECT count(*) FROM r WHERE r.y->'quarters' @>
	            '[{"state": "at_risk"}]'),
	        'off_track', (SELECT count(*) FROM r
	            WHERE NOT (r.y->'year'->>'on_track')::boolean)),
	    'chapters', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'chapter', r.slug, 'name', r.name, 'name_zh', r.name_zh,
	        'kind', r.kind, 'status', r.status, 'timezone', r.timezone,
	        'as_of', r.today, 'since', r.since,
	        'quarters', r.y->'quarters', 'year', r.y->'year',
	        'leaders', coalesce((SELECT jsonb_agg(jsonb_build_object(
	            'role', l.role, 'since', l.s,
	            'quarters', l.y->'quarters', 'year', l.y->'year')
	            ORDER BY l.role, l.s)
	            FROM (SELECT l.role, greatest(r.since,
	                    (l.since AT TIME ZONE r.timezone)::date) AS s,
	                rc_report_year(yr, ARRAY(SELECT d FROM unnest(r.dates) d
	                    WHERE d >= (l.since AT TIME ZONE r.timezone)::date),
	                    greatest(r.since,
	                    (l.since AT TIME ZONE r.timezone)::date), r.today,
	                    g) AS y
	                FROM chapter_leaders l WHERE l.chapter_id = r.id) l),
	            '[]')) ORDER BY r.slug) FROM r), '[]'))
	INTO res;
	RETURN res;
END $$;

-- Attendance figures of a set of events: {events, events_over,
-- registered, confirmed, checked_in, joined, no_shows, no_show_rate,
-- join_rate}. No-shows (as rc_noshow_count counts them: confirmed, never
-- checked in nor joined) only of events that are over (rc_event_over);
-- the join rate over the NightTalks that are over.
CREATE OR REPLACE FUNCTION rc_report_turnout(p_events bigint[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
	WITH x AS (
		SELECT e.id, e.kind, rc_event_over(e) AS over, g.status,
		    g.checked_in_at IS NOT NULL OR g.joined_at IS NOT NULL
		        AS came,
		    g.joined_at IS NOT NULL AS joined
		FROM events e LEFT JOIN registrations g ON g.event_id = e.id
		WHERE e.id = ANY (p_events)),
	s AS (
		SELECT count(DISTINCT id) AS events,
		    count(DISTINCT id) FILTER (WHERE over) AS events_over,
		    count(status) AS registered,
		    count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
		    count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted,
		    count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
		    count(*) FILTER (WHERE status = 'confirmed' AND came)
		        AS checked_in,
		    count(*) FILTER (WHERE status = 'confirmed' AND joined)
		        AS joined,
		    count(*) FILTER (WHERE status = 'confirmed' AND over)
		        AS confirmed_over,
		    count(*) FILTER (WHERE status = 'confirmed' AND over
		        AND NOT came) AS no_shows,
		    count(*) FILTER (WHERE status = 'confirmed' AND over
		        AND kind = 'nighttalk') AS nt_confirmed,
		    count(*) FILTER (WHERE status = 'confirmed' AND over
		        AND kind = 'nighttalk' AND joined) AS nt_joined,
		    bool_or(kind = 'nighttalk' AND over) AS nt_over
		FROM x)
	SELECT jsonb_build_object('events', events, 'events_over', events_over,
	    'registered', registered, 'confirmed', confirmed,
	    'waitlisted', waitlisted, 'cancelled', cancelled,
	    'checked_in', checked_in, 'joined', joined,
	    'no_shows', CASE WHEN events_over > 0 THEN no_shows END,
	    'no_show_rate', rc_report_share(no_shows, confirmed_over),
	    'join_rate', CASE WHEN nt_over
	        THEN rc_report_share(nt_joined, nt_confirmed) END)
	FROM s
$$;

-- GET /api/v1/reports/attendance: registered, confirmed, checked in
-- (at the door or online), joined (online), no-shows and their rate,
-- the NightTalk join rate (joined / confirmed), for each of the
-- period's counted events, each chapter, each kind, and in all.
CREATE OR REPLACE FUNCTION rc_report_attendance(p_chapters bigint[],
    p_from date, p_to date, p_as_of date)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	pd record;
	res jsonb;
BEGIN
	SELECT * INTO pd FROM rc_report_period(p_from, p_to, p_as_of);
	WITH ev AS (
		SELECT e.id, e.title, e.kind, e.chapter_id, e.status,
		    e.starts_at, rc_event_over(e) AS over,
		    (e.starts_at AT TIME ZONE e.timezone)::date AS starts_on
		FROM events e
		WHERE rc_report_counted(e.status)
		  AND rc_report_in_scope(e.chapter_id, p_chapters)
		  AND (e.starts_at AT TIME ZONE e.timezone)::date
		      BETWEEN pd.f AND pd.t)
	SELECT jsonb_build_object(
	    'report', 'attendance', 'as_of', pd.today, 'from', pd.f,
	    'to', pd.t,
	    'total', rc_report_turnout(ARRAY(SELECT id FROM ev)),
	    'events', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'id', ev.id, 'title', ev.title, 'kind', ev.kind,
	        'chapter', c.slug, 'status', ev.status,
	        'starts_on', ev.starts_on, 'over', ev.over)
	        || (rc_report_turnout(ARRAY[ev.id]) - 'events' - 'events_over')
	        ORDER BY ev.starts_at, ev.id)
	        FROM ev JOIN chapters c ON c.id = ev.chapter_id), '[]'),
	    'chapters', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'chapter', c.slug, 'name', c.name, 'name_zh', c.name_zh)
	        || rc_report_turnout(ARRAY(SELECT id FROM ev
	            WHERE ev.chapter_id = c.id)) ORDER BY c.slug)
	        FROM chapters c WHERE c.id IN (SELECT chapter_id FROM ev)),
	        '[]'),
	    'kinds', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'kind', k.kind) || rc_report_turnout(ARRAY(SELECT id FROM ev
	            WHERE ev.kind = k.kind)) ORDER BY k.ord)
	        FROM (VALUES ('meetup', 1), ('community_day', 2),
	            ('nighttalk', 3)) k(kind, ord)
	        WHERE k.kind IN (SELECT kind FROM ev)), '[]'))
	INTO res;
	RETURN res;
END $$;

-- GET /api/v1/reports/growth: for each quarter of the period (whole
-- quarters, at most 40): members who joined (by as_of), chapters that
-- began (rc_report_chapter_since), counted events, and attendees
-- (checked in or joined) offline (meetups, community days) and online
-- (NightTalks).
CREATE OR REPLACE FUNCTION rc_report_growth(p_chapters bigint[],
    p_from date, p_to date, p_as_of date)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	pd record;
	q0 date;
	q1 date;
	res jsonb;
BEGIN
	SELECT * INTO pd FROM rc_report_period(p_from, p_to, p_as_of);
	q0 := date_trunc('quarter', pd.f)::date;
	q1 := date_trunc('quarter', pd.t)::date;
	IF q1 >= (q0 + interval '120 months')::date THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'to: the growth report covers at most 40 quarters.');
	END IF;
	WITH q AS (
		SELECT d::date AS qs
		FROM generate_series(q0::timestamp, q1::timestamp,
		    interval '3 months') d),
	-- Each measure counted by the quarter its day falls in.
	m AS (
		SELECT date_trunc('quarter', (mb.joined_at AT TIME ZONE
		    pd.tz))::date AS qs, count(*) AS n
		FROM members mb
		WHERE (mb.joined_at AT TIME ZONE pd.tz)::date <= pd.today
		  AND (p_chapters IS NULL OR mb.person_id IN (SELECT
		    x.person_id FROM chapter_members x
		    WHERE x.chapter_id = ANY (p_chapters)))
		GROUP BY 1),
	ch AS (
		SELECT date_trunc('quarter', rc_report_chapter_since(c))::date
		    AS qs, count(*) AS n
		FROM chapters c
		WHERE rc_report_in_scope(c.id, p_chapters)
		GROUP BY 1),
	ev AS (
		SELECT e.id, e.kind, date_trunc('quarter',
		    (e.starts_at AT TIME ZONE e.timezone))::date AS qs
		FROM events e
		WHERE rc_report_counted(e.status)
		  AND rc_report_in_scope(e.chapter_id, p_chapters)
		  -- the period's events, with a day to spare for any zone
		  AND e.starts_at >= q0::timestamp AT TIME ZONE 'UTC' -
		      interval '1 day'
		  AND e.starts_at < (q1 + interval '3 months')::timestamp
		      AT TIME ZONE 'UTC' + interval '1 day'),
	evn AS (SELECT qs, count(*) AS n FROM ev GROUP BY qs),
	att AS (
		SELECT ev.qs,
		    count(*) FILTER (WHERE ev.kind <> 'nighttalk') AS offline,
		    count(*) FILTER (WHERE ev.kind = 'nighttalk') AS online
		FROM ev JOIN registrations g ON g.event_id = ev.id
		WHERE g.status = 'confirmed'
		  AND (g.checked_in_at IS NOT NULL OR g.joined_at IS NOT NULL)
		GROUP BY ev.qs)
	SELECT jsonb_build_object(
	    'report', 'growth', 'as_of', pd.today, 'from', q0,
	    'to', ((q1 + interval '3 months')::date - 1), 'timezone', pd.tz,
	    'quarters', (SELECT jsonb_agg(jsonb_build_object(
	        'quarter', to_char(q.qs, 'YYYY"-Q"Q'), 'starts_on', q.qs,
	        'new_members', coalesce(m.n, 0),
	        'new_chapters', coalesce(ch.n, 0),
	        'events', coalesce(evn.n, 0),
	        'attendees_offline', coalesce(att.offline, 0),
	        'attendees_online', coalesce(att.online, 0))
	        ORDER BY q.qs)
	        FROM q LEFT JOIN m ON m.qs = q.qs LEFT JOIN ch ON ch.qs = q.qs
	        LEFT JOIN evn ON evn.qs = q.qs LEFT JOIN att ON att.qs = q.qs))
	INTO res;
	RETURN res;
END $$;

-- A number for a CSV cell: as it is, or empty for NULL.
CREATE OR REPLACE FUNCTION rc_report_csv_num(v jsonb)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN v IS NULL OR jsonb_typeof(v) = 'null' THEN ''
	    ELSE v #>> '{}' END
$$;

-- One identity mix as CSV cells: total, suppressed, then n and share
-- of each identity in order, then the goal's percent and met.
CREATE OR REPLACE FUNCTION rc_report_csv_mix(m jsonb)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT concat_ws(',', rc_report_csv_num(m->'total'),
	    rc_report_csv_num(m->'suppressed'),
	    (SELECT string_agg(rc_report_csv_num(i->'n') || ',' ||
	        rc_report_csv_num(i->'share'), ',' ORDER BY o)
	     FROM jsonb_array_elements(m->'identities') WITH ORDINALITY
	         x(i, o)),
	    rc_report_csv_num(m->'goal'->'target_percent'),
	    rc_report_csv_num(m->'goal'->'met'))
$$;

-- A report's JSON as CSV (RFC 4180, formula cells neutralised by
-- rc_csv, CRLF): one flat table per report, the same numbers.
CREATE OR REPLACE FUNCTION rc_report_csv(p jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	head text;
	body text;
BEGIN
	CASE p->>'report'
	WHEN 'identity' THEN
		head := 'section,group,name,measure,total,suppressed,' ||
		    'enthusiast_n,enthusiast_share,professional_n,' ||
		    'professional_share,decision_maker_n,decision_maker_share,' ||
		    'partner_n,partner_share,unknown_n,unknown_share,' ||
		    'goal_percent,met';
		SELECT string_agg(line, E'\r\n' ORDER BY o1, o2, o3) INTO body
		FROM (
		    SELECT 1 AS o1, 1 AS o2, 1 AS o3, concat_ws(',',
		        'members', 'all', '', 'members',
		        rc_report_csv_mix(p->'members')) AS line
		    UNION ALL
		    SELECT 1, 2, 1, concat_ws(',', 'new_members',
		        rc_csv((p->>'from') || '/' || (p->>'to')), '', 'members',
		        rc_report_csv_mix(p->'new_members'))
		    UNION ALL
		    SELECT 2, o, 1, concat_ws(',', 'chapter_members',
		        rc_csv(c->>'chapter'), rc_csv(c->>'name'), 'members',
		        rc_report_csv_mix(c->'mix'))
		    FROM jsonb_array_elements(p->'members_by_chapter')
		        WITH ORDINALITY x(c, o)
		    UNION ALL
		    SELECT 3 + s.o, x.o, m.o, concat_ws(',', s.section,
		        rc_csv(coalesce(x.c->>'id', x.c->>'chapter',
		            x.c->>'kind')),
		        rc_csv(coalesce(x.c->>'title', x.c->>'name', '')),
		        m.measure, rc_report_csv_mix(x.c->m.measure))
		    FROM (VALUES ('events', 'event_attendees', 1),
		        ('chapters', 'chapter_attendees', 2),
		        ('kinds', 'kind_attendees', 3)) s(k, section, o)
		    CROSS JOIN LATERAL jsonb_array_elements(p->'attendees'->s.k)
		        WITH ORDINALITY x(c, o)
		    CROSS JOIN (VALUES ('confirmed', 1), ('checked_in', 2))
		        m(measure, o)) l;
	WHEN 'chapter-health' THEN
		head := 'chapter,name,kind,status,leader_role,leader_since,' ||
		    'year,since,q1_events,q1_state,q2_events,q2_state,' ||
		    'q3_events,q3_state,q4_events,q4_state,year_events,' ||
		    'year_target,required_so_far,on_track,met';
		SELECT string_agg(concat_ws(',', rc_csv(c->>'chapter'),
		    rc_csv(c->>'name'), rc_csv(c->>'kind'), rc_csv(c->>'status'),
		    rc_csv(r->>'role'), rc_csv(r->>'since_leader'),
		    rc_report_csv_num(r->'year'->'year'), rc_csv(r->>'since'),
		    (SELECT string_agg(rc_report_csv_num(q->'events') || ',' ||
		        rc_csv(q->>'state'), ',' ORDER BY (q->>'quarter')::int)
		     FROM jsonb_array_elements(r->'quarters') q),
		    rc_report_csv_num(r->'year'->'events'),
		    rc_report_csv_num(r->'year'->'target'),
		    rc_report_csv_num(r->'year'->'required_so_far'),
		    rc_report_csv_num(r->'year'->'on_track'),
		    rc_report_csv_num(r->'year'->'met')), E'\r\n'
		    ORDER BY co, ro) INTO body
		FROM jsonb_array_elements(p->'chapters') WITH ORDINALITY
		    x(c, co)
		CROSS JOIN LATERAL (
		    SELECT 0 AS ro, jsonb_build_object('quarters', c->'quarters',
		        'year', c->'year', 'since', c->>'since') AS r
		    UNION ALL
		    SELECT lo, jsonb_build_object('quarters', l->'quarters',
		        'year', l->'year', 'since', l->>'since',
		        'role', l->>'role', 'since_leader', l->>'since')
		    FROM jsonb_array_elements(c->'leaders') WITH ORDINALITY
		        y(l, lo)) rr;
	WHEN 'attendance' THEN
		head := 'level,key,name,chapter,kind,starts_on,events,' ||
		    'registered,confirmed,waitlisted,cancelled,checked_in,' ||
		    'joined,no_shows,no_show_rate,join_rate';
		SELECT string_agg(concat_ws(',', lv, rc_csv(k), rc_csv(nm),
		    rc_csv(a->>'chapter'), rc_csv(a->>'kind'),
		    rc_csv(a->>'starts_on'),
		    CASE WHEN lv = 'event' THEN '1'
		        ELSE rc_report_csv_num(a->'events') END,
		    rc_report_csv_num(a->'registered'),
		    rc_report_csv_num(a->'confirmed'),
		    rc_report_csv_num(a->'waitlisted'),
		    rc_report_csv_num(a->'cancelled'),
		    rc_report_csv_num(a->'checked_in'),
		    rc_report_csv_num(a->'joined'),
		    rc_report_csv_num(a->'no_shows'),
		    rc_report_csv_num(a->'no_show_rate'),
		    rc_report_csv_num(a->'join_rate')), E'\r\n'
		    ORDER BY o1, o2) INTO body
		FROM (
		    SELECT 1 AS o1, o AS o2, 'event' AS lv, a->>'id' AS k,
		        a->>'title' AS nm, a
		    FROM jsonb_array_elements(p->'events') WITH ORDINALITY x(a, o)
		    UNION ALL
		    SELECT 2, o, 'chapter', a->>'chapter', a->>'name',
		        a - 'chapter'
		    FROM jsonb_array_elements(p->'chapters') WITH ORDINALITY
		        x(a, o)
		    UNION ALL
		    SELECT 3, o, 'kind', a->>'kind', '', a - 'kind'
		    FROM jsonb_array_elements(p->'kinds') WITH ORDINALITY x(a, o)
		    UNION ALL
		    SELECT 4, 1, 'total', 'all', '', p->'total') l;
	WHEN 'growth' THEN
		head := 'quarter,starts_on,new_members,new_chapters,events,' ||
		    'attendees_offline,attendees_online';
		SELECT string_agg(concat_ws(',', rc_csv(q->>'quarter'),
		    rc_csv(q->>'starts_on'), rc_report_csv_num(q->'new_members'),
		    rc_report_csv_num(q->'new_chapters'),
		    rc_report_csv_num(q->'events'),
		    rc_report_csv_num(q->'attendees_offline'),
		    rc_report_csv_num(q->'attendees_online')), E'\r\n'
		    ORDER BY o) INTO body
		FROM jsonb_array_elements(p->'quarters') WITH ORDINALITY x(q, o);
	ELSE
		RETURN NULL;
	END CASE;
	RETURN head || E'\r\n' || coalesce(body || E'\r\n', '');
END $$;

-- A report in the format asked for: its JSON, or its CSV.
CREATE OR REPLACE FUNCTION rc_report_out(p_format text, p jsonb)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_format = 'csv' THEN rc_report_csv(p)
	    ELSE p::text END
$$;

-- The console's reports page: every report at once, and the goals.
CREATE OR REPLACE FUNCTION rc_report_console(p_chapters bigint[],
    p_from date, p_to date, p_year integer, p_as_of date)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'identity', rc_report_identity(p_chapters, p_from, p_to, p_as_of),
	    'health', rc_report_health(p_chapters, p_year, p_as_of),
	    'attendance', rc_report_attendance(p_chapters, p_from, p_to,
	        p_as_of),
	    'growth', rc_report_growth(p_chapters, p_from, p_to, p_as_of),
	    'goals', rc_report_goals())
$$;
