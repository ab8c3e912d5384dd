-- Registrations: exact capacity, the waitlist, consent.
--
-- Capacity lives in one place: events.confirmed, changed only by
-- conditional single-row updates inside the functions below. A registration
-- takes a seat with
--     UPDATE events SET confirmed = confirmed + 1
--     WHERE id = $1 AND (capacity IS NULL OR confirmed < seat_limit)
-- which PostgreSQL serialises on the event's row: of N concurrent callers
-- exactly seat_limit - confirmed succeed (seat_limit is the capacity plus
-- the event's overbooking, 017_noshow.sql), whichever server process they came
-- through. Every transition that frees or takes a seat (cancel, promote,
-- raising capacity) runs under the same row lock, in one transaction.

-- Position in the waitlist (1 = next), or NULL.
CREATE OR REPLACE FUNCTION rc_waitlist_position(r registrations)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*)
	    FROM registrations w WHERE w.event_id = r.event_id
	      AND w.status = 'waitlisted' AND w.id <= r.id) END
$$;

-- What the attendee sees of their own registration: the ticket's claims,
-- and what the pages need of the event (local times, kind).
CREATE OR REPLACE FUNCTION rc_registration_json(r registrations)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'event_id', r.event_id,
	    'status', r.status, 'name', r.name, 'email', r.email,
	    'company', r.company, 'job_title', r.job_title, 'phone', r.phone,
	    'identity', r.identity,
	    'consent', jsonb_build_object('sponsors', r.consent_sponsors,
	        'fields', to_jsonb(r.consent_fields), 'updated_at', r.consent_at),
	    'created_at', r.created_at, 'confirmed_at', r.confirmed_at,
	    'cancelled_at', r.cancelled_at, 'checked_in_at', r.checked_in_at,
	    'reconfirm_asked_at', r.reconfirm_asked_at,
	    'reconfirmed_at', r.reconfirmed_at, 'released_at', r.released_at,
	    'waitlist_position', rc_waitlist_position(r),
	    'ticket_claims', rc_ticket_claims(r),
	    'event', (SELECT jsonb_build_object('id', e.id, 'title', e.title,
	        'kind', e.kind, 'chapter', e.chapter,
	        'starts_at', e.starts_at, 'ends_at', e.ends_at,
	        'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD"T"HH24:MI:SS'),
	        'ends_at_local', to_char(e.ends_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD"T"HH24:MI:SS'),
	        'timezone', e.timezone, 'venue', e.venue, 'status', e.status,
	        'description', e.description, 'sequence', e.ics_sequence,
	        'release_local', CASE WHEN e.reconfirm_hours > 0
	            AND e.release_hours > 0 THEN to_char((e.starts_at -
	            make_interval(hours => e.release_hours)) AT TIME ZONE
	            e.timezone, 'YYYY-MM-DD HH24:MI') END,
	        'tz_offset', rc_tz_offset(e.starts_at, e.timezone),
	        'tz_standard', rc_tz_standard(e.starts_at, e.timezone),
	        'sponsors', (SELECT coalesce(jsonb_agg(s.name ORDER BY s.id),
	            '[]') FROM rc_event_sponsors(e.id) s))
	        FROM events e WHERE e.id = r.event_id))
$$;

-- Promote the oldest waitlisted registrations into free seats. The caller
-- holds the event's row lock. Returns how many moved.
CREATE OR REPLACE FUNCTION rc_promote(p_event bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	free integer;
	moved integer;
BEGIN
	SELECT CASE WHEN capacity IS NULL THEN 2147483647
	    ELSE seat_limit - confirmed END INTO free
	FROM events WHERE id = p_event;
	IF free <= 0 THEN
		RETURN 0;
	END IF;
	WITH next AS (
		SELECT id FROM registrations
		WHERE event_id = p_event AND status = 'waitlisted'
		ORDER BY id LIMIT free FOR UPDATE)
	UPDATE registrations r SET status = 'confirmed', confirmed_at = now(),
	    promoted_at = now()
	FROM next WHERE r.id = next.id;
	GET DIAGNOSTICS moved = ROW_COUNT;
	IF moved > 0 THEN
		UPDATE events SET confirmed = confirmed + moved WHERE id = p_event;
	END IF;
	RETURN moved;
END $$;

-- The waitlist's length, on the event's row beside confirmed
-- (events.waitlisted, 028): a new registration's place on the waitlist is
-- that plus its place in its group, read under the row lock, instead of
-- a count of the whole waitlist for every group (30 ms a group at 200,000
-- waiting). rc_register_group adds those it waitlists; every way off the
-- waitlist (promotion, cancellation, erasure, the console) is an UPDATE
-- OF status, and each holds the event's row already (the lock order
-- everywhere: the event row, then registrations).
CREATE OR REPLACE FUNCTION rc_waitlist_count()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE events SET waitlisted = waitlisted +
	    CASE WHEN NEW.status = 'waitlisted' THEN 1 ELSE -1 END
	WHERE id = NEW.event_id;
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER registrations_waitlist_count
    AFTER UPDATE OF status ON registrations FOR EACH ROW
    WHEN ((OLD.status = 'waitlisted') <> (NEW.status = 'waitlisted'))
    EXECUTE FUNCTION rc_waitlist_count();

-- Correct events.waitlisted where it differs from the registrations,
-- each such event recounted under its row lock (a group deciding
-- meanwhile is then counted). `rollcalld migrate` runs it after the
-- functions: it fills the column in (028) and closes the moment of an
-- upgrade when the old bodies ran beside the new column. Where nothing
-- differs (one snapshot shows both) it takes no lock. Returns how many
-- events it corrected.
CREATE OR REPLACE FUNCTION rc_waitlist_recount()
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	ev bigint;
	fixed integer := 0;
	n integer;
BEGIN
	FOR ev IN SELECT e.id FROM events e
	    WHERE e.waitlisted <> (SELECT count(*) FROM registrations r
	        WHERE r.event_id = e.id AND r.status = 'waitlisted')
	    ORDER BY e.id LOOP
		PERFORM 1 FROM events WHERE id = ev FOR UPDATE;
		UPDATE events SET waitlisted = (SELECT count(*)
		    FROM registrations r WHERE r.event_id = ev
		      AND r.status = 'waitlisted')
		WHERE id = ev;
		GET DIAGNOSTICS n = ROW_COUNT;
		fixed := fixed + n;
	END LOOP;
	RETURN fixed;
END $$;

-- Register one, in one statement: a group of one (rc_register_group),
-- its refusal raised. p holds validated fields (and "lang", and "public"
-- from the public form and API: see rc_register_group), p_hash is
-- SHA-256 of the manage secret (the secret itself never reaches the
-- database), p_join that of the NightTalk join secret, p_sealed the
-- manage secret sealed for the mail (NULL without a mail key).
CREATE OR REPLACE FUNCTION rc_register(p_event bigint, p jsonb,
    p_hash bytea, p_join bytea, p_sealed bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	res jsonb;
BEGIN
	SELECT g.body::jsonb INTO res FROM rc_register_group(jsonb_build_array(
	    jsonb_build_object('event', p_event, 'p', p,
	        'hash', encode(p_hash, 'hex'), 'join', encode(p_join, 'hex'),
	        'sealed', encode(p_sealed, 'hex')))) g;
	IF res ? 'error' THEN
		PERFORM rc_fail((res->>'status')::integer, res->>'error',
		    res->>'message');
	END IF;
	RETURN res;
EXCEPTION WHEN unique_violation THEN
	-- A twin of the address committed between our check and insert.
	PERFORM rc_fail(409, 'already_registered',
	    'This e-mail address is already registered for this event.');
	RETURN NULL;
END $$;

-- Registrations that arrived together, decided in one transaction with a
-- handful of statements whatever their number: p_regs is [{event, p,
-- hash, join, sealed}] (p the validated fields and "lang"; the hashes and
-- the sealed secret in hex), one row out per element (ord, 1-based) with
-- the HTTP status and the JSON: the row's id, status, waitlist position,
-- ticket claims and the event's kind, or {"error", "status", "message"}.
--
-- Capacity lives in one place, events.confirmed, and the events' rows are
-- locked (in id order, so two groups from any two servers never wait on
-- each other in a circle) before anything is read: the decision below sees
-- every registration committed before it, and none can commit meanwhile.
-- Each event's registrations are decided in arrival order: the first ones
-- take the free seats, the rest go to the waitlist (or are refused when
-- the event has none). An address is registered once: refused when a live
-- registration has it, and a second copy in the group is refused too. One
-- lock hold and one commit per group, where one at a time would hold the
-- event's row across a commit each.
--
-- A registration whose address is a member's is linked to them
-- (person_id) and keeps its manage secret sealed for their page. Only
-- members register for a members-only event: the public form and API
-- mark what they send with p.public, and those are refused there
-- (members_only); a caller on a member's behalf (their own link, a
-- series sign-up, the console) sends no mark.

CREATE OR REPLACE FUNCTION rc_register_group(p_regs jsonb)
RETURNS TABLE (ord integer, status integer, body text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM events
	WHERE id = ANY (ARRAY(SELECT (x->>'event')::bigint
	    FROM jsonb_array_elements(p_regs) x))
	ORDER BY id FOR UPDATE;
	-- A new statement, a new snapshot: it sees what committed before the
	-- locks were ours.
	RETURN QUERY
	WITH item AS (
		SELECT x.n::integer AS ord, (x.v->>'event')::bigint AS event_id,
		    x.v->'p' AS p, lower(x.v->'p'->>'email') AS lemail,
		    decode(x.v->>'hash', 'hex') AS hash,
		    decode(x.v->>'join', 'hex') AS join_hash,
		    decode(nullif(x.v->>'sealed', ''), 'hex') AS sealed,
		    coalesce((x.v->'p'->'consent'->>'sponsors')::boolean, false)
		        AS share,
		    coalesce((x.v->'p'->>'public')::boolean, false) AS public,
		    -- The same address twice in the group: the later ones are
		    -- already registered (a window, not a probe of the group
		    -- for each: that was quadratic in the group's size).
		    row_number() OVER (PARTITION BY (x.v->>'event')::bigint,
		        lower(x.v->'p'->>'email') ORDER BY x.n) AS nth
		FROM jsonb_array_elements(p_regs) WITH ORDINALITY AS x(v, n)),
	checked AS (
		SELECT i.*, e.kind, e.starts_at, e.waitlist, e.capacity,
		    e.seat_limit, e.confirmed, e.waitlisted, mem.person_id,
		    -- The reminder, a day before, comes from the job
		    -- (rc_reminders_queue) unless that day has begun or the
		    -- job has been (read under the lock the job takes too).
		    (i.p->>'email') IS NOT NULL AND e.reminded_at IS NULL
		        AND e.starts_at - interval '1 day' > now() AS remind,
		    CASE WHEN e.id IS NULL
		        OR e.status IN ('draft', 'proposed', 'approved')
		        THEN rc_refusal(404, 'not_found', 'No such event.')
		    -- Members register from their own link; the public form
		    -- and API mark their registrations "public".
		    WHEN e.members_only AND i.public
		        THEN rc_refusal(403, 'members_only',
		            'This event is for members of the community only. '
		            'Join the community, then register from your '
		            'member page.')
		    WHEN e.status = 'cancelled'
		        THEN rc_refusal(409, 'event_cancelled',
		            'This event has been cancelled.')
		    WHEN e.status = 'finished'
		        OR now() >= coalesce(e.registration_closes_at, e.ends_at)
		        THEN rc_refusal(409, 'registration_closed',
		            'Registration for this event has closed.')
		    WHEN e.registration_opens_at IS NOT NULL
		        AND now() < e.registration_opens_at
		        THEN rc_refusal(409, 'registration_closed',
		            'Registration opens at ' || to_char(
		            e.registration_opens_at AT TIME ZONE e.timezone,
		            'YYYY-MM-DD HH24:MI') || ' (' || e.timezone || ').')
		    WHEN dup.found OR i.nth > 1
		        THEN rc_refusal(409, 'already_registered',
		            'This e-mail address is already registered for this '
		            'event.')
		    END AS refusal
		FROM item i LEFT JOIN events e ON e.id = i.event_id
		-- Each a probe of one index (LIMIT 1 keeps the planner from
		-- hashing the whole table when it misjudges the group's size:
		-- a group of one took 25 ms on 40,000 registrations that way),
		-- the address's registrations_email: "+ 0" leaves no index on
		-- event_id to choose. A plan made while the table was nearly
		-- empty (PL/pgSQL keeps it) could take registrations_event and
		-- read the event's every registration for each probe: 45 ms a
		-- group on a new database (docs/performance.md).
		LEFT JOIN LATERAL (SELECT true AS found FROM registrations r
		    WHERE lower(r.email) = i.lemail AND r.event_id + 0 = i.event_id
		      AND r.status <> 'cancelled' LIMIT 1) dup ON true
		-- A member's address links the registration to them.
		LEFT JOIN LATERAL (SELECT m.person_id FROM persons pp
		    JOIN members m ON m.person_id = pp.id
		    WHERE lower(pp.email) = i.lemail LIMIT 1) mem ON true),
	ranked AS (
		SELECT c.*, row_number() OVER (PARTITION BY c.event_id
		    ORDER BY c.ord) AS k
		FROM checked c WHERE c.refusal IS NULL),
	decided AS (
		SELECT d.*, CASE WHEN d.capacity IS NULL
		        OR d.k <= d.seat_limit - d.confirmed THEN 'confirmed'
		    WHEN d.waitlist THEN 'waitlisted' END AS st
		FROM ranked d),
	ins AS (
		INSERT INTO registrations (event_id, status, name, email,
		    company, job_title, phone, identity, consent_sponsors,
		    consent_fields, secret_hash, join_hash, lang, confirmed_at,
		    person_id, manage_sealed, remind, remind_sealed)
		SELECT d.event_id, d.st, d.p->>'name', d.p->>'email',
		    d.p->>'company', d.p->>'job_title', d.p->>'phone',
		    d.p->>'identity', d.share,
		    CASE WHEN d.share THEN ARRAY(SELECT jsonb_array_elements_text(
		        coalesce(d.p->'consent'->'fields', '[]')))
		        ELSE '{}'::text[] END,
		    d.hash, d.join_hash,
		    CASE WHEN d.p->>'lang' = 'zh-CN' THEN 'zh-CN' ELSE 'en' END,
		    CASE WHEN d.st = 'confirmed' THEN now() END,
		    d.person_id, CASE WHEN d.person_id IS NOT NULL THEN d.sealed END,
		    d.remind, CASE WHEN d.remind THEN d.sealed END
		FROM decided d WHERE d.st IS NOT NULL ORDER BY d.ord
		RETURNING registrations AS reg),
	-- Each inserted row beside the item it came from. The INSERT took
	-- the items in order, so the ids follow it: the k-th row by id is
	-- the k-th item by ord, zipped in one pass (a join of the two,
	-- which the planner takes for a row each, was a nested loop:
	-- quadratic in the group's size). Should they ever disagree, the
	-- statement fails rather than hand anyone another's ticket.
	zipped AS MATERIALIZED (
		SELECT z.ord, z.event_id, z.kind, z.sealed, z.waitlisted,
		    a.regs[z.n] AS reg, z.hash
		FROM (SELECT array_agg(i.reg ORDER BY (i.reg).id) AS regs
		    FROM ins i) a,
		    (SELECT array_agg(d.ord ORDER BY d.ord) AS ord,
		        array_agg(d.event_id ORDER BY d.ord) AS event_id,
		        array_agg(d.kind ORDER BY d.ord) AS kind,
		        array_agg(d.sealed ORDER BY d.ord) AS sealed,
		        array_agg(d.hash ORDER BY d.ord) AS hash,
		        array_agg(d.waitlisted ORDER BY d.ord) AS waitlisted
		    FROM decided d WHERE d.st IS NOT NULL) b,
		    unnest(b.ord, b.event_id, b.kind, b.sealed, b.hash,
		        b.waitlisted) WITH ORDINALITY
		        AS z(ord, event_id, kind, sealed, hash, waitlisted, n)),
	-- A waitlisted one's place: after those waiting before the group
	-- (events.waitlisted, read under the row lock), then in order.
	made AS (
		SELECT z.ord, z.kind, z.sealed, z.reg,
		    CASE WHEN (z.reg).status = 'waitlisted' THEN
		        z.waitlisted + row_number() OVER (
		        PARTITION BY z.event_id, (z.reg).status
		        ORDER BY (z.reg).id) END AS position
		FROM zipped z
		WHERE CASE WHEN (z.reg).secret_hash = z.hash THEN true
		    ELSE rc_fail(500, 'internal',
		        'A registration group came back out of order.') IS NULL
		    END),
	seats AS (
		UPDATE events e SET confirmed = e.confirmed + t.c,
		    waitlisted = e.waitlisted + t.w
		FROM (SELECT (m.reg).event_id AS id,
		        count(*) FILTER (WHERE (m.reg).status = 'confirmed') AS c,
		        count(*) FILTER (WHERE (m.reg).status = 'waitlisted') AS w
		    FROM made m GROUP BY 1) t
		WHERE e.id = t.id
		RETURNING e.id),
	mail AS (
		INSERT INTO outbox (kind, registration_id, event_id,
		    secret_sealed, detail, due_at, next_attempt_at)
		SELECT (m.reg).status, (m.reg).id, (m.reg).event_id, m.sealed,
		    '{}', now(), now()
		FROM made m
		WHERE (m.reg).email IS NOT NULL
		ORDER BY m.ord
		RETURNING 1)
	SELECT m.ord, 201, jsonb_build_object('id', (m.reg).id,
	    'event_id', (m.reg).event_id, 'status', (m.reg).status,
	    'waitlist_position', m.position,
	    'ticket_claims', rc_ticket_claims(m.reg), 'kind', m.kind)::text
	FROM made m
	UNION ALL
	SELECT c.ord, (c.refusal->>'status')::integer, c.refusal::text
	FROM checked c WHERE c.refusal IS NOT NULL
	UNION ALL
	SELECT d.ord, 409, rc_refusal(409, 'sold_out',
	    'This event is full.')::text
	FROM decided d WHERE d.st IS NULL
	-- seats and mail run to completion unread, as every data-modifying
	-- WITH does. The consent given here stays on the registration itself
	-- until it first changes (rc_consent_history_start).
	ORDER BY 1;
END $$;

-- An attendee's own registration by secret hash; NULL when unknown. An
-- erased one shows as erased.
CREATE OR REPLACE FUNCTION rc_registration_get(p_hash bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN r.erased_at IS NOT NULL
	    THEN jsonb_build_object('id', r.id, 'event_id', r.event_id,
	        'status', r.status, 'erased', true)
	    ELSE rc_registration_json(r) END
	FROM registrations r WHERE r.secret_hash = p_hash
$$;

-- The consent given at registration is kept on the registration itself
-- (consent_sponsors, consent_fields, consent_at) until it first changes:
-- a history row for each registration would be a fifth of what
-- registering writes (docs/performance.md). Before the first change, and
-- before erasure blanks it, it goes into consent_history as the first
-- row, source "registration", as it was given; readers of the history
-- take a registration without rows as that one choice
-- (rc_consent_history). The registrations are locked first, so two
-- callers never both write the first row.
CREATE OR REPLACE FUNCTION rc_consent_history_start(p_ids bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM registrations WHERE id = ANY (p_ids) ORDER BY id
	FOR UPDATE;
	INSERT INTO consent_history (registration_id, at, sponsors, fields,
	    source)
	SELECT r.id, r.consent_at, r.consent_sponsors, r.consent_fields,
	    'registration'
	FROM registrations r
	WHERE r.id = ANY (p_ids) AND r.erased_at IS NULL
	  AND NOT EXISTS (SELECT 1 FROM consent_history h
	      WHERE h.registration_id = r.id)
	ORDER BY r.id;
END $$;

-- A registration's consent history as JSON, oldest first: its rows, or
-- the consent it was given when none has changed it.
CREATE OR REPLACE FUNCTION rc_consent_history(r registrations)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT jsonb_agg(jsonb_build_object('at', h.at,
	        'sponsors', h.sponsors, 'fields', to_jsonb(h.fields),
	        'source', h.source) ORDER BY h.id)
	    FROM consent_history h WHERE h.registration_id = r.id),
	    jsonb_build_array(jsonb_build_object('at', r.consent_at,
	        'sponsors', r.consent_sponsors,
	        'fields', to_jsonb(r.consent_fields), 'source', 'registration')))
$$;

-- Change consent; every change is kept in consent_history and audited.
CREATE OR REPLACE FUNCTION rc_registration_consent(p_hash bytea, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	share boolean := coalesce((p->>'sponsors')::boolean, false);
	fields text[] := CASE WHEN share THEN ARRAY(SELECT jsonb_array_elements_text(
	    coalesce(p->'fields', '[]'))) ELSE '{}' END;
BEGIN
	SELECT * INTO r FROM registrations WHERE secret_hash = p_hash
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	PERFORM rc_consent_history_start(ARRAY[r.id]);
	UPDATE registrations SET consent_sponsors = share,
	    consent_fields = fields, consent_at = now()
	WHERE id = r.id
	RETURNING * INTO r;
	INSERT INTO consent_history (registration_id, sponsors, fields, source)
	VALUES (r.id, share, fields, 'attendee');
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES ('attendee', 'consent.change', r.event_id, jsonb_build_object(
	    'registration', r.id, 'sponsors', share, 'fields', to_jsonb(fields)));
	RETURN rc_registration_json(r);
END $$;

-- Cancel. A confirmed seat goes to the oldest waitlisted registration in
-- the same transaction, under the event's row lock.
CREATE OR REPLACE FUNCTION rc_registration_cancel(p_hash bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r registrations;
	was text;
BEGIN
	SELECT * INTO r FROM registrations WHERE secret_hash = p_hash;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	-- Lock order everywhere: the event row, then registrations.
	PERFORM 1 FROM events WHERE id = r.event_id FOR UPDATE;
	SELECT * INTO r FROM registrations WHERE id = r.id FOR UPDATE;
	was := r.status;
	IF was = 'cancelled' THEN
		RETURN rc_registration_json(r);
	END IF;
	UPDATE registrations SET status = 'cancelled', cancelled_at = now()
	WHERE id = r.id RETURNING * INTO r;
	IF was = 'confirmed' THEN
		UPDATE events SET confirmed = confirmed - 1 WHERE id = r.event_id;
		PERFORM rc_promote(r.event_id);
	END IF;
	RETURN rc_registration_json(r);
END $$;

-- The organizer's list: oldest first, optionally one status, paged; each
-- with the person's no-shows across events (organizers only).
CREATE OR REPLACE FUNCTION rc_registration_list(p_event bigint, p_status text,
    p_limit integer, p_offset integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM events WHERE id = p_event)
	    THEN NULL ELSE jsonb_build_object(
	    'event_id', p_event,
	    'counts', rc_event_counts(p_event),
	    'limit', p_limit, 'offset', p_offset,
	    'registrations', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'id', r.id, 'status', r.status, 'name', r.name,
	        'email', r.email, 'company', r.company,
	        'job_title', r.job_title, 'phone', r.phone,
	        'identity', r.identity,
	        'consent', jsonb_build_object('sponsors', r.consent_sponsors,
	            'fields', to_jsonb(r.consent_fields)),
	        'created_at', r.created_at, 'confirmed_at', r.confirmed_at,
	        'cancelled_at', r.cancelled_at,
	        'checked_in_at', r.checked_in_at,
	        'reconfirm_asked_at', r.reconfirm_asked_at,
	        'reconfirmed_at', r.reconfirmed_at, 'released_at', r.released_at,
	        'no_shows', rc_noshow_count(r.email)) ORDER BY r.id)
	        FROM (SELECT * FROM registrations
	            WHERE event_id = p_event
	              AND (p_status IS NULL OR status = p_status)
	            ORDER BY id LIMIT p_limit OFFSET p_offset) r), '[]')) END
$$;
