-- 017: no-shows. An event may ask its confirmed attendees to reconfirm
-- a set time before the start (reconfirm_hours; NULL or 0 is off), and
-- release the seats of those who did not, to the waitlist, at a later
-- set time (release_hours before the start; NULL or 0 keeps them). It
-- may confirm more than its capacity (overbook_percent): seat_limit is
-- the number of confirmations it takes. The defaults here are those of
-- server/server.h (NOSHOW_RECONFIRM_HOURS, NOSHOW_RELEASE_HOURS), for
-- events made other than through the API (series, older rows).
ALTER TABLE events
    ADD COLUMN reconfirm_hours integer DEFAULT 48
	CHECK (reconfirm_hours BETWEEN 0 AND 720),
    ADD COLUMN release_hours integer DEFAULT 24
	CHECK (release_hours BETWEEN 0 AND 720),
    ADD COLUMN overbook_percent integer NOT NULL DEFAULT 0
	CHECK (overbook_percent BETWEEN 0 AND 100),
    ADD COLUMN seat_limit integer GENERATED ALWAYS AS
	(capacity + capacity * overbook_percent / 100) STORED;

-- When the attendee was asked, when they answered, and when their seat
-- was released (the registration is then cancelled).
ALTER TABLE registrations
    ADD COLUMN reconfirm_asked_at timestamptz,
    ADD COLUMN reconfirmed_at timestamptz,
    ADD COLUMN released_at timestamptz;

-- No-show counts are by address across events.
CREATE INDEX registrations_email ON registrations (lower(email));
-- The periodic job's candidates.
CREATE INDEX registrations_unconfirmed ON registrations (event_id)
    WHERE status = 'confirmed' AND reconfirmed_at IS NULL
      AND checked_in_at IS NULL;

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirmed',
	'waitlisted', 'promoted', 'cancelled', 'event_changed',
	'event_cancelled', 'reminder', 'resend', 'reconfirm', 'released'));
