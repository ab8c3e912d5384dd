-- Members (COMMUNITY.md section 1): joining by an e-mailed link, the
-- member's own link, their page, export and erasure, and the mail that
-- goes to them. The design is in docs/members.md.
--
-- A member is found by the SHA-256 of their link secret
-- (rc_member_by_key, person.sql); the secret itself never reaches the
-- database. The answers to "join" and "send me my link" are the same
-- whatever the address, and every such request writes an audit row (no
-- address in it), so neither the answer nor the time it takes tells
-- whether an address belongs to a member (as rc_resend does).

-- The chapters one may join, for the join form and the member page.
CREATE OR REPLACE FUNCTION rc_member_chapters_open()
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('id', c.id,
	    'slug', c.slug, 'name', c.name, 'name_zh', c.name_zh, 'kind', c.kind,
	    'city', c.city, 'topic', c.topic, 'status', c.status)
	    ORDER BY c.kind, c.name, c.id), '[]')
	FROM chapters c WHERE c.status <> 'retired'
$$;

-- p with the chapters a form named by id ("chapter_ids", the form's
-- checkboxes) added to "chapters" (slugs, the API's); an unknown id
-- becomes "#ID", which names no chapter.
CREATE OR REPLACE FUNCTION rc_member_chapter_slugs(p jsonb)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN NOT p ? 'chapter_ids' THEN p
	    ELSE (p - 'chapter_ids') || jsonb_build_object('chapters',
	        coalesce(p->'chapters', '[]') || coalesce((SELECT jsonb_agg(
	            coalesce(c.slug, '#' || x.v) ORDER BY x.n)
	            FROM jsonb_array_elements_text(p->'chapter_ids')
	                WITH ORDINALITY AS x(v, n)
	            LEFT JOIN chapters c ON c.id::text = x.v), '[]')) END
$$;

-- The first slug of p_slugs (a JSON array) that names no open chapter,
-- or NULL.
CREATE OR REPLACE FUNCTION rc_member_bad_chapter(p_slugs jsonb)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT s FROM jsonb_array_elements_text(coalesce(p_slugs, '[]')) s
	WHERE NOT EXISTS (SELECT 1 FROM chapters c WHERE c.slug = s
	    AND c.status <> 'retired')
	LIMIT 1
$$;

-- Someone asks to join: p holds the checked fields {email, name,
-- identity, company?, job_title?, city?, lang?, chapters?}, p_hash the
-- SHA-256 of the confirmation link's secret, valid p_secs, sealed for
-- the message in p_sealed. The request and its message are written
-- alike for a new address and for a member's (their confirming gives
-- them a fresh link); only an address asking more than five times an
-- hour gets no more messages, whoever it is.
CREATE OR REPLACE FUNCTION rc_member_join(p jsonb, p_hash bytea,
    p_secs integer, p_sealed bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	bad text;
BEGIN
	p := rc_member_chapter_slugs(p);
	bad := rc_member_bad_chapter(p->'chapters');
	IF bad IS NOT NULL THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'chapters: no open chapter "' || left(bad, 80) || '".');
	END IF;
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('anonymous', 'member.join_asked', '{}');
	-- What nobody confirmed in time goes (its message with it).
	DELETE FROM join_requests WHERE expires_at < now();
	IF (SELECT count(*) FROM join_requests
	    WHERE lower(email) = lower(p->>'email')
	      AND created_at > now() - interval '1 hour') >= 5 THEN
		RETURN jsonb_build_object('result', 'sent');
	END IF;
	INSERT INTO join_requests (hash, email, profile, lang, expires_at)
	VALUES (p_hash, p->>'email', p - 'email' - 'lang',
	    CASE WHEN p->>'lang' = 'zh-CN' THEN 'zh-CN' ELSE 'en' END,
	    now() + make_interval(secs => p_secs));
	INSERT INTO outbox (kind, join_request, secret_sealed)
	VALUES ('member_confirm', p_hash, p_sealed);
	RETURN jsonb_build_object('result', 'sent');
END $$;

-- What the confirmation page shows of a request still valid, or NULL.
CREATE OR REPLACE FUNCTION rc_member_join_get(p_hash bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('email', q.email,
	    'name', q.profile->>'name', 'expires_at', q.expires_at,
	    'member', EXISTS (SELECT 1 FROM persons p JOIN members m
	        ON m.person_id = p.id WHERE lower(p.email) = lower(q.email)),
	    'chapters', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'slug', c.slug, 'name', c.name, 'name_zh', c.name_zh)
	        ORDER BY c.name) FROM chapters c WHERE c.slug IN (
	        SELECT jsonb_array_elements_text(coalesce(
	            q.profile->'chapters', '[]')))), '[]'))
	FROM join_requests q
	WHERE q.hash = p_hash AND q.expires_at > now()
$$;

-- The link is used: the request becomes a person (a new one, or the
-- one with that address) and a member with a fresh link (p_key: its
-- SHA-256; p_sealed: it sealed for the welcome message), joined to the
-- chosen chapters; the address's registrations link to them, and every
-- other request of that address is spent. A member confirming again
-- keeps their profile (they edit it on their page) and gets a new link;
-- the old one stops working. Of two uses of one link exactly one finds
-- it.
CREATE OR REPLACE FUNCTION rc_member_confirm(p_hash bytea, p_key bytea,
    p_sealed bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	q join_requests;
	pr jsonb;
	pid bigint;
	was boolean;
BEGIN
	-- Two links of one address confirmed at once take turns here, so
	-- they never wait on each other's person and requests in a circle.
	PERFORM pg_advisory_xact_lock(hashtext('member:' || lower(email)))
	FROM join_requests WHERE hash = p_hash;
	DELETE FROM join_requests WHERE hash = p_hash AND expires_at > now()
	RETURNING * INTO q;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'link_expired',
		    'This link has expired or has already been used.');
	END IF;
	pr := q.profile;
	SELECT id INTO pid FROM persons WHERE lower(email) = lower(q.email)
	FOR UPDATE;
	IF NOT FOUND THEN
		INSERT INTO persons (email, name) VALUES (q.email, '')
		ON CONFLICT ((lower(email))) DO NOTHING
		RETURNING id INTO pid;
		IF pid IS NULL THEN
			-- Made meanwhile by another transaction.
			SELECT id INTO pid FROM persons
			WHERE lower(email) = lower(q.email) FOR UPDATE;
		END IF;
	END IF;
	was := EXISTS (SELECT 1 FROM members WHERE person_id = pid);
	IF NOT was THEN
		UPDATE persons SET
		    name = coalesce(nullif(pr->>'name', ''), name),
		    company = coalesce(nullif(pr->>'company', ''), company),
		    job_title = coalesce(nullif(pr->>'job_title', ''),
		        job_title),
		    city = coalesce(nullif(pr->>'city', ''), city),
		    identity = coalesce(pr->>'identity', identity),
		    lang = q.lang
		WHERE id = pid;
	END IF;
	INSERT INTO members (person_id, key_hash) VALUES (pid, p_key)
	ON CONFLICT (person_id) DO UPDATE SET key_hash = excluded.key_hash;
	INSERT INTO chapter_members (chapter_id, person_id)
	SELECT c.id, pid FROM chapters c
	WHERE c.status <> 'retired' AND c.slug IN (SELECT
	    jsonb_array_elements_text(coalesce(pr->'chapters', '[]')))
	ON CONFLICT DO NOTHING;
	DELETE FROM join_requests WHERE lower(email) = lower(q.email);
	UPDATE registrations SET person_id = pid
	WHERE lower(email) = lower(q.email) AND person_id IS DISTINCT FROM pid;
	-- An earlier member link still queued would carry a dead link.
	UPDATE outbox SET state = 'skipped', secret_sealed = NULL,
	    last_error = 'a newer member link', finished_at = now()
	WHERE person_id = pid AND kind = 'member_link' AND state = 'queued'
	  AND (claimed_until IS NULL OR claimed_until < now());
	INSERT INTO outbox (kind, person_id, secret_sealed)
	VALUES ('member_link', pid, p_sealed);
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('member:' || pid, CASE WHEN was THEN 'member.rejoin'
	    ELSE 'member.join' END, jsonb_build_object('person', pid,
	    'chapters', coalesce(pr->'chapters', '[]')));
	RETURN jsonb_build_object('person_id', pid, 'new', NOT was);
END $$;

-- "Send me my member link": a member's link is replaced (the old one
-- stops working) and mailed, at most once in 10 minutes; for any other
-- address nothing happens. The same answer and the same write either
-- way.
CREATE OR REPLACE FUNCTION rc_member_link(p_email text, p_key bytea,
    p_sealed bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint;
BEGIN
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('anonymous', 'member.link_asked', '{}');
	DELETE FROM join_requests WHERE expires_at < now();
	SELECT m.person_id INTO pid FROM persons p
	JOIN members m ON m.person_id = p.id
	WHERE lower(p.email) = lower(p_email)
	FOR UPDATE OF m;
	IF NOT FOUND OR EXISTS (SELECT 1 FROM outbox WHERE person_id = pid
	    AND kind = 'member_link'
	    AND created_at > now() - interval '10 minutes') THEN
		RETURN jsonb_build_object('result', 'sent');
	END IF;
	UPDATE members SET key_hash = p_key WHERE person_id = pid;
	UPDATE outbox SET secret_sealed = p_sealed
	WHERE person_id = pid AND state = 'queued'
	  AND secret_sealed IS NOT NULL;
	INSERT INTO outbox (kind, person_id, secret_sealed)
	VALUES ('member_link', pid, p_sealed);
	RETURN jsonb_build_object('result', 'sent');
END $$;

-- rc_outbox_claim's part for a member's message: the recipient's
-- address, name and language (a join request's, or the member's); the
-- message is skipped once the request was used or the person is no
-- longer a member.
CREATE OR REPLACE FUNCTION rc_outbox_claim_member(o outbox, p_lease integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	who jsonb;
	lang text;
BEGIN
	IF o.kind = 'member_confirm' THEN
		SELECT jsonb_build_object('email', q.email,
		    'name', coalesce(q.profile->>'name', '')), q.lang
		INTO who, lang
		FROM join_requests q
		WHERE q.hash = o.join_request AND q.expires_at > now();
	ELSE
		SELECT jsonb_build_object('email', p.email, 'name', p.name),
		    p.lang INTO who, lang
		FROM persons p JOIN members m ON m.person_id = p.id
		WHERE p.id = o.person_id;
	END IF;
	IF who IS NULL THEN
		UPDATE outbox SET state = 'skipped', secret_sealed = NULL,
		    last_error = 'no longer valid', finished_at = now()
		WHERE id = o.id;
		RETURN '[]';
	END IF;
	UPDATE outbox SET claimed_until = now() + make_interval(secs => p_lease)
	WHERE id = o.id;
	RETURN jsonb_build_array(jsonb_build_object('id', o.id,
	    'kind', o.kind, 'attempts', o.attempts,
	    'created_at', extract(epoch FROM o.created_at)::bigint,
	    'sealed', encode(o.secret_sealed, 'hex'), 'detail', o.detail,
	    'lang', lang, 'member', who));
END $$;

-- What a member's registration shows on their page: the event, the
-- state, and the manage secret sealed (the daemon opens it into the
-- manage link; NULL when the registration was made before it was
-- theirs, or re-keyed by a path that does not keep it).
CREATE OR REPLACE FUNCTION rc_member_registration_json(r registrations,
    e events)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'status', r.status,
	    'created_at', r.created_at, 'checked_in_at', r.checked_in_at,
	    'joined_at', r.joined_at, 'cancelled_at', r.cancelled_at,
	    'erased', r.erased_at IS NOT NULL,
	    'ahead', e.ends_at > now(),
	    'manage_sealed', encode(r.manage_sealed, 'hex'),
	    'event', jsonb_build_object('id', e.id, 'title', e.title,
	        'kind', e.kind, 'chapter', e.chapter, 'status', e.status,
	        'members_only', e.members_only,
	        'starts_at', e.starts_at, 'ends_at', e.ends_at,
	        'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD"T"HH24:MI:SS'),
	        'ends_at_local', to_char(e.ends_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD"T"HH24:MI:SS'),
	        'timezone', e.timezone, 'venue', e.venue))
$$;

-- The sections other parts add to a member's page or export: every
-- function rc_member_PREFIX_NAME(bigint) RETURNS jsonb in this schema,
-- called with the person's id, gives the section NAME. A part adds one
-- by defining its function in its own file; nothing here changes.
CREATE OR REPLACE FUNCTION rc_member_sections(p_prefix text, p_person bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	f text;
	v jsonb;
	out jsonb := '{}';
	pre text := 'rc_member_' || p_prefix || '_';
BEGIN
	FOR f IN SELECT p.proname FROM pg_proc p
	    JOIN pg_namespace n ON n.oid = p.pronamespace
	    WHERE n.nspname = current_schema()
	      AND left(p.proname, length(pre)) = pre
	      AND p.pronargs = 1 AND p.proargtypes[0] = 'bigint'::regtype
	      AND p.prorettype = 'jsonb'::regtype
	    ORDER BY p.proname LOOP
		EXECUTE format('SELECT %I($1)', f) INTO v USING p_person;
		out := out || jsonb_build_object(substr(f, length(pre) + 1), v);
	END LOOP;
	RETURN out;
END $$;

-- A member's page (and GET /api/v1/member/{secret}): their profile, the
-- chapters (joined or not), their registrations upcoming and past, the
-- members' events still ahead, and what other parts add (sections).
-- NULL for an unknown key.
CREATE OR REPLACE FUNCTION rc_member_get(p_key bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'person', jsonb_build_object('id', p.id, 'email', p.email,
	        'name', p.name, 'company', p.company,
	        'job_title', p.job_title, 'city', p.city, 'lang', p.lang,
	        'identity', p.identity, 'listed', p.listed),
	    'joined_at', m.joined_at,
	    'chapters', (SELECT coalesce(jsonb_agg(o || jsonb_build_object(
	        'member', EXISTS (SELECT 1 FROM chapter_members cm
	            JOIN chapters c ON c.id = cm.chapter_id
	            WHERE cm.person_id = p.id AND c.slug = o->>'slug'))), '[]')
	        FROM jsonb_array_elements(rc_member_chapters_open()) o),
	    'upcoming', (SELECT coalesce(jsonb_agg(rc_member_registration_json(
	        r, e) ORDER BY e.starts_at, r.id), '[]')
	        FROM registrations r JOIN events e ON e.id = r.event_id
	        WHERE r.person_id = p.id AND e.ends_at > now()),
	    'past', (SELECT coalesce(jsonb_agg(rc_member_registration_json(
	        r, e) ORDER BY e.starts_at DESC, r.id DESC), '[]')
	        FROM registrations r JOIN events e ON e.id = r.event_id
	        WHERE r.person_id = p.id AND e.ends_at <= now()),
	    'members_events', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'id', e.id, 'title', e.title, 'kind', e.kind,
	        'chapter', e.chapter,
	        'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD"T"HH24:MI:SS'),
	        'timezone', e.timezone,
	        'registered', EXISTS (SELECT 1 FROM registrations r
	            WHERE r.event_id = e.id AND r.person_id = p.id
	              AND r.status <> 'cancelled'))
	        ORDER BY e.starts_at, e.id), '[]')
	        FROM (SELECT * FROM events WHERE status = 'published'
	            AND members_only AND ends_at > now()
	            ORDER BY starts_at, id LIMIT 50) e),
	    'sections', rc_member_sections('page', p.id))
	FROM members m JOIN persons p ON p.id = m.person_id
	WHERE m.key_hash = p_key
$$;

-- What a member's registration is made from: the person's fields.
CREATE OR REPLACE FUNCTION rc_member_profile(p_key bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', p.id, 'email', p.email,
	    'name', p.name, 'company', p.company, 'job_title', p.job_title,
	    'identity', p.identity, 'lang', p.lang)
	FROM members m JOIN persons p ON p.id = m.person_id
	WHERE m.key_hash = p_key
$$;

-- An event as a member sees it from their link: the public event, who
-- they are (what a registration needs), and their registration for it
-- if they have one. NULL for an unknown key or event.
CREATE OR REPLACE FUNCTION rc_member_event(p_key bytea, p_event bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('event', ev, 'member', rc_member_profile(
	    p_key), 'registration', (SELECT rc_member_registration_json(r, e)
	    FROM registrations r JOIN events e ON e.id = r.event_id
	    WHERE r.event_id = p_event AND r.person_id = m.person_id
	      AND r.status <> 'cancelled'
	    ORDER BY r.id DESC LIMIT 1))
	FROM members m, rc_event_get(p_event, false) ev
	WHERE m.key_hash = p_key AND ev IS NOT NULL
$$;

-- A member edits their profile {name?, company?, job_title?, city?,
-- identity?, lang?, listed?} and the chapters they are in {chapters?:
-- [slug], the whole set}; answers the page's JSON, NULL when unknown.
CREATE OR REPLACE FUNCTION rc_member_update(p_key bytea, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint := rc_member_by_key(p_key);
	bad text;
BEGIN
	IF pid IS NULL THEN
		RETURN NULL;
	END IF;
	p := rc_member_chapter_slugs(p);
	UPDATE persons SET
	    name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
	    company = CASE WHEN p ? 'company' THEN nullif(p->>'company', '')
	        ELSE company END,
	    job_title = CASE WHEN p ? 'job_title'
	        THEN nullif(p->>'job_title', '') ELSE job_title END,
	    city = CASE WHEN p ? 'city' THEN nullif(p->>'city', '')
	        ELSE city END,
	    identity = CASE WHEN p ? 'identity' THEN p->>'identity'
	        ELSE identity END,
	    lang = CASE WHEN p ? 'lang' THEN p->>'lang' ELSE lang END,
	    listed = CASE WHEN p ? 'listed' THEN (p->>'listed')::boolean
	        ELSE listed END
	WHERE id = pid;
	IF p ? 'chapters' THEN
		bad := rc_member_bad_chapter(p->'chapters');
		IF bad IS NOT NULL THEN
			PERFORM rc_fail(400, 'invalid_field',
			    'chapters: no open chapter "' || left(bad, 80) ||
			    '".');
		END IF;
		DELETE FROM chapter_members cm USING chapters c
		WHERE cm.person_id = pid AND c.id = cm.chapter_id
		  AND c.status <> 'retired'
		  AND NOT c.slug IN (SELECT jsonb_array_elements_text(
		      p->'chapters'));
		INSERT INTO chapter_members (chapter_id, person_id)
		SELECT c.id, pid FROM chapters c
		WHERE c.slug IN (SELECT jsonb_array_elements_text(p->'chapters'))
		ON CONFLICT DO NOTHING;
	END IF;
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('member:' || pid, 'member.update', jsonb_build_object(
	    'person', pid, 'fields', (SELECT jsonb_agg(k ORDER BY k)
	        FROM jsonb_object_keys(p) k)));
	RETURN rc_member_get(p_key);
END $$;

-- The export's own sections (rc_member_sections('export', ...)).
CREATE OR REPLACE FUNCTION rc_member_export_chapters(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('slug', c.slug,
	    'name', c.name, 'joined_at', cm.joined_at) ORDER BY c.slug), '[]')
	FROM chapter_members cm JOIN chapters c ON c.id = cm.chapter_id
	WHERE cm.person_id = p_person
$$;

-- Every registration of theirs with what it holds: the fields, consent
-- and its history, door scans, and which sponsors have them as a lead.
CREATE OR REPLACE FUNCTION rc_member_export_registrations(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg((rc_registration_json(r) - 'ticket_claims')
	    || jsonb_build_object('joined_at', r.joined_at,
	    'consent_history', rc_consent_history(r),
	    'checkins', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'verdict', k.verdict, 'gate', k.gate,
	        'scanned_at', k.scanned_at) ORDER BY k.id), '[]')
	        FROM checkins k WHERE k.registration_id = r.id),
	    'leads', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	        'sponsor', s.name, 'captured_at', l.captured_at,
	        'note', l.note, 'rating', l.rating) ORDER BY l.id), '[]')
	        FROM leads l JOIN sponsors s ON s.id = l.sponsor_id
	        WHERE l.registration_id = r.id))
	    ORDER BY r.id), '[]')
	FROM registrations r
	WHERE r.person_id = p_person AND r.erased_at IS NULL
$$;

-- Everything held about a member, as JSON: the person, the membership,
-- and a section per part (rc_member_export_NAME functions); NULL when
-- the key is unknown.
CREATE OR REPLACE FUNCTION rc_member_export(p_key bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('exported_at', now(),
	    'person', to_jsonb(p),
	    'member', jsonb_build_object('joined_at', m.joined_at))
	    || rc_member_sections('export', p.id)
	FROM members m JOIN persons p ON p.id = m.person_id
	WHERE m.key_hash = p_key
$$;

-- A member deletes themselves: each of their registrations erased as
-- its own manage link's erasure does (cancelled, the waitlist
-- promoted, personal data blanked; counts kept), their join requests
-- gone, and the person deleted: other parts' rows follow by ON DELETE
-- CASCADE or SET NULL. NULL when the key is unknown.
CREATE OR REPLACE FUNCTION rc_member_erase(p_key bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pe persons;
	rid bigint;
	n integer := 0;
BEGIN
	SELECT p.* INTO pe FROM members m JOIN persons p ON p.id = m.person_id
	WHERE m.key_hash = p_key FOR UPDATE OF p;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	-- Lock order everywhere: events (here in id order), then
	-- registrations.
	PERFORM 1 FROM events WHERE id IN (SELECT event_id FROM registrations
	    WHERE (person_id = pe.id OR lower(email) = lower(pe.email))
	      AND erased_at IS NULL)
	ORDER BY id FOR UPDATE;
	FOR rid IN SELECT id FROM registrations
	    WHERE (person_id = pe.id OR lower(email) = lower(pe.email))
	      AND erased_at IS NULL ORDER BY id LOOP
		PERFORM rc_erase_one(rid, 'member');
		n := n + 1;
	END LOOP;
	DELETE FROM join_requests WHERE lower(email) = lower(pe.email);
	DELETE FROM persons WHERE id = pe.id;
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('member', 'member.erase', jsonb_build_object('person', pe.id,
	    'registrations', n));
	RETURN jsonb_build_object('erased', true, 'registrations', n);
END $$;

-- A member's registration keeps its manage secret sealed only while that
-- secret is current: a new secret (a resend) brings its own sealed copy
-- (rc_member_resent below), any other re-keying drops the copy.
CREATE OR REPLACE FUNCTION rc_member_rekeyed()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.secret_hash IS DISTINCT FROM OLD.secret_hash
	    AND NEW.manage_sealed IS NOT DISTINCT FROM OLD.manage_sealed THEN
		NEW.manage_sealed := NULL;
	END IF;
	RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER registrations_member_rekeyed
    BEFORE UPDATE OF secret_hash ON registrations FOR EACH ROW
    WHEN (OLD.manage_sealed IS NOT NULL)
    EXECUTE FUNCTION rc_member_rekeyed();

-- A resend (the attendee's or the console's) mails the new secret
-- sealed: a member's registration keeps that copy, and so does one
-- still waiting for its reminder (remind_sealed, 029).
CREATE OR REPLACE FUNCTION rc_member_resent()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE registrations SET manage_sealed = CASE
	        WHEN person_id IS NOT NULL THEN NEW.secret_sealed
	        ELSE manage_sealed END,
	    remind_sealed = CASE WHEN remind_sealed IS NOT NULL
	        THEN NEW.secret_sealed END
	WHERE id = NEW.registration_id AND erased_at IS NULL
	  AND (person_id IS NOT NULL OR remind_sealed IS NOT NULL);
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER outbox_member_resent AFTER INSERT ON outbox
    FOR EACH ROW WHEN (NEW.kind = 'resend' AND NEW.secret_sealed IS NOT NULL)
    EXECUTE FUNCTION rc_member_resent();
