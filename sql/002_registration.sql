-- 002: registrations, exact capacity, the waitlist, consent and its history.
--
-- Capacity lives in one place: events.confirmed, changed only by
-- conditional single-row updates inside the functions below. A registration
-- takes a seat with
--     UPDATE events SET confirmed = confirmed + 1
--     WHERE id = $1 AND (capacity IS NULL OR confirmed < capacity)
-- which PostgreSQL serialises on the event's row: of N concurrent callers
-- exactly capacity - confirmed succeed, whichever server process they came
-- through. Every transition that frees or takes a seat (cancel, promote,
-- raising capacity) runs under the same row lock, in one transaction.

CREATE TABLE registrations (
	id		bigserial PRIMARY KEY,
	event_id	bigint NOT NULL REFERENCES events,
	status		text NOT NULL
	    CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
	name		text NOT NULL,
	email		text NOT NULL,
	company		text NOT NULL,
	job_title	text NOT NULL,
	phone		text,
	identity	text NOT NULL CHECK (identity IN ('enthusiast',
	    'professional', 'decision_maker', 'partner')),
	consent_sponsors boolean NOT NULL DEFAULT false,
	consent_fields	text[] NOT NULL DEFAULT '{}'
	    CHECK (consent_fields <@ ARRAY['email', 'phone', 'job_title']),
	consent_at	timestamptz NOT NULL DEFAULT now(),
	secret_hash	bytea NOT NULL UNIQUE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	confirmed_at	timestamptz,
	promoted_at	timestamptz,
	cancelled_at	timestamptz,
	checked_in_at	timestamptz
);
-- One live registration per (event, e-mail), e-mail compared without case.
CREATE UNIQUE INDEX registrations_one_per_email
    ON registrations (event_id, lower(email)) WHERE status <> 'cancelled';
CREATE INDEX registrations_waitlist
    ON registrations (event_id, id) WHERE status = 'waitlisted';
CREATE INDEX registrations_event ON registrations (event_id, id);

-- What the attendee agreed to, and when: one row per change.
CREATE TABLE consent_history (
	id		bigserial PRIMARY KEY,
	registration_id	bigint NOT NULL REFERENCES registrations,
	at		timestamptz NOT NULL DEFAULT now(),
	sponsors	boolean NOT NULL,
	fields		text[] NOT NULL,
	source		text NOT NULL
);
CREATE INDEX consent_history_registration
    ON consent_history (registration_id, at);
