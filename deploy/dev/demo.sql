-- The demo that `make run` seeds once: a meetup, a NightTalk series of four
-- episodes and a Community Day, all published, dated from today; and the
-- community around them: three chapters with their leaders, a few members
-- (so the reports have something to show), NightTalk topics to vote on, a
-- benefits catalogue and a contribution waiting for review.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO chapters (slug, name, name_zh, kind, city, topic, region, status)
VALUES ('shanghai', 'Shanghai', '上海', 'city', 'Shanghai', NULL, 'East China', 'active'),
       ('beijing', 'Beijing', '北京', 'city', 'Beijing', NULL, 'North China', 'active'),
       ('serverless', 'Serverless', '无服务器', 'topic', NULL, 'Serverless', NULL, 'trial')
ON CONFLICT (slug) DO NOTHING;
SELECT rc_event_update((rc_event_create(jsonb_build_object(
    'kind', 'meetup',
    'title', 'Shanghai Meetup: Observability in Practice',
    'description', 'Three practitioners on tracing, metrics and logs at scale, then questions from the floor.',
    'chapter', 'shanghai', 'format', 'panel',
    'venue', 'Innovation Hub, 88 Keyuan Road, Pudong, Shanghai',
    'starts_at', ((current_date + 10)::timestamp + time '14:00') AT TIME ZONE 'Asia/Shanghai',
    'ends_at', ((current_date + 10)::timestamp + time '18:00') AT TIME ZONE 'Asia/Shanghai',
    'capacity', 80), 'demo-seed')->>'id')::bigint,
    '{"status": "published"}', 'demo-seed');

SELECT rc_event_update((rc_event_create(jsonb_build_object(
    'kind', 'community_day',
    'title', 'Community Day Beijing 2026',
    'description', 'A full day of talks, panels and hands-on labs by and for the community.',
    'chapter', 'beijing',
    'venue', 'China National Convention Center, Hall 3, Beijing',
    'starts_at', ((current_date + 30)::timestamp + time '09:00') AT TIME ZONE 'Asia/Shanghai',
    'ends_at', ((current_date + 30)::timestamp + time '18:00') AT TIME ZONE 'Asia/Shanghai'),
    'demo-seed')->>'id')::bigint,
    '{"status": "published"}', 'demo-seed');

INSERT INTO sponsors (event_id, name)
SELECT id, s FROM events, unnest(ARRAY['CloudCo', 'DataBase Inc.']) s
WHERE kind = 'community_day';

WITH s AS (
	SELECT rc_series_create(jsonb_build_object(
	    'title', 'NightTalk: Serverless from Zero',
	    'description', 'Four Thursday evenings, one hour each, online.',
	    'chapter', 'serverless', 'track_owner', 'Wang Fang',
	    'starts_on', current_date + 1,
	    'episodes', 4,
	    'episode_titles', jsonb_build_array('Functions and events',
	        'State and storage', 'Observability', 'Cost and limits'),
	    'online_url', 'https://live.example.org/nighttalk/serverless'),
	    'demo-seed') AS j)
SELECT rc_event_update((e->>'id')::bigint, '{"status": "published"}',
    'demo-seed')
FROM s, jsonb_array_elements(s.j->'events') e;
-- The community: leaders (UGL, track owner), members of each identity.
INSERT INTO persons (email, name, company, job_title, city, identity, lang)
VALUES ('li.na@example.org', 'Li Na', 'CloudCo', 'Architect', 'Shanghai', 'professional', 'zh-CN'),
       ('wang.fang@example.org', 'Wang Fang', 'DataBase Inc.', 'Engineer', 'Hangzhou', 'professional', 'zh-CN'),
       ('chen.jie@example.org', 'Chen Jie', 'Startup', 'Developer', 'Shanghai', 'professional', 'en'),
       ('zhao.min@example.org', 'Zhao Min', 'University', 'Student', 'Beijing', 'enthusiast', 'zh-CN'),
       ('sun.hao@example.org', 'Sun Hao', 'Bank', 'CTO', 'Beijing', 'decision_maker', 'zh-CN'),
       ('liu.yang@example.org', 'Liu Yang', 'Partner Ltd.', 'Consultant', 'Shanghai', 'partner', 'en')
ON CONFLICT DO NOTHING;
INSERT INTO members (person_id) SELECT id FROM persons
WHERE email LIKE '%@example.org' ON CONFLICT DO NOTHING;
INSERT INTO chapter_members (chapter_id, person_id)
SELECT c.id, p.id FROM chapters c JOIN persons p
    ON (c.slug = 'shanghai' AND p.city = 'Shanghai')
    OR (c.slug = 'beijing' AND p.city = 'Beijing')
    OR (c.slug = 'serverless' AND p.identity = 'professional')
WHERE p.email LIKE '%@example.org' ON CONFLICT DO NOTHING;
INSERT INTO chapter_leaders (chapter_id, person_id, role, added_by)
SELECT c.id, p.id, r, 'demo-seed' FROM (VALUES
    ('shanghai', 'li.na@example.org', 'lead'),
    ('serverless', 'wang.fang@example.org', 'track_owner')) v (slug, email, r)
JOIN chapters c ON c.slug = v.slug JOIN persons p ON p.email = v.email
ON CONFLICT DO NOTHING;

-- What members vote on for the next Serverless series.
INSERT INTO topics (chapter_id, title, description, proposed_by)
SELECT id, t, d, 'demo-seed' FROM chapters, (VALUES
    ('Cold starts, measured', 'What a cold start costs and how to pay less.'),
    ('Event-driven design without tears', 'Queues, retries and idempotency.'))
    v (t, d)
WHERE slug = 'serverless';

-- The benefits members exchange their points for (周边礼品, 技术培训).
INSERT INTO benefits (kind, name, name_zh, description, price, stock, created_by)
VALUES ('gift', 'Community T-shirt', '社区 T 恤', 'Sizes S to XXL.', 50, 40, 'demo-seed'),
       ('training', 'A seat at the hands-on training', '动手培训名额', 'One day, laptops provided.', 200, 10, 'demo-seed');

-- A talk recorded by the chapter lead, waiting for the infra team's review.
INSERT INTO contributions (person_id, kind, title, date, chapter_id, points,
    status, recorded_by)
SELECT p.id, 'talk', 'Tracing a slow checkout', current_date - 20, c.id,
    coalesce((SELECT points FROM contribution_points WHERE kind = 'talk'), 50),
    'pending', 'demo-seed'
FROM persons p, chapters c
WHERE p.email = 'chen.jie@example.org' AND c.slug = 'shanghai';
COMMIT;
