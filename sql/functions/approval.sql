-- The committee decides (COMMUNITY.md section 3; docs/approval.md):
-- event proposals, sponsorships, leader applications.
--
-- Who may call what is the route table's (server/router.c): submitting is
-- staff in the event's scope, deciding is the committee and admin. What
-- this file knows of the caller is p_approval (server/config.c,
-- config_approval_for): 'direct' for admin and committee, who need
-- nobody's approval, else the deployment's switch ('auto', 'required',
-- 'off').
-- Every decision locks its row first, so of two committee members
-- deciding at once on any number of servers exactly one finds it still
-- open; the other gets 409. Every transition is in audit_log with the
-- actor, the time and the comment.

-- Whether the committee can decide anything: an account of role
-- committee that is not disabled, or a committee token in force.
CREATE OR REPLACE FUNCTION rc_committee_live()
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM accounts WHERE role = 'committee'
	        AND disabled_at IS NULL)
	    OR EXISTS (SELECT 1 FROM tokens WHERE role = 'committee'
	        AND revoked_at IS NULL AND expires_at > now())
$$;

-- Whether this caller's event, or sponsorship, waits for the committee.
CREATE OR REPLACE FUNCTION rc_approval_needed(p_approval text)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT CASE coalesce(p_approval, 'auto')
	    WHEN 'direct' THEN false
	    WHEN 'off' THEN false
	    WHEN 'required' THEN true
	    ELSE rc_committee_live() END
$$;

-- Who an actor is, for the committee's lists: an account's or a token's
-- name (the audit log keeps the actor itself).
CREATE OR REPLACE FUNCTION rc_actor_name(p_actor text)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT coalesce(
	    (SELECT name FROM accounts WHERE 'acct:' || id = p_actor),
	    (SELECT name FROM tokens WHERE jti = p_actor), p_actor)
$$;

-- An event's latest proposal for staff: the committee's comment stays
-- with the event after a rejection sent it back to draft.
CREATE OR REPLACE FUNCTION rc_event_proposal_json(p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', x.id,
	    'state', coalesce(x.decision, 'open'),
	    'submitted_at', x.submitted_at,
	    'submitted_by', rc_actor_name(x.submitted_by),
	    'decision', x.decision, 'comment', x.comment,
	    'decided_at', x.decided_at,
	    'decided_by', rc_actor_name(x.decided_by))
	FROM (SELECT * FROM event_proposals WHERE event_id = p_event
	    ORDER BY id DESC LIMIT 1) x
$$;

-- Submit a draft to the committee: only a draft, and only one that has
-- what publishing needs (rc_event_check does, for a proposed event).
CREATE OR REPLACE FUNCTION rc_event_propose(p_id bigint, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	pid bigint;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such event.');
	END IF;
	IF e.status <> 'draft' THEN
		PERFORM rc_fail(409, 'invalid_transition', 'status: only a draft ' ||
		    'can be proposed; this event is ' || e.status || '.');
	END IF;
	e.status := 'proposed';
	PERFORM rc_event_ready(e);
	UPDATE events SET status = 'proposed', updated_at = now()
	WHERE id = p_id RETURNING * INTO e;
	PERFORM rc_event_check(e);
	INSERT INTO event_proposals (event_id, submitted_by)
	VALUES (p_id, p_actor) RETURNING id INTO pid;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'event.proposed', p_id,
	    jsonb_build_object('proposal', pid));
	RETURN rc_event_json(e, true);
END $$;

-- The committee's decision on a proposed event: approve (-> approved) or
-- reject (-> draft, with the comment, which is then required).
CREATE OR REPLACE FUNCTION rc_event_decide(p_id bigint, p_decision text,
    p_comment text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	pid bigint;
	c text := nullif(btrim(p_comment), '');
BEGIN
	IF p_decision NOT IN ('approve', 'reject') THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'decision: approve or reject.');
	END IF;
	IF p_decision = 'reject' AND c IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field', 'comment: say why, for ' ||
		    'the leader who plans the event again.');
	END IF;
	SELECT * INTO e FROM events WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such event.');
	END IF;
	IF e.status <> 'proposed' THEN
		PERFORM rc_fail(409, 'not_proposed', 'This event is ' || e.status ||
		    ', not waiting for a decision (it may just have been decided).');
	END IF;
	UPDATE event_proposals SET decision = CASE p_decision
	        WHEN 'approve' THEN 'approved' ELSE 'rejected' END,
	    comment = c, decided_by = p_actor, decided_at = now()
	WHERE event_id = p_id AND decision IS NULL RETURNING id INTO pid;
	UPDATE events SET status = CASE p_decision WHEN 'approve'
	        THEN 'approved' ELSE 'draft' END, updated_at = now()
	WHERE id = p_id RETURNING * INTO e;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, CASE p_decision WHEN 'approve' THEN 'event.approved'
	        ELSE 'event.rejected' END, p_id,
	    jsonb_build_object('proposal', pid, 'comment', c));
	RETURN rc_event_json(e, true);
END $$;

-- Whether a sponsor is on the event for the public: its sponsorship was
-- approved (a sponsors row without one predates sponsorships and was
-- migrated as approved: sql/023).
CREATE OR REPLACE FUNCTION rc_sponsor_approved(s sponsors)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT s.sponsorship_id IS NULL OR EXISTS (SELECT 1 FROM sponsorships p
	    WHERE p.id = s.sponsorship_id AND p.status = 'approved')
$$;

-- An event's approved sponsors: its page, its consent text, its booths.
CREATE OR REPLACE FUNCTION rc_event_sponsors(p_event bigint)
RETURNS SETOF sponsors LANGUAGE sql STABLE AS $$
	SELECT s.* FROM sponsors s
	WHERE s.event_id = p_event AND rc_sponsor_approved(s)
	ORDER BY s.id
$$;

-- Refuse a booth device (a sponsor token, a set-up QR) to a sponsor whose
-- sponsorship is not approved.
CREATE OR REPLACE FUNCTION rc_sponsor_must_be_approved(p_sponsor bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	st text;
BEGIN
	SELECT coalesce(p.status, 'approved') INTO st
	FROM sponsors s LEFT JOIN sponsorships p ON p.id = s.sponsorship_id
	WHERE s.id = p_sponsor;
	IF FOUND AND st <> 'approved' THEN
		PERFORM rc_fail(409, 'sponsorship_not_approved', 'sponsor: this ' ||
		    'sponsorship is ' || st || '; a booth device waits for the ' ||
		    'committee''s approval.');
	END IF;
END $$;

-- A sponsorship for the committee and staff: its terms, its decision,
-- the events it covers with each one's sponsors row.
CREATE OR REPLACE FUNCTION rc_sponsorship_json(p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', p.id, 'name', p.name,
	    'benefits', p.benefits, 'status', p.status, 'comment', p.comment,
	    'proposed_at', p.proposed_at,
	    'proposed_by', rc_actor_name(p.proposed_by),
	    'decided_at', p.decided_at,
	    'decided_by', rc_actor_name(p.decided_by),
	    'events', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'event_id', e.id, 'title', e.title, 'sponsor_id', s.id,
	        'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD HH24:MI')) ORDER BY e.starts_at, e.id), '[]')
	        FROM sponsors s JOIN events e ON e.id = s.event_id
	        WHERE s.sponsorship_id = p.id))
	FROM sponsorships p WHERE p.id = p_id
$$;

-- An event's sponsorships for its staff, whatever their state.
CREATE OR REPLACE FUNCTION rc_event_sponsorships(p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('sponsor_id', s.id,
	    'name', s.name, 'sponsorship_id', s.sponsorship_id,
	    'status', coalesce(p.status, 'approved'),
	    'benefits', coalesce(p.benefits, ''), 'comment', p.comment)
	    ORDER BY s.id), '[]')
	FROM sponsors s LEFT JOIN sponsorships p ON p.id = s.sponsorship_id
	WHERE s.event_id = p_event
$$;

-- A sponsorship of one event or several ({name, benefits?, events}),
-- proposed; approved at once when the caller needs no approval. Each
-- event gets its sponsors row. Audited on every event it covers.
CREATE OR REPLACE FUNCTION rc_sponsorship_create(p jsonb, p_approval text,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	ids bigint[] := ARRAY(SELECT DISTINCT x::bigint FROM
	    jsonb_array_elements_text(p->'events') x ORDER BY 1);
	missing bigint;
	closed events;
	sid bigint;
	st text := CASE WHEN rc_approval_needed(p_approval) THEN 'proposed'
	    ELSE 'approved' END;
BEGIN
	IF cardinality(ids) = 0 THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'events: at least one event.');
	END IF;
	SELECT x INTO missing FROM unnest(ids) x
	WHERE NOT EXISTS (SELECT 1 FROM events WHERE id = x) LIMIT 1;
	IF FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'events: no event ' || missing ||
		    '.');
	END IF;
	SELECT * INTO closed FROM events WHERE id = ANY (ids)
	    AND status IN ('cancelled', 'finished') LIMIT 1;
	IF FOUND THEN
		PERFORM rc_fail(409, 'event_closed', 'events: event ' || closed.id ||
		    ' is ' || closed.status || '.');
	END IF;
	INSERT INTO sponsorships (name, benefits, status, proposed_by,
	    decided_by, decided_at)
	VALUES (p->>'name', coalesce(p->>'benefits', ''), st, p_actor,
	    CASE WHEN st = 'approved' THEN p_actor END,
	    CASE WHEN st = 'approved' THEN now() END)
	RETURNING id INTO sid;
	INSERT INTO sponsors (event_id, name, sponsorship_id)
	SELECT x, p->>'name', sid FROM unnest(ids) x;
	INSERT INTO audit_log (actor, action, event_id, detail)
	SELECT p_actor, 'sponsorship.' || st, x, jsonb_build_object(
	    'sponsorship', sid, 'name', p->>'name')
	FROM unnest(ids) x;
	RETURN rc_sponsorship_json(sid);
END $$;

-- The committee's decision on a proposed sponsorship. A rejection needs
-- a comment; a rejected sponsorship stays on its events' staff pages,
-- never on a public one (propose a new one to try again).
CREATE OR REPLACE FUNCTION rc_sponsorship_decide(p_id bigint,
    p_decision text, p_comment text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	sp sponsorships;
	c text := nullif(btrim(p_comment), '');
BEGIN
	IF p_decision NOT IN ('approve', 'reject') THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'decision: approve or reject.');
	END IF;
	IF p_decision = 'reject' AND c IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'comment: say why, for the staff who proposed it.');
	END IF;
	SELECT * INTO sp FROM sponsorships WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such sponsorship.');
	END IF;
	IF sp.status <> 'proposed' THEN
		PERFORM rc_fail(409, 'not_proposed', 'This sponsorship is ' ||
		    sp.status || ', not waiting for a decision.');
	END IF;
	UPDATE sponsorships SET status = CASE p_decision WHEN 'approve'
	        THEN 'approved' ELSE 'rejected' END,
	    comment = c, decided_by = p_actor, decided_at = now()
	WHERE id = p_id RETURNING * INTO sp;
	INSERT INTO audit_log (actor, action, event_id, detail)
	SELECT p_actor, 'sponsorship.' || sp.status, s.event_id,
	    jsonb_build_object('sponsorship', sp.id, 'sponsor', s.id,
	        'comment', c)
	FROM sponsors s WHERE s.sponsorship_id = sp.id;
	-- The events' pages change (rc_public_notify_parts only sees sponsors).
	PERFORM pg_notify('rc_public', s.event_id::text)
	FROM sponsors s WHERE s.sponsorship_id = sp.id;
	RETURN rc_sponsorship_json(sp.id);
END $$;

-- The committee's queue: events and sponsorships awaiting a decision,
-- oldest first, and how many leader applications wait.
CREATE OR REPLACE FUNCTION rc_proposals(p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'events', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'id', e.id, 'title', e.title, 'kind', e.kind,
	        'chapter', e.chapter, 'venue', e.venue,
	        'online', e.online_url IS NOT NULL,
	        'capacity', e.capacity, 'timezone', e.timezone,
	        'starts_at', e.starts_at,
	        'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD HH24:MI'),
	        'ends_at_local', to_char(e.ends_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD HH24:MI'),
	        'proposal', rc_event_proposal_json(e.id))
	        ORDER BY x.submitted_at, e.id), '[]')
	        FROM (SELECT * FROM event_proposals WHERE decision IS NULL
	            ORDER BY submitted_at, id LIMIT p_limit) x
	        JOIN events e ON e.id = x.event_id AND e.status = 'proposed'),
	    'sponsorships', (SELECT coalesce(jsonb_agg(rc_sponsorship_json(p.id)
	        ORDER BY p.proposed_at, p.id), '[]')
	        FROM (SELECT * FROM sponsorships WHERE status = 'proposed'
	            ORDER BY proposed_at, id LIMIT p_limit) p),
	    'applications', (SELECT count(*) FROM leader_applications
	        WHERE status = 'submitted'))
$$;

-- Leader applications -------------------------------------------------

-- One application as the committee reads it.
CREATE OR REPLACE FUNCTION rc_application_json(a leader_applications,
    p_notes boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'name', a.name,
	    'email', a.email, 'phone', a.phone, 'wechat', a.wechat,
	    'occupation', a.occupation, 'company', a.company,
	    'job_title', a.job_title, 'background', a.background,
	    'experience', a.experience, 'motivation', a.motivation,
	    'lang', a.lang,
	    'chapter', (SELECT jsonb_build_object('id', c.id, 'slug', c.slug,
	        'name', c.name, 'name_zh', c.name_zh, 'kind', c.kind,
	        'status', c.status) FROM chapters c WHERE c.id = a.chapter_id),
	    'new_chapter', CASE WHEN a.new_name IS NOT NULL THEN
	        jsonb_build_object('kind', a.new_kind, 'name', a.new_name) END,
	    'status', a.status, 'role', a.role, 'comment', a.comment,
	    'decided_at', a.decided_at,
	    'decided_by', rc_actor_name(a.decided_by),
	    'created_at', a.created_at,
	    'created_local', to_char(a.created_at AT TIME ZONE 'Asia/Shanghai',
	        'YYYY-MM-DD HH24:MI'),
	    'notes_count', (SELECT count(*) FROM application_notes n
	        WHERE n.application_id = a.id))
	    || CASE WHEN p_notes THEN jsonb_build_object('notes',
	        (SELECT coalesce(jsonb_agg(jsonb_build_object('id', n.id,
	            'body', n.body, 'author', rc_actor_name(n.author),
	            'created_at', n.created_at,
	            'created_local', to_char(n.created_at AT TIME ZONE
	                'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'))
	            ORDER BY n.id), '[]')
	        FROM application_notes n WHERE n.application_id = a.id))
	    ELSE '{}'::jsonb END
$$;

-- The chapters one may apply to lead, for the form: every one not
-- retired, trial ones too.
CREATE OR REPLACE FUNCTION rc_apply_chapters()
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('chapters', coalesce(jsonb_agg(
	    jsonb_build_object('slug', c.slug, 'name', c.name,
	        'name_zh', nullif(c.name_zh, ''), 'kind', c.kind,
	        'trial', c.status = 'trial') ORDER BY c.kind, c.name), '[]'))
	FROM chapters c WHERE c.status <> 'retired'
$$;

-- An application from the public form or API (fields checked by
-- server/approval.c): for an existing chapter by slug, or a proposed new
-- city or topic. One open application per e-mail address at a time.
CREATE OR REPLACE FUNCTION rc_application_submit(p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	cid bigint;
	pid bigint;
	a leader_applications;
BEGIN
	IF (p ? 'chapter') = (p ? 'new_chapter') THEN
		PERFORM rc_fail(400, 'invalid_field', 'chapter: name the chapter ' ||
		    'you apply for (its slug), or propose a new_chapter, not both.');
	END IF;
	IF p ? 'chapter' THEN
		SELECT id INTO cid FROM chapters WHERE slug = p->>'chapter'
		    AND status <> 'retired';
		IF NOT FOUND THEN
			PERFORM rc_fail(400, 'invalid_field', 'chapter: no open ' ||
			    'chapter has the slug "' || left(p->>'chapter', 64) ||
			    '"; propose a new_chapter instead.');
		END IF;
	END IF;
	IF EXISTS (SELECT 1 FROM leader_applications
	    WHERE lower(email) = lower(p->>'email') AND status = 'submitted') THEN
		PERFORM rc_fail(409, 'already_applied', 'email: an application ' ||
		    'from this address is already waiting for the committee.');
	END IF;
	pid := rc_person_upsert(p->>'email', p->>'name');
	INSERT INTO leader_applications (person_id, name, email, phone, wechat,
	    occupation, company, job_title, background, experience, motivation,
	    chapter_id, new_kind, new_name, lang)
	VALUES (pid, p->>'name', p->>'email', nullif(p->>'phone', ''),
	    nullif(p->>'wechat', ''), nullif(p->>'occupation', ''),
	    nullif(p->>'company', ''), nullif(p->>'job_title', ''),
	    p->>'background', p->>'experience', p->>'motivation', cid,
	    p->'new_chapter'->>'kind', p->'new_chapter'->>'name',
	    coalesce(p->>'lang', 'en'))
	RETURNING * INTO a;
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('anonymous', 'application.submit',
	    jsonb_build_object('application', a.id));
	RETURN jsonb_build_object('id', a.id, 'status', a.status,
	    'created_at', a.created_at);
END $$;

-- The committee's list: one status ('' for all), newest first.
CREATE OR REPLACE FUNCTION rc_applications(p_status text, p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('applications', coalesce(jsonb_agg(
	    rc_application_json(a, false) ORDER BY a.id DESC), '[]'))
	FROM (SELECT * FROM leader_applications
	    WHERE coalesce(p_status, '') = '' OR status = p_status
	    ORDER BY id DESC LIMIT p_limit) a
$$;

-- One application with its interview notes, or NULL.
CREATE OR REPLACE FUNCTION rc_application_get(p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_application_json(a, true) FROM leader_applications a
	WHERE a.id = p_id
$$;

-- An interview note by a committee member, audited (without its text).
CREATE OR REPLACE FUNCTION rc_application_note(p_id bigint, p_body text,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	nid bigint;
BEGIN
	PERFORM 1 FROM leader_applications WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such application.');
	END IF;
	INSERT INTO application_notes (application_id, author, body)
	VALUES (p_id, p_actor, p_body) RETURNING id INTO nid;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'application.note', jsonb_build_object(
	    'application', p_id, 'note', nid));
	RETURN rc_application_get(p_id);
END $$;

-- The committee's decision on an application ({decision, comment?,
-- role?, slug?}). Approval makes the applicant a leader: the chapter
-- (a new trial chapter when they proposed one, its slug p->>'slug' or
-- made from its name), the chapter_leaders row (lead when the chapter
-- has none, else co_lead, unless p->>'role' says), and, when no account
-- has the address, an account of role leader with its invitation mailed
-- (rc_account_invite: p_link the link's SHA-256, p_sealed its sealed
-- secret). A rejection needs a comment.
CREATE OR REPLACE FUNCTION rc_application_decide(p_id bigint, p jsonb,
    p_link bytea, p_link_secs integer, p_sealed bytea, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	a leader_applications;
	d text := p->>'decision';
	cmt text := nullif(btrim(p->>'comment'), '');
	new_slug text;
	cid bigint;
	r text;
	invited boolean := false;
BEGIN
	IF d IS NULL OR d NOT IN ('approve', 'reject') THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'decision: approve or reject.');
	END IF;
	IF d = 'reject' AND cmt IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'comment: say why, for the applicant''s answer.');
	END IF;
	SELECT * INTO a FROM leader_applications WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such application.');
	END IF;
	IF a.status <> 'submitted' THEN
		PERFORM rc_fail(409, 'already_decided', 'This application was ' ||
		    a.status || ' already.');
	END IF;
	IF d = 'approve' THEN
		cid := a.chapter_id;
		IF cid IS NULL THEN
			new_slug := coalesce(nullif(p->>'slug', ''),
			    rc_chapter_slugify(a.new_name));
			IF new_slug !~ '^[a-z0-9][a-z0-9-]{0,62}$' THEN
				PERFORM rc_fail(400, 'invalid_field', 'slug: lower-case ' ||
				    'letters, digits and -, at most 63.');
			END IF;
			IF EXISTS (SELECT 1 FROM chapters c WHERE c.slug = new_slug) THEN
				PERFORM rc_fail(409, 'chapter_exists', 'slug: a chapter ' ||
				    '"' || new_slug || '" exists already; give another slug.');
			END IF;
			INSERT INTO chapters (slug, name, kind, city, topic, status)
			VALUES (new_slug, a.new_name, a.new_kind,
			    CASE WHEN a.new_kind = 'city' THEN a.new_name END,
			    CASE WHEN a.new_kind = 'topic' THEN a.new_name END, 'trial')
			RETURNING id INTO cid;
		END IF;
		r := coalesce(nullif(p->>'role', ''), CASE WHEN EXISTS (SELECT 1
		    FROM chapter_leaders WHERE chapter_id = cid AND role = 'lead')
		    THEN 'co_lead' ELSE 'lead' END);
		INSERT INTO chapter_leaders (chapter_id, person_id, role, added_by)
		VALUES (cid, a.person_id, r, p_actor) ON CONFLICT DO NOTHING;
		IF NOT EXISTS (SELECT 1 FROM accounts
		    WHERE lower(email) = lower(a.email)) THEN
			PERFORM rc_account_invite(jsonb_build_object('email', a.email,
			    'name', a.name, 'lang', a.lang, 'role', 'leader'), NULL,
			    p_link, p_link_secs, p_actor, p_sealed);
			invited := true;
		END IF;
	END IF;
	UPDATE leader_applications SET status = CASE d WHEN 'approve'
	        THEN 'approved' ELSE 'rejected' END,
	    role = r, comment = cmt, decided_by = p_actor, decided_at = now(),
	    chapter_id = coalesce(cid, chapter_id)
	WHERE id = p_id RETURNING * INTO a;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'application.' || a.status, jsonb_build_object(
	    'application', a.id, 'chapter', cid, 'role', r,
	    'invited', invited, 'comment', cmt));
	RETURN rc_application_json(a, true) || jsonb_build_object(
	    'invited', invited);
END $$;

-- Erasing a person takes their applications and notes with them (the
-- rows cascade when the persons row goes; this is for an erasure that
-- keeps the row).
CREATE OR REPLACE FUNCTION rc_application_erase(p_person bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	DELETE FROM leader_applications WHERE person_id = p_person;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;
