-- 001: secrets, events and series, sponsors, staff tokens, the audit log.
--
-- Migrations hold tables, indexes, constraints and data changes only; the
-- rc_* functions (and their triggers) are in sql/functions/ (docs/sql.md).

CREATE TABLE secrets (
	name		text PRIMARY KEY,
	value		bytea NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE series (
	id		bigserial PRIMARY KEY,
	title		text NOT NULL,
	description	text NOT NULL DEFAULT '',
	chapter		text NOT NULL,
	track_owner	text NOT NULL,
	timezone	text NOT NULL,
	created_by	text,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
	id			bigserial PRIMARY KEY,
	kind			text NOT NULL
	    CHECK (kind IN ('meetup', 'nighttalk', 'community_day')),
	title			text NOT NULL,
	description		text NOT NULL DEFAULT '',
	chapter			text NOT NULL,
	format			text
	    CHECK (format IN ('workshop', 'hands_on', 'panel')),
	venue			text,
	online_url		text,
	starts_at		timestamptz NOT NULL,
	ends_at			timestamptz NOT NULL,
	timezone		text NOT NULL DEFAULT 'Asia/Shanghai',
	capacity		integer CHECK (capacity >= 0),
	waitlist		boolean NOT NULL DEFAULT true,
	registration_opens_at	timestamptz,
	registration_closes_at	timestamptz,
	members_only		boolean NOT NULL DEFAULT false,
	status			text NOT NULL DEFAULT 'draft'
	    CHECK (status IN ('draft', 'published', 'cancelled', 'finished')),
	series_id		bigint REFERENCES series,
	episode			integer,
	confirmed		integer NOT NULL DEFAULT 0 CHECK (confirmed >= 0),
	created_by		text,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	CHECK (ends_at > starts_at)
);
CREATE INDEX events_public ON events (starts_at)
    WHERE status = 'published' AND NOT members_only;
CREATE INDEX events_series ON events (series_id) WHERE series_id IS NOT NULL;

CREATE TABLE sponsors (
	id		bigserial PRIMARY KEY,
	event_id	bigint NOT NULL REFERENCES events,
	name		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sponsors_event ON sponsors (event_id);

-- One row per staff token ever issued. events NULL means every event.
CREATE TABLE tokens (
	jti		text PRIMARY KEY,
	role		text NOT NULL
	    CHECK (role IN ('door', 'sponsor', 'organizer', 'admin')),
	name		text NOT NULL,
	events		bigint[],
	sponsor_id	bigint REFERENCES sponsors,
	issued_by	text NOT NULL,
	issued_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	revoked_at	timestamptz,
	revoked_by	text
);

CREATE TABLE audit_log (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,
	action		text NOT NULL,
	event_id	bigint,
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_event ON audit_log (event_id, at);

-- IANA zone names, read once: pg_timezone_names scans the zone files on
-- every query (tens of milliseconds). A name missing here is looked up
-- there, so a newer tzdata still works.
CREATE TABLE timezones (name text PRIMARY KEY);
INSERT INTO timezones SELECT DISTINCT name FROM pg_timezone_names;
