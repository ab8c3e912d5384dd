-- Recognition (COMMUNITY.md section 6): contributions and their review,
-- the points ledger, benefits and redemptions, titles (MVA by rule,
-- Ambassador by the committee), the leaderboard, and what a member sees.
--
-- The caller of a staff function is p_caller, a JSON object the daemon
-- makes from the request's identity (server/recognition.c):
--   {"actor": jti or "acct:N", "account": N or null,
--    "global": true for admin, committee and infra (every chapter),
--    "review": may review, "chapters": [ids], "events": [ids] or null}
-- Who may call a route at all is the route table's business; these
-- functions only narrow a chapter role to its chapters and events.
--
-- Points move only by new ledger rows. Every insert locks the person's
-- row (FOR NO KEY UPDATE, so foreign-key checks are not blocked) and
-- checks the sum in the same transaction, so no interleaving of
-- requests, on any number of daemons, can take a balance below zero.
-- Lock order everywhere: the person, then the contribution or the
-- redemption, then the benefit.

-- Whether the caller covers a chapter or an event.
CREATE OR REPLACE FUNCTION rc_recognition_scoped(p_caller jsonb,
    p_chapter bigint, p_event bigint)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT coalesce((p_caller->>'global')::boolean, false)
	    OR (p_chapter IS NOT NULL AND p_chapter IN (SELECT
	        jsonb_array_elements_text(coalesce(p_caller->'chapters',
	        '[]'))::bigint))
	    OR (p_event IS NOT NULL AND (jsonb_typeof(p_caller->'events')
	        IS DISTINCT FROM 'array' OR p_event IN (SELECT
	        jsonb_array_elements_text(p_caller->'events')::bigint)))
$$;

-- The chapters a caller's lists may show: every one (NULL) or these.
CREATE OR REPLACE FUNCTION rc_recognition_chapters(p_caller jsonb)
RETURNS bigint[] LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN coalesce((p_caller->>'global')::boolean, false)
	    THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(
	        coalesce(p_caller->'chapters', '[]'))::bigint) END
$$;

-- The name of whoever recorded or reviewed something: an account's or a
-- token's (staff names, never an attendee's).
CREATE OR REPLACE FUNCTION rc_recognition_actor_name(p_actor text)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_actor ~ '^acct:[0-9]{1,18}$' THEN
	        (SELECT name FROM accounts
	        WHERE id = substr(p_actor, 6)::bigint)
	    ELSE (SELECT name FROM tokens WHERE jti = p_actor) END
$$;

-- ------------------------------------------------------------- points

-- Serialise every change of one person's points (see the top).
CREATE OR REPLACE FUNCTION rc_points_lock(p_person bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM persons WHERE id = p_person FOR NO KEY UPDATE;
END $$;

-- A person's balance: the sum of their ledger.
CREATE OR REPLACE FUNCTION rc_points_balance(p_person bigint)
RETURNS integer LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(delta), 0)::integer FROM points_ledger
	WHERE person_id = p_person
$$;

-- Before a ledger row goes in: lock the person and refuse a balance
-- below zero. The sum is read after the lock is held, with a fresh
-- snapshot, so it includes every entry committed before ours.
CREATE OR REPLACE FUNCTION rc_ledger_check()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM rc_points_lock(NEW.person_id);
	IF rc_points_balance(NEW.person_id) + NEW.delta < 0 THEN
		PERFORM rc_fail(409, 'insufficient_points',
		    'Not enough points: the balance would go below zero.');
	END IF;
	RETURN NEW;
END $$;

-- The ledger is append-only: a correction is a new entry. The one
-- exception is erasure: when the person's row is already gone (the
-- cascade of DELETE FROM persons runs after it), their rows may go too.
CREATE OR REPLACE FUNCTION rc_ledger_append_only()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		IF NOT EXISTS (SELECT 1 FROM persons
		    WHERE id = OLD.person_id) THEN
			RETURN OLD;
		END IF;
	END IF;
	PERFORM rc_fail(409, 'ledger_append_only', 'The points ledger is '
	    || 'append-only: a correction is a new entry with a reason.');
	RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER points_ledger_check BEFORE INSERT ON points_ledger
    FOR EACH ROW EXECUTE FUNCTION rc_ledger_check();
CREATE OR REPLACE TRIGGER points_ledger_append_only
    BEFORE UPDATE OR DELETE ON points_ledger
    FOR EACH ROW EXECUTE FUNCTION rc_ledger_append_only();
CREATE OR REPLACE TRIGGER points_ledger_no_truncate
    BEFORE TRUNCATE ON points_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION rc_ledger_append_only();

-- One ledger entry as the member and staff see it.
CREATE OR REPLACE FUNCTION rc_ledger_json(l points_ledger)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', l.id, 'delta', l.delta,
	    'reason', l.reason, 'note', l.note,
	    'contribution_id', l.contribution_id,
	    'redemption_id', l.redemption_id, 'at', l.at)
$$;

-- A correction: a new entry with a reason, by admin or committee.
CREATE OR REPLACE FUNCTION rc_points_adjust(p_email text, p_delta integer,
    p_note text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint;
	l points_ledger;
BEGIN
	SELECT id INTO pid FROM persons WHERE lower(email) = lower(p_email);
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found',
		    'No person has that e-mail address.');
	END IF;
	INSERT INTO points_ledger (person_id, delta, reason, note, actor)
	VALUES (pid, p_delta, 'correction', p_note, p_actor)
	RETURNING * INTO l;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'points.correction', jsonb_build_object(
	    'person', pid, 'entry', l.id, 'delta', p_delta));
	RETURN jsonb_build_object('person_id', pid,
	    'balance', rc_points_balance(pid), 'entry', rc_ledger_json(l));
END $$;

-- ------------------------------------------------------- contributions

-- What each kind is worth now.
CREATE OR REPLACE FUNCTION rc_contribution_points_get()
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('points', coalesce(jsonb_object_agg(kind,
	    points ORDER BY kind), '{}'))
	FROM contribution_points
$$;

-- Change what some kinds are worth ({kind: points, ...}, checked by the
-- daemon); contributions already recorded keep their points.
CREATE OR REPLACE FUNCTION rc_contribution_points_set(p_body jsonb,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	UPDATE contribution_points c SET points = (b.value)::integer,
	    updated_at = now(), updated_by = p_actor
	FROM jsonb_each(p_body) b WHERE c.kind = b.key
	    AND c.points IS DISTINCT FROM (b.value)::integer;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'contribution.points', p_body);
	RETURN rc_contribution_points_get();
END $$;

-- A contribution as staff see it (p_caller: who is looking).
CREATE OR REPLACE FUNCTION rc_contribution_json(c contributions,
    p_caller jsonb)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', c.id,
	    'person', (SELECT jsonb_build_object('id', p.id, 'name', p.name,
	        'email', p.email) FROM persons p WHERE p.id = c.person_id),
	    'speaker', c.speaker, 'kind', c.kind, 'title', c.title,
	    'url', c.url, 'date', c.date,
	    'chapter', (SELECT slug FROM chapters WHERE id = c.chapter_id),
	    'event_id', c.event_id, 'points', c.points, 'status', c.status,
	    'source', c.source, 'recorded_by', c.recorded_by,
	    'recorded_by_name', rc_recognition_actor_name(c.recorded_by),
	    'recorded_by_me', c.recorded_by IS NOT DISTINCT FROM
	        p_caller->>'actor',
	    'recorded_at', c.recorded_at, 'reviewed_by', c.reviewed_by,
	    'reviewed_by_name', rc_recognition_actor_name(c.reviewed_by),
	    'reviewed_at', c.reviewed_at, 'review_comment', c.review_comment)
$$;

-- The chapter of a contribution from its body's chapter (a slug) and
-- event: the event's chapter when only the event is named; a chapter
-- that is not the event's is refused.
CREATE OR REPLACE FUNCTION rc_contribution_place(p_chapter text,
    p_event bigint, OUT chapter_id bigint, OUT event_id bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	ev_chapter bigint;
BEGIN
	IF p_chapter IS NOT NULL THEN
		SELECT id INTO chapter_id FROM chapters WHERE slug = p_chapter;
		IF NOT FOUND THEN
			PERFORM rc_fail(400, 'invalid_field',
			    'chapter: no chapter has that slug.');
		END IF;
	END IF;
	IF p_event IS NOT NULL THEN
		SELECT e.chapter_id INTO ev_chapter FROM events e
		WHERE e.id = p_event;
		IF NOT FOUND THEN
			PERFORM rc_fail(400, 'invalid_field',
			    'event: no such event.');
		END IF;
		IF chapter_id IS NOT NULL AND ev_chapter IS DISTINCT FROM
		    chapter_id THEN
			PERFORM rc_fail(400, 'invalid_field', 'chapter: the '
			    || 'event belongs to another chapter.');
		END IF;
		chapter_id := coalesce(chapter_id, ev_chapter);
		event_id := p_event;
	END IF;
END $$;

-- Record a contribution {email, name, kind, title, date, chapter?,
-- event?, url?} (checked by the daemon): the person is found or made by
-- e-mail; status pending until infra or the committee reviews it.
CREATE OR REPLACE FUNCTION rc_contribution_record(p_body jsonb,
    p_caller jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	place record;
	c contributions;
	d date;
BEGIN
	BEGIN
		d := (p_body->>'date')::date;
	EXCEPTION WHEN OTHERS THEN
		PERFORM rc_fail(400, 'invalid_field', 'date: YYYY-MM-DD.');
	END;
	IF d NOT BETWEEN DATE '2000-01-01' AND DATE '2100-12-31' THEN
		PERFORM rc_fail(400, 'invalid_field',
		    'date: between 2000-01-01 and 2100-12-31.');
	END IF;
	place := rc_contribution_place(p_body->>'chapter',
	    (p_body->>'event')::bigint);
	IF NOT coalesce((p_caller->>'global')::boolean, false)
	    AND place.chapter_id IS NULL AND place.event_id IS NULL THEN
		PERFORM rc_fail(400, 'invalid_field', 'chapter: name one of '
		    || 'your chapters (or an event of it).');
	END IF;
	IF NOT rc_recognition_scoped(p_caller, place.chapter_id,
	    place.event_id) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'That chapter or event '
		    || 'is not one of yours.');
	END IF;
	INSERT INTO contributions (person_id, kind, title, url, date,
	    chapter_id, event_id, points, status, recorded_by)
	VALUES (rc_person_upsert(p_body->>'email', p_body->>'name'),
	    p_body->>'kind', p_body->>'title', p_body->>'url', d,
	    place.chapter_id, place.event_id,
	    (SELECT points FROM contribution_points
	    WHERE kind = p_body->>'kind'), 'pending', p_caller->>'actor')
	RETURNING * INTO c;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_caller->>'actor', 'contribution.record', c.event_id,
	    jsonb_build_object('contribution', c.id, 'person', c.person_id,
	    'kind', c.kind));
	RETURN rc_contribution_json(c, p_caller);
END $$;

-- Grant or revoke the MVA of a year by TUG's rule: at least three
-- approved contributions dated in that calendar year. A title the rule
-- made and a later review took below three is revoked (revoked_at, the
-- row kept); it comes back if the count does. A title the committee
-- revoked stays revoked.
CREATE OR REPLACE FUNCTION rc_recognition_mva(p_person bigint,
    p_year integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	n integer;
	t titles;
BEGIN
	SELECT count(*) INTO n FROM contributions
	WHERE person_id = p_person AND status = 'approved'
	    AND date >= make_date(p_year, 1, 1)
	    AND date < make_date(p_year + 1, 1, 1);
	SELECT * INTO t FROM titles
	WHERE person_id = p_person AND title = 'mva' AND year = p_year
	FOR UPDATE;
	IF n >= 3 AND t.id IS NULL THEN
		INSERT INTO titles (person_id, title, year, granted_by)
		VALUES (p_person, 'mva', p_year, 'rule')
		RETURNING * INTO t;
		INSERT INTO audit_log (actor, action, detail)
		VALUES ('rule', 'title.grant', jsonb_build_object('title', t.id,
		    'person', p_person, 'kind', 'mva', 'year', p_year));
	ELSIF n >= 3 AND t.revoked_at IS NOT NULL AND t.revoked_by = 'rule'
	THEN
		UPDATE titles SET revoked_at = NULL, revoked_by = NULL,
		    granted_by = 'rule', granted_at = now()
		WHERE id = t.id;
		INSERT INTO audit_log (actor, action, detail)
		VALUES ('rule', 'title.grant', jsonb_build_object('title', t.id,
		    'person', p_person, 'kind', 'mva', 'year', p_year));
	ELSIF n < 3 AND t.id IS NOT NULL AND t.revoked_at IS NULL
	    AND t.granted_by = 'rule' THEN
		UPDATE titles SET revoked_at = now(), revoked_by = 'rule'
		WHERE id = t.id;
		INSERT INTO audit_log (actor, action, detail)
		VALUES ('rule', 'title.revoke', jsonb_build_object('title', t.id,
		    'person', p_person, 'kind', 'mva', 'year', p_year,
		    'approved', n));
	END IF;
END $$;

-- Review a contribution's quality (infra, committee, admin). Never by
-- whoever recorded it, nor by the account of the contributor. Approval
-- credits the contribution's points (once, however often it is
-- reviewed); a later decline takes back what is still there, as a new
-- entry, never below zero. The MVA of the contribution's year follows.
CREATE OR REPLACE FUNCTION rc_contribution_review(p_id bigint,
    p_quality boolean, p_comment text, p_caller jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c contributions;
	pid bigint;
	net integer;
	take integer;
	actor text := p_caller->>'actor';
BEGIN
	SELECT person_id INTO pid FROM contributions WHERE id = p_id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF pid IS NOT NULL THEN
		PERFORM rc_points_lock(pid);
	END IF;
	SELECT * INTO c FROM contributions WHERE id = p_id FOR UPDATE;
	IF NOT rc_recognition_scoped(p_caller, c.chapter_id, c.event_id) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'That contribution is not '
		    || 'in your chapters.');
	END IF;
	IF c.status IN ('proposed', 'dismissed') THEN
		PERFORM rc_fail(409, 'not_recorded', 'A proposal is reviewed '
		    || 'once staff has confirmed it with the e-mail address.');
	END IF;
	IF c.recorded_by = actor THEN
		PERFORM rc_fail(403, 'own_record', 'You recorded this '
		    || 'contribution: someone else reviews it.');
	END IF;
	IF EXISTS (SELECT 1 FROM accounts a JOIN persons p
	    ON lower(p.email) = lower(a.email)
	    WHERE a.id = (p_caller->>'account')::bigint
	    AND p.id = c.person_id) THEN
		PERFORM rc_fail(403, 'own_contribution', 'This is your own '
		    || 'contribution: someone else reviews it.');
	END IF;
	INSERT INTO contribution_reviews (contribution_id, quality, comment,
	    reviewed_by)
	VALUES (c.id, p_quality, p_comment, actor);
	UPDATE contributions SET status = CASE WHEN p_quality THEN 'approved'
	        ELSE 'declined' END,
	    reviewed_by = actor, reviewed_at = now(), review_comment = p_comment
	WHERE id = c.id RETURNING * INTO c;
	SELECT coalesce(sum(delta), 0) INTO net FROM points_ledger
	WHERE contribution_id = c.id;
	IF p_quality AND c.points > net THEN
		INSERT INTO points_ledger (person_id, delta, reason,
		    contribution_id, actor)
		VALUES (c.person_id, c.points - net, 'contribution', c.id, actor);
	ELSIF NOT p_quality AND net > 0 THEN
		take := least(net, rc_points_balance(c.person_id));
		IF take > 0 THEN
			INSERT INTO points_ledger (person_id, delta, reason,
			    note, contribution_id, actor)
			VALUES (c.person_id, -take, 'contribution_reversed',
			    CASE WHEN take < net THEN (net - take)::text ||
			    ' points were already spent' END, c.id, actor);
		END IF;
	END IF;
	PERFORM rc_recognition_mva(c.person_id,
	    extract(year FROM c.date)::integer);
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (actor, 'contribution.review', c.event_id, jsonb_build_object(
	    'contribution', c.id, 'person', c.person_id,
	    'quality', p_quality));
	RETURN rc_contribution_json(c, p_caller);
END $$;

-- A proposal from the agenda confirmed with the speaker's e-mail: the
-- person is found or made, and the contribution waits for review with
-- the confirmer as its recorder.
CREATE OR REPLACE FUNCTION rc_contribution_confirm(p_id bigint,
    p_email text, p_name text, p_caller jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c contributions;
BEGIN
	SELECT * INTO c FROM contributions WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF NOT rc_recognition_scoped(p_caller, c.chapter_id, c.event_id) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'That contribution is not '
		    || 'in your chapters.');
	END IF;
	IF c.status <> 'proposed' THEN
		PERFORM rc_fail(409, 'not_proposed',
		    'Only a proposal is confirmed or dismissed.');
	END IF;
	UPDATE contributions SET
	    person_id = rc_person_upsert(p_email,
	        coalesce(nullif(p_name, ''), c.speaker)),
	    speaker = NULL, status = 'pending',
	    points = (SELECT points FROM contribution_points
	        WHERE kind = c.kind),
	    recorded_by = p_caller->>'actor', recorded_at = now()
	WHERE id = c.id RETURNING * INTO c;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_caller->>'actor', 'contribution.confirm', c.event_id,
	    jsonb_build_object('contribution', c.id, 'person', c.person_id));
	RETURN rc_contribution_json(c, p_caller);
END $$;

-- A proposal dismissed (not a contribution after all); the row stays so
-- finishing the event again proposes nothing new.
CREATE OR REPLACE FUNCTION rc_contribution_dismiss(p_id bigint,
    p_caller jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c contributions;
BEGIN
	SELECT * INTO c FROM contributions WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF NOT rc_recognition_scoped(p_caller, c.chapter_id, c.event_id) THEN
		PERFORM rc_fail(403, 'out_of_scope', 'That contribution is not '
		    || 'in your chapters.');
	END IF;
	IF c.status <> 'proposed' THEN
		PERFORM rc_fail(409, 'not_proposed',
		    'Only a proposal is confirmed or dismissed.');
	END IF;
	UPDATE contributions SET status = 'dismissed',
	    reviewed_by = p_caller->>'actor', reviewed_at = now()
	WHERE id = c.id RETURNING * INTO c;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_caller->>'actor', 'contribution.dismiss', c.event_id,
	    jsonb_build_object('contribution', c.id));
	RETURN rc_contribution_json(c, p_caller);
END $$;

-- Contributions staff may see, newest first: ?chapter= (slug), ?year=,
-- ?status=; a chapter role sees its chapters' and events' only.
CREATE OR REPLACE FUNCTION rc_contribution_list(p_chapter text,
    p_year integer, p_status text, p_limit integer, p_caller jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	cid bigint;
BEGIN
	IF p_chapter IS NOT NULL THEN
		SELECT id INTO cid FROM chapters WHERE slug = p_chapter;
		IF NOT FOUND THEN
			RETURN jsonb_build_object('contributions', '[]'::jsonb);
		END IF;
	END IF;
	RETURN jsonb_build_object('contributions', coalesce((
	    SELECT jsonb_agg(rc_contribution_json(c, p_caller)
	        ORDER BY c.date DESC, c.id DESC)
	    FROM (SELECT * FROM contributions c
	        WHERE (cid IS NULL OR c.chapter_id = cid)
	        AND (p_year IS NULL OR (c.date >= make_date(p_year, 1, 1)
	            AND c.date < make_date(p_year + 1, 1, 1)))
	        AND (p_status IS NULL OR c.status = p_status)
	        AND rc_recognition_scoped(p_caller, c.chapter_id, c.event_id)
	        ORDER BY c.date DESC, c.id DESC LIMIT p_limit) c), '[]'));
END $$;

-- The speakers on a finished event's agenda as proposed talks: one per
-- speaker of each session that is not a break (a session's speaker text
-- is split at commas, 、, ；, / and &). Idempotent: the unique index on
-- (event, session, speaker) keeps a second run from adding any.
CREATE OR REPLACE FUNCTION rc_contributions_propose(p_event bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	INSERT INTO contributions (speaker, kind, title, date, chapter_id,
	    event_id, points, status, source, agenda_position, agenda_speaker)
	SELECT sp.name, 'talk', s.title,
	    (e.starts_at AT TIME ZONE e.timezone)::date, e.chapter_id, e.id,
	    (SELECT points FROM contribution_points WHERE kind = 'talk'),
	    'proposed', 'agenda', s.position, sp.ord
	FROM events e JOIN sessions s ON s.event_id = e.id,
	    LATERAL (SELECT btrim(x.name) AS name, x.ord::integer AS ord
	        FROM regexp_split_to_table(s.speaker, '\s*[,，、;；/&]\s*')
	        WITH ORDINALITY AS x(name, ord)
	        WHERE btrim(x.name) <> '') sp
	WHERE e.id = p_event AND coalesce(s.kind, 'talk') <> 'break'
	    AND s.speaker IS NOT NULL
	    AND (e.starts_at AT TIME ZONE e.timezone)::date
	        BETWEEN DATE '2000-01-01' AND DATE '2100-12-31'
	ON CONFLICT (event_id, agenda_position, agenda_speaker)
	    WHERE source = 'agenda' DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 0 THEN
		INSERT INTO audit_log (actor, action, event_id, detail)
		VALUES ('rule', 'contribution.propose', p_event,
		    jsonb_build_object('proposed', n));
	END IF;
	RETURN n;
END $$;

-- When an event becomes finished, however it got there.
CREATE OR REPLACE FUNCTION rc_contributions_on_finish()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM rc_contributions_propose(NEW.id);
	RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER events_propose_talks AFTER UPDATE OF status
    ON events FOR EACH ROW
    WHEN (NEW.status = 'finished' AND OLD.status IS DISTINCT FROM 'finished')
    EXECUTE FUNCTION rc_contributions_on_finish();

-- ------------------------------------------------- benefits, redemptions

-- A benefit as anyone sees it.
CREATE OR REPLACE FUNCTION rc_benefit_json(b benefits)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', b.id, 'kind', b.kind, 'name', b.name,
	    'name_zh', b.name_zh, 'description', b.description,
	    'price', b.price, 'stock', b.stock, 'unlimited', b.stock IS NULL,
	    'event_id', b.event_id, 'active', b.active,
	    'available', b.active AND (b.stock IS NULL OR b.stock > 0))
$$;

-- The catalogue: active benefits (p_all: every one, for staff).
CREATE OR REPLACE FUNCTION rc_benefit_list(p_all boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('benefits', coalesce(jsonb_agg(
	    rc_benefit_json(b) ORDER BY b.price, b.id), '[]'))
	FROM benefits b WHERE p_all OR b.active
$$;

-- A new benefit {kind, name, name_zh?, description?, price, stock?,
-- event?, active?} (checked by the daemon).
CREATE OR REPLACE FUNCTION rc_benefit_create(p_body jsonb, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	b benefits;
BEGIN
	IF p_body ? 'event' AND jsonb_typeof(p_body->'event') = 'number'
	    AND NOT EXISTS (SELECT 1 FROM events
	    WHERE id = (p_body->>'event')::bigint) THEN
		PERFORM rc_fail(400, 'invalid_field', 'event: no such event.');
	END IF;
	INSERT INTO benefits (kind, name, name_zh, description, price, stock,
	    event_id, active, created_by)
	VALUES (p_body->>'kind', p_body->>'name',
	    coalesce(p_body->>'name_zh', ''), p_body->>'description',
	    (p_body->>'price')::integer, (p_body->>'stock')::integer,
	    (p_body->>'event')::bigint,
	    coalesce((p_body->>'active')::boolean, true), p_actor)
	RETURNING * INTO b;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'benefit.create', jsonb_build_object('benefit', b.id,
	    'price', b.price, 'stock', b.stock));
	RETURN rc_benefit_json(b);
END $$;

-- Change a benefit: any field of the body; stock null is no limit.
CREATE OR REPLACE FUNCTION rc_benefit_update(p_id bigint, p_body jsonb,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	b benefits;
BEGIN
	SELECT * INTO b FROM benefits WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF jsonb_typeof(p_body->'event') = 'number' AND NOT EXISTS (SELECT 1
	    FROM events WHERE id = (p_body->>'event')::bigint) THEN
		PERFORM rc_fail(400, 'invalid_field', 'event: no such event.');
	END IF;
	UPDATE benefits SET
	    kind = coalesce(p_body->>'kind', kind),
	    name = coalesce(p_body->>'name', name),
	    name_zh = coalesce(p_body->>'name_zh', name_zh),
	    description = CASE WHEN p_body ? 'description'
	        THEN p_body->>'description' ELSE description END,
	    price = coalesce((p_body->>'price')::integer, price),
	    stock = CASE WHEN p_body ? 'stock' THEN (p_body->>'stock')::integer
	        ELSE stock END,
	    event_id = CASE WHEN p_body ? 'event'
	        THEN (p_body->>'event')::bigint ELSE event_id END,
	    active = coalesce((p_body->>'active')::boolean, active),
	    updated_at = now()
	WHERE id = p_id RETURNING * INTO b;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'benefit.update', jsonb_build_object('benefit', b.id,
	    'fields', (SELECT jsonb_agg(k ORDER BY k)
	        FROM jsonb_object_keys(p_body) k)));
	RETURN rc_benefit_json(b);
END $$;

-- A redemption as its member sees it.
CREATE OR REPLACE FUNCTION rc_redemption_json(x redemptions)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', x.id, 'status', x.status,
	    'price', x.price,
	    'benefit', (SELECT jsonb_build_object('id', b.id, 'kind', b.kind,
	        'name', b.name, 'name_zh', b.name_zh)
	        FROM benefits b WHERE b.id = x.benefit_id),
	    'requested_at', x.requested_at, 'decided_at', x.decided_at,
	    'fulfilled_at', x.fulfilled_at, 'comment', x.comment)
$$;

-- A member asks for a benefit: in this one statement the price is
-- debited (a ledger row; the balance cannot go below zero) and the stock
-- taken (a conditional update; it cannot go below zero). The person's
-- lock is taken first, so requests of one member queue there, and the
-- benefit's row lock queues requests of different members for the last
-- unit.
CREATE OR REPLACE FUNCTION rc_redemption_request(p_key bytea,
    p_benefit bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint := rc_member_by_key(p_key);
	b benefits;
	x redemptions;
BEGIN
	IF pid IS NULL THEN
		RETURN NULL;
	END IF;
	PERFORM rc_points_lock(pid);
	SELECT * INTO b FROM benefits WHERE id = p_benefit AND active;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such benefit.');
	END IF;
	IF rc_points_balance(pid) < b.price THEN
		PERFORM rc_fail(409, 'insufficient_points', 'Not enough points '
		    || 'for this benefit.');
	END IF;
	UPDATE benefits SET stock = stock - 1, updated_at = now()
	WHERE id = p_benefit AND active AND (stock IS NULL OR stock > 0)
	RETURNING * INTO b;
	IF NOT FOUND THEN
		PERFORM rc_fail(409, 'out_of_stock', 'This benefit is out of '
		    || 'stock.');
	END IF;
	INSERT INTO redemptions (person_id, benefit_id, price)
	VALUES (pid, b.id, b.price) RETURNING * INTO x;
	INSERT INTO points_ledger (person_id, delta, reason, redemption_id,
	    actor)
	VALUES (pid, -b.price, 'redemption', x.id, 'member');
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('member', 'redemption.request', jsonb_build_object(
	    'redemption', x.id, 'person', pid, 'benefit', b.id));
	RETURN rc_redemption_json(x) || jsonb_build_object('balance',
	    rc_points_balance(pid));
END $$;

-- Staff move a redemption on: approve (requested), reject (requested or
-- approved: the points come back as a refund entry, the stock too), or
-- fulfill (approved).
CREATE OR REPLACE FUNCTION rc_redemption_decide(p_id bigint, p_action text,
    p_comment text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint;
	x redemptions;
BEGIN
	SELECT person_id INTO pid FROM redemptions WHERE id = p_id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	PERFORM rc_points_lock(pid);
	SELECT * INTO x FROM redemptions WHERE id = p_id FOR UPDATE;
	IF (p_action = 'approve' AND x.status <> 'requested')
	    OR (p_action = 'reject' AND x.status NOT IN ('requested',
	        'approved'))
	    OR (p_action = 'fulfill' AND x.status <> 'approved') THEN
		PERFORM rc_fail(409, 'invalid_transition', 'A ' || x.status
		    || ' redemption cannot be ' || CASE p_action
		    WHEN 'approve' THEN 'approved' WHEN 'reject' THEN 'rejected'
		    ELSE 'fulfilled' END || '.');
	END IF;
	IF p_action = 'fulfill' THEN
		UPDATE redemptions SET status = 'fulfilled', fulfilled_by = p_actor,
		    fulfilled_at = now(), comment = coalesce(p_comment, comment)
		WHERE id = p_id RETURNING * INTO x;
	ELSE
		UPDATE redemptions SET status = CASE p_action WHEN 'approve'
		        THEN 'approved' ELSE 'rejected' END,
		    decided_by = p_actor, decided_at = now(),
		    comment = coalesce(p_comment, comment)
		WHERE id = p_id RETURNING * INTO x;
	END IF;
	IF p_action = 'reject' THEN
		INSERT INTO points_ledger (person_id, delta, reason,
		    redemption_id, actor)
		VALUES (pid, x.price, 'refund', x.id, p_actor);
		UPDATE benefits SET stock = stock + 1, updated_at = now()
		WHERE id = x.benefit_id AND stock IS NOT NULL;
	END IF;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'redemption.' || p_action, jsonb_build_object(
	    'redemption', x.id, 'person', pid, 'benefit', x.benefit_id));
	RETURN rc_redemption_json(x) || jsonb_build_object('person',
	    (SELECT jsonb_build_object('id', p.id, 'name', p.name,
	    'email', p.email) FROM persons p WHERE p.id = pid));
END $$;

-- Redemptions for staff, newest first (?status=).
CREATE OR REPLACE FUNCTION rc_redemption_list(p_status text,
    p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('redemptions', coalesce(jsonb_agg(
	    rc_redemption_json(x) || jsonb_build_object('person',
	        jsonb_build_object('id', p.id, 'name', p.name,
	        'email', p.email),
	        'can_approve', x.status = 'requested',
	        'can_reject', x.status IN ('requested', 'approved'),
	        'can_fulfill', x.status = 'approved')
	    ORDER BY x.requested_at DESC, x.id DESC), '[]'))
	FROM (SELECT * FROM redemptions
	    WHERE p_status IS NULL OR status = p_status
	    ORDER BY requested_at DESC, id DESC LIMIT p_limit) x
	JOIN persons p ON p.id = x.person_id
$$;

-- --------------------------------------------------------------- titles

-- Titles of a year (NULL: every year), for staff: current holders, or
-- with p_history the revoked ones too.
CREATE OR REPLACE FUNCTION rc_recognition_titles(p_year integer,
    p_history boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('titles', coalesce(jsonb_agg(
	    jsonb_build_object('id', t.id, 'person_id', p.id, 'name', p.name,
	        'email', p.email, 'title', t.title, 'year', t.year,
	        'granted_by', t.granted_by, 'granted_at', t.granted_at,
	        'revoked_at', t.revoked_at, 'revoked_by', t.revoked_by)
	    ORDER BY t.year DESC, t.title, p.name, t.id), '[]'))
	FROM titles t JOIN persons p ON p.id = t.person_id
	WHERE (p_year IS NULL OR t.year = p_year)
	    AND (p_history OR t.revoked_at IS NULL)
$$;

-- The committee names an Ambassador of a year (the person found or made
-- by e-mail); a revoked title of the same year is granted again.
CREATE OR REPLACE FUNCTION rc_recognition_title_grant(p_email text,
    p_name text, p_title text, p_year integer, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint := rc_person_upsert(p_email, p_name);
	t titles;
BEGIN
	SELECT * INTO t FROM titles
	WHERE person_id = pid AND title = p_title AND year = p_year
	FOR UPDATE;
	IF FOUND AND t.revoked_at IS NULL THEN
		PERFORM rc_fail(409, 'title_held',
		    'This person already holds that title for that year.');
	ELSIF FOUND THEN
		UPDATE titles SET revoked_at = NULL, revoked_by = NULL,
		    granted_by = p_actor, granted_at = now()
		WHERE id = t.id RETURNING * INTO t;
	ELSE
		INSERT INTO titles (person_id, title, year, granted_by)
		VALUES (pid, p_title, p_year, p_actor) RETURNING * INTO t;
	END IF;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'title.grant', jsonb_build_object('title', t.id,
	    'person', pid, 'kind', p_title, 'year', p_year));
	RETURN jsonb_build_object('id', t.id, 'person_id', pid,
	    'name', (SELECT name FROM persons WHERE id = pid),
	    'email', (SELECT email FROM persons WHERE id = pid),
	    'title', t.title, 'year', t.year, 'granted_by', t.granted_by,
	    'granted_at', t.granted_at, 'revoked_at', t.revoked_at);
END $$;

-- The committee revokes a title; the row stays, with revoked_at.
CREATE OR REPLACE FUNCTION rc_recognition_title_revoke(p_id bigint,
    p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	t titles;
BEGIN
	SELECT * INTO t FROM titles WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF t.revoked_at IS NOT NULL THEN
		PERFORM rc_fail(409, 'title_revoked',
		    'That title is already revoked.');
	END IF;
	UPDATE titles SET revoked_at = now(), revoked_by = p_actor
	WHERE id = p_id RETURNING * INTO t;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'title.revoke', jsonb_build_object('title', t.id,
	    'person', t.person_id, 'kind', t.title, 'year', t.year));
	RETURN jsonb_build_object('id', t.id, 'person_id', t.person_id,
	    'title', t.title, 'year', t.year, 'granted_by', t.granted_by,
	    'granted_at', t.granted_at, 'revoked_at', t.revoked_at,
	    'revoked_by', t.revoked_by);
END $$;

-- ---------------------------------------------------------- leaderboard

-- A year's points per chapter: the points of the approved contributions
-- dated in that year, by person, ranked; p_chapter (a slug) narrows it
-- to one chapter; a chapter role sees its chapters only; no year is
-- this year (in China's time, the community's). Global callers
-- also get the whole community's board ("overall").
CREATE OR REPLACE FUNCTION rc_recognition_leaderboard(p_year integer,
    p_chapter text, p_limit integer, p_caller jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	mine bigint[] := rc_recognition_chapters(p_caller);
	cid bigint;
	y integer := coalesce(p_year, extract(year FROM now()
	    AT TIME ZONE 'Asia/Shanghai')::integer);
	lo date := make_date(y, 1, 1);
	hi date := make_date(y + 1, 1, 1);
BEGIN
	IF p_chapter IS NOT NULL THEN
		SELECT id INTO cid FROM chapters WHERE slug = p_chapter;
		IF NOT FOUND THEN
			RETURN NULL;
		END IF;
		IF mine IS NOT NULL AND NOT cid = ANY (mine) THEN
			PERFORM rc_fail(403, 'out_of_scope',
			    'That chapter is not one of yours.');
		END IF;
	END IF;
	RETURN jsonb_build_object('year', y, 'chapter', p_chapter,
	    'chapters', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'slug', ch.slug, 'name', ch.name, 'name_zh', ch.name_zh,
	        'rows', (SELECT coalesce(jsonb_agg(jsonb_build_object(
	            'rank', r.rank, 'person_id', r.person_id, 'name', r.name,
	            'points', r.points, 'contributions', r.n)
	            ORDER BY r.rank, r.name), '[]')
	            FROM (SELECT c.person_id, p.name,
	                sum(c.points)::integer AS points, count(*) AS n,
	                rank() OVER (ORDER BY sum(c.points) DESC) AS rank
	                FROM contributions c JOIN persons p ON p.id = c.person_id
	                WHERE c.chapter_id = ch.id AND c.status = 'approved'
	                AND c.date >= lo AND c.date < hi
	                GROUP BY c.person_id, p.name
	                ORDER BY 5, 2 LIMIT p_limit) r))
	        ORDER BY ch.slug)
	    FROM chapters ch
	    WHERE (cid IS NULL OR ch.id = cid)
	        AND (mine IS NULL OR ch.id = ANY (mine))
	        AND (cid IS NOT NULL OR mine IS NOT NULL OR EXISTS (SELECT 1
	            FROM contributions c WHERE c.chapter_id = ch.id
	            AND c.status = 'approved' AND c.date >= lo
	            AND c.date < hi))), '[]'),
	    'overall', CASE WHEN mine IS NULL AND cid IS NULL THEN (SELECT
	        coalesce(jsonb_agg(jsonb_build_object('rank', r.rank,
	            'person_id', r.person_id, 'name', r.name,
	            'points', r.points, 'contributions', r.n)
	            ORDER BY r.rank, r.name), '[]')
	        FROM (SELECT c.person_id, p.name,
	            sum(c.points)::integer AS points, count(*) AS n,
	            rank() OVER (ORDER BY sum(c.points) DESC) AS rank
	            FROM contributions c JOIN persons p ON p.id = c.person_id
	            WHERE c.status = 'approved' AND c.date >= lo
	            AND c.date < hi
	            GROUP BY c.person_id, p.name
	            ORDER BY 5, 2 LIMIT p_limit) r) END);
END $$;

-- -------------------------------------------------------------- members

-- Everything recognition holds about a person, for their member page and
-- their data export (the members part includes it): contributions,
-- points (balance and every entry), redemptions, titles with history.
CREATE OR REPLACE FUNCTION rc_recognition_export(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'contributions', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'id', c.id, 'kind', c.kind, 'title', c.title, 'url', c.url,
	        'date', c.date,
	        'chapter', (SELECT slug FROM chapters WHERE id = c.chapter_id),
	        'event_id', c.event_id, 'points', c.points,
	        'status', c.status, 'recorded_at', c.recorded_at,
	        'reviewed_at', c.reviewed_at,
	        'review_comment', c.review_comment)
	        ORDER BY c.date DESC, c.id DESC)
	        FROM contributions c WHERE c.person_id = p_person), '[]'),
	    'points', jsonb_build_object(
	        'balance', rc_points_balance(p_person),
	        'ledger', coalesce((SELECT jsonb_agg(rc_ledger_json(l)
	            ORDER BY l.id DESC) FROM points_ledger l
	            WHERE l.person_id = p_person), '[]')),
	    'redemptions', coalesce((SELECT jsonb_agg(rc_redemption_json(x)
	        ORDER BY x.requested_at DESC, x.id DESC)
	        FROM redemptions x WHERE x.person_id = p_person), '[]'),
	    'titles', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'title', t.title, 'year', t.year, 'granted_at', t.granted_at,
	        'revoked_at', t.revoked_at) ORDER BY t.year DESC, t.title)
	        FROM titles t WHERE t.person_id = p_person), '[]'))
$$;

-- A member's recognition by their link secret: the export, who they are
-- (name, whether listed) and the catalogue; NULL for an unknown secret.
CREATE OR REPLACE FUNCTION rc_recognition_member(p_key bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_recognition_export(p.id) || jsonb_build_object(
	    'person', jsonb_build_object('id', p.id, 'name', p.name,
	        'listed', p.listed, 'profile_path', '/people/' || p.id),
	    'benefits', coalesce((SELECT jsonb_agg(b || jsonb_build_object(
	        'affordable', (b->>'price')::integer
	            <= rc_points_balance(p.id)))
	        FROM jsonb_array_elements(rc_benefit_list(false)->'benefits') b),
	        '[]'))
	FROM persons p WHERE p.id = rc_member_by_key(p_key)
$$;

-- A member chooses whether their public profile (/people/{id}) is shown.
CREATE OR REPLACE FUNCTION rc_recognition_listed(p_key bytea,
    p_listed boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	pid bigint := rc_member_by_key(p_key);
BEGIN
	IF pid IS NULL THEN
		RETURN NULL;
	END IF;
	UPDATE persons SET listed = p_listed WHERE id = pid;
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('member', 'person.listed', jsonb_build_object('person', pid,
	    'listed', p_listed));
	RETURN jsonb_build_object('id', pid, 'listed', p_listed,
	    'profile_path', '/people/' || pid);
END $$;

-- A public profile: the name and the titles held, only for a person who
-- chose to be listed; NULL (404) otherwise.
CREATE OR REPLACE FUNCTION rc_recognition_profile(p_person bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', p.id, 'name', p.name,
	    'titles', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'title', t.title, 'year', t.year) ORDER BY t.year DESC, t.title)
	        FROM titles t WHERE t.person_id = p.id
	        AND t.revoked_at IS NULL), '[]'))
	FROM persons p WHERE p.id = p_person AND p.listed
$$;

-- -------------------------------------------------------------- console

-- The console's contributions page: the list (each row says whether this
-- caller may review it: never its own record nor its own contribution),
-- the proposals waiting for an e-mail, and what the record form offers.
CREATE OR REPLACE FUNCTION rc_console_contributions(p_chapter text,
    p_year integer, p_status text, p_limit integer, p_caller jsonb)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'contributions', coalesce((SELECT jsonb_agg(x || jsonb_build_object(
	        'can_review', coalesce((p_caller->>'review')::boolean, false)
	            AND x->>'status' IN ('pending', 'approved', 'declined')
	            AND NOT (x->>'recorded_by_me')::boolean
	            AND NOT EXISTS (SELECT 1 FROM accounts a
	                WHERE a.id = (p_caller->>'account')::bigint
	                AND lower(a.email) = lower(x->'person'->>'email')),
	        'is_' || (x->>'status'), true))
	        FROM jsonb_array_elements(rc_contribution_list(p_chapter,
	            p_year, p_status, p_limit, p_caller)->'contributions') x
	        WHERE x->>'status' <> 'proposed'), '[]'),
	    'proposals', coalesce((SELECT jsonb_agg(x)
	        FROM jsonb_array_elements(rc_contribution_list(p_chapter,
	            NULL, 'proposed', p_limit, p_caller)->'contributions') x),
	        '[]'),
	    'chapters', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'slug', ch.slug, 'name', ch.name, 'name_zh', ch.name_zh,
	        'selected', ch.slug = p_chapter) ORDER BY ch.slug)
	        FROM chapters ch
	        WHERE rc_recognition_chapters(p_caller) IS NULL
	            OR ch.id = ANY (rc_recognition_chapters(p_caller))), '[]'),
	    'points', rc_contribution_points_get()->'points',
	    'filter', jsonb_build_object('chapter', p_chapter, 'year', p_year,
	        'status', p_status))
$$;

-- The console's benefits page: the whole catalogue and the redemptions.
CREATE OR REPLACE FUNCTION rc_console_benefits(p_status text,
    p_limit integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT rc_benefit_list(true) || rc_redemption_list(p_status, p_limit)
	    || jsonb_build_object('filter', jsonb_build_object(
	        'status', p_status))
$$;
