-- Staff accounts of the console: invitations, passwords, sessions.
--
-- The daemon hashes passwords (argon2id, off its event loop) and session
-- ids (SHA-256); this file never sees a password or a session id, only
-- their hashes. Who may call what is the route table's business
-- (server/router.c); whether a session is still in force is one function,
-- rc_session_live, which every console request goes through.

-- A new account and its one-time link (p_link: SHA-256 of the link's
-- secret). p_scope is the inviter's scope (NULL for every event): an
-- organizer can only hand out events it holds, and never admin.
CREATE OR REPLACE FUNCTION rc_account_add(p_email text, p_name text,
    p_lang text, p_role text, p_events bigint[], p_link bytea,
    p_link_secs integer, p_actor text, p_scope bigint[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	a accounts;
	missing bigint;
	exp timestamptz := now() + make_interval(secs => p_link_secs);
BEGIN
	IF p_scope IS NOT NULL AND (p_role = 'admin' OR p_events IS NULL
	    OR NOT p_events <@ p_scope) THEN
		PERFORM rc_fail(403, 'out_of_scope',
		    'You may only invite organizers of your own events.');
	END IF;
	SELECT x INTO missing FROM unnest(p_events) x
	WHERE NOT EXISTS (SELECT 1 FROM events WHERE id = x) LIMIT 1;
	IF FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No event ' || missing || '.');
	END IF;
	IF EXISTS (SELECT 1 FROM accounts WHERE lower(email) = lower(p_email))
	THEN
		PERFORM rc_fail(409, 'account_exists',
		    'An account with that e-mail address already exists.');
	END IF;
	INSERT INTO accounts (email, name, lang, role, events, created_by)
	VALUES (p_email, p_name, p_lang, p_role,
	    CASE WHEN p_role = 'admin' THEN NULL ELSE p_events END, p_actor)
	RETURNING * INTO a;
	INSERT INTO account_links (hash, account_id, purpose, expires_at)
	VALUES (p_link, a.id, 'invite', exp);
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'account.add', a.events[1], jsonb_build_object(
	    'account', a.id, 'email', a.email, 'role', a.role,
	    'events', to_jsonb(a.events)));
	RETURN jsonb_build_object('id', a.id, 'email', a.email,
	    'name', a.name, 'role', a.role, 'events', to_jsonb(a.events),
	    'lang', a.lang, 'link_expires_at', exp);
END $$;

-- The account a one-time link is for, while it is unused and in time.
CREATE OR REPLACE FUNCTION rc_account_link(p_link bytea)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('account_id', a.id, 'email', a.email,
	    'name', a.name, 'purpose', l.purpose, 'expires_at', l.expires_at)
	FROM account_links l JOIN accounts a ON a.id = l.account_id
	WHERE l.hash = p_link AND l.used_at IS NULL AND l.expires_at > now()
	    AND a.disabled_at IS NULL
$$;

-- Use a one-time link: set the password (p_hash, argon2id), sign out
-- every session the account had, spend every other link it holds, and
-- start the browser's session (p_session). Of two uses of one link
-- exactly one finds it unused.
CREATE OR REPLACE FUNCTION rc_account_set_password(p_link bytea,
    p_hash text, p_session bytea, p_addr text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	acct bigint;
	a accounts;
BEGIN
	UPDATE account_links SET used_at = now()
	WHERE hash = p_link AND used_at IS NULL AND expires_at > now()
	RETURNING account_id INTO acct;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'link_expired',
		    'This link has expired or has already been used.');
	END IF;
	UPDATE accounts SET password_hash = p_hash, password_at = now()
	WHERE id = acct AND disabled_at IS NULL RETURNING * INTO a;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'link_expired',
		    'This link has expired or has already been used.');
	END IF;
	UPDATE account_links SET used_at = now()
	WHERE account_id = acct AND used_at IS NULL;
	DELETE FROM console_sessions WHERE account_id = acct;
	INSERT INTO console_sessions (id_hash, account_id, address)
	VALUES (p_session, acct, p_addr);
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('acct:' || acct, 'account.password_set',
	    jsonb_build_object('account', acct));
	RETURN jsonb_build_object('id', a.id, 'email', a.email,
	    'name', a.name, 'role', a.role);
END $$;

-- The password hash to check a sign-in against: an active account with
-- a password, or no row.
CREATE OR REPLACE FUNCTION rc_account_login(p_email text)
RETURNS TABLE (id bigint, password_hash text) LANGUAGE sql STABLE AS $$
	SELECT a.id, a.password_hash FROM accounts a
	WHERE lower(a.email) = lower(p_email) AND a.disabled_at IS NULL
	    AND a.password_hash IS NOT NULL
$$;

-- A checked sign-in becomes a session (p_session: SHA-256 of its id).
CREATE OR REPLACE FUNCTION rc_session_start(p_account bigint,
    p_session bytea, p_addr text)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM accounts WHERE id = p_account
	    AND disabled_at IS NULL) THEN
		PERFORM rc_fail(401, 'login_failed',
		    'The e-mail address or the password is not right.');
	END IF;
	INSERT INTO console_sessions (id_hash, account_id, address)
	VALUES (p_session, p_account, p_addr);
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('acct:' || p_account, 'account.login',
	    jsonb_build_object('account', p_account, 'address', p_addr));
	RETURN jsonb_build_object('account', p_account);
END $$;

-- The one rule for a session in force: its row, younger than p_max
-- seconds, used within p_idle seconds, its account not disabled. Answers
-- the account's role and scope, re-read on every request; marks the
-- session used (at most once a minute, to spare the writes).
CREATE OR REPLACE FUNCTION rc_session_live(p_session bytea, p_idle integer,
    p_max integer)
RETURNS TABLE (account_id bigint, role text, name text, events bigint[],
    email text, lang text, roles text[], chapters bigint[])
LANGUAGE plpgsql AS $$
DECLARE
	s console_sessions;
BEGIN
	SELECT * INTO s FROM console_sessions
	WHERE id_hash = p_session
	    AND created_at > now() - make_interval(secs => p_max)
	    AND last_seen_at > now() - make_interval(secs => p_idle);
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF s.last_seen_at < now() - interval '1 minute' THEN
		UPDATE console_sessions SET last_seen_at = now()
		WHERE id_hash = p_session;
	END IF;
	RETURN QUERY SELECT a.id, a.role, a.name,
	    rc_scope_events(x.roles, a.events, x.chapters), a.email, a.lang,
	    x.roles, x.chapters
	    FROM accounts a, rc_account_roles(a.id) x
	    WHERE a.id = s.account_id AND a.disabled_at IS NULL;
END $$;

-- Sign out: this session, or (p_all) every session of its account.
CREATE OR REPLACE FUNCTION rc_session_end(p_session bytea, p_all boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	acct bigint;
	n integer;
BEGIN
	SELECT account_id INTO acct FROM console_sessions
	WHERE id_hash = p_session;
	IF NOT FOUND THEN
		RETURN jsonb_build_object('ended', 0);
	END IF;
	IF p_all THEN
		DELETE FROM console_sessions WHERE account_id = acct;
	ELSE
		DELETE FROM console_sessions WHERE id_hash = p_session;
	END IF;
	GET DIAGNOSTICS n = ROW_COUNT;
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('acct:' || acct, CASE WHEN p_all THEN 'account.logout_all'
	        ELSE 'account.logout' END, jsonb_build_object('sessions', n));
	RETURN jsonb_build_object('ended', n);
END $$;

-- Revoke an account: it and every session it has stop working at once.
CREATE OR REPLACE FUNCTION rc_account_disable(p_email text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	a accounts;
BEGIN
	UPDATE accounts SET disabled_at = coalesce(disabled_at, now()),
	    disabled_by = coalesce(disabled_by, p_actor)
	WHERE lower(email) = lower(p_email) RETURNING * INTO a;
	IF NOT FOUND THEN
		PERFORM rc_fail(404, 'not_found', 'No such account.');
	END IF;
	DELETE FROM console_sessions WHERE account_id = a.id;
	INSERT INTO audit_log (actor, action, detail)
	VALUES (p_actor, 'account.disable', jsonb_build_object(
	    'account', a.id, 'email', a.email));
	RETURN jsonb_build_object('id', a.id, 'email', a.email,
	    'disabled_at', a.disabled_at);
END $$;

-- An event an organizer's account creates joins that account's scope, as
-- a scoped token's does (rc_event_create, rc_series_create).
CREATE OR REPLACE FUNCTION rc_account_event_created()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.created_by ~ '^acct:[0-9]+$' THEN
		UPDATE accounts SET events = array_append(events, NEW.id)
		WHERE id = substr(NEW.created_by, 6)::bigint
		    AND events IS NOT NULL;
	END IF;
	RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER events_account_scope AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION rc_account_event_created();

-- A password reset asked for by e-mail address (/console/reset). For a
-- live account: a one-time link (p_link: its SHA-256) valid p_link_secs,
-- and an 'account_reset' message carrying it sealed (p_sealed), in one
-- transaction. The answer never says whether the address has an account,
-- and every request writes an audit row (no address in it) so the time
-- taken does not tell either (see rc_resend).
CREATE OR REPLACE FUNCTION rc_account_reset(p_email text, p_link bytea,
    p_link_secs integer, p_sealed bytea)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	a accounts;
BEGIN
	INSERT INTO audit_log (actor, action, detail)
	VALUES ('anonymous', 'account.reset_asked', '{}');
	SELECT * INTO a FROM accounts WHERE lower(email) = lower(p_email)
	    AND disabled_at IS NULL;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	INSERT INTO account_links (hash, account_id, purpose, expires_at)
	VALUES (p_link, a.id, 'reset',
	    now() + make_interval(secs => p_link_secs));
	INSERT INTO outbox (kind, account_id, secret_sealed)
	VALUES ('account_reset', a.id, p_sealed);
END $$;

-- An admin (or the committee) invites from the console: the account as
-- rc_account_add makes it (audited there), and its link e-mailed sealed
-- ('account_invite'). p_who: {email, name, lang, role, chapter?}; a
-- leader or track owner invited with a chapter's slug also gets that
-- chapter's leader row (lead, or track_owner), which is what gives it
-- the chapter (rc_account_roles).
CREATE OR REPLACE FUNCTION rc_account_invite(p_who jsonb, p_events bigint[],
    p_link bytea, p_link_secs integer, p_actor text, p_sealed bytea)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	o jsonb;
BEGIN
	o := rc_account_add(p_who->>'email', p_who->>'name', p_who->>'lang',
	    p_who->>'role', p_events, p_link, p_link_secs, p_actor, NULL);
	IF p_who->>'chapter' IS NOT NULL THEN
		BEGIN
			PERFORM rc_chapter_leader_add(p_who->>'chapter',
			    jsonb_build_object('email', p_who->>'email',
			        'name', p_who->>'name', 'role',
			        CASE WHEN p_who->>'role' = 'track_owner'
			        THEN 'track_owner' ELSE 'lead' END), p_actor);
		EXCEPTION WHEN SQLSTATE 'RC409' THEN
			-- Already leading there is what was asked for.
			IF SQLERRM <> 'already_leader' THEN
				RAISE;
			END IF;
		END;
	END IF;
	INSERT INTO outbox (kind, account_id, secret_sealed)
	VALUES ('account_invite', (o->>'id')::bigint, p_sealed);
	RETURN o;
END $$;

-- The console's account list (admins, committee): every account, newest
-- first, with every role it holds (its own and those its chapters' leader
-- rows give it) and those chapters' slugs; and the live chapters, for
-- inviting a leader to one.
CREATE OR REPLACE FUNCTION rc_console_accounts()
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('chapters', (SELECT coalesce(jsonb_agg(
	    jsonb_build_object('slug', c.slug, 'name', c.name)
	    ORDER BY c.name, c.slug), '[]') FROM chapters c
	    WHERE c.status <> 'retired'),
	    'accounts', coalesce(jsonb_agg(
	    jsonb_build_object('id', a.id, 'email', a.email, 'name', a.name,
	        'role', a.role, 'events', to_jsonb(a.events),
	        'roles', to_jsonb(x.roles),
	        'chapters', to_jsonb(ARRAY(SELECT c.slug FROM chapters c
	            WHERE c.id = ANY (x.chapters) ORDER BY c.slug)),
	        'all_events', a.role IN ('admin', 'committee'),
	        'admin', a.role = 'admin', 'disabled', a.disabled_at IS NOT NULL,
	        'has_password', a.password_hash IS NOT NULL)
	    ORDER BY a.id DESC), '[]'))
	FROM accounts a, rc_account_roles(a.id) x
$$;
