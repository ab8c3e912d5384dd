-- Certificates (COMMUNITY.md section 6): issued when the person is
-- eligible, verified by their public code, revoked at once, and stripped
-- of the holder's name when the person is erased. Tables in
-- sql/027_certificates.sql; server/certificate.c calls these.
--
-- Scope: p_scope is the caller's events (NULL: every event); p_committee
-- whether the caller is committee or admin (decided by the daemon from
-- the roles the router read). An event's certificate is in scope with
-- its event, a series' with every episode, an MVA's for p_committee only.

-- Whether the caller reaches certificate c.
CREATE OR REPLACE FUNCTION rc_certificate_in_scope(c certificates,
    p_scope bigint[], p_committee boolean)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT CASE
	    WHEN c.kind = 'mva' THEN p_committee
	    WHEN p_scope IS NULL THEN true
	    WHEN c.event_id IS NOT NULL THEN c.event_id = ANY (p_scope)
	    ELSE EXISTS (SELECT 1 FROM events e WHERE e.series_id = c.series_id)
	        AND NOT EXISTS (SELECT 1 FROM events e
	            WHERE e.series_id = c.series_id AND NOT e.id = ANY (p_scope))
	END
$$;

-- The names a session's speaker field holds: "Ada, Bob & 张伟" is three
-- (commas, 、, semicolons, slashes, '&' and the word "and" separate them).
CREATE OR REPLACE FUNCTION rc_speaker_names(p_speaker text)
RETURNS SETOF text LANGUAGE sql IMMUTABLE AS $$
	SELECT lower(btrim(n)) FROM regexp_split_to_table(coalesce(p_speaker,
	    ''), '\s*(,|，|、|;|；|/|&|\mand\M)\s*') n
	WHERE btrim(n) <> ''
	UNION
	SELECT lower(btrim(p_speaker)) WHERE btrim(coalesce(p_speaker, '')) <> ''
$$;

-- What a certificate shows, publicly: holder's name (NULL once erased),
-- what it is for, when and by whom it was issued, valid or revoked.
-- Nothing else about the person.
CREATE OR REPLACE FUNCTION rc_certificate_public(c certificates)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('code', c.code, 'kind', c.kind,
	    'status', CASE WHEN c.revoked_at IS NULL THEN 'valid'
	        ELSE 'revoked' END,
	    'holder', c.holder_name, 'issued_at', c.issued_at,
	    'issued_on', to_char(c.issued_at AT TIME ZONE coalesce(e.timezone,
	        s.timezone, ch.timezone, 'Asia/Shanghai'), 'YYYY-MM-DD'),
	    'revoked_at', c.revoked_at,
	    'event', CASE WHEN e.id IS NOT NULL THEN jsonb_build_object(
	        'id', e.id, 'title', e.title,
	        'date', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD')) END,
	    'series', CASE WHEN s.id IS NOT NULL THEN jsonb_build_object(
	        'id', s.id, 'title', s.title,
	        'episodes', (SELECT count(*) FROM events x
	            WHERE x.series_id = s.id AND x.status <> 'cancelled'))
	        END,
	    'year', c.year,
	    'issuer', CASE WHEN ch.id IS NOT NULL THEN jsonb_build_object(
	        'slug', ch.slug, 'name', ch.name, 'name_zh', ch.name_zh) END)
	FROM (SELECT c.event_id AS eid, c.series_id AS sid,
	    c.chapter_id AS cid) k
	LEFT JOIN events e ON e.id = k.eid
	LEFT JOIN series s ON s.id = k.sid
	LEFT JOIN chapters ch ON ch.id = k.cid
$$;

-- A certificate as staff see it: the public part, the e-mail and who
-- issued and revoked it.
CREATE OR REPLACE FUNCTION rc_certificate_staff(c certificates)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_certificate_public(c) || jsonb_build_object('id', c.id,
	    'lang', c.lang,
	    'email', (SELECT p.email FROM persons p WHERE p.id = c.person_id),
	    'issued_by', c.issued_by, 'revoked_by', c.revoked_by,
	    'revoke_reason', c.revoke_reason, 'erased', c.erased_at IS NOT NULL)
$$;

-- Issue a certificate. p_body is the checked request {kind, email, name,
-- event? | series? | year?, lang?}; p_code a fresh random code. The
-- person is found by e-mail or made; the eligibility of the kind is
-- checked here, in the transaction that issues it:
--   volunteer              approved, and attended (recorded or checked in)
--   outstanding_volunteer  flagged outstanding by the leader
--   speaker                the name is a speaker on the event's agenda,
--                          and the event is over (not cancelled)
--   series_completion      joined at least the series' threshold (NULL:
--                          all) of its episodes, by the person's own
--                          registrations (person_id or e-mail)
--   mva                    holds the MVA title of the year
-- 409 not_eligible saying why; 409 already_issued when one is in force.
CREATE OR REPLACE FUNCTION rc_certificate_issue(p_body jsonb, p_code text,
    p_scope bigint[], p_committee boolean, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	k text := p_body->>'kind';
	em text := btrim(p_body->>'email');
	nm text := btrim(p_body->>'name');
	ev bigint := (p_body->>'event')::bigint;
	sr bigint := (p_body->>'series')::bigint;
	yr integer := (p_body->>'year')::integer;
	e events;
	s series;
	v volunteers;
	ch bigint;
	pid bigint;
	lg text;
	n integer;
	need integer;
	c certificates;
BEGIN
	IF k IN ('volunteer', 'outstanding_volunteer', 'speaker') THEN
		IF ev IS NULL OR sr IS NOT NULL OR yr IS NOT NULL THEN
			PERFORM rc_fail(400, 'invalid_field', 'event: a ' || k
			    || ' certificate names its event (and no series '
			    'or year).');
		END IF;
		-- Scope first, as the router checks an event route's.
		IF p_scope IS NOT NULL AND NOT ev = ANY (p_scope) THEN
			PERFORM rc_fail(403, 'out_of_scope', 'Event ' || ev
			    || ' is not in your scope.');
		END IF;
		SELECT * INTO e FROM events WHERE id = ev;
		IF NOT FOUND THEN
			PERFORM rc_fail(404, 'not_found', 'No event ' || ev
			    || '.');
		END IF;
		ch := e.chapter_id;
	ELSIF k = 'series_completion' THEN
		IF sr IS NULL OR ev IS NOT NULL OR yr IS NOT NULL THEN
			PERFORM rc_fail(400, 'invalid_field', 'series: a series '
			    'completion certificate names its series (and no '
			    'event or year).');
		END IF;
		SELECT * INTO s FROM series WHERE id = sr;
		IF NOT FOUND THEN
			PERFORM rc_fail(404, 'not_found', 'No series ' || sr
			    || '.');
		ELSIF p_scope IS NOT NULL AND EXISTS (SELECT 1 FROM events x
		    WHERE x.series_id = sr AND NOT x.id = ANY (p_scope)) THEN
			PERFORM rc_fail(403, 'out_of_scope', 'Series ' || sr
			    || ' is not in your scope.');
		END IF;
		ch := s.chapter_id;
	ELSIF k = 'mva' THEN
		IF yr IS NULL OR ev IS NOT NULL OR sr IS NOT NULL THEN
			PERFORM rc_fail(400, 'invalid_field', 'year: an MVA '
			    'certificate names its year (and no event or '
			    'series).');
		ELSIF NOT p_committee THEN
			PERFORM rc_fail(403, 'forbidden', 'Only the committee '
			    'issues MVA certificates.');
		END IF;
	ELSE
		PERFORM rc_fail(400, 'invalid_field', 'kind: volunteer, '
		    'outstanding_volunteer, speaker, series_completion or mva.');
	END IF;
	pid := rc_person_upsert(em, nm);
	lg := coalesce(p_body->>'lang', (SELECT lang FROM persons
	    WHERE id = pid));

	IF k IN ('volunteer', 'outstanding_volunteer') THEN
		SELECT * INTO v FROM volunteers
		WHERE event_id = ev AND person_id = pid;
		IF NOT FOUND THEN
			PERFORM rc_fail(409, 'not_eligible', em || ' did not '
			    'sign up to volunteer at this event.');
		ELSIF v.status <> 'approved' THEN
			PERFORM rc_fail(409, 'not_eligible', 'This volunteer '
			    'is ' || v.status || ', not approved.');
		ELSIF NOT rc_volunteer_attended_p(v) THEN
			PERFORM rc_fail(409, 'not_eligible', 'This volunteer''s '
			    'attendance is not recorded.');
		ELSIF k = 'outstanding_volunteer'
		    AND v.outstanding_at IS NULL THEN
			PERFORM rc_fail(409, 'not_eligible', 'This volunteer '
			    'was not flagged outstanding.');
		END IF;
	ELSIF k = 'speaker' THEN
		IF e.status = 'cancelled' OR NOT (e.status = 'finished'
		    OR e.ends_at <= now()) THEN
			PERFORM rc_fail(409, 'not_eligible', 'Speaker '
			    'certificates are issued once the event is over.');
		ELSIF NOT EXISTS (SELECT 1 FROM sessions x
		    WHERE x.event_id = ev AND lower(nm) IN (SELECT
		        rc_speaker_names(x.speaker))) THEN
			PERFORM rc_fail(409, 'not_eligible', '"' || nm || '" is '
			    'not a speaker on this event''s agenda.');
		END IF;
	ELSIF k = 'series_completion' THEN
		SELECT count(*) INTO n FROM events x
		WHERE x.series_id = sr AND x.status <> 'cancelled';
		need := coalesce(s.completion_threshold, n);
		SELECT count(DISTINCT r.event_id) INTO n
		FROM registrations r JOIN events x ON x.id = r.event_id
		WHERE x.series_id = sr AND x.status <> 'cancelled'
		  AND r.joined_at IS NOT NULL
		  AND (r.person_id = pid OR lower(r.email) = lower(em));
		IF need = 0 OR n < need THEN
			PERFORM rc_fail(409, 'not_eligible', 'Joined ' || n
			    || ' of the ' || need || ' episodes this series '
			    'needs.');
		END IF;
	ELSIF NOT rc_title_holds(pid, 'mva', yr) THEN
		PERFORM rc_fail(409, 'not_eligible', em || ' does not hold '
		    'the MVA title of ' || yr || '.');
	END IF;

	BEGIN
		INSERT INTO certificates (code, kind, person_id, holder_name,
		    lang, event_id, series_id, year, chapter_id, issued_by)
		VALUES (p_code, k, pid, nm, lg, ev, sr, yr, ch, p_actor)
		RETURNING * INTO c;
	EXCEPTION WHEN unique_violation THEN
		PERFORM rc_fail(409, 'already_issued', 'This person already '
		    'holds this certificate; revoke it first to issue a new '
		    'one.');
	END;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'certificate.issue', ev, jsonb_build_object(
	    'certificate', c.id, 'code', c.code, 'kind', k, 'series', sr,
	    'year', yr, 'person', pid));
	RETURN rc_certificate_staff(c);
END $$;

-- Revoke a certificate (again: unchanged). NULL (404) when unknown.
-- Audited; the reason stays on the row, not in the audit trail.
CREATE OR REPLACE FUNCTION rc_certificate_revoke(p_code text, p_reason text,
    p_scope bigint[], p_committee boolean, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c certificates;
BEGIN
	SELECT * INTO c FROM certificates WHERE code = p_code FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	ELSIF NOT rc_certificate_in_scope(c, p_scope, p_committee) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'This certificate is not '
		    'in your scope.');
	END IF;
	IF c.revoked_at IS NULL THEN
		UPDATE certificates SET revoked_at = now(), revoked_by = p_actor,
		    revoke_reason = nullif(p_reason, '')
		WHERE id = c.id RETURNING * INTO c;
		INSERT INTO audit_log (actor, action, event_id, detail)
		VALUES (p_actor, 'certificate.revoke', c.event_id,
		    jsonb_build_object('certificate', c.id, 'code', c.code,
		    'kind', c.kind));
	END IF;
	RETURN rc_certificate_staff(c);
END $$;

-- The certificates a caller reaches, newest first, by event and kind:
-- the counts of all, the newest p_limit in full.
CREATE OR REPLACE FUNCTION rc_certificate_list(p_event bigint, p_kind text,
    p_scope bigint[], p_committee boolean, p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	WITH x AS (SELECT c, row_number() OVER (ORDER BY c.id DESC) AS n
	    FROM certificates c
	    WHERE (p_event IS NULL OR c.event_id = p_event)
	      AND (p_kind IS NULL OR c.kind = p_kind)
	      AND rc_certificate_in_scope(c, p_scope, p_committee))
	SELECT jsonb_build_object(
	    'counts', jsonb_build_object(
	        'valid', count(*) FILTER (WHERE (x.c).revoked_at IS NULL),
	        'revoked', count(*) FILTER (WHERE (x.c).revoked_at IS NOT NULL)),
	    'certificates', coalesce(jsonb_agg(rc_certificate_staff(x.c)
	        ORDER BY x.n) FILTER (WHERE x.n <= p_limit), '[]'))
	FROM x
$$;

-- The public page's data: NULL (404) for an unknown code.
CREATE OR REPLACE FUNCTION rc_certificate_verify(p_code text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_certificate_public(c) FROM certificates c
	WHERE c.code = p_code
$$;

-- What the PDF prints, for staff who reach it: NULL (404) when unknown or
-- erased (no name left to print). Audited as an export.
CREATE OR REPLACE FUNCTION rc_certificate_pdf(p_code text, p_scope bigint[],
    p_committee boolean, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c certificates;
BEGIN
	SELECT * INTO c FROM certificates WHERE code = p_code;
	IF NOT FOUND OR c.erased_at IS NOT NULL THEN
		RETURN NULL;
	ELSIF NOT rc_certificate_in_scope(c, p_scope, p_committee) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'This certificate is not '
		    'in your scope.');
	END IF;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'export.certificate', c.event_id,
	    jsonb_build_object('certificate', c.id, 'code', c.code));
	RETURN rc_certificate_public(c) || jsonb_build_object('lang', c.lang);
END $$;

-- A member's own certificates (the member link's key); NULL (404) for an
-- unknown key.
CREATE OR REPLACE FUNCTION rc_member_certificates(p_key bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('certificates',
	    coalesce((SELECT jsonb_agg(rc_certificate_public(c)
	        || jsonb_build_object('lang', c.lang)
	        ORDER BY c.id DESC) FROM certificates c
	        WHERE c.person_id = m.pid), '[]'))
	FROM (SELECT rc_member_by_key(p_key) AS pid) m
	WHERE m.pid IS NOT NULL
$$;

-- One of a member's own certificates in force, to download; else NULL.
CREATE OR REPLACE FUNCTION rc_member_certificate(p_key bytea, p_code text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_certificate_public(c) || jsonb_build_object('lang', c.lang)
	FROM certificates c
	WHERE c.code = p_code AND c.revoked_at IS NULL
	  AND c.person_id = rc_member_by_key(p_key)
$$;

-- A person's certificates for their own data export (the members part
-- calls this).
CREATE OR REPLACE FUNCTION rc_certificates_export(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(rc_certificate_public(c)
	    || jsonb_build_object('lang', c.lang) ORDER BY c.id), '[]')
	FROM certificates c WHERE c.person_id = p_person
$$;

-- The console's certificates page: the list, and the caller's events
-- (newest first) to issue for and to reach their volunteers.
CREATE OR REPLACE FUNCTION rc_console_certificates(p_event bigint,
    p_kind text, p_scope bigint[], p_committee boolean, p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_certificate_list(p_event, p_kind, p_scope, p_committee,
	    p_limit) || jsonb_build_object('events', coalesce((SELECT
	    jsonb_agg(jsonb_build_object('id', x.id, 'title', x.title,
	        'date', x.date, 'volunteers', x.nv,
	        'selected', x.id = p_event) ORDER BY x.starts_at DESC, x.id)
	    FROM (SELECT e.id, e.title, e.starts_at,
	        to_char(e.starts_at AT TIME ZONE e.timezone, 'YYYY-MM-DD')
	            AS date,
	        (SELECT count(*) FROM volunteers v WHERE v.event_id = e.id)
	            AS nv
	        FROM events e
	        WHERE e.status <> 'draft'
	          AND (p_scope IS NULL OR e.id = ANY (p_scope))
	        ORDER BY e.starts_at DESC LIMIT p_limit) x), '[]'))
$$;

-- Erasure: before a person's row goes (DELETE FROM persons, the members
-- part's erasure), their certificates are revoked and lose the name and
-- the revocation's free text; kind, dates and issuer stay, so counts do.
-- The foreign key then sets person_id NULL; volunteers rows cascade.
CREATE OR REPLACE FUNCTION rc_certificates_erase()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE certificates SET holder_name = NULL, erased_at = now(),
	    revoked_at = coalesce(revoked_at, now()),
	    revoked_by = coalesce(revoked_by, 'erasure'), revoke_reason = NULL
	WHERE person_id = OLD.id;
	RETURN OLD;
END $$;

CREATE OR REPLACE TRIGGER persons_erase_certificates BEFORE DELETE
    ON persons FOR EACH ROW EXECUTE FUNCTION rc_certificates_erase();
