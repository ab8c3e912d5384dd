-- What the other community parts hold about a member, as the sections of
-- the member's export (rc_member_export_NAME) and page (rc_member_page_NAME)
-- that rc_member_sections finds by name (sql/functions/member.sql). Each
-- part keeps its own export function; these only name them for the member.

CREATE OR REPLACE FUNCTION rc_member_export_recognition(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_recognition_export(p_person)
$$;

CREATE OR REPLACE FUNCTION rc_member_export_certificates(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_certificates_export(p_person)
$$;

CREATE OR REPLACE FUNCTION rc_member_export_volunteering(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_volunteer_export(p_person)
$$;

-- The topics the member voted for.
CREATE OR REPLACE FUNCTION rc_member_export_topic_votes(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('topic', t.id,
	    'title', t.title, 'voted_at', v.voted_at) ORDER BY v.voted_at),
	    '[]')
	FROM topic_votes v JOIN topics t ON t.id = v.topic_id
	WHERE v.person_id = p_person
$$;

-- Their leader applications, with the committee's notes and decision:
-- what is written about a person is theirs to read.
CREATE OR REPLACE FUNCTION rc_member_export_leader_applications(
    p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(to_jsonb(a) || jsonb_build_object('notes',
	    coalesce((SELECT jsonb_agg(jsonb_build_object('at', n.created_at,
	        'note', n.body) ORDER BY n.id) FROM application_notes n
	        WHERE n.application_id = a.id), '[]')) ORDER BY a.id), '[]')
	FROM leader_applications a WHERE a.person_id = p_person
$$;

-- On the member page: their certificates (to download), and where the
-- points and topics pages are.
CREATE OR REPLACE FUNCTION rc_member_page_certificates(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(c || jsonb_build_object(
	    'k_' || (c->>'kind'), true, 'valid', c->>'status' = 'valid')
	    ORDER BY c->>'issued_at'), '[]')
	FROM jsonb_array_elements(rc_certificates_export(p_person)) c
$$;
