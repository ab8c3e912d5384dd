-- The public read cache of every daemon (server/cache.c, docs/performance.md):
-- a statement that changes what GET /api/v1/events[/{id}], `/` or
-- `/events/{id}` shows notifies channel rc_public with the event's id, or
-- '*' past 16 events (CACHE_NOTIFY_MAX in server/server.h). PostgreSQL
-- delivers a notification at commit only (a rollback sends nothing) and
-- sends one copy of identical notifications of one transaction, so a
-- group of registrations on one event notifies once. Seats left come from
-- events.confirmed, so the events triggers cover registrations too.

-- After a statement on events: the ids it touched (transition table
-- `changed`).
CREATE OR REPLACE FUNCTION rc_public_notify_events()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT count(DISTINCT id) FROM changed) > 16 THEN
		PERFORM pg_notify('rc_public', '*');
	ELSE
		PERFORM pg_notify('rc_public', c.id::text)
		FROM (SELECT DISTINCT id FROM changed) c;
	END IF;
	RETURN NULL;
END $$;

-- After a statement on an event's parts (sponsors, agenda sessions): the
-- events they belong to.
CREATE OR REPLACE FUNCTION rc_public_notify_parts()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT count(DISTINCT event_id) FROM changed) > 16 THEN
		PERFORM pg_notify('rc_public', '*');
	ELSE
		PERFORM pg_notify('rc_public', c.event_id::text)
		FROM (SELECT DISTINCT event_id FROM changed) c;
	END IF;
	RETURN NULL;
END $$;

-- A trigger with a transition table names one event, hence three a table.
CREATE OR REPLACE TRIGGER events_public_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION rc_public_notify_events();
CREATE OR REPLACE TRIGGER events_public_update AFTER UPDATE ON events
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION rc_public_notify_events();
CREATE OR REPLACE TRIGGER events_public_delete AFTER DELETE ON events
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION rc_public_notify_events();
CREATE OR REPLACE TRIGGER sponsors_public_insert AFTER INSERT ON sponsors
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION rc_public_notify_parts();
CREATE OR REPLACE TRIGGER sponsors_public_update AFTER UPDATE ON sponsors
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION rc_public_notify_parts();
CREATE OR REPLACE TRIGGER sponsors_public_delete AFTER DELETE ON sponsors
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION rc_public_notify_parts();
CREATE OR REPLACE TRIGGER sessions_public_insert AFTER INSERT ON sessions
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION rc_public_notify_parts();
CREATE OR REPLACE TRIGGER sessions_public_update AFTER UPDATE ON sessions
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION rc_public_notify_parts();
CREATE OR REPLACE TRIGGER sessions_public_delete AFTER DELETE ON sessions
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION rc_public_notify_parts();
