-- The demo that `make run` seeds once: a meetup, a NightTalk series of four
-- episodes and a Community Day, all published, dated from today.
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
COMMIT;
